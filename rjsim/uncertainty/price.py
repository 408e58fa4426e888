"""The price of commencement under parameter uncertainty: an analytic planning estimate per
parameter set.

For each parameter set, every area's least staffing is estimated as the planner's queueing
seed (:func:`rjsim.planning.planner.seeds`: each caseload pool an M/M/c queue at the expected
referral rate under the right, the fewest slots meeting the utilisation, timeliness and, with
exponential patience and windows, Erlang A abandonment criteria), turned into FTE and priced at
that set's cost per FTE. No simulation: the distribution across parameter sets costs seconds.
It is the planner's starting point, not its confirmed answer (``rjsim plan`` confirms by
simulation and usually adds a little).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.core.codes import Pool
from rjsim.experiment import runner
from rjsim.funding import budgets as funding
from rjsim.planning import planner
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import Scenario


def analytic_plan(scenario: Scenario) -> pd.DataFrame:
    """Per area: the seeded general and specialist slots and FTE and their annual cost."""
    assessed = capacity.assessed(scenario)
    areas = runner.task_plan(assessed).areas
    per_fte = expected_path.caseload_per_fte(assessed)
    cost_general, cost_specialist = funding.cost_per_fte(assessed.funding)
    rows = []
    for area in areas:
        slots = planner.seeds(assessed, area)
        general = planner.fte_for_slots(slots[Pool.GENERAL], per_fte)
        specialist = planner.fte_for_slots(slots[Pool.SPECIALIST], per_fte)
        rows.append({"area": area.code, "general_slots": slots[Pool.GENERAL],
                     "specialist_slots": slots[Pool.SPECIALIST], "general_fte": general,
                     "specialist_fte": specialist,
                     "annual_cost_gbp": general * cost_general + specialist * cost_specialist})
    return pd.DataFrame(rows)


def has_price(scenario: Scenario) -> bool:
    """Whether a price of commencement means anything here: a right that commences, and a run
    that holds the capacity test's window."""
    return scenario.commence_day is not None and capacity.window_problem(scenario) is None


def price_table(scenarios: list[Scenario]) -> pd.DataFrame:
    """Per parameter set (``sample``) and area (and ``national``): the analytic least annual
    cost and FTE."""
    parts = []
    for i, s in enumerate(scenarios):
        df = analytic_plan(s)
        total = df[["general_fte", "specialist_fte", "annual_cost_gbp"]].sum()
        nat = pd.DataFrame([{"area": "national", **total.to_dict()}])
        parts.append(pd.concat([df, nat], ignore_index=True).assign(sample=i))
    out = pd.concat(parts, ignore_index=True)
    return out[["sample", *[c for c in out.columns if c != "sample"]]]


def price_summary(prices: pd.DataFrame) -> pd.DataFrame:
    """Per area (and ``national``): median, 5th, 90th and 95th percentiles and mean of the
    least annual cost across parameter sets. The 90th percentile is the budget that covers 90%
    of parameter sets."""
    rows = []
    for area, g in prices.groupby("area", sort=False):
        x = g["annual_cost_gbp"].to_numpy(dtype=float)
        p05, p50, p90, p95 = np.quantile(x, [0.05, 0.5, 0.9, 0.95])
        rows.append({"area": area, "median_gbp": p50, "p05_gbp": p05, "p90_gbp": p90,
                     "p95_gbp": p95, "mean_gbp": float(x.mean()), "samples": len(x)})
    return pd.DataFrame(rows)


def headline(summary: pd.DataFrame) -> str:
    """'Commencing the right needs about GBP X m a year (90% interval A-B) ...'."""
    n = summary[summary["area"] == "national"].iloc[0]
    return (f"Commencing the right needs about GBP {n['median_gbp'] / 1e6:.0f}m a year (90% "
            f"interval GBP {n['p05_gbp'] / 1e6:.0f}m-{n['p95_gbp'] / 1e6:.0f}m); GBP "
            f"{n['p90_gbp'] / 1e6:.0f}m a year covers 90% of parameter sets (analytic "
            "Erlang C/A estimate of each set's least staffing, not confirmed by simulation)")
