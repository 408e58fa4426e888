"""Time to pass (issue 16 item 4): rolling assessment windows after commencement.

* **A known staffing ramp.** One M/M/c area (:mod:`capacity_helpers`) with no slot until a budget
  change buys 42 (``lam / (c mu)`` under 0.1) at a known day: referrals before it are lost
  (``no_service``), after it almost none waits. With 12-month windows and a timeliness threshold
  of 97%, a window holding even one month before the ramp has at most 11/12 = 91.7% allocated
  within the target, so it fails; every window after it passes. The first passing window is
  therefore the first whose start is the first month edge on or after the change (the change
  takes effect from the first month starting on or after its date): hand-computed below.
* **Consistency.** A rolling window spanning the test's whole window gives the capacity test's
  own metrics (``capacity_metrics``, pool ``all``) for the same replication.
* **Censoring and the interval** on synthetic first-pass times.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from capacity_helpers import AREA, Queue, queue_dict, run_assessed, write_area_csv

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import rolling
from rjsim.analysis.columns import joined
from rjsim.analysis.tables import period_edges
from rjsim.capacity import time_to_pass as ttp
from rjsim.cli import main as cli
from rjsim.experiment import runner
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import DAYS_PER_YEAR, Scenario

MONTH = DAYS_PER_YEAR / 12  # one period
COMMENCE, RAMP = 61.0, 200.0  # days: commencement, and the budget change that buys the slots


def ramp_dict(tmp_path: Path, ramp: float = RAMP, **test: Any) -> dict[str, Any]:
    q = Queue(4.0, 1.0, 1)  # c is replaced by the budget below
    data = write_area_csv(tmp_path / "ramp.csv", {"theft": q.lam * 365.0})
    d = queue_dict(q, data, 3.0, {"wait_target_days": 0.5, "timeliness_share": 0.97, **test})
    d["funding"] = {"capacity_from": "budget", "specialist_share": 0.0,
                    "area_budget_gbp": {AREA: 0.0},
                    "schedule": [{"from_day": ramp, "area_budget_gbp": {AREA: 2_000_000.0}}]}
    d["staffing"] = {"recruitment_lag_days": 0, "attrition_per_year": 0}
    d["statutory_right"] = {"commence_day": COMMENCE, "informed": 1.0}
    return d


def ramp_scenario(tmp_path: Path, ramp: float = RAMP, **test: Any) -> Scenario:
    return scenario_io.from_dict(ramp_dict(tmp_path, ramp, **test), source="test")


@pytest.fixture(scope="module")
def ramp_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = ramp_scenario(tmp_path_factory.mktemp("ramp"))
    e = run_assessed(s, 10)
    return e, ttp.evaluate(e.scenario, e.per_replication["rolling_metrics"], e.plan.areas)


def test_ramp_first_passing_window_is_hand_computed(ramp_run: Any) -> None:
    e, result = ramp_run
    slots = e.means["area_month"]["general_slots"].to_numpy()
    ramp_period = math.ceil(RAMP / MONTH)  # first month starting on or after the change: 7
    assert slots[ramp_period - 1] == 0 and slots[ramp_period] > 0  # the ramp is where we say
    # windows start where the test's window does: commencement + 90 settle days, next month
    first_start = math.ceil((COMMENCE + 90) / MONTH)  # period 5
    windows = rolling.windows(e.scenario)
    assert windows["start_period"].iloc[0] == first_start
    assert (windows["end_period"] - windows["start_period"] == 12).all()
    expected_end = (ramp_period + 12) * MONTH  # the first window starting at the ramp
    expected_months = (expected_end - COMMENCE) / MONTH
    reps = result.replications
    assert (reps["first_window"] == ramp_period - first_start).all(), reps
    assert np.allclose(reps["end_day"], expected_end)
    assert np.allclose(reps["months_after_commencement"], expected_months)
    assert not reps["censored"].any()
    nat = result.national
    assert nat["demonstrated_months"] == pytest.approx(expected_months)
    assert nat["median_months"] == pytest.approx(expected_months)
    assert nat["ci_low_months"] == pytest.approx(expected_months)
    assert nat["ci_high_months"] == pytest.approx(expected_months)
    # the windows before fail the test's own rule, and the sentence says when it is met
    w = result.windows[result.windows["area"] == ttp.NATIONAL]
    assert (w[w["window"] < ramp_period - first_start]["verdict"] == "fail").all()
    assert (w[w["window"] >= ramp_period - first_start]["verdict"] == "pass").all()
    text = ttp.summary_text(result)
    assert f"the national test is first met {expected_months:.0f} months after commencement" \
        in text


def test_a_later_ramp_moves_the_first_window(tmp_path: Path) -> None:
    """The same area with the change two months later first passes two windows later (so the
    check above can fail)."""
    s = ramp_scenario(tmp_path, ramp=RAMP + 2 * MONTH)
    e = run_assessed(s, 3)
    reps = ttp.first_pass(e.scenario, e.per_replication["rolling_metrics"])
    assert (reps["first_window"] == math.ceil(RAMP / MONTH) + 2 - 5).all()


def test_never_passing_is_censored(tmp_path: Path) -> None:
    """A ramp after the last window starts: all censored, time inf, no interval end."""
    s = ramp_scenario(tmp_path, ramp=1000.0)
    e = run_assessed(s, 6)
    result = ttp.evaluate(e.scenario, e.per_replication["rolling_metrics"], e.plan.areas)
    assert result.replications["censored"].all()
    nat = result.national
    assert nat["replications_censored"] == 6 and math.isinf(nat["median_months"])
    assert math.isinf(nat["demonstrated_months"])
    assert "not met within the run" in ttp.summary_text(result)


def test_whole_window_matches_the_capacity_metrics(tmp_path: Path) -> None:
    s = capacity.assessed(ramp_scenario(tmp_path))
    plan = runner.task_plan(s)
    digests = [runner.run_task(plan, 2, a.code) for a in plan.areas]
    built = runner.replication_tables(plan, digests)
    n_periods = len(period_edges(s.run.horizon_days)) - 1
    first = int(rolling.windows(s)["start_period"].iloc[0])
    edges = joined([d.cohort_edges for d in digests])
    whole = rolling.rolling_metrics(s, built["area_month_group"], built["area_month"], edges,
                                    months=n_periods - first).iloc[0]
    cm = built["capacity_metrics"]
    own = cm[cm["pool"] == "all"].iloc[0]
    for c in ("judged", "within", "cohort_referrals", "cohort_lost", "sensitive_referrals",
              "specialist_slots_min"):
        assert whole[c] == own[c], c
    for c in ("timeliness", "unmet_demand_rate", "utilisation", "backlog_trend_days_per_year"):
        assert whole[c] == pytest.approx(own[c], rel=1e-9, abs=1e-12), c


def test_median_interval_treats_censored_as_latest() -> None:
    months = np.array([12.0] * 10 + [13.0] * 10 + [math.inf] * 5)
    median, low, high = ttp.median_interval(months, 0.95)
    assert median == 13.0 and low == 12.0 and high == 13.0
    # most censored: the median is beyond the run
    median, low, high = ttp.median_interval(np.array([12.0] * 5 + [math.inf] * 20), 0.95)
    assert math.isinf(median) and math.isinf(high) and low in (12.0, math.inf)
    # too few replications for a 95% interval
    assert all(math.isnan(v) for v in ttp.median_interval(np.array([3.0, 4.0]), 0.95)[1:])


def test_share_met_by() -> None:
    first = pd.DataFrame({"area": ["national"] * 4, "months_after_commencement":
                          [10.0, 12.0, 14.0, math.inf]})
    assert ttp.share_met_by(first, 12.0) == 0.5
    assert ttp.share_met_by(first, 100.0) == 0.75


def test_capacity_test_command_reports_time_to_pass(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``rjsim capacity-test``: the sentence in its output and summary, the tidy tables, and
    the report's section."""
    toml = tmp_path / "ramp.toml"
    toml.write_text(tomli_w.dumps(ramp_dict(tmp_path)), encoding="utf-8")
    out = tmp_path / "res"
    status = cli.main(["capacity-test", str(toml), "--replications", "4", "--executor",
                       "local", "--no-cache", "--out", str(out)])
    printed = capsys.readouterr().out
    months = ((math.ceil(RAMP / MONTH) + 12) * MONTH - COMMENCE) / MONTH
    sentence = f"the national test is first met {months:.0f} months after commencement"
    # the test's own window (commencement + 90 days to the end) holds months before the ramp,
    # so it fails (exit 1), yet later windows pass
    assert status == 1 and sentence in printed, printed
    assert sentence in (out / "summary.txt").read_text(encoding="utf-8")
    summary = pd.read_csv(out / "tables" / "time_to_pass.csv")
    assert list(summary["area"]) == [AREA, "national"]
    assert summary["median_months"].to_numpy() == pytest.approx([months, months])
    reps = pd.read_csv(out / "tables" / "time_to_pass_replication.csv")
    assert len(reps) == 8 and not reps["censored"].any()
    windows = pd.read_csv(out / "tables" / "time_to_pass_windows.csv")
    assert set(windows["verdict"]) == {"pass", "fail"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Time to pass" in html and sentence[1:] in html
    # the capacity test's results carry the postcode lottery over the assessment window too
    assert "Between areas (the postcode lottery" in printed
    assert "the postcode lottery" in html
    assert (out / "tables" / "inequality.csv").exists()
