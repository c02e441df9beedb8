"""Replenishment plans (API.md `/v1/plans`): every catalog SKU's demand as
ordered (order lines, backordered units included, plus imported history; days
without demand are zeros), forecast and backtested, turned into suggestions
with every figure behind them; approval makes the purchase orders, one per
supplier.
"""

from __future__ import annotations

import os
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

from restock.errors import InvalidInput, InvalidState, NotFound
from restock.planning.forecast import forecast_all
from restock.planning.policy import PlanSettings, Position, SupplierOption, suggest
from restock.services import validate as v
from restock.services.purchasing import create_po
from restock.shop import Shop
from restock.storage.tables import (
    DEFAULT_LOCATION,
    demand_history,
    movements,
    order_lines,
    plan_suggestions,
    plans,
    po_lines,
    purchase_orders,
    skus,
    stock,
    supplier_items,
)
from restock.storage.uow import UnitOfWork, chunks, read_only, transaction, utc

HISTORY_DAYS = 730
ORDERING = ("order", "expedite")


@transaction
def create_plan(uow: UnitOfWork, /, service_level: Any = 0.95, horizon_days: Any = 28, skus_: Any = None,
                fill_rate: Any = None, review_days: Any = 0, **costs: Any) -> dict[str, Any]:
    """A plan waiting to run (`run_plan`); its id. With `fill_rate`, safety stock is sized for that
    share of demand met from stock instead of the cycle service level; with `review_days`, orders
    go up to a level at each review instead of at a reorder point. `costs` may set any of COSTS
    for this plan; the rest come from the shop's settings (RESTOCK_ORDER_COST, ...)."""
    unknown = sorted(set(costs) - set(COSTS))
    if unknown:
        raise InvalidInput(f"unknown plan settings: {', '.join(unknown)}")
    settings = {"service_level": _share(service_level, "service_level"),
                "fill_rate": None if fill_rate is None else _share(fill_rate, "fill_rate"),
                "review_days": v.count(review_days, "review_days", maximum=365) or 0,
                "horizon_days": v.qty(horizon_days, "horizon_days", maximum=365),
                "skus": None if skus_ is None else sorted({v.code(c, "sku") for c in v.lines(skus_, "skus")}),
                **{name: _cost(name, costs.get(name)) for name in COSTS}}
    plan_id = f"PLAN-{uow.now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    uow.execute(sa.insert(plans).values(id=plan_id, status="running", progress=0.0, created_at=uow.now,
                                        settings=settings))
    return {"id": plan_id}


# Plan settings with their shop-wide defaults (environment) and their bounds.
COSTS: dict[str, tuple[str, float, float, float]] = {
    "order_cost": ("RESTOCK_ORDER_COST", 50.0, 0.0, 1e6),  # per purchase order line
    "holding_rate": ("RESTOCK_HOLDING_RATE", 0.25, 0.001, 10.0),  # of unit cost, per year
    "overstock_days": ("RESTOCK_OVERSTOCK_DAYS", 180, 1, 3650),
    "dead_stock_days": ("RESTOCK_DEAD_STOCK_DAYS", 90, 1, 3650),
    "backorder_rate_alert": ("RESTOCK_BACKORDER_RATE_ALERT", 0.2, 0.0, 1.0),
}


def _cost(name: str, value: Any) -> float:
    variable, default, low, high = COSTS[name]
    if value is None:
        try:
            value = float(os.environ.get(variable) or default)
        except ValueError:
            raise InvalidInput(f"{variable} must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)


def _share(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.5 <= value < 1:
        raise InvalidInput(f"{what} must be a number from 0.5 to below 1, such as 0.95")
    return float(value)


def run_plan(shop: Shop, plan_id: str, progress: Callable[[str, float], None] = lambda *_: None, *,
             engine: str = "local") -> dict[str, Any]:
    """Compute the plan's suggestions and store them; a failure marks the plan failed.
    `engine="dask"` forecasts on the current Dask client's cluster."""
    if not _claim(shop, plan_id):  # another caller runs (or ran) it: a repeated request, say
        return get_plan(shop, plan_id)
    try:
        plan = get_plan(shop, plan_id)
        asked = plan["settings"]
        settings = PlanSettings(
            service_level=asked["service_level"], fill_rate=asked.get("fill_rate"),
            review_days=asked.get("review_days") or 0, horizon_days=asked["horizon_days"],
            order_cost=asked["order_cost"], holding_rate=asked["holding_rate"],
            overstock_days=int(asked["overstock_days"]), dead_stock_days=int(asked["dead_stock_days"]),
            backorder_rate_alert=asked["backorder_rate_alert"])
        step = _stepper(shop, plan_id, progress)
        step("load", 0.05)
        inputs = _inputs(shop, plan["settings"]["skus"])
        forecasts = forecast_all(inputs.series, settings.horizon_days, engine=engine, progress=lambda stage: step(
            stage, 0.2 if stage == "backtest" else 0.6))
        step("policy", 0.85)
        rows = [suggest(forecasts[sku], inputs.series[sku], inputs.positions[sku], inputs.suppliers[sku], settings)
                for sku in sorted(inputs.series)]
        _finish(shop, plan_id, rows)
        step("done", 1.0)
    except Exception as error:  # stored for GET /v1/plans/{id}; the caller sees it too
        _fail(shop, plan_id, f"{type(error).__name__}: {error}"[:500])
        raise
    return get_plan(shop, plan_id)


@transaction
def _claim(uow: UnitOfWork, plan_id: str) -> bool:
    """Whether this caller is the one to run the plan (each plan runs once)."""
    if uow.execute(sa.select(plans.c.id).where(plans.c.id == plan_id)).first() is None:
        raise NotFound(f"unknown plan {plan_id!r:.60}")
    return bool(uow.execute(sa.update(plans).where(plans.c.id == plan_id, plans.c.started_at.is_(None))
                            .values(started_at=uow.now)).rowcount)


def _stepper(shop: Shop, plan_id: str, progress: Callable[[str, float], None]) -> Callable[[str, float], None]:
    def step(stage: str, share: float) -> None:
        progress(stage, share)
        _set_progress(shop, plan_id, share)
    return step


@transaction
def _set_progress(uow: UnitOfWork, plan_id: str, share: float) -> None:
    uow.execute(sa.update(plans).where(plans.c.id == plan_id).values(progress=share))


@transaction
def _finish(uow: UnitOfWork, plan_id: str, rows: list[dict[str, Any]]) -> None:
    uow.execute(sa.delete(plan_suggestions).where(plan_suggestions.c.plan_id == plan_id))
    uow.executemany(_INSERT, [{"plan_id": plan_id, "sku": r["sku"], "action": r["action"], "data": r, "po": None}
                              for r in rows])
    uow.execute(sa.update(plans).where(plans.c.id == plan_id).values(status="done", progress=1.0,
                                                                       finished_at=uow.now))


_INSERT = sa.insert(plan_suggestions)


@transaction
def _fail(uow: UnitOfWork, plan_id: str, error: str) -> None:
    uow.execute(sa.update(plans).where(plans.c.id == plan_id).values(status="failed", error=error,
                                                                       finished_at=uow.now))


class _Inputs:
    def __init__(self) -> None:
        self.series: dict[str, np.ndarray] = {}
        self.positions: dict[str, Position] = {}
        self.suppliers: dict[str, list[SupplierOption]] = defaultdict(list)


@read_only
def _inputs(uow: UnitOfWork, wanted: list[str] | None) -> _Inputs:
    """Demand per SKU and day up to yesterday, stock positions and suppliers."""
    end = uow.today - timedelta(days=1)
    start = end - timedelta(days=HISTORY_DAYS - 1)
    codes = [r.code for r in uow.execute(sa.select(skus.c.code).order_by(skus.c.code))]
    if wanted is not None:
        unknown = sorted(set(wanted) - set(codes))
        if unknown:
            raise NotFound(f"unknown SKUs: {', '.join(unknown)[:200]}")
        codes = wanted
    daily: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    placed_day = sa.func.date(order_lines.c.placed_at)
    for sku, day, qty in uow.execute(sa.select(order_lines.c.sku, placed_day, sa.func.sum(order_lines.c.qty))
                                     .group_by(order_lines.c.sku, placed_day)):
        daily[sku][day if isinstance(day, date) else date.fromisoformat(str(day))] += float(qty)
    for sku, day, qty in uow.execute(sa.select(demand_history.c.sku, demand_history.c.day,
                                               sa.func.sum(demand_history.c.qty))
                                     .group_by(demand_history.c.sku, demand_history.c.day)):
        daily[sku][day] += float(qty)
    chosen = set(codes)
    first = min((min(days) for sku, days in daily.items() if sku in chosen and days), default=end)
    first = max(first, start)
    length = (end - first).days + 1
    found = _Inputs()
    for code in codes:
        y = np.zeros(max(length, 1))
        for day, qty in daily.get(code, {}).items():
            if first <= day <= end:
                y[(day - first).days] += qty
        found.series[code] = y
    rows = {r.sku: r for part in chunks(codes) for r in uow.execute(
        sa.select(stock).where(stock.c.location == DEFAULT_LOCATION, stock.c.sku.in_(part)))}
    recent = _recent_lines(uow)
    for code in codes:
        r, y = rows[code], found.series[code]
        seen = np.flatnonzero(y)
        found.positions[code] = Position(r.on_hand, r.allocated, r.backordered, r.inbound,
                                         int(len(y) - 1 - seen[-1]) if len(seen) else None, *recent.get(code, (0, 0)))
    records = supplier_records(uow)
    for part in chunks(codes):
        for i in uow.execute(sa.select(supplier_items).where(supplier_items.c.sku.in_(part))
                             .order_by(supplier_items.c.sku, supplier_items.c.rank)):
            found.suppliers[i.sku].append(_option(i, records.get(i.supplier)))
    return found


LEARN_FROM = 3  # receipts, before a supplier's observed lead time replaces the stated one


def _option(item: Any, record: SupplierRecord | None) -> SupplierOption:
    if record is None or record.receipts < LEARN_FROM:
        return SupplierOption(item.supplier, float(item.lead_time_days), float(item.lead_time_sd_days),
                              float(item.unit_cost), item.moq, item.pack_size)
    return SupplierOption(item.supplier, record.lead_time_days, record.lead_time_sd_days, float(item.unit_cost),
                          item.moq, item.pack_size, record.receipts, record.on_time)


def _recent_lines(uow: UnitOfWork) -> dict[str, tuple[int, int]]:
    """Per SKU, lines placed in the last 28 days and how many had units backordered at placement."""
    ol = order_lines.c
    since = uow.now - timedelta(days=28)
    return {sku: (int(n), int(b)) for sku, n, b in uow.execute(
        sa.select(ol.sku, sa.func.count(), sa.func.count().filter(ol.backordered_at_placement > 0))
        .where(ol.placed_at >= since).group_by(ol.sku))}


@dataclass(frozen=True)
class SupplierRecord:
    receipts: int
    lead_time_days: float  # observed: first receipt of a line minus the day its PO was made
    lead_time_sd_days: float
    on_time: float  # share of lines first received by the ETA first given


def supplier_records(uow: UnitOfWork) -> dict[str, SupplierRecord]:
    """What each supplier's receipts say: lead times as observed, and how often the first ETA held."""
    first_receipt: dict[str, date] = {}
    for ref, at in uow.execute(sa.select(movements.c.ref, sa.func.min(movements.c.at))
                               .where(movements.c.reason == "receipt").group_by(movements.c.ref)):
        first_receipt[str(ref)] = at.date()
    seen: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for po_id, supplier, created, line_no, first_eta in uow.execute(
            sa.select(purchase_orders.c.id, purchase_orders.c.supplier, purchase_orders.c.created_at,
                      po_lines.c.line_no, po_lines.c.first_eta)
            .join(po_lines, po_lines.c.po_seq == purchase_orders.c.seq).where(po_lines.c.qty_received > 0)):
        received = first_receipt.get(f"po:{po_id}:{line_no}")
        if received is not None:
            seen[supplier].append(((received - created.date()).days, received <= first_eta))
    return {supplier: SupplierRecord(len(obs), float(np.mean([d for d, _ in obs])),
                                     float(np.std([d for d, _ in obs], ddof=1)) if len(obs) > 1 else 0.0,
                                     sum(ok for _, ok in obs) / len(obs))
            for supplier, obs in seen.items()}


@read_only
def get_plan(uow: UnitOfWork, plan_id: str) -> dict[str, Any]:
    row = uow.execute(sa.select(plans).where(plans.c.id == plan_id)).first() if isinstance(plan_id, str) else None
    if row is None:
        raise NotFound(f"unknown plan {plan_id!r:.60}")
    rows = uow.execute(sa.select(plan_suggestions).where(plan_suggestions.c.plan_id == plan_id)
                       .order_by(plan_suggestions.c.sku)).all()
    return {"id": row.id, "status": row.status, "progress": row.progress, "settings": row.settings,
            "created_at": utc(row.created_at).isoformat(),
            "finished_at": utc(row.finished_at).isoformat() if row.finished_at else None, "error": row.error,
            "suggestions": [{**r.data, "purchase_order": r.po} for r in rows]}


@transaction
def approve_plan(uow: UnitOfWork, plan_id: str, skus_: Any = None) -> dict[str, Any]:
    """Purchase orders for the plan's `order` and `expedite` suggestions (all, or these SKUs), one per
    supplier, each line due at today + that supplier's lead time. A SKU is ordered once per plan."""
    plan = uow.execute(sa.select(plans).where(plans.c.id == plan_id)).first() if isinstance(plan_id, str) else None
    if plan is None:
        raise NotFound(f"unknown plan {plan_id!r:.60}")
    if plan.status != "done":
        raise InvalidState(f"plan {plan_id} is {plan.status}; approve it once it is done")
    ps = plan_suggestions.c
    rows = uow.execute(sa.select(plan_suggestions).where(ps.plan_id == plan_id, ps.action.in_(ORDERING))
                       .order_by(ps.sku).with_for_update()).all()
    if skus_ is not None:
        named = {v.code(c, "sku") for c in v.lines(skus_, "skus")}
        missing = sorted(named - {r.sku for r in rows})
        if missing:
            raise InvalidInput(f"the plan suggests no order for: {', '.join(missing)[:200]}", {"skus": missing})
        rows = [r for r in rows if r.sku in named]
    done = [r.sku for r in rows if r.po is not None]
    if done:
        raise InvalidState(f"already ordered from this plan: {', '.join(done)[:200]}", {"skus": done})
    by_supplier: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_supplier[r.data["supplier"]].append(r)
    made = []
    for supplier, lines in sorted(by_supplier.items()):
        po = create_po.__wrapped__(uow, supplier, [  # type: ignore[attr-defined]
            {"sku": r.sku, "qty": r.data["order_qty"],
             "eta": (uow.today + timedelta(days=round(r.data["lead_time_days"]))).isoformat()} for r in lines])
        made.append(po)
        uow.execute(sa.update(plan_suggestions).where(ps.plan_id == plan_id, ps.sku.in_([r.sku for r in lines]))
                    .values(po=po["id"]))
    return {"plan": plan_id, "purchase_orders": made}
