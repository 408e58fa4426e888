"""Back-casting: the status-quo model against every published evidence target.

For each target (:mod:`rjsim.data.targets`) the status-quo configuration of its area is run:
the scenario without any statutory right or budget schedule, and, where the target comes with a
published spend (Thames Valley 2017/18), with that area's budget set to the spend in today's
prices. The model's estimate of the target's measure is computed per replication, so its 95%
confidence interval is a t interval across replications, and the verdict says whether the
estimate is **consistent** with the evidence at its stated uncertainty: the interval meets the
target's range (or reaches the right side of a bound). Demand is always the scenario's
(2024/25 recorded crime); a target from another year is compared with today's demand, which the
target's ``uncertainty_basis`` notes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rjsim.analysis.tables import window_start
from rjsim.core import stats
from rjsim.data.targets import PER, Measure, Target, Term
from rjsim.experiment.experiment import Experiment, ExperimentSettings, run_experiment
from rjsim.scenario.io import with_overrides
from rjsim.scenario.spec import DAYS_PER_YEAR, Scenario

#: Years simulated and discarded as warm-up by default (the service starts empty).
YEARS, WARMUP_DAYS = 3.0, 365.0
COLUMNS = ("target", "quantity", "area", "period", "denominator", "kind", "published",
           "published_low", "published_high", "unit", "estimate", "ci_low", "ci_high",
           "replications", "ratio", "verdict", "role", "source")


@dataclass(frozen=True)
class Configuration:
    """One status-quo run the back-cast needs, and the targets it judges."""

    label: str
    scenario: Scenario
    targets: tuple[Target, ...]


def status_quo(scenario: Scenario, years: float = YEARS,
               warmup_days: float = WARMUP_DAYS) -> Scenario:
    """The scenario as it stands today: no statutory right, no budget changes, ``years``
    simulated with ``warmup_days`` discarded (the service starts with no backlog)."""
    return with_overrides(
        scenario, run={"years": years, "warmup_days": warmup_days},
        statutory_right={"commence_day": None, "commence_date": None, "phase": ()},
        funding={"schedule": ()})


def configurations(scenario: Scenario, targets: Sequence[Target]) -> list[Configuration]:
    """The runs needed: one of the scenario's areas for targets without a published spend, and
    one per area and spend for the others."""
    judged = [t for t in targets if t.judged]
    plain = tuple(t for t in judged if t.budget_gbp is None)
    out = []
    if plain:
        include = scenario.areas.include
        if include and not any(t.area == "national" for t in plain):
            include = tuple(dict.fromkeys(t.area for t in plain))
        out.append(Configuration("status quo", with_overrides(
            scenario, areas={"include": include}), plain))
    spends = dict.fromkeys((t.area, t.budget_gbp, t.price_base) for t in judged
                           if t.budget_gbp is not None)
    for area, budget, base in spends:
        assert budget is not None
        today = budget * (scenario.funding.uprating_factor if base else 1.0)
        variant = with_overrides(scenario, areas={"include": (area,)}, funding={
            "capacity_from": "budget", "area_budget_gbp": {area: today}})
        chosen = tuple(t for t in judged if (t.area, t.budget_gbp, t.price_base) ==
                       (area, budget, base))
        out.append(Configuration(f"{area} at GBP {budget:,.0f} ({base or 'today'} prices)",
                                 variant, chosen))
    return out


def backcast(scenario: Scenario, targets: Sequence[Target], settings: ExperimentSettings,
             years: float = YEARS) -> pd.DataFrame:
    """Run the status quo of ``scenario`` (:func:`status_quo`) for every target and return the
    back-cast table (:data:`COLUMNS`)."""
    rows = []
    for config in configurations(status_quo(scenario, years), targets):
        experiment = run_experiment(config.scenario, settings)
        for target in config.targets:
            rows.append(judge(target, estimates(target, experiment)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def estimates(target: Target, experiment: Experiment) -> np.ndarray:
    """The model's value of ``target``'s measure in each replication."""
    assert target.measure is not None
    if target.area == "national":
        table = experiment.per_replication["national_summary"]
    else:
        table = experiment.per_replication["area_summary"]
        table = table[table["area"] == target.area]
        if table.empty:
            raise ValueError(f"area {target.area} was not simulated")
    s = experiment.scenario
    years = (s.run.horizon_days - window_start(s)) / DAYS_PER_YEAR
    values = evaluate(target.measure, table.sort_values("replication"), years)
    if target.price_base and target.unit.startswith("GBP"):  # money in the target's prices
        values = values / s.funding.uprating_factor
    return values


def evaluate(measure: Measure, table: pd.DataFrame, years: float) -> np.ndarray:
    """``measure`` on each row of a per-replication summary table covering ``years``."""
    top = _term(measure.numerator, table, years)
    if measure.denominator is None:
        return top
    bottom = _term(measure.denominator, table, years)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _term(term: Term, table: pd.DataFrame, years: float) -> np.ndarray:
    missing = [c for c in term.columns if c not in table]
    if missing:
        raise ValueError(f"no summary column {missing[0]!r}")
    total: np.ndarray = np.asarray(table[list(term.columns)].to_numpy(dtype=float).sum(axis=1))
    return total / (years / PER[term.per]) if term.per else total  # per year or quarter


def judge(target: Target, values: np.ndarray) -> dict[str, object]:
    """One back-cast row: the estimate's CI against the target's range."""
    iv = stats.t_interval(values)
    low, high = target.interval
    if iv.n < 2 or math.isnan(iv.low):
        verdict = "undetermined"
    else:
        verdict = "consistent" if iv.high >= low and iv.low <= high else "inconsistent"
    ratio = iv.mean / target.value if target.value else math.nan
    return {"target": target.id, "quantity": target.quantity, "area": target.area,
            "period": target.period, "denominator": target.denominator, "kind": target.kind,
            "published": target.value, "published_low": low, "published_high": high,
            "unit": target.unit, "estimate": iv.mean, "ci_low": iv.low, "ci_high": iv.high,
            "replications": iv.n, "ratio": ratio, "verdict": verdict, "role": target.role,
            "source": target.source}
