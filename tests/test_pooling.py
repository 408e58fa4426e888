"""Regional pooling of specialists (MODEL.md sections 2 and 11).

Functional: a pooled region of one area is the area engine, event for event; pooled areas
keep their own referrals (common random numbers) and conserve cases; the travel or video
overhead lands on exactly the cases pooled specialists serve. Statistical: with one region
of identical areas, pooling lowers the mean wait (the Erlang C pooling effect: c servers
sharing one queue wait less than c/k servers in each of k queues), judged by the paired
difference's interval across replications, not by a figure from one seed. Runner: the
experiment gives the same results whatever the executor, and bad regions are clear errors.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import Z, scenario, z_bound

from rjsim.core.codes import CAPACITY_LOSSES, CLOSED, IN_PROGRESS, Pool
from rjsim.core.errors import ScenarioError
from rjsim.data.areas import Area, AreaTable
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.funding import budgets as funding
from rjsim.model.area import AreaRecords, simulate_area
from rjsim.model.region import RegionArea, overhead_days, simulate_region
from rjsim.model.staffing import Staffing
from rjsim.scenario.spec import Scenario

SENSITIVE_CODES = [1, 2]  # "sexual", "domestic_abuse" in the groups below
FIELDS = ("allocation_day", "queue_exit_day", "outcome", "skill", "stage_end_day",
          "stage_hours", "referral_day", "group")


def _twins(table: AreaTable, n: int = 4) -> list[Area]:
    """``n`` identical areas (Dorset's data) in one region, each with its own streams."""
    base = table.select(("Dorset",), "tests")[0]
    return [dataclasses.replace(base, code=f"TWIN{i}", name=f"Twin {i}", region="Twinshire")
            for i in range(n)]


def _queueing_scenario(overhead_hours: float = 0.0) -> Scenario:
    """Three groups, no abandonment (a stable M/G/c-like queue), 10 slots per FTE. Offered
    load per area is about 11 slot-days a day of sensitive work and 12.5 of general."""
    # The loads above are those of the pre-calibration funnel, set here (not the calibrated
    # defaults, which give far fewer referrals that each go further).
    return scenario(run={"years": 3}, demand={"groups": ["violence", "sexual", "domestic_abuse"],
                                              "informed": 0.3},
                    exits={"victim_withdraws": 0.3, "offender_declines": 0.5,
                           "preparation_withdraws": 0.1},
                    service={"patience": {"kind": "never"}, "window": {"kind": "never"},
                             "caseload_per_fte": 10},
                    pooling={"overhead_hours_per_case": overhead_hours})


def _mean_wait(records: list[AreaRecords]) -> float:
    return float(np.nanmean(np.concatenate([r.allocation_day - r.referral_day for r in records])))


def _last_stage_end(rec: AreaRecords) -> np.ndarray:
    ends = rec.stage_end_day
    return np.where(np.isnan(ends), -np.inf, ends).max(axis=1)


def test_a_pooled_region_of_one_area_is_the_area_engine(table: AreaTable) -> None:
    s = scenario(run={"years": 2}, pooling={"overhead_hours_per_case": 0.0})
    staffing, workforces = funding.staffing(s, table), funding.workforces(s, table)
    for area in table.select(("Avon and Somerset", "Dorset", "City of London"), "tests"):
        alone = simulate_area(s, area, staffing[area.code], 1, workforces[area.code])
        pooled = simulate_region(s, [RegionArea(area, staffing[area.code],
                                                workforces[area.code])], 1)[area.code]
        for name in FIELDS:
            assert np.array_equal(getattr(alone, name), getattr(pooled, name), equal_nan=True), (
                area.name, name)


def test_pooled_areas_keep_their_referrals_and_conserve_cases(table: AreaTable) -> None:
    s = _queueing_scenario()
    staffing = Staffing(0.0, 1.5, 1.3, 1.0, 1.0)
    twins = _twins(table)
    pooled = simulate_region(s, [RegionArea(a, staffing) for a in twins], 0)
    assert list(pooled) == [a.code for a in twins]
    for area in twins:
        alone, rec = simulate_area(s, area, staffing, 0), pooled[area.code]
        assert rec.area == area.code
        # the same victims whether pooled or not (common random numbers)
        for name in ("referral_day", "group", "mode"):
            assert np.array_equal(getattr(alone, name), getattr(rec, name))
        # every referral has exactly one outcome of a known kind
        known = np.isin(rec.outcome, [*CLOSED, *CAPACITY_LOSSES, *IN_PROGRESS])
        assert known.all() and len(rec.outcome) == rec.n_referrals
        # only specialists take sensitive cases, pooled or not
        sensitive = np.isin(rec.group, SENSITIVE_CODES)
        assert not (rec.skill[sensitive] == Pool.GENERAL).any()
        # each area reports the specialist slots it contributes, not the region's
        assert rec.specialist_slots == alone.specialist_slots == 13
    # pooled specialists serve cases of other areas than any single one could
    served = sum(int((r.skill == Pool.SPECIALIST).sum()) for r in pooled.values())
    assert served > 0


def test_pooling_identical_areas_lowers_the_mean_wait(table: AreaTable) -> None:
    """Erlang C pooling: 4 areas x 13 specialist slots in one queue wait less than 4 separate
    queues of 13. Paired over replications (same victims), the whole 99.99% interval of
    pooled minus unpooled mean wait must lie below zero, for all cases and sensitive ones."""
    s = _queueing_scenario()
    staffing = Staffing(0.0, 1.5, 1.3, 1.0, 1.0)
    twins = _twins(table)
    diffs, sensitive_diffs = [], []
    for rep in range(10):
        alone = [simulate_area(s, a, staffing, rep) for a in twins]
        pooled = list(simulate_region(s, [RegionArea(a, staffing) for a in twins], rep).values())
        diffs.append(_mean_wait(pooled) - _mean_wait(alone))
        sens = [dataclasses.replace(r, allocation_day=np.where(
            np.isin(r.group, SENSITIVE_CODES), r.allocation_day, np.nan)) for r in [*alone,
                                                                                  *pooled]]
        sensitive_diffs.append(_mean_wait(sens[4:]) - _mean_wait(sens[:4]))
    for d in (np.array(diffs), np.array(sensitive_diffs)):
        upper = d.mean() + z_bound(d.std(ddof=1) / math.sqrt(len(d)))
        assert upper < 0.0, (d.mean(), upper, Z)


def test_the_overhead_lands_on_the_cases_pooled_specialists_serve(table: AreaTable) -> None:
    hours = 3.0
    s, s0 = _queueing_scenario(hours), _queueing_scenario(0.0)
    staffing = Staffing(0.0, 1.5, 1.3, 1.0, 1.0)
    twins = _twins(table, 2)
    extra = overhead_days(s)
    # 3 hours at a slot's pace: productive hours per FTE-day / 10 slots per FTE
    assert extra == pytest.approx(hours * 10 / s.service.productive_hours_per_fte_day)
    with_overhead = simulate_region(s, [RegionArea(a, staffing) for a in twins], 0)
    without = simulate_region(s0, [RegionArea(a, staffing) for a in twins], 0)
    for code, rec in with_overhead.items():
        pooled = (rec.skill == Pool.SPECIALIST) & (rec.stage_hours[:, 0] > 0)
        general = (rec.skill == Pool.GENERAL) & (rec.stage_hours[:, 0] > 0)
        assessment = s.stages.assessment.effort_hours
        assert np.allclose(rec.stage_hours[pooled, 0], assessment + hours)
        assert np.allclose(rec.stage_hours[general, 0], assessment)
        busy = rec.slot_release_day - rec.allocation_day
        closed = ~np.isnan(rec.close_day)
        ref = without[code]
        # the same case path, held longer on a pooled slot by exactly the overhead's days
        path_days = _last_stage_end(rec) - rec.allocation_day
        assert np.allclose(busy[closed & pooled], path_days[closed & pooled])
        base_path = _last_stage_end(ref) - ref.allocation_day
        both = closed & pooled & ~np.isnan(ref.close_day) & (ref.skill == Pool.SPECIALIST)
        assert both.any()
        assert np.allclose(path_days[both] - base_path[both], extra)


def _small(pool: bool) -> Scenario:
    return scenario(run={"years": 1, "replications": 2},
                    areas={"include": ["Durham", "Cleveland", "Northumbria", "Dorset"]},
                    pooling={"regions": ["North East"] if pool else []})


def test_the_experiment_is_the_same_on_every_executor() -> None:
    results = []
    for kind, workers in (("local", 1), ("processes", 2)):
        runner._region_memo.clear()
        e = run_experiment(_small(True), ExperimentSettings(
            executor=ExecutorSettings(kind=kind, workers=workers)))
        results.append(e.per_replication["area_summary"])
    assert results[0].equals(results[1])
    plan = runner.task_plan(_small(True))
    north_east = tuple(a.code for a in plan.areas if a.region == "North East")
    assert len(north_east) == 3
    assert plan.pooled == {c: north_east for c in north_east}  # Dorset stays on its own
    # an area's records are the same whether its region came from the memo or was rerun
    code = next(iter(plan.pooled))
    first = runner.simulate_task(plan, 0, plan.area(code))
    runner._region_memo.clear()
    again = runner.simulate_task(plan, 0, plan.area(code))
    assert np.array_equal(first.allocation_day, again.allocation_day, equal_nan=True)


def test_unknown_or_repeated_regions_are_clear_errors() -> None:
    bad = scenario(pooling={"regions": ["Nort East", "Wales", "Wales"]})
    with pytest.raises(ScenarioError) as err:
        runner.task_plan(bad)
    text = str(err.value)
    assert "pooling.regions" in text and "unknown region 'Nort East'" in text
    assert "did you mean 'North East'" in text and "names a region twice" in text

