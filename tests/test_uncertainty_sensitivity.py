"""Global sensitivity on an M/M/c area: the arrival rate truly drives the mean wait, the mean
service time a little (over a narrow range), and the facilitator salary not at all (staff are
set as FTE): Morris and Sobol' must rank the rate first and give the salary a near-zero index."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim
from uncertainty_helpers import mmc_scenario, write_area_csv, write_mmc_toml

from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.report import columns
from rjsim.report.build import build_report
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.uncertainty import sensitivity

DRIVER, WEAK, DUMMY = ("demand.offender_identified", "stages.assessment.duration.mean",
                       "funding.salary_gbp")
TABLE = {"vary": [DRIVER, WEAK, DUMMY],
         "distributions": {DRIVER: {"kind": "uniform", "low": 0.5, "high": 0.8},
                           WEAK: {"kind": "uniform", "low": 0.95, "high": 1.0}}}


@pytest.fixture(scope="module")
def area_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_area_csv(tmp_path_factory.mktemp("mmc") / "area.csv")


def test_morris_ranks_the_driver_first_and_the_dummy_near_zero(area_csv: Path,
                                                                tmp_path: Path) -> None:
    path = write_mmc_toml(tmp_path / "mmc_sens.toml", area_csv, uncertainty=TABLE)
    out = tmp_path / "out"
    proc = rjsim("sensitivity", str(path), "--trajectories", "4", "--workers", "1",
                 "--no-cache", "--no-report", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"The national mean wait depends most on {DRIVER} and {WEAK}." in proc.stdout
    idx = pd.read_csv(out / "tables" / "sensitivity_indices.csv")
    wait = idx[idx["kpi"] == "wait_alloc_days_mean"].set_index("parameter")
    assert wait.loc[DRIVER, "rank"] == 1
    assert wait.loc[DUMMY, "mu_star"] <= 0.01 * wait.loc[DRIVER, "mu_star"]
    assert wait.loc[WEAK, "mu_star"] < wait.loc[DRIVER, "mu_star"]
    cost = idx[idx["kpi"] == "annual_cost_gbp"].set_index("parameter")
    assert cost.loc[DUMMY, "rank"] == 1  # the salary is all the cost depends on
    assert (out / "figures" / "tornado_wait_alloc_days_mean.png").stat().st_size > 0
    design = pd.read_csv(out / "tables" / "sensitivity_design.csv")
    assert len(design) == 4 * (3 + 1)  # trajectories x (parameters + 1)
    undescribed = [f"{csv.stem}.{c}" for csv in (out / "tables").glob("*.csv")
                   for c in pd.read_csv(csv, nrows=1).columns
                   if columns.describe(str(c), csv.stem) is None]
    assert not undescribed, f"add these to rjsim/report/uncertainty_columns.py: {undescribed}"
    assert not (out / "report.html").exists()  # --no-report
    html = build_report(out).read_text(encoding="utf-8")
    assert f"wait_alloc_days_mean depends most on {DRIVER}, {WEAK} and {DUMMY}." in html


@pytest.mark.slow
def test_sobol_indices_rank_the_driver_first_and_the_dummy_near_zero(area_csv: Path) -> None:
    scenario = mmc_scenario(area_csv, years=1.0)
    settings = unc.parse_settings(TABLE, lambda p: p)
    decl = uncertainty_declare.declare(scenario, settings, lambda p: p)
    # in this process: each parameter set is an experiment of its own, and a pool of worker
    # processes started for each would cost more than its replications (results are the same
    # on every executor: test_experiment)
    r = sensitivity.run_sensitivity(scenario, decl, "sobol", 8, ExperimentSettings(
        executor=ExecutorSettings("local")))
    wait = r.indices[r.indices["kpi"] == "wait_alloc_days_mean"].set_index("parameter")
    assert wait.loc[DRIVER, "rank"] == 1
    assert wait.loc[DRIVER, "ST"] > 0.5
    assert abs(wait.loc[DUMMY, "ST"]) < 0.05 and abs(wait.loc[DUMMY, "S1"]) < 0.05
    assert sensitivity.depends_most(r, "wait_alloc_days_mean", 1) == (
        f"The national mean wait depends most on {DRIVER}.")


def test_sensitivity_refuses_a_sample_file(tmp_path: Path) -> None:
    right = Path(__file__).resolve().parents[1] / "scenarios" / "statutory_right.toml"
    (tmp_path / "sets.csv").write_text("demand.informed\n0.3\n", encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{right}"\nname = "s"\n[uncertainty]\nsample_file = '
                    '"sets.csv"\n', encoding="utf-8")
    assert_clean_error(rjsim("sensitivity", str(path), cwd=tmp_path), "sample_file",
                       "needs parameter distributions")


def test_areas_passing_the_capacity_test_is_ranked_with_two_replications(area_csv: Path
                                                                          ) -> None:
    # the area passes the test (90% allocated within half a day) at a low arrival rate and
    # fails at a high one, so the rate decides how many areas pass; the salary cannot
    right = mmc_scenario(area_csv, years=2.0, statutory_right={"commence_day": 30,
                                                               "informed": 1},
                         capacity_test={"wait_target_days": 0.5, "settle_days": 0})
    table = {"vary": [DRIVER, DUMMY], "distributions": {
        DRIVER: {"kind": "uniform", "low": 0.3, "high": 0.95}}}
    decl = uncertainty_declare.declare(right, unc.parse_settings(table, lambda p: p),
                                       lambda p: p)
    local = ExperimentSettings(executor=ExecutorSettings("local"))
    r = sensitivity.run_sensitivity(right, decl, "morris", 3, local, replications=2)
    passing = r.outputs[sensitivity.AREAS]
    assert set(passing) == {0.0, 1.0}  # some design points pass, some fail
    areas = r.indices[r.indices["kpi"] == sensitivity.AREAS].set_index("parameter")
    assert areas.loc[DRIVER, "rank"] == 1 and areas.loc[DUMMY, "mu_star"] == 0
    assert sensitivity.depends_most(r, sensitivity.AREAS, 1) == (
        f"The number of areas passing the capacity test depends most on {DRIVER}.")
    one = sensitivity.run_sensitivity(right, decl, "morris", 3, local, replications=1)
    assert sensitivity.AREAS not in one.outputs.columns
    assert sensitivity.depends_most(one, sensitivity.AREAS) == (
        "The number of areas passing the capacity test: " + sensitivity.ONE_REPLICATION + ".")
