"""Back-casting: verdicts, measures, the status-quo configurations, and ``rjsim backcast``."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rjsim
from rjsim.data import targets
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.planning import backcast
from tests.clitools import assert_clean_error
from tests.clitools import rjsim as run_cli

ROOT = Path(__file__).resolve().parents[1]
DERBYSHIRE, THAMES_VALLEY = "E23000018", "E23000029"
SETTINGS = ExperimentSettings(replications=3, executor=ExecutorSettings("local", 1))
YEARS = 1.5


def _target(tid: str) -> targets.Target:
    return next(t for t in targets.packaged() if t.id == tid)


def test_verdicts_follow_the_interval_and_the_bounds() -> None:
    opt_in = _target("remedy_opt_in_share")  # 28.5% (22.5%-35.4%)
    assert backcast.judge(opt_in, np.array([0.30, 0.31, 0.29]))["verdict"] == "consistent"
    far = backcast.judge(opt_in, np.array([0.60, 0.61, 0.59]))
    assert far["verdict"] == "inconsistent" and far["ratio"] == pytest.approx(0.60 / 0.285)
    # an estimate just outside the range is consistent only if its CI reaches the range
    assert backcast.judge(opt_in, np.array([0.40, 0.41, 0.42]))["verdict"] == "inconsistent"
    assert backcast.judge(opt_in, np.array([0.30, 0.37, 0.44]))["verdict"] == "consistent"
    floor = _target("ho_charge_summons_2024_25")  # >= 8.6%
    assert backcast.judge(floor, np.array([0.5, 0.5, 0.5]))["verdict"] == "consistent"
    assert backcast.judge(floor, np.array([0.05, 0.05, 0.05]))["verdict"] == "inconsistent"
    assert backcast.judge(floor, np.array([0.05]))["verdict"] == "undetermined"


def test_measures_sum_columns_and_convert_to_rates() -> None:
    table = pd.DataFrame({"informed": [100.0, 0.0], "asked_for_rj": [30.0, 0.0],
                          "interventions_direct_conference": [4.0, 1.0],
                          "interventions_direct_video": [2.0, 1.0]})
    share = targets.parse_measure(
        "interventions_direct_conference+interventions_direct_video/informed")
    got = backcast.evaluate(share, table, years=2.0)
    assert got[0] == pytest.approx(0.06) and math.isnan(got[1])  # nothing informed: no share
    quarterly = backcast.evaluate(targets.parse_measure("asked_for_rj per quarter"), table, 2.0)
    assert quarterly[0] == pytest.approx(30 / 8)
    with pytest.raises(ValueError, match="no summary column 'nope'"):
        backcast.evaluate(targets.parse_measure("nope/informed"), table, 2.0)


def test_status_quo_drops_the_right_and_budget_changes() -> None:
    right = rjsim.load_scenario(ROOT / "scenarios" / "statutory_right.toml")
    assert right.commence_day is not None
    sq = backcast.status_quo(right, years=2.0)
    assert sq.commence_day is None and sq.funding.schedule == ()
    assert sq.run.years == 2.0 and sq.run.warmup_days == backcast.WARMUP_DAYS


def test_published_spend_configures_the_area_budget_in_todays_prices() -> None:
    base = rjsim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    configs = backcast.configurations(base, targets.packaged())
    spend = [c for c in configs if c.scenario.areas.include == (THAMES_VALLEY,)]
    assert len(spend) == 1
    budget = spend[0].scenario.funding.area_budget_gbp[THAMES_VALLEY]
    assert budget == pytest.approx(275_756 * base.funding.uprating_factor)
    assert {t.id for t in spend[0].targets} == {"thames_valley_interventions_2017_18",
                                                "thames_valley_cost_per_intervention"}
    assert configs[0].scenario.areas.include == ()  # national targets: every area


def test_backcast_estimates_are_the_models_own_counts() -> None:
    """Each estimate is recomputed from an independent run of the same configuration."""
    base = rjsim.load_scenario(ROOT / "scenarios" / "statutory_right.toml")
    chosen = [t for t in targets.packaged() if t.judged and t.area in (DERBYSHIRE, THAMES_VALLEY)]
    table = backcast.backcast(base, chosen, SETTINGS, years=YEARS).set_index("target")
    assert set(table.index) == {t.id for t in chosen}
    sq = dataclasses.replace(backcast.status_quo(base, YEARS),
                             areas=dataclasses.replace(base.areas, include=(DERBYSHIRE,)))
    rows = rjsim.run_experiment(sq, replications=3, workers=1).per_replication["area_summary"]
    opt_in = (rows["asked_for_rj"] / rows["informed"]).mean()
    assert table.loc["remedy_opt_in_share", "estimate"] == pytest.approx(opt_in)
    quarters = 4 * (YEARS - backcast.WARMUP_DAYS / 365)
    assert table.loc["remedy_referred_per_quarter", "estimate"] == pytest.approx(
        rows["informed"].mean() / quarters)
    tv = table.loc["thames_valley_cost_per_intervention"]
    interventions = table.loc["thames_valley_interventions_2017_18", "estimate"]
    # the spend buys the interventions: cost per intervention x interventions ~ the spend
    # (2017/18 prices; a little less while posts are vacant)
    assert tv["estimate"] * interventions == pytest.approx(275_756, rel=0.1)
    assert set(table["verdict"]) <= {"consistent", "inconsistent"}


def test_cli_backcast_writes_its_table_and_refuses_bad_input(tmp_path: Path) -> None:
    rows = (ROOT / "rjsim" / "data" / targets.PACKAGED).read_text(encoding="utf-8").splitlines()
    mine = tmp_path / "targets.csv"
    mine.write_text("\n".join([rows[0], *[r for r in rows if DERBYSHIRE in r]]) + "\n",
                    encoding="utf-8")
    out = tmp_path / "bc"
    proc = run_cli("backcast", str(ROOT / "scenarios" / "baseline.toml"), "--targets", str(mine),
                   "--replications", "2", "--years", str(YEARS), "--workers", "1", "--no-cache",
                   "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "remedy_opted_in_per_quarter" in proc.stdout and "ratio" in proc.stdout
    table = pd.read_csv(out / "tables" / "backcast.csv")
    assert len(table) == 4 and set(table["area"]) == {DERBYSHIRE}
    assert (out / "summary.txt").read_text(encoding="utf-8").startswith("Back-cast")
    broken = tmp_path / "broken.csv"
    broken.write_text(rows[0] + "\n" + rows[1].replace(",lower_bound,", ",lowerbound,") + "\n"
                      + rows[2] + ",extra\n",
                      encoding="utf-8")
    bad = run_cli("backcast", str(ROOT / "scenarios" / "baseline.toml"), "--targets",
                  str(broken), "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert_clean_error(bad, "broken.csv: row 2, column kind", "lowerbound",
                       "row 3", "more fields than the header")
    assert not (tmp_path / "x").exists()
    short = run_cli("backcast", "--years", "1", "--out", str(tmp_path / "y"),
                    cwd=ROOT)
    assert_clean_error(short, "--years", "warm-up")
