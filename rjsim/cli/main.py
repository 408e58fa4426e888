"""The ``rjsim`` command: argument parsing and printing only.

Every deliberate error (bad scenario, data file or argument) becomes a short message on stderr
and exit status 2; an interrupted run exits 130 having written nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rjsim.cli import capacity as cli_capacity
from rjsim.cli import evidence as cli_evidence
from rjsim.core.errors import RjsimError
from rjsim.core.version import __version__

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _bounded(kind: type[int] | type[float], low: float, high: float, allowed: str,
             low_open: bool = False, high_open: bool = False) -> Any:
    """An argparse type: a number of ``kind`` within bounds, with a message saying what is
    allowed."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"'{text}' is not {noun}") from None
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            raise argparse.ArgumentTypeError(f"{text}: must be {allowed}")
        return value
    return parse


_positive_float = _bounded(float, 0, 50, "greater than 0 and at most 50", low_open=True)
_positive_int = _bounded(int, 1, 10**9, "1 or more")
_non_negative_int = _bounded(int, 0, 2**63, "0 or more")
_fraction = _bounded(float, 0, 1, "between 0 and 1 (e.g. 0.05)", low_open=True, high_open=True)


def _experiment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=_non_negative_int, help="override run.seed")
    p.add_argument("--years", type=_positive_float, help="override run.years (0-50)")
    p.add_argument("--replications", type=_positive_int,
                   help="replications to run (default: the scenario's run.replications)")
    p.add_argument("--workers", type=_positive_int,
                   help="parallel workers (default: all cores; 1 runs in this process)")
    p.add_argument("--executor", choices=("processes", "local", "dask"), default="processes",
                   help="local worker processes (default), this process only, or Dask "
                   "(pip install \"rjsim[dask]\")")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (default: start a local cluster)")
    p.add_argument("--cache", type=Path, default=Path("results/.cache"),
                   help="finished-task cache for resuming (default results/.cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--out", type=Path, help="results directory (default results/<name>)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar; print only where results are")
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html, report.xlsx and figures/")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="rjsim", description="Simulate restorative justice capacity in the 43 police "
        "force areas of England and Wales.")
    parser.add_argument("--version", action="version", version=f"rjsim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario (or a sweep) and write a results directory")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    _experiment_options(run)
    run.add_argument("--target-precision", type=_fraction, metavar="P",
                     help="add replications until key KPIs' 95%% CI half-width is within P "
                     "of the mean (e.g. 0.05)")
    run.add_argument("--max-replications", type=_positive_int, default=200,
                     help="upper limit with --target-precision (default 200)")
    run.add_argument("--records", action="store_true",
                     help="also write every referral under tables/cases/ (Parquet)")
    run.set_defaults(func=_cmd_run)

    cmp_ = sub.add_parser("compare", help="compare scenarios under common random numbers")
    cmp_.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO")
    _experiment_options(cmp_)
    cmp_.set_defaults(func=_cmd_compare)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.set_defaults(func=_cmd_validate)

    ass = sub.add_parser("assumptions", help="list every default with its source and confidence")
    ass.add_argument("scenario", nargs="?", type=Path, help="show this scenario's values")
    ass.set_defaults(func=_cmd_assumptions)

    _regress_parser(sub)
    bench = sub.add_parser("bench", help="time a national run against a bare SimPy model")
    bench.add_argument("--scenario", type=Path, default=Path("scenarios/statutory_right.toml"))
    bench.add_argument("--years", type=_positive_float, default=5.0)
    bench.add_argument("--repeats", type=_positive_int, default=3,
                       help="timed repeats; medians are reported (default 3)")
    bench.add_argument("--no-baseline", action="store_true", help="skip the bare SimPy model")
    bench.add_argument("--replications", type=_positive_int,
                       help="instead: time an experiment of this many replications")
    bench.add_argument("--workers", type=_positive_int, help="workers for --replications")
    bench.add_argument("--executor", choices=("processes", "local", "dask"), default="processes")
    bench.add_argument("--plan", action="store_true",
                       help="instead: time a national 'rjsim plan' (--replications per round, "
                       "default 10)")
    bench.set_defaults(func=_cmd_bench)

    _uncertainty_parser(sub)
    rep = sub.add_parser("report", help="build report.html, report.xlsx and figures/ from a "
                         "results directory (never re-runs the model)")
    rep.add_argument("results", type=Path, metavar="RESULTS_DIR")
    rep.set_defaults(func=_cmd_report)
    cli_capacity.register(sub, _experiment_options, _settings, _overrides,
                          _cmd_capacity_test, _cmd_plan)
    cli_evidence.register(sub, _experiment_options, _cmd_backcast)
    cli_evidence.register_verify(sub, _cmd_verify)
    cli_evidence.register_calibrate(sub, _experiment_options, _cmd_calibrate)
    return parser


def _uncertainty_parser(sub: Any) -> None:
    unc = sub.add_parser("uncertainty", help="parameter uncertainty: KPIs' median and 90%% "
                         "interval across parameter sets, and parameter vs noise variance",
                         description="Sample the scenario's uncertain parameters ([uncertainty] "
                         "table; default: every setting with a range in the assumptions log), "
                         "run each set with common random numbers and summarise.")
    unc.add_argument("scenario", type=Path, help="scenario TOML file")
    _experiment_options(unc)
    for action in unc._actions:
        if action.dest == "replications":
            action.help = "replications per parameter set (default: uncertainty.replications, 5)"
    unc.add_argument("--samples", type=_bounded(int, 2, 100_000, "2 to 100000"),
                     help="parameter sets (default: uncertainty.samples, 64)")
    unc.add_argument("--method", choices=("lhs", "sobol"),
                     help="Latin hypercube or scrambled Sobol' (default: uncertainty.method)")
    unc.add_argument("--sample-seed", type=_non_negative_int,
                     help="seed of the parameter sample (default: uncertainty.seed or run.seed)")
    unc.set_defaults(func=_cmd_uncertainty)

    sen = sub.add_parser("sensitivity", help="global sensitivity (SALib): which uncertain "
                         "parameters drive the national KPIs; ranked tables, tornado charts",
                         description="Morris screening (default) or Sobol' indices of the "
                         "scenario's uncertain parameters ([uncertainty] table), each design "
                         "point on common random numbers.")
    sen.add_argument("scenario", type=Path, help="scenario TOML file")
    _experiment_options(sen)
    for action in sen._actions:
        if action.dest == "replications":
            action.help = "replications per design point (default 1)"
    sen.add_argument("--method", choices=("morris", "sobol"), default="morris")
    sen.add_argument("--trajectories", type=_bounded(int, 2, 10_000, "2 to 10000"),
                     help="Morris trajectories (default 10; (parameters + 1) runs each) or "
                     "Sobol' base sample, a power of two (default 32; (parameters + 2) runs "
                     "each)")
    sen.add_argument("--sample-seed", type=_non_negative_int,
                     help="seed of the design (default: uncertainty.seed or run.seed)")
    sen.set_defaults(func=_cmd_sensitivity)


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from rjsim.app import uncertainty as app
    from rjsim.cli.progress import ProgressBar

    bar = ProgressBar(enabled=None if not args.quiet else False)
    options = app.UncertaintyOptions(args.scenario, args.out, args.samples, args.replications,
                                     args.method, args.sample_seed, _overrides(args))
    try:
        _, out, text = app.run(options, _settings(args, bar))
    finally:
        bar.close()
    if not args.quiet:
        print(text)
    print(f"Results written to {out}/ (tables/uncertainty_*.csv and .parquet)")
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from rjsim.app import uncertainty as app
    from rjsim.cli.progress import ProgressBar

    bar = ProgressBar(enabled=None if not args.quiet else False)
    options = app.SensitivityOptions(args.scenario, args.out, args.method, args.trajectories,
                                     args.replications or 1, args.sample_seed,
                                     _overrides(args))
    try:
        _, out, text = app.run_sensitivity(options, _settings(args, bar))
    finally:
        bar.close()
    print(text if not args.quiet else text.splitlines()[1] if len(text.splitlines()) > 1
          else text)
    print(f"Results written to {out}/ (tables/sensitivity_*.csv, figures/tornado_*)")
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    run: dict[str, Any] = {}
    if args.seed is not None:
        run["seed"] = args.seed
    if args.years is not None:
        run["years"] = args.years
    return {"run": run} if run else {}


def _settings(args: argparse.Namespace, bar: Any, **more: Any) -> Any:
    from rjsim.experiment.executors import ExecutorSettings
    from rjsim.experiment.experiment import ExperimentSettings

    workers = args.workers
    kind = "local" if workers == 1 and args.executor == "processes" else args.executor
    return ExperimentSettings(
        replications=args.replications,
        executor=ExecutorSettings(kind, workers, args.scheduler),  # type: ignore[arg-type]
        cache_dir=None if args.no_cache else args.cache, progress=bar, **more)


def _cmd_run(args: argparse.Namespace) -> int:
    from rjsim.scenario import io as scenario_io

    variants = scenario_io.load_variants(args.scenario, _overrides(args), "command line")
    if variants[0][0] is None:
        return _run_one(args, variants[0][1])
    return _run_sweep(args, variants)


def _run_one(args: argparse.Namespace, scenario: Any) -> int:
    from rjsim.app import outputs
    from rjsim.cli.progress import ProgressBar
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report.text import national_text, worst_areas
    from rjsim.results import store

    started = store.now_utc()
    out = args.out or Path("results") / scenario.name
    store.prepare_target(out)  # before the work, not after
    bar = ProgressBar(enabled=None if not args.quiet else False)
    sink = outputs.RecordsSink(out) if args.records else None
    try:
        e = run_experiment(scenario, _settings(
            args, bar, target_precision=args.target_precision,
            max_replications=args.max_replications, on_records=sink))
        bar.close()
        text = national_text(e)
        outputs.write_experiment(out, e, outputs.manifest(e, str(args.scenario), started), text,
                                 sink)
    finally:
        bar.close()
        if sink is not None:
            sink.discard()
    if not args.quiet:
        print(text)
        print("Highest unmet demand:")
        print(worst_areas(e))
        print()
    print(f"Results written to {out}/ (tables in CSV and Parquet, manifest.json, scenario.toml)")
    _report(args, out)
    return 0


def _run_sweep(args: argparse.Namespace, variants: list[Any]) -> int:
    from rjsim.app import outputs
    from rjsim.cli.progress import ProgressBar
    from rjsim.experiment.experiment import run_experiment
    from rjsim.report.text import national_text
    from rjsim.results import store

    started = store.now_utc()
    base = variants[0][1]
    base_name = base.name.rsplit("-", 1)[0]
    out = args.out or Path("results") / base_name
    store.prepare_target(out)  # before the work, not after
    done, sinks = [], {}
    try:
        for point, scenario in variants:
            bar = ProgressBar(enabled=None if not args.quiet else False)
            if not args.quiet:
                print(f"sweep point {point.tag}: {point.label}", file=sys.stderr)
            sink = outputs.RecordsSink(out, f"-{point.tag}") if args.records else None
            sinks[point.tag] = sink
            e = run_experiment(scenario, _settings(
                args, bar, target_precision=args.target_precision,
                max_replications=args.max_replications, on_records=sink))
            bar.close()
            done.append((point, e))
        table = outputs.sweep_table(done)

        def points(tmp: Path) -> None:
            for point, e in done:
                outputs.write_experiment(tmp / "points" / point.tag, e,
                                         outputs.manifest(e, str(args.scenario), started),
                                         national_text(e), sinks[point.tag])
        info = {"rjsim_results": 1, "command": store.command_line(), "sweep": base_name,
                "points": {p.tag: p.label for p, _ in done}, "versions": store.versions(),
                "started_utc": started}
        store.write_results(out, base, {"sweep_national": table}, info, points)
    finally:
        for sink in sinks.values():
            if sink is not None:
                sink.discard()
    key = table[table["kpi"].isin(["unmet_demand_rate", "wait_alloc_days_mean",
                                   "annual_cost_gbp"])]
    wide = key.pivot(index="point", columns="kpi", values="mean")
    if not args.quiet:
        print(f"Sweep of {len(done)} points (national means):")
        for (point, _), (_, row) in zip(done, wide.iterrows(), strict=True):
            print(f"  {point.tag}  {point.label}\n        unmet "
                  f"{100 * row['unmet_demand_rate']:.1f}%, mean wait "
                  f"{row['wait_alloc_days_mean']:.0f} days, cost GBP "
                  f"{row['annual_cost_gbp'] / 1e6:.2f}m a year")
    print(f"Results written to {out}/ (one results directory per point under points/)")
    _report(args, out)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from rjsim.app import outputs
    from rjsim.cli.progress import ProgressBar
    from rjsim.experiment.comparison import compare
    from rjsim.report.text import comparison_text
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    started = store.now_utc()
    scenarios = [scenario_io.load(p, _overrides(args), "command line") for p in args.scenarios]
    out = args.out or Path("results") / ("compare_" + "_vs_".join(s.name for s in scenarios))
    store.prepare_target(out)  # before the work, not after
    bar = ProgressBar(enabled=None if not args.quiet else False)
    try:
        c = compare(scenarios, _settings(args, bar), seed=args.seed)
    finally:
        bar.close()
    text = comparison_text(c)

    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        outputs.comparison_figures(c, tmp)
        for e in c.experiments:
            outputs.write_experiment(tmp / "scenarios" / e.scenario.name, e,
                                     outputs.manifest(e, "", started), "")
    info = {"rjsim_results": 1, "command": store.command_line(), "compared": c.names,
            "seed": c.experiments[0].scenario.run.seed,
            "replications": c.experiments[0].replications, "versions": store.versions(),
            "started_utc": started}
    store.write_results(out, c.experiments[0].scenario, outputs.comparison_tables(c), info,
                        extra)
    if not args.quiet:
        print(text)
    print(f"Results written to {out}/")
    _report(args, out)
    return 0


def _report(args: argparse.Namespace, out: Path) -> None:
    """Build the report of a finished results directory unless --no-report."""
    if not args.no_report:
        from rjsim.report.build import build_report
        print(f"Report: {build_report(out)}")


def _cmd_report(args: argparse.Namespace) -> int:
    from rjsim.report.build import build_report
    print(f"Report: {build_report(args.results)}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from rjsim.experiment import runner
    from rjsim.scenario import io as scenario_io

    failed = 0
    for path in args.files:
        try:
            variants = scenario_io.load_variants(path)
            for _, scenario in variants:
                runner.task_plan(scenario)  # area data and budgets are part of a valid scenario
        except RjsimError as exc:
            failed += 1
            print(f"FAIL {path}\n{exc}", file=sys.stderr)
            continue
        first = scenario.description.strip().splitlines()[0] if scenario.description else ""
        points = f" (a sweep of {len(variants)} points)" if variants[0][0] else ""
        print(f"ok   {path}: {scenario.name}{points} - {first}")
    return EXIT_ERROR if failed else 0


def _cmd_assumptions(args: argparse.Namespace) -> int:
    from rjsim.results import store
    from rjsim.scenario import io as scenario_io

    scenario = scenario_io.load(args.scenario) if args.scenario else scenario_io.from_dict({})
    table = store.assumptions_table(scenario)
    for row in table.itertuples():
        rng = f" (range {row.low}-{row.high})" if row.low or row.high else ""
        print(f"{row.key} = {row.value}{rng} [{row.confidence}]\n    {row.source}")
    return 0


def _regress_parser(sub: Any) -> None:
    reg = sub.add_parser("regress", help="check scenario KPIs against committed references "
                         "(exit 1 on a regression)")
    reg.add_argument("--scenarios", nargs="+", default=[], metavar="NAME_OR_FILE",
                     help="only these reference scenarios (default: every one)")
    reg.add_argument("--reference", type=Path, default=Path("results/reference"),
                     help="reference directory (default results/reference)")
    reg.add_argument("--update", action="store_true",
                     help="regenerate the references instead of checking (needs --reason)")
    reg.add_argument("--reason", help="why the references change (recorded in the manifest)")
    reg.add_argument("--statistical-only", action="store_true",
                     help="report exact-layer differences without failing on them")
    reg.add_argument("--seed", type=_non_negative_int,
                     help="check with another seed (tests that tolerances exceed noise)")
    reg.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")
    reg.add_argument("-q", "--quiet", action="store_true", help="print only failing KPIs")
    reg.set_defaults(func=_cmd_regress)


def _cmd_regress(args: argparse.Namespace) -> int:
    from rjsim.regress import check as regress
    from rjsim.regress import text as regress_text

    wrong = (["--reason is needed with --update: say why the references change"]
             if args.update and not (args.reason or "").strip() else [])
    wrong += [f"{opt} cannot be used with --update (an update compares nothing)" for opt, on in
              (("--statistical-only", args.statistical_only), ("--seed", args.seed is not None))
              if args.update and on]
    wrong += ["--reason is only used with --update"] if args.reason and not args.update else []
    if wrong:
        print("rjsim regress: error: " + "; ".join(wrong), file=sys.stderr)
        return EXIT_ERROR

    def progress(name: str, i: int, n: int) -> None:
        if not args.quiet:
            print(f"regress [{i}/{n}] {name}", file=sys.stderr, flush=True)
    settings = regress.RegressSettings(args.reference, tuple(args.scenarios), args.workers,
                                       args.seed, progress)
    if args.update:
        print(regress_text.update_text(regress.update(settings, args.reason)))
        return 0
    result = regress.check(settings)
    print(regress_text.check_text(result, statistical_only=args.statistical_only,
                                  quiet=args.quiet))
    return result.exit_status(statistical_only=args.statistical_only)


def _finish(args: argparse.Namespace, done: cli_capacity.Done) -> int:
    """Print what a capacity command left, build its report, return its exit status."""
    for line in done.lines:
        print(line)
    _report(args, done.out)
    return done.status


def _cmd_capacity_test(args: argparse.Namespace) -> int:
    return _finish(args, cli_capacity.run_capacity_test(args))


def _cmd_plan(args: argparse.Namespace) -> int:
    def progress(number: int, searching: int) -> None:
        if not args.quiet:
            print(f"plan: round {number} done, {searching} area(s) still searching",
                  file=sys.stderr)
    return _finish(args, cli_capacity.run_plan(args, progress))


def _cmd_backcast(args: argparse.Namespace) -> int:
    done = cli_evidence.run_backcast(args, _settings)
    for line in done.lines:
        print(line)
    return done.status


def _cmd_verify(args: argparse.Namespace) -> int:
    done = cli_evidence.run_verify(args)
    for line in done.lines:
        print(line)
    return done.status


def _cmd_calibrate(args: argparse.Namespace) -> int:
    done = cli_evidence.run_calibrate(args, _settings)
    for line in done.lines:
        print(line)
    return done.status


def _cmd_bench(args: argparse.Namespace) -> int:
    from rjsim.app import bench as benchmark
    if args.plan:
        print(benchmark.run_plan_bench(args.scenario, args.years, args.replications or 10,
                                       args.workers, args.repeats))
        return 0
    if args.replications:
        print(benchmark.run_experiment_bench(args.scenario, args.years, args.replications,
                                             args.executor, args.workers, args.repeats))
        return 0
    print(benchmark.run(args.scenario, args.years, args.repeats, not args.no_baseline))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rjsim`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except RjsimError as exc:
        print(f"rjsim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nrjsim: interrupted; no results were written (finished tasks are cached: run "
              "the same command again to resume)", file=sys.stderr)
        return EXIT_INTERRUPTED
