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
from typing import Any

import numpy as np
import pandas as pd

from rjsim.analysis import timeweighted
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
    c.add("referrals", a, _periods(rec.referral_day), g)
    alloc_p = _periods(rec.allocation_day)
    c.add("allocations", a, alloc_p, g)
    wait = rec.allocation_day - rec.referral_day
    within = ~np.isnan(wait) & (wait <= target)
    c.add("allocated_within_target", a, np.where(within, _periods(rec.referral_day), -1), g)
    intervention_p = _periods(rec.stage_end_day[:, INTERVENTION_STAGE])
    for m in (Mode.DIRECT_CONFERENCE, Mode.DIRECT_VIDEO, Mode.INDIRECT):
        c.add(f"interventions_{label(m)}", a, np.where(rec.mode == m, intervention_p, -1), g)
    close_p = _periods(rec.close_day)
    for o in CLOSED:
        c.add(f"closed_{label(o)}", a, np.where(rec.outcome == o, close_p, -1), g)
    exit_p = _periods(rec.queue_exit_day)
    for o in CAPACITY_LOSSES:
        p = np.minimum(exit_p, n_p - 1) if o == Outcome.UNALLOCATED_AT_END else exit_p
        c.add(f"lost_{label(o)}", a, np.where(rec.outcome == o, p, -1), g)
    for s in range(rec.stage_hours.shape[1]):
        c.add("facilitator_hours", a, _periods(rec.stage_end_day[:, s]), g, rec.stage_hours[:, s])


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


def area_month_group(scenario: Scenario, records: list[AreaRecords],
                     cases: pd.DataFrame) -> pd.DataFrame:
    """Counts, waits and backlog per area, period and offence group (``cases``: the
    allocated cases of ``records``, from :func:`allocated_frame`)."""
    groups = scenario.demand.groups
    horizon = scenario.run.horizon_days
    edges = period_edges(horizon)
    n_a, n_p, n_g = len(records), len(edges) - 1, len(groups)
    c = _Counter(n_a, n_p, n_g)
    for a, rec in enumerate(records):
        _count_area(c, a, rec, scenario.service.wait_target_days)
    index = pd.MultiIndex.from_product([[r.area for r in records], range(n_p), groups],
                                       names=["area", "period", "group"])
    df = pd.DataFrame(c.columns, index=index)
    backlog = np.stack([np.stack(_backlog(r, edges, by_group=True)) for r in records])  # a,g,2,p
    df["backlog_mean"] = backlog[:, :, 0, :].transpose(0, 2, 1).ravel()
    df["backlog_end"] = backlog[:, :, 1, :].transpose(0, 2, 1).ravel()
    waits = _waits(cases, ["area", "period", "group"])
    return _finish(df.join(waits), scenario, edges)


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


def allocated_frame(rec: AreaRecords) -> pd.DataFrame:
    """One row per allocated case of one area: what national wait statistics need."""
    ok = ~np.isnan(rec.allocation_day)
    intervention = rec.stage_end_day[ok, INTERVENTION_STAGE]
    return pd.DataFrame({
        "area": rec.area, "group": np.asarray(rec.groups)[rec.group[ok]],
        "referral_day": rec.referral_day[ok],
        "period": demand.period_of(rec.allocation_day[ok]),
        "intervention_period": np.where(np.isnan(intervention), -1,
                                        np.floor(intervention / demand.DAYS_PER_PERIOD)
                                        ).astype(np.int64),
        "wait_alloc": rec.allocation_day[ok] - rec.referral_day[ok],
        "wait_intervention": intervention - rec.referral_day[ok]})


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


def _utilisation(records: list[AreaRecords], edges: np.ndarray) -> pd.DataFrame:
    """Per area and period: slots, busy slots, staffing, budget and spend."""
    rows = []
    for rec in records:
        ok = ~np.isnan(rec.allocation_day)
        busy, _ = timeweighted.per_period(rec.allocation_day[ok], rec.slot_release_day[ok], edges)
        slots = rec.slots_by_period.sum(axis=1)
        wf = rec.workforce
        rows.append(pd.DataFrame({
            "area": rec.area, "period": np.arange(len(busy)),
            "general_slots": rec.slots_by_period[:, 0],
            "specialist_slots": rec.slots_by_period[:, 1],
            "busy_slots_mean": busy,
            "utilisation": np.where(slots > 0, busy / np.maximum(slots, 1), np.nan),
            "budget_gbp": wf.budget_gbp,
            "establishment_fte_general": wf.establishment[:, 0],
            "establishment_fte_specialist": wf.establishment[:, 1],
            "fte_general": wf.in_post[:, 0], "fte_specialist": wf.in_post[:, 1],
            "vacancies_fte": wf.vacancies.sum(axis=1),
            "volunteer_fte": wf.volunteer_fte,
            "hires_fte": wf.hires.sum(axis=1), "leavers_fte": wf.leavers.sum(axis=1),
            "cost_gbp": wf.spend_gbp}))
    return pd.concat(rows, ignore_index=True)


def area_month(scenario: Scenario, records: list[AreaRecords], amg: pd.DataFrame,
               cases: pd.DataFrame) -> pd.DataFrame:
    """Per area and period: ``amg`` summed over groups, waits over all groups, slot use, cost."""
    edges = period_edges(scenario.run.horizon_days)
    sums = amg.groupby(["area", "period"], sort=False)[additive_columns(amg)].sum()
    waits = _waits(cases, ["area", "period"])
    df = _finish(sums.join(waits), scenario, edges)
    df = df.merge(_utilisation(records, edges), on=["area", "period"], how="left")
    return _per_intervention(df)


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
    with np.errstate(invalid="ignore", divide="ignore"):
        df["cost_per_intervention_gbp"] = np.where(df["interventions"] > 0,
                                                   df["cost_gbp"] / df["interventions"], np.nan)
    return df


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
