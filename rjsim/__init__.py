"""rjsim: discrete-event simulation of restorative justice capacity in England and Wales.

The public API, for notebooks and scripts::

    import rjsim
    scenario = rjsim.load_scenario("scenarios/statutory_right.toml")
    result = rjsim.run(scenario, replication=0)
    result.tables["area_summary"]          # pandas DataFrames, by table name

Heavy modules are imported on first use, so ``import rjsim`` and the CLI start quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rjsim.core.version import __version__

if TYPE_CHECKING:
    from rjsim.experiment.comparison import Comparison
    from rjsim.experiment.executors import ExecutorKind
    from rjsim.experiment.experiment import Experiment
    from rjsim.experiment.runner import RunResult
    from rjsim.scenario.spec import Scenario

__all__ = ["__version__", "compare", "load_scenario", "load_variants", "run", "run_experiment",
           "scenario_from_dict"]


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


def _settings(replications: int | None, workers: int | None, executor: ExecutorKind,
              scheduler: str | None, cache_dir: str | Path | None, **more: Any) -> Any:
    from rjsim.experiment.executors import ExecutorSettings
    from rjsim.experiment.experiment import ExperimentSettings
    kind: ExecutorKind = "local" if workers == 1 and executor == "processes" else executor
    return ExperimentSettings(replications=replications,
                              executor=ExecutorSettings(kind, workers, scheduler),
                              cache_dir=Path(cache_dir) if cache_dir else None, **more)


def run_experiment(scenario: Scenario | str | Path, replications: int | None = None, *,
                   workers: int | None = None, executor: ExecutorKind = "processes",
                   scheduler: str | None = None, cache_dir: str | Path | None = None,
                   target_precision: float | None = None,
                   max_replications: int = 200) -> Experiment:
    """Run replications of a scenario (object or file) and summarise them with 95% CIs.

    Returns an :class:`~rjsim.experiment.experiment.Experiment` whose ``summary``,
    ``per_replication``
    and ``means`` hold tidy DataFrames.
    """
    from rjsim.experiment import experiment
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    return experiment.run_experiment(scenario, _settings(
        replications, workers, executor, scheduler, cache_dir,
        target_precision=target_precision, max_replications=max_replications))


def compare(scenarios: list[Scenario | str | Path], replications: int | None = None, *,
            workers: int | None = None, executor: ExecutorKind = "processes",
            scheduler: str | None = None, cache_dir: str | Path | None = None,
            seed: int | None = None) -> Comparison:
    """Compare scenarios under common random numbers (see :mod:`rjsim.experiment.comparison`)."""
    from rjsim.experiment import comparison as _compare
    loaded = [load_scenario(s) if isinstance(s, str | Path) else s for s in scenarios]
    return _compare.compare(loaded, _settings(replications, workers, executor, scheduler,
                                              cache_dir), seed=seed)


def run(scenario: Scenario, replication: int = 0) -> RunResult:
    """Simulate every area of ``scenario`` for one replication and build the tables."""
    from rjsim.experiment import runner
    return runner.run(scenario, replication)
