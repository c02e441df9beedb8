"""The policy simulator: the real engine replayed day by day under several
policies; deterministic by seed, with the ledger checked after every day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from restock.planning.simulate import Policy, SimSku, as_rows, chart, simulate


def demand() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(9)
    return {"SMOOTH": rng.poisson(5, 70).astype(float),
            "SPARSE": np.where(rng.random(70) < 0.2, rng.poisson(6, 70), 0).astype(float)}


POLICIES = [Policy("restock", "restock", review_days=7), Policy("min/max", "minmax"),
            Policy("fixed", "fixed", reorder_points={"SMOOTH": 60, "SPARSE": 15})]


def run(seed: int, tmp_path: Path) -> list[dict[str, object]]:
    history = demand()
    skus = {k: SimSku(k, unit_cost=3.0, lead_time_days=7, lead_time_sd_days=2.0, moq=5, pack_size=5)
            for k in history}
    results = simulate(history, skus, POLICIES, start=date(2026, 2, 2), warmup_days=28, seed=seed,
                       delay_probability=0.3, check_every_day=True, folder=tmp_path)
    chart(results, tmp_path / "chart.png")
    return [{**row, "days": results[n].days} for n, row in enumerate(as_rows(results))]


def test_the_same_seed_gives_the_same_simulation_and_the_ledger_holds_every_day(tmp_path: Path) -> None:
    first, second = run(5, tmp_path), run(5, tmp_path)
    assert first == second
    assert [r["policy"] for r in first] == ["restock", "min/max", "fixed"]
    for r in first:
        assert len(r["days"]) == 42  # type: ignore[arg-type]
        assert r["replenishments"] > 0 and 0 <= r["fill_rate"] <= 1  # type: ignore[operator]
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_restocks_plan_fills_more_from_stock_than_the_min_max_rule(tmp_path: Path) -> None:
    restock, minmax, _ = run(5, tmp_path)
    assert restock["fill_rate"] > minmax["fill_rate"]  # type: ignore[operator]
    assert restock["stockout_days"] < minmax["stockout_days"]  # type: ignore[operator]
