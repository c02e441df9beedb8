"""Planning benchmark (issue 5). Prints figures, never fails on them.

    python benchmarks/bench_plan.py [--skus 10000] [--days 730] [--db sqlite|postgres] [--engine local|dask]

A catalog of N SKUs (half smooth with a weekly pattern, half intermittent),
each with two suppliers and some stock, and N x days of demand history; then
one plan over all of them: wall time split into load, backtest + forecast and
policy (+ save), and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from bench_core import fresh_shop

from restock import services as s
from restock.planning.history import History
from restock.shop import Shop
from restock.storage.tables import DEFAULT_LOCATION, skus, stock, supplier_items
from restock.storage.uow import UnitOfWork

OFFERS = (("FAR", 30, 5.0, 3.5), ("NEAR", 5, 1.0, 4.2))  # supplier, lead time, its spread, unit cost


def catalog(shop: Shop, n: int) -> None:
    """N SKUs with two suppliers and stock, written in bulk (the services would take minutes)."""
    s.put_supplier(shop, "NEAR", "Near", 5)
    s.put_supplier(shop, "FAR", "Far", 30)
    rng = np.random.default_rng(1)
    with UnitOfWork(shop, write=True) as uow:
        codes = [f"SKU{i:05d}" for i in range(n)]
        uow.executemany(sa.insert(skus), [
            {"code": c, "name": c, "price": 10, "unit_cost": 4, "mode": "allow", "cap": None, "max_wait_days": None,
             "release_date": None, "reorder_point": None, "cancel_overdue": None, "created_at": uow.now,
             "updated_at": uow.now} for c in codes])
        uow.executemany(sa.insert(supplier_items), [
            {"sku": c, "supplier": sup, "rank": rank, "lead_time_days": lead, "lead_time_sd_days": sd,
             "unit_cost": cost, "moq": 10, "pack_size": 5}
            for c in codes for rank, (sup, lead, sd, cost) in enumerate(OFFERS)])
        uow.executemany(sa.insert(stock), [
            {"sku": c, "location": DEFAULT_LOCATION, "on_hand": int(rng.integers(0, 400)), "allocated": 0,
             "backordered": 0, "inbound": 0, "shipped": 0} for c in codes])
        uow.commit()


def demand(shop: Shop, n: int, days: int) -> int:
    rng = np.random.default_rng(2)
    end = shop.clock.today() - timedelta(days=1)
    dates = [end - timedelta(days=days - 1 - d) for d in range(days)]
    h = History()
    weekly = 1 + 0.4 * np.sin(np.arange(days) * 2 * np.pi / 7)
    for i in range(n):
        y = rng.poisson(8 * weekly) if i % 2 == 0 else np.where(rng.random(days) < 0.15, rng.poisson(5, days), 0)
        for d in np.flatnonzero(y):
            h.daily[(f"SKU{i:05d}", dates[d])] = int(y[d])
    s.store_history(shop, "bench", h)
    return len(h.daily)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    args = parser.parse_args()
    if args.engine == "dask":
        from dask.distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
        print(f"Dask: {len(client.scheduler_info()['workers'])} local workers")
    with fresh_shop(args.db) as shop:
        start = time.perf_counter()
        catalog(shop, args.skus)
        rows = demand(shop, args.skus, args.days)
        print(f"[{args.db}] set up {args.skus:,} SKUs and {rows:,} SKU-days of demand in "
              f"{time.perf_counter() - start:.1f} s")
        marks: list[tuple[str, float]] = []
        plan_id = s.create_plan(shop, 0.95, 28)["id"]
        start = time.perf_counter()
        plan = s.run_plan(shop, plan_id, lambda stage, _: marks.append((stage, time.perf_counter())),
                          engine=args.engine)
        total = time.perf_counter() - start
        at = dict(marks)
        load = at["backtest"] - start
        forecast = at["policy"] - at["backtest"]
        policy = total - load - forecast
        actions: dict[str, int] = {}
        for r in plan["suggestions"]:
            actions[r["action"]] = actions.get(r["action"], 0) + 1
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"[{args.db}, {args.engine}] plan of {len(plan['suggestions']):,} SKUs x {args.days} days: {total:.1f} s "
              f"(load {load:.1f} s, backtest + forecast {forecast:.1f} s, policy + save {policy:.1f} s), "
              f"peak memory {peak_gb:.2f} GB; actions {dict(sorted(actions.items()))}")


if __name__ == "__main__":
    main()
