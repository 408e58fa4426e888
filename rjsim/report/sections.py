"""The sections of an experiment's report, each built from the results directory's files.

What was run and why, the headline in plain words with its uncertainty, national figures
with 95% confidence intervals, the per-area table, the assumptions and limitations, and the
reproducibility footer. Every number is read from the tables; nothing is re-run.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from rjsim.core import stats
from rjsim.report.columns import fmt, kind, label
from rjsim.report.html import Html, badge, bullets, estimate, join, para, table, tag
from rjsim.report.settings import effective_settings, right_in_force
from rjsim.results.reader import Results

#: The share of referrals allocated within the wait target that an area should reach.
TIMELY_SHARE = 0.9

#: Assumptions shown first, with their sources, as the ones the results turn on.
KEY_ASSUMPTIONS = ("demand.offender_identified", "demand.informed", "demand.wants_rj",
                   "statutory_right.informed", "service.wait_target_days", "service.patience",
                   "service.window", "funding.national_budget_gbp", "funding.allocation",
                   "funding.salary_gbp", "staffing.attrition_per_year")

#: National KPIs in the order the report lists them.
NATIONAL_KPIS = ("eligible_victims", "informed", "uninformed_eligible", "asked_for_rj",
                 "referrals", "allocations", "interventions", "unmet_demand",
                 "unmet_demand_rate", "lost_withdrew_waiting", "lost_window_closed",
                 "lost_no_service", "lost_unallocated_at_end", "wait_alloc_days_mean",
                 "wait_alloc_days_median", "wait_alloc_days_p90",
                 "share_allocated_within_target", "backlog_mean", "backlog_end", "utilisation",
                 "fte_in_post", "annual_cost_gbp", "cost_per_intervention_gbp")

LIMITATIONS = (
    "Confidence intervals show simulation noise only (how much results vary between "
    "replications); they do not include uncertainty in the assumptions, many of which are "
    "judgement (see the confidence column above).",
    "The status-quo funnel is calibrated to the few published local figures (see the "
    "credibility section); the share of offenders identified who accept responsibility is only "
    "bounded by them, and demand under a statutory right is proportional to it. Treat "
    "absolute levels with caution; differences between options under common random numbers "
    "are more robust.",
    "Per-force counts of sexual offences, domestic abuse and hate crime are not published; "
    "they are apportioned from national figures (low confidence).",
    "Waits are measured for referrals that were allocated a facilitator; referrals lost "
    "while waiting count as unmet demand, not in the wait statistics, so when losses are "
    "high the waits understate what a victim faces.",
    "Staffing follows a deterministic monthly stock-and-flow model: the expected path of "
    "recruitment and turnover, without the variation individual leavers would add.",
    "Caseload slots are rounded down per area and skill; an area whose budget buys less than "
    "one slot has no service at all.",
    "Months are 365/12-day periods labelled with the calendar month they start in.",
)


def number(x: float) -> str:
    """A count that may be fractional (a mean over replications): 31, 31.3."""
    return "n/a" if math.isnan(x) else f"{x:,.1f}".rstrip("0").rstrip(".")


def kpi_lookup(kpis: pd.DataFrame) -> dict[str, Any]:
    """KPI name -> its row (mean, sd, n, ci_low, ci_high) of a ``kpi_*`` table."""
    return {str(r["kpi"]): r for _, r in kpis.iterrows()}


def kpi_estimate(rows: dict[str, Any], kpi: str) -> str:
    """A KPI's mean with its 95% CI, formatted for its kind, or 'n/a'."""
    r = rows.get(kpi)
    if r is None:
        return "n/a"
    return estimate(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]), kind(kpi),
                    int(r["n"]))


def wait_target(res: Results) -> float:
    """The scenario's wait target in days (28 unless the scenario says otherwise)."""
    return float(res.setting("service.wait_target_days", 28.0))


def areas_below(area_summary: pd.DataFrame, share: float = TIMELY_SHARE) -> stats.Interval:
    """Per replication, the number of areas allocating fewer than ``share`` of referrals
    within the target; its mean and 95% t-interval across replications."""
    below = (area_summary.assign(below=area_summary["share_allocated_within_target"] < share)
             .groupby("replication")["below"].sum())
    return stats.t_interval(below.to_numpy(dtype=float))


def headline(res: Results) -> Html:
    """The findings in plain words, each with its 95% CI."""
    area = res.table("area_summary")
    n_areas = int(area["area"].nunique())
    target = wait_target(res)
    iv = areas_below(area)
    ci = (f" (95% CI {number(iv.low)} to {number(iv.high)} areas)" if iv.n >= 2 and iv.sd > 0
          else " (the same in every replication)" if iv.n >= 2 else "")
    rows = kpi_lookup(res.table("kpi_national"))
    lines = [f"In {number(iv.mean)} of {n_areas} areas fewer than {100 * TIMELY_SHARE:.0f}% "
             "of victims referred for restorative justice are allocated a facilitator within "
             f"{target:g} days{ci}.",
             f"Nationally {kpi_estimate(rows, 'unmet_demand_rate')} of referrals are lost for "
             f"lack of capacity: {kpi_estimate(rows, 'unmet_demand_per_year')} a year.",
             "Victims who are allocated a facilitator wait "
             f"{kpi_estimate(rows, 'wait_alloc_days_mean')} on average; "
             f"{kpi_estimate(rows, 'interventions_per_year')} interventions are delivered a "
             "year."]
    verdict = _capacity_sentence(res)
    if verdict:
        lines.append(verdict)
    return Html(tag("div", *(para(x) for x in lines), cls="headline")
                + para(f"Means over {iv.n} replication(s); a 95% confidence interval (CI) is "
                       "the range the true model average lies in with 95% confidence, given "
                       "simulation noise. It leaves out uncertainty in the assumptions, many of "
                       "which are judgement ('rjsim uncertainty' includes it), and absolute "
                       "levels depend on the referral funnel's calibration: see 'Assumptions and "
                       "limitations'.", cls="muted"))


def _capacity_sentence(res: Results) -> str:
    nat = res.optional("capacity_test_national")
    if nat is None or not len(nat):
        return ""
    r = nat.iloc[0]
    return (f"Capacity test: {str(r['verdict']).upper()}: {int(r['areas_pass'])} of "
            f"{int(r['areas'])} areas pass, {int(r['areas_fail'])} fail and "
            f"{int(r['areas_inconclusive'])} are inconclusive.")


def plain(value: object) -> str:
    """A setting as plain text: 2 not 2.0; a distribution as 'exponential: mean 90'."""
    text = str(value)
    try:
        parsed = json.loads(text) if text[:1] in "{[" else float(text)
    except ValueError:
        return text
    if isinstance(parsed, float):
        return str(int(parsed)) if parsed.is_integer() else f"{parsed:.10g}"
    if isinstance(parsed, dict) and "kind" in parsed:
        rest = ", ".join(f"{k} {plain(v)}" for k, v in parsed.items() if k != "kind")
        return f"{parsed['kind']}" + (f": {rest}" if rest else "")
    return text


def _range(low: object, high: object) -> str:
    low, high = plain(low or ""), plain(high or "")
    if low and high:
        return f"{low} to {high}"
    return f"from {low}" if low else (f"up to {high}" if high else "")


#: Assumptions a dated funding change can override.
SCHEDULED = ("funding.national_budget_gbp", "funding.allocation", "funding.uprating_factor")


def _key_assumption_rows(log: pd.DataFrame, scheduled: bool = False) -> list[list[str]]:
    out = []
    for _, r in log[log["key"].isin(KEY_ASSUMPTIONS)].iterrows():
        later = (" (from the start; the funding schedule above changes it)"
                 if scheduled and r["key"] in SCHEDULED else "")
        out.append([r["key"], f"{plain(r['value'])} {r.get('unit', '')}".strip() + later,
                    _range(r.get("low"), r.get("high")), r.get("source", ""),
                    r.get("confidence", "")])
    return out


def _replications_fact(manifest: dict[str, Any]) -> str:
    n, why = manifest.get("replications", "?"), str(manifest.get("stop_reason") or "")
    return f"Replications: {why}" if why.startswith(f"{n} ") else (
        f"Replications: {n}" + (f" ({why})" if why else ""))


def _commencement(res: Results) -> str:
    """When the right commences: one day or date, or each phase's."""
    right = res.setting("statutory_right", {})
    return right_in_force(right if isinstance(right, dict) else {})


def what_was_run(res: Results) -> Html:
    """Scenario name and description, the run's shape, and the key assumptions with sources."""
    m, s = res.manifest, res.scenario()
    run = s.get("run", {})
    facts = [f"Scenario: {m.get('scenario', s.get('name', '?'))}",
             f"Areas: {len(m.get('areas', [])) or '?'} police force areas",
             f"Simulated: {plain(run.get('years', '?'))} years from "
             f"{run.get('start_date', '?')} (warm-up {plain(run.get('warmup_days', 0))} days, "
             "excluded from the figures)",
             _replications_fact(m),
             *(f"{what}: {value}" for what, value in effective_settings(s)[1:])]
    parts: list[object] = [para(m.get("description") or s.get("description") or
                                "(no description)"), bullets(facts)]
    log = res.assumptions()
    if log is not None:
        parts += [tag("h3", "Key assumptions"),
                  table(["assumption", "value", "range", "source", "confidence"],
                        _key_assumption_rows(log, bool(res.setting("funding.schedule"))),
                        numeric_from=99, min_width=40)]
    return join(parts)


def national_table(res: Results) -> Html:
    """National KPIs with 95% CIs: the main ones, then every KPI in a scrolling table."""
    kpis = res.table("kpi_national")
    rows = kpi_lookup(kpis)
    main = [[label(k), kpi_estimate(rows, k)] for k in NATIONAL_KPIS if k in rows]
    every = [[label(str(r["kpi"])), fmt(float(r["mean"]), kind(str(r["kpi"]))),
              fmt(float(r["ci_low"]), kind(str(r["kpi"]))),
              fmt(float(r["ci_high"]), kind(str(r["kpi"]))), int(r["n"])]
             for _, r in kpis.iterrows()]
    return join([para("Counts are totals over the summary window (the months after warm-up); "
                      "'a year' figures divide by its length."),
                 table(["measure", "mean (95% CI)"], main),
                 tag("h3", "Every national KPI"),
                 table(["measure", "mean", "95% CI low", "95% CI high", "replications"], every,
                       long=True)])


AREA_COLUMNS = (("referrals_per_year", "referrals a year"),
                ("unmet_demand_rate", "unmet demand (95% CI)"),
                ("wait_alloc_days_mean", "mean wait"), ("wait_alloc_days_p90", "90th pct wait"),
                ("share_allocated_within_target", "allocated within target"),
                ("utilisation", "slots busy"), ("fte_in_post", "FTE in post"))


def area_table(res: Results) -> Html:
    """One row per area, worst unmet-demand rate first, with the capacity verdict if any."""
    kpi = res.table("kpi_area")
    names = force_names(res)
    means = kpi.pivot(index="area", columns="kpi", values="mean")
    rate = kpi[kpi["kpi"] == "unmet_demand_rate"].set_index("area")
    verdicts = _verdicts(res)
    rows = []
    for code in means.sort_values("unmet_demand_rate", ascending=False).index:
        cells: list[object] = [names.get(str(code), str(code))]
        for k, _ in AREA_COLUMNS:
            if k == "unmet_demand_rate":
                r = rate.loc[code]
                cells.append(estimate(float(r["mean"]), float(r["ci_low"]),
                                      float(r["ci_high"]), "share", int(r["n"])))
            else:
                value = means[k].get(code) if k in means else None
                cells.append("n/a" if value is None else fmt(float(value), kind(k)))
        rows.append(cells + ([verdicts.get(str(code), "")] if verdicts else []))
    header = ["area", *(h for _, h in AREA_COLUMNS)] + (["capacity test"] if verdicts else [])
    return join([para("Means over replications; areas with the highest unmet-demand rate "
                      "first."), table(header, rows, long=True)])


def _verdicts(res: Results) -> dict[str, Html]:
    v = res.optional("capacity_test_verdict")
    if v is None:
        return {}
    return {str(r["area"]): badge(str(r["verdict"])) for _, r in v.iterrows()}


def force_names(res: Results) -> dict[str, str]:
    """Area code -> force name, from the per-area summary."""
    area = res.table("area_summary")
    if "force" not in area:
        return {}
    return dict(zip(area["area"].astype(str), area["force"].astype(str), strict=True))


def assumptions_section(res: Results) -> Html:
    """Every assumption with value, range, unit, source, confidence and basis, and the
    limitations (general, and those these results show)."""
    parts: list[object] = []
    log = res.assumptions()
    if log is None:
        parts.append(para("This results directory has no assumptions.csv."))
    else:
        low = int((log.get("confidence", pd.Series(dtype=str)) == "low").sum())
        parts.append(para(f"{len(log)} assumptions; {low} are low confidence (mostly "
                          "judgement). Each value is the one used in this run."))
        rows = [[r["key"], plain(r["value"]), *(r.get(c, "") for c in (
                 "low", "high", "unit", "source", "confidence", "basis"))]
                for _, r in log.iterrows()]
        parts.append(table(["key", "value", "low", "high", "unit", "source", "confidence",
                            "basis"], rows, numeric_from=99, long=True, min_width=64))
    parts += [tag("h3", "Limitations"), bullets([*_computed_limitations(res), *LIMITATIONS])]
    return join(parts)


def _computed_limitations(res: Results) -> list[str]:
    out = []
    n = int(res.manifest.get("replications") or 0)
    if 0 < n < 10:
        out.append(f"Only {n} replication(s): intervals are wide and per-area figures "
                   "uncertain; 30 or more are recommended for decisions.")
    area = res.optional("area_summary")
    if area is not None and {"general_slots", "specialist_slots"} <= set(area.columns):
        slots = area.groupby("area")[["general_slots", "specialist_slots"]].mean().sum(axis=1)
        none = [force_names(res).get(str(a), str(a)) for a in slots[slots == 0].index]
        if none:
            out.append(f"{len(none)} area(s) have no caseload slot at all, so every referral "
                       f"there is lost as 'no service': {', '.join(none)}.")
    return out


def reproducibility(res: Results) -> Html:
    """The footer: versions, seed, fingerprint, command and times, from the manifest."""
    m = res.manifest
    versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
    timings = m.get("timings_s") or {}
    total = timings.get("total_s") if isinstance(timings, dict) else None
    facts = [("Command", m.get("command", "")), ("Seed", m.get("seed", "")),
             ("Scenario fingerprint (SHA-256)", m.get("fingerprint", "")),
             ("Area data", (m.get("area_data") or {}).get("source", "")),
             ("Area data SHA-256", (m.get("area_data") or {}).get("sha256", "")),
             ("Started", m.get("started_utc", "")), ("Finished", m.get("finished_utc", "")),
             ("Run time", "" if total is None else f"{float(total):.1f} s"),
             ("Versions", versions), ("Results directory", res.path.name)]
    items = [tag("li", tag("strong", k), ": ", tag("code", v)) for k, v in facts if v != ""]
    return tag("footer", tag("h2", "Reproducibility"),
               para("Everything in this report was read from the results directory's files "
                    "(tables/, manifest.json, assumptions.csv, scenario.toml); nothing was "
                    "re-run. Running the command again with the same rjsim version reproduces "
                    "the results exactly" + (", as does running scenario.toml (the resolved "
                    "scenario) with the same seed and replications." if res.kind ==
                    "experiment" else ".")), tag("ul", *items))

