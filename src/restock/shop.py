"""A running shop: its database and its clock. Every service takes one."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from restock.clock import Clock, SystemClock
from restock.storage.engine import make_engine, migrate


@dataclass
class Shop:
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def open(cls, url: str | None = None, clock: Clock | None = None, *, upgrade: bool = True) -> Shop:
        """Connect to the database at `url` (or RESTOCK_DATABASE_URL), migrating it first."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine, clock or SystemClock())

    def close(self) -> None:
        self.engine.dispose()
