"""The staffing schedule with the real lags (``rjsim plan --schedule``).

Unit: recruitment starts the lags before commencement; vacancies from attrition make the
establishment exceed the staff needed in post, and without attrition they are equal; the
schedule is a scenario whose own workforce reproduces it; cost by year adds up; bad input is a
clear error. Functional (slow): the planner's per-area result, turned into a schedule, passes
the capacity test when the schedule's scenario is simulated.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
import tomli_w
from conftest import scenario

from rjsim.app.capacity import CapacityTestOptions, capacity_test
from rjsim.app.plan import PlanOptions, plan
from rjsim.core.codes import Pool
from rjsim.core.errors import ScenarioError
from rjsim.core.schema import to_plain
from rjsim.experiment import runner
from rjsim.funding import budgets as funding
from rjsim.model.demand import DAYS_PER_PERIOD, period_of
from rjsim.model.staffing import period_days
from rjsim.planning import schedule as sched
from rjsim.planning.brackets import fte_for_slots, seeds
from rjsim.scenario import expected
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.io import from_dict
from rjsim.scenario.spec import DAYS_PER_YEAR, Scenario

AREAS = ["Dorset", "Wiltshire"]


def _scenario(**staffing: float) -> Scenario:
    return scenario(run={"years": 3}, areas={"include": AREAS},
                    statutory_right={"commence_day": 365}, staffing=staffing)


def _targets(s: Scenario) -> dict[str, AreaFte]:
    return {a.code: AreaFte(general=12.0 + i, specialist=5.5 + i)
            for i, a in enumerate(runner.task_plan(s).areas)}


def test_recruitment_starts_the_lags_before_commencement_and_staff_are_in_post() -> None:
    s = _scenario(recruitment_lag_days=120, specialist_training_lag_days=30)
    targets = _targets(s)
    result = sched.schedule(s, targets)
    lag = math.ceil(150 / DAYS_PER_PERIOD)  # specialists: recruitment + training
    assert (result.areas["months_before_commencement"] == lag).all()
    assert result.areas["on_time"].all()
    workforces = funding.workforces(result.scenario, runner.task_plan(result.scenario).table)
    commence = 12  # day 365 is in month 12
    for row in result.areas.itertuples():
        wf = workforces[row.area]
        want = np.array([targets[row.area].general, targets[row.area].specialist])
        # the scenario's own workforce model puts the planned staff in post from commencement
        assert (wf.in_post[commence:] >= want - 1e-6).all()
        assert (wf.in_post[0] < want).all()  # today's staff are far fewer
        # today's budget until recruitment starts, then the schedule's
        start = commence - lag
        assert np.allclose(wf.budget_gbp[:start], row.today_budget_gbp)
        assert np.allclose(wf.budget_gbp[start:], row.budget_gbp)
        # the model's workforce is the one the schedule reported
        assert row.in_post_general_fte_min == pytest.approx(wf.in_post[commence:, 0].min())


def test_the_schedule_written_as_toml_reads_back_to_the_same_staffing() -> None:
    s = _scenario()
    result = sched.schedule(s, _targets(s))
    text = tomli_w.dumps(to_plain(result.scenario))
    again = from_dict(tomllib.loads(text), source="schedule.toml")
    assert again == result.scenario
    table = runner.task_plan(again).table
    for code in result.areas["area"]:
        assert funding.workforces(again, table)[code] == funding.workforces(
            result.scenario, table)[code]


def test_vacancies_from_attrition_raise_the_establishment_above_the_staff_needed() -> None:
    with_attrition = sched.schedule(_scenario(attrition_per_year=0.2), _targets(_scenario()))
    without = sched.schedule(_scenario(attrition_per_year=0.0), _targets(_scenario()))
    a, b = with_attrition.areas, without.areas
    # no leavers: the posts are all filled, so establishment = staff needed
    assert np.allclose(b["establishment_general_fte"], b["planned_general_fte"], rtol=1e-6)
    assert np.allclose(b["establishment_specialist_fte"], b["planned_specialist_fte"],
                       rtol=1e-6)
    # leavers refilled after the replacement lag leave posts vacant: more posts, more budget
    assert (a["establishment_general_fte"] > a["planned_general_fte"] * 1.01).all()
    assert (a["budget_gbp"] > b["budget_gbp"]).all()
    assert (a["in_post_general_fte_min"] >= a["planned_general_fte"] - 1e-6).all()


def test_cost_by_year_adds_up_the_areas_budgets_and_spend() -> None:
    s = _scenario()
    result = sched.schedule(s, _targets(s))
    days = period_days(s.run.horizon_days)
    start = 12 - int(result.areas["months_before_commencement"].iloc[0])
    year1 = sum(r.today_budget_gbp * days[:start].sum() + r.budget_gbp * days[start:12].sum()
                for r in result.areas.itertuples()) / DAYS_PER_YEAR
    y = result.years
    assert list(y["year"]) == [1, 2, 3]
    assert list(y["from_date"]) == ["2025-04-01", "2026-04-01", "2027-04-01"]
    assert y["budget_gbp"].iloc[0] == pytest.approx(year1)
    assert y["budget_gbp"].iloc[1] == pytest.approx(result.areas["budget_gbp"].sum())
    workforces = funding.workforces(result.scenario, runner.task_plan(result.scenario).table)
    assert y["spend_gbp"].sum() == pytest.approx(sum(workforces[c].spend_gbp.sum()
                                                     for c in result.areas["area"]))


def test_the_printed_schedule_states_unlimited_hiring_and_unspent_budget() -> None:
    s = _scenario(recruitment_lag_days=120, specialist_training_lag_days=30)
    result = sched.schedule(s, _targets(s))
    text = sched.schedule_text(result)
    y = result.years
    # year 1 recruits the planned staff (budget from the recruitment start, posts vacant until
    # filled): the most hires and the most budget left unspent
    assert y["hires_fte"].idxmax() == 0
    assert (y["budget_gbp"] - y["spend_gbp"]).idxmax() == 0
    assert y["spend_gbp"].iloc[0] < 0.9 * y["budget_gbp"].iloc[0]
    assert ("hiring is unlimited: every post is filled exactly 120 days after its budget rises "
            "(specialists trained 30 days more)") in text
    assert f"up to {y['hires_fte'].iloc[0]:,.1f} FTE hired in year 1" in text
    assert (f"most in year 1: GBP {y['budget_gbp'].iloc[0] / 1e6:,.2f}m allocated, "
            f"{y['spend_gbp'].iloc[0] / 1e6:,.2f}m spent) is neither carried over") in text


def test_too_early_a_commencement_is_flagged_not_hidden() -> None:
    s = scenario(run={"years": 2}, areas={"include": AREAS},
                 statutory_right={"commence_day": 60})
    result = sched.schedule(s, _targets(s))
    assert not result.areas["on_time"].any()
    assert (result.areas["recruitment_start_date"] == "2025-05-01").all()  # month 1
    # staff arrive the lags after month 1, and are in post from then on
    assert (result.areas["in_post_from_date"] == "2025-09-30").all()  # month 6: day 182.5
    assert (result.areas["in_post_general_fte_min"] >= result.areas["planned_general_fte"]
            - 1e-6).all()
    assert "too late to recruit in time" in sched.schedule_text(result)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match="needs a commencement date"):
        sched.schedule(scenario(areas={"include": AREAS}), {})
    with pytest.raises(ScenarioError, match=r"--max-utilisation: .* must be a number in \(0, "
                       r"1\], e\.g\. 0\.85 for 15% headroom \(got 1\.5\)"):
        sched.with_headroom(_scenario(), 1.5)
    with pytest.raises(ScenarioError, match="area_specialist_share"):
        runner.task_plan(scenario(funding={"area_specialist_share": {"E99999999": 0.5}}))
    with pytest.raises(ScenarioError, match="area_specialist_share"):
        scenario(funding={"capacity_from": "fte", "area_specialist_share": {"E23000039": 0.5}})


def test_an_area_specialist_share_splits_only_that_areas_budget() -> None:
    s = scenario(areas={"include": AREAS}, funding={"area_specialist_share": {"E23000039": 0.5}})
    staffing = funding.staffing(s, runner.task_plan(s).table)
    dorset, wilts = staffing["E23000039"], staffing["E23000038"]
    assert dorset.specialist_fte * dorset.cost_per_specialist_fte_gbp == pytest.approx(
        dorset.budget_gbp - dorset.general_fte * dorset.cost_per_general_fte_gbp)
    assert dorset.specialist_fte / (dorset.general_fte + dorset.specialist_fte) == (
        pytest.approx(0.5))
    assert wilts.specialist_fte / (wilts.general_fte + wilts.specialist_fte) == (
        pytest.approx(s.funding.specialist_share))


def _phased(pilot_day: float, national_day: float = 540) -> Scenario:
    """Dorset pilots the right (every group) from ``pilot_day``; national from
    ``national_day``."""
    return scenario(run={"years": 3}, areas={"include": AREAS}, statutory_right={"phase": [
        {"commence_day": pilot_day, "areas": ["Dorset"], "label": "pilot"},
        {"commence_day": national_day, "label": "national"}]})


def _generous(s: Scenario) -> dict[str, AreaFte]:
    """About 30% more FTE than the planner's Erlang seed in each pool (passes with margin)."""
    per = expected.caseload_per_fte(s)
    out = {}
    for a in runner.task_plan(s).areas:
        seed = seeds(s, a)
        out[a.code] = AreaFte(
            general=fte_for_slots(math.ceil(seed[Pool.GENERAL] * 1.3), per),
            specialist=fte_for_slots(math.ceil(seed[Pool.SPECIALIST] * 1.3), per))
    return out


def test_a_pilot_area_recruits_earlier_and_the_phased_schedule_passes_when_simulated() -> None:
    s = _phased(365)
    targets = _generous(s)
    result = sched.schedule(s, targets)
    rows = result.areas.set_index("force")
    pilot, later = rows.loc["Dorset"], rows.loc["Wiltshire"]
    assert (pilot["commencement_date"], later["commencement_date"]) == (
        "2026-04-01", "2026-09-23")  # days 365 and 540 of a run from 2025-04-01
    assert pilot["on_time"] and later["on_time"]
    assert pilot["months_before_commencement"] == later["months_before_commencement"] > 0
    # each area recruits the lags before its own first commencement: the pilot earlier
    assert pilot["recruitment_start_date"] < later["recruitment_start_date"]
    assert pilot["in_post_from_date"] < later["in_post_from_date"]
    workforces = funding.workforces(result.scenario, runner.task_plan(result.scenario).table)
    for code, day in ((pilot["area"], 365), (later["area"], 540)):
        first = int(period_of(np.array([day]))[0])
        want = np.array([targets[code].general, targets[code].specialist])
        assert (workforces[code].in_post[first:] >= want - 1e-6).all()
        # specialists (the longer lag, with training) arrive just in time, not earlier
        assert workforces[code].in_post[first - 1, Pool.SPECIALIST] < want[Pool.SPECIALIST]
    text = sched.schedule_text(result)
    assert "right first commences 2026-04-01 in 1 area (Dorset)" in text
    assert "too late" not in text
    judged = capacity_test(CapacityTestOptions(scenario=result.scenario, replications=5,
                                               workers=1, write=False))
    verdicts = judged.result.verdicts
    assert list(verdicts["verdict"]) == ["pass", "pass"], verdicts.to_dict("records")


def test_a_pilot_too_early_to_recruit_for_is_flagged_and_the_rest_are_on_time() -> None:
    result = sched.schedule(_phased(60), _targets(_phased(60)))
    rows = result.areas.set_index("force")
    assert not rows.loc["Dorset", "on_time"] and rows.loc["Wiltshire", "on_time"]
    assert rows.loc["Dorset", "in_post_from_date"] == "2025-09-30"  # month 6, not month 2
    text = sched.schedule_text(result)
    assert "too late to recruit in time (commencement sooner than the lags) in 1 area" in text
    assert "2025-09-30: Dorset\n" in text


@pytest.mark.slow
def test_the_schedule_of_the_planners_result_passes_when_simulated() -> None:
    s = scenario(run={"years": 3}, areas={"include": ["Wiltshire"]},
                 statutory_right={"commence_day": 365})
    planned = plan(PlanOptions(scenario=s, schedule=True, max_utilisation=0.85,
                               replications=4, workers=1, write=False))
    schedule = planned.schedule
    assert schedule is not None and "recruitment starts" in planned.lines[0]
    assert schedule.scenario.capacity_test.max_utilisation == 0.85
    assert schedule.scenario.funding.capacity_from == "budget"
    row = schedule.areas.iloc[0]
    fte = planned.result.scenario.funding.area_fte[row["area"]]
    assert (row["planned_general_fte"], row["planned_specialist_fte"]) == (
        fte.general, fte.specialist)
    assert row["months_before_commencement"] > 0 and row["budget_gbp"] > row["today_budget_gbp"]
    judged = capacity_test(CapacityTestOptions(scenario=schedule.scenario, replications=10,
                                               workers=1, write=False))
    verdicts = judged.result.verdicts
    assert list(verdicts["verdict"]) == ["pass"], verdicts.to_dict("records")
    # before recruitment starts the area has today's staff only: the plan is not in post
    wf = funding.workforces(schedule.scenario,
                            runner.task_plan(schedule.scenario).table)[row["area"]]
    assert wf.in_post[0, Pool.GENERAL] < fte.general
