"""What the operations team looks at: the backorder queue with what each line
waits for and whether its promise is at risk, the SKUs with most waiting
demand, purchase orders due, a SKU's projected stock, and KPI trends.

A promise is at risk when the line is still waiting and
- it is pegged to a purchase-order line that is late (ETA before today, not
  received) or whose ETA leaves too little time to ship by the promise
  (ETA + handling days after the promised date), or
- it is overdue: the promised date has passed, or the line waited past its
  SKU's max_wait_days (backorder.overdue).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput, NotFound
from restock.services import validate as v
from restock.services.kpis import midnight, ratio
from restock.services.orders import cancel_units
from restock.services.webhooks import EVENT_TYPES as WEBHOOK_EVENT_TYPES
from restock.storage.books import handling_days
from restock.storage.tables import (
    DEFAULT_LOCATION,
    daily_figures,
    events,
    order_lines,
    orders,
    pegs,
    plan_suggestions,
    plans,
    po_lines,
    purchase_orders,
    skus,
    stock,
    supplier_items,
    suppliers,
)
from restock.storage.uow import UnitOfWork, chunks, read_only, transaction, utc

ol, pl, po = order_lines.c, po_lines.c, purchase_orders.c
_qty_open = pl.qty - pl.qty_received - pl.qty_closed
_PRIORITY = (ol.promised_date, ol.placed_at, ol.id)
QUEUE_PAGE = 100
TREND_WEEKS = 12


def _days_before(uow: UnitOfWork, column: Any, days: int) -> Any:
    """column - days, for a DATE column (SQLite keeps dates as ISO text)."""
    if uow.sqlite:
        return sa.func.date(column, f"-{days} days")
    return column - sa.literal(days, sa.Integer)


def _at_risk(uow: UnitOfWork) -> Any:
    """The condition of module doc on an open order line."""
    handling = handling_days(uow, DEFAULT_LOCATION)
    overdue = (ol.promised_date < uow.today) | ol.overdue_at.is_not(None)
    if uow.sqlite:
        # SQLite: a lookup per line through the pegs' key is fastest.
        return overdue | sa.exists().where(
            pegs.c.line_id == ol.id, pl.id == pegs.c.po_line_id,
            (pl.eta < uow.today) | (pl.eta > _days_before(uow, ol.promised_date, handling)))
    # PostgreSQL runs a correlated EXISTS inside an aggregate's FILTER once per row
    # (seconds at 50,000 lines): the risky pegs as one set is a hashed subplan.
    pegged = order_lines.alias("pegged")
    risky_pegs = (sa.select(pegs.c.line_id).join(po_lines, pl.id == pegs.c.po_line_id)
                  .join(pegged, pegged.c.id == pegs.c.line_id)
                  .where((pl.eta < uow.today) | (pl.eta > _days_before(uow, pegged.c.promised_date, handling))))
    return overdue | ol.id.in_(risky_pegs)


def _waits_for_supplier(supplier: str) -> Any:
    """Lines pegged to a PO of `supplier`, or waiting unpegged on a SKU whose primary supplier it is."""
    pegged_to = sa.exists().where(pegs.c.line_id == ol.id, pl.id == pegs.c.po_line_id, po.seq == pl.po_seq,
                                  po.supplier == supplier)
    ranks = supplier_items.alias("ranks")
    primary = sa.select(sa.func.min(ranks.c.rank)).where(ranks.c.sku == ol.sku).correlate(order_lines) \
        .scalar_subquery()
    unpegged = ~sa.exists().where(pegs.c.line_id == ol.id) & sa.exists().where(
        supplier_items.c.sku == ol.sku, supplier_items.c.supplier == supplier, supplier_items.c.rank == primary)
    return pegged_to | unpegged


def _queue_filter(uow: UnitOfWork, sku: str | None, supplier: str | None, min_age_days: int | None,
                  at_risk: bool) -> Any:
    where = ol.qty_backordered > 0
    if sku:
        where &= ol.sku == v.code(sku, "sku")
    if supplier:
        where &= _waits_for_supplier(v.code(supplier, "supplier"))
    if min_age_days:
        # Age is whole days since the day of placement.
        where &= ol.placed_at < midnight(uow.today - timedelta(days=min_age_days - 1))
    if at_risk:
        where &= _at_risk(uow)
    return where


@read_only
def backorder_queue(uow: UnitOfWork, sku: str | None = None, supplier: str | None = None,
                    min_age_days: Any = None, at_risk: bool = False, page: Any = 1,
                    size: int = QUEUE_PAGE) -> dict[str, Any]:
    """Open backordered lines in priority order (promised date, order time,
    line), filtered; each with what it waits for, until when, and why it is at risk."""
    min_age = v.count(min_age_days, "min_age_days", maximum=3650, optional=True)
    number = v.qty(page, "page", maximum=100_000)
    where = _queue_filter(uow, sku, supplier, min_age, at_risk)
    lines, units = uow.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ol.qty_backordered), 0))
                               .where(where)).one()
    rows = _queue_rows(uow, where, size, (number - 1) * size)
    return {"lines": described_lines(uow, rows), "total_lines": lines, "total_units": int(units),
            "page": number, "pages": max(1, -(-lines // size))}


def _queue_rows(uow: UnitOfWork, where: Any, limit: int | None, offset: int = 0) -> Sequence[Any]:
    """A page of the queue's lines in priority order, with their order and customer. The
    page is cut from order_lines alone (its queue index gives the order), then joined."""
    page = (sa.select(ol.id, ol.order_seq, ol.line_no, ol.sku, ol.qty_backordered, ol.promised_date,
                      ol.first_promised_date, ol.placed_at, ol.estimated, ol.overdue_at)
            .where(where).order_by(*_PRIORITY).limit(limit).offset(offset).subquery())
    return uow.execute(sa.select(page, orders.c.id.label("order_id"), orders.c.customer_name)
                       .join(orders, orders.c.seq == page.c.order_seq)
                       .order_by(page.c.promised_date, page.c.placed_at, page.c.id)).all()


def described_lines(uow: UnitOfWork, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Queue rows with their pegs ("waits for") and at-risk reasons."""
    handling = handling_days(uow, DEFAULT_LOCATION)
    pegged: dict[int, list[Any]] = defaultdict(list)
    for chunk in chunks([r.id for r in rows]):
        for p in uow.execute(sa.select(pegs.c.line_id, pegs.c.qty, pl.line_no, pl.eta, po.id, po.supplier)
                             .join(po_lines, pl.id == pegs.c.po_line_id).join(purchase_orders, po.seq == pl.po_seq)
                             .where(pegs.c.line_id.in_(chunk)).order_by(pl.eta, po.seq, pl.line_no)):
            pegged[p.line_id].append(p)
    described = []
    for r in rows:
        waits = [{"po": p.id, "line": p.line_no, "qty": p.qty, "eta": p.eta.isoformat(), "supplier": p.supplier}
                 for p in pegged[r.id]]
        unpegged = r.qty_backordered - sum(p.qty for p in pegged[r.id])
        risks = [f"{p.id} was due {p.eta.isoformat()} and has not arrived" for p in pegged[r.id]
                 if p.eta < uow.today]
        risks += [f"{p.id} is due {p.eta.isoformat()}, too late to ship by the promise" for p in pegged[r.id]
                  if p.eta >= uow.today and p.eta + timedelta(days=handling) > r.promised_date]
        if r.promised_date < uow.today:
            risks.append(f"promised {r.promised_date.isoformat()}, not shipped")
        if r.overdue_at is not None:
            risks.append("waited past the SKU's max wait")
        described.append({
            "order": r.order_id, "line": r.line_no, "customer": r.customer_name, "sku": r.sku,
            "qty": r.qty_backordered, "promised_date": r.promised_date.isoformat(),
            "first_promised_date": r.first_promised_date.isoformat(), "estimated": r.estimated,
            "placed_at": utc(r.placed_at).isoformat(), "age_days": (uow.today - r.placed_at.date()).days,
            "waits_for": waits, "unpegged": unpegged, "at_risk": risks})
    return described


@read_only
def order_lines_waiting(uow: UnitOfWork, lines: list[Any]) -> list[dict[str, Any]]:
    """These order lines ([{"order", "line"}]) as the queue shows them, those still waiting."""
    wanted = {(i["order"], i["line"]) for i in lines if isinstance(i, dict)}
    seqs = sa.select(orders.c.seq).where(orders.c.id.in_({o for o, _ in wanted}))
    rows = _queue_rows(uow, (ol.qty_backordered > 0) & ol.order_seq.in_(seqs), None)
    return described_lines(uow, [r for r in rows if (r.order_id, r.line_no) in wanted])


@transaction
def cancel_backorders(uow: UnitOfWork, lines: list[Any]) -> dict[str, Any]:
    """Cancel what still waits of these order lines ([{"order", "line"}]), all in
    one transaction; lines with nothing waiting any more are reported, not failed."""
    asked: dict[str, set[int]] = defaultdict(set)
    for n, item in enumerate(v.lines(lines), 1):
        if not isinstance(item, dict):
            raise InvalidInput(f"item {n} must be an object with order and line")
        asked[v.code(item.get("order"), f"item {n} order")].add(v.qty(item.get("line"), f"item {n} line",
                                                                        maximum=10_000))
    found = uow.execute(sa.select(orders).where(orders.c.id.in_(list(asked)))).all()
    unknown = set(asked) - {o.id for o in found}
    if unknown:
        raise NotFound(f"unknown order {sorted(unknown)[0]}")
    lines_of = {o.seq: {r.line_no: r for r in uow.execute(sa.select(order_lines).where(ol.order_seq == o.seq))}
                for o in found}
    # Every stock row first, in order, then the orders: the lock order of every writer.
    uow.lock_stock((r.sku, r.location) for o in found for n, r in lines_of[o.seq].items() if n in asked[o.id])
    uow.lock_orders(o.seq for o in found)
    cancelled, skipped = [], []
    for o in sorted(found, key=lambda o: o.seq):
        current = {r.line_no: r for r in uow.execute(sa.select(order_lines).where(ol.order_seq == o.seq))}
        missing = asked[o.id] - set(current)
        if missing:
            raise NotFound(f"order {o.id} has no line {min(missing)}")
        waiting = {n: None for n in sorted(asked[o.id]) if current[n].qty_backordered}
        skipped += [{"order": o.id, "line": n} for n in sorted(asked[o.id]) if n not in waiting]
        if waiting:
            cancel_units(uow, o, current, dict(waiting), "shop", waiting_only=True)
            cancelled += [{"order": o.id, "line": n, "qty": current[n].qty_backordered} for n in waiting]
    return {"cancelled": cancelled, "skipped": skipped}


@read_only
def overview(uow: UnitOfWork, top: int = 10) -> dict[str, Any]:
    """The SKUs with most waiting demand, promises at risk, POs due within a week (and late ones)."""
    # The SKUs come from the stock rows (their backordered units), their lines from the per-SKU index.
    top_units = uow.execute(sa.select(stock.c.sku).where(stock.c.location == DEFAULT_LOCATION, stock.c.backordered > 0)
                            .order_by(stock.c.backordered.desc(), stock.c.sku).limit(top)).scalars().all()
    top_skus = uow.execute(
        sa.select(ol.sku, skus.c.name, sa.func.count().label("lines"),
                  sa.func.sum(ol.qty_backordered).label("units"), sa.func.min(ol.placed_at).label("oldest"),
                  sa.func.max(ol.promised_date).label("last_promise"))
        .join(skus, skus.c.code == ol.sku).where(ol.qty_backordered > 0, ol.sku.in_(top_units))
        .group_by(ol.sku, skus.c.name).order_by(sa.desc("units"), ol.sku)).all()
    today = _today(uow)
    return {
        "today": today,
        "top_skus": [{"sku": r.sku, "name": r.name, "lines": r.lines, "units": int(r.units),
                      "oldest_days": (uow.today - _day(r.oldest)).days,
                      "last_promise": _day(r.last_promise).isoformat()} for r in top_skus],
        "at_risk": {"lines": today["at_risk"],
                    "first": described_lines(uow, _queue_rows(uow, (ol.qty_backordered > 0) & _at_risk(uow), top))},
        "pos_due": pos_due(uow, uow.today + timedelta(days=7)),
    }


def _day(value: Any) -> date:
    """A day from a DATE or DATETIME value (SQLite's date() and aggregates give text)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def pos_due(uow: UnitOfWork, until: date) -> list[dict[str, Any]]:
    rows = uow.execute(sa.select(po.id, po.supplier, suppliers.c.name.label("supplier_name"), pl.line_no, pl.sku,
                                 _qty_open.label("qty_open"), pl.qty_pegged, pl.eta, pl.first_eta)
                       .join(purchase_orders, po.seq == pl.po_seq).join(suppliers, suppliers.c.code == po.supplier)
                       .where(po.status == "open", _qty_open > 0, pl.eta <= until)
                       .order_by(pl.eta, po.seq, pl.line_no).limit(200)).all()
    return [{"po": r.id, "supplier": r.supplier, "supplier_name": r.supplier_name, "line": r.line_no,
             "sku": r.sku, "qty_open": r.qty_open, "qty_promised": r.qty_pegged, "eta": r.eta.isoformat(),
             "first_eta": r.first_eta.isoformat(), "late": r.eta < uow.today} for r in rows]


@read_only
def list_pos(uow: UnitOfWork, status: str | None = "open", supplier: str | None = None,
             limit: int = 200) -> list[dict[str, Any]]:
    """Purchase orders, newest first, each with its open units, units promised to customers and next ETA."""
    if status not in (None, "open", "received", "closed"):
        raise InvalidInput("status must be open, received or closed")
    where: Any = sa.true()
    if status:
        where &= po.status == status
    if supplier:
        where &= po.supplier == v.code(supplier, "supplier")
    open_eta = sa.case((_qty_open > 0, pl.eta))
    rows = uow.execute(sa.select(po.id, po.supplier, po.status, po.created_at, sa.func.count(pl.id).label("lines"),
                                 sa.func.sum(pl.qty).label("qty"), sa.func.sum(_qty_open).label("qty_open"),
                                 sa.func.sum(pl.qty_pegged).label("qty_promised"),
                                 sa.func.min(open_eta).label("next_eta"))
                       .join(po_lines, pl.po_seq == po.seq).where(where)
                       .group_by(po.seq, po.id, po.supplier, po.status, po.created_at)
                       .order_by(po.seq.desc()).limit(limit)).all()
    return [{"id": r.id, "supplier": r.supplier, "status": r.status, "created_at": utc(r.created_at).isoformat(),
             "lines": r.lines, "qty": int(r.qty), "qty_open": int(r.qty_open), "qty_promised": int(r.qty_promised),
             "next_eta": _day(r.next_eta).isoformat() if r.next_eta else None,
             "late": r.next_eta is not None and _day(r.next_eta) < uow.today} for r in rows]


@read_only
def sku_projection(uow: UnitOfWork, sku: str) -> dict[str, Any]:
    """A SKU's stock as it will stand, day by day from today: free stock on hand,
    each open PO line arriving at its ETA (a late one today), and the waiting
    backorders drawn down: pegged units when their PO line arrives, the others at
    their supply date (promise - handling days)."""
    row = uow.execute(sa.select(stock).where(stock.c.sku == sku, stock.c.location == DEFAULT_LOCATION)).first()
    if row is None:
        raise NotFound(f"unknown SKU {sku}")
    handling = handling_days(uow, DEFAULT_LOCATION)
    arrivals: dict[date, int] = defaultdict(int)
    for r in uow.execute(sa.select(pl.eta, _qty_open.label("qty")).join(purchase_orders, po.seq == pl.po_seq)
                         .where(pl.sku == sku, po.status == "open", _qty_open > 0)):
        arrivals[max(r.eta, uow.today)] += r.qty
    # Pegged units leave with their PO line's arrival (the receipt allocates them);
    # the rest (on the supplier's lead time) at the line's supply date.
    drawn: dict[date, int] = defaultdict(int)
    for r in uow.execute(sa.select(pl.eta, sa.func.sum(pegs.c.qty).label("qty"))
                         .join(po_lines, pl.id == pegs.c.po_line_id).where(pl.sku == sku).group_by(pl.eta)):
        drawn[max(_day(r.eta), uow.today)] += int(r.qty)
    pegged = sa.select(sa.func.coalesce(sa.func.sum(pegs.c.qty), 0)).where(pegs.c.line_id == ol.id) \
        .correlate(order_lines).scalar_subquery()
    for r in uow.execute(sa.select(ol.promised_date, (ol.qty_backordered - pegged).label("qty"))
                         .where(ol.sku == sku, ol.location == DEFAULT_LOCATION, ol.qty_backordered > pegged)):
        drawn[max(_day(r.promised_date) - timedelta(days=handling), uow.today)] += int(r.qty)
    last = max([*arrivals, *drawn, uow.today]) + timedelta(days=7)
    days, on_hand, inbound, backorders = [], [], [], []
    level, arrived, promised = row.on_hand - row.allocated, 0, 0
    for n in range((last - uow.today).days + 1):
        day = uow.today + timedelta(days=n)
        arrived += arrivals.get(day, 0)
        promised += drawn.get(day, 0)
        days.append(day.isoformat())
        on_hand.append(level + arrived - promised)
        inbound.append(arrived)
        backorders.append(promised)
    return {"sku": sku, "days": days, "free_stock": on_hand, "inbound_arrived": inbound,
            "backorders_drawn": backorders, "free_now": row.on_hand - row.allocated,
            "arrivals": [{"day": d.isoformat(), "qty": q} for d, q in sorted(arrivals.items())]}


# -- trends ------------------------------------------------------------------------------


@read_only
def kpi_trend(uow: UnitOfWork, weeks: int = TREND_WEEKS, today: bool = True) -> dict[str, Any]:
    """Week by week (the last ending today): backorder rate, fill rate and
    promises kept; day by day: open backorders and their average age, as
    recorded by record_day, with today's as it stands (unless `today` is false:
    overview() has it)."""
    start = uow.today - timedelta(days=7 * weeks - 1)
    week_of = {start + timedelta(days=d): d // 7 for d in range(7 * weeks)}
    placed: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    day = sa.func.date(ol.placed_at)
    for r in uow.execute(sa.select(day.label("day"), sa.func.count(),
                                   sa.func.count().filter(ol.backordered_at_placement > 0),
                                   sa.func.sum(ol.qty), sa.func.sum(ol.allocated_at_placement))
                         .where(ol.placed_at >= midnight(start)).group_by(day)):
        week = week_of.get(_day(r.day))
        if week is not None:
            for i, value in enumerate(r[1:]):
                placed[week][i] += int(value)
    shipped: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in uow.execute(sa.select(ol.shipped_on, sa.func.count(),
                                   sa.func.count().filter(ol.shipped_on <= ol.first_promised_date))
                         .where(ol.shipped_on >= start).group_by(ol.shipped_on)):
        week = week_of.get(_day(r.shipped_on))
        if week is not None:
            shipped[week][0] += r[1]
            shipped[week][1] += r[2]
    weekly = []
    for w in range(weeks):
        lines, backordered, units, from_stock = placed[w]
        sent, kept = shipped[w]
        weekly.append({"week_ending": (start + timedelta(days=7 * w + 6)).isoformat(),
                       "backorder_rate": ratio(backordered, lines), "fill_rate": ratio(from_stock, units),
                       "promises_kept": ratio(kept, sent), "lines_placed": lines})
    daily = [{"day": r.day.isoformat(), "open_backorders": r.open_backorders,
              "open_backorder_units": r.open_backorder_units, "average_age_days": r.average_age_days,
              "at_risk": r.at_risk}
             for r in uow.execute(sa.select(daily_figures).where(daily_figures.c.day >= start,
                                                                  daily_figures.c.day < uow.today)
                                  .order_by(daily_figures.c.day))]
    if today:
        daily.append({"day": uow.today.isoformat(), **_today(uow)})
    return {"weekly": weekly, "daily": daily}


def _today(uow: UnitOfWork) -> dict[str, Any]:
    waiting = ol.qty_backordered > 0
    lines, units, risky = uow.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(ol.qty_backordered), 0),
        sa.func.count().filter(_at_risk(uow))).where(waiting)).one()
    ages = sa.func.date(ol.placed_at)
    total_age = 0
    for r in uow.execute(sa.select(ages.label("day"), sa.func.count()).where(waiting).group_by(ages)):
        total_age += (uow.today - _day(r.day)).days * r[1]
    return {"open_backorders": lines, "open_backorder_units": int(units),
            "average_age_days": round(total_age / lines, 1) if lines else 0.0, "at_risk": risky}


@transaction
def record_day(uow: UnitOfWork) -> dict[str, Any]:
    """Write today's open-backorder figures (again: the last write of the day wins)."""
    figures = _today(uow)
    uow.execute(sa.delete(daily_figures).where(daily_figures.c.day == uow.today))
    uow.execute(sa.insert(daily_figures).values(day=uow.today, recorded_at=uow.now, **figures))
    return {"day": uow.today.isoformat(), **figures}


# -- logs ---------------------------------------------------------------------------------

EVENT_TYPES = tuple(sorted(WEBHOOK_EVENT_TYPES))


@read_only
def events_log(uow: UnitOfWork, type_: str | None = None, order: str | None = None, sku: str | None = None,
               before: Any = None, limit: int = 100) -> dict[str, Any]:
    """Events newest first, filtered by type, order and SKU, paged by id."""
    where: Any = sa.true()
    if type_:
        if type_ not in EVENT_TYPES:
            raise InvalidInput(f"unknown event type {type_!r:.40}")
        where &= events.c.type == type_
    if order:
        where &= events.c.order_id == v.code(order, "order")
    if sku:
        where &= events.c.sku == v.code(sku, "sku")
    first = v.count(before, "before", maximum=2**62, optional=True)
    if first:
        where &= events.c.id < first
    rows = uow.execute(sa.select(events).where(where).order_by(events.c.id.desc()).limit(limit + 1)).all()
    return {"events": [{"id": r.id, "type": r.type, "at": utc(r.at).isoformat(), "order": r.order_id,
                        "sku": r.sku, "data": r.data} for r in rows[:limit]],
            "before": rows[limit - 1].id if len(rows) > limit else None}


@read_only
def list_plans(uow: UnitOfWork, limit: int = 20) -> list[dict[str, Any]]:
    """The latest replenishment plans, with how many SKUs each suggests ordering and how many are ordered."""
    ps = plan_suggestions.c
    ordering = sa.func.count().filter(ps.action.in_(("order", "expedite")))
    rows = uow.execute(sa.select(plans, sa.func.count(ps.sku).label("skus"), ordering.label("to_order"),
                                 sa.func.count(ps.po).label("ordered"))
                       .outerjoin(plan_suggestions, ps.plan_id == plans.c.id).group_by(plans.c.id)
                       .order_by(plans.c.created_at.desc()).limit(limit)).all()
    return [{"id": r.id, "status": r.status, "progress": r.progress, "created_at": utc(r.created_at).isoformat(),
             "settings": r.settings, "skus": r.skus, "to_order": r.to_order, "ordered": r.ordered, "error": r.error}
            for r in rows]
