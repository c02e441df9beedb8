"""Orders: atomic placement under each SKU's policy, cancellation, reading,
and the queue of open backorders.

Placement decides every line before writing anything: the SKUs' stock rows
are locked in SKU order, each line takes supply after all earlier demand
(same SKU twice: one after the other), and if any line is refused the whole
order is, with every refused line listed.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from restock.domain.promising import Refusal, SkuBook, Take
from restock.domain.shipping import ShipPolicy
from restock.errors import InvalidInput, InvalidState, NotFound, OrderRefused
from restock.services import validate as v
from restock.storage.books import (
    INSERT_MOVEMENTS,
    INSERT_PEGS,
    Balance,
    LineMeta,
    NewShipment,
    movement,
    open_book,
    open_shipments,
    pegged_now,
    record_done_lines,
    rematch,
    ship_after,
    ship_if_complete,
    sku_infos,
    sku_stock,
    stock_signals,
    write_books,
)
from restock.storage.tables import (
    DEFAULT_LOCATION,
    movements,
    order_lines,
    orders,
    pegs,
    po_lines,
    promise_changes,
    purchase_orders,
    shipment_lines,
    shipments,
    stock,
)
from restock.storage.uow import UnitOfWork, chunks, read_only, transaction, utc

B = sa.bindparam
PAGE = 100


_INSERT_ORDER = sa.insert(orders).returning(orders.c.seq)
_INSERT_LINES = sa.insert(order_lines).returning(order_lines.c.id, sort_by_parameter_order=True)


@transaction
def place_order(uow: UnitOfWork, id: str, customer: dict[str, Any], lines: list[dict[str, Any]],
                ship_policy: str = "partial") -> dict[str, Any]:
    order_id = v.code(id, "order id")
    if not isinstance(customer, dict):
        raise InvalidInput("customer must be an object with email and name")
    email, name = v.email(customer.get("email")), v.text(customer.get("name"), "customer name")
    try:
        policy = ShipPolicy(ship_policy)
    except ValueError:
        raise InvalidInput("ship_policy must be 'partial' or 'complete'") from None
    wanted = [_order_line(n, line) for n, line in enumerate(v.lines(lines), 1)]
    infos, rows = sku_stock(uow, [sku for sku, _ in wanted], lock=True)
    # A taken order id fails the insert below on its unique key: AlreadyExists, nothing written.
    need: Counter[str] = Counter()
    for sku, qty in wanted:
        need[sku] += qty
    books = {sku: open_book(uow, infos[sku], rows[sku], need[sku]) for sku in infos}
    pegged_before = pegged_now(books.values())
    takes = _decide(books, wanted)
    order = {"id": order_id, "customer_email": email, "customer_name": name, "ship_policy": policy.value,
             "placed_at": uow.now, "status_token": secrets.token_urlsafe(24)}
    seq = uow.execute(_INSERT_ORDER, order).scalar_one()
    line_rows = _write_lines(uow, seq, order_id, wanted, takes)
    write_books(uow, list(books.values()), pegged_before, DEFAULT_LOCATION)
    meta = {r["id"]: LineMeta(seq, order_id, r["line_no"], policy.value, r["promised_date"]) for r in line_rows}
    new = open_shipments(uow, {r["id"]: r["qty_allocated"] for r in line_rows if r["qty_allocated"]}, meta,
                         {r["id"]: ship_after(uow, infos[r["sku"]].policy.release_date) for r in line_rows})
    for sku, book in sorted(books.items()):
        row = rows[sku]
        after = Balance(book.on_hand, book.allocated, book.backordered, row.inbound)
        stock_signals(uow, infos[sku], DEFAULT_LOCATION, Balance.of(row), after)
    return _placed_view(order, line_rows, new)


def _placed_view(order: dict[str, Any], line_rows: list[dict[str, Any]], new: list[NewShipment]) -> dict[str, Any]:
    """The order just placed, as `get_order` would show it, from what was written."""
    line_nos = {r["id"]: r["line_no"] for r in line_rows}
    shipped = [{"id": n.id, "status": "ready", "ship_after": n.ship_after, "shipped_at": None, "tracking": None,
                "lines": sorted(({"line": line_nos[i], "qty": q} for i, q in n.units.items()),
                                key=lambda c: c["line"])} for n in new]
    return _view(SimpleNamespace(**order), [SimpleNamespace(**r) for r in line_rows], {}, shipped)


def _order_line(n: int, line: Any) -> tuple[str, int]:
    if not isinstance(line, dict):
        raise InvalidInput(f"line {n} must be an object with sku and qty")
    return v.code(line.get("sku"), f"line {n} sku"), v.qty(line.get("qty"), f"line {n} qty")


def _decide(books: dict[str, SkuBook], wanted: list[tuple[str, int]]) -> list[Take]:
    """Every line's supply, or OrderRefused naming each line that cannot be met."""
    takes: list[Take] = []
    refused = []
    for n, (sku, qty) in enumerate(wanted, 1):
        decision = books[sku].decide(qty)
        if isinstance(decision, Refusal):
            refused.append({"line": n, "sku": sku, "qty": qty, "reason": decision.reason,
                            "available": decision.available})
        else:
            books[sku].apply(decision)
            takes.append(decision)
    if refused:
        names = ", ".join(f"line {r['line']} ({r['sku']}: {r['reason']}, {r['available']} available)"
                          for r in refused)
        raise OrderRefused(f"order refused: {names}", {"lines": refused})
    return takes


def _write_lines(uow: UnitOfWork, seq: int, order_id: str, wanted: list[tuple[str, int]],
                 takes: list[Take]) -> list[dict[str, Any]]:
    """Insert the order's lines, their pegs and allocations, and the events
    that tell of them; the rows written, with their ids."""
    rows: list[dict[str, Any]] = [{"order_seq": seq, "line_no": n, "sku": sku, "location": DEFAULT_LOCATION, "qty": qty,
             "qty_allocated": t.allocated, "qty_backordered": t.backordered, "qty_shipped": 0,
             "qty_cancelled": 0, "allocated_at_placement": t.allocated,
             "backordered_at_placement": t.backordered, "promised_date": t.promised_date,
             "first_promised_date": t.promised_date, "estimated": t.estimated, "placed_at": uow.now}
            for n, ((sku, qty), t) in enumerate(zip(wanted, takes, strict=True), 1)]
    for row, line_id in zip(rows, uow.execute(_INSERT_LINES, rows).scalars(), strict=True):
        row["id"] = line_id
    uow.executemany(INSERT_PEGS, [{"line_id": r["id"], "po_line_id": po_line_id, "qty": qty}
                                  for r, t in zip(rows, takes, strict=True) for po_line_id, qty in t.pegs.items()])
    uow.executemany(INSERT_MOVEMENTS, [
        movement(uow, r["sku"], DEFAULT_LOCATION, "available", "allocated", r["qty_allocated"], "allocate",
                 f"line:{r['id']}") for r in rows if r["qty_allocated"]])
    uow.emit("order.placed", {"order": order_id, "lines": [
        {"line": r["line_no"], "sku": r["sku"], "qty": r["qty"], "allocated": r["qty_allocated"],
         "backordered": r["qty_backordered"], "promised_date": r["promised_date"].isoformat(),
         "estimated": r["estimated"]} for r in rows]}, order_id=order_id)
    for r in rows:
        if r["qty_backordered"]:
            uow.emit("line.backordered", {"order": order_id, "line": r["line_no"], "sku": r["sku"],
                                          "qty": r["qty_backordered"], "promised_date": r["promised_date"].isoformat(),
                                          "estimated": r["estimated"]}, order_id=order_id, sku=r["sku"])
    return rows


# -- cancellation --------------------------------------------------------------------


@transaction
def cancel_order(uow: UnitOfWork, order_id: str, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Cancel open units: the whole order, or some units of some lines.
    Backordered units go first, then allocated ones not shipped yet; freed
    supply goes to the next backorders in line."""
    order = _order_row(uow, order_id)
    all_lines = {r.line_no: r for r in uow.execute(sa.select(order_lines)
                                                   .where(order_lines.c.order_seq == order.seq))}
    cancel_units(uow, order, all_lines, _cancel_request(all_lines, lines), "shop")
    return _order_view(uow, order_id)


def cancel_units(uow: UnitOfWork, order: Any, all_lines: dict[int, Any], asked: dict[int, int | None],
                 by: str, *, waiting_only: bool = False) -> None:
    """Cancel `asked` units (None: all open, or all waiting when `waiting_only`) of
    the order's lines, then re-run the match so freed supply goes to the next in line.
    `by` (shop, customer, overdue) goes into the events."""
    order_id = order.id
    infos = sku_infos(uow, {all_lines[n].sku for n in asked})
    before = {sku: Balance.of(r) for (sku, _), r in
              uow.lock_stock((sku, DEFAULT_LOCATION) for sku in infos).items()}
    uow.lock_orders([order.seq])
    current = {r.line_no: r for r in uow.execute(sa.select(order_lines)
                                                 .where(order_lines.c.order_seq == order.seq))}
    cancel = {n: (current[n].qty_backordered + (0 if waiting_only else current[n].qty_allocated))
              if qty is None else qty for n, qty in asked.items()}
    short = [{"line": n, "qty": qty, "open": current[n].qty_backordered + current[n].qty_allocated}
             for n, qty in cancel.items() if qty > current[n].qty_backordered + current[n].qty_allocated or not qty]
    if short:
        raise InvalidInput("cannot cancel more than is open: " + ", ".join(
            f"line {x['line']} asks {x['qty']}, {x['open']} open" for x in short), {"lines": short})
    for n, qty in cancel.items():
        _cancel_line(uow, order_id, current[n], qty, by)
    for sku in sorted(infos):
        rematch(uow, infos[sku], DEFAULT_LOCATION, "cancellation")
        stock_signals(uow, infos[sku], DEFAULT_LOCATION, before[sku])
    if order.ship_policy == ShipPolicy.COMPLETE:
        ship_if_complete(uow, {order.seq})


def _cancel_request(all_lines: dict[int, Any], lines: list[dict[str, Any]] | None) -> dict[int, int | None]:
    if lines is None:
        asked_all: dict[int, int | None] = {n: None for n, r in all_lines.items()
                                            if r.qty_backordered + r.qty_allocated}
        if not asked_all:
            raise InvalidState("nothing is left to cancel in this order: every unit shipped or was cancelled")
        return asked_all
    asked: dict[int, int | None] = {}
    for item in v.lines(lines):
        if not isinstance(item, dict):
            raise InvalidInput("each line to cancel must be an object with line and optional qty")
        n = v.qty(item.get("line"), "line", maximum=10_000)
        if n not in all_lines:
            raise NotFound(f"the order has no line {n}")
        if n in asked:
            raise InvalidInput(f"line {n} is named twice")
        asked[n] = None if item.get("qty") is None else v.qty(item.get("qty"), f"line {n} qty")
    if not asked:
        raise InvalidInput("nothing is left to cancel in this order")
    return asked


def _cancel_line(uow: UnitOfWork, order_id: str, row: Any, qty: int, by: str) -> None:
    from_backorder = min(qty, row.qty_backordered)
    from_allocated = qty - from_backorder
    uow.execute(sa.update(order_lines).where(order_lines.c.id == row.id).values(
        qty_backordered=order_lines.c.qty_backordered - from_backorder,
        qty_allocated=order_lines.c.qty_allocated - from_allocated,
        qty_cancelled=order_lines.c.qty_cancelled + qty,
        estimated=row.estimated and row.qty_backordered > from_backorder))
    # The rematch that follows re-pegs what is still waiting.
    uow.execute(sa.delete(pegs).where(pegs.c.line_id == row.id))
    uow.execute(sa.update(stock).where(stock.c.sku == row.sku, stock.c.location == row.location).values(
        backordered=stock.c.backordered - from_backorder, allocated=stock.c.allocated - from_allocated))
    if from_allocated:
        uow.execute(sa.insert(movements).values(movement(
            uow, row.sku, row.location, "allocated", "available", from_allocated, "cancel", f"line:{row.id}")))
        _take_out_of_shipments(uow, row, from_allocated)
    record_done_lines(uow, [row.id])
    uow.emit("backorder.cancelled" if from_backorder else "line.cancelled", {
        "order": order_id, "line": row.line_no, "sku": row.sku, "qty": qty,
        "qty_backordered_cancelled": from_backorder, "qty_allocated_cancelled": from_allocated, "by": by},
        order_id=order_id, sku=row.sku)


def _take_out_of_shipments(uow: UnitOfWork, row: Any, qty: int) -> None:
    """Remove cancelled allocated units from ready shipments, newest first,
    beyond the units of the line not yet in any shipment."""
    in_ready = uow.execute(
        sa.select(shipment_lines.c.shipment_id, shipment_lines.c.qty)
        .join(shipments, shipments.c.id == shipment_lines.c.shipment_id)
        .where(shipment_lines.c.line_id == row.id, shipments.c.status == "ready")
        .order_by(shipments.c.id.desc())).all()
    unassigned = row.qty_allocated - sum(r.qty for r in in_ready)
    excess = qty - max(unassigned, 0)
    for shipment_id, n in in_ready:
        if excess <= 0:
            break
        take = min(n, excess)
        excess -= take
        key = (shipment_lines.c.shipment_id == shipment_id) & (shipment_lines.c.line_id == row.id)
        if take == n:
            uow.execute(sa.delete(shipment_lines).where(key))
        else:
            uow.execute(sa.update(shipment_lines).where(key).values(qty=shipment_lines.c.qty - take))
        if uow.execute(sa.select(shipment_lines.c.line_id)
                       .where(shipment_lines.c.shipment_id == shipment_id)).first() is None:
            uow.execute(sa.update(shipments).where(shipments.c.id == shipment_id).values(status="cancelled"))


# -- reading -----------------------------------------------------------------------


@read_only
def get_order(uow: UnitOfWork, order_id: str) -> dict[str, Any]:
    return _order_view(uow, order_id)


def _order_row(uow: UnitOfWork, order_id: str) -> Any:
    row = uow.execute(sa.select(orders).where(orders.c.id == order_id)).first() \
        if isinstance(order_id, str) else None
    if row is None:
        raise NotFound(f"unknown order {order_id!r:.80}")
    return row


def public_url() -> str:
    return os.environ.get("RESTOCK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def _order_view(uow: UnitOfWork, order_id: str) -> dict[str, Any]:
    order = _order_row(uow, order_id)
    lines = uow.execute(sa.select(order_lines).where(order_lines.c.order_seq == order.seq)
                        .order_by(order_lines.c.line_no)).all()
    changes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in uow.execute(sa.select(promise_changes).where(promise_changes.c.line_id.in_([r.id for r in lines]))
                         .order_by(promise_changes.c.id)):
        changes[c.line_id].append({"at": utc(c.at).isoformat(), "from": c.old_date.isoformat(),
                                   "to": c.new_date.isoformat(), "cause": c.cause})
    return _view(order, lines, changes, shipments_of(uow, order.seq, {r.id: r.line_no for r in lines}))


def _view(order: Any, lines: Sequence[Any], changes: dict[int, list[dict[str, Any]]],
          shipments_: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": order.id, "status": order_status(lines), "placed_at": utc(order.placed_at).isoformat(),
        "customer": {"email": order.customer_email, "name": order.customer_name},
        "ship_policy": order.ship_policy, "status_url": f"{public_url()}/status/{order.status_token}",
        "lines": [_line_view(r, changes.get(r.id, [])) for r in lines],
        "shipments": [{**sh, "ship_after": sh["ship_after"].isoformat()} for sh in shipments_],
    }


def order_status(lines: Sequence[Any]) -> str:
    if all(r.qty_cancelled == r.qty for r in lines):
        return "cancelled"
    if all(r.qty_allocated + r.qty_backordered == 0 for r in lines):
        return "shipped"
    if any(r.qty_backordered for r in lines):
        return "partially_shipped" if any(r.qty_shipped for r in lines) else "backordered"
    return "partially_shipped" if any(r.qty_shipped for r in lines) else "allocated"


def _line_view(r: Any, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"line": r.line_no, "sku": r.sku, "qty": r.qty, "allocated": r.qty_allocated,
            "backordered": r.qty_backordered, "shipped": r.qty_shipped, "cancelled": r.qty_cancelled,
            "promised_date": r.promised_date.isoformat(), "first_promised_date": r.first_promised_date.isoformat(),
            "estimated": r.estimated, "promise_changes": changes}


def shipments_of(uow: UnitOfWork, seq: int, line_nos: dict[int, int]) -> list[dict[str, Any]]:
    rows = uow.execute(sa.select(shipments).where(shipments.c.order_seq == seq).order_by(shipments.c.id)).all()
    contents: dict[int, list[dict[str, int]]] = defaultdict(list)
    for sl in uow.execute(sa.select(shipment_lines)
                          .where(shipment_lines.c.shipment_id.in_([s.id for s in rows]))):
        contents[sl.shipment_id].append({"line": line_nos[sl.line_id], "qty": sl.qty})
    return [{"id": s.id, "status": s.status, "ship_after": s.ship_after,
             "shipped_at": utc(s.shipped_at).isoformat() if s.shipped_at else None, "tracking": s.tracking,
             "lines": sorted(contents[s.id], key=lambda c: c["line"])} for s in rows]


@read_only
def list_backorders(uow: UnitOfWork, sku: str | None = None, cursor: str | None = None,
                    limit: int = PAGE) -> dict[str, Any]:
    """Open backordered lines in priority order (promised date, placed time, line id)."""
    limit = min(max(limit, 1), 1000)
    query = (sa.select(order_lines, orders.c.id.label("order_id"))
             .join(orders, orders.c.seq == order_lines.c.order_seq)
             .where(order_lines.c.qty_backordered > 0)
             .order_by(order_lines.c.promised_date, order_lines.c.placed_at, order_lines.c.id)
             .limit(limit + 1))
    if sku:
        query = query.where(order_lines.c.sku == sku)
    if cursor:
        promised, placed, line_id = _decode_cursor(cursor)
        key = sa.tuple_(order_lines.c.promised_date, order_lines.c.placed_at, order_lines.c.id)
        query = query.where(key > sa.tuple_(sa.literal(promised), sa.literal(placed), sa.literal(line_id)))
    rows = uow.execute(query).all()
    page = rows[:limit]
    pegged: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks([r.id for r in page]):
        for p in uow.execute(sa.select(pegs.c.line_id, pegs.c.qty, po_lines.c.line_no, purchase_orders.c.id,
                                       po_lines.c.eta)
                             .join(po_lines, po_lines.c.id == pegs.c.po_line_id)
                             .join(purchase_orders, purchase_orders.c.seq == po_lines.c.po_seq)
                             .where(pegs.c.line_id.in_(chunk))
                             .order_by(po_lines.c.eta, purchase_orders.c.seq, po_lines.c.line_no)):
            pegged[p.line_id].append({"po": p.id, "line": p.line_no, "qty": p.qty, "eta": p.eta.isoformat()})
    last = page[-1] if len(rows) > limit else None
    return {
        "backorders": [{"order": r.order_id, "line": r.line_no, "sku": r.sku, "qty": r.qty_backordered,
                        "promised_date": r.promised_date.isoformat(),
                        "placed_at": utc(r.placed_at).isoformat(), "estimated": r.estimated,
                        "pegged_to": pegged[r.id]} for r in page],
        "next": f"{last.promised_date.isoformat()}|{last.placed_at.isoformat()}|{last.id}" if last else None,
    }


def _decode_cursor(cursor: str) -> tuple[date, datetime, int]:
    try:
        promised, placed, line_id = cursor.split("|")
        return date.fromisoformat(promised), datetime.fromisoformat(placed), int(line_id)
    except ValueError:
        raise InvalidInput("cursor is not one this list gave") from None
