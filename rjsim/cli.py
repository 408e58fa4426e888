"""The ``rjsim`` command: argument parsing and printing only.

Every deliberate error (bad scenario, data file or argument) becomes a short message on stderr
and exit status 2; an interrupted run exits 130 having written nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rjsim import __version__
from rjsim.errors import RjsimError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 < value <= 50:
        raise argparse.ArgumentTypeError(f"{text}: must be greater than 0 and at most 50")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="rjsim", description="Simulate restorative justice capacity in the 43 police "
        "force areas of England and Wales.")
    parser.add_argument("--version", action="version", version=f"rjsim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write a results directory")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--seed", type=_non_negative_int, help="override run.seed")
    run.add_argument("--years", type=_positive_float, help="override run.years (0-50)")
    run.add_argument("--replication", type=_non_negative_int, default=0,
                     help="which replication's random streams to use (default 0)")
    run.add_argument("--out", type=Path, help="results directory (default results/<name>)")
    run.add_argument("--records", action="store_true",
                     help="also write every referral as tables/cases.parquet")
    run.add_argument("-q", "--quiet", action="store_true", help="print only where results are")
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.set_defaults(func=_cmd_validate)

    ass = sub.add_parser("assumptions", help="list every default with its source and confidence")
    ass.add_argument("scenario", nargs="?", type=Path, help="show this scenario's values")
    ass.set_defaults(func=_cmd_assumptions)

    bench = sub.add_parser("bench", help="time a national run against a bare SimPy model")
    bench.add_argument("--scenario", type=Path, default=Path("scenarios/statutory_right.toml"))
    bench.add_argument("--years", type=_positive_float, default=5.0)
    bench.add_argument("--repeats", type=_non_negative_int, default=3,
                       help="timed repeats; medians are reported (default 3)")
    bench.add_argument("--no-baseline", action="store_true", help="skip the bare SimPy model")
    bench.set_defaults(func=_cmd_bench)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    run: dict[str, Any] = {}
    if args.seed is not None:
        run["seed"] = args.seed
    if args.years is not None:
        run["years"] = args.years
    return {"run": run} if run else {}


def _cmd_run(args: argparse.Namespace) -> int:
    from rjsim import runner, scenario_io, store
    from rjsim.report_text import national_text, worst_areas
    from rjsim.store_extra import write_cases, write_summary

    started, t0 = store.now_utc(), time.perf_counter()
    scenario = scenario_io.load(args.scenario, _overrides(args), "command line")
    result = runner.run(scenario, replication=args.replication, keep_records=args.records)
    out = args.out or Path("results") / scenario.name
    text = national_text(result)
    manifest = {
        "rjsim_results": 1, "command": store.command_line(), "scenario_file": str(args.scenario),
        "scenario": scenario.name, "description": scenario.description,
        "fingerprint": _fingerprint(result), "seed": scenario.run.seed,
        "replications": [args.replication], "areas": [a.code for a in result.plan.areas],
        "area_data": {"source": result.plan.table.source, "sha256": result.plan.table.digest},
        "referrals": result.n_referrals, "versions": store.versions(), "started_utc": started,
        "timings_s": result.timings | {"total_s": time.perf_counter() - t0},
    }

    def extra(tmp: Path) -> None:
        write_summary(tmp, text)
        if args.records:
            write_cases(tmp, result)

    store.write_results(out, scenario, result.tables, manifest, extra)
    if not args.quiet:
        print(text)
        print("Highest unmet demand:")
        print(worst_areas(result.tables["area_summary"]))
        print()
    print(f"Results written to {out}/ (tables in CSV and Parquet, manifest.json, scenario.toml)")
    return 0


def _fingerprint(result: Any) -> str:
    from rjsim import scenario_io
    return scenario_io.fingerprint(result.scenario, result.plan.table.digest)


def _cmd_validate(args: argparse.Namespace) -> int:
    from rjsim import runner, scenario_io

    failed = 0
    for path in args.files:
        try:
            scenario = scenario_io.load(path)
            runner.plan(scenario)  # area data and budgets are part of a valid scenario
        except RjsimError as exc:
            failed += 1
            print(f"FAIL {path}\n{exc}", file=sys.stderr)
            continue
        first = scenario.description.strip().splitlines()[0] if scenario.description else ""
        print(f"ok   {path}: {scenario.name} - {first}")
    return EXIT_ERROR if failed else 0


def _cmd_assumptions(args: argparse.Namespace) -> int:
    from rjsim import scenario_io, store

    scenario = scenario_io.load(args.scenario) if args.scenario else scenario_io.from_dict({})
    table = store.assumptions_table(scenario)
    for row in table.itertuples():
        rng = f" (range {row.low}-{row.high})" if row.low or row.high else ""
        print(f"{row.key} = {row.value}{rng} [{row.confidence}]\n    {row.source}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from rjsim import benchmark
    print(benchmark.run(args.scenario, args.years, max(args.repeats, 1), not args.no_baseline))
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
        print("rjsim: interrupted; no results were written", file=sys.stderr)
        return EXIT_INTERRUPTED
