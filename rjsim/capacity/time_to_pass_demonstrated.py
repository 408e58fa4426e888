"""Time to pass as the capacity test demonstrates it: every window (rolling, then the test's own)
judged on its confidence intervals across replications, as
:func:`rjsim.capacity.capacity_test.judge` would, vectorised over areas, windows and bootstrap
resamples of the replications. The concepts are in :mod:`rjsim.capacity.time_to_pass`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import rolling
from rjsim.analysis.capacity_metrics import NOT_APPLICABLE_METRICS
from rjsim.analysis.tables import period_edges, window_start
from rjsim.capacity.capacity_test import Criterion, criteria
from rjsim.capacity.time_to_pass_realised import NATIONAL, months_after, window_passes
from rjsim.core.codes import ALL_POOLS, Verdict
from rjsim.core.stats import t_quantile
from rjsim.scenario.spec import Scenario

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
