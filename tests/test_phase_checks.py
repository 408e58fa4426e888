"""A right in phases that would never commence is refused, and a phased run says when its
phases start (issue 16 item 1: validation of phasing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scenario

from rjsim.core.errors import ScenarioError
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.report.text import national_text
from rjsim.scenario import io as scenario_io

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_phases_that_reach_no_simulated_area_or_group_are_refused() -> None:
    kent_only = {"commence_day": 200, "areas": ["Kent"]}
    with pytest.raises(ScenarioError, match="so the right would never commence") as exc:
        runner.task_plan(scenario(areas={"include": ["Cumbria"]},
                                  statutory_right={"phase": [kent_only]}))
    assert "areas.include: Cumbria" in str(exc.value)
    not_simulated = {"commence_day": 200, "groups": ["shoplifting"]}
    with pytest.raises(ScenarioError, match="no phase reaches"):
        runner.task_plan(scenario(areas={"include": ["Kent"]},
                                  statutory_right={"phase": [not_simulated]}))
    # one phase reaching nothing is fine while another reaches the areas run
    plan = runner.task_plan(scenario(areas={"include": ["Cumbria"]}, statutory_right={
        "phase": [kent_only, {"commence_day": 300, "groups": ["theft"]}]}))
    assert [a.name for a in plan.areas] == ["Cumbria"]


def test_the_shipped_phased_scenario_names_only_simulated_groups() -> None:
    s = scenario_io.load(SCENARIOS / "phased_commencement.toml")
    named = {g for p in s.statutory_right.phase for g in p.groups}
    assert named <= set(s.demand.groups), named - set(s.demand.groups)


def test_a_phased_run_says_when_its_phases_start() -> None:
    phased = scenario(run={"years": 1.0, "replications": 1}, areas={"include": ["Cumbria"]},
                      statutory_right={"phase": [{"commence_day": 100, "areas": ["Cumbria"]},
                                                 {"commence_day": 250, "groups": ["theft"]}]})
    e = run_experiment(phased, ExperimentSettings(executor=ExecutorSettings("local", 1)))
    first = national_text(e).splitlines()[0]
    assert first.endswith("statutory right in 2 phases, from day 100 to day 250")
