"""Regression checks (``rjsim regress``): both layers, reference updates and bad references.

Most tests share one tiny reference directory made once with ``--update`` (two large areas,
one year, 20 replications, a generous budget so that capacity changes show), declared by a
manifest written before the update, as a user would. Runs take a few seconds each; the error
cases fail before anything runs. The committed references in ``results/reference/`` are read
and checked without running the model.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clitools import assert_clean_error
from clitools import rjsim as rjsim_cli

from rjsim.cli.main import main
from rjsim.regress import check as regress
from rjsim.regress.refs import FORMAT_KEY, MANIFEST, Tolerance, read_references
from rjsim.regress.stats import (
    Equivalence,
    exact_table,
    noise_floor,
    noise_floors,
    verdict,
    welch_interval,
)

REPO = Path(__file__).resolve().parents[1]
# The pre-calibration funnel, set here: the tolerances below were sized for its noise (the
# calibrated defaults give fewer referrals that each go further, and another noise floor).
TINY = ('name = "tiny"\ndescription = "regression-test scenario"\n'
        "[funding]\nnational_budget_gbp = 30_000_000\n[demand]\ninformed = 0.3\n"
        "[exits]\nvictim_withdraws = 0.3\noffender_declines = 0.5\n"
        "preparation_withdraws = 0.1\n")
MORE_EFFORT = "[stages.assessment]\neffort_hours = 7.2\n"  # 20% more than the default 6
CONFIG = {"areas": ["E23000036", "E23000014"], "years": 1, "replications": 20}
# Each at least its noise floor at this configuration (sd * sqrt(2/20) * (t + 3.09)):
TOLERANCES = {
    "national": {
        "unmet_demand_rate": {"absolute": 0.025, "rationale": "floor ~0.018"},
        "share_allocated_within_target": {"absolute": 0.03, "rationale": "floor ~0.018"},
        "wait_alloc_days_mean": {"absolute": 1.5, "rationale": "floor ~1.0 day"},
        "referrals_per_year": {"relative": 0.03, "rationale": "floor ~2.1%"},
        "interventions_per_year": {"relative": 0.05, "rationale": "floor ~3.9%"},
        "annual_cost_gbp": {"relative": 0.001, "rationale": "deterministic"},
        "backlog_mean": {"relative": 0.3, "rationale": "floor ~20%"},
        "utilisation": {"absolute": 0.02, "rationale": "floor ~0.015"},
    },
    "area": {"unmet_demand_rate": {"absolute": 0.045, "rationale": "floor ~0.038"}},
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with tiny.toml and references for it in ref/ (made with --update)."""
    work = tmp_path_factory.mktemp("regress")
    (work / "tiny.toml").write_text(TINY)
    (work / "ref").mkdir()
    (work / "ref" / MANIFEST).write_text(json.dumps(
        {FORMAT_KEY: 1, "config": CONFIG, "tolerances": TOLERANCES}))
    proc = rjsim_cli("regress", "--update", "--reason", "test references", "--scenarios",
                     "tiny.toml", "--reference", "ref", "--workers", "2", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "TOO TIGHT" not in proc.stdout  # the declared tolerances exceed the noise
    return work


@pytest.fixture
def work(made: Path, tmp_path: Path) -> Path:
    """A private copy of the made directory, free to change or break."""
    copy = tmp_path / "work"
    shutil.copytree(made, copy)
    return copy


@pytest.fixture
def cli(work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Callable[..., tuple[int, str]]:
    """Run ``rjsim regress ...`` in this process (fast, for errors that stop before any run)
    in the work directory; returns the exit status and stderr. A traceback would fail the test."""
    monkeypatch.chdir(work)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        status = main(["regress", *args])
        return status, capsys.readouterr().err
    return run


def assert_error(outcome: tuple[int, str], *needles: str) -> None:
    status, err = outcome
    assert status == 2, err
    for needle in needles:
        assert needle in err, err


def _manifest(work: Path) -> dict:
    return json.loads((work / "ref" / MANIFEST).read_text())


# --- update -----------------------------------------------------------------------------------

def test_update_records_reason_provenance_and_declarations(made: Path) -> None:
    manifest = _manifest(made)
    assert manifest["config"]["areas"] == CONFIG["areas"]  # the declaration is kept
    area_unmet = manifest["tolerances"]["area"]["unmet_demand_rate"]["absolute"]
    assert area_unmet == TOLERANCES["area"]["unmet_demand_rate"]["absolute"]
    entry = manifest["scenarios"]["tiny"]
    assert entry["file"] == "tiny.toml"  # relative, never this machine's path
    (last,) = manifest["history"]
    assert last["reason"] == "test references" and last["scenarios"] == ["tiny"]
    assert last["utc"].endswith("+00:00") and len(last["code_digest"]) == 64
    assert {"git_commit", "rjsim_version"} <= last.keys()
    refs = read_references(made / "ref")
    national = refs.scenarios["tiny"].tables["national"]
    assert list(national["replication"]) == list(range(20))
    assert len(refs.scenarios["tiny"].tables["area"]) == 40
    assert not [p.name for p in made.iterdir() if p.name.startswith(".")]  # no temp left


def test_update_without_reason_is_refused_and_writes_nothing(
        work: Path, cli: Callable[..., tuple[int, str]]) -> None:
    before = (work / "ref" / MANIFEST).read_text()
    for args in (["--update"], ["--update", "--reason", "  "]):
        for ref in ("ref", "new"):
            assert_error(cli(*args, "--reference", ref), "--reason is needed with --update")
    assert (work / "ref" / MANIFEST).read_text() == before
    assert not (work / "new").exists()
    assert_error(cli("--update", "--reason", "x", "--seed", "3", "--reference", "ref"),
                 "cannot be used with --update")


def test_failed_update_leaves_references_untouched(work: Path,
                                                   cli: Callable[..., tuple[int, str]]) -> None:
    before = {p: p.read_bytes() for p in (work / "ref").rglob("*") if p.is_file()}
    assert_error(cli("--update", "--reason", "x", "--scenarios", "nope.toml", "--reference",
                     "ref"), "nope.toml", "does not exist")
    assert {p: p.read_bytes() for p in (work / "ref").rglob("*") if p.is_file()} == before


def test_partial_update_adds_a_scenario_and_keeps_the_others(
        work: Path, cli: Callable[..., tuple[int, str]]) -> None:
    (work / "twin.toml").write_text(TINY)  # the same name as tiny.toml: refused before running
    assert_error(cli("--update", "--reason", "x", "--scenarios", "twin.toml", "--reference",
                     "ref"), "twin.toml", "same name 'tiny' as tiny.toml")
    kept = (work / "ref" / "tiny" / "area.csv").read_bytes()
    (work / "other.toml").write_text(TINY.replace('"tiny"', '"other"'))
    status, _ = cli("--update", "--reason", "add other", "--scenarios", "other.toml",
                    "--reference", "ref", "--workers", "2")
    assert status == 0
    manifest = _manifest(work)
    assert sorted(manifest["scenarios"]) == ["other", "tiny"]
    assert [h["scenarios"] for h in manifest["history"]] == [["tiny"], ["other"]]
    assert manifest["history"][1]["reason"] == "add other"
    assert (work / "ref" / "tiny" / "area.csv").read_bytes() == kept
    assert (work / "ref" / "other" / "area.csv").read_bytes() == kept  # same inputs and seed


# --- the two layers ---------------------------------------------------------------------------

def _check(work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
           ) -> tuple[int, str]:
    """``rjsim regress`` on the work directory's references, in this process."""
    monkeypatch.chdir(work)
    capsys.readouterr()
    status = main(["regress", "--reference", "ref", "--workers", "2"])
    return status, capsys.readouterr().out


def test_unchanged_model_passes_both_layers(made: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _check(made, monkeypatch, capsys)
    assert status == 0, out
    assert "exact: identical" in out
    assert "10 of 10 KPIs equivalent" in out  # 8 national + 1 in each of 2 areas
    assert "note:" not in out  # same inputs, same code, same versions
    assert "PASS (exit 0)" in out


def test_more_assessment_effort_is_caught_by_the_statistical_layer(
        work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "tiny.toml").write_text(TINY + MORE_EFFORT)
    status, out = _check(work, monkeypatch, capsys)
    assert status == 1, out
    assert "REGRESSION (exit 1)" in out
    rows = {line[2:46].strip(): line.split()[-1] for line in out.splitlines()
            if line.startswith("  ") and line.split()[-1] in ("equivalent", "DIFFERENT",
                                                               "INCONCLUSIVE")}
    # fewer caseload slots: longer waits and more referrals lost, well beyond the tolerance
    assert rows["wait_alloc_days_mean"] == "DIFFERENT"
    assert rows["unmet_demand_rate"] == "DIFFERENT"
    assert rows["referrals_per_year"] == "equivalent"  # demand does not depend on effort
    assert "inputs differ from the reference" in out


def test_another_seed_fails_only_the_exact_layer(made: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    monkeypatch.chdir(made)
    result = regress.check(regress.RegressSettings(Path("ref"), workers=2, seed=4242))
    (tiny,) = result.scenarios
    assert tiny.statistical_ok, [c for c in tiny.checks if not c.passed]
    assert not tiny.exact.identical and tiny.exact.cells_differing > 0
    first = tiny.exact.first[0]
    assert first.table == "national" and first.keys == (("replication", "0"),)
    assert first.reference != first.new
    assert result.exit_status() == 1  # exact differences fail by default...
    assert result.exit_status(statistical_only=True) == 0  # ...unless statistical-only


# --- bad references ---------------------------------------------------------------------------

def test_missing_references_are_clear_errors(work: Path,
                                             cli: Callable[..., tuple[int, str]]) -> None:
    assert_error(cli("--reference", "absent"), "absent", "does not exist", "--update")
    (work / "ref" / "tiny" / "area.csv").unlink()
    assert_error(cli("--reference", "ref"), "ref/tiny/area.csv", "missing")
    (work / "ref" / MANIFEST).unlink()
    assert_error(cli("--reference", "ref"), "ref/manifest.json", "missing")
    # and through the installed command: a clean message, no traceback
    assert_clean_error(rjsim_cli("regress", "--reference", "ref", cwd=work),
                       "ref/manifest.json", "missing")


@pytest.mark.parametrize(("breakage", "needles"), [
    ("truncated_json", ("ref/manifest.json", "not valid JSON")),
    ("not_a_manifest", ("ref/manifest.json", FORMAT_KEY)),
    ("bad_tolerance", ("tolerances.national.utilisation", "absolute")),
    ("missing_column", ("ref/tiny/national.csv", "missing column", "unmet_demand_rate")),
    ("text_in_numbers", ("ref/tiny/area.csv", "not numeric")),
    ("lost_rows", ("ref/tiny/national.csv", "rows")),
    ("gone_scenario", ("scenarios.tiny", "tiny.toml", "no longer exists")),
    ("config_changed", ("scenarios.tiny", "another configuration")),
])
def test_corrupted_references_are_clear_errors(work: Path, cli: Callable[..., tuple[int, str]],
                                               breakage: str, needles: tuple[str, ...]) -> None:
    ref = work / "ref"
    text = (ref / MANIFEST).read_text()
    manifest = json.loads(text)
    if breakage == "truncated_json":
        (ref / MANIFEST).write_text(text[: len(text) // 2])
    elif breakage == "not_a_manifest":
        (ref / MANIFEST).write_text("{}")
    elif breakage == "bad_tolerance":
        manifest["tolerances"]["national"]["utilisation"] = {"absolute": -1}
        (ref / MANIFEST).write_text(json.dumps(manifest))
    elif breakage == "missing_column":
        df = pd.read_csv(ref / "tiny" / "national.csv")
        df.drop(columns="unmet_demand_rate").to_csv(ref / "tiny" / "national.csv", index=False)
    elif breakage == "text_in_numbers":
        area = (ref / "tiny" / "area.csv").read_text().splitlines()
        fields = area[1].split(",")
        area[1] = ",".join([*fields[:2], "oops", *fields[3:]])
        (ref / "tiny" / "area.csv").write_text("\n".join(area) + "\n")
    elif breakage == "lost_rows":
        lines = (ref / "tiny" / "national.csv").read_text().splitlines()
        (ref / "tiny" / "national.csv").write_text("\n".join(lines[:-3]) + "\n")
    elif breakage == "gone_scenario":
        (work / "tiny.toml").unlink()
    elif breakage == "config_changed":
        manifest["config"]["years"] = 2
        (ref / MANIFEST).write_text(json.dumps(manifest))
    assert_error(cli("--reference", "ref"), *needles)


def test_unknown_scenario_is_a_clear_error(cli: Callable[..., tuple[int, str]]) -> None:
    assert_error(cli("--reference", "ref", "--scenarios", "other"), "--scenarios other",
                 "no reference", "tiny")


# --- the statistics, unit by unit -------------------------------------------------------------

def test_equivalence_verdicts() -> None:
    assert verdict(-0.5, 0.5, 1.0) == "equivalent"
    assert verdict(0.5, 1.5, 1.0) == "INCONCLUSIVE"
    assert verdict(1.2, 1.5, 1.0) == "DIFFERENT"
    assert verdict(-1.5, -1.2, 1.0) == "DIFFERENT"
    assert verdict(-0.5, 0.5, 1.0) is Equivalence.EQUIVALENT  # the enum, printed as its word
    assert [str(e) for e in Equivalence] == ["equivalent", "DIFFERENT", "INCONCLUSIVE", "MISSING"]
    assert Tolerance(absolute=2.0, relative=0.05).margin(100.0) == 5.0
    assert Tolerance(absolute=2.0, relative=0.05).margin(10.0) == 2.0


def test_welch_interval_covers_the_true_difference_and_handles_no_spread() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(400):
        low, high = welch_interval(rng.normal(0, 1, 20), rng.normal(0.3, 2, 12), 0.90)
        covered += low <= 0.3 <= high
    assert 0.85 <= covered / 400 <= 0.95  # a 90% interval covers ~90% of the time
    assert welch_interval(np.full(5, 3.0), np.full(5, 3.5), 0.90) == (0.5, 0.5)
    floor = noise_floor(rng.normal(0, 1, 20), 0.90)
    assert 1.2 < floor < 1.9  # (1.69 + 3.09) * sqrt(2/20) * sd, sd ~ 1


def test_exact_table_names_the_first_differing_cells() -> None:
    ref = pd.DataFrame({"replication": [0, 0, 1, 1], "area": ["A", "B", "A", "B"],
                        "x": [1.0, 2.0, np.nan, 4.0], "y": [0.1, 0.2, 0.3, 0.4]})
    new = ref.copy()
    assert exact_table("area", ref, new, 5).identical  # NaN equals NaN
    new.loc[3, "y"] = 0.4 + 1e-16 * 4
    new.loc[1, "x"] = 2.5
    result = exact_table("area", ref, new, 1)
    assert result.cells_differing == 2 and len(result.first) == 1
    cell = result.first[0]
    assert (cell.keys, cell.column, cell.reference, cell.new) == (
        (("replication", "0"), ("area", "B")), "x", "2.0", "2.5")
    dropped = exact_table("area", ref, new.drop(columns="y"), 5)
    assert not dropped.identical and "'y' is no longer produced" in dropped.structural[0]


# --- the committed references -----------------------------------------------------------------

def test_committed_references_are_valid_and_cover_the_shipped_scenarios() -> None:
    refs = read_references(REPO / "results" / "reference")
    shipped = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "scenarios").glob("*.toml"))
    assert sorted(s.file for s in refs.scenarios.values()) == shipped
    assert all(h["reason"].strip() and h["utc"] for h in refs.manifest["history"])
    level = refs.declaration.config.equivalence_ci
    for ref in refs.scenarios.values():  # every tolerance is wider than its noise floor
        floors = noise_floors(ref.name, ref.tables, refs.declaration.tolerances, level)
        assert len(floors) == 8 + 5 and all(f.floor >= 0 for f in floors)
        assert [f for f in floors if not f.ok] == []
    assert not [s.file for s in refs.scenarios.values() if Path(s.file).is_absolute()]


def test_committed_references_are_not_ignored_by_git() -> None:
    try:
        proc = subprocess.run(["git", "check-ignore", "results/reference/manifest.json",
                               "results/reference/baseline/national.csv"], cwd=REPO,
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        pytest.skip("git is not installed")
    if proc.returncode == 128:
        pytest.skip("not a git repository")
    assert proc.returncode == 1, proc.stdout  # 1: none of the paths is ignored
