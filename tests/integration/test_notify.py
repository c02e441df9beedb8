"""Event delivery against real peers: webhooks to an HTTP receiver that checks
signatures, emails to an SMTP server; retries, dead letters and replay; the
customer's choices on a delayed line; overdue backorders. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from restock import services as s
from restock.clock import FixedClock
from restock.domain.quotes import spoken_date
from restock.errors import InvalidInput, InvalidState, NotFound
from restock.notify.dispatcher import Dispatcher, DispatchSettings
from restock.services.deliveries import Retry
from restock.shop import Shop
from tests.helpers import Given
from tests.receivers import Mailbox, Receiver, html_of, text_of

FAST = DispatchSettings(retry=Retry(attempts=4, base_seconds=0), threads=4, batch=50)


def dispatcher(shop: Shop, mailbox: Mailbox | None = None) -> Dispatcher:
    settings = FAST if mailbox is None else DispatchSettings(
        retry=FAST.retry, threads=4, batch=50, smtp_url=mailbox.url, mail_from="Kettle & Clay <shop@example.com>")
    return Dispatcher(shop, settings, seed=1)


def place(shop: Shop, order_id: str, email: str, *lines: tuple[str, int]) -> dict[str, object]:
    return s.place_order(shop, order_id, {"email": email, "name": email.split("@")[0].title()},
                         [{"sku": k, "qty": q} for k, q in lines])


def mug_shop(shop: Shop) -> Given:
    """EXAMPLES.md 1: MUG, inbound, 2 on hand, P1 4 units day 5, P2 6 units day 9."""
    g = Given(shop)
    g.sku("MUG", "inbound", on_hand=2)
    g.po("P1", "MUG", 4, 5)
    g.po("P2", "MUG", 6, 9)
    return g


def feed(shop: Shop) -> list[dict[str, object]]:
    return s.list_events(shop, None, 1000)["events"]


# -- webhooks -------------------------------------------------------------------------


def in_order_per_key(accepted: list[dict[str, object]]) -> bool:
    """Deliveries of one order (or one SKU, or the shop) arrive in event order."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for e in accepted:
        by_key[str(e["data"].get("order") or e["data"].get("sku") or "shop")].append(int(e["id"]))
    return all(ids == sorted(ids) for ids in by_key.values())


def test_webhook_gets_every_event_once_in_order_per_order_signed_with_its_secret(shop: Shop) -> None:
    with Receiver("s3cret") as rx:
        s.put_webhook(shop, "erp", rx.url, ["*"], "s3cret")
        g = mug_shop(shop)
        g.order("X1", ("MUG", 3))
        g.order("X2", ("MUG", 4))
        s.change_eta(shop, "P1", 1, g.day(11))
        d = dispatcher(shop)
        d.drain()
        d.stop()
    events = feed(shop)
    assert len(events) > 8
    assert sorted(rx.accepted(), key=lambda e: e["id"]) == events
    assert in_order_per_key(rx.accepted())
    assert all(r["signed"] for r in rx.requests)
    assert [int(r["headers"]["X-Restock-Event-Id"]) for r in rx.requests] == [e["id"] for e in rx.accepted()]
    assert s.delivery_figures(shop) == {"pending": 0, "done": len(events), "dead": 0, "events_waiting": 0}


def test_webhook_filter_sends_only_the_types_asked_for(shop: Shop) -> None:
    with Receiver("k") as rx:
        s.put_webhook(shop, "delays", rx.url, ["promise.delayed"], "k")
        g = mug_shop(shop)
        g.order("X1", ("MUG", 3))
        s.change_eta(shop, "P1", 1, g.day(11))
        dispatcher(shop).drain()
    assert [e["type"] for e in rx.accepted()] == ["promise.delayed"]
    assert rx.accepted()[0]["data"]["old_date"] == g.day(6)


def test_a_receiver_down_then_up_gets_everything_in_order_per_order(shop: Shop) -> None:
    g = mug_shop(shop)
    s.put_webhook(shop, "erp", "http://127.0.0.1:9/nobody-listens", ["*"], "k")
    g.order("X1", ("MUG", 3))
    g.order("X2", ("MUG", 4))
    d = dispatcher(shop)
    assert d.run_once() > 0
    assert s.delivery_figures(shop)["done"] == 0
    assert any("ConnectError" in (d["last_error"] or "") for d in s.list_deliveries(shop, "pending")["deliveries"])
    # Up again, answering 503 to its first three requests.
    with Receiver("k", answer=lambda n: 503 if n <= 3 else 200) as rx:
        s.put_webhook(shop, "erp", rx.url, ["*"], "k")
        s.change_eta(shop, "P1", 1, g.day(11))
        d.drain()
    events = feed(shop)
    assert sorted(e["id"] for e in rx.accepted()) == [e["id"] for e in events]
    assert in_order_per_key(rx.accepted())
    assert len(rx.requests) > len(events)


def test_a_receiver_that_always_fails_ends_in_dead_letters_and_replay_delivers(shop: Shop) -> None:
    g = mug_shop(shop)
    with Receiver("k", answer=lambda n: 500) as rx:
        s.put_webhook(shop, "erp", rx.url, ["order.placed"], "k")
        g.order("X1", ("MUG", 1))
        g.order("X2", ("MUG", 1))
        dispatcher(shop).drain()
        assert len(rx.requests) == 2 * FAST.retry.attempts
    dead = s.list_deliveries(shop, "dead")["deliveries"]
    assert [(d["attempts"], d["last_error"]) for d in dead] == [(4, "the receiver answered HTTP 500")] * 2
    with Receiver("k") as rx:
        s.put_webhook(shop, "erp", rx.url, ["order.placed"], "k")
        assert s.retry_deliveries(shop) == 2
        dispatcher(shop).drain()
    assert sorted(e["data"]["order"] for e in rx.accepted()) == ["X1", "X2"]
    assert s.delivery_figures(shop)["dead"] == 0


def test_webhook_settings_are_checked(shop: Shop) -> None:
    for url, events in (("ftp://x/y", ["*"]), ("http://127.0.0.1/h", ["order.exploded"]), ("http://h/", [])):
        with pytest.raises(InvalidInput):
            s.put_webhook(shop, "bad", url, events, "k")
    assert s.list_webhooks(shop) == []
    with pytest.raises(NotFound):
        s.delete_webhook(shop, "nope")


# -- emails ---------------------------------------------------------------------------


def test_confirmation_marks_each_backordered_line_with_its_date(shop: Shop) -> None:
    g = mug_shop(shop)
    g.sku("TEA", "deny", on_hand=5)
    order = place(shop, "X1", "ada@example.com", ("TEA", 1), ("MUG", 3))
    with Mailbox() as mail:
        dispatcher(shop, mail).drain()
    [message] = mail.to("ada@example.com")
    text, html = text_of(message), html_of(message)
    assert message["Subject"] == "Your order X1 is confirmed"
    on = spoken_date(date.fromisoformat(g.day(6)), g.today)
    assert "Mug x 3: 2 in stock, ready to ship; 1 on backorder, ships by " + on in text
    assert "Tea x 1: 1 in stock, ships by " + spoken_date(date.fromisoformat(g.day(1)), g.today) in text
    assert str(order["status_url"]) in text and f'href="{order["status_url"]}"' in html
    assert "backordered" not in text.lower()


def test_a_slip_sends_one_delay_notice_with_both_dates_and_the_link_to_choose(shop: Shop) -> None:
    g = mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 3))
    place(shop, "X2", "bo@example.com", ("MUG", 4))
    place(shop, "X3", "cy@example.com", ("MUG", 5))
    with Mailbox() as mail:
        d = dispatcher(shop, mail)
        d.drain()
        s.change_eta(shop, "P1", 1, g.day(11))
        d.drain()
    delays = [m for m in mail.messages if "new date" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in delays) == ["Ada <ada@example.com>", "Cy <cy@example.com>"]
    text = text_of(mail.to("cy@example.com")[-1])
    new, old = (spoken_date(date.fromisoformat(g.day(n)), g.today) for n in (12, 10))
    assert f"now ships by {new} (we said {old})" in text
    assert "You can keep waiting or cancel it: " + str(s.get_order(shop, "X3")["status_url"]) in text


def test_changes_to_one_order_made_together_are_one_email(shop: Shop) -> None:
    g = Given(shop)
    g.sku("POT", "inbound")
    g.sku("CUP", "inbound")
    g.po("P1", "POT", 5, 4)
    g.po("P2", "CUP", 5, 4)
    place(shop, "X1", "ada@example.com", ("POT", 2), ("CUP", 2), ("POT", 1))
    with Mailbox() as mail:
        d = dispatcher(shop, mail)
        d.drain()
        s.receive(shop, "P1", [{"line": 1, "qty": 5}])  # lines 1 and 3 are in stock at once
        d.drain()
    assert [str(m["Subject"]) for m in mail.messages] == [
        "Your order X1 is confirmed", "Your order X1: back in stock, shipping soon"]
    text = text_of(mail.messages[1])
    assert text.count("back in stock for you") == 2


def test_cancellation_and_shipment_emails(shop: Shop) -> None:
    mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 3))
    shipment = s.list_shipments(shop)["shipments"][0]
    with Mailbox() as mail:
        d = dispatcher(shop, mail)
        s.ship(shop, shipment["id"], tracking="1Z999")
        s.cancel_order(shop, "X1", [{"line": 1, "qty": 1}])
        d.drain()
    subjects = [str(m["Subject"]) for m in mail.messages]
    assert subjects == ["Your order X1 is confirmed", "Your order X1 has shipped",
                        "Part of your order X1 is cancelled"]
    assert "Shipped: Mug x 2 (tracking: 1Z999)." in text_of(mail.messages[1])
    assert "Mug: 1 cancelled" in text_of(mail.messages[2])


# -- the customer's choices -------------------------------------------------------------


def test_a_wrong_or_cut_token_finds_nothing(shop: Shop) -> None:
    mug_shop(shop)
    token = str(place(shop, "X1", "ada@example.com", ("MUG", 3))["status_url"]).rsplit("/", 1)[1]
    assert len(token) == 32
    assert s.status_page(shop, token)["id"] == "X1"
    for wrong in (token[:-1], token[:16], token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x" * 32):
        with pytest.raises(NotFound):
            s.status_page(shop, wrong)


def test_customer_cancels_a_delayed_line_and_the_next_in_line_moves_earlier(shop: Shop) -> None:
    g = mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 3))
    place(shop, "X2", "bo@example.com", ("MUG", 4))
    place(shop, "X3", "cy@example.com", ("MUG", 5))
    s.change_eta(shop, "P1", 1, g.day(11))  # X3: day 10 -> day 12, 1 from P2 + 4 from P1
    token = str(s.get_order(shop, "X3")["status_url"]).rsplit("/", 1)[1]
    with pytest.raises(InvalidState):
        s.keep_waiting(shop, str(s.get_order(shop, "X2")["status_url"]).rsplit("/", 1)[1], 1)  # X2 did not move
    page = s.status_page(shop, token)
    assert page["lines"][0]["can_choose"] and page["lines"][0]["moved_later"]

    s.cancel_waiting(shop, token, 1)
    assert s.get_order(shop, "X3")["lines"][0]["cancelled"] == 5
    assert g.events("backorder.cancelled")[-1]["data"]["by"] == "customer"
    # X1 (day 10 after the slip) gets no earlier; the freed P2 unit is X1's and X2's already. Now a newcomer:
    place(shop, "X4", "di@example.com", ("MUG", 1))
    assert g.days_out("X4") == 10


def test_freed_supply_goes_to_the_next_backorder_which_hears_good_news(shop: Shop) -> None:
    g = Given(shop)
    g.sku("LAMP", "inbound")
    g.po("P1", "LAMP", 2, 3)
    g.po("P2", "LAMP", 2, 20)
    place(shop, "Y1", "ada@example.com", ("LAMP", 2))  # P1, day 4
    place(shop, "Y2", "bo@example.com", ("LAMP", 2))   # P2, day 21
    s.change_eta(shop, "P1", 1, g.day(15))  # Y1 -> day 16 (delayed); Y2 stays day 21
    token = str(s.get_order(shop, "Y1")["status_url"]).rsplit("/", 1)[1]
    s.cancel_waiting(shop, token, 1)
    assert g.days_out("Y2") == 16
    advanced = g.events("promise.advanced")[-1]
    assert (advanced["order_id"], advanced["data"]["new_date"]) == ("Y2", g.day(16))


def test_keep_waiting_is_remembered_until_the_date_moves_again(shop: Shop) -> None:
    g = mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 3))
    place(shop, "X2", "bo@example.com", ("MUG", 4))
    s.change_eta(shop, "P1", 1, g.day(11))
    s.change_eta(shop, "P2", 1, g.day(10))  # X2 -> day 11: later than its first promise (day 10)
    token = str(s.get_order(shop, "X2")["status_url"]).rsplit("/", 1)[1]
    s.keep_waiting(shop, token, 1)
    assert not s.status_page(shop, token)["lines"][0]["can_choose"]
    assert g.events("customer.kept_waiting")[-1]["data"] == {
        "order": "X2", "line": 1, "sku": "MUG", "promised_date": g.day(11)}
    s.change_eta(shop, "P2", 1, g.day(13))
    assert s.status_page(shop, token)["lines"][0]["can_choose"]


# -- overdue ---------------------------------------------------------------------------


def test_overdue_backorder_is_raised_once_and_cancelled_when_the_sku_says_so(shop: Shop) -> None:
    g = Given(shop)
    g.sku("TENT", "inbound", max_wait_days=10)
    g.sku("TARP", "inbound", max_wait_days=10)
    s.put_sku(shop, "TARP", "Tarp", "10", "4", {"mode": "inbound", "max_wait_days": 10, "cancel_overdue": True},
              [{"supplier": "ACME"}])
    g.po("P1", "TENT", 2, 6)
    g.po("P2", "TARP", 2, 6)
    place(shop, "V1", "ada@example.com", ("TENT", 2))
    place(shop, "V2", "bo@example.com", ("TARP", 2))
    assert s.sweep_overdue(shop) == {"overdue": 0, "cancelled": 0}
    s.change_eta(shop, "P1", 1, g.day(12))  # promised day 13 > placed + 10
    s.change_eta(shop, "P2", 1, g.day(12))
    assert s.sweep_overdue(shop) == {"overdue": 2, "cancelled": 1}
    assert s.sweep_overdue(shop) == {"overdue": 0, "cancelled": 0}
    overdue = g.events("backorder.overdue")
    assert [(e["order_id"], e["data"]["cancelled"]) for e in overdue] == [("V1", False), ("V2", True)]
    assert s.get_order(shop, "V1")["lines"][0]["backordered"] == 2
    assert s.get_order(shop, "V2")["lines"][0]["cancelled"] == 2
    assert g.events("backorder.cancelled")[-1]["data"]["by"] == "overdue"
    assert s.check_ledger(shop)["problems"] == []


def test_a_backorder_still_open_past_its_wait_is_overdue(shop: Shop) -> None:
    g = Given(shop)
    g.sku("TENT", "allow", max_wait_days=10, lead_time_days=5)
    place(shop, "V1", "ada@example.com", ("TENT", 1))  # virtual, day 6
    shop.clock.advance(days=11)  # type: ignore[attr-defined]
    assert s.sweep_overdue(shop) == {"overdue": 1, "cancelled": 0}
    assert g.events("backorder.overdue")[0]["data"]["wait_limit"] == (g.today + timedelta(days=10)).isoformat()


def test_a_shop_overrides_the_email_templates(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "order.txt").write_text("Dear {{ order.customer_name }}, {{ subject }}.\n")
    (tmp_path / "email" / "order.html").write_text("<p>{{ subject }}</p>\n")
    monkeypatch.setenv("RESTOCK_TEMPLATES", str(tmp_path))
    mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 1))
    with Mailbox() as mail:
        dispatcher(shop, mail).drain()
    assert text_of(mail.messages[0]).strip() == "Dear Ada, Your order X1 is confirmed."


def test_a_partial_shipment_says_the_rest_follows(shop: Shop) -> None:
    mug_shop(shop)
    place(shop, "X1", "ada@example.com", ("MUG", 3))  # 2 ship now, 1 waits for P1
    with Mailbox() as mail:
        d = dispatcher(shop, mail)
        d.drain()
        s.ship(shop, s.list_shipments(shop)["shipments"][0]["id"], tracking="1Z1")
        d.drain()
    assert str(mail.messages[-1]["Subject"]) == "Part of your order X1 has shipped; the rest follows"
    assert "Mug x 3: 2 shipped; 1 on backorder" in text_of(mail.messages[-1])


def test_prune_forgets_old_done_deliveries_and_idempotency_answers_but_keeps_the_rest(shop: Shop) -> None:
    from restock.storage.uow import Idempotency, idempotent

    g = mug_shop(shop)
    idempotent(shop, Idempotency("k:1", "f"), s.adjust_stock, "MUG", 1, "count")
    with Receiver("k", answer=lambda n: 200 if n == 1 else 500) as rx:
        s.put_webhook(shop, "erp", rx.url, ["order.placed"], "k")
        g.order("X1", ("MUG", 1))
        g.order("X2", ("MUG", 1))
        dispatcher(shop).drain()
    assert s.delivery_figures(shop)["done"] == 1 and s.delivery_figures(shop)["dead"] == 1
    assert s.prune(shop, 30) == {"deliveries": 0, "idempotency_keys": 0}
    written = feed(shop)
    shop.clock.advance(days=31)  # type: ignore[attr-defined]
    assert s.prune(shop, 30) == {"deliveries": 1, "idempotency_keys": 1}
    assert s.delivery_figures(shop)["done"] == 0 and s.delivery_figures(shop)["dead"] == 1
    assert feed(shop) == written  # events stay: they are the history


def test_an_idle_dispatcher_reads_but_never_waits_for_the_write_lock(sqlite_url: str, clock: FixedClock) -> None:
    import sqlite3
    import threading

    shop = Shop.open(sqlite_url, clock, upgrade=False)
    d = dispatcher(shop)
    d.drain()  # nothing written yet: nothing to do
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    answers: list[int] = []
    rounds = threading.Thread(target=lambda: answers.append(d.run_once()))
    rounds.start()
    rounds.join(timeout=3)
    finished_while_locked = not rounds.is_alive()
    writer.execute("ROLLBACK")
    writer.close()
    rounds.join()
    assert finished_while_locked and answers == [0]
    d.stop()
    shop.close()
