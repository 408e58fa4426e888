"""Per-period tables from one replication's records: area x month x offence group, and rolled up.

Counts are attributed to the period in which each event happened: funnel counts to the offence
period, referrals to the referral period, allocations and their waits to the allocation period,
interventions to the period the intervention stage ended, closures to the closing period,
capacity losses to the period the case left the queue, facilitator hours to the period each
stage ended. ``share_allocated_within_target`` is by referral cohort: of the referrals made in
the period, the share allocated within the wait target (losses count against it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd

from rjsim.analysis import timeweighted
from rjsim.analysis.columns import Columns
from rjsim.core.codes import CAPACITY_LOSSES, CLOSED, NO_POOL, Mode, Outcome, Pool, label
from rjsim.model import demand
from rjsim.model.area import AreaRecords
from rjsim.scenario.spec import SENSITIVE, Scenario

INTERVENTION_STAGE = 2
WAIT_STATS = ("mean", "median", "p90", "p95")


def period_labels(scenario: Scenario, n: int) -> list[str]:
    """Calendar month (YYYY-MM) in which each period starts."""
    start = dt.date.fromisoformat(scenario.run.start_date)
    months = [start.year * 12 + start.month - 1 + k for k in range(n)]
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]


class _Counter:
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


def _periods(days: np.ndarray) -> np.ndarray:
    out = np.full(len(days), -1, dtype=np.int64)
    ok = ~np.isnan(days)
    out[ok] = demand.period_of(days[ok])
    return out


def _count_area(c: _Counter, a: int, rec: AreaRecords, target: float) -> None:
    g = rec.group.astype(np.int64)
    n_p = c.shape[1]
    for row, name in enumerate(demand.FUNNEL):
        counts = rec.funnel[:, row, :]  # (groups, periods)
        periods = np.tile(np.arange(n_p), counts.shape[0])
        groups = np.repeat(np.arange(counts.shape[0]), n_p)
        c.add(name, a, periods, groups, counts.ravel().astype(float))
    referral_p = _periods(rec.referral_day)
    c.add("referrals", a, referral_p, g)
    c.add("allocations", a, _periods(rec.allocation_day), g)
    wait = rec.allocation_day - rec.referral_day
    within = ~np.isnan(wait) & (wait <= target)
    c.add("allocated_within_target", a, np.where(within, referral_p, -1), g)
    modes = (Mode.DIRECT_CONFERENCE, Mode.DIRECT_VIDEO, Mode.INDIRECT)
    c.add_kinds([f"interventions_{label(m)}" for m in modes], a, _kind(rec.mode, modes),
                _periods(rec.stage_end_day[:, INTERVENTION_STAGE]), g)
    c.add_kinds([f"closed_{label(o)}" for o in CLOSED], a, _kind(rec.outcome, CLOSED),
                _periods(rec.close_day), g)
    exit_p = _periods(rec.queue_exit_day)
    unallocated = rec.outcome == Outcome.UNALLOCATED_AT_END
    exit_p[unallocated] = np.minimum(exit_p[unallocated], n_p - 1)
    c.add_kinds([f"lost_{label(o)}" for o in CAPACITY_LOSSES], a,
                _kind(rec.outcome, CAPACITY_LOSSES), exit_p, g)
    for s in range(rec.stage_hours.shape[1]):
        c.add("facilitator_hours", a, _periods(rec.stage_end_day[:, s]), g, rec.stage_hours[:, s])


def _kind(codes: np.ndarray, kinds: tuple[IntEnum, ...]) -> np.ndarray:
    """Position of each code in ``kinds`` (-1 if not among them)."""
    lookup = np.full(max(int(k) for k in (*kinds, *type(kinds[0]))) + 1, -1, dtype=np.int64)
    lookup[[int(k) for k in kinds]] = np.arange(len(kinds))
    return np.asarray(lookup[codes])


def _backlog(rec: AreaRecords, edges: np.ndarray, *, by_group: bool) -> list[np.ndarray]:
    """Time-weighted mean and end-of-period intake backlog, per group (or for the area)."""
    keys = range(len(rec.groups)) if by_group else [None]
    out = []
    for gi in keys:
        sel = slice(None) if gi is None else rec.group == gi
        out.append(np.stack(timeweighted.per_period(rec.referral_day[sel],
                                                    rec.queue_exit_day[sel], edges)))
    return out


def window_start(scenario: Scenario) -> float:
    """Start of the first period not in the warm-up: summaries cover [window_start, horizon)."""
    edges = period_edges(scenario.run.horizon_days)
    return float(edges[np.searchsorted(edges, scenario.run.warmup_days)])


def period_edges(horizon: float) -> np.ndarray:
    """Period boundaries in days (the last period ends at the horizon)."""
    edges = np.arange(demand.n_periods(horizon) + 1) * demand.DAYS_PER_PERIOD
    edges[-1] = horizon
    return edges


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


def _wait_columns(cases: _Allocated, cells: int, n_groups: int | None
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
class _Allocated:
    """One area's allocated cases as arrays (integer group codes)."""

    group: np.ndarray
    referral_day: np.ndarray
    period: np.ndarray
    intervention_period: np.ndarray
    wait_alloc: np.ndarray
    wait_intervention: np.ndarray


def _allocated(rec: AreaRecords) -> _Allocated:
    ok = ~np.isnan(rec.allocation_day)
    intervention = rec.stage_end_day[ok, INTERVENTION_STAGE]
    return _Allocated(
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


def _derived(cols: dict[str, np.ndarray]) -> None:
    """Unmet demand, interventions and the within-target share, from the count columns."""
    cols["unmet_demand"] = sum((cols[c] for c in LOST[1:]), cols[LOST[0]].copy())
    cols["interventions"] = sum((cols[c] for c in INTERVENTIONS[1:]),
                                cols[INTERVENTIONS[0]].copy())
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["share_allocated_within_target"] = (cols["allocated_within_target"]
                                                 / cols["referrals"])


def area_tables(scenario: Scenario, rec: AreaRecords) -> tuple[Columns, Columns, Columns]:
    """One area's monthly tables from its records, with NumPy on integer codes (strings only
    as the final columns): area x period x offence group, area x period (summed over groups,
    waits over all groups, slot use and cost), and its allocated cases (for the national wait
    statistics); each as :data:`~rjsim.analysis.columns.Columns`."""
    groups = scenario.demand.groups
    edges = period_edges(scenario.run.horizon_days)
    n_p, n_g = len(edges) - 1, len(groups)
    c = _Counter(1, n_p, n_g)
    _count_area(c, 0, rec, scenario.service.wait_target_days)
    cols: dict[str, np.ndarray] = dict(c.columns)
    backlog = np.stack(_backlog(rec, edges, by_group=True))  # (groups, 2, periods)
    cols["backlog_mean"] = backlog[:, 0, :].T.ravel()
    cols["backlog_end"] = backlog[:, 1, :].T.ravel()
    cases = _allocated(rec)
    cols |= _wait_columns(cases, n_p * n_g, n_g)
    _derived(cols)
    for name, v in cols.items():
        if v.dtype == float and not name.startswith(NOT_COUNTS):
            cols[name] = v.round().astype(np.int64)
    period = np.repeat(np.arange(n_p), n_g)
    group = np.tile(np.arange(n_g), n_p)
    labels = np.asarray(period_labels(scenario, n_p))
    warm = edges[:-1] < window_start(scenario)
    names = np.asarray(groups)
    sensitive = np.isin(names, list(SENSITIVE))
    amg = {"area": np.full(n_p * n_g, rec.area), "period": period, "month": labels[period],
           "group": names[group], "sensitive": sensitive[group], **cols,
           "in_warmup": warm[period]}
    # summed over the groups of each period (contiguous rows), as pandas' grouped sum does
    rows = np.arange(0, n_p * n_g, n_g)
    sums = {name: np.add.reduceat(v, rows) for name, v in cols.items()
            if not name.startswith(("wait_", "share_"))}
    sums |= _wait_columns(cases, n_p, None)
    _derived(sums)
    am = {"area": np.full(n_p, rec.area), "period": np.arange(n_p), "month": labels, **sums,
          "in_warmup": warm, **_utilisation_columns(rec, edges)}
    am["cost_per_intervention_gbp"] = _cost_per_intervention(am["cost_gbp"], am["interventions"])
    return amg, am, _cases_table(rec, cases)


def _cases_table(rec: AreaRecords, cases: _Allocated) -> Columns:
    return {"area": np.full(len(cases.group), rec.area),
            "group": np.asarray(rec.groups)[cases.group],
            "referral_day": cases.referral_day, "period": cases.period,
            "intervention_period": cases.intervention_period, "wait_alloc": cases.wait_alloc,
            "wait_intervention": cases.wait_intervention}


def _utilisation_columns(rec: AreaRecords, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per period of one area: slots, busy slots, staffing, budget and spend."""
    ok = ~np.isnan(rec.allocation_day)
    busy, _ = timeweighted.per_period(rec.allocation_day[ok], rec.slot_release_day[ok], edges)
    slots = rec.slots_by_period.sum(axis=1)
    wf = rec.workforce
    n = len(busy)
    return {
        "general_slots": rec.slots_by_period[:, 0],
        "specialist_slots": rec.slots_by_period[:, 1],
        "busy_slots_mean": busy,
        "utilisation": np.where(slots > 0, busy / np.maximum(slots, 1), np.nan),
        "budget_gbp": wf.budget_gbp,
        "establishment_fte_general": wf.establishment[:, 0],
        "establishment_fte_specialist": wf.establishment[:, 1],
        "fte_general": wf.in_post[:, 0], "fte_specialist": wf.in_post[:, 1],
        "vacancies_fte": wf.vacancies.sum(axis=1),
        "volunteer_fte": np.full(n, wf.volunteer_fte, dtype=float),
        "hires_fte": wf.hires.sum(axis=1), "leavers_fte": wf.leavers.sum(axis=1),
        "cost_gbp": wf.spend_gbp}


def _finish(df: pd.DataFrame, scenario: Scenario, edges: np.ndarray) -> pd.DataFrame:
    df = df.reset_index()
    cols = list(df.columns)
    lost = [f"lost_{label(o)}" for o in CAPACITY_LOSSES]
    df["unmet_demand"] = df[lost].sum(axis=1)
    df["interventions"] = df[[f"interventions_{label(m)}" for m in
                              (Mode.DIRECT_CONFERENCE, Mode.DIRECT_VIDEO, Mode.INDIRECT)]].sum(
        axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["share_allocated_within_target"] = (df["allocated_within_target"] / df["referrals"])
    labels = period_labels(scenario, len(edges) - 1)
    df.insert(cols.index("period") + 1, "month", [labels[p] for p in df["period"]])
    df["in_warmup"] = edges[:-1][df["period"].to_numpy()] < window_start(scenario)
    if "group" in df:
        df.insert(list(df.columns).index("group") + 1, "sensitive", df["group"].isin(SENSITIVE))
    count_cols = [c for c in df.columns if df[c].dtype == float and not c.startswith(
        ("wait_", "backlog_mean", "share_", "utilisation", "cost", "fte", "facilitator_hours",
         "budget", "establishment", "vacancies", "volunteer", "hires", "leavers"))]
    df[count_cols] = df[count_cols].round().astype(np.int64)
    return df


def _quantiles(values: Any, prefix: str) -> pd.DataFrame:
    """Mean, median, 90th and 95th percentiles of grouped values (a SeriesGroupBy)."""
    return pd.DataFrame({f"{prefix}_mean": values.mean(), f"{prefix}_median": values.median(),
                         f"{prefix}_p90": values.quantile(0.9),
                         f"{prefix}_p95": values.quantile(0.95)})


def _waits(cases: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Wait statistics (days) of allocated ``cases``: referral -> allocation by allocation
    period; referral -> intervention by intervention period."""
    alloc = _quantiles(cases.groupby(keys)["wait_alloc"], "wait_alloc_days")
    iv = cases[cases["intervention_period"] >= 0].assign(
        period=lambda d: d["intervention_period"])
    inter = _quantiles(iv.groupby(keys)["wait_intervention"], "wait_intervention_days")
    return alloc.join(inter, how="outer")


ADDITIVE_EXCLUDE = ("period", "month", "in_warmup", "sensitive", "group", "area")


def additive_columns(df: pd.DataFrame) -> list[str]:
    """Columns that add up across areas, groups and periods (counts, hours, cost)."""
    return [c for c in df.columns if c not in ADDITIVE_EXCLUDE and not c.startswith(
        ("wait_", "share_"))]


def national_month(scenario: Scenario, am: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Per period for all simulated areas together (``cases``: every area's allocated cases)."""
    edges = period_edges(scenario.run.horizon_days)
    cols = [c for c in additive_columns(am) if c not in ("utilisation",)]
    sums = am.groupby("period", sort=True)[cols].sum()
    waits = _waits(cases, ["period"])
    df = _finish(sums.join(waits), scenario, edges)
    slots = df["general_slots"] + df["specialist_slots"]
    df["utilisation"] = np.where(slots > 0, df["busy_slots_mean"] / slots.where(slots > 0), np.nan)
    return _per_intervention(df)


def _per_intervention(df: pd.DataFrame) -> pd.DataFrame:
    df["cost_per_intervention_gbp"] = _cost_per_intervention(df["cost_gbp"].to_numpy(),
                                                             df["interventions"].to_numpy())
    return df


def _cost_per_intervention(cost: np.ndarray, interventions: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.where(interventions > 0, cost / interventions, np.nan)
    return out


def cases_frame(rec: AreaRecords) -> pd.DataFrame:
    """One row per referral of one area: the raw records behind every table."""
    outcome_names = np.array([label(o) for o in Outcome])
    mode_names = np.array([label(m) for m in Mode])
    return pd.DataFrame({
        "replication": rec.replication, "area": rec.area,
        "group": np.asarray(rec.groups)[rec.group], "referral_day": rec.referral_day,
        "under_right": rec.under_right, "allocation_day": rec.allocation_day,
        "queue_exit_day": rec.queue_exit_day, "close_day": rec.close_day,
        "outcome": outcome_names[rec.outcome],
        "mode": np.where(np.isnan(rec.stage_end_day[:, INTERVENTION_STAGE]), "none",
                         mode_names[rec.mode]),
        "slot": np.choose(rec.skill - NO_POOL, ["none", *(label(p) for p in Pool)]),
        "intervention_day": rec.stage_end_day[:, INTERVENTION_STAGE],
        "facilitator_hours": rec.stage_hours.sum(axis=1)})
