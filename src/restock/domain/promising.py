"""Promising: the greedy match of a SKU's demand to its supply (DESIGN.md).

A `SkuBook` holds one SKU's free stock, its open inbound PO lines and, when
loaded in full, its waiting (backordered) lines. Supply is taken in date
order: free stock today, then PO lines by ETA, then, beyond inbound, virtual
supply at the primary supplier's lead time. Demand is taken in priority order.

Placement appends new lines last in priority, so it only needs the supply not
yet pegged (`offer` / `apply`); every other change re-runs the whole match
(`rematch`). Both use the same `offer`, so a placement and a rematch can never
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice

from restock.domain.policy import FALLBACK_LEAD_TIME_DAYS, BackorderPolicy, Mode


@dataclass(slots=True)
class Inbound:
    """An open purchase-order line, as supply."""

    po_line_id: int
    po_id: str
    line_no: int
    po_seq: int
    eta: date
    qty_open: int
    qty_pegged: int = 0

    @property
    def qty_free(self) -> int:
        return self.qty_open - self.qty_pegged

    def rank(self) -> tuple[date, int, int]:
        return (self.eta, self.po_seq, self.line_no)


@dataclass(slots=True)
class WaitingLine:
    """The part of an order line not yet allocated: its backordered units."""

    line_id: int
    order_id: str
    qty: int
    promised_date: date
    placed_at: datetime
    pegs: dict[int, int] = field(default_factory=dict)
    estimated: bool = False

    def priority(self) -> tuple[date, datetime, int]:
        return (self.promised_date, self.placed_at, self.line_id)


@dataclass(frozen=True, slots=True)
class Take:
    """The supply that a run of units gets: from stock, pegged, or virtual."""

    qty: int
    allocated: int
    pegs: dict[int, int]
    virtual: int
    supply_date: date
    promised_date: date

    @property
    def backordered(self) -> int:
        return self.qty - self.allocated

    @property
    def estimated(self) -> bool:
        return self.virtual > 0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a line of `qty` units cannot be accepted, and how many could."""

    reason: str
    available: int


@dataclass(frozen=True, slots=True)
class LineChange:
    """What a rematch did to one waiting line."""

    line: WaitingLine
    take: Take

    @property
    def old_date(self) -> date:
        return self.line.promised_date

    @property
    def new_date(self) -> date:
        return self.take.promised_date

    @property
    def moved(self) -> bool:
        return self.old_date != self.new_date

    @property
    def repegged(self) -> bool:
        return (self.take.allocated > 0 or self.take.pegs != self.line.pegs or self.moved
                or self.take.estimated != self.line.estimated)


@dataclass(slots=True)
class SkuBook:
    """One SKU's supply and demand at one location, on one day."""

    sku: str
    policy: BackorderPolicy
    today: date
    handling_days: int
    lead_time_days: int | None
    on_hand: int
    allocated: int
    backordered: int
    inbound: list[Inbound]
    latest_eta: date | None = None
    waiting: list[WaitingLine] = field(default_factory=list)
    _cursor: int = 0
    _by_id: dict[int, Inbound] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inbound.sort(key=Inbound.rank)
        self._by_id = {s.po_line_id: s for s in self.inbound}
        if self.latest_eta is None and self.inbound:
            self.latest_eta = max(i.eta for i in self.inbound)

    # -- supply ---------------------------------------------------------------

    @property
    def free(self) -> int:
        return self.on_hand - self.allocated

    def virtual_date(self, kept: date | None = None) -> date:
        """When supply beyond inbound would come: the lead time from today, or
        `kept`, the date an earlier estimate already gave, while it is still
        ahead (time passing alone does not move a promise); never before the
        latest open ETA."""
        lead = self.lead_time_days if self.lead_time_days is not None else FALLBACK_LEAD_TIME_DAYS
        beyond = self.today + timedelta(days=lead)
        if kept is not None and kept >= self.today:
            beyond = min(beyond, kept)
        return max(beyond, self.latest_eta) if self.latest_eta else beyond

    def promise(self, supply_date: date) -> date:
        """A line's promised date from the supply date of its last unit."""
        release = self.policy.release_date
        start = max(supply_date, release) if release else supply_date
        return start + timedelta(days=self.handling_days)

    def offer(self, qty: int, kept: date | None = None) -> Take:
        """The supply the next `qty` units would get; changes nothing. `kept`:
        see `virtual_date`."""
        remaining = qty
        allocated = min(max(self.free, 0), remaining)
        remaining -= allocated
        last = self.today
        pegs: dict[int, int] = {}
        for supply in self._open_supply():
            if not remaining:
                break
            n = min(supply.qty_free, remaining)
            if n > 0:
                pegs[supply.po_line_id] = n
                remaining -= n
                last = max(supply.eta, self.today)
        if remaining:
            last = self.virtual_date(kept)
        return Take(qty, allocated, pegs, remaining, last, self.promise(last))

    def _open_supply(self) -> islice[Inbound]:
        return islice(self.inbound, self._cursor, None)

    def apply(self, take: Take) -> None:
        self.allocated += take.allocated
        self.backordered += take.backordered
        if take.pegs:
            for po_line_id, n in take.pegs.items():
                self._by_id[po_line_id].qty_pegged += n
            while self._cursor < len(self.inbound) and self.inbound[self._cursor].qty_free <= 0:
                self._cursor += 1

    # -- policy ---------------------------------------------------------------

    def capacity(self) -> tuple[int | None, str]:
        """How many more units the policy accepts now (None: no limit), and
        the rule that sets the limit."""
        limits: list[tuple[int, str]] = []
        free = max(self.free, 0)
        unpegged = sum(max(s.qty_free, 0) for s in self._open_supply())
        if self.policy.mode is Mode.DENY:
            limits.append((free, "insufficient_stock"))
        elif self.policy.mode is Mode.INBOUND:
            limits.append((free + unpegged, "insufficient_inbound"))
        if self.policy.mode is not Mode.DENY:
            if self.policy.cap is not None:
                limits.append((free + max(self.policy.cap - self.backordered, 0), "cap"))
            if self.policy.max_wait_days is not None:
                limits.append((self._within_wait(free), "max_wait"))
        bounded = [(n, why) for n, why in limits if n >= 0]
        if not bounded:
            return None, ""
        n, why = min(bounded, key=lambda limit: limit[0])
        return (None, "") if n >= _UNLIMITED else (n, why)

    def _within_wait(self, free: int) -> int:
        assert self.policy.max_wait_days is not None
        latest = self.today + timedelta(days=self.policy.max_wait_days)
        if self.promise(self.today) > latest:
            return 0
        n = free
        for supply in self._open_supply():
            if self.promise(max(supply.eta, self.today)) > latest:
                return n
            n += max(supply.qty_free, 0)
        if self.policy.sells_virtual and self.promise(self.virtual_date()) <= latest:
            return _UNLIMITED
        return n

    def decide(self, qty: int) -> Take | Refusal:
        """Accept `qty` more units under the policy, or say why not."""
        limit, reason = self.capacity()
        if limit is not None and qty > limit:
            return Refusal(reason, limit)
        return self.offer(qty)

    # -- rematch --------------------------------------------------------------

    def rematch(self) -> list[LineChange]:
        """Re-run the greedy match of every waiting line; allocated units stay."""
        for supply in self.inbound:
            supply.qty_pegged = 0
        self._cursor = 0
        self.backordered = 0
        changes = []
        for line in sorted(self.waiting, key=WaitingLine.priority):
            kept = line.promised_date - timedelta(days=self.handling_days) if line.estimated else None
            take = self.offer(line.qty, kept)
            self.apply(take)
            changes.append(LineChange(line, take))
        self.waiting = [
            WaitingLine(c.line.line_id, c.line.order_id, c.take.backordered, c.take.promised_date,
                        c.line.placed_at, dict(c.take.pegs), c.take.estimated)
            for c in changes
            if c.take.backordered
        ]
        return changes


_UNLIMITED = 1 << 62
