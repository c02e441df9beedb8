"""Bad input gets a clear error and changes nothing: every table is compared
before and after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from restock import services as s
from restock.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidState,
    NotFound,
    OrderRefused,
    RestockError,
    StockShortfall,
)
from restock.shop import Shop
from tests.helpers import CUSTOMER, Given, snapshot


@pytest.fixture
def given(shop: Shop) -> Given:
    g = Given(shop)
    g.sku("MUG", "inbound", on_hand=3)
    g.po("P1", "MUG", 4, eta_day=5)
    g.order("O1", ("MUG", 5))
    return g


def order(lines: list[dict[str, Any]], order_id: str = "NEW") -> Callable[[Shop], Any]:
    return lambda shop: s.place_order(shop, order_id, CUSTOMER, lines)


CASES: list[tuple[str, Callable[[Shop], Any], type[RestockError]]] = [
    ("unknown SKU", order([{"sku": "NOPE", "qty": 1}]), NotFound),
    ("qty zero", order([{"sku": "MUG", "qty": 0}]), InvalidInput),
    ("qty negative", order([{"sku": "MUG", "qty": -2}]), InvalidInput),
    ("qty absurd", order([{"sku": "MUG", "qty": 10**30}]), InvalidInput),
    ("qty not a number", order([{"sku": "MUG", "qty": "3"}]), InvalidInput),
    ("qty a bool", order([{"sku": "MUG", "qty": True}]), InvalidInput),
    ("no lines", order([]), InvalidInput),
    ("line not an object", order(["MUG"]), InvalidInput),  # type: ignore[list-item]
    ("sku with spaces", order([{"sku": "MU G", "qty": 1}]), InvalidInput),
    ("one good line, one unknown", order([{"sku": "MUG", "qty": 1}, {"sku": "NOPE", "qty": 1}]), NotFound),
    ("one good line, one too many", order([{"sku": "MUG", "qty": 1}, {"sku": "MUG", "qty": 9}]), OrderRefused),
    ("duplicate order id", order([{"sku": "MUG", "qty": 1}], "O1"), AlreadyExists),
    ("bad email", lambda shop: s.place_order(shop, "N", {"email": "x", "name": "A"}, [{"sku": "MUG", "qty": 1}]),
     InvalidInput),
    ("bad ship policy", lambda shop: s.place_order(shop, "N", CUSTOMER, [{"sku": "MUG", "qty": 1}], "asap"),
     InvalidInput),
    ("receipt above open qty", lambda shop: s.receive(shop, "P1", [{"line": 1, "qty": 5}]), InvalidInput),
    ("receipt of unknown line", lambda shop: s.receive(shop, "P1", [{"line": 2, "qty": 1}]), NotFound),
    ("receipt of unknown PO", lambda shop: s.receive(shop, "P9", [{"line": 1, "qty": 1}]), NotFound),
    ("receipt naming a line twice", lambda shop: s.receive(shop, "P1", [{"line": 1, "qty": 2}, {"line": 1, "qty": 2}]),
     InvalidInput),
    ("ETA in the past", lambda shop: s.change_eta(shop, "P1", 1, "2000-01-01"), InvalidInput),
    ("ETA not a date", lambda shop: s.change_eta(shop, "P1", 1, "next week"), InvalidInput),
    ("PO with an ETA in the past",
     lambda shop: s.create_po(shop, "ACME", [{"sku": "MUG", "qty": 1, "eta": "2000-01-01"}]), InvalidInput),
    ("PO for an unknown supplier",
     lambda shop: s.create_po(shop, "NOBODY", [{"sku": "MUG", "qty": 1, "eta": "2099-01-01"}]), NotFound),
    ("PO id taken", lambda shop: s.create_po(shop, "ACME", [{"sku": "MUG", "qty": 1, "eta": "2099-01-01"}], id="P1"),
     AlreadyExists),
    ("cancel more than open", lambda shop: s.cancel_order(shop, "O1", [{"line": 1, "qty": 6}]), InvalidInput),
    ("cancel an unknown line", lambda shop: s.cancel_order(shop, "O1", [{"line": 2}]), NotFound),
    ("cancel an unknown order", lambda shop: s.cancel_order(shop, "O9"), NotFound),
    ("take out more than free", lambda shop: s.adjust_stock(shop, "MUG", -1, "broken"), StockShortfall),
    ("adjust by zero", lambda shop: s.adjust_stock(shop, "MUG", 0, "nothing"), InvalidInput),
    ("adjust at an unknown location", lambda shop: s.adjust_stock(shop, "MUG", 1, "x", "moon"), InvalidInput),
    ("ship an unknown shipment", lambda shop: s.ship(shop, 999), NotFound),
    ("ship a shipment id past any integer", lambda shop: s.ship(shop, 2**63), NotFound),
    ("ETA of a PO line past any integer", lambda shop: s.change_eta(shop, "P1", 2**63, "2099-01-01"), NotFound),
    ("allow mode with no supplier", lambda shop: s.put_sku(shop, "NEW", "New", "1", "1", {"mode": "allow"}),
     InvalidInput),
    ("unknown mode", lambda shop: s.put_sku(shop, "NEW", "New", "1", "1", {"mode": "sometimes"}), InvalidInput),
    ("negative price", lambda shop: s.put_sku(shop, "NEW", "New", "-1", "1"), InvalidInput),
    ("price not a number", lambda shop: s.put_sku(shop, "NEW", "New", "cheap", "1"), InvalidInput),
    ("preorder without release date",
     lambda shop: s.put_sku(shop, "NEW", "New", "1", "1", {"mode": "preorder"}, [{"supplier": "ACME"}]), InvalidInput),
    ("a supplier twice", lambda shop: s.put_sku(shop, "NEW", "New", "1", "1", {},
                                                [{"supplier": "ACME"}, {"supplier": "ACME"}]), InvalidInput),
]


@pytest.mark.parametrize(("case", "call", "error"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_changes_nothing(
        shop: Shop, given: Given, case: str, call: Callable[[Shop], Any], error: type[RestockError]) -> None:
    before = snapshot(shop)
    with pytest.raises(error) as raised:
        call(shop)
    assert raised.value.message and len(raised.value.message) < 400
    assert snapshot(shop) == before


def test_closing_a_closed_po_is_refused_and_changes_nothing(shop: Shop, given: Given) -> None:
    s.close_po(shop, "P1")
    before = snapshot(shop)
    with pytest.raises(InvalidState):
        s.close_po(shop, "P1")
    with pytest.raises(InvalidState):
        s.receive(shop, "P1", [{"line": 1, "qty": 1}])
    assert snapshot(shop) == before


def test_cancelling_an_order_with_nothing_open_is_refused_and_changes_nothing(shop: Shop, given: Given) -> None:
    s.cancel_order(shop, "O1")
    before = snapshot(shop)
    with pytest.raises(InvalidState):
        s.cancel_order(shop, "O1")
    assert snapshot(shop) == before
