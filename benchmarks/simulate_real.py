"""The simulator on the real data in ../shared/data (read there, never copied):
restock's plan against the min/max rule and a fixed reorder point, the same
demand and seed for each. Prints the comparison; never fails on it.

    python benchmarks/simulate_real.py [--data ../shared/data] [--skus 50]

UCI Online Retail: the top SKUs by units, daily, 90 days of warm-up, then the
rest of the year. carparts: the top parts, each month's units ordered on the
month's first day (the data is monthly), one year of warm-up, then the rest.
Lead time 14 days (spread 3), MOQ 10, unit cost 1, 10% of POs 3-10 days late.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from restock.planning.history import read_history
from restock.planning.simulate import Policy, SimSku, as_rows, chart, simulate


def carparts(data: Path, top: int) -> tuple[dict[str, np.ndarray], date]:
    with open(data / "carparts" / "carparts_monthly_wide.csv", newline="") as file:
        rows = list(csv.reader(file))
    header, months = rows[0][1:], rows[1:]
    first = date(1998, 1, 1)
    firsts = [date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1)
              for n in range(len(months))]
    length = (firsts[-1] - first).days + 31
    totals = {part: sum(float(r[c]) for r in months if r[c] not in ("", "NA")) for c, part in enumerate(header, 1)}
    chosen = sorted(totals, key=lambda p: -totals[p])[:top]
    series = {}
    for part in chosen:
        c = header.index(part) + 1
        y = np.zeros(length)
        for n, row in enumerate(months):
            if row[c] not in ("", "NA"):
                y[(firsts[n] - first).days] = float(row[c])
        series[part] = y
    return series, first


def compare(name: str, history: dict[str, np.ndarray], first: date, warmup: int, out: Path) -> None:
    items = {k: SimSku(k, unit_cost=1.0, lead_time_days=14, lead_time_sd_days=3.0, moq=10, pack_size=1)
             for k in history}
    rop = {k: int(np.ceil(np.mean(y[:warmup]) * 21)) for k, y in history.items()}  # three weeks of demand
    policies = [Policy("restock", "restock"), Policy("min/max", "minmax"),
                Policy("fixed 3 weeks", "fixed", reorder_points=rop)]
    start = time.perf_counter()
    results = simulate(history, items, policies, start=first + timedelta(days=warmup), warmup_days=warmup, seed=1)
    chart(results, out)
    days = len(results[0].days)
    print(f"{name}: {len(history)} SKUs x {days} days, 3 policies in {time.perf_counter() - start:.0f} s "
          f"(chart {out})")
    for r in as_rows(results):
        print(f"  {r['policy']:<14} fill rate {r['fill_rate']:.1%}  backorder rate {r['backorder_rate']:.1%}  "
              f"promises kept {r['promises_kept']:.1%}  avg inventory value {r['average_inventory_value']:,.0f}  "
              f"stock-out SKU-days {r['stockout_days']:,}  buys {r['replenishments']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("build"))
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    uci, first = read_history(args.data / "online_retail_uci" / "online_retail_2010-12-01_2011-12-09.csv.gz") \
        .series(top=args.skus)
    compare("UCI Online Retail", uci, first, 90, args.out / "simulation-uci.png")
    parts, first = carparts(args.data, args.skus)
    compare("carparts", parts, first, 365, args.out / "simulation-carparts.png")


if __name__ == "__main__":
    main()
