"""Tests of ``rjsim report``: the HTML report, figures and spreadsheet, from results files.

Small real results directories (two areas, three replications) are written once per module
by the rjsim command (which builds the report at the end); headline numbers are recomputed
here from the tables with scipy, independently of rjsim's own statistics.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim
from reporttools import (
    REPO,
    add_capacity_test,
    copy_results,
    run_ok,
    set_area_shares,
    small_scenario,
    visible_text,
)
from scipy import stats as sps

from rjsim.core.errors import ResultsError
from rjsim.report import columns
from rjsim.report import compare as report_compare
from rjsim.report.build import build_report
from rjsim.report.spreadsheet import FILE_ONLY, NOT_IN_WORKBOOK, UNDOCUMENTED, sheet_names
from rjsim.results.atomic import write_atomic
from rjsim.results.reader import open_results

EXPERIMENT_FIGURES = ("backlog", "funnel", "waits", "unmet_by_reason", "unmet_by_group")
COMMON = ("--replications", "3", "--no-cache", "--workers", "1", "-q")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real two-area results directory written by ``rjsim run`` (report included)."""
    tmp = tmp_path_factory.mktemp("run")
    scenario = small_scenario(tmp, "rep_right")
    proc = run_ok("run", str(scenario), "--years", "2", "--out", str(tmp / "out"), *COMMON,
                  cwd=REPO)
    return tmp / "out", proc.stdout


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real comparison of the status quo and a statutory right, two areas."""
    tmp = tmp_path_factory.mktemp("cmp")
    a = small_scenario(tmp, "cmp_a", "baseline.toml")
    b = small_scenario(tmp, "cmp_b", "statutory_right.toml")
    run_ok("compare", str(a), str(b), "--years", "2", "--out", str(tmp / "out"), *COMMON,
           cwd=REPO)
    return tmp / "out"


@pytest.fixture(scope="module")
def capacity_dir(run_dir: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's results plus made-up capacity-test and plan tables; areas below 90% in 1, 2
    and 2 of the replications, so the headline count has a confidence interval."""
    out = copy_results(run_dir[0], tmp_path_factory.mktemp("cap") / "out")
    add_capacity_test(out)
    set_area_shares(out, {0: 1, 1: 2, 2: 2})
    build_report(out)
    return out


def _html(path: Path) -> str:
    return (path / "report.html").read_text(encoding="utf-8")


def _number(x: float) -> str:
    return f"{x:,.1f}".rstrip("0").rstrip(".")


def _t95(values: np.ndarray) -> tuple[float, float, float]:
    mean, n = float(values.mean()), len(values)
    half = float(sps.t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def test_run_builds_report_and_says_where(run_dir: tuple[Path, str]) -> None:
    out, stdout = run_dir
    assert f"Report: {out / 'report.html'}" in stdout
    html = _html(out)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for heading in ("Headline", "What was run and why", "National figures", "Figures", "Areas",
                    "Assumptions and limitations", "Reproducibility"):
        assert f">{heading}</h2>" in html
    assert "Capacity test" not in html  # no capacity-test files in a plain run
    assert not list(out.glob(".*tmp*")) and not list((out / "figures").glob(".*"))


def test_headline_count_of_areas_matches_tables(capacity_dir: Path) -> None:
    area = pd.read_parquet(capacity_dir / "tables" / "area_summary.parquet")
    counts = (area["share_allocated_within_target"] < 0.9).groupby(area["replication"]).sum()
    mean, low, high = _t95(counts.to_numpy(dtype=float))
    assert list(counts) == [1, 2, 2]
    expected = (f"In {_number(mean)} of 2 areas fewer than 90% of victims referred for "
                "restorative justice are allocated a facilitator within 28 days (95% CI "
                f"{_number(low)} to {_number(high)} areas).")
    assert expected in visible_text(_html(capacity_dir))


def test_headline_national_rate_matches_tables(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    nat = pd.read_csv(out / "tables" / "national_summary.csv")
    mean, low, high = _t95(nat["unmet_demand_rate"].to_numpy())
    # one decimal of a percentage, more only if the interval's ends would read the same
    d = next(d for d in (1, 2, 3, 4) if f"{100 * low:.{d}f}" != f"{100 * high:.{d}f}")
    expected = (f"Nationally {100 * mean:.{d}f}% (95% CI {100 * low:.{d}f}% to "
                f"{100 * high:.{d}f}%) of referrals are lost for lack of capacity")
    assert expected in visible_text(_html(out))


def test_every_figure_is_written_as_png_and_svg(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    for stem in EXPERIMENT_FIGURES:
        png, svg = out / "figures" / f"{stem}.png", out / "figures" / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem
        assert png.stat().st_size > 5_000 and "<svg" in svg.read_text(encoding="utf-8")
    html = _html(out)
    assert html.count('<img src="data:image/png;base64,') == len(EXPERIMENT_FIGURES)


def test_figure_titles_state_findings_from_tables(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    nm = pd.read_csv(out / "tables" / "national_month.csv")
    by_month = nm.groupby("period")["backlog_mean"].mean()
    svg = (out / "figures" / "backlog.svg").read_text(encoding="utf-8")
    assert f"{by_month.iloc[0]:,.0f} to {by_month.iloc[-1]:,.0f} referrals waiting" in svg


def test_report_is_self_contained(run_dir: tuple[Path, str]) -> None:
    html = _html(run_dir[0])
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("data:image/png;base64,", "#")), attr
    assert 'name="viewport"' in html and "@media print" in html and "overflow-x:auto" in html


def test_text_from_files_is_escaped(run_dir: tuple[Path, str]) -> None:
    html = _html(run_dir[0])
    assert "<b>test</b>" not in html  # the scenario description holds markup
    assert "Two areas: rep_right &lt;b&gt;test&lt;/b&gt; &amp; more." in html


def test_spreadsheet_has_every_table_and_a_complete_readme(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    book = pd.read_excel(out / "report.xlsx", sheet_name=None)
    tables = sorted(p.stem for p in (out / "tables").glob("*.csv"))
    sheets = [t for t in tables if t not in FILE_ONLY]
    assert {"area_month_group", "area_month", "national_month"} <= set(tables)
    assert "national_summary" in sheets and "national_month" not in sheets
    monthly = [t for t in sheets if "month" in t]  # after the summary tables
    assert list(book) == ["Summary", "README", *(t for t in sheets if t not in monthly),
                          *monthly]
    readme = book["README"]
    for name in sheets:
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        assert list(book[name].columns.drop("force", errors="ignore")) == list(
            csv.columns.drop("force", errors="ignore"))
        assert len(book[name]) == len(csv)
        listed = readme[readme["sheet"] == name]
        assert list(listed["column"]) == list(book[name].columns)
    for name in FILE_ONLY:  # not a sheet, but every column described and the files named
        csv = pd.read_csv(out / "tables" / f"{name}.csv", nrows=1)
        listed = readme[readme["table"].str.startswith(f"tables/{name}.parquet")]
        assert list(listed["column"]) == list(csv.columns)
        assert (listed["sheet"] == NOT_IN_WORKBOOK).all()
    assert not (readme["description"] == UNDOCUMENTED).any()
    nat = pd.read_csv(out / "tables" / "national_summary.csv")
    assert np.allclose(book["national_summary"]["referrals"], nat["referrals"])


def _all_columns(*dirs: Path) -> set[tuple[str, str]]:
    """(table, column) of every table under the directories."""
    cols: set[tuple[str, str]] = set()
    for d in dirs:
        for csv in d.rglob("tables/*.csv"):
            cols |= {(csv.stem, c) for c in pd.read_csv(csv, nrows=1).columns}
    return cols


def test_column_dictionary_describes_every_column_rjsim_writes(
        run_dir: tuple[Path, str], compare_dir: Path, capacity_dir: Path) -> None:
    cols = _all_columns(run_dir[0], compare_dir, capacity_dir)
    assert len({c for _, c in cols}) > 80
    missing = sorted(f"{t}.{c}" for t, c in cols if columns.describe(c, t) is None)
    assert not missing, f"add these columns to rjsim/report/columns.py: {missing}"


def test_column_families_and_unknown_columns() -> None:
    assert "patience ran out while waiting" in (columns.describe("lost_withdrew_waiting") or "")
    assert "(count)" in (columns.describe("closed_completed") or "")
    assert "90th percentile" in (columns.describe("wait_alloc_days_p90") or "")
    assert "scenario key funding.national_budget_gbp" in (
        columns.describe("funding.national_budget_gbp") or "")
    assert columns.describe("lost_to_a_new_reason") is None
    assert columns.describe("made_up_column") is None
    assert "Busy slots" in (columns.describe("utilisation") or "")
    assert "Offered load" in (columns.describe("utilisation", "capacity_metrics") or "")


def test_sheet_names_are_short_and_unique() -> None:
    long = "a_very_long_table_name_that_goes_on_and_on"
    names = sheet_names([long, long + "_2", "readme", "ok"])
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()}) == 4
    assert names["ok"] == "ok" and names["readme"].lower() != "readme"


def test_comparison_report_says_which_differences_are_real(compare_dir: Path) -> None:
    diff = pd.read_csv(compare_dir / "tables" / "comparison_differences.csv")
    nat = diff[(diff["level"] == "national") & diff["kpi"].isin(report_compare.DIFFERENCE_KPIS)]
    real = int(nat["significant"].sum())
    html = _html(compare_dir)
    start = html.index('<section id="differences">')
    text = visible_text(html[start:html.index("</section>", start)])
    assert f"{real} of the {len(nat)} differences below are." in text
    interventions = nat[nat["kpi"] == "interventions"].iloc[0]
    cost = nat[nat["kpi"] == "annual_cost_gbp"].iloc[0]
    assert cost["difference"] == 0 and cost["paired_variance"] == 0  # same budget
    assert "identical in every replication" in text
    if interventions["significant"]:
        assert f"{interventions['difference']:+,.0f} real" in text
    else:
        assert "no real difference" in text
    assert html[start:].split("</section>")[0].count('<div class="muted">real</div>') == real
    assert "Settings that differ between the options" in visible_text(html)
    assert "Statutory right" in visible_text(html) and "not commenced" in visible_text(html)
    for stem in ("option_differences", "funding_frontier"):
        assert (compare_dir / "figures" / f"{stem}.png").stat().st_size > 5_000
        assert (compare_dir / "figures" / f"{stem}.svg").stat().st_size > 5_000
    book = pd.read_excel(compare_dir / "report.xlsx", sheet_name=None)
    assert {"README", "comparison_estimates", "comparison_differences",
            "comparison_options"} <= set(book)


def test_capacity_test_section_when_present(capacity_dir: Path) -> None:
    html = _html(capacity_dir)
    text = visible_text(html)
    assert ">Capacity test</h2>" in html and ">Staffing plan</h2>" in html
    assert "Capacity test: FAIL: 0 of 2 areas pass, 1 fail and 1 are inconclusive." in text
    assert '<span class="badge fail">fail</span>' in html
    assert '<span class="badge inconclusive">inconclusive</span>' in html
    assert 'alt="Map of capacity-test verdicts by area"' in html
    assert "The plan costs GBP 500,000 a year against today's GBP 300,000: GBP 200,000 a " \
           "year more." in text
    assert text.count(">= 0.9") == 10  # five criteria in each of two areas
    book = pd.read_excel(capacity_dir / "report.xlsx", sheet_name=None)
    assert {"capacity_test_national", "capacity_test_verdict", "capacity_test_area",
            "plan_area", "plan_national"} <= set(book)


def test_not_a_results_directory_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    proc = rjsim("report", str(tmp_path), cwd=REPO)
    assert_clean_error(proc, "not an rjsim results directory", str(tmp_path))
    assert not (tmp_path / "report.html").exists()
    assert_clean_error(rjsim("report", str(tmp_path / "nope"), cwd=REPO), "no such directory")


def test_results_directory_without_tables_is_a_clean_error(run_dir: tuple[Path, str],
                                                           tmp_path: Path) -> None:
    out = copy_results(run_dir[0], tmp_path / "out")
    for part in (out / "tables").glob("kpi_area.*"):
        part.unlink()
    assert_clean_error(rjsim("report", str(out), cwd=REPO), "kpi_area")
    shutil.rmtree(out / "tables")
    assert_clean_error(rjsim("report", str(out), cwd=REPO), "no tables/")
    assert not (out / "report.html").exists()
    with pytest.raises(ResultsError):
        open_results(out)


def test_report_command_rebuilds_from_files(run_dir: tuple[Path, str], tmp_path: Path) -> None:
    out = copy_results(run_dir[0], tmp_path / "out")
    proc = rjsim("report", str(out), cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Report: {out / 'report.html'}"
    assert visible_text(_html(out)) == visible_text(_html(run_dir[0])).replace(
        str(run_dir[0].name), str(out.name))


def test_no_report_writes_no_report(tmp_path: Path) -> None:
    scenario = small_scenario(tmp_path, "quiet_one", "baseline.toml")
    proc = run_ok("run", str(scenario), "--years", "1", "--out", str(tmp_path / "out"),
                  "--no-report", "--replications", "2", "--no-cache", "--workers", "1", "-q",
                  cwd=REPO)
    assert "Report:" not in proc.stdout
    out = tmp_path / "out"
    assert (out / "manifest.json").exists()
    assert not (out / "report.html").exists() and not (out / "report.xlsx").exists()
    assert not (out / "figures").exists()


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("complete old report", encoding="utf-8")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half a rep", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "complete old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.slow
def test_sweep_reports_every_point(tmp_path: Path) -> None:
    extra = ('[sweep]\nmode = "grid"\n[sweep.values]\n'
             '"funding.national_budget_gbp" = [4_600_000, 30_500_000]\n')
    scenario = small_scenario(tmp_path, "sw", "baseline.toml", extra)
    proc = run_ok("run", str(scenario), "--years", "1", "--out", str(tmp_path / "out"),
                  "--replications", "2", "--no-cache", "--workers", "1", "-q", cwd=REPO)
    out = tmp_path / "out"
    assert f"Report: {out / 'report.html'}" in proc.stdout
    html = _html(out)
    for point in ("p001", "p002"):
        assert f'href="points/{point}/report.html"' in html
        assert (out / "points" / point / "report.html").stat().st_size > 10_000
        assert (out / "points" / point / "figures" / "backlog.png").exists()
    assert "funding.national_budget_gbp=30500000" in html
    book = pd.read_excel(out / "report.xlsx", sheet_name=None)
    assert list(book) == ["README", "sweep_national"]
    assert not (book["README"]["description"] == UNDOCUMENTED).any()


@pytest.mark.parametrize("damage", ["scenario", "capacity_table"])
def test_damaged_results_are_a_clean_error_not_a_guess(
        run_dir: tuple[Path, str], tmp_path: Path, damage: str) -> None:
    """A hand-damaged scenario.toml or capacity table: exit 2 naming the problem, never a
    traceback and never a report that guesses (e.g. 'not commenced')."""
    out = copy_results(run_dir[0], tmp_path / "damaged")
    if damage == "scenario":
        (out / "scenario.toml").write_text("not = [toml\n", encoding="utf-8")
        needle = "scenario.toml"
    else:
        add_capacity_test(out)
        (out / "tables" / "capacity_test_area.csv").write_text("x,y\n1,2\n", encoding="utf-8")
        (out / "tables" / "capacity_test_area.parquet").unlink(missing_ok=True)
        needle = "re-run the command"
    (out / "report.html").unlink(missing_ok=True)
    proc = rjsim("report", str(out), cwd=tmp_path)
    assert_clean_error(proc, needle)
    assert not (out / "report.html").exists()


def test_oversized_or_fifo_table_is_a_clean_error(run_dir: tuple[Path, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are read with a size limit and only from regular files: a results directory
    received from someone else cannot exhaust memory or block the report."""
    from rjsim.results import reader

    out = copy_results(run_dir[0], tmp_path / "out")
    monkeypatch.setattr(reader, "MAX_TABLE_BYTES", 64)
    with pytest.raises(ResultsError, match=r"kpi_area.*at most 64 are allowed"):
        open_results(out).table("kpi_area")
    monkeypatch.undo()
    for part in (out / "tables").glob("kpi_area.*"):
        part.unlink()
    os.mkfifo(out / "tables" / "kpi_area.csv")
    with pytest.raises(ResultsError, match="kpi_area"):
        open_results(out).table("kpi_area")
