"""What the capacity test measures in one replication: per area and caseload pool.

The test (MODEL.md section 6, :mod:`rjsim.capacity.capacity_test`) is judged over an *assessment
window*; :func:`assessed` gives the scenario as the test runs it, with the warm-up filter moved
to the window's start (and the horizon to its end), so every summary table of that run covers
the window. :func:`metrics` then gives, per area and pool, one replication's values of each
criterion:

* ``timeliness``: share of the window's referrals allocated a facilitator within the wait
  target (referrals too close to the end to be judged are left out; lost ones count as late);
* ``unmet_demand_rate``: of the window's referrals, the share lost for lack of capacity
  (withdrew while waiting, window closed, no service, unallocated at the end);
* ``utilisation``: *offered* load per caseload slot = referrals x expected slot-days per case
  (:func:`rjsim.scenario.expected.expected`) / slot-days available. It can exceed 1, unlike the
  busy share. Sensitive cases may use only specialist slots; general cases may use any slot, so the
  area is stable only if both sensitive load / specialist slots and all load / all slots are
  below 1 (the area value is the larger). An area with no caseload slot of its own in the
  window (one served by a neighbour's service, or one whose budget buys no slot) has no
  utilisation: NaN, "not applicable" (:func:`not_applicable`), never ``inf``; nor has it a
  coverage of its own (``specialist_slots_min`` and ``covered`` NaN); its capacity is judged
  by its waits, unmet demand and backlog (which, unserved, fail);
* ``backlog_trend_days_per_year``: least-squares slope of the monthly mean backlog over the
  window, in days of the pool's referrals per year (so it is comparable across areas);
* ``covered``: 1 if the area has specialist slots in every month of the window or no sensitive
  referrals, else 0.

An area that pools its specialists with its region (``[pooling] regions``) is judged on the
region's pool: its specialist utilisation and coverage are the pool's, its general utilisation
counts the pool's spare slots (:mod:`rjsim.analysis.pooled_load`; a shared service in the
region, a host and the small areas it serves, counts as one unit). Its timeliness, unmet demand
and backlog trend stay its own. An area that only shares a service is judged alone.

The window is the test's own, whatever the run's warm-up: every run (and so every funding
comparison) carries these metrics, and the cohort counts behind ``timeliness`` are taken over
the window by each task (:func:`window_counts`). A run that ends before the window opens has
no metrics (an empty table).

Pools (the ``pool`` column): ``all`` (the area, what the test judges), ``sensitive`` (sexual
offences, domestic abuse, hate crime: the demand of :attr:`~rjsim.core.codes.Pool.SPECIALIST`
slots) and ``general`` (other groups, :attr:`~rjsim.core.codes.Pool.GENERAL`; their stability is
that of all slots). The planner uses the pools to know which kind of facilitator an area lacks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from rjsim.analysis import pooled_load
from rjsim.analysis.columns import Columns, head
from rjsim.analysis.summary import cohort_counts
from rjsim.analysis.tables import period_edges, window_start
from rjsim.core.codes import ALL_POOLS, CAPACITY_LOSSES, Pool
from rjsim.core.errors import Problem, ScenarioError
from rjsim.model.area import AreaRecords
from rjsim.model.region import overhead_days
from rjsim.model.staffing import period_days
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import DAYS_PER_YEAR, SENSITIVE, Scenario

#: The values of the ``pool`` column: all demand, then each Pool's by the demand it serves.
GENERAL, SENSITIVE_DEMAND = Pool.GENERAL.demand, Pool.SPECIALIST.demand
POOLS = (ALL_POOLS, GENERAL, SENSITIVE_DEMAND)
METRICS = ("timeliness", "unmet_demand_rate", "utilisation", "backlog_trend_days_per_year",
           "specialist_slots_min", "sensitive_referrals", "covered")


def window(scenario: Scenario) -> tuple[float, float]:
    """(first day, end day) of the assessment window the test asks for (before snapping the
    start to a month boundary, as every summary does)."""
    settings = scenario.capacity_test
    start = settings.settle_days
    if scenario.commence_day is not None:  # full demand once awareness has ramped up
        start += scenario.commence_day + scenario.statutory_right.ramp_days
    end = scenario.run.horizon_days
    if settings.window_years is not None:  # never beyond the run
        end = min(end, start + settings.window_years * DAYS_PER_YEAR)
    return start, end


def window_problem(scenario: Scenario) -> str | None:
    """Why the scenario's run cannot hold the assessment window, or None."""
    start, end = window(scenario)
    years = scenario.capacity_test.window_years
    if years is not None and start + years * DAYS_PER_YEAR > scenario.run.horizon_days + 1e-6:
        return (f"capacity_test.window_years = {years:g} runs past the end of the run (the "
                f"window opens on day {start:g}; the run ends on day "
                f"{scenario.run.horizon_days:g}); lengthen run.years or shorten window_years")
    target = scenario.capacity_test.wait_target_days or scenario.service.wait_target_days
    if end - start < DAYS_PER_YEAR / 12 + target:
        return (f"the assessment window runs from day {start:g} (commencement + "
                f"statutory_right.ramp_days + capacity_test.settle_days) to day {end:g} (the "
                f"end of the run or of window_years): it must be longer than a month plus the "
                f"wait target ({target:g} days) so that referrals can be judged; lengthen "
                "run.years or shorten capacity_test.settle_days or the ramp")
    return None


def assessed(scenario: Scenario) -> Scenario:
    """The scenario as the capacity test runs it: summaries cover the assessment window
    (warm-up = window start, horizon = window end). The model itself is unchanged (the test's
    own wait target is applied only when judging timeliness: :func:`window_counts`)."""
    problem = window_problem(scenario)
    if problem is not None:
        raise ScenarioError([Problem("capacity_test", problem)], "the capacity test cannot run")
    start, end = window(scenario)
    run = dataclasses.replace(scenario.run, years=end / DAYS_PER_YEAR,
                              warmup_days=max(scenario.run.warmup_days, start))
    return dataclasses.replace(scenario, run=run)


def window_counts(scenario: Scenario, rec: AreaRecords) -> Columns:
    """Cohort counts (judged, within the target) of one task over the assessment window."""
    if window_problem(scenario) is not None:
        return head(cohort_counts(scenario, rec), 0)
    test = assessed(scenario)
    target = scenario.capacity_test.wait_target_days or scenario.service.wait_target_days
    counts = cohort_counts(dataclasses.replace(test, service=dataclasses.replace(
        test.service, wait_target_days=target)), rec)
    # the window's referrals and how many of them were lost for lack of capacity
    made = (rec.referral_day >= window_start(test)) & (rec.referral_day < test.run.horizon_days)
    lost = made & np.isin(rec.outcome, np.array([int(o) for o in CAPACITY_LOSSES]))
    n = len(rec.groups)
    counts["cohort_referrals"] = np.bincount(rec.group[made], minlength=n)
    counts["cohort_lost"] = np.bincount(rec.group[lost], minlength=n)
    return counts


def _in_window(scenario: Scenario, period: pd.Series) -> pd.Series:
    """Whether each period lies in the assessment window (snapped to whole months)."""
    test = assessed(scenario)
    edges = period_edges(scenario.run.horizon_days)
    first = window_start(test)
    last = min(test.run.horizon_days, scenario.run.horizon_days)
    p = period.to_numpy()
    return pd.Series((edges[p] >= first) & (edges[p + 1] <= last + 1e-9), index=period.index)


def _pool(groups: pd.Series) -> pd.Series:
    """The pool serving each row, from its ``sensitive`` flag."""
    return groups.map(lambda g: Pool.serving(sensitive=bool(g)).demand)


def _slope_per_year(monthly: pd.DataFrame, keys: list[str], mid_day: pd.Series) -> pd.Series:
    """Least-squares slope of ``backlog_mean`` against the period's mid-day, per year."""
    df = monthly.assign(t=mid_day.reindex(monthly["period"]).to_numpy())
    g = df.groupby(keys)
    dt = df["t"] - g["t"].transform("mean")
    dy = df["backlog_mean"] - g["backlog_mean"].transform("mean")
    sxy = (dt * dy).groupby([df[k] for k in keys]).sum()
    sxx = (dt * dt).groupby([df[k] for k in keys]).sum()
    return (sxy / sxx.where(sxx > 0)).fillna(0.0) * DAYS_PER_YEAR


def _by_pool(post: pd.DataFrame, counts: pd.DataFrame, service_days: dict[str, float],
             mid_day: pd.Series) -> pd.DataFrame:
    """Flows, workload, cohort counts and backlog trend per area and pool (incl. 'all')."""
    post = post.assign(pool=_pool(post["sensitive"]),
                       workload=post["referrals"] * post["group"].map(service_days))
    counts = counts.assign(pool=_pool(counts["group"].isin(SENSITIVE)))
    both = pd.concat([post, post.assign(pool=ALL_POOLS)])
    flows = both.groupby(["area", "pool"])[["referrals", "unmet_demand", "workload"]].sum()
    cohort = pd.concat([counts, counts.assign(pool=ALL_POOLS)]).groupby(
        ["area", "pool"])[["judged", "within", "cohort_referrals", "cohort_lost"]].sum()
    monthly = both.groupby(["area", "pool", "period"])["backlog_mean"].sum().reset_index()
    flows["backlog_trend_per_year"] = _slope_per_year(monthly, ["area", "pool"], mid_day)
    return flows.join(cohort, how="left").fillna(
        {"judged": 0, "within": 0, "cohort_referrals": 0, "cohort_lost": 0})


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den with 0 where there is nothing to divide and inf where den alone is 0."""
    out = num / den.where(den > 0)
    out[(num > 0) & (den <= 0)] = np.inf
    return out.fillna(0.0)


def metrics(scenario: Scenario, amg: pd.DataFrame, am: pd.DataFrame,
            counts: pd.DataFrame, groups: Sequence[pooled_load.ServiceGroup] = (),
            hosts: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One replication's capacity-test values per area and pool (see the module docstring).

    ``amg``, ``am``: that replication's area x month (x group) tables; ``counts``: its cohort
    counts over the window (:func:`window_counts`); ``groups``: the pooled regions, whose
    areas' utilisation and coverage are the region's pool's (:mod:`rjsim.analysis.pooled_load`);
    ``hosts``: guest area code -> the area whose service serves it (``funding.shared_services``):
    a host's utilisation counts its guests' workload (those in these tables) on its slots.
    """
    if window_problem(scenario) is not None:
        return pd.DataFrame(columns=["area", "pool", *METRICS])
    days = pd.Series(period_days(scenario.run.horizon_days))
    mid_day = days.cumsum() - days / 2
    service_days = {g: expected_path.expected(scenario, g).service_days
                    for g in scenario.demand.groups}
    df = _by_pool(amg[_in_window(scenario, amg["period"])], counts, service_days, mid_day)
    post = am[_in_window(scenario, am["period"])]
    d = days.reindex(post["period"]).to_numpy()
    slot_days = pd.DataFrame({"area": post["area"], GENERAL: post["general_slots"] * d,
                              SENSITIVE_DEMAND: post["specialist_slots"] * d}
                             ).groupby("area").sum()
    fewest = post.groupby("area")["specialist_slots"].min()
    wide = df.unstack("pool").fillna(0.0)

    def of(column: str, pool: str) -> pd.Series:  # a pool with no demand has no rows
        key = (column, pool)
        return wide[key] if key in wide else pd.Series(0.0, index=wide.index)
    def served(pool: str) -> pd.Series:  # the workload each area's slots serve
        return with_guests(of("workload", pool), hosts)
    rho_sensitive = _ratio(served(SENSITIVE_DEMAND), slot_days[SENSITIVE_DEMAND])
    rho_all = _ratio(served(ALL_POOLS), slot_days[GENERAL] + slot_days[SENSITIVE_DEMAND])
    rho_general = rho_all
    no_slots = (slot_days[GENERAL] + slot_days[SENSITIVE_DEMAND]) <= 0
    rho_sensitive, rho_all = rho_sensitive.mask(no_slots), rho_all.mask(no_slots)
    rho_general = rho_all
    fewest = fewest.astype(float).mask(no_slots.reindex(fewest.index, fill_value=False))
    sensitive_referrals = of("referrals", SENSITIVE_DEMAND)
    if groups:
        rho_sensitive, rho_general, fewest = _pooled(scenario, groups, of, slot_days, post,
                                                     (rho_sensitive, rho_all, fewest))
    window_days = float(d.sum() / max(post["area"].nunique(), 1))
    out = df.reset_index()
    area = out["area"]
    # no referral judgeable (none made, or none old enough): no evidence either way (NaN)
    out["timeliness"] = out["within"] / out["judged"].where(out["judged"] > 0)
    # by cohort: of the window's referrals, the share lost for lack of capacity (never > 1,
    # unlike losses in the window / referrals in the window, which count earlier referrals)
    out["unmet_demand_rate"] = out["cohort_lost"] / out["cohort_referrals"].where(
        out["cohort_referrals"] > 0)
    out["utilisation"] = np.select(
        [out["pool"] == SENSITIVE_DEMAND, out["pool"] == GENERAL],
        [rho_sensitive.reindex(area).to_numpy(), rho_general.reindex(area).to_numpy()],
        np.maximum(rho_sensitive.reindex(area).to_numpy(),
                   rho_general.reindex(area).to_numpy()))
    per_day = out["referrals"] / window_days
    out["backlog_trend_days_per_year"] = _ratio(out["backlog_trend_per_year"], per_day)
    out["specialist_slots_min"] = fewest.reindex(area).to_numpy()
    out["sensitive_referrals"] = sensitive_referrals.reindex(area).to_numpy()
    covered = (out["sensitive_referrals"] == 0) | (out["specialist_slots_min"] >= 1)
    out["covered"] = np.where(out["pool"] == GENERAL, 1.0, np.where(
        out["specialist_slots_min"].isna(), np.nan, covered.astype(float)))
    return out


def _pooled(scenario: Scenario, groups: Sequence[pooled_load.ServiceGroup],
            of: Callable[[str, str], pd.Series], slot_days: pd.DataFrame, post: pd.DataFrame,
            own: tuple[pd.Series, pd.Series, pd.Series]
            ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Specialist and general utilisation and the fewest specialist slots per area: the
    region's pool's for pooled areas (:mod:`rjsim.analysis.pooled_load`), ``own`` (each area's
    own) for the others."""
    areas = list(slot_days.index)

    def col(values: pd.Series) -> np.ndarray:
        return values.reindex(areas).fillna(0.0).to_numpy(dtype=float)[:, None]
    loads = pooled_load.Loads(
        sensitive_workload=col(of("workload", SENSITIVE_DEMAND)),
        general_workload=col(of("workload", GENERAL)),
        sensitive_referrals=col(of("referrals", SENSITIVE_DEMAND)),
        general_referrals=col(of("referrals", GENERAL)),
        general_slot_days=col(slot_days[GENERAL]),
        specialist_slot_days=col(slot_days[SENSITIVE_DEMAND]))
    members = pooled_load.regions(areas, groups, overhead_days(scenario))
    rho_s, rho_g = pooled_load.pooled_utilisation(loads, members)
    monthly = post.pivot_table(index="area", columns="period", values="specialist_slots",
                               aggfunc="sum").reindex(areas).fillna(0.0).to_numpy(dtype=float)
    fewest = pooled_load.pooled_fewest(monthly, members).min(axis=1)

    def merged(new: np.ndarray, mine: pd.Series) -> pd.Series:
        return pd.Series(np.where(np.isnan(new), mine.reindex(areas).to_numpy(dtype=float),
                                  new), index=areas)
    return merged(rho_s[:, 0], own[0]), merged(rho_g[:, 0], own[1]), merged(fewest, own[2])


#: Metrics that are NaN only for an area with no caseload slot of its own ("not applicable",
#: not "no evidence").
NOT_APPLICABLE_METRICS = ("utilisation", "specialist_slots_min")


def not_applicable(metric: str, values: np.ndarray) -> bool:
    """Whether a criterion's per-replication ``values`` say "not applicable" rather than "no
    evidence": utilisation and the fewest specialist slots are NaN only for an area with no
    caseload slot of its own."""
    x = np.asarray(values, dtype=float)
    return metric in NOT_APPLICABLE_METRICS and len(x) > 0 and bool(np.isnan(x).all())


def with_guests(values: pd.Series, hosts: Mapping[str, str] | None) -> pd.Series:
    """Per-area ``values`` (workloads, indexed by area code) with each guest's added to its
    host's, where both are present (the guest keeps its own: it has no slot to load)."""
    out = values.astype(float)
    for guest, host in (hosts or {}).items():
        if guest in out.index and host in out.index:
            out[host] += values[guest]
    return out
