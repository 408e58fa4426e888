"""The application layer and the Python API over it.

Progress: a comparison or a sweep reports progress over every scenario's tasks, so a display's
total (and its ETA) covers all remaining work, and says which scenario of how many is running.
The API: each function runs a tiny scenario (two areas, one year, two replications) in this
process and returns objects consistent with the files it writes when given ``out``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w
from capacity_helpers import Queue, queue_dict, write_area_csv
from clitools import assert_clean_error
from clitools import rjsim as rjsim_cli
from conftest import scenario

import rjsim
from rjsim.app import checks
from rjsim.app.common import ExperimentOptions
from rjsim.app.experiments import CompareOptions, RunOptions, compare, run
from rjsim.app.plan import plan_text
from rjsim.app.progress import Tracker
from rjsim.core.errors import InputError, RjsimError, ScenarioError
from rjsim.planning.planner import PlanResult
from rjsim.scenario.spec import Scenario

AREAS = ["Cumbria", "Gwent"]
REPS = 2


def tiny(name: str, **more: Any) -> Scenario:
    """Two areas, one year, over the packaged defaults."""
    return scenario(name=name, run={"years": 1}, areas={"include": AREAS}, **more)  # type: ignore[arg-type]


def tiny_toml(path: Path, name: str, extra: str = "") -> Path:
    path.write_text(f'name = "{name}"\n[run]\nyears = 1\n[areas]\ninclude = {json.dumps(AREAS)}'
                    f"\n{extra}", encoding="utf-8")
    return path


class Recorder:
    """A display that keeps what it is shown."""

    def __init__(self) -> None:
        self.updates: list[tuple[int, int, str]] = []
        self.messages: list[str] = []
        self.closed = 0

    def update(self, done: int, total: int, label: str) -> None:
        self.updates.append((done, total, label))

    def message(self, text: str) -> None:
        self.messages.append(text)

    def close(self) -> None:
        self.closed += 1


LOCAL = {"replications": REPS, "workers": 1, "write": False, "report": False}


# ---- progress over all the work -----------------------------------------------------------------

def test_tracker_counts_every_scenarios_tasks() -> None:
    shown = Recorder()
    t = Tracker(shown, [("a", 4), ("b", 6), ("c", 2)])
    first, second = t.stage(0), t.stage(1)
    first(1, 4)
    first(4, 4)
    t.finish(0)
    second(3, 6)
    assert shown.updates == [(1, 12, "scenario 1/3: a"), (4, 12, "scenario 1/3: a"),
                             (7, 12, "scenario 2/3: b")]


def test_tracker_total_grows_when_an_experiment_adds_replications() -> None:
    shown = Recorder()
    t = Tracker(shown, [("a", 4), ("b", 4)])
    report = t.stage(0)
    report(4, 4)
    report(5, 8)  # a target precision asked for another batch
    assert shown.updates[-1] == (5, 12, "scenario 1/2: a")
    report(8, 8)
    t.finish(0)
    t.stage(1)(1, 4)
    assert shown.updates[-1] == (9, 12, "scenario 2/2: b")


def test_compare_progress_total_is_all_tasks_of_all_scenarios() -> None:
    shown = Recorder()
    a, b = tiny("a"), tiny("b", funding={"national_budget_gbp": 9_000_000})
    done = compare(CompareOptions(scenarios=(a, b), **LOCAL), shown)
    total = 2 * REPS * len(AREAS)  # every task of both scenarios
    assert {t for _, t, _ in shown.updates} == {total}  # never one scenario's own total
    assert [d for d, _, _ in shown.updates] == list(range(1, total + 1))
    labels = [label for _, _, label in shown.updates]
    assert labels == ["scenario 1/2: a"] * (total // 2) + ["scenario 2/2: b"] * (total // 2)
    assert shown.closed >= 1
    assert done.comparison.names == ["a", "b"] and done.out is None


def test_sweep_progress_and_messages_cover_every_point(tmp_path: Path) -> None:
    path = tiny_toml(tmp_path / "sw.toml", "sw",
                     '[sweep]\nmode = "zip"\n[sweep.values]\n"run.seed" = [1, 2, 3]\n')
    shown = Recorder()
    done = run(RunOptions(scenario=path, **LOCAL), shown)
    total = 3 * REPS * len(AREAS)
    assert {t for _, t, _ in shown.updates} == {total}
    assert shown.updates[-1][0] == total and shown.updates[-1][2] == "scenario 3/3: sw-p003"
    assert [m.split(":")[0] for m in shown.messages] == [
        "sweep point p001", "sweep point p002", "sweep point p003"]
    assert [p.tag for p in done.points if p is not None] == ["p001", "p002", "p003"]
    assert not list(tmp_path.glob("results"))  # write=False: nothing written


def test_target_precision_progress_ends_at_what_ran() -> None:
    shown = Recorder()
    options = dict(LOCAL, replications=None)
    done = run(RunOptions(scenario=tiny("p"), target_precision=0.5, max_replications=8,
                          **options), shown)
    ran = done.experiments[0].replications
    last_done, last_total, _ = shown.updates[-1]
    assert last_done == last_total >= ran * len(AREAS)


def test_options_refuse_what_the_command_line_refuses() -> None:
    for bad in ({"replications": 0}, {"workers": -1}, {"years": 60}, {"seed": -3},
                {"executor": "threads"}):
        with pytest.raises(InputError) as err:
            ExperimentOptions(**bad)  # type: ignore[arg-type]
        assert next(iter(bad)) in str(err.value)
    with pytest.raises(InputError, match="target_precision"):
        RunOptions(scenario=Path("x.toml"), target_precision=1.5)
    with pytest.raises(InputError, match="records"):
        RunOptions(scenario=Path("x.toml"), records=True, write=False)
    from rjsim.app.sensitivity import SensitivityOptions
    from rjsim.app.uncertainty import UncertaintyOptions
    for name, value in (("samples", 1), ("method", "grid"), ("sample_seed", -1),
                        ("confirm_replications", -2), ("scenarios", ())):
        with pytest.raises(InputError, match=name):
            UncertaintyOptions(**{"scenarios": (Path("x.toml"),), name: value})
    for name, value in (("method", "fast"), ("n", 1), ("sample_seed", -1)):
        with pytest.raises(InputError, match=name):
            SensitivityOptions(**{"scenario": Path("x.toml"), name: value})


def test_options_are_frozen() -> None:
    options = RunOptions(scenario=Path("x.toml"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.replications = 3  # type: ignore[misc]


# ---- the Python API -----------------------------------------------------------------------------

def test_api_run_experiment_writes_results_only_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    kept = rjsim.run_experiment(tiny("kept"), REPS, workers=1)
    assert not (tmp_path / "results").exists()  # nothing written without out
    out = tmp_path / "res"
    e = rjsim.run_experiment(tiny("kept"), REPS, workers=1, out=out, report=False)
    national = pd.read_csv(out / "tables" / "national_summary.csv")
    assert list(national["replication"]) == list(range(REPS))
    assert national["referrals"].tolist() == e.per_replication["national_summary"][
        "referrals"].tolist() == kept.per_replication["national_summary"]["referrals"].tolist()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == REPS and manifest["areas"] == [
        a.code for a in e.plan.areas]
    assert not (out / "report.html").exists()  # report=False


def test_api_compare_and_report(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    c = rjsim.compare([tiny("today"), tiny("more", funding={"national_budget_gbp": 9_000_000})],
                      REPS, workers=1, out=out)
    assert (out / "report.html").stat().st_size > 0  # built by default when writing
    diff = pd.read_csv(out / "tables" / "comparison_differences.csv")
    national = diff[diff["level"] == "national"].set_index("kpi")["difference"]
    mine = c.differences[c.differences["level"] == "national"].set_index("kpi")["difference"]
    assert national["allocations"] == pytest.approx(mine["allocations"]) and mine[
        "allocations"] > 0  # doubling the budget allocates more
    (out / "report.html").unlink()
    assert rjsim.report(out) == out / "report.html" and (out / "report.html").exists()
    with pytest.raises(RjsimError, match="not an rjsim results directory"):
        rjsim.report(tmp_path)


def test_api_capacity_test_verdicts_agree_with_its_tables(tmp_path: Path) -> None:
    out = tmp_path / "ct"
    t = rjsim.capacity_test(tiny("ct"), REPS, workers=1, out=out, report=False)
    national = pd.read_csv(out / "tables" / "capacity_test_national.csv")
    verdicts = pd.read_csv(out / "tables" / "capacity_test_verdict.csv")
    assert t.verdict == national["verdict"].iloc[0] in ("pass", "fail", "inconclusive")
    assert t.status == (0 if t.verdict == "pass" else 1)
    assert sorted(verdicts["verdict"]) == sorted(t.result.verdicts["verdict"])
    counts = verdicts["verdict"].value_counts()
    for v in ("pass", "fail", "inconclusive"):
        assert national[f"areas_{v}"].iloc[0] == counts.get(v, 0)
    # the national verdict passes only if every area does
    assert (t.verdict == "pass") == (verdicts["verdict"] == "pass").all()
    recorded = json.loads((out / "manifest.json").read_text())["capacity_test"]
    assert t.status_quo is not None  # tiny() is itself the status quo: run once
    assert recorded == {"verdict": t.verdict, "exit_status": t.status, "status_quo": {
        "scenario": "ct", "source": "derived (no right, today's funding, no pooling)",
        "file": "", "gap_sentence": t.status_quo.sentence}}


@pytest.mark.slow
def test_api_plan_writes_its_scenario_and_tables(tmp_path: Path) -> None:
    data = write_area_csv(tmp_path / "mmc.csv", {"theft": 4.0 * 365})
    toml = tmp_path / "mmc.toml"
    toml.write_text(tomli_w.dumps(queue_dict(Queue(4.0, 1.0, 1), data, 1.0,
                                     {"wait_target_days": 0.5, "timeliness_share": 0.8})))
    written, out = tmp_path / "planned.toml", tmp_path / "plan"
    p = rjsim.plan(toml, 5, workers=1, out=out, report=False, write_scenario=written)
    plan_area = pd.read_csv(out / "tables" / "plan_area.csv")
    assert plan_area["general_fte"].tolist() == p.result.areas["general_fte"].tolist()
    assert written.read_text() == p.scenario_toml == (out / "plan_scenario.toml").read_text()
    national = pd.read_csv(out / "tables" / "plan_national.csv")
    assert p.verdict == national["verdict"].iloc[0] and p.status == (p.verdict != "pass")
    assert [c.ok for c in rjsim.validate(written)] == [True]


@pytest.mark.slow
def test_api_plan_plans_the_staffing_schedule_with_headroom(tmp_path: Path) -> None:
    """``rjsim.plan(..., schedule=True, max_utilisation=...)`` is ``rjsim plan --schedule
    --max-utilisation``: the plan is searched under the headroom and turned into a budget
    schedule, which is the scenario written."""
    data = write_area_csv(tmp_path / "mmc.csv", {"theft": 4.0 * 365})
    toml = tmp_path / "mmc.toml"
    d = queue_dict(Queue(4.0, 1.0, 1), data, 1.5, {"wait_target_days": 0.5,
                                                   "timeliness_share": 0.8, "settle_days": 30})
    toml.write_text(tomli_w.dumps(d | {"statutory_right": {"commence_day": 180}}))
    written = tmp_path / "schedule.toml"
    p = rjsim.plan(toml, 4, workers=1, report=False, write_scenario=written, schedule=True,
                   max_utilisation=0.7)
    assert p.schedule is not None
    # 4 referrals a day of 1-day cases under 70% utilisation: at least 6 slots (4 / 6 < 0.7)
    assert p.result.areas["general_slots"].iloc[0] >= 6
    assert p.result.test.national["max_utilisation"].iloc[0] == 0.7
    assert p.schedule.scenario.capacity_test.max_utilisation == 0.7
    assert p.schedule.scenario.funding.capacity_from == "budget"
    row = p.schedule.areas.iloc[0]
    assert row["planned_general_fte"] == p.result.areas["general_fte"].iloc[0]
    assert written.read_text() == p.scenario_toml
    assert [c.ok for c in rjsim.validate(written)] == [True]
    assert p.schedule.years["budget_gbp"].sum() > 0


def _plan_summary(today_gbp: float, cost_gbp: float, areas: int) -> str:
    """The printed summary of a plan with these national figures (tables as the planner's)."""
    area = pd.DataFrame([{"area": f"A{i}", "force": f"Area {i}", "served_by": f"A{i}",
                          "general_fte": 5.0,
                          "specialist_fte": 1.0, "annual_cost_gbp": cost_gbp / areas,
                          "change_gbp": (cost_gbp - today_gbp) / areas} for i in range(areas)])
    national = pd.DataFrame([{
        "areas": areas, "general_fte": 5.0 * areas, "specialist_fte": 1.0 * areas,
        "total_annual_cost_gbp": cost_gbp, "today_budget_gbp": today_gbp,
        "change_gbp": cost_gbp - today_gbp,
        "cost_ratio_to_today": cost_gbp / today_gbp if today_gbp > 0 else float("nan"),
        "verdict": "pass", "areas_pass": areas, "replications": 1, "check_replications": 3,
        "search_rounds": 1}])
    result = PlanResult(scenario=None, areas=area, national=national,  # type: ignore[arg-type]
                        check=None, test=None, search_log=pd.DataFrame())  # type: ignore[arg-type]
    return plan_text(result)


def test_the_plan_summary_says_no_budget_today_in_words_and_counts_in_the_singular() -> None:
    text = _plan_summary(0.0, 510_000.0, 1)
    assert "nan" not in text.lower()
    assert "cost GBP 0.5m a year, against no budget today\n" in text
    assert "Price of commencement (1 area, 1 replication per round, 1 search round):" in text
    assert "PASS in 1 of 1 area\n" in text and "(+0.51m)" in text
    text = _plan_summary(2_000_000.0, 1_000_000.0, 2)
    assert "against GBP 2.0m today (-GBP 1.0m, 0.5 times)" in text
    assert "(2 areas, 1 replication per round" in text and "(-0.50m)" in text
    assert "Served by" not in text


def test_the_plan_summary_names_areas_served_by_a_neighbour_apart_from_the_increases() -> None:
    area = pd.DataFrame([
        {"area": "H", "force": "Host", "served_by": "H", "general_fte": 9.0,
         "specialist_fte": 2.0, "annual_cost_gbp": 900_000.0, "change_gbp": 800_000.0},
        {"area": "G", "force": "Guest", "served_by": "H", "general_fte": 0.0,
         "specialist_fte": 0.0, "annual_cost_gbp": 0.0, "change_gbp": 0.0}])
    national = pd.DataFrame([{
        "areas": 2, "general_fte": 9.0, "specialist_fte": 2.0, "total_annual_cost_gbp": 9e5,
        "today_budget_gbp": 1e5, "change_gbp": 8e5, "cost_ratio_to_today": 9.0,
        "verdict": "pass", "areas_pass": 2, "replications": 2, "check_replications": 6,
        "search_rounds": 3}])
    text = plan_text(PlanResult(scenario=None, areas=area,  # type: ignore[arg-type]
                                national=national, check=None,  # type: ignore[arg-type]
                                test=None, search_log=pd.DataFrame()))  # type: ignore[arg-type]
    increases = text.split("Largest increases:")[1]
    assert "Host" in increases and "    Guest" not in increases
    assert text.endswith("(no staff of their own; their referrals and today's budget are in "
                         "the host's line): Guest by Host\n")


def test_api_plan_refuses_bad_schedule_options_before_any_search(tmp_path: Path) -> None:
    data = write_area_csv(tmp_path / "mmc.csv", {"theft": 4.0 * 365})
    toml = tmp_path / "mmc.toml"
    toml.write_text(tomli_w.dumps(queue_dict(Queue(4.0, 1.0, 1), data, 1.0, {})))
    with pytest.raises(ScenarioError, match="max_utilisation"):
        rjsim.plan(toml, 2, workers=1, write_scenario=None, max_utilisation=1.5)
    with pytest.raises(ScenarioError, match="needs a commencement date"):
        rjsim.plan(toml, 2, workers=1, schedule=True)
    # on the command line the message names the option given, what it is and what is allowed
    for value in ("1.5", "0", "nan"):
        proc = rjsim_cli("plan", str(toml), "--max-utilisation", value, cwd=tmp_path)
        assert_clean_error(proc, "invalid --max-utilisation", "--max-utilisation: the "
                           "utilisation headroom", "must be a number in (0, 1]",
                           f"(got {value})")
    assert not (tmp_path / "results").exists()  # refused before any work


def test_api_validate(tmp_path: Path) -> None:
    good = tiny_toml(tmp_path / "good.toml", "good")
    bad = tiny_toml(tmp_path / "bad.toml", "bad", "[demand]\ninformd = 0.5\n")
    ok, broken = rjsim.validate(good, bad)
    assert ok.ok and ok.name == "good" and ok.points == 0
    assert not broken.ok and "did you mean 'informed'" in str(broken.error)
    outcome = checks.validate(checks.ValidateOptions(files=(good, bad)))
    assert outcome.status == 2 and outcome.lines[0].startswith(f"ok   {good}: good")
    assert outcome.errors[0].startswith(f"FAIL {bad}\n")


def test_api_regress_refuses_bad_options_before_any_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--reason is needed"):
        rjsim.regress(update=True, reference=tmp_path)
    with pytest.raises(InputError, match="--seed cannot be used with --update"):
        rjsim.regress(update=True, reason="why", seed=3, reference=tmp_path)
    with pytest.raises(RjsimError):  # no references there
        rjsim.regress(reference=tmp_path / "none")


def test_api_functions_survive_importing_their_namesake_subpackages() -> None:
    from rjsim.regress import check  # noqa: F401  (imports the subpackage rjsim.regress)
    from rjsim.report import build  # noqa: F401
    from rjsim.uncertainty import propagate  # noqa: F401
    assert callable(rjsim.report) and rjsim.report.__module__ == "rjsim"
    assert callable(rjsim.regress) and rjsim.regress.__module__ == "rjsim"
    assert callable(rjsim.uncertainty) and rjsim.uncertainty.__module__ == "rjsim"


# --- the evidence commands --------------------------------------------------------------------

def _targets_csv(path: Path, share: float, half_width: float) -> Path:
    """One calibration target for Cumbria: the share of victims told about RJ."""
    from rjsim.data.targets import COLUMNS
    row = {c: "" for c in COLUMNS} | {
        "id": "offered", "quantity": "share offered", "kind": "range", "value": f"{share}",
        "low": f"{share - half_width}", "high": f"{share + half_width}", "unit": "share",
        "area": "E23000002",
        "period": "synthetic", "definition": "informed over victims", "denominator": "victims",
        "measure": "informed/eligible_victims", "role": "calibration", "source": "test",
        "confidence": "high", "uncertainty_basis": "test"}
    path.write_text(",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n",
                    encoding="utf-8")
    return path


def test_evidence_options_refuse_bad_values(tmp_path: Path) -> None:
    from rjsim.app.evidence import BackcastOptions, CalibrateOptions, VerifyOptions
    for make in (lambda: CalibrateOptions(points=3), lambda: CalibrateOptions(cutoff=0),
                 lambda: CalibrateOptions(discrepancy=2), lambda: BackcastOptions(years=1),
                 lambda: VerifyOptions(scenario=tmp_path, replications=1),
                 lambda: VerifyOptions(scenario=tmp_path, years=3)):
        with pytest.raises(InputError):
            make()


def test_api_calibrate_and_backcast_write_their_results(tmp_path: Path) -> None:
    from rjsim.app.evidence import BackcastOptions, CalibrateOptions, backcast, calibrate
    from rjsim.planning.calibrate import logged_parameters
    src = tiny_toml(tmp_path / "tiny.toml", "tiny", "\n[demand]\ninformed = 0.3\n")
    (informed,) = logged_parameters(["demand.informed"])
    mid, span = (informed.low + informed.high) / 2, informed.high - informed.low
    p_id = tiny("t").demand.offender_identified
    # the published range (+/-1.96 sd) is the middle fifth of the logged range: only values
    # within about 0.3 of the range from its middle are not implausible
    targets = _targets_csv(tmp_path / "targets.csv", p_id * mid, p_id * span / 10)
    common = {"scenario": src, "targets": targets, "years": 1.25, "replications": REPS,
              "workers": 1, "quiet": True}
    cal = {"parameters": ("demand.informed",), "points": 4, "discrepancy": 0.0}
    done = calibrate(CalibrateOptions(out=tmp_path / "cal", write_scenario=tmp_path / "c.toml",
                                      **cal, **common))
    assert done.status == 0 and done.out == tmp_path / "cal"
    kept = pd.read_csv(tmp_path / "cal" / "tables" / "non_implausible.csv")
    assert 1 <= len(kept) <= 3  # of the 4 strata of a Latin hypercube
    assert kept["demand.informed"].between(mid - 0.35 * span, mid + 0.35 * span).all()
    calibrated = rjsim.load_scenario(tmp_path / "c.toml")
    assert calibrated.demand.informed in set(kept["demand.informed"].round(6))
    with pytest.raises(InputError, match="write-scenario"):  # never overwrites
        calibrate(CalibrateOptions(out=tmp_path / "cal2", write_scenario=tmp_path / "c.toml",
                                   **cal, **common))
    bc = backcast(BackcastOptions(out=tmp_path / "bc", **common))
    table = pd.read_csv(tmp_path / "bc" / "tables" / "backcast.csv")
    assert bc.status == 0 and list(table["target"]) == ["offered"] and len(bc.lines) == 1
    row = table.iloc[0]  # the scenario's own funnel, within the 95% CI of its estimate
    assert row["ci_low"] <= p_id * 0.3 <= row["ci_high"]
