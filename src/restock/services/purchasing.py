"""Inbound supply: purchase orders, their ETAs, receipts and short closes.

Each change re-promises the SKUs it touches: received stock goes to waiting
backorders first, a slipped ETA moves the promises pegged to it, a short
close sends the units pegged to it to the supplier's lead time.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import sqlalchemy as sa

from restock.errors import AlreadyExists, InvalidInput, InvalidState, NotFound
from restock.services import validate as v
from restock.storage.books import Balance, SkuInfo, movement, rematch, sku_infos, stock_signals
from restock.storage.tables import DEFAULT_LOCATION, movements, orders, po_lines, purchase_orders, stock, suppliers
from restock.storage.uow import UnitOfWork, read_only, rehearsal, transaction

_qty_open = po_lines.c.qty - po_lines.c.qty_received - po_lines.c.qty_closed


@transaction
def create_po(uow: UnitOfWork, supplier: str, lines: list[dict[str, Any]],
              id: str | None = None) -> dict[str, Any]:
    po_id = v.code(id, "purchase order id") if id is not None else f"PO-{secrets.token_hex(4).upper()}"
    supplier = v.code(supplier, "supplier")
    if uow.execute(sa.select(suppliers.c.code).where(suppliers.c.code == supplier)).first() is None:
        raise NotFound(f"unknown supplier {supplier}")
    wanted = [_po_line(uow.today, n, line) for n, line in enumerate(v.lines(lines), 1)]
    infos = sku_infos(uow, [w["sku"] for w in wanted])
    befores = _lock(uow, infos)
    if uow.execute(sa.select(purchase_orders.c.seq).where(purchase_orders.c.id == po_id)).first():
        raise AlreadyExists(f"purchase order {po_id} exists already")
    seq = uow.execute(sa.insert(purchase_orders).values(
        id=po_id, supplier=supplier, status="open", created_at=uow.now)
        .returning(purchase_orders.c.seq)).scalar_one()
    uow.execute(sa.insert(po_lines), [
        {"po_seq": seq, "location": DEFAULT_LOCATION, "qty_received": 0, "qty_closed": 0, "qty_pegged": 0,
         "first_eta": w["eta"], **w} for w in wanted])
    for w in wanted:
        _move_stock(uow, w["sku"], inbound=w["qty"])
    uow.execute(sa.insert(movements), [
        movement(uow, w["sku"], DEFAULT_LOCATION, "supplier", "inbound", w["qty"], "po_created",
                 f"po:{po_id}:{w['line_no']}") for w in wanted])
    _settle(uow, infos, befores, "po_created")
    uow.emit("purchase_order.created", {"po": po_id, "supplier": supplier,
                                        "lines": [_line_event(w) for w in wanted]})
    return _po_view(uow, po_id)


def _po_line(today: date, n: int, line: Any) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise InvalidInput(f"line {n} must be an object")
    eta = v.day(line.get("eta"), f"line {n} eta")
    assert eta is not None
    if eta < today:
        raise InvalidInput(f"line {n}: ETA {eta} is in the past")
    return {"line_no": n, "sku": v.code(line.get("sku"), f"line {n} sku"),
            "qty": v.qty(line.get("qty"), f"line {n} qty"), "eta": eta}


def _line_event(w: dict[str, Any]) -> dict[str, Any]:
    return {"line": w["line_no"], "sku": w["sku"], "qty": w["qty"], "eta": w["eta"].isoformat()}


def _change_eta(uow: UnitOfWork, po_id: str, line_no: int, eta: Any) -> tuple[Any, date]:
    """Move a PO line's ETA and re-promise its SKU; the line as it was, and the new ETA."""
    new_eta = v.day(eta, "eta")
    assert new_eta is not None
    if new_eta < uow.today:
        raise InvalidInput(f"ETA {new_eta} is in the past")
    po = _open_po(uow, po_id)
    line = _po_line_row(uow, po, line_no)
    infos = sku_infos(uow, [line.sku])
    befores = _lock(uow, infos)
    line = _po_line_row(uow, po, line_no)
    if line.qty - line.qty_received - line.qty_closed <= 0:
        raise InvalidState(f"line {line_no} of {po_id} has nothing left to receive")
    if new_eta != line.eta:
        uow.execute(sa.update(po_lines).where(po_lines.c.id == line.id).values(eta=new_eta))
        changes = rematch(uow, infos[line.sku], line.location, "eta_changed")
        _settle(uow, infos, befores, None)
        uow.emit("purchase_order.eta_changed", {
            "po": po_id, "line": line_no, "sku": line.sku, "old_eta": line.eta.isoformat(),
            "new_eta": new_eta.isoformat(), "promises_moved": sum(1 for c in changes if c.moved)},
            sku=line.sku)
    return line, new_eta


@transaction
def change_eta(uow: UnitOfWork, po_id: str, line_no: int, eta: Any) -> dict[str, Any]:
    _change_eta(uow, po_id, line_no, eta)
    return _po_view(uow, po_id)


@rehearsal
def preview_eta(uow: UnitOfWork, po_id: str, line_no: int, eta: Any) -> dict[str, Any]:
    """What change_eta would do, computed by it and rolled back: each customer
    line whose date would move (from, to, by how many days), and lines that
    would be filled from stock."""
    line, new_eta = _change_eta(uow, po_id, line_no, eta)
    emitted = uow.emitted
    customers = dict(uow.execute(sa.select(orders.c.id, orders.c.customer_name).where(
        orders.c.id.in_({e["order_id"] for e in emitted if e["order_id"]}))).all())
    moves = [{"order": d["order"], "line": d["line"], "customer": customers.get(d["order"], ""), "sku": d["sku"],
              "old_date": d["old_date"], "new_date": d["new_date"],
              "days": (date.fromisoformat(d["new_date"]) - date.fromisoformat(d["old_date"])).days}
             for e in emitted if e["type"] in ("promise.delayed", "promise.advanced") for d in [e["data"]]]
    return {"po": po_id, "line": line_no, "sku": line.sku, "old_eta": line.eta.isoformat(),
            "new_eta": new_eta.isoformat(),
            "moves": sorted(moves, key=lambda m: (-abs(m["days"]), m["order"], m["line"])),
            "filled": [{"order": e["data"]["order"], "line": e["data"]["line"], "qty": e["data"]["qty"]}
                       for e in emitted if e["type"] == "line.allocated"]}


@transaction
def receive(uow: UnitOfWork, po_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Receive units of a PO's lines: they go to waiting backorders first."""
    po = _open_po(uow, po_id)
    wanted: dict[int, int] = {}
    for n, line in enumerate(v.lines(lines), 1):
        if not isinstance(line, dict):
            raise InvalidInput(f"receipt line {n} must be an object")
        line_no = v.qty(line.get("line"), f"receipt line {n} line", maximum=10_000)
        if line_no in wanted:
            raise InvalidInput(f"PO line {line_no} is named twice in one receipt")
        wanted[line_no] = v.qty(line.get("qty"), f"receipt line {n} qty")
    rows = {n: _po_line_row(uow, po, n) for n in wanted}
    infos = sku_infos(uow, [r.sku for r in rows.values()])
    befores = _lock(uow, infos)
    rows = {n: _po_line_row(uow, po, n) for n in wanted}
    for n, qty in wanted.items():
        open_qty = rows[n].qty - rows[n].qty_received - rows[n].qty_closed
        if qty > open_qty:
            raise InvalidInput(f"line {n} of {po_id}: receiving {qty} but only {open_qty} open",
                               {"line": n, "qty_open": open_qty})
    for n, qty in wanted.items():
        row = rows[n]
        uow.execute(sa.update(po_lines).where(po_lines.c.id == row.id).values(
            qty_received=po_lines.c.qty_received + qty,
            qty_pegged=sa.func.min(po_lines.c.qty_pegged, _qty_open - qty)
            if uow.sqlite else sa.func.least(po_lines.c.qty_pegged, _qty_open - qty)))
        _move_stock(uow, row.sku, on_hand=qty, inbound=-qty)
        uow.execute(sa.insert(movements).values(
            movement(uow, row.sku, row.location, "inbound", "available", qty, "receipt", f"po:{po_id}:{n}")))
    if not uow.execute(sa.select(po_lines.c.id).where(po_lines.c.po_seq == po.seq, _qty_open > 0)).first():
        uow.execute(sa.update(purchase_orders).where(purchase_orders.c.seq == po.seq)
                    .values(status="received", closed_at=uow.now))
    _settle(uow, infos, befores, "received")
    uow.emit("purchase_order.received", {"po": po_id, "lines": [{"line": n, "sku": rows[n].sku, "qty": q}
                                                                for n, q in wanted.items()]})
    return _po_view(uow, po_id)


@transaction
def close_po(uow: UnitOfWork, po_id: str) -> dict[str, Any]:
    """Close a PO short: what was not received will not come."""
    po = _open_po(uow, po_id)
    skus_of_po = uow.execute(sa.select(po_lines.c.sku).where(po_lines.c.po_seq == po.seq)).scalars().all()
    infos = sku_infos(uow, skus_of_po)
    befores = _lock(uow, infos)
    po = _open_po(uow, po_id)
    rows = uow.execute(sa.select(po_lines, _qty_open.label("qty_open"))
                       .where(po_lines.c.po_seq == po.seq, _qty_open > 0)).all()
    for row in rows:
        uow.execute(sa.update(po_lines).where(po_lines.c.id == row.id)
                    .values(qty_closed=po_lines.c.qty_closed + row.qty_open, qty_pegged=0))
        _move_stock(uow, row.sku, inbound=-row.qty_open)
        uow.execute(sa.insert(movements).values(movement(
            uow, row.sku, row.location, "inbound", "supplier", row.qty_open, "close_short",
            f"po:{po_id}:{row.line_no}")))
    uow.execute(sa.update(purchase_orders).where(purchase_orders.c.seq == po.seq)
                .values(status="closed", closed_at=uow.now))
    _settle(uow, infos, befores, "po_closed")
    uow.emit("purchase_order.closed", {"po": po_id, "lines": [
        {"line": r.line_no, "sku": r.sku, "qty_cancelled": r.qty_open} for r in rows]})
    return _po_view(uow, po_id)


@read_only
def get_po(uow: UnitOfWork, po_id: str) -> dict[str, Any]:
    return _po_view(uow, po_id)


# -- helpers -----------------------------------------------------------------------


def _lock(uow: UnitOfWork, infos: dict[str, SkuInfo]) -> dict[str, Balance]:
    rows = uow.lock_stock((sku, DEFAULT_LOCATION) for sku in infos)
    return {sku: Balance.of(row) for (sku, _), row in rows.items()}


def _settle(uow: UnitOfWork, infos: dict[str, SkuInfo], befores: dict[str, Balance], cause: str | None) -> None:
    """Re-promise each SKU (when `cause` is given) and signal thresholds crossed."""
    for sku, info in sorted(infos.items()):
        if cause:
            rematch(uow, info, DEFAULT_LOCATION, cause)
        stock_signals(uow, info, DEFAULT_LOCATION, befores[sku])


def _move_stock(uow: UnitOfWork, sku: str, *, on_hand: int = 0, inbound: int = 0) -> None:
    uow.execute(sa.update(stock).where(stock.c.sku == sku, stock.c.location == DEFAULT_LOCATION)
                .values(on_hand=stock.c.on_hand + on_hand, inbound=stock.c.inbound + inbound))


def _open_po(uow: UnitOfWork, po_id: str) -> Any:
    po = uow.execute(sa.select(purchase_orders).where(purchase_orders.c.id == po_id)).first()
    if po is None:
        raise NotFound(f"unknown purchase order {po_id}")
    if po.status != "open":
        raise InvalidState(f"purchase order {po_id} is {po.status}")
    return po


def _po_line_row(uow: UnitOfWork, po: Any, line_no: Any) -> Any:
    row = None
    if isinstance(line_no, int) and not isinstance(line_no, bool) and 0 < line_no < 2**31:
        row = uow.execute(sa.select(po_lines).where(po_lines.c.po_seq == po.seq,
                                                    po_lines.c.line_no == line_no)).first()
    if row is None:
        raise NotFound(f"purchase order {po.id} has no line {line_no!r:.20}")
    return row


def _po_view(uow: UnitOfWork, po_id: str) -> dict[str, Any]:
    po = uow.execute(sa.select(purchase_orders).where(purchase_orders.c.id == po_id)).first()
    if po is None:
        raise NotFound(f"unknown purchase order {po_id}")
    lines = uow.execute(sa.select(po_lines).where(po_lines.c.po_seq == po.seq)
                        .order_by(po_lines.c.line_no)).all()
    return {"id": po.id, "supplier": po.supplier, "status": po.status,
            "lines": [{"line": r.line_no, "sku": r.sku, "qty": r.qty, "qty_received": r.qty_received,
                       "qty_closed": r.qty_closed, "qty_open": r.qty - r.qty_received - r.qty_closed,
                       "qty_promised": r.qty_pegged, "eta": r.eta.isoformat(),
                       "first_eta": r.first_eta.isoformat()} for r in lines]}
