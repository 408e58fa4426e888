"""The ``backcast`` command: its arguments and its work (printing is left to
:mod:`rjsim.cli.main`, through :class:`rjsim.cli.capacity.Done`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rjsim.cli.capacity import Done
from rjsim.core.errors import InputError, Problem

BACKCAST_REPLICATIONS = 10


def register(sub: Any, experiment_options: Callable[[argparse.ArgumentParser], None],
             backcast_command: Callable[[argparse.Namespace], int]) -> None:
    """Add ``rjsim backcast`` to the parser (``sub``: its subparsers)."""
    p = sub.add_parser(
        "backcast", help="the status quo against every published evidence target",
        description="Run the status-quo configuration (no statutory right, no budget changes; "
        "a published spend where a target gives one) for each evidence target's area and "
        "print and write a table: target, published value and range, model estimate with its "
        "95%% CI, ratio, and whether they are consistent at the stated uncertainty.")
    p.add_argument("scenario", nargs="?", type=Path, default=Path("scenarios/baseline.toml"),
                   help="status-quo scenario (default scenarios/baseline.toml)")
    p.add_argument("--targets", type=Path, help="evidence targets CSV (default: the packaged "
                   "rjsim/data/evidence_targets.csv)")
    experiment_options(p)
    for action in p._actions:
        if action.dest == "replications":
            action.help = f"replications (default {BACKCAST_REPLICATIONS})"
        elif action.dest == "years":
            action.help = "simulated years, the first discarded as warm-up (default 3)"
        elif action.dest == "no_report":
            action.help = "not used (the back-cast writes tables and summary.txt)"
    p.set_defaults(func=backcast_command)


def run_backcast(args: argparse.Namespace, settings: Callable[..., Any]) -> Done:
    """Run ``rjsim backcast`` and write its results directory."""
    from dataclasses import replace

    from rjsim.cli.progress import ProgressBar
    from rjsim.data import targets as evidence
    from rjsim.planning import backcast
    from rjsim.report.evidence import backcast_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    overrides = {"run": {"seed": args.seed}} if args.seed is not None else {}
    scenario = scenario_io.load(args.scenario, overrides, "command line")
    chosen = evidence.load(args.targets)
    out = args.out or Path("results") / f"backcast_{scenario.name}"
    store.prepare_target(out)  # before the work, not after
    years = args.years if args.years is not None else backcast.YEARS
    if years * 365 <= backcast.WARMUP_DAYS + 31:
        raise InputError([Problem("--years", "must leave at least a month after the one-year "
                                  "warm-up (more than 1.1)", f"{years:g}")], "invalid argument")
    bar = ProgressBar(enabled=None if not args.quiet else False)
    try:
        run = settings(args, bar)
        run = replace(run, replications=args.replications or BACKCAST_REPLICATIONS)
        table = backcast.backcast(scenario, chosen, run, years)
    finally:
        bar.close()
    text = backcast_text(table, scenario.name, run.replications)
    info = {"rjsim_results": 1, "command": store.command_line(), "backcast": scenario.name,
            "replications": run.replications, "years": years,
            "warmup_days": backcast.WARMUP_DAYS, "targets": str(args.targets or "packaged"),
            "versions": store.versions(), "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
    store.write_results(out, scenario, {"backcast": table}, info, extra)
    lines = [] if args.quiet else [text, ""]
    return Done(0, [*lines, f"Results written to {out}/ (tables/backcast.csv, summary.txt)"], out)
