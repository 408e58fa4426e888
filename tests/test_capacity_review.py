"""Regression tests for problems a new-user review found in the capacity test and planner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clitools import assert_clean_error, rjsim

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis.tables import window_start
from rjsim.core.codes import CAPACITY_LOSSES
from rjsim.core.errors import ScenarioError
from rjsim.experiment import runner
from rjsim.planning import planner
from rjsim.scenario import io as scenario_io

REPO = Path(__file__).resolve().parents[1]
OVER = {"run": {"years": 2}, "areas": {"include": ["E23000002"]}}


def test_unmet_demand_rate_is_by_cohort_and_never_above_one() -> None:
    """Losses in the window include earlier referrals; the test's rate counts only the
    window's own referrals, so an overloaded area reads at most 100%."""
    s = scenario_io.load(REPO / "scenarios" / "statutory_right.toml", OVER)
    result = runner.run(s, 0, keep_records=True)
    m = result.tables["capacity_metrics"].set_index("pool").loc["all"]
    assert 0.0 <= m["unmet_demand_rate"] <= 1.0
    rec = result.records[0]  # type: ignore[index]
    test = capacity.assessed(s)

    made = (rec.referral_day >= window_start(test)) & (rec.referral_day < test.run.horizon_days)
    lost = made & np.isin(rec.outcome, [int(o) for o in CAPACITY_LOSSES])
    assert m["unmet_demand_rate"] == pytest.approx(lost.sum() / made.sum(), rel=1e-12)
    assert m["unmet_demand"] > m["cohort_lost"]  # flows also count pre-window referrals


def test_window_years_past_the_end_of_the_run_is_refused() -> None:
    s = scenario_io.load(REPO / "scenarios" / "statutory_right.toml",
                         {**OVER, "capacity_test": {"window_years": 5}})
    with pytest.raises(ScenarioError, match="window_years"):
        capacity.assessed(s)


def test_check_runs_on_seeds_the_search_never_used() -> None:
    s = scenario_io.load(REPO / "scenarios" / "statutory_right.toml", OVER)
    seeds = {planner.check_seed(s, k) for k in range(5)}
    assert s.run.seed not in seeds and len(seeds) == 5


def test_write_scenario_into_a_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    folder = tmp_path / "somewhere"
    folder.mkdir()
    proc = rjsim("plan", str(REPO / "scenarios" / "statutory_right.toml"), "--out",
                 str(tmp_path / "out"), "--write-scenario", str(folder), "--force", cwd=tmp_path)
    assert_clean_error(proc, "is a folder")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == [folder]
