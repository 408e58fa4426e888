"""NumPy kernels that reduce one area's records to its monthly columns, on integer codes.

Counts on a dense (area, period, group) grid with ``np.bincount`` (:class:`Counter`,
:func:`count_area`); time-weighted backlogs (:func:`backlog`); wait statistics per cell with
one sort (:func:`grouped_stats`, pandas' grouped arithmetic to the last bit, means by
compensated sums: :func:`kahan_sums`); and the derived columns (unmet demand, interventions,
the within-target share, cost per intervention). :mod:`rjsim.analysis.tables` builds the
per-area and national tables from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from rjsim.analysis import timeweighted
from rjsim.core.codes import CAPACITY_LOSSES, CLOSED, Mode, Outcome, label
from rjsim.model import demand
from rjsim.model.area import AreaRecords

INTERVENTION_STAGE = 2
WAIT_STATS = ("mean", "median", "p90", "p95")


class Counter:
    """Accumulates counts on a dense (area, period, group) grid with np.bincount."""

    def __init__(self, n_areas: int, n_periods: int, n_groups: int) -> None:
        self.shape = (n_areas, n_periods, n_groups)
        self.columns: dict[str, np.ndarray] = {}

    def add(self, name: str, area: int, period: np.ndarray, group: np.ndarray,
            weights: np.ndarray | None = None) -> None:
        _, n_p, n_g = self.shape
        ok = (period >= 0) & (period < n_p)
        flat = (area * n_p + period[ok]) * n_g + group[ok]
        counts = np.bincount(flat, weights=None if weights is None else weights[ok],
                             minlength=int(np.prod(self.shape)))
        if name not in self.columns:
            self.columns[name] = np.zeros(int(np.prod(self.shape)))
        self.columns[name] += counts

    def add_kinds(self, names: list[str], area: int, kind: np.ndarray, period: np.ndarray,
                  group: np.ndarray) -> None:
        """Count rows of each kind (``kind`` indexes ``names``; -1: none) in one pass."""
        _, n_p, n_g = self.shape
        cells = int(np.prod(self.shape))
        ok = (kind >= 0) & (period >= 0) & (period < n_p)
        flat = kind[ok] * cells + (area * n_p + period[ok]) * n_g + group[ok]
        counts = np.bincount(flat, minlength=len(names) * cells).reshape(len(names), cells)
        for name, row in zip(names, counts, strict=True):
            if name not in self.columns:
                self.columns[name] = np.zeros(cells)
            self.columns[name] += row


def period_index(days: np.ndarray) -> np.ndarray:
    """Period of each day; -1 where the day is NaN (the event did not happen)."""
    out = np.full(len(days), -1, dtype=np.int64)
    ok = ~np.isnan(days)
    out[ok] = demand.period_of(days[ok])
    return out


def count_area(c: Counter, a: int, rec: AreaRecords, target: float) -> None:
    """Add area ``a``'s counts to ``c``: funnel, referrals, allocations, within-target
    allocations, interventions by mode, closures and capacity losses by kind, facilitator hours."""
    g = rec.group.astype(np.int64)
    n_p = c.shape[1]
    for row, name in enumerate(demand.FUNNEL):
        counts = rec.funnel[:, row, :]  # (groups, periods)
        periods = np.tile(np.arange(n_p), counts.shape[0])
        groups = np.repeat(np.arange(counts.shape[0]), n_p)
        c.add(name, a, periods, groups, counts.ravel().astype(float))
    referral_p = period_index(rec.referral_day)
    c.add("referrals", a, referral_p, g)
    c.add("allocations", a, period_index(rec.allocation_day), g)
    wait = rec.allocation_day - rec.referral_day
    within = ~np.isnan(wait) & (wait <= target)
    c.add("allocated_within_target", a, np.where(within, referral_p, -1), g)
    modes = (Mode.DIRECT_CONFERENCE, Mode.DIRECT_VIDEO, Mode.INDIRECT)
    c.add_kinds([f"interventions_{label(m)}" for m in modes], a, kind_index(rec.mode, modes),
                period_index(rec.stage_end_day[:, INTERVENTION_STAGE]), g)
    c.add_kinds([f"closed_{label(o)}" for o in CLOSED], a, kind_index(rec.outcome, CLOSED),
                period_index(rec.close_day), g)
    exit_p = period_index(rec.queue_exit_day)
    unallocated = rec.outcome == Outcome.UNALLOCATED_AT_END
    exit_p[unallocated] = np.minimum(exit_p[unallocated], n_p - 1)
    c.add_kinds([f"lost_{label(o)}" for o in CAPACITY_LOSSES], a,
                kind_index(rec.outcome, CAPACITY_LOSSES), exit_p, g)
    for s in range(rec.stage_hours.shape[1]):
        c.add("facilitator_hours", a, period_index(rec.stage_end_day[:, s]), g,
              rec.stage_hours[:, s])


def kind_index(codes: np.ndarray, kinds: tuple[IntEnum, ...]) -> np.ndarray:
    """Position of each code in ``kinds`` (-1 if not among them)."""
    lookup = np.full(max(int(k) for k in (*kinds, *type(kinds[0]))) + 1, -1, dtype=np.int64)
    lookup[[int(k) for k in kinds]] = np.arange(len(kinds))
    return np.asarray(lookup[codes])


def backlog(rec: AreaRecords, edges: np.ndarray, *, by_group: bool) -> list[np.ndarray]:
    """Time-weighted mean and end-of-period intake backlog, per group (or for the area)."""
    keys = range(len(rec.groups)) if by_group else [None]
    out = []
    for gi in keys:
        sel = slice(None) if gi is None else rec.group == gi
        out.append(np.stack(timeweighted.per_period(rec.referral_day[sel],
                                                    rec.queue_exit_day[sel], edges)))
    return out


def grouped_stats(keys: np.ndarray, values: np.ndarray, n_cells: int
                  ) -> dict[str, np.ndarray]:
    """Mean, median, 90th and 95th percentiles of ``values`` per integer cell ``keys`` in
    ``[0, n_cells)`` (NaN where a cell has no value), with one sort.

    The arithmetic is pandas' grouped arithmetic, so the tables are the same to the last
    bit whichever builds them: the mean is a compensated (Kahan) sum in row order divided by
    the count; a quantile at position ``q * (n - 1)`` interpolates linearly between its two
    neighbours; the median of an even count is the mean of the middle two.
    """
    keep = (keys >= 0) & (keys < n_cells)
    keys, values = keys[keep], values[keep]
    counts = np.bincount(keys, minlength=n_cells)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = {s: np.full(n_cells, np.nan) for s in WAIT_STATS}
    have = counts > 0
    if not have.any():
        return out
    ordered = values[np.lexsort((values, keys))]  # by cell, then value
    n, first = counts[have], starts[have]
    mid = first + n // 2
    out["median"][have] = np.where(n % 2 == 1, ordered[mid],
                                   (ordered[mid] + ordered[np.maximum(mid - 1, first)]) / 2)
    for name, q in (("p90", 0.9), ("p95", 0.95)):
        at = q * (n - 1).astype(float)
        low = first + at.astype(np.int64)
        frac = np.fmod(at, 1.0)
        val = ordered[low]
        nxt = ordered[np.minimum(low + 1, first + n - 1)]
        out[name][have] = np.where(frac == 0.0, val, val + (nxt - val) * frac)
    out["mean"][have] = kahan_sums(keys, values, counts)[have] / n
    return out


def kahan_sums(keys: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per cell, the compensated (Kahan) sum of its ``values`` in row order (vectorised over
    cells: one step per value of the largest cell)."""
    by_cell = values[np.argsort(keys, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    big = np.argsort(-counts, kind="stable")  # largest cells first: the active ones a prefix
    size, first = counts[big], starts[big]
    total, comp = np.zeros(len(counts)), np.zeros(len(counts))
    for j in range(int(size[0]) if len(size) else 0):
        m = int(np.searchsorted(-size, -j, side="left"))  # cells with more than j values
        y = by_cell[first[:m] + j] - comp[:m]
        t = total[:m] + y
        comp[:m] = (t - total[:m]) - y
        total[:m] = t
    out = np.zeros(len(counts))
    out[big] = total
    return out


def wait_columns(cases: Allocated, cells: int, n_groups: int | None
                  ) -> dict[str, np.ndarray]:
    """Wait statistics per period (and group, when ``n_groups`` is given) of one area's
    allocated cases: referral -> allocation by allocation period; referral -> intervention by
    intervention period."""
    def key(period: np.ndarray, group: np.ndarray) -> np.ndarray:
        return period if n_groups is None else period * n_groups + group
    out: dict[str, np.ndarray] = {}
    alloc = grouped_stats(key(cases.period, cases.group), cases.wait_alloc, cells)
    out |= {f"wait_alloc_days_{s}": alloc[s] for s in WAIT_STATS}
    iv = cases.intervention_period >= 0
    inter = grouped_stats(key(cases.intervention_period[iv], cases.group[iv]),
                          cases.wait_intervention[iv], cells)
    out |= {f"wait_intervention_days_{s}": inter[s] for s in WAIT_STATS}
    return out


@dataclass(frozen=True)
class Allocated:
    """One area's allocated cases as arrays (integer group codes)."""

    group: np.ndarray
    referral_day: np.ndarray
    period: np.ndarray
    intervention_period: np.ndarray
    wait_alloc: np.ndarray
    wait_intervention: np.ndarray


def allocated(rec: AreaRecords) -> Allocated:
    """The allocated cases of one area with their periods and waits."""
    ok = ~np.isnan(rec.allocation_day)
    intervention = rec.stage_end_day[ok, INTERVENTION_STAGE]
    return Allocated(
        group=rec.group[ok].astype(np.int64), referral_day=rec.referral_day[ok],
        period=demand.period_of(rec.allocation_day[ok]),
        intervention_period=np.where(np.isnan(intervention), -1,
                                     np.floor(intervention / demand.DAYS_PER_PERIOD)
                                     ).astype(np.int64),
        wait_alloc=rec.allocation_day[ok] - rec.referral_day[ok],
        wait_intervention=intervention - rec.referral_day[ok])


LOST = tuple(f"lost_{label(o)}" for o in CAPACITY_LOSSES)
INTERVENTIONS = tuple(f"interventions_{label(m)}" for m in
                      (Mode.DIRECT_CONFERENCE, Mode.DIRECT_VIDEO, Mode.INDIRECT))
#: Float columns of the monthly tables that are not counts (never rounded).
NOT_COUNTS = ("wait_", "backlog_mean", "share_", "utilisation", "cost", "fte",
              "facilitator_hours", "budget", "establishment", "vacancies", "volunteer", "hires",
              "leavers")


def derived(cols: dict[str, np.ndarray]) -> None:
    """Unmet demand, interventions and the within-target share, from the count columns."""
    cols["unmet_demand"] = sum((cols[c] for c in LOST[1:]), cols[LOST[0]].copy())
    cols["interventions"] = sum((cols[c] for c in INTERVENTIONS[1:]),
                                cols[INTERVENTIONS[0]].copy())
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["share_allocated_within_target"] = (cols["allocated_within_target"]
                                                 / cols["referrals"])


def cost_per_intervention(cost: np.ndarray, interventions: np.ndarray) -> np.ndarray:
    """Cost over interventions; NaN where there were none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.where(interventions > 0, cost / interventions, np.nan)
    return out
