"""A Hypothesis state machine over the whole engine on a real database:
adjust, create PO, change ETA, receive, close, place, cancel, ship, and days
passing. After every step the invariants of DESIGN.md must hold."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from restock import services as s
from restock.clock import FixedClock
from restock.errors import RestockError
from restock.shop import Shop
from restock.storage.books import full_book, sku_infos
from restock.storage.tables import events, order_lines, orders, po_lines, stock
from restock.storage.uow import UnitOfWork
from tests.conftest import empty_postgres
from tests.helpers import CUSTOMER

SKUS = {
    "DENY": {"mode": "deny"},
    "INB": {"mode": "inbound", "cap": 8},
    "ALLOW": {"mode": "allow", "cap": 12},
    "WAIT": {"mode": "allow", "max_wait_days": 15},
    "PRE": {"mode": "preorder", "release_date": "2026-01-12"},
}
qtys = st.integers(1, 6)
skus = st.sampled_from(sorted(SKUS))


class Engine(RuleBasedStateMachine):
    url_maker: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock()
        self.shop = Shop.open(self.url_maker(), self.clock, upgrade=False)
        self.accepted: dict[str, list[tuple[str, int]]] = {}
        self.pos: list[str] = []
        self.n = 0

    def teardown(self) -> None:
        self.shop.close()

    def attempt(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(self.shop, *args, **kwargs)
        except RestockError:
            return None

    @initialize()
    def catalog(self) -> None:
        s.put_supplier(self.shop, "ACME", "Acme", 10, 2.0)
        for code, policy in SKUS.items():
            s.put_sku(self.shop, code, code.title(), "5", "2", policy, [{"supplier": "ACME", "lead_time_days": 10}])

    @rule(sku=skus, delta=st.integers(-4, 8).filter(bool))
    def adjust(self, sku: str, delta: int) -> None:
        self.attempt(s.adjust_stock, sku, delta, "count")

    @rule(sku=skus, qty=qtys, eta=st.integers(0, 20))
    def create_po(self, sku: str, qty: int, eta: int) -> None:
        self.n += 1
        po = self.attempt(s.create_po, "ACME", [{"sku": sku, "qty": qty, "eta": self.day(eta)}], id=f"P{self.n}")
        if po:
            self.pos.append(po["id"])

    @rule(data=st.data(), eta=st.integers(0, 25))
    def change_eta(self, data: st.DataObject, eta: int) -> None:
        if self.pos:
            self.attempt(s.change_eta, data.draw(st.sampled_from(self.pos)), 1, self.day(eta))

    @rule(data=st.data(), qty=qtys)
    def receive(self, data: st.DataObject, qty: int) -> None:
        if self.pos:
            self.attempt(s.receive, data.draw(st.sampled_from(self.pos)), [{"line": 1, "qty": qty}])

    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        if self.pos:
            self.attempt(s.close_po, data.draw(st.sampled_from(self.pos)))

    @rule(lines=st.lists(st.tuples(skus, qtys), min_size=1, max_size=3), complete=st.booleans())
    def place(self, lines: list[tuple[str, int]], complete: bool) -> None:
        self.n += 1
        order_id = f"O{self.n}"
        before = self.promised_dates()
        placed = self.attempt(s.place_order, order_id, CUSTOMER, [{"sku": k, "qty": q} for k, q in lines],
                              "complete" if complete else "partial")
        if placed:
            self.accepted[order_id] = lines
            after = self.promised_dates()
            pushed = {line: (before[line], after[line]) for line in before if after[line] > before[line]}
            assert not pushed, f"a new order pushed earlier promises out: {pushed}"

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if self.accepted:
            order_id = data.draw(st.sampled_from(sorted(self.accepted)))
            line = data.draw(st.integers(1, len(self.accepted[order_id])))
            qty = data.draw(st.none() | qtys)
            self.attempt(s.cancel_order, order_id, [{"line": line, "qty": qty}])

    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        ready = s.list_shipments(self.shop)["shipments"]
        if ready:
            self.attempt(s.ship, data.draw(st.sampled_from(ready))["id"])

    @rule(days=st.integers(1, 4))
    def days_pass(self, days: int) -> None:
        self.clock.advance(days=days)

    def day(self, n: int) -> str:
        return (self.clock.today() + timedelta(days=n)).isoformat()

    def promised_dates(self) -> dict[int, Any]:
        with self.shop.engine.connect() as conn:
            return dict(conn.execute(sa.select(order_lines.c.id, order_lines.c.promised_date)
                                     .where(order_lines.c.qty_backordered > 0)).all())

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def ledger_and_balances_agree(self) -> None:
        report = s.check_ledger(self.shop)
        assert report["problems"] == [], report["problems"][:5]

    @invariant()
    def balances_are_sane(self) -> None:
        with self.shop.engine.connect() as conn:
            for row in conn.execute(sa.select(stock)):
                assert 0 <= row.allocated <= row.on_hand, row
                assert min(row.backordered, row.inbound, row.shipped) >= 0, row
                cap = SKUS[row.sku].get("cap")
                assert cap is None or row.backordered <= cap, row
                assert row.backordered == 0 or row.on_hand == row.allocated, \
                    f"free stock idle while backorders wait: {row}"
            for line in conn.execute(sa.select(order_lines)):
                assert line.qty_allocated + line.qty_backordered + line.qty_shipped + line.qty_cancelled == line.qty
            for po_line in conn.execute(sa.select(po_lines)):
                assert 0 <= po_line.qty_pegged <= po_line.qty - po_line.qty_received - po_line.qty_closed

    @invariant()
    def state_is_the_greedy_match(self) -> None:
        """Re-running the match changes no peg and allocates nothing: what is
        stored is what the greedy match gives (dates may drift as days pass)."""
        with UnitOfWork(self.shop, write=False) as uow:
            infos = sku_infos(uow, SKUS)
            for row in uow.execute(sa.select(stock)).all():
                book, _ = full_book(uow, infos[row.sku], row)
                for change in book.rematch():
                    assert change.take.allocated == 0, (row.sku, change)
                    assert change.take.pegs == change.line.pegs, (row.sku, change)

    @invariant()
    def promises_respect_priority(self) -> None:
        """Along the queue of a SKU, supply only gets later: no line has a
        later supply than a line behind it."""
        with UnitOfWork(self.shop, write=False) as uow:
            infos = sku_infos(uow, SKUS)
            for row in uow.execute(sa.select(stock)).all():
                book, _ = full_book(uow, infos[row.sku], row)
                rank = {s.po_line_id: n for n, s in enumerate(book.inbound)}
                last = -1
                for line in sorted(book.waiting, key=lambda w: w.priority()):
                    ranks = sorted(rank[p] for p in line.pegs) + ([len(rank)] if line.estimated else [])
                    assert not ranks or ranks[0] >= last, (row.sku, line)
                    last = ranks[-1] if ranks else last

    @invariant()
    def no_order_is_lost(self) -> None:
        with self.shop.engine.connect() as conn:
            stored = {o: sorted(q for (q,) in conn.execute(
                sa.select(order_lines.c.qty).join(orders, orders.c.seq == order_lines.c.order_seq)
                .where(orders.c.id == o))) for o in self.accepted}
            placed_events = conn.execute(sa.select(sa.func.count()).select_from(events)
                                         .where(events.c.type == "order.placed")).scalar_one()
        assert stored == {o: sorted(q for _, q in lines) for o, lines in self.accepted.items()}
        assert placed_events == len(self.accepted)


class SqliteEngine(Engine):
    template: Path | None = None


def run(machine: type[Engine], examples: int, steps: int) -> None:
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_invariants_hold_after_every_step_on_sqlite(sqlite_template: Path) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="restock-sm-"))
    counter = iter(range(10**9))

    def fresh() -> str:
        path = workdir / f"{next(counter)}.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"

    SqliteEngine.url_maker = staticmethod(fresh)
    try:
        run(SqliteEngine, examples=150, steps=50)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class PostgresEngine(Engine):
    pass


@pytest.mark.postgres
def test_invariants_hold_after_every_step_on_postgres(pg_url: str) -> None:
    def fresh() -> str:
        empty_postgres(pg_url)
        return pg_url

    PostgresEngine.url_maker = staticmethod(fresh)
    run(PostgresEngine, examples=40, steps=40)
