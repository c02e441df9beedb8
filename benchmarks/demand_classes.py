"""Demand classes of the real data in ../shared/data (read there, never copied):
the UCI Online Retail SKUs as daily series (calendar days, gaps are zero demand)
and the carparts monthly series (missing months left out). Prints counts and timing.

    python benchmarks/demand_classes.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from restock.planning.demand import classify
from restock.planning.history import read_history


def uci(data: Path) -> None:
    start = time.perf_counter()
    history = read_history(data / "online_retail_uci" / "online_retail_2010-12-01_2011-12-09.csv.gz")
    read = time.perf_counter() - start
    days = sorted({day for _, day in history.daily})
    calendar = [days[0] + timedelta(days=n) for n in range((days[-1] - days[0]).days + 1)]
    per_sku: dict[str, dict[object, int]] = defaultdict(dict)
    for (sku, day), qty in history.daily.items():
        per_sku[sku][day] = qty
    start = time.perf_counter()
    classes = Counter(classify([float(per_sku[sku].get(day, 0)) for day in calendar]).demand_class.value
                      for sku in per_sku)
    print(f"UCI Online Retail: {len(per_sku):,} SKUs x {len(calendar)} days, read in {read:.1f} s, "
          f"classified in {time.perf_counter() - start:.1f} s: {dict(classes.most_common())}")


def carparts(data: Path) -> None:
    with open(data / "carparts" / "carparts_monthly_wide.csv", newline="") as file:
        rows = list(csv.reader(file))
    header, months = rows[0][1:], rows[1:]
    classes = Counter()
    for col, _ in enumerate(header, 1):
        series = [float(row[col]) for row in months if row[col] not in ("", "NA")]
        classes[classify(series).demand_class.value] += 1
    print(f"carparts: {len(header):,} monthly series x {len(months)} months: {dict(classes.most_common())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    uci(args.data)
    carparts(args.data)


if __name__ == "__main__":
    main()
