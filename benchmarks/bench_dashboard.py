"""Dashboard pages on a large shop (issue 6). Prints figures, never fails on them.

    python benchmarks/bench_dashboard.py                  # SQLite and PostgreSQL
    python benchmarks/bench_dashboard.py --db sqlite --lines 50000

The shop: 500 SKUs (inbound and allow) from 5 suppliers, one PO line each, and
`--lines` open backordered lines (5 a order) placed over 60 days; then two weeks
pass, so that some POs are late and their promises at risk. Each page is
rendered `--repeat` times in process (FastAPI's TestClient: the server's work,
no network), logged in as an admin; the aim is under 300 ms for the overview
and the queue.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta

from bench_core import fresh_shop
from fastapi.testclient import TestClient
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from restock import services as s
from restock.api import create_app
from restock.clock import FixedClock
from restock.shop import Shop

SKUS, SUPPLIERS, DAYS = 500, 5, 60
PAGES = [("overview", "/dashboard"), ("queue", "/dashboard/backorders"),
         ("queue, at risk", "/dashboard/backorders?at_risk=1"),
         ("queue, one supplier, 30+ days", "/dashboard/backorders?supplier=SUP1&min_age=30"),
         ("queue, page 100", "/dashboard/backorders?page=100"), ("SKU page", "/dashboard/skus/S0007"),
         ("purchase orders", "/dashboard/purchase-orders"), ("events", "/dashboard/events")]


def big_shop(shop: Shop, lines: int) -> None:
    assert isinstance(shop.clock, FixedClock)
    clock, rng = shop.clock, random.Random(6)
    start = clock.today()
    for n in range(SUPPLIERS):
        s.put_supplier(shop, f"SUP{n}", f"Supplier {n}", 10 + 5 * n, 2.0)
    per_sku = lines // SKUS
    for i in range(SKUS):
        s.put_sku(shop, f"S{i:04d}", f"SKU {i}", "10", "4", {"mode": ("inbound", "allow")[i % 2]},
                  [{"supplier": f"SUP{i % SUPPLIERS}"}])
        s.create_po(shop, f"SUP{i % SUPPLIERS}", [{"sku": f"S{i:04d}", "qty": per_sku * 2,
                                                    "eta": (start + timedelta(days=DAYS + rng.randint(3, 40)))
                                                    .isoformat()}])
    orders = lines // 5
    codes = [f"S{i:04d}" for i in range(SKUS)]
    with Progress(TextColumn("[bold]placing orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task("orders", total=orders)
        for n in range(orders):
            if n and n % (orders // DAYS) == 0:
                clock.advance(days=1)
            s.place_order(shop, f"O{n}", {"email": f"c{n}@example.com", "name": f"Customer {n}"},
                          [{"sku": c, "qty": 1} for c in rng.sample(codes, 5)])
            progress.advance(task)
    clock.set_today(start + timedelta(days=DAYS + 14))  # some POs are late now
    s.record_day(shop)


def bench(kind: str, lines: int, repeat: int) -> None:
    with fresh_shop(kind) as shop:
        started = time.perf_counter()
        big_shop(shop, lines)
        figures = s.kpis(shop)
        print(f"[{kind}] built a shop with {figures['open_backorders']:,} open backorder lines "
              f"({s.overview(shop)['at_risk']['lines']:,} at risk) in {time.perf_counter() - started:.0f} s")
        client = TestClient(create_app(shop))
        key = s.create_key(shop, "admin", "bench")["key"]
        assert client.post("/dashboard/login", data={"key": key}, follow_redirects=False).status_code == 303
        for name, path in PAGES:
            assert client.get(path).status_code == 200, path  # warm
            times = []
            for _ in range(repeat):
                begin = time.perf_counter()
                answer = client.get(path)
                times.append(1000 * (time.perf_counter() - begin))
                assert answer.status_code == 200
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"[{kind}] {name:32s} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms   "
                  f"({len(answer.content) / 1024:,.0f} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        bench(kind, args.lines, args.repeat)


if __name__ == "__main__":
    main()
