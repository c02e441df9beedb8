"""Request bodies of the HTTP API (API.md). They fix the shapes and types for
OpenAPI and reject malformed JSON early; the services check the values."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

# Numbers are strict: JSON true or 1.0 is not a quantity.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Qty = Field(ge=1, le=1_000_000)


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a date is a string YYYY-MM-DD")
    return value


# Dates are ISO strings, never numbers.
Day = Annotated[date, BeforeValidator(_iso_text)]
# Money is a decimal string (API.md), at most 10 digits before the point and 4 after.
Money = Annotated[str, Field(pattern=r"^[0-9]{1,10}(\.[0-9]{1,4})?$", examples=["18.00"])]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Backorder(Body):
    mode: Literal["deny", "inbound", "allow", "preorder"] = "deny"
    cap: Int | None = Field(default=None, ge=0, le=1_000_000)
    max_wait_days: Int | None = Field(default=None, ge=0, le=3650)
    release_date: Day | None = None
    cancel_overdue: Annotated[bool, Strict()] | None = None


class SupplierItem(Body):
    supplier: str = Field(min_length=1, max_length=64)
    lead_time_days: Int | None = Field(default=None, ge=0, le=3650)
    lead_time_sd_days: Float | None = Field(default=None, ge=0, le=3650)
    unit_cost: Money = "0"
    moq: Int = Field(default=1, ge=1, le=1_000_000)
    pack_size: Int = Field(default=1, ge=1, le=1_000_000)


class SkuIn(Body):
    name: str = Field(min_length=1, max_length=200)
    price: Money
    unit_cost: Money
    backorder: Backorder = Backorder()
    suppliers: list[SupplierItem] = Field(default_factory=list, max_length=20)
    reorder_point: Int | None = Field(default=None, ge=0, le=1_000_000)


class SupplierIn(Body):
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: Int = Field(ge=0, le=3650)
    lead_time_sd_days: Float = Field(default=0.0, ge=0, le=3650)


class LocationIn(Body):
    name: str = Field(min_length=1, max_length=200)
    handling_days: Int = Field(default=1, ge=0, le=365)


class AdjustmentIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    location: str | None = Field(default=None, max_length=64)
    delta: Int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=32)


class PoLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    qty: Int = Qty
    eta: Day


class PurchaseOrderIn(Body):
    id: str | None = Field(default=None, min_length=1, max_length=64)
    supplier: str = Field(min_length=1, max_length=64)
    lines: list[PoLineIn] = Field(min_length=1, max_length=500)


class EtaIn(Body):
    eta: Day


class ReceiptLineIn(Body):
    line: Int = Field(ge=1, le=10_000)
    qty: Int = Qty


class ReceiptIn(Body):
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)


class Customer(Body):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)


class OrderLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    qty: Int = Qty


class OrderIn(Body):
    id: str = Field(min_length=1, max_length=64)
    customer: Customer
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    ship_policy: Literal["partial", "complete"] = "partial"


class CancelLineIn(Body):
    line: Int = Field(ge=1, le=10_000)
    qty: Int | None = Field(default=None, ge=1, le=1_000_000)


class CancelIn(Body):
    lines: list[CancelLineIn] | None = Field(default=None, min_length=1, max_length=500)


class QuoteLinesIn(Body):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class ShipIn(Body):
    tracking: str | None = Field(default=None, min_length=1, max_length=200)


class WebhookIn(Body):
    url: str = Field(min_length=1, max_length=2000, examples=["https://shop.example/hooks/restock"])
    events: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=50)
    secret: str = Field(min_length=1, max_length=200)


class RetryIn(Body):
    ids: list[Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]] | None = Field(default=None, max_length=500)
    target: str | None = Field(default=None, min_length=1, max_length=80)


class PlanIn(Body):
    service_level: Float = Field(default=0.95, ge=0.5, lt=1)
    fill_rate: Float | None = Field(default=None, ge=0.5, lt=1)
    review_days: Int = Field(default=0, ge=0, le=365)
    horizon_days: Int = Field(default=28, ge=1, le=365)
    order_cost: Float | None = Field(default=None, ge=0, le=1e6)
    holding_rate: Float | None = Field(default=None, ge=0.001, le=10)
    overstock_days: Int | None = Field(default=None, ge=1, le=3650)
    dead_stock_days: Int | None = Field(default=None, ge=1, le=3650)
    backorder_rate_alert: Float | None = Field(default=None, ge=0, le=1)
    skus: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, min_length=1,
                                                                                  max_length=500)


class ApproveIn(Body):
    skus: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, min_length=1,
                                                                                  max_length=500)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class Error(BaseModel):
    """Every 4xx answer: {"error": {"code", "message", "details"}}."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": text}
    for status, text in ((400, "The body could not be read as JSON"), (401, "No valid API key"),
                         (403, "The key's role may not do this"),
                         (404, "Not found"), (409, "Refused by the state of the shop"),
                         (413, "Body too large"), (422, "Invalid input"))
}
