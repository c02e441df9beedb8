"""The HTTP API over a real database: roles, the error shape, and the flows of
EXAMPLES.md as a storefront and a back office would drive them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from restock import services as s
from restock.api import create_app
from restock.shop import Shop

Client = TestClient


@pytest.fixture
def api(shop: Shop) -> Iterator[dict[str, TestClient]]:
    """One client per role, each with its own key."""
    app = create_app(shop)
    clients = {}
    for role in ("admin", "storefront", "viewer"):
        key = s.create_key(shop, role)["key"]
        clients[role] = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    clients["anonymous"] = TestClient(app)
    yield clients


def day(shop: Shop, n: int) -> str:
    return (shop.clock.today() + timedelta(days=n)).isoformat()


def mug_shop(admin: TestClient, shop: Shop) -> None:
    assert admin.put("/v1/suppliers/ACME", json={"name": "Acme", "lead_time_days": 12}).status_code == 200
    created = admin.put("/v1/skus/MUG", json={"name": "Mug", "price": "9.50", "unit_cost": "3.00",
                                              "backorder": {"mode": "inbound"}, "suppliers": [{"supplier": "ACME"}]})
    assert created.status_code == 201
    assert admin.post("/v1/stock/adjustments", json={"sku": "MUG", "delta": 2, "reason": "count"}).status_code == 201
    for po, qty, eta in (("P1", 4, 5), ("P2", 6, 9)):
        made = admin.post("/v1/purchase-orders", json={"id": po, "supplier": "ACME",
                                                        "lines": [{"sku": "MUG", "qty": qty, "eta": day(shop, eta)}]})
        assert made.status_code == 201


def order(client: TestClient, order_id: str, qty: int) -> object:
    return client.post("/v1/orders", json={"id": order_id, "customer": {"email": "ada@example.com", "name": "Ada"},
                                           "lines": [{"sku": "MUG", "qty": qty}]})


def test_example_1_over_http(api: dict[str, TestClient], shop: Shop) -> None:
    admin, storefront = api["admin"], api["storefront"]
    mug_shop(admin, shop)
    quote = storefront.get("/v1/availability/MUG", params={"qty": 5}).json()
    assert (quote["status"], quote["ship_now"], quote["ship_date"]) == ("partial", 2, day(shop, 6))

    x1 = order(storefront, "X1", 3)
    assert x1.status_code == 201
    assert x1.json()["lines"][0] | {"promise_changes": []} == {
        "line": 1, "sku": "MUG", "qty": 3, "allocated": 2, "backordered": 1, "shipped": 0, "cancelled": 0,
        "promised_date": day(shop, 6), "first_promised_date": day(shop, 6), "estimated": False,
        "promise_changes": []}
    assert order(storefront, "X2", 4).status_code == 201
    refused = order(storefront, "X3", 6)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["lines"] == [
        {"line": 1, "sku": "MUG", "qty": 6, "reason": "insufficient_inbound", "available": 5}]
    assert order(storefront, "X3", 5).status_code == 201

    assert admin.patch("/v1/purchase-orders/P1/lines/1", json={"eta": day(shop, 11)}).status_code == 200
    queue = admin.get("/v1/backorders", params={"sku": "MUG"}).json()["backorders"]
    assert [(b["order"], b["promised_date"]) for b in queue] == [
        ("X1", day(shop, 10)), ("X2", day(shop, 10)), ("X3", day(shop, 12))]
    assert admin.post("/v1/purchase-orders/P2/receipts", json={"lines": [{"line": 1, "qty": 6}]}).status_code == 201
    lines = [storefront.get(f"/v1/orders/{o}").json()["lines"][0] for o in ("X1", "X2", "X3")]
    assert [(line["allocated"], line["promised_date"]) for line in lines] == [
        (3, day(shop, 1)), (4, day(shop, 1)), (1, day(shop, 12))]

    feed = api["viewer"].get("/v1/events", params={"limit": 1000}).json()
    types = [e["type"] for e in feed["events"]]
    assert types.count("promise.delayed") == 2 and types.count("promise.advanced") == 2
    assert [e["id"] for e in feed["events"]] == sorted(e["id"] for e in feed["events"])
    assert api["viewer"].get("/v1/events", params={"after": feed["next"]}).json()["events"] == []


def test_cancellation_and_shipping_over_http(api: dict[str, TestClient], shop: Shop) -> None:
    admin, storefront = api["admin"], api["storefront"]
    mug_shop(admin, shop)
    assert order(storefront, "A", 3).status_code == 201
    assert order(storefront, "B", 2).status_code == 201
    cancelled = storefront.post("/v1/orders/A/cancel", json={"lines": [{"line": 1, "qty": 1}]})
    assert cancelled.status_code == 200 and cancelled.json()["lines"][0]["cancelled"] == 1
    (shipment,) = [sh for sh in admin.get("/v1/shipments").json()["shipments"] if sh["order"] == "A"]
    shipped = admin.post(f"/v1/shipments/{shipment['id']}/ship", json={"tracking": "1Z999"})
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert admin.post(f"/v1/shipments/{shipment['id']}/ship").status_code == 409
    kpis = api["viewer"].get("/v1/kpis").json()
    assert kpis["shipments"]["shipped"] == 1


ROUTES = [
    ("put", "/v1/skus/NEW", {"name": "New", "price": "1", "unit_cost": "1"}, {"admin"}),
    ("get", "/v1/skus/MUG", None, {"admin", "viewer"}),
    ("get", "/v1/skus", None, {"admin", "viewer"}),
    ("put", "/v1/suppliers/NEWSUP", {"name": "New", "lead_time_days": 3}, {"admin"}),
    ("put", "/v1/locations/main", {"name": "Main", "handling_days": 1}, {"admin"}),
    ("post", "/v1/stock/adjustments", {"sku": "MUG", "delta": 1, "reason": "count"}, {"admin"}),
    ("post", "/v1/purchase-orders", {"supplier": "ACME", "lines": [{"sku": "MUG", "qty": 1, "eta": "2099-01-01"}]},
     {"admin"}),
    ("get", "/v1/purchase-orders/P1", None, {"admin", "viewer"}),
    ("patch", "/v1/purchase-orders/P2/lines/1", {"eta": "2099-01-01"}, {"admin"}),
    ("post", "/v1/purchase-orders/P1/receipts", {"lines": [{"line": 1, "qty": 1}]}, {"admin"}),
    ("get", "/v1/availability/MUG?qty=2", None, {"admin", "storefront", "viewer"}),
    ("post", "/v1/availability", {"lines": [{"sku": "MUG", "qty": 1}]}, {"admin", "storefront", "viewer"}),
    ("post", "/v1/orders", {"id": "R1", "customer": {"email": "a@b.co", "name": "A"},
                            "lines": [{"sku": "MUG", "qty": 1}]}, {"admin", "storefront"}),
    ("get", "/v1/orders/O1", None, {"admin", "storefront", "viewer"}),
    ("get", "/v1/orders/O1/lines/1/explain", None, {"admin", "viewer"}),
    ("get", "/v1/backorders", None, {"admin", "viewer"}),
    ("get", "/v1/shipments", None, {"admin", "viewer"}),
    ("get", "/v1/events", None, {"admin", "viewer"}),
    ("get", "/v1/kpis", None, {"admin", "viewer"}),
    ("put", "/v1/webhooks/erp", {"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "s"}, {"admin"}),
    ("get", "/v1/webhooks", None, {"admin", "viewer"}),
    ("get", "/v1/deliveries?status=dead", None, {"admin", "viewer"}),
    ("post", "/v1/deliveries/retry", {"target": "email"}, {"admin"}),
    ("post", "/v1/orders/O1/cancel", None, {"admin", "storefront"}),
    ("post", "/v1/purchase-orders/P1/close", None, {"admin"}),
]


@pytest.mark.parametrize("role", ["admin", "storefront", "viewer", "anonymous"])
def test_every_route_lets_in_exactly_its_roles(api: dict[str, TestClient], shop: Shop, role: str) -> None:
    mug_shop(api["admin"], shop)
    assert order(api["admin"], "O1", 1).status_code == 201
    for method, path, body, allowed in ROUTES:
        answer = getattr(api[role], method)(path, **({"json": body} if body is not None else {}))
        expected = ({401} if role == "anonymous" else {403}) if role not in allowed else {200, 201, 204}
        assert answer.status_code in expected, (role, method, path, answer.status_code, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()["error"]) == {"code", "message", "details"}


def test_a_wrong_key_is_401(api: dict[str, TestClient]) -> None:
    client = api["anonymous"]
    for header in ("Bearer rk_nope", "Basic abc", "Bearer "):
        answer = client.get("/v1/skus", headers={"Authorization": header})
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"id": 5}', b'{"id": "X", "customer": {"email": "a@b.co", "name": "A"}, "lines": []}',
    b'{"id": "X", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 1e400}]}',
    b'{"id": "X", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": -1}]}',
    '{"id": "\u00e9", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 1}]}'.encode(),
    b'{"id": "X", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 1}], "extra": 1}',
])
def test_malformed_orders_get_a_clear_4xx_and_change_nothing(api: dict[str, TestClient], shop: Shop,
                                                            body: bytes) -> None:
    mug_shop(api["admin"], shop)
    before = api["admin"].get("/v1/events", params={"limit": 1000}).json()
    answer = api["storefront"].post("/v1/orders", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500
    assert answer.json()["error"]["message"]
    assert api["admin"].get("/v1/events", params={"limit": 1000}).json() == before


def test_oversized_bodies_and_unknown_routes_get_the_error_shape(api: dict[str, TestClient]) -> None:
    big = api["admin"].post("/v1/orders", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    missing = api["admin"].get("/v1/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api["anonymous"].get("/healthz").json() == {"status": "ok"}


def test_ten_retries_with_one_idempotency_key_have_one_effect_and_one_answer(api: dict[str, TestClient],
                                                                              shop: Shop) -> None:
    mug_shop(api["admin"], shop)
    body = {"id": "R1", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 3}]}
    answers = [api["storefront"].post("/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
               for _ in range(10)]
    assert {a.status_code for a in answers} == {201}
    assert all(a.json() == answers[0].json() for a in answers)
    events = api["admin"].get("/v1/events", params={"limit": 1000}).json()["events"]
    assert [e["data"]["order"] for e in events if e["type"] == "order.placed"] == ["R1"]

    po = {"supplier": "ACME", "lines": [{"sku": "MUG", "qty": 5, "eta": day(shop, 3)}]}
    first = api["admin"].post("/v1/purchase-orders", json=po, headers={"Idempotency-Key": "po-1"})
    again = api["admin"].post("/v1/purchase-orders", json=po, headers={"Idempotency-Key": "po-1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert [(i["po"], i["qty_open"]) for i in s.get_sku(shop, "MUG")["stock"]["inbound"]] == [
        (first.json()["id"], 5), ("P1", 4), ("P2", 6)]


def test_an_idempotency_key_reused_for_another_request_is_422_and_changes_nothing(api: dict[str, TestClient],
                                                                                  shop: Shop) -> None:
    mug_shop(api["admin"], shop)
    body = {"id": "R1", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 1}]}
    assert api["storefront"].post("/v1/orders", json=body, headers={"Idempotency-Key": "k"}).status_code == 201
    before = api["admin"].get("/v1/events", params={"limit": 1000}).json()
    other = api["storefront"].post("/v1/orders", json={**body, "id": "R2"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]["message"]
    assert api["admin"].get("/v1/events", params={"limit": 1000}).json() == before
    assert api["storefront"].get("/v1/orders/R2").status_code == 404


def test_idempotency_keys_of_different_callers_do_not_collide(api: dict[str, TestClient], shop: Shop) -> None:
    mug_shop(api["admin"], shop)
    body = {"id": "R1", "customer": {"email": "a@b.co", "name": "A"}, "lines": [{"sku": "MUG", "qty": 1}]}
    assert api["storefront"].post("/v1/orders", json=body, headers={"Idempotency-Key": "same"}).status_code == 201
    second = api["admin"].post("/v1/orders", json={**body, "id": "R2"}, headers={"Idempotency-Key": "same"})
    assert second.status_code == 201 and second.json()["id"] == "R2"


def test_metrics_count_requests_by_route_and_report_the_shops_figures(api: dict[str, TestClient],
                                                                     shop: Shop) -> None:
    mug_shop(api["admin"], shop)
    assert order(api["storefront"], "X1", 5).status_code == 201
    api["storefront"].get("/v1/orders/X1")
    text = api["anonymous"].get("/metrics").text
    assert 'restock_http_requests_total{method="GET",route="/v1/orders/{order_id}",status="200"} 1.0' in text
    assert 'restock_http_requests_total{method="POST",route="/v1/orders",status="201"} 1.0' in text
    assert "restock_backorders_open 1.0" in text
    assert "restock_backorder_units_open 3.0" in text
    assert "restock_orders_placed 1.0" in text
    events = len(api["admin"].get("/v1/events", params={"limit": 1000}).json()["events"])
    assert f"restock_events_pending {float(events)}" in text  # no dispatcher ran: every event waits
    assert 'restock_deliveries{status="dead"} 0.0' in text


def test_a_plan_over_http_runs_in_the_background_and_approval_makes_purchase_orders(
        api: dict[str, TestClient], shop: Shop) -> None:
    import time

    admin = api["admin"]
    assert admin.put("/v1/suppliers/ACME", json={"name": "Acme", "lead_time_days": 12}).status_code == 200
    assert admin.put("/v1/suppliers/FAST", json={"name": "Fast", "lead_time_days": 2}).status_code == 200
    offers = [{"supplier": "ACME"}, {"supplier": "FAST", "unit_cost": "12"}]
    assert admin.put("/v1/skus/LAMP", json={"name": "Lamp", "price": "30", "unit_cost": "10",
                                            "backorder": {"mode": "allow"}, "suppliers": offers}).status_code == 201
    assert api["storefront"].post("/v1/orders", json={"id": "O1", "customer": {"email": "a@b.co", "name": "A"},
                                                      "lines": [{"sku": "LAMP", "qty": 3}]}).status_code == 201
    assert api["viewer"].post("/v1/plans", json={}).status_code == 403
    started = admin.post("/v1/plans", json={"service_level": 0.9, "horizon_days": 14})
    assert started.status_code == 202
    plan_id = started.json()["id"]
    assert api["storefront"].get(f"/v1/plans/{plan_id}").status_code == 403
    deadline = time.monotonic() + 60
    while (plan := api["viewer"].get(f"/v1/plans/{plan_id}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert plan["status"] == "done", plan
    [lamp] = plan["suggestions"]
    assert {k: lamp[k] for k in ("sku", "action", "supplier", "inventory_position")} == {
        "sku": "LAMP", "action": "expedite", "supplier": "FAST", "inventory_position": -3}
    assert set(lamp) >= {"demand_class", "forecast_daily", "sd_daily", "lead_time_days", "lead_time_sd_days",
                         "safety_stock", "reorder_point", "order_qty", "reason"}
    again = admin.post("/v1/plans", json={"service_level": 0.9, "horizon_days": 14},
                       headers={"Idempotency-Key": "plan-1"})
    assert admin.post("/v1/plans", json={"service_level": 0.9, "horizon_days": 14},
                      headers={"Idempotency-Key": "plan-1"}).json() == again.json()
    approved = admin.post(f"/v1/plans/{plan_id}/approve", json={"skus": ["LAMP"]}, headers={"Idempotency-Key": "a1"})
    assert approved.status_code == 201
    repeated = admin.post(f"/v1/plans/{plan_id}/approve", json={"skus": ["LAMP"]}, headers={"Idempotency-Key": "a1"})
    assert (repeated.status_code, repeated.json()) == (201, approved.json())
    [po] = approved.json()["purchase_orders"]
    assert (po["supplier"], po["lines"][0]["sku"], po["lines"][0]["qty"]) == ("FAST", "LAMP", lamp["order_qty"])
    assert admin.post(f"/v1/plans/{plan_id}/approve").status_code == 409
    assert admin.get("/v1/plans/PLAN-NOPE").status_code == 404
    assert admin.post("/v1/plans", json={"service_level": 2}).status_code == 422
