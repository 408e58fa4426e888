"""Report figures drawn from a results directory's tables only (never from the model).

Each function takes tables and returns a :class:`matplotlib.figure.Figure` (no pyplot: no
global state, no display) in the style of :mod:`rjsim.report.plots`: the Okabe-Ito
colour-blind-safe palette, axes with units and a title that states the finding, computed from
the numbers.
:func:`render` turns a figure into PNG and SVG bytes for the report to save and embed.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rjsim.core import stats
from rjsim.report.columns import fmt, kind, label
from rjsim.report.plots import OKABE_ITO, wrap

FUNNEL = {"eligible_victims": "Eligible victims", "offender_identified": "Offender identified",
          "informed": "Told about RJ",
          "asked_for_rj": "Asked for RJ", "referrals": "Referred to a service",
          "allocations": "Allocated a facilitator", "interventions": "Intervention delivered"}
LOSSES = ("lost_withdrew_waiting", "lost_window_closed", "lost_no_service",
          "lost_unallocated_at_end")
WAIT_STATS = (("wait_alloc_days_median", "median", "o"), ("wait_alloc_days_mean", "mean", "s"),
              ("wait_alloc_days_p90", "90th percentile", "D"),
              ("wait_alloc_days_p95", "95th percentile", "^"))
DAYS_PER_MONTH = 365.0 / 12
THOUSANDS = FuncFormatter(lambda x, _: f"{x:,.0f}")


def _compact(x: float, _: object = None) -> str:
    """A tick label short enough for a narrow panel: 1,500, 25k, 1.5m."""
    size = abs(x)
    if size >= 1e6:
        return f"{x / 1e6:.3g}m"
    if size >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:,.4g}"


COMPACT = FuncFormatter(_compact)


def render(fig: Figure) -> tuple[bytes, bytes]:
    """The figure as PNG (150 dpi) and SVG bytes."""
    out = []
    for image, dpi in (("png", 150), ("svg", None)):
        buf = io.BytesIO()
        fig.savefig(buf, format=image, dpi=dpi, bbox_inches="tight")
        out.append(buf.getvalue())
    return out[0], out[1]


def _intervals(values: pd.DataFrame, by: str, column: str) -> pd.DataFrame:
    """Mean and 95% t-interval of ``column`` across replications, per value of ``by``."""
    rows = []
    for key, df in values.groupby(by, sort=False):
        iv = stats.t_interval(df[column].to_numpy(dtype=float))
        low, high = (iv.low, iv.high) if iv.n >= 2 else (iv.mean, iv.mean)
        rows.append((key, iv.mean, low, high))
    return pd.DataFrame(rows, columns=[by, "mean", "ci_low", "ci_high"]).set_index(by)


def window_years(national_summary: pd.DataFrame) -> float:
    """Length of the summary window in years, from referrals and referrals a year."""
    for total, per_year in (("referrals", "referrals_per_year"), ("cost_gbp", "annual_cost_gbp"),
                            ("interventions", "interventions_per_year")):
        if total in national_summary and per_year in national_summary:
            a, b = national_summary[total].sum(), national_summary[per_year].sum()
            if b > 0 and a > 0:  # a scenario without demand still has a cost
                return float(a / b)
    return math.nan


def _trend_word(first: float, last: float) -> str:
    if abs(last - first) <= 0.05 * max(abs(first), abs(last), 1.0):
        return "stays about level"
    return "grows" if last > first else "falls"


def backlog(national_month: pd.DataFrame, commence_day: float | None = None) -> Figure:
    """National intake backlog by month: mean across replications with a 95% CI band."""
    nm = national_month.sort_values(["period", "replication"])
    iv = _intervals(nm, "period", "backlog_mean")
    months = nm.drop_duplicates("period").set_index("period")["month"]
    dates = pd.to_datetime(months.loc[iv.index].astype(str) + "-01")
    reps = int(nm["replication"].nunique())
    post = iv.loc[~nm.drop_duplicates("period").set_index("period")["in_warmup"].astype(bool)]
    post = post if len(post) else iv
    first, last = float(post["mean"].iloc[0]), float(post["mean"].iloc[-1])
    years = len(post) / 12
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    ax.fill_between(dates, iv["ci_low"], iv["ci_high"], color=OKABE_ITO[0], alpha=0.25,
                    linewidth=0, label=f"95% CI of the mean ({reps} replications)")
    ax.plot(dates, iv["mean"], color=OKABE_ITO[0], label="mean over replications")
    if commence_day is not None and float(commence_day) < len(iv) * DAYS_PER_MONTH:
        at = dates.iloc[min(int(float(commence_day) // DAYS_PER_MONTH), len(dates) - 1)]
        ax.axvline(float(mdates.date2num(at)), color=OKABE_ITO[3], linestyle="--",
                   label="statutory right commenced")
    ax.set_title(f"Backlog {_trend_word(first, last)}: {first:,.0f} to {last:,.0f} referrals "
                 f"waiting over {years:.3g} years", fontsize=10)
    ax.set_xlabel("Month")
    ax.set_ylabel("Referrals waiting for a facilitator\n(time-weighted monthly mean)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    return fig


def waits(kpi_area: pd.DataFrame, names: dict[str, str], target_days: float) -> Figure:
    """Each area's median, mean, 90th and 95th percentile wait for a facilitator (means
    across replications), areas sorted by their 90th percentile."""
    wide = (kpi_area[kpi_area["kpi"].isin([k for k, _, _ in WAIT_STATS])]
            .pivot(index="area", columns="kpi", values="mean"))
    areas = len(wide)
    wide = wide.dropna(subset=["wait_alloc_days_p90"]).sort_values("wait_alloc_days_p90")
    over = int((wide["wait_alloc_days_p90"] > target_days).sum())
    among = f"{len(wide)} areas" + ("" if len(wide) == areas else " with any allocation")
    fig = Figure(figsize=(7.5, 1.8 + 0.22 * len(wide)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(wide))
    ax.hlines(y, wide["wait_alloc_days_median"], wide["wait_alloc_days_p95"],
              color="#999999", linewidth=1)
    for i, (kpi, name, marker) in enumerate(WAIT_STATS):
        ax.scatter(wide[kpi], y, marker=marker, s=18, color=OKABE_ITO[i], label=name, zorder=3)
    ax.axvline(target_days, color=OKABE_ITO[3], linestyle="--",
               label=f"{target_days:g}-day target")
    ax.set_yticks(y, [names.get(str(a), str(a)) for a in wide.index], fontsize=7)
    ax.set_title(f"In {over} of {among} the 90th-percentile wait for a facilitator "
                 f"exceeds {target_days:g} days", fontsize=10)
    ax.set_xlabel("Days from referral to allocation (allocated referrals only; "
                  "mean over replications)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(fontsize=7, loc="outside lower center", ncol=5, frameon=False)
    return fig


def _bars(ax: Axes, labels: list[str], iv: pd.DataFrame, color: str) -> None:
    y = np.arange(len(labels))
    err = np.vstack([iv["mean"] - iv["ci_low"], iv["ci_high"] - iv["mean"]])
    ax.barh(y, iv["mean"], xerr=err, color=color, capsize=3)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()


def _per_year(per_rep: pd.DataFrame, columns: tuple[str, ...] | list[str], years: float,
              ) -> pd.DataFrame:
    """Mean and 95% CI per column of per-replication totals, per year."""
    rows = {c: stats.t_interval(per_rep[c].to_numpy(dtype=float) / years) for c in columns}
    return pd.DataFrame({"mean": [v.mean for v in rows.values()],
                         "ci_low": [v.low if v.n >= 2 else v.mean for v in rows.values()],
                         "ci_high": [v.high if v.n >= 2 else v.mean for v in rows.values()]},
                        index=list(rows))


def funnel(national_summary: pd.DataFrame) -> Figure:
    """From eligible victims to interventions, a year (log scale), with 95% CIs."""
    years = window_years(national_summary)
    iv = _per_year(national_summary, list(FUNNEL), years)
    first, last = float(iv["mean"].iloc[0]), float(iv["mean"].iloc[-1])
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    _bars(ax, list(FUNNEL.values()), iv, OKABE_ITO[0])
    for y, (value, high) in enumerate(zip(iv["mean"], iv["ci_high"], strict=True)):
        if math.isfinite(high) and high > 0:
            ax.text(high * 1.1, y, f"{value:,.0f}", va="center", fontsize=8)
    ax.set_xscale("log")
    if math.isfinite(first) and first > 0:  # no eligible victims: matplotlib's own limits
        ax.set_xlim(right=first * 20)
    share = 100 * last / first if first > 0 else math.nan
    ax.set_title(f"Of {first:,.0f} eligible victims a year, {last:,.0f} reach an intervention "
                 f"({share:.2g}%)", fontsize=10)
    ax.set_xlabel("Victims or cases a year (log scale; mean, 95% CI)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def unmet_by_reason(national_summary: pd.DataFrame) -> Figure:
    """Referrals lost for lack of capacity a year, by reason, with 95% CIs."""
    years = window_years(national_summary)
    iv = _per_year(national_summary, LOSSES, years)
    total = float(iv["mean"].sum())
    top = str(iv["mean"].idxmax())
    share = 100 * float(iv["mean"][top]) / total if total > 0 else math.nan
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.subplots()
    _bars(ax, [label(c).removeprefix("lost: ") for c in LOSSES], iv, OKABE_ITO[3])
    title = ("No referral is lost for lack of capacity" if total == 0 else
             f"Largest cause of unmet demand: {label(top).removeprefix('lost: ')} "
             f"({share:.0f}% of {total:,.0f} a year)")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("Referrals lost for lack of capacity a year (mean, 95% CI)")
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.grid(axis="x", alpha=0.3)
    return fig


def unmet_by_group(group_summary: pd.DataFrame) -> Figure:
    """Unmet demand a year by offence group with 95% CIs, each labelled with its rate."""
    iv = _intervals(group_summary, "group", "unmet_demand_per_year")
    rate = _intervals(group_summary, "group", "unmet_demand_rate")["mean"]
    iv = iv.sort_values("mean", ascending=False)
    fig = Figure(figsize=(7.5, 1.4 + 0.35 * len(iv)))
    ax = fig.subplots()
    _bars(ax, [str(g).replace("_", " ") for g in iv.index], iv, OKABE_ITO[4])
    rates = rate.to_dict()
    for y, (group, value) in enumerate(iv["mean"].items()):
        ax.text(value, y, f"  {fmt(float(rates[group]), 'share')} of referrals", va="center",
                fontsize=7)
    ax.set_xlim(right=float(iv["ci_high"].max()) * 1.35 or 1.0)
    worst = str(rate.idxmax()) if rate.notna().any() else "none"
    ax.set_title(f"Most unmet demand: {str(iv.index[0]).replace('_', ' ')} "
                 f"({float(iv['mean'].iloc[0]):,.0f} a year); highest rate: "
                 f"{worst.replace('_', ' ')} ({fmt(float(rate.get(worst, math.nan)), 'share')})",
                 fontsize=10)
    ax.set_xlabel("Referrals lost for lack of capacity a year (mean, 95% CI)")
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.grid(axis="x", alpha=0.3)
    return fig


def option_differences(differences: pd.DataFrame, kpis: tuple[str, ...]) -> Figure:
    """Each option's paired national difference from the first option, per KPI, with 95%
    CIs (``differences``: a comparison's difference table); filled markers are real at 95%,
    hollow ones are not distinguishable from noise."""
    nat = differences[differences["level"] == "national"]
    base = str(nat["baseline"].iloc[0]) if len(nat) else "?"
    kpis = tuple(k for k in kpis if k in set(nat["kpi"]))
    rows = max(math.ceil(len(kpis) / 2), 1)
    names = list(dict.fromkeys(nat["scenario"]))
    fig = Figure(figsize=(7.5, 0.8 + rows * (0.55 + 0.3 * len(names))), layout="constrained")
    axes = fig.subplots(rows, 2, squeeze=False).ravel()
    for i, (ax, kpi) in enumerate(zip(axes, kpis, strict=False)):
        _difference_panel(ax, nat[nat["kpi"] == kpi], names, kpi, show_names=i % 2 == 0)
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    real = nat[nat["kpi"].isin(kpis)]["significant"].astype(bool)
    fig.suptitle(wrap(f"{int(real.sum())} of {len(real)} differences from '{base}' are real "
                      "at 95% (filled: real; hollow: not distinguishable from noise)", fig, 10),
                 fontsize=10)
    return fig


def _difference_panel(ax: Axes, rows: pd.DataFrame, names: list[str], kpi: str, *,
                      show_names: bool) -> None:
    how = kind(kpi)
    scale = {"share": 100.0, "gbp": 1e-6 if kpi == "annual_cost_gbp" else 1.0}.get(how, 1.0)
    unit = {"share": "percentage points", "days": "days", "fte": "FTE",
            "gbp": "GBP million" if scale == 1e-6 else "GBP"}.get(how, "count")
    for y, name in enumerate(names):
        r = rows[rows["scenario"] == name]
        if not len(r):
            continue
        d, lo, hi = (float(r[c].iloc[0]) * scale for c in ("difference", "ci_low", "ci_high"))
        lo, hi = (d, d) if math.isnan(lo) else (lo, hi)
        color = OKABE_ITO[(y + 1) % len(OKABE_ITO)]
        ax.errorbar(d, y, xerr=[[d - lo], [hi - d]], fmt="o", capsize=3, color=color,
                    markerfacecolor=color if bool(r["significant"].iloc[0]) else "white")
    ax.axvline(0, color="#666666", linewidth=0.8)
    ax.set_yticks(range(len(names)), names if show_names else [""] * len(names), fontsize=7)
    ax.set_ylim(-0.5, len(names) - 0.5)
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    ax.set_title(wrap(f"{label(kpi)} ({unit})", figure, 8, share=0.34), fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.xaxis.set_major_formatter(COMPACT)
    ax.grid(axis="x", alpha=0.3)
