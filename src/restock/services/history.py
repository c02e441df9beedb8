"""Past demand imported from files, for planning."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from restock.planning.history import History
from restock.services import validate as v
from restock.storage.tables import demand_history
from restock.storage.uow import UnitOfWork, transaction

_INSERT = sa.insert(demand_history)


@transaction
def store_history(uow: UnitOfWork, source: str, history: History) -> dict[str, Any]:
    """Replace the demand history of `source` with what was read, in one transaction."""
    source = v.text(source, "source", maximum=200)
    uow.execute(sa.delete(demand_history).where(demand_history.c.source == source))
    uow.executemany(_INSERT, [
        {"source": source, "sku": sku, "day": day, "qty": qty, "orders": len(history.orders.get((sku, day), ()))}
        for (sku, day), qty in sorted(history.daily.items())])
    days = {day for _, day in history.daily}
    return {"source": source, "rows_read": history.rows, "sku_days": len(history.daily),
            "skus": len({sku for sku, _ in history.daily}), "units": sum(history.daily.values()),
            "first_day": min(days).isoformat() if days else None, "last_day": max(days).isoformat() if days else None,
            "skipped": dict(history.skipped), "bad_lines": history.bad_lines}
