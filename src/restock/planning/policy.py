"""A replenishment suggestion per SKU: from its forecast and backtest error,
its stock position and its suppliers, the safety stock, reorder point, order
quantity, the supplier to buy from, and what to do, with the reason in words.

Inventory position = on hand + inbound - allocated - backordered.

- Continuous review (`review_days` 0): order when the position is at or below
  the reorder point = demand over the lead time + safety stock; the quantity
  is the larger of the EOQ and what brings the position above the reorder
  point, rounded up to the supplier's MOQ and pack size.
- Periodic review every R days: order up to S = demand over lead time + R +
  safety stock over the same span, when the position is below S.
- Safety stock is sized for a cycle service level (normal demand over the
  lead time, demand and lead-time spread both), or for a fill-rate target
  with the normal loss function; intermittent and lumpy SKUs take their
  reorder point from the empirical distribution of their own lead-time demand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from restock.planning.demand import DemandClass
from restock.planning.forecast import Forecast
from restock.planning.inventory import eoq, lead_time_demand_sd, round_order, safety_factor_for_fill_rate


@dataclass(frozen=True, slots=True)
class PlanSettings:
    service_level: float = 0.95
    fill_rate: float | None = None  # when set, safety stock is sized for it instead of the service level
    review_days: int = 0  # 0: continuous review (reorder point); else order-up-to every so many days
    horizon_days: int = 28
    order_cost: float = 50.0  # per purchase order line
    holding_rate: float = 0.25  # of unit cost, per year
    overstock_days: int = 180
    dead_stock_days: int = 90
    backorder_rate_alert: float = 0.2  # of lines placed in the last 28 days
    alert_min_lines: int = 5


@dataclass(frozen=True, slots=True)
class SupplierOption:
    supplier: str
    lead_time_days: float
    lead_time_sd_days: float
    unit_cost: float
    moq: int
    pack_size: int
    receipts: int = 0  # receipts the lead time was learnt from (0: as stated)
    on_time: float | None = None  # share of those received by the ETA first given


@dataclass(frozen=True, slots=True)
class Position:
    on_hand: int
    allocated: int
    backordered: int
    inbound: int
    days_since_demand: int | None  # None: never
    lines_28_days: int = 0
    backordered_lines_28_days: int = 0

    @property
    def inventory_position(self) -> int:
        return self.on_hand + self.inbound - self.allocated - self.backordered


def suggest(f: Forecast, history: np.ndarray, position: Position, suppliers: Sequence[SupplierOption],
            settings: PlanSettings) -> dict[str, object]:
    """The suggestion for one SKU, every figure behind it included."""
    ip = position.inventory_position
    alerts = _alerts(position, settings)
    if not suppliers:
        return _row(f, None, 0, 0, ip, 0, "none", "no supplier is set for this SKU", alerts)
    choice = min(suppliers, key=lambda o: _yearly_cost(f, o, settings))
    economic = _economic_qty(f, choice, settings)
    ss_units, rop_units = _safety_and_reorder_point(f, history, choice, settings, economic)
    ss, rop = math.ceil(ss_units), math.ceil(rop_units)  # whole units, as shown
    faster = [o for o in suppliers if o.lead_time_days < choice.lead_time_days]
    if position.backordered and faster:
        quick = min(faster, key=lambda o: o.lead_time_days)
        qty = round_order(max(position.backordered, rop - ip + 1), quick.moq, quick.pack_size)
        return _row(f, quick, ss, rop, ip, qty, "expedite",
                    f"{position.backordered} units are on backorder and {quick.supplier} delivers in "
                    f"{quick.lead_time_days:g} days instead of {choice.lead_time_days:g}", alerts)
    if position.on_hand > 0 and (position.days_since_demand is None
                                 or position.days_since_demand >= settings.dead_stock_days):
        when = "ever" if position.days_since_demand is None else f"for {position.days_since_demand} days"
        return _row(f, choice, ss, rop, ip, 0, "dead_stock", f"{position.on_hand} on hand and no demand {when}",
                    alerts)
    if f.daily > 0 and ip / f.daily > settings.overstock_days:
        return _row(f, choice, ss, rop, ip, 0, "overstock",
                    f"{ip / f.daily:.0f} days of cover, above {settings.overstock_days}", alerts)
    needs = ip < rop if settings.review_days else ip <= rop
    level = "order-up-to level" if settings.review_days else "reorder point"
    if needs and (f.daily > 0 or ip < 0):
        span = choice.lead_time_days + settings.review_days
        qty = round_order(rop - ip if settings.review_days else max(economic, rop - ip + 1),
                          choice.moq, choice.pack_size)
        sized = (f"order up to {rop} at this review (every {settings.review_days} days)" if settings.review_days
                 else f"order {qty} (EOQ {economic:.0f}, MOQ {choice.moq}, pack {choice.pack_size})")
        return _row(f, choice, ss, rop, ip, qty, "order",
                    f"inventory position {ip} is {'below' if settings.review_days else 'at or below'} the {level} "
                    f"{rop} ({f.daily:.2f}/day over {span:g} days plus {ss} safety stock{_record(choice)}); "
                    f"{sized}", alerts)
    where = "not below" if settings.review_days else "above"
    return _row(f, choice, ss, rop, ip, 0, "none", f"inventory position {ip} is {where} the {level} {rop}", alerts)


def _economic_qty(f: Forecast, o: SupplierOption, settings: PlanSettings) -> float:
    yearly = 365 * f.daily
    return eoq(yearly, settings.order_cost, settings.holding_rate * max(o.unit_cost, 0.01)) if yearly > 0 else 0.0


def _safety_and_reorder_point(f: Forecast, history: np.ndarray, o: SupplierOption, settings: PlanSettings,
                              order_qty: float) -> tuple[float, float]:
    """(safety stock, reorder point or order-up-to level) over the lead time plus the review period."""
    span = o.lead_time_days + settings.review_days
    expected = f.daily * span
    if f.demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY) and settings.fill_rate is None:
        days = max(1, math.ceil(span + o.lead_time_sd_days))
        if len(history) >= days * 4:
            sums = np.convolve(history, np.ones(days), mode="valid")
            level = float(np.quantile(sums, settings.service_level))
            return max(0.0, level - expected), max(level, expected)
    sigma = lead_time_demand_sd(f.daily, f.error_sd_daily, span, o.lead_time_sd_days)
    if sigma <= 0:
        return 0.0, expected
    if settings.fill_rate is not None:
        k = safety_factor_for_fill_rate(settings.fill_rate, sigma, max(order_qty, o.moq, 1.0))
    else:
        k = float(norm.ppf(settings.service_level))
    ss = max(0.0, k * sigma)
    return ss, expected + ss


def _yearly_cost(f: Forecast, o: SupplierOption, settings: PlanSettings) -> float:
    """Purchase cost plus the holding cost of the safety stock this supplier's lead time needs."""
    sigma = lead_time_demand_sd(f.daily, f.error_sd_daily, o.lead_time_days, o.lead_time_sd_days)
    z = float(norm.ppf(settings.service_level))
    return 365 * f.daily * o.unit_cost + settings.holding_rate * o.unit_cost * z * sigma


def _record(o: SupplierOption) -> str:
    if not o.receipts:
        return ""
    on_time = "" if o.on_time is None else f", {o.on_time:.0%} on time"
    return (f"; {o.supplier}'s lead time {o.lead_time_days:g} ± {o.lead_time_sd_days:.1f} days learnt from "
            f"{o.receipts} receipts{on_time}")


def _alerts(position: Position, settings: PlanSettings) -> list[str]:
    lines, backordered = position.lines_28_days, position.backordered_lines_28_days
    if lines >= settings.alert_min_lines and backordered / lines > settings.backorder_rate_alert:
        return [f"backorder rate {backordered / lines:.0%} over the last 28 days ({backordered} of {lines} lines), "
                f"above {settings.backorder_rate_alert:.0%}: check stock levels and lead times"]
    return []


def _row(f: Forecast, o: SupplierOption | None, ss: int, rop: int, ip: int, qty: int, action: str,
         reason: str, alerts: list[str]) -> dict[str, object]:
    return {"sku": f.sku, "demand_class": f.demand_class.value, "method": f.method,
            "forecast_daily": round(f.daily, 4), "sd_daily": round(f.error_sd_daily, 4),
            "baseline_sd_daily": None if f.baseline_error_sd_daily is None else round(f.baseline_error_sd_daily, 4),
            "lead_time_days": o.lead_time_days if o else None,
            "lead_time_sd_days": o.lead_time_sd_days if o else None,
            "safety_stock": ss, "reorder_point": rop, "order_qty": qty,
            "inventory_position": ip, "supplier": o.supplier if o else None, "unit_cost": o.unit_cost if o else None,
            "supplier_receipts": o.receipts if o else 0, "supplier_on_time": o.on_time if o else None,
            "action": action, "reason": reason, "alerts": alerts}
