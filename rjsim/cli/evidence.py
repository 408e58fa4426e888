"""The ``backcast`` command: its arguments and its work (printing is left to
:mod:`rjsim.cli.main`, through :class:`rjsim.cli.common.Done`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rjsim.cli.common import Done, display
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
            action.help = ("simulated years, more than 1.1 (a month after the one-year "
                           "warm-up) and at most 50 (default 3)")
        elif action.dest == "no_report":
            action.help = "not used (the back-cast writes tables and summary.txt)"
    p.set_defaults(func=backcast_command)


def run_backcast(args: argparse.Namespace, settings: Callable[..., Any]) -> Done:
    """Run ``rjsim backcast`` and write its results directory."""
    from dataclasses import replace

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
    bar = display(args)
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


VERIFY_REPLICATIONS, VERIFY_YEARS, VERIFY_WARMUP_YEARS, VERIFY_MARGIN_DAYS = 30, 20.0, 5.0, 365.0


def register_verify(sub: Any, verify_command: Callable[[argparse.Namespace], int]) -> None:
    """Add ``rjsim verify`` to the parser."""
    p = sub.add_parser(
        "verify", help="one area of your configuration as M/M/c and M/M/c+M, against Erlang C "
        "and Erlang A (exit 0 agree, 1 differ)",
        description="Turn one area of the scenario into its Markovian equivalent (same "
        "referral rate and caseload slots, exponential cases of the same mean length, with and "
        "without exponential patience of the same mean), simulate it and compare the mean wait, "
        "P(wait > 0), P(wait > target) and abandonment with Erlang C and Erlang A. Writes the "
        "equivalent scenario files beside the table. Exit 0 when every check agrees, 1 when one "
        "differs or has too few events to judge (or M/M/c+M cannot be checked), 2 on error.")
    p.add_argument("scenario", type=Path, help="scenario TOML file")
    p.add_argument("--area", help="area code or name (default: the scenario's first area)")
    p.add_argument("--replications", type=int, default=VERIFY_REPLICATIONS,
                   help=f"replications of each queue (default {VERIFY_REPLICATIONS})")
    p.add_argument("--years", type=float, default=VERIFY_YEARS,
                   help=f"simulated years, {VERIFY_WARMUP_YEARS + 2:g} to 200 (default "
                   f"{VERIFY_YEARS:g}; the first {VERIFY_WARMUP_YEARS:g} are warm-up, the last "
                   "year's referrals a margin)")
    p.add_argument("--out", type=Path, help="results directory (default results/verify_<name>)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only where results are")
    p.set_defaults(func=verify_command)


def run_verify(args: argparse.Namespace) -> Done:
    """Run ``rjsim verify``: the equivalent queues, their simulation and the comparison."""
    import tempfile

    import tomli_w

    from rjsim.planning import verify
    from rjsim.report.evidence import verify_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    problems = []
    if not 2 <= args.replications <= 10_000:
        problems.append(Problem("--replications", "must be 2 to 10000", str(args.replications)))
    if not VERIFY_WARMUP_YEARS + 2 <= args.years <= 200:
        problems.append(Problem("--years", f"must be {VERIFY_WARMUP_YEARS + 2:g} to 200 (the "
                                f"first {VERIFY_WARMUP_YEARS:g} are warm-up)", f"{args.years:g}"))
    if problems:
        raise InputError(problems, "invalid argument")
    started = store.now_utc()
    scenario = scenario_io.load(args.scenario)
    eq = verify.equivalent(scenario, args.area)
    slug = verify._slug(eq.area_name)
    out = args.out or Path("results") / f"verify_{scenario.name}_{slug}"
    store.prepare_target(out)
    files: dict[str, str] = {f"{slug}_area.csv": verify.area_csv(eq)}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / f"{slug}_area.csv").write_text(files[f"{slug}_area.csv"], encoding="utf-8")
        for queue, patience in (("M/M/c", False), ("M/M/c+M", True)):
            if patience and eq.mean_patience_days is None:
                continue
            name = f"{slug}_{'mmcm' if patience else 'mmc'}.toml"
            files[name] = tomli_w.dumps(verify.scenario_dict(
                eq, patience, f"{slug}_area.csv", args.years, VERIFY_WARMUP_YEARS * 365))
            (Path(tmp) / name).write_text(files[name], encoding="utf-8")
            theory = verify.theory(eq, patience)
            if all(v is None for v in theory.values()):
                continue  # M/M/c at load >= 1: no steady state to compare with
            results[queue] = (verify.simulate(Path(tmp) / name, args.replications,
                                              VERIFY_MARGIN_DAYS), theory)
    table = verify.compare(results)
    text = verify_text(eq, table)
    info = {"rjsim_results": 1, "command": store.command_line(), "verify": scenario.name,
            "area": eq.area_code, "replications": args.replications, "years": args.years,
            "versions": store.versions(), "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        (tmp / "equivalent").mkdir()
        for name, content in files.items():
            (tmp / "equivalent" / name).write_text(content, encoding="utf-8")
    store.write_results(out, scenario, {"verify": table}, info, extra)
    judged = table[table["verdict"] != "no analytic value"] if len(table) else table
    passed = len(judged) > 0 and bool((judged["verdict"] == "agrees").all())
    lines = [] if args.quiet else [text, ""]
    return Done(0 if passed else 1, [*lines, f"Results written to {out}/ (tables/verify.csv, "
                                      "summary.txt, equivalent/ scenario files)"], out)


CALIBRATE_REPLICATIONS, CALIBRATE_POINTS = 3, 40


def register_calibrate(sub: Any, experiment_options: Callable[[argparse.ArgumentParser], None],
                       calibrate_command: Callable[[argparse.Namespace], int]) -> None:
    """Add ``rjsim calibrate`` to the parser."""
    p = sub.add_parser(
        "calibrate", help="history matching of named parameters to the evidence targets",
        description="History matching: run the status quo at a Latin hypercube of the named "
        "parameters over their assumptions-log ranges (same seed at every point: common "
        "random numbers), compute each calibration target's implausibility (observation, "
        "model-discrepancy and simulation variance) and keep the points below the cut-off. "
        "Writes the non-implausible set, the fit, which targets constrain which parameters, "
        "and a calibrated scenario (the best point). Exit 0; 1 when no point is kept.")
    p.add_argument("scenario", nargs="?", type=Path, default=Path("scenarios/baseline.toml"),
                   help="status-quo scenario (default scenarios/baseline.toml)")
    p.add_argument("--parameters", nargs="+", metavar="KEY", help="assumptions-log keys to "
                   "calibrate (default: demand.offender_identified demand.informed "
                   "demand.wants_rj)")
    p.add_argument("--targets", type=Path, help="evidence targets CSV (default: packaged)")
    p.add_argument("--all-targets", action="store_true",
                   help="also match the validation targets (default: role = calibration)")
    p.add_argument("--points", type=int, default=CALIBRATE_POINTS,
                   help=f"design points (default {CALIBRATE_POINTS})")
    p.add_argument("--cutoff", type=float, default=3.0, help="implausibility cut-off (3)")
    p.add_argument("--discrepancy", type=float, default=0.10,
                   help="model discrepancy sd as a share of each target (default 0.10)")
    p.add_argument("--write-scenario", type=Path, metavar="FILE",
                   help="also write the calibrated scenario to FILE")
    experiment_options(p)
    for action in p._actions:
        if action.dest == "replications":
            action.help = f"replications per design point (default {CALIBRATE_REPLICATIONS})"
        elif action.dest == "no_report":
            action.help = "not used"
    p.set_defaults(func=calibrate_command)


def run_calibrate(args: argparse.Namespace, settings: Callable[..., Any]) -> Done:
    """Run ``rjsim calibrate`` and write its results directory."""
    import os
    from dataclasses import replace

    import tomli_w

    from rjsim.data import targets as evidence
    from rjsim.planning import backcast, calibrate
    from rjsim.report.evidence import calibration_text
    from rjsim.results import store
    from rjsim.results.atomic import write_atomic
    from rjsim.scenario import io as scenario_io

    problems = []
    if not 4 <= args.points <= 100_000:
        problems.append(Problem("--points", "must be 4 to 100000", str(args.points)))
    if not args.cutoff > 0 or not 0 <= args.discrepancy <= 1:
        problems.append(Problem("--cutoff/--discrepancy", "cut-off must be > 0 and "
                                "discrepancy 0 to 1", f"{args.cutoff}, {args.discrepancy}"))
    if args.write_scenario is not None and args.write_scenario.exists():
        problems.append(Problem("--write-scenario", "exists; choose a new file (nothing was "
                                "written)", str(args.write_scenario)))
    if problems:
        raise InputError(problems, "invalid argument")
    started = store.now_utc()
    overrides = {"run": {"seed": args.seed}} if args.seed is not None else {}
    scenario = scenario_io.load(args.scenario, overrides, "command line")
    params = calibrate.logged_parameters(args.parameters or calibrate.DEFAULT_PARAMETERS)
    chosen = [t for t in evidence.load(args.targets)
              if t.judged and (args.all_targets or t.role == "calibration")]
    out = args.out or Path("results") / f"calibrate_{scenario.name}"
    store.prepare_target(out)
    years = args.years if args.years is not None else backcast.YEARS
    run = replace(settings(args, None), replications=args.replications or CALIBRATE_REPLICATIONS)
    result = calibrate.calibrate(scenario, chosen, params, run, args.points, years,
                                 args.discrepancy, args.cutoff)
    fit, links = calibrate.fit_table(result), calibrate.constraints(result)
    design = pd_concat(result)
    best = result.best

    def calibrated(folder: Path) -> str:
        assert best is not None
        rel = Path(os.path.relpath(args.scenario.resolve(), folder.resolve())).as_posix()
        body: str = tomli_w.dumps({"extends": rel, "name": f"{scenario.name}_calibrated"}
                                  | calibrate.overrides({str(k): float(v)
                                                         for k, v in best.items()}))
        return (f"# Calibrated by 'rjsim calibrate' (history matching, {args.points} points, "
                f"cut-off {args.cutoff:g}); the fit is in {out}/\n" + body)
    text = calibration_text(result, fit, scenario.name)
    info = {"rjsim_results": 1, "command": store.command_line(), "calibrate": scenario.name,
            "parameters": [p.key for p in params], "points": args.points,
            "replications": run.replications, "cutoff": args.cutoff,
            "discrepancy": args.discrepancy, "versions": store.versions(),
            "started_utc": started}

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        if best is not None:
            (tmp / "calibrated.toml").write_text(calibrated(out), encoding="utf-8")
    store.write_results(out, scenario, {"calibration_design": design,
                                        "non_implausible": result.retained, "fit": fit,
                                        "constraints": links}, info, extra)
    if best is not None and args.write_scenario is not None:
        text_out = calibrated(args.write_scenario.parent)
        write_atomic(args.write_scenario, lambda tmp: tmp.write_text(text_out, encoding="utf-8"))
    lines = [] if args.quiet else [text, ""]
    return Done(0 if best is not None else 1, [*lines, f"Results written to {out}/"], out)


def pd_concat(result: Any) -> Any:
    """The design with each point's implausibilities (``imp_<target>``) and the largest."""
    imp = result.implausibility.add_prefix("imp_")
    est = result.estimates.add_prefix("est_")
    return result.design.join(est).join(imp).assign(
        max_implausibility=result.max_implausibility)
