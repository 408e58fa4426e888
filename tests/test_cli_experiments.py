"""CLI end to end for experiments: replications with intervals, comparisons, bad options,
the optional Dask extra, the progress bar, and resuming after ``kill -9``.

Each test runs ``python -m rjsim`` in a subprocess with ``cwd=tmp_path`` (as a user would) and
checks the exit status, what is printed and the tables written.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim

from rjsim.cli.progress import TerminalProgress
from rjsim.report import decision
from rjsim.report.conclusion import conclusion, plan_estimate
from rjsim.results.reader import open_results

SMALL = """
name = "{name}"
[run]
years = {years}
[areas]
include = {areas}
"""
THREE = '["Cumbria", "Gwent", "Dyfed-Powys"]'



def write(tmp_path: Path, name: str, years: float = 1, areas: str = THREE,
          extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SMALL.format(name=name, years=years, areas=areas) + extra)
    return path



def test_run_with_replications_prints_and_writes_intervals(tmp_path: Path) -> None:
    write(tmp_path, "small")
    proc = rjsim("run", "small.toml", "--replications", "3", "--workers", "1", "--out", "res",
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "95% CI" in proc.stdout and "Replications: 3" in proc.stdout
    tables = tmp_path / "res" / "tables"
    kpi = pd.read_csv(tables / "kpi_national.csv")
    assert {"kpi", "mean", "sd", "n", "ci_low", "ci_high"} <= set(kpi.columns)
    assert (kpi["n"] == 3).all()
    assert (kpi["ci_low"] <= kpi["mean"]).all() and (kpi["mean"] <= kpi["ci_high"]).all()
    national = pd.read_csv(tables / "national_summary.csv")
    assert len(national) == 3 and list(national["replication"]) == [0, 1, 2]
    # the interval agrees with the per-replication values it summarises
    referrals = kpi.set_index("kpi").loc["referrals"]
    assert referrals["mean"] == pytest.approx(national["referrals"].mean())
    assert referrals["sd"] == pytest.approx(national["referrals"].std(ddof=1))
    area = pd.read_csv(tables / "kpi_area.csv")
    assert set(area["area"]) == {"E23000002", "W15000002", "W15000004"}
    manifest = json.loads((tmp_path / "res" / "manifest.json").read_text())
    assert manifest["replications"] == 3 and manifest["tasks_run"] == 9
    assert manifest["referrals_simulated"] == national["referrals"].sum()


def test_compare_prints_verdicts_and_writes_tables(tmp_path: Path) -> None:
    write(tmp_path, "today")
    write(tmp_path, "more", extra="[funding]\nnational_budget_gbp = 9_000_000\n")
    proc = rjsim("compare", "today.toml", "more.toml", "--replications", "3", "--workers", "1",
                 "--no-cache", "--out", "cmp", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "today" in proc.stdout and "more" in proc.stdout
    assert "more - today" in proc.stdout
    assert "real at 95%" in proc.stdout or "noise" in proc.stdout
    assert "real at 95%" in proc.stdout  # doubling the budget must show somewhere
    assert "not distinguishable from noise" in proc.stdout  # referrals do not move
    # the answer, as the report's decision table states it
    res = open_results(tmp_path / "cmp")
    rows = decision.option_rows(res)
    answer = conclusion(rows, plan_estimate(res, rows))
    assert f"In short: {answer}" in proc.stdout
    assert answer.startswith(("No option passes", "The cheapest option that passes",
                              "The capacity test could not be run"))
    tables = tmp_path / "cmp" / "tables"
    est = pd.read_csv(tables / "comparison_estimates.csv")
    diff = pd.read_csv(tables / "comparison_differences.csv")
    whole = est[est["level"] != "group"]  # a group may have no value to average (no waits)
    assert set(est["scenario"]) == {"today", "more"} and (whole["n"] == 3).all()
    assert (est.loc[est["level"] == "group", "n"] <= 3).all()
    national = diff[(diff["level"] == "national")].set_index("kpi")["difference"]
    assert national["referrals"] == 0
    assert national["allocations"] > 0
    for name in ("today", "more"):
        assert (tmp_path / "cmp" / "scenarios" / name / "tables" / "national_summary.csv"
                ).exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--replications", "0"], "must be 1 or more"),
    (["--target-precision", "1.5"], "between 0 and 1"),
    (["--target-precision", "0"], "between 0 and 1"),
    (["--executor", "nope"], "invalid choice"),
    (["--workers", "0"], "must be 1 or more"),
    (["--workers", "-2"], "must be 1 or more"),
    (["--max-replications", "x"], "not a whole number"),
])
def test_bad_experiment_options(args: list[str], needle: str, tmp_path: Path) -> None:
    write(tmp_path, "small")
    proc = rjsim("run", "small.toml", "--out", "res", *args, cwd=tmp_path)
    assert_clean_error(proc, needle)
    assert not (tmp_path / "res").exists()


def test_dask_missing_gives_install_hint(tmp_path: Path) -> None:
    write(tmp_path, "small")
    code = ("import sys; sys.modules['distributed'] = None; from rjsim.cli.main import main; "
            "raise SystemExit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "run", "small.toml", "--executor", "dask",
                           "--replications", "2", "--no-cache", "--out", "res"],
                          cwd=tmp_path, text=True, capture_output=True, timeout=120)
    assert_clean_error(proc, 'pip install "rjsim[dask]"')
    assert not (tmp_path / "res").exists()


def test_progress_bar_silent_without_a_terminal(tmp_path: Path) -> None:
    write(tmp_path, "small")
    proc = rjsim("run", "small.toml", "--replications", "2", "--workers", "1", "--no-cache",
                 "--out", "res", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "[#" not in proc.stderr and "tasks" not in proc.stderr and "\r" not in proc.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal() -> None:
    plain = io.StringIO()
    bar = TerminalProgress(plain)
    bar.update(1, 4, "scenario 1/1: small")
    bar.update(4, 4, "scenario 1/1: small")
    bar.close()
    assert plain.getvalue() == ""
    tty = _Terminal()
    bar = TerminalProgress(tty)
    bar.update(4, 4, "scenario 1/1: small")
    bar.close()
    text = tty.getvalue()
    assert "scenario 1/1: small" in text and "4/4" in text and text.endswith("\n")
    quiet = _Terminal()
    bar = TerminalProgress(quiet, quiet=True)  # --quiet on a terminal
    bar.update(4, 4, "scenario 1/1: small")
    bar.message("plan: round 1 done")
    bar.close()
    assert quiet.getvalue() == ""
    asked = io.StringIO()
    bar = TerminalProgress(asked, bar=True)  # asked for, though not a terminal
    bar.update(2, 4, "scenario 1/1: small")
    bar.close()
    assert "2/4" in asked.getvalue()


def _parquet_tables(out: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted((out / "tables").glob("*.parquet"))}


def _entries(cache: Path) -> list[Path]:
    """Committed cache entries: the atomic writer's temp files are dot-files until renamed."""
    return [p for p in cache.rglob("*.rjb") if not p.name.startswith(".")]


def test_kill_9_then_resume_gives_identical_tables(tmp_path: Path) -> None:
    write(tmp_path, "big", years=2, areas='["Cumbria", "Gwent", "Dyfed-Powys", "E23000036"]')
    cache = tmp_path / "cache"
    args = ["run", "big.toml", "--replications", "6", "--workers", "1", "-q"]
    proc = subprocess.Popen([sys.executable, "-m", "rjsim", *args, "--cache", str(cache),
                             "--out", "resumed"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not _entries(cache):
            assert proc.poll() is None, "the run ended before any task was cached"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    cached = len(_entries(cache))
    assert 1 <= cached < 24, cached  # part-way: some tasks kept, some not run
    assert not (tmp_path / "resumed").exists()  # nothing half-written
    torn = [p for p in cache.rglob(".*") if p.is_file()]  # an entry being written at the kill
    assert len(torn) <= 1  # at most the one temp file being written; never a committed entry

    again = rjsim(*args, "--cache", str(cache), "--out", "resumed", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    manifest = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert manifest["tasks_from_cache"] >= cached and manifest["tasks_run"] == 24 - manifest[
        "tasks_from_cache"]
    fresh = rjsim(*args, "--no-cache", "--out", "fresh", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    resumed, uninterrupted = _parquet_tables(tmp_path / "resumed"), _parquet_tables(
        tmp_path / "fresh")
    assert resumed.keys() == uninterrupted.keys() and "national_summary" in resumed
    for name, df in resumed.items():
        pd.testing.assert_frame_equal(df, uninterrupted[name], check_exact=True, obj=name)
    assert len(resumed["national_summary"]) == 6


def test_unreachable_dask_scheduler_is_a_clean_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    write(tmp_path, "small")
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    proc = subprocess.run([sys.executable, "-m", "rjsim", "run", "small.toml", "--executor",
                           "dask", "--scheduler", "tcp://127.0.0.1:9", "--replications", "1",
                           "--no-cache", "--out", "res"], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=120)
    assert_clean_error(proc, "tcp://127.0.0.1:9")
    assert not (tmp_path / "res").exists()


def test_progress_bar_shows_on_a_terminal_that_reports_no_size() -> None:
    """A fresh pseudo-terminal reports 0 x 0 (as some CI and editor terminals do); tqdm would
    hide its bar there, so the display gives it a size."""
    import pty
    import select
    master, slave = pty.openpty()
    try:
        assert os.get_terminal_size(slave) == (0, 0)  # the situation this test is about
        with open(slave, "w", encoding="utf-8", closefd=False) as stream:
            bar = TerminalProgress(stream)
            bar.update(3, 8, "scenario 1/2: a")
            bar.close()
        chunks = []
        while select.select([master], [], [], 0.5)[0]:  # everything written, in pieces
            chunks.append(os.read(master, 65536))
        shown = b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)
        os.close(slave)
    assert "scenario 1/2: a" in shown and "3/8" in shown
