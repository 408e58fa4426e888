"""Parameter uncertainty and sensitivity run unchanged on a Dask cluster (a local one, small),
bit for bit as in this process; and the speed benchmark's command reports and extrapolates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from uncertainty_helpers import mmc_scenario, write_area_csv, write_mmc_toml

from rjsim.app import bench, bench_uncertainty
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.uncertainty import propagate, sensitivity

TABLE = {"samples": 2, "replications": 2, "vary": ["demand.offender_identified"],
         "distributions": {"demand.offender_identified": {"kind": "uniform", "low": 0.5,
                                                          "high": 0.85}}}


@pytest.fixture(scope="module")
def area_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_area_csv(tmp_path_factory.mktemp("mmc") / "area.csv")


def test_uncertainty_and_morris_on_a_local_dask_cluster_match_this_process(
        area_csv: Path) -> None:
    pytest.importorskip("dask.distributed")
    scenario = mmc_scenario(area_csv, years=0.5)
    decl = uncertainty_declare.declare(scenario, unc.parse_settings(TABLE, lambda p: p),
                                       lambda p: p)
    local = ExperimentSettings(executor=ExecutorSettings("local"))
    dask = ExperimentSettings(executor=ExecutorSettings("dask", 2))
    here = propagate.run_uncertainty(scenario, decl, local)
    there = propagate.run_uncertainty(scenario, decl, dask)
    assert there.tasks_run == 4
    pd.testing.assert_frame_equal(here.runs, there.runs)
    pd.testing.assert_frame_equal(here.kpis, there.kpis)
    m_here = sensitivity.run_sensitivity(scenario, decl, "morris", 2, local)
    m_there = sensitivity.run_sensitivity(scenario, decl, "morris", 2, dask)
    pd.testing.assert_frame_equal(m_here.indices, m_there.indices)


def test_benchmarks_time_a_fraction_and_extrapolate(area_csv: Path, tmp_path: Path) -> None:
    path = write_mmc_toml(tmp_path / "bench.toml", area_csv, uncertainty=TABLE)
    text = bench_uncertainty.uncertainty_bench(path, 0.5, 2, 1, "processes", 1)
    assert "2 sets x 1 replications timed (target design 64 x 5)" in text
    assert "timed                      2 runs" in text
    assert "whole design               320 runs:" in text
    assert "CPU time (all processes)" in text and "load average (1 min)" in text
    morris = bench_uncertainty.morris_bench(path, 0.5, 2, 3, "processes", 1)
    # one ranged parameter, two trajectories: 2 x (1 + 1) design points, 3 of them timed
    assert "1 ranged parameters, 2 trajectories = 4 design points" in morris
    assert "timed                      3 runs" in morris
    assert "whole design               4 runs:" in morris


def test_dask_benchmark_compares_executors_and_prints_the_cost_per_task(
        area_csv: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    path = write_mmc_toml(tmp_path / "bench.toml", area_csv)
    text = bench.run_dask_bench(path, 0.5, 3, 2, 1)
    # 3 replications of one area on 2 workers: 3 batches (one per replication) already
    # fewer than 2 per worker but each of one task, so not split further
    assert "(3 tasks of one (replication, area))" in text
    assert "(3 tasks: batches of up to 1 (replication, area) tasks)" in text
    assert "ratio Dask / processes, wall" in text and "Dask cluster start-up" in text
    cost = next(line for line in text.splitlines() if line.startswith("Dask cost per task"))
    assert float(cost.split()[4]) > 0
    assert "serialised" in text and "target: Dask within 15% of processes" in text
