"""Several funding options under the same parameter uncertainty, side by side.

Options compared this way share one ``[uncertainty]`` table (:func:`check_shared`), so they
see the same parameter sets: the space-filling sample is drawn once over every option's
parameters together (:func:`shared_values`), and every option runs on the first option's
``run.seed`` (common random numbers), so that the options' differences in each set come from
the options, not from luck. Each option is propagated as one scenario is
(:func:`rjsim.uncertainty.propagate.run_uncertainty`); :func:`options_table` and
:func:`options_areas` put the results side by side (national KPIs, the probability of passing
the capacity test, the price of commencement). ``rjsim uncertainty`` with several scenarios
and ``rjsim compare --uncertainty N`` run them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from rjsim.core.errors import Problem, ScenarioError
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_sample as sampling
from rjsim.scenario.spec import Scenario
from rjsim.uncertainty import price
from rjsim.uncertainty.propagate import (
    UncertaintyResult,
    capacity_probabilities,
    run_uncertainty,
    sample_seed,
)


def check_shared(names: Sequence[str], decls: Sequence[unc.Declaration]) -> None:
    """Options compared under uncertainty share one ``[uncertainty]`` table (samples,
    replications, method, seed, distributions, correlations, sample file), so that they see
    the same parameter sets; their names must differ. Raise :class:`ScenarioError` naming
    every difference from the first option."""
    problems = [Problem("uncertainty", f"two options are both named '{n}'; give each a "
                        "distinct name") for n in sorted({n for n in names
                                                          if list(names).count(n) > 1})]
    first = decls[0].settings
    for name, d in zip(names[1:], decls[1:], strict=True):
        for f in ("samples", "replications", "method", "seed", "vary", "exclude",
                  "distributions", "correlations", "sample_file"):
            mine, theirs = getattr(d.settings, f), getattr(first, f)
            if mine != theirs:
                problems.append(Problem(f"{name}: uncertainty.{f}", "options compared under "
                                        "uncertainty must share one [uncertainty] table so "
                                        f"that they see the same parameter sets; the first "
                                        f"option '{names[0]}' has {theirs!r}", repr(mine)))
    if problems:
        raise ScenarioError(problems, "options cannot share parameter sets")


def shared_values(decls: Sequence[unc.Declaration], seed: int) -> list[np.ndarray]:
    """Each option's parameter sets from one draw (:func:`check_shared` first): the
    space-filling sample is drawn once over every option's parameters together (the first
    option's in order, then any only others vary, such as leakage from a pot that is not
    ringfenced), and each option maps its own columns through its own distributions. An option
    whose distributions equal the first's gets the very same values; with one option this is
    :func:`rjsim.scenario.uncertainty_sample.sample`."""
    if decls[0].file_values is not None:  # one sample file for all (check_shared)
        return [np.asarray(d.file_values, dtype=float).copy() for d in decls]
    keys = list(dict.fromkeys(k for d in decls for k in d.keys))
    s = decls[0].settings
    u = sampling.unit_sample(len(keys), s.samples, s.method, seed)
    u = sampling.correlate(u, unc.correlation_matrix(keys, s.correlations))
    column = {k: j for j, k in enumerate(keys)}
    return [sampling.to_values(d, u[:, [column[k] for k in d.keys]]) for d in decls]


def run_options(scenarios: Sequence[Scenario], decls: Sequence[unc.Declaration],
                settings: ExperimentSettings | None = None, seed: int | None = None,
                replications: int | None = None, confirm_replications: int | None = None
                ) -> dict[str, UncertaintyResult]:
    """Several funding options under the same parameter uncertainty: the same parameter sets
    (:func:`shared_values`, drawn with ``seed``, else the first option's sample seed) and
    common random numbers (every option runs with the first option's ``run.seed``), so that
    the options' differences in each set come from the options, not from luck. Returns option
    name -> :func:`run_uncertainty` result, in the order given (:func:`options_table` puts
    them side by side)."""
    if not scenarios or len(scenarios) != len(decls):
        raise ScenarioError([Problem("uncertainty", "needs at least one option, each with its "
                                     "declaration")], "nothing to run")
    names = [s.name for s in scenarios]
    check_shared(names, decls)
    settings = settings or ExperimentSettings()
    run_seed = scenarios[0].run.seed
    aligned = [replace(s, run=replace(s.run, seed=run_seed)) for s in scenarios]
    values = shared_values(decls, sample_seed(scenarios[0], decls[0], seed))
    outer, n = settings.progress, len(aligned)
    out = {}
    for j, (s, d, v) in enumerate(zip(aligned, decls, values, strict=True)):
        def progress(done: int, total: int, j: int = j) -> None:
            if outer is not None:
                outer(j * total + done, n * total)
        out[s.name] = run_uncertainty(s, d, replace(settings, progress=progress),
                                      replications=replications,
                                      confirm_replications=confirm_replications, values=v)
    return out


#: The summary of the areas' probabilities of passing in :func:`options_table`.
AREA_SUMMARY = (("areas_p_pass_ge_90", "areas passing in at least 90% of parameter sets"),
                ("areas_p_pass_ge_50", "areas passing in at least half of the parameter sets"),
                ("areas_p_pass_median", "the median area's probability of passing"))


def options_table(results: Mapping[str, UncertaintyResult]) -> pd.DataFrame:
    """Several funding options' uncertainty results side by side (``results``: option name ->
    its :func:`run_uncertainty` result, best from :func:`run_options` so that every option sees
    the same parameter sets): per option and national KPI the median, the 90% interval across
    parameter sets and the share of variance from parameters, plus ``p_pass_national`` (the
    share of sets in which the nation passes the capacity test), the areas' probabilities of
    passing summarised (:data:`AREA_SUMMARY`: how many areas pass in at least 90% and in at
    least half of the sets, and the median area's probability) and
    ``price_of_commencement_gbp`` (the analytic least annual cost) where the option has them."""
    cols = ["option", "kpi", "median", "p05", "p95", "share_parameter"]
    parts = []
    for name, r in results.items():
        nat = r.kpis[r.kpis["level"] == "national"]
        parts.append(nat[cols[1:]].assign(option=name))
        extra = []
        if r.capacity is not None:
            p = capacity_probabilities(r.capacity)
            share = float(p.loc[p["area"] == "national", "p_pass"].iloc[0])
            extra.append({"kpi": "p_pass_national", "median": share})
            areas = p.loc[p["area"] != "national", "p_pass"].to_numpy(dtype=float)
            if len(areas):
                extra += [{"kpi": "areas_p_pass_ge_90", "median": float((areas >= 0.9).sum())},
                          {"kpi": "areas_p_pass_ge_50", "median": float((areas >= 0.5).sum())},
                          {"kpi": "areas_p_pass_median", "median": float(np.median(areas))}]
        if r.prices is not None:
            s = price.price_summary(r.prices)
            n = s[s["area"] == "national"].iloc[0]
            extra.append({"kpi": "price_of_commencement_gbp", "median": float(n["median_gbp"]),
                          "p05": float(n["p05_gbp"]), "p95": float(n["p95_gbp"])})
        if extra:
            parts.append(pd.DataFrame(extra).assign(option=name))
    out = pd.concat(parts, ignore_index=True).reindex(columns=cols)
    return out.reset_index(drop=True)


def options_areas(results: Mapping[str, UncertaintyResult]) -> pd.DataFrame:
    """Per option and area (and ``national``): the probability across parameter sets that the
    capacity test passes (:func:`capacity_probabilities`); options without a capacity test
    are left out."""
    parts = [capacity_probabilities(r.capacity).assign(option=name)
             for name, r in results.items() if r.capacity is not None]
    if not parts:
        return pd.DataFrame(columns=["option", "area", "samples", "p_pass", "p_fail",
                                     "p_inconclusive"])
    out = pd.concat(parts, ignore_index=True)
    return out[["option", *[c for c in out.columns if c != "option"]]]
