"""The price of commencement: the least FTE per area that passes the capacity test.

For every area the planner searches the number of caseload slots of each kind (specialist
slots for sensitive cases, general slots for the rest; FTE = slots / caseload per FTE, rounded
up to the next 0.1 FTE):

1. **Seed from queueing theory.** Each pool is treated as an M/M/c queue (Erlang C) at the
   expected referral rate under the right: the fewest slots with offered load below the
   utilisation limit and P(wait > target) <= 1 - the timeliness share, and, when patience and
   the case window are exponential, Erlang A abandonment within the unmet-demand limit.
   General cases may also use spare specialist slots, so general slots are seeded from all
   demand on all slots, less the specialist slots.
2. **Confirm by simulation with common random numbers.** Every area still searching is
   simulated at its candidate staffing (FTE set directly, in post from day 0; same seed and
   replications in every round, so only the staffing changes). Each pool is judged on its own
   cases by the test's criteria (inconclusive counts as not passing), and its slots are
   bracketed from the seed: moved up after a fail (or down after a pass) by a step of 1% of
   the seed (at least one slot) that doubles at each move in the same direction, until one
   candidate fails and another passes; then bisected until the least passing number is next
   to the greatest failing one (a pool that passes at zero slots is done).
3. **Check the whole plan on fresh replications.** The full test (every criterion, all cases,
   specialist coverage) is run on the plan with a seed the search never used and three times
   the replications, so the verdict is not on the random numbers the plan was tuned to; an
   area that does not pass gets about 1% more slots in the pool that fell short and is
   checked again, each time on another fresh seed. The plan is therefore the least FTE that
   passes on the search's replications, plus what independent replications showed was
   needed.

**Pooled regions** (``[pooling] regions``): the specialist slots of a region are one pool and
one bracket (seeded by Erlang C on the region's sensitive referrals with the pooled overhead;
passing only when every area of the region passes on its sensitive cases), shared by the
region's areas in proportion to their expected sensitive referrals
(:func:`~rjsim.planning.brackets.shares`); general
slots are searched per area. A region's areas are always simulated together (one experiment
per round on the same seed and replications), and judged by the pooled criteria
(:mod:`rjsim.analysis.pooled_load`).

**Shared services** (``funding.shared_services``, both areas planned) are kept: the host's
brackets are seeded with its guests' referrals and pass only when the host and its guests
pass (a guest, with no slot of its own, on its waits and unmet demand); a guest has no slot
of its own, and the areas of a service are always simulated together. A service with only
one of its areas selected is dropped (:func:`~rjsim.planning.plan_tables.planned_services`).

All areas are searched together, one round of simulation at a time, so a national plan
takes a few dozen rounds, not a search per area. The task plan (areas, data, scenario) is built
once and one pool of worker processes serves every round; each round simulates only the areas
still searching, each task at its own candidate staffing, and is judged on the capacity
metrics alone (no other table is built).

This module runs the rounds and the check; the brackets, seeds and search state live in
:mod:`rjsim.planning.brackets`, the plan's tables and scenario in
:mod:`rjsim.planning.plan_tables` (their names are importable from here too).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis.columns import joined
from rjsim.capacity import capacity_test
from rjsim.core.codes import ALL_POOLS, Pool, Verdict
from rjsim.core.schema import FrozenMap
from rjsim.data.areas import Area
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorSettings, TaskPool
from rjsim.experiment.experiment import (
    Experiment,
    ExperimentFailed,
    ExperimentSettings,
    run_experiment,
)
from rjsim.funding import budgets as funding
from rjsim.planning import plan_tables
from rjsim.planning.brackets import (
    MAX_SLOTS,
    POOLS,
    Bracket,
    Search,
    fte_for_slots,
    new_search,
    region_seed,
    seeds,
    shares,
)
from rjsim.planning.plan_tables import funding_scenario
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.spec import Scenario

#: Names kept here for importers (they live in :mod:`rjsim.planning.brackets` and
#: :mod:`rjsim.planning.plan_tables`).
__all__ = ["MAX_SLOTS", "POOLS", "Bracket", "PlanResult", "Rounds", "Search", "candidate",
           "check_seed", "fte_for_slots", "funding_scenario", "plan", "pool_passes",
           "region_passes", "region_seed", "seeds", "shares"]

log = logging.getLogger(__name__)

def candidate(scenario: Scenario, fte: dict[str, AreaFte], codes: list[str]) -> Scenario:
    """``scenario`` with FTE set directly for ``codes`` (constant from day 0), only those
    areas simulated. Shared services (``funding.shared_services``) are kept: a guest's FTE
    (zero in a plan) join its host's, and the two are simulated together."""
    f = dataclasses.replace(scenario.funding, capacity_from="fte", area_fte=FrozenMap(fte),
                            schedule=(), area_budget_gbp=FrozenMap())
    return dataclasses.replace(scenario, funding=f, areas=dataclasses.replace(
        scenario.areas, include=tuple(codes)))


def pool_passes(scenario: Scenario, metrics: pd.DataFrame, area: Area, *,
                sensitive_short: bool = False) -> dict[Pool, bool]:
    """Whether each pool of ``area`` demonstrably passes the test's criteria (coverage is
    checked for the whole area later).

    The sensitive pool is judged on sensitive cases. General cases may use spare specialist
    slots, so the general pool must also pass the criteria on all the area's cases, unless
    the sensitive pool (or, with ``sensitive_short``, a region's pool) is what falls short.
    """
    def passes(pool: str) -> bool:
        own = metrics[(metrics["area"] == area.code) & (metrics["pool"] == pool)]
        if own.empty:  # no demand in this pool
            return True
        rows = capacity_test.criteria_table(scenario, own, (area,), pool=pool)
        rows = rows[rows["criterion"] != "coverage"]
        return bool(rows["verdict"].map(lambda v: Verdict(v).met).all())
    sensitive = passes(Pool.SPECIALIST.demand)
    short = sensitive_short or not sensitive
    return {Pool.SPECIALIST: sensitive,
            Pool.GENERAL: passes(Pool.GENERAL.demand) and (passes(ALL_POOLS) or short)}


def region_passes(scenario: Scenario, metrics: pd.DataFrame, areas: dict[str, Area],
                  codes: list[str], pooled: dict[str, tuple[str, ...]],
                  hosts: Mapping[str, str] | None = None) -> dict[str, dict[Pool, bool]]:
    """:func:`pool_passes` for each area of ``codes``; a pooled region's specialists pass only
    if every area of the region passes on its sensitive cases (they are one pool), and its
    areas' general slots are judged with that verdict. A host's pools (``hosts``: guest ->
    host, ``funding.shared_services``) pass only if its guests' pass too: its slots serve
    them."""
    own = {c: pool_passes(scenario, metrics, areas[c]) for c in codes}
    for guest, host in (hosts or {}).items():
        if guest in own and host in own:
            own[host] = {p: own[host][p] and own[guest][p] for p in own[host]}
    out = {}
    for code in codes:
        passed = dict(own[code])
        if code in pooled:
            region = [c for c in pooled[code] if c in own]
            sensitive = all(own[c][Pool.SPECIALIST] for c in region)
            passed[Pool.SPECIALIST] = sensitive
            if not sensitive:  # the pool falls short: general slots are not to blame
                passed[Pool.GENERAL] = pool_passes(scenario, metrics, areas[code],
                                                   sensitive_short=True)[Pool.GENERAL]
        out[code] = passed
    return out


Runner = Callable[[Scenario], Experiment]


@dataclass(frozen=True)
class Rounds:
    """What every search round shares: the task plan (built once, for every area, with the
    scenario as the search runs it), one pool of workers, and the replications per round."""

    tasks: runner.TaskPlan
    pool: TaskPool
    replications: int
    # runs the pooled regions' candidates (an experiment at the rounds' replications)
    run_pooled: Runner | None = None  # None: in this process

    def metrics(self, fte: dict[str, AreaFte]) -> pd.DataFrame:
        """Each replication's capacity metrics (as :func:`run_experiment` reports them) of the
        areas in ``fte``, each simulated at its FTE (set directly, in post from day 0). Areas
        of pooled regions (``fte`` must hold every area of their region) are simulated together
        as an experiment, on the same seed and replications."""
        # areas simulated with others (a pooled region, a shared service)
        pooled = [c for c in fte if c in self.tasks.pooled]
        alone = {c: f for c, f in fte.items() if c not in self.tasks.pooled}
        parts = [self._alone(alone)] if alone else []
        if pooled:
            e = self._run_pooled(candidate(self.tasks.scenario, {c: fte[c] for c in pooled},
                                           pooled))
            m = e.per_replication["capacity_metrics"]
            parts.append(m[["replication", *[c for c in m.columns if c != "replication"]]])
        df = pd.concat(parts, ignore_index=True)
        # in the experiment's order: by replication, then area and pool (capacity.metrics)
        return df.sort_values(["replication", "area"], kind="stable").reset_index(drop=True)

    def _run_pooled(self, s: Scenario) -> Experiment:
        if self.run_pooled is not None:
            return self.run_pooled(s)
        return run_experiment(s, ExperimentSettings(
            replications=self.replications, executor=ExecutorSettings(kind="local")))

    def _alone(self, fte: dict[str, AreaFte]) -> pd.DataFrame:
        """:meth:`metrics` of areas on their own, one task each on the pool of workers."""
        s = self.tasks.scenario
        codes = list(fte)
        staffed = {c: runner.Staffed(funding.fte_staffing(s.funding, f),
                                     funding.fte_workforce(s, f)) for c, f in fte.items()}
        digests: dict[tuple[int, str], runner.AreaDigest] = {}
        failures = self.pool.run(
            [(rep, c, staffed[c]) for rep in range(self.replications) for c in codes],
            lambda d: digests.__setitem__((d.replication, d.area), d))
        if failures:
            raise ExperimentFailed(failures)
        per_rep = []
        for rep in range(self.replications):  # reduced in order, as an experiment does
            ds = [digests.pop((rep, c)) for c in codes]
            m = capacity.metrics(s, joined([d.amg for d in ds]), joined([d.am for d in ds]),
                                 joined([d.window_counts for d in ds]))
            per_rep.append(m.assign(replication=rep))
        df = pd.concat(per_rep, ignore_index=True)
        return df[["replication", *[c for c in df.columns if c != "replication"]]]


def _round(search: Search, rounds: Rounds, areas: dict[str, Area], number: int) -> None:
    codes = search.with_regions(search.searching())
    metrics = rounds.metrics({c: search.fte(c) for c in codes})
    verdicts = region_passes(rounds.tasks.scenario, metrics, areas, codes, search.pooled,
                             search.hosts)
    slots = {c: search.slots(c) for c in codes}  # as simulated, before any bracket moves
    moved: set[int] = set()  # a region's shared bracket moves once a round
    for code in codes:
        passed = verdicts[code]
        for pool, b in search.brackets[code].items():
            search.log.append({"phase": "search", "round": number, "area": code,
                               "pool": pool.demand,
                               "slots": slots[code][pool], "passed": passed[pool]})
            if not b.done and id(b) not in moved:
                b.update(passed=passed[pool])
                moved.add(id(b))
    log.info("plan round %d: %d areas searched, %d still searching", number, len(codes),
             len(search.searching()))


#: Offsets of the check's seeds from the scenario's: independent of the search's streams.
CHECK_SEED_OFFSET = 104_729


def check_seed(scenario: Scenario, number: int) -> int:
    """The seed of check run ``number`` (0, 1, ...): never the search's seed."""
    return scenario.run.seed + CHECK_SEED_OFFSET * (number + 1)


#: The check runs this many times the search's replications (narrower intervals: the search's
#: least passing staffing leaves about one search half-width of room, which a check with
#: three times the replications resolves for nearly every area).
CHECK_REPLICATION_FACTOR = 3


def _check_scenario(search: Search, assessed: Scenario, codes: list[str], number: int
                    ) -> Scenario:
    s = candidate(assessed, {c: search.fte(c) for c in codes}, codes)
    seed = check_seed(assessed, number)
    return dataclasses.replace(
        s, run=dataclasses.replace(s.run, seed=seed), name=f"{assessed.name}_plan",
        description=f"Check of the plan found by 'rjsim plan' on fresh replications (seed "
        f"{seed}, never used by the search): each area's planned FTE set directly, in post "
        "from day 0; summaries cover the capacity test's assessment window.\nThe plan "
        f"was made for '{assessed.name}': " + assessed.description)


def _confirm(search: Search, assessed: Scenario, areas: dict[str, Area], run: Runner,
             rounds: int) -> tuple[Experiment, capacity_test.CapacityTestResult]:
    """Check the whole plan on fresh replications (a seed the search never used, and
    :data:`CHECK_REPLICATION_FACTOR` times the replications); where an area does not pass,
    add about 1% to the pool that fell short and check that area again on another fresh seed.
    So no verdict reported is on random numbers the plan was tuned to. Each area's verdict is
    from its last check; the experiment returned is the first, national, check."""
    codes, first = list(search.brackets), None
    rows: dict[str, pd.DataFrame] = {}
    for number in range(rounds):
        e = run(_check_scenario(search, assessed, codes, number))
        first = first or e
        result = capacity_test.evaluate(e.scenario, e.per_replication["capacity_metrics"],
                                        tuple(areas[c] for c in codes))
        rows |= {str(code): df for code, df in result.criteria.groupby("area")}
        short = list(result.verdicts.loc[result.verdicts["verdict"] != Verdict.PASS,
                                         "area"])
        if not short or number == rounds - 1:
            break
        metrics = e.per_replication["capacity_metrics"]
        passes = region_passes(e.scenario, metrics, areas, codes, search.pooled,
                               search.hosts)
        moved: set[int] = set()  # a region's shared bracket grows once a check
        grown = []
        for code in dict.fromkeys(search.host(c) for c in short):  # a guest's slots: its host's
            passed = passes[code]
            pool = Pool.SPECIALIST if not passed[Pool.SPECIALIST] else Pool.GENERAL
            b = search.brackets[code][pool]
            if id(b) not in moved:
                b.current = b.high = b.current + max(1, math.ceil(0.01 * b.current))
                moved.add(id(b))
            grown.append((code, pool))
        for code, pool in grown:  # the slots the next check simulates
            search.log.append({"phase": "check", "round": number + 1, "area": code,
                               "pool": pool.demand,
                               "slots": search.slots(code)[pool], "passed": False})
        codes = search.with_regions(short)
    if first is None:  # rounds < 1: nothing was checked
        raise ValueError("the plan's check needs at least one round (check_rounds >= 1)")
    ordered = tuple(areas.values())
    criteria = pd.concat([rows[a.code] for a in ordered], ignore_index=True)
    verdicts = capacity_test.verdict_table(criteria, ordered)
    national = capacity_test.national_table(first.scenario, verdicts, first.replications)
    return first, capacity_test.CapacityTestResult(criteria, verdicts, national)


@dataclass(frozen=True)
class PlanResult:
    """The plan: per-area FTE and cost, national totals, the check run and the search."""

    scenario: Scenario  # the original scenario with the plan's FTE (a funding scenario)
    areas: pd.DataFrame
    national: pd.DataFrame
    check: Experiment
    test: capacity_test.CapacityTestResult
    search_log: pd.DataFrame


def plan(scenario: Scenario, settings: ExperimentSettings, max_rounds: int = 30,
         check_rounds: int = 5,
         on_round: Callable[[int, int], None] | None = None) -> PlanResult:
    """Find the least FTE per area that passes the capacity test (see the module docstring).

    ``settings``: how each round's experiment runs (replications, executor; its cache is not
    used). ``on_round(round, areas_still_searching)`` reports progress.
    """
    scenario = plan_tables.planned_services(scenario)
    assessed = capacity.assessed(scenario)
    plan_of_areas = runner.task_plan(assessed)
    areas = {a.code: a for a in plan_of_areas.areas}
    search = new_search(assessed, areas, {c: r for c, r in plan_of_areas.pooled.items()
                                          if plan_of_areas.region_pooled(c)},
                        {g: h for g, h in plan_of_areas.hosts.items()
                         if g in areas and h in areas})
    seeded = {c: search.slots(c) for c in areas}
    quiet = dataclasses.replace(settings, cache_dir=None, progress=None, target_precision=None)
    replications = settings.replications or scenario.run.replications

    def run_check(s: Scenario) -> Experiment:
        n = replications * CHECK_REPLICATION_FACTOR
        return run_experiment(s, dataclasses.replace(quiet, replications=n))

    def run_pooled(s: Scenario) -> Experiment:
        return run_experiment(s, dataclasses.replace(quiet, replications=replications))
    tasks = runner.task_plan(candidate(assessed, {c: search.fte(c) for c in areas}, list(areas)),
                             model=settings.model)
    rounds = 0
    with TaskPool(tasks, settings.executor) as pool:
        shared = Rounds(tasks, pool, replications, run_pooled)
        while search.searching() and rounds < max_rounds:
            rounds += 1
            _round(search, shared, areas, rounds)
            if on_round is not None:
                on_round(rounds, len(search.searching()))
    for pools in search.brackets.values():  # out of rounds: take the least known pass
        for b in pools.values():
            b.current = b.high if b.high is not None else b.current
    check, result = _confirm(search, assessed, areas, run_check, check_rounds)
    table = plan_tables.area_table(scenario, search, result, seeded, areas)
    return PlanResult(plan_tables.funding_scenario(scenario, search), table,
                      plan_tables.national_table(table, result, rounds,
                                      settings.replications or scenario.run.replications),
                      check, result,
                      pd.DataFrame(search.log))
