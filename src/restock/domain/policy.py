"""Backorder policy of a SKU: whether, and how far, it may be sold beyond stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from restock.errors import InvalidInput

# Lead time assumed for a SKU with no supplier when accepted units lose their
# supply (a PO closed short) and must fall back to virtual supply.
FALLBACK_LEAD_TIME_DAYS = 14


class Mode(StrEnum):
    DENY = "deny"
    INBOUND = "inbound"
    ALLOW = "allow"
    PREORDER = "preorder"


@dataclass(frozen=True, slots=True)
class BackorderPolicy:
    mode: Mode = Mode.DENY
    cap: int | None = None
    max_wait_days: int | None = None
    release_date: date | None = None

    def __post_init__(self) -> None:
        if self.cap is not None and self.cap < 0:
            raise InvalidInput("backorder cap must be 0 or more")
        if self.max_wait_days is not None and self.max_wait_days < 0:
            raise InvalidInput("max_wait_days must be 0 or more")
        if self.mode is Mode.PREORDER and self.release_date is None:
            raise InvalidInput("a preorder policy needs a release_date")

    @property
    def sells_virtual(self) -> bool:
        """May new orders be promised beyond inbound supply?"""
        return self.mode in (Mode.ALLOW, Mode.PREORDER)

    @property
    def sells_inbound(self) -> bool:
        return self.mode is not Mode.DENY

    def released(self, today: date) -> bool:
        return self.mode is not Mode.PREORDER or self.release_date is None or today >= self.release_date
