"""The credibility section: the packaged back-cast of the shipped status quo is current, every
report shows it (or the directory's own back-cast) and says whether it applies to the run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from reporttools import REPO, run_ok, small_scenario, visible_text

from rjsim.core.schema import to_plain
from rjsim.data import targets
from rjsim.report import credibility
from rjsim.report.build import build_report
from rjsim.scenario import io as scenario_io

COMMON = ("--replications", "2", "--workers", "1", "--no-cache", "-q")


def _shipped() -> dict[str, object]:
    return to_plain(scenario_io.load(REPO / "scenarios" / "baseline.toml"))


def test_the_packaged_backcast_is_of_todays_defaults_and_targets() -> None:
    table, meta = credibility.packaged()
    stale = credibility.differences(meta["status_quo"], _shipped())
    assert not stale, (f"the packaged back-cast was made with other values of {stale}: run "
                       "'make backcast-data' and commit rjsim/data/backcast_defaults.*")
    judged = [t.id for t in targets.packaged() if t.judged]
    assert sorted(table["target"]) == sorted(judged)
    assert set(table["verdict"]) <= {"consistent", "inconsistent"}
    assert meta["replications"] >= 10
    verdicts = dict(zip(table["target"], table["verdict"], strict=True))
    # the recalibrated status quo (issue 14): consistent with the calibration targets it can
    # meet and with the independent checks of capacity (no waiting lists, throughput per FTE)
    for target in ("csew_accept_when_offered", "hampshire_direct_of_referrals",
                   "hampshire_indirect_of_referrals", "no_waiting_lists",
                   "interventions_per_paid_fte", "remedy_face_to_face_of_opt_ins"):
        assert verdicts[target] == "consistent", target


def test_differences_name_changed_settings_and_ignore_new_ones() -> None:
    plain = _shipped()
    made_with = credibility.status_quo_settings(plain)
    assert "demand.informed" in made_with and "exits.victim_withdraws" in made_with
    assert not any(k.startswith(("statutory_right", "capacity_test", "run.")) for k in made_with)
    changed = to_plain(scenario_io.with_overrides(
        scenario_io.load(REPO / "scenarios" / "baseline.toml"),
        demand={"informed": 0.5}, statutory_right={"commence_day": 10.0},
        funding={"salary_gbp": 31000.0}))
    assert credibility.differences(made_with, changed) == ["demand.informed",
                                                           "funding.salary_gbp"]
    newer = dict(plain, demand={**plain["demand"], "a_new_option": 1})  # type: ignore[dict-item]
    assert credibility.differences(made_with, newer) == []
    older = {**made_with, "demand.an_old_option": 3}
    assert credibility.differences(older, plain) == ["demand.an_old_option"]


def _text(path: Path) -> str:
    return visible_text(path.read_text(encoding="utf-8"))


def test_every_report_has_the_backcast_and_says_whether_it_applies(tmp_path: Path) -> None:
    scenario = small_scenario(tmp_path, "cred", "baseline.toml")
    out = tmp_path / "out"
    run_ok("run", str(scenario), "--years", "1", "--out", str(out), *COMMON, cwd=REPO)
    text = _text(out / "report.html")
    assert "Credibility: the status quo against the evidence" in text
    table, _ = credibility.packaged()
    for target_id in table["target"]:
        assert target_id in text
    counts = table["verdict"].value_counts()
    assert (f"Of {len(table)} targets: {counts.get('consistent', 0)} consistent, "
            f"{counts.get('inconsistent', 0)} inconsistent") in text
    assert "differs from that status quo in areas.include" in text  # two areas only
    # a directory with its own back-cast shows that one instead
    own = table.assign(target="my_own_target").head(1)
    own.to_csv(out / "tables" / "backcast.csv", index=False)
    build_report(out)
    text = _text(out / "report.html")
    assert "my_own_target" in text and "Of 1 targets" in text
    assert "differs from that status quo" not in text


def test_a_run_of_the_shipped_status_quo_is_told_the_table_applies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    run_ok("run", str(tmp_path / "scenarios" / "baseline.toml"), "--years", "0.1",
           "--replications", "1", "--out", str(out), "--workers", "1", "--no-cache", "-q",
           cwd=REPO)
    assert "has the same status quo, so the table applies to it" in _text(out / "report.html")
    assert pd.read_csv(out / "tables" / "national_summary.csv")["replication"].nunique() == 1
