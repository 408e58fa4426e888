"""Regression tests: one per bug fixed, each reproducing the original report.

Kept apart from the tests by kind so that a bug that comes back is named by the test that
catches it. CLI cases run ``python -m rjsim`` in a subprocess with ``cwd=tmp_path``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clitools import assert_clean_error
from clitools import rjsim as rjsim_cli

import rjsim
from rjsim.analysis import tables
from rjsim.core.errors import DataError, ScenarioError
from rjsim.experiment import runner
from rjsim.scenario.spec import DAYS_PER_YEAR

AVON = "E23000036"
STAGES = ("assessment", "preparation", "direct_conference", "direct_video", "indirect",
          "follow_up")
SMALL = 'name = "small"\n[run]\nyears = 1\n[areas]\ninclude = ["Cumbria"]\n'




@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def _hidden(tmp_path: Path) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- results directories ----------------------------------------------------------------------

@pytest.mark.parametrize("records", [False, True], ids=["plain", "records"])
def test_out_with_a_foreign_manifest_is_refused_and_kept(small: Path, tmp_path: Path,
                                                         records: bool) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "manifest.json").write_text("{}")  # some other tool's manifest
    (theirs / "data.csv").write_text("a,b\n1,2\n")
    (theirs / "sub").mkdir()
    (theirs / "sub" / "notes.txt").write_text("mine")
    args = ["run", "small.toml", "--replications", "1", "--no-cache", "--out", "theirs"]
    proc = rjsim_cli(*args, *(["--records"] if records else []), cwd=tmp_path)
    assert_clean_error(proc, "not an rjsim results directory")
    assert sorted(p.name for p in theirs.iterdir()) == ["data.csv", "manifest.json", "sub"]
    assert (theirs / "manifest.json").read_text() == "{}"
    assert (theirs / "sub" / "notes.txt").read_text() == "mine"
    assert _hidden(tmp_path) == []  # no staging or temporary directories left behind


def test_empty_existing_out_directory_is_accepted(small: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = rjsim_cli("run", "small.toml", "--replications", "1", "--no-cache", "--out", "empty",
                     "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "empty" / "manifest.json").read_text())
    assert manifest["rjsim_results"] == 1 and manifest["scenario"] == "small"


@pytest.mark.parametrize("records", [False, True], ids=["plain", "records"])
def test_out_below_a_file_is_a_clean_error(small: Path, tmp_path: Path, records: bool) -> None:
    (tmp_path / "some_file.txt").write_text("not a directory")
    proc = rjsim_cli("run", "small.toml", "--replications", "1", "--no-cache", "--out",
                     "some_file.txt/sub", *(["--records"] if records else []), cwd=tmp_path)
    assert_clean_error(proc, "some_file.txt")
    assert (tmp_path / "some_file.txt").read_text() == "not a directory"


# --- scenario validation ----------------------------------------------------------------------

def test_name_that_escapes_the_results_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="name"):
        rjsim.scenario_from_dict({"name": "../escaped"})
    for bad in ("a/b", "..", ".hidden", "-dash", ""):
        with pytest.raises(ScenarioError):
            rjsim.scenario_from_dict({"name": bad})
    (tmp_path / "s.toml").write_text('name = "../escaped"\n')
    assert_clean_error(rjsim_cli("run", "s.toml", "--no-cache", cwd=tmp_path), "name")
    assert not (tmp_path.parent / "escaped").exists()
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("section", [
    {"stages": {"assessment": {"duration": {"kind": "never"}}}},
    {"stages": {"follow_up": {"duration": {"kind": "never"}}}},
    {"demand": {"referral_delay": {"kind": "never"}}},
    {"statutory_right": {"referral_delay": {"kind": "never"}}},
], ids=["assessment", "follow_up", "referral_delay", "right_referral_delay"])
def test_never_is_refused_where_a_finite_time_is_needed(section: dict[str, object]) -> None:
    with pytest.raises(ScenarioError, match="finite time"):
        rjsim.scenario_from_dict(section)


def test_never_is_allowed_for_patience_and_window() -> None:
    s = rjsim.scenario_from_dict({"service": {"patience": {"kind": "never"},
                                              "window": {"kind": "never"}}})
    assert s.service.patience.kind == "never" and s.service.window.kind == "never"


def test_all_effort_hours_zero_is_refused() -> None:
    zero = {stage: {"effort_hours": 0} for stage in STAGES}
    with pytest.raises(ScenarioError, match="effort_hours"):
        rjsim.scenario_from_dict({"stages": zero})
    # with a caseload per FTE, capacity no longer comes from hours: allowed
    ok = rjsim.scenario_from_dict({"stages": zero, "service": {"caseload_per_fte": 10}})
    assert ok.service.caseload_per_fte == 10


def test_area_fte_with_budget_capacity_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"funding\.area_fte") as err:
        rjsim.scenario_from_dict({"funding": {"capacity_from": "budget", "area_fte": {
            AVON: {"general": 3, "specialist": 1}}}})
    assert "capacity_from" in str(err.value)


def test_unquoted_toml_date_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "dated.toml"
    path.write_text('name = "dated"\n[run]\nstart_date = 2025-04-01\n'
                    '[statutory_right]\ncommence_date = 2026-04-01\n')
    s = rjsim.load_scenario(path)
    assert s.run.start_date == "2025-04-01"
    assert s.commence_day == 365.0  # 2025-04-01 to 2026-04-01
    labels = tables.period_labels(s, 2)
    assert labels == ["2025-04", "2025-05"]


# --- area data --------------------------------------------------------------------------------

def test_row_with_more_fields_than_header_is_a_clear_error(tmp_path: Path,
                                                           packaged_csv: str) -> None:
    lines = packaged_csv.splitlines()
    (tmp_path / "areas.csv").write_text("\n".join([lines[0], lines[1], lines[2] + ",999",
                                                   lines[3]]) + "\n")
    s = rjsim.scenario_from_dict({"areas": {"data": str(tmp_path / "areas.csv")}})
    with pytest.raises(DataError) as err:
        runner.task_plan(s)
    text = str(err.value)
    assert "areas.csv: row 3" in text and "more fields than the header" in text
    assert "row 2" not in text and "row 4" not in text  # only the bad row is blamed


def test_one_area_file_keeps_its_population_share_of_the_national_pot(
        tmp_path: Path, packaged_csv: str) -> None:
    rows = list(csv.DictReader(io.StringIO(packaged_csv)))
    lines = packaged_csv.splitlines()
    avon_line = next(line for line in lines if line.startswith(AVON + ","))
    (tmp_path / "avon.csv").write_text(lines[0] + "\n" + avon_line + "\n")
    mine = runner.task_plan(rjsim.scenario_from_dict(
        {"areas": {"data": str(tmp_path / "avon.csv")}}))
    packaged = runner.task_plan(rjsim.scenario_from_dict({}))
    assert [a.code for a in mine.areas] == [AVON]
    # the national pot (GBP 4.6m x 1.33 uprating) shared by population over all 43 areas
    population = {r["pfa_code"]: float(r["census2021_population"]) for r in rows}
    expected = 4_600_000 * 1.33 * population[AVON] / sum(population.values())
    assert mine.staffing[AVON].budget_gbp == pytest.approx(expected, rel=1e-12)
    assert mine.staffing[AVON].budget_gbp == pytest.approx(packaged.staffing[AVON].budget_gbp,
                                                           rel=1e-12)
    assert mine.staffing[AVON].general_fte == pytest.approx(packaged.staffing[AVON].general_fte)


# --- the model --------------------------------------------------------------------------------

def test_zero_patience_with_ample_capacity_allocates_everyone() -> None:
    s = rjsim.scenario_from_dict({
        "run": {"years": 1}, "areas": {"include": [AVON]},
        "demand": {"informed": 0.3},  # enough referrals to test (not the calibrated 0.0174)
        "service": {"patience": {"kind": "fixed", "value": 0}},
        "funding": {"capacity_from": "fte", "fte": {"general": 200, "specialist": 100}}})
    n = rjsim.run(s).tables["national_summary"].iloc[0]
    assert n["referrals"] > 500
    assert n["allocations"] == n["referrals"]  # nobody waits, so nobody withdraws
    assert n["lost_withdrew_waiting"] == 0 and n["wait_alloc_days_mean"] == 0


def test_zero_patience_with_scarce_capacity_is_a_loss_system() -> None:
    s = rjsim.scenario_from_dict({"run": {"years": 1}, "areas": {"include": [AVON]},
                                  "service": {"patience": {"kind": "fixed", "value": 0}}})
    n = rjsim.run(s).tables["national_summary"].iloc[0]
    # served at once or lost at once (Erlang B): no waits, no queue to close or run out
    assert 0 < n["allocations"] < n["referrals"]
    assert n["wait_alloc_days_p95"] == 0
    assert n["lost_withdrew_waiting"] + n["allocations"] == n["referrals"]
    assert n["lost_window_closed"] == 0 and n["lost_unallocated_at_end"] == 0


def test_warmup_summaries_cover_whole_months_after_warmup() -> None:
    s = rjsim.scenario_from_dict({"run": {"years": 1, "warmup_days": 45},
                                  "areas": {"include": [AVON]}})
    # months are 365/12 = 30.4167 days: 45 days falls in month 2, so the window starts at the
    # next edge, 2 x 30.4167 = 60.833 days, and runs 365 - 60.833 = 304.167 days (10 months)
    assert tables.window_start(s) == pytest.approx(60.8333, abs=1e-4)
    result = rjsim.run(s)
    n = result.tables["national_summary"].iloc[0]
    months = result.tables["national_month"]
    summarised = months[~months["in_warmup"]]
    assert list(months["in_warmup"]) == [True, True] + [False] * 10
    assert n["referrals"] == summarised["referrals"].sum()
    years = (365 - 2 * 365 / 12) / DAYS_PER_YEAR  # 10/12 of a year
    assert n["referrals_per_year"] == pytest.approx(summarised["referrals"].sum() / years,
                                                    rel=1e-12)
    assert n["referrals_per_year"] == pytest.approx(n["referrals"] * 12 / 10, rel=1e-12)
    area = result.tables["area_summary"].iloc[0]
    assert area["referrals_per_year"] == pytest.approx(n["referrals_per_year"], rel=1e-12)
