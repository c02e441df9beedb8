"""Availability quotes for the storefront: read only, nothing locked."""

from __future__ import annotations

from typing import Any

from restock.domain.quotes import Quote
from restock.domain.quotes import quote as quote_book
from restock.errors import InvalidInput
from restock.services import validate as v
from restock.storage.books import open_book, sku_stock
from restock.storage.uow import UnitOfWork, read_only


@read_only
def quote(uow: UnitOfWork, sku: str, qty: int = 1) -> dict[str, Any]:
    return _view(_quote(uow, sku, qty))


@read_only
def quote_many(uow: UnitOfWork, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer per line, each as if it were the only one."""
    answers = []
    for n, line in enumerate(v.lines(lines), 1):
        if not isinstance(line, dict):
            raise InvalidInput(f"line {n} must be an object with sku and qty")
        answers.append(_view(_quote(uow, line.get("sku"), line.get("qty"))))
    return answers


def _quote(uow: UnitOfWork, sku: Any, qty: Any) -> Quote:
    sku, qty = v.code(sku, "sku"), v.qty(qty)
    infos, rows = sku_stock(uow, [sku], lock=False)
    return quote_book(open_book(uow, infos[sku], rows[sku]), qty)


def _view(q: Quote) -> dict[str, Any]:
    return {"sku": q.sku, "qty": q.qty, "status": q.status.value, "ship_now": q.ship_now,
            "backorder_qty": q.backorder_qty, "ship_date": q.ship_date.isoformat() if q.ship_date else None,
            "estimated": q.estimated, "available": q.available, "message": q.message}
