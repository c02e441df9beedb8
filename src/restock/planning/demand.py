"""Demand classes by the Syntetos-Boylan-Croston scheme.

A daily demand series is classified by its average inter-demand interval
(ADI: periods per period with demand) and the squared coefficient of
variation of its non-zero sizes (CV2), with the published cut-offs
ADI 1.32 and CV2 0.49 (Syntetos, Boylan & Croston 2005, "On the
categorization of demand patterns", J. Oper. Res. Soc. 56(5)):

                 CV2 < 0.49      CV2 >= 0.49
  ADI < 1.32     smooth          erratic
  ADI >= 1.32    intermittent    lumpy
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean, pvariance

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DemandProfile:
    demand_class: DemandClass
    adi: float | None
    cv2: float | None
    periods: int
    periods_with_demand: int


def classify(series: Sequence[float]) -> DemandProfile:
    """The demand class of a series of per-period demand (zeros included)."""
    sizes = [x for x in series if x > 0]
    if not sizes:
        return DemandProfile(DemandClass.NONE, None, None, len(series), 0)
    adi = len(series) / len(sizes)
    mean = fmean(sizes)
    cv2 = pvariance(sizes, mean) / mean**2
    if adi < ADI_CUTOFF:
        kind = DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    else:
        kind = DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY
    return DemandProfile(kind, adi, cv2, len(series), len(sizes))
