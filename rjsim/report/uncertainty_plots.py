"""Figures of parameter uncertainty and sensitivity, drawn from their tables only: the tornado
chart of a KPI's drivers (global sensitivity indices, largest on top)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from rjsim.report.plots import OKABE_ITO, _save

INDEX_LABELS = {"mu_star": "Morris mu* (mean absolute elementary effect, KPI units per "
                           "quantile step)",
                "ST": "Sobol' total-effect index (share of the KPI's variance)"}


def tornado(indices: pd.DataFrame, kpi: str, label: str, stem: Path, top: int = 12
            ) -> list[Path]:
    """Horizontal bars of the sensitivity index of each parameter for ``kpi`` (``indices``:
    a sensitivity table with ``kpi``, ``parameter``, ``score``, ``rank`` and the method's
    index and its confidence half-width), most influential on top."""
    rows = indices[(indices["kpi"] == kpi) & indices["rank"].notna()].sort_values("rank")
    rows = rows.head(top).iloc[::-1]
    index = "mu_star" if "mu_star" in rows and rows["mu_star"].notna().any() else "ST"
    conf = rows.get(f"{index}_conf")
    fig = Figure(figsize=(8, 0.4 * max(len(rows), 3) + 1.5))
    ax = fig.subplots()
    ax.barh(rows["parameter"], rows[index], color=OKABE_ITO[0],
            xerr=None if conf is None else conf.to_numpy(), capsize=3,
            error_kw={"ecolor": "#555555", "lw": 1})
    first = rows["parameter"].iloc[-1] if len(rows) else "nothing"
    ax.set_title(f"{label}: depends most on {first}", fontsize=10)
    ax.set_xlabel(INDEX_LABELS[index] + " (bars: 95% bootstrap interval)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, stem)
