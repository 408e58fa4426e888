"""Commands that check rather than run: ``rjsim validate`` (scenario files) and
``rjsim regress`` (KPIs against the committed references)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rjsim.app.common import EXIT_ERROR, EXIT_OK, Outcome, display_or_quiet
from rjsim.app.progress import Display
from rjsim.core.errors import RjsimError

if TYPE_CHECKING:
    from rjsim.regress.check import RegressionResult, UpdateResult


@dataclass(frozen=True, kw_only=True)
class ValidateOptions:
    """``rjsim validate``: the scenario files to check (with the area data and budgets they
    name, and every sweep point)."""

    files: tuple[Path, ...]


@dataclass(frozen=True)
class FileCheck:
    """One file's verdict: its scenario's name and description's first line, how many sweep
    points it has (0: not a sweep), or the error that makes it invalid."""

    path: Path
    name: str = ""
    description: str = ""
    points: int = 0
    error: RjsimError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, kw_only=True)
class ValidateOutcome(Outcome):
    """Every file's verdict; exit status 2 if any is invalid."""

    files: tuple[FileCheck, ...] = ()


def _check_file(path: Path) -> FileCheck:
    from rjsim.experiment import runner
    from rjsim.scenario import io as scenario_io
    try:
        variants = scenario_io.load_variants(path)
        for _, scenario in variants:
            runner.task_plan(scenario)  # area data and budgets are part of a valid scenario
    except RjsimError as exc:
        return FileCheck(path, error=exc)
    first = scenario.description.strip().splitlines()[0] if scenario.description else ""
    return FileCheck(path, scenario.name, first, len(variants) if variants[0][0] else 0)


def validate(options: ValidateOptions) -> ValidateOutcome:
    """Check each file without running it: ``ok`` lines for the valid ones, ``FAIL`` and
    the problems (as errors) for the others."""
    checks = tuple(_check_file(Path(p)) for p in options.files)
    lines, errors = [], []
    for c in checks:
        if c.error is not None:
            errors.append(f"FAIL {c.path}\n{c.error}")
        else:
            points = f" (a sweep of {c.points} points)" if c.points else ""
            lines.append(f"ok   {c.path}: {c.name}{points} - {c.description}")
    failed = any(not c.ok for c in checks)
    return ValidateOutcome(status=EXIT_ERROR if failed else EXIT_OK, lines=tuple(lines),
                           errors=tuple(errors), files=checks)


@dataclass(frozen=True, kw_only=True)
class RegressOptions:
    """``rjsim regress``: the reference directory, which reference scenarios (names or files;
    every one if empty), and how. ``update`` regenerates the references (``reason`` says why;
    no ``statistical_only`` or ``seed`` then); ``statistical_only`` reports exact-layer
    differences without failing on them; ``seed`` checks with another seed; ``quiet`` shows
    only failing KPIs."""

    reference: Path = Path("results/reference")
    scenarios: tuple[str, ...] = ()
    update: bool = False
    reason: str | None = None
    statistical_only: bool = False
    seed: int | None = None
    workers: int | None = None
    quiet: bool = False

    def problems(self) -> list[str]:
        """What is wrong with this combination of options (nothing if it can run)."""
        wrong = (["--reason is needed with --update: say why the references change"]
                 if self.update and not (self.reason or "").strip() else [])
        wrong += [f"{opt} cannot be used with --update (an update compares nothing)"
                  for opt, on in (("--statistical-only", self.statistical_only),
                                  ("--seed", self.seed is not None))
                  if self.update and on]
        wrong += ["--reason is only used with --update"] if self.reason and not self.update \
            else []
        return wrong


@dataclass(frozen=True, kw_only=True)
class RegressOutcome(Outcome):
    """The check's result (``checked``) or the update's (``updated``); neither when the
    options were refused (exit status 2)."""

    checked: RegressionResult | None = None
    updated: UpdateResult | None = None


def regress(options: RegressOptions, display: Display | None = None) -> RegressOutcome:
    """Check the reference scenarios (exit 1 on a regression), or regenerate them. The
    display gets a message as each scenario starts."""
    wrong = options.problems()
    if wrong:
        return RegressOutcome(status=EXIT_ERROR,
                              errors=("rjsim regress: error: " + "; ".join(wrong),))
    from rjsim.regress import check as regress_check
    from rjsim.regress import text as regress_text

    shown = display_or_quiet(display)

    def progress(name: str, i: int, n: int) -> None:
        shown.message(f"regress [{i}/{n}] {name}")
    settings = regress_check.RegressSettings(options.reference, tuple(options.scenarios),
                                             options.workers, options.seed, progress)
    try:
        if options.update:
            updated = regress_check.update(settings, options.reason or "")
            return RegressOutcome(lines=(regress_text.update_text(updated),), updated=updated)
        result = regress_check.check(settings)
    finally:
        shown.close()
    text = regress_text.check_text(result, statistical_only=options.statistical_only,
                                   quiet=options.quiet)
    return RegressOutcome(status=result.exit_status(statistical_only=options.statistical_only),
                          lines=(text,),
                          checked=result)
