"""Time to pass: the first assessment window after commencement in which the capacity test is
met, per area and nationally, with its uncertainty across replications (MODEL.md s11).

The windows and their per-replication values are :func:`rjsim.analysis.rolling.rolling_metrics`
(the experiment table ``rolling_metrics``): whole months, the first starting where the test's own
window starts (commencement + awareness ramp + ``settle_days``, from the next month), each next
one a month later, all of the test's window length, while they fit in the run. Time is counted
from commencement (day 0 when no right is commenced) to the **end** of a window: the date by
which a full window of evidence is in hand. So there is a floor: the end of the first window
(*earliest possible*; 15 months with no ramp and the default 90 settle days and 12-month windows),
which no staffing can beat. A window is judged on the test's own criteria and thresholds
(:func:`rjsim.capacity.capacity_test.criteria`) in two ways:

* **Demonstrated** (the headline; :func:`demonstrated`): a window passes when the test itself
  would pass it: the conservative end of every criterion's confidence interval across
  replications meets its threshold, judged exactly as :func:`rjsim.capacity.capacity_test.judge`
  does (:func:`severities` is its vectorised form); nationally every area must pass that window.
  The windows judged are the rolling windows and, last, the test's own window (from its start to
  the end of the run, ``kind`` ``test``): it holds more referrals than a 12-month window, so an
  area can pass it without passing any 12-month window, and with it the headline never
  contradicts the verdict: a test that passes is demonstrated by the end of its own window at the
  latest, and one demonstrated in no window has not passed. (A test can fail over its own window
  yet be demonstrated in a later rolling window: the months before a staffing ramp count against
  the whole window, not against the later ones.) Its uncertainty is a **bootstrap over
  replications** (:func:`bootstrap`): :data:`BOOTSTRAP_RESAMPLES` resamples of the run's
  replications with replacement (the same replications for every area, :data:`BOOTSTRAP_SEED`),
  every window re-judged on each, and the percentile interval of the first demonstrated window
  at the test's confidence level (a resample demonstrating no window counts as later than every
  window). It is conditional on the run's replications: it says how much the demonstrated date
  depends on which replications happened to be drawn, not what more replications would show;
  with fewer than :data:`MIN_BOOTSTRAP_REPLICATIONS` replications there are too few distinct
  resamples for its ends to mean anything, and none is given. With few replications its lower
  end is optimistic: a resample repeats replications, so its intervals are narrower than the
  run's (coverage measured in tests/test_time_to_pass.py: 88% for a 95% interval with 10).
* **Per replication** (:func:`first_pass`; realised performance, not the test): a window
  passes in a replication when each criterion's value in that replication meets its threshold
  (nothing to judge, e.g. no referral, is not a pass; coverage as the test judges it), with no
  confidence margin. Nationally, every area must pass the same window *in the same
  replication*. So it is stricter than the test in one way and looser in another: with many
  areas sized just under a threshold some area's noise nearly always fails one, so it can be
  "never" where the test itself passes; yet an area whose mean sits just inside a threshold
  passes most replications' windows while the test, needing its interval inside, passes none.
  The replication's time is its first passing rolling window; a replication in which none
  passes is *censored* (``inf``). Across replications
  (:func:`median_interval`): the median with a distribution-free confidence interval for the
  median (order statistics, exact binomial coverage: :func:`scipy.stats.quantile_test`).
  Censored replications are kept as later than every window (all are censored at the same time,
  so their order is known), never dropped: a median or interval end that falls on one is
  ``inf``, "not within the run". The interval is NaN when there are too few replications for the
  confidence level (fewer than 6 at 95%).

Months in the tables are rounded to 0.01 (a third of a day); calendar months (``*_month``,
YYYY-MM) are the label of a window's last month, as every monthly table labels it.

For probabilities of passing by a date (e.g. across parameter sets), :func:`share_met_by` gives
the share of replications whose time to pass is at most a number of months.

The work is in three modules: :mod:`~rjsim.capacity.time_to_pass_realised` (per replication:
``first_pass``, ``median_interval``, ``share_met_by``),
:mod:`~rjsim.capacity.time_to_pass_demonstrated` (as the test judges, with the bootstrap:
``demonstrated``) and :mod:`~rjsim.capacity.time_to_pass_text` (in words); :func:`evaluate`
puts them together.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import rolling
from rjsim.capacity.time_to_pass_demonstrated import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    MIN_BOOTSTRAP_REPLICATIONS,
    TEST_WINDOW,
    bootstrap,
    demonstrated,
    first_windows,
    judged_windows,
    percentile_interval,
    severities,
)
from rjsim.capacity.time_to_pass_realised import (
    NATIONAL,
    NATIONAL_NAME,
    first_pass,
    median_interval,
    months_after,
)
from rjsim.core.codes import Verdict
from rjsim.data.areas import Area
from rjsim.scenario.spec import Scenario


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


def month_label(scenario: Scenario, period: int) -> str:
    """The calendar month (YYYY-MM) period ``period`` is labelled with (the month it starts
    in, as every monthly table labels it)."""
    start = dt.date.fromisoformat(scenario.run.start_date)
    m = start.year * 12 + start.month - 1 + int(period)
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def national_name(scenario: Scenario, n_areas: int) -> str:
    """England and Wales when every area of the packaged data runs, else the count of areas
    run (a subset, or the user's own area data)."""
    if not scenario.areas.include and not scenario.areas.data:
        return NATIONAL_NAME
    return f"all {n_areas} areas run" if n_areas != 1 else "the one area run"


def evaluate(scenario: Scenario, per_rep: pd.DataFrame, areas: tuple[Area, ...],
             whole: pd.DataFrame | None = None, resamples: int = BOOTSTRAP_RESAMPLES,
             seed: int = BOOTSTRAP_SEED) -> TimeToPass:
    """Time to pass per area and nationally from an experiment's ``rolling_metrics`` table
    (``per_rep``) and, to judge the test's own window too, its ``capacity_metrics`` (``whole``).

    The summary's columns: ``area``, ``force``, ``windows`` (rolling windows that fit in the
    run), ``window_months``, ``earliest_months`` and ``earliest_month`` (the end of the first
    window: no time to pass can be earlier), ``last_window_months`` (the end of the last rolling
    window), ``test_window_months`` (the end of the test's own window);
    ``demonstrated_months`` (the end of the first window the test itself passes, ``inf`` if
    none), ``demonstrated_month`` (its last month, YYYY-MM), ``demonstrated_window``
    (``rolling`` or ``test``), ``demonstrated_start_day``, ``demonstrated_ci_low_months``,
    ``demonstrated_ci_high_months`` (and ``*_month``: the bootstrap percentile interval),
    ``bootstrap_resamples`` (0: too few replications for one), ``bootstrap_share_demonstrated``
    (the share of resamples demonstrating a window), ``areas_passing_best_window`` (national
    row: the most areas the test passes in one window), ``areas``, ``test_window_verdict``
    (the verdict over the test's own window); the per-replication measure:
    ``median_months``, ``ci_low_months``, ``ci_high_months``, ``replications``,
    ``replications_censored``; and ``confidence_level``, ``commence_day`` (NaN when no right is
    commenced: months then count from the start of the run), ``ramp_days``, ``settle_days``.
    """
    level = scenario.capacity_test.confidence_level
    first = first_pass(scenario, per_rep) if len(per_rep) else pd.DataFrame(
        columns=["replication", "area", "first_window", "start_day", "end_day",
                 "months_after_commencement", "censored"])
    codes = tuple(a.code for a in areas)
    judged = judged_windows(scenario, per_rep, whole, codes)
    n_reps = len(judged.replications)
    sev = severities(scenario, judged, np.arange(n_reps)[None])
    shown_first = first_windows(sev)[:, 0]
    boot = (bootstrap(scenario, judged, resamples, seed)
            if n_reps >= MIN_BOOTSTRAP_REPLICATIONS and len(judged.windows) and resamples
            else None)
    w = judged.windows
    ends = months_after(scenario, w["end_day"].to_numpy(float))
    labels = [month_label(scenario, p - 1) for p in w["end_period"]]
    label_of = dict(zip(ends.tolist(), labels, strict=True))
    rolls = rolling.windows(scenario)
    earliest = (float(months_after(scenario, float(rolls["end_day"].iloc[0]))) if len(rolls)
                else math.nan)
    last = (float(months_after(scenario, float(rolls["end_day"].iloc[-1]))) if len(rolls)
            else math.nan)
    names = {a.code: a.name for a in areas} | {NATIONAL: national_name(scenario, len(areas))}
    passing = sev[..., 0] == Verdict.PASS.severity
    best = int(passing.sum(axis=0).max(initial=0)) if len(codes) else 0
    windows_table = demonstrated(scenario, per_rep, whole)
    own = windows_table[windows_table["kind"] == TEST_WINDOW]
    test_verdicts = dict(zip(own["area"], own["verdict"], strict=True))
    rows = []
    for i, code in enumerate([*codes, NATIONAL]):
        mine = first[first["area"] == code]
        median, low, high = median_interval(mine["months_after_commencement"].to_numpy(), level)
        k = int(shown_first[i])
        b_low, b_high = (percentile_interval(boot[i], level) if boot is not None
                         else (math.nan, math.nan))
        rows.append({
            "area": code, "force": names[code], "windows": len(rolls),
            "window_months": rolling.window_months(scenario),
            "earliest_months": earliest,
            "earliest_month": (month_label(scenario, int(rolls["end_period"].iloc[0]) - 1)
                               if len(rolls) else ""),
            "last_window_months": last,
            "test_window_months": float(months_after(scenario, capacity.window(scenario)[1])),
            "demonstrated_months": float(ends[k]) if k >= 0 else math.inf,
            "demonstrated_month": labels[k] if k >= 0 else "",
            "demonstrated_window": str(w["kind"].iloc[k]) if k >= 0 else "",
            "demonstrated_start_day": float(w["start_day"].iloc[k]) if k >= 0 else math.nan,
            "demonstrated_ci_low_months": b_low, "demonstrated_ci_high_months": b_high,
            "demonstrated_ci_low_month": label_of.get(b_low, ""),
            "demonstrated_ci_high_month": label_of.get(b_high, ""),
            "bootstrap_resamples": 0 if boot is None else resamples,
            "bootstrap_share_demonstrated": (math.nan if boot is None
                                             else float(np.isfinite(boot[i]).mean())),
            "areas_passing_best_window": best if code == NATIONAL else math.nan,
            "test_window_verdict": test_verdicts.get(code, ""),
            "areas": len(codes),
            "median_months": median, "ci_low_months": low, "ci_high_months": high,
            "replications": n_reps, "replications_censored": int(mine["censored"].sum()),
            "confidence_level": level,
            "commence_day": math.nan if scenario.commence_day is None
            else float(scenario.commence_day),
            "ramp_days": (float(scenario.statutory_right.ramp_days)
                          if scenario.commence_day is not None else 0.0),
            "settle_days": float(scenario.capacity_test.settle_days)})
    return TimeToPass(pd.DataFrame(rows), first, windows_table)
