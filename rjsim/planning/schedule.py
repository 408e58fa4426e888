"""A staffing plan with the real lags: when recruitment must start, and how each area's budget
must rise, so that the planner's staff are in post when the right commences.

:func:`rjsim.planning.planner.plan` finds the least FTE per area that passes the capacity test
with staff in post from day 0. Real staff arrive after the recruitment lag (specialists also
after training), leave at the attrition rate and are replaced after the replacement lag, so
the posts a budget pays for are never all filled. This module turns the planner's per-area
FTE into a budget schedule a commissioner could follow, using the workforce model itself
(:func:`rjsim.model.workforce.build`):

* each area keeps today's budget until its **recruitment start**, the last month from which
  new hires (specialists after training, the longer of the two lags) are in post by the month
  the right first commences in that area (:func:`first_commencement`: with phases, the
  earliest phase naming the area for any offence group, so a pilot area recruits earlier
  than the rest);
* from then its budget pays for an establishment large enough that FTE *in post* (after
  attrition and vacancies) stay at or above the planner's FTE in every month from that
  commencement to the end of the run: found by raising the establishment of each skill by the
  shortfall's ratio until none is left (the workforce model is deterministic);
* the area's specialist share is the planned mix (``funding.area_specialist_share``), so its
  budget buys the planner's general and specialist FTE.

The schedule is a budget-driven scenario (today's budgets, then one dated budget change per
recruitment start), so ``rjsim capacity-test`` judges it with the model's own workforce; the
utilisation headroom is the test's ``max_utilisation``, set before planning. Cost by year is
the budget allocated and the spend (staff in post, specialists' training and volunteers).

Assumptions and limitations (printed with the schedule): hiring is unlimited (every post is
filled exactly the recruitment lag after its budget rises, however many are recruited at once:
no labour-market or training-place limit is modelled); the budget allocated from the
recruitment start is not all spent while posts are vacant, and what is not spent is neither
carried over nor spent elsewhere; an area whose recruitment would have to start before the first
month (its first commencement sooner than the lags allow) starts at the first month, has its
staff in post as soon as the lags allow (``in_post_from_date``) and is flagged (``on_time``
false); staff over what today's budget pays are not cut before commencement; the planned mix
replaces the national specialist share for today's staff too, so the status quo before
commencement is staffed in the planned mix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rjsim.core.codes import Pool
from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import FrozenMap
from rjsim.data.areas import Area
from rjsim.experiment import runner
from rjsim.funding import budgets as funding
from rjsim.model import workforce
from rjsim.model.demand import DAYS_PER_PERIOD, period_of
from rjsim.model.staffing import period_days
from rjsim.model.workforce import Workforce
from rjsim.planning import plan_tables
from rjsim.scenario.funding import AreaFte, BudgetChange
from rjsim.scenario.spec import DAYS_PER_YEAR, Scenario

#: Relative slack of the establishment search (in-post FTE may fall short by this share).
TOLERANCE = 1e-9
MAX_STEPS = 200


def with_headroom(scenario: Scenario, max_utilisation: float) -> Scenario:
    """``scenario`` whose capacity test requires offered load per slot below
    ``max_utilisation`` (e.g. 0.85: 15% headroom), as the planner and the schedule use it."""
    if not 0.0 < max_utilisation <= 1.0:
        raise ScenarioError([Problem(
            "--max-utilisation", "the utilisation headroom the plan is made with (it replaces "
            "the scenario's capacity_test.max_utilisation) must be a number in (0, 1], e.g. "
            "0.85 for 15% headroom", f"{max_utilisation:g}")], "invalid --max-utilisation")
    return dataclasses.replace(scenario, capacity_test=dataclasses.replace(
        scenario.capacity_test, max_utilisation=max_utilisation))


@dataclass(frozen=True)
class AreaSchedule:
    """One area's step: today's budget until period ``start``, then ``budget_gbp``."""

    area: Area
    target: AreaFte
    today_gbp: float
    budget_gbp: float
    specialist_share: float
    start: int  # first period of the new budget (recruitment starts)
    commence: int  # the period the right first commences in the area
    ready: int  # first period with the planned staff in post (commencement, or later if the
    # lags do not leave time)
    workforce: Workforce
    host: str = ""  # a guest of a shared service: its host's code (its step is the host's)
    first_day: float = 0.0  # the day the right first commences in the area's service


@dataclass(frozen=True)
class ScheduleResult:
    """The schedule as a scenario, per area, and by year."""

    scenario: Scenario
    areas: pd.DataFrame
    years: pd.DataFrame


def _lags(scenario: Scenario) -> int:
    """Periods from the budget rise to new staff in post (specialists' training included)."""
    dyn = scenario.staffing
    need = max(dyn.recruitment_lag_days, dyn.recruitment_lag_days
               + dyn.specialist_training_lag_days)
    return math.ceil(need / DAYS_PER_PERIOD - 1e-9)


def _area_step(scenario: Scenario, area: Area, target: AreaFte, today: Workforce,
               commence: int) -> AreaSchedule:
    """The least budget from the recruitment start that keeps in-post FTE at or above
    ``target`` in every period from ``commence`` on."""
    f = scenario.funding
    days = period_days(scenario.run.horizon_days)
    costs = funding.cost_per_fte(f)
    volunteer = funding.volunteers(scenario, area)
    wanted = commence - _lags(scenario)
    start = max(1, wanted)
    ready = max(commence, start + _lags(scenario))  # later than commencement when too late
    need = np.array([target.general, target.specialist])
    est = need.copy()
    today_gbp = float(today.budget_gbp[0])
    for _ in range(MAX_STEPS):
        budget = max(float(est @ np.array(costs)) + volunteer[1], today_gbp)
        share = est[Pool.SPECIALIST] / est.sum() if est.sum() > 0 else f.specialist_share
        path = np.where(np.arange(len(days)) < start, today_gbp, budget)
        wf = workforce.build(path, days, costs, f, scenario.staffing, volunteer, float(share))
        lowest = wf.in_post[ready:].min(axis=0)
        short = np.where(need > 0, need / np.maximum(lowest, 1e-12), 0.0)
        if (short <= 1.0 + TOLERANCE).all():
            return AreaSchedule(area, target, today_gbp, budget, float(share), start, commence,
                                ready, wf)
        est = est * np.maximum(short, 1.0) * (1.0 + TOLERANCE)
    raise ScenarioError([Problem("staffing", f"area {area.code}: no budget keeps the planned "
                                 "staff in post (attrition too high for the replacement lag?)")])


def check_commencement(scenario: Scenario) -> float:
    """The day ``scenario`` commences its right (a schedule is planned back from it)."""
    day = scenario.commence_day
    if day is None:
        raise ScenarioError([Problem("statutory_right", "a staffing schedule needs a "
                                     "commencement date: set commence_day or commence_date")],
                            "cannot plan a staffing schedule")
    return day


def first_commencement(scenario: Scenario, area: Area) -> float:
    """The day the right first commences in ``area``: its earliest phase for any offence
    group (the one commencement without phases; the last phase's day for an area no phase
    names, as :attr:`Scenario.commence_day`)."""
    days = [d for g in scenario.demand.groups
            if (d := scenario.right_commences(g, area.code, area.name)) is not None]
    if days:
        return min(days)
    return check_commencement(scenario)


def schedule(scenario: Scenario, targets: Mapping[str, AreaFte]) -> ScheduleResult:
    """The budget schedule that puts ``targets`` (the planner's FTE per area code) in post by
    the month the right first commences in each area (see the module docstring)."""
    check_commencement(scenario)
    scenario = plan_tables.planned_services(scenario)
    plan = runner.task_plan(scenario)
    selected = {a.code for a in plan.areas}
    hosts = {g: h for g, h in plan.hosts.items() if g in selected}
    service: dict[str, list[Area]] = {}  # host code -> the areas it serves, itself first
    for a in plan.areas:
        service.setdefault(hosts.get(a.code, a.code), []).append(a)
    steps: dict[str, AreaSchedule] = {}
    for host, members in service.items():
        first = min(first_commencement(scenario, a) for a in members)
        steps[host] = dataclasses.replace(_area_step(
            scenario, plan.area(host), targets[host], plan.workforce[host],
            int(period_of(np.array([first]))[0])), first_day=first)
    for guest, host in hosts.items():  # no staff of its own: its host's budget serves it
        h = steps[host]
        steps[guest] = dataclasses.replace(
            h, area=plan.area(guest), target=AreaFte(0.0, 0.0), today_gbp=0.0, budget_gbp=0.0,
            workforce=plan.workforce[guest], host=host)
    ordered = [steps[a.code] for a in plan.areas]
    return ScheduleResult(_scenario(scenario, ordered), _area_table(scenario, ordered),
                          _year_table(scenario, ordered))


def _start_date(scenario: Scenario, period: int) -> str:
    """Calendar date of the whole day a budget change must name to apply from ``period``."""
    starts = np.concatenate([[0.0], np.cumsum(period_days(scenario.run.horizon_days))[:-1]])
    first = dt.date.fromisoformat(scenario.run.start_date)
    return (first + dt.timedelta(days=math.floor(starts[period]))).isoformat()


def _scenario(scenario: Scenario, steps: list[AreaSchedule]) -> Scenario:
    by_start: dict[int, dict[str, float]] = {}
    for s in steps:
        by_start.setdefault(s.start, {})[s.area.code] = s.budget_gbp
    changes = tuple(BudgetChange(from_date=_start_date(scenario, k),
                                 area_budget_gbp=FrozenMap(budgets))
                    for k, budgets in sorted(by_start.items()))
    f = dataclasses.replace(
        scenario.funding, capacity_from="budget", fte=AreaFte(0.0, 0.0), area_fte=FrozenMap(),
        area_budget_gbp=FrozenMap({s.area.code: s.today_gbp for s in steps}),
        area_specialist_share=FrozenMap({s.area.code: s.specialist_share for s in steps}),
        schedule=changes)  # shared services kept: a guest's budget is zero, its host's serves it
    text = ("A staffing schedule with the real lags, by 'rjsim plan --schedule': each area "
            "keeps today's budget until recruitment must start, then its budget pays for the "
            "planned FTE in post from its first commencement, after recruitment and training "
            "lags, attrition and vacancies (capacity_test.max_utilisation "
            f"{scenario.capacity_test.max_utilisation:g}). Hiring is assumed unlimited: every "
            "post is filled exactly the lags after its budget rises.\n" + scenario.description)
    return dataclasses.replace(scenario, name=f"{scenario.name}_schedule", funding=f,
                               description=text)


def _day_date(scenario: Scenario, day: float) -> str:
    first = dt.date.fromisoformat(scenario.run.start_date)
    return (first + dt.timedelta(days=math.floor(day))).isoformat()


def _area_table(scenario: Scenario, steps: list[AreaSchedule]) -> pd.DataFrame:
    rows = []
    for s in steps:
        wf = s.workforce
        rows.append({
            "area": s.area.code, "force": s.area.name, "region": s.area.region,
            "served_by": s.host or s.area.code,
            "planned_general_fte": s.target.general,
            "planned_specialist_fte": s.target.specialist,
            "commencement_date": _day_date(scenario, s.first_day),
            "recruitment_start_date": _start_date(scenario, s.start),
            "months_before_commencement": s.commence - s.start,
            "in_post_from_date": _start_date(scenario, s.ready),
            "on_time": s.ready == s.commence,
            "today_budget_gbp": s.today_gbp, "budget_gbp": s.budget_gbp,
            "specialist_share": s.specialist_share,
            "establishment_general_fte": float(wf.establishment[-1, Pool.GENERAL]),
            "establishment_specialist_fte": float(wf.establishment[-1, Pool.SPECIALIST]),
            "in_post_general_fte_min": float(wf.in_post[s.ready:, Pool.GENERAL].min()),
            "in_post_specialist_fte_min": float(wf.in_post[s.ready:, Pool.SPECIALIST].min()),
            "vacancy_fte_at_end": float(wf.vacancies[-1].sum()),
        })
    return pd.DataFrame(rows)


def _year_table(scenario: Scenario, steps: list[AreaSchedule]) -> pd.DataFrame:
    """National budget, spend, staff and hires per run year (12 periods; the last may be
    short)."""
    days = period_days(scenario.run.horizon_days)
    year = np.arange(len(days)) // 12
    first = dt.date.fromisoformat(scenario.run.start_date)
    frame = pd.DataFrame({
        "year": year,
        "budget_gbp": sum(s.workforce.budget_gbp * days / DAYS_PER_YEAR for s in steps),
        "spend_gbp": sum(s.workforce.spend_gbp for s in steps),
        "in_post_fte": sum(s.workforce.in_post.sum(axis=1) for s in steps),
        "establishment_fte": sum(s.workforce.establishment.sum(axis=1) for s in steps),
        "hires_fte": sum(s.workforce.hires.sum(axis=1) for s in steps)})
    out = frame.groupby("year").agg(
        budget_gbp=("budget_gbp", "sum"), spend_gbp=("spend_gbp", "sum"),
        in_post_fte_mean=("in_post_fte", "mean"),
        establishment_fte_mean=("establishment_fte", "mean"),
        hires_fte=("hires_fte", "sum")).reset_index()
    out.insert(1, "from_date", [first.replace(year=first.year + int(y)).isoformat()
                                for y in out["year"]])
    out["year"] = out["year"] + 1
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _names(names: list[str]) -> str:
    return f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"


def schedule_text(result: ScheduleResult) -> str:
    """The schedule's summary, as printed: when recruitment starts, the budget and its cost by
    year."""
    a, y = result.areas, result.years
    late = a.loc[~a["on_time"], "force"].tolist()
    lines = ["Staffing schedule with recruitment and training lags, attrition and vacancies:"]
    for date, group in a.groupby("commencement_date", sort=True):
        start, months = group["recruitment_start_date"].min(), group[
            "months_before_commencement"].max()
        where = ("" if len(group) == len(a) else
                 f" in {_count(len(group), 'area')} ({_names(group['force'].tolist())})")
        lines.append(f"  right first commences {date}{where}: recruitment starts {start} "
                     f"({_count(int(months), 'month')} before)")
    lines += [f"  budget from recruitment GBP {a['budget_gbp'].sum() / 1e6:,.1f}m a year against "
              f"GBP {a['today_budget_gbp'].sum() / 1e6:,.1f}m today",
              f"  establishment {a['establishment_general_fte'].sum():,.1f} general + "
              f"{a['establishment_specialist_fte'].sum():,.1f} specialist FTE, so that "
              f"{a['planned_general_fte'].sum():,.1f} + "
              f"{a['planned_specialist_fte'].sum():,.1f} are in post from each area's first "
              "commencement"]
    if late:
        lines.append(f"  too late to recruit in time (commencement sooner than the lags) in "
                     f"{_count(len(late), 'area')}, staff in post only from "
                     f"{a.loc[~a['on_time'], 'in_post_from_date'].max()}: {_names(late)}")
    lines.append("  cost by year (budget allocated / spent):")
    for year, date, budget, spend, fte in zip(
            y["year"], y["from_date"], y["budget_gbp"], y["spend_gbp"], y["in_post_fte_mean"],
            strict=True):
        lines.append(f"    year {int(year)} from {date}: GBP {float(budget) / 1e6:,.2f}m / "
                     f"{float(spend) / 1e6:,.2f}m, {float(fte):,.1f} FTE in post on average")
    return "\n".join(lines + _limitations(result)) + "\n"


def _limitations(result: ScheduleResult) -> list[str]:
    """The schedule's two strong assumptions, with its own figures."""
    dyn, y = result.scenario.staffing, result.years
    peak = int(y["hires_fte"].to_numpy().argmax())
    unspent = y["budget_gbp"] - y["spend_gbp"]
    most = int(unspent.to_numpy().argmax())
    return [
        "  Assumptions and limitations:",
        "    hiring is unlimited: every post is filled exactly "
        f"{dyn.recruitment_lag_days:g} days after its budget rises (specialists trained "
        f"{dyn.specialist_training_lag_days:g} days more), however many are recruited at "
        f"once, with no limit on the people available or on training places (up to "
        f"{float(y['hires_fte'].iloc[peak]):,.1f} FTE hired in year {int(y['year'].iloc[peak])})",
        "    the budget pays for the posts from the recruitment start, but vacant posts cost "
        "nothing: what is allocated and not spent (most in year "
        f"{int(y['year'].iloc[most])}: GBP {float(y['budget_gbp'].iloc[most]) / 1e6:,.2f}m "
        f"allocated, {float(y['spend_gbp'].iloc[most]) / 1e6:,.2f}m spent) is neither carried "
        "over nor spent on anything else"]
