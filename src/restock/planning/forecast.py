"""Forecasts per SKU with statsforecast (Nixtla). Every SKU's method is chosen
by a rolling-origin backtest among the methods fit for its demand class and
the naive and seasonal-naive baselines; the backtest's per-day error (RMSE)
is the forecast error the safety stock is sized for.

A SKU's method is the one with the lowest error of the demand total per
backtest window (what a reorder point must cover), relative to the SKU's own
scale and shrunk toward the errors pooled over its demand class.

Methods (fast ones only: a full AutoETS search per SKU cannot plan 10,000 SKUs
in a minute on two cores, see the shared notes on forecasting speed):
- smooth and erratic: simple exponential smoothing (optimised), seasonal
  exponential smoothing with a weekly season, a 28-day window average;
- intermittent and lumpy: Croston (optimised), TSB, ADIDA, IMAPA;
- baselines for every SKU: naive and seasonal naive (7 days).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from restock.planning.demand import DemandClass, classify

SMOOTH_METHODS = ("SESOpt", "SeasESOpt", "WindowAverage")
INTERMITTENT_METHODS = ("CrostonOptimized", "TSB", "ADIDA", "IMAPA")
BASELINES = ("Naive", "SeasonalNaive")
WINDOWS = 3
SEASON = 7
# Weight of the class's pooled backtest error against the SKU's own when choosing its method: 3 did
# best out of sample on both real data sets (benchmarks/backtest_real.py), near a choice per class.
SHRINK = 3.0


@dataclass(frozen=True, slots=True)
class Forecast:
    sku: str
    demand_class: DemandClass
    method: str
    daily: float  # mean forecast per day over the horizon
    error_sd_daily: float  # root mean squared daily error of that method in the backtest
    baseline_error_sd_daily: float | None  # the better baseline's, for comparison
    backtested: bool


def _models(season: int) -> list[object]:
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonOptimized,
        Naive,
        SeasonalExponentialSmoothingOptimized,
        SeasonalNaive,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    return [SimpleExponentialSmoothingOptimized(), SeasonalExponentialSmoothingOptimized(season), WindowAverage(28),
            CrostonOptimized(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA(), Naive(), SeasonalNaive(season)]


def forecast_all(series: Mapping[str, np.ndarray], horizon_days: int = 28, *, season: int = SEASON,
                 engine: str = "local", progress: Callable[[str], None] = lambda _: None) -> dict[str, Forecast]:
    """A forecast for every SKU's demand series (zeros included, oldest first): daily, with a
    weekly season, unless told otherwise (monthly data: `season=12`, the horizon in months).
    `engine="dask"` runs statsforecast's distributed back end on the current Dask client."""
    from statsforecast import StatsForecast

    classes = {sku: classify(y.tolist()).demand_class for sku, y in series.items()}
    live = {sku: y for sku, y in series.items() if classes[sku] is not DemandClass.NONE}
    found = {sku: Forecast(sku, DemandClass.NONE, "none", 0.0, 0.0, None, False)
             for sku in series if sku not in live}
    if not live:
        return found
    sf = StatsForecast(models=_models(season), freq="D", n_jobs=1)
    # Backtest the series long enough for at least one window; the windows fit the shortest of them.
    long = {sku: y for sku, y in live.items() if len(y) >= horizon_days + 2 * season}
    errors = totals = None
    if long:
        windows = min(WINDOWS, (min(len(y) for y in long.values()) - 2 * season) // horizon_days)
        progress("backtest")
        cv = sf.cross_validation(df=_on(_long_frame(long), engine), h=horizon_days, step_size=horizon_days,
                                 n_windows=windows)
        frame = _local(cv)
        errors, totals = _rmse(frame), _total_error(frame)
    progress("forecast")
    ahead = _local(sf.forecast(df=_on(_long_frame(live), engine), h=horizon_days))
    ahead["unique_id"] = ahead["unique_id"].astype(str)
    means = _by_sku(ahead.groupby("unique_id").mean(numeric_only=True))
    rmse = {} if errors is None else _by_sku(errors)
    relative = {sku: _relative(t) for sku, t in ({} if totals is None else _by_sku(totals)).items()}
    pooled = _pooled(relative, classes)
    for sku, y in live.items():
        found[sku] = _choose(sku, classes[sku], y, means[sku], rmse.get(sku), relative.get(sku),
                             pooled.get(classes[sku]))
    return found


def _long_frame(series: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """statsforecast's long frame; categorical ids keep it small (most of its memory is the ids)."""
    skus = list(series)
    lengths = [len(series[k]) for k in skus]
    end = pd.Timestamp("2000-01-01")
    ds = np.concatenate([pd.date_range(end=end, periods=n, freq="D").values for n in lengths])
    return pd.DataFrame({"unique_id": pd.Categorical(np.repeat(skus, lengths), categories=skus),
                         "ds": ds, "y": np.concatenate([series[k] for k in skus]).astype("float64")})


def _on(frame: pd.DataFrame, engine: str) -> Any:
    """The frame where the engine computes: here, or partitioned over a Dask cluster."""
    if engine == "local":
        return frame
    if engine == "dask":
        import dask.dataframe as dd

        flat = frame.assign(unique_id=frame["unique_id"].astype(str))
        return dd.from_pandas(flat, npartitions=max(2, min(64, len(flat) // 250_000)))  # type: ignore[no-untyped-call]
    raise ValueError(f"unknown engine {engine!r}: local or dask")


def _local(result: Any) -> pd.DataFrame:
    """A result as a pandas frame (a Dask one is computed)."""
    return pd.DataFrame(result.compute() if hasattr(result, "compute") else result)


def _by_sku(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {str(sku): {str(m): float(v) for m, v in row.items()} for sku, row in frame.iterrows()}


def _rmse(cv: pd.DataFrame) -> pd.DataFrame:
    methods = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    squared = cv[methods].sub(cv["y"], axis=0) ** 2
    squared["unique_id"] = cv["unique_id"].astype(str)
    return squared.groupby("unique_id").mean() ** 0.5


def _total_error(cv: pd.DataFrame) -> pd.DataFrame:
    """Per SKU and method, the mean absolute error of each window's demand total: what a reorder
    point covers, so it is what the method is chosen by (a per-day error favours forecasting zero)."""
    methods = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    frame = cv[methods].sub(cv["y"], axis=0)
    frame["unique_id"] = cv["unique_id"].astype(str)
    frame["cutoff"] = cv["cutoff"]
    return frame.groupby(["unique_id", "cutoff"]).sum().abs().groupby("unique_id").mean()


def _relative(totals: Mapping[str, float]) -> dict[str, float]:
    """A SKU's backtest errors as shares of their mean, so SKUs of any volume weigh alike."""
    scale = float(np.mean(list(totals.values()))) or 1.0
    return {m: v / scale for m, v in totals.items()}


def _pooled(relative: Mapping[str, Mapping[str, float]],
            classes: Mapping[str, DemandClass]) -> dict[DemandClass, dict[str, float]]:
    """Per demand class, each method's mean relative backtest error over the class's SKUs."""
    sums: dict[DemandClass, dict[str, list[float]]] = {}
    for sku, errors in relative.items():
        for method, e in errors.items():
            sums.setdefault(classes[sku], {}).setdefault(method, []).append(e)
    return {c: {m: float(np.mean(v)) for m, v in by_method.items()} for c, by_method in sums.items()}


def _choose(sku: str, demand_class: DemandClass, y: np.ndarray, ahead: Mapping[str, float],
            errors: Mapping[str, float] | None, totals: Mapping[str, float] | None,
            pooled: Mapping[str, float] | None) -> Forecast:
    fit = SMOOTH_METHODS if demand_class in (DemandClass.SMOOTH, DemandClass.ERRATIC) else INTERMITTENT_METHODS
    if errors is None or totals is None or pooled is None:  # too short to backtest: the class's first method
        method = fit[0]
        return Forecast(sku, demand_class, method, max(0.0, float(ahead[method])), float(np.std(y)), None, False)
    # Each SKU's own backtest, shrunk toward its class's: three windows alone choose noisily.
    method = min(fit + BASELINES, key=lambda m: (totals[m] + SHRINK * pooled[m], errors[m]))
    baseline = min(float(errors[m]) for m in BASELINES)
    return Forecast(sku, demand_class, method, max(0.0, float(ahead[method])), float(errors[method]), baseline, True)
