"""The postcode lottery, measured: inequality between areas of access to RJ and of waits
(MODEL.md section 11), per replication and across replications with confidence intervals.

Each KPI is computed in every replication from that replication's area summary (one row per
area: the ``area_summary`` table), then summarised across replications by a Student t interval
(:func:`rjsim.core.stats.t_interval`); comparisons pair replications (common random numbers).

KPIs (:data:`KPIS`; areas whose value is undefined, e.g. no referrals, are left out of that KPI):

* ``unmet_ratio``: the worst area's unmet-demand rate (capacity-caused losses / referrals, the
  summaries' rate) divided by the best area's; ``inf`` when the best area loses none and another
  does, 1 when every area loses none;
* ``unmet_gap``: the same two rates' difference (worst - best; a share, shown in percentage
  points): always finite, so it is the one the comparison's sentence uses;
* ``unmet_best``, ``unmet_worst``: the two rates themselves, so that a narrower gap can be read
  (the best area losing more is not the worst losing fewer);
* ``wait_range_days``: the longest area mean wait for a facilitator (allocated referrals) minus
  the shortest;
* ``wait_cv``: the coefficient of variation of the area mean waits (standard deviation over the
  areas, each area counted once, divided by their mean; 0 when all waits are 0);
* ``access_gini``: the population-weighted Gini coefficient of the share of **eligible** victims
  who receive RJ in each area. Eligible, per MODEL.md sections 3 and 4: a victim whose offender
  is identified and accepts responsibility (the ``offender_identified`` count; RJ needs both
  parties, and "uninformed eligible victims" are these victims never told about RJ). Receiving
  RJ: an intervention delivered by the service (``interventions``; police street RJ, level one,
  is not counted). The share is interventions / eligible victims over the summary window; each
  area is weighted by its population (Census 2021), so it reads as the inequality a victim
  faces, not an area. 0 when every area's share is the same, never 1 with more than one area.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from rjsim.core import stats

#: (KPI, plain label, kind of number: share (a difference of rates, in percentage points),
#: rate (a share of referrals, in %), ratio, days, number).
KPIS: tuple[tuple[str, str, str], ...] = (
    ("unmet_ratio", "Unmet demand: worst area's rate / best area's", "ratio"),
    ("unmet_gap", "Unmet demand: worst area's rate minus best area's", "share"),
    ("unmet_best", "Unmet demand: best area's rate", "rate"),
    ("unmet_worst", "Unmet demand: worst area's rate", "rate"),
    ("wait_range_days", "Mean wait: longest area minus shortest", "days"),
    ("wait_cv", "Mean wait: coefficient of variation across areas", "number"),
    ("access_gini", "Share of eligible victims who receive RJ: Gini across areas "
     "(population-weighted)", "number"),
)
LABELS = {k: label for k, label, _ in KPIS}
#: What ``access_gini`` calls eligible and receiving RJ (columns of ``area_summary``).
ELIGIBLE, RECEIVED = "offender_identified", "interventions"


def gini(values: np.ndarray | pd.Series, weights: np.ndarray | pd.Series | None = None
         ) -> float:
    """The (weighted) Gini coefficient of non-negative ``values``: the mean absolute
    difference between two units drawn by weight, over twice the weighted mean,
    ``sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)``. 0 when all values are equal (or all 0);
    at most ``1 - w_min / W`` (all in the lightest unit), so below 1. NaN values (and their
    weights) and units of zero weight are left out; NaN when nothing is left."""
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(x) & ~np.isnan(w) & (w > 0)
    x, w = x[keep], w[keep]
    if len(x) == 0:
        return math.nan
    if (x < 0).any():
        raise ValueError("gini: values must be non-negative")
    if x.max() == x.min():  # all equal (or all 0): no inequality
        return 0.0
    x = x / x.max()  # scale-free; keeps tiny values (subnormals) from rounding away
    w = w / w.max()
    total = float(w.sum())
    mean = float((w * x).sum() / total)
    # sorted form of the double sum: sum_ij w_i w_j |x_i - x_j| = 2 sum_i w_i x_i (W<i - W>i)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    below = np.cumsum(w) - w  # weight of units before i
    above = total - below - w  # weight of units after i
    mad = 2.0 * float((w * x * (below - above)).sum())
    return max(0.0, mad / (2.0 * float(total) ** 2 * mean))


def worst_best_ratio(rates: np.ndarray | pd.Series) -> float:
    """Largest rate / smallest (NaN left out): ``inf`` when only the smallest is 0, 1 when all
    are 0, NaN when none is given."""
    r = np.asarray(rates, dtype=float)
    r = r[~np.isnan(r)]
    if len(r) == 0:
        return math.nan
    worst, best = float(r.max()), float(r.min())
    if best == 0:
        return 1.0 if worst == 0 else math.inf
    return worst / best


def _spread(values: np.ndarray) -> tuple[float, float]:
    """(max - min, coefficient of variation) of the finite values."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return math.nan, math.nan
    mean = float(v.mean())
    cv = 0.0 if mean == 0 and float(v.std()) == 0 else float(v.std()) / mean
    return float(v.max() - v.min()), cv


def kpis(area: pd.DataFrame) -> dict[str, float]:
    """The KPIs of one replication's area summary (columns ``unmet_demand_rate``,
    ``wait_alloc_days_mean``, ``population``, :data:`ELIGIBLE`, :data:`RECEIVED`)."""
    rates = area["unmet_demand_rate"].to_numpy(dtype=float)
    finite = rates[np.isfinite(rates)]
    waits = area["wait_alloc_days_mean"].to_numpy(dtype=float)
    wait_range, wait_cv = _spread(waits)
    eligible = area[ELIGIBLE].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(eligible > 0, area[RECEIVED].to_numpy(dtype=float) / eligible, np.nan)
    return {"unmet_ratio": worst_best_ratio(finite),
            "unmet_gap": float(finite.max() - finite.min()) if len(finite) else math.nan,
            "unmet_best": float(finite.min()) if len(finite) else math.nan,
            "unmet_worst": float(finite.max()) if len(finite) else math.nan,
            "wait_range_days": wait_range, "wait_cv": wait_cv,
            "access_gini": gini(share, area["population"].to_numpy(dtype=float))}


def per_replication(area_summary: pd.DataFrame) -> pd.DataFrame:
    """One row per replication of an experiment's ``area_summary`` table: its KPIs."""
    rows = [{"replication": rep, **kpis(own)}
            for rep, own in area_summary.groupby("replication", sort=True)]
    return pd.DataFrame(rows, columns=["replication", *LABELS])


def _interval(values: np.ndarray, level: float) -> tuple[float, float, float, int]:
    """(mean, low, high, n): a t interval; an infinite value makes the mean inf and the
    interval NaN (no interval for a ratio whose best area lost none)."""
    v = values[~np.isnan(values)]
    if np.isinf(v).any():  # only the ratio can be infinite, and only upwards
        return math.inf, math.nan, math.nan, len(v)
    iv = stats.t_interval(v, level)
    return iv.mean, iv.low, iv.high, iv.n


def summary(per_rep: pd.DataFrame, level: float = stats.LEVEL) -> pd.DataFrame:
    """One row per KPI: ``kpi``, ``label``, ``kind``, ``mean``, ``ci_low``, ``ci_high``, ``n``
    (replications with a value). Every KPI is at least 0 (the ratio at least 1), so an
    interval's lower end is cut there."""
    rows = []
    for kpi, label, kind in KPIS:
        mean, low, high, n = _interval(per_rep[kpi].to_numpy(dtype=float), level)
        # a t interval can reach below what the KPI can be (a few replications of small
        # values): cut it at the least possible value, which keeps its coverage
        least = 1.0 if kind == "ratio" else 0.0
        low = max(low, least) if not math.isnan(low) else low
        rows.append({"kpi": kpi, "label": label, "kind": kind, "mean": mean, "ci_low": low,
                     "ci_high": high, "n": n})
    return pd.DataFrame(rows)


def table(area_summary: pd.DataFrame, level: float = stats.LEVEL) -> pd.DataFrame:
    """The inequality KPIs of an experiment across replications (:func:`summary` of
    :func:`per_replication`): the ``inequality`` table of a results directory."""
    return summary(per_replication(area_summary), level)


def compare(area_summaries: Mapping[str, pd.DataFrame], level: float = stats.LEVEL
            ) -> pd.DataFrame:
    """Each option's KPIs (``option``, then :func:`summary`'s columns) and its paired
    difference from the first option (``difference``, ``diff_ci_low``, ``diff_ci_high``:
    replication by replication, so common random numbers cancel; NaN for the first option and
    where a value is infinite), in the options' order. The ``comparison_inequality`` table."""
    names = list(area_summaries)
    reps = {n: per_replication(area_summaries[n]).set_index("replication") for n in names}
    first = reps[names[0]] if names else pd.DataFrame()
    parts = []
    for name in names:
        own = summary(reps[name].reset_index(), level)
        diffs = []
        for kpi in own["kpi"]:
            d = (reps[name][kpi] - first[kpi]).dropna().to_numpy(dtype=float)
            if name == names[0] or len(d) == 0 or not np.isfinite(d).all():
                diffs.append((math.nan, math.nan, math.nan))
                continue
            iv = stats.t_interval(d, level)
            diffs.append((iv.mean, iv.low, iv.high))
        own[["difference", "diff_ci_low", "diff_ci_high"]] = diffs
        own.insert(0, "option", name)
        parts.append(own)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def gap_sentence(comparison: pd.DataFrame, option: str) -> str:
    """"under option X the gap between best and worst area narrows from A to B": the
    ``unmet_gap`` of the first option against ``option`` (rows of :func:`compare`), with the
    paired difference's interval."""
    gap = comparison[comparison["kpi"] == "unmet_gap"]
    first, mine = gap.iloc[0], gap[gap["option"] == option].iloc[0]
    a, b = float(first["mean"]), float(mine["mean"])
    if math.isnan(a) or math.isnan(b):
        return (f"under option {option} the gap between the best and worst area's unmet "
                "demand cannot be measured (an option has no referrals)")
    low, high = float(mine["diff_ci_low"]), float(mine["diff_ci_high"])
    way = "narrows" if b < a else "widens" if b > a else "stays"
    ci, noise = "", False
    if not (math.isnan(low) or math.isnan(high)):
        noise = low <= 0 <= high
        ci = (f"; paired difference {100 * (b - a):+.1f} pp, 95% CI {100 * low:+.1f} to "
              f"{100 * high:+.1f}, {'not distinguishable from noise' if noise else 'real'} "
              "at 95%")
    shown_a, shown_b = f"{100 * a:.1f}", f"{100 * b:.1f}"
    if shown_a == shown_b:
        change = f"stays at {shown_a} percentage points"
    elif noise:  # not "narrows" or "widens" for a change the replications cannot tell apart
        change = f"goes from {shown_a} to {shown_b} percentage points, no real change"
    else:
        change = f"{way} from {shown_a} to {shown_b} percentage points"
    return (f"under option {option} the gap between the best and worst area's unmet demand "
            f"{change} (against {first['option']}{ci})"
            f"{_ends(comparison, str(first['option']), option, 'no change' if noise else way)}")


def _ends(comparison: pd.DataFrame, first: str, option: str, way: str) -> str:
    """The best and worst areas' rates behind a gap, and what a narrower gap means (": the
    best area's losses ... are 0.2% of its referrals and the worst's 29.5% under A, against
    98.0% and 99.1% under B, so the areas are more alike only because every area loses
    more ...")."""
    def rate(name: str, kpi: str) -> float:
        r = comparison[(comparison["option"] == name) & (comparison["kpi"] == kpi)]
        return float(r["mean"].iloc[0]) if len(r) else math.nan
    best_a, worst_a, best_b, worst_b = (rate(n, k) for n in (first, option)
                                        for k in ("unmet_best", "unmet_worst"))
    if any(math.isnan(v) for v in (best_a, worst_a, best_b, worst_b)):
        return ""
    text = (f": the best area's losses for lack of capacity are {100 * best_a:.1f}% of its "
            f"referrals and the worst's {100 * worst_a:.1f}% under {first}, against "
            f"{100 * best_b:.1f}% and {100 * worst_b:.1f}% under {option}")
    if max(worst_a, worst_b) > 1:
        text += (" (losses over referrals in the same window: above 100% when a backlog built "
                 "earlier is lost)")
    if way == "narrows" and worst_b > worst_a:
        text += (", so the areas are more alike only because every area loses more referrals, "
                 "not because the worst loses fewer")
    return text


def gap_words(table: pd.DataFrame, option: str) -> str:
    """"the gap between the best and worst area's unmet demand is A percentage points (95% CI
    L to H)": one option's ``unmet_gap`` (a row of :func:`summary` or :func:`compare`)."""
    gap = table[(table["kpi"] == "unmet_gap")]
    if "option" in gap:
        gap = gap[gap["option"] == option]
    r = gap.iloc[0]
    mean, low, high = (float(r[k]) for k in ("mean", "ci_low", "ci_high"))
    if math.isnan(mean):
        return ("the gap between the best and worst area's unmet demand cannot be measured "
                "(no referrals)")
    ci = ("" if math.isnan(low) or math.isnan(high) else
          f" (95% CI {100 * low:.1f} to {100 * high:.1f})")
    return (f"the gap between the best and worst area's unmet demand is {100 * mean:.1f} "
            f"percentage points{ci}")


def format_value(value: float, kind: str, missing: str = "n/a", infinite: str = "inf") -> str:
    """One inequality KPI in words: a share gap in percentage points, days, or a plain ratio;
    ``missing`` for NaN and ``infinite`` for an infinite ratio (the best area loses nothing)."""
    if math.isnan(value):
        return missing
    if math.isinf(value):
        return infinite
    if kind == "share":
        return f"{100 * value:.1f} pp"
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "days":
        return f"{value:.1f} days"
    return f"{value:.2f}"


def lines(summary_table: pd.DataFrame) -> list[str]:
    """The KPIs in words, one line each: label, mean and interval."""
    out = []
    for r in summary_table.to_dict("records"):
        low, high = (format_value(r[k], r["kind"]) for k in ("ci_low", "ci_high"))
        ci = "" if math.isnan(r["ci_low"]) else f" (95% CI {low} to {high})"
        mean = format_value(r["mean"], r["kind"],
                            infinite="infinite (the best area loses no referral)")
        out.append(f"    {r['label']}: {mean}{ci}")
    return out
