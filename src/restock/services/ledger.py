"""The stock ledger's audit: replay every movement and compare with the
balances kept for speed (stock rows, PO lines, order lines, pegs, shipments).

`check_ledger` reports each disagreement; `rebuild_balances` rewrites the
stock rows from the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from restock.storage.tables import (
    counters,
    events,
    movements,
    order_lines,
    pegs,
    po_lines,
    shipment_lines,
    shipments,
    stock,
)
from restock.storage.uow import UnitOfWork, read_only, transaction

# Buckets a stock row keeps; the others (supplier, adjustment, shipped to the
# customer) are the world outside.
KEPT = ("inbound", "available", "allocated", "shipped")


def replay(uow: UnitOfWork) -> dict[tuple[str, str], dict[str, int]]:
    """Each (sku, location)'s balance per bucket, from the movements alone."""
    balances: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KEPT, 0))
    m = movements.c
    for column, sign in ((m.dest, 1), (m.source, -1)):
        for sku, location, bucket, qty in uow.execute(
                sa.select(m.sku, m.location, column, sa.func.sum(m.qty)).group_by(m.sku, m.location, column)):
            if bucket in KEPT:
                balances[(sku, location)][bucket] += sign * int(qty)
    return balances


@read_only
def check_ledger(uow: UnitOfWork) -> dict[str, Any]:
    problems: list[dict[str, Any]] = []

    def expect(check: str, key: Any, expected: Any, found: Any) -> None:
        if expected != found:
            problems.append({"check": check, "key": str(key), "expected": expected, "found": found})

    ledger = replay(uow)
    rows = uow.execute(sa.select(stock)).all()
    for row in rows:
        key = (row.sku, row.location)
        b = ledger.get(key, dict.fromkeys(KEPT, 0))
        expect("on_hand = ledger available + allocated", key, b["available"] + b["allocated"], row.on_hand)
        expect("allocated = ledger allocated", key, b["allocated"], row.allocated)
        expect("inbound = ledger inbound", key, b["inbound"], row.inbound)
        expect("shipped = ledger shipped", key, b["shipped"], row.shipped)
        for bucket, qty in b.items():
            if qty < 0:
                problems.append({"check": f"ledger {bucket} not negative", "key": str(key), "expected": ">= 0",
                                 "found": qty})
    _check_sums(uow, rows, expect)
    _check_pegs(uow, expect)
    _check_shipments(uow, expect)
    last_event = uow.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()
    counter = uow.execute(sa.select(counters.c.value).where(counters.c.name == "events")).scalar_one()
    expect("event counter = last event id", "events", counter, last_event)
    return {"ok": not problems, "skus": len(rows), "movements": _count(uow, movements),
            "problems": problems}


def _count(uow: UnitOfWork, table: sa.Table) -> int:
    return int(uow.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _check_sums(uow: UnitOfWork, rows: Sequence[Any], expect: Any) -> None:
    ol, pl = order_lines.c, po_lines.c
    by_line = {(r.sku, r.location): r for r in uow.execute(sa.select(
        ol.sku, ol.location, sa.func.sum(ol.qty_allocated).label("allocated"),
        sa.func.sum(ol.qty_backordered).label("backordered"), sa.func.sum(ol.qty_shipped).label("shipped"),
    ).group_by(ol.sku, ol.location))}
    by_po = {(r.sku, r.location): int(r.open) for r in uow.execute(sa.select(
        pl.sku, pl.location, sa.func.sum(pl.qty - pl.qty_received - pl.qty_closed).label("open"),
    ).group_by(pl.sku, pl.location))}
    for row in rows:
        key = (row.sku, row.location)
        lines = by_line.get(key)
        expect("allocated = sum of lines' allocated", key, int(lines.allocated) if lines else 0, row.allocated)
        expect("backordered = sum of lines' backordered", key, int(lines.backordered) if lines else 0,
               row.backordered)
        expect("shipped = sum of lines' shipped", key, int(lines.shipped) if lines else 0, row.shipped)
        expect("inbound = sum of open PO quantities", key, by_po.get(key, 0), row.inbound)


def _check_pegs(uow: UnitOfWork, expect: Any) -> None:
    pegged = dict(uow.execute(sa.select(pegs.c.po_line_id, sa.func.sum(pegs.c.qty)).group_by(pegs.c.po_line_id))
                  .all())
    for po_line_id, qty_pegged in uow.execute(sa.select(po_lines.c.id, po_lines.c.qty_pegged)):
        expect("PO line pegged = sum of its pegs", f"po_line:{po_line_id}", qty_pegged,
               int(pegged.get(po_line_id, 0)))
    per_line = dict(uow.execute(sa.select(pegs.c.line_id, sa.func.sum(pegs.c.qty)).group_by(pegs.c.line_id))
                    .all())
    for line_id, backordered, estimated in uow.execute(
            sa.select(order_lines.c.id, order_lines.c.qty_backordered, order_lines.c.estimated)):
        got = int(per_line.get(line_id, 0))
        if got > backordered:
            expect("line pegs <= line backordered", f"line:{line_id}", f"<= {backordered}", got)
        expect("estimated = some units beyond inbound", f"line:{line_id}", backordered > got, estimated)


def _check_shipments(uow: UnitOfWork, expect: Any) -> None:
    sl, s = shipment_lines.c, shipments.c
    for status, column in (("ready", order_lines.c.qty_allocated), ("shipped", order_lines.c.qty_shipped)):
        totals = dict(uow.execute(sa.select(sl.line_id, sa.func.sum(sl.qty)).join(shipments, s.id == sl.shipment_id)
                                  .where(s.status == status).group_by(sl.line_id)).all())
        for line_id, qty in uow.execute(sa.select(order_lines.c.id, column)):
            in_shipments = int(totals.get(line_id, 0))
            if status == "ready" and in_shipments > qty:
                expect("ready shipments hold no more than allocated", f"line:{line_id}", f"<= {qty}",
                       in_shipments)
            if status == "shipped":
                expect("shipped = units in shipped shipments", f"line:{line_id}", qty, in_shipments)


@transaction
def rebuild_balances(uow: UnitOfWork) -> int:
    """Rewrite every stock row's on_hand, allocated, inbound and shipped from
    the ledger; the number of rows that changed."""
    ledger = replay(uow)
    fixed = 0
    for row in uow.execute(sa.select(stock)).all():
        b = ledger.get((row.sku, row.location), dict.fromkeys(KEPT, 0))
        wanted = {"on_hand": b["available"] + b["allocated"], "allocated": b["allocated"],
                  "inbound": b["inbound"], "shipped": b["shipped"]}
        if any(getattr(row, k) != n for k, n in wanted.items()):
            uow.execute(sa.update(stock).where(stock.c.sku == row.sku, stock.c.location == row.location)
                        .values(wanted))
            fixed += 1
    return fixed
