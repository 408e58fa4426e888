"""rjsim: discrete-event simulation of restorative justice capacity in England and Wales.

The public API, for notebooks and scripts::

    import rjsim
    scenario = rjsim.load_scenario("scenarios/statutory_right.toml")
    result = rjsim.run(scenario, replication=0)
    result.tables["area_summary"]          # pandas DataFrames, by table name

Every command of the ``rjsim`` CLI has a function here, a thin layer over the same
:mod:`rjsim.app` function the CLI calls: :func:`run_experiment` (and :func:`run_sweep`),
:func:`compare`, :func:`capacity_test`, :func:`plan`, :func:`uncertainty`,
:func:`sensitivity`, :func:`report`, :func:`validate` and :func:`regress`. They return
objects (experiments, comparisons, verdicts, tables) and write a results directory (and its
report) only when given ``out``.

Heavy modules are imported on first use, so ``import rjsim`` and the CLI start quickly.

``rjsim.report``, ``rjsim.regress`` and ``rjsim.uncertainty`` are these functions, although
subpackages of the same names exist: importing a subpackage would normally rebind the
package's attribute to it, so this module refuses that rebinding (the subpackages stay
importable with ``from rjsim.report import build``; ``import rjsim.report.build as b`` would
find the function instead, so do not write it).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rjsim.core.version import __version__

if TYPE_CHECKING:
    from rjsim.app.capacity import CapacityTestOutcome
    from rjsim.app.checks import FileCheck, RegressOutcome
    from rjsim.app.plan import PlanOutcome
    from rjsim.app.progress import Display
    from rjsim.app.sensitivity import SensitivityOutcome
    from rjsim.app.uncertainty import UncertaintyOutcome
    from rjsim.experiment.comparison import Comparison
    from rjsim.experiment.executors import ExecutorKind
    from rjsim.experiment.experiment import Experiment
    from rjsim.experiment.runner import RunResult
    from rjsim.scenario.spec import Scenario
    from rjsim.scenario.sweep import Point

__all__ = ["__version__", "capacity_test", "compare", "load_scenario", "load_variants", "plan",
           "regress", "report", "run", "run_experiment", "run_sweep", "scenario_from_dict",
           "sensitivity", "uncertainty", "validate"]


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file (``extends`` chains included); optional overrides are
    laid on top, e.g. ``{"run": {"years": 3}}``."""
    from rjsim.scenario import io as scenario_io
    return scenario_io.load(path, overrides, "overrides")


def scenario_from_dict(values: dict[str, Any]) -> Scenario:
    """A scenario from a dictionary laid over the packaged defaults."""
    from rjsim.scenario import io as scenario_io
    return scenario_io.from_dict(values)


def load_variants(path: str | Path) -> list[tuple[Any, Scenario]]:
    """(sweep point, scenario) for each point of a file's ``[sweep]`` (one, ``None``, if none)."""
    from rjsim.scenario import io as scenario_io
    return scenario_io.load_variants(path)


def _source(scenario: Scenario | str | Path) -> Scenario | Path:
    return Path(scenario) if isinstance(scenario, str) else scenario


def _display(progress: bool) -> Display | None:
    """A progress bar on standard error when asked for (also off a terminal, e.g. a
    notebook)."""
    if not progress:
        return None
    from rjsim.cli.progress import TerminalProgress
    return TerminalProgress(bar=True)


def _options(replications: int | None, workers: int | None, executor: ExecutorKind,
             scheduler: str | None, cache_dir: str | Path | None, seed: int | None,
             years: float | None, out: str | Path | None, report: bool) -> dict[str, Any]:
    """Keyword arguments of :class:`rjsim.app.common.ExperimentOptions`."""
    return {"replications": replications, "workers": workers, "executor": executor,
            "scheduler": scheduler, "cache_dir": Path(cache_dir) if cache_dir else None,
            "seed": seed, "years": years, "out": Path(out) if out is not None else None,
            "write": out is not None, "report": report}


def run_experiment(scenario: Scenario | str | Path, replications: int | None = None, *,
                   workers: int | None = None, executor: ExecutorKind = "processes",
                   scheduler: str | None = None, cache_dir: str | Path | None = None,
                   target_precision: float | None = None, max_replications: int = 200,
                   seed: int | None = None, years: float | None = None,
                   out: str | Path | None = None, records: bool = False, report: bool = True,
                   progress: bool = False) -> Experiment:
    """Run replications of a scenario (object or file) and summarise them with 95% CIs, as
    ``rjsim run`` does.

    Returns an :class:`~rjsim.experiment.experiment.Experiment` whose ``summary``,
    ``per_replication`` and ``means`` hold tidy DataFrames. With ``out``, also writes the
    results directory there (every referral under ``tables/cases/`` with ``records``) and,
    unless ``report=False``, its report. ``seed`` and ``years`` override the scenario's;
    ``progress`` shows a bar on standard error.
    """
    from rjsim.app.experiments import RunOptions, run
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)  # a sweep is refused here: see run_sweep
    done = run(RunOptions(scenario=scenario, target_precision=target_precision,
                          max_replications=max_replications, records=records,
                          **_options(replications, workers, executor, scheduler, cache_dir,
                                     seed, years, out, report)), _display(progress))
    return done.experiments[0]


def run_sweep(path: str | Path, replications: int | None = None, *,
              workers: int | None = None, executor: ExecutorKind = "processes",
              scheduler: str | None = None, cache_dir: str | Path | None = None,
              target_precision: float | None = None, max_replications: int = 200,
              seed: int | None = None, years: float | None = None,
              out: str | Path | None = None, records: bool = False, report: bool = True,
              progress: bool = False) -> list[tuple[Point | None, Experiment]]:
    """Run every point of a scenario file's ``[sweep]`` (the file's one scenario if it has
    none), as ``rjsim run FILE`` does: (point, experiment) per point. Options as
    :func:`run_experiment`; with ``out``, one results directory per point under
    ``points/`` and ``tables/sweep_national.*``."""
    from rjsim.app.experiments import RunOptions, run
    done = run(RunOptions(scenario=Path(path), target_precision=target_precision,
                          max_replications=max_replications, records=records,
                          **_options(replications, workers, executor, scheduler, cache_dir,
                                     seed, years, out, report)), _display(progress))
    return list(zip(done.points, done.experiments, strict=True))


def compare(scenarios: Sequence[Scenario | str | Path], replications: int | None = None, *,
            workers: int | None = None, executor: ExecutorKind = "processes",
            scheduler: str | None = None, cache_dir: str | Path | None = None,
            seed: int | None = None, years: float | None = None,
            out: str | Path | None = None, report: bool = True,
            progress: bool = False) -> Comparison:
    """Compare scenarios under common random numbers with the first, as ``rjsim compare``
    does (see :mod:`rjsim.experiment.comparison`): ``estimates``, paired ``differences`` and
    each option's ``capacity_tests``. With ``out``, also writes the results directory and,
    unless ``report=False``, its report."""
    from rjsim.app.experiments import CompareOptions
    from rjsim.app.experiments import compare as compare_command
    return compare_command(CompareOptions(
        scenarios=tuple(_source(s) for s in scenarios),
        **_options(replications, workers, executor, scheduler, cache_dir, seed, years, out,
                   report)), _display(progress)).comparison


def capacity_test(scenario: Scenario | str | Path, replications: int | None = None, *,
                  workers: int | None = None, executor: ExecutorKind = "processes",
                  scheduler: str | None = None, cache_dir: str | Path | None = None,
                  seed: int | None = None, years: float | None = None,
                  out: str | Path | None = None, report: bool = True,
                  progress: bool = False, baseline: Scenario | str | Path | None = None,
                  status_quo: bool | None = None) -> CapacityTestOutcome:
    """The minister's capacity test, as ``rjsim capacity-test`` does.

    Returns the outcome: ``verdict`` (national: ``pass``, ``fail`` or ``inconclusive``),
    ``status`` (the command's exit status: 0 pass, 1 otherwise), ``result`` (its ``verdicts``,
    ``national`` and ``criteria`` tables; ``result.tables()`` all of them by file name),
    ``time_to_pass``, ``experiment`` (the run over the assessment window) and ``status_quo``
    (the postcode lottery against the status quo on the same seeds: its ``sentence`` and
    ``inequality`` table; ``baseline``: the scenario standing for the status quo instead of
    the scenario's own; ``status_quo=False``: not run, ``None``; by default as the scenario's
    ``capacity_test.status_quo`` says). With ``out``, also writes the
    results directory and, unless ``report=False``, its report.
    """
    from rjsim.app.capacity import CapacityTestOptions
    from rjsim.app.capacity import capacity_test as test_command
    return test_command(CapacityTestOptions(
        scenario=_source(scenario), status_quo=status_quo,
        baseline=None if baseline is None else _source(baseline),
        **_options(replications, workers, executor, scheduler, cache_dir, seed, years, out,
                   report)), _display(progress))


def plan(scenario: Scenario | str | Path, replications: int | None = None, *,
         workers: int | None = None, executor: ExecutorKind = "processes",
         scheduler: str | None = None, seed: int | None = None, years: float | None = None,
         out: str | Path | None = None, report: bool = True,
         write_scenario: str | Path | None = None, force: bool = False,
         progress: bool = False, schedule: bool = False,
         max_utilisation: float | None = None) -> PlanOutcome:
    """The least FTE per area that passes the capacity test, as ``rjsim plan`` does
    (``replications`` per search round, default 10).

    Returns the outcome: ``verdict`` of the plan's check run, ``status``, ``result`` (its
    ``areas`` and ``national`` tables of FTE and cost, ``search_log``, ``test`` (the check's
    capacity test) and ``scenario``, the plan as a funding scenario) and ``scenario_toml``.
    ``write_scenario`` also writes that scenario to a file (``force`` replaces one); with
    ``out``, the results directory and, unless ``report=False``, its report. ``progress``
    shows a line per search round on standard error.

    ``schedule`` also plans the budget schedule with the real lags, as ``rjsim plan
    --schedule`` does (the scenario must commence a right): the outcome's ``schedule`` holds
    its ``areas`` (recruitment start and budget per area), ``years`` (cost by year) and
    ``scenario`` (the budget-driven scenario, which ``scenario_toml`` and ``write_scenario``
    then are). ``max_utilisation`` (``--max-utilisation``) is the utilisation headroom: the
    test's ``max_utilisation`` for the plan, above 0 and at most 1.
    """
    from rjsim.app.plan import PlanOptions
    from rjsim.app.plan import plan as plan_command
    display = None
    if progress:
        from rjsim.cli.progress import TerminalProgress
        display = TerminalProgress()
    return plan_command(PlanOptions(
        scenario=_source(scenario),
        write_scenario=Path(write_scenario) if write_scenario is not None else None,
        force=force, schedule=schedule, max_utilisation=max_utilisation,
        **_options(replications, workers, executor, scheduler, None, seed, years, out,
                   report)), display)


def uncertainty(scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
                replications: int | None = None, *, samples: int | None = None,
                method: str | None = None, sample_seed: int | None = None,
                confirm_replications: int | None = None, workers: int | None = None,
                executor: ExecutorKind = "processes", scheduler: str | None = None,
                cache_dir: str | Path | None = None, seed: int | None = None,
                years: float | None = None, out: str | Path | None = None,
                report: bool = True, progress: bool = False) -> UncertaintyOutcome:
    """Parameter uncertainty, as ``rjsim uncertainty`` does: one scenario, or several funding
    options run on the same parameter sets with common random numbers.

    ``replications`` per parameter set, ``samples``, ``method`` (``"lhs"`` or ``"sobol"``)
    and ``sample_seed`` override the scenarios' ``[uncertainty]`` table (which several options
    must share; a scenario object uses the defaults: every setting with a logged range);
    ``confirm_replications`` (0 skips) runs the capacity test confirming the price of
    commencement. Returns the outcome: ``results`` (option name -> its result: ``kpis``,
    ``samples``, ``capacity``, ``prices``, ...), ``options_table`` (per option and national
    KPI: median, 90% interval, share of variance from parameters; ``p_pass_national``, the
    areas' P(pass) summarised, the price of commencement) and ``areas_table`` (P(pass) per
    option and area). With ``out``, also writes the results directory and, unless
    ``report=False``, its report.
    """
    from rjsim.app.uncertainty import UncertaintyOptions
    from rjsim.app.uncertainty import uncertainty as uncertainty_command
    many = ([scenarios] if isinstance(scenarios, str | Path) or not isinstance(
        scenarios, Sequence) else list(scenarios))
    return uncertainty_command(UncertaintyOptions(
        scenarios=tuple(_source(s) for s in many), samples=samples, method=method,
        sample_seed=sample_seed, confirm_replications=confirm_replications,
        **_options(replications, workers, executor, scheduler, cache_dir, seed, years, out,
                   report)), _display(progress))


def sensitivity(scenario: Scenario | str | Path, replications: int | None = None, *,
                method: str = "morris", trajectories: int | None = None,
                sample_seed: int | None = None, workers: int | None = None,
                executor: ExecutorKind = "processes", scheduler: str | None = None,
                cache_dir: str | Path | None = None, seed: int | None = None,
                years: float | None = None, out: str | Path | None = None,
                report: bool = True, progress: bool = False) -> SensitivityOutcome:
    """Global sensitivity, as ``rjsim sensitivity`` does: Morris screening (``method``
    ``"morris"``, ``trajectories`` default 10) or Sobol' indices (``"sobol"``, base sample
    ``trajectories``, a power of two, default 32) of the scenario's uncertain parameters,
    ``replications`` (default 1) per design point on common random numbers.

    Returns the outcome: ``result.indices`` (per national KPI and parameter: the method's
    indices, ``score`` and ``rank``), ``result.design`` and ``result.outputs``. With ``out``,
    also writes the results directory (tornado charts) and, unless ``report=False``, its
    report.
    """
    from rjsim.app.sensitivity import SensitivityOptions
    from rjsim.app.sensitivity import sensitivity as sensitivity_command
    return sensitivity_command(SensitivityOptions(
        scenario=_source(scenario), method=method, n=trajectories, sample_seed=sample_seed,
        **_options(replications, workers, executor, scheduler, cache_dir, seed, years, out,
                   report)), _display(progress))


def report(results_dir: str | Path) -> Path:
    """Build ``report.html``, ``report.xlsx`` and ``figures/`` in a results directory from
    its files alone, as ``rjsim report`` does; returns the path of ``report.html``."""
    from rjsim.app.reports import ReportOptions
    from rjsim.app.reports import report as report_command
    page = report_command(ReportOptions(results=Path(results_dir))).report
    assert page is not None  # report_command always builds one or raises
    return page


def validate(*files: str | Path) -> list[FileCheck]:
    """Check scenario files without running them, as ``rjsim validate`` does: per file,
    ``ok``, its scenario's ``name``, ``points`` (of a sweep) or the ``error``."""
    from rjsim.app.checks import ValidateOptions
    from rjsim.app.checks import validate as validate_command
    return list(validate_command(ValidateOptions(files=tuple(Path(f) for f in files))).files)


def regress(scenarios: Sequence[str] = (), *, reference: str | Path = "results/reference",
            seed: int | None = None, workers: int | None = None,
            statistical_only: bool = False, update: bool = False,
            reason: str | None = None) -> RegressOutcome:
    """Check the reference scenarios' KPIs against the committed references (or, with
    ``update`` and a ``reason``, regenerate them), as ``rjsim regress`` does.

    Returns the outcome: ``status`` (0 pass, 1 regression), ``checked`` (per scenario the
    exact and statistical layers) or ``updated``, and ``lines`` (the text report).
    """
    from rjsim.app.checks import RegressOptions
    from rjsim.app.checks import regress as regress_command
    from rjsim.core.errors import InputError, Problem
    options = RegressOptions(reference=Path(reference), scenarios=tuple(scenarios),
                             update=update, reason=reason, statistical_only=statistical_only,
                             seed=seed, workers=workers)
    wrong = options.problems()
    if wrong:
        raise InputError([Problem("regress", w) for w in wrong], "invalid options")
    return regress_command(options)


def run(scenario: Scenario, replication: int = 0) -> RunResult:
    """Simulate every area of ``scenario`` for one replication and build the tables."""
    from rjsim.experiment import runner
    return runner.run(scenario, replication)


#: API functions that share their name with a subpackage (see the module docstring).
_SHADOWED = frozenset({"report", "regress", "uncertainty"})


class _Api(types.ModuleType):
    """The ``rjsim`` module: importing ``rjsim.report`` or ``rjsim.regress`` does not replace
    the API function of that name with the subpackage."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the subpackage stays in sys.modules, reachable by ``from ... import``
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api
