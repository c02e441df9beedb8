"""Simulator benchmark (issue 5). Prints figures, never fails on them.

    python benchmarks/bench_simulate.py [--skus 1000] [--days 365] [--policies restock,minmax]
    python benchmarks/bench_simulate.py --uci ../shared/data/online_retail_uci/... --skus 50

One year of synthetic demand (half smooth, half intermittent) after a 90-day
warm-up, or the UCI Online Retail file's top SKUs, replayed through the real
engine under each policy: wall time per policy and the comparison.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np

from restock.planning.history import read_history
from restock.planning.simulate import Policy, SimSku, as_rows, simulate

WARMUP = 90


def synthetic(skus: int, days: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    weekly = 1 + 0.3 * np.sin(np.arange(WARMUP + days) * 2 * np.pi / 7)
    return {f"S{i:04d}": (rng.poisson(6 * weekly) if i % 2 == 0 else
                          np.where(rng.random(WARMUP + days) < 0.15, rng.poisson(5, WARMUP + days), 0)).astype(float)
            for i in range(skus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--policies", default="restock,minmax")
    parser.add_argument("--uci", type=Path)
    args = parser.parse_args()
    if args.uci:
        history, first = read_history(args.uci).series(top=args.skus)
        start = first
    else:
        history, start = synthetic(args.skus, args.days), date(2025, 1, 1)
    items = {k: SimSku(k, unit_cost=2.0, lead_time_days=14, lead_time_sd_days=3.0, moq=10, pack_size=5)
             for k in history}
    kinds = {"restock": Policy("restock", "restock"), "minmax": Policy("min/max", "minmax")}
    days = min(len(y) for y in history.values()) - WARMUP
    for name in args.policies.split(","):
        begin = time.perf_counter()
        [result] = simulate(history, items, [kinds[name]], start=start, warmup_days=WARMUP, seed=1)
        elapsed = time.perf_counter() - begin
        row = as_rows([result])[0]
        print(f"{len(history):,} SKUs x {days} days, {row['policy']}: {elapsed:.1f} s; fill rate {row['fill_rate']}, "
              f"backorder rate {row['backorder_rate']}, promises kept {row['promises_kept']}, average inventory "
              f"value {row['average_inventory_value']:,.0f}, stock-out SKU-days {row['stockout_days']:,}, "
              f"buys {row['replenishments']:,}")


if __name__ == "__main__":
    main()
