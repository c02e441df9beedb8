"""Pages for people: the customer's order-status page (reached by the order's
unguessable link, no login, no JavaScript needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from restock import services as s
from restock.domain.quotes import spoken_date
from restock.errors import InvalidState, NotFound
from restock.notify.emails import environment
from restock.shop import Shop

pages = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=environment())
NOTICES = {"waiting": "Thank you: we keep your order and ship it as soon as it arrives.",
           "cancelled": "Done: that item is cancelled and you will not be charged for it.",
           "nothing": "There is nothing left to decide for that item."}


def _shop(request: Request) -> Shop:
    shop: Shop = request.app.state.shop
    return shop


@pages.get("/status/{token}", response_class=HTMLResponse)
def status(request: Request, token: str = PathParam(max_length=100), done: str | None = None) -> Response:
    shop = _shop(request)
    try:
        order = s.status_page(shop, token)
    except NotFound:
        return _not_found(request)
    today = shop.clock.today()
    return templates.TemplateResponse(request, "status/order.html", {
        "order": order, "notice": NOTICES.get(done or ""), "day": lambda d: spoken_date(d, today)})


@pages.post("/status/{token}/lines/{line}/wait")
def keep_waiting(request: Request, token: str = PathParam(max_length=100),
                 line: int = PathParam(ge=1, le=10_000)) -> Response:
    return _choose(request, token, line, s.keep_waiting, "waiting")


@pages.post("/status/{token}/lines/{line}/cancel")
def cancel_waiting(request: Request, token: str = PathParam(max_length=100),
                   line: int = PathParam(ge=1, le=10_000)) -> Response:
    return _choose(request, token, line, s.cancel_waiting, "cancelled")


def _choose(request: Request, token: str, line: int, action: Any, done: str) -> Response:
    try:
        action(_shop(request), token, line)
    except NotFound:
        return _not_found(request)
    except InvalidState:
        done = "nothing"
    # Post, then redirect: a reload of the page does not send the choice again.
    return RedirectResponse(f"/status/{token}?done={done}#line-{line}", status_code=303)


def _not_found(request: Request) -> Response:
    return templates.TemplateResponse(request, "status/not_found.html", {}, status_code=404)
