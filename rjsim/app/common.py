"""What the commands share: the options of an experiment, what a command returns, and the
steps every experiment command takes (load, settings, report).

Nothing here prints or exits: a command returns an :class:`Outcome` (exit status, the lines to
show, the results directory) and the caller (the CLI or the Python API) decides what to do
with it. Heavy modules are imported inside the functions that need them, so the CLI starts
quickly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rjsim.core.errors import InputError, Problem, RjsimError

if TYPE_CHECKING:
    from rjsim.app.progress import Display
    from rjsim.experiment.executors import ExecutorKind
    from rjsim.experiment.experiment import ExperimentSettings, Progress
    from rjsim.scenario.spec import Scenario

EXIT_OK, EXIT_NOT_PASSED, EXIT_ERROR = 0, 1, 2
EXECUTORS = ("processes", "local", "dask")


def _check(problems: list[Problem], where: str, ok: bool, allowed: str, value: Any) -> None:
    if not ok:
        problems.append(Problem(where, f"must be {allowed}", repr(value)))


def whole_numbers(options: object, bounds: dict[str, tuple[int, int | None]]) -> list[Problem]:
    """The problems of ``options``' optional whole-number fields: per field name, its
    ``(low, high)`` bounds (``high`` None: no upper bound); ``None`` values are allowed."""
    p: list[Problem] = []
    for name, (low, high) in bounds.items():
        value = getattr(options, name)
        allowed = (f"a whole number, {low} or more" if high is None
                   else f"a whole number from {low} to {high}")
        ok = value is None or (isinstance(value, Integral) and not isinstance(value, bool)
                               and low <= int(value) and (high is None or int(value) <= high))
        _check(p, name, ok, allowed, value)
    return p


def one_of(name: str, value: object, allowed: tuple[str, ...]) -> list[Problem]:
    """A problem unless ``value`` is one of ``allowed``."""
    p: list[Problem] = []
    _check(p, name, value in allowed, "one of " + ", ".join(allowed), value)
    return p


@dataclass(frozen=True, kw_only=True)
class ExperimentOptions:
    """How to run the experiments of a command (the scenario says what to run).

    ``seed`` and ``years`` override the scenario's ``run.seed`` and ``run.years``;
    ``replications`` its ``run.replications``. ``workers=1`` runs every task in this process;
    ``cache_dir=None`` neither reads nor writes the task cache. ``write`` writes a results
    directory at ``out`` (``None``: ``results/<name>``, with a command-specific suffix), and
    ``report`` builds ``report.html``, ``report.xlsx`` and ``figures/`` in it (``pdf``: and
    prints it to ``report.pdf`` with headless Chromium); without
    ``write`` the command only returns its results. ``quiet`` shortens the lines returned to
    where the results are.
    """

    seed: int | None = None
    years: float | None = None
    replications: int | None = None
    workers: int | None = None
    executor: ExecutorKind = "processes"
    scheduler: str | None = None
    cache_dir: Path | None = None
    out: Path | None = None
    quiet: bool = False
    write: bool = True
    report: bool = True
    pdf: bool = False

    def __post_init__(self) -> None:
        """Refuse values the command line would refuse (API callers get the same checks)."""
        p: list[Problem] = []
        _check(p, "seed", self.seed is None or (isinstance(self.seed, Integral)
                                                and self.seed >= 0),
               "a whole number, 0 or more", self.seed)
        _check(p, "years", self.years is None or (isinstance(self.years, Real)
                                                  and 0 < self.years <= 50),
               "greater than 0 and at most 50", self.years)
        for name in ("replications", "workers"):
            value = getattr(self, name)
            _check(p, name, value is None or (isinstance(value, Integral) and int(value) >= 1),
                   "a whole number, 1 or more", value)
        _check(p, "executor", self.executor in EXECUTORS, "one of " + ", ".join(EXECUTORS),
               self.executor)
        if p:
            raise InputError(p, "invalid options")

    def overrides(self) -> dict[str, Any]:
        """The scenario values these options override (``{"run": {...}}`` or nothing)."""
        run = {k: v for k, v in (("seed", self.seed), ("years", self.years)) if v is not None}
        return {"run": run} if run else {}

    def settings(self, progress: Progress | None = None, **more: Any) -> ExperimentSettings:
        """The experiment settings these options stand for."""
        from rjsim.experiment.executors import ExecutorSettings
        from rjsim.experiment.experiment import ExperimentSettings

        kind: ExecutorKind = ("local" if self.workers == 1 and self.executor == "processes"
                              else self.executor)
        return ExperimentSettings(
            replications=more.pop("replications", self.replications),
            executor=ExecutorSettings(kind, self.workers, self.scheduler),
            cache_dir=self.cache_dir, progress=progress, **more)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a command leaves: its exit status (0 success or pass, 1 fail or inconclusive,
    2 error), the lines to show on standard output and on standard error, and where it wrote
    (the results directory and the report, when there are)."""

    status: int = EXIT_OK
    lines: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    out: Path | None = None
    report: Path | None = None


class ReportFailed(RjsimError):
    """The results directory was written but its report could not be built; ``lines`` are
    what the command had to show before that."""

    def __init__(self, cause: RjsimError, lines: tuple[str, ...]) -> None:
        super().__init__(str(cause))
        self.lines = lines


def load(source: Path | Scenario, options: ExperimentOptions) -> Scenario:
    """The scenario of a file or object, with the options' overrides (a sweep is refused:
    see :func:`load_variants`)."""
    from rjsim.scenario import io as scenario_io
    from rjsim.scenario.spec import Scenario

    if isinstance(source, Scenario):
        return scenario_io.with_overrides(source, **options.overrides())
    return scenario_io.load(source, options.overrides(), "command line")


def source_name(source: Path | Scenario) -> str:
    """How a scenario's origin is recorded in the manifest (its file, or nothing)."""
    return str(source) if isinstance(source, str | Path) else ""


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


def finish(outcome: OutcomeT, options: ExperimentOptions) -> OutcomeT:
    """Build the report of ``outcome``'s results directory if the options ask for it, adding
    its ``Report:`` line; a failure keeps the lines already due (:class:`ReportFailed`)."""
    if not options.report or outcome.out is None:
        return outcome
    from rjsim.report.build import build_report
    try:
        page = build_report(outcome.out)
    except RjsimError as exc:
        raise ReportFailed(exc, outcome.lines) from None
    lines = (*outcome.lines, f"Report: {page}")
    if options.pdf:
        lines += pdf_line(outcome.out, lines)
    return dataclasses.replace(outcome, lines=lines, report=page)


def pdf_line(results: Path, lines: tuple[str, ...]) -> tuple[str]:
    """Print ``results``' report to ``report.pdf`` and return the line saying where it is;
    a failure keeps ``lines`` (:class:`ReportFailed`)."""
    from rjsim.report.pdf import write_pdf
    try:
        return (f"PDF: {write_pdf(results)}",)
    except RjsimError as exc:
        raise ReportFailed(exc, lines) from None


class _Quiet:
    """The display used when the caller gives none: shows nothing."""

    def update(self, done: int, total: int, label: str) -> None:
        return None

    def message(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None


def display_or_quiet(display: Display | None) -> Display:
    """``display``, or one that shows nothing."""
    return display if display is not None else _Quiet()
