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


FAN_KPIS = {"backlog_end": ("Backlog at the end of the month", "referrals waiting"),
            "wait_alloc_days_mean": ("Mean wait for a facilitator", "days"),
            "share_allocated_within_target": ("Share allocated within the target",
                                              "share of referrals")}


def fan_chart(monthly: pd.DataFrame, kpi: str, stem: Path, commence_month: float | None = None
              ) -> list[Path]:
    """Median and 50% and 90% bands across parameter sets of a national monthly series
    (``monthly``: one row per sample, replication and period; each set's value is its mean
    over replications)."""
    title, unit = FAN_KPIS.get(kpi, (kpi, ""))
    per_set = monthly.groupby(["period", "sample"])[kpi].mean().unstack("sample")
    q = per_set.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
    x = q.index.to_numpy()
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.fill_between(x, q[0.05], q[0.95], color=OKABE_ITO[0], alpha=0.2,
                    label="90% of parameter sets")
    ax.fill_between(x, q[0.25], q[0.75], color=OKABE_ITO[0], alpha=0.4,
                    label="50% of parameter sets")
    ax.plot(x, q[0.5], color=OKABE_ITO[0], lw=2, label="median")
    if commence_month is not None:
        ax.axvline(commence_month, color=OKABE_ITO[3], ls="--", lw=1,
                   label="the right commences")
    ax.set_title(f"{title}: median and uncertainty bands across {per_set.shape[1]} parameter "
                 "sets", fontsize=10)
    ax.set_xlabel("Month of the run")
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)


def met_by_date_chart(met: pd.DataFrame, stem: Path) -> list[Path]:
    """P(the capacity test is met nationally by a date) after commencement: the share of runs
    across parameter sets (line) and the 5th-95th percentile of the sets' own shares (band);
    ``met``: :func:`rjsim.uncertainty.propagate.met_by_date`."""
    nat = met[met["area"] == "national"]
    x = nat["months_after_commencement"].to_numpy(dtype=float)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.fill_between(x, nat["p_met_sets_p05"], nat["p_met_sets_p95"], step="post",
                    color=OKABE_ITO[0], alpha=0.25, label="90% of parameter sets")
    ax.step(x, nat["p_met"], where="post", color=OKABE_ITO[0], lw=2,
            label="across parameter sets and replications")
    ax.set_title("Probability that the capacity test is met nationally by then (first rolling "
                 "window that passes)", fontsize=10)
    ax.set_xlabel("Months from commencement to the end of the assessment window")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)
