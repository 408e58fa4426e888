"""Per-period tables from one replication's records: area x month x offence group, and rolled up.

Counts are attributed to the period in which each event happened: funnel counts to the offence
period, referrals to the referral period, allocations and their waits to the allocation period,
interventions to the period the intervention stage ended, closures to the closing period,
capacity losses to the period the case left the queue, facilitator hours to the period each
stage ended. ``share_allocated_within_target`` is by referral cohort: of the referrals made in
the period, the share allocated within the wait target (losses count against it).

Each area's tables are built from the NumPy kernels of :mod:`rjsim.analysis.kernels` as
NumPy columns (:func:`area_tables`); the national tables from every area's tables with pandas.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from rjsim.analysis import kernels, timeweighted
from rjsim.analysis.columns import Columns
from rjsim.core.codes import CAPACITY_LOSSES, NO_POOL, Mode, Outcome, Pool, label
from rjsim.model import demand
from rjsim.model.area import AreaRecords
from rjsim.scenario.spec import SENSITIVE, Scenario


def period_labels(scenario: Scenario, n: int) -> list[str]:
    """Calendar month (YYYY-MM) in which each period starts."""
    start = dt.date.fromisoformat(scenario.run.start_date)
    months = [start.year * 12 + start.month - 1 + k for k in range(n)]
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]


def window_start(scenario: Scenario) -> float:
    """Start of the first period not in the warm-up: summaries cover [window_start, horizon)."""
    edges = period_edges(scenario.run.horizon_days)
    return float(edges[np.searchsorted(edges, scenario.run.warmup_days)])


def period_edges(horizon: float) -> np.ndarray:
    """Period boundaries in days (the last period ends at the horizon)."""
    edges = np.arange(demand.n_periods(horizon) + 1) * demand.DAYS_PER_PERIOD
    edges[-1] = horizon
    return edges


def area_tables(scenario: Scenario, rec: AreaRecords) -> tuple[Columns, Columns, Columns]:
    """One area's monthly tables from its records, with NumPy on integer codes (strings only
    as the final columns): area x period x offence group, area x period (summed over groups,
    waits over all groups, slot use and cost), and its allocated cases (for the national wait
    statistics); each as :data:`~rjsim.analysis.columns.Columns`."""
    groups = scenario.demand.groups
    edges = period_edges(scenario.run.horizon_days)
    n_p, n_g = len(edges) - 1, len(groups)
    c = kernels.Counter(1, n_p, n_g)
    kernels.count_area(c, 0, rec, scenario.service.wait_target_days)
    cols: dict[str, np.ndarray] = dict(c.columns)
    backlog = np.stack(kernels.backlog(rec, edges, by_group=True))  # (groups, 2, periods)
    cols["backlog_mean"] = backlog[:, 0, :].T.ravel()
    cols["backlog_end"] = backlog[:, 1, :].T.ravel()
    cases = kernels.allocated(rec)
    cols |= kernels.wait_columns(cases, n_p * n_g, n_g)
    kernels.derived(cols)
    for name, v in cols.items():
        if v.dtype == float and not name.startswith(kernels.NOT_COUNTS):
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
    sums |= kernels.wait_columns(cases, n_p, None)
    kernels.derived(sums)
    am = {"area": np.full(n_p, rec.area), "period": np.arange(n_p), "month": labels, **sums,
          "in_warmup": warm, **_utilisation_columns(rec, edges)}
    am["cost_per_intervention_gbp"] = kernels.cost_per_intervention(am["cost_gbp"],
                                                                    am["interventions"])
    return amg, am, _cases_table(rec, cases)


def _cases_table(rec: AreaRecords, cases: kernels.Allocated) -> Columns:
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
    count_cols = [c for c in df.columns
                  if df[c].dtype == float and not c.startswith(kernels.NOT_COUNTS)]
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
    df["cost_per_intervention_gbp"] = kernels.cost_per_intervention(
        df["cost_gbp"].to_numpy(), df["interventions"].to_numpy())
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
        "mode": np.where(np.isnan(rec.stage_end_day[:, kernels.INTERVENTION_STAGE]), "none",
                         mode_names[rec.mode]),
        "slot": np.choose(rec.skill - NO_POOL, ["none", *(label(p) for p in Pool)]),
        "intervention_day": rec.stage_end_day[:, kernels.INTERVENTION_STAGE],
        "facilitator_hours": rec.stage_hours.sum(axis=1)})
