"""Inventory policy formulas: safety stock for a cycle service level or a fill
rate, reorder points, and order quantities (EOQ, rounded to MOQ and pack).

Demand is per day: mean `d`, standard deviation `sd_d`; lead time in days:
mean `lt`, standard deviation `sd_lt`. Demand over the lead time then has
mean d*lt and standard deviation sqrt(lt*sd_d^2 + d^2*sd_lt^2).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.stats import norm


def lead_time_demand_sd(d: float, sd_d: float, lt: float, sd_lt: float) -> float:
    """Standard deviation of demand over a lead time, demand and lead time both varying."""
    return math.sqrt(lt * sd_d**2 + d**2 * sd_lt**2)


def safety_stock_for_service_level(service_level: float, d: float, sd_d: float, lt: float, sd_lt: float) -> float:
    """Safety stock so that a cycle is out of stock with probability 1 - service_level (normal demand)."""
    if not 0 < service_level < 1:
        raise ValueError("service level is a probability strictly between 0 and 1")
    return float(norm.ppf(service_level)) * lead_time_demand_sd(d, sd_d, lt, sd_lt)


def reorder_point(d: float, lt: float, safety_stock: float) -> float:
    return d * lt + safety_stock


def normal_loss(k: float) -> float:
    """The standard normal loss function G(k) = E[(Z - k)+] = phi(k) - k (1 - Phi(k))."""
    return float(norm.pdf(k) - k * norm.sf(k))


def fill_rate(k: float, sigma_lt: float, order_qty: float) -> float:
    """Share of demand met from stock with safety factor k, per order cycle of `order_qty` units."""
    return 1.0 - sigma_lt * normal_loss(k) / order_qty


def safety_factor_for_fill_rate(target: float, sigma_lt: float, order_qty: float) -> float:
    """The smallest k whose fill rate reaches `target` (k may be negative for large orders)."""
    if not 0 < target < 1:
        raise ValueError("fill rate is a share strictly between 0 and 1")
    if sigma_lt <= 0:
        return 0.0
    wanted_loss = (1 - target) * order_qty / sigma_lt
    return float(brentq(lambda k: normal_loss(k) - wanted_loss, -10, 10))


def eoq(annual_demand: float, order_cost: float, holding_cost_per_unit_year: float) -> float:
    """Economic order quantity sqrt(2 D S / H)."""
    if holding_cost_per_unit_year <= 0:
        raise ValueError("holding cost must be positive")
    return math.sqrt(2 * annual_demand * order_cost / holding_cost_per_unit_year)


def round_order(qty: float, moq: int = 1, pack_size: int = 1) -> int:
    """An order of at least `qty` and `moq`, in whole packs."""
    wanted = max(math.ceil(qty), moq, 1)
    return math.ceil(wanted / pack_size) * pack_size
