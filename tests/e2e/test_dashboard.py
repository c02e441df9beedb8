"""The operations dashboard: login and roles, every page for admin and viewer,
refusals that change nothing, bulk cancel after confirmation, policy edits,
plan review — over HTTP; and in Debian's chromium (Playwright): KPI tiles
against /v1/kpis, the queue filtered, a SKU's chart drawn, an ETA changed after
its preview, with the dates and events that follow."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from restock import services as s
from restock.api import create_app
from restock.planning.history import History
from restock.shop import Shop
from restock.web.dashboard import dashboard
from tests.e2e.browser import SCREENSHOTS, chromium


def ops_shop(shop: Shop) -> dict[str, str]:
    """LAMP (inbound) waits on P1 (+4) and P2 (+12); MUG (allow) on P3 (+6) and KILN's lead time;
    BULB ships from stock. Admin, viewer and storefront keys."""
    today = shop.clock.today()

    def due(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    s.put_supplier(shop, "ACME", "Acme Lighting", 10, 2.0)
    s.put_supplier(shop, "KILN", "Kiln Works", 20)
    s.put_sku(shop, "LAMP", "Desk lamp", "40", "15", {"mode": "inbound"}, [{"supplier": "ACME"}])
    s.put_sku(shop, "MUG", "Stoneware mug", "9", "3", {"mode": "allow"}, [{"supplier": "KILN"}])
    s.put_sku(shop, "BULB", "Warm bulb", "4", "1", {"mode": "deny"}, [{"supplier": "ACME"}])
    s.adjust_stock(shop, "BULB", 20, "count")
    s.adjust_stock(shop, "LAMP", 1, "count")
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 3, "eta": due(4)}], id="P1")
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 6, "eta": due(12)}], id="P2")
    s.create_po(shop, "KILN", [{"sku": "MUG", "qty": 4, "eta": due(6)}], id="P3")
    for order_id, lines in (("O1", [("LAMP", 2), ("BULB", 1)]), ("O2", [("LAMP", 3)]), ("O3", [("LAMP", 2)]),
                            ("O4", [("MUG", 3)]), ("O5", [("BULB", 2)]), ("O6", [("MUG", 3)])):
        s.place_order(shop, order_id, {"email": f"{order_id.lower()}@example.com", "name": f"Customer {order_id}"},
                      [{"sku": sku, "qty": qty} for sku, qty in lines])
    return {role: s.create_key(shop, role, role)["key"] for role in ("admin", "viewer", "storefront")}


PAGES = ["/dashboard", "/dashboard/backorders", "/dashboard/backorders?sku=LAMP&supplier=ACME&min_age=0&at_risk=1",
         "/dashboard/skus", "/dashboard/skus/LAMP", "/dashboard/purchase-orders",
         "/dashboard/purchase-orders?status=&supplier=ACME", "/dashboard/purchase-orders/P1", "/dashboard/events",
         "/dashboard/events?type=promise.delayed&sku=LAMP", "/dashboard/plans", "/dashboard/orders/O1/lines/1/explain"]

# Every change the dashboard offers, with a valid form (each must refuse a viewer).
ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("/dashboard/backorders/cancel", {"line": "O3|1", "confirm": "yes"}),
    ("/dashboard/skus/{sku}", {"name": "Desk lamp", "price": "40", "unit_cost": "15", "mode": "inbound",
                               "supplier": "ACME", "lead_time_days": "10", "lead_time_sd_days": "2",
                               "supplier_unit_cost": "15", "moq": "1", "pack_size": "1"}),
    ("/dashboard/purchase-orders/{po_id}/lines/{line}/eta/preview", {"eta": "+9"}),
    ("/dashboard/purchase-orders/{po_id}/lines/{line}/eta", {"eta": "+9"}),
    ("/dashboard/purchase-orders/{po_id}/receive", {"qty_1": "1"}),
    ("/dashboard/purchase-orders/{po_id}/close", {}),
    ("/dashboard/deliveries/retry", {}),
    ("/dashboard/plans", {"service_level": "95", "horizon_days": "28"}),
    ("/dashboard/plans/{plan_id}/approve", {"sku": "LAMP"}),
]


def concrete(path: str) -> str:
    return path.format(sku="LAMP", po_id="P1", line=1, plan_id="PLAN-X")


def with_dates(shop: Shop, form: dict[str, Any]) -> dict[str, Any]:
    """"+N" in a form: today + N days."""
    return {k: (shop.clock.today() + timedelta(days=int(v[1:]))).isoformat() if isinstance(v, str) and
            v.startswith("+") else v for k, v in form.items()}


def logged_in(shop: Shop, key: str) -> TestClient:
    client = TestClient(create_app(shop))
    answer = client.post("/dashboard/login", data={"key": key, "next": "/dashboard"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    assert "httponly" in answer.headers["set-cookie"].lower() and "samesite=strict" in answer.headers[
        "set-cookie"].lower()
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "an admin page carries its form token"
    return found.group(1)


def state(shop: Shop) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    return (s.list_events(shop, None, 1000)["next"], s.get_po(shop, "P1"), s.get_sku(shop, "LAMP"),
            s.list_plans(shop), s.backorder_queue(shop)["total_units"])


def test_every_dashboard_action_is_listed_here() -> None:
    routes = {r.path for r in dashboard.routes if isinstance(r, APIRoute) and "POST" in r.methods}
    assert routes - {"/dashboard/login", "/dashboard/logout"} == {path for path, _ in ACTIONS}


def test_pages_need_a_login_with_an_admin_or_viewer_key(shop: Shop) -> None:
    keys = ops_shop(shop)
    client = TestClient(create_app(shop))
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dashboard/login?next=")
    client.cookies.set("restock_key", "rk_not-a-key", path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    client.cookies.clear()
    unknown = client.post("/dashboard/login", data={"key": "rk_nope"}, follow_redirects=False)
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.text and "set-cookie" not in unknown.headers
    storefront = client.post("/dashboard/login", data={"key": keys["storefront"]}, follow_redirects=False)
    assert storefront.status_code == 403 and "storefront key" in storefront.text
    away = client.post("/dashboard/login", data={"key": keys["admin"], "next": "https://evil.example/x"},
                       follow_redirects=False)
    assert away.headers["location"] == "/dashboard"
    gone = client.post("/dashboard/logout", follow_redirects=False)
    assert gone.status_code == 303 and 'restock_key=""' in gone.headers["set-cookie"]


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_page_answers_admin_and_viewer_and_a_viewer_sees_no_action(shop: Shop, role: str) -> None:
    keys = ops_shop(shop)
    client = logged_in(shop, keys[role])
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html")
        forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page.text)
        if role == "viewer":
            assert forms in ([], ["/dashboard/logout"]), (path, forms)
            assert 'name="csrf"' not in page.text and "hx-post" not in page.text
    admin_po = logged_in(shop, keys["admin"]).get("/dashboard/purchase-orders/P1").text
    assert "Preview" in admin_po and "Close P1 short" in admin_po
    spoof = client.get("/dashboard?done=Call+0800+to+keep+your+account&sig=0123456789abcdef0123").text
    assert "Call 0800" not in spoof  # a notice shows only when the server signed it


def test_a_viewer_cannot_change_anything_nor_an_admin_without_the_form_token(shop: Shop) -> None:
    keys = ops_shop(shop)
    viewer, admin = logged_in(shop, keys["viewer"]), logged_in(shop, keys["admin"])
    token = csrf_of(admin.get("/dashboard/purchase-orders/P1").text)
    before = state(shop)
    for path, form in ACTIONS:
        refused = viewer.post(concrete(path), data={**with_dates(shop, form), "csrf": token}, follow_redirects=False)
        assert refused.status_code == 403 and "may look but not change" in refused.text, path
        stale = admin.post(concrete(path), data={**with_dates(shop, form), "csrf": "0" * 32}, follow_redirects=False)
        assert stale.status_code == 403 and "out of date" in stale.text, path
        bare = admin.post(concrete(path), data=with_dates(shop, form), follow_redirects=False)
        assert bare.status_code == 403, path
    assert state(shop) == before


def test_bad_input_gets_a_clear_error_and_changes_nothing(shop: Shop) -> None:
    keys = ops_shop(shop)
    admin = logged_in(shop, keys["admin"])
    token = csrf_of(admin.get("/dashboard/purchase-orders/P1").text)
    yesterday = (shop.clock.today() - timedelta(days=1)).isoformat()
    lamp = dict(ACTIONS[1][1])
    before = state(shop)
    for path, form, status, words in [
        ("/dashboard/purchase-orders/P1/lines/1/eta/preview", {"eta": "soon"}, 422, "eta must be a date"),
        ("/dashboard/purchase-orders/P1/lines/1/eta", {"eta": yesterday}, 422, "in the past"),
        ("/dashboard/purchase-orders/P1/lines/7/eta", {"eta": "2099-01-01"}, 404, "has no line 7"),
        ("/dashboard/purchase-orders/P9/lines/1/eta", {"eta": "2099-01-01"}, 404, "unknown purchase order"),
        ("/dashboard/purchase-orders/P1/receive", {"qty_1": "many"}, 422, "whole number"),
        ("/dashboard/purchase-orders/P1/receive", {"qty_1": "99"}, 422, "only 3 open"),
        ("/dashboard/purchase-orders/P1/receive", {"qty_1": ""}, 422, "at least one line"),
        ("/dashboard/skus/LAMP", {**lamp, "mode": "sometimes"}, 422, "mode"),
        ("/dashboard/skus/LAMP", {**lamp, "cap": "ten"}, 422, "cap must be a whole number"),
        ("/dashboard/skus/LAMP", {**lamp, "lead_time_days": "soon"}, 422, "lead time must be a whole number"),
        ("/dashboard/skus/LAMP", {**lamp, "price": "free"}, 422, "price"),
        ("/dashboard/backorders/cancel", {"line": "garbage"}, 422, "not an order line"),
        ("/dashboard/backorders/cancel", {"line": "ZZ|1", "confirm": "yes"}, 404, "unknown order ZZ"),
        ("/dashboard/backorders/cancel", {}, 422, "choose at least one line"),
        ("/dashboard/plans", {"service_level": "lots", "horizon_days": "28"}, 422, "service level"),
        ("/dashboard/plans", {"service_level": "95", "horizon_days": "0"}, 422, "horizon_days"),
        ("/dashboard/plans/PLAN-X/approve", {"sku": "LAMP"}, 404, "unknown plan"),
    ]:
        answer = admin.post(path, data={**form, "csrf": token}, follow_redirects=False)
        assert answer.status_code == status and words in answer.text, (path, form, answer.status_code,
                                                                       answer.text[-400:])
        assert "Nothing was changed" in answer.text
    for path, status in [("/dashboard/backorders?min_age=old", 422), ("/dashboard/backorders?page=0", 422),
                         ("/dashboard/events?type=nonsense", 422), ("/dashboard/events?before=x", 422),
                         ("/dashboard/skus/NOPE", 404), ("/dashboard/purchase-orders/NOPE", 404),
                         ("/dashboard/purchase-orders?status=lost", 422), ("/dashboard/plans/NOPE", 404),
                         ("/dashboard/orders/O1/lines/99/explain", 404)]:
        assert admin.get(path).status_code == status, path
    assert state(shop) == before
    assert s.check_ledger(shop)["ok"]


def test_bulk_cancel_shows_the_lines_first_then_cancels_on_confirmation(shop: Shop) -> None:
    keys = ops_shop(shop)
    admin = logged_in(shop, keys["admin"])
    queue = admin.get("/dashboard/backorders?sku=LAMP").text
    token = csrf_of(queue)
    assert 'value="O1|1"' in queue and 'value="O4|1"' not in queue  # filtered to LAMP
    ask = admin.post("/dashboard/backorders/cancel", data={"line": ["O1|1", "O3|1"], "csrf": token})
    assert ask.status_code == 200 and "Cancel 2 waiting lines?" in ask.text and "Customer O3" in ask.text
    assert s.get_order(shop, "O3")["lines"][0]["cancelled"] == 0
    done = admin.post("/dashboard/backorders/cancel", data={"line": ["O1|1", "O3|1"], "csrf": token,
                                                           "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and "Cancelled+2+waiting+lines" in done.headers["location"]
    o1, o3 = s.get_order(shop, "O1")["lines"][0], s.get_order(shop, "O3")["lines"][0]
    assert (o1["allocated"], o1["backordered"], o1["cancelled"]) == (1, 0, 1)
    assert (o3["backordered"], o3["cancelled"]) == (0, 2)
    cancelled = [e["data"]["order"] for e in s.list_events(shop, None, 1000)["events"]
                 if e["type"] == "backorder.cancelled"]
    assert sorted(cancelled) == ["O1", "O3"]


def test_an_admin_edits_policy_and_suppliers_and_waiting_lines_follow(shop: Shop) -> None:
    keys = ops_shop(shop)
    admin = logged_in(shop, keys["admin"])
    token = csrf_of(admin.get("/dashboard/skus/MUG").text)
    saved = admin.post("/dashboard/skus/MUG", data={
        "csrf": token, "name": "Stoneware mug", "price": "9.50", "unit_cost": "3", "mode": "allow", "cap": "50",
        "max_wait_days": "60", "release_date": "", "cancel_overdue": "no", "reorder_point": "12",
        "supplier": ["ACME", "KILN", ""], "lead_time_days": ["5", "20", ""], "lead_time_sd_days": ["1", "0", ""],
        "supplier_unit_cost": ["3.2", "3", ""], "moq": ["10", "1", "1"], "pack_size": ["5", "1", "1"]},
        follow_redirects=False)
    assert saved.status_code == 303, saved.text[-300:]
    mug = s.get_sku(shop, "MUG")
    assert mug["price"] == "9.5000" and mug["reorder_point"] == 12
    assert mug["backorder"] == {"mode": "allow", "cap": 50, "max_wait_days": 60, "release_date": None,
                                "cancel_overdue": False}
    assert [(i["supplier"], i["lead_time_days"], i["moq"]) for i in mug["suppliers"]] == [("ACME", 5, 10),
                                                                                           ("KILN", 20, 1)]
    # O6's units beyond P3 were promised on KILN's 20 days; ACME (5 days) is primary now.
    o6 = s.get_order(shop, "O6")["lines"][0]
    assert o6["promised_date"] == (shop.clock.today() + timedelta(days=7)).isoformat()


def test_a_plan_is_made_reviewed_and_approved_from_the_dashboard(shop: Shop) -> None:
    keys = ops_shop(shop)
    h, rng = History(), np.random.default_rng(3)
    for n, qty in enumerate(rng.poisson(6, 120)):
        h.add(shop.clock.today() - timedelta(days=120 - n), "BULB", int(qty), "")
    s.store_history(shop, "test", h)
    admin = logged_in(shop, keys["admin"])
    token = csrf_of(admin.get("/dashboard/plans").text)
    made = admin.post("/dashboard/plans", data={"csrf": token, "service_level": "95", "horizon_days": "28"},
                      follow_redirects=False)
    assert made.status_code == 303
    plan_path = made.headers["location"]
    deadline = time.monotonic() + 120
    while s.get_plan(shop, plan_path.rsplit("/", 1)[1])["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    page = admin.get(plan_path).text
    assert "Done:" in page and 'name="sku" value="BULB"' in page
    ordered = admin.post(plan_path + "/approve", data={"csrf": token, "sku": "BULB"}, follow_redirects=False)
    assert ordered.status_code == 303
    plan = s.get_plan(shop, plan_path.rsplit("/", 1)[1])
    po_id = next(r["purchase_order"] for r in plan["suggestions"] if r["sku"] == "BULB")
    assert po_id and s.get_po(shop, po_id)["lines"][0]["sku"] == "BULB"
    assert 'name="sku" value="BULB"' not in admin.get(plan_path).text  # ordered once
    assert po_id in admin.get("/dashboard/plans/" + plan["id"]).text


def test_the_dashboard_in_a_browser(served: tuple[str, Shop]) -> None:
    """Log in, check the KPI tiles against /v1/kpis, filter the queue, see a SKU's chart
    drawn, change an ETA after reading its preview, and see the dates and events follow."""
    from playwright.sync_api import expect, sync_playwright

    base, shop = served
    keys = ops_shop(shop)
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['viewer']}"})
    with sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(r.url))
        page.goto(base + "/dashboard")
        page.get_by_label("API key").fill(keys["admin"])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/dashboard")

        kpis = api.get("/v1/kpis").json()
        for name in ("backorder_rate", "fill_rate", "promises_kept", "open_backorders"):
            tile = page.locator(f"[data-kpi={name}]")
            shown = tile.get_attribute("data-value")
            assert (float(shown) if shown else None) == kpis[name], name
        assert page.locator("[data-kpi=backorder_rate] .value").inner_text() == \
            f"{kpis['backorder_rate'] * 100:.1f} %"
        assert int(page.locator("[data-kpi=open_backorders] .value").inner_text()) == kpis["open_backorders"]
        for label, n in kpis["backorder_age_days"].items():
            assert page.locator(f"[data-bucket='{label}'] b").inner_text() == str(n)
        expect(page.locator("[data-kpi=open_backorders] canvas")).to_have_count(1)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-overview.png"), full_page=True)

        page.get_by_role("link", name="Backorders").click()
        assert page.locator("[data-total]").get_attribute("data-total") == str(kpis["open_backorders"])
        page.get_by_label("SKU", exact=True).fill("LAMP")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("[data-total]")).to_have_attribute("data-total", "3")  # O1, O2, O3
        assert "sku=LAMP" in page.url
        assert set(page.locator("#queue tbody tr td:nth-child(3)").all_inner_texts()) == {"LAMP"}
        page.screenshot(path=str(SCREENSHOTS / "dashboard-queue.png"), full_page=True)

        page.goto(base + "/dashboard/skus/LAMP")
        chart = page.locator("#projection canvas")
        expect(chart).to_have_count(1)
        painted = chart.evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
        assert painted > 1000, f"the chart canvas is (nearly) empty: {painted} painted pixels"
        page.get_by_role("button", name="Why?").first.click()
        expect(page.locator("[data-explain]")).to_contain_text("pegged to P1")
        page.screenshot(path=str(SCREENSHOTS / "dashboard-sku.png"), full_page=True)

        today = shop.clock.today()
        before = {o: s.get_order(shop, o)["lines"][0]["promised_date"] for o in ("O1", "O2", "O3")}
        new_eta = (today + timedelta(days=15)).isoformat()
        page.goto(base + "/dashboard/purchase-orders/P1")
        page.get_by_label("New ETA of line 1").fill(new_eta)
        page.get_by_role("button", name="Preview").click()
        preview = page.locator("[data-preview]")
        expect(preview).to_be_visible()
        rows = preview.locator("tbody tr")
        shown_moves = {rows.nth(i).get_attribute("data-order"): rows.nth(i).locator("[data-new]")
                       .get_attribute("data-new") for i in range(rows.count())}
        # P2 (+12) now comes first: O1 moves to it, O2 and O3 keep their +13 on P2.
        assert shown_moves == {"O1": (today + timedelta(days=13)).isoformat()}
        assert s.get_order(shop, "O1")["lines"][0]["promised_date"] == before["O1"]  # a preview changes nothing
        page.screenshot(path=str(SCREENSHOTS / "dashboard-eta-preview.png"), full_page=True)
        preview.get_by_role("button", name=re.compile("^Confirm")).click()
        page.wait_for_url(re.compile(r".*/purchase-orders/P1\?done="))
        expect(page.locator("[role=status]")).to_contain_text("Every customer whose date moved is told")
        expect(page.locator("[data-eta]").first).to_have_attribute("data-eta", new_eta)
        after = {o: s.get_order(shop, o)["lines"][0]["promised_date"] for o in ("O1", "O2", "O3")}
        assert {o: after[o] for o in shown_moves} == shown_moves
        assert (after["O2"], after["O3"]) == (before["O2"], before["O3"])

        page.goto(base + "/dashboard/events?type=promise.delayed")
        told = set(page.locator("tbody tr[data-type='promise.delayed']").evaluate_all(
            "rows => rows.map(r => r.dataset.order)"))
        assert told == set(shown_moves)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-events.png"), full_page=True)
        page.goto(base + "/dashboard/backorders?sku=LAMP")
        assert page.locator("tr[data-order=O1] [data-promised]").get_attribute("data-promised") == after["O1"]
        for name, path in (("dashboard-pos", "/dashboard/purchase-orders"), ("dashboard-plans", "/dashboard/plans")):
            page.goto(base + path)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        tablet = browser.new_page(viewport={"width": 820, "height": 1180})
        tablet.context.add_cookies(page.context.cookies())
        tablet.goto(base + "/dashboard")
        tablet.screenshot(path=str(SCREENSHOTS / "dashboard-tablet.png"), full_page=True)
        assert problems == [], problems
        browser.close()


def test_receive_and_close_short_from_a_purchase_order_page(shop: Shop) -> None:
    keys = ops_shop(shop)
    admin = logged_in(shop, keys["admin"])
    token = csrf_of(admin.get("/dashboard/purchase-orders/P1").text)
    got = admin.post("/dashboard/purchase-orders/P1/receive", data={"csrf": token, "qty_1": "3"},
                     follow_redirects=False)
    assert got.status_code == 303 and "Received+3+units" in got.headers["location"]
    o1, o2 = s.get_order(shop, "O1")["lines"][0], s.get_order(shop, "O2")["lines"][0]
    assert (o1["allocated"], o1["backordered"]) == (2, 0) and (o2["allocated"], o2["backordered"]) == (2, 1)
    assert s.get_po(shop, "P1")["status"] == "received"
    assert "Change ETA" not in admin.get("/dashboard/purchase-orders/P1").text  # nothing left to move
    closed = admin.post("/dashboard/purchase-orders/P3/close", data={"csrf": token}, follow_redirects=False)
    assert closed.status_code == 303 and s.get_po(shop, "P3")["status"] == "closed"
    o4 = s.get_order(shop, "O4")["lines"][0]
    assert o4["estimated"] and o4["backordered"] == 3  # now on KILN's lead time, never dropped
    again = admin.post("/dashboard/purchase-orders/P3/close", data={"csrf": token})
    assert again.status_code == 409 and "is closed" in again.text
    assert s.check_ledger(shop)["ok"]


def test_the_events_page_filters_and_shows_the_deliveries(shop: Shop) -> None:
    keys = ops_shop(shop)
    s.put_webhook(shop, "erp", "http://127.0.0.1:9/hook", ["order.placed"], "secret")
    viewer = logged_in(shop, keys["viewer"])
    page = viewer.get("/dashboard/events?type=order.placed").text
    shown = re.findall(r'<tr data-type="([^"]+)" data-order="([^"]*)"', page)
    assert sorted(shown) == [("order.placed", f"O{n}") for n in range(1, 7)]
    o2 = viewer.get("/dashboard/events?order=O2").text
    by_order = re.findall(r'<tr data-type="([^"]+)" data-order="([^"]*)"', o2)
    assert by_order and {o for _, o in by_order} == {"O2"}
    assert "<b>erp</b> → http://127.0.0.1:9/hook" in page
    assert 'data-status="dead">0<' in page and "lines: 1" in o2
