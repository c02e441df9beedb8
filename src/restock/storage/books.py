"""SKU books in the database: load a SKU's supply and demand into a domain
`SkuBook`, and write back what the domain decided (pegs, allocations, dates,
ledger movements, events, shipments).

Every function here runs inside a unit of work that already holds the lock
on the SKU's stock row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from restock.domain.policy import BackorderPolicy, Mode
from restock.domain.promising import Inbound, LineChange, SkuBook, WaitingLine
from restock.domain.shipping import LineToShip, ShipPolicy, units_to_ship
from restock.errors import NotFound
from restock.storage.tables import (
    DEFAULT_LOCATION,
    locations,
    movements,
    order_lines,
    orders,
    pegs,
    po_lines,
    promise_changes,
    purchase_orders,
    shipment_lines,
    shipments,
    skus,
    stock,
    supplier_items,
)
from restock.storage.uow import UnitOfWork, chunks

B = sa.bindparam


@dataclass(frozen=True, slots=True)
class SkuInfo:
    code: str
    policy: BackorderPolicy
    lead_time_days: int | None
    reorder_point: int | None
    handling_days: int


@dataclass(frozen=True, slots=True)
class Balance:
    """A stock row's figures."""

    on_hand: int
    allocated: int
    backordered: int
    inbound: int

    @classmethod
    def of(cls, row: Any) -> Balance:
        return cls(row.on_hand, row.allocated, row.backordered, row.inbound)

    @property
    def free(self) -> int:
        return self.on_hand - self.allocated

    @property
    def position(self) -> int:
        """Inventory position: what is here or coming, less what is owed."""
        return self.on_hand + self.inbound - self.allocated - self.backordered


@dataclass(frozen=True, slots=True)
class LineMeta:
    order_seq: int
    order_id: str
    line_no: int
    ship_policy: str
    first_promised_date: date


def policy_of(row: Any) -> BackorderPolicy:
    return BackorderPolicy(Mode(row.mode), row.cap, row.max_wait_days, row.release_date)


_PRIMARY = (sa.select(supplier_items.c.sku, supplier_items.c.lead_time_days)
            .where(supplier_items.c.rank == 0).subquery())
_SKU_INFOS = (
    sa.select(skus.c.code, skus.c.mode, skus.c.cap, skus.c.max_wait_days, skus.c.release_date,
              skus.c.reorder_point, _PRIMARY.c.lead_time_days,
              sa.select(locations.c.handling_days).where(locations.c.code == DEFAULT_LOCATION)
              .scalar_subquery().label("handling_days"))
    .outerjoin(_PRIMARY, _PRIMARY.c.sku == skus.c.code)
    .where(skus.c.code.in_(B("codes", expanding=True)))
)
_HANDLING = sa.select(locations.c.handling_days).where(locations.c.code == B("location"))


_SKU_STOCK = (
    _SKU_INFOS.add_columns(stock.c.sku, stock.c.location, stock.c.on_hand, stock.c.allocated, stock.c.backordered,
                           stock.c.inbound)
    # Naming the stock keys too lets PostgreSQL use the stock primary key whatever its statistics say.
    .join(stock, (stock.c.sku == skus.c.code) & (stock.c.location == B("location"))
          & stock.c.sku.in_(B("stock_codes", expanding=True)))
    .order_by(skus.c.code)
)
_SKU_STOCK_LOCKED = _SKU_STOCK.with_for_update(of=stock)


def sku_infos(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, SkuInfo]:
    wanted = sorted(set(codes))
    return _infos(wanted, uow.execute(_SKU_INFOS, {"codes": wanted}).all())


def sku_stock(uow: UnitOfWork, codes: Iterable[str], location: str = DEFAULT_LOCATION, *,
              lock: bool) -> tuple[dict[str, SkuInfo], dict[str, Any]]:
    """The SKUs' policies and their stock rows at `location`, in one query;
    with `lock`, the stock rows are locked in SKU order (see UnitOfWork.lock_stock)."""
    wanted = sorted(set(codes))
    query = _SKU_STOCK_LOCKED if lock and not uow.sqlite else _SKU_STOCK
    rows = uow.execute(query, {"codes": wanted, "stock_codes": wanted, "location": location}).all()
    return _infos(wanted, rows), {row.code: row for row in rows}


def _infos(wanted: list[str], rows: Sequence[Any]) -> dict[str, SkuInfo]:
    found = {row.code: SkuInfo(row.code, policy_of(row), row.lead_time_days, row.reorder_point, row.handling_days)
             for row in rows}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise NotFound(f"unknown SKU {', '.join(missing)}", {"skus": missing})
    return found


def handling_days(uow: UnitOfWork, location: str = DEFAULT_LOCATION) -> int:
    days = uow.execute(_HANDLING, {"location": location}).scalar_one_or_none()
    if days is None:
        raise NotFound(f"unknown location {location}")
    return int(days)


_qty_open = po_lines.c.qty - po_lines.c.qty_received - po_lines.c.qty_closed
_INBOUND = (sa.select(po_lines.c.id, purchase_orders.c.id.label("po_id"), po_lines.c.line_no, po_lines.c.po_seq,
                      po_lines.c.eta, _qty_open.label("qty_open"), po_lines.c.qty_pegged)
            .join(purchase_orders, purchase_orders.c.seq == po_lines.c.po_seq)
            .where(po_lines.c.sku == B("sku"), po_lines.c.location == B("location")))
_OPEN_INBOUND = _INBOUND.where(_qty_open > 0)
_UNPEGGED_INBOUND = _INBOUND.where(_qty_open > po_lines.c.qty_pegged)
_LATEST_ETA = sa.select(sa.func.max(po_lines.c.eta)).where(
    po_lines.c.sku == B("sku"), po_lines.c.location == B("location"), _qty_open > 0)


def _inbound(uow: UnitOfWork, sku: str, location: str, *, unpegged_only: bool) -> list[Inbound]:
    rows = uow.execute(_UNPEGGED_INBOUND if unpegged_only else _OPEN_INBOUND, {"sku": sku, "location": location})
    return [Inbound(r.id, r.po_id, r.line_no, r.po_seq, r.eta, r.qty_open, r.qty_pegged) for r in rows]


def open_book(uow: UnitOfWork, info: SkuInfo, row: Any, need: int | None = None) -> SkuBook:
    """The part of the book that placement and quotes use: stock and the
    supply not yet pegged. When free stock covers the `need` of a placement,
    no policy limit can bind and inbound supply is not even read."""
    inbound: list[Inbound] = []
    latest = None
    if need is None or row.on_hand - row.allocated < need:
        inbound = _inbound(uow, info.code, row.location, unpegged_only=True)
        if not inbound:
            # Pegged supply is a prefix in ETA order, so the latest open ETA is
            # the last unpegged line's; only when all is pegged must it be asked for.
            latest = uow.execute(_LATEST_ETA, {"sku": info.code, "location": row.location}).scalar()
    return SkuBook(info.code, info.policy, uow.today, info.handling_days, info.lead_time_days,
                   row.on_hand, row.allocated, row.backordered, inbound, latest_eta=latest)


def full_book(uow: UnitOfWork, info: SkuInfo, row: Any) -> tuple[SkuBook, dict[int, LineMeta]]:
    """The whole book, with every waiting line and its pegs, for a rematch."""
    inbound = _inbound(uow, info.code, row.location, unpegged_only=False)
    book = SkuBook(info.code, info.policy, uow.today, info.handling_days, info.lead_time_days,
                   row.on_hand, row.allocated, row.backordered, inbound)
    meta: dict[int, LineMeta] = {}
    if not row.backordered:
        return book, meta
    query = (sa.select(order_lines.c.id, order_lines.c.qty_backordered, order_lines.c.promised_date,
                       order_lines.c.placed_at, order_lines.c.estimated, order_lines.c.line_no,
                       order_lines.c.first_promised_date,
                       orders.c.seq, orders.c.id.label("order_id"), orders.c.ship_policy)
             .join(orders, orders.c.seq == order_lines.c.order_seq)
             .where(order_lines.c.sku == info.code, order_lines.c.location == row.location,
                    order_lines.c.qty_backordered > 0))
    waiting = {}
    for r in uow.execute(query):
        waiting[r.id] = WaitingLine(r.id, r.order_id, r.qty_backordered, r.promised_date, r.placed_at,
                                    estimated=r.estimated)
        meta[r.id] = LineMeta(r.seq, r.order_id, r.line_no, r.ship_policy, r.first_promised_date)
    peg_rows = uow.execute(sa.select(pegs.c.line_id, pegs.c.po_line_id, pegs.c.qty)
                           .join(po_lines, po_lines.c.id == pegs.c.po_line_id)
                           .where(po_lines.c.sku == info.code, po_lines.c.location == row.location))
    for line_id, po_line_id, qty in peg_rows:
        waiting[line_id].pegs[po_line_id] = qty
    book.waiting = list(waiting.values())
    return book, meta


# -- writing back ------------------------------------------------------------------


def rematch(uow: UnitOfWork, info: SkuInfo, location: str, cause: str) -> list[LineChange]:
    """Re-run the match of a SKU after a change of its supply or demand and
    write the outcome. The caller has locked and already updated the stock row."""
    row = uow.execute(sa.select(stock).where(stock.c.sku == info.code,
                                             stock.c.location == location)).one()
    if not row.backordered:
        # Nothing waits: no PO line may stay pegged (the last waiting line may just have left).
        uow.execute(sa.update(po_lines).where(po_lines.c.sku == info.code, po_lines.c.location == location,
                                              po_lines.c.qty_pegged != 0).values(qty_pegged=0))
        return []
    book, meta = full_book(uow, info, row)
    pegged_before = pegged_now([book])
    changes = [c for c in book.rematch() if c.repegged]
    _write_lines(uow, info.code, location, changes, book.waiting, meta, cause)
    write_books(uow, [book], pegged_before, location)
    new_units = {c.line.line_id: c.take.allocated for c in changes if c.take.allocated}
    after = ship_after(uow, info.policy.release_date)
    open_shipments(uow, new_units, meta, dict.fromkeys(new_units, after))
    return changes


_REPROMISE_LINE = sa.update(order_lines).where(order_lines.c.id == B("b_id")).values(
    qty_allocated=order_lines.c.qty_allocated + B("b_alloc"), qty_backordered=B("b_back"),
    promised_date=B("b_date"), estimated=B("b_est"))
INSERT_MOVEMENTS = sa.insert(movements)
INSERT_PEGS = sa.insert(pegs)
_INSERT_PROMISE_CHANGES = sa.insert(promise_changes)
_INSERT_SHIPMENT_LINES = sa.insert(shipment_lines)


def _write_lines(uow: UnitOfWork, sku: str, location: str, changes: list[LineChange], waiting: list[WaitingLine],
                 meta: dict[int, LineMeta], cause: str) -> None:
    if not changes:
        return
    uow.executemany(_REPROMISE_LINE, [
        {"b_id": c.line.line_id, "b_alloc": c.take.allocated, "b_back": c.take.backordered,
         "b_date": c.new_date, "b_est": c.take.estimated} for c in changes])
    _write_pegs(uow, sku, location, [c for c in changes if c.take.pegs != c.line.pegs], waiting)
    uow.executemany(INSERT_MOVEMENTS, [
        movement(uow, sku, location, "available", "allocated", c.take.allocated, "allocate",
                 f"line:{c.line.line_id}") for c in changes if c.take.allocated])
    uow.executemany(_INSERT_PROMISE_CHANGES, [
        {"line_id": c.line.line_id, "at": uow.now, "old_date": c.old_date, "new_date": c.new_date, "cause": cause}
        for c in changes if c.moved])
    for change in changes:
        _emit_line_change(uow, sku, change, meta[change.line.line_id], cause)


_PEGS_OF_SKU = sa.delete(pegs).where(pegs.c.po_line_id.in_(
    sa.select(po_lines.c.id).where(po_lines.c.sku == B("sku"), po_lines.c.location == B("location"))))
_UNPEG_LINE = sa.delete(pegs).where(pegs.c.line_id == B("b_id"))


def _write_pegs(uow: UnitOfWork, sku: str, location: str, repegged: list[LineChange],
                waiting: list[WaitingLine]) -> None:
    """Rewrite the pegs of re-pegged lines; when most lines moved, replace the
    SKU's whole peg set in one delete (a receipt that fills the queue leaves
    nothing to insert)."""
    if len(repegged) > len(waiting) // 2:
        uow.execute(_PEGS_OF_SKU, {"sku": sku, "location": location})
        lines = [(w.line_id, w.pegs) for w in waiting]
    else:
        uow.executemany(_UNPEG_LINE, [{"b_id": c.line.line_id} for c in repegged if c.line.pegs])
        lines = [(c.line.line_id, c.take.pegs) for c in repegged]
    uow.executemany(INSERT_PEGS, [{"line_id": line_id, "po_line_id": po_line_id, "qty": n}
                                  for line_id, line_pegs in lines for po_line_id, n in line_pegs.items()])


def _emit_line_change(uow: UnitOfWork, sku: str, change: LineChange, meta: LineMeta, cause: str) -> None:
    base = {"order": meta.order_id, "line": meta.line_no, "sku": sku}
    if change.take.allocated:
        uow.emit("line.allocated", {**base, "qty": change.take.allocated,
                                    "qty_backordered": change.take.backordered,
                                    "promised_date": change.new_date.isoformat()},
                 order_id=meta.order_id, sku=sku)
    if change.moved:
        kind = "promise.delayed" if change.new_date > change.old_date else "promise.advanced"
        uow.emit(kind, {**base, "old_date": change.old_date.isoformat(),
                        "new_date": change.new_date.isoformat(),
                        "first_promised_date": meta.first_promised_date.isoformat(),
                        "estimated": change.take.estimated, "cause": cause},
                 order_id=meta.order_id, sku=sku)


def movement(uow: UnitOfWork, sku: str, location: str, source: str, dest: str, qty: int, reason: str,
             ref: str | None) -> dict[str, Any]:
    return {"at": uow.now, "sku": sku, "location": location, "source": source, "dest": dest,
            "qty": qty, "reason": reason, "ref": ref}


_SET_PEGGED = sa.update(po_lines).where(po_lines.c.id == B("b_id")).values(qty_pegged=B("b_pegged"))
_SET_STOCK_DEMAND = (sa.update(stock).where(stock.c.sku == B("b_sku"), stock.c.location == B("b_location"))
                     .values(allocated=B("b_allocated"), backordered=B("b_backordered")))


def pegged_now(books: Iterable[SkuBook]) -> dict[int, int]:
    return {s.po_line_id: s.qty_pegged for book in books for s in book.inbound}


def write_books(uow: UnitOfWork, books: list[SkuBook], pegged_before: dict[int, int], location: str) -> None:
    """Store what the books changed: PO lines' pegged quantities, and each
    SKU's allocated and backordered units."""
    uow.executemany(_SET_PEGGED, [{"b_id": i, "b_pegged": n}
                                  for i, n in pegged_now(books).items() if n != pegged_before[i]])
    uow.executemany(_SET_STOCK_DEMAND, [{"b_sku": b.sku, "b_location": location, "b_allocated": b.allocated,
                                         "b_backordered": b.backordered} for b in books])


# -- shipments ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewShipment:
    id: int
    order_seq: int
    units: dict[int, int]
    ship_after: date


def open_shipments(uow: UnitOfWork, new_units: dict[int, int], meta: dict[int, LineMeta],
                   ship_after: dict[int, date]) -> list[NewShipment]:
    """Put newly allocated units into shipments, as each order's ship policy
    says: a partial order ships them now (or from the release date of a
    preorder), a complete order once every unit of every line is allocated."""
    partial: dict[tuple[int, date], dict[int, int]] = defaultdict(dict)
    complete: set[int] = set()
    for line_id, qty in new_units.items():
        m = meta[line_id]
        if m.ship_policy == ShipPolicy.COMPLETE:
            complete.add(m.order_seq)
        else:
            partial[(m.order_seq, ship_after[line_id])][line_id] = qty
    batches = [(seq, units, after) for (seq, after), units in partial.items()]
    return _insert_shipments(uow, batches + _complete_orders_ready(uow, complete))


def ship_if_complete(uow: UnitOfWork, seqs: set[int]) -> None:
    """Open a shipment for each complete-policy order that is now all allocated."""
    _insert_shipments(uow, _complete_orders_ready(uow, seqs))


def ship_after(uow: UnitOfWork, release_date: date | None) -> date:
    return max(uow.today, release_date) if release_date else uow.today


def _complete_orders_ready(uow: UnitOfWork, seqs: set[int]) -> list[tuple[int, dict[int, int], date]]:
    """Complete-policy orders whose every open unit is now allocated."""
    if not seqs:
        return []
    uow.lock_orders(seqs)
    in_ready = (sa.select(shipment_lines.c.line_id, sa.func.sum(shipment_lines.c.qty).label("qty"))
                .join(shipments, shipments.c.id == shipment_lines.c.shipment_id)
                .where(shipments.c.status == "ready").group_by(shipment_lines.c.line_id).subquery())
    lines: dict[int, list[LineToShip]] = defaultdict(list)
    after: dict[int, date] = {}
    for chunk in chunks(sorted(seqs)):
        query = (sa.select(order_lines.c.id, order_lines.c.order_seq, order_lines.c.qty_allocated,
                           order_lines.c.qty_backordered, sa.func.coalesce(in_ready.c.qty, 0).label("in_ready"),
                           skus.c.release_date)
                 .join(skus, skus.c.code == order_lines.c.sku)
                 .outerjoin(in_ready, in_ready.c.line_id == order_lines.c.id)
                 .where(order_lines.c.order_seq.in_(chunk)))
        for r in uow.execute(query):
            lines[r.order_seq].append(LineToShip(r.id, r.qty_allocated, r.qty_backordered, r.in_ready))
            after[r.order_seq] = max(after.get(r.order_seq, uow.today), r.release_date or uow.today)
    batches = []
    for seq, order in lines.items():
        units = units_to_ship(ShipPolicy.COMPLETE, order)
        if units:
            batches.append((seq, units, after[seq]))
    return batches


_INSERT_SHIPMENTS = sa.insert(shipments).returning(shipments.c.id, sort_by_parameter_order=True)


def _insert_shipments(uow: UnitOfWork, batches: list[tuple[int, dict[int, int], date]]) -> list[NewShipment]:
    if not batches:
        return []
    ids = uow.execute(_INSERT_SHIPMENTS, [{"order_seq": seq, "status": "ready", "ship_after": after,
                                           "created_at": uow.now} for seq, _, after in batches]).scalars().all()
    uow.executemany(_INSERT_SHIPMENT_LINES, [
        {"shipment_id": shipment_id, "line_id": line_id, "qty": qty}
        for shipment_id, (_, units, _) in zip(ids, batches, strict=True) for line_id, qty in units.items()])
    return [NewShipment(i, seq, units, after) for i, (seq, units, after) in zip(ids, batches, strict=True)]


def record_done_lines(uow: UnitOfWork, line_ids: list[int]) -> None:
    """A line whose last open unit has left (or been cancelled) records the day."""
    uow.execute(sa.update(order_lines).where(
        order_lines.c.id.in_(line_ids), order_lines.c.qty_shipped > 0, order_lines.c.shipped_on.is_(None),
        order_lines.c.qty_shipped + order_lines.c.qty_cancelled == order_lines.c.qty,
    ).values(shipped_on=uow.today))


# -- signals -----------------------------------------------------------------------


def stock_signals(uow: UnitOfWork, info: SkuInfo, location: str, before: Balance,
                  after: Balance | None = None) -> None:
    """Events for thresholds the SKU just crossed: back in stock, below reorder
    point. `after` defaults to the stock row as it now stands."""
    if after is None:
        after = Balance.of(uow.execute(sa.select(stock).where(stock.c.sku == info.code,
                                                              stock.c.location == location)).one())
    if before.free <= 0 < after.free:
        uow.emit("sku.back_in_stock", {"sku": info.code, "location": location, "available": after.free},
                 sku=info.code)
    rop = info.reorder_point
    if rop is not None and before.position >= rop > after.position:
        uow.emit("stock.below_reorder_point", {"sku": info.code, "location": location,
                                               "inventory_position": after.position, "reorder_point": rop},
                 sku=info.code)
