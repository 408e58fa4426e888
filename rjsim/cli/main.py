"""The ``rjsim`` command: argument parsing and printing only.

Each command builds the typed options of its :mod:`rjsim.app` function from the parsed
arguments (never changing them), calls it, and prints the lines it returns; its exit status is
the one the function returns.

Every deliberate error (bad scenario, data file or argument) becomes a short message on stderr
and exit status 2; an interrupted run exits 130 having written nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rjsim.app.common import ReportFailed
from rjsim.cli import capacity as cli_capacity
from rjsim.cli import evidence as cli_evidence
from rjsim.cli import examples
from rjsim.cli.common import (
    add_experiment_options,
    add_pdf_option,
    bounded,
    display,
    experiment_options,
    fraction,
    non_negative_int,
    positive_float,
    positive_int,
    show,
)
from rjsim.core.errors import RjsimError
from rjsim.core.version import __version__

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
#: The shell convention for a process ended by SIGPIPE (128 + 13): the reader closed the pipe.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="rjsim", description="Simulate restorative justice capacity in the 43 police "
        "force areas of England and Wales.", epilog=examples.main_epilog(),
        formatter_class=examples.Formatter)
    parser.add_argument("--version", action="version", version=f"rjsim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands")

    run = sub.add_parser("run", help="run a scenario (or a sweep) and write a results directory")
    run.add_argument("scenario", type=Path, help="scenario TOML file (a [sweep] runs every point)")
    add_experiment_options(run)
    add_pdf_option(run)
    run.add_argument("--target-precision", type=fraction, metavar="P",
                     help="add replications until key KPIs' 95%% CI half-width is within P "
                     "of the mean (e.g. 0.05)")
    run.add_argument("--max-replications", type=positive_int, default=200,
                     help="upper limit with --target-precision (default 200)")
    run.add_argument("--records", action="store_true",
                     help="also write every referral under tables/cases/ (Parquet)")
    run.set_defaults(func=_cmd_run)

    cmp_ = sub.add_parser("compare", help="compare scenarios under common random numbers")
    cmp_.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO",
                      help="scenario TOML files; every difference is from the first")
    add_experiment_options(cmp_)
    add_pdf_option(cmp_)
    cmp_.add_argument("--uncertainty", type=bounded(int, 2, 100_000, "2 to 100000"),
                      metavar="N", help="also run every option on N parameter sets (the "
                      "[uncertainty] table's replications each) for the decision table's "
                      "probability of passing; off by default: it multiplies the run time")
    cmp_.set_defaults(func=_cmd_compare)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="scenario TOML files to check (with the area data they name)")
    val.set_defaults(func=_cmd_validate)

    ass = sub.add_parser("assumptions", help="list every default with its source and confidence")
    ass.add_argument("scenario", nargs="?", type=Path, help="show this scenario's values")
    ass.set_defaults(func=_cmd_assumptions)

    _regress_parser(sub)
    bench = sub.add_parser("bench", description="Developer command: "
                           + examples.DEVELOPER["bench"] + ".")
    bench.add_argument("--scenario", type=Path, default=Path("scenarios/statutory_right.toml"),
                       help="scenario to time (default scenarios/statutory_right.toml)")
    bench.add_argument("--years", type=positive_float, default=5.0,
                       help="simulated years, more than 0 and at most 50 (default 5)")
    bench.add_argument("--repeats", type=positive_int, default=3,
                       help="timed repeats; medians are reported (default 3)")
    bench.add_argument("--no-baseline", action="store_true", help="skip the bare SimPy model")
    bench.add_argument("--replications", type=positive_int,
                       help="instead: time an experiment of this many replications")
    bench.add_argument("--workers", type=positive_int, help="workers for --replications")
    bench.add_argument("--executor", choices=("processes", "local", "dask"), default="processes",
                       help="executor for --replications (default processes)")
    bench.add_argument("--dask-compare", action="store_true",
                       help="with --replications: time local processes and a local Dask "
                       "cluster interleaved, with Dask's cost per task")
    bench.add_argument("--plan", action="store_true",
                       help="instead: time a national 'rjsim plan' (--replications per round, "
                       "default 10)")
    bench.add_argument("--uncertainty", action="store_true",
                       help="instead: time 'rjsim uncertainty' on --samples sets x "
                       "--replications (default 64 x 5) and extrapolate to 64 x 5")
    bench.add_argument("--morris", action="store_true",
                       help="instead: time Morris screening of every ranged parameter "
                       "(--trajectories, default 10; --points N times the first N design "
                       "points and extrapolates)")
    bench.add_argument("--samples", type=bounded(int, 2, 100_000, "2 to 100000"), default=64,
                       help="parameter sets for --uncertainty (default 64)")
    bench.add_argument("--trajectories", type=bounded(int, 2, 10_000, "2 to 10000"),
                       default=10, help="Morris trajectories for --morris (default 10)")
    bench.add_argument("--points", type=positive_int,
                       help="time only the first N Morris design points")
    bench.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler for --executor dask (default: a local cluster)")
    bench.set_defaults(func=_cmd_bench)

    _uncertainty_parser(sub)
    rep = sub.add_parser("report", help="build report.html, report.xlsx and figures/ from a "
                         "results directory (never re-runs the model)")
    rep.add_argument("results", type=Path, metavar="RESULTS_DIR",
                     help="a results directory written by run, compare, capacity-test, plan, "
                     "uncertainty or sensitivity")
    add_pdf_option(rep)
    rep.set_defaults(func=_cmd_report)
    cli_capacity.register(sub)
    cli_evidence.register(sub)
    cli_evidence.register_verify(sub)
    cli_evidence.register_calibrate(sub)
    for name, command in sub.choices.items():
        command.formatter_class = examples.Formatter
        if name in examples.EXAMPLES:
            command.epilog = examples.epilog(examples.EXAMPLES[name])
    return parser


def _uncertainty_parser(sub: Any) -> None:
    unc = sub.add_parser("uncertainty", help="parameter uncertainty: KPIs' median and 90%% "
                         "interval across parameter sets, and parameter vs noise variance",
                         description="Sample the scenario's uncertain parameters ([uncertainty] "
                         "table; default: every setting with a range in the assumptions log), "
                         "run each set with common random numbers and summarise. Several "
                         "scenarios (funding options) run on the same parameter sets and "
                         "random numbers and are put side by side.")
    unc.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO",
                     help="scenario TOML file; several: funding options compared on the same "
                     "parameter sets (they must share one [uncertainty] table)")
    _add_uncertainty_options(unc, "replications per parameter set (default: "
                             "uncertainty.replications, 5)", "the parameter sample")
    unc.add_argument("--samples", type=bounded(int, 2, 100_000, "2 to 100000"),
                     help="parameter sets (default: uncertainty.samples, 64)")
    unc.add_argument("--method", choices=("lhs", "sobol"),
                     help="Latin hypercube or scrambled Sobol' (default: uncertainty.method)")
    unc.add_argument("--confirm-replications", type=bounded(int, 0, 10_000, "0 to 10000"),
                     help="with a right: replications of the capacity test that confirms the "
                     "price at its median, 90th and 95th percentiles (default: run.replications; "
                     "0 skips)")
    unc.set_defaults(func=_cmd_uncertainty)

    sen = sub.add_parser("sensitivity", help="global sensitivity (SALib): which uncertain "
                         "parameters drive the national KPIs; ranked tables, tornado charts",
                         description="Morris screening (default) or Sobol' indices of the "
                         "scenario's uncertain parameters ([uncertainty] table), each design "
                         "point on common random numbers.")
    sen.add_argument("scenario", type=Path, help="scenario TOML file")
    _add_uncertainty_options(sen, "replications per design point (default 1)", "the design")
    sen.add_argument("--method", choices=("morris", "sobol"), default="morris",
                     help="Morris screening (default) or Sobol' first-order and total indices")
    sen.add_argument("--trajectories", type=bounded(int, 2, 10_000, "2 to 10000"),
                     help="Morris trajectories (default 10; (parameters + 1) runs each) or "
                     "Sobol' base sample, a power of two (default 32; (parameters + 2) runs "
                     "each)")
    sen.set_defaults(func=_cmd_sensitivity)


def _add_uncertainty_options(p: argparse.ArgumentParser, replications: str, sampled: str
                             ) -> None:
    """The options ``uncertainty`` and ``sensitivity`` share: the experiment options (with
    what ``--replications`` means here), ``--pdf`` and the seed of what is sampled."""
    add_experiment_options(p, pdf=True, helps={"replications": replications})
    p.add_argument("--sample-seed", type=non_negative_int,
                   help=f"seed of {sampled} (default: uncertainty.seed or run.seed)")


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from rjsim.app.uncertainty import UncertaintyOptions, uncertainty
    return show(uncertainty(UncertaintyOptions(
        scenarios=tuple(args.scenarios), samples=args.samples, method=args.method,
        sample_seed=args.sample_seed, confirm_replications=args.confirm_replications,
        **experiment_options(args)), display(args)))


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from rjsim.app.sensitivity import SensitivityOptions, sensitivity
    return show(sensitivity(SensitivityOptions(
        scenario=args.scenario, method=args.method, n=args.trajectories,
        sample_seed=args.sample_seed, **experiment_options(args)), display(args)))


def _cmd_run(args: argparse.Namespace) -> int:
    from rjsim.app.experiments import RunOptions, run
    return show(run(RunOptions(
        scenario=args.scenario, target_precision=args.target_precision,
        max_replications=args.max_replications, records=args.records,
        **experiment_options(args)), display(args)))


def _cmd_compare(args: argparse.Namespace) -> int:
    from rjsim.app.experiments import CompareOptions, compare
    return show(compare(CompareOptions(scenarios=tuple(args.scenarios),
                                       uncertainty=args.uncertainty,
                                       **experiment_options(args)), display(args)))


def _cmd_report(args: argparse.Namespace) -> int:
    from rjsim.app.reports import ReportOptions, report
    return show(report(ReportOptions(results=args.results, pdf=args.pdf)))


def _cmd_validate(args: argparse.Namespace) -> int:
    from rjsim.app.checks import ValidateOptions, validate
    return show(validate(ValidateOptions(files=tuple(args.files))))


def _cmd_assumptions(args: argparse.Namespace) -> int:
    from rjsim.app.reports import AssumptionsOptions, assumptions
    return show(assumptions(AssumptionsOptions(scenario=args.scenario)))


def _regress_parser(sub: Any) -> None:
    reg = sub.add_parser("regress", description="Developer command: "
                         + examples.DEVELOPER["regress"] + ".")
    reg.add_argument("--scenarios", nargs="+", default=[], metavar="NAME_OR_FILE",
                     help="only these reference scenarios (default: every one)")
    reg.add_argument("--reference", type=Path, default=Path("results/reference"),
                     help="reference directory (default results/reference)")
    reg.add_argument("--update", action="store_true",
                     help="regenerate the references instead of checking (needs --reason)")
    reg.add_argument("--reason", help="why the references change (recorded in the manifest)")
    reg.add_argument("--statistical-only", action="store_true",
                     help="report exact-layer differences without failing on them")
    reg.add_argument("--seed", type=non_negative_int,
                     help="check with another seed (tests that tolerances exceed noise)")
    reg.add_argument("--workers", type=positive_int, help="worker processes (default: all cores)")
    reg.add_argument("-q", "--quiet", action="store_true", help="print only failing KPIs")
    reg.set_defaults(func=_cmd_regress)


def _cmd_regress(args: argparse.Namespace) -> int:
    from rjsim.app.checks import RegressOptions, regress
    return show(regress(RegressOptions(
        reference=args.reference, scenarios=tuple(args.scenarios), update=args.update,
        reason=args.reason, statistical_only=args.statistical_only, seed=args.seed,
        workers=args.workers, quiet=args.quiet), display(args)))


def _cmd_bench(args: argparse.Namespace) -> int:
    from rjsim.app.bench import BenchOptions, bench
    return show(bench(BenchOptions(
        scenario=args.scenario, years=args.years, repeats=args.repeats,
        baseline=not args.no_baseline, replications=args.replications, workers=args.workers,
        executor=args.executor, plan=args.plan, uncertainty=args.uncertainty,
        morris=args.morris, samples=args.samples, trajectories=args.trajectories,
        points=args.points, scheduler=args.scheduler, dask_compare=args.dask_compare)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rjsim`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ReportFailed as exc:  # the results were written: show them, then the error
        for line in exc.lines:
            print(line)
        print(f"rjsim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except RjsimError as exc:
        print(f"rjsim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `rjsim assumptions X | head`: the reader stopped early
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("\nrjsim: interrupted; no results were written (finished tasks are cached: run "
              "the same command again to resume)", file=sys.stderr)
        return EXIT_INTERRUPTED
