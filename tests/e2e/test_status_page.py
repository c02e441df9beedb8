"""The customer's order-status page: over HTTP (no JavaScript), and in headless
Chromium (Debian's chromium, driven by Playwright) where a customer reads the
date and cancels a delayed line, and the next backorder in line moves earlier."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from restock import services as s
from restock.api import create_app
from restock.domain.quotes import spoken_date
from restock.shop import Shop
from tests.e2e.browser import SCREENSHOTS, chromium


def lamp_shop(shop: Shop) -> dict[str, str]:
    """Y1 waits for P1, Y2 for P2; P1 slips past P2's date. The status links by order."""
    today = shop.clock.today()
    s.put_supplier(shop, "ACME", "Acme", 12)
    s.put_sku(shop, "LAMP", "Brass desk lamp", "120", "50", {"mode": "inbound"}, [{"supplier": "ACME"}])
    s.put_sku(shop, "BULB", "Warm bulb", "4", "1", {"mode": "deny"}, [{"supplier": "ACME"}])
    s.adjust_stock(shop, "BULB", 10, "count")
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 2, "eta": (today + timedelta(days=3)).isoformat()}], id="P1")
    s.create_po(shop, "ACME", [{"sku": "LAMP", "qty": 2, "eta": (today + timedelta(days=20)).isoformat()}], id="P2")
    links = {}
    for order_id, email, lines in (("Y1", "ada@example.com", [("LAMP", 2), ("BULB", 2)]),
                                   ("Y2", "bo@example.com", [("LAMP", 2)])):
        placed = s.place_order(shop, order_id, {"email": email, "name": email.split("@")[0].title()},
                               [{"sku": k, "qty": q} for k, q in lines])
        links[order_id] = str(placed["status_url"])
    s.change_eta(shop, "P1", 1, (today + timedelta(days=15)).isoformat())
    return links


def path_of(link: str) -> str:
    return "/status/" + link.rsplit("/", 1)[1]


def test_status_page_in_plain_words_and_choices_without_javascript(shop: Shop) -> None:
    links = lamp_shop(shop)
    client = TestClient(create_app(shop))
    page = client.get(path_of(links["Y1"]))
    today = shop.clock.today()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Order Y1" in html and "Brass desk lamp" in html and "<script" not in html
    assert f"2 on backorder, ships by {spoken_date(today + timedelta(days=16), today)}" in html
    assert f"instead of {spoken_date(today + timedelta(days=4), today)}" in html
    assert "Warm bulb" in html and "Y2" not in html and "bo@example.com" not in html

    chose = client.post(path_of(links["Y1"]) + "/lines/1/wait", follow_redirects=False)
    assert chose.status_code == 303 and chose.headers["location"].startswith(path_of(links["Y1"]) + "?done=waiting")
    after = client.get(chose.headers["location"]).text
    assert "we keep your order" in after and "Keep waiting</button>" not in after
    again = client.post(path_of(links["Y1"]) + "/lines/1/cancel", follow_redirects=False)
    assert again.headers["location"].endswith("?done=nothing#line-1")
    assert s.get_order(shop, "Y1")["lines"][0]["cancelled"] == 0


def test_wrong_or_cut_tokens_are_404_and_show_nothing(shop: Shop) -> None:
    links = lamp_shop(shop)
    client = TestClient(create_app(shop))
    token = links["Y1"].rsplit("/", 1)[1]
    for wrong in (token[:-1], token[:8], token[::-1], "x" * 32, "%00", "a" * 100):
        for method, path in (("get", f"/status/{wrong}"), ("post", f"/status/{wrong}/lines/1/cancel")):
            answer = getattr(client, method)(path, follow_redirects=False)
            assert answer.status_code in (404, 422), (wrong, answer.status_code)
            assert "Y1" not in answer.text and "Brass" not in answer.text
    assert s.get_order(shop, "Y1")["lines"][0]["cancelled"] == 0


def test_customer_cancels_a_delayed_line_in_a_browser_and_the_next_in_line_moves_earlier(
        served: tuple[str, Shop]) -> None:
    from playwright.sync_api import sync_playwright

    base, shop = served
    links = lamp_shop(shop)
    today = shop.clock.today()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(base + path_of(links["Y1"]))
        lamp = page.locator("#line-1")
        assert f"ships by {spoken_date(today + timedelta(days=16), today)}" in lamp.inner_text()
        assert "Our supplier is late" in lamp.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "status-delayed.png"), full_page=True)
        lamp.get_by_role("button", name="Cancel this item").click()
        page.wait_for_url("**?done=cancelled*")
        assert "that item is cancelled" in page.locator("[role=status]").inner_text()
        assert "2 cancelled" in page.locator("#line-1").inner_text()
        assert page.locator("#line-1").get_by_role("button").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "status-cancelled.png"), full_page=True)
        browser.close()
    y2 = s.get_order(shop, "Y2")["lines"][0]
    assert y2["promised_date"] == (today + timedelta(days=16)).isoformat()
    advanced = [e for e in s.list_events(shop, None, 1000)["events"] if e["type"] == "promise.advanced"]
    assert advanced[-1]["data"]["order"] == "Y2"
