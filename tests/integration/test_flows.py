"""Order, receipt and shipment flows through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from restock import services as s
from restock.errors import InvalidState
from restock.shop import Shop
from restock.storage.tables import metadata, stock
from tests.helpers import Given


def ready(shop: Shop, order_id: str) -> list[dict[str, object]]:
    return [sh for sh in s.list_shipments(shop)["shipments"] if sh["order"] == order_id]


def test_partial_order_ships_stock_now_and_the_backorder_separately_when_it_arrives(shop: Shop) -> None:
    tea_in_stock_and_pot_inbound(shop, "partial")

    first = ready(shop, "O1")
    assert [sh["lines"] for sh in first] == [[{"line": 1, "sku": "TEA", "qty": 2}]]
    s.ship(shop, first[0]["id"], tracking="TRK1")
    assert s.get_order(shop, "O1")["status"] == "partially_shipped"

    s.receive(shop, "P1", [{"line": 1, "qty": 3}])
    second = ready(shop, "O1")
    assert [sh["lines"] for sh in second] == [[{"line": 2, "sku": "POT", "qty": 1}]]
    s.ship(shop, second[0]["id"])
    order = s.get_order(shop, "O1")
    assert order["status"] == "shipped"
    assert [sh["tracking"] for sh in order["shipments"]] == ["TRK1", None]
    assert s.get_sku(shop, "POT")["stock"] | {"inbound": []} == {
        "location": "main", "on_hand": 2, "allocated": 0, "available": 2, "backordered": 0, "inbound": []}
    assert s.check_ledger(shop)["problems"] == []


def tea_in_stock_and_pot_inbound(shop: Shop, ship_policy: str) -> Given:
    """O1 asks for 2 TEA (in stock) and 1 POT (due on P1 in 4 days)."""
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=5)
    given.sku("POT", "inbound")
    given.po("P1", "POT", 3, eta_day=4)
    given.order("O1", ("TEA", 2), ("POT", 1), ship_policy=ship_policy)
    return given


def test_complete_order_waits_for_every_line_then_ships_once(shop: Shop) -> None:
    tea_in_stock_and_pot_inbound(shop, "complete")
    assert ready(shop, "O1") == []

    s.receive(shop, "P1", [{"line": 1, "qty": 1}])
    (shipment,) = ready(shop, "O1")
    assert shipment["lines"] == [{"line": 1, "sku": "TEA", "qty": 2}, {"line": 2, "sku": "POT", "qty": 1}]


def test_cancelling_the_backordered_line_of_a_complete_order_releases_the_rest(shop: Shop) -> None:
    tea_in_stock_and_pot_inbound(shop, "complete")
    s.cancel_order(shop, "O1", [{"line": 2}])
    (shipment,) = ready(shop, "O1")
    assert shipment["lines"] == [{"line": 1, "sku": "TEA", "qty": 2}]


def test_cancellation_frees_supply_for_the_next_in_line(shop: Shop) -> None:
    given = Given(shop)
    given.sku("MUG", "inbound", on_hand=2)
    given.po("P1", "MUG", 2, eta_day=5)
    given.po("P2", "MUG", 2, eta_day=15)
    given.order("A", ("MUG", 3))
    given.order("B", ("MUG", 2))
    assert given.days_out("B") == 16

    s.cancel_order(shop, "A")
    assert given.line("B")["allocated"] == 2
    assert given.days_out("B") == 1
    assert s.get_order(shop, "A")["status"] == "cancelled"
    assert [e["order_id"] for e in given.events("promise.advanced")] == ["B"]
    assert [e["data"]["qty"] for e in given.events("backorder.cancelled")] == [3]
    assert ready(shop, "A") == []
    assert s.check_ledger(shop)["problems"] == []


def test_cancelling_some_units_takes_backordered_units_first(shop: Shop) -> None:
    given = Given(shop)
    given.sku("MUG", "inbound", on_hand=2)
    given.po("P1", "MUG", 5, eta_day=5)
    given.order("A", ("MUG", 4))

    s.cancel_order(shop, "A", [{"line": 1, "qty": 1}])
    assert (given.line("A")["allocated"], given.line("A")["backordered"], given.line("A")["cancelled"]) == (2, 1, 1)
    s.cancel_order(shop, "A", [{"line": 1, "qty": 2}])
    line = given.line("A")
    assert (line["allocated"], line["backordered"], line["cancelled"]) == (1, 0, 3)
    assert ready(shop, "A")[0]["lines"] == [{"line": 1, "sku": "MUG", "qty": 1}]
    assert s.get_sku(shop, "MUG")["stock"]["inbound"][0]["qty_promised"] == 0
    assert s.check_ledger(shop)["problems"] == []


def test_preorder_shipment_waits_for_the_release_date(shop: Shop, clock) -> None:  # type: ignore[no-untyped-def]
    given = Given(shop)
    given.sku("BOOK", "preorder", release_day=3, lead_time_days=5, on_hand=4)
    given.order("Z1", ("BOOK", 1))
    assert ready(shop, "Z1") == []
    shipment_id = s.get_order(shop, "Z1")["shipments"][0]["id"]
    with pytest.raises(InvalidState):
        s.ship(shop, shipment_id)
    clock.advance(days=3)
    assert [sh["id"] for sh in ready(shop, "Z1")] == [shipment_id]
    s.ship(shop, shipment_id)
    assert given.line("Z1")["shipped"] == 1


def test_shipping_twice_is_refused(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=5)
    given.order("O1", ("TEA", 1))
    (shipment,) = ready(shop, "O1")
    s.ship(shop, shipment["id"])
    with pytest.raises(InvalidState):
        s.ship(shop, shipment["id"])


def test_placement_writes_events_in_the_same_transaction(shop: Shop) -> None:
    given = Given(shop)
    given.sku("POT", "allow", lead_time_days=9)
    given.order("O1", ("POT", 2))
    placed, backordered = given.events("order.placed"), given.events("line.backordered")
    assert placed[0]["data"]["lines"][0] | {} == {
        "line": 1, "sku": "POT", "qty": 2, "allocated": 0, "backordered": 2,
        "promised_date": given.day(10), "estimated": True}
    assert (backordered[0]["order_id"], backordered[0]["data"]["qty"]) == ("O1", 2)
    ids = [e["id"] for e in given.events()]
    assert ids == list(range(1, len(ids) + 1))


def test_stock_arriving_for_a_sold_out_sku_says_back_in_stock(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny")
    s.adjust_stock(shop, "TEA", 3, "count")
    assert [e["data"]["available"] for e in given.events("sku.back_in_stock")] == [3]


def test_falling_below_the_reorder_point_is_signalled_once(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=10, reorder_point=5)
    given.order("O1", ("TEA", 4))
    given.order("O2", ("TEA", 2))
    given.order("O3", ("TEA", 1))
    assert [e["data"]["inventory_position"] for e in given.events("stock.below_reorder_point")] == [4]


def test_explain_names_the_supply_and_who_is_ahead(shop: Shop) -> None:
    given = Given(shop)
    given.sku("MUG", "allow", lead_time_days=12)
    given.po("P1", "MUG", 2, eta_day=5)
    given.order("A", ("MUG", 1))
    given.order("B", ("MUG", 3))
    why = s.explain_line(shop, "B", 1)
    assert [(x["kind"], x["qty"]) for x in why["supply"]] == [("purchase_order", 1), ("virtual", 2)]
    assert why["ahead"]["lines"] == 1 and why["ahead"]["first"][0]["order"] == "A"


def test_kpis_count_backorder_rate_fill_rate_and_promises_kept(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=10)
    given.sku("POT", "allow", lead_time_days=3)
    given.order("O1", ("TEA", 2))
    given.order("O2", ("POT", 2))
    s.ship(shop, ready(shop, "O1")[0]["id"])
    k = s.kpis(shop)
    assert (k["lines_placed"], k["backorder_rate"], k["fill_rate"]) == (2, 0.5, 0.5)
    assert (k["promises_kept"], k["open_backorders"], k["backorder_age_days"]["0-7"]) == (1.0, 1, 1)
    assert k["shipments"] == {"shipped": 1, "orders_split": 0, "ready": 0, "held_for_release": 0}


def test_the_ledger_check_finds_a_tampered_balance_and_rebuild_repairs_it(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=10)
    with shop.engine.begin() as conn:
        conn.execute(sa.update(stock).where(stock.c.sku == "TEA").values(on_hand=11))
    report = s.check_ledger(shop)
    assert not report["ok"]
    assert {p["check"] for p in report["problems"]} == {"on_hand = ledger available + allocated"}
    assert s.rebuild_balances(shop) == 1
    assert s.check_ledger(shop)["ok"]


def test_migrations_create_exactly_the_schema_the_code_uses(shop: Shop) -> None:
    with shop.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_locations_handling_days_date_new_promises(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=5)
    s.put_location(shop, "main", "Main warehouse", 3)
    given.order("O1", ("TEA", 1))
    assert given.days_out("O1") == 3


def test_a_shorter_lead_time_brings_estimated_promises_forward(shop: Shop) -> None:
    given = Given(shop)
    given.sku("LAMP", "allow", lead_time_days=20)
    given.order("Y1", ("LAMP", 2))
    assert given.days_out("Y1") == 21
    s.put_sku(shop, "LAMP", "Lamp", "10.00", "4.00", {"mode": "allow"}, [{"supplier": "ACME", "lead_time_days": 9}])
    assert given.days_out("Y1") == 10
    assert [e["data"]["cause"] for e in given.events("promise.advanced")] == ["policy_change"]


def test_changing_a_sku_to_deny_keeps_the_backorders_already_accepted(shop: Shop) -> None:
    given = Given(shop)
    given.sku("LAMP", "allow", lead_time_days=20)
    given.order("Y1", ("LAMP", 2))
    s.put_sku(shop, "LAMP", "Lamp", "10.00", "4.00", {"mode": "deny"}, [{"supplier": "ACME", "lead_time_days": 20}])
    assert (given.line("Y1")["backordered"], given.days_out("Y1")) == (2, 21)
    assert s.check_ledger(shop)["ok"]


def test_a_receipt_filling_many_lines_writes_every_row_faithfully(shop: Shop) -> None:
    """Enough lines that bulk writes take their fast path (COPY on PostgreSQL)."""
    given = Given(shop)
    given.sku("MUG", "inbound")
    given.po("P1", "MUG", 150, eta_day=6)
    for n in range(30):
        given.order(f"O{n:02d}", *[("MUG", 1)] * 5)
    s.receive(shop, "P1", [{"line": 1, "qty": 150}])

    lines = [line for n in range(30) for line in s.get_order(shop, f"O{n:02d}")["lines"]]
    assert {(line["allocated"], line["backordered"], line["promised_date"]) for line in lines} == {
        (1, 0, given.day(1))}
    assert {tuple((c["from"], c["to"], c["cause"]) for c in line["promise_changes"]) for line in lines} == {
        ((given.day(7), given.day(1), "received"),)}
    advanced = given.events("promise.advanced")
    assert len(advanced) == 150
    assert advanced[0]["data"] | {"order": "O00", "line": 1} == {
        "order": "O00", "line": 1, "sku": "MUG", "old_date": given.day(7), "new_date": given.day(1),
        "first_promised_date": given.day(7), "estimated": False, "cause": "received"}
    assert len(s.list_shipments(shop, limit=1000)["shipments"]) == 30
    assert s.check_ledger(shop)["problems"] == []


def test_a_database_error_in_a_bulk_write_surfaces_as_sqlalchemys(shop: Shop) -> None:
    from sqlalchemy.exc import IntegrityError

    from restock.storage import bulk
    from restock.storage.tables import counters

    with shop.engine.begin() as conn, pytest.raises(IntegrityError):
        bulk.executemany(conn, sa.insert(counters), [{"name": f"c{n}", "value": 0} for n in range(150)]
                         + [{"name": "events", "value": 0}])


def test_the_answer_to_a_placement_is_the_order_as_stored(shop: Shop) -> None:
    given = Given(shop)
    given.sku("TEA", "deny", on_hand=5)
    given.sku("POT", "inbound")
    given.sku("BOOK", "preorder", release_day=9, lead_time_days=4, on_hand=1)
    given.po("P1", "POT", 3, eta_day=4)
    placed = given.order("O1", ("TEA", 2), ("POT", 1), ("BOOK", 2), ("TEA", 1))
    assert placed == s.get_order(shop, "O1")
    assert len(placed["shipments"]) == 2


def test_open_backorders_are_counted_by_age_in_days(shop: Shop, clock) -> None:  # type: ignore[no-untyped-def]
    given = Given(shop)
    given.sku("LAMP", "allow", lead_time_days=60)
    given.order("A", ("LAMP", 1))
    clock.advance(days=7)
    given.order("B", ("LAMP", 1))
    clock.advance(days=1)
    given.order("C", ("LAMP", 2))
    k = s.kpis(shop)
    assert (k["open_backorders"], k["open_backorder_units"]) == (3, 4)
    assert k["backorder_age_days"] == {"0-7": 2, "8-14": 1, "15-30": 0, "31+": 0}
    clock.advance(days=23)
    assert s.kpis(shop)["backorder_age_days"] == {"0-7": 0, "8-14": 0, "15-30": 2, "31+": 1}


def test_a_receipt_writing_hundreds_of_events_numbers_them_in_one_unbroken_run(shop: Shop) -> None:
    given = Given(shop)
    given.sku("PEG", "inbound")
    given.po("P1", "PEG", 400, 9)
    for n in range(300):
        given.order(f"O{n}", ("PEG", 1))
    before = len(given.events())
    s.receive(shop, "P1", [{"line": 1, "qty": 400}])
    ids = [e["id"] for e in given.events()]
    assert len(ids) - before >= 600  # each line: line.allocated and promise.advanced, and more
    assert ids == list(range(1, len(ids) + 1))
    assert all(s.get_order(shop, f"O{n}")["lines"][0]["allocated"] == 1 for n in (0, 150, 299))
