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

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rjsim.runner import RunResult
    from rjsim.scenario import Scenario

__all__ = ["__version__", "load_scenario", "run", "scenario_from_dict"]


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file (``extends`` chains included); optional overrides are
    laid on top, e.g. ``{"run": {"years": 3}}``."""
    from rjsim import scenario_io
    return scenario_io.load(path, overrides, "overrides")


def scenario_from_dict(values: dict[str, Any]) -> Scenario:
    """A scenario from a dictionary laid over the packaged defaults."""
    from rjsim import scenario_io
    return scenario_io.from_dict(values)


def run(scenario: Scenario, replication: int = 0) -> RunResult:
    """Simulate every area of ``scenario`` for one replication and build the tables."""
    from rjsim import runner
    return runner.run(scenario, replication)
