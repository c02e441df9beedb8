"""The operations dashboard: server-rendered pages (Jinja2) with htmx for the
parts that update in place, under /dashboard.

Login is with an API key, kept in an HttpOnly, SameSite=Strict cookie; admin
and viewer keys may look, only admin keys may change anything (a viewer sees no
forms, and a viewer's POST is refused with 403). Every form carries a token
derived from the key, so that another site cannot post on the user's behalf.
Each page calls the same services as the HTTP API; a refusal is shown on a page
with the error's status code and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import escape

from restock import services as s
from restock.api.routes import _role, run_plan_in_background
from restock.domain.policy import Mode
from restock.errors import Forbidden, InvalidInput, RestockError
from restock.notify.emails import environment
from restock.shop import Shop

COOKIE = "restock_key"
STATIC = Path(__file__).parent / "static"


class LoginNeeded(Exception):
    pass


class PageRoute(APIRoute):
    """A dashboard route: a refusal becomes a page with its status (not JSON), and
    a missing or dead login a trip to the login page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginNeeded:
                target = "/dashboard/login?" + urlencode({"next": _local(request.url.path)})
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except RestockError as error:
                return _problem(request, error.status, error.message)
            except RequestValidationError as error:
                where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                                  for e in error.errors()[:3])
                return _problem(request, 422, f"the request is not valid: {where}")

        return route


dashboard = APIRouter(prefix="/dashboard", route_class=PageRoute, include_in_schema=False)
templates = Jinja2Templates(env=environment())


def install(app: FastAPI) -> None:
    app.include_router(dashboard)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


# -- who is looking -------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    role: str
    csrf: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def _csrf(key: str) -> str:
    return hmac.new(key.encode(), b"restock dashboard form", hashlib.sha256).hexdigest()[:32]


async def session(request: Request) -> Session:
    key = request.cookies.get(COOKIE)
    role = await _role(request, key) if key and len(key) <= 200 else None
    if role not in ("admin", "viewer"):
        raise LoginNeeded
    assert key is not None and role is not None
    return Session(role, _csrf(key))


SESSION = Depends(session)


class Form(dict[str, list[str]]):
    """A posted form; `token` is the poster's form token (it signs the notice shown after)."""

    token = ""

    def one(self, name: str, default: str = "") -> str:
        return (self.get(name) or [default])[0].strip()

    def number(self, name: str, what: str, *, optional: bool = False) -> int | None:
        return _int(self.one(name), what, optional=optional)

    def rows(self, *names: str) -> list[dict[str, str]]:
        """Repeated fields read as a table, one dict a row (a short column reads as empty)."""
        columns = [self.get(n, []) for n in names]
        return [dict(zip(names, (v.strip() for v in values), strict=True))
                for values in itertools.zip_longest(*columns, fillvalue="")]

    def share(self, name: str, what: str) -> float:
        text = self.one(name)
        try:
            value = float(text)
        except ValueError:
            raise InvalidInput(f"{what} must be a number such as 0.95 (got {text!r:.20})") from None
        return value / 100 if value >= 1 else value


def _int(text: str, what: str, *, optional: bool = False) -> int | None:
    text = text.strip()
    if not text and optional:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number (got {text!r:.20})") from None


async def change(request: Request, me: Session = SESSION) -> Form:
    """The posted form of an admin, checked against the page's token."""
    if not me.admin:
        raise Forbidden("a viewer key may look but not change anything")
    try:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True,
                          max_num_fields=2000)
    except ValueError:
        raise InvalidInput("the form has too many fields") from None
    form = Form(fields)
    form.token = me.csrf
    sent = form.one("csrf") or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent.encode(), me.csrf.encode()):
        raise Forbidden("this form is out of date: reload the page and try again")
    return form


CHANGE = Depends(change)


def _shop(request: Request) -> Shop:
    shop: Shop = request.app.state.shop
    return shop


def _local(path: str) -> str:
    """A redirect target only within the dashboard."""
    return path if path.startswith("/dashboard") and "//" not in path and "\\" not in path else "/dashboard"


def _page(request: Request, name: str, me: Session | None, code: int = 200, /, **context: Any) -> HTMLResponse:
    shop = _shop(request)
    notice = request.query_params.get("done", "")
    signed = me is not None and hmac.compare_digest(_signature(notice, me.csrf), request.query_params.get("sig", ""))
    return templates.TemplateResponse(request, f"dashboard/{name}", {
        "me": me, "today": shop.clock.today(), "notice": notice if signed else None,
        "day": _day_filter(shop.clock.today()), **context}, status_code=code)


def _problem(request: Request, status: int, message: str) -> HTMLResponse:
    if request.headers.get("hx-request"):
        return HTMLResponse(f'<p class="problem" role="alert">{escape(message)}</p>', status_code=status)
    return _page(request, "problem.html", None, status, status=status, message=message)


def _day_filter(today: date) -> Callable[[Any], str]:
    def day(value: Any) -> str:
        if not value:
            return "—"
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return f"{d.day} {d:%b}" if d.year == today.year else f"{d.day} {d:%b %Y}"
    return day


def _done(path: str, notice: str, form: Form) -> RedirectResponse:
    """Post, then redirect: a reload does not send the change again. The notice rides
    in the URL, signed, so that a link made elsewhere cannot put words on the page."""
    notice = notice[:300]
    return RedirectResponse(f"{path}?{urlencode({'done': notice, 'sig': _signature(notice, form.token)})}",
                            status_code=303)


def _signature(notice: str, token: str) -> str:
    return hmac.new(token.encode(), notice.encode(), hashlib.sha256).hexdigest()[:20]


def _chart(x: list[str], series: list[dict[str, Any]], **options: Any) -> str:
    """The JSON a chart element carries (dashboard.js draws it with uPlot); days as Unix seconds."""
    stamps = [int(datetime.combine(date.fromisoformat(d), datetime.min.time(), UTC).timestamp()) for d in x]
    return json.dumps({"x": stamps, "series": series, **options})


# -- login ------------------------------------------------------------------------------


@dashboard.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/dashboard") -> Response:
    return _page(request, "login.html", None, next=_local(next), problem=None)


@dashboard.post("/login")
async def login(request: Request) -> Response:
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=20)
    key, target = (fields.get("key") or [""])[0].strip(), _local((fields.get("next") or [""])[0])
    role = await _role(request, key) if key and len(key) <= 200 else None
    if role not in ("admin", "viewer"):
        problem = ("that key is a storefront key: the dashboard needs an admin or viewer key" if role
                   else "unknown or revoked API key")
        return _page(request, "login.html", None, 401 if role is None else 403, next=target, problem=problem)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, key, httponly=True, samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https", max_age=12 * 3600)
    return response


@dashboard.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


# -- overview ------------------------------------------------------------------------------


@dashboard.get("", response_class=HTMLResponse)
def overview(request: Request, me: Session = SESSION) -> Response:
    shop = _shop(request)
    figures, trend, view = s.kpis(shop), s.kpi_trend(shop, today=False), s.overview(shop)
    trend["daily"].append({"day": shop.clock.today().isoformat(), **view["today"]})
    weeks = [w["week_ending"] for w in trend["weekly"]]
    days = [d["day"] for d in trend["daily"]]

    def weekly(name: str) -> str:
        return _chart(weeks, [{"label": name, "values": [w[name] for w in trend["weekly"]], "percent": True}],
                      spark=True)

    def daily(name: str) -> str:
        return _chart(days, [{"label": name, "values": [d[name] for d in trend["daily"]]}], spark=True)

    tiles = [
        {"kpi": "backorder_rate", "title": "Backorder rate", "value": figures["backorder_rate"], "percent": True,
         "chart": weekly("backorder_rate"), "note": "of lines placed, last 30 days; by week"},
        {"kpi": "fill_rate", "title": "Fill rate", "value": figures["fill_rate"], "percent": True,
         "chart": weekly("fill_rate"), "note": "of units shipped from stock at once; by week"},
        {"kpi": "promises_kept", "title": "Promises kept", "value": figures["promises_kept"], "percent": True,
         "chart": weekly("promises_kept"), "note": "lines shipped by their first date; by week"},
        {"kpi": "open_backorders", "title": "Open backorders", "value": figures["open_backorders"],
         "chart": daily("open_backorders"), "note": f"{figures['open_backorder_units']} units waiting; by day"},
        {"kpi": "backorder_age", "title": "Backorder age", "value": trend["daily"][-1]["average_age_days"],
         "days": True, "chart": daily("average_age_days"), "note": "average days waiting; by day",
         "buckets": figures["backorder_age_days"]},
    ]
    tiles = [{"percent": False, "days": False, "buckets": None, **tile} for tile in tiles]
    return _page(request, "overview.html", me, tiles=tiles, kpis=figures, view=view)


# -- backorder queue ---------------------------------------------------------------------


def _queue_query(request: Request) -> dict[str, Any]:
    q = request.query_params
    page = _int(q.get("page", ""), "page", optional=True)
    return {"sku": q.get("sku", "").strip()[:64] or None, "supplier": q.get("supplier", "").strip()[:64] or None,
            "min_age_days": _int(q.get("min_age", ""), "min_age", optional=True),
            "at_risk": q.get("at_risk") in ("1", "on"),
            "page": 1 if page is None else page}


@dashboard.get("/backorders", response_class=HTMLResponse)
def backorders(request: Request, me: Session = SESSION) -> Response:
    shop = _shop(request)
    query = _queue_query(request)
    queue = s.backorder_queue(shop, **query)
    filters = {k: v for k, v in query.items() if k != "page" and v}
    context = {"queue": queue, "filters": query, "filter_query": urlencode(filters),
               "suppliers": s.list_suppliers(shop)}
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "queue":
        return _page(request, "_queue.html", me, **context)
    return _page(request, "queue.html", me, **context)


@dashboard.post("/backorders/cancel", response_class=HTMLResponse)
def cancel_backorders(request: Request, me: Session = SESSION, form: Form = CHANGE) -> Response:
    picked = []
    for value in form.get("line", [])[:500]:
        order, _, line = value.rpartition("|")
        if not order or not line.isdigit():
            raise InvalidInput(f"not an order line: {value!r:.40}")
        picked.append({"order": order, "line": int(line)})
    if not picked:
        raise InvalidInput("choose at least one line to cancel")
    if form.one("confirm") != "yes":
        lines = s.order_lines_waiting(_shop(request), picked)
        return _page(request, "cancel_confirm.html", me, lines=lines, back=_local(form.one("back") or
                                                                                   "/dashboard/backorders"))
    done = s.cancel_backorders(_shop(request), picked)
    n = len(done["cancelled"])
    notice = f"Cancelled {n} waiting line{'s' if n != 1 else ''}; the customers are told."
    if done["skipped"]:
        notice += f" {len(done['skipped'])} had nothing waiting any more."
    return _done("/dashboard/backorders", notice, form)


# -- SKUs ------------------------------------------------------------------------------------


@dashboard.get("/skus", response_class=HTMLResponse)
def skus(request: Request, me: Session = SESSION, after: str | None = None) -> Response:
    page = s.list_skus(_shop(request), after, 100)
    return _page(request, "skus.html", me, page=page)


@dashboard.get("/skus/{sku}", response_class=HTMLResponse)
def sku(request: Request, sku: str, me: Session = SESSION) -> Response:
    shop = _shop(request)
    view, projection = s.get_sku(shop, sku), s.sku_projection(shop, sku)
    chart = _chart(projection["days"], [
        {"label": "Free stock", "values": projection["free_stock"], "color": "#0b5cad", "fill": "#0b5cad22"},
        {"label": "Inbound arrived", "values": projection["inbound_arrived"], "color": "#2e7d32",
         "dash": [6, 4]},
        {"label": "Backorders drawn", "values": projection["backorders_drawn"], "color": "#b3261e"},
    ], stepped=True, height=260)
    return _page(request, "sku.html", me, sku=view, projection=projection, chart=chart,
                 queue=s.backorder_queue(shop, sku=sku, size=200), suppliers=s.list_suppliers(shop),
                 modes=[m.value for m in Mode])


@dashboard.post("/skus/{sku}", response_class=HTMLResponse)
def save_sku(request: Request, sku: str, form: Form = CHANGE) -> Response:
    suppliers = [{"supplier": row["supplier"], "lead_time_days": _int(row["lead_time_days"], "lead time"),
                  "lead_time_sd_days": _decimal(row["lead_time_sd_days"], "lead time spread"),
                  "unit_cost": row["supplier_unit_cost"] or "0", "moq": _int(row["moq"] or "1", "minimum order"),
                  "pack_size": _int(row["pack_size"] or "1", "pack size")}
                 for row in form.rows("supplier", "lead_time_days", "lead_time_sd_days", "supplier_unit_cost",
                                      "moq", "pack_size")
                 if row["supplier"]]  # the empty row is for adding one
    backorder = {"mode": form.one("mode"), "cap": form.number("cap", "cap", optional=True),
                 "max_wait_days": form.number("max_wait_days", "max wait", optional=True),
                 "release_date": form.one("release_date") or None,
                 "cancel_overdue": {"yes": True, "no": False}.get(form.one("cancel_overdue"))}
    s.put_sku(_shop(request), sku, form.one("name"), form.one("price"), form.one("unit_cost"),
              backorder, suppliers, form.number("reorder_point", "reorder point", optional=True))
    return _done(f"/dashboard/skus/{sku}", "Saved. Waiting lines were promised again under the new settings.", form)


def _decimal(text: str, what: str) -> float:
    try:
        return float(text.strip() or 0)
    except ValueError:
        raise InvalidInput(f"{what} must be a number of days (got {text!r:.20})") from None


@dashboard.get("/orders/{order}/lines/{line}/explain", response_class=HTMLResponse)
def explain(request: Request, order: str, line: int, me: Session = SESSION) -> Response:
    return _page(request, "_explain.html", me, why=s.explain_line(_shop(request), order, line))


# -- purchase orders ------------------------------------------------------------------------


@dashboard.get("/purchase-orders", response_class=HTMLResponse)
def purchase_orders(request: Request, me: Session = SESSION, status: str = "open", supplier: str = "") -> Response:
    shop = _shop(request)
    pos = s.list_pos(shop, status or None, supplier.strip() or None)
    return _page(request, "pos.html", me, pos=pos, status=status, supplier=supplier.strip(),
                 suppliers=s.list_suppliers(shop))


def _po_page(request: Request, me: Session, po_id: str) -> HTMLResponse:
    return _page(request, "po.html", me, po=s.get_po(_shop(request), po_id), preview=None)


@dashboard.get("/purchase-orders/{po_id}", response_class=HTMLResponse)
def purchase_order(request: Request, po_id: str, me: Session = SESSION) -> Response:
    return _po_page(request, me, po_id)


@dashboard.post("/purchase-orders/{po_id}/lines/{line}/eta/preview", response_class=HTMLResponse)
def preview_eta(request: Request, po_id: str, line: int, me: Session = SESSION, form: Form = CHANGE) -> Response:
    preview = s.preview_eta(_shop(request), po_id, line, form.one("eta"))
    if request.headers.get("hx-request"):
        return _page(request, "_eta_preview.html", me, preview=preview, po={"id": po_id})
    return _page(request, "po.html", me, po=s.get_po(_shop(request), po_id), preview=preview)


@dashboard.post("/purchase-orders/{po_id}/lines/{line}/eta")
def change_eta(request: Request, po_id: str, line: int, form: Form = CHANGE) -> Response:
    s.change_eta(_shop(request), po_id, line, form.one("eta"))
    return _done(f"/dashboard/purchase-orders/{po_id}",
                 f"The ETA of line {line} is now {form.one('eta')}. Every customer whose date moved is told.", form)


@dashboard.post("/purchase-orders/{po_id}/receive")
def receive(request: Request, po_id: str, form: Form = CHANGE) -> Response:
    lines: list[dict[str, Any]] = []
    for name in form:
        if name.startswith("qty_") and form.one(name):
            qty = form.number(name, f"received quantity of line {name[4:]}")
            if qty:
                lines.append({"line": _int(name[4:], "line"), "qty": qty})
    if not lines:
        raise InvalidInput("enter the quantity received for at least one line")
    s.receive(_shop(request), po_id, lines)
    units = sum(int(x["qty"]) for x in lines)
    return _done(f"/dashboard/purchase-orders/{po_id}",
                 f"Received {units} units; waiting backorders were filled first.", form)


@dashboard.post("/purchase-orders/{po_id}/close")
def close_po(request: Request, po_id: str, form: Form = CHANGE) -> Response:
    s.close_po(_shop(request), po_id)
    return _done(f"/dashboard/purchase-orders/{po_id}",
                 "Closed short: promises pegged to what will not come moved to the supplier's lead time.", form)


# -- events and deliveries ------------------------------------------------------------------


@dashboard.get("/events", response_class=HTMLResponse)
def events(request: Request, me: Session = SESSION, type: str = "", order: str = "", sku: str = "",
           before: int | None = None) -> Response:
    shop = _shop(request)
    log = s.events_log(shop, type or None, order.strip() or None, sku.strip() or None, before, 100)
    filters = {"type": type, "order": order.strip(), "sku": sku.strip()}
    return _page(request, "events.html", me, log=log, filters=filters, types=s.EVENT_TYPES,
                 filter_query=urlencode({k: v for k, v in filters.items() if v}),
                 figures=s.delivery_figures(shop), webhooks=s.list_webhooks(shop),
                 dead=s.list_deliveries(shop, "dead", None, 50)["deliveries"])


@dashboard.post("/deliveries/retry")
def retry(request: Request, form: Form = CHANGE) -> Response:
    n = s.retry_deliveries(_shop(request), None, None)
    return _done("/dashboard/events", f"{n} dead deliveries are due again.", form)


# -- plans --------------------------------------------------------------------------------------


@dashboard.get("/plans", response_class=HTMLResponse)
def plans(request: Request, me: Session = SESSION) -> Response:
    return _page(request, "plans.html", me, plans=s.list_plans(_shop(request)))


@dashboard.post("/plans")
def new_plan(request: Request, form: Form = CHANGE) -> Response:
    shop = _shop(request)
    made = s.create_plan(shop, form.share("service_level", "service level"),
                         form.number("horizon_days", "horizon"))
    run_plan_in_background(shop, made["id"])
    return RedirectResponse(f"/dashboard/plans/{made['id']}", status_code=303)


@dashboard.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan(request: Request, plan_id: str, me: Session = SESSION) -> Response:
    view = s.get_plan(_shop(request), plan_id)
    order = {"expedite": 0, "order": 1}
    view["suggestions"].sort(key=lambda r: (order.get(r["action"], 2), r["sku"]))
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "plan-progress":
        return _page(request, "_plan_progress.html", me, plan=view)
    return _page(request, "plan.html", me, plan=view)


@dashboard.post("/plans/{plan_id}/approve")
def approve(request: Request, plan_id: str, form: Form = CHANGE) -> Response:
    skus_ = [c.strip() for c in form.get("sku", []) if c.strip()]
    if not skus_:
        raise InvalidInput("choose at least one suggestion to order")
    made = s.approve_plan(_shop(request), plan_id, skus_)
    ids = ", ".join(p["id"] for p in made["purchase_orders"])
    return _done(f"/dashboard/plans/{plan_id}", f"Ordered: {ids}.", form)
