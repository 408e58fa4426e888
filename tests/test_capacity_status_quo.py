"""The capacity test against the status quo: "under option X the gap between the best and worst
area narrows from A to B" (issue 16 item 5, MODEL.md section 11).

The status quo is derived from the option (:func:`rjsim.scenario.status_quo.twin`) or given, and
run on the option's areas, window and seeds, so the gap's figures can be recomputed here by hand
from a separate run of the same status quo: any break of common random numbers, of the
derivation or of the arithmetic changes them.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim

import rjsim as api
from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import inequality
from rjsim.app.capacity import STATUS_QUO_FILE
from rjsim.core.errors import InputError
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.results.reader import open_results
from rjsim.scenario import io as scenario_io
from rjsim.scenario import status_quo
from rjsim.scenario.spec import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
REPS = 3
# three areas whose status quo loses referrals unequally (a gap to narrow), kept short
SMALL = {"run": {"years": 3.0, "replications": REPS},
         "areas": {"include": ("Thames Valley", "Surrey", "Kent")}}


def _option() -> Scenario:
    return scenario_io.load(SCENARIOS / "funding_30m_need.toml", SMALL)


def _gap_by_hand(area_summary: pd.DataFrame) -> pd.Series:
    """Per replication: the worst area's unmet-demand rate minus the best area's."""
    rates = area_summary.pivot(index="replication", columns="area", values="unmet_demand_rate")
    return rates.max(axis=1) - rates.min(axis=1)


def test_the_status_quo_of_a_funding_option_is_the_shipped_status_quo() -> None:
    # funding_30m_need = statutory right + GBP 30m by need; reverting its levers must give back
    # baseline.toml (which sets neither), whatever the option's file says
    option = scenario_io.load(SCENARIOS / "funding_30m_need.toml")
    baseline = scenario_io.load(SCENARIOS / "baseline.toml")
    assert not status_quo.same_policy(option, baseline)
    assert status_quo.same_policy(status_quo.twin(option), baseline)


def test_the_twin_reverts_the_policy_levers_and_keeps_the_world() -> None:
    option = scenario_io.with_overrides(
        scenario_io.load(SCENARIOS / "phased_commencement.toml"),
        funding={"national_budget_gbp": 9e7, "salary_gbp": 41_000.0,
                 "min_fte_per_area": 2.0},
        staffing={"volunteer_hours_per_100k_population": 50.0, "attrition_per_year": 0.2},
        pooling={"regions": ("South East",)},
        demand={"growth_per_year": 0.03})
    assert option.statutory_right.phase  # the file phases the right in
    twin = status_quo.twin(option)
    today = status_quo.defaults()
    # levers: back to the packaged defaults
    assert twin.statutory_right.commence_day is None
    assert twin.statutory_right.commence_date is None
    assert twin.statutory_right.phase == ()
    assert twin.pooling == today.pooling
    for lever in status_quo.FUNDING_LEVERS:
        assert getattr(twin.funding, lever) == getattr(today.funding, lever), lever
    assert twin.staffing.volunteer_hours_per_100k_population == 0.0
    # world: the option's own
    assert twin.funding.salary_gbp == 41_000.0
    assert twin.staffing.attrition_per_year == 0.2
    assert twin.demand == option.demand and twin.run == option.run
    assert twin.areas == option.areas and twin.service == option.service
    assert twin.name == status_quo.NAME


def test_the_gap_sentence_pairs_the_option_with_its_status_quo_on_the_same_seeds() -> None:
    settings = ExperimentSettings(executor=ExecutorSettings("local", 1))
    t = api.capacity_test(_option(), workers=1)
    quo = t.status_quo
    assert quo is not None and quo.experiment is not t.experiment
    assert quo.scenario.run == t.experiment.scenario.run  # same window and seed

    # the status quo run again on its own, from the scenario alone: identical
    again = run_experiment(status_quo.twin(capacity.assessed(_option())),
                           dataclasses.replace(settings, replications=REPS))
    a = _gap_by_hand(again.per_replication["area_summary"])
    b = _gap_by_hand(t.experiment.per_replication["area_summary"])
    assert a.mean() > 0.01, "the status quo should lose referrals unequally (a gap to narrow)"

    gap = quo.inequality.set_index(["option", "kpi"])
    assert list(dict.fromkeys(quo.inequality["option"])) == [status_quo.NAME, "funding_30m_need"]
    assert gap.loc[(status_quo.NAME, "unmet_gap"), "mean"] == pytest.approx(a.mean(), abs=1e-12)
    assert gap.loc[("funding_30m_need", "unmet_gap"), "mean"] == pytest.approx(b.mean(),
                                                                              abs=1e-12)
    # the paired difference, replication by replication
    assert gap.loc[("funding_30m_need", "unmet_gap"), "difference"] == pytest.approx(
        (b - a).mean(), abs=1e-12)
    assert quo.sentence.startswith("under option funding_30m_need the gap between the best "
                                   "and worst area's unmet demand ")
    assert f"{100 * a.mean():.1f}" in quo.sentence and f"{100 * b.mean():.1f}" in quo.sentence
    assert "against status_quo; paired difference" in quo.sentence


def test_a_given_baseline_runs_on_the_tested_areas_window_and_seeds() -> None:
    other = scenario_io.load(SCENARIOS / "funding_today.toml",
                             {"run": {"seed": 7, "years": 6.0},
                              "areas": {"include": ("Kent",)}})
    t = api.capacity_test(_option(), workers=1, baseline=other)
    assert t.status_quo is not None
    assert t.status_quo.scenario.name == "funding_today"
    assert t.status_quo.scenario.run == t.experiment.scenario.run
    assert t.status_quo.scenario.areas == t.experiment.scenario.areas
    assert t.status_quo.scenario.funding == other.funding  # its own policy, not the twin's
    assert "against funding_today" in t.status_quo.sentence


def test_the_status_quo_itself_is_not_run_twice() -> None:
    base = scenario_io.load(SCENARIOS / "baseline.toml",
                            {"run": {"years": 2.0, "replications": REPS},
                             "areas": {"include": ("Surrey", "Kent")}})
    t = api.capacity_test(base, workers=1)
    assert t.status_quo is not None and t.status_quo.experiment is t.experiment
    assert t.status_quo.sentence.startswith("'baseline' is itself the status quo")
    mine = _gap_by_hand(t.experiment.per_replication["area_summary"]).mean()
    assert f"is {100 * mine:.1f} percentage points" in t.status_quo.sentence


def test_a_scenario_can_switch_the_status_quo_off_and_a_given_baseline_still_runs() -> None:
    off = scenario_io.with_overrides(_option(), capacity_test={"status_quo": False},
                                     run={"years": 2.0}, areas={"include": ("Surrey",)})
    assert api.capacity_test(off, workers=1).status_quo is None
    given = api.capacity_test(off, workers=1, baseline=status_quo.twin(off))
    assert given.status_quo is not None and given.status_quo.experiment is not given.experiment


def test_gap_words_reads_one_options_gap_with_its_interval() -> None:
    rows = pd.DataFrame({"area": ["a", "b"] * 3, "replication": [0, 0, 1, 1, 2, 2],
                         "unmet_demand_rate": [0.1, 0.3, 0.0, 0.4, 0.2, 0.2],
                         "wait_alloc_days_mean": 1.0, "population": 1.0,
                         inequality.ELIGIBLE: 10.0, inequality.RECEIVED: 1.0})
    table = inequality.table(rows)  # gaps 0.2, 0.4, 0.0: mean 0.2, sd 0.2
    half = 4.302652729749464 * 0.2 / math.sqrt(3)  # t(0.975, 2) x sd / sqrt(n)
    assert inequality.gap_words(table, "any") == (
        "the gap between the best and worst area's unmet demand is 20.0 percentage points "
        f"(95% CI {100 * max(0.0, 0.2 - half):.1f} to {100 * (0.2 + half):.1f})")  # cut at 0


def test_the_command_writes_the_status_quo_and_the_report_states_the_gap(
        tmp_path: Path) -> None:
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{(SCENARIOS / "funding_30m_need.toml").as_posix()}"\n'
                     '[run]\nyears = 3\nreplications = 3\n'
                     '[areas]\ninclude = ["Thames Valley", "Surrey", "Kent"]\n',
                     encoding="utf-8")
    out = tmp_path / "ct"
    proc = rjsim("capacity-test", str(small), "--workers", "1", "--no-cache", "--out",
                 str(out), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "The postcode lottery against the status quo" in proc.stdout
    res = open_results(out)
    sentence = res.manifest["capacity_test"]["status_quo"]["gap_sentence"]
    assert sentence in proc.stdout.replace("\n", " ").replace("Under option", "under option")
    written = scenario_io.load(out / STATUS_QUO_FILE)  # readable, and the status quo
    assert status_quo.same_policy(written, status_quo.twin(capacity.assessed(
        scenario_io.load(small))))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "The postcode lottery against the status quo" in html
    assert sentence.split(" (against")[0].replace("'", "&#x27;")[len("under"):] in html

    bare = tmp_path / "bare"
    proc = rjsim("capacity-test", str(small), "--workers", "1", "--no-cache", "--no-baseline",
                 "--no-report", "--out", str(bare), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "against the status quo" not in proc.stdout
    assert not open_results(bare).has("comparison_inequality")
    assert not (bare / STATUS_QUO_FILE).exists()


def test_bad_baselines_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "ct"
    right = str(SCENARIOS / "statutory_right.toml")
    proc = rjsim("capacity-test", right, "--baseline", str(tmp_path / "missing.toml"),
                 "--out", str(out), cwd=tmp_path)
    assert_clean_error(proc, "the --baseline scenario", "missing.toml", "does not exist")
    assert not out.exists()
    proc = rjsim("capacity-test", right, "--baseline", right, "--no-baseline", cwd=tmp_path)
    assert proc.returncode == 2 and "not allowed with argument --baseline" in proc.stderr
    with pytest.raises(InputError, match="baseline"):
        api.capacity_test(right, baseline=right, status_quo=False, out=None)
