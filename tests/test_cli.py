"""CLI end to end: the commands users type, including bad input of every kind.

Each test runs ``python -m rjsim`` in a subprocess (as a user would) on a small scenario, and
checks exit status, messages, and that no traceback is ever printed and nothing already
written is damaged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim

ROOT = Path(__file__).resolve().parents[1]
SMALL = """
extends = "{base}"
name = "small"
[run]
years = 1
replications = 3  # not the packaged 30: these tests check files and exit statuses, not numbers
[areas]
include = ["Dyfed-Powys", "E23000036"]
"""



@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(base=(ROOT / "scenarios" / "baseline.toml").as_posix()))
    return path



def test_run_writes_self_describing_results(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    proc = rjsim("run", str(small), "--out", str(out), "--seed", "7", "--records", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Referrals to RJ services" in proc.stdout and str(out) in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["areas"] == ["W15000004", "E23000036"]
    assert len(manifest["fingerprint"]) == 64 and manifest["versions"]["simpy"]
    for name in ("area_month_group", "area_month", "national_month", "area_summary",
                 "group_summary", "national_summary"):
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        parquet = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert len(csv) == len(parquet) == manifest["tables"][name] > 0
    cases = pd.read_parquet(out / "tables" / "cases")  # one Parquet part per task
    national = pd.read_csv(out / "tables" / "national_summary.csv")  # one row a replication
    assert list(national["replication"]) == list(range(manifest["replications"]))
    assert len(cases) == national["referrals"].sum()  # no warm-up: every referral is counted
    never_served = cases[cases["allocation_day"].isna()]
    assert (never_served["mode"] == "none").all()
    assert (out / "summary.txt").read_text() in proc.stdout
    # the resolved scenario runs as it stands and reproduces the same tables
    again = tmp_path / "again"
    proc2 = rjsim("run", str(out / "scenario.toml"), "--out", str(again), cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "tables" / "area_month_group.parquet"),
                                  pd.read_parquet(again / "tables" / "area_month_group.parquet"))


def test_validate_ok_and_shipped_scenarios(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.toml"))
    assert len(files) >= 2
    proc = rjsim("validate", *files, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok ") == len(files)


def test_validate_reports_every_problem_with_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[demand]\ninformd = 0.3\nwants_rj = 1.5\n[level_one]\n'
                   'groups = ["domestic_abuse"]\n[service]\npatience = {kind = "exponential"}\n')
    proc = rjsim("validate", str(bad), cwd=tmp_path)
    assert_clean_error(proc, "bad.toml: demand.informd", "did you mean 'informed'",
                       "bad.toml: demand.wants_rj", "at most 1.0", "domestic abuse",
                       "bad.toml: service.patience.mean")


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "missing.toml"], "does not exist"),
    (["run", "{small}", "--years", "-1"], "must be greater than 0"),
    (["run", "{small}", "--seed", "abc"], "not a whole number"),
    (["run"], "the following arguments are required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments(args: list[str], needle: str, small: Path, tmp_path: Path) -> None:
    proc = rjsim(*[a.format(small=small) for a in args], cwd=tmp_path)
    assert_clean_error(proc, needle)


def test_bad_toml_and_extends_loop(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[run\nyears = 1\n")
    assert_clean_error(rjsim("run", "broken.toml", cwd=tmp_path), "broken.toml", "not valid TOML")
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    assert_clean_error(rjsim("validate", "a.toml", cwd=tmp_path), "loops back")


def test_bad_area_data_names_file_row_and_column(tmp_path: Path) -> None:
    src = (ROOT / "rjsim" / "data" / "force_areas_2024_25.csv").read_text().splitlines()
    header, rows = src[0], src[1:4]
    cols = header.split(",")
    broken = rows[1].split(",")
    broken[cols.index("prc_robbery")] = "lots"
    unknown = rows[2].split(",")
    unknown[0] = "E99999999"
    (tmp_path / "areas.csv").write_text("\n".join([header, rows[0], ",".join(broken),
                                                   ",".join(unknown)]) + "\n")
    (tmp_path / "s.toml").write_text('[areas]\ndata = "areas.csv"\n')
    proc = rjsim("run", "s.toml", "--out", "res", cwd=tmp_path)
    assert_clean_error(proc, "areas.csv: row 3, column prc_robbery",
                       "areas.csv: row 4, column pfa_code", "unknown area code")
    assert not (tmp_path / "res").exists()
    no_col = "\n".join(",".join(c for c in line.split(",")[:3]) for line in src[:3])
    (tmp_path / "areas.csv").write_text(no_col + "\n")
    assert_clean_error(rjsim("validate", "s.toml", cwd=tmp_path), "missing column")


def test_existing_results_are_never_damaged(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert rjsim("run", str(small), "--out", str(out), "-q", cwd=tmp_path).returncode == 0
    before = (out / "manifest.json").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nyears = "five"\n')
    assert_clean_error(rjsim("run", str(bad), "--out", str(out), cwd=tmp_path), "years")
    assert (out / "manifest.json").read_text() == before
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    assert_clean_error(rjsim("run", str(small), "--out", str(precious), cwd=tmp_path),
                       "not an rjsim results directory")
    assert (precious / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_rerun_replaces_results_atomically(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert rjsim("run", str(small), "--out", str(out), "-q", cwd=tmp_path).returncode == 0
    assert rjsim("run", str(small), "--out", str(out), "-q", "--seed", "3",
                 cwd=tmp_path).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_console_script_and_assumptions(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("rjsim")
    proc = subprocess.run([str(exe), "assumptions"], text=True, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "service.patience" in proc.stdout and "[low]" in proc.stdout


def test_reader_closing_the_pipe_early_is_not_a_traceback() -> None:
    """`rjsim assumptions | head`: the reader stops after a few bytes; rjsim must end quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "rjsim", "assumptions"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(64)  # like `head -c 64`, then close the pipe
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code in (0, 141), (code, err)
