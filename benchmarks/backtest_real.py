"""Forecasts on the real data in ../shared/data (read there, never copied), out of sample: each
SKU's method is chosen by restock's backtest on its history without the last horizon, then judged
on that held-out horizon against the naive and seasonal-naive baselines. The figure that matters
for stock is the error of the demand total over the horizon (what a reorder point covers).

    python benchmarks/backtest_real.py [--data ../shared/data]

UCI Online Retail: daily series (calendar days, gaps are zero), horizon 28 days, weekly season.
carparts: monthly series (missing months left out), horizon 6 months, yearly season.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np

from restock.planning.forecast import forecast_all
from restock.planning.history import read_history


def judge(name: str, series: dict[str, np.ndarray], horizon: int, season: int) -> None:
    start = time.perf_counter()
    fitted = forecast_all({k: y[:-horizon] for k, y in series.items()}, horizon, season=season)
    elapsed = time.perf_counter() - start
    errors: dict[str, list[float]] = defaultdict(list)
    by_class: dict[str, Counter[str]] = defaultdict(Counter)
    for sku, y in series.items():
        past, actual = y[:-horizon], float(y[-horizon:].sum())
        f = fitted[sku]
        by_class[f.demand_class.value][f.method] += 1
        errors["restock"].append(abs(actual - f.daily * horizon))
        errors["naive"].append(abs(actual - past[-1] * horizon))
        errors["seasonal naive"].append(abs(actual - past[-season:].sum() * horizon / season))
        errors["mean of history"].append(abs(actual - past.mean() * horizon))
    print(f"{name}: {len(series):,} series, forecast and backtested in {elapsed:.1f} s")
    for method, e in errors.items():
        print(f"  mean absolute error of the {horizon}-period total, {method}: {np.mean(e):.2f}")
    for demand_class, methods in sorted(by_class.items()):
        print(f"  {demand_class}: {dict(methods.most_common())}")


def uci(data: Path) -> dict[str, np.ndarray]:
    history = read_history(data / "online_retail_uci" / "online_retail_2010-12-01_2011-12-09.csv.gz")
    days = sorted({day for _, day in history.daily})
    first, length = days[0], (days[-1] - days[0]).days + 1
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(length))
    for (sku, day), qty in history.daily.items():
        series[sku][(day - first).days] += qty
    assert days[0] + timedelta(days=length - 1) == days[-1]
    return dict(series)


def carparts(data: Path) -> dict[str, np.ndarray]:
    with open(data / "carparts" / "carparts_monthly_wide.csv", newline="") as file:
        rows = list(csv.reader(file))
    header, months = rows[0][1:], rows[1:]
    found = {}
    for col, part in enumerate(header, 1):
        values = [float(row[col]) for row in months if row[col] not in ("", "NA")]
        if len(values) >= 30:
            found[part] = np.array(values)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    judge("UCI Online Retail (daily)", uci(args.data), 28, 7)
    judge("carparts (monthly)", carparts(args.data), 6, 12)


if __name__ == "__main__":
    main()
