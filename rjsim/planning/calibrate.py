"""Calibration by history matching: which parameter values are not implausible given the
evidence targets.

History matching (Craig, Goldstein, Seheult and Smith 1997; Vernon, Goldstein and Bower 2010;
Andrianakis et al. 2015 for epidemiological and health-economic simulators) rules out the
parameter values at which the simulator cannot match the observations. The parameters a user
names (default: the status-quo funnel) are varied over their ranges in the assumptions log on a
space-filling Latin hypercube (``scipy.stats.qmc``); at each design point the back-cast's
status-quo runs are simulated with the *same seed* (common random numbers: every point sees the
same victims and case draws wherever the parameters allow), and for each target its
**implausibility** is

    I = |z - E[f(x)]| / sqrt(V_obs + V_md + V_sim)

with ``z`` the published value, ``V_obs`` its observation variance (the published 95% range as
+/-1.96 sd), ``V_md`` the model discrepancy variance (``discrepancy`` x z, squared: what a right
model would still miss, a stated judgement) and ``V_sim`` the variance of the replication mean.
A bound is only implausible on its wrong side. A point is **non-implausible** when every
target's I is below the cut-off (3, Pukelsheim's three-sigma rule). The point estimate is the
non-implausible point with the smallest sum of squared implausibilities.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, is_dataclass, replace
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.stats import qmc

from rjsim.core.errors import Problem, ScenarioError
from rjsim.data.targets import Target
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.planning import backcast
from rjsim.scenario.spec import Scenario

#: The status-quo funnel stages the evidence targets identify: the share told about RJ, the
#: share who ask, and the losses after consent. ``demand.offender_identified`` is left out by
#: default: the targets bound it (Home Office outcomes) but only fix its product with
#: ``demand.informed``, so calibrating both gives a ridge, not an estimate.
DEFAULT_PARAMETERS = ("demand.informed", "demand.wants_rj", "exits.offender_declines",
                      "exits.preparation_withdraws")
CUTOFF = 3.0
DISCREPANCY = 0.10
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Parameter:
    """A scalar setting varied over [low, high] (from the assumptions log unless given)."""

    key: str
    low: float
    high: float


@dataclass(frozen=True)
class Calibration:
    """The design, every point's estimates and implausibilities, and the retained set."""

    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    design: pd.DataFrame  # one row per point: parameter values
    estimates: pd.DataFrame  # point x target: mean model estimate
    implausibility: pd.DataFrame  # point x target
    cutoff: float

    @property
    def max_implausibility(self) -> pd.Series:
        return self.implausibility.max(axis=1)

    @property
    def retained(self) -> pd.DataFrame:
        """The non-implausible points: parameters and their largest implausibility."""
        keep = self.max_implausibility < self.cutoff
        return self.design[keep].assign(max_implausibility=self.max_implausibility[keep])

    @property
    def best_index(self) -> int | None:
        """Row of the point estimate, or ``None`` when every point is implausible."""
        keep = (self.max_implausibility < self.cutoff).to_numpy()
        if not keep.any():
            return None
        score = (self.implausibility.to_numpy()[keep] ** 2).sum(axis=1)
        return int(np.flatnonzero(keep)[int(np.argmin(score))])

    @property
    def best(self) -> pd.Series | None:
        """The point estimate's parameter values, or ``None`` when every point is
        implausible."""
        k = self.best_index
        return None if k is None else self.design.iloc[k]


def logged_parameters(keys: Sequence[str]) -> tuple[Parameter, ...]:
    """``keys`` with their ranges from the packaged assumptions log."""
    text = resources.files("rjsim").joinpath("data/assumptions.csv").read_text(encoding="utf-8")
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
    out, problems = [], []
    for key in keys:
        row = rows.get(key)
        try:
            low, high = float(row["low"]), float(row["high"])  # type: ignore[index]
        except (TypeError, ValueError):
            problems.append(Problem("--parameters", f"'{key}' has no numeric range in the "
                                    "assumptions log ('rjsim assumptions' lists them)", key))
            continue
        out.append(Parameter(key, low, high))
    if problems:
        raise ScenarioError(problems, "invalid calibration parameters")
    return tuple(out)


def with_value(scenario: Scenario, key: str, value: float) -> Scenario:
    """A new scenario with the scalar at dotted ``key`` set to ``value``."""
    head, _, rest = key.partition(".")
    node = getattr(scenario, head)
    if not rest:
        return replace(scenario, **{head: type(node)(value)})
    assert is_dataclass(node) and not isinstance(node, type)
    return replace(scenario, **{head: with_value(node, rest, value)})  # type: ignore[arg-type]


def design(parameters: Sequence[Parameter], points: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube of ``points`` over the parameters' ranges."""
    unit = qmc.LatinHypercube(d=len(parameters), seed=seed).random(points)
    scaled = qmc.scale(unit, [p.low for p in parameters], [p.high for p in parameters])
    return pd.DataFrame(scaled, columns=[p.key for p in parameters])


def implausibility(target: Target, values: np.ndarray, discrepancy: float) -> float:
    """``target``'s implausibility given one point's per-replication estimates."""
    x = values[~np.isnan(values)]
    if len(x) == 0:
        return math.inf
    mean = float(x.mean())
    v_sim = float(x.var(ddof=1)) / len(x) if len(x) > 1 else 0.0
    low, high = target.interval
    spread = ((high - low) / (2 * 1.96)) ** 2 if target.kind == "range" else 0.0
    variance = spread + (discrepancy * target.value) ** 2 + v_sim
    if target.kind == "lower_bound":
        gap = max(target.value - mean, 0.0)
    elif target.kind == "upper_bound":
        gap = max(mean - target.value, 0.0)
    else:
        gap = abs(mean - target.value)
    return gap / math.sqrt(variance) if variance > 0 else (0.0 if gap == 0 else math.inf)


def calibrate(scenario: Scenario, targets: Sequence[Target], parameters: Sequence[Parameter],
              settings: ExperimentSettings, points: int = 40, years: float = backcast.YEARS,
              discrepancy: float = DISCREPANCY, cutoff: float = CUTOFF,
              progress: Progress | None = None) -> Calibration:
    """History-match ``parameters`` to the judged ``targets`` on a design of ``points``."""
    chosen = tuple(t for t in targets if t.judged)
    if not chosen:
        raise ScenarioError([Problem("targets", "no target to calibrate to")])
    grid = design(parameters, points, scenario.run.seed)
    est = np.full((points, len(chosen)), np.nan)
    imp = np.full((points, len(chosen)), np.nan)
    for k, row in enumerate(grid.itertuples(index=False)):
        values = dict(zip((p.key for p in parameters), map(float, row), strict=True))
        est[k], imp[k] = point(scenario, chosen, values, settings, years, discrepancy)
        if progress is not None:
            progress(k + 1, points)
    ids = [t.id for t in chosen]
    return Calibration(tuple(parameters), chosen, grid, pd.DataFrame(est, columns=ids),
                       pd.DataFrame(imp, columns=ids), cutoff)


def point(scenario: Scenario, targets: Sequence[Target], values: Mapping[str, float],
          settings: ExperimentSettings, years: float = backcast.YEARS,
          discrepancy: float = DISCREPANCY) -> tuple[np.ndarray, np.ndarray]:
    """Mean estimate and implausibility of each target at one parameter point (same seed)."""
    for key, value in values.items():
        scenario = with_value(scenario, key, value)
    index = {t.id: i for i, t in enumerate(targets)}
    est, imp = np.full(len(targets), np.nan), np.full(len(targets), np.nan)
    for config in backcast.configurations(backcast.status_quo(scenario, years), targets):
        experiment = run_experiment(config.scenario, settings)
        for t in config.targets:
            per_rep = backcast.estimates(t, experiment)
            est[index[t.id]] = np.nanmean(per_rep) if np.isfinite(per_rep).any() else np.nan
            imp[index[t.id]] = implausibility(t, per_rep, discrepancy)
    return est, imp


def fit_table(cal: Calibration) -> pd.DataFrame:
    """Per target: published value, the estimate at the point estimate, its implausibility, and
    the share of the design the target alone rules out."""
    k = cal.best_index
    est, imp = cal.estimates.to_numpy(), cal.implausibility.to_numpy()
    rows = []
    for j, t in enumerate(cal.targets):
        rows.append({"target": t.id, "published": t.value, "kind": t.kind,
                     "denominator": t.denominator,
                     "calibrated_estimate": math.nan if k is None else float(est[k, j]),
                     "implausibility": math.nan if k is None else float(imp[k, j]),
                     "share_ruled_out": float((imp[:, j] >= cal.cutoff).mean())})
    return pd.DataFrame(rows)


def constraints(cal: Calibration) -> pd.DataFrame:
    """Which targets constrain which parameters: the Spearman rank correlation, across the
    design, of each parameter with each target's model estimate (common random numbers make
    it a clean signal), and the share of the design the target rules out."""
    rows = []
    for t in cal.targets:
        for p in cal.parameters:
            est = cal.estimates[t.id]
            ok = est.notna()
            rho = (float(sps.spearmanr(cal.design.loc[ok, p.key], est[ok]).statistic)
                   if ok.sum() > 2 and est[ok].nunique() > 1 else math.nan)
            rows.append({"target": t.id, "parameter": p.key, "spearman": rho,
                         "share_ruled_out": float((cal.implausibility[t.id] >= cal.cutoff)
                                                  .mean())})
    return pd.DataFrame(rows)


def overrides(best: Mapping[str, float]) -> dict[str, Any]:
    """The point estimate as nested scenario overrides (for the calibrated scenario file)."""
    out: dict[str, Any] = {}
    for key, value in best.items():
        node = out
        *heads, last = key.split(".")
        for h in heads:
            node = node.setdefault(h, {})
        node[last] = round(float(value), 6)
    return out


__all__ = ["Calibration", "Parameter", "calibrate", "constraints", "design", "fit_table",
           "implausibility", "logged_parameters", "overrides", "point", "with_value"]
