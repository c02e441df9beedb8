"""Concurrent buyers on a real PostgreSQL: many connections at once, started
together by a barrier. SQLite serialises writers, so these run on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from restock import services as s
from restock.clock import FixedClock
from restock.errors import OrderRefused
from restock.shop import Shop
from restock.storage.engine import make_engine
from restock.storage.tables import stock
from tests.conftest import empty_postgres
from tests.helpers import CUSTOMER, Given

pytestmark = pytest.mark.postgres


def together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) on n threads released at the same moment; each result
    is the return value or the exception raised."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as error:
            return error

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def buy(shop: Shop, order_id: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return s.place_order(shop, order_id, CUSTOMER, [{"sku": k, "qty": q} for k, q in lines])


@pytest.mark.parametrize("units", [1, 5])
def test_last_units_race_never_oversells(pg_shop: Shop, units: int) -> None:
    Given(pg_shop).sku("LAST", "deny", on_hand=units)
    results = together(20, lambda i: buy(pg_shop, f"B{i}", ("LAST", 1)))
    accepted = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, OrderRefused)]
    assert (len(accepted), len(refused)) == (units, 20 - units), [r for r in results if isinstance(r, Exception)
                                                                  and not isinstance(r, OrderRefused)]
    figures = s.get_sku(pg_shop, "LAST")["stock"]
    assert (figures["on_hand"], figures["allocated"], figures["available"]) == (units, units, 0)
    assert s.check_ledger(pg_shop)["problems"] == []


def test_backorder_cap_is_never_exceeded_by_concurrent_buyers(pg_shop: Shop) -> None:
    Given(pg_shop).sku("HYPE", "allow", cap=10, on_hand=3)
    results = together(20, lambda i: buy(pg_shop, f"B{i}", ("HYPE", 1)))
    accepted = [r for r in results if isinstance(r, dict)]
    assert len(accepted) == 13
    assert all(isinstance(r, OrderRefused) and r.details["lines"][0]["reason"] == "cap"
               for r in results if not isinstance(r, dict))
    figures = s.get_sku(pg_shop, "HYPE")["stock"]
    assert (figures["allocated"], figures["backordered"]) == (3, 10)
    assert s.check_ledger(pg_shop)["problems"] == []


def test_orders_locking_skus_in_opposite_orders_never_deadlock(pg_shop: Shop) -> None:
    given = Given(pg_shop)
    given.sku("A", "deny", on_hand=1000)
    given.sku("B", "deny", on_hand=1000)
    lines = [(("A", 1), ("B", 1)), (("B", 1), ("A", 1))]
    results = together(16, lambda t: [buy(pg_shop, f"T{t}-{i}", *lines[(t + i) % 2]) for i in range(13)])
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    placed = sum(len(r) for r in results)
    assert placed == 208
    assert s.get_sku(pg_shop, "A")["stock"]["allocated"] == placed
    assert s.get_sku(pg_shop, "B")["stock"]["allocated"] == placed
    assert s.check_ledger(pg_shop)["problems"] == []


def test_a_receipt_concurrent_with_placements_loses_nothing(pg_shop: Shop) -> None:
    given = Given(pg_shop)
    given.sku("MUG", "inbound")
    given.po("P1", "MUG", 60, eta_day=5)

    def work(i: int) -> Any:
        if i % 5 == 0:
            return s.receive(pg_shop, "P1", [{"line": 1, "qty": 6}])
        return buy(pg_shop, f"B{i}", ("MUG", 2))

    results = together(20, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    orders = [r for r in results if isinstance(r, dict) and "customer" in r]
    assert len(orders) == 16
    figures = s.get_sku(pg_shop, "MUG")["stock"]
    assert figures["on_hand"] == 24
    assert figures["allocated"] + figures["backordered"] == 32
    assert figures["allocated"] == 24, "received stock must go to waiting backorders first"
    assert sum(i["qty_open"] for i in figures["inbound"]) == 36
    assert s.check_ledger(pg_shop)["problems"] == []


def test_a_lock_held_past_the_lock_timeout_is_retried_not_shown_as_an_error(pg_url: str, clock: FixedClock) -> None:
    empty_postgres(pg_url)
    shop = Shop(make_engine(pg_url, lock_timeout_ms=100), clock)
    Given(shop).sku("MUG", "deny", on_hand=3)
    holder = make_engine(pg_url)
    conn = holder.connect()
    tx = conn.begin()
    conn.execute(sa.select(stock).where(stock.c.sku == "MUG").with_for_update()).all()
    releaser = threading.Timer(0.6, tx.rollback)
    releaser.start()
    try:
        order = buy(shop, "O1", ("MUG", 1))
    finally:
        releaser.join()
        conn.close()
        holder.dispose()
        shop.close()
    assert order["lines"][0]["allocated"] == 1


def test_concurrent_duplicates_with_one_idempotency_key_have_one_effect(pg_shop: Shop) -> None:
    from restock.storage.uow import Idempotency, idempotent

    Given(pg_shop).sku("MUG", "allow", on_hand=2)
    idem = Idempotency("caller:k-1", "same-request")
    lines = [{"sku": "MUG", "qty": 3}]
    results = together(10, lambda i: idempotent(pg_shop, idem, s.place_order, "R1", CUSTOMER, lines))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r == results[0] for r in results)
    figures = s.get_sku(pg_shop, "MUG")["stock"]
    assert (figures["allocated"], figures["backordered"]) == (2, 1)
    assert s.check_ledger(pg_shop)["problems"] == []


def test_two_sweepers_at_once_raise_an_overdue_backorder_once(pg_shop: Shop) -> None:
    from concurrent.futures import ThreadPoolExecutor

    g = Given(pg_shop)
    g.sku("TENT", "inbound", max_wait_days=10)
    g.po("P1", "TENT", 20, 6)
    for n in range(10):
        s.place_order(pg_shop, f"V{n}", {"email": "a@example.com", "name": "A"}, [{"sku": "TENT", "qty": 1}])
    s.change_eta(pg_shop, "P1", 1, g.day(12))
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: s.sweep_overdue(pg_shop), range(4)))
    assert sum(o["overdue"] for o in outcomes) == 10
    assert len(g.events("backorder.overdue")) == 10


def test_bulk_cancels_receipts_and_orders_at_once_keep_the_books(pg_shop: Shop) -> None:
    """The dashboard's bulk cancel of lines across SKUs, while a receipt and new orders touch
    the same SKUs in another order: no deadlock escapes, nothing is lost, the ledger agrees."""
    today = pg_shop.clock.today().isoformat()
    g = Given(pg_shop)
    for sku in ("AA", "BB", "CC"):
        g.sku(sku, "inbound")
    s.create_po(pg_shop, "ACME", [{"sku": k, "qty": 40, "eta": today} for k in ("AA", "BB", "CC")], id="P1")
    for n in range(12):
        buy(pg_shop, f"W{n}", ("CC", 1), ("BB", 1), ("AA", 1))

    def work(i: int) -> Any:
        if i < 3:
            return s.cancel_backorders(pg_shop, [{"order": f"W{n}", "line": line} for n in range(i, 12, 3)
                                                 for line in (3, 1)])
        if i == 3:
            return s.receive(pg_shop, "P1", [{"line": 3, "qty": 5}, {"line": 1, "qty": 5}])
        return buy(pg_shop, f"N{i}", ("AA", 2), ("CC", 2))

    results = together(6, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    cancelled = [c for r in results[:3] for c in r["cancelled"]]
    assert len(cancelled) + sum(len(r["skipped"]) for r in results[:3]) == 24
    assert s.check_ledger(pg_shop)["ok"]
    for n in range(12):
        lines = s.get_order(pg_shop, f"W{n}")["lines"]
        assert lines[1]["cancelled"] == 0 and all(x["backordered"] == 0 for x in (lines[0], lines[2]))
