"""Availability quotes: what the next N units of a SKU would get, in words a
customer can read. Nothing changes when a quote is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from restock.domain.promising import SkuBook


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    PARTIAL = "partial"
    BACKORDER = "backorder"
    PREORDER = "preorder"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Quote:
    sku: str
    qty: int
    status: Availability
    ship_now: int
    backorder_qty: int
    ship_date: date | None
    estimated: bool
    available: int | None
    message: str


def quote(book: SkuBook, qty: int) -> Quote:
    limit, _ = book.capacity()
    take = book.offer(qty)
    prerelease = not book.policy.released(book.today)
    ship_now = 0 if prerelease else take.allocated
    if limit is not None and qty > limit:
        can_ship_now = 0 if prerelease else min(take.allocated, limit)
        return Quote(book.sku, qty, Availability.UNAVAILABLE, can_ship_now, max(limit - can_ship_now, 0),
                     None, False, limit, _unavailable_message(limit, can_ship_now))
    if prerelease:
        status = Availability.PREORDER
    elif ship_now == qty:
        status = Availability.IN_STOCK
    elif ship_now:
        status = Availability.PARTIAL
    else:
        status = Availability.BACKORDER
    message = _message(status, qty, ship_now, take.promised_date, take.estimated, book.today)
    return Quote(book.sku, qty, status, ship_now, qty - ship_now, take.promised_date, take.estimated,
                 limit, message)


def spoken_date(day: date, today: date) -> str:
    """'12 December', with the year when it is not this year's."""
    return f"{day.day} {day:%B}" if day.year == today.year else f"{day.day} {day:%B %Y}"


def _message(status: Availability, qty: int, ship_now: int, ship_date: date, estimated: bool,
             today: date) -> str:
    units = "unit" if qty == 1 else "units"
    by = f"{'around' if estimated else 'by'} {spoken_date(ship_date, today)}"
    if status is Availability.IN_STOCK:
        return f"In stock: ships {by}."
    if status is Availability.PARTIAL:
        return f"{ship_now} in stock ship now; the other {qty - ship_now} are on backorder and ship {by}."
    if status is Availability.PREORDER:
        return f"Pre-order: {qty} {units} ship {by}, after release."
    return f"On backorder: {qty} {units} ship {by}."


def _unavailable_message(limit: int, ship_now: int) -> str:
    if limit == 0:
        return "Not available to order right now."
    if ship_now == limit:
        return f"Only {limit} available to order right now, all in stock."
    return f"Only {limit} available to order right now ({ship_now} in stock)."
