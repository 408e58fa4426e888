"""The planner's search rounds: one task plan and one worker pool for every round, and the same
capacity metrics as a full experiment on the candidate staffing (bit for bit)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from rjsim.analysis import capacity_metrics as capacity
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorKind, ExecutorSettings, TaskPool
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.planning import planner
from rjsim.scenario import io as scenario_io
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.spec import Scenario

AREAS = ("E23000036", "E23000001")  # a small and a large area


def _assessed() -> Scenario:
    s = scenario_io.from_dict({"run": {"years": 1.5}, "areas": {"include": list(AREAS)},
                               "statutory_right": {"commence_day": 30},
                               "capacity_test": {"settle_days": 30}})
    return capacity.assessed(s)


@pytest.mark.parametrize("kind", ["local", "processes"])
def test_search_round_metrics_are_the_experiments(kind: ExecutorKind) -> None:
    assessed = _assessed()
    fte = {AREAS[0]: AreaFte(general=3.0, specialist=1.5),
           AREAS[1]: AreaFte(general=40.0, specialist=12.3)}
    tasks = runner.task_plan(planner.candidate(assessed, fte, list(AREAS)))
    with TaskPool(tasks, ExecutorSettings(kind, 2)) as pool:
        rounds = planner.Rounds(tasks, pool, 3)
        ours = rounds.metrics(fte)
        # a second round on the same pool, another staffing for one area
        fewer = {AREAS[1]: AreaFte(general=10.0, specialist=2.0)}
        again = rounds.metrics(fewer)
    expected = run_experiment(planner.candidate(assessed, fte, list(AREAS)),
                              ExperimentSettings(replications=3,
                                                 executor=ExecutorSettings("local")))
    pd.testing.assert_frame_equal(ours, expected.per_replication["capacity_metrics"])
    alone = run_experiment(planner.candidate(assessed, fewer, [AREAS[1]]),
                           ExperimentSettings(replications=3, executor=ExecutorSettings("local")))
    pd.testing.assert_frame_equal(again, alone.per_replication["capacity_metrics"])
    # fewer staff: the large area's cases wait longer
    assert again["unmet_demand_rate"].mean() > ours.loc[ours["area"] == AREAS[1],
                                                        "unmet_demand_rate"].mean()


def test_bracket_sentinels_are_named() -> None:
    none = planner.Bracket.settled(0)
    assert none.done and none.current == 0 and none.low is None
    b = planner.Bracket(10)
    assert b.low is None and b.high is None and not b.done
    b.update(passed=True)  # passes at 10: moves down
    assert b.high == 10 and b.low is None and b.current < 10
    assert dataclasses.fields(planner.Bracket)[-1].init is False  # step is not an argument
