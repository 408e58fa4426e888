"""The arguments of ``capacity-test`` and ``plan``; their work is :mod:`rjsim.app.capacity` and
:mod:`rjsim.app.plan`.

Exit status of ``rjsim capacity-test``, for CI: 0 when the national test passes, 1 when it
fails or is inconclusive, 2 on an error (bad scenario, data or argument).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rjsim.app.plan import PLAN_REPLICATIONS
from rjsim.cli.common import (
    add_experiment_options,
    display,
    experiment_options,
    show,
)


def register(sub: Any) -> None:
    """Add the commands to the ``rjsim`` parser (``sub``: its subparsers)."""
    test = sub.add_parser(
        "capacity-test", help="the minister's capacity test: per-area verdicts (exit 0 pass, "
        "1 fail or inconclusive, 2 error)",
        description="Run the scenario and judge each area over the assessment window against "
        "the [capacity_test] thresholds. Exit status: 0 national pass; 1 fail or "
        "inconclusive; 2 error.")
    test.add_argument("scenario", type=Path, help="scenario TOML file")
    add_experiment_options(test, pdf=True)
    quo = test.add_mutually_exclusive_group()
    quo.add_argument("--baseline", type=Path, metavar="FILE",
                     help="the status quo to measure the postcode lottery against, run on the "
                     "same areas, window and seeds (default: this scenario without the "
                     "statutory right, with today's funding and no pooling)")
    quo.add_argument("--no-baseline", action="store_true",
                     help="do not run the status quo (halves the run time; the report then "
                     "gives the scenario's own inequality only; a scenario can say so with "
                     "capacity_test.status_quo = false)")
    test.set_defaults(func=_cmd_capacity_test)

    plan = sub.add_parser(
        "plan", help="the price of commencement: least FTE per area that passes the test",
        description="Find, per area, the least general and specialist FTE (steps of 0.1) "
        "that pass the capacity test: Erlang C/A seeds, then simulation with common random "
        "numbers. Runs --replications per round (default 10 for the plan; the task cache is "
        "not used). Exit status: 0 when the plan passes the test everywhere, 1 when some "
        "area still does not, 2 on error.")
    plan.add_argument("scenario", type=Path, help="scenario TOML file (with a statutory right)")
    unused = "not used by the plan (every round is simulated afresh)"
    add_experiment_options(plan, pdf=True, helps={  # the plan's own defaults
        "replications": f"replications per search round and check (default {PLAN_REPLICATIONS})",
        "cache": unused, "no_cache": unused})
    plan.add_argument("--write-scenario", type=Path, metavar="FILE",
                      help="also write the plan as a funding scenario to FILE (e.g. "
                      "scenarios/commencement_plan.toml) to run and compare")
    plan.add_argument("--force", action="store_true",
                      help="let --write-scenario replace an existing file")
    plan.add_argument("--schedule", action="store_true",
                      help="also plan a budget schedule: when recruitment must start and how "
                      "each area's budget must rise so the planned staff are in post at "
                      "commencement, after recruitment and training lags and attrition "
                      "(--write-scenario then writes the schedule)")
    plan.add_argument("--max-utilisation", type=float, metavar="U",
                      help="utilisation headroom: plan for offered load per slot below U, "
                      "e.g. 0.85 (default: the scenario's capacity_test.max_utilisation)")
    plan.set_defaults(func=_cmd_plan)


def _cmd_capacity_test(args: argparse.Namespace) -> int:
    from rjsim.app.capacity import CapacityTestOptions, capacity_test
    return show(capacity_test(CapacityTestOptions(
        scenario=args.scenario, baseline=args.baseline,
        status_quo=False if args.no_baseline else None,
        **experiment_options(args)), display(args)))


def _cmd_plan(args: argparse.Namespace) -> int:
    from rjsim.app.plan import PlanOptions, plan
    return show(plan(PlanOptions(scenario=args.scenario, write_scenario=args.write_scenario,
                                 force=args.force, schedule=args.schedule,
                                 max_utilisation=args.max_utilisation,
                                 **experiment_options(args)), display(args)))
