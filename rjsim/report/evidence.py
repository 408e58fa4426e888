"""Text of the evidence commands: the back-cast table as people read it."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def value(x: float, unit: str) -> str:
    """A published or modelled value in its unit (shares as percentages)."""
    if not math.isfinite(x):
        return "-"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def published(row: pd.Series) -> str:
    """The published value with its range or bound."""
    unit = str(row["unit"])
    if row["kind"] == "lower_bound":
        return f">= {value(row['published'], unit)}"
    if row["kind"] == "upper_bound":
        return f"<= {value(row['published'], unit)}"
    return (f"{value(row['published'], unit)} ({value(row['published_low'], unit)}-"
            f"{value(row['published_high'], unit)})")


def backcast_text(table: pd.DataFrame, scenario_name: str, replications: int) -> str:
    """The back-cast table, one target a block, and a count of verdicts."""
    lines = [f"Back-cast of '{scenario_name}' (status quo) against {len(table)} evidence "
             f"targets, {replications} replications; model estimate with its 95% CI", ""]
    for _, row in table.iterrows():
        unit = str(row["unit"])
        estimate = (f"{value(row['estimate'], unit)} ({value(row['ci_low'], unit)}-"
                    f"{value(row['ci_high'], unit)})")
        ratio = f"{row['ratio']:.2f}" if math.isfinite(row["ratio"]) else "-"
        lines.append(f"{row['target']}  [{row['area']}, {row['period']}]")
        lines.append(f"    {row['quantity']} (of {row['denominator']}; {unit})")
        lines.append(f"    published {published(row)}   model {estimate}   ratio {ratio}   "
                     f"{str(row['verdict']).upper()}")
    counts = table["verdict"].value_counts()
    lines += ["", ", ".join(f"{counts.get(v, 0)} {v}" for v in
                            ("consistent", "inconsistent", "undetermined"))
              + " (consistent: the model's 95% CI meets the published range or bound)"]
    return "\n".join(lines)


LABELS = {"mean_wait": "mean wait (days)", "p_wait": "P(wait > 0)",
          "p_wait_exceeds_target": "P(wait > target)", "p_abandon": "abandonment"}


def verify_text(eq: Any, table: pd.DataFrame) -> str:
    """The verification of one area: its equivalent queue and each check's verdict."""
    load = f"{eq.utilisation:.2f}"
    patience = ("no patience limit" if eq.mean_patience_days is None
                else f"exponential patience of mean {eq.mean_patience_days:g} days")
    lines = [f"Verification of {eq.area_name} ({eq.area_code}) in scenario '{eq.source}'",
             f"Markovian equivalent: {eq.referrals_per_day * 365:,.1f} referrals a year, "
             f"{eq.slots} caseload slots, exponential cases of mean {eq.mean_service_days:.2f} "
             f"days (offered load per slot {load}); {patience}; target {eq.wait_target_days:g} "
             "days.", ""]
    if eq.utilisation >= 1:
        lines.append("M/M/c: offered load per slot >= 1, so the queue grows without bound and "
                     "Erlang C has no steady state to compare with (not simulated).")
    for queue, rows in table.groupby("queue", sort=False):
        formula = "Erlang A" if "+M" in str(queue) else "Erlang C"
        level = 100 * float(rows["ci_level"].iloc[0])
        lines.append(f"{queue} against {formula} ({int(rows['replications'].iloc[0])} "
                     f"replications; {level:.1f}% intervals, Bonferroni-adjusted):")
        for _, r in rows.iterrows():
            th = "-" if pd.isna(r["theory"]) else f"{r['theory']:.4g}"
            lines.append(f"  {LABELS[str(r['measure'])]:<20} theory {th:>10}   simulated "
                         f"{r['simulated']:.4g} ({r['ci_low']:.4g} to {r['ci_high']:.4g})   "
                         f"{r['verdict']}")
    differ = int((table["verdict"] == "DIFFERS").sum()) if len(table) else 0
    agree = int((table["verdict"] == "agrees").sum()) if len(table) else 0
    few = int((table["verdict"] == "too few events").sum()) if len(table) else 0
    lines += ["", f"{agree} check(s) agree, {differ} differ, {few} with too few events to "
              "judge (run more --years or --replications)."]
    return "\n".join(lines)


def calibration_text(result: Any, fit: pd.DataFrame, scenario_name: str) -> str:
    """The calibration: what was varied, how much of the design is kept, the point estimate and
    each target's fit."""
    kept, best = result.retained, result.best
    lines = [f"History matching of '{scenario_name}': {len(result.design)} design points "
             f"(Latin hypercube), {len(result.targets)} targets, cut-off {result.cutoff:g}",
             f"Non-implausible: {len(kept)} of {len(result.design)} points"]
    for p in result.parameters:
        span = (f"kept {kept[p.key].min():.4g} to {kept[p.key].max():.4g}" if len(kept)
                else "nothing kept")
        at = "" if best is None else f"; point estimate {float(best[p.key]):.4g}"
        lines.append(f"  {p.key}: range {p.low:g} to {p.high:g}, {span}{at}")
    lines.append("")
    for _, r in fit.iterrows():
        est = "-" if pd.isna(r["calibrated_estimate"]) else f"{r['calibrated_estimate']:.4g}"
        imp = "-" if pd.isna(r["implausibility"]) else f"{r['implausibility']:.2f}"
        lines.append(f"  {r['target']:<38} published {r['published']:<10.4g} calibrated {est:<10}"
                     f" implausibility {imp:<6} rules out {100 * r['share_ruled_out']:.0f}% "
                     "of the design")
    if best is None:
        lines += ["", "No point is non-implausible: the model cannot match every target with "
                  "these parameters over these ranges (see the fit above for which targets)."]
    return "\n".join(lines)
