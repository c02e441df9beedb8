"""The routes of API.md. Each one checks the caller's role, parses, calls one
service and returns its answer."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from restock import services as s
from restock.api import schemas
from restock.errors import Forbidden, InvalidInput, Unauthorized
from restock.shop import Shop
from restock.storage.uow import Idempotency, idempotent

router = APIRouter(responses=schemas.ERRORS)
Answer = dict[str, Any]


def _shop(request: Request) -> Shop:
    shop: Shop = request.app.state.shop
    return shop


KEY_CACHE_SECONDS = 10.0


async def _role(request: Request, key: str) -> str | None:
    """The key's role, remembered by this app for KEY_CACHE_SECONDS so that a request
    does not cost a database round trip for its key (a revoked key stops working within that)."""
    roles: dict[str, tuple[str | None, float]] = request.app.state.roles
    now = time.monotonic()
    cached = roles.get(key)
    if cached is not None and cached[1] > now:
        return cached[0]
    role = await run_in_threadpool(s.role_of, _shop(request), key)
    if len(roles) > 10_000:
        roles.clear()
    roles[key] = (role, now + KEY_CACHE_SECONDS)
    return role


def allow(*roles: str) -> Any:
    """A dependency that lets through only keys of these roles."""

    async def check(request: Request, authorization: str | None = Header(default=None)) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("send an API key: Authorization: Bearer <key>")
        role = await _role(request, authorization.removeprefix("Bearer ").strip())
        if role is None:
            raise Unauthorized("unknown or revoked API key")
        if role not in roles:
            raise Forbidden(f"a {role} key may not do this")
        return role

    return Depends(check)


ADMIN = allow("admin")
READ = allow("admin", "viewer")
ORDERS = allow("admin", "storefront")
ORDERS_READ = allow("admin", "storefront", "viewer")


def created(body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=201)


async def idempotency_of(request: Request,
                         idempotency_key: str | None = Header(default=None, max_length=200)) -> Idempotency | None:
    """The request's Idempotency-Key, scoped to the caller's API key, with a
    fingerprint of the method, path and body."""
    if idempotency_key is None:
        return None
    if not idempotency_key.strip():
        raise InvalidInput("Idempotency-Key must not be empty")
    caller = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()[:16]
    body = await request.body()
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()
    return Idempotency(f"{caller}:{idempotency_key}", fingerprint)


IDEMPOTENCY = Depends(idempotency_of)


# -- catalog and stock -----------------------------------------------------------------


@router.put("/v1/skus/{sku}", dependencies=[ADMIN], responses={201: {"description": "Created"}})
def put_sku(sku: str, body: schemas.SkuIn, request: Request) -> JSONResponse:
    data = body.model_dump(mode="json")
    data["suppliers"] = [i.model_dump(mode="json", exclude_none=True) for i in body.suppliers]
    was_created, view = s.put_sku(_shop(request), sku, **data)
    return JSONResponse(view, status_code=201 if was_created else 200)


@router.get("/v1/skus/{sku}", dependencies=[READ])
def get_sku(sku: str, request: Request) -> Answer:
    return s.get_sku(_shop(request), sku)


@router.get("/v1/skus", dependencies=[READ])
def list_skus(request: Request, cursor: str | None = Query(default=None, max_length=64),
              limit: int = Query(default=100, ge=1, le=500)) -> Answer:
    return s.list_skus(_shop(request), cursor, limit)


@router.put("/v1/suppliers/{code}", dependencies=[ADMIN])
def put_supplier(code: str, body: schemas.SupplierIn, request: Request) -> Answer:
    return s.put_supplier(_shop(request), code, **body.model_dump())


@router.put("/v1/locations/{code}", dependencies=[ADMIN])
def put_location(code: str, body: schemas.LocationIn, request: Request) -> Answer:
    return s.put_location(_shop(request), code, **body.model_dump())


@router.post("/v1/stock/adjustments", dependencies=[ADMIN], status_code=201)
def adjust(body: schemas.AdjustmentIn, request: Request, idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    return created(idempotent(_shop(request), idem, s.adjust_stock, body.sku, body.delta, body.reason,
                              body.location))


# -- inbound supply --------------------------------------------------------------------


@router.post("/v1/purchase-orders", dependencies=[ADMIN], status_code=201)
def create_po(body: schemas.PurchaseOrderIn, request: Request, idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    data = body.model_dump(mode="json")
    return created(idempotent(_shop(request), idem, s.create_po, data["supplier"], data["lines"], id=data["id"]))


@router.get("/v1/purchase-orders/{po_id}", dependencies=[READ])
def get_po(po_id: str, request: Request) -> Answer:
    return s.get_po(_shop(request), po_id)


@router.patch("/v1/purchase-orders/{po_id}/lines/{line}", dependencies=[ADMIN])
def change_eta(po_id: str, body: schemas.EtaIn, request: Request, line: int = PathParam(ge=1, le=10_000)) -> Answer:
    return s.change_eta(_shop(request), po_id, line, body.eta)


@router.post("/v1/purchase-orders/{po_id}/receipts", dependencies=[ADMIN], status_code=201)
def receive(po_id: str, body: schemas.ReceiptIn, request: Request,
            idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    return created(idempotent(_shop(request), idem, s.receive, po_id, body.model_dump()["lines"]))


@router.post("/v1/purchase-orders/{po_id}/close", dependencies=[ADMIN])
def close_po(po_id: str, request: Request) -> Answer:
    return s.close_po(_shop(request), po_id)


# -- storefront ------------------------------------------------------------------------


@router.get("/v1/availability/{sku}", dependencies=[ORDERS_READ])
def quote(sku: str, request: Request, qty: int = Query(default=1, ge=1, le=1_000_000)) -> Answer:
    return s.quote(_shop(request), sku, qty)


@router.post("/v1/availability", dependencies=[ORDERS_READ])
def quote_many(body: schemas.QuoteLinesIn, request: Request) -> Answer:
    return {"lines": s.quote_many(_shop(request), body.model_dump()["lines"])}


# -- orders and shipments --------------------------------------------------------------


@router.post("/v1/orders", dependencies=[ORDERS], status_code=201)
def place_order(body: schemas.OrderIn, request: Request, idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    data = body.model_dump()
    return created(idempotent(_shop(request), idem, s.place_order, data["id"], data["customer"], data["lines"],
                              data["ship_policy"]))


@router.get("/v1/orders/{order_id}", dependencies=[ORDERS_READ])
def get_order(order_id: str, request: Request) -> Answer:
    return s.get_order(_shop(request), order_id)


@router.post("/v1/orders/{order_id}/cancel", dependencies=[ORDERS])
def cancel_order(order_id: str, request: Request, body: schemas.CancelIn | None = None) -> Answer:
    lines = body.model_dump()["lines"] if body else None
    return s.cancel_order(_shop(request), order_id, lines)


@router.get("/v1/orders/{order_id}/lines/{line}/explain", dependencies=[READ])
def explain(order_id: str, request: Request, line: int = PathParam(ge=1, le=10_000)) -> Answer:
    return s.explain_line(_shop(request), order_id, line)


@router.get("/v1/backorders", dependencies=[READ])
def backorders(request: Request, sku: str | None = Query(default=None, max_length=64),
               cursor: str | None = Query(default=None, max_length=200),
               limit: int = Query(default=100, ge=1, le=1000)) -> Answer:
    return s.list_backorders(_shop(request), sku, cursor, limit)


@router.get("/v1/shipments", dependencies=[READ])
def shipments(request: Request, status: str = Query(default="ready", max_length=16),
              cursor: int | None = Query(default=None, ge=0, le=2**62),
              limit: int = Query(default=100, ge=1, le=1000)) -> Answer:
    return s.list_shipments(_shop(request), status, cursor, limit)


@router.post("/v1/shipments/{shipment_id}/ship", dependencies=[ADMIN])
def ship(request: Request, body: schemas.ShipIn | None = None,
         shipment_id: int = PathParam(ge=1, le=2**62)) -> Answer:
    return s.ship(_shop(request), shipment_id, body.tracking if body else None)


# -- events, KPIs, health --------------------------------------------------------------


@router.get("/v1/events", dependencies=[READ])
def events(request: Request, after: str | None = Query(default=None, max_length=20, pattern=r"^\d*$"),
           limit: int = Query(default=100, ge=1, le=1000)) -> Answer:
    return s.list_events(_shop(request), after, limit)


@router.put("/v1/webhooks/{name}", dependencies=[ADMIN], responses={201: {"description": "Created"}})
def put_webhook(name: str, body: schemas.WebhookIn, request: Request) -> JSONResponse:
    view = s.put_webhook(_shop(request), name, body.url, body.events, body.secret)
    return JSONResponse(view, status_code=201 if view.pop("created") else 200)


@router.get("/v1/webhooks", dependencies=[READ])
def list_webhooks(request: Request) -> Answer:
    return {"webhooks": s.list_webhooks(_shop(request))}


@router.delete("/v1/webhooks/{name}", dependencies=[ADMIN], status_code=204)
def delete_webhook(name: str, request: Request) -> Response:
    s.delete_webhook(_shop(request), name)
    return Response(status_code=204)


@router.get("/v1/deliveries", dependencies=[READ])
def deliveries(request: Request, status: Literal["pending", "done", "dead"] | None = None,
               cursor: str | None = Query(default=None, max_length=20, pattern=r"^\d*$"),
               limit: int = Query(default=100, ge=1, le=1000)) -> Answer:
    return {**s.list_deliveries(_shop(request), status, cursor, limit), "figures": s.delivery_figures(_shop(request))}


@router.post("/v1/deliveries/retry", dependencies=[ADMIN])
def retry_deliveries(request: Request, body: schemas.RetryIn | None = None) -> Answer:
    return {"retried": s.retry_deliveries(_shop(request), body.ids if body else None,
                                          body.target if body else None)}


@router.post("/v1/plans", dependencies=[ADMIN], status_code=202)
def create_plan(request: Request, body: schemas.PlanIn | None = None,
                idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    body = body or schemas.PlanIn()
    costs = body.model_dump(include={"order_cost", "holding_rate", "overstock_days", "dead_stock_days",
                                     "backorder_rate_alert"}, exclude_none=True)
    made = idempotent(_shop(request), idem, s.create_plan, body.service_level, body.horizon_days, body.skus,
                      body.fill_rate, body.review_days, **costs)
    run_plan_in_background(_shop(request), made["id"])
    return JSONResponse(made, status_code=202)


def run_plan_in_background(shop: Shop, plan_id: str) -> None:
    """Run a plan on a thread of its own (the API and the dashboard). A repeat of the request
    (same Idempotency-Key) starts a thread that finds the plan taken and stops."""

    def run() -> None:
        with contextlib.suppress(Exception):  # the failure is stored on the plan: GET /v1/plans/{id} shows it
            s.run_plan(shop, plan_id)

    threading.Thread(target=run, name="restock-plan", daemon=True).start()


@router.get("/v1/plans/{plan_id}", dependencies=[READ])
def get_plan(plan_id: str, request: Request) -> Answer:
    return s.get_plan(_shop(request), plan_id)


@router.post("/v1/plans/{plan_id}/approve", dependencies=[ADMIN], status_code=201)
def approve_plan(plan_id: str, request: Request, body: schemas.ApproveIn | None = None,
                 idem: Idempotency | None = IDEMPOTENCY) -> JSONResponse:
    return created(idempotent(_shop(request), idem, s.approve_plan, plan_id, body.skus if body else None))


@router.get("/v1/kpis", dependencies=[READ])
def kpis(request: Request, from_: str | None = Query(default=None, alias="from", max_length=10),
         to: str | None = Query(default=None, max_length=10)) -> Answer:
    return s.kpis(_shop(request), from_, to)


@router.get("/healthz")
def healthz(request: Request) -> Answer:
    s.list_events(_shop(request), None, 1)
    return {"status": "ok"}
