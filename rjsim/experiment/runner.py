"""Run a scenario: the unit of work, its compact digest, and one replication's tables.

The unit of work is :func:`run_task` (scenario, replication, area). It simulates the area and
returns an :class:`AreaDigest`: that area's monthly tables, its allocated cases' waits and its
cohort counts, small and picklable, so tasks can run in other processes or on a cluster, be
cached on disk, and be reduced per replication in a fixed order. Tasks share nothing and name
their own random streams, so where and in which order they run cannot change the results.

The runner knows the model only through :class:`AreaModel`: "simulate one area for one
replication and return its flat records". rjsim's own model,
:func:`rjsim.model.area.simulate_area`, is the default; another model plugs in through
``task_plan(scenario, model=...)`` (or ``ExperimentSettings.model``) and everything downstream
(tables, summaries, the capacity test, reports) works on its records unchanged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Protocol

import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import pooled_load, rolling, summary, tables
from rjsim.analysis.columns import Columns, head, joined
from rjsim.core.errors import Problem, RjsimError, ScenarioError
from rjsim.core.schema import did_you_mean
from rjsim.data import areas as areadata
from rjsim.data.areas import Area, AreaTable
from rjsim.funding import budgets as funding
from rjsim.funding import shared
from rjsim.model.area import AreaRecords, simulate_area
from rjsim.model.region import RegionArea, simulate_region
from rjsim.model.staffing import Staffing
from rjsim.model.workforce import Workforce
from rjsim.scenario.spec import Scenario

log = logging.getLogger(__name__)


class AreaModel(Protocol):
    """A model the runner can drive: one area, one replication, to its flat records.

    Given the validated scenario, the area, its day-0 staffing, the replication number and its
    staffing per period (``wf``; ``None``: the day-0 staffing throughout), return an
    :class:`~rjsim.model.area.AreaRecords` (one row per referral: when it was referred and
    allocated, its outcome and mode, the facilitator pool that served it, its stage times and
    hours). The call must be deterministic in (scenario seed, replication, area) whatever
    process runs it, draw only from streams named by :class:`~rjsim.core.streams.Streams`, and
    be picklable (a module-level function) so that process and Dask executors can ship it.
    """

    def __call__(self, scenario: Scenario, area: Area, staffing: Staffing, replication: int,
                 wf: Workforce | None = None) -> AreaRecords: ...


@dataclass(frozen=True)
class TaskPlan:
    """The task plan: what a scenario resolves to before any randomness (areas, their data
    and staffing, and the model that simulates them), shared by every task. Not the staffing
    plan of ``rjsim plan`` (:mod:`rjsim.planning.planner`)."""

    scenario: Scenario
    table: AreaTable
    areas: tuple[Area, ...]
    staffing: dict[str, Staffing]  # day-0 establishment
    workforce: dict[str, Workforce]  # staffing per period
    model: AreaModel = simulate_area
    # area code -> the codes of the areas simulated with it in one model: its pooled region's
    # selected areas (scenario.pooling), and the areas sharing a service with any of them
    # (funding.shared_services), selected or not
    pooled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # guest area code -> the code of the area whose service serves it (funding.shared_services)
    hosts: dict[str, str] = field(default_factory=dict)
    # names this plan's pooled regions in a process's memo (never part of any result)
    token: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    def area(self, code: str) -> Area:
        """The selected area with this code (or, for a service shared with a selected area,
        the data file's)."""
        return next(a for a in (*self.areas, *self.table.areas) if a.code == code)

    @property
    def pooled_regions(self) -> dict[str, tuple[str, ...]]:
        """Area code -> the selected areas of its pooled region (``pooled`` less the areas
        that only share a service): whose utilisation and coverage are the region's pool's."""
        selected = {a.code for a in self.areas}
        return {c: tuple(m for m in g if m in selected) for c, g in self.pooled.items()
                if self.region_pooled(c)}

    def service_groups(self) -> tuple[pooled_load.ServiceGroup, ...]:
        """The pooled regions, by service (an area, or a host and the small areas it serves),
        as the capacity test judges them; areas that only share a service are judged alone."""
        return pooled_load.service_groups(self.pooled_regions, self.hosts, self.region_pooled)

    def region_pooled(self, code: str) -> bool:
        """Whether the area pools its specialists with its region (not only a shared
        service)."""
        return self.area(code).region in self.scenario.pooling.regions


@dataclass(frozen=True)
class AreaDigest:
    """What one task (area, replication) leaves behind: compact and picklable."""

    area: str
    replication: int
    n_referrals: int
    # this area's rows of each table, as NumPy columns (tables are made per replication)
    amg: Columns  # area_month_group rows of this area
    am: Columns  # area_month rows of this area
    cases: Columns  # one row per allocated case (waits)
    counts: Columns  # cohort counts per offence group (within-target share)
    window_counts: Columns  # the same over the capacity test's assessment window
    cohort_edges: Columns  # cumulative cohort counts at month edges (rolling windows)
    records: pd.DataFrame | None = None  # one row per referral, only when asked for

    def without_cases(self) -> AreaDigest:
        """This digest without its allocated cases (what crosses between processes when a
        task is judged only on its monthly tables and cohort counts)."""
        return replace(self, cases=head(self.cases, 0))


@dataclass(frozen=True)
class RunResult:
    """One replication's tables (and raw records when asked for)."""

    plan: TaskPlan
    replication: int
    n_referrals: int
    tables: dict[str, pd.DataFrame]
    records: list[AreaRecords] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario


def task_plan(scenario: Scenario, *, model: AreaModel = simulate_area) -> TaskPlan:
    """Load the scenario's area data, select its areas and staff them (every problem with
    area names and codes reported together); ``model`` will simulate each area."""
    table = areadata.load(scenario.areas.data or None)
    problems: list[Problem] = []
    try:
        areas = table.select(scenario.areas.include, "areas.include")
    except ScenarioError as exc:
        problems += exc.problems
    problems += table.group_problems(scenario.demand.groups)
    problems += table.phase_problems(scenario.statutory_right.phase)
    if not problems:
        problems += _unreached_phases(scenario, areas)
    problems += funding.unknown_area_problems_all(scenario, table)
    problems += _pooling_problems(scenario, table, model)
    hosts, shared_problems = shared.resolve(scenario, table)
    problems += shared_problems
    if not problems:
        problems += _shared_problems(table, hosts, areas, model)
    if problems:
        raise ScenarioError(problems, f"invalid scenario '{scenario.name}'")
    return TaskPlan(scenario, table, areas, funding.staffing(scenario, table),
                    funding.workforces(scenario, table), model,
                    _pooled_regions(scenario, table, areas, hosts), hosts)


def _unreached_phases(scenario: Scenario, areas: tuple[Area, ...]) -> list[Problem]:
    """A right in phases none of which reaches an area and offence group the scenario
    simulates would never commence, silently: refused. (A phase that reaches none while
    others do is fine: e.g. a national phased scenario run on a few areas.)"""
    phases = scenario.statutory_right.phase
    if not phases or any(scenario.right_commences(g, a.code, a.name) is not None
                         for a in areas for g in scenario.demand.groups):
        return []
    named = "; ".join(f"phase {i} ({p.label or 'no label'}): groups "
                      f"{', '.join(p.groups) or 'all'}, areas {', '.join(p.areas) or 'all'}"
                      for i, p in enumerate(phases))
    return [Problem("statutory_right.phase", "no phase reaches an area and offence group this "
                    f"scenario simulates ({named}; areas.include: "
                    f"{', '.join(scenario.areas.include) or 'all'}; demand.groups: "
                    f"{', '.join(scenario.demand.groups)}), so the right would never commence; "
                    "name a simulated area or group, or leave the phases out")]


def _pooling_problems(scenario: Scenario, table: AreaTable, model: AreaModel) -> list[Problem]:
    """Pooled regions the area data does not have, named twice, or with another model."""
    named, known = scenario.pooling.regions, sorted({a.region for a in table.areas} - {""})
    where = "pooling.regions"
    out = [Problem(where, f"unknown region '{r}'{did_you_mean(r, known)}; regions in "
                   f"{table.source}: {', '.join(known) or 'none (no region column)'}")
           for r in dict.fromkeys(named) if r not in known]
    if len(set(named)) != len(named):
        out.append(Problem(where, "names a region twice", repr(list(named))))
    if named and model is not simulate_area:
        out.append(Problem(where, "pooled regions are simulated by rjsim's own model only; "
                           "remove the pooling or the other model"))
    return out


def _shared_problems(table: AreaTable, hosts: dict[str, str], areas: tuple[Area, ...],
                     model: AreaModel) -> list[Problem]:
    """Shared services the data cannot simulate: a selected area's partner missing from the
    data file, or another model than rjsim's own."""
    in_file, names = {a.code for a in table.areas}, areadata.known_codes()
    selected = {a.code for a in areas}
    out = []
    for guest, host in hosts.items():
        if not {guest, host} & selected:
            continue
        if model is not simulate_area:
            out.append(Problem(shared.WHERE, "shared services are simulated by rjsim's own "
                               "model only; set funding.shared_services = {} or remove the "
                               "other model"))
            break
        missing = [c for c in (guest, host) if c not in in_file]
        if missing:
            out.append(Problem(shared.WHERE, f"{names.get(guest, guest)} is served by "
                               f"{names.get(host, host)}, but {table.source} has no row for "
                               f"{names.get(missing[0], missing[0])}; add it, or set "
                               "funding.shared_services = {} to give each area its own service"))
    return out


def _pooled_regions(scenario: Scenario, table: AreaTable, areas: tuple[Area, ...],
                    hosts: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Area code -> the codes simulated with it (selected ones in selection order, then the
    others in file order): its pooled region's selected areas, and every area sharing a
    service with one of them, selected or not."""
    pooled = set(scenario.pooling.regions)
    served = {a.code: hosts.get(a.code, a.code) for a in table.areas}  # area -> its service
    service: dict[str, set[str]] = {}
    for code, root in served.items():
        service.setdefault(root, set()).add(code)
    groups: dict[str, set[str]] = {}
    for a in areas:
        members = set(service[served[a.code]])
        if a.region in pooled:
            members.update(*(service[served[b.code]] for b in areas if b.region == a.region))
        if len(members) > 1 or a.region in pooled:
            groups[a.code] = members
    order = {c: i for i, c in enumerate(dict.fromkeys([a.code for a in areas]
                                                      + [a.code for a in table.areas]))}
    return {c: tuple(sorted(g, key=order.__getitem__)) for c, g in groups.items()}


def digest(scenario: Scenario, rec: AreaRecords, *, with_records: bool = False) -> AreaDigest:
    """Reduce one area's records to its digest (keeping every referral if asked)."""
    amg, am, cases = tables.area_tables(scenario, rec)
    return AreaDigest(rec.area, rec.replication, rec.n_referrals, amg, am, cases,
                      summary.cohort_counts(scenario, rec), capacity.window_counts(scenario, rec),
                      rolling.cohort_edges(scenario, rec),
                      tables.cases_frame(rec) if with_records else None)


@dataclass(frozen=True)
class Staffed:
    """Staffing that replaces the plan's for one task (the planner's candidates)."""

    staffing: Staffing
    workforce: Workforce


def simulate_task(p: TaskPlan, replication: int, area: Area, staffed: Staffed | None = None
                  ) -> AreaRecords:
    """Simulate one area for one replication with the plan's model (raw records), at the
    plan's staffing or at ``staffed``. An area sharing a service (not a pooled region) at
    ``staffed`` runs on its own (the planner simulates a shared service's areas together, as
    an experiment at their candidate FTE)."""
    if area.code in p.pooled and (staffed is None or p.region_pooled(area.code)):
        if staffed is not None:
            raise RjsimError(f"area {area.code} pools its specialists with its region: it "
                             "cannot be simulated at its own staffing alone (plan without "
                             "[pooling])")
        return _pooled_records(p, replication, area.code)
    if staffed is None:
        staffed = Staffed(p.staffing[area.code], p.workforce[area.code])
    return p.model(p.scenario, area, staffed.staffing, replication, staffed.workforce)


#: Regions simulated in this process, kept until each area's task has taken its records (at
#: most this many: a region whose other areas ran in another process is dropped in time).
_REGION_MEMO_SIZE = 16
_region_memo: OrderedDict[tuple[str, int, tuple[str, ...]], dict[str, AreaRecords]] = (
    OrderedDict())


def _pooled_records(p: TaskPlan, replication: int, code: str) -> AreaRecords:
    """An area's records from its pooled region's (or shared service's) model. The region
    runs once for all its selected areas' tasks in this process (the records of areas that
    only share a service with them are dropped); a task that finds its records gone (taken,
    or dropped) simulates the region again, which is deterministic, so the results never
    depend on it."""
    region = p.pooled[code]
    key = (p.token, replication, region)
    held = _region_memo.get(key)
    if held is None or code not in held:
        units = {c: i for i, c in enumerate(dict.fromkeys(p.hosts.get(c, c) for c in region))}
        members = [RegionArea(p.area(c), p.staffing[c], p.workforce[c],
                              units[p.hosts.get(c, c)]) for c in region]
        selected = {a.code for a in p.areas}
        held = {c: r for c, r in simulate_region(p.scenario, members, replication,
                                                 pooled=p.region_pooled(code)).items()
                if c in selected}
        _region_memo[key] = held
        while len(_region_memo) > _REGION_MEMO_SIZE:
            _region_memo.popitem(last=False)
    records = held.pop(code)
    if not held:
        del _region_memo[key]
    return records


def run_task(p: TaskPlan, replication: int, area_code: str, *, with_records: bool = False,
             staffed: Staffed | None = None) -> AreaDigest:
    """The unit of parallel work: one area, one replication, reduced to its digest."""
    return digest(p.scenario, simulate_task(p, replication, p.area(area_code), staffed),
                  with_records=with_records)


def replication_tables(p: TaskPlan, digests: list[AreaDigest]) -> dict[str, pd.DataFrame]:
    """Every output table of one replication from its areas' digests (in plan order)."""
    s = p.scenario
    order = {a.code: i for i, a in enumerate(p.areas)}
    digests = sorted(digests, key=lambda d: order[d.area])
    amg = joined([d.amg for d in digests])
    am = joined([d.am for d in digests])
    cases = joined([d.cases for d in digests])
    counts = joined([d.counts for d in digests])
    in_window = joined([d.window_counts for d in digests])
    edges = joined([d.cohort_edges for d in digests])
    return {
        "area_month_group": amg,
        "area_month": am,
        "national_month": tables.national_month(s, am, cases),
        "area_summary": summary.area_summary(s, am, cases, counts, p.areas),
        "group_summary": summary.group_summary(s, amg, cases, counts),
        "national_summary": summary.national_summary(s, am, cases, counts),
        "capacity_metrics": capacity.metrics(s, amg, am, in_window, p.service_groups(),
                                             p.hosts),
        "rolling_metrics": rolling.rolling_metrics(s, amg, am, edges, groups=p.service_groups(),
                                                   hosts=p.hosts),
    }


def run(scenario: Scenario, replication: int = 0, *, keep_records: bool = False) -> RunResult:
    """Simulate every selected area for ``replication`` in this process and tabulate.

    Each area is reduced to its digest as soon as it is simulated, so memory does not grow
    with the number of areas times the horizon (unless ``keep_records``)."""
    t0 = time.perf_counter()
    p = task_plan(scenario)
    t1 = time.perf_counter()
    records: list[AreaRecords] = []
    digests: list[AreaDigest] = []
    simulate_s = digest_s = 0.0
    n = 0
    for a in p.areas:
        s0 = time.perf_counter()
        rec = simulate_task(p, replication, a)
        s1 = time.perf_counter()
        digests.append(digest(scenario, rec))
        digest_s += time.perf_counter() - s1
        simulate_s += s1 - s0
        n += rec.n_referrals
        if keep_records:
            records.append(rec)
        del rec
    t2 = time.perf_counter()
    built = replication_tables(p, digests)
    t3 = time.perf_counter()
    log.info("simulated %d referrals in %d areas in %.2f s", n, len(digests), simulate_s)
    return RunResult(p, replication, n, built, records if keep_records else None,
                     {"plan_s": t1 - t0, "simulate_s": simulate_s,
                      "tables_s": digest_s + t3 - t2})
