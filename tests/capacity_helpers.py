"""Helpers for the capacity-test tests: one area made into an M/M/c queue, run as the test runs it.

As in ``test_validation_statistical``: one area, no funnel losses, no referral delay, the
assessment (exponential, mean ``1 / mu`` days) as the whole case, every other stage instant, no
exits, no patience or case window, and ``c`` caseload slots set directly (FTE with one case per
FTE). The queue is then M/M/c with arrival rate ``lam`` a day.

The 'sexual' group is listed with zero demand in every M/M/c scenario here. That is a workaround
for a bug in :func:`rjsim.analysis.capacity_metrics.metrics`: with no sensitive group in
``demand.groups`` it raises
``KeyError: ('workload', 'sensitive')`` (see ``test_metrics_without_a_sensitive_group``). A group
with no victims adds no referral, so the queue is unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rjsim.analysis import capacity_metrics as capacity
from rjsim.capacity import capacity_test
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import Experiment, ExperimentSettings, run_experiment
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import GROUPS, Scenario

SEED = 20250401  # the packaged default seed, not one chosen to pass
AREA = "E23000036"


@dataclasses.dataclass(frozen=True)
class Queue:
    """An M/M/c queue: ``lam`` referrals a day, ``mu`` cases a day per slot, ``c`` slots."""

    lam: float
    mu: float
    c: int

    @property
    def rho(self) -> float:
        return self.lam / (self.c * self.mu)


def write_area_csv(path: Path, victims: Mapping[str, float], centroid: bool = True) -> Path:
    """One area (Avon and Somerset's code) with the given victims a year per group, others 0,
    and (unless ``centroid`` is false) Avon and Somerset's approximate centroid, for the map."""
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    values = ",".join(f"{victims.get(g, 0.0):.10g}" for g in GROUPS)
    where = (",approx_centroid_lat,approx_centroid_lon", ",51.2,-2.8") if centroid else ("", "")
    path.write_text(f"pfa_code,force,census2021_population{where[0]},{columns}\n"
                    f"{AREA},Test area,1000000{where[1]},{values}\n", encoding="utf-8")
    return path


def queue_dict(q: Queue, data: Path, years: float, test: Mapping[str, Any],
               groups: tuple[str, ...] = ("theft", "sexual"), specialist: float = 0.0,
               seed: int = SEED) -> dict[str, Any]:
    """The scenario (as a dictionary over the defaults) that makes the area the queue ``q``;
    ``test``: the [capacity_test] overrides."""
    instant = {"kind": "fixed", "value": 0}
    stages: dict[str, Any] = {s: {"duration": instant} for s in (
        "preparation", "direct_conference", "direct_video", "indirect", "follow_up")}
    stages["assessment"] = {"duration": {"kind": "exponential", "mean": 1.0 / q.mu}}
    return {
        "name": "mmc",
        "run": {"years": years, "seed": seed},
        "areas": {"data": str(data)},
        "demand": {"groups": list(groups), "offender_identified": 1, "informed": 1,
                   "wants_rj": 1, "referral_delay": instant},
        "service": {"patience": {"kind": "never"}, "window": {"kind": "never"},
                    "caseload_per_fte": 1},
        "stages": stages,
        "exits": {"victim_withdraws": 0, "offender_declines": 0, "unsuitable": 0,
                  "preparation_withdraws": 0, "unsuitable_by_group": {}},
        "interventions": {"direct_share": 0},
        "funding": {"capacity_from": "fte", "fte": {"general": q.c, "specialist": specialist}},
        "capacity_test": dict(test),
    }


def queue_scenario(q: Queue, data_dir: Path, years: float, test: Mapping[str, Any],
                   **more: Any) -> Scenario:
    """:func:`queue_dict` validated, with the area file written under ``data_dir``."""
    data = write_area_csv(data_dir / f"theft_{q.lam:g}.csv", {"theft": q.lam * 365.0})
    return scenario_io.from_dict(queue_dict(q, data, years, test, **more), source="test")


def run_assessed(scenario: Scenario, replications: int) -> Experiment:
    """Run ``scenario`` as the capacity test runs it, in this process."""
    settings = ExperimentSettings(replications=replications,
                                  executor=ExecutorSettings(kind="local"))
    return run_experiment(capacity.assessed(scenario), settings)


@dataclasses.dataclass(frozen=True)
class Assessment:
    """An assessed run, its per-replication metrics (pool 'all') and the test's result."""

    experiment: Experiment
    metrics: Any  # pd.DataFrame
    result: capacity_test.CapacityTestResult

    def row(self, criterion: str) -> dict[str, Any]:
        """The criteria-table row of the (only) area for ``criterion``."""
        rows = self.result.criteria
        return dict(rows[rows["criterion"] == criterion].iloc[0])

    @property
    def area(self) -> dict[str, Any]:
        return dict(self.result.verdicts.iloc[0])


def capacity_tested(scenario: Scenario, replications: int) -> Assessment:
    """Run and judge ``scenario`` as ``rjsim capacity-test`` does."""
    e = run_assessed(scenario, replications)
    per_rep = e.per_replication["capacity_metrics"]
    result = capacity_test.evaluate(e.scenario, per_rep, e.plan.areas)
    return Assessment(e, per_rep[per_rep["pool"] == "all"].reset_index(drop=True), result)
