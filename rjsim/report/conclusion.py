"""The decision table's conclusion (:mod:`rjsim.report.decision`), in one sentence: the cheapest
option that passes the capacity test, or that none does and what the least-cost plan needs a
year, with the command that confirms it by simulation. ``rjsim compare`` also ends its printed
summary with it ('In short: ...'), and the workbook's summary sheet carries it.

The least-cost plan's figure (:func:`plan_estimate`) is an analytic estimate computed from an
option's resolved ``scenario.toml`` by queueing formulas (each area's caseload pools as Erlang
C/A queues at the expected referral rate under the right; no simulation, under a second).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from rjsim.core.errors import InputError, ResultsError
from rjsim.report.decision import OptionRow, gbp_m
from rjsim.results.reader import Results
from rjsim.scenario.spec import Scenario


def conclusion(rows: list[OptionRow], plan: PlanEstimate | None) -> str:
    """The sentence under the table: the cheapest option that passes, or that none does and
    what the least-cost plan would cost a year (``plan``: :func:`plan_estimate`)."""
    tested = [r for r in rows if r.verdict is not None]
    passing = [r for r in tested if r.verdict == "pass"]
    if passing:
        best = min(passing, key=lambda r: (math.inf if math.isnan(r.cost.mean)
                                            else r.cost.mean))
        others = (f" ({len(passing)} of {len(rows)} options pass)" if len(passing) > 1 else
                  " (the only option that passes)")
        return (f"The cheapest option that passes the capacity test is '{best.title}', at "
                f"{gbp_m(best.cost.mean)} a year once in force{others}.")
    if not tested:
        return ("The capacity test could not be run for any option: each run ends before the "
                "test's assessment window (commencement plus its settling period) has "
                "enough months. Run the comparison with more years (--years).")
    most = max(tested, key=lambda r: r.areas_pass or 0)
    head = (f"No option passes the capacity test (the most areas passing is {most.areas_pass} "
            f"of {most.areas}, under '{most.title}'). " if most.areas_pass else
            "No option passes the capacity test (no area passes under any of them). ")
    if plan is None:
        return head + ("No option commences the statutory right within its run, so there is "
                       "no least-cost plan to price: 'rjsim plan' staffs a scenario with a "
                       "right.")
    if math.isnan(plan.annual_cost_gbp):
        return head + (f"The least-cost plan could not be estimated here ({plan.problem}): run "
                       f"'{plan.command}' for the staffing each area needs and its cost a "
                       "year.")
    return head + (f"The least-cost plan needs about {gbp_m(plan.annual_cost_gbp)} a year with "
                   f"the settings of '{plan.title}': an analytic estimate (each area's "
                   "caseload pools as Erlang C/A queues at the expected referral rate under "
                   f"the right); '{plan.command}' confirms it by simulation, which usually "
                   "adds a little.")


@dataclass(frozen=True)
class PlanEstimate:
    """The least-cost plan for the option it starts from (:func:`plan_estimate`)."""

    option: str  # the option's name
    title: str
    command: str  # the command that confirms it by simulation, e.g. 'rjsim plan x.toml'
    annual_cost_gbp: float  # analytic least cost a year, all areas; NaN if not estimated
    problem: str = ""  # why it could not be estimated ('' when it was)


def plan_estimate(res: Results, rows: list[OptionRow]) -> PlanEstimate | None:
    """The least-cost plan's analytic estimate (:func:`rjsim.uncertainty.price.analytic_plan`:
    each area's least staffing as the planner's Erlang C/A seed, priced a year) and the
    ``rjsim plan`` command that confirms it, for one option; None when no option commences
    the right within its run (there is no price of commencement to give).

    Which option: ``rjsim plan`` keeps a scenario's commencement, phasing, demand and service
    settings and replaces only its funding by the least staffing that passes, so options that
    differ only in funding (the shipped funding options) share one plan. The plan starts from
    an option whose right is in force within the run and whose areas can be planned one by one
    (no [pooling] regions); of those, the one passing the most areas (the first compared on a
    tie): where options also differ in commencement or service settings, it is the arrangement
    the committee's options come nearest to passing with, so the plan prices that one. Each
    option's resolved ``scenarios/<name>/scenario.toml`` is what is planned; the command names
    the option's own scenario file when the comparison recorded one, else that resolved file.
    """
    from rjsim.report.compare import option_names
    from rjsim.scenario import io as scenario_io
    from rjsim.uncertainty import price

    names = option_names(res)
    files = res.manifest.get("scenario_files")
    files = files if isinstance(files, list) and len(files) == len(names) else [""] * len(names)
    source = {n: str(f or "") for n, f in zip(names, files, strict=True)}
    candidates: list[tuple[int, int, OptionRow, Scenario]] = []
    problems: list[tuple[OptionRow, str]] = []
    for order, row in enumerate(rows):
        path = res.path / "scenarios" / row.name / "scenario.toml"
        try:
            scenario = scenario_io.from_dict(Results(path.parent, {}).scenario(), str(path))
        except (InputError, ResultsError) as exc:
            problems.append((row, f"{path.name} of '{row.name}': {exc}"))
            continue
        if price.has_price(scenario) and not scenario.pooling.regions:
            candidates.append((-(row.areas_pass or 0), order, row, scenario))
    if not candidates:
        if not problems:
            return None
        row, problem = problems[0]
        return PlanEstimate(row.name, row.title, _plan_command(res, row.name, source),
                            math.nan, " ".join(problem.split()))
    *_, row, scenario = min(candidates, key=lambda c: (c[0], c[1]))
    command = _plan_command(res, row.name, source)
    try:
        cost = float(price.analytic_plan(scenario)["annual_cost_gbp"].sum())
    except InputError as exc:  # e.g. its area data is no longer where the run read it
        return PlanEstimate(row.name, row.title, command, math.nan, " ".join(str(exc).split()))
    return PlanEstimate(row.name, row.title, command, cost)


def _plan_command(res: Results, name: str, source: dict[str, str]) -> str:
    file = source.get(name) or (res.path / "scenarios" / name / "scenario.toml").as_posix()
    return f"rjsim plan {Path(file).as_posix()}"
