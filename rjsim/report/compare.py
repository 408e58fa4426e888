"""Report sections for comparisons (``rjsim compare``) and sweeps, from their files alone.

A comparison directory holds ``tables/comparison_estimates``, ``comparison_differences`` and
``comparison_options`` (paired differences from the first option with 95% CIs, under common
random numbers) and each option's own results under ``scenarios/<name>/``. The report puts
the options side by side and says in plain words which differences are real at 95% (the
interval of the paired difference excludes zero) and which are not distinguishable from noise.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from rjsim.report.columns import fmt, kind, label
from rjsim.report.html import Html, bullets, esc, estimate, join, para, table, tag
from rjsim.report.sections import plain
from rjsim.results.reader import Results, open_results

#: National KPIs a comparison report states and tabulates, in order.
COMPARE_KPIS = ("referrals", "interventions", "unmet_demand", "unmet_demand_rate",
                "wait_alloc_days_mean", "wait_alloc_days_p90", "share_allocated_within_target",
                "fte_in_post", "annual_cost_gbp", "cost_per_intervention_gbp")

#: Per-area KPIs whose real differences are counted area by area.
AREA_KPIS = ("unmet_demand_rate", "wait_alloc_days_mean", "share_allocated_within_target")


def option_names(res: Results) -> list[str]:
    """The options in the order compared (the first is the baseline)."""
    names = res.manifest.get("compared")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    return list(dict.fromkeys(res.table("comparison_estimates")["scenario"].astype(str)))


def _flatten(node: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        out: dict[str, str] = {}
        for k, v in node.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    return {prefix[:-1]: json.dumps(node) if isinstance(node, list) else str(node)}


def _option_scenarios(res: Results) -> dict[str, dict[str, Any]]:
    out = {}
    for name in option_names(res):
        sub = res.path / "scenarios" / name
        if (sub / "scenario.toml").is_file():
            out[name] = Results(sub, {}).scenario()
    return out


def what_was_compared(res: Results) -> Html:
    """The options with their descriptions, and every setting that differs between them."""
    scenarios = _option_scenarios(res)
    names = option_names(res)
    items = [tag("li", tag("strong", n), ": ",
                 str(scenarios.get(n, {}).get("description", "")).strip() or "(no description)")
             for n in names]
    parts: list[object] = [
        para(f"{len(names)} options, {res.manifest.get('replications', '?')} replications each, "
             f"with common random numbers (the same seed, {res.manifest.get('seed', '?')}): "
             "replication i of every option sees the same victims and per-case draws, so "
             f"differences are measured more precisely than levels. The first option, "
             f"'{names[0]}', is the baseline every difference is taken from."),
        tag("ul", *items)]
    flat = {n: _flatten(s) for n, s in scenarios.items()}
    keys = sorted({k for f in flat.values() for k in f} - {"name", "description"})
    differ = [k for k in keys if len({f.get(k, "") for f in flat.values()}) > 1]
    if differ and len(flat) == len(names):
        parts += [tag("h3", "Settings that differ between the options"),
                  table(["setting", *names],
                        [[k, *(plain(flat[n][k]) if k in flat[n] else "(not set)"
                               for n in names)] for k in differ], numeric_from=99, long=True)]
    return join(parts)


def _statement(d: pd.Series) -> str:
    kpi = str(d["kpi"])
    how = kind(kpi)
    diff, lo, hi = float(d["difference"]), float(d["ci_low"]), float(d["ci_high"])
    name = label(kpi)
    subject = f"Under '{d['scenario']}', {name[:1].lower() + name[1:]}"
    if float(d.get("paired_variance", math.nan)) == 0 and diff == 0:
        return (f"{subject} is identical to '{d['baseline']}' in every replication: no "
                "difference.")
    size = fmt(abs(diff), how).replace("%", " percentage points")
    word = "higher" if diff > 0 else "lower"
    ci = f"95% CI {fmt(lo, how, signed=True)} to {fmt(hi, how, signed=True)}"
    if bool(d["significant"]):
        return (f"{subject} is {size} {word} than under '{d['baseline']}' ({ci}): a real "
                "difference at 95%.")
    return (f"{subject} differs from '{d['baseline']}' by {fmt(diff, how, signed=True)} ({ci}): "
            "not distinguishable from noise at 95%, so there is no evidence of a difference.")


def national_differences(res: Results) -> tuple[list[str], list[str]]:
    """Plain statements of the national differences: (real at 95%, not real)."""
    diff = res.table("comparison_differences")
    nat = diff[(diff["level"] == "national") & diff["kpi"].isin(COMPARE_KPIS)]
    nat = nat.assign(_o=nat["kpi"].map({k: i for i, k in enumerate(COMPARE_KPIS)}))
    real: list[str] = []
    noise: list[str] = []
    for _, d in nat.sort_values(["scenario", "_o"], kind="stable").iterrows():
        (real if bool(d["significant"]) else noise).append(_statement(d))
    return real, noise


def headline(res: Results) -> Html:
    """Which differences from the baseline are real at 95% and which are not."""
    real, noise = national_differences(res)
    return join([tag("div", para(f"{len(real)} of {len(real) + len(noise)} national "
                                 "differences from the baseline are real at 95%."),
                     cls="headline"),
                 tag("h3", "Real at 95% (the 95% CI of the paired difference excludes zero)"),
                 bullets(real) if real else para("None."),
                 tag("h3", "Not distinguishable from noise at 95%"),
                 bullets(noise) if noise else para("None.")])


def side_by_side(res: Results) -> Html:
    """Each option's national estimates, one column per option."""
    est = res.table("comparison_estimates")
    nat = est[est["level"] == "national"]
    names = option_names(res)
    rows = []
    for kpi in COMPARE_KPIS:
        cells: list[object] = [label(kpi)]
        for name in names:
            r = nat[(nat["kpi"] == kpi) & (nat["scenario"] == name)]
            cells.append("n/a" if not len(r) else estimate(
                float(r["mean"].iloc[0]), float(r["ci_low"].iloc[0]),
                float(r["ci_high"].iloc[0]), kind(kpi), int(r["n"].iloc[0])))
        rows.append(cells)
    return table(["measure (mean, 95% CI)", *names], rows)


def area_counts(res: Results) -> Html:
    """Per option and KPI: in how many areas the difference is real, and which way."""
    diff = res.table("comparison_differences")
    area = diff[(diff["level"] == "area") & diff["kpi"].isin(AREA_KPIS)]
    rows, n_areas = [], int(area["area"].nunique())
    for (name, kpi), df in area.groupby(["scenario", "kpi"], sort=False):
        real = df[df["significant"].astype(bool)]
        rows.append([name, label(str(kpi)), len(df), int((real["difference"] > 0).sum()),
                     int((real["difference"] < 0).sum()), len(df) - len(real)])
    return join([para("Area by area, how many differences from the baseline are real at 95%. "
                      f"Even with no true difference anywhere, about {0.05 * n_areas:.1f} of "
                      f"{n_areas} areas would look real by chance (5% each)."),
                 table(["option", "measure", "areas", "real: higher", "real: lower",
                        "not distinguishable"], rows, numeric_from=2)])


def sweep_section(res: Results) -> Html:
    """A sweep's points side by side, with links to each point's own report."""
    table_ = res.table("sweep_national")
    points = res.manifest.get("points") or {}
    rows = []
    for tag_, point_label in points.items():
        df = table_[table_["point"] == tag_]
        cells: list[object] = [Html(f'<a href="points/{esc(tag_)}/report.html">'
                                    f'{esc(tag_)}</a>'), point_label]
        for kpi in ("unmet_demand_rate", "wait_alloc_days_mean", "interventions_per_year",
                    "annual_cost_gbp"):
            r = df[df["kpi"] == kpi]
            cells.append("n/a" if not len(r) else estimate(
                float(r["mean"].iloc[0]), float(r["ci_low"].iloc[0]),
                float(r["ci_high"].iloc[0]), kind(kpi), int(r["n"].iloc[0])))
        rows.append(cells)
    return join([para(f"{len(points)} sweep points; each has its own full report (follow "
                      "the link). Intervals are each point's own 95% CI; differences between "
                      "points are not tested here (use 'rjsim compare' for paired tests)."),
                 table(["point", "settings", label("unmet_demand_rate"),
                        label("wait_alloc_days_mean"), label("interventions_per_year"),
                        label("annual_cost_gbp")], rows, numeric_from=2)])


def sweep_points(res: Results) -> list[Results]:
    """The results directories of a sweep's points."""
    return [open_results(res.path / "points" / str(t)) for t in res.manifest.get("points", {})]
