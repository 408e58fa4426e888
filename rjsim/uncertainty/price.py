"""The price of commencement under parameter uncertainty: an analytic planning estimate per
parameter set.

For each parameter set, every area's least staffing is estimated as the planner's queueing
seed (:func:`rjsim.planning.brackets.seeds`: each caseload pool an M/M/c queue at the expected
referral rate under the right, the fewest slots meeting the utilisation, timeliness and, with
exponential patience and windows, Erlang A abandonment criteria), turned into FTE and priced at
that set's cost per FTE. No simulation: the distribution across parameter sets costs seconds.
It is the planner's starting point, not its confirmed answer (``rjsim plan`` confirms by
simulation and usually adds a little).

:func:`confirm` checks the estimate by simulation where it matters: at the parameter sets whose
least cost is the median and the 90th and 95th percentiles across sets, it runs the capacity
test on that set with its analytic plan (each area's FTE set directly, in post from day 0, as
``rjsim plan --write-scenario`` writes a plan) and reports whether the plan passes.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.capacity import capacity_test
from rjsim.core.codes import Pool, Verdict
from rjsim.core.schema import FrozenMap
from rjsim.experiment import runner
from rjsim.experiment.experiment import ExperimentSettings, run_experiment
from rjsim.funding import budgets as funding
from rjsim.planning import plan_tables, planner
from rjsim.scenario import expected as expected_path
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.spec import Scenario

#: Quantiles of the least cost across parameter sets at which the estimate is confirmed by
#: simulation.
CONFIRM_QUANTILES = (0.5, 0.9, 0.95)


def analytic_plan(scenario: Scenario) -> pd.DataFrame:
    """Per area: the seeded general and specialist slots and FTE and their annual cost. As
    ``rjsim plan`` does, a shared service's host (``funding.shared_services``, both areas
    selected) is seeded for its guests' referrals too, and a guest has no staff of its own."""
    assessed = capacity.assessed(plan_tables.planned_services(scenario))
    tasks = runner.task_plan(assessed)
    areas = tasks.areas
    hosts = {g: h for g, h in tasks.hosts.items() if g in {a.code for a in areas}}
    per_fte = expected_path.caseload_per_fte(assessed)
    cost_general, cost_specialist = funding.cost_per_fte(assessed.funding)
    rows = []
    for area in areas:
        guests = tuple(tasks.area(g) for g, h in hosts.items() if h == area.code)
        slots = ({Pool.GENERAL: 0, Pool.SPECIALIST: 0} if area.code in hosts
                 else planner.seeds(assessed, area, guests))
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


def plan_scenario(scenario: Scenario, plan: pd.DataFrame) -> Scenario:
    """``scenario`` staffed by an analytic plan (rows of :func:`analytic_plan`): each area's
    FTE set directly, in post from day 0 (recruited and trained ahead of commencement)."""
    fte = {str(r["area"]): AreaFte(general=float(r["general_fte"]),
                                   specialist=float(r["specialist_fte"]))
           for r in plan.to_dict("records") if r["area"] != "national"}
    f = dataclasses.replace(scenario.funding, capacity_from="fte", schedule=(),
                            area_budget_gbp=FrozenMap(), area_fte=FrozenMap(fte))
    return dataclasses.replace(scenario, name=f"{scenario.name}_analytic_plan", funding=f)


def quantile_sets(prices: pd.DataFrame, quantiles: tuple[float, ...] = CONFIRM_QUANTILES
                  ) -> list[tuple[float, int, float]]:
    """``(quantile, sample, national least cost)``: for each quantile, the parameter set whose
    national least cost is that quantile of the sets' costs (the inverted empirical CDF, so an
    actual set: the least cost that covers at least that share of sets)."""
    nat = prices[prices["area"] == "national"].sort_values(["annual_cost_gbp", "sample"])
    costs = nat["annual_cost_gbp"].to_numpy(dtype=float)
    out = []
    for q in quantiles:
        i = max(0, math.ceil(q * len(costs) - 1e-9) - 1)
        out.append((q, int(nat["sample"].iloc[i]), float(costs[i])))
    return out


def confirm(scenarios: list[Scenario], prices: pd.DataFrame, settings: ExperimentSettings,
            replications: int, quantiles: tuple[float, ...] = CONFIRM_QUANTILES
            ) -> pd.DataFrame:
    """Confirm the analytic least cost by simulation at ``quantiles`` of its distribution: run
    the capacity test (``replications`` replications, as ``rjsim capacity-test`` runs it) on the
    parameter set at each quantile (:func:`quantile_sets`) staffed by its analytic plan, and
    report whether it passes: per quantile the set, its cost, the national verdict, how many
    areas pass and which do not (with the criterion that binds)."""
    rows = []
    run = dataclasses.replace(settings, replications=replications, target_precision=None)
    for q, sample, cost in quantile_sets(prices, quantiles):
        plan = prices[prices["sample"] == sample]
        e = run_experiment(capacity.assessed(plan_scenario(scenarios[sample], plan)), run)
        result = capacity_test.evaluate(e.scenario, e.per_replication["capacity_metrics"],
                                        e.plan.areas)
        v = result.verdicts
        failing = v[v["verdict"].map(str) != str(Verdict.PASS)]
        rows.append({"quantile": q, "sample": sample, "annual_cost_gbp": cost,
                     "verdict": str(result.verdict), "passes": result.verdict == Verdict.PASS,
                     "areas_pass": len(v) - len(failing), "areas": len(v),
                     "not_passing": "; ".join(f"{a} ({str(b) or str(w)})" for a, w, b in zip(
                         failing["area"], failing["verdict"], failing["binding_criterion"],
                         strict=True)),
                     "replications": replications})
    return pd.DataFrame(rows)


def _ordinal(q: float) -> str:
    return "the median" if q == 0.5 else f"the {100 * q:.0f}th percentile"


def headline(summary: pd.DataFrame, confirmed: pd.DataFrame | None = None) -> str:
    """'Commencing the right needs about GBP X m a year (90% interval A-B) ...', with what the
    simulation confirmed (:func:`confirm`) when given."""
    n = summary[summary["area"] == "national"].iloc[0]
    text = (f"Commencing the right needs about GBP {n['median_gbp'] / 1e6:.0f}m a year (90% "
            f"interval GBP {n['p05_gbp'] / 1e6:.0f}m-{n['p95_gbp'] / 1e6:.0f}m); GBP "
            f"{n['p90_gbp'] / 1e6:.0f}m a year covers 90% of parameter sets (analytic "
            "Erlang C/A estimate of each set's least staffing")
    if confirmed is None or confirmed.empty:
        return text + ", not confirmed by simulation)"
    parts = [f"at {_ordinal(float(r['quantile']))} (GBP "
             f"{float(r['annual_cost_gbp']) / 1e6:.1f}m) it "
             + ("passes" if r["passes"] else f"does not pass ({r['verdict']}; "
                                              f"{r['areas_pass']} of {r['areas']} areas pass)")
             for r in confirmed.to_dict("records")]
    return (text + "). Simulated with the capacity test "
            f"({int(confirmed['replications'].iloc[0])} replications), that set's plan: "
            + "; ".join(parts))
