"""The two layers of a regression check, on per-replication KPI tables.

* **Exact**: the same code and seed must reproduce the reference tables bit for bit; the first
  differing cells are reported (table, row keys, column, reference and new value).
* **Statistical**: each judged KPI passes when an equivalence test shows the new mean is within
  its tolerance of the reference mean: two one-sided Welch t-tests at 5% each, i.e. the 90%
  Welch interval of ``new - reference`` must lie inside ``[-tolerance, +tolerance]``. The
  samples are treated as independent (a run with another seed is), so the test does not rely
  on common random numbers.

Verdicts (:class:`Equivalence`): ``equivalent`` (interval inside the margin), ``DIFFERENT``
(interval wholly outside: a real shift), ``INCONCLUSIVE`` (interval straddles the margin: either
a small shift or noise too large for the tolerance) and ``MISSING`` (the KPI is no longer
produced or estimable). Only ``equivalent`` passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from rjsim.core.stats import t_quantile
from rjsim.regress.refs import KEYS, Tolerance

#: One-sided normal quantile for the noise floor: a rerun with another seed passes a KPI whose
#: tolerance is at its noise floor with about 99.9% probability.
FLOOR_Z = 3.09


@dataclass(frozen=True)
class CellDifference:
    """One cell that differs between a reference table and the new run."""

    table: str
    keys: tuple[tuple[str, str], ...]  # (column, value) of each row key
    column: str
    reference: str
    new: str

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.keys)
        return f"{self.table} [{where}] {self.column}: reference {self.reference}, new {self.new}"


@dataclass(frozen=True)
class ExactResult:
    """The exact layer for one scenario."""

    cells_compared: int
    cells_differing: int
    first: tuple[CellDifference, ...]
    structural: tuple[str, ...]  # missing columns or rows

    @property
    def identical(self) -> bool:
        return self.cells_differing == 0 and not self.structural


def _show(value: object) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def exact_table(table: str, reference: pd.DataFrame, new: pd.DataFrame, limit: int
                ) -> ExactResult:
    """Compare two per-replication tables cell by cell (NaN equals NaN; nothing rounded)."""
    keys = list(KEYS[table])
    columns = [c for c in reference.columns if c not in keys]
    structural = [f"{table}: column '{c}' is no longer produced" for c in columns
                  if c not in new.columns]
    columns = [c for c in columns if c in new.columns]
    ref = reference.set_index(keys).sort_index()
    fresh = new.set_index(keys).sort_index()
    if not ref.index.equals(fresh.index):
        structural.append(f"{table}: rows differ ({len(ref)} reference rows, {len(fresh)} new)")
        fresh = fresh.reindex(ref.index)
    a = ref[columns].to_numpy(dtype=float)
    b = fresh[columns].to_numpy(dtype=float)
    differs = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    first = [CellDifference(table, tuple(zip(keys, map(str, _key(ref.index[i])), strict=True)),
                            columns[j], _show(ref[columns[j]].iat[int(i)]),
                            _show(fresh[columns[j]].iat[int(i)]))
             for i, j in np.argwhere(differs)[:limit]]
    return ExactResult(int(differs.size), int(differs.sum()), tuple(first), tuple(structural))


def _key(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else (value,)


def exact(reference: Mapping[str, pd.DataFrame], new: Mapping[str, pd.DataFrame],
          limit: int = 5) -> ExactResult:
    """The exact layer over every table (the first ``limit`` differing cells kept)."""
    parts = [exact_table(name, reference[name], new[name], limit) for name in reference]
    first = tuple(c for p in parts for c in p.first)[:limit]
    return ExactResult(sum(p.cells_compared for p in parts),
                       sum(p.cells_differing for p in parts), first,
                       tuple(s for p in parts for s in p.structural))


class Equivalence(StrEnum):
    """A KPI's verdict in the statistical layer (the value is the word printed)."""

    EQUIVALENT = "equivalent"
    DIFFERENT = "DIFFERENT"
    INCONCLUSIVE = "INCONCLUSIVE"
    MISSING = "MISSING"


@dataclass(frozen=True)
class KpiCheck:
    """The statistical layer for one KPI (nationally, or in one area)."""

    kpi: str
    area: str | None  # None: national
    reference: float  # mean over replications
    new: float
    low: float  # equivalence interval of new - reference
    high: float
    tolerance: float
    verdict: Equivalence

    @property
    def difference(self) -> float:
        return self.new - self.reference

    @property
    def passed(self) -> bool:
        return self.verdict is Equivalence.EQUIVALENT


def welch_interval(reference: np.ndarray, new: np.ndarray, level: float
                   ) -> tuple[float, float]:
    """The Welch t interval of ``mean(new) - mean(reference)`` (NaN values dropped)."""
    a, b = reference[~np.isnan(reference)], new[~np.isnan(new)]
    diff = float(b.mean() - a.mean())
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    se = math.sqrt(va + vb)
    if se <= 1e-12 * max(abs(float(a.mean())), abs(float(b.mean())), 1e-300):
        return diff, diff  # no spread at all (a deterministic KPI): the point difference
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile(df, level) * se
    return diff - half, diff + half


def verdict(low: float, high: float, tolerance: float) -> Equivalence:
    """Equivalence verdict of an interval against ``[-tolerance, +tolerance]``."""
    if -tolerance <= low and high <= tolerance:
        return Equivalence.EQUIVALENT
    if low > tolerance or high < -tolerance:
        return Equivalence.DIFFERENT
    return Equivalence.INCONCLUSIVE


def check_kpi(kpi: str, area: str | None, reference: np.ndarray, new: np.ndarray | None,
              tolerance: Tolerance, level: float) -> KpiCheck:
    """Judge one KPI: reference and new per-replication values (``new`` None if missing)."""
    ref_ok = reference[~np.isnan(reference)]
    ref_mean = float(ref_ok.mean()) if len(ref_ok) else math.nan
    margin = tolerance.margin(ref_mean)
    new_ok = new[~np.isnan(new)] if new is not None else np.array([])
    new_mean = float(new_ok.mean()) if len(new_ok) else math.nan
    if len(ref_ok) == 0 and new is not None and len(new_ok) == 0:
        return KpiCheck(kpi, area, ref_mean, new_mean, math.nan, math.nan, margin,
                        Equivalence.EQUIVALENT)  # not estimable in either run (e.g. no allocations)
    if len(ref_ok) < 2 or len(new_ok) < 2:
        return KpiCheck(kpi, area, ref_mean, new_mean, math.nan, math.nan, margin,
                        Equivalence.MISSING)
    low, high = welch_interval(ref_ok, new_ok, level)
    return KpiCheck(kpi, area, ref_mean, new_mean, low, high, margin,
                    verdict(low, high, margin))


def _values(df: pd.DataFrame, kpi: str, area: str | None) -> np.ndarray | None:
    if kpi not in df.columns:
        return None
    rows = df if area is None else df[df["area"] == area]
    return rows.sort_values("replication")[kpi].to_numpy(dtype=float)


def statistical(reference: Mapping[str, pd.DataFrame], new: Mapping[str, pd.DataFrame],
                tolerances: Mapping[str, Mapping[str, Tolerance]], level: float
                ) -> list[KpiCheck]:
    """Judge every declared KPI, nationally and in each area."""
    checks = []
    for kpi, tol in tolerances.get("national", {}).items():
        ref = _values(reference["national"], kpi, None)
        assert ref is not None  # reference tables are checked for judged KPIs when read
        checks.append(check_kpi(kpi, None, ref, _values(new["national"], kpi, None), tol,
                                level))
    for kpi, tol in tolerances.get("area", {}).items():
        for area in sorted(reference["area"]["area"].unique()):
            ref = _values(reference["area"], kpi, area)
            assert ref is not None
            checks.append(check_kpi(kpi, str(area), ref, _values(new["area"], kpi, area), tol,
                                    level))
    return checks


def noise_floor(values: np.ndarray, level: float) -> float:
    """The smallest tolerance a rerun with another seed passes with about 99.9% probability:
    ``(t + z) * sd * sqrt(2 / n)``, for two samples of n with this spread."""
    x = values[~np.isnan(values)]
    if len(x) < 2:
        return math.nan
    t = t_quantile(2 * len(x) - 2, level)
    return (t + FLOOR_Z) * float(x.std(ddof=1)) * math.sqrt(2 / len(x))


@dataclass(frozen=True)
class Floor:
    """A judged KPI's tolerance beside its noise floor in one scenario's tables."""

    scenario: str
    kpi: str
    area: str | None
    tolerance: float
    floor: float

    @property
    def ok(self) -> bool:
        return not self.floor > self.tolerance


def noise_floors(scenario: str, tables: Mapping[str, pd.DataFrame],
                 tolerances: Mapping[str, Mapping[str, Tolerance]], level: float
                 ) -> list[Floor]:
    """Every judged KPI's tolerance and noise floor, nationally and in each area."""
    out = []
    for lvl, kpis in tolerances.items():
        df = tables[lvl]
        groups = [(None, df)] if lvl == "national" else list(df.groupby("area"))
        for kpi, tol in kpis.items():
            for area, rows in groups:
                values = rows[kpi].to_numpy(dtype=float)
                mean = float(np.nanmean(values)) if (~np.isnan(values)).any() else math.nan
                out.append(Floor(scenario, kpi, None if area is None else str(area),
                                 tol.margin(mean), noise_floor(values, level)))
    return out
