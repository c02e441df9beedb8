"""The clock seam: the engine asks a clock for "now" and for the shop's "today".

`SystemClock` reads the real time in the shop's time zone; `FixedClock` is set
by hand, so tests, the demo and the simulator control time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""

    def today(self) -> date:
        """The shop's local date."""


class SystemClock:
    def __init__(self, timezone: str = "UTC") -> None:
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(self.zone).date()


class FixedClock:
    """A clock that only moves when told to; each `now()` is a microsecond later
    than the last, so events keep a strict order."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            self._now = self._now.replace(tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self._now += timedelta(days=days, hours=hours)

    def set_today(self, day: date) -> None:
        self._now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
