"""The capacity test's criteria over *rolling* assessment windows, per replication and area.

"Time to pass" (MODEL.md section 11) is the first assessment window after commencement in which
the test is met. The windows here are whole months: the first starts where the test's own
window starts (commencement + ``capacity_test.settle_days``, snapped to the next month, as every
summary does), each next one a month later, all of the same length (:func:`window_months`: the
test's ``window_years`` in whole months, or :data:`DEFAULT_WINDOW_MONTHS` when the test's window
runs to the end of the run), as long as the window ends by the end of the run.

Each window's values are those of :func:`rjsim.analysis.capacity_metrics.metrics` (pool ``all``),
computed from the same monthly tables and referral cohorts, with one difference: a window's
referral cohort is followed to the end of the *run*, not of the window (a referral made near a
window's end that is lost later counts as lost to that window).

Per task, :func:`cohort_edges` keeps the cumulative referral-cohort counts at every month edge
(small: groups x months), so any window's cohort counts are differences of two rows; per
replication, :func:`rolling_metrics` turns them and the monthly tables into one row per area and
window, vectorised over windows (cumulative sums; the backlog trend's least-squares slope from
running sums of ``t``, ``t^2``, ``y`` and ``t y``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import pooled_load
from rjsim.analysis.columns import Columns
from rjsim.analysis.tables import period_edges
from rjsim.core.codes import CAPACITY_LOSSES
from rjsim.model.area import AreaRecords
from rjsim.model.demand import DAYS_PER_PERIOD
from rjsim.model.region import overhead_days
from rjsim.model.staffing import period_days
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import DAYS_PER_YEAR, SENSITIVE, Scenario

#: Window length (months) when the test's window runs to the end of the run (no
#: ``capacity_test.window_years``): a year, so that a run of several years has many windows.
DEFAULT_WINDOW_MONTHS = 12
#: Cumulative counts per month edge k (referrals made before edge k; ``*_cut``: made on or
#: before edge k minus the wait target, i.e. old enough to be judged by a window ending there).
EDGE_COUNTS = ("referrals", "lost", "within", "referrals_cut", "within_cut")
#: The columns of :func:`rolling_metrics`, after the keys.
COLUMNS = ("window", "start_day", "end_day", "timeliness", "unmet_demand_rate", "utilisation",
           "backlog_trend_days_per_year", "specialist_slots_min", "sensitive_referrals",
           "judged", "within", "cohort_referrals", "cohort_lost")


def window_months(scenario: Scenario) -> int:
    """Length of each rolling window in whole months: the test's ``window_years`` (at least
    one month), or :data:`DEFAULT_WINDOW_MONTHS` when the test's window has no set length."""
    years = scenario.capacity_test.window_years
    if years is None:
        return DEFAULT_WINDOW_MONTHS
    return max(1, round(years * 12))


def target_days(scenario: Scenario) -> float:
    """The test's wait target (its own, or the service's)."""
    return scenario.capacity_test.wait_target_days or scenario.service.wait_target_days


def windows(scenario: Scenario, months: int | None = None) -> pd.DataFrame:
    """The rolling windows: ``window`` (0, 1, ...), first and last-but-one period
    (``start_period``, ``end_period`` exclusive), ``start_day``, ``end_day``. Empty when the
    run is too short for one window."""
    length = window_months(scenario) if months is None else months
    horizon = scenario.run.horizon_days
    edges = period_edges(horizon)
    first_day = max(scenario.run.warmup_days, capacity.window(scenario)[0])
    first = int(np.searchsorted(edges, first_day - 1e-9))
    n_periods = len(edges) - 1
    starts = np.arange(first, max(first, n_periods - length + 1))
    return pd.DataFrame({"window": np.arange(len(starts)), "start_period": starts,
                         "end_period": starts + length, "start_day": edges[starts],
                         "end_day": edges[starts + length]})


def cohort_edges(scenario: Scenario, rec: AreaRecords) -> Columns:
    """One task's cumulative referral-cohort counts per offence group at every month edge
    (:data:`EDGE_COUNTS`; one row per group and edge ``k``, edge 0 is day 0)."""
    edges = period_edges(scenario.run.horizon_days)
    target = target_days(scenario)
    n_g, n_e = len(rec.groups), len(edges)
    day, group = rec.referral_day, rec.group.astype(np.int64)
    lost = np.isin(rec.outcome, np.array([int(o) for o in CAPACITY_LOSSES]))
    within = (rec.allocation_day - day) <= target

    def cumulative(flags: np.ndarray | None, before: np.ndarray, side: str) -> np.ndarray:
        """(edges, groups): rows with referral_day before each point (``side``: 'left' for
        <, 'right' for <=), of each group, counting only ``flags``. Each row is counted
        from the first point it is before (``before`` is sorted): one histogram of those
        first points, summed up the edges."""
        first = np.searchsorted(before, day, side="right" if side == "left" else "left")
        if flags is not None:
            first, g = first[flags], group[flags]
        else:
            g = group
        hist = np.bincount(first * n_g + g, minlength=(n_e + 1) * n_g).reshape(n_e + 1, n_g)
        counts: np.ndarray = np.cumsum(hist[:n_e], axis=0)
        return counts

    cut = edges - target
    cols = {"referrals": cumulative(None, edges, "left"),
            "lost": cumulative(lost, edges, "left"),
            "within": cumulative(within, edges, "left"),
            "referrals_cut": cumulative(None, cut, "right"),
            "within_cut": cumulative(within, cut, "right")}
    k = np.repeat(np.arange(len(edges)), n_g)
    return {"area": np.full(len(k), rec.area), "group": np.tile(np.array(rec.groups), len(edges)),
            "edge": k, **{c: v.reshape(-1) for c, v in cols.items()}}


def _grid(df: pd.DataFrame, column: str, areas: list[str], n: int) -> np.ndarray:
    """(areas, n) array of ``column`` summed per area and period (or edge; 0 where absent)."""
    key = "edge" if "edge" in df else "period"
    code = pd.Categorical(df["area"], categories=areas).codes.astype(np.int64)
    at = df[key].to_numpy(dtype=np.int64)
    ok = (code >= 0) & (at >= 0) & (at < n)
    flat = np.bincount(code[ok] * n + at[ok], weights=df[column].to_numpy(dtype=float)[ok],
                       minlength=len(areas) * n)
    return flat.reshape(len(areas), n)


def _window_sum(x: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sums of ``x`` (areas, periods) over periods [start, end) per window: (areas, windows)."""
    c = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    sums: np.ndarray = c[:, end] - c[:, start]
    return sums


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where both are 0, inf where only den is (as capacity_metrics does)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.where((num > 0) & (den <= 0), np.inf, out)


def rolling_metrics(scenario: Scenario, amg: pd.DataFrame, am: pd.DataFrame,
                    edges: pd.DataFrame, months: int | None = None,
                    groups: Sequence[pooled_load.ServiceGroup] = (),
                    hosts: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One replication's capacity-test values (pool ``all``) per area and rolling window.

    ``amg``, ``am``: that replication's area x month (x group) tables; ``edges``: its tasks'
    :func:`cohort_edges`; ``groups``: the pooled regions, judged on their pool as
    :func:`rjsim.analysis.capacity_metrics.metrics` does; ``hosts``: shared services, whose
    hosts' utilisation counts their guests' workload, as there. Columns: ``area`` and
    :data:`COLUMNS`; ``timeliness`` and ``unmet_demand_rate`` are NaN where the window has
    nothing to judge.
    """
    w = windows(scenario, months)
    if w.empty or am.empty:
        return pd.DataFrame(columns=["area", *COLUMNS])
    areas = list(dict.fromkeys(am["area"]))
    n_p = len(period_edges(scenario.run.horizon_days)) - 1
    days = period_days(scenario.run.horizon_days)
    mid = np.cumsum(days) - days / 2
    s, e = w["start_period"].to_numpy(), w["end_period"].to_numpy()
    service_days = {g: expected_path.expected(scenario, g).service_days
                    for g in scenario.demand.groups}
    amg = amg.assign(workload=amg["referrals"] * amg["group"].map(service_days),
                     sensitive_referrals=amg["referrals"].where(amg["group"].isin(SENSITIVE),
                                                                0.0))
    sens = amg[amg["group"].isin(SENSITIVE)]
    referrals = _grid(amg, "referrals", areas, n_p)
    workload, workload_s = _grid(amg, "workload", areas, n_p), _grid(sens, "workload", areas,
                                                                      n_p)
    backlog = _grid(amg, "backlog_mean", areas, n_p)
    general = _grid(am, "general_slots", areas, n_p)
    special = _grid(am, "specialist_slots", areas, n_p)
    slot_days_s = _window_sum(special * days, s, e)
    slot_days = _window_sum(general * days, s, e) + slot_days_s
    row = {a: i for i, a in enumerate(areas)}
    served, served_s = workload.copy(), workload_s.copy()  # the workload each area's slots serve
    for guest, host in (hosts or {}).items():
        if guest in row and host in row:
            served[row[host]] += workload[row[guest]]
            served_s[row[host]] += workload_s[row[guest]]
    rho = np.maximum(_ratio(_window_sum(served_s, s, e), slot_days_s),
                     _ratio(_window_sum(served, s, e), slot_days))
    rho = np.where(slot_days > 0, rho, np.nan)  # no slot of its own: not applicable
    members = pooled_load.regions(areas, groups, overhead_days(scenario))
    if members:  # pooled areas: the region's pool (rjsim.analysis.pooled_load)
        referrals_s = _grid(sens, "referrals", areas, n_p)
        loads = pooled_load.Loads(
            sensitive_workload=_window_sum(workload_s, s, e),
            general_workload=_window_sum(workload - workload_s, s, e),
            sensitive_referrals=_window_sum(referrals_s, s, e),
            general_referrals=_window_sum(referrals - referrals_s, s, e),
            general_slot_days=_window_sum(general * days, s, e), specialist_slot_days=slot_days_s)
        rho_s, rho_g = pooled_load.pooled_utilisation(loads, members)
        rho = np.where(np.isnan(rho_s), rho, np.maximum(rho_s, rho_g))
        region_special = pooled_load.pooled_fewest(special, members)
        special = np.where(np.isnan(region_special), special, region_special)
    # least-squares slope of the monthly backlog against the month's mid-day, per year
    t = np.broadcast_to(mid, backlog.shape)
    n = (e - s).astype(float)
    st, sy = _window_sum(t, s, e), _window_sum(backlog, s, e)
    sxx = _window_sum(t * t, s, e) - st * st / n
    sxy = _window_sum(t * backlog, s, e) - st * sy / n
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), 0.0) * DAYS_PER_YEAR
    window_days = _window_sum(np.broadcast_to(days, backlog.shape), s, e)
    trend = _ratio(slope, _window_sum(referrals, s, e) / window_days)
    fewest = np.lib.stride_tricks.sliding_window_view(special, int(e[0] - s[0]), axis=1
                                                      ).min(axis=2)[:, s].astype(float)
    fewest = np.where(np.isnan(rho), np.nan, fewest)  # no slot of its own: not applicable
    cohort = {c: _grid(edges, c, areas, n_p + 1) for c in EDGE_COUNTS}
    made = cohort["referrals"][:, e] - cohort["referrals"][:, s]
    lost = cohort["lost"][:, e] - cohort["lost"][:, s]
    judged = np.maximum(cohort["referrals_cut"][:, e] - cohort["referrals"][:, s], 0.0)
    within = np.maximum(cohort["within_cut"][:, e] - cohort["within"][:, s], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        timeliness = np.where(judged > 0, within / np.where(judged > 0, judged, 1.0), np.nan)
        unmet = np.where(made > 0, lost / np.where(made > 0, made, 1.0), np.nan)
    k = len(w)
    out = pd.DataFrame({
        "area": np.repeat(areas, k), "window": np.tile(w["window"].to_numpy(), len(areas)),
        "start_day": np.tile(w["start_day"].to_numpy(), len(areas)),
        "end_day": np.tile(w["end_day"].to_numpy(), len(areas)),
        "timeliness": timeliness.reshape(-1), "unmet_demand_rate": unmet.reshape(-1),
        "utilisation": rho.reshape(-1), "backlog_trend_days_per_year": trend.reshape(-1),
        "specialist_slots_min": fewest.reshape(-1),
        "sensitive_referrals": _window_sum(_grid(sens, "referrals", areas, n_p), s, e
                                           ).reshape(-1),
        "judged": judged.reshape(-1), "within": within.reshape(-1),
        "cohort_referrals": made.reshape(-1), "cohort_lost": lost.reshape(-1)})
    return out


def months_after(scenario: Scenario, day: float | np.ndarray) -> float | np.ndarray:
    """Months (of :data:`~rjsim.model.demand.DAYS_PER_PERIOD` days) from commencement (day 0
    when the scenario commences no right) to ``day``."""
    return (day - (scenario.commence_day or 0.0)) / DAYS_PER_PERIOD
