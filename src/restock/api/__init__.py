"""The HTTP API v1 (API.md): FastAPI routes that parse, call one service and
map restock's errors to their status codes. No business logic lives here.

Roles: `admin` may do everything; `storefront` may quote, place, read and
cancel orders; `viewer` may read everything.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from restock import __version__
from restock.api.metrics import Metrics
from restock.api.routes import router
from restock.errors import RestockError
from restock.notify.dispatcher import Dispatcher
from restock.shop import Shop
from restock.web import pages
from restock.web.dashboard import install as install_dashboard

MAX_BODY_BYTES = 1_000_000


def create_app(shop: Shop, *, dispatch: bool = False) -> FastAPI:
    """The API and pages over `shop`; with `dispatch`, a dispatcher delivers events while it runs."""
    app = FastAPI(title="restock", version=__version__, description=__doc__, lifespan=_lifespan)
    app.state.shop = shop
    app.state.dispatch = dispatch
    app.state.roles = {}  # API key -> (role, valid until), see routes._role
    app.state.metrics = metrics = Metrics()
    app.include_router(router)
    app.include_router(pages)
    install_dashboard(app)
    app.add_api_route("/metrics", lambda: metrics.render(shop), include_in_schema=False)
    app.add_exception_handler(RestockError, _restock_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(Guard, metrics=metrics)
    return app


# Database work runs in threads; few of them per worker, so that a thread holding a
# row lock is not kept waiting for the GIL by many others (4 measured best on 2 cores).
THREADS = 4


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    threads = int(os.environ.get("RESTOCK_THREADS") or THREADS)
    anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, threads)
    dispatcher = Dispatcher(app.state.shop).start() if app.state.dispatch else None
    try:
        yield
    finally:
        if dispatcher is not None:
            await anyio.to_thread.run_sync(dispatcher.stop)


def app_from_env() -> FastAPI:
    """For `restock serve` and uvicorn workers: the shop of RESTOCK_DATABASE_URL."""
    return create_app(Shop.open(), dispatch=os.environ.get("RESTOCK_DISPATCH", "on").lower() not in ("0", "off", "no"))


def error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status)


async def _restock_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RestockError)
    return error(exc.status, exc.code, exc.message, exc.details)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [{"where": ".".join(str(part) for part in e.get("loc", ())), "problem": str(e.get("msg", ""))}
                for e in exc.errors()]
    summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:5])
    return error(422, "invalid_input", f"the request is not valid: {summary}"[:500], problems[:50])


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    response = error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


class Guard:
    """Plain ASGI middleware: refuses bodies over MAX_BODY_BYTES with 413, and
    counts and times every request for the metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await error(413, "too_large", f"request bodies are limited to {MAX_BODY_BYTES} bytes")(scope, receive, send)
            return
        start, status, received = time.perf_counter(), 500, 0

        async def capped() -> Message:
            # A chunked body has no Content-Length: cut it at the limit, so it fails to parse (4xx).
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, capped, noted)
        self.metrics.observe(scope, status, time.perf_counter() - start)
