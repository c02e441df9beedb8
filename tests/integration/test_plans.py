"""Replenishment plans through the services, on SQLite and PostgreSQL: demand
as ordered plus imported history, forecasts, suggestions with their reasons,
and approval into purchase orders grouped per supplier."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from restock import services as s
from restock.errors import InvalidInput, InvalidState, NotFound
from restock.planning.history import History
from restock.shop import Shop
from tests.helpers import Given


def history(shop: Shop, daily: dict[str, list[int]]) -> None:
    """Imported demand ending yesterday."""
    h = History()
    end = shop.clock.today() - timedelta(days=1)
    for sku, series in daily.items():
        for n, qty in enumerate(series):
            if qty:
                h.add(end - timedelta(days=len(series) - 1 - n), sku, int(qty), "")
    s.store_history(shop, "test", h)


def by_sku(plan: dict[str, object]) -> dict[str, dict[str, object]]:
    return {row["sku"]: row for row in plan["suggestions"]}  # type: ignore[attr-defined,index]


def shop_with_suppliers(shop: Shop) -> Given:
    g = Given(shop)
    g.supplier("ACME", 12)
    g.supplier("FAST", 3)
    return g


def sku(shop: Shop, code: str, mode: str = "deny", on_hand: int = 0) -> None:
    s.put_sku(shop, code, code.title(), "20", "4", {"mode": mode},
              [{"supplier": "ACME", "lead_time_days": 12, "lead_time_sd_days": 2, "unit_cost": "4", "moq": 50,
                "pack_size": 10},
               {"supplier": "FAST", "lead_time_days": 3, "unit_cost": "6"}])
    if on_hand:
        s.adjust_stock(shop, code, on_hand, "count")


def test_a_plan_orders_what_falls_below_its_reorder_point_and_approval_makes_the_purchase_orders(
        shop: Shop) -> None:
    shop_with_suppliers(shop)
    rng = np.random.default_rng(4)
    for code, on_hand in (("MUG", 30), ("POT", 2000), ("OLD", 40)):
        sku(shop, code, on_hand=on_hand)
    history(shop, {"MUG": list(rng.poisson(10, 200)), "POT": list(rng.poisson(2, 200)),
                   "OLD": [3] * 50 + [0] * 150})
    plan_id = s.create_plan(shop, 0.95, 28)["id"]
    plan = s.run_plan(shop, plan_id)
    assert plan["status"] == "done" and plan["progress"] == 1.0
    rows = by_sku(plan)
    mug = rows["MUG"]
    assert mug["action"] == "order", mug
    assert mug["supplier"] == "ACME"  # cheaper, and its lead time costs less
    assert mug["demand_class"] == "smooth" and 9 < mug["forecast_daily"] < 11
    assert mug["reorder_point"] == pytest.approx(mug["forecast_daily"] * 12 + mug["safety_stock"], abs=1)
    assert mug["order_qty"] % 10 == 0 and mug["order_qty"] >= 50
    assert "reorder point" in str(mug["reason"])
    assert rows["POT"]["action"] == "overstock" and "days of cover" in str(rows["POT"]["reason"])
    assert rows["OLD"]["action"] == "dead_stock" and "no demand for 150 days" in str(rows["OLD"]["reason"])

    assert s.run_plan(shop, plan_id)["finished_at"] == plan["finished_at"]  # a plan runs once
    made = s.approve_plan(shop, plan_id)
    [po] = made["purchase_orders"]
    assert (po["supplier"], len(po["lines"])) == ("ACME", 1)
    line = po["lines"][0]
    assert (line["sku"], line["qty"], line["eta"]) == (
        "MUG", mug["order_qty"], (shop.clock.today() + timedelta(days=12)).isoformat())
    assert s.get_sku(shop, "MUG")["stock"]["inbound"][0]["qty_open"] == mug["order_qty"]
    assert by_sku(s.get_plan(shop, plan_id))["MUG"]["purchase_order"] == po["id"]
    with pytest.raises(InvalidState):
        s.approve_plan(shop, plan_id)


def test_waiting_backorders_and_a_faster_supplier_mean_expedite(shop: Shop) -> None:
    shop_with_suppliers(shop)
    sku(shop, "LAMP", mode="allow")
    for n in range(3):
        s.place_order(shop, f"O{n}", {"email": "a@example.com", "name": "A"}, [{"sku": "LAMP", "qty": 2}])
    plan_id = s.create_plan(shop, 0.9, 14, ["LAMP"])["id"]
    lamp = by_sku(s.run_plan(shop, plan_id))["LAMP"]
    assert (lamp["action"], lamp["supplier"], lamp["lead_time_days"]) == ("expedite", "FAST", 3.0)
    assert lamp["order_qty"] >= 6 and "6 units are on backorder" in str(lamp["reason"])
    [po] = s.approve_plan(shop, plan_id, ["LAMP"])["purchase_orders"]
    assert po["supplier"] == "FAST"
    # The new supply is pegged by the waiting lines at once: their promises move earlier.
    assert s.get_order(shop, "O0")["lines"][0]["promised_date"] == (shop.clock.today() + timedelta(days=4)).isoformat()


def test_plan_input_is_checked_and_nothing_is_made(shop: Shop) -> None:
    shop_with_suppliers(shop)
    for bad in ({"service_level": 1.5}, {"service_level": True}, {"horizon_days": 0}, {"skus_": []}):
        with pytest.raises(InvalidInput):
            s.create_plan(shop, **bad)
    with pytest.raises(NotFound):
        s.get_plan(shop, "PLAN-NOPE")
    with pytest.raises(NotFound):
        s.approve_plan(shop, "PLAN-NOPE")
    plan_id = s.create_plan(shop, 0.95, 28, ["GHOST"])["id"]
    with pytest.raises(NotFound):
        s.run_plan(shop, plan_id)
    failed = s.get_plan(shop, plan_id)
    assert failed["status"] == "failed" and "GHOST" in str(failed["error"])
    with pytest.raises(InvalidState):
        s.approve_plan(shop, plan_id)


def test_a_late_supplier_is_judged_by_its_receipts(shop: Shop) -> None:
    shop_with_suppliers(shop)
    s.put_sku(shop, "MUG", "Mug", "20", "4", {"mode": "deny"},
              [{"supplier": "FAST", "lead_time_days": 3, "lead_time_sd_days": 0, "unit_cost": "6"}])
    for n, late in enumerate((4, 6, 8)):  # FAST promises 3 days and delivers in 7, 9, 11
        eta = (shop.clock.today() + timedelta(days=3)).isoformat()
        s.create_po(shop, "FAST", [{"sku": "MUG", "qty": 5, "eta": eta}], id=f"F{n}")
        shop.clock.advance(days=3 + late)  # type: ignore[attr-defined]
        s.receive(shop, f"F{n}", [{"line": 1, "qty": 5}])
    history(shop, {"MUG": [10] * 60})
    mug = by_sku(s.run_plan(shop, s.create_plan(shop, 0.95, 28)["id"]))["MUG"]
    assert (mug["supplier"], mug["lead_time_days"], mug["lead_time_sd_days"]) == ("FAST", 9.0, 2.0)
    assert (mug["supplier_receipts"], mug["supplier_on_time"]) == (3, 0.0)
    assert mug["action"] == "order" and "learnt from 3 receipts, 0% on time" in str(mug["reason"])
    assert mug["reorder_point"] >= 10 * 9  # sized for the 9 days it really takes, not the 3 it says


def test_fill_rate_and_review_period_shape_the_policy(shop: Shop) -> None:
    from restock.planning.inventory import lead_time_demand_sd, safety_factor_for_fill_rate

    shop_with_suppliers(shop)
    sku(shop, "TEA", on_hand=0)
    rng = np.random.default_rng(8)
    history(shop, {"TEA": [int(x) for x in rng.poisson(10, 200)]})
    rows = {}
    for name, kwargs in (("cycle", {}), ("fill", {"fill_rate": 0.99}), ("review", {"review_days": 7})):
        plan_id = s.create_plan(shop, 0.95, 28, ["TEA"], **kwargs)["id"]
        rows[name] = by_sku(s.run_plan(shop, plan_id))["TEA"]
    fill = rows["fill"]
    sigma = lead_time_demand_sd(fill["forecast_daily"], fill["sd_daily"], 12, 2)
    k = safety_factor_for_fill_rate(0.99, sigma, max(fill["order_qty"], 50))
    assert fill["safety_stock"] == pytest.approx(k * sigma, abs=1.5)
    review = rows["review"]
    assert review["reorder_point"] > rows["cycle"]["reorder_point"]  # covers 7 more days
    assert review["order_qty"] >= review["reorder_point"] - review["inventory_position"]
    assert "order up to" in str(review["reason"]) and "every 7 days" in str(review["reason"])


def test_a_high_backorder_rate_raises_an_alert(shop: Shop) -> None:
    shop_with_suppliers(shop)
    sku(shop, "CUP", mode="allow", on_hand=3)
    for n in range(6):  # 3 from stock, then 3 backordered
        s.place_order(shop, f"O{n}", {"email": "a@example.com", "name": "A"}, [{"sku": "CUP", "qty": 1}])
    cup = by_sku(s.run_plan(shop, s.create_plan(shop, 0.95, 28, ["CUP"])["id"]))["CUP"]
    assert cup["alerts"] == ["backorder rate 50% over the last 28 days (3 of 6 lines), above 20%: "
                             "check stock levels and lead times"]


def test_order_and_holding_costs_are_settings_that_move_the_order_size(shop: Shop,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shop_with_suppliers(shop)
    sku(shop, "MUG", on_hand=0)
    history(shop, {"MUG": [10] * 120})
    cheap = by_sku(s.run_plan(shop, s.create_plan(shop, 0.95, 28, ["MUG"], order_cost=5)["id"]))["MUG"]
    monkeypatch.setenv("RESTOCK_ORDER_COST", "500")
    dear_plan = s.run_plan(shop, s.create_plan(shop, 0.95, 28, ["MUG"])["id"])
    assert dear_plan["settings"]["order_cost"] == 500.0 and dear_plan["settings"]["holding_rate"] == 0.25
    dear = by_sku(dear_plan)["MUG"]
    assert dear["order_qty"] > cheap["order_qty"]  # EOQ grows with the square root of the ordering cost
    assert "EOQ 1910" in str(dear["reason"])  # sqrt(2 x 3650 x 500 / (0.25 x 4)) = 1910.5
    with pytest.raises(InvalidInput):
        s.create_plan(shop, 0.95, 28, None, None, 0, holding_rate=-1)
    with pytest.raises(InvalidInput):
        s.create_plan(shop, 0.95, 28, None, None, 0, shelf_life=3)
