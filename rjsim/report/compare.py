"""Report sections for comparisons (``rjsim compare``) and sweeps, from their files alone.

A comparison directory holds ``tables/comparison_estimates``, ``comparison_differences`` and
``comparison_options`` (paired differences from the first option with 95% CIs, under common
random numbers) and each option's own results under ``scenarios/<name>/``. The report opens
with the decision table (:mod:`rjsim.report.decision`), then gives each option's differences
from the first in one compact table (the difference where it is real at 95%, the paired
interval excluding zero; otherwise 'no real difference'), the options side by side and the
settings that differ between them in plain words.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from rjsim.core.errors import ResultsError
from rjsim.report import settings as option_settings
from rjsim.report.columns import fmt, kind, label
from rjsim.report.html import Html, esc, estimate, join, para, table, tag
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
    if len(scenarios) != len(names):
        return join(parts)
    reps = res.manifest.get("replications")
    readable = option_settings.differing({n: option_settings.effective_settings(
        scenarios[n], reps) for n in names})
    flat = {n: _flatten(s) for n, s in scenarios.items()}
    keys = sorted({k for f in flat.values() for k in f})
    other = [k for k in keys if not option_settings.covered(k)
             and len({f.get(k, "") for f in flat.values()}) > 1]
    if readable or other:
        parts += [tag("h3", "Settings that differ between the options"),
                  table(["setting", *names],
                        [*readable, *([k, *(plain(flat[n][k]) if k in flat[n] else "not set"
                                            for n in names)] for k in other)],
                        numeric_from=99, min_width=40)]
    else:
        parts.append(para("The options' settings are the same apart from their names."))
    return join(parts)


#: National KPIs of the differences table, in order.
DIFFERENCE_KPIS = ("interventions", "unmet_demand_rate", "wait_alloc_days_mean",
                   "share_allocated_within_target", "annual_cost_gbp")


def signed(value: float, how: str) -> str:
    """A difference for its kind, with as many more decimals (up to three) as it takes not to
    show a real difference as zero: +55.1 pp, +0.03 pp, -102,697."""
    text = fmt(value, how, signed=True)
    for extra in range(1, 4):
        if value == 0 or any(c in "123456789" for c in text):
            break
        text = fmt(value, how, signed=True, extra=extra)
    return text


def _cell(d: pd.Series | None) -> Html:
    if d is None:
        return Html("n/a")
    how = kind(str(d["kpi"]))
    diff = float(d["difference"])
    if float(d.get("paired_variance", math.nan)) == 0 and diff == 0:
        return join(["identical", tag("div", "in every replication", cls="muted")])
    if bool(d["significant"]):
        return join([signed(diff, how), tag("div", "real", cls="muted")])
    return join(["no real difference", tag("div", f"{signed(diff, how)}, 95% CI "
                                        f"{signed(float(d['ci_low']), how)} to "
                                        f"{signed(float(d['ci_high']), how)}", cls="muted")])


def differences_table(res: Results) -> Html:
    """Each option's national differences from the first, one row per option: the
    difference where it is real at 95%, otherwise 'no real difference' with its interval."""
    diff = res.table("comparison_differences")
    nat = diff[diff["level"] == "national"]
    names = option_names(res)
    rows = []
    for name in names[1:]:
        mine = {str(r["kpi"]): r for _, r in nat[nat["scenario"] == name].iterrows()}
        rows.append([name, *(_cell(mine.get(k)) for k in DIFFERENCE_KPIS)])
    shown = nat[nat["kpi"].isin(DIFFERENCE_KPIS)]
    real = int(shown["significant"].astype(bool).sum())
    return join([
        para(f"Each option minus '{names[0]}' (the first compared), nationally, over the whole "
             "run after warm-up; options are paired replication by replication (common random "
             "numbers). A difference is 'real' when its 95% confidence interval excludes zero: "
             f"{real} of the {len(shown)} differences below are."),
        table(["option", *(label(k) for k in DIFFERENCE_KPIS)], rows, numeric_from=99,
              min_width=40)])


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


#: KPIs of the differences by offence group, in order.
GROUP_KPIS = ("unmet_demand_rate", "wait_alloc_days_mean", "share_allocated_within_target")


def has_groups(res: Results) -> bool:
    """Whether the comparison paired the options by offence group (written since it does)."""
    diff = res.table("comparison_differences")
    return bool((diff["level"] == "group").any())


def group_differences(res: Results) -> Html:
    """Each option's paired differences from the first per offence group, nationally: where
    specialist capacity (e.g. pooled across a region) shows, in the sensitive groups."""
    diff = res.table("comparison_differences")
    rows_in = diff[(diff["level"] == "group") & diff["kpi"].isin(GROUP_KPIS)]
    rows = []
    for (name, group), df in rows_in.groupby(["scenario", "group"], sort=False):
        mine = {str(r["kpi"]): r for _, r in df.iterrows()}
        rows.append([name, str(group), *(_cell(mine.get(k)) for k in GROUP_KPIS)])
    names = option_names(res)
    return join([para(f"Each option minus '{names[0]}' by offence group, nationally, paired "
                      "replication by replication: the sensitive groups (sexual offences, "
                      "domestic abuse, hate crime) are those only specialists take, so "
                      "specialist staffing and regional pooling show there first."),
                 table(["option", "offence group", *(label(k) for k in GROUP_KPIS)], rows,
                       numeric_from=99, min_width=40, long=True)])


def sweep_section(res: Results) -> Html:
    """A sweep's points side by side, with links to each point's own report."""
    table_ = res.table("sweep_national")
    points = res.manifest.get("points") or {}
    rows = []
    for tag_, point_label in points.items():
        df = table_[table_["point"] == tag_]
        title = _point_title(res, str(tag_))
        cells: list[object] = [
            Html(f'<a href="points/{esc(tag_)}/report.html">{esc(tag_)}</a>'),
            join([tag("strong", title), tag("div", tag("code", str(point_label)), cls="muted")])
            if title else tag("code", str(point_label))]
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


def _point_title(res: Results, point: str) -> str:
    """A sweep point's display title from its own ``scenario.toml`` ('' when it has none, as
    in results written before sweep points had titles, or when it cannot be read)."""
    try:
        title = Results(res.path / "points" / point, {}).setting("title", "")
    except ResultsError:
        return ""
    return title if isinstance(title, str) else ""


def sweep_points(res: Results) -> list[Results]:
    """The results directories of a sweep's points."""
    return [open_results(res.path / "points" / str(t)) for t in res.manifest.get("points", {})]
