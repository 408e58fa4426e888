"""The report of an ``rjsim uncertainty`` or ``rjsim sensitivity`` results directory, from its
files alone: the interval headline, the national KPIs with their 90% uncertainty intervals and
variance split, the capacity test's probability of passing (and of being met by each date),
fan charts, tornado charts and **what would narrow the interval most**.

What would narrow the interval most is read from the uncertainty run itself: for each headline
output, each varied parameter's squared Spearman rank correlation with the output's
per-set means across parameter sets, the share of the output's spread across sets that the
parameter accounts for on its own (first order, monotone relationships; a full Sobol' analysis
is ``rjsim sensitivity --method sobol``). Better evidence on the top parameters narrows the
interval most.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rjsim.data.areas import known_codes
from rjsim.report import figures
from rjsim.report.columns import fmt
from rjsim.report.html import Html, figure, join, para, table
from rjsim.report.plots import OKABE_ITO
from rjsim.results.atomic import write_bytes_atomic
from rjsim.results.reader import Results
from rjsim.uncertainty import price

#: Headline outputs whose drivers are ranked, with how to say them, in order of preference.
OUTPUTS = (("price_of_commencement_gbp", "the price of commencement", "gbp"),
           ("unmet_demand_rate", "national unmet demand", "share"),
           ("wait_alloc_days_mean", "the national mean wait", "days"),
           ("share_allocated_within_target", "the share allocated within the target", "share"))
#: National KPIs shown with their intervals.
NATIONAL = (("unmet_demand_rate", "Unmet demand rate", "share"),
            ("wait_alloc_days_mean", "Mean wait for a facilitator", "days"),
            ("share_allocated_within_target", "Share allocated within the target", "share"),
            ("interventions_per_year", "Interventions a year", "count"),
            ("backlog_end", "Backlog at the end", "count"),
            ("annual_cost_gbp", "Annual cost", "gbp"))
FANS = (("backlog_end", "Backlog"), ("wait_alloc_days_mean", "Mean wait"),
        ("share_allocated_within_target", "Share within target"))


def value_text(value: float, unit: str) -> str:
    """A KPI's median or interval end in words (:func:`rjsim.report.columns.fmt`; days to a
    tenth, so that short waits stay visible), ``n/a`` when it is undefined or infinite."""
    if not math.isfinite(value):
        return "n/a"
    return fmt(value, unit, extra=1 if unit == "days" else 0)


def area_label(code: object) -> str:
    """An area as a reader knows it: the police force's name with its ONS code (the code alone
    for an area not among the 43; ``national`` as it is)."""
    name = known_codes().get(str(code))
    return f"{name} ({code})" if name else str(code)


def set_outputs(res: Results) -> pd.DataFrame:
    """Per parameter set (index ``sample``): each national KPI's mean over replications, and
    the analytic price of commencement where there is one."""
    runs = res.table("uncertainty_runs")
    nat = runs[runs["level"] == "national"]
    out = nat.groupby(["sample", "kpi"])["value"].mean().unstack("kpi")
    prices = res.optional("uncertainty_price")
    if prices is not None:
        p = prices[prices["area"] == "national"].set_index("sample")["annual_cost_gbp"]
        out["price_of_commencement_gbp"] = p.reindex(out.index)
    return out


def drivers(samples: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Per varied parameter: the Spearman rank correlation of its values with ``y`` (per-set
    outputs indexed by ``sample``) and its square, ``share`` (module docstring), largest
    first; parameters that do not vary in the sample are left out."""
    from scipy import stats

    x = samples.set_index("sample").reindex(y.index)
    ok = y.notna().to_numpy()
    rows = []
    for key in x.columns:
        col = x[key].to_numpy(dtype=float)[ok]
        if len(col) < 3 or np.ptp(col) == 0 or np.ptp(y.to_numpy(dtype=float)[ok]) == 0:
            continue
        rho = float(stats.spearmanr(col, y.to_numpy(dtype=float)[ok]).statistic)
        rows.append({"parameter": key, "rank_correlation": rho, "share": rho * rho})
    df = pd.DataFrame(rows, columns=["parameter", "rank_correlation", "share"])
    return df.sort_values("share", ascending=False).reset_index(drop=True)


def _names(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]


def narrow_line(label: str, d: pd.DataFrame, n: int = 3) -> str:
    """'The interval of X would narrow most with better evidence on A, B and C ...'."""
    top = d.head(n)
    if top.empty:
        return f"No varied parameter moves {label} across the parameter sets."
    return (f"The interval of {label} would narrow most with better evidence on "
            f"{_names(top['parameter'].tolist())} (each alone accounts for "
            + ", ".join(f"{100 * s:.0f}%" for s in top["share"])
            + " of its spread across parameter sets, by rank correlation).")


def drivers_figure(d: pd.DataFrame, label: str, top: int = 12) -> Figure:
    """Tornado chart: the squared rank correlation of each parameter, largest on top."""
    rows = d.head(top).iloc[::-1]
    fig = Figure(figsize=(8, 0.4 * max(len(rows), 3) + 1.5))
    ax = fig.subplots()
    colours = [OKABE_ITO[0] if r >= 0 else OKABE_ITO[5] for r in rows["rank_correlation"]]
    ax.barh(rows["parameter"], rows["share"], color=colours)
    ax.set_title(f"What moves {label} across parameter sets", fontsize=10)
    ax.set_xlabel("Squared rank correlation with the output (share of its spread; dark: the "
                  "output rises with the parameter)")
    ax.set_xlim(0, 1)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _national(res: Results) -> dict[str, dict[str, float]]:
    """Per national KPI: its row of ``uncertainty_kpis`` (median, p05, p95, shares)."""
    kpis = res.table("uncertainty_kpis")
    nat = kpis[kpis["level"] == "national"]
    cols = ["median", "p05", "p95", "share_parameter"]
    return {str(k): {c: float(v) for c, v in zip(cols, row, strict=True)}
            for k, row in zip(nat["kpi"], nat[cols].to_numpy(dtype=float), strict=True)}


def headline(res: Results) -> Html:
    """The interval headline: the price of commencement (with its confirmation), the national
    KPIs' intervals, the probability of passing and the time to pass."""
    parts = []
    summary = res.optional("uncertainty_price_summary")
    if summary is not None:
        parts.append(para(price.headline(summary, res.optional("uncertainty_price_confirmed"))))
    nat = _national(res)
    lines = [f"{label}: {value_text(nat[k]['median'], unit)} (90% interval "
             f"{value_text(nat[k]['p05'], unit)} to {value_text(nat[k]['p95'], unit)})"
             for k, label, unit in NATIONAL[:3] if k in nat]
    if lines:
        parts.append(para("Across parameter sets: " + "; ".join(lines) + "."))
    prob = res.optional("uncertainty_capacity_probability")
    if prob is not None and (prob["area"] == "national").any():
        p = float(prob.loc[prob["area"] == "national", "p_pass"].iloc[0])
        areas = prob[prob["area"] != "national"]
        parts.append(para(f"The nation passes the capacity test in {100 * p:.0f}% of "
                          f"parameter sets; {int((areas['p_pass'] >= 0.9).sum())} of "
                          f"{len(areas)} areas pass in at least 90%."))
    n = res.manifest.get("uncertainty") or {}
    parts.append(para(f"{n.get('samples', '?')} parameter sets x {n.get('replications', '?')} "
                      "replications on common random numbers; intervals are the 5th to 95th "
                      "percentiles of the sets' means (parameter uncertainty), not the "
                      "simulation's confidence intervals."))
    return join(parts)


def national_table(res: Results) -> Html:
    nat = _national(res)
    rows = []
    for k, label, unit in NATIONAL:
        if k not in nat:
            continue
        r = nat[k]
        share = r["share_parameter"]
        rows.append([label, value_text(r["median"], unit),
                     f"{value_text(r['p05'], unit)} to {value_text(r['p95'], unit)}",
                     "n/a" if not math.isfinite(share) else f"{100 * share:.0f}%"])
    return table(["KPI", "Median", "90% uncertainty interval", "Variance from parameters"],
                 rows)


def _png(res: Results, stem: str) -> bytes | None:
    path = res.path / "figures" / f"{stem}.png"
    return path.read_bytes() if path.is_file() else None


def capacity_section(res: Results) -> Html:
    prob = res.optional("uncertainty_capacity_probability")
    parts = []
    if prob is not None:
        rows = [[area_label(a), f"{100 * p:.0f}%", f"{100 * f:.0f}%", f"{100 * i:.0f}%"]
                for a, p, f, i in zip(prob["area"], prob["p_pass"], prob["p_fail"],
                                      prob["p_inconclusive"], strict=True)]
        parts += [para("The share of parameter sets in which each area, and the nation, passes "
                       "the capacity test (each set judged on its own replications, as "
                       "'rjsim capacity-test' judges)."),
                  table(["Area", "P(pass)", "P(fail)", "P(inconclusive)"], rows, long=True)]
    png = _png(res, "met_by_date")
    if png is not None:
        parts.append(figure(png, "Probability that the capacity test is met by each date",
                            "The share of runs (parameter sets x replications) whose first "
                            "passing rolling window has ended by then; the band is the spread "
                            "of the sets' own shares (5th-95th percentile)."))
    return join(parts) if parts else para("The run holds no capacity-test window.")


def narrow_section(res: Results) -> Html:
    outputs = set_outputs(res)
    samples = res.table("uncertainty_samples")
    parts = []
    for key, label, _ in OUTPUTS:
        if key not in outputs.columns:
            continue
        d = drivers(samples, outputs[key])
        parts.append(para(narrow_line(label, d)))
        if not d.empty and len(parts) == 1:  # the first headline output gets its chart
            png, svg = figures.render(drivers_figure(d, label))
            write_bytes_atomic(res.path / "figures" / "narrow_interval.png", png)
            write_bytes_atomic(res.path / "figures" / "narrow_interval.svg", svg)
            parts.append(figure(png, f"What moves {label}", "Each varied parameter's "
                                "squared rank correlation with the output across parameter "
                                "sets: the share of its spread that parameter accounts for "
                                "alone. 'rjsim sensitivity' gives Morris or Sobol' indices."))
    return join(parts) if parts else para("No output varies across the parameter sets.")


def fan_section(res: Results) -> Html:
    figs = [figure(png, f"{title} across parameter sets", "National, by month: the median "
                   "across parameter sets and the bands holding 50% and 90% of them.")
            for stem, title in FANS if (png := _png(res, f"fan_{stem}")) is not None]
    return join(figs) if figs else para("No monthly series were written.")


def parameters_table(res: Results) -> Html:
    p = res.table("uncertainty_parameters")
    varied = p[p["varied"].astype(str).str.lower().isin(("true", "1"))]
    return table(["Parameter", "Value in the scenario", "Distribution", "Source"],
                 [[k, f"{c:g}", d, s] for k, c, d, s in zip(
                     varied["key"], varied["central"].astype(float), varied["distribution"],
                     varied["source"], strict=True)], long=True)


def uncertainty_sections(res: Results) -> list[tuple[str, str, Html]]:
    """The sections of an uncertainty report."""
    return [("headline", "Headline", headline(res)),
            ("national", "National figures with uncertainty intervals", national_table(res)),
            ("capacity", "The capacity test under uncertainty", capacity_section(res)),
            ("narrow", "What would narrow the interval most", narrow_section(res)),
            ("fans", "Over time", fan_section(res)),
            ("parameters", "Uncertain parameters", parameters_table(res))]


# ---- several options on the same parameter sets -------------------------------------------------

#: Rows of the options table, with how to say them.
OPTION_ROWS = (("p_pass_national", "P(the nation passes the capacity test)", "share"),
               ("areas_p_pass_ge_90", "Areas passing in at least 90% of parameter sets",
                "count"),
               ("areas_p_pass_median", "The median area's P(pass)", "share"),
               *NATIONAL[:3],
               ("price_of_commencement_gbp", "Price of commencement (analytic least cost)",
                "gbp"))


def option_names(res: Results) -> list[str]:
    """The options of a several-option uncertainty directory (none for one scenario)."""
    n = res.manifest.get("uncertainty") or {}
    return [str(o) for o in n.get("options") or []]


def option_results(res: Results) -> list[Results]:
    """Each option's own uncertainty results directory (``options/<name>/``)."""
    from rjsim.results.reader import open_results
    return [open_results(res.path / "options" / name) for name in option_names(res)]


def _cell(got: tuple[float, float, float] | None, unit: str) -> str:
    if got is None:
        return "n/a"
    median, lo, hi = got
    text = value_text(median, unit)
    return text if not (math.isfinite(lo) and math.isfinite(hi)) else (
        f"{text} ({value_text(lo, unit)} to {value_text(hi, unit)})")


def options_table(res: Results) -> Html:
    """The options side by side, one row per option: P(the nation passes), the areas' P(pass)
    summarised, national KPIs' medians (90% intervals) and the price of commencement."""
    t = res.table("uncertainty_options")
    got = {(str(o), str(k)): (float(m), float(lo), float(hi)) for o, k, m, lo, hi in zip(
        t["option"], t["kpi"], t["median"], t["p05"], t["p95"], strict=True)}
    shown = [(k, label, unit) for k, label, unit in OPTION_ROWS if (t["kpi"] == k).any()]
    rows = [[name, *[_cell(got.get((name, k)), unit) for k, _, unit in shown]]
            for name in option_names(res)]
    prices = {v for (_, k), v in got.items() if k == "price_of_commencement_gbp"}
    same = (para("The price of commencement is the least staffing that passes the test, "
                 "whatever an option funds, so options that differ only in their funding "
                 "share it.") if len(prices) == 1 and len(rows) > 1 else "")
    return join([para("Every option ran on the same parameter sets with common random "
                      "numbers, so differences between options are the options', not luck. "
                      "Figures: median across parameter sets (90% uncertainty interval)."),
                 table(["Option", *[label for _, label, _ in shown]], rows, min_width=60),
                 same])


def options_headline(res: Results) -> Html:
    """One line per option: how likely the nation is to pass, and the best option."""
    t = res.table("uncertainty_options")
    p = t[t["kpi"] == "p_pass_national"].set_index("option")["median"]
    n = res.manifest.get("uncertainty") or {}
    parts = [para(f"{len(option_names(res))} options, each on the same {n.get('samples', '?')} "
                  f"parameter sets x {n.get('replications', '?')} replications (common random "
                  "numbers).")]
    if len(p):
        p = p.astype(float)
        best = [str(o) for o, v in p.items() if v == p.max()]
        verdict = ("No option passes in any parameter set." if p.max() == 0 else
                   f"Most likely to pass: {' and '.join(best)}.")
        parts.append(para("The nation passes the capacity test in "
                          + "; ".join(f"{100 * float(v):.0f}% of parameter sets under {o}"
                                      for o, v in p.items()) + ". " + verdict))
    return join(parts)


def options_areas_table(res: Results) -> Html:
    """P(pass) per area (rows) and option (columns)."""
    a = res.optional("uncertainty_options_areas")
    if a is None or a.empty:
        return para("The run holds no capacity-test window.")
    wide = a.pivot(index="area", columns="option", values="p_pass")
    names = [n for n in option_names(res) if n in wide.columns]
    order = ["national", *sorted((x for x in wide.index if x != "national"), key=area_label)]
    rows = [[area_label(area), *[f"{100 * float(wide.loc[area, n]):.0f}%" for n in names]]
            for area in order if area in wide.index]
    return join([para("The share of parameter sets in which each area, and the nation, passes "
                      "the capacity test under each option."),
                 table(["Area", *names], rows, long=True)])


def options_sections(res: Results) -> list[tuple[str, str, Html]]:
    """The sections of a several-option uncertainty report (each option's own report is under
    ``options/<name>/``)."""
    links = join([para("Each option's full uncertainty results and report (fan charts, what "
                       "would narrow its interval, its parameters) are under options/<name>/: "
                       + ", ".join(f"options/{n}/report.html" for n in option_names(res))
                       + ".")])
    return [("headline", "Headline", options_headline(res)),
            ("options", "The options under uncertainty", options_table(res)),
            ("areas", "P(each area passes) by option", options_areas_table(res)),
            ("each", "Each option", links)]


def sensitivity_sections(res: Results) -> list[tuple[str, str, Html]]:
    """The sections of a sensitivity report: the plain 'depends most on' lines, the tornado
    charts and the ranked indices."""
    idx = res.table("sensitivity_indices")
    ranked = idx[idx["rank"].notna()].sort_values(["kpi", "rank"])
    lines, figs = [], []
    for kpi, g in ranked.groupby("kpi", sort=False):
        lines.append(f"{kpi} depends most on {_names(g['parameter'].head(3).tolist())}.")
        png = _png(res, f"tornado_{kpi}")
        if png is not None:
            figs.append(figure(png, f"Drivers of {kpi}", "Sensitivity index of each parameter "
                               "(largest on top) with its 95% bootstrap interval."))
    score = "mu_star" if "mu_star" in ranked else "ST"
    rows = [[k, p, int(r), f"{float(s):.4g}"] for k, p, r, s in zip(
        ranked["kpi"], ranked["parameter"], ranked["rank"], ranked[score], strict=True)]
    method = (res.manifest.get("sensitivity") or {}).get("method", "")
    return [("headline", "Headline", join([para(line) for line in lines])
             if lines else para("No output varied.")),
            ("tornado", "Tornado charts", join(figs) if figs else para("No chart.")),
            ("indices", f"Ranked indices ({method})",
             table(["KPI", "Parameter", "Rank", score], rows, long=True))]
