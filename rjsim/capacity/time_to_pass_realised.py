"""Time to pass per replication (realised performance): in each replication, the first rolling
window in which every criterion's own value meets its threshold, per area and nationally (every
area in the same window), and the distribution-free interval of its median across replications.
The concepts are in :mod:`rjsim.capacity.time_to_pass`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from rjsim.analysis import rolling
from rjsim.capacity.capacity_test import criteria
from rjsim.scenario.spec import Scenario

#: The ``area`` value of national rows.
NATIONAL = "national"


NATIONAL_NAME = "England and Wales"


#: Decimals kept of months in the tables (0.01 month is about a third of a day).
MONTH_DECIMALS = 2


def months_after(scenario: Scenario, day: float | np.ndarray) -> np.ndarray:
    """Months from commencement to ``day``, rounded to :data:`MONTH_DECIMALS` (no float dust
    such as 16.000000000000004)."""
    return np.round(np.asarray(rolling.months_after(scenario, day), dtype=float), MONTH_DECIMALS)


def _point_passes(scenario: Scenario, rows: pd.DataFrame) -> np.ndarray:
    """Whether each row (replication x area x window) meets every criterion by its values."""
    ok = np.ones(len(rows), dtype=bool)
    for c in criteria(scenario):
        if c.name == "coverage":
            covered = ((rows["sensitive_referrals"] <= 0)
                       | (rows["specialist_slots_min"] >= c.threshold)
                       | rows["specialist_slots_min"].isna()).to_numpy()  # not applicable
            ok &= covered
            continue
        values = rows[c.metric].to_numpy(dtype=float)
        holds = c.comparison.holds_each(values, c.threshold)
        # utilisation of an area with no slot of its own does not apply (capacity_metrics)
        ok &= holds | (np.isnan(values) & (c.metric == "utilisation"))
    return ok


def window_passes(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Per replication and window: whether each area passes (``area`` rows) and whether every
    area does (``area`` = :data:`NATIONAL`). ``per_rep``: the ``rolling_metrics`` table of an
    experiment (a ``replication`` column)."""
    keys = ["replication", "area", "window", "start_day", "end_day"]
    areas = per_rep[keys].assign(passed=_point_passes(scenario, per_rep))
    nation = areas.groupby(["replication", "window", "start_day", "end_day"])["passed"].agg(
        "all").reset_index().assign(area=NATIONAL)
    out: pd.DataFrame = pd.concat([areas, nation[[*keys, "passed"]]], ignore_index=True)
    return out


def first_pass(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Per replication and area (and nationally): the first passing window (by the values of
    that replication), its days, the months from commencement to its end (``inf`` when
    censored) and ``censored`` (no window passes within the run)."""
    passes = window_passes(scenario, per_rep)
    hit = passes[passes["passed"]].sort_values("window").groupby(
        ["replication", "area"], sort=False).head(1)
    every = passes[["replication", "area"]].drop_duplicates()
    out = every.merge(hit.drop(columns="passed"), on=["replication", "area"], how="left")
    out["censored"] = out["window"].isna()
    out["months_after_commencement"] = np.where(
        out["censored"], math.inf, months_after(scenario, out["end_day"].to_numpy()))
    out["first_window"] = out.pop("window")
    return out[["replication", "area", "first_window", "start_day", "end_day",
                "months_after_commencement", "censored"]].reset_index(drop=True)


def median_interval(months: np.ndarray, level: float) -> tuple[float, float, float]:
    """(median, low, high) of times to pass (``inf`` = censored), with the distribution-free
    interval for the median at ``level``; NaN ends when too few replications."""
    x = np.sort(np.asarray(months, dtype=float))
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    median = float(np.quantile(x, 0.5, method="inverted_cdf"))
    ci = stats.quantile_test(x, q=median if math.isfinite(median) else x[-1],
                             p=0.5).confidence_interval(level)
    return median, float(ci.low), float(ci.high)


def share_met_by(first: pd.DataFrame, months: float, area: str = NATIONAL) -> float:
    """Share of replications (rows of :func:`first_pass`) in which ``area`` (default: the
    nation) first passes within ``months`` of commencement."""
    rows = first[first["area"] == area]
    return float((rows["months_after_commencement"] <= months).mean()) if len(rows) else math.nan
