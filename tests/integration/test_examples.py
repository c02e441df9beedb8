"""EXAMPLES.md, to the letter, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from restock import services as s
from restock.errors import OrderRefused
from restock.shop import Shop
from tests.helpers import Given, snapshot


def state(given: Given, order_id: str) -> tuple[int, int, int, bool]:
    line = given.line(order_id)
    return line["allocated"], line["backordered"], given.days_out(order_id), line["estimated"]


def test_example_1_inbound_pegging_by_date_a_slip_and_a_receipt(shop: Shop) -> None:
    given = Given(shop)
    given.sku("MUG", "inbound", lead_time_days=12, on_hand=2)
    given.po("P1", "MUG", 4, eta_day=5)
    given.po("P2", "MUG", 6, eta_day=9)

    given.order("X1", ("MUG", 3))
    assert state(given, "X1") == (2, 1, 6, False)
    given.order("X2", ("MUG", 4))
    assert state(given, "X2") == (0, 4, 10, False)

    before = snapshot(shop)
    with pytest.raises(OrderRefused) as refused:
        given.order("X3", ("MUG", 6))
    assert refused.value.details["lines"] == [
        {"line": 1, "sku": "MUG", "qty": 6, "reason": "insufficient_inbound", "available": 5}]
    assert snapshot(shop) == before

    given.order("X3", ("MUG", 5))
    assert state(given, "X3") == (0, 5, 10, False)

    s.change_eta(shop, "P1", 1, given.day(11))
    assert [state(given, o) for o in ("X1", "X2", "X3")] == [(2, 1, 10, False), (0, 4, 10, False),
                                                             (0, 5, 12, False)]
    assert [(e["order_id"], e["data"]["new_date"]) for e in given.events("promise.delayed")] == [
        ("X1", given.day(10)), ("X3", given.day(12))]
    assert [p["qty"] for p in s.list_backorders(shop, sku="MUG")["backorders"][2]["pegged_to"]] == [1, 4]

    s.receive(shop, "P2", [{"line": 1, "qty": 6}])
    assert [state(given, o) for o in ("X1", "X2", "X3")] == [(3, 0, 1, False), (4, 0, 1, False),
                                                             (1, 4, 12, False)]
    assert [e["order_id"] for e in given.events("promise.advanced")] == ["X1", "X2"]
    assert given.line("X1")["first_promised_date"] == given.day(6)
    assert s.check_ledger(shop)["problems"] == []


def test_example_2_allow_with_cap_virtual_after_inbound_and_a_short_close(shop: Shop) -> None:
    given = Given(shop)
    given.sku("LAMP", "allow", cap=6, lead_time_days=7)
    given.po("P1", "LAMP", 2, eta_day=10)

    given.order("Y1", ("LAMP", 3))
    assert state(given, "Y1") == (0, 3, 11, True)
    given.order("Y2", ("LAMP", 3))
    assert state(given, "Y2") == (0, 3, 11, True)
    assert s.get_sku(shop, "LAMP")["stock"]["backordered"] == 6

    with pytest.raises(OrderRefused) as refused:
        given.order("Y3", ("LAMP", 1))
    assert refused.value.details["lines"][0]["reason"] == "cap"
    assert refused.value.details["lines"][0]["available"] == 0

    s.close_po(shop, "P1")
    assert state(given, "Y1") == (0, 3, 8, True)
    assert state(given, "Y2") == (0, 3, 8, True)
    assert {e["order_id"] for e in given.events("promise.advanced")} == {"Y1", "Y2"}

    s.adjust_stock(shop, "LAMP", 4, "counted in")
    assert state(given, "Y1") == (3, 0, 1, False)
    assert state(given, "Y2") == (1, 2, 8, True)
    assert s.check_ledger(shop)["problems"] == []


def test_example_3_preorder_never_ships_before_release(shop: Shop) -> None:
    given = Given(shop)
    given.sku("BOOK", "preorder", release_day=20, lead_time_days=5, on_hand=10)

    given.order("Z1", ("BOOK", 2))
    assert state(given, "Z1") == (2, 0, 21, False)
    given.order("Z2", ("BOOK", 9))
    assert state(given, "Z2") == (8, 1, 21, True)
    assert s.list_shipments(shop)["shipments"] == []


def test_example_4_deny_counts_one_sku_twice_in_one_order_against_one_balance(shop: Shop) -> None:
    given = Given(shop)
    given.sku("CAP", "deny", on_hand=3)
    before = snapshot(shop)

    with pytest.raises(OrderRefused) as refused:
        given.order("W1", ("CAP", 2), ("CAP", 2))
    assert refused.value.details["lines"] == [
        {"line": 2, "sku": "CAP", "qty": 2, "reason": "insufficient_stock", "available": 1}]
    assert snapshot(shop) == before

    given.order("W2", ("CAP", 2), ("CAP", 1))
    assert [given.line("W2", n)["allocated"] for n in (1, 2)] == [2, 1]
    assert [given.days_out("W2", n) for n in (1, 2)] == [1, 1]


def test_example_5_max_wait_refuses_a_promise_beyond_the_wait(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TENT", "allow", max_wait_days=10, lead_time_days=14)
    given.po("P1", "TENT", 2, eta_day=6)

    given.order("V1", ("TENT", 2))
    assert state(given, "V1") == (0, 2, 7, False)
    with pytest.raises(OrderRefused) as refused:
        given.order("V2", ("TENT", 1))
    assert refused.value.details["lines"][0]["reason"] == "max_wait"


def test_example_6_quotes(shop: Shop) -> None:
    given = Given(shop)
    given.sku("MUG", "inbound", lead_time_days=12, on_hand=2)
    given.po("P1", "MUG", 4, eta_day=5)
    given.po("P2", "MUG", 6, eta_day=9)

    two = s.quote(shop, "MUG", 2)
    assert (two["status"], two["ship_now"], two["ship_date"]) == ("in_stock", 2, given.day(1))
    five = s.quote(shop, "MUG", 5)
    assert (five["status"], five["ship_now"], five["backorder_qty"], five["ship_date"]) == (
        "partial", 2, 3, given.day(6))
    thirteen = s.quote(shop, "MUG", 13)
    assert (thirteen["status"], thirteen["ship_now"], thirteen["available"]) == ("unavailable", 2, 12)
