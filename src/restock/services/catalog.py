"""The catalog: SKUs with their backorder policy and suppliers, suppliers,
locations; and how a SKU's stock stands."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from restock.domain.policy import BackorderPolicy, Mode
from restock.errors import InvalidInput, NotFound
from restock.services import validate as v
from restock.storage.books import Balance, rematch, sku_infos, stock_signals
from restock.storage.tables import (
    DEFAULT_LOCATION,
    locations,
    po_lines,
    purchase_orders,
    skus,
    stock,
    supplier_items,
    suppliers,
)
from restock.storage.uow import UnitOfWork, read_only, transaction

PAGE = 100


@transaction
def put_location(uow: UnitOfWork, code: str, name: str, handling_days: int) -> dict[str, Any]:
    values = {"code": v.code(code, "location code"), "name": v.text(name, "name"),
              "handling_days": v.count(handling_days, "handling_days", maximum=365)}
    _upsert(uow, locations, locations.c.code, values)
    return values


@transaction
def put_supplier(uow: UnitOfWork, code: str, name: str, lead_time_days: int,
                 lead_time_sd_days: float = 0.0) -> dict[str, Any]:
    values = {"code": v.code(code, "supplier code"), "name": v.text(name, "name"),
              "lead_time_days": v.count(lead_time_days, "lead_time_days", maximum=3650),
              "lead_time_sd_days": _spread(lead_time_sd_days)}
    _upsert(uow, suppliers, suppliers.c.code, values)
    return values


@read_only
def list_suppliers(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [{"code": r.code, "name": r.name, "lead_time_days": r.lead_time_days,
             "lead_time_sd_days": r.lead_time_sd_days}
            for r in uow.execute(sa.select(suppliers).order_by(suppliers.c.code))]


def _spread(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3650:
        raise InvalidInput(f"lead_time_sd_days must be a number from 0 to 3650 (got {value!r:.40})")
    return float(value)


def _upsert(uow: UnitOfWork, table: sa.Table, key: sa.Column[Any], values: dict[str, Any]) -> bool:
    """Insert or replace a row by its key; True when it was created."""
    exists = uow.execute(sa.select(key).where(key == values[key.name])).first() is not None
    if exists:
        uow.execute(sa.update(table).where(key == values[key.name]).values(values))
    else:
        uow.execute(sa.insert(table).values(values))
    return not exists


@transaction
def put_sku(uow: UnitOfWork, code: str, name: str, price: Any, unit_cost: Any,
            backorder: dict[str, Any] | None = None, suppliers: list[dict[str, Any]] | None = None,
            reorder_point: int | None = None) -> tuple[bool, dict[str, Any]]:
    """Create or replace a SKU. Returns (created, the SKU). A change of policy
    or lead time re-promises the SKU's waiting lines."""
    code = v.code(code, "SKU code")
    policy = _policy(backorder or {})
    items = [_supplier_item(uow, item) for item in (suppliers or [])]
    if len({i["supplier"] for i in items}) < len(items):
        raise InvalidInput("a supplier is listed twice for this SKU")
    if policy.sells_virtual and not items:
        raise InvalidInput(f"a SKU with backorder mode '{policy.mode}' needs at least one supplier: "
                           "its lead time dates the promises beyond inbound stock")
    values = {"code": code, "name": v.text(name, "name"), "price": v.money(price, "price"),
              "unit_cost": v.money(unit_cost, "unit_cost"), "mode": policy.mode.value, "cap": policy.cap,
              "max_wait_days": policy.max_wait_days, "release_date": policy.release_date,
              "cancel_overdue": _flag((backorder or {}).get("cancel_overdue"), "cancel_overdue"),
              "reorder_point": v.count(reorder_point, "reorder_point", optional=True),
              "updated_at": uow.now}
    existing = uow.lock_stock([(code, DEFAULT_LOCATION)])
    before = Balance.of(existing[(code, DEFAULT_LOCATION)]) if existing else None
    created = not _exists(uow, code)
    if created:
        uow.execute(sa.insert(skus).values({**values, "created_at": uow.now}))
        uow.execute(sa.insert(stock).values(sku=code, location=DEFAULT_LOCATION, on_hand=0, allocated=0,
                                            backordered=0, inbound=0, shipped=0))
    else:
        uow.execute(sa.update(skus).where(skus.c.code == code).values(values))
    uow.execute(sa.delete(supplier_items).where(supplier_items.c.sku == code))
    if items:
        uow.execute(sa.insert(supplier_items), [{"sku": code, "rank": rank, **item}
                                                for rank, item in enumerate(items)])
    if before is not None:
        info = sku_infos(uow, [code])[code]
        rematch(uow, info, DEFAULT_LOCATION, "policy_change")
        stock_signals(uow, info, DEFAULT_LOCATION, before)
    return created, _sku_view(uow, code)


def _exists(uow: UnitOfWork, code: str) -> bool:
    return uow.execute(sa.select(skus.c.code).where(skus.c.code == code)).first() is not None


def _flag(value: Any, what: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{what} must be true, false or null")
    return value


def _policy(data: dict[str, Any]) -> BackorderPolicy:
    if not isinstance(data, dict):
        raise InvalidInput("backorder must be an object")
    try:
        mode = Mode(data.get("mode", "deny"))
    except ValueError:
        raise InvalidInput(f"backorder mode must be one of {', '.join(m.value for m in Mode)}") from None
    return BackorderPolicy(
        mode,
        v.count(data.get("cap"), "backorder cap", optional=True),
        v.count(data.get("max_wait_days"), "max_wait_days", maximum=3650, optional=True),
        v.day(data.get("release_date"), "release_date", optional=True),
    )


def _supplier_item(uow: UnitOfWork, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidInput("each supplier must be an object")
    code = v.code(item.get("supplier"), "supplier")
    known = uow.execute(sa.select(suppliers).where(suppliers.c.code == code)).first()
    if known is None:
        raise NotFound(f"unknown supplier {code}: create it first (PUT /v1/suppliers/{code})")
    lead = item.get("lead_time_days", known.lead_time_days)
    return {
        "supplier": code,
        "lead_time_days": v.count(lead, "lead_time_days", maximum=3650),
        "lead_time_sd_days": _spread(item.get("lead_time_sd_days", known.lead_time_sd_days)),
        "unit_cost": v.money(item.get("unit_cost", 0), "supplier unit_cost"),
        "moq": v.qty(item.get("moq", 1), "moq"),
        "pack_size": v.qty(item.get("pack_size", 1), "pack_size"),
    }


@read_only
def get_sku(uow: UnitOfWork, code: str) -> dict[str, Any]:
    if not _exists(uow, code):
        raise NotFound(f"unknown SKU {code}")
    return _sku_view(uow, code)


@read_only
def list_skus(uow: UnitOfWork, cursor: str | None = None, limit: int = PAGE) -> dict[str, Any]:
    query = sa.select(skus.c.code).order_by(skus.c.code).limit(min(max(limit, 1), 500) + 1)
    if cursor:
        query = query.where(skus.c.code > cursor)
    codes = list(uow.execute(query).scalars())
    page = codes[:limit]
    return {"skus": [_sku_view(uow, c) for c in page], "next": page[-1] if len(codes) > len(page) else None}


def _sku_view(uow: UnitOfWork, code: str) -> dict[str, Any]:
    row = uow.execute(sa.select(skus).where(skus.c.code == code)).one()
    items = uow.execute(sa.select(supplier_items).where(supplier_items.c.sku == code)
                        .order_by(supplier_items.c.rank)).all()
    return {
        "sku": row.code, "name": row.name, "price": str(row.price), "unit_cost": str(row.unit_cost),
        "backorder": {"mode": row.mode, "cap": row.cap, "max_wait_days": row.max_wait_days,
                      "release_date": row.release_date.isoformat() if row.release_date else None,
                      "cancel_overdue": row.cancel_overdue},
        "reorder_point": row.reorder_point,
        "suppliers": [{"supplier": i.supplier, "lead_time_days": i.lead_time_days,
                       "lead_time_sd_days": i.lead_time_sd_days, "unit_cost": str(i.unit_cost),
                       "moq": i.moq, "pack_size": i.pack_size} for i in items],
        "stock": stock_view(uow, code),
    }


def stock_view(uow: UnitOfWork, code: str, location: str = DEFAULT_LOCATION) -> dict[str, Any]:
    row = uow.execute(sa.select(stock).where(stock.c.sku == code, stock.c.location == location)).one()
    qty_open = po_lines.c.qty - po_lines.c.qty_received - po_lines.c.qty_closed
    inbound = uow.execute(
        sa.select(purchase_orders.c.id, po_lines.c.line_no, qty_open.label("qty_open"), po_lines.c.qty_pegged,
                  po_lines.c.eta)
        .join(purchase_orders, purchase_orders.c.seq == po_lines.c.po_seq)
        .where(po_lines.c.sku == code, po_lines.c.location == location, qty_open > 0)
        .order_by(po_lines.c.eta, purchase_orders.c.seq, po_lines.c.line_no)).all()
    return {
        "location": location, "on_hand": row.on_hand, "allocated": row.allocated,
        "available": row.on_hand - row.allocated, "backordered": row.backordered,
        "inbound": [{"po": r.id, "line": r.line_no, "qty_open": r.qty_open, "qty_promised": r.qty_pegged,
                     "eta": r.eta.isoformat()} for r in inbound],
    }
