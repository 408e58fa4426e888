"""The ``capacity-test`` and ``plan`` commands: their arguments and their work.

Nothing here writes to the terminal: each command returns a :class:`Done` (exit status, the
lines to print, the results directory) and :mod:`rjsim.cli.main` prints it and builds the report.
Exit status of ``rjsim capacity-test``, for CI: 0 when the national test passes, 1 when it
fails or is inconclusive, 2 on an error (bad scenario, data or argument).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_PASS, EXIT_NOT_PASSED = 0, 1


@dataclass(frozen=True)
class Done:
    """What a finished command leaves for the CLI to print."""

    status: int
    lines: list[str]
    out: Path


def register(sub: Any, experiment_options: Callable[[argparse.ArgumentParser], None],
             settings: Callable[..., Any], overrides: Callable[[argparse.Namespace], Any],
             capacity_test: Callable[[argparse.Namespace], int],
             plan_command: Callable[[argparse.Namespace], int]) -> None:
    """Add the commands to the ``rjsim`` parser (``sub``: its subparsers; the callables are
    the shared option handling of :mod:`rjsim.cli.main` and its printing wrappers of
    :func:`run_capacity_test` and :func:`run_plan`)."""
    global _settings, _overrides
    _settings, _overrides = settings, overrides
    test = sub.add_parser(
        "capacity-test", help="the minister's capacity test: per-area verdicts (exit 0 pass, "
        "1 fail or inconclusive, 2 error)",
        description="Run the scenario and judge each area over the assessment window against "
        "the [capacity_test] thresholds. Exit status: 0 national pass; 1 fail or "
        "inconclusive; 2 error.")
    test.add_argument("scenario", type=Path, help="scenario TOML file")
    experiment_options(test)
    test.set_defaults(func=capacity_test)

    plan = sub.add_parser(
        "plan", help="the price of commencement: least FTE per area that passes the test",
        description="Find, per area, the least general and specialist FTE (steps of 0.1) "
        "that pass the capacity test: Erlang C/A seeds, then simulation with common random "
        "numbers. Runs --replications per round (default 10 for the plan; the task cache is "
        "not used). Exit status: 0 when the plan passes the test everywhere, 1 when some "
        "area still does not, 2 on error.")
    plan.add_argument("scenario", type=Path, help="scenario TOML file (with a statutory right)")
    experiment_options(plan)
    for action in plan._actions:  # the plan's own defaults, not the shared ones
        if action.dest == "replications":
            action.help = f"replications per search round and check (default {PLAN_REPLICATIONS})"
        elif action.dest in ("cache", "no_cache"):
            action.help = "not used by the plan (every round is simulated afresh)"
    plan.add_argument("--write-scenario", type=Path, metavar="FILE",
                      help="also write the plan as a funding scenario to FILE (e.g. "
                      "scenarios/commencement_plan.toml) to run and compare")
    plan.add_argument("--force", action="store_true",
                      help="let --write-scenario replace an existing file")
    plan.set_defaults(func=plan_command)


_settings: Callable[..., Any]
_overrides: Callable[[argparse.Namespace], Any]


def run_capacity_test(args: argparse.Namespace) -> Done:
    """Run ``rjsim capacity-test``: the experiment, the verdicts, the results directory."""
    from rjsim.analysis import capacity_metrics as capacity
    from rjsim.app import outputs
    from rjsim.capacity import capacity_test
    from rjsim.cli.progress import ProgressBar
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report import capmap
    from rjsim.report.text import national_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    scenario = scenario_io.load(args.scenario, _overrides(args), "command line")
    assessed = capacity.assessed(scenario)
    out = args.out or Path("results") / f"{scenario.name}_capacity_test"
    store.prepare_target(out)  # before the work, not after
    bar = ProgressBar(enabled=None if not args.quiet else False)
    try:
        e = run_experiment(assessed, _settings(args, bar))
    finally:
        bar.close()
    result = capacity_test.evaluate(assessed, e.per_replication["capacity_metrics"],
                                    e.plan.areas)
    text = national_text(e) + "\n" + capacity_test.summary_text(result)

    def figures(tmp: Path) -> None:
        (tmp / "figures").mkdir(exist_ok=True)
        capmap.capacity_map(result.verdicts, tmp / "figures" / "capacity_map")
    info = outputs.manifest(e, str(args.scenario), started) | {
        "capacity_test": {"verdict": result.verdict, "exit_status": _exit(result.verdict)}}
    outputs.write_experiment(out, e, info, text, more=figures, tables=result.tables())
    shown = text if not args.quiet else capacity_test.summary_text(result).splitlines()[1]
    return Done(_exit(result.verdict), [shown, f"Results written to {out}/ "
                                        "(capacity_test_*.csv tables, figures/capacity_map)"],
                out)


def _exit(verdict: str) -> int:
    return EXIT_PASS if verdict == "pass" else EXIT_NOT_PASSED


PLAN_REPLICATIONS = 10


def _scenario_target(path: Path | None, force: bool) -> None:
    from rjsim.core.errors import ResultsError
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
    from rjsim.core.errors import ResultsError
    from rjsim.results.atomic import write_text_atomic
    try:
        write_text_atomic(path, text, what=f"--write-scenario {path}")
    except ResultsError as exc:
        raise ResultsError(f"{exc}; the results directory was written") from None


def _plan_text(result: Any) -> str:
    n = result.national.iloc[0]
    a = result.areas.sort_values("change_gbp", ascending=False).head(8)
    lines = [f"Price of commencement ({int(n['areas'])} areas, {int(n['replications'])} "
             f"replications per round, {int(n['search_rounds'])} search rounds):",
             f"  {n['general_fte']:,.1f} general + {n['specialist_fte']:,.1f} specialist FTE "
             f"cost GBP {n['total_annual_cost_gbp'] / 1e6:,.1f}m a year, against GBP "
             f"{n['today_budget_gbp'] / 1e6:,.1f}m today (+GBP {n['change_gbp'] / 1e6:,.1f}m, "
             f"{n['cost_ratio_to_today']:.1f} times)",
             f"  Check of the plan on {int(n['check_replications'])} fresh replications (a seed"
             " the search never used): "
             f"{str(n['verdict']).upper()} in {int(n['areas_pass'])} of {int(n['areas'])} areas",
             "  FTE are in post from day 0 (recruited and trained ahead of commencement).",
             "  Largest increases:"]
    lines += [f"    {r.force:<28} {r.general_fte:7.1f} + {r.specialist_fte:6.1f} FTE  GBP "
              f"{r.annual_cost_gbp / 1e6:6.2f}m a year (+{r.change_gbp / 1e6:.2f}m)"
              for r in a.itertuples()]
    return "\n".join(lines) + "\n"


def run_plan(args: argparse.Namespace, on_round: Callable[[int, int], None]) -> Done:
    """Run ``rjsim plan`` (``on_round(round, areas_still_searching)`` reports progress)."""
    import tomli_w

    from rjsim.app import outputs
    from rjsim.core.schema import to_plain
    from rjsim.planning import planner
    from rjsim.report import capmap
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    scenario = scenario_io.load(args.scenario, _overrides(args), "command line")
    out = args.out or Path("results") / f"{scenario.name}_plan"
    store.prepare_target(out)  # before the work, not after
    _scenario_target(args.write_scenario, args.force)
    args.replications = args.replications or PLAN_REPLICATIONS

    result = planner.plan(scenario, _settings(args, None), on_round=on_round)
    text = _plan_text(result)
    toml = ("# Written by 'rjsim plan': the least FTE per area that passes the capacity test.\n"
            + tomli_w.dumps(to_plain(result.scenario)))

    def more(tmp: Path) -> None:
        (tmp / "figures").mkdir(exist_ok=True)
        capmap.capacity_map(result.test.verdicts, tmp / "figures" / "capacity_map")
        (tmp / "plan_scenario.toml").write_text(toml, encoding="utf-8")
    tables = result.test.tables() | {"plan_area": result.areas, "plan_national":
                                     result.national, "plan_search": result.search_log}
    info = outputs.manifest(result.check, str(args.scenario), started) | {
        "plan": {"verdict": result.test.verdict, "scenario_written": str(args.write_scenario
                                                                         or "")}}
    outputs.write_experiment(out, result.check, info, text, more=more, tables=tables)
    if args.write_scenario is not None:
        _write_scenario(args.write_scenario, toml)
    written = (f"Results written to {out}/ (plan_area.csv, plan_national.csv, "
               "plan_scenario.toml)" + (f"; funding scenario written to {args.write_scenario}"
                                        if args.write_scenario else ""))
    return Done(_exit(result.test.verdict), [text, written], out)
