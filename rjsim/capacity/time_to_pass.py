"""Time to pass: the first rolling assessment window after commencement in which the capacity
test is met, per area and nationally, with its uncertainty across replications (MODEL.md s11).

The windows and their per-replication values are :func:`rjsim.analysis.rolling.rolling_metrics`
(the experiment table ``rolling_metrics``): whole months, the first starting where the test's own
window starts, each next one a month later, all of the test's window length. A window is judged
on the test's own criteria and thresholds (:func:`rjsim.capacity.capacity_test.criteria`) in two
ways:

* **Per replication** (:func:`first_pass`): a window passes in a replication when each
  criterion's value in that replication meets its threshold (nothing to judge, e.g. no referral,
  is not a pass; coverage as the test judges it). Nationally, every area must pass the same
  window. The replication's *time to pass* is the first passing window, as months from
  commencement (day 0 when no right is commenced) to the **end** of the window: the date by which
  a full window of evidence is in hand. A replication in which no window passes is *censored*:
  it passes, if ever, after the last window that fits in the run; its time is recorded as
  ``inf``.
* **Demonstrated** (:func:`demonstrated`): a window passes when the test itself would pass it,
  i.e. the conservative end of every criterion's confidence interval across replications meets
  its threshold (:func:`rjsim.capacity.capacity_test.judge`); nationally, every area must. The
  first such window is the *demonstrated* time to pass.

**Across replications** (:func:`evaluate`): the median time to pass with a distribution-free
confidence interval for the median (order statistics, exact binomial coverage:
:func:`scipy.stats.quantile_test`). Censored replications are kept as later than every window
(all are censored at the same time, so their order is known), never dropped: a median or interval
end that falls on a censored replication is ``inf``, reported as "not within the run". The interval
is NaN when there are too few replications for the confidence level (fewer than 6 at 95%).

For probabilities of passing by a date (e.g. across parameter sets), :func:`share_met_by` gives
the share of replications whose time to pass is at most a number of months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rjsim.analysis import rolling
from rjsim.analysis.capacity_metrics import not_applicable
from rjsim.capacity.capacity_test import criteria, judge
from rjsim.core.codes import Verdict
from rjsim.data.areas import Area
from rjsim.scenario.spec import Scenario

#: The ``area`` value of national rows.
NATIONAL = "national"
NATIONAL_NAME = "England and Wales"


def _point_passes(scenario: Scenario, rows: pd.DataFrame) -> np.ndarray:
    """Whether each row (replication x area x window) meets every criterion by its values."""
    ok = np.ones(len(rows), dtype=bool)
    for c in criteria(scenario):
        if c.name == "coverage":
            covered = ((rows["sensitive_referrals"] <= 0)
                       | (rows["specialist_slots_min"] >= c.threshold)
                       | rows["specialist_slots_min"].isna()).to_numpy()  # not applicable
            ok &= covered
            continue
        values = rows[c.metric].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            holds = np.array([c.comparison.holds(v, c.threshold) for v in values], dtype=bool)
        # utilisation of an area with no slot of its own does not apply (capacity_metrics)
        ok &= holds | (np.isnan(values) & (c.metric == "utilisation"))
    return ok


def window_passes(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Per replication and window: whether each area passes (``area`` rows) and whether every
    area does (``area`` = :data:`NATIONAL`). ``per_rep``: the ``rolling_metrics`` table of an
    experiment (a ``replication`` column)."""
    keys = ["replication", "area", "window", "start_day", "end_day"]
    areas = per_rep[keys].assign(passed=_point_passes(scenario, per_rep))
    nation = areas.groupby(["replication", "window", "start_day", "end_day"])["passed"].agg(
        "all").reset_index().assign(area=NATIONAL)
    out: pd.DataFrame = pd.concat([areas, nation[[*keys, "passed"]]], ignore_index=True)
    return out


def first_pass(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Per replication and area (and nationally): the first passing window (by the values of
    that replication), its days, the months from commencement to its end (``inf`` when
    censored) and ``censored`` (no window passes within the run)."""
    passes = window_passes(scenario, per_rep)
    hit = passes[passes["passed"]].sort_values("window").groupby(
        ["replication", "area"], sort=False).head(1)
    every = passes[["replication", "area"]].drop_duplicates()
    out = every.merge(hit.drop(columns="passed"), on=["replication", "area"], how="left")
    out["censored"] = out["window"].isna()
    out["months_after_commencement"] = np.where(
        out["censored"], math.inf, rolling.months_after(scenario, out["end_day"].to_numpy()))
    out["first_window"] = out.pop("window")
    return out[["replication", "area", "first_window", "start_day", "end_day",
                "months_after_commencement", "censored"]].reset_index(drop=True)


def demonstrated(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Per area and window (and nationally): the test's verdict on that window, from the
    confidence intervals across replications, and the share of replications passing it."""
    level = scenario.capacity_test.confidence_level
    crits = criteria(scenario)
    shares = window_passes(scenario, per_rep).groupby(
        ["area", "window"], sort=False)["passed"].mean()
    rows = []
    for (area, window), own in per_rep.groupby(["area", "window"], sort=False):
        verdicts = []
        for c in crits:
            if c.name == "coverage":
                need = (own["sensitive_referrals"] > 0).any()
                fewest = float(own["specialist_slots_min"].min())
                verdicts.append(Verdict.FAIL if need and fewest < c.threshold else Verdict.PASS)
            elif not not_applicable(c.metric, own[c.metric].to_numpy(dtype=float)):
                verdicts.append(judge(c, own[c.metric].to_numpy(dtype=float), level).verdict)
        verdict = (Verdict.FAIL if Verdict.FAIL in verdicts else Verdict.INCONCLUSIVE
                   if Verdict.INCONCLUSIVE in verdicts else Verdict.PASS)
        rows.append({"area": area, "window": window, "start_day": own["start_day"].iloc[0],
                     "end_day": own["end_day"].iloc[0], "verdict": verdict.value})
    out = pd.DataFrame(rows, columns=["area", "window", "start_day", "end_day", "verdict"])
    if len(out):
        severity = out["verdict"].map(lambda v: Verdict(v).severity)
        worst = out.assign(severity=severity).sort_values("severity").groupby(
            "window", as_index=False).last()
        nation = worst[["window", "start_day", "end_day", "verdict"]].assign(area=NATIONAL)
        out = pd.concat([out, nation[out.columns]], ignore_index=True)
    out["months_after_commencement"] = rolling.months_after(scenario, out["end_day"].to_numpy())
    out["share_replications_passing"] = [shares.get((a, w), math.nan)
                                         for a, w in zip(out["area"], out["window"], strict=True)]
    return out


def median_interval(months: np.ndarray, level: float) -> tuple[float, float, float]:
    """(median, low, high) of times to pass (``inf`` = censored), with the distribution-free
    interval for the median at ``level``; NaN ends when too few replications."""
    x = np.sort(np.asarray(months, dtype=float))
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    median = float(np.quantile(x, 0.5, method="inverted_cdf"))
    ci = stats.quantile_test(x, q=median if math.isfinite(median) else x[-1],
                             p=0.5).confidence_interval(level)
    return median, float(ci.low), float(ci.high)


def share_met_by(first: pd.DataFrame, months: float, area: str = NATIONAL) -> float:
    """Share of replications (rows of :func:`first_pass`) in which ``area`` (default: the
    nation) first passes within ``months`` of commencement."""
    rows = first[first["area"] == area]
    return float((rows["months_after_commencement"] <= months).mean()) if len(rows) else math.nan


@dataclass(frozen=True)
class TimeToPass:
    """The three tables of :func:`evaluate`."""

    summary: pd.DataFrame  # per area and nationally
    replications: pd.DataFrame  # :func:`first_pass`
    windows: pd.DataFrame  # :func:`demonstrated`

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"time_to_pass": self.summary, "time_to_pass_replication": self.replications,
                "time_to_pass_windows": self.windows}

    @property
    def national(self) -> dict[str, Any]:
        return dict(self.summary[self.summary["area"] == NATIONAL].iloc[0])


def evaluate(scenario: Scenario, per_rep: pd.DataFrame, areas: tuple[Area, ...]) -> TimeToPass:
    """Time to pass per area and nationally from an experiment's ``rolling_metrics`` table.

    The summary's columns: ``area``, ``force``, ``windows`` (how many fit in the run),
    ``window_months``, ``last_window_months`` (months from commencement to the end of the last
    window: the censoring time), ``demonstrated_months`` (first window the test itself passes,
    to its end; ``inf`` if none), ``demonstrated_start_day``, ``median_months``,
    ``ci_low_months``, ``ci_high_months`` (per-replication times, see the module docstring),
    ``replications``, ``replications_censored``, ``confidence_level``, ``commence_day`` (NaN
    when no right is commenced: months then count from the start of the run).
    """
    level = scenario.capacity_test.confidence_level
    first = first_pass(scenario, per_rep) if len(per_rep) else pd.DataFrame(
        columns=["replication", "area", "first_window", "start_day", "end_day",
                 "months_after_commencement", "censored"])
    shown = demonstrated(scenario, per_rep)
    windows = rolling.windows(scenario)
    last = (float(rolling.months_after(scenario, float(windows["end_day"].iloc[-1])))
            if len(windows) else math.nan)
    names = {a.code: a.name for a in areas} | {NATIONAL: NATIONAL_NAME}
    rows = []
    for code in [*(a.code for a in areas), NATIONAL]:
        mine = first[first["area"] == code]
        passed = shown[(shown["area"] == code) & (shown["verdict"] == Verdict.PASS)]
        median, low, high = median_interval(mine["months_after_commencement"].to_numpy(), level)
        rows.append({
            "area": code, "force": names[code], "windows": len(windows),
            "window_months": rolling.window_months(scenario), "last_window_months": last,
            "demonstrated_months": (float(passed["months_after_commencement"].min())
                                    if len(passed) else math.inf),
            "demonstrated_start_day": (float(passed["start_day"].min()) if len(passed)
                                       else math.nan),
            "median_months": median, "ci_low_months": low, "ci_high_months": high,
            "replications": len(mine), "replications_censored": int(mine["censored"].sum()),
            "confidence_level": level,
            "commence_day": math.nan if scenario.commence_day is None
            else float(scenario.commence_day)})
    return TimeToPass(pd.DataFrame(rows), first, shown)


def _months(value: float, last: float) -> str:
    if math.isnan(value):
        return "?"
    return f"{value:.0f}" if math.isfinite(value) else f"> {last:.0f}"


def sentence(row: dict[str, Any]) -> str:
    """One summary row in words: "the national test is first met N months after commencement
    (95% CI A-B)"."""
    last, median = float(row["last_window_months"]), float(row["median_months"])
    low, high = float(row["ci_low_months"]), float(row["ci_high_months"])
    level = 100 * float(row["confidence_level"])
    commences = not math.isnan(float(row["commence_day"]))
    since = "after commencement" if commences else "after the start of the run"
    who = "the national test" if row["area"] == NATIONAL else f"the test in {row['force']}"
    n, censored = int(row["replications"]), int(row["replications_censored"])
    if n == 0 or math.isnan(last):
        return f"{who}: no assessment window fits in the run"
    never = f"{censored} of {n} replications never pass within {last:.0f} months"
    demo = float(row["demonstrated_months"])
    shown = (f"demonstrated by the test's own confidence rule at {demo:.0f} months"
             if math.isfinite(demo) else "never demonstrated within the run")
    if not math.isfinite(median):
        return f"{who} is not met within the run ({never}; {shown})"
    ci = ("too few replications for an interval" if math.isnan(low) or math.isnan(high) else
          f"{level:g}% CI {_months(low, last)} to {_months(high, last)}")
    return f"{who} is first met {median:.0f} months {since} ({ci}; {never}; {shown})"


def summary_text(result: TimeToPass, k: int = 5) -> str:
    """The national sentence and the slowest areas."""
    s = result.summary
    if s.empty:
        return ""
    head = (f"Time to pass (rolling {int(s['window_months'].iloc[0])}-month windows, a month "
            "apart, from the test's window start; months to the end of the first passing window)")
    lines = [head, "  " + sentence(result.national)]
    areas = s[s["area"] != NATIONAL].sort_values(["median_months", "replications_censored"],
                                                 ascending=False).head(k)
    if len(areas):
        lines.append(f"  Slowest areas (median months; {len(areas)} shown):")
        last = float(s["last_window_months"].iloc[0])
        for r in areas.to_dict("records"):
            lines.append(f"    {r['force']:<28} {_months(float(r['median_months']), last)} "
                         f"[{_months(float(r['ci_low_months']), last)}, "
                         f"{_months(float(r['ci_high_months']), last)}]; "
                         f"{r['replications_censored']} of {r['replications']} never pass")
    return "\n".join(lines) + "\n"
