"""The decision table that opens every comparison report: one row per option, in plain words.

For each option compared (``rjsim compare``): its title and a one-line description, what it
costs a year once the right is in force, how many areas pass the capacity test and the
national verdict, the share of referrals lost for lack of capacity, the mean wait for a
facilitator, and, where the results hold them, the between-area gap and the probability of
passing under parameter uncertainty. Over it stands one sentence, the conclusion
(:mod:`rjsim.report.conclusion`): the cheapest option that passes, or that none does and what
the least-cost plan needs a year. The same rows fill the workbook's summary sheet
(:func:`summary_frame`).

Every figure is read from the comparison directory's files (each option's own tables are under
``scenarios/<name>/``); nothing is re-run:

* **cost once in force**: spend (``cost_gbp`` of ``national_month``) over the final
  :data:`STEADY_MONTHS` months of the run, and never before the capacity test's window opens
  (commencement plus its settling period), as a rate a year: by then the right is in force and
  the hiring ramp is over. The whole-run average (``annual_cost_gbp``), which includes the
  months before commencement and while posts are being filled, is given only as a labelled
  secondary figure;
* **unmet demand**: of the referrals made in the capacity test's window, the share lost for
  lack of capacity (``cohort_lost / cohort_referrals`` of ``capacity_metrics``, all areas);
* **mean wait**: over the same window, the mean wait of referrals allocated a facilitator
  (monthly means weighted by allocations).

Each is a mean over replications with a 95% t-interval across them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rjsim.core import stats
from rjsim.report.columns import fmt
from rjsim.report.html import Html, badge, join, para, table, tag
from rjsim.results.reader import Results
from rjsim.scenario.spec import DAYS_PER_YEAR

#: Months at the end of the run over which the cost once in force is measured.
STEADY_MONTHS = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
#: Longest one-line description in the table (characters).
SUMMARY_CHARS = 110

LIMITATION = ("These are model estimates. The 95% confidence intervals show simulation noise "
              "only, not uncertainty in the assumptions, many of which are judgement (see "
              "'Assumptions and limitations'); 'rjsim uncertainty' gives the probability of "
              "passing once parameter uncertainty is included. Absolute levels depend on the "
              "referral funnel's calibration: differences between options are more robust "
              "than levels.")


@dataclass(frozen=True)
class OptionRow:
    """One option's line of the decision table (intervals are across replications)."""

    name: str
    title: str
    summary: str
    cost: stats.Interval  # GBP a year, once in force
    cost_months: str  # the months the cost is measured over, e.g. "2029-04 to 2030-03"
    run_cost: float  # GBP a year, whole-run average (secondary)
    verdict: str | None  # national capacity-test verdict; None if the test could not run
    areas_pass: int | None
    areas: int | None
    unmet: stats.Interval  # share of the window's referrals lost for lack of capacity
    wait: stats.Interval  # mean wait for a facilitator in the window (days)
    gap: stats.Interval | None  # between-area gap (share): see between_area_gap
    p_pass: float | None  # probability of passing under uncertainty: see probability_of_passing


def summary_line(description: str) -> str:
    """The first sentence of a description, on one line (cut at :data:`SUMMARY_CHARS`)."""
    text = " ".join(description.split())
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z(])", text)
    first = text[:match.start()] if match else text
    return first if len(first) <= SUMMARY_CHARS else first[:SUMMARY_CHARS - 3].rstrip() + "..."


def _period_days(periods: pd.Series, horizon: float) -> pd.Series:
    start = periods.astype(float) * DAYS_PER_MONTH
    return (start + DAYS_PER_MONTH).clip(upper=horizon) - start


def steady_cost(month: pd.DataFrame, opens: float, horizon: float
                ) -> tuple[stats.Interval, str]:
    """Spend a year over the last :data:`STEADY_MONTHS` months of the run that start on or
    after day ``opens``, per replication; and the months covered ('' if none)."""
    first = max(opens, horizon - STEADY_MONTHS * DAYS_PER_MONTH)
    start = month["period"].astype(float) * DAYS_PER_MONTH
    rows = month[(start >= first - 1e-6) & (start < horizon)]
    if "in_warmup" in rows:
        rows = rows[~rows["in_warmup"].astype(bool)]
    if not len(rows):
        return stats.t_interval([]), ""
    days = _period_days(rows["period"], horizon)
    per_rep = (rows["cost_gbp"].groupby(rows["replication"]).sum()
               / days.groupby(rows["replication"]).sum() * DAYS_PER_YEAR)
    months = sorted(rows["month"].astype(str).unique())
    return stats.t_interval(per_rep.to_numpy(dtype=float)), f"{months[0]} to {months[-1]}"


def window_wait(month: pd.DataFrame, opens: float, closes: float) -> stats.Interval:
    """Mean wait for a facilitator over the months from day ``opens`` to ``closes``: each
    replication's monthly means weighted by allocations."""
    start = month["period"].astype(float) * DAYS_PER_MONTH
    rows = month[(start >= opens - 1e-6) & (start < closes)]
    rows = rows[rows["allocations"] > 0]
    weighted = (rows["wait_alloc_days_mean"] * rows["allocations"]).groupby(
        rows["replication"]).sum()
    return stats.t_interval((weighted / rows["allocations"].groupby(rows["replication"]).sum())
                            .to_numpy(dtype=float))


def window_unmet(metrics: pd.DataFrame) -> stats.Interval:
    """Of the referrals made in the capacity test's window, the share lost for lack of
    capacity, all areas together, per replication."""
    rows = metrics[metrics["pool"] == "all"] if "pool" in metrics else metrics
    by_rep = rows.groupby("replication")[["cohort_lost", "cohort_referrals"]].sum()
    share = by_rep["cohort_lost"] / by_rep["cohort_referrals"].where(
        by_rep["cohort_referrals"] > 0)
    return stats.t_interval(share.to_numpy(dtype=float))


def between_area_gap(option: Results) -> stats.Interval | None:
    """The postcode lottery in one figure: the gap between the worst and the best area's
    unmet demand (a share, shown in percentage points; its 95% CI across replications), read
    from the option's ``tables/inequality`` (:mod:`rjsim.analysis.inequality`); None when the
    option's results have no such table (written before the measure existed), and the table
    then leaves the column out."""
    found = option.optional("inequality")
    if found is None or "kpi" not in found:
        return None
    rows = found[found["kpi"] == "unmet_gap"]
    if not len(rows):
        return None
    r = rows.iloc[0]
    return stats.Interval(mean=float(r["mean"]), sd=math.nan, n=int(r["n"]),
                          low=float(r["ci_low"]), high=float(r["ci_high"]))


def probability_of_passing(res: Results, name: str) -> float | None:
    """The probability that option ``name`` passes the capacity test nationally under
    parameter uncertainty: the share of parameter sets in which the nation passes
    (``p_pass_national`` of ``tables/uncertainty_options``, written by ``rjsim compare
    --uncertainty N``); None when the comparison ran without it (the table then leaves the
    column out and says how to get it) or the option has no capacity test."""
    found = res.optional("uncertainty_options")
    if found is None or not {"option", "kpi", "median"} <= set(found.columns):
        return None
    rows = found[(found["option"].astype(str) == name) & (found["kpi"] == "p_pass_national")]
    return float(rows["median"].iloc[0]) if len(rows) else None


def _national(res: Results, kpi: str) -> dict[str, float]:
    est = res.table("comparison_estimates")
    nat = est[(est["level"] == "national") & (est["kpi"] == kpi)]
    return {str(r["scenario"]): float(r["mean"]) for _, r in nat.iterrows()}


def _capacity(res: Results) -> dict[str, dict[str, Any]]:
    table_ = res.optional("comparison_capacity_test")
    if table_ is None or "verdict" not in table_:
        return {}
    return {str(r["option"]): {str(k): v for k, v in r.items()}
            for r in table_.to_dict("records")}


def option_rows(res: Results) -> list[OptionRow]:
    """The decision table's rows, in the order compared."""
    from rjsim.report.compare import option_names

    run_cost = _national(res, "annual_cost_gbp")
    tests = _capacity(res)
    rows = []
    for name in option_names(res):
        option = Results(res.path / "scenarios" / name, {})
        scenario = option.scenario()
        horizon = float(option.setting("run.years", 0.0)) * DAYS_PER_YEAR
        test = tests.get(name, {})
        has_verdict = isinstance(test.get("verdict"), str)
        opens = float(test["window_start_day"]) if has_verdict else _opens(option)
        closes = float(test["window_end_day"]) if has_verdict else horizon
        month = option.table("national_month")
        cost, months = steady_cost(month, opens, horizon)
        metrics = option.optional("capacity_metrics")
        rows.append(OptionRow(
            name=name, title=str(scenario.get("title") or "") or name,
            summary=summary_line(str(scenario.get("description") or "")),
            cost=cost, cost_months=months, run_cost=run_cost.get(name, math.nan),
            verdict=str(test["verdict"]) if has_verdict else None,
            areas_pass=int(test["areas_pass"]) if has_verdict else None,
            areas=int(test["areas"]) if has_verdict else None,
            unmet=(window_unmet(metrics) if metrics is not None and len(metrics)
                   else stats.t_interval([])),
            wait=window_wait(month, opens, closes),
            gap=between_area_gap(option), p_pass=probability_of_passing(res, name)))
    return rows


def _opens(option: Results) -> float:
    """Commencement plus the test's settling period (0 without a right)."""
    commence = option.setting("statutory_right.commence_day")
    settle = float(option.setting("capacity_test.settle_days", 0.0))
    return (float(commence) + settle) if isinstance(commence, int | float) else 0.0


def gbp_m(value: float) -> str:
    """Money a year in GBP millions, to three significant figures at most: GBP 115m,
    GBP 37.6m, GBP 5.84m (GBP 0.35m below a million)."""
    if math.isnan(value):
        return "n/a"
    m = value / 1e6
    decimals = 0 if abs(m) >= 100 else 1 if abs(m) >= 10 else 2
    return f"GBP {m:,.{decimals}f}m"


def _interval(iv: stats.Interval, show: Callable[[float], str]) -> str:
    """A mean, with its 95% CI unless it is undefined or collapses at this precision."""
    if iv.n == 0 or math.isnan(iv.mean):
        return "n/a"
    value = show(iv.mean)
    if iv.n < 2 or math.isnan(iv.low) or show(iv.low) == show(iv.high):
        return value
    return f"{value} (95% CI {show(iv.low)} to {show(iv.high)})"


def _pct(x: float) -> str:
    return fmt(x, "share")


def _pp(x: float) -> str:
    return f"{100 * x:.1f} pp"


def _days(x: float) -> str:
    return f"{x:,.0f} days" if abs(x) >= 10 else f"{x:.1f} days"


def passing_line(row: OptionRow) -> str:
    """'PASS: 43 of 43 areas pass' or why there is no verdict."""
    if row.verdict is None:
        return "not tested (the run ends before the test's window)"
    return f"{row.areas_pass} of {row.areas} areas pass"


def decision_table(rows: list[OptionRow]) -> Html:
    """The table itself: one row per option; the gap and probability columns only when some
    option has them."""
    gap = any(r.gap is not None for r in rows)
    p_pass = any(r.p_pass is not None for r in rows)
    header: list[object] = ["option", "cost a year once in force", "capacity test",
                            "unmet demand", "mean wait"]
    header += ["gap between areas"] * gap + ["probability of passing"] * p_pass
    body = []
    for r in rows:
        cells: list[object] = [
            join([tag("strong", r.title), tag("div", r.summary, cls="muted"),
                  tag("div", tag("code", r.name), cls="muted")]),
            join([_interval(r.cost, gbp_m),
                  tag("div", f"whole-run average {gbp_m(r.run_cost)}", cls="muted")]),
            join([badge(r.verdict) if r.verdict else "", " ", passing_line(r)]),
            _interval(r.unmet, _pct), _interval(r.wait, _days)]
        cells += [_interval(r.gap, _pp) if r.gap is not None else "n/a"] * gap
        cells += ([fmt(r.p_pass, "share") if r.p_pass is not None else "n/a"] * p_pass)
        body.append(cells)
    return table(header, body, numeric_from=99, min_width=40)


def uncertainty_note(res: Results, rows: list[OptionRow]) -> str:
    """The line under the table on the probability of passing: what it is, or, when the
    comparison ran without parameter uncertainty, that it was not assessed and how to get it."""
    if any(r.p_pass is not None for r in rows):
        sets = res.manifest.get("parameter_sets")
        reps = res.manifest.get("replications_per_parameter_set")
        size = (f"{sets} parameter sets of {reps} replications each"
                if isinstance(sets, int) and isinstance(reps, int) else "the parameter sets")
        return ("Probability of passing: the share of " + size + " (drawn from the "
                "assumptions' ranges; every option on the same sets and random numbers) in "
                "which the nation passes the capacity test. Few sets give a rough figure.")
    return ("Probability of passing under parameter uncertainty: not assessed in this "
            "comparison, as it multiplies the run time. Add '--uncertainty N' to 'rjsim "
            "compare' to run every option on N parameter sets drawn from the assumptions' "
            "ranges, or run 'rjsim uncertainty' on the option files.")


def decision_section(rows: list[OptionRow], headline: str, note: str = "") -> Html:
    """The decision table of ``rows`` (:func:`option_rows`), the conclusion over it
    (``headline``: :func:`rjsim.report.conclusion.conclusion`), what each column means
    (``note``: :func:`uncertainty_note`) and the main limitation beside them."""
    months = next((r.cost_months for r in rows if r.cost_months), "")
    return join([
        tag("div", para(headline), cls="headline"),
        decision_table(rows),
        *([para(note)] if note else []),
        para(f"Cost once in force: spend a year over the last {STEADY_MONTHS} months of the run"
             + (f" ({months})" if months else "") + ", after commencement and once posts are "
             "filled; the whole-run average also counts the year before commencement and the "
             "hiring ramp. Capacity test: the minister's test per area (an area passes when "
             "every criterion passes at 95% confidence). Unmet demand: of referrals made from "
             "commencement (after the test's settling period) to the end of the run, the share "
             "lost for lack of capacity; mean wait: over the same months, for referrals "
             "allocated a facilitator. Gap between areas: the worst area's unmet demand minus "
             "the best area's, in percentage points (the postcode lottery), over the whole run "
             "after warm-up, before and after commencement (its own section gives the rates "
             "behind it). Means over "
             "replications with 95% CIs where they are not a single value.", cls="muted"),
        para(LIMITATION, cls="muted")])


#: Columns of the workbook's summary sheet, with their number formats.
SUMMARY_COLUMNS = (("option", "Option", None), ("title", "Title", None),
                   ("description", "Description", None),
                   ("cost_gbp_m_once_in_force", "Cost a year once in force (GBP m)", "gbp_m"),
                   ("cost_ci_low_gbp_m", "95% CI low (GBP m)", "gbp_m"),
                   ("cost_ci_high_gbp_m", "95% CI high (GBP m)", "gbp_m"),
                   ("cost_months", "Cost measured over", None),
                   ("whole_run_average_cost_gbp_m", "Whole-run average cost a year (GBP m)",
                    "gbp_m"),
                   ("capacity_test_verdict", "Capacity test (national)", None),
                   ("areas_passing", "Areas passing", "count"), ("areas", "Areas", "count"),
                   ("unmet_demand_share", "Unmet demand (share of referrals)", "share"),
                   ("mean_wait_days", "Mean wait (days)", "days"),
                   ("gap_between_areas", "Gap between areas (worst minus best area's unmet "
                    "demand)", "share"),
                   ("probability_of_passing", "Probability of passing (share of parameter "
                    "sets)", "share"))


def summary_frame(rows: list[OptionRow]) -> pd.DataFrame:
    """The decision table as data, for the workbook's summary sheet (headers are the
    readable names of :data:`SUMMARY_COLUMNS`); the gap and probability columns only when some
    option has them, as in the HTML table."""
    records = [{
        "option": r.name, "title": r.title, "description": r.summary,
        "cost_gbp_m_once_in_force": r.cost.mean / 1e6, "cost_ci_low_gbp_m": r.cost.low / 1e6,
        "cost_ci_high_gbp_m": r.cost.high / 1e6, "cost_months": r.cost_months,
        "whole_run_average_cost_gbp_m": r.run_cost / 1e6,
        "capacity_test_verdict": r.verdict or "not tested", "areas_passing": r.areas_pass,
        "areas": r.areas, "unmet_demand_share": r.unmet.mean, "mean_wait_days": r.wait.mean,
        "gap_between_areas": r.gap.mean if r.gap is not None else None,
        "probability_of_passing": r.p_pass}
        for r in rows]
    keep = [c for c, _, _ in SUMMARY_COLUMNS
            if c not in ("gap_between_areas", "probability_of_passing")
            or any(x.get(c) is not None for x in records)]
    return pd.DataFrame(records, columns=keep)
