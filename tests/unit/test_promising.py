"""The promising rules of DESIGN.md on the domain alone: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from restock.domain.policy import FALLBACK_LEAD_TIME_DAYS, BackorderPolicy, Mode
from restock.domain.promising import Inbound, Refusal, SkuBook, Take, WaitingLine
from restock.errors import InvalidInput

TODAY = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def book(mode: Mode = Mode.INBOUND, *, on_hand: int = 0, allocated: int = 0, inbound: list[tuple[int, int, int]] = (),
         lead: int | None = 12, cap: int | None = None, max_wait: int | None = None, release: int | None = None,
         waiting: list[WaitingLine] = ()) -> SkuBook:
    """`inbound`: (po_line_id, eta day, qty); PO creation order follows po_line_id."""
    policy = BackorderPolicy(mode, cap, max_wait, day(release) if release is not None else None)
    supply = [Inbound(i, f"P{i}", 1, i, day(eta), qty) for i, eta, qty in inbound]
    b = SkuBook("SKU", policy, TODAY, 1, lead, on_hand, allocated, sum(w.qty for w in waiting), supply,
                waiting=list(waiting))
    if waiting:
        b.rematch()
    return b


def place(b: SkuBook, line_id: int, qty: int) -> Take:
    decision = b.decide(qty)
    assert isinstance(decision, Take), decision
    b.apply(decision)
    if decision.backordered:
        b.waiting.append(WaitingLine(line_id, f"O{line_id}", decision.backordered, decision.promised_date,
                                     T0 + timedelta(seconds=line_id), dict(decision.pegs), decision.estimated))
    return decision


def test_free_stock_is_taken_first_and_promised_after_handling() -> None:
    b = book(on_hand=5, inbound=[(1, 3, 10)])
    take = place(b, 1, 4)
    assert (take.allocated, take.pegs, take.promised_date) == (4, {}, day(1))


def test_po_lines_are_taken_in_eta_order_then_creation_order() -> None:
    b = book(inbound=[(1, 9, 2), (2, 5, 2), (3, 5, 2)])
    take = place(b, 1, 5)
    assert take.pegs == {2: 2, 3: 2, 1: 1}
    assert take.promised_date == day(10)


def test_new_order_cannot_take_supply_promised_to_earlier_order() -> None:
    b = book(inbound=[(1, 5, 3), (2, 20, 3)])
    place(b, 1, 3)
    later = place(b, 2, 1)
    assert later.pegs == {2: 1}
    assert later.promised_date == day(21)


def test_an_overdue_eta_counts_as_today() -> None:
    b = book(inbound=[(1, -3, 2)])
    assert place(b, 1, 2).promised_date == day(1)


def test_virtual_supply_is_never_earlier_than_the_latest_open_eta() -> None:
    b = book(Mode.ALLOW, lead=7, inbound=[(1, 10, 2)])
    take = place(b, 1, 3)
    assert (take.pegs, take.virtual, take.promised_date, take.estimated) == ({1: 2}, 1, day(11), True)


def test_inbound_policy_refuses_beyond_open_po_quantity_and_says_how_many_fit() -> None:
    b = book(on_hand=2, inbound=[(1, 5, 4)])
    assert b.decide(7) == Refusal("insufficient_inbound", 6)


def test_deny_policy_refuses_beyond_free_stock() -> None:
    b = book(Mode.DENY, on_hand=3, inbound=[(1, 2, 100)])
    assert b.decide(4) == Refusal("insufficient_stock", 3)
    assert place(b, 1, 3).allocated == 3


def test_cap_counts_backordered_units_not_stock() -> None:
    b = book(Mode.ALLOW, on_hand=2, cap=3)
    place(b, 1, 4)
    assert b.decide(2) == Refusal("cap", 1)
    assert place(b, 2, 1).backordered == 1
    assert b.decide(1) == Refusal("cap", 0)


def test_max_wait_accepts_inbound_within_the_wait_and_refuses_beyond() -> None:
    b = book(Mode.ALLOW, lead=14, max_wait=10, inbound=[(1, 6, 2)])
    assert place(b, 1, 2).promised_date == day(7)
    assert b.decide(1) == Refusal("max_wait", 0)


def test_preorder_units_never_ship_before_release() -> None:
    b = book(Mode.PREORDER, on_hand=10, lead=5, release=20)
    assert place(b, 1, 2).promised_date == day(21)
    nine = place(b, 2, 9)
    assert (nine.allocated, nine.virtual, nine.promised_date) == (8, 1, day(21))


def test_preorder_policy_needs_a_release_date() -> None:
    with pytest.raises(InvalidInput):
        BackorderPolicy(Mode.PREORDER)


def test_rematch_gives_received_stock_to_waiting_lines_in_priority_order() -> None:
    b = book(inbound=[(1, 5, 4), (2, 9, 6)])
    place(b, 1, 3)
    place(b, 2, 4)
    b.on_hand += 5
    b.inbound[0].qty_open -= 4
    b.inbound[1].qty_open -= 1
    changes = {c.line.line_id: c for c in b.rematch()}
    assert (changes[1].take.allocated, changes[1].new_date) == (3, day(1))
    assert (changes[2].take.allocated, changes[2].take.pegs, changes[2].new_date) == (2, {2: 2}, day(10))


def test_a_slip_re_pegs_in_priority_order_and_moves_promises() -> None:
    b = book(on_hand=0, inbound=[(1, 5, 4), (2, 9, 6)])
    place(b, 1, 1)
    place(b, 2, 4)
    place(b, 3, 5)
    b.inbound[0].eta = day(11)
    b.inbound.sort(key=Inbound.rank)
    moved = {c.line.line_id: (c.old_date, c.new_date) for c in b.rematch() if c.moved}
    assert moved == {1: (day(6), day(10)), 3: (day(10), day(12))}


def test_rematch_never_takes_allocated_stock_back() -> None:
    b = book(on_hand=2, inbound=[(1, 5, 4)])
    place(b, 1, 3)
    assert b.allocated == 2
    b.rematch()
    assert b.allocated == 2


def test_units_that_lose_their_po_fall_back_to_virtual_whatever_the_mode() -> None:
    b = book(Mode.INBOUND, lead=12, inbound=[(1, 5, 4)])
    place(b, 1, 3)
    b.inbound.clear()
    b.latest_eta = None
    b._by_id.clear()
    change = b.rematch()[0]
    assert (change.take.virtual, change.take.estimated, change.new_date) == (3, True, day(13))


def test_a_sku_with_no_supplier_falls_back_to_the_default_lead_time() -> None:
    b = book(Mode.INBOUND, lead=None)
    assert b.virtual_date() == day(FALLBACK_LEAD_TIME_DAYS)


def test_rematch_is_a_fixed_point() -> None:
    b = book(Mode.ALLOW, on_hand=1, inbound=[(1, 4, 2), (2, 8, 1)])
    for n, qty in enumerate([2, 1, 3, 2], 1):
        place(b, n, qty)
    b.rematch()
    assert not [c for c in b.rematch() if c.repegged]


def test_offer_changes_nothing() -> None:
    b = book(on_hand=2, inbound=[(1, 5, 4)])
    b.offer(5)
    assert (b.allocated, b.backordered, b.inbound[0].qty_pegged) == (0, 0, 0)


def test_time_passing_alone_does_not_move_an_estimated_promise() -> None:
    b = book(Mode.ALLOW, lead=7)
    place(b, 1, 2)
    b.today += timedelta(days=3)
    change = b.rematch()[0]
    assert (change.moved, change.new_date) == (False, day(8))


def test_an_estimate_whose_date_passed_moves_to_the_lead_time_from_today() -> None:
    b = book(Mode.ALLOW, lead=7)
    place(b, 1, 2)
    b.today += timedelta(days=10)
    change = b.rematch()[0]
    assert (change.old_date, change.new_date) == (day(8), day(18))


def test_a_kept_estimate_still_waits_for_the_latest_open_eta() -> None:
    b = book(Mode.ALLOW, lead=7)
    place(b, 1, 2)
    b.inbound.append(Inbound(9, "P9", 1, 9, day(12), 1))
    b.__post_init__()
    change = b.rematch()[0]
    assert (change.take.pegs, change.take.virtual, change.new_date) == ({9: 1}, 1, day(13))
