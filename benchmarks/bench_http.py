"""HTTP benchmark (issue 3): `restock serve` on PostgreSQL with 2 workers, and a
load generator in a separate process with 32 concurrent clients. Prints
figures, never fails on them.

    python benchmarks/bench_http.py [--orders 6000] [--quotes 20000] [--clients 32] [--workers 2]

1. Order intake: orders/s, p50 / p99 latency (1-3 lines over 500 SKUs, some backordered).
2. Availability quotes: quotes/s, p50 / p99.
3. Flash sale: 200 buyers at once for 100 units with a backorder cap of 50.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import sqlalchemy as sa

from restock import services as s
from restock.api.local import free_port, wait_until_up
from restock.shop import Shop

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def load(base: str, key: str, requests: list[tuple[str, str, Any]],
         clients: int) -> tuple[float, list[float], Counter[int]]:
    """Send the requests with `clients` concurrent keep-alive connections (aiohttp: a load
    generator must be cheaper than the server it measures); (seconds, latencies ms, statuses)."""

    async def run() -> tuple[float, list[float], Counter[int]]:
        pending = list(reversed(requests))
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(base, headers={"Authorization": f"Bearer {key}"},
                                         connector=connector) as session:
            async def client() -> None:
                while pending:
                    method, path, body = pending.pop()
                    start = time.perf_counter()
                    async with session.request(method, path, json=body) as answer:
                        await answer.read()
                    latencies.append(1000 * (time.perf_counter() - start))
                    statuses[answer.status] += 1

            start = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            return time.perf_counter() - start, latencies, statuses

    return asyncio.run(run())


def in_process(base: str, key: str, requests: list[tuple[str, str, Any]], clients: int) -> Any:
    """Run the load generator in its own process, as a separate client would."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(load, (base, key, requests, clients))


def report(name: str, elapsed: float, latencies: list[float], statuses: Counter[int]) -> None:
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"{name}: {len(latencies):,} requests in {elapsed:.1f} s = {len(latencies) / elapsed:,.0f}/s, "
          f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, statuses {dict(sorted(statuses.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=6000)
    parser.add_argument("--quotes", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    name = f"restock_http_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        run(url, args)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def run(url: str, args: argparse.Namespace) -> None:
    rng = random.Random(3)
    shop = Shop.open(url)
    s.put_supplier(shop, "SUP", "Supplier", 10)
    codes = [f"S{i:03d}" for i in range(500)]
    for i, code in enumerate(codes):
        s.put_sku(shop, code, code, "10", "4", {"mode": ("deny", "allow")[i % 2]}, [{"supplier": "SUP"}])
        s.adjust_stock(shop, code, 100_000 if i % 2 == 0 else 20, "count")
    s.put_sku(shop, "DROP", "Drop", "99", "40", {"mode": "allow", "cap": 50}, [{"supplier": "SUP"}])
    s.adjust_stock(shop, "DROP", 100, "count")
    key = s.create_key(shop, "storefront")["key"]
    shop.close()

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "restock", "serve", "--port", str(port),
                               "--workers", str(args.workers)],
                              env={**os.environ, "RESTOCK_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        customer = {"email": "bench@example.com", "name": "Bench"}
        orders = [("POST", "/v1/orders", {"id": f"B{n}", "customer": customer,
                                          "lines": [{"sku": c, "qty": rng.randint(1, 2)}
                                                    for c in rng.sample(codes, rng.randint(1, 3))]})
                  for n in range(args.orders)]
        print(f"restock serve, PostgreSQL, {args.workers} workers; load from another process, "
              f"{args.clients} concurrent clients")
        report("1. orders", *in_process(base, key, orders, args.clients))
        quotes = [("GET", f"/v1/availability/{rng.choice(codes)}?qty={rng.randint(1, 5)}", None)
                  for _ in range(args.quotes)]
        report("2. quotes", *in_process(base, key, quotes, args.clients))
        sale = [("POST", "/v1/orders", {"id": f"F{n}", "customer": customer, "lines": [{"sku": "DROP", "qty": 1}]})
                for n in range(200)]
        elapsed, latencies, statuses = in_process(base, key, sale, 200)
        report("3. flash sale (200 buyers, 100 units, cap 50)", elapsed, latencies, statuses)
        shop = Shop.open(url, upgrade=False)
        stock = s.get_sku(shop, "DROP")["stock"]
        print(f"   after the sale: allocated {stock['allocated']}, backordered {stock['backordered']}, "
              f"ledger clean: {s.check_ledger(shop)['ok']}")
        shop.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
