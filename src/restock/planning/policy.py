"""A replenishment suggestion per SKU: from its forecast and backtest error,
its stock position and its suppliers, the safety stock, reorder point, order
quantity, the supplier to buy from, and what to do, with the reason in words.

Inventory position = on hand + inbound - allocated - backordered. A SKU is
ordered when its position is at or below its reorder point; the quantity is
the larger of the EOQ and what brings the position back above the reorder
point, rounded up to the supplier's MOQ and pack size. Intermittent and lumpy
SKUs size their reorder point from the empirical distribution of their own
lead-time demand (rolling sums of the history) instead of the normal curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from restock.planning.demand import DemandClass
from restock.planning.forecast import Forecast
from restock.planning.inventory import eoq, lead_time_demand_sd, round_order, safety_stock_for_service_level


@dataclass(frozen=True, slots=True)
class PlanSettings:
    service_level: float = 0.95
    horizon_days: int = 28
    order_cost: float = 50.0  # per purchase order line
    holding_rate: float = 0.25  # of unit cost, per year
    overstock_days: int = 180
    dead_stock_days: int = 90


@dataclass(frozen=True, slots=True)
class SupplierOption:
    supplier: str
    lead_time_days: float
    lead_time_sd_days: float
    unit_cost: float
    moq: int
    pack_size: int


@dataclass(frozen=True, slots=True)
class Position:
    on_hand: int
    allocated: int
    backordered: int
    inbound: int
    days_since_demand: int | None  # None: never

    @property
    def inventory_position(self) -> int:
        return self.on_hand + self.inbound - self.allocated - self.backordered


def suggest(f: Forecast, history: np.ndarray, position: Position, suppliers: Sequence[SupplierOption],
            settings: PlanSettings) -> dict[str, object]:
    """The suggestion for one SKU, every figure behind it included."""
    ip = position.inventory_position
    if not suppliers:
        return _row(f, None, 0, 0, ip, 0, "none", "no supplier is set for this SKU")
    choice = min(suppliers, key=lambda o: _yearly_cost(f, o, settings))
    ss_units, rop_units = _safety_and_reorder_point(f, history, choice, settings)
    ss, rop = math.ceil(ss_units), math.ceil(rop_units)  # whole units, as shown
    qty = 0
    faster = [o for o in suppliers if o.lead_time_days < choice.lead_time_days]
    if position.backordered and faster:
        quick = min(faster, key=lambda o: o.lead_time_days)
        qty = round_order(max(position.backordered, rop - ip + 1), quick.moq, quick.pack_size)
        return _row(f, quick, ss, rop, ip, qty, "expedite",
                    f"{position.backordered} units are on backorder and {quick.supplier} delivers in "
                    f"{quick.lead_time_days:g} days instead of {choice.lead_time_days:g}")
    if position.on_hand > 0 and (position.days_since_demand is None
                                 or position.days_since_demand >= settings.dead_stock_days):
        when = "ever" if position.days_since_demand is None else f"for {position.days_since_demand} days"
        return _row(f, choice, ss, rop, ip, 0, "dead_stock", f"{position.on_hand} on hand and no demand {when}")
    if f.daily > 0 and ip / f.daily > settings.overstock_days:
        return _row(f, choice, ss, rop, ip, 0, "overstock",
                    f"{ip / f.daily:.0f} days of cover, above {settings.overstock_days}")
    if ip <= rop and (f.daily > 0 or ip < 0):
        yearly = 365 * f.daily
        economic = eoq(yearly, settings.order_cost, settings.holding_rate * max(choice.unit_cost, 0.01)) \
            if yearly > 0 else 0.0
        qty = round_order(max(economic, rop - ip + 1), choice.moq, choice.pack_size)
        return _row(f, choice, ss, rop, ip, qty, "order",
                    f"inventory position {ip} is at or below the reorder point {rop} "
                    f"({f.daily:.2f}/day over {choice.lead_time_days:g} days plus {ss} safety stock); "
                    f"order {qty} (EOQ {economic:.0f}, MOQ {choice.moq}, pack {choice.pack_size})")
    return _row(f, choice, ss, rop, ip, 0, "none",
                f"inventory position {ip} is above the reorder point {rop}")


def _safety_and_reorder_point(f: Forecast, history: np.ndarray, o: SupplierOption,
                              settings: PlanSettings) -> tuple[float, float]:
    expected = f.daily * o.lead_time_days
    if f.demand_class in (DemandClass.INTERMITTENT, DemandClass.LUMPY):
        days = max(1, math.ceil(o.lead_time_days + o.lead_time_sd_days))
        if len(history) >= days * 4:
            sums = np.convolve(history, np.ones(days), mode="valid")
            rop = float(np.quantile(sums, settings.service_level))
            return max(0.0, rop - expected), max(rop, expected)
    sigma = lead_time_demand_sd(f.daily, f.error_sd_daily, o.lead_time_days, o.lead_time_sd_days)
    ss = max(0.0, safety_stock_for_service_level(settings.service_level, f.daily, f.error_sd_daily,
                                                 o.lead_time_days, o.lead_time_sd_days)) if sigma > 0 else 0.0
    return ss, expected + ss


def _yearly_cost(f: Forecast, o: SupplierOption, settings: PlanSettings) -> float:
    """Purchase cost plus the holding cost of the safety stock this supplier's lead time needs."""
    sigma = lead_time_demand_sd(f.daily, f.error_sd_daily, o.lead_time_days, o.lead_time_sd_days)
    z = float(norm.ppf(settings.service_level))
    return 365 * f.daily * o.unit_cost + settings.holding_rate * o.unit_cost * z * sigma


def _row(f: Forecast, o: SupplierOption | None, ss: int, rop: int, ip: int, qty: int, action: str,
         reason: str) -> dict[str, object]:
    return {"sku": f.sku, "demand_class": f.demand_class.value, "method": f.method,
            "forecast_daily": round(f.daily, 4), "sd_daily": round(f.error_sd_daily, 4),
            "baseline_sd_daily": None if f.baseline_error_sd_daily is None else round(f.baseline_error_sd_daily, 4),
            "lead_time_days": o.lead_time_days if o else None,
            "lead_time_sd_days": o.lead_time_sd_days if o else None,
            "safety_stock": ss, "reorder_point": rop, "order_qty": qty,
            "inventory_position": ip, "supplier": o.supplier if o else None, "unit_cost": o.unit_cost if o else None,
            "action": action, "reason": reason}
