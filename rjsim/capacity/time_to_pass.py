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
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import rolling
from rjsim.analysis.capacity_metrics import NOT_APPLICABLE_METRICS
from rjsim.analysis.tables import period_edges, window_start
from rjsim.capacity.capacity_test import Criterion, criteria
from rjsim.core.codes import ALL_POOLS, Verdict
from rjsim.core.stats import t_quantile
from rjsim.data.areas import Area
from rjsim.scenario.spec import Scenario

#: The ``area`` value of national rows.
NATIONAL = "national"
NATIONAL_NAME = "England and Wales"
#: ``kind`` of a judged window: a rolling window, or the test's own (start to end of the run).
ROLLING, TEST_WINDOW = "rolling", "test"
#: Bootstrap over replications of the demonstrated time to pass: resamples and seed (fixed, so
#: a run's interval is reproducible), and the fewest replications it is given for.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 16
MIN_BOOTSTRAP_REPLICATIONS = 5
#: Severity codes of :class:`~rjsim.core.codes.Verdict` (worse is larger).
_PASS, _INCONCLUSIVE, _FAIL = (Verdict.PASS.severity, Verdict.INCONCLUSIVE.severity,
                               Verdict.FAIL.severity)
#: Decimals kept of months in the tables (0.01 month is about a third of a day).
MONTH_DECIMALS = 2


def months_after(scenario: Scenario, day: float | np.ndarray) -> np.ndarray:
    """Months from commencement to ``day``, rounded to :data:`MONTH_DECIMALS` (no float dust
    such as 16.000000000000004)."""
    return np.round(np.asarray(rolling.months_after(scenario, day), dtype=float), MONTH_DECIMALS)


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
        holds = c.comparison.holds_each(values, c.threshold)
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
        out["censored"], math.inf, months_after(scenario, out["end_day"].to_numpy()))
    out["first_window"] = out.pop("window")
    return out[["replication", "area", "first_window", "start_day", "end_day",
                "months_after_commencement", "censored"]].reset_index(drop=True)


#: The per-replication columns the test judges (:func:`severities`).
_JUDGED = ("timeliness", "unmet_demand_rate", "utilisation", "backlog_trend_days_per_year",
           "specialist_slots_min", "sensitive_referrals")


@dataclass(frozen=True)
class Judged:
    """The windows the demonstrated time to pass judges and their per-replication values."""

    windows: pd.DataFrame  # window, kind, start_day, end_day, end_period; by end day
    areas: tuple[str, ...]
    replications: np.ndarray
    values: dict[str, np.ndarray]  # column -> (areas, windows, replications); NaN if absent


def judged_windows(scenario: Scenario, per_rep: pd.DataFrame,
                   whole: pd.DataFrame | None = None,
                   areas: tuple[str, ...] | None = None) -> Judged:
    """The rolling windows (``per_rep``: ``rolling_metrics``) and, after them, the test's own
    window (``whole``: the experiment's ``capacity_metrics``, pool ``all``; omitted if None)."""
    rows = per_rep.assign(kind=ROLLING)
    if whole is not None and len(whole):
        own = whole[whole["pool"] == ALL_POOLS] if "pool" in whole else whole
        n = len(rolling.windows(scenario))
        rows = pd.concat([rows, own.assign(
            window=n, kind=TEST_WINDOW, start_day=window_start(scenario),
            end_day=capacity.window(scenario)[1])], ignore_index=True)
    codes = tuple(areas) if areas is not None else tuple(sorted(rows["area"].unique()))
    reps = np.sort(rows["replication"].unique()) if len(rows) else np.array([], dtype=int)
    table = rows[["window", "kind", "start_day", "end_day"]].drop_duplicates(
        "window").sort_values("window").reset_index(drop=True)
    edges = period_edges(scenario.run.horizon_days)
    table["end_period"] = np.searchsorted(edges, table["end_day"].to_numpy(float) - 1e-6)
    a = pd.Index(codes).get_indexer(pd.Index(rows["area"]))
    w = pd.Index(table["window"]).get_indexer(pd.Index(rows["window"]))
    r = pd.Index(reps).get_indexer(pd.Index(rows["replication"]))
    keep = a >= 0
    values = {}
    for col in _JUDGED:
        grid = np.full((len(codes), len(table), len(reps)), np.nan)
        grid[a[keep], w[keep], r[keep]] = rows[col].to_numpy(dtype=float)[keep]
        values[col] = grid
    return Judged(table, codes, reps, values)


def _criterion_severity(c: Criterion, x: np.ndarray, level: float) -> np.ndarray:
    """Severity of the verdict of :func:`rjsim.capacity.capacity_test.judge` on the values
    along the last axis of ``x`` (NaN ignored), for every other index at once."""
    valid = ~np.isnan(x)
    n = valid.sum(-1)
    infinite = np.isinf(x)
    n_inf = infinite.sum(-1)
    finite = valid & ~infinite
    sums = np.where(finite, x, 0.0).sum(-1)
    mean = sums / np.maximum(n, 1)
    high_v = np.fmax.reduce(np.where(finite, x, np.nan), axis=-1) if x.shape[-1] else mean
    low_v = np.fmin.reduce(np.where(finite, x, np.nan), axis=-1) if x.shape[-1] else mean
    constant = (n >= 2) & (high_v == low_v)  # exactly constant: the value itself, no spread
    mean = np.where(constant, low_v, mean)
    dev = np.where(finite, x - mean[..., None], 0.0)
    sd = np.sqrt((dev ** 2).sum(-1) / np.maximum(n - 1, 1))
    quantiles = t_quantile(np.arange(1, max(x.shape[-1], 2), dtype=float), level)
    q = quantiles[np.clip(n - 2, 0, len(quantiles) - 1)]  # of n - 1 degrees of freedom
    half = np.where(constant, 0.0, q * sd / np.sqrt(np.maximum(n, 1)))
    low, high = mean - half, mean + half
    conservative, hopeful = (low, high) if c.comparison.sign > 0 else (high, low)
    sev = np.where(c.comparison.holds_each(conservative, c.threshold), _PASS,
                   np.where(c.comparison.holds_each(hopeful, c.threshold), _INCONCLUSIVE,
                            _FAIL))
    sev = np.where(n < 2, _INCONCLUSIVE, sev)
    sev = np.where((n_inf > 0) & (n_inf < n), _INCONCLUSIVE, sev)
    on_inf = _PASS if c.comparison.holds(math.inf, c.threshold) else _FAIL
    sev = np.where((n_inf > 0) & (n_inf == n), on_inf, sev)
    sev = np.where(n == 0, _PASS if c.metric in NOT_APPLICABLE_METRICS else _INCONCLUSIVE,
                   sev)  # no value at all: not applicable, or nothing judged (never a pass)
    return sev.astype(np.int8)


def severities(scenario: Scenario, judged: Judged, idx: np.ndarray) -> np.ndarray:
    """(areas, windows, resamples): the severity (:attr:`Verdict.severity`) of the test's
    verdict on each area and window, judged on the replications ``idx[b]`` (positions in
    ``judged.replications``, one row per resample) as the capacity test judges: every
    criterion by :func:`rjsim.capacity.capacity_test.judge`, coverage on the fewest slots."""
    level = scenario.capacity_test.confidence_level
    a, w = len(judged.areas), len(judged.windows)
    worst = np.zeros((a, w, len(idx)), dtype=np.int8)
    for c in criteria(scenario):
        if c.name == "coverage":
            need = (judged.values["sensitive_referrals"][..., idx] > 0).any(-1)
            slots = judged.values["specialist_slots_min"][..., idx]
            fewest = np.fmin.reduce(slots, axis=-1) if slots.shape[-1] else np.full(
                need.shape, np.nan)
            sev = np.where(need & (fewest < c.threshold), _FAIL, _PASS).astype(np.int8)
        else:
            sev = _criterion_severity(c, judged.values[c.metric][..., idx], level)
        worst = np.maximum(worst, sev)
    return worst


def first_windows(sev: np.ndarray) -> np.ndarray:
    """(areas + 1, resamples): the position of the first window each area (the nation last:
    every area) passes, -1 where none does. ``sev``: :func:`severities`."""
    passed = np.concatenate([sev == _PASS, (sev.max(axis=0, initial=_PASS) == _PASS)[None]])
    return np.where(passed.any(axis=1), passed.argmax(axis=1), -1)


def bootstrap(scenario: Scenario, judged: Judged, resamples: int = BOOTSTRAP_RESAMPLES,
              seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(areas + 1, resamples): the demonstrated months to pass (``inf``: none) of each area
    and the nation in each bootstrap resample of the replications."""
    n = len(judged.replications)
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    ends = months_after(scenario, judged.windows["end_day"].to_numpy(float))
    cells = max(1, len(judged.areas) * len(judged.windows) * n)
    chunk = max(1, 2_000_000 // cells)  # bounded memory: the draws above do not depend on it
    out = np.full((len(judged.areas) + 1, resamples), math.inf)
    for start in range(0, resamples, chunk):
        first = first_windows(severities(scenario, judged, idx[start:start + chunk]))
        out[:, start:start + chunk] = np.where(first >= 0, ends[np.maximum(first, 0)], math.inf)
    return out


def percentile_interval(months: np.ndarray, level: float) -> tuple[float, float]:
    """The bootstrap percentile interval at ``level`` (no interpolation: the times are window
    ends, and ``inf`` for none)."""
    x = np.asarray(months, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2
    low, high = np.quantile(x, [tail, 1 - tail], method="inverted_cdf")
    return float(low), float(high)


def demonstrated(scenario: Scenario, per_rep: pd.DataFrame,
                 whole: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per area and window (and nationally): the test's verdict on that window, from the
    confidence intervals across replications, and the share of replications passing it on
    their own values. ``whole``: the ``capacity_metrics`` table, adding the test's own window
    (``kind`` ``test``)."""
    judged = judged_windows(scenario, per_rep, whole)
    sev = severities(scenario, judged, np.arange(len(judged.replications))[None])[..., 0]
    nation = sev.max(axis=0, initial=_PASS)[None]
    names = {v.severity: v.value for v in (Verdict.PASS, Verdict.INCONCLUSIVE, Verdict.FAIL)}
    codes = [*judged.areas, NATIONAL]
    grid = np.concatenate([sev, nation]) if len(judged.areas) else nation[:0]
    w = judged.windows
    out = pd.DataFrame({
        "area": np.repeat(codes[:len(grid)], len(w)), "window": np.tile(w["window"], len(grid)),
        "kind": np.tile(w["kind"], len(grid)), "start_day": np.tile(w["start_day"], len(grid)),
        "end_day": np.tile(w["end_day"], len(grid)),
        "verdict": [names[int(v)] for v in grid.reshape(-1)]})
    out["months_after_commencement"] = months_after(scenario, out["end_day"].to_numpy(float))
    rows = per_rep if whole is None or not len(whole) else pd.concat([per_rep, (
        whole[whole["pool"] == ALL_POOLS] if "pool" in whole else whole).assign(
        window=len(rolling.windows(scenario)), start_day=window_start(scenario),
        end_day=capacity.window(scenario)[1])], ignore_index=True)
    shares = (window_passes(scenario, rows).groupby(["area", "window"], sort=False)["passed"]
              .mean() if len(rows) else pd.Series(dtype=float))
    out["share_replications_passing"] = [shares.get((a, x), math.nan)
                                         for a, x in zip(out["area"], out["window"], strict=True)]
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
    best = int((sev[..., 0] == _PASS).sum(axis=0).max(initial=0)) if len(codes) else 0
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


def _months(value: float, last: float) -> str:
    if math.isnan(value):
        return "?"
    return f"{value:.0f}" if math.isfinite(value) else f"> {last:.0f}"


def calendar(label: object) -> str:
    """"2027-10" as "October 2027" ("" for none)."""
    text = "" if label is None or (isinstance(label, float) and math.isnan(label)) else str(
        label)
    try:
        return dt.date.fromisoformat(text + "-01").strftime("%B %Y")
    except ValueError:
        return text


def fewest_for_median_interval(level: float) -> int:
    """The fewest replications that give the median a distribution-free interval at
    ``level`` (its widest, from the smallest to the largest, covers 1 - 2 / 2^n)."""
    return math.ceil(math.log2(2 / (1 - level)) - 1e-12)


def _level(row: dict[str, Any]) -> str:
    return f"{100 * float(row['confidence_level']):g}%"


def _since(row: dict[str, Any]) -> str:
    commences = not math.isnan(float(row["commence_day"]))
    return "after commencement" if commences else "after the start of the run"


def _who(row: dict[str, Any]) -> str:
    if row["area"] != NATIONAL:
        return f"the test in {row['force']}"
    return ("the national test" if row["force"] == NATIONAL_NAME
            else f"the test across {row['force']}")


def demonstrated_interval(row: dict[str, Any]) -> str:
    """The bootstrap interval of the demonstrated time, in words."""
    n, resamples = int(row["replications"]), int(row["bootstrap_resamples"])
    if resamples == 0:
        return (f"no {_level(row)} interval with fewer than {MIN_BOOTSTRAP_REPLICATIONS} "
                "replications")
    low, high = float(row["demonstrated_ci_low_months"]), float(row["demonstrated_ci_high_months"])

    def end(v: float, label: object) -> str:
        return f"{v:.0f} months ({calendar(label)})" if math.isfinite(v) else "not within the run"
    return (f"{_level(row)} CI {end(low, row['demonstrated_ci_low_month'])} to "
            f"{end(high, row['demonstrated_ci_high_month'])}, by a bootstrap over the {n} "
            f"replications ({resamples:,} resamples)")


def sentence(row: dict[str, Any]) -> str:
    """The headline of one summary row in words: "the national test is first met N months
    after commencement, by <Month YYYY> (95% CI ...)" when the test itself demonstrates a
    window, or why not."""
    who, since = _who(row), _since(row)
    n = int(row["replications"])
    if n == 0:
        return f"{who}: no assessment window fits in the run"
    demo = float(row["demonstrated_months"])
    if math.isfinite(demo):
        only = ("; demonstrated only over the test's own window, to the end of the run, in no "
                f"single {int(row['window_months'])}-month window"
                if row["demonstrated_window"] == TEST_WINDOW else "")
        verdict = str(row.get("test_window_verdict", "") or "")
        whole = (f"; over the test's own window, from its start to the end of the run, the "
                 f"verdict is {verdict}" if verdict and verdict != Verdict.PASS
                 and row["demonstrated_window"] != TEST_WINDOW else "")
        return (f"{who} is first met {demo:.0f} months {since}, by "
                f"{calendar(row['demonstrated_month'])} ({demonstrated_interval(row)}{only}"
                f"{whole})")
    end = float(row["test_window_months"])
    text = (f"{who} is not met within the run: the test passes no window on its {_level(row)} "
            f"confidence intervals up to {end:.0f} months {since}")
    if row["area"] == NATIONAL and not math.isnan(float(row["areas_passing_best_window"])):
        text += (f" (at best {int(row['areas_passing_best_window'])} of {int(row['areas'])} "
                 "areas pass the same window)")
    if int(row["bootstrap_resamples"]):
        text += (f"; it is met within the run in {float(row['bootstrap_share_demonstrated']):.0%}"
                 f" of {int(row['bootstrap_resamples']):,} bootstrap resamples of the {n} "
                 "replications")
    return text


def floor_sentence(row: dict[str, Any]) -> str:
    """The earliest possible time to pass and why."""
    if math.isnan(float(row["earliest_months"])):
        return ""
    opens = ("commencement + the awareness ramp "
             f"({float(row['ramp_days']):g} days) + capacity_test.settle_days "
             f"({float(row['settle_days']):g} days)"
             if not math.isnan(float(row["commence_day"])) else
             f"the start of the run + capacity_test.settle_days ({float(row['settle_days']):g} "
             "days)")
    return (f"Earliest possible: {float(row['earliest_months']):.0f} months {_since(row)} "
            f"(by {calendar(row['earliest_month'])}), even with every post filled: windows open "
            f"at {opens}, from the next month, and a window must run its full "
            f"{int(row['window_months'])} months")


def median_words(row: dict[str, Any]) -> str:
    """The per-replication median's interval, in words."""
    low, high = float(row["ci_low_months"]), float(row["ci_high_months"])
    if math.isnan(low) or math.isnan(high):
        return (f"no {_level(row)} interval with fewer than "
                f"{fewest_for_median_interval(float(row['confidence_level']))} replications")
    last = float(row["last_window_months"])
    return f"{_level(row)} CI {_months(low, last)} to {_months(high, last)}"


def realised_sentence(row: dict[str, Any]) -> str:
    """The per-replication (realised-performance) measure in words."""
    n, censored = int(row["replications"]), int(row["replications_censored"])
    last, median = float(row["last_window_months"]), float(row["median_months"])
    if n == 0 or math.isnan(last):
        return ""
    national = row["area"] == NATIONAL
    what = ("every area meets every threshold in the same window" if national
            else "the area meets every threshold in one window")
    never = f"{censored} of {n} replications never do within {last:.0f} months"
    head = ("Realised performance, per replication (each replication's own values, no "
            "confidence margin)")
    if not math.isfinite(median):
        where = ("every area meets every threshold" if national
                 else "the area meets every threshold")
        return (f"{head}: {censored} of {n} replications have no window in which {where} "
                f"within {last:.0f} months")
    return (f"{head}: {what} after a median of {median:.0f} months {_since(row)} "
            f"({median_words(row)}; {never})")


def summary_text(result: TimeToPass, k: int = 5) -> str:
    """The national sentences and the slowest areas."""
    s = result.summary
    if s.empty:
        return ""
    head = (f"Time to pass (rolling {int(s['window_months'].iloc[0])}-month windows a month "
            "apart from the test's window start, then the test's own window; months from "
            "commencement to the end of the first window the test passes)")
    nat = result.national
    lines = [head, *("  " + t[0].upper() + t[1:] + "." for t in (
        sentence(nat), floor_sentence(nat), realised_sentence(nat)) if t)]
    areas = s[s["area"] != NATIONAL].sort_values(
        ["demonstrated_months", "median_months", "replications_censored"],
        ascending=False).head(k)
    if len(areas):
        lines.append(f"  Slowest areas ({len(areas)} shown; demonstrated by the test, then "
                     "per replication):")
        for record in areas.to_dict("records"):
            r = {str(key): v for key, v in record.items()}
            demo = float(r["demonstrated_months"])
            shown = (f"met {demo:.0f} months, by {calendar(r['demonstrated_month'])} "
                     f"({demonstrated_interval(r)})" if math.isfinite(demo)
                     else "not met within the run")
            last = float(r["last_window_months"])
            lines.append(f"    {r['force']:<28} {shown}; per replication median "
                         f"{_months(float(r['median_months']), last)} ({median_words(r)}), "
                         f"{r['replications_censored']} of {r['replications']} never pass")
    return "\n".join(lines) + "\n"
