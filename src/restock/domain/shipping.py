"""What leaves together: which allocated units go into a new shipment.

`partial` orders ship allocated units as soon as they are allocated; a
`complete` order waits until every open unit of every line is allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ShipPolicy(StrEnum):
    PARTIAL = "partial"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class LineToShip:
    line_id: int
    qty_allocated: int
    qty_backordered: int
    qty_in_shipments: int

    @property
    def unassigned(self) -> int:
        return self.qty_allocated - self.qty_in_shipments


def units_to_ship(policy: ShipPolicy, lines: list[LineToShip]) -> dict[int, int]:
    """Allocated units not yet in a shipment that should get one now."""
    if policy is ShipPolicy.COMPLETE and any(line.qty_backordered for line in lines):
        return {}
    return {line.line_id: line.unassigned for line in lines if line.unassigned > 0}
