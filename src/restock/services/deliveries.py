"""The outbox's way out. Events are fanned out into deliveries (one per event
and webhook; one per order and transaction for the customer's email), a
dispatcher leases the due ones, sends them, and settles each: done only after
the target answered yes, else due again after a back-off, and dead after the
last attempt (visible, and replayable with `retry_deliveries`).

At least once: a lease that runs out (its dispatcher died) makes a delivery
due again. In order per key: a delivery is leased only when no earlier one of
the same target and key (an order, or a SKU) is still pending.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput, NotFound
from restock.services import validate as v
from restock.storage.tables import counters, deliveries, events, idempotency, webhooks
from restock.storage.uow import UnitOfWork, chunks, read_only, transaction, utc

# Events the customer hears of by email; the ones one transaction wrote for one order make one message.
EMAIL_EVENTS = frozenset({"order.placed", "promise.delayed", "promise.advanced", "line.allocated",
                          "shipment.shipped", "backorder.cancelled", "line.cancelled"})
STATUSES = ("pending", "done", "dead")


@dataclass(frozen=True)
class Retry:
    """When to try again: exponential back-off with jitter, dead after `attempts`."""

    attempts: int = 12
    base_seconds: float = 2.0
    cap_seconds: float = 3600.0

    def delay(self, attempts_made: int, rng: random.Random) -> timedelta:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempts_made - 1))
        return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


@dataclass(frozen=True)
class Delivery:
    id: int
    target: str
    key: str
    attempts: int
    events: list[dict[str, Any]]
    webhook: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    id: int
    ok: bool
    error: str | None = None
    final: bool = False  # no use trying again (the webhook is gone)


_INSERT = sa.insert(deliveries)


@dataclass
class _Batch:
    key: str
    ids: list[int] = field(default_factory=list)


@transaction
def fan_out(uow: UnitOfWork, email: bool, limit: int = 2000) -> int:
    """Turn the events after the fan-out cursor into deliveries; how many events were read."""
    cursor = uow.execute(sa.select(counters.c.value).where(counters.c.name == "fanout")
                         .with_for_update()).scalar_one()
    rows = uow.execute(sa.select(events.c.id, events.c.type, events.c.at, events.c.order_id, events.c.sku)
                       .where(events.c.id > cursor).order_by(events.c.id).limit(limit)).all()
    if not rows:
        return 0
    hooks = uow.execute(sa.select(webhooks.c.name, webhooks.c.events)).all()
    new = [_row(uow, f"webhook:{hook.name}", key_of(r.order_id, r.sku), [r.id])
           for r in rows for hook in hooks if "*" in hook.events or r.type in hook.events]
    if email:
        new += [_row(uow, "email", batch.key, batch.ids) for batch in _email_batches(rows)]
    uow.executemany(_INSERT, new)
    uow.execute(sa.update(counters).where(counters.c.name == "fanout").values(value=rows[-1].id))
    return len(rows)


def key_of(order_id: str | None, sku: str | None) -> str:
    """What a delivery keeps its order within: the order, else the SKU, else the shop."""
    return order_id or (f"sku:{sku}" if sku else "shop")


def _email_batches(rows: Iterable[Any]) -> list[_Batch]:
    """The customer-facing events per (order, transaction): one transaction's events share its time."""
    batches: dict[tuple[str, datetime], _Batch] = {}
    for r in rows:
        if r.type in EMAIL_EVENTS and r.order_id:
            batches.setdefault((r.order_id, r.at), _Batch(r.order_id)).ids.append(r.id)
    return list(batches.values())


def _row(uow: UnitOfWork, target: str, key: str, ids: list[int]) -> dict[str, Any]:
    return {"target": target, "key": key[:80], "first_event": ids[0], "event_ids": ids, "status": "pending",
            "attempts": 0, "next_at": uow.now, "leased_until": None, "last_error": None, "created_at": uow.now,
            "done_at": None}


@read_only
def work_waiting(uow: UnitOfWork) -> tuple[bool, bool]:
    """(events not yet fanned out, deliveries due now): a cheap read, so that an idle dispatcher
    does not take the database's write lock twice a second."""
    c = deliveries.c
    due = uow.execute(sa.select(c.id).where(c.status == "pending", c.next_at <= uow.now,
                                            sa.or_(c.leased_until.is_(None), c.leased_until < uow.now))
                      .limit(1)).first()
    return _events_waiting(uow) > 0, due is not None


def _events_waiting(uow: UnitOfWork) -> int:
    """Events written but not yet fanned out into deliveries."""
    value = {name: v for name, v in uow.execute(sa.select(counters.c.name, counters.c.value)
                                                 .where(counters.c.name.in_(("fanout", "events"))))}
    return int(value["events"] - value["fanout"])


@transaction
def lease(uow: UnitOfWork, limit: int, lease_seconds: float) -> list[Delivery]:
    """Take up to `limit` due deliveries for `lease_seconds`, each the first pending of its target and key."""
    now = uow.now
    d, e = deliveries.alias("d"), deliveries.alias("e")
    earlier = sa.exists().where(e.c.target == d.c.target, e.c.key == d.c.key, e.c.status == "pending",
                                e.c.first_event < d.c.first_event)
    free = sa.or_(d.c.leased_until.is_(None), d.c.leased_until < now)
    due = uow.execute(sa.select(d.c.id).where(d.c.status == "pending", d.c.next_at <= now, free, ~earlier)
                      .order_by(d.c.first_event).limit(limit)).scalars().all()
    if not due:
        return []
    c = deliveries.c
    # A concurrent dispatcher may have taken some: the lease goes only to rows still free.
    taken = uow.execute(sa.update(deliveries).where(c.id.in_(due), sa.or_(c.leased_until.is_(None),
                                                                         c.leased_until < now))
                        .values(leased_until=now + timedelta(seconds=lease_seconds))
                        .returning(c.id, c.target, c.key, c.attempts, c.event_ids)).all()
    wanted = sorted({i for r in taken for i in r.event_ids})
    found: dict[int, dict[str, Any]] = {}
    for part in chunks(wanted):
        for ev in uow.execute(sa.select(events).where(events.c.id.in_(part))):
            found[ev.id] = {"id": ev.id, "type": ev.type, "at": utc(ev.at).isoformat(), "data": ev.data,
                            "order_id": ev.order_id, "sku": ev.sku}
    hooks = {h.name: h._asdict() for h in uow.execute(sa.select(webhooks))}
    return sorted((Delivery(r.id, r.target, r.key, r.attempts, [found[i] for i in r.event_ids],
                            hooks.get(r.target.removeprefix("webhook:")) if r.target.startswith("webhook:") else None)
                   for r in taken), key=lambda x: x.events[0]["id"])


@transaction
def settle(uow: UnitOfWork, outcomes: list[Outcome], retry: Retry, rng: random.Random) -> None:
    """Record what the targets answered: done, due again later, or dead."""
    c = deliveries.c
    done = [o.id for o in outcomes if o.ok]
    for part in chunks(done):
        uow.execute(sa.update(deliveries).where(c.id.in_(part), c.status == "pending").values(
            status="done", done_at=uow.now, attempts=c.attempts + 1, leased_until=None, last_error=None))
    failed = [o for o in outcomes if not o.ok]
    rows = {r.id: r for part in chunks([o.id for o in failed])
            for r in uow.execute(sa.select(c.id, c.attempts, c.status).where(c.id.in_(part)).with_for_update())}
    for outcome in failed:
        row = rows.get(outcome.id)
        if row is None or row.status != "pending":
            continue
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "leased_until": None}
        if outcome.final or attempts >= retry.attempts:
            values |= {"status": "dead", "last_error": (outcome.error or "failed")[:500]}
        else:
            values |= {"next_at": uow.now + retry.delay(attempts, rng), "last_error": (outcome.error or "")[:500]}
        uow.execute(sa.update(deliveries).where(c.id == outcome.id).values(**values))


@transaction
def retry_deliveries(uow: UnitOfWork, ids: list[int] | None = None, target: str | None = None) -> int:
    """Make dead deliveries due again now (all, these ids, or one target's); how many."""
    c = deliveries.c
    query = sa.update(deliveries).where(c.status == "dead")
    if ids is not None:
        query = query.where(c.id.in_([v.qty(i, "delivery id", maximum=2**31 - 1) for i in ids]))
    if target is not None:
        query = query.where(c.target == target)
    return int(uow.execute(query.values(status="pending", attempts=0, next_at=uow.now, leased_until=None))
               .rowcount)


@read_only
def list_deliveries(uow: UnitOfWork, status: str | None = None, cursor: Any = None,
                    limit: Any = 100) -> dict[str, Any]:
    """Deliveries newest first (dead letters with `status=dead`), paged by id."""
    c = deliveries.c
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    before = v.count(int(cursor) if isinstance(cursor, str) and cursor.isdigit() else cursor, "cursor",
                     maximum=2**31, optional=True)
    query = sa.select(deliveries).order_by(c.id.desc()).limit(v.qty(limit, "limit", maximum=1000))
    if status is not None:
        query = query.where(c.status == status)
    if before:
        query = query.where(c.id < before)
    rows = uow.execute(query).all()
    return {"deliveries": [_view(r) for r in rows], "next": str(rows[-1].id) if rows else None}


@read_only
def get_delivery(uow: UnitOfWork, delivery_id: int) -> dict[str, Any]:
    row = uow.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return _view(row)


@read_only
def delivery_figures(uow: UnitOfWork) -> dict[str, int]:
    """Deliveries by status, and events not yet fanned out."""
    counts = dict(uow.execute(sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)).all())
    return {**{s: int(counts.get(s, 0)) for s in STATUSES}, "events_waiting": _events_waiting(uow)}


def _view(r: Any) -> dict[str, Any]:
    return {"id": r.id, "target": r.target, "key": r.key, "events": r.event_ids, "status": r.status,
            "attempts": r.attempts, "next_at": r.next_at.replace(tzinfo=UTC).isoformat(),
            "last_error": r.last_error, "done_at": utc(r.done_at).isoformat() if r.done_at else None}


@transaction
def prune(uow: UnitOfWork, older_than_days: Any = 30) -> dict[str, int]:
    """Forget what no one needs again: deliveries done more than `older_than_days` ago, and the
    answers kept for Idempotency-Keys older than that (a retry that late is a new request).
    Pending and dead deliveries are kept whatever their age; events are kept (they are the history)."""
    days = v.qty(older_than_days, "older_than_days", maximum=3650)
    before = uow.now - timedelta(days=days)
    done = uow.execute(sa.delete(deliveries).where(deliveries.c.status == "done", deliveries.c.done_at < before))
    keys = uow.execute(sa.delete(idempotency).where(idempotency.c.created_at < before))
    return {"deliveries": int(done.rowcount), "idempotency_keys": int(keys.rowcount)}
