"""Statistics across replications: t-intervals, KPI summaries, paired differences, precision.

Every interval is a Student t interval over independent replications (95% unless stated);
national intervals come from national per-replication values, never by combining areas.
The Student t quantile (:func:`t_quantile`) and the rule for how many replications an interval
needs (:func:`replications_needed`) live here and only here. SciPy is imported on first use,
so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd

LEVEL = 0.95

#: :func:`replications_needed` gives up (returns this) beyond this many replications.
REPLICATIONS_LIMIT = 100_000


@overload
def t_quantile(df: float, level: float = LEVEL) -> float: ...
@overload
def t_quantile(df: np.ndarray, level: float = LEVEL) -> np.ndarray: ...
def t_quantile(df: float | np.ndarray, level: float = LEVEL) -> float | np.ndarray:
    """The two-sided Student t quantile for ``level`` confidence with ``df`` degrees of freedom
    (a number, possibly fractional as in Welch's interval, or an array of them): the half-width
    of a ``level`` interval is this times the standard error."""
    from scipy import stats as sps  # lazily: SciPy is slow to import

    q = sps.t.ppf(0.5 + level / 2, df)
    return np.asarray(q, dtype=float) if isinstance(df, np.ndarray) else float(q)


@dataclass(frozen=True)
class Interval:
    """Mean, standard deviation, n and a t confidence interval of independent values."""

    mean: float
    sd: float
    n: int
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def relative_half_width(self) -> float:
        """Half-width / |mean| (0 when both are 0; inf when only the mean is 0)."""
        if self.half_width == 0:
            return 0.0
        return self.half_width / abs(self.mean) if self.mean != 0 else math.inf


def t_interval(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Interval:
    """The t interval of ``values``, ignoring NaN (n < 2 gives a NaN interval)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, 0, math.nan, math.nan)
    if n >= 2 and np.all(x == x[0]):  # exactly constant: no rounding dust in sd or mean
        value = float(x[0])
        return Interval(value, 0.0, n, value, value)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, 1, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = t_quantile(n - 1, level) * sd / math.sqrt(n)
    return Interval(mean, sd, n, mean - half, mean + half)


def kpi_columns(per_rep: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """Numeric KPI columns of a per-replication table (everything but keys and labels)."""
    skip = {*keys, "replication", "force", "region", "sensitive"}
    return [c for c in per_rep.columns
            if c not in skip and pd.api.types.is_numeric_dtype(per_rep[c])]


def summarise(per_rep: pd.DataFrame, keys: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Long table: one row per key combination and KPI with mean, sd, n and the interval."""
    kpis = kpi_columns(per_rep, keys)
    groups = per_rep.groupby(list(keys), sort=False) if keys else [((), per_rep)]
    rows = []
    for key, df in groups:
        key_values = key if isinstance(key, tuple) else (key,)
        for kpi in kpis:
            iv = t_interval(df[kpi].to_numpy(), level)
            rows.append((*key_values, kpi, iv.mean, iv.sd, iv.n, iv.low, iv.high,
                         iv.half_width, iv.relative_half_width))
    return pd.DataFrame(rows, columns=[*keys, "kpi", "mean", "sd", "n", "ci_low", "ci_high",
                                       "half_width", "relative_half_width"])


@dataclass(frozen=True)
class Paired:
    """B - A over replications paired by seed, and what pairing bought."""

    difference: Interval
    independent_variance: float  # var(A) + var(B): the variance of B - A with independent seeds
    paired_variance: float  # var(B - A) with common random numbers

    @property
    def variance_reduction(self) -> float:
        """1 - paired / independent variance (0.9 = 90% less variance than independent seeds)."""
        if not self.independent_variance > 0:
            return math.nan
        return 1.0 - self.paired_variance / self.independent_variance

    @property
    def significant(self) -> bool:
        """Whether the interval of the difference excludes zero."""
        d = self.difference
        return bool(d.low > 0 or d.high < 0)


def paired(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> Paired:
    """The paired difference ``b - a`` (replication i of each used the same seed)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[ok], b[ok]
    diff = t_interval(b - a, level)
    var_ind = float(a.var(ddof=1) + b.var(ddof=1)) if len(a) > 1 else math.nan
    var_pair = float((b - a).var(ddof=1)) if len(a) > 1 else math.nan
    return Paired(diff, var_ind, var_pair)


def replications_needed(sd: float, half_width: float, at_least: int, level: float = LEVEL,
                        limit: int = REPLICATIONS_LIMIT) -> int | None:
    """The least number of replications, at least ``at_least`` (and 2), whose t interval
    half-width ``t(n - 1) sd / sqrt(n)`` is within ``half_width``, if the spread stays ``sd``:
    the one rule for "replications needed", used for a target precision and for deciding a
    capacity-test criterion. ``limit`` if even that many would not do; ``None`` if it cannot be
    estimated (``sd`` or ``half_width`` not finite, or a positive ``sd`` with no room at all).

    The half-width falls strictly as n grows (both ``t(n - 1)`` and ``1 / sqrt(n)`` do), so a
    bisection finds the least such n exactly.
    """
    if not (math.isfinite(sd) and math.isfinite(half_width)) or sd < 0 or half_width < 0:
        return None
    if sd > 0 and half_width == 0:
        return None

    def enough(k: int) -> bool:
        return t_quantile(k - 1, level) * sd / math.sqrt(k) <= half_width

    low = max(at_least, 2)
    if low >= limit or enough(low):
        return min(low, limit)
    if not enough(limit):
        return limit
    while limit - low > 1:  # invariant: enough(limit) and not enough(low)
        mid = (low + limit) // 2
        low, limit = (low, mid) if enough(mid) else (mid, limit)
    return limit


def replications_for_precision(iv: Interval, target: float) -> int | None:
    """Replications (never fewer than ``iv.n``) for the relative half-width to reach
    ``target``, by :func:`replications_needed`; ``None`` if it cannot be estimated (fewer than
    two values, a zero mean with spread, or ``target <= 0``)."""
    if iv.n < 2 or not math.isfinite(iv.relative_half_width) or target <= 0:
        return None
    return replications_needed(iv.sd, target * abs(iv.mean), iv.n)
