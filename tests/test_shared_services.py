"""Shared services (``funding.shared_services``): a small area served by a neighbour's service.

The guest's budget (or FTE) joins the host's, its referrals join the host's queues, and each
area still reports its own referrals. Checked: the budget moves and the pot is unchanged; every
referral of the guest is accounted for exactly once and it keeps its victims (common random
numbers); City of London goes from all ``no_service`` to the Metropolitan Police's level of
unmet demand on the same seeds; two identical M/M/c areas sharing one service are one M/M/2c
queue (Erlang C within its confidence interval, and never a longer mean wait than apart); bad
declarations are clear errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capacity_helpers import queue_dict
from clitools import assert_clean_error, rjsim
from conftest import binomial_se, scenario, z_bound
from test_validation_statistical import (
    MARGIN_DAYS,
    WARMUP_DAYS,
    Queue,
    t_interval,
)

from rjsim.analysis import capacity_metrics, rolling
from rjsim.analysis.columns import joined
from rjsim.capacity import capacity_test
from rjsim.capacity.queueing import mmc_mean_wait, mmc_wait_exceeds
from rjsim.core.codes import CAPACITY_LOSSES, CLOSED, IN_PROGRESS, Outcome, Verdict
from rjsim.core.errors import ScenarioError
from rjsim.data.areas import AreaTable
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.funding import allocation, shared
from rjsim.funding import budgets as funding
from rjsim.model.area import AreaRecords, simulate_area
from rjsim.planning import plan_tables, planner
from rjsim.planning import schedule as sched
from rjsim.scenario import io as scenario_io
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.spec import GROUPS, Scenario

CITY, MET, KENT = "E23000034", "E23000001", "E23000032"
HOST, GUEST = "E23000036", "E23000035"
ALONE = {CITY: ""}  # City of London's own service (overriding the packaged shared service)


def _city(shared: dict[str, str], **sections: dict[str, object]) -> Scenario:
    # informed 0.3, not the calibrated 0.0174, so that City of London has referrals to serve
    sections.setdefault("areas", {"include": [CITY, KENT]})
    sections.setdefault("run", {"years": 1})
    return scenario(demand={"informed": 0.3},
                    funding={"shared_services": shared, "min_fte_per_area": 0}, **sections)


def test_the_guests_budget_joins_the_hosts_and_the_pot_is_unchanged(table: AreaTable) -> None:
    alone, shared = _city(ALONE), _city({"City of London": "Metropolitan Police"})
    before = {c: s.budget_gbp for c, s in funding.staffing(alone, table).items()}
    after = {c: s.budget_gbp for c, s in funding.staffing(shared, table).items()}
    assert after[CITY] == 0.0
    assert after[MET] == pytest.approx(before[MET] + before[CITY], rel=1e-12)
    assert sum(after.values()) == pytest.approx(sum(before.values()), rel=1e-12)
    assert after[KENT] == before[KENT]
    staff = funding.staffing(shared, table)
    assert staff[CITY].general_fte == staff[CITY].specialist_fte == 0.0
    # the allocation table still shows what the guest contributes, and who spends it
    rows = allocation.allocation_table(shared, table).set_index("area")
    assert rows.loc[CITY, "budget_gbp"] == pytest.approx(before[CITY])
    assert rows.loc[CITY, "served_by"] == MET and rows.loc[MET, "served_by"] == MET


def test_fte_set_directly_join_the_hosts_service_too(table: AreaTable) -> None:
    sc = scenario(funding={"capacity_from": "fte", "fte": {"general": 2, "specialist": 1},
                           "shared_services": {CITY: MET}})
    staff = funding.staffing(sc, table)
    assert (staff[CITY].general_fte, staff[CITY].specialist_fte) == (0.0, 0.0)
    assert (staff[MET].general_fte, staff[MET].specialist_fte) == (4.0, 2.0)


def _records(sc: Scenario, rep: int) -> dict[str, AreaRecords]:
    plan = runner.task_plan(sc)
    return {a.code: runner.simulate_task(plan, rep, a) for a in plan.areas}


def test_every_referral_of_the_guest_is_accounted_for_once(table: AreaTable) -> None:
    sc = _city({CITY: MET})
    plan = runner.task_plan(sc)
    # the host is simulated with its guest but reported only when selected
    assert plan.pooled == {CITY: (CITY, MET)} and plan.hosts == {CITY: MET}
    city = table.select((CITY,), "tests")[0]
    staff = funding.staffing(_city(ALONE), table)[CITY]
    for rep in range(3):
        alone = simulate_area(_city(ALONE), city, staff, rep)
        rec = _records(sc, rep)
        assert set(rec) == {CITY, KENT}
        shared = rec[CITY]
        # the same victims (common random numbers), each with exactly one known outcome
        for name in ("referral_day", "group", "mode"):
            assert np.array_equal(getattr(alone, name), getattr(shared, name))
        assert len(shared.outcome) == shared.n_referrals == alone.n_referrals > 30
        known = np.isin(shared.outcome, [*CLOSED, *CAPACITY_LOSSES, *IN_PROGRESS])
        assert known.all()
        allocated = ~np.isnan(shared.allocation_day)
        assert not np.isin(shared.outcome[allocated], CAPACITY_LOSSES).any()
        # the guest has no slots of its own: every allocated case was served by the host's
        assert shared.general_slots == shared.specialist_slots == 0
        assert allocated.sum() > 0


def test_city_of_london_unmet_demand_falls_to_the_hosts_level() -> None:
    alone = _city(ALONE, areas={"include": [CITY, MET]})
    shared = _city({CITY: MET}, areas={"include": [CITY, MET]})
    lost_city, n_city, lost_met, n_met = 0, 0, 0, 0
    for rep in range(4):
        before = _records(alone, rep)[CITY]
        assert (before.outcome == Outcome.NO_SERVICE).all()  # no slot: all lost today
        after = _records(shared, rep)
        assert not (after[CITY].outcome == Outcome.NO_SERVICE).any()
        lost_city += int(np.isin(after[CITY].outcome, CAPACITY_LOSSES).sum())
        n_city += after[CITY].n_referrals
        lost_met += int(np.isin(after[MET].outcome, CAPACITY_LOSSES).sum())
        n_met += after[MET].n_referrals
    met_rate = lost_met / n_met
    # City's referrals join the Met's queues: its unmet share is the Met's, within the
    # binomial interval of City's few referrals
    assert abs(lost_city / n_city - met_rate) <= z_bound(binomial_se(met_rate, n_city)), (
        lost_city / n_city, met_rate, n_city)


# ---- two identical M/M/c areas sharing one service: one M/M/2c queue -------------------------

TWIN = Queue(lam=3.2, mu=1.0, c=4)  # each alone: M/M/4 at utilisation 0.8
JOINT = Queue(lam=2 * TWIN.lam, mu=TWIN.mu, c=2 * TWIN.c)  # shared: M/M/8 at 0.8
REPS, YEARS = 20, 4


def _twin_csv(path: Path) -> Path:
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    values = ",".join(f"{TWIN.lam * 365.0:.10g}" if g == "theft" else "0" for g in GROUPS)
    path.write_text(f"pfa_code,force,census2021_population,{columns}\n"
                    f"{HOST},Host area,1000000,{values}\n"
                    f"{GUEST},Guest area,1000000,{values}\n", encoding="utf-8")
    return path


def _mean_wait(records: list[AreaRecords]) -> float:
    waits = []
    for rec in records:
        counted = ((rec.referral_day >= WARMUP_DAYS)
                   & (rec.referral_day < rec.horizon_days - MARGIN_DAYS))
        waits.append(rec.queue_exit_day[counted] - rec.referral_day[counted])
    return float(np.concatenate(waits).mean())


def test_two_mmc_areas_sharing_one_service_are_one_mm2c_queue(tmp_path: Path) -> None:
    data = _twin_csv(tmp_path / "twins.csv")
    apart = scenario_io.from_dict(_twin_dict(data, shared=False))
    joint = scenario_io.from_dict(_twin_dict(data, shared=True))
    shared_waits, diffs = [], []
    for rep in range(REPS):
        together = list(_records(joint, rep).values())
        assert [r.general_slots for r in together] == [2 * TWIN.c, 0]
        shared_waits.append(_mean_wait(together))
        diffs.append(shared_waits[-1] - _mean_wait(list(_records(apart, rep).values())))
    low, high = t_interval(np.array(shared_waits))
    erlang = mmc_mean_wait(JOINT.lam, JOINT.mu, JOINT.c)
    assert low <= erlang <= high, (low, high, erlang)
    # and never above the two queues apart (paired: the same victims): pooling helps
    d = np.array(diffs)
    assert d.mean() + z_bound(d.std(ddof=1) / math.sqrt(len(d))) <= 0.0, d
    assert high < mmc_mean_wait(TWIN.lam, TWIN.mu, TWIN.c)  # M/M/4 apart waits longer


def _twin_dict(data: Path, *, shared: bool) -> dict[str, object]:
    """The M/M/c area of :func:`capacity_helpers.queue_dict` (theft only, no specialists),
    with the guest served by the host when ``shared``."""
    values = queue_dict(TWIN, data, YEARS, {}, groups=("theft",), seed=20250401)
    # (the packaged City of London entry names areas outside this file: no effect)
    values["funding"]["shared_services"] = {"Guest area": "Host area"} if shared else {}
    return values


# ---- bad declarations -----------------------------------------------------------------------


@pytest.mark.parametrize(("shared", "message"), [
    ({"City of Londn": MET}, r"unknown served area 'City of Londn'.*did you mean 'City of "
                             r"London'"),
    ({CITY: "Metropolitan"}, r"unknown serving area 'Metropolitan'"),
    ({CITY: "city of london"}, r"City of London cannot be served by its own service"),
    ({CITY: MET, MET: KENT}, r"City of London is served by Metropolitan Police, which is "
                             r"itself served by Kent: chains and cycles"),
    ({CITY: MET, MET: CITY}, r"chains and cycles"),
])
def test_bad_shared_services_are_clear_errors(shared: dict[str, str], message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as err:
        runner.task_plan(_city(shared))
    assert "funding.shared_services" in str(err.value)


@pytest.mark.parametrize("regions", [["London"], ["South East"]])
def test_a_shared_service_across_a_pooled_regions_edge_is_refused(regions: list[str]) -> None:
    # Surrey (South East) served by the Metropolitan Police (London): either side pooled
    sc = _city({"Surrey": MET}, pooling={"regions": regions})
    with pytest.raises(ScenarioError, match=r"cannot cross the edge of a pooled region"):
        runner.task_plan(sc)


def test_a_shared_service_inside_a_pooled_region_is_simulated() -> None:
    sc = _city({CITY: MET}, areas={"include": [CITY, MET]},
               pooling={"regions": ["London"]})
    plan = runner.task_plan(sc)
    assert plan.pooled == {CITY: (CITY, MET), MET: (CITY, MET)}
    rec = _records(sc, 0)
    assert not (rec[CITY].outcome == Outcome.NO_SERVICE).any()


def test_an_empty_host_or_a_later_entry_overrides_the_default(table: AreaTable) -> None:
    # the packaged default names City of London; overriding it by code works
    assert scenario().funding.shared_services == {"City of London": "Metropolitan Police"}
    assert shared.hosts_of(scenario(), table) == {CITY: MET}
    own = scenario(funding={"shared_services": {CITY: ""}})
    assert shared.hosts_of(own, table) == {}
    kent = scenario(funding={"shared_services": {CITY: "Kent"}})
    assert shared.hosts_of(kent, table) == {CITY: KENT}
    assert funding.staffing(own, table)[CITY].budget_gbp > 0


def test_the_cli_refuses_a_bad_shared_service_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[funding]\nshared_services = { "City of London" = "City of London" }\n',
                    encoding="utf-8")
    proc = rjsim("run", str(path), "--replications", "1", "--out", "out", cwd=tmp_path)
    assert_clean_error(proc, "funding.shared_services",
                       "City of London cannot be served by its own service")
    assert not (tmp_path / "out").exists()


# ---- utilisation and coverage of an area with no slot of its own: not applicable, never inf --


@pytest.mark.parametrize("shared", [ALONE, {CITY: MET}])
def test_an_area_without_slots_of_its_own_has_no_utilisation_or_coverage(
        shared: dict[str, str]) -> None:
    sc = capacity_metrics.assessed(_city(shared, run={"years": 2}))
    per_rep = pd.concat([runner.run(sc, rep).tables["capacity_metrics"].assign(
        replication=rep) for rep in range(2)])
    city = per_rep[per_rep["area"] == CITY]
    assert city["utilisation"].isna().all()  # every pool, every replication: not inf
    kent = per_rep[per_rep["area"] == KENT]
    assert np.isfinite(kent["utilisation"]).all()
    areas = runner.task_plan(sc).areas
    result = capacity_test.evaluate(sc, per_rep, areas)
    rows = result.criteria.set_index(["area", "criterion"])
    for criterion in ("utilisation", "coverage"):  # neither applies without slots of its own
        assert np.isnan(rows.loc[(CITY, criterion), "estimate"])
        assert rows.loc[(CITY, criterion), "verdict"] == Verdict.NOT_APPLICABLE
    assert city["specialist_slots_min"].isna().all()
    assert city.loc[city["pool"] != "general", "covered"].isna().all()
    verdict = result.verdicts.set_index("area").loc[CITY]
    text = capacity_test.summary_text(result, k=43)
    assert "inf" not in text
    if shared == ALONE:  # no service at all: it fails, on its unmet demand
        assert verdict["verdict"] == Verdict.FAIL
        assert verdict["binding_criterion"] == "unmet_demand"
        assert rows.loc[(CITY, "unmet_demand"), "estimate"] == 1.0
    else:  # judged by its waits and unmet demand in the Met's (overloaded at informed 0.3)
        assert verdict["binding_criterion"] != "utilisation"
        assert 0 < rows.loc[(CITY, "unmet_demand"), "estimate"] < 1.0


def test_the_hosts_utilisation_counts_its_guests_workload() -> None:
    """Offered load per slot of the Met's service = (Met's + City of London's workload) / the
    Met's slot-days: the sensitive pool's value with the guest is the value without it times
    (W_met + W_city) / W_met, in the capacity metrics and in the whole-window rolling ones."""
    sc = capacity_metrics.assessed(_city({CITY: MET}, areas={"include": [CITY, MET]},
                                         run={"years": 2}))
    plan = runner.task_plan(sc)
    digests = [runner.run_task(plan, 0, code) for code in (CITY, MET)]
    built = runner.replication_tables(plan, digests)
    with_city = built["capacity_metrics"].set_index(["area", "pool"])
    amg, am = built["area_month_group"], built["area_month"]
    counts = joined([d.window_counts for d in digests])
    alone = capacity_metrics.metrics(sc, amg, am, counts).set_index(["area", "pool"])
    key = (MET, "sensitive")
    w_met, w_city = with_city.loc[key, "workload"], with_city.loc[(CITY, "sensitive"), "workload"]
    assert w_city > 0
    assert with_city.loc[key, "utilisation"] == pytest.approx(
        alone.loc[key, "utilisation"] * (w_met + w_city) / w_met, rel=1e-12)
    assert np.isnan(with_city.loc[(CITY, "all"), "utilisation"])
    rolling_with = built["rolling_metrics"].set_index("area")
    assert np.isfinite(rolling_with.loc[MET, "utilisation"]).all()
    edges = joined([d.cohort_edges for d in digests])
    no_hosts = rolling.rolling_metrics(sc, amg, am, edges).set_index("area")
    assert (rolling_with.loc[MET, "utilisation"].to_numpy()
            > no_hosts.loc[MET, "utilisation"].to_numpy()).all()


# ---- the staffing plan keeps shared services ---------------------------------------------------

PLAN_LAM = {HOST: 4.0, GUEST: 1.0}  # referrals a day: the guest is the small area


def _plan_csv(path: Path) -> Path:
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    rows = [f"{code},{name},1000000," + ",".join(
        f"{PLAN_LAM[code] * 365.0:.10g}" if g == "theft" else "0" for g in GROUPS)
        for code, name in ((HOST, "Host area"), (GUEST, "Guest area"))]
    path.write_text(f"pfa_code,force,census2021_population,{columns}\n" + "\n".join(rows)
                    + "\n", encoding="utf-8")
    return path


def _plan_scenario(data: Path, *, shared: bool) -> Scenario:
    """M/M/c areas (theft only, exponential one-day cases, one case per FTE) of
    :func:`capacity_helpers.queue_dict`, the guest served by the host when ``shared``."""
    values = queue_dict(Queue(PLAN_LAM[HOST], 1.0, 1), data, 1.0,
                        {"wait_target_days": 0.5, "timeliness_share": 0.8}, groups=("theft",))
    values["funding"]["shared_services"] = {"Guest area": "Host area"} if shared else {}
    return scenario_io.from_dict(values, source="test")


def _least_slots(lam: float) -> int:
    """Erlang C: the least c with P(wait > 0.5 days) <= 0.2 for one-day cases."""
    c = 1
    while lam / c >= 1 or mmc_wait_exceeds(lam, 1.0, c, 0.5) > 0.2:
        c += 1
    return c


@pytest.mark.slow
def test_the_plan_staffs_the_host_for_its_guests_and_keeps_the_shared_service(
        tmp_path: Path) -> None:
    data = _plan_csv(tmp_path / "plan.csv")
    settings = ExperimentSettings(replications=6, executor=ExecutorSettings(kind="local"))
    result = planner.plan(_plan_scenario(data, shared=True), settings)
    rows = result.areas.set_index("area")
    # the host's service is one M/M/c queue of both areas' referrals (the search starts at
    # Erlang C and may add a slot for the backlog-trend criterion)
    joint = _least_slots(PLAN_LAM[HOST] + PLAN_LAM[GUEST])
    assert joint - 1 <= rows.loc[HOST, "general_slots"] <= joint + 1, result.search_log
    # the guest has no staff or cost of its own: its host's service serves it
    guest = rows.loc[GUEST]
    assert (guest["general_fte"], guest["specialist_fte"], guest["annual_cost_gbp"]) == (0, 0, 0)
    assert list(rows["served_by"]) == [HOST, HOST]
    assert result.test.verdict == Verdict.PASS
    assert list(result.test.verdicts["verdict"]) == [Verdict.PASS, Verdict.PASS]
    # the plan as a scenario keeps the service: the guest's zero FTE join the host's
    plan = runner.task_plan(result.scenario)
    assert plan.hosts.get(GUEST) == HOST
    fte = funding.area_fte(result.scenario, plan.table)
    assert fte[GUEST] == AreaFte(0.0, 0.0)
    assert fte[HOST].general == rows.loc[HOST, "general_fte"]
    # sharing needs no more slots than the two areas planned apart (the pooling effect)
    apart = planner.plan(_plan_scenario(data, shared=False), settings).areas
    assert list(apart["served_by"]) == [HOST, GUEST]
    assert rows.loc[HOST, "general_slots"] <= apart["general_slots"].sum()


def test_a_plan_drops_a_service_whose_partner_is_not_planned() -> None:
    both = _city({CITY: MET}, areas={"include": [CITY, MET]})
    assert plan_tables.planned_services(both) == both
    alone = plan_tables.planned_services(_city({CITY: MET}, areas={"include": [CITY]}))
    assert runner.task_plan(alone).hosts == {}  # City of London planned as its own service
    assert dict(alone.funding.shared_services) == {"City of London": ""}


def test_the_schedule_keeps_the_shared_service_and_budgets_the_host_for_both() -> None:
    s = _city({CITY: MET}, areas={"include": [CITY, MET]}, run={"years": 2},
              statutory_right={"commence_day": 365})
    targets = {MET: AreaFte(100.0, 30.0), CITY: AreaFte(0.0, 0.0)}
    result = sched.schedule(s, targets)
    rows = result.areas.set_index("area")
    assert list(rows["served_by"]) == [MET, MET]
    assert rows.loc[CITY, "budget_gbp"] == rows.loc[CITY, "today_budget_gbp"] == 0.0
    assert rows.loc[CITY, "recruitment_start_date"] == rows.loc[MET, "recruitment_start_date"]
    written = result.scenario
    plan = runner.task_plan(written)
    assert plan.hosts == {CITY: MET}  # not "City of London" = "": the service is kept
    wf = funding.workforces(written, plan.table)
    assert (wf[CITY].establishment == 0).all()  # City's budget joins the Met's
    assert (wf[MET].in_post[12:] >= np.array([100.0, 30.0]) - 1e-6).all()
