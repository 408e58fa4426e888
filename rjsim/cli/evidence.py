"""The evidence commands' arguments (``backcast``, ``verify``, ``calibrate``): argparse glue
over :mod:`rjsim.app.evidence`, which does the work."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rjsim.app.evidence import (
    BACKCAST_REPLICATIONS,
    CALIBRATE_POINTS,
    CALIBRATE_REPLICATIONS,
    VERIFY_REPLICATIONS,
    VERIFY_WARMUP_YEARS,
    VERIFY_YEARS,
)
from rjsim.cli.common import add_experiment_options, display, experiment_options, show


def register(sub: Any) -> None:
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
    add_experiment_options(p, helps={
        "replications": f"replications (default {BACKCAST_REPLICATIONS})",
        "years": "simulated years, more than 1.1 (a month after the one-year warm-up) and at "
                 "most 50 (default 3)",
        "no_report": "not used (the back-cast writes tables and summary.txt)"})
    p.set_defaults(func=backcast_command)


def register_verify(sub: Any) -> None:
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


def register_calibrate(sub: Any) -> None:
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
                   "calibrate (default: demand.informed demand.wants_rj "
                   "exits.offender_declines exits.preparation_withdraws)")
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
    add_experiment_options(p, helps={
        "replications": f"replications per design point (default {CALIBRATE_REPLICATIONS})",
        "no_report": "not used"})
    p.set_defaults(func=calibrate_command)


def backcast_command(args: argparse.Namespace) -> int:
    """``rjsim backcast``."""
    from rjsim.app.evidence import BackcastOptions, backcast
    return show(backcast(BackcastOptions(scenario=args.scenario, targets=args.targets,
                                         **experiment_options(args)), display(args)))


def verify_command(args: argparse.Namespace) -> int:
    """``rjsim verify``."""
    from rjsim.app.evidence import VerifyOptions, verify
    return show(verify(VerifyOptions(scenario=args.scenario, area=args.area,
                                     replications=args.replications, years=args.years,
                                     out=args.out, quiet=args.quiet)))


def calibrate_command(args: argparse.Namespace) -> int:
    """``rjsim calibrate``."""
    from rjsim.app.evidence import CalibrateOptions, calibrate
    return show(calibrate(CalibrateOptions(
        scenario=args.scenario, parameters=tuple(args.parameters or ()), targets=args.targets,
        all_targets=args.all_targets, points=args.points, cutoff=args.cutoff,
        discrepancy=args.discrepancy, write_scenario=args.write_scenario,
        **experiment_options(args)), display(args)))
