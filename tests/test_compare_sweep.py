"""Comparisons under common random numbers, and sweeps of one scenario file.

Functional: a capacity-only change leaves every referral where it was (the same victims and
referrals in replication i of both scenarios), so the paired difference has far less variance
than independent runs would. Sweeps: grid and zip expansion, errors naming the point, and the
CLI writing one results directory per point plus a combined table.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rjsim
from rjsim.core.errors import ScenarioError
from rjsim.experiment.comparison import Comparison, compare
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.scenario import io as scenario_io

AREAS = {"include": ["Cumbria", "Gwent", "Dyfed-Powys"]}


def small(name: str, **sections: Any) -> Any:
    return rjsim.scenario_from_dict({"name": name, "run": {"years": 1}, "areas": AREAS,
                                     **sections})


def local(replications: int) -> ExperimentSettings:
    return ExperimentSettings(replications=replications, executor=ExecutorSettings("local", 1))


@pytest.fixture(scope="module")
def budget_comparison() -> Comparison:
    """Today's budget against a larger one: only capacity differs."""
    return compare([small("today"), small("more", funding={"national_budget_gbp": 6_000_000})],
                   local(6))


# --- comparisons ------------------------------------------------------------------------------

def test_capacity_change_leaves_referral_streams_identical(budget_comparison: Comparison) -> None:
    today, more = budget_comparison.experiments
    assert more.plan.staffing["W15000002"].general_fte > today.plan.staffing[
        "W15000002"].general_fte  # the change is real
    for table, cols in (("national_summary", ["replication", "eligible_victims", "informed",
                                              "referrals"]),
                        ("area_summary", ["replication", "area", "referrals"]),
                        ("group_summary", ["replication", "group", "referrals"])):
        pd.testing.assert_frame_equal(today.per_replication[table][cols],
                                      more.per_replication[table][cols], check_exact=True)
    # replications still differ from each other: the streams are common, not constant
    assert today.per_replication["national_summary"]["referrals"].nunique() > 1
    # and more capacity serves more of them
    assert (more.per_replication["national_summary"]["allocations"].to_numpy()
            > today.per_replication["national_summary"]["allocations"].to_numpy()).all()


def test_pairing_shrinks_the_variance_of_the_difference(budget_comparison: Comparison) -> None:
    d = budget_comparison.differences
    national = d[d["level"] == "national"].set_index("kpi")
    for kpi in ("unmet_demand", "wait_alloc_days_mean"):
        row = national.loc[kpi]
        assert row["scenario"] == "more" and row["baseline"] == "today"
        assert row["paired_variance"] < row["independent_variance"]
        assert row["variance_reduction"] > 0.5, (kpi, row["variance_reduction"])
        assert row["significant"] and row["n"] == 6
    # the paired difference is the difference of the per-replication values
    today, more = budget_comparison.experiments
    diff = (more.per_replication["national_summary"]["unmet_demand"].to_numpy()
            - today.per_replication["national_summary"]["unmet_demand"].to_numpy())
    assert national.loc["unmet_demand", "difference"] == pytest.approx(diff.mean())
    assert national.loc["unmet_demand", "paired_variance"] == pytest.approx(diff.var(ddof=1))
    # identical referrals: a zero difference, not "significant"
    assert national.loc["referrals", "difference"] == 0
    assert not national.loc["referrals", "significant"]


def test_comparison_tables_shape(budget_comparison: Comparison) -> None:
    est, d = budget_comparison.estimates, budget_comparison.differences
    assert list(est.columns) == ["level", "area", "group", "kpi", "scenario", "mean", "sd",
                                 "n", "ci_low", "ci_high"]
    assert set(est["scenario"]) == {"today", "more"} and set(est["level"]) == {"national",
                                                                                "area", "group"}
    assert set(d[d["level"] == "area"]["area"]) == {"E23000002", "W15000002", "W15000004"}
    assert (d["scenario"] == "more").all()
    national_est = est[(est["level"] == "national") & (est["kpi"] == "referrals")]
    assert national_est["area"].tolist() == ["all", "all"]


def test_compare_uses_common_seed_and_refuses_duplicates() -> None:
    a, b = small("a"), small("b", run={"years": 1, "seed": 5})
    c = compare([a, b], local(1))
    assert [e.scenario.run.seed for e in c.experiments] == [a.run.seed, a.run.seed]
    with pytest.raises(ScenarioError, match="both named 'a'"):
        compare([a, small("a")], local(1))
    with pytest.raises(ScenarioError, match="at least two"):
        compare([a], local(1))


# --- sweeps -----------------------------------------------------------------------------------

BASE = """
name = "base"
[run]
years = 1
[areas]
include = ["Cumbria", "Gwent"]
"""


def test_grid_sweep_expands_every_combination(write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("sweep.toml", BASE + """
[sweep]
mode = "grid"
[sweep.values]
"funding.national_budget_gbp" = [1_000_000, 2_000_000]
"demand.informed" = [0.3, 0.9]
""")
    variants = scenario_io.load_variants(path)
    assert len(variants) == 4
    assert [s.name for _, s in variants] == ["base-p001", "base-p002", "base-p003",
                                             "base-p004"]
    got = [(p.tag if p else None, s.funding.national_budget_gbp, s.demand.informed)
           for p, s in variants]
    assert got == [("p001", 1_000_000, 0.3), ("p002", 1_000_000, 0.9),
                   ("p003", 2_000_000, 0.3), ("p004", 2_000_000, 0.9)]
    for point, s in variants:
        assert point is not None and s.run.years == 1  # the rest of the file still applies
        assert point.values == {"funding.national_budget_gbp": s.funding.national_budget_gbp,
                                "demand.informed": s.demand.informed}
    # the public API gives the same
    assert [s for _, s in rjsim.load_variants(path)] == [s for _, s in variants]
    # each point is titled by its values in words (the file has no title of its own)
    assert [s.title for _, s in variants] == [
        "national budget GBP 1m, informed 30%", "national budget GBP 1m, informed 90%",
        "national budget GBP 2m, informed 30%", "national budget GBP 2m, informed 90%"]


def test_sweep_points_keep_the_files_title_or_a_swept_one(
        write_toml: Callable[[str, str], Path]) -> None:
    titled = write_toml("titled.toml", 'title = "Pot sizes"\n' + BASE + """
[sweep.values]
"funding.national_budget_gbp" = [30_500_000]
"service.wait_target_days" = [28]
"statutory_right.commence_day" = [100]
""")
    (_, s), = scenario_io.load_variants(titled)
    assert s.title == ("Pot sizes - national budget GBP 30.5m, wait target 28 days, commence "
                       "day 100")
    long = write_toml("long.toml", f'title = "{"x" * 75}"\n' + BASE
                      + '[sweep.values]\n"run.seed" = [1]\n')
    (_, s), = scenario_io.load_variants(long)
    assert len(s.title) == 80 and s.title.endswith("...")
    named = write_toml("named.toml", 'title = "Pot sizes"\n' + BASE + """
[sweep]
mode = "zip"
values = { "title" = ["A small pot", "A large pot"], "run.seed" = [1, 2] }
""")
    assert [s.title for _, s in scenario_io.load_variants(named)] == ["A small pot",
                                                                      "A large pot"]


def test_zip_sweep_pairs_values(write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("zip.toml", BASE + """
[sweep]
mode = "zip"
values = { "demand.informed" = [0.3, 0.6, 0.9], "run.seed" = [1, 2, 3] }
""")
    got = [(s.demand.informed, s.run.seed) for _, s in scenario_io.load_variants(path)]
    assert got == [(0.3, 1), (0.6, 2), (0.9, 3)]


def test_zip_sweep_with_unequal_lengths_is_an_error(
        write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("zip.toml", BASE + """
[sweep]
mode = "zip"
values = { "demand.informed" = [0.3, 0.6, 0.9], "run.seed" = [1, 2] }
""")
    with pytest.raises(ScenarioError) as err:
        scenario_io.load_variants(path)
    assert "same length" in str(err.value) and "zip.toml" in str(err.value)


def test_bad_value_at_one_point_names_the_point(
        write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("bad.toml", BASE + """
[sweep.values]
"demand.informed" = [0.3, 1.5]
"run.years" = [1]
""")
    with pytest.raises(ScenarioError) as err:
        scenario_io.load_variants(path)
    text = str(err.value)
    assert "sweep point p002" in text and "demand.informed" in text and "1.5" in text
    assert "p001" not in text  # the good point is not blamed
    with pytest.raises(ScenarioError, match="declares a sweep"):
        scenario_io.load(path)  # a sweep is not one scenario


@pytest.mark.parametrize(("sweep", "needle"), [
    ('[sweep]\nmode = "grid"\n', "sweep.values"),
    ('[sweep]\nmode = "diagonal"\nvalues = { "run.seed" = [1] }\n', "'grid' or 'zip'"),
    ('[sweep]\nvalues = { "run.seed" = [] }\n', "non-empty list"),
    ('[sweep]\nmodes = "grid"\nvalues = { "run.seed" = [1] }\n', "did you mean 'mode'"),
    ('[sweep.values]\n"demand.informd" = [0.3]\n', "did you mean 'informed'"),
])
def test_malformed_sweeps_are_refused(sweep: str, needle: str,
                                      write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("s.toml", BASE + sweep)
    with pytest.raises(ScenarioError) as err:
        scenario_io.load_variants(path)
    assert needle in str(err.value)


def test_sweep_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "sweep.toml").write_text(BASE + """
[sweep.values]
"funding.national_budget_gbp" = [2_000_000, 8_000_000]
"demand.wants_rj" = [0.2, 0.4]
""")
    proc = subprocess.run([sys.executable, "-m", "rjsim", "run", "sweep.toml", "--replications",
                           "2", "--years", "1", "--workers", "1", "--no-cache", "--out", "res"],
                          cwd=tmp_path, text=True, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Sweep of 4 points" in proc.stdout
    assert "p004  national budget GBP 8m, wants rj 40%" in proc.stdout
    out = tmp_path / "res"
    report = (out / "report.html").read_text(encoding="utf-8")
    for tag, words in (("p001", "national budget GBP 2m, wants rj 20%"),
                       ("p004", "national budget GBP 8m, wants rj 40%")):
        assert f'<a href="points/{tag}/report.html">{tag}</a>' in report
        assert f"<strong>{words}</strong>" in report  # the point's title, not only its id
        page = (out / "points" / tag / "report.html").read_text(encoding="utf-8")
        assert f"<title>Restorative justice capacity: {words} (base-{tag})</title>" in page
    assert sorted(p.name for p in (out / "points").iterdir()) == ["p001", "p002", "p003",
                                                                   "p004"]
    for tag in ("p001", "p004"):
        national = pd.read_csv(out / "points" / tag / "tables" / "national_summary.csv")
        assert list(national["replication"]) == [0, 1]
    table = pd.read_csv(out / "tables" / "sweep_national.csv")
    assert list(table.columns[:3]) == ["point", "funding.national_budget_gbp",
                                       "demand.wants_rj"]
    # one contiguous block per point, each with every KPI once
    blocks = [tag for i, tag in enumerate(table["point"]) if i == 0
              or tag != table["point"].iloc[i - 1]]
    assert blocks == ["p001", "p002", "p003", "p004"]
    sizes = table.groupby("point").size()
    assert sizes.nunique() == 1 and sizes.iloc[0] == table["kpi"].nunique()
    p4 = table[table["point"] == "p004"].iloc[0]
    assert p4["funding.national_budget_gbp"] == 8_000_000 and p4["demand.wants_rj"] == 0.4
    assert (table["n"] == 2).all()
    # the budget, and only it, moves the annual cost
    cost = table[table["kpi"] == "annual_cost_gbp"].set_index("point")["mean"]
    assert cost["p001"] == pytest.approx(cost["p002"]) and cost["p003"] == pytest.approx(
        4 * cost["p001"])
    # more asking for RJ means more referrals (the same seed in every point)
    referrals = table[table["kpi"] == "referrals"].set_index("point")["mean"]
    assert referrals["p002"] > referrals["p001"] and np.isclose(referrals["p001"],
                                                                referrals["p003"])


def test_sweep_with_records_writes_them_or_refuses(tmp_path: Path) -> None:
    (tmp_path / "sweep.toml").write_text(
        'name = "sw"\n[run]\nyears = 1\n[areas]\ninclude = ["Cumbria"]\n'
        '[sweep.values]\n"run.seed" = [1, 2]\n')
    proc = subprocess.run([sys.executable, "-m", "rjsim", "run", "sweep.toml", "--replications",
                           "1", "--workers", "1", "--no-cache", "--records", "--out", "res",
                           "-q"], cwd=tmp_path, text=True, capture_output=True, timeout=300)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:  # refusing the option is fine, if it says so
        assert "--records" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    for tag in ("p001", "p002"):  # otherwise every point has its raw records
        cases = pd.read_parquet(tmp_path / "res" / "points" / tag / "tables" / "cases")
        national = pd.read_csv(tmp_path / "res" / "points" / tag / "tables" /
                               "national_summary.csv")
        assert len(cases) == national["referrals"].sum()
