"""The unit of work: one service call, one transaction.

It opens a transaction that rolls back unless committed, locks stock rows
always in (location, sku) order, buffers events and writes them to the outbox
just before commit under the event counter's row lock, so event ids follow
commit order. `transaction` retries a call that lost a lock race
(serialization failure, deadlock, lock timeout, SQLite busy).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from restock.errors import AlreadyExists, Busy, Conflict, InvalidInput
from restock.shop import Shop
from restock.storage import bulk
from restock.storage.engine import is_sqlite
from restock.storage.tables import counters, events, idempotency, orders, stock

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 12
# SQLite has no row locks: its writers hold the database lock from BEGIN IMMEDIATE.
_LOCK_STOCK_SQLITE = (sa.select(stock).where(stock.c.location == sa.bindparam("location"),
                                             stock.c.sku.in_(sa.bindparam("skus", expanding=True)))
                      .order_by(stock.c.sku))
_LOCK_STOCK = _LOCK_STOCK_SQLITE.with_for_update()
_NEXT_EVENT_IDS = (sa.update(counters).where(counters.c.name == "events")
                   .values(value=counters.c.value + sa.bindparam("n")).returning(counters.c.value))
_INSERT_EVENTS = sa.insert(events)
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class UnitOfWork:
    def __init__(self, shop: Shop, *, write: bool) -> None:
        self.shop = shop
        self.write = write
        self.now = shop.clock.now().astimezone(UTC).replace(tzinfo=None)
        self.today: date = shop.clock.today()
        self.sqlite = is_sqlite(shop.engine)
        self._events: list[dict[str, Any]] = []
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        conn = self.shop.engine.connect()
        if self.sqlite:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE" if self.write else "DEFERRED")
        self.conn = conn
        self._tx = conn.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._tx.is_active and not self._committed:
                self._tx.rollback()
        finally:
            self.conn.close()

    def execute(self, statement: Any, params: Any = None) -> sa.CursorResult[*tuple[Any, ...]]:
        return self.conn.execute(statement, params)

    def executemany(self, statement: sa.Executable, rows: list[dict[str, Any]]) -> None:
        """Write many rows (no RETURNING) through the driver: see storage.bulk."""
        bulk.executemany(self.conn, statement, rows)

    # -- locks ------------------------------------------------------------------

    def lock_stock(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Lock the stock rows of these (sku, location) keys, always in
        (location, sku) order, so that two writers never wait on each other
        in a circle."""
        by_location: dict[str, list[str]] = {}
        for sku, location in sorted(set(keys), key=lambda key: (key[1], key[0])):
            by_location.setdefault(location, []).append(sku)
        query = _LOCK_STOCK_SQLITE if self.sqlite else _LOCK_STOCK
        return {(row.sku, row.location): row
                for location, skus in by_location.items()
                for row in self.execute(query, {"location": location, "skus": skus})}

    def lock_orders(self, seqs: Iterable[int]) -> None:
        """Lock order rows (after any stock rows), in order."""
        wanted = sorted(set(seqs))
        if wanted and not self.sqlite:
            for chunk in chunks(wanted):
                self.execute(sa.select(orders.c.seq).where(orders.c.seq.in_(chunk))
                             .order_by(orders.c.seq).with_for_update()).all()

    # -- events -----------------------------------------------------------------

    def emit(self, type_: str, data: dict[str, Any], *, order_id: str | None = None,
             sku: str | None = None) -> None:
        self._events.append({"type": type_, "at": self.now, "order_id": order_id, "sku": sku,
                             "data": data})

    @property
    def emitted(self) -> list[dict[str, Any]]:
        """The events this unit of work will write when it commits."""
        return list(self._events)

    def commit(self) -> None:
        if self._events and not self.sqlite and len(self._events) <= bulk.PIPELINED_EVENTS:
            bulk.append_events_and_commit(self.conn, self._events)  # the driver commits; SQLAlchemy's is a no-op
        elif self._events:
            last = self.execute(_NEXT_EVENT_IDS, {"n": len(self._events)}).scalar_one()
            first = last - len(self._events) + 1
            for offset, event in enumerate(self._events):
                event["id"] = first + offset
            self.executemany(_INSERT_EVENTS, self._events)
        self._tx.commit()
        self._committed = True


def chunks(items: list[Any], size: int = 900) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# Unique keys whose violation means "that id is taken" (SQLite and PostgreSQL spellings).
_TAKEN = {"orders.id": "order", "uq_orders_id": "order", "purchase_orders.id": "purchase order",
          "uq_purchase_orders_id": "purchase order"}


def _conflict(error: IntegrityError) -> Conflict:
    text = str(error.orig).splitlines()[0][:200]
    for key, what in _TAKEN.items():
        if key in text:
            return AlreadyExists(f"that {what} id exists already", {"constraint": key})
    return Conflict("the change conflicts with another one made at the same time; read the current state "
                    "and try again", {"constraint": text})


def _retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    text = str(error.orig).lower()
    return "database is locked" in text or "database table is locked" in text


@dataclass(frozen=True)
class Idempotency:
    """A creating request's Idempotency-Key (scoped to its caller) and the
    fingerprint of what it asked."""

    key: str
    fingerprint: str


def _run(shop: Shop, write: bool, fn: Callable[..., R], args: Any, kwargs: Any,
         idem: Idempotency | None = None) -> R:
    for attempt in range(ATTEMPTS):
        try:
            with UnitOfWork(shop, write=write) as uow:
                if idem is not None:
                    replay = _claim(uow, idem)
                    if replay is not None:
                        return cast(R, replay)
                result = fn(uow, *args, **kwargs)
                if idem is not None:
                    uow.execute(sa.update(idempotency).where(idempotency.c.key == idem.key)
                                .values(response=result))
                if write:
                    uow.commit()
                return result
        except IntegrityError as error:
            if idem is not None and attempt < ATTEMPTS - 1:
                continue  # maybe a duplicate of this very request committed first: look again
            raise _conflict(error) from None
        except DBAPIError as error:
            if not _retryable(error) or attempt == ATTEMPTS - 1:
                if _retryable(error):
                    raise Busy("the database stayed busy; try again") from None
                raise
            time.sleep(min(0.2, 0.002 * 2 ** attempt) * random.random())
    raise AssertionError("unreachable")


def _claim(uow: UnitOfWork, idem: Idempotency) -> Any:
    """The stored answer to a repeat of this request, or None after claiming
    the key for this one. A concurrent duplicate waits on the key's unique
    index, then finds the answer on its retry."""
    found = uow.execute(sa.select(idempotency).where(idempotency.c.key == idem.key)).first()
    if found is None:
        uow.execute(sa.insert(idempotency).values(key=idem.key, fingerprint=idem.fingerprint, created_at=uow.now))
        return None
    if found.fingerprint != idem.fingerprint:
        raise InvalidInput("this Idempotency-Key was used with another request; use a new key for a new request")
    return found.response


def idempotent(shop: Shop, idem: Idempotency | None, service: Callable[Concatenate[Shop, P], R],
               *args: P.args, **kwargs: P.kwargs) -> R:
    """Call a `transaction` service once per Idempotency-Key: a repeat with the
    same request returns the first answer and changes nothing."""
    if idem is None:
        return service(shop, *args, **kwargs)
    inner: Callable[..., R] = service.__wrapped__  # type: ignore[attr-defined]
    return _run(shop, True, inner, args, kwargs, idem)


def transaction(fn: Callable[Concatenate[UnitOfWork, P], R]) -> Callable[Concatenate[Shop, P], R]:
    """Run `fn` in a writing unit of work, committed on success, retried on lock races."""

    @functools.wraps(fn)
    def run(shop: Shop, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return _run(shop, True, fn, args, kwargs)

    return run


def read_only(fn: Callable[Concatenate[UnitOfWork, P], R]) -> Callable[Concatenate[Shop, P], R]:
    """Run `fn` in a reading unit of work (never commits, never locks)."""

    @functools.wraps(fn)
    def run(shop: Shop, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return _run(shop, False, fn, args, kwargs)

    return run


def rehearsal(fn: Callable[Concatenate[UnitOfWork, P], R]) -> Callable[Concatenate[Shop, P], R]:
    """Run `fn` in a writing unit of work that is always rolled back: what a change
    would do, computed by the very code that does it, with nothing kept."""

    @functools.wraps(fn)
    def run(shop: Shop, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                with UnitOfWork(shop, write=True) as uow:
                    return fn(uow, *args, **kwargs)
            except DBAPIError as error:
                if not _retryable(error) or attempt == ATTEMPTS - 1:
                    raise
                time.sleep(min(0.2, 0.002 * 2 ** attempt) * random.random())
        raise AssertionError("unreachable")

    return run


def utc(at: datetime) -> datetime:
    """A stored naive-UTC time as an aware datetime."""
    return at.replace(tzinfo=UTC)
