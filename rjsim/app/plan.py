"""``rjsim plan``: the least staffing per area that passes the minister's capacity test (the
price of commencement), and with ``--schedule`` the budget schedule that has it in post.

Exit status, for CI: 0 when the plan's check run passes the test, 1 when it fails or is
inconclusive, 2 on an error (raised as an :class:`RjsimError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rjsim.app.capacity import exit_status
from rjsim.app.common import ExperimentOptions, Outcome, display_or_quiet, finish, load, source_name
from rjsim.app.progress import Display
from rjsim.core.errors import ResultsError

if TYPE_CHECKING:
    from rjsim.planning.planner import PlanResult
    from rjsim.planning.schedule import ScheduleResult
    from rjsim.scenario.spec import Scenario

#: Replications per search round (and, times three, of the check) unless asked otherwise.
PLAN_REPLICATIONS = 10


@dataclass(frozen=True, kw_only=True)
class PlanOptions(ExperimentOptions):
    """``rjsim plan``: the scenario (with a statutory right) to staff. ``replications`` per
    search round default to :data:`PLAN_REPLICATIONS`; the task cache is not used.
    ``write_scenario``: also write the plan as a funding scenario to this file (``force``:
    replacing one that exists)."""

    scenario: Path | Scenario
    write_scenario: Path | None = None
    force: bool = False
    schedule: bool = False  # also plan the budget schedule with the real lags
    max_utilisation: float | None = None  # headroom: the test's max_utilisation for the plan


@dataclass(frozen=True, kw_only=True)
class PlanOutcome(Outcome):
    """The plan (``result.areas``, ``result.national``: FTE and cost; ``result.test``: its
    check run's capacity test; ``result.scenario``: the funding scenario), its staffing
    schedule when asked (``schedule``), and the TOML text of the scenario written (the
    schedule's when there is one)."""

    result: PlanResult
    scenario_toml: str
    schedule: ScheduleResult | None = None

    @property
    def verdict(self) -> str:
        return self.result.test.verdict


def _scenario_target(path: Path | None, force: bool) -> None:
    if path is None:
        return
    if path.is_dir():
        raise ResultsError(f"--write-scenario {path}: is a folder; give a file name, e.g. "
                           f"{path / 'commencement_plan.toml'}")
    if path.exists() and not force:
        raise ResultsError(f"--write-scenario {path}: the file exists; choose another name or "
                           "add --force to replace it")
    if not path.parent.is_dir():
        raise ResultsError(f"--write-scenario {path}: folder '{path.parent}' does not exist")


def _write_scenario(path: Path, text: str) -> None:
    from rjsim.results.atomic import write_text_atomic
    try:
        write_text_atomic(path, text, what=f"--write-scenario {path}")
    except ResultsError as exc:
        raise ResultsError(f"{exc}; the results directory was written") from None


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 area", "2 areas")."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def plan_text(result: PlanResult) -> str:
    """The plan's national summary and its largest increases, as printed."""
    n = result.national.iloc[0]
    a = result.areas
    guest = a["served_by"] != a["area"]  # served by another area's service (its host)
    largest: list[Any] = list(a[~guest].sort_values("change_gbp", ascending=False)
                              .head(8).itertuples())
    name = dict(zip(a["area"], a["force"], strict=True))
    change = float(n["change_gbp"])
    sign = "+" if change >= 0 else "-"
    against = (f"against GBP {n['today_budget_gbp'] / 1e6:,.1f}m today ({sign}GBP "
               f"{abs(change) / 1e6:,.1f}m, {n['cost_ratio_to_today']:.1f} times)"
               if n["today_budget_gbp"] > 0 else "against no budget today")
    lines = [f"Price of commencement ({_count(int(n['areas']), 'area')}, "
             f"{_count(int(n['replications']), 'replication')} per round, "
             f"{_count(int(n['search_rounds']), 'search round')}):",
             f"  {n['general_fte']:,.1f} general + {n['specialist_fte']:,.1f} specialist FTE "
             f"cost GBP {n['total_annual_cost_gbp'] / 1e6:,.1f}m a year, {against}",
             f"  Check of the plan on {_count(int(n['check_replications']), 'fresh replication')}"
             " (a seed the search never used): "
             f"{str(n['verdict']).upper()} in {int(n['areas_pass'])} of "
             f"{_count(int(n['areas']), 'area')}",
             "  FTE are in post from day 0 (recruited and trained ahead of commencement).",
             "  Largest increases:"]
    lines += [f"    {r.force:<28} {r.general_fte:7.1f} + {r.specialist_fte:6.1f} FTE  GBP "
              f"{r.annual_cost_gbp / 1e6:6.2f}m a year ({r.change_gbp / 1e6:+.2f}m)"
              for r in largest]
    if guest.any():
        lines.append("  Served by a neighbour's service (no staff of their own; their referrals "
                     "and today's budget are in the host's line): " + ", ".join(
                         f"{r.force} by {name.get(r.served_by, r.served_by)}"
                         for r in a[guest].itertuples()))
    return "\n".join(lines) + "\n"


def plan(options: PlanOptions, display: Display | None = None) -> PlanOutcome:
    """Find the least FTE per area that passes the test, write the results directory (plan
    tables, the check run's capacity-test tables and map, ``plan_scenario.toml``), the
    funding scenario if asked, and the report. The display gets a message per search round."""
    from rjsim.app import outputs
    from rjsim.planning import planner
    from rjsim.planning import schedule as staffing_schedule
    from rjsim.report import capmap
    from rjsim.results import store

    started = store.now_utc()
    scenario = load(options.scenario, options)
    if options.max_utilisation is not None:
        scenario = staffing_schedule.with_headroom(scenario, options.max_utilisation)
    if options.schedule:
        staffing_schedule.check_commencement(scenario)  # before the search, not after
    out = options.out or Path("results") / f"{scenario.name}_plan" if options.write else None
    if out is not None:
        store.prepare_target(out)  # before the work, not after
    _scenario_target(options.write_scenario, options.force)
    shown = display_or_quiet(display)

    def on_round(number: int, searching: int) -> None:
        shown.message(f"plan: round {number} done, {searching} area(s) still searching")
    settings = options.settings(None, replications=options.replications or PLAN_REPLICATIONS)
    try:
        result = planner.plan(scenario, settings, on_round=on_round)
    finally:
        shown.close()
    text = plan_text(result)
    toml = store.scenario_toml(result.scenario, "Written by 'rjsim plan': the least FTE per "
                               "area that passes the capacity test.")
    sched = None
    if options.schedule:
        sched = staffing_schedule.schedule(scenario, dict(result.scenario.funding.area_fte))
        text += staffing_schedule.schedule_text(sched)
        toml = store.scenario_toml(sched.scenario, "Written by 'rjsim plan --schedule': the "
                                   "plan's staff in post by commencement, after recruitment "
                                   "lags and attrition.")

    def more(tmp: Path) -> None:
        (tmp / "figures").mkdir(exist_ok=True)
        capmap.capacity_map(result.test.verdicts, tmp / "figures" / "capacity_map")
        (tmp / "plan_scenario.toml").write_text(toml, encoding="utf-8")
    tables = result.test.tables() | {"plan_area": result.areas, "plan_national":
                                     result.national, "plan_search": result.search_log}
    if sched is not None:
        tables |= {"schedule_area": sched.areas, "schedule_years": sched.years}
    written = options.write_scenario
    info = outputs.manifest(result.check, source_name(options.scenario), started) | {
        "plan": {"verdict": result.test.verdict, "scenario_written": str(written or "")}}
    if out is not None:
        outputs.write_experiment(out, result.check, info, text, more=more, tables=tables)
    if written is not None:
        _write_scenario(written, toml)
    done = ([f"Results written to {out}/ (plan_area.csv, plan_national.csv, "
             "plan_scenario.toml)"] if out is not None else [])
    done += [f"funding scenario written to {written}"] if written else []
    return finish(PlanOutcome(status=exit_status(result.test.verdict),
                              lines=(text, "; ".join(done)) if done else (text,),
                              out=out, result=result, scenario_toml=toml, schedule=sched),
                  options)
