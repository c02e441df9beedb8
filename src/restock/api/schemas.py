"""Request bodies of the HTTP API (API.md). They fix the shapes and types for
OpenAPI and reject malformed JSON early; the services check the values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Qty = Field(ge=1, le=1_000_000)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Backorder(Body):
    mode: Literal["deny", "inbound", "allow", "preorder"] = "deny"
    cap: int | None = Field(default=None, ge=0, le=1_000_000)
    max_wait_days: int | None = Field(default=None, ge=0, le=3650)
    release_date: date | None = None


class SupplierItem(Body):
    supplier: str = Field(min_length=1, max_length=64)
    lead_time_days: int | None = Field(default=None, ge=0, le=3650)
    lead_time_sd_days: float | None = Field(default=None, ge=0, le=3650)
    unit_cost: Decimal = Field(default=Decimal(0), ge=0, lt=Decimal("1e10"))
    moq: int = Field(default=1, ge=1, le=1_000_000)
    pack_size: int = Field(default=1, ge=1, le=1_000_000)


class SkuIn(Body):
    name: str = Field(min_length=1, max_length=200)
    price: Decimal = Field(ge=0, lt=Decimal("1e10"))
    unit_cost: Decimal = Field(ge=0, lt=Decimal("1e10"))
    backorder: Backorder = Backorder()
    suppliers: list[SupplierItem] = Field(default_factory=list, max_length=20)
    reorder_point: int | None = Field(default=None, ge=0, le=1_000_000)


class SupplierIn(Body):
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: int = Field(ge=0, le=3650)
    lead_time_sd_days: float = Field(default=0.0, ge=0, le=3650)


class LocationIn(Body):
    name: str = Field(min_length=1, max_length=200)
    handling_days: int = Field(default=1, ge=0, le=365)


class AdjustmentIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    location: str | None = Field(default=None, max_length=64)
    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=32)


class PoLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Qty
    eta: date


class PurchaseOrderIn(Body):
    id: str | None = Field(default=None, min_length=1, max_length=64)
    supplier: str = Field(min_length=1, max_length=64)
    lines: list[PoLineIn] = Field(min_length=1, max_length=500)


class EtaIn(Body):
    eta: date


class ReceiptLineIn(Body):
    line: int = Field(ge=1, le=10_000)
    qty: int = Qty


class ReceiptIn(Body):
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)


class Customer(Body):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)


class OrderLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Qty


class OrderIn(Body):
    id: str = Field(min_length=1, max_length=64)
    customer: Customer
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    ship_policy: Literal["partial", "complete"] = "partial"


class CancelLineIn(Body):
    line: int = Field(ge=1, le=10_000)
    qty: int | None = Field(default=None, ge=1, le=1_000_000)


class CancelIn(Body):
    lines: list[CancelLineIn] | None = Field(default=None, min_length=1, max_length=500)


class QuoteLinesIn(Body):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class ShipIn(Body):
    tracking: str | None = Field(default=None, min_length=1, max_length=200)
