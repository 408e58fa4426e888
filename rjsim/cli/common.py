"""What the commands of the CLI share: checked number arguments, the experiment options,
the progress display, and printing what a command returned."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rjsim.app.common import Outcome
    from rjsim.cli.progress import TerminalProgress


def bounded(kind: type[int] | type[float], low: float, high: float, allowed: str, *,
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


positive_float = bounded(float, 0, 50, "greater than 0 and at most 50", low_open=True)
positive_int = bounded(int, 1, 10**9, "1 or more")
non_negative_int = bounded(int, 0, 2**63, "0 or more")
fraction = bounded(float, 0, 1, "between 0 and 1 (e.g. 0.05)", low_open=True, high_open=True)


def add_experiment_options(p: argparse.ArgumentParser, *, report: bool = True,
                           pdf: bool = False, helps: Mapping[str, str] | None = None) -> None:
    """Add the options every experiment command shares (run, compare, capacity-test, plan,
    ...); ``report=False`` leaves out ``--no-report`` (a command that builds no report),
    ``pdf`` adds ``--pdf``, and ``helps`` replaces the help of options (by destination, e.g.
    ``replications``) whose meaning or default differs in this command."""
    p.add_argument("--seed", type=non_negative_int, help="override run.seed")
    p.add_argument("--years", type=positive_float,
                   help="simulated years: more than 0 and at most 50, leaving a month after "
                   "run.warmup_days (default: the scenario's run.years)")
    p.add_argument("--replications", type=positive_int,
                   help="replications to run (default: the scenario's run.replications)")
    p.add_argument("--workers", type=positive_int,
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
    if report:
        p.add_argument("--no-report", action="store_true",
                       help="do not write report.html, report.xlsx and figures/")
    if pdf:
        add_pdf_option(p)
    actions = {a.dest: a for a in p._actions}
    for dest, text in (helps or {}).items():
        actions[dest].help = text  # a KeyError is a mistake in rjsim's own parser


PDF_HELP = ("also print the report to report.pdf (A4, page numbers, vector figures) with "
            "headless Chromium, for circulation")


def add_pdf_option(p: argparse.ArgumentParser) -> None:
    """``--pdf`` for the commands that build a report."""
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)


def experiment_options(args: argparse.Namespace) -> dict[str, Any]:
    """The shared experiment options of a parsed command line, as keyword arguments of
    :class:`rjsim.app.common.ExperimentOptions` (and its subclasses)."""
    return {"seed": args.seed, "years": args.years, "replications": args.replications,
            "workers": args.workers, "executor": args.executor, "scheduler": args.scheduler,
            "cache_dir": None if args.no_cache else args.cache, "out": args.out,
            "quiet": args.quiet, "report": not getattr(args, "no_report", False),
            "pdf": bool(getattr(args, "pdf", False))}


def display(args: argparse.Namespace) -> TerminalProgress:
    """The progress display of a command: a bar on a terminal, messages unless --quiet."""
    from rjsim.cli.progress import TerminalProgress
    return TerminalProgress(quiet=args.quiet)


def show(outcome: Outcome) -> int:
    """Print what a command returned (its lines on stdout, its errors on stderr) and return
    its exit status."""
    for line in outcome.lines:
        print(line)
    for line in outcome.errors:
        print(line, file=sys.stderr)
    return int(outcome.status)
