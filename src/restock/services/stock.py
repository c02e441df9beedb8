"""Stock counts: adjustments in and out of on-hand stock."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput, NotFound, StockShortfall
from restock.services import validate as v
from restock.storage.books import Balance, movement, rematch, sku_infos, stock_signals
from restock.storage.tables import DEFAULT_LOCATION, movements, stock
from restock.storage.uow import UnitOfWork, transaction


@transaction
def adjust_stock(uow: UnitOfWork, sku: str, delta: int, reason: str,
                 location: str | None = None) -> dict[str, Any]:
    """Count stock in (`delta` > 0: waiting backorders are filled first) or out
    (never below what is allocated)."""
    location = location or DEFAULT_LOCATION
    if location != DEFAULT_LOCATION:
        raise InvalidInput(f"restock promises from one location, '{DEFAULT_LOCATION}', for now")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > v.MAX_QTY:
        raise InvalidInput(f"delta must be a non-zero whole number within ±{v.MAX_QTY} (got {delta!r:.40})")
    reason = v.text(reason, "reason", maximum=32)
    info = sku_infos(uow, [v.code(sku, "sku")])[sku]
    rows = uow.lock_stock([(sku, location)])
    if not rows:
        raise NotFound(f"no stock of {sku} at {location}")
    before = Balance.of(rows[(sku, location)])
    if before.on_hand + delta < before.allocated:
        raise StockShortfall(
            f"cannot take {-delta} of {sku} out: {before.on_hand} on hand, {before.allocated} allocated",
            {"on_hand": before.on_hand, "allocated": before.allocated, "available": before.free})
    uow.execute(sa.update(stock).where(stock.c.sku == sku, stock.c.location == location)
                .values(on_hand=stock.c.on_hand + delta))
    source, dest = ("adjustment", "available") if delta > 0 else ("available", "adjustment")
    uow.execute(sa.insert(movements).values(
        movement(uow, sku, location, source, dest, abs(delta), "adjust", reason)))
    if delta > 0:
        rematch(uow, info, location, "stock_adjusted")
    stock_signals(uow, info, location, before)
    row = uow.execute(sa.select(stock).where(stock.c.sku == sku, stock.c.location == location)).one()
    return {"sku": sku, "location": location, "delta": delta, "reason": reason,
            "on_hand": row.on_hand, "allocated": row.allocated, "available": row.on_hand - row.allocated,
            "backordered": row.backordered}
