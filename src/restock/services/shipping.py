"""Shipments: what is ready to pick, and confirming that it left."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput, InvalidState, NotFound
from restock.services import validate as v
from restock.storage.books import movement, record_done_lines
from restock.storage.tables import movements, order_lines, orders, shipment_lines, shipments, stock
from restock.storage.uow import UnitOfWork, read_only, transaction, utc

B = sa.bindparam
STATUSES = ("ready", "shipped", "cancelled")


@read_only
def list_shipments(uow: UnitOfWork, status: str = "ready", cursor: int | None = None,
                   limit: int = 100) -> dict[str, Any]:
    """Shipments in a status; `ready` lists only those that may leave today
    (a preorder's shipment waits for its release date)."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    limit = min(max(limit, 1), 1000)
    query = (sa.select(shipments, orders.c.id.label("order_id"))
             .join(orders, orders.c.seq == shipments.c.order_seq)
             .where(shipments.c.status == status).order_by(shipments.c.id).limit(limit + 1))
    if status == "ready":
        query = query.where(shipments.c.ship_after <= uow.today)
    if cursor is not None:
        query = query.where(shipments.c.id > cursor)
    rows = uow.execute(query).all()
    page = rows[:limit]
    contents = _contents(uow, [r.id for r in page])
    return {"shipments": [_view(r, contents[r.id]) for r in page],
            "next": page[-1].id if len(rows) > limit else None}


def _contents(uow: UnitOfWork, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for r in uow.execute(sa.select(shipment_lines.c.shipment_id, shipment_lines.c.qty, order_lines.c.line_no,
                                       order_lines.c.sku)
                             .join(order_lines, order_lines.c.id == shipment_lines.c.line_id)
                             .where(shipment_lines.c.shipment_id.in_(ids))
                             .order_by(order_lines.c.line_no)):
            found[r.shipment_id].append({"line": r.line_no, "sku": r.sku, "qty": r.qty})
    return found


def _view(r: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": r.id, "order": r.order_id, "status": r.status, "ship_after": r.ship_after.isoformat(),
            "shipped_at": utc(r.shipped_at).isoformat() if r.shipped_at else None, "tracking": r.tracking,
            "lines": lines}


@transaction
def ship(uow: UnitOfWork, shipment_id: int, tracking: str | None = None) -> dict[str, Any]:
    """Confirm that a ready shipment left: its units leave stock."""
    if tracking is not None:
        tracking = v.text(tracking, "tracking")
    lines = _lines(uow, shipment_id)
    uow.lock_stock((line.sku, line.location) for line in lines)
    shipment = uow.execute(sa.select(shipments, orders.c.id.label("order_id"))
                           .join(orders, orders.c.seq == shipments.c.order_seq)
                           .where(shipments.c.id == shipment_id)).one()
    if shipment.status != "ready":
        raise InvalidState(f"shipment {shipment_id} is {shipment.status}")
    if shipment.ship_after > uow.today:
        raise InvalidState(f"shipment {shipment_id} holds a preorder: it may not ship before "
                           f"{shipment.ship_after.isoformat()}")
    lines = _lines(uow, shipment_id)
    uow.execute(sa.update(order_lines).where(order_lines.c.id == B("b_id")).values(
        qty_allocated=order_lines.c.qty_allocated - B("b_qty"), qty_shipped=order_lines.c.qty_shipped + B("b_qty")),
        [{"b_id": line.line_id, "b_qty": line.qty} for line in lines])
    record_done_lines(uow, [line.line_id for line in lines])
    uow.execute(sa.update(stock).where(stock.c.sku == B("b_sku"), stock.c.location == B("b_loc")).values(
        on_hand=stock.c.on_hand - B("b_qty"), allocated=stock.c.allocated - B("b_qty"),
        shipped=stock.c.shipped + B("b_qty")),
        [{"b_sku": line.sku, "b_loc": line.location, "b_qty": line.qty} for line in lines])
    uow.execute(sa.insert(movements), [
        movement(uow, line.sku, line.location, "allocated", "shipped", line.qty, "ship", f"line:{line.line_id}")
        for line in lines])
    uow.execute(sa.update(shipments).where(shipments.c.id == shipment_id)
                .values(status="shipped", shipped_at=uow.now, tracking=tracking))
    shipped = uow.execute(sa.select(shipments, orders.c.id.label("order_id"))
                          .join(orders, orders.c.seq == shipments.c.order_seq)
                          .where(shipments.c.id == shipment_id)).one()
    view = _view(shipped, _contents(uow, [shipment_id])[shipment_id])
    uow.emit("shipment.shipped", {"shipment": shipment_id, "order": shipment.order_id, "tracking": tracking,
                                  "lines": view["lines"]}, order_id=shipment.order_id)
    return view


def _lines(uow: UnitOfWork, shipment_id: Any) -> Sequence[Any]:
    if isinstance(shipment_id, bool) or not isinstance(shipment_id, int) or not 0 < shipment_id < 2**62:
        raise NotFound(f"unknown shipment {shipment_id!r:.20}")
    if uow.execute(sa.select(shipments.c.id).where(shipments.c.id == shipment_id)).first() is None:
        raise NotFound(f"unknown shipment {shipment_id}")
    return uow.execute(sa.select(shipment_lines.c.line_id, shipment_lines.c.qty, order_lines.c.sku,
                                 order_lines.c.location)
                       .join(order_lines, order_lines.c.id == shipment_lines.c.line_id)
                       .where(shipment_lines.c.shipment_id == shipment_id)).all()
