"""The decision table that opens every comparison report and the workbook's summary sheet.

A real comparison of three two-area options (written once per module by ``rjsim compare``);
its figures are recomputed here from the option's own tables with pandas and scipy,
independently of :mod:`rjsim.report.decision`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from clitools import rjsim
from reporttools import REPO, run_ok, small_scenario, visible_text
from scipy import stats as sps

from rjsim.core import stats
from rjsim.report import decision
from rjsim.report.conclusion import PlanEstimate, conclusion, plan_estimate
from rjsim.results.reader import open_results
from rjsim.scenario import io as scenario_io

COMMON = ("--replications", "3", "--no-cache", "--workers", "1", "-q")
TITLES = {"dec_today": "Today's funding", "dec_more": "A much larger pot, by need"}


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Status quo (no title), today's funding and GBP 120m by need, two areas, three years."""
    tmp = tmp_path_factory.mktemp("decision")
    files = [small_scenario(tmp, "dec_base", "baseline.toml"),
             small_scenario(tmp, "dec_today", "funding_today.toml", title=TITLES["dec_today"]),
             small_scenario(tmp, "dec_more", "funding_120m_need.toml",
                            title=TITLES["dec_more"])]
    run_ok("compare", *map(str, files), "--years", "3", "--out", str(tmp / "out"), *COMMON,
           cwd=REPO)
    return tmp / "out"


def _decision_text(out: Path) -> str:
    html = (out / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="decision">')
    return visible_text(html[start:html.index("</section>", start)])


def _t95(values: np.ndarray) -> tuple[float, float, float]:
    mean, n = float(values.mean()), len(values)
    half = float(sps.t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def _final_year_cost(out: Path, name: str) -> np.ndarray:
    """Per replication: spend in the last 12 monthly periods of a 3-year run, a year."""
    month = pd.read_csv(out / "scenarios" / name / "tables" / "national_month.csv")
    last = month[month["period"] >= month["period"].max() - 11]
    assert last["period"].nunique() == 12
    return last.groupby("replication")["cost_gbp"].sum().to_numpy(dtype=float)


def test_decision_table_is_the_first_section(compare_dir: Path) -> None:
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)">', html)
    assert sections[0] == "decision"
    assert html.index("The options at a glance") < html.index("<section", html.index(
        '<section id="decision">') + 1)


def test_one_row_per_option_with_titles_and_fallback_names(compare_dir: Path) -> None:
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="decision">')
    block = html[start:html.index("</section>", start)]
    assert block.count("<tr>") == 1 + 3  # header and one row per option
    text = _decision_text(compare_dir)
    for title in TITLES.values():
        assert title in text
    assert "Two areas: dec_base <b>test</b> & more." in text  # its description's first line
    assert text.index(TITLES["dec_today"]) < text.index(TITLES["dec_more"])  # compared order


def test_cost_once_in_force_is_the_final_year_not_the_run_average(compare_dir: Path) -> None:
    text = _decision_text(compare_dir)
    est = pd.read_csv(compare_dir / "tables" / "comparison_estimates.csv")
    for name in ("dec_today", "dec_more"):
        cost = _final_year_cost(compare_dir, name)
        assert decision.gbp_m(float(cost.mean())) in text
        run = est[(est["level"] == "national") & (est["kpi"] == "annual_cost_gbp")
                  & (est["scenario"] == name)]["mean"].iloc[0]
        assert f"whole-run average {decision.gbp_m(float(run))}" in text
    # the larger pot is only paid from commencement: the run average understates it
    more = _final_year_cost(compare_dir, "dec_more").mean()
    run_more = est[(est["kpi"] == "annual_cost_gbp") & (est["scenario"] == "dec_more")
                   & (est["level"] == "national")]["mean"].iloc[0]
    assert more > 1.3 * run_more


def test_capacity_unmet_and_wait_match_the_tables(compare_dir: Path) -> None:
    text = _decision_text(compare_dir)
    cap = pd.read_csv(compare_dir / "tables" / "comparison_capacity_test.csv")
    for r in cap.itertuples():
        assert f"{r.verdict} {r.areas_pass} of {r.areas} areas pass" in text
    metrics = pd.read_csv(compare_dir / "scenarios" / "dec_today" / "tables" /
                          "capacity_metrics.csv")
    sums = metrics[metrics["pool"] == "all"].groupby("replication")[
        ["cohort_lost", "cohort_referrals"]].sum()
    mean, low, high = _t95((sums["cohort_lost"] / sums["cohort_referrals"]).to_numpy())
    shown = f"{100 * mean:.1f}%"
    if f"{100 * low:.1f}" != f"{100 * high:.1f}":
        shown += f" (95% CI {100 * low:.1f}% to {100 * high:.1f}%)"
    assert shown in text
    month = pd.read_csv(compare_dir / "scenarios" / "dec_today" / "tables" /
                        "national_month.csv")
    start = float(cap[cap["option"] == "dec_today"]["window_start_day"].iloc[0])
    rows = month[month["period"] * 365 / 12 >= start - 1e-6]
    wait = ((rows["wait_alloc_days_mean"] * rows["allocations"]).groupby(rows["replication"])
            .sum() / rows.groupby("replication")["allocations"].sum())
    assert f"{wait.mean():,.0f} days" in text


def test_conclusion_under_the_table_follows_the_verdicts(compare_dir: Path) -> None:
    text = _decision_text(compare_dir)
    cap = pd.read_csv(compare_dir / "tables" / "comparison_capacity_test.csv")
    if (cap["verdict"] == "pass").any():
        assert "The cheapest option that passes the capacity test is" in text
    else:
        best = int(cap["areas_pass"].max())
        assert (f"No option passes the capacity test (the most areas passing is {best} of 2"
                if best else "No option passes the capacity test (no area passes under any "
                "of them).") in text
        assert "The least-cost plan needs about GBP " in text
        assert "confirms it by simulation" in text
    assert "simulation noise only" in text  # the main limitation beside the headline


def test_no_option_passes_gives_the_least_cost_plans_analytic_figure(compare_dir: Path
                                                                      ) -> None:
    """The plan starts from the option with the right that passes the most areas (the status
    quo has no right); its figure is the analytic plan of that option's own scenario file."""
    from rjsim.uncertainty import price
    cap = pd.read_csv(compare_dir / "tables" / "comparison_capacity_test.csv").set_index("option")
    with_right = ["dec_today", "dec_more"]  # compared order; dec_base has no right
    chosen = max(with_right, key=lambda n: (int(cap.loc[n, "areas_pass"]),
                                            -with_right.index(n)))
    plan = plan_estimate(open_results(compare_dir),
                         decision.option_rows(open_results(compare_dir)))
    assert plan is not None and plan.option == chosen
    source = compare_dir.parent / f"{chosen}.toml"
    assert plan.command == f"rjsim plan {source.as_posix()}"
    expected = price.analytic_plan(scenario_io.load(source))["annual_cost_gbp"].sum()
    assert expected > 0
    assert plan.annual_cost_gbp == pytest.approx(expected, rel=1e-9)
    rows = [_row("a", 1e6, "fail", 30), _row("b", 2e6, "inconclusive", 41)]
    sentence = conclusion(rows, plan)
    assert f"The least-cost plan needs about {decision.gbp_m(expected)} a year" in sentence
    assert f"'{plan.command}' confirms it by simulation" in sentence
    assert "analytic estimate" in sentence
    rows = decision.option_rows(open_results(compare_dir))
    more = [dataclasses.replace(r, areas_pass=int(cap.loc[r.name, "areas_pass"]) + 1)
            if r.name == "dec_more" else r for r in rows]
    again = plan_estimate(open_results(compare_dir), more)
    assert again is not None and again.option == "dec_more"


def test_the_plan_estimate_says_why_it_is_missing(compare_dir: Path, tmp_path: Path) -> None:
    """An option's resolved scenario naming area data that is not there: the sentence says
    the plan could not be estimated and why, and names the command; a comparison without a
    right has no plan to price."""
    copy = tmp_path / "copy"
    shutil.copytree(compare_dir, copy)
    for name in ("dec_base", "dec_today", "dec_more"):
        toml = copy / "scenarios" / name / "scenario.toml"
        text = toml.read_text(encoding="utf-8")
        assert text.count('\ndata = ""\n') == 1  # the packaged area data
        toml.write_text(text.replace('\ndata = ""\n', f'\ndata = "{tmp_path.as_posix()}'
                                     '/gone.csv"\n'), encoding="utf-8")
    res = open_results(copy)
    plan = plan_estimate(res, decision.option_rows(res))
    assert plan is not None and math.isnan(plan.annual_cost_gbp)
    assert "gone.csv" in plan.problem
    sentence = conclusion([_row("a", 1e6, "fail", 30)], plan)
    assert "The least-cost plan could not be estimated here (" in sentence
    assert f"run '{plan.command}'" in sentence
    none = conclusion([_row("a", 1e6, "fail", 30)], None)
    assert "No option commences the statutory right" in none


def _row(name: str, cost: float, verdict: str | None, passing: int) -> decision.OptionRow:
    iv = stats.t_interval([cost, cost])
    return decision.OptionRow(
        name=name, title=name.title(), summary="", cost=iv, cost_months="", run_cost=cost,
        verdict=verdict, areas_pass=passing if verdict else None, areas=43 if verdict else None,
        unmet=iv, wait=iv, gap=None, p_pass=None)


def test_conclusion_names_the_cheapest_passing_option() -> None:
    rows = [_row("dear", 120e6, "pass", 43), _row("cheap", 40e6, "pass", 43),
            _row("cheapest", 10e6, "fail", 30)]
    assert conclusion(rows, None) == (
        "The cheapest option that passes the capacity test is 'Cheap', at GBP 40.0m a year "
        "once in force (2 of 3 options pass).")
    plan = PlanEstimate("a", "A", "rjsim plan a.toml", 256.97e6)
    none = conclusion([_row("a", 1e6, "fail", 30), _row("b", 2e6, "inconclusive", 41)], plan)
    assert none.startswith("No option passes the capacity test (the most areas passing is 41 "
                           "of 43, under 'B'). The least-cost plan needs about GBP 257m a year "
                           "with the settings of 'A'")
    assert "'rjsim plan a.toml' confirms it by simulation" in none
    untested = conclusion([_row("a", 1e6, None, 0)], plan)
    assert untested.startswith("The capacity test could not be run for any option")


def test_money_is_rounded_to_three_figures() -> None:
    assert [decision.gbp_m(x) for x in (114_597_898, 37_573_786, 5_842_583, 350_000)] == [
        "GBP 115m", "GBP 37.6m", "GBP 5.84m", "GBP 0.35m"]


def test_summary_line_is_the_first_sentence() -> None:
    assert decision.summary_line("A right after one year. Everything\nelse as today.") == \
        "A right after one year."
    assert decision.summary_line("GBP 4.6m (2016/17) by population.") == \
        "GBP 4.6m (2016/17) by population."
    long = decision.summary_line("word " * 100)
    assert len(long) <= decision.SUMMARY_CHARS and long.endswith("...")


def test_workbook_opens_with_the_decision_table(compare_dir: Path) -> None:
    wb = openpyxl.load_workbook(compare_dir / "report.xlsx")
    assert wb.sheetnames[:2] == ["Summary", "README"]
    ws = wb["Summary"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert str(values[0][0]).startswith(("No option passes", "The cheapest option"))
    header = values.index(next(r for r in values if r[0] == "Option"))
    table_ = pd.DataFrame([r for r in values[header + 1:] if r[0]], columns=values[header])
    assert list(table_["Option"]) == ["dec_base", "dec_today", "dec_more"]
    assert list(table_["Title"]) == ["dec_base", *TITLES.values()]
    cost = _final_year_cost(compare_dir, "dec_more").mean() / 1e6
    got = table_.set_index("Option").loc["dec_more", "Cost a year once in force (GBP m)"]
    assert got == pytest.approx(cost, rel=1e-9)
    row = header + 2  # the first option's row (1-based)
    cells = {ws.cell(header + 1, j + 1).value: ws.cell(row, j + 1) for j in range(ws.max_column)}
    assert cells["Unmet demand (share of referrals)"].number_format == "0.0%"
    assert "GBP" in cells["Cost a year once in force (GBP m)"].number_format
    assert ws.auto_filter.ref == f"A{header + 1}:N{header + 4}"  # the gap column, not P(pass)
    assert "Probability of passing (share of parameter sets)" not in values[header]
    gap = table_.set_index("Option").loc["dec_more", "Gap between areas (worst minus best "
                                                    "area's unmet demand)"]
    ineq = pd.read_csv(compare_dir / "scenarios" / "dec_more" / "tables" / "inequality.csv")
    assert gap == pytest.approx(float(ineq[ineq["kpi"] == "unmet_gap"]["mean"].iloc[0]))


def test_without_uncertainty_the_probability_is_not_an_empty_column(compare_dir: Path) -> None:
    text = _decision_text(compare_dir)
    assert "probability of passing" not in text.split("Probability of passing")[0]
    assert ("Probability of passing under parameter uncertainty: not assessed in this "
            "comparison") in text
    assert "Add '--uncertainty N' to 'rjsim compare'" in text


def test_workbook_tables_have_force_names_formats_and_filters(compare_dir: Path) -> None:
    wb = openpyxl.load_workbook(compare_dir / "report.xlsx")
    ws = wb["comparison_estimates"]
    header = [c.value for c in ws[1]]
    assert header[header.index("area") + 1] == "force"
    est = pd.read_csv(compare_dir / "tables" / "comparison_estimates.csv")
    assert ws.max_row == len(est) + 1
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}" \
        f"{len(est) + 1}"
    rows = list(ws.iter_rows(min_row=2, values_only=False))
    by_kpi = {(r[header.index("area")].value, r[header.index("kpi")].value): r for r in rows}
    share = by_kpi[("E23000036", "unmet_demand_rate")]
    assert share[header.index("force")].value == "Avon and Somerset"
    assert share[header.index("mean")].number_format == "0.0%"
    assert "GBP" in by_kpi[("all", "annual_cost_gbp")][header.index("mean")].number_format
    assert by_kpi[("all", "annual_cost_gbp")][header.index("force")].value in (None, "")
    readme = pd.read_excel(compare_dir / "report.xlsx", sheet_name="README")
    listed = readme[readme["sheet"] == "comparison_estimates"]["column"].tolist()
    assert listed == header


def test_title_is_validated_and_not_inherited(tmp_path: Path) -> None:
    for path in sorted((REPO / "scenarios").glob("*.toml")):  # every shipped scenario
        title = scenario_io.load(path).title
        assert 0 < len(title) <= 80
    child = small_scenario(tmp_path, "child", "funding_today.toml")
    assert scenario_io.load(child).title == ""  # the parent's title names the parent
    titled = small_scenario(tmp_path, "titled", "funding_today.toml", title="Mine")
    assert scenario_io.load(titled).title == "Mine"
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ntitle = "two\\nlines"\n', encoding="utf-8")
    proc = rjsim("validate", str(bad), cwd=REPO)
    assert proc.returncode == 2
    assert "title: must be one line of at most 80 printable characters" in proc.stdout + \
        proc.stderr


def test_differences_are_one_compact_table(compare_dir: Path) -> None:
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="differences">')
    block = html[start:html.index("</section>", start)]
    assert block.count("<tr>") == 1 + 2  # header and one row per option after the first
    assert "<li>" not in block  # no bullet per difference
    diff = pd.read_csv(compare_dir / "tables" / "comparison_differences.csv")
    cost = diff[(diff["level"] == "national") & (diff["kpi"] == "annual_cost_gbp")
                & (diff["scenario"] == "dec_more")].iloc[0]
    assert bool(cost["significant"])
    shown = decision.gbp_m(cost["difference"]).replace("GBP ", "GBP +")
    assert f"{shown} real" in visible_text(block)
    for kpi in ("unmet_demand_rate", "annual_cost_gbp"):
        assert f">{kpi}<" not in block  # plain labels, not identifiers


def test_small_real_differences_and_collapsed_intervals_are_not_shown_as_zero() -> None:
    from rjsim.report.compare import signed
    from rjsim.report.html import estimate
    assert signed(0.0003, "share") == "+0.03 pp"
    assert signed(-0.2, "count") == "-0.2"
    assert signed(0.0, "share") == "+0.0 pp"
    assert estimate(43.0, 43.0 - 1e-9, 43.0 + 1e-9, "count", 30) == "43"
    assert estimate(0.6892, 0.6891, 0.6894, "share", 30) == "68.92% (95% CI 68.91% to 68.94%)"


def test_assumptions_show_the_funding_schedule_and_commencement() -> None:
    from rjsim.app.reports import AssumptionsOptions, assumptions
    lines = assumptions(AssumptionsOptions(scenario=REPO / "scenarios" /
                                           "funding_30m_need.toml")).lines
    assert lines[0] == ("Effective settings of 'funding_30m_need' (GBP 30.5m pot (2017 prices), "
                        "ringfenced, shared by need):")
    text = "\n".join(lines)
    assert ("Funding from day 365 (2026-04-01): a national pot of GBP 39.3m a year (GBP 30.5m x "
            "1.29 price uprating), shared by need") in text
    assert "Funding from the start: a national pot of GBP 6.1m a year" in text
    assert "Statutory right: commenced on day 365; then 95% of eligible victims" in text
    assert text.index("Funding from day 365") < text.index("funding.national_budget_gbp =")


def test_settings_that_differ_are_plain_words(compare_dir: Path) -> None:
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    start = html.index("Settings that differ between the options")
    block = visible_text(html[start:html.index("</table>", start)])
    assert "Statutory right not commenced commenced on day 365" in block
    assert "Funding from day 365 (2026-04-01) no change" in block
    assert "a national pot of GBP 120.0m a year, shared by need" in block
    assert "{" not in block and "[" not in block  # no raw JSON


def test_an_options_own_report_states_its_funding_schedule(compare_dir: Path) -> None:
    from rjsim.report.build import build_report
    page = build_report(compare_dir / "scenarios" / "dec_more")
    text = visible_text(page.read_text(encoding="utf-8"))
    assert "Funding from day 365 (2026-04-01): a national pot of GBP 120.0m a year" in text
    assert "Replications: 3" in text
    assert "(from the start; the funding schedule above changes it)" in text
    head = text[text.index("Headline"):text.index("What was run and why", text.index("Headline")
                                                  + 10)]
    assert "It leaves out uncertainty in the assumptions" in head  # the limitation beside it


def test_commencement_states_phases_and_the_awareness_ramp() -> None:
    from rjsim.report.settings import commencement
    right = {"commence_day": 365, "informed": 0.95, "ramp_days": 365, "ramp_curve": "logistic"}
    assert commencement({"statutory_right": right}) == (
        "commenced on day 365; then 95% of eligible victims are told about RJ, reached over "
        "365 days (logistic ramp)")
    phased = {"phase": [{"commence_day": 365, "groups": ["hate"], "areas": []}],
              "informed": 0.5}
    assert commencement({"statutory_right": phased}).startswith(
        "commenced in 1 phases: 1 on day 365 (hate in every area); then 50%")
    assert commencement({"statutory_right": {"informed": 0.95}}) == "not commenced"


def test_gap_between_areas_is_each_options_unmet_gap(compare_dir: Path) -> None:
    """The decision table's postcode-lottery column is each option's worst-minus-best area
    unmet demand from its own inequality table, in percentage points with its 95% CI."""
    text = _decision_text(compare_dir)
    assert "gap between areas" in text
    for name in TITLES:
        ineq = pd.read_csv(compare_dir / "scenarios" / name / "tables" / "inequality.csv")
        gap = ineq[ineq["kpi"] == "unmet_gap"].iloc[0]
        shown = f"{100 * gap['mean']:.1f} pp"
        if f"{100 * gap['ci_low']:.1f}" != f"{100 * gap['ci_high']:.1f}":
            shown += f" (95% CI {100 * gap['ci_low']:.1f} pp to {100 * gap['ci_high']:.1f} pp)"
        assert shown in text, (name, shown)
