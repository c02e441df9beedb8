"""Why a line has the date it has: the supply it got, by which rule, and who
is ahead of it in the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from restock.errors import NotFound
from restock.storage.books import handling_days, sku_infos
from restock.storage.tables import order_lines, orders, pegs, po_lines, promise_changes, purchase_orders
from restock.storage.uow import UnitOfWork, read_only, utc

RULE = ("Demand is matched to supply greedily: waiting lines in priority order (promised date, then "
        "order time, then line) take free stock first, then open purchase-order lines by ETA, then, "
        "where the policy allows, the primary supplier's lead time (estimated).")


@read_only
def explain_line(uow: UnitOfWork, order_id: str, line_no: int) -> dict[str, Any]:
    if isinstance(line_no, bool) or not isinstance(line_no, int) or not 0 < line_no < 2**31:
        raise NotFound(f"order {order_id!r:.80} has no line {line_no!r:.20}")
    line = uow.execute(sa.select(order_lines, orders.c.id.label("order_id"))
                       .join(orders, orders.c.seq == order_lines.c.order_seq)
                       .where(orders.c.id == order_id, order_lines.c.line_no == line_no)).first()
    if line is None:
        raise NotFound(f"order {order_id!r:.80} has no line {line_no!r:.20}")
    info = sku_infos(uow, [line.sku])[line.sku]
    supply: list[dict[str, Any]] = []
    if line.qty_allocated:
        supply.append({"kind": "stock", "qty": line.qty_allocated, "why": "allocated from stock on hand"})
    pegged = 0
    for p in uow.execute(sa.select(pegs.c.qty, po_lines.c.line_no, po_lines.c.eta, purchase_orders.c.id)
                         .join(po_lines, po_lines.c.id == pegs.c.po_line_id)
                         .join(purchase_orders, purchase_orders.c.seq == po_lines.c.po_seq)
                         .where(pegs.c.line_id == line.id).order_by(po_lines.c.eta)):
        pegged += p.qty
        supply.append({"kind": "purchase_order", "po": p.id, "line": p.line_no, "eta": p.eta.isoformat(),
                       "qty": p.qty, "why": f"pegged to {p.id} line {p.line_no}, due {p.eta.isoformat()}"})
    if line.qty_backordered > pegged:
        supply.append({"kind": "virtual", "qty": line.qty_backordered - pegged,
                       "lead_time_days": info.lead_time_days,
                       "why": "beyond inbound supply: the primary supplier's lead time, an estimate"})
    ahead = _ahead(uow, line) if line.qty_backordered else {"lines": 0, "units": 0, "first": []}
    handling = handling_days(uow, line.location)
    return {
        "order": line.order_id, "line": line.line_no, "sku": line.sku, "qty": line.qty,
        "policy": {"mode": info.policy.mode.value, "cap": info.policy.cap,
                   "max_wait_days": info.policy.max_wait_days,
                   "release_date": info.policy.release_date.isoformat() if info.policy.release_date else None},
        "allocated": line.qty_allocated, "backordered": line.qty_backordered, "shipped": line.qty_shipped,
        "cancelled": line.qty_cancelled, "promised_date": line.promised_date.isoformat(),
        "first_promised_date": line.first_promised_date.isoformat(), "estimated": line.estimated,
        "supply_date": (line.promised_date - timedelta(days=handling)).isoformat(),
        "handling_days": handling, "supply": supply, "rule": RULE, "ahead": ahead,
        "promise_changes": [
            {"at": utc(c.at).isoformat(), "from": c.old_date.isoformat(), "to": c.new_date.isoformat(),
             "cause": c.cause}
            for c in uow.execute(sa.select(promise_changes).where(promise_changes.c.line_id == line.id)
                                 .order_by(promise_changes.c.id))],
    }


def _ahead(uow: UnitOfWork, line: Any) -> dict[str, Any]:
    """Waiting lines of the same SKU that come first in priority."""
    key = sa.tuple_(order_lines.c.promised_date, order_lines.c.placed_at, order_lines.c.id)
    mine = sa.tuple_(sa.literal(line.promised_date), sa.literal(line.placed_at), sa.literal(line.id))
    waiting = (order_lines.c.sku == line.sku) & (order_lines.c.location == line.location) & \
        (order_lines.c.qty_backordered > 0) & (key < mine)
    total = sa.func.coalesce(sa.func.sum(order_lines.c.qty_backordered), 0)
    lines, units = uow.execute(sa.select(sa.func.count(), total).where(waiting)).one()
    first = uow.execute(sa.select(orders.c.id, order_lines.c.line_no, order_lines.c.qty_backordered,
                                  order_lines.c.promised_date)
                        .join(orders, orders.c.seq == order_lines.c.order_seq).where(waiting)
                        .order_by(order_lines.c.promised_date, order_lines.c.placed_at, order_lines.c.id)
                        .limit(10)).all()
    return {"lines": lines, "units": int(units),
            "first": [{"order": r.id, "line": r.line_no, "qty": r.qty_backordered,
                       "promised_date": r.promised_date.isoformat()} for r in first]}
