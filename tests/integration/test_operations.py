"""What the dashboard shows, from the services: the queue and its filters, at-risk
reasons, the ETA preview (the real change, rolled back), bulk cancel, the SKU's
projected stock, KPI trends — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from restock import services as s
from restock.clock import FixedClock
from restock.errors import InvalidInput, NotFound
from restock.shop import Shop


def lamp_shop(shop: Shop, clock: FixedClock) -> None:
    """LAMP (inbound): P1 3 units at +6, P2 4 units at +12. A takes 2 of P1, B the third
    and one of P2, C one of P2, placed a day apart. MUG (allow, supplier KILN) waits on
    the lead time."""
    today = clock.today()
    s.put_supplier(shop, "ACME", "Acme Lighting", 10)
    s.put_supplier(shop, "KILN", "Kiln Works", 20)
    s.put_sku(shop, "LAMP", "Desk lamp", "40", "15", {"mode": "inbound"}, [{"supplier": "ACME"}])
    s.put_sku(shop, "MUG", "Mug", "9", "3", {"mode": "allow"}, [{"supplier": "KILN"}])
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 3, "eta": (today + timedelta(days=6)).isoformat()}], id="P1")
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 4, "eta": (today + timedelta(days=12)).isoformat()}], id="P2")
    for order_id, sku, qty in (("A", "LAMP", 2), ("B", "LAMP", 2), ("C", "LAMP", 1), ("D", "MUG", 5)):
        s.place_order(shop, order_id, {"email": f"{order_id.lower()}@example.com", "name": f"Customer {order_id}"},
                      [{"sku": sku, "qty": qty}])
        clock.advance(days=1)
    # Today is now the day of placement + 4.


def test_queue_in_priority_order_with_what_each_line_waits_for(shop: Shop, clock: FixedClock) -> None:
    start = clock.today()
    lamp_shop(shop, clock)
    queue = s.backorder_queue(shop)
    assert [(x["order"], x["qty"]) for x in queue["lines"]] == [("A", 2), ("B", 2), ("C", 1), ("D", 5)]
    assert queue["total_lines"] == 4 and queue["total_units"] == 10
    a, b, _, d = queue["lines"]
    assert a["waits_for"] == [{"po": "P1", "line": 1, "qty": 2, "eta": (start + timedelta(days=6)).isoformat(),
                               "supplier": "ACME"}]
    assert [(p["po"], p["qty"]) for p in b["waits_for"]] == [("P1", 1), ("P2", 1)]
    assert b["promised_date"] == (start + timedelta(days=13)).isoformat() and b["customer"] == "Customer B"
    assert d["waits_for"] == [] and d["unpegged"] == 5 and d["estimated"]
    assert [x["age_days"] for x in queue["lines"]] == [4, 3, 2, 1]
    assert not any(x["at_risk"] for x in queue["lines"])

    assert [x["order"] for x in s.backorder_queue(shop, sku="LAMP")["lines"]] == ["A", "B", "C"]
    assert [x["order"] for x in s.backorder_queue(shop, supplier="KILN")["lines"]] == ["D"]
    assert [x["order"] for x in s.backorder_queue(shop, supplier="ACME")["lines"]] == ["A", "B", "C"]
    assert [x["order"] for x in s.backorder_queue(shop, min_age_days=3)["lines"]] == ["A", "B"]
    assert s.backorder_queue(shop, at_risk=True)["total_lines"] == 0
    paged = s.backorder_queue(shop, page=2, size=3)
    assert [x["order"] for x in paged["lines"]] == ["D"] and paged["pages"] == 2
    with pytest.raises(InvalidInput):
        s.backorder_queue(shop, min_age_days=-1)


def test_late_supply_and_passed_promises_are_at_risk_with_their_reasons(shop: Shop, clock: FixedClock) -> None:
    start = clock.today()
    lamp_shop(shop, clock)
    clock.advance(days=4)  # start + 8: P1 (due start + 6) is late, A's promise (start + 7) passed
    risky = s.backorder_queue(shop, at_risk=True)
    assert [x["order"] for x in risky["lines"]] == ["A", "B"]
    a, b = risky["lines"]
    assert a["at_risk"] == [f"P1 was due {(start + timedelta(days=6)).isoformat()} and has not arrived",
                            f"promised {(start + timedelta(days=7)).isoformat()}, not shipped"]
    assert b["at_risk"] == [f"P1 was due {(start + timedelta(days=6)).isoformat()} and has not arrived"]
    overview = s.overview(shop)
    assert overview["at_risk"]["lines"] == 2
    assert [x["order"] for x in overview["at_risk"]["first"]] == ["A", "B"]
    assert [(r["sku"], r["lines"], r["units"]) for r in overview["top_skus"]] == [("LAMP", 3, 5), ("MUG", 1, 5)]
    due = overview["pos_due"]
    assert [(r["po"], r["late"], r["qty_promised"]) for r in due] == [("P1", True, 3), ("P2", False, 2)]
    s.receive(shop, "P1", [{"line": 1, "qty": 3}])
    assert s.backorder_queue(shop, at_risk=True)["total_lines"] == 0


def test_eta_preview_is_exactly_what_the_change_then_does_and_changes_nothing(shop: Shop,
                                                                              clock: FixedClock) -> None:
    lamp_shop(shop, clock)
    rng = random.Random(5)
    for _ in range(8):
        po_id = rng.choice(["P1", "P2"])
        eta = (clock.today() + timedelta(days=rng.randint(0, 25))).isoformat()
        before = {o: s.get_order(shop, o)["lines"][0]["promised_date"] for o in "ABCD"}
        last_event = s.list_events(shop, None, 1000)["next"]
        preview = s.preview_eta(shop, po_id, 1, eta)
        assert {o: s.get_order(shop, o)["lines"][0]["promised_date"] for o in "ABCD"} == before
        assert s.list_events(shop, last_event, 1000)["events"] == []
        s.change_eta(shop, po_id, 1, eta)
        after = {o: s.get_order(shop, o)["lines"][0]["promised_date"] for o in "ABCD"}
        moved = {o: (before[o], after[o]) for o in "ABCD" if before[o] != after[o]}
        assert {m["order"]: (m["old_date"], m["new_date"]) for m in preview["moves"]} == moved
        assert all(m["customer"] == f"Customer {m['order']}" for m in preview["moves"])
        told = [e["data"]["order"] for e in s.list_events(shop, last_event, 1000)["events"]
                if e["type"] in ("promise.delayed", "promise.advanced")]
        assert sorted(told) == sorted(moved)
    with pytest.raises(InvalidInput):
        s.preview_eta(shop, "P1", 1, (clock.today() - timedelta(days=1)).isoformat())
    with pytest.raises(NotFound):
        s.preview_eta(shop, "P9", 1, clock.today().isoformat())


def test_a_preview_says_by_how_much_each_date_moves(shop: Shop, clock: FixedClock) -> None:
    start = clock.today()
    lamp_shop(shop, clock)
    preview = s.preview_eta(shop, "P1", 1, (start + timedelta(days=8)).isoformat())
    assert preview["old_eta"] == (start + timedelta(days=6)).isoformat()
    # A waited for P1 (promise start+7) and now for P1 at start+8; B's last unit stays on P2.
    assert [(m["order"], m["days"]) for m in preview["moves"]] == [("A", 2)]


def test_bulk_cancel_is_one_transaction_and_frees_supply_for_the_next_in_line(shop: Shop,
                                                                                clock: FixedClock) -> None:
    start = clock.today()
    lamp_shop(shop, clock)
    with pytest.raises(NotFound):
        s.cancel_backorders(shop, [{"order": "A", "line": 1}, {"order": "ZZ", "line": 1}])
    assert s.get_order(shop, "A")["lines"][0]["backordered"] == 2
    done = s.cancel_backorders(shop, [{"order": "A", "line": 1}, {"order": "D", "line": 1}])
    assert done == {"cancelled": [{"order": "A", "line": 1, "qty": 2}, {"order": "D", "line": 1, "qty": 5}],
                    "skipped": []}
    b = s.get_order(shop, "B")["lines"][0]
    assert b["promised_date"] == (start + timedelta(days=7)).isoformat()  # both units now on P1
    again = s.cancel_backorders(shop, [{"order": "A", "line": 1}])
    assert again == {"cancelled": [], "skipped": [{"order": "A", "line": 1}]}
    with pytest.raises(InvalidInput):
        s.cancel_backorders(shop, [])
    assert s.check_ledger(shop)["ok"]


def test_projected_stock_draws_pegged_units_at_arrival(shop: Shop, clock: FixedClock) -> None:
    lamp_shop(shop, clock)
    today = clock.today()  # start + 4: P1 due in 2 days, P2 in 8
    projection = s.sku_projection(shop, "LAMP")
    assert projection["days"][0] == today.isoformat()
    assert (projection["free_stock"][0], projection["inbound_arrived"][0]) == (0, 0)
    # P1's 3 arrive and go to A (2) and B (1): nothing is free.
    assert (projection["inbound_arrived"][2], projection["backorders_drawn"][2], projection["free_stock"][2]) \
        == (3, 3, 0)
    assert (projection["inbound_arrived"][8], projection["backorders_drawn"][8], projection["free_stock"][8]) \
        == (7, 5, 2)
    assert projection["free_stock"][-1] == 2 and len(projection["days"]) == 8 + 7 + 1
    s.change_eta(shop, "P1", 1, (today + timedelta(days=1)).isoformat())
    clock.advance(days=3)  # P1 is late now: counted as arriving today
    late = s.sku_projection(shop, "LAMP")
    assert (late["inbound_arrived"][0], late["backorders_drawn"][0], late["free_stock"][0]) == (3, 3, 0)
    mug = s.sku_projection(shop, "MUG")
    assert min(mug["free_stock"]) == -5  # promised on the lead time: no supply yet
    with pytest.raises(NotFound):
        s.sku_projection(shop, "NOPE")


def test_kpi_trend_agrees_with_the_kpis_and_records_days(shop: Shop, clock: FixedClock) -> None:
    lamp_shop(shop, clock)
    s.adjust_stock(shop, "MUG", 10, "count")
    s.place_order(shop, "E", {"email": "e@example.com", "name": "E"}, [{"sku": "MUG", "qty": 2}])
    trend = s.kpi_trend(shop)
    week = trend["weekly"][-1]
    end = clock.today()
    figures = s.kpis(shop, (end - timedelta(days=6)).isoformat(), end.isoformat())
    assert week["week_ending"] == end.isoformat()
    assert week["backorder_rate"] == figures["backorder_rate"] and week["fill_rate"] == figures["fill_rate"]
    assert week["lines_placed"] == figures["lines_placed"] == 5
    assert trend["daily"] == [{"day": end.isoformat(), "open_backorders": 3, "open_backorder_units": 5,
                               "average_age_days": 3.0, "at_risk": 0}]
    s.record_day(shop)
    clock.advance(days=2)
    s.record_day(shop)
    daily = s.kpi_trend(shop)["daily"]
    assert [d["day"] for d in daily] == [end.isoformat(), (end + timedelta(days=2)).isoformat()]
    assert daily[0]["open_backorders"] == 3 and daily[1]["average_age_days"] == 5.0


def test_a_running_dispatcher_records_the_days_figures(shop: Shop, clock: FixedClock) -> None:
    import time

    import sqlalchemy as sa

    from restock.notify.dispatcher import Dispatcher
    from restock.storage.tables import daily_figures

    lamp_shop(shop, clock)
    dispatcher = Dispatcher(shop).start()  # its first round sweeps: overdue lines, then the day's figures
    try:
        deadline = time.monotonic() + 10
        rows: list[object] = []
        while not rows and time.monotonic() < deadline:
            with shop.engine.connect() as conn:
                rows = list(conn.execute(sa.select(daily_figures)))
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    assert [(r.day, r.open_backorders, r.open_backorder_units) for r in rows] == [  # type: ignore[attr-defined]
        (clock.today(), 4, 10)]
