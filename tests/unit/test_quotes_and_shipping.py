"""Quotes and what goes into a shipment, on the domain alone."""

from __future__ import annotations

from datetime import date

from restock.domain.policy import BackorderPolicy, Mode
from restock.domain.promising import Inbound, SkuBook
from restock.domain.quotes import Availability, quote, spoken_date
from restock.domain.shipping import LineToShip, ShipPolicy, units_to_ship

TODAY = date(2026, 12, 1)


def book(mode: Mode, on_hand: int = 0, inbound: int = 0, release: date | None = None,
         cap: int | None = None) -> SkuBook:
    supply = [Inbound(1, "P1", 1, 1, date(2026, 12, 10), inbound)] if inbound else []
    return SkuBook("S", BackorderPolicy(mode, cap, None, release), TODAY, 1, 7, on_hand, 0, 0, supply)


def test_quote_in_stock_says_when_it_ships() -> None:
    q = quote(book(Mode.DENY, on_hand=5), 2)
    assert (q.status, q.ship_now, q.backorder_qty, q.ship_date) == (Availability.IN_STOCK, 2, 0, date(2026, 12, 2))
    assert q.message == "In stock: ships by 2 December."


def test_quote_partial_names_both_parts_and_the_date() -> None:
    q = quote(book(Mode.INBOUND, on_hand=1, inbound=4), 3)
    assert (q.status, q.ship_now, q.backorder_qty, q.ship_date) == (Availability.PARTIAL, 1, 2, date(2026, 12, 11))
    assert q.message == "1 in stock ship now; the other 2 are on backorder and ship by 11 December."


def test_quote_backorder_beyond_inbound_is_estimated() -> None:
    q = quote(book(Mode.ALLOW), 1)
    assert (q.status, q.estimated, q.ship_date) == (Availability.BACKORDER, True, date(2026, 12, 9))
    assert "around 9 December" in q.message


def test_quote_preorder_ships_nothing_now() -> None:
    q = quote(book(Mode.PREORDER, on_hand=10, release=date(2027, 1, 15)), 2)
    assert (q.status, q.ship_now, q.ship_date) == (Availability.PREORDER, 0, date(2027, 1, 16))
    assert "16 January 2027" in q.message


def test_quote_unavailable_says_how_many_could_be_ordered() -> None:
    q = quote(book(Mode.INBOUND, on_hand=2, inbound=3), 9)
    assert (q.status, q.ship_now, q.available, q.ship_date) == (Availability.UNAVAILABLE, 2, 5, None)
    assert q.message == "Only 5 available to order right now (2 in stock)."


def test_quote_changes_nothing() -> None:
    b = book(Mode.INBOUND, on_hand=2, inbound=3)
    quote(b, 4)
    assert (b.allocated, b.backordered, b.inbound[0].qty_pegged) == (0, 0, 0)


def test_spoken_date_adds_the_year_only_when_it_differs() -> None:
    assert spoken_date(date(2026, 12, 24), TODAY) == "24 December"
    assert spoken_date(date(2027, 1, 2), TODAY) == "2 January 2027"


def test_partial_orders_ship_allocated_units_now() -> None:
    lines = [LineToShip(1, 2, 0, 0), LineToShip(2, 1, 3, 0)]
    assert units_to_ship(ShipPolicy.PARTIAL, lines) == {1: 2, 2: 1}


def test_complete_orders_wait_for_every_unit() -> None:
    waiting = [LineToShip(1, 2, 0, 0), LineToShip(2, 1, 3, 0)]
    assert units_to_ship(ShipPolicy.COMPLETE, waiting) == {}
    ready = [LineToShip(1, 2, 0, 0), LineToShip(2, 4, 0, 0)]
    assert units_to_ship(ShipPolicy.COMPLETE, ready) == {1: 2, 2: 4}


def test_units_already_in_a_shipment_are_not_shipped_twice() -> None:
    assert units_to_ship(ShipPolicy.PARTIAL, [LineToShip(1, 3, 0, 2)]) == {1: 1}
