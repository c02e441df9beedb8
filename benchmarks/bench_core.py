"""Core engine benchmarks (issue 2). They print figures and never fail on them.

    python benchmarks/bench_core.py                 # all four, SQLite and PostgreSQL
    python benchmarks/bench_core.py --db sqlite --only 1,4

1. Place 20,000 orders (1-4 lines) over 1,000 SKUs, about a third of lines backordered: orders/s.
2. Receive a PO that fills 50,000 waiting backorder lines of one SKU: seconds.
3. Move the ETA of a PO line pegged by 50,000 backorder lines: seconds.
4. Availability quote on a SKU with 500 open PO lines and 50,000 backorders: p50 / p99.

Each run uses a fresh SQLite file or a fresh, uniquely named PostgreSQL database,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from restock import services as s
from restock.clock import FixedClock
from restock.shop import Shop

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CUSTOMER = {"email": "bench@example.com", "name": "Bench"}


@contextmanager
def fresh_shop(kind: str) -> Iterator[Shop]:
    clock = FixedClock()
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            shop = Shop.open(f"sqlite:///{Path(tmp) / 'bench.db'}", clock)
            try:
                yield shop
            finally:
                shop.close()
        return
    name = f"restock_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    shop = Shop.open(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", clock)
    try:
        yield shop
    finally:
        shop.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def day(shop: Shop, n: int) -> str:
    return (shop.clock.today() + timedelta(days=n)).isoformat()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- 1 -------------------------------------------------------------------------------


def bench_placement(kind: str, orders: int = 20_000, skus: int = 1_000) -> None:
    rng = random.Random(1)
    with fresh_shop(kind) as shop:
        s.put_supplier(shop, "SUP", "Supplier", 10)
        for i in range(skus):
            mode = ("deny", "inbound", "allow")[i % 3]
            s.put_sku(shop, f"S{i:04d}", f"SKU {i}", "10", "4", {"mode": mode}, [{"supplier": "SUP"}])
            if i % 3 == 0 or rng.random() < 0.5:
                s.adjust_stock(shop, f"S{i:04d}", 10_000, "count")
            else:
                s.create_po(shop, "SUP", [{"sku": f"S{i:04d}", "qty": 5_000, "eta": day(shop, 5 + i % 20)}])
        codes = [f"S{i:04d}" for i in range(skus)]
        requests = [[{"sku": c, "qty": rng.randint(1, 3)} for c in rng.sample(codes, rng.randint(1, 4))]
                    for _ in range(orders)]
        backordered = 0
        start = time.perf_counter()
        for n, lines in enumerate(requests):
            order = s.place_order(shop, f"O{n}", CUSTOMER, lines)
            backordered += sum(1 for line in order["lines"] if line["backordered"])
        elapsed = time.perf_counter() - start
        n_lines = sum(len(r) for r in requests)
        print(f"[{kind}] 1. placed {orders:,} orders ({n_lines:,} lines, {backordered / n_lines:.0%} backordered) "
              f"over {skus:,} SKUs in {elapsed:.1f} s: {orders / elapsed:,.0f} orders/s, "
              f"{1000 * elapsed / orders:.2f} ms per order")
        assert s.check_ledger(shop)["ok"]


# -- 2, 3, 4 -------------------------------------------------------------------------


def many_backorders(shop: Shop, lines: int, po_lines: int = 1, per_order: int = 5) -> None:
    """One SKU with `lines` waiting lines of 1 unit, pegged to `po_lines` PO lines."""
    s.put_supplier(shop, "SUP", "Supplier", 10)
    s.put_sku(shop, "HOT", "Hot item", "10", "4", {"mode": "inbound"}, [{"supplier": "SUP"}])
    per_line = -(-lines * 6 // 5 // po_lines) if po_lines > 1 else lines
    for n in range(0, po_lines, 250):
        s.create_po(shop, "SUP", [{"sku": "HOT", "qty": per_line, "eta": day(shop, 10 + (n + k) % 60)}
                                  for k in range(min(250, po_lines - n))], id=f"P{n}")
    for n in range(lines // per_order):
        s.place_order(shop, f"O{n}", CUSTOMER, [{"sku": "HOT", "qty": 1}] * per_order)


def bench_receipt(kind: str, lines: int = 50_000) -> None:
    with fresh_shop(kind) as shop:
        many_backorders(shop, lines)
        elapsed = timed(lambda: s.receive(shop, "P0", [{"line": 1, "qty": lines}]))
        stock = s.get_sku(shop, "HOT")["stock"]
        print(f"[{kind}] 2. receipt filled {stock['allocated']:,} waiting lines in {elapsed:.2f} s "
              f"({stock['backordered']} still waiting)")


def bench_eta_move(kind: str, lines: int = 50_000) -> None:
    with fresh_shop(kind) as shop:
        many_backorders(shop, lines)
        elapsed = timed(lambda: s.change_eta(shop, "P0", 1, day(shop, 30)))
        moved = s.kpis(shop)["delay_notices_per_backordered_line"]
        print(f"[{kind}] 3. ETA move re-pegged {lines:,} lines and moved their promises in {elapsed:.2f} s "
              f"(delay notices per backordered line: {moved})")


def bench_quote(kind: str, lines: int = 50_000, po_lines: int = 500, quotes: int = 2_000) -> None:
    with fresh_shop(kind) as shop:
        many_backorders(shop, lines, po_lines=po_lines)
        for _ in range(50):
            s.quote(shop, "HOT", 3)
        samples = []
        for n in range(quotes):
            start = time.perf_counter()
            s.quote(shop, "HOT", 1 + n % 10)
            samples.append(1000 * (time.perf_counter() - start))
        samples.sort()
        p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
        print(f"[{kind}] 4. quote with {po_lines} open PO lines and {lines:,} backorders: "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {quotes:,} quotes")


BENCHES = {"1": bench_placement, "2": bench_receipt, "3": bench_eta_move, "4": bench_quote}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--only", default="1,2,3,4", help="which benchmarks, e.g. 1,4")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for number in args.only.split(","):
        for kind in kinds:
            BENCHES[number.strip()](kind)


if __name__ == "__main__":
    main()
