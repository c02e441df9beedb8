"""The KPIs of DESIGN.md over a range of days.

Lines count in a range by the day they were placed (shipped, for promises
kept), in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput
from restock.services import validate as v
from restock.storage.tables import events, order_lines, orders, promise_changes, shipments
from restock.storage.uow import UnitOfWork, read_only

AGE_BUCKETS = ((0, 7, "0-7"), (8, 14, "8-14"), (15, 30, "15-30"), (31, None, "31+"))


@read_only
def kpis(uow: UnitOfWork, from_: Any = None, to: Any = None) -> dict[str, Any]:
    start = v.day(from_, "from", optional=True) or uow.today - timedelta(days=30)
    end = v.day(to, "to", optional=True) or uow.today
    if end < start:
        raise InvalidInput("'to' is before 'from'")
    lo, hi = datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())
    ol = order_lines.c
    placed = (ol.placed_at >= lo) & (ol.placed_at < hi)
    lines, backordered_lines, units, units_from_stock = uow.execute(sa.select(
        sa.func.count(), sa.func.count().filter(ol.backordered_at_placement > 0),
        sa.func.coalesce(sa.func.sum(ol.qty), 0), sa.func.coalesce(sa.func.sum(ol.allocated_at_placement), 0),
    ).where(placed)).one()
    shipped, kept = uow.execute(sa.select(
        sa.func.count(), sa.func.count().filter(ol.shipped_on <= ol.first_promised_date),
    ).where(ol.shipped_on >= start, ol.shipped_on <= end)).one()
    delays = uow.execute(sa.select(sa.func.count()).select_from(promise_changes).where(
        promise_changes.c.new_date > promise_changes.c.old_date,
        promise_changes.c.at >= lo, promise_changes.c.at < hi)).scalar_one()
    cancelled = uow.execute(sa.select(sa.func.count()).select_from(events).where(
        events.c.type == "backorder.cancelled", events.c.at >= lo, events.c.at < hi)).scalar_one()
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "lines_placed": lines, "units_ordered": int(units),
        "backorder_rate": ratio(backordered_lines, lines),
        "fill_rate": ratio(units_from_stock, units),
        "promises_kept": ratio(kept, shipped), "lines_shipped": shipped,
        **_open_backorders(uow),
        "delay_notices_per_backordered_line": ratio(delays, backordered_lines),
        "backorders_cancelled": cancelled,
        "shipments": _shipments(uow, lo, hi),
    }


def _shipments(uow: UnitOfWork, lo: datetime, hi: datetime) -> dict[str, int]:
    """Shipments that left in the range, orders that left in more than one,
    and what waits to be picked (a preorder's until its release day)."""
    sh = shipments.c
    left = (sh.status == "shipped") & (sh.shipped_at >= lo) & (sh.shipped_at < hi)
    shipped = uow.execute(sa.select(sa.func.count()).where(left)).scalar_one()
    parcels = sa.select(sh.order_seq).where(left).group_by(sh.order_seq).having(sa.func.count() > 1).subquery()
    split = uow.execute(sa.select(sa.func.count()).select_from(parcels)).scalar_one()
    ready, held = uow.execute(sa.select(
        sa.func.count().filter(sh.ship_after <= uow.today), sa.func.count().filter(sh.ship_after > uow.today),
    ).where(sh.status == "ready")).one()
    return {"shipped": shipped, "orders_split": split, "ready": ready, "held_for_release": held}


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _open_backorders(uow: UnitOfWork) -> dict[str, Any]:
    """Open backordered lines and units, and the lines by age in days (in SQL:
    a bucket of ages is a range of placement days)."""
    ol = order_lines.c
    counts = []
    for n, (low, high, _) in enumerate(AGE_BUCKETS):
        placed = sa.true() if n == 0 else ol.placed_at < midnight(uow.today - timedelta(days=low - 1))
        if high is not None:
            placed = placed & (ol.placed_at >= midnight(uow.today - timedelta(days=high)))
        counts.append(sa.func.count().filter(placed))
    lines, units, *ages = uow.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(ol.qty_backordered), 0), *counts,
    ).where(ol.qty_backordered > 0)).one()
    return {"open_backorders": lines, "open_backorder_units": int(units),
            "backorder_age_days": {label: n for (*_, label), n in zip(AGE_BUCKETS, ages, strict=True)}}


def midnight(day: date) -> datetime:
    return datetime.combine(day, time())



@read_only
def promise_moves(uow: UnitOfWork, examples: int = 3) -> list[dict[str, Any]]:
    """Promise changes by cause: how many moved later or earlier, by how many
    days on average, and a few examples."""
    pc, ol = promise_changes.c, order_lines.c
    rows = uow.execute(sa.select(pc.cause, pc.old_date, pc.new_date, orders.c.id, ol.line_no, ol.sku)
                       .join(order_lines, ol.id == pc.line_id).join(orders, orders.c.seq == ol.order_seq)
                       .order_by(pc.id)).all()
    by_cause: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_cause.setdefault(r.cause, {"cause": r.cause, "delayed": 0, "advanced": 0, "days": 0,
                                              "examples": []})
        shift = (r.new_date - r.old_date).days
        entry["delayed" if shift > 0 else "advanced"] += 1
        entry["days"] += abs(shift)
        if len(entry["examples"]) < examples:
            entry["examples"].append({"order": r.id, "line": r.line_no, "sku": r.sku,
                                      "from": r.old_date.isoformat(), "to": r.new_date.isoformat()})
    for entry in by_cause.values():
        entry["average_days"] = round(entry.pop("days") / (entry["delayed"] + entry["advanced"]), 1)
    return sorted(by_cause.values(), key=lambda e: -(e["delayed"] + e["advanced"]))


@read_only
def list_events(uow: UnitOfWork, after: Any = None, limit: Any = 100) -> dict[str, Any]:
    """Events in commit order after the cursor (an event id), each once."""
    start = v.count(int(after) if isinstance(after, str) and after.isdigit() else after, "after",
                    maximum=2**62, optional=True) or 0
    size = v.qty(limit, "limit", maximum=1000)
    rows = uow.execute(sa.select(events).where(events.c.id > start).order_by(events.c.id).limit(size)).all()
    return {"events": [{"id": r.id, "type": r.type, "at": r.at.replace(tzinfo=UTC).isoformat(), "data": r.data}
                       for r in rows],
            "next": str(rows[-1].id) if rows else str(start)}


@read_only
def shop_figures(uow: UnitOfWork) -> dict[str, int]:
    """All-time counts for monitoring: lines placed, open backorders, events written."""
    ol = order_lines.c
    placed, open_lines, open_units = uow.execute(sa.select(
        sa.func.count(), sa.func.count().filter(ol.qty_backordered > 0),
        sa.func.coalesce(sa.func.sum(ol.qty_backordered), 0))).one()
    written = uow.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()
    return {"lines_placed": placed, "open_backorders": open_lines, "open_backorder_units": int(open_units),
            "events": int(written)}
