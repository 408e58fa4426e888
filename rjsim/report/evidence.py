"""Text of the evidence commands: the back-cast table as people read it."""

from __future__ import annotations

import math

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
