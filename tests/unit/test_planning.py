"""Planning formulas against published examples and tables (sources in each test),
and demand classes against hand-made series of each class."""

from __future__ import annotations

import random
import statistics

import pytest

from restock.planning.demand import DemandClass, classify
from restock.planning.inventory import (
    eoq,
    fill_rate,
    lead_time_demand_sd,
    normal_loss,
    reorder_point,
    round_order,
    safety_factor_for_fill_rate,
    safety_stock_for_service_level,
)


def test_eoq_matches_the_textbook_example() -> None:
    # Heizer & Render, Operations Management, EOQ example (Sharp, Inc.):
    # D = 1,000 units a year, S = $10 an order, H = $0.50 a unit a year -> Q* = 200 units.
    assert eoq(1000, 10, 0.50) == pytest.approx(200)


def test_reorder_point_with_variable_demand_and_lead_time_matches_the_textbook() -> None:
    # Heizer & Render, Operations Management, probabilistic demand with variable lead time:
    # d = 150 a day, sd_d = 16, L = 5 days, sd_L = 1 day, 95 % service -> sd of lead-time demand 154,
    # ROP = 750 + 1.65 x 154 = 1,004 units (the book rounds z to 1.65).
    sigma = lead_time_demand_sd(150, 16, 5, 1)
    assert sigma == pytest.approx(154.2, abs=0.05)
    rop = reorder_point(150, 5, safety_stock_for_service_level(0.95, 150, 16, 5, 1))
    assert round(rop) == 1004


def test_with_a_fixed_lead_time_safety_stock_is_z_sigma_root_lead_time() -> None:
    # Silver, Pyke & Peterson (1998), Inventory Management and Production Planning and
    # Scheduling, section 7.5: SS = k sigma_L with sigma_L = sigma_d sqrt(L) when L is fixed.
    assert safety_stock_for_service_level(0.90, 15, 5, 2, 0) == pytest.approx(1.2816 * 5 * 2**0.5, rel=1e-4)


@pytest.mark.parametrize(("k", "table"), [(0.0, 0.3989), (0.5, 0.1978), (1.0, 0.0833), (2.0, 0.0085)])
def test_the_normal_loss_function_matches_the_published_table(k: float, table: float) -> None:
    # Silver, Pyke & Peterson (1998), Table B.1, G_u(k).
    assert normal_loss(k) == pytest.approx(table, abs=5e-5)


def test_the_safety_factor_for_a_fill_rate_reaches_it_exactly() -> None:
    # Fill rate P2 = 1 - sigma_L G(k) / Q (Silver, Pyke & Peterson, eq. 7.21). For P2 = 0.98,
    # sigma_L = 100 and Q = 500, G(k) must be 0.1: Table B.1 puts k between 0.90 (0.1004) and 0.91 (0.0986).
    k = safety_factor_for_fill_rate(0.98, 100, 500)
    assert 0.90 < k < 0.91
    assert fill_rate(k, 100, 500) == pytest.approx(0.98, abs=1e-9)


def test_orders_are_rounded_up_to_the_moq_and_whole_packs() -> None:
    assert round_order(37, moq=50, pack_size=12) == 60
    assert round_order(61, moq=10, pack_size=12) == 72
    assert round_order(0.2) == 1


def test_on_long_stationary_demand_the_estimated_policy_is_within_a_few_percent_of_the_closed_form() -> None:
    rng = random.Random(5)
    history = [max(0.0, rng.gauss(20, 5)) for _ in range(5000)]
    d, sd_d = statistics.fmean(history), statistics.stdev(history)
    estimated = reorder_point(d, 7, safety_stock_for_service_level(0.95, d, sd_d, 7, 1.5))
    exact = reorder_point(20, 7, safety_stock_for_service_level(0.95, 20, 5, 7, 1.5))
    assert estimated == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize(("series", "expected"), [
    ([10, 12, 9, 11, 10, 13, 9, 10], DemandClass.SMOOTH),
    ([1, 30, 2, 25, 1, 40, 3, 2], DemandClass.ERRATIC),
    ([0, 0, 5, 0, 0, 6, 0, 0, 5, 0, 0, 4], DemandClass.INTERMITTENT),
    ([0, 0, 1, 0, 0, 40, 0, 0, 2, 0, 0, 30], DemandClass.LUMPY),
    ([0, 0, 0], DemandClass.NONE),
])
def test_hand_made_series_fall_in_their_class(series: list[float], expected: DemandClass) -> None:
    assert classify(series).demand_class is expected


def test_the_cut_offs_are_syntetos_boylans() -> None:
    # ADI exactly 1.32 is intermittent (ADI >= 1.32), CV2 below 0.49 is not erratic.
    series = [0.0] * 32 + [5.0] * 100  # 132 periods, 100 with demand: ADI = 1.32
    profile = classify(series)
    assert profile.adi == pytest.approx(1.32)
    assert profile.demand_class is DemandClass.INTERMITTENT


def test_on_long_stationary_demand_safety_stock_and_reorder_point_match_the_closed_form() -> None:
    import numpy as np
    from scipy.stats import norm

    from restock.planning.forecast import forecast_all
    from restock.planning.policy import PlanSettings, Position, SupplierOption, suggest

    rng = np.random.default_rng(11)
    mean, sd, lead = 20.0, 4.0, 10.0
    y = np.clip(np.round(rng.normal(mean, sd, 730)), 0, None)
    f = forecast_all({"S": y}, 28)["S"]
    assert f.backtested and f.demand_class.value == "smooth"
    assert f.daily == pytest.approx(mean, rel=0.03)
    # The error comes from 3 backtest windows of 28 days (84 errors): itself known to about 8% (1/sqrt(2*84)).
    assert f.error_sd_daily == pytest.approx(sd, rel=0.15)
    row = suggest(f, y, Position(100, 0, 0, 0, 0), [SupplierOption("A", lead, 0.0, 1.0, 1, 1)],
                  PlanSettings(service_level=0.95))
    closed_ss = float(norm.ppf(0.95)) * sd * lead**0.5  # 20.8 units
    assert row["safety_stock"] == int(np.ceil(float(norm.ppf(0.95)) * f.error_sd_daily * lead**0.5))
    assert row["safety_stock"] == pytest.approx(closed_ss, rel=0.2)  # as near as the error estimate allows
    assert row["reorder_point"] == pytest.approx(mean * lead + closed_ss, rel=0.05)
    assert row["action"] == "order" and row["inventory_position"] == 100


def test_intermittent_reorder_point_comes_from_the_empirical_lead_time_demand() -> None:
    import numpy as np

    from restock.planning.forecast import forecast_all
    from restock.planning.policy import PlanSettings, Position, SupplierOption, suggest

    rng = np.random.default_rng(5)
    y = np.where(rng.random(730) < 0.15, rng.poisson(6, 730), 0).astype(float)
    f = forecast_all({"S": y}, 28)["S"]
    assert f.demand_class.value in ("intermittent", "lumpy")
    row = suggest(f, y, Position(0, 0, 0, 0, 1), [SupplierOption("A", 14.0, 0.0, 1.0, 1, 1)],
                  PlanSettings(service_level=0.9))
    sums = np.convolve(y, np.ones(14), mode="valid")
    assert row["reorder_point"] == int(np.ceil(np.quantile(sums, 0.9)))
