"""The demo shop: a tea-and-ceramics web shop, "Kettle & Clay", run for a few
weeks through the real engine on a fake clock.

Every policy is there: in-stock basics (deny), ceramics sold against
inbound POs (inbound), handmade goods with a backorder cap (allow), rare
teas with a maximum wait, and two preorders. Customers order every day,
the warehouse ships what is ready, POs arrive (some short), a supplier
slips, some customers cancel, and a simple reorder rule buys stock. The same
seed gives the same shop.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from restock import services as s
from restock.clock import FixedClock
from restock.errors import OrderRefused, RestockError
from restock.shop import Shop
from restock.storage.tables import events, po_lines, purchase_orders

SUPPLIERS = {
    "KYOTO": ("Kyoto Tea Works", 21, 4.0),
    "NORDIC": ("Nordic Ceramics", 12, 2.0),
    "LISBON": ("Lisbon Linen Co.", 9, 2.0),
    "BERLIN": ("Berlin Press", 7, 1.0),
    "FORGE": ("Sheffield Forge", 14, 3.0),
}

# code: (name, price, mode, policy extras, suppliers, daily demand, start stock)
CATALOG: dict[str, tuple[str, str, str, dict[str, Any], list[str], float, int]] = {
    "TEA-SENCHA": ("Sencha, 100 g", "12.00", "deny", {}, ["KYOTO"], 3.0, 60),
    "TEA-EARLGREY": ("Earl Grey, 100 g", "9.50", "deny", {}, ["BERLIN"], 3.5, 45),
    "TEA-ROOIBOS": ("Rooibos, 100 g", "8.00", "deny", {}, ["BERLIN"], 2.0, 40),
    "TEA-CHAI": ("Masala chai, 100 g", "9.00", "deny", {}, ["BERLIN"], 2.5, 12),
    "FILTER-PAPER": ("Paper filters, 100", "4.50", "deny", {}, ["BERLIN"], 2.0, 80),
    "SPOON-BAMBOO": ("Bamboo spoon", "3.50", "deny", {}, ["KYOTO"], 1.0, 30),
    "MUG-STONE": ("Stoneware mug", "18.00", "inbound", {}, ["NORDIC", "FORGE"], 3.0, 20),
    "MUG-SPECKLE": ("Speckled mug", "19.00", "inbound", {}, ["NORDIC"], 2.5, 6),
    "CUP-TEA": ("Tea cup and saucer", "22.00", "inbound", {}, ["NORDIC"], 1.5, 10),
    "POT-CAST": ("Cast iron teapot", "65.00", "inbound", {}, ["FORGE"], 0.8, 4),
    "POT-GLASS": ("Glass teapot", "34.00", "inbound", {}, ["NORDIC"], 1.2, 0),
    "KETTLE-GOOSE": ("Gooseneck kettle", "79.00", "inbound", {}, ["FORGE"], 1.0, 3),
    "KETTLE-STOVE": ("Stovetop kettle", "49.00", "inbound", {}, ["FORGE"], 0.7, 8),
    "CADDY-TIN": ("Tea caddy tin", "14.00", "inbound", {}, ["BERLIN"], 1.5, 15),
    "TRAY-OAK": ("Oak serving tray", "45.00", "inbound", {}, ["NORDIC"], 0.5, 2),
    "BOWL-MATCHA": ("Matcha bowl", "38.00", "inbound", {}, ["KYOTO"], 1.2, 2),
    "WHISK-MATCHA": ("Bamboo matcha whisk", "16.00", "allow", {"cap": 40}, ["KYOTO"], 1.5, 4),
    "SET-GIFT": ("Gift set", "59.00", "allow", {"cap": 25}, ["NORDIC"], 1.0, 0),
    "TOWEL-LINEN": ("Linen tea towel", "12.00", "allow", {"cap": 30}, ["LISBON"], 2.0, 10),
    "APRON-LINEN": ("Linen apron", "39.00", "allow", {"cap": 20}, ["LISBON"], 0.8, 2),
    "COSY-WOOL": ("Wool tea cosy", "29.00", "allow", {"cap": 15}, ["LISBON"], 0.6, 0),
    "SCOOP-BRASS": ("Brass tea scoop", "15.00", "allow", {"cap": 20}, ["FORGE"], 0.7, 5),
    "TEA-MATCHA": ("Ceremonial matcha, 30 g", "28.00", "allow", {"max_wait_days": 30}, ["KYOTO"], 2.0, 10),
    "TEA-GYOKURO": ("Gyokuro, 50 g", "24.00", "allow", {"max_wait_days": 30}, ["KYOTO"], 0.8, 3),
    "BOOK-ATLAS": ("The Tea Atlas (2nd ed.)", "32.00", "preorder", {"release_in": -6}, ["BERLIN"], 1.5, 0),
    "KETTLE-SMART": ("Smart kettle", "129.00", "preorder", {"release_in": 14}, ["FORGE"], 0.8, 0),
}


@dataclass
class DayFigures:
    day: date
    orders: int = 0
    lines: int = 0
    backordered_lines: int = 0
    refused_lines: int = 0
    shipped: int = 0
    open_backorders: int = 0


@dataclass
class DemoRun:
    start: date
    end: date
    days: list[DayFigures] = field(default_factory=list)
    happenings: list[tuple[date, str]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    pos_created: int = 0


def build_catalog(shop: Shop, end: date) -> None:
    """Suppliers and SKUs; preorders release relative to the demo's last day."""
    for code, (name, lead, spread) in SUPPLIERS.items():
        s.put_supplier(shop, code, name, lead, spread)
    for code, (name, price, mode, extra, suppliers, _, on_hand) in CATALOG.items():
        policy: dict[str, Any] = {"mode": mode, **{k: v for k, v in extra.items() if k != "release_in"}}
        if "release_in" in extra:
            policy["release_date"] = (end + timedelta(days=extra["release_in"])).isoformat()
        items = [{"supplier": sup, "unit_cost": f"{float(price) * 0.4:.2f}", "moq": 6, "pack_size": 6}
                 for sup in suppliers]
        s.put_sku(shop, code, name, price, f"{float(price) * 0.4:.2f}", policy, items,
                  reorder_point=round(CATALOG[code][5] * 14))
        if on_hand:
            s.adjust_stock(shop, code, on_hand, "opening count")


class DemoShop:
    """Runs the demo day by day; `progress(day_index)` is called after each day."""

    def __init__(self, shop: Shop, clock: FixedClock, seed: int = 7) -> None:
        self.shop, self.clock, self.rng = shop, clock, random.Random(seed)
        self.n_orders = 0
        self.n_pos = 0

    def run(self, days: int, progress: Callable[[int], None] = lambda _: None) -> DemoRun:
        start = self.clock.today()
        end = start + timedelta(days=days)
        run = DemoRun(start, end)
        self._open(end, run)
        for i in range(days):
            run.days.append(self._day(i, run))
            progress(i + 1)
            self.clock.advance(days=1)
        return run

    def _open(self, end: date, run: DemoRun) -> None:
        build_catalog(self.shop, end)
        for code, (_, _, mode, _, _, rate, _) in CATALOG.items():
            if mode != "deny" or rate > 2.5:
                self._buy(code, max(6, round(rate * self.rng.uniform(10, 20))), self.rng.randint(3, 16), run)

    def _day(self, i: int, run: DemoRun) -> DayFigures:
        figures = DayFigures(self.clock.today())
        self._arrivals(run)
        if i == 9:
            self._supplier_slips("KYOTO", 9, run)
        if i == 17:
            self._close_one_short("NORDIC", run)
        for _ in range(self._poisson(38)):
            self._customer_orders(figures, run)
        if i in (11, 12):
            self._delayed_customers_cancel(run)
        figures.shipped = self._warehouse_ships()
        self._replenish(run)
        figures.open_backorders = s.record_day(self.shop)["open_backorders"]
        return figures

    # -- customers ---------------------------------------------------------------

    def _customer_orders(self, figures: DayFigures, run: DemoRun) -> None:
        codes = list(CATALOG)
        weights = [CATALOG[c][5] for c in codes]
        n_lines = self.rng.choices([1, 2, 3], [60, 30, 10])[0]
        picked = list(dict.fromkeys(self.rng.choices(codes, weights, k=n_lines)))
        lines = [{"sku": c, "qty": self.rng.choices([1, 2, 3], [75, 20, 5])[0]} for c in picked]
        self.n_orders += 1
        order_id = f"KC-{1000 + self.n_orders}"
        policy = "complete" if self.rng.random() < 0.15 else "partial"
        customer = {"email": f"customer{self.n_orders}@example.com", "name": f"Customer {self.n_orders}"}
        while lines:
            try:
                order = s.place_order(self.shop, order_id, customer, lines, policy)
            except OrderRefused as refused:
                # The storefront drops what cannot be had and the customer buys the rest.
                bad = {r["line"] for r in refused.details["lines"]}
                for r in refused.details["lines"]:
                    run.refused[r["reason"]] += 1
                figures.refused_lines += len(bad)
                lines = [line for n, line in enumerate(lines, 1) if n not in bad]
                continue
            figures.orders += 1
            figures.lines += len(lines)
            figures.backordered_lines += sum(1 for line in order["lines"] if line["backordered"])
            return

    def _delayed_customers_cancel(self, run: DemoRun) -> None:
        with self.shop.engine.connect() as conn:
            delayed = conn.execute(sa.select(events.c.order_id, events.c.data)
                                   .where(events.c.type == "promise.delayed")).all()
        for order_id, data in delayed:
            if self.rng.random() < 0.08:
                try:
                    s.cancel_order(self.shop, order_id, [{"line": data["line"]}])
                except RestockError:
                    continue
                run.happenings.append((self.clock.today(), f"{order_id} cancelled {data['sku']} after a delay"))

    # -- warehouse and purchasing ------------------------------------------------

    def _warehouse_ships(self) -> int:
        shipped = 0
        while batch := s.list_shipments(self.shop, limit=500)["shipments"]:
            for shipment in batch:
                s.ship(self.shop, shipment["id"], tracking=f"1Z{self.rng.randrange(10**9):09d}")
                shipped += 1
        return shipped

    def _arrivals(self, run: DemoRun) -> None:
        for po_id, line_no, qty_open in self._open_lines(due=True):
            qty = qty_open if self.rng.random() < 0.9 else max(1, round(qty_open * 0.6))
            s.receive(self.shop, po_id, [{"line": line_no, "qty": qty}])
            if qty < qty_open:
                run.happenings.append((self.clock.today(), f"{po_id} arrived short: {qty} of {qty_open}"))

    def _supplier_slips(self, supplier: str, days: int, run: DemoRun) -> None:
        moved = 0
        for po_id, line_no, eta in self._open_lines(supplier=supplier, with_eta=True):
            s.change_eta(self.shop, po_id, line_no, (eta + timedelta(days=days)).isoformat())
            moved += 1
        run.happenings.append((self.clock.today(), f"{SUPPLIERS[supplier][0]} slipped {moved} PO lines by {days} days"))

    def _close_one_short(self, supplier: str, run: DemoRun) -> None:
        lines = self._open_lines(supplier=supplier)
        if lines:
            po_id = lines[0][0]
            s.close_po(self.shop, po_id)
            run.happenings.append((self.clock.today(), f"{po_id} closed short by {SUPPLIERS[supplier][0]}"))

    def _replenish(self, run: DemoRun) -> None:
        """A plain reorder-point rule (planning proper is restock's planner)."""
        for code, (*_, rate, _) in CATALOG.items():
            sku = s.get_sku(self.shop, code)
            st = sku["stock"]
            inbound = sum(i["qty_open"] for i in st["inbound"])
            position = st["on_hand"] + inbound - st["allocated"] - st["backordered"]
            lead = sku["suppliers"][0]["lead_time_days"]
            if position < rate * (lead + 7):
                qty = max(6, round(rate * (lead + 21) - position))
                self._buy(code, qty + (-qty) % 6, lead + self.rng.randint(-2, 3), run)

    def _buy(self, code: str, qty: int, in_days: int, run: DemoRun) -> None:
        supplier = CATALOG[code][4][0]
        self.n_pos += 1
        eta = self.clock.today() + timedelta(days=max(in_days, 1))
        s.create_po(self.shop, supplier, [{"sku": code, "qty": qty, "eta": eta.isoformat()}],
                    id=f"PO-{supplier[:3]}-{self.n_pos:03d}")
        run.pos_created += 1

    def _open_lines(self, *, due: bool = False, supplier: str | None = None, with_eta: bool = False) -> list[Any]:
        qty_open = po_lines.c.qty - po_lines.c.qty_received - po_lines.c.qty_closed
        query = (sa.select(purchase_orders.c.id, po_lines.c.line_no, po_lines.c.eta if with_eta else qty_open)
                 .join(purchase_orders, purchase_orders.c.seq == po_lines.c.po_seq)
                 .where(qty_open > 0).order_by(purchase_orders.c.seq, po_lines.c.line_no))
        if due:
            query = query.where(po_lines.c.eta <= self.clock.today())
        if supplier:
            query = query.where(purchase_orders.c.supplier == supplier)
        with self.shop.engine.connect() as conn:
            return list(conn.execute(query).all())

    def _poisson(self, mean: float) -> int:
        # Knuth's method is fine for a demo's small means.
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1
