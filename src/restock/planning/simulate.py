"""The policy simulator: replays a demand history day by day through the real
engine (in process, on its own SQLite file, with a fixed clock), with purchase
orders placed by a replenishment policy, lead times drawn from each supplier's
spread and occasional supplier delays that move promises. Several policies run
on the same history with the same seed, side by side:

- `restock`: restock's own plan (forecasts, safety stock, order-up-to) every
  `review_days`, approved as it stands;
- `minmax`: the common hand-set rule: reorder when the position falls to
  average daily demand x lead time, up to that plus the MOQ;
- `fixed`: given reorder points, ordering the EOQ (or the MOQ).

What it reports: fill rate, backorder rate and promises kept (restock's own
KPIs over the simulated days), average inventory value, stock-out SKU-days
(no free stock at the end of a day), and replenishments (purchase order lines;
each day's buys make one purchase order). The same seed
gives the same result; with `check_every_day` the stock ledger is replayed and
checked after every simulated day.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from restock import services as s
from restock.clock import FixedClock
from restock.planning.history import History
from restock.planning.inventory import eoq, round_order
from restock.shop import Shop
from restock.storage.tables import stock

SUPPLIER = "SUPPLIER"
ORDER_LINES = 200


@dataclass(frozen=True)
class SimSku:
    code: str
    unit_cost: float = 1.0
    lead_time_days: int = 14
    lead_time_sd_days: float = 3.0
    moq: int = 1
    pack_size: int = 1


@dataclass(frozen=True)
class Policy:
    name: str
    kind: str  # restock | minmax | fixed
    review_days: int = 7  # restock's plan cadence
    service_level: float = 0.95
    reorder_points: Mapping[str, int] = field(default_factory=dict)  # fixed


@dataclass
class SimResult:
    policy: str
    fill_rate: float | None
    backorder_rate: float | None
    promises_kept: float | None
    average_inventory_value: float
    stockout_days: int
    replenishments: int  # purchase order lines: one SKU bought once
    days: list[tuple[date, float, int]] = field(default_factory=list)  # day, inventory value, units on backorder


@dataclass
class _Inbound:
    po: str
    line: int
    sku: str
    qty: int
    eta: date
    arrives: date


def simulate(history: Mapping[str, np.ndarray], skus: Mapping[str, SimSku], policies: list[Policy], *,
             start: date, warmup_days: int = 90, seed: int = 1, delay_probability: float = 0.1,
             check_every_day: bool = False, folder: Path | None = None,
             progress: Callable[[str, int, int], None] = lambda *_: None) -> list[SimResult]:
    """Run each policy over `history` (daily demand per SKU, the first `warmup_days` days known
    beforehand, the rest simulated from `start`)."""
    days = min(len(y) for y in history.values()) - warmup_days
    if days < 1:
        raise ValueError("the history must be longer than the warm-up")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        return [_run(Path(tmp) / f"{n}.db", history, skus, policy, start, warmup_days, days, seed,
                     delay_probability, check_every_day, progress) for n, policy in enumerate(policies)]


def _run(path: Path, history: Mapping[str, np.ndarray], skus: Mapping[str, SimSku], policy: Policy, start: date,
         warmup: int, days: int, seed: int, delay_probability: float, check: bool,
         progress: Callable[[str, int, int], None]) -> SimResult:
    rng = random.Random(seed)
    clock = FixedClock(datetime(start.year, start.month, start.day, 9, tzinfo=UTC) - timedelta(days=1))
    shop = Shop.open(f"sqlite:///{path}", clock)
    try:
        _set_up(shop, history, skus, warmup, start)
        clock.set_today(start)
        averages = {k: float(np.mean(y[:warmup])) if warmup else 0.0 for k, y in history.items()}
        inbound: list[_Inbound] = []
        result = SimResult(policy.name, None, None, None, 0.0, 0, 0)
        for d in range(days):
            today = start + timedelta(days=d)
            clock.set_today(today)
            _supply(shop, inbound, today)
            _demand(shop, history, warmup + d, d)
            _ship_ready(shop)
            if policy.kind == "restock":
                if d % policy.review_days == 0:
                    _restock_plan(shop, policy, skus, inbound, today, rng, delay_probability, result)
            else:
                _rule(shop, policy, skus, averages, inbound, today, rng, delay_probability, result)
            _record(shop, skus, today, result)
            if check and not s.check_ledger(shop)["ok"]:
                raise AssertionError(f"{policy.name}: the ledger disagrees with the balances on {today}")
            progress(policy.name, d + 1, days)
        figures = s.kpis(shop, start.isoformat(), (start + timedelta(days=days - 1)).isoformat())
        result.fill_rate, result.backorder_rate = figures["fill_rate"], figures["backorder_rate"]
        result.promises_kept = figures["promises_kept"]
        result.average_inventory_value = float(np.mean([v for _, v, _ in result.days]))
        return result
    finally:
        shop.close()


def _set_up(shop: Shop, history: Mapping[str, np.ndarray], skus: Mapping[str, SimSku], warmup: int,
            start: date) -> None:
    s.put_supplier(shop, SUPPLIER, "Supplier", 14)
    known = History()
    for code, y in history.items():
        sku = skus[code]
        s.put_sku(shop, code, code, f"{2 * sku.unit_cost:.4f}", f"{sku.unit_cost:.4f}", {"mode": "allow"},
                  [{"supplier": SUPPLIER, "lead_time_days": sku.lead_time_days,
                    "lead_time_sd_days": sku.lead_time_sd_days, "unit_cost": f"{sku.unit_cost:.4f}",
                    "moq": sku.moq, "pack_size": sku.pack_size}])
        for n in range(warmup):
            if y[n] > 0:
                known.add(start - timedelta(days=warmup - n), code, int(y[n]), "")
        opening = math.ceil(float(np.mean(y[:warmup]) if warmup else 0) * (sku.lead_time_days + 7))
        if opening:
            s.adjust_stock(shop, code, opening, "opening stock")
    s.store_history(shop, "warm-up", known)


def _demand(shop: Shop, history: Mapping[str, np.ndarray], index: int, day: int) -> None:
    """The day's demand as orders of many lines, one line per SKU: the KPIs count lines and units,
    and one order per batch of lines keeps the simulation to a few transactions a day."""
    lines = [{"sku": sku, "qty": int(y[index])} for sku, y in history.items() if y[index] > 0]
    for n in range(0, len(lines), ORDER_LINES):
        s.place_order(shop, f"D{day}-{n // ORDER_LINES}", {"email": "sim@example.com", "name": "Sim"},
                      lines[n:n + ORDER_LINES])


def _supply(shop: Shop, inbound: list[_Inbound], today: date) -> None:
    """Suppliers deliver what arrives today (a receipt per PO), and say so when what was due today is late."""
    arriving: dict[str, list[_Inbound]] = {}
    for line in list(inbound):
        if line.arrives <= today:
            arriving.setdefault(line.po, []).append(line)
            inbound.remove(line)
        elif line.eta <= today:
            s.change_eta(shop, line.po, line.line, line.arrives.isoformat())
            line.eta = line.arrives
    for po, lines in arriving.items():
        s.receive(shop, po, [{"line": line.line, "qty": line.qty} for line in lines])


def _ship_ready(shop: Shop) -> None:
    while ready := s.list_shipments(shop, "ready", None, 1000)["shipments"]:
        for shipment in ready:
            s.ship(shop, shipment["id"])


def _buy(shop: Shop, wanted: list[tuple[SimSku, int]], inbound: list[_Inbound], today: date,
         rng: random.Random, delay_probability: float, result: SimResult) -> None:
    """The day's buys as purchase orders of up to ORDER_LINES lines, each line due at its stated lead
    time; each arrives after a draw from the spread, and now and then a supplier delay on top."""
    for start in range(0, len(wanted), ORDER_LINES):
        po = f"P{today:%Y%m%d}-{start // ORDER_LINES}"
        lines = []
        for n, (sku, qty) in enumerate(wanted[start:start + ORDER_LINES], 1):
            eta = today + timedelta(days=sku.lead_time_days)
            days = max(1, round(rng.gauss(sku.lead_time_days, sku.lead_time_sd_days)))
            if rng.random() < delay_probability:
                days += rng.randint(3, 10)
            lines.append({"sku": sku.code, "qty": qty, "eta": eta.isoformat()})
            inbound.append(_Inbound(po, n, sku.code, qty, eta, today + timedelta(days=days)))
        s.create_po(shop, SUPPLIER, lines, id=po)
    result.replenishments += len(wanted)


def _restock_plan(shop: Shop, policy: Policy, skus: Mapping[str, SimSku], inbound: list[_Inbound], today: date,
                  rng: random.Random, delay_probability: float, result: SimResult) -> None:
    plan_id = s.create_plan(shop, policy.service_level, 28, None, None, policy.review_days)["id"]
    _buy(shop, [(skus[row["sku"]], int(row["order_qty"])) for row in s.run_plan(shop, plan_id)["suggestions"]
                if row["action"] in ("order", "expedite") and row["order_qty"]],
         inbound, today, rng, delay_probability, result)


def _positions(shop: Shop) -> dict[str, int]:
    with shop.engine.connect() as conn:
        return {r.sku: r.on_hand + r.inbound - r.allocated - r.backordered for r in conn.execute(sa.select(stock))}


def _rule(shop: Shop, policy: Policy, skus: Mapping[str, SimSku], averages: Mapping[str, float],
          inbound: list[_Inbound], today: date, rng: random.Random, delay_probability: float,
          result: SimResult) -> None:
    wanted = []
    for code, ip in sorted(_positions(shop).items()):
        sku = skus[code]
        if policy.kind == "minmax":
            low = averages[code] * sku.lead_time_days
            if averages[code] > 0 and ip <= low:
                wanted.append((sku, round_order(low + sku.moq - ip, sku.moq, sku.pack_size)))
        elif policy.kind == "fixed":
            rop = policy.reorder_points.get(code)
            if rop is not None and ip <= rop:
                size = eoq(365 * averages[code], 50.0, 0.25 * sku.unit_cost) if averages[code] > 0 else 0
                wanted.append((sku, round_order(max(size, rop - ip + 1), sku.moq, sku.pack_size)))
        else:
            raise ValueError(f"unknown policy kind {policy.kind!r}")
    _buy(shop, wanted, inbound, today, rng, delay_probability, result)


def _record(shop: Shop, skus: Mapping[str, SimSku], today: date, result: SimResult) -> None:
    with shop.engine.connect() as conn:
        rows = conn.execute(sa.select(stock)).all()
    value = sum(r.on_hand * skus[r.sku].unit_cost for r in rows)
    result.days.append((today, value, sum(r.backordered for r in rows)))
    result.stockout_days += sum(1 for r in rows if r.on_hand - r.allocated <= 0)


def chart(results: list[SimResult], path: Path) -> None:
    """Inventory value and units on backorder over the simulated days, one line per policy (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for r in results:
        days = [d for d, _, _ in r.days]
        top.plot(days, [v for _, v, _ in r.days], label=r.policy)
        bottom.plot(days, [b for _, _, b in r.days], label=r.policy)
    top.set_ylabel("inventory value")
    bottom.set_ylabel("units on backorder")
    top.legend()
    top.set_title("Policies side by side over the same demand")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def as_rows(results: list[SimResult]) -> list[dict[str, Any]]:
    return [{"policy": r.policy, "fill_rate": r.fill_rate, "backorder_rate": r.backorder_rate,
             "promises_kept": r.promises_kept, "average_inventory_value": round(r.average_inventory_value, 2),
             "stockout_days": r.stockout_days, "replenishments": r.replenishments} for r in results]
