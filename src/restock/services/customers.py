"""What the customer sees and decides on the order-status page (reached by the
order's unguessable token), and backorders that waited too long.

A line whose promise moved later than the customer last agreed to (first
promise, or a later date they chose to wait for) offers two choices: keep
waiting, or cancel what still waits (freed supply goes to the next in line).
A backorder past its SKU's `max_wait_days` raises `backorder.overdue` once,
and is cancelled when the SKU (or the shop) says so.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from restock.domain.quotes import spoken_date
from restock.errors import InvalidState, NotFound
from restock.services import validate as v
from restock.services.orders import cancel_units, order_status, public_url, shipments_of
from restock.shop import Shop
from restock.storage.tables import order_lines, orders, skus
from restock.storage.uow import UnitOfWork, read_only, transaction

TOKEN_CHARS = 32  # secrets.token_urlsafe(24): 192 bits


def cancel_overdue_default() -> bool:
    """The shop's setting for SKUs that do not say: RESTOCK_CANCEL_OVERDUE."""
    return os.environ.get("RESTOCK_CANCEL_OVERDUE", "").lower() in ("1", "true", "yes", "on")


@read_only
def status_page(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """The order behind `token`, in the customer's words."""
    return _page(uow, _by_token(uow, token))


@read_only
def order_page(uow: UnitOfWork, order_id: str) -> dict[str, Any]:
    """The same, by order id, for the emails (with the customer's address)."""
    order = uow.execute(sa.select(orders).where(orders.c.id == order_id)).first()
    if order is None:
        raise NotFound(f"unknown order {order_id!r:.80}")
    return {**_page(uow, order), "customer_email": order.customer_email}


def _page(uow: UnitOfWork, order: Any) -> dict[str, Any]:
    rows = _lines(uow, order.seq)
    names = dict(uow.execute(sa.select(skus.c.code, skus.c.name).where(skus.c.code.in_({r.sku for r in rows}))).all())
    shipments = shipments_of(uow, order.seq, {r.id: r.line_no for r in rows})
    by_line = {r.line_no: names.get(r.sku, r.sku) for r in rows}
    return {"id": order.id, "customer_name": order.customer_name, "status": order_status(rows),
            "placed_on": order.placed_at.date(), "status_url": f"{public_url()}/status/{order.status_token}",
            "lines": [_line_words(r, names.get(r.sku, r.sku), uow.today) for r in rows],
            "shipments": [{**sh, "lines": [{**c, "name": by_line.get(c["line"], "")} for c in sh["lines"]]}
                          for sh in shipments if sh["status"] != "cancelled"]}


@transaction
def keep_waiting(uow: UnitOfWork, token: str, line_no: Any) -> dict[str, Any]:
    """The customer accepts the line's later date; the shop hears of it."""
    order, row = _choosing(uow, token, line_no)
    uow.execute(sa.update(order_lines).where(order_lines.c.id == row.id)
                .values(wait_accepted_date=row.promised_date))
    uow.emit("customer.kept_waiting", {"order": order.id, "line": row.line_no, "sku": row.sku,
                                       "promised_date": row.promised_date.isoformat()},
             order_id=order.id, sku=row.sku)
    return {"line": row.line_no, "promised_date": row.promised_date.isoformat()}


@transaction
def cancel_waiting(uow: UnitOfWork, token: str, line_no: Any) -> dict[str, Any]:
    """The customer cancels what still waits of a delayed line."""
    order, row = _choosing(uow, token, line_no)
    lines = {r.line_no: r for r in _lines(uow, order.seq)}
    cancel_units(uow, order, lines, {row.line_no: None}, "customer", waiting_only=True)
    return {"line": row.line_no, "cancelled": row.qty_backordered}


def sweep_overdue(shop: Shop) -> dict[str, int]:
    """Raise `backorder.overdue` once for each backorder that waits, or is promised,
    beyond its SKU's max_wait_days from placement; cancel what waits where the SKU
    (or the shop's RESTOCK_CANCEL_OVERDUE) says so. One transaction per line."""
    outcomes = [_overdue(shop, line_id) for line_id in _overdue_lines(shop)]
    return {"overdue": sum(1 for o in outcomes if o is not None), "cancelled": sum(1 for o in outcomes if o)}


_OVERDUE_CANDIDATES = (
    sa.select(order_lines, orders.c.id.label("order_id"), skus.c.max_wait_days, skus.c.cancel_overdue)
    .join(orders, orders.c.seq == order_lines.c.order_seq).join(skus, skus.c.code == order_lines.c.sku)
    .where(order_lines.c.qty_backordered > 0, order_lines.c.overdue_at.is_(None),
           skus.c.max_wait_days.is_not(None)))


@read_only
def _overdue_lines(uow: UnitOfWork) -> list[int]:
    return [r.id for r in uow.execute(_OVERDUE_CANDIDATES.order_by(order_lines.c.id))
            if max(r.promised_date, uow.today) > _limit(r)]


@transaction
def _overdue(uow: UnitOfWork, line_id: int) -> bool | None:
    """Whether the overdue line was cancelled; None when it is no longer overdue."""
    r = uow.execute(_OVERDUE_CANDIDATES.where(order_lines.c.id == line_id)).first()
    if r is None:
        return None
    # Lock the SKU's stock row first, as every writer does, then read the line again: two sweepers
    # (one per server worker) then see it one after the other, and only the first raises the event.
    uow.lock_stock([(r.sku, r.location)])
    r = uow.execute(_OVERDUE_CANDIDATES.where(order_lines.c.id == line_id)).first()
    if r is None or max(r.promised_date, uow.today) <= _limit(r):
        return None
    cancel = r.cancel_overdue if r.cancel_overdue is not None else cancel_overdue_default()
    uow.emit("backorder.overdue", {"order": r.order_id, "line": r.line_no, "sku": r.sku,
                                   "qty": r.qty_backordered, "promised_date": r.promised_date.isoformat(),
                                   "wait_limit": _limit(r).isoformat(), "cancelled": cancel},
             order_id=r.order_id, sku=r.sku)
    if cancel:
        order = uow.execute(sa.select(orders).where(orders.c.seq == r.order_seq)).one()
        cancel_units(uow, order, {n.line_no: n for n in _lines(uow, r.order_seq)}, {r.line_no: None},
                     "overdue", waiting_only=True)
    uow.execute(sa.update(order_lines).where(order_lines.c.id == line_id).values(overdue_at=uow.now))
    return cancel


def _limit(row: Any) -> date:
    placed: date = row.placed_at.date()
    return placed + timedelta(days=row.max_wait_days)


def _by_token(uow: UnitOfWork, token: Any) -> Any:
    # The token is the only key: a wrong or cut one finds nothing, and says nothing about others.
    if not isinstance(token, str) or len(token) != TOKEN_CHARS:
        raise NotFound("no such order")
    row = uow.execute(sa.select(orders).where(orders.c.status_token == token)).first()
    if row is None:
        raise NotFound("no such order")
    return row


def _lines(uow: UnitOfWork, seq: int) -> list[Any]:
    return list(uow.execute(sa.select(order_lines).where(order_lines.c.order_seq == seq)
                            .order_by(order_lines.c.line_no)).all())


def _choosing(uow: UnitOfWork, token: str, line_no: Any) -> tuple[Any, Any]:
    order = _by_token(uow, token)
    n = v.qty(line_no, "line", maximum=10_000)
    row = uow.execute(sa.select(order_lines).where(order_lines.c.order_seq == order.seq,
                                                   order_lines.c.line_no == n)).first()
    if row is None:
        raise NotFound(f"the order has no line {n}")
    if not can_choose(row):
        raise InvalidState("this line has nothing waiting on a later date to decide about")
    return order, row


def can_choose(row: Any) -> bool:
    agreed = max(row.first_promised_date, row.wait_accepted_date or row.first_promised_date)
    return bool(row.qty_backordered > 0 and row.promised_date > agreed)


def _line_words(r: Any, name: str, today: date) -> dict[str, Any]:
    """A line's state and date in plain words."""
    when = spoken_date(r.promised_date, today)
    parts = []
    if r.qty_shipped:
        parts.append(f"{r.qty_shipped} shipped")
    if r.qty_allocated:
        parts.append(f"{r.qty_allocated} in stock, ready to ship")
    if r.qty_backordered:
        parts.append(f"{r.qty_backordered} on backorder, ships {'around' if r.estimated else 'by'} {when}")
    if r.qty_cancelled:
        parts.append(f"{r.qty_cancelled} cancelled")
    moved = r.qty_backordered > 0 and r.promised_date > r.first_promised_date
    return {"line": r.line_no, "sku": r.sku, "name": name, "qty": r.qty, "words": "; ".join(parts),
            "promised_date": r.promised_date, "first_promised_date": r.first_promised_date,
            "moved_later": moved, "was": spoken_date(r.first_promised_date, today) if moved else None,
            "can_choose": can_choose(r)}
