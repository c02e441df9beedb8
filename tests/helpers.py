"""A small vocabulary for tests: days relative to today, and short calls."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from restock import services as s
from restock.shop import Shop
from restock.storage.tables import metadata

CUSTOMER = {"email": "ada@example.com", "name": "Ada"}


class Given:
    """Builds a shop's state in the words of EXAMPLES.md."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.today = shop.clock.today()

    def day(self, n: int) -> str:
        return (self.today + timedelta(days=n)).isoformat()

    def supplier(self, code: str = "ACME", lead_time_days: int = 12) -> None:
        s.put_supplier(self.shop, code, code.title(), lead_time_days)

    def sku(self, code: str, mode: str, *, lead_time_days: int = 12, on_hand: int = 0, cap: int | None = None,
            max_wait_days: int | None = None, release_day: int | None = None, supplier: str = "ACME",
            reorder_point: int | None = None) -> None:
        s.put_supplier(self.shop, supplier, supplier.title(), lead_time_days)
        release = self.day(release_day) if release_day is not None else None
        s.put_sku(self.shop, code, code.title(), "10.00", "4.00",
                  {"mode": mode, "cap": cap, "max_wait_days": max_wait_days, "release_date": release},
                  [{"supplier": supplier, "lead_time_days": lead_time_days}], reorder_point=reorder_point)
        if on_hand:
            s.adjust_stock(self.shop, code, on_hand, "initial count")

    def po(self, po_id: str, sku: str, qty: int, eta_day: int, supplier: str = "ACME") -> None:
        s.create_po(self.shop, supplier, [{"sku": sku, "qty": qty, "eta": self.day(eta_day)}], id=po_id)

    def order(self, order_id: str, *lines: tuple[str, int], ship_policy: str = "partial") -> dict[str, Any]:
        return s.place_order(self.shop, order_id, CUSTOMER, [{"sku": k, "qty": q} for k, q in lines],
                             ship_policy=ship_policy)

    def line(self, order_id: str, n: int = 1) -> dict[str, Any]:
        line: dict[str, Any] = s.get_order(self.shop, order_id)["lines"][n - 1]
        return line

    def days_out(self, order_id: str, n: int = 1) -> int:
        return (date.fromisoformat(self.line(order_id, n)["promised_date"]) - self.today).days

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        table = metadata.tables["events"]
        query = sa.select(table).order_by(table.c.id)
        if type_:
            query = query.where(table.c.type == type_)
        with self.shop.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def snapshot(shop: Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a refused call wrote nothing."""
    with shop.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t))), key=repr) for t in metadata.sorted_tables}
