"""Global sensitivity: which uncertain parameters drive the national KPIs (SALib).

Two methods on the declared parameters (:mod:`rjsim.scenario.uncertainty`), both in the
parameters' quantile space (each parameter's distribution maps ``[0, 1]`` to its values, so a
step is a step in probability, the usual treatment of non-uniform inputs):

* **Morris** elementary effects (screening many parameters): ``trajectories x (k + 1)`` runs;
  ``mu_star`` (mean absolute effect) ranks the parameters, ``sigma`` flags interactions or
  non-linearity.
* **Sobol'** variance indices (where affordable): ``N x (k + 2)`` runs (Saltelli's design,
  first-order and total indices ``S1`` and ``ST`` with bootstrap confidence intervals).

Every design point runs ``replications`` replications on common random numbers (the scenario's
seed), so the differences between points are the parameters' effects, not luck; its KPI is the
mean over them. Points are ordinary parameter sets through the experiment runner, so the work is
parallel and resumable like ``rjsim uncertainty``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from rjsim.analysis.capacity_metrics import window_problem
from rjsim.core.codes import Verdict
from rjsim.core.errors import Problem, ScenarioError
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_sample as sampling
from rjsim.scenario.spec import Scenario
from rjsim.uncertainty import price, propagate

Method = Literal["morris", "sobol"]
#: The analytic least annual cost that passes the capacity test (scenarios with a right).
PRICE = "price_of_commencement_gbp"
#: How many areas pass the capacity test at a design point (judged on its replications, as
#: ``rjsim capacity-test`` judges: with one replication no area can pass, so this output
#: varies only with ``replications`` of 2 or more; runs that cannot hold the test's window
#: have none).
AREAS = "areas_passing"
ONE_REPLICATION = ("not ranked: a capacity-test verdict needs two or more replications per "
                   "design point (--replications 2)")
#: National KPIs whose drivers are ranked.
OUTPUTS = ("unmet_demand_rate", "wait_alloc_days_mean", "share_allocated_within_target",
           "interventions_per_year", "annual_cost_gbp", AREAS, PRICE)
#: Quantile-space margin: Morris' grid reaches 0 and 1, where an unbounded distribution
#: (a normal) is infinite; points are mapped from [EDGE, 1 - EDGE].
EDGE = 0.001
MORRIS_LEVELS = 4


@dataclass
class SensitivityResult:
    """``indices``: one row per (kpi, parameter) with the method's indices, ``score`` (Morris
    ``mu_star``, Sobol' ``ST``) and ``rank`` (1 = most influential; empty when the KPI is
    constant or undefined in some run); ``design``: the design points (sample, one column per
    key path); ``outputs``: per design point the national KPIs (mean over replications)."""

    method: Method
    declaration: unc.Declaration
    replications: int
    design: pd.DataFrame
    outputs: pd.DataFrame
    indices: pd.DataFrame
    tasks_run: int = 0
    tasks_cached: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def top(self, kpi: str, n: int = 3) -> list[str]:
        """The ``n`` most influential parameters of ``kpi`` (those with some effect)."""
        rows = self.indices[self.indices["kpi"] == kpi].sort_values("rank")
        rows = rows[rows["score"] > 0] if "score" in rows else rows.iloc[:0]
        return rows["parameter"].head(n).tolist()


def _problem(decl: unc.Declaration) -> dict[str, Any]:
    if not decl.parameters:
        raise ScenarioError([Problem("uncertainty", "no parameter varies: "
                                             "sensitivity needs at least one")],
                                "nothing to analyse")
    if decl.file_values is not None or any(p.distribution is None for p in decl.parameters):
        raise ScenarioError([Problem("uncertainty.sample_file", "sensitivity needs "
                                             "parameter distributions, not a sample file; "
                                             "remove sample_file")], "nothing to analyse")
    return {"num_vars": len(decl.parameters), "names": decl.keys,
            "bounds": [[0.0, 1.0]] * len(decl.parameters)}


def design(decl: unc.Declaration, method: Method, n: int, seed: int) -> np.ndarray:
    """The unit-cube design: Morris trajectories (``n`` of them) or Saltelli's Sobol' design
    (base sample size ``n``, a power of two)."""
    problem = _problem(decl)
    if method == "morris":
        from SALib.sample import morris as morris_sample
        return np.asarray(morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS,
                                               seed=seed), dtype=float)
    from SALib.sample import sobol as sobol_sample
    return np.asarray(sobol_sample.sample(problem, n, calc_second_order=False, seed=seed),
                      dtype=float)


def _analyse(decl: unc.Declaration, method: Method, u: np.ndarray, y: np.ndarray, kpi: str,
             seed: int) -> pd.DataFrame:
    problem = _problem(decl)
    if method == "morris":
        from SALib.analyze import morris as morris_analyze
        res = morris_analyze.analyze(problem, u, y, num_levels=MORRIS_LEVELS, seed=seed)
        df = pd.DataFrame({"parameter": decl.keys, "mu_star": res["mu_star"],
                           "mu_star_conf": res["mu_star_conf"], "mu": res["mu"],
                           "sigma": res["sigma"]})
        score = df["mu_star"]
    else:
        from SALib.analyze import sobol as sobol_analyze
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        df = pd.DataFrame({"parameter": decl.keys, "S1": res["S1"], "S1_conf": res["S1_conf"],
                           "ST": res["ST"], "ST_conf": res["ST_conf"]})
        score = df["ST"]
    df["score"] = score
    df["rank"] = score.rank(ascending=False, method="first")
    df.insert(0, "kpi", kpi)
    return df.sort_values("rank").reset_index(drop=True)


def run_sensitivity(scenario: Scenario, decl: unc.Declaration, method: Method = "morris",
                    n: int = 10, settings: ExperimentSettings | None = None,
                    replications: int = 1, seed: int | None = None,
                    outputs: tuple[str, ...] = OUTPUTS) -> SensitivityResult:
    """Run the design and rank each national KPI's drivers (module docstring)."""
    settings = settings or ExperimentSettings()
    t0 = time.perf_counter()
    seed = seed if seed is not None else (decl.settings.seed if decl.settings.seed is not None
                                          else scenario.run.seed)
    u = design(decl, method, n, seed)
    values = sampling.to_values(decl, EDGE + (1 - 2 * EDGE) * u)
    judge = AREAS in outputs and window_problem(scenario) is None and replications >= 2
    done = propagate.run_sets(scenario, decl, values, settings, replications,
                              judge_capacity=judge)
    national = done.runs[done.runs["level"] == "national"]
    means = national.groupby(["sample", "kpi"])["value"].mean().unstack("kpi").sort_index()
    if done.capacity is not None:
        areas = done.capacity[done.capacity["area"] != "national"]
        passing = (areas["verdict"] == str(Verdict.PASS)).groupby(areas["sample"]).sum()
        means[AREAS] = passing.reindex(means.index).to_numpy(dtype=float)
    if price.has_price(scenario) and PRICE in outputs:
        prices = price.price_table(propagate.sample_scenarios(scenario, decl, values))
        nat = prices[prices["area"] == "national"].set_index("sample")["annual_cost_gbp"]
        means[PRICE] = nat.reindex(means.index).to_numpy()
    parts = []
    if AREAS in outputs and window_problem(scenario) is None and replications < 2:
        parts.append(pd.DataFrame({"kpi": AREAS, "parameter": decl.keys, "rank": np.nan,
                                   "note": ONE_REPLICATION}))
    for kpi in outputs:
        if kpi not in means.columns:
            continue
        y = means[kpi].to_numpy(dtype=float)
        if np.isnan(y).any() or np.ptp(y) == 0:
            parts.append(pd.DataFrame({"kpi": kpi, "parameter": decl.keys,
                                       "rank": np.nan, "note": "constant or undefined in "
                                                               "some runs: not ranked"}))
            continue
        parts.append(_analyse(decl, method, u, y, kpi, seed))
    return SensitivityResult(method, decl, replications,
                             propagate.sample_table(decl, values),
                             means.reset_index(), pd.concat(parts, ignore_index=True),
                             done.tasks_run, done.tasks_cached,
                             {"total_s": time.perf_counter() - t0})


LABELS = {"unmet_demand_rate": "National unmet demand",
          "wait_alloc_days_mean": "The national mean wait",
          "share_allocated_within_target": "The share allocated within the target",
          "interventions_per_year": "Interventions a year",
          "annual_cost_gbp": "The annual cost",
          AREAS: "The number of areas passing the capacity test",
          PRICE: "The price of commencement (analytic least cost that passes the test)"}


def depends_most(result: SensitivityResult, kpi: str, n: int = 3) -> str:
    """The plain line: "National unmet demand depends most on A, B and C."."""
    top = result.top(kpi, n)
    if not top:
        notes = result.indices.loc[result.indices["kpi"] == kpi].get("note")
        if notes is not None and (notes == ONE_REPLICATION).any():
            return f"{LABELS.get(kpi, kpi)}: {ONE_REPLICATION}."
        return (f"{LABELS.get(kpi, kpi)}: no parameter changes it (constant or undefined in "
                "some runs).")
    names = top[0] if len(top) == 1 else ", ".join(top[:-1]) + " and " + top[-1]
    return f"{LABELS.get(kpi, kpi)} depends most on {names}."
