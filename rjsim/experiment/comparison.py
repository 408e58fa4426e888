"""Compare scenarios under common random numbers: estimates and paired differences.

Every scenario runs with the same seed and replication numbers, so replication i of each sees
the same victims, referrals and per-case draws wherever they do not depend on what differs.
For each KPI (nationally and per area) the comparison gives each scenario's mean and 95% CI,
the paired difference from the first scenario with its 95% CI, whether it is real at 95% (the
interval excludes zero), and the variance reduction achieved against independent seeds.
Each option is also put through the minister's capacity test
(:mod:`rjsim.capacity.capacity_test`) over its assessment window, so options can be compared on
how many areas pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from rjsim.analysis import capacity_metrics as capacity
from rjsim.analysis import inequality
from rjsim.capacity import capacity_test
from rjsim.capacity.capacity_test import CapacityTestResult
from rjsim.core import stats
from rjsim.core.errors import Problem, ScenarioError
from rjsim.experiment.experiment import (
    Experiment,
    ExperimentSettings,
    Progress,
    run_experiment,
)
from rjsim.scenario.spec import Scenario

#: (level, per-replication table, the key it is paired by): national, per area, and per offence
#: group nationally (e.g. the sensitive groups whose specialists a region may pool).
LEVELS = (("national", "national_summary", None), ("area", "area_summary", "area"),
          ("group", "group_summary", "group"))


@dataclass
class Comparison:
    """The experiments compared, and tidy tables of estimates and paired differences."""

    experiments: list[Experiment]
    estimates: pd.DataFrame  # level, area, kpi, scenario, mean, sd, n, ci_low, ci_high
    differences: pd.DataFrame  # level, area, kpi, scenario, baseline, difference, CI, ...
    capacity_tests: list[CapacityTestResult | None] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [e.scenario.name for e in self.experiments]


def _aligned(scenarios: Sequence[Scenario], seed: int | None) -> list[Scenario]:
    """Same seed for all (common random numbers); names must differ."""
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError([Problem("compare", f"two scenarios are both named '{n}'; give "
                                     "each a distinct name") for n in dupes])
    seed = scenarios[0].run.seed if seed is None else seed
    return [replace(s, run=replace(s.run, seed=seed)) for s in scenarios]


def compare(scenarios: Sequence[Scenario], settings: ExperimentSettings | None = None,
            seed: int | None = None, *,
            progress: Sequence[Progress | None] | None = None) -> Comparison:
    """Run every scenario with common random numbers and compare them with the first.

    ``progress``: one callback per scenario for its experiment's tasks (instead of
    ``settings.progress``, which every experiment would restart from zero).
    """
    if len(scenarios) < 2:
        raise ScenarioError([Problem("compare", "needs at least two scenarios")])
    settings = settings or ExperimentSettings()
    aligned = _aligned(scenarios, seed)
    n = settings.replications or aligned[0].run.replications
    each = list(progress) if progress is not None else [settings.progress] * len(aligned)
    if len(each) != len(aligned):
        raise ValueError(f"{len(each)} progress callbacks for {len(aligned)} scenarios")
    experiments = [run_experiment(s, replace(settings, replications=n, target_precision=None,
                                             progress=p))
                   for s, p in zip(aligned, each, strict=True)]
    return Comparison(experiments, _estimates(experiments), _differences(experiments),
                      [_capacity_test(e) for e in experiments])


def _capacity_test(e: Experiment) -> CapacityTestResult | None:
    """The option's capacity test over its assessment window (None if the run ends first)."""
    if capacity.window_problem(e.scenario) is not None:
        return None
    return capacity_test.evaluate(e.scenario, e.per_replication["capacity_metrics"],
                                  e.plan.areas)


def capacity_table(c: Comparison) -> pd.DataFrame:
    """One row per option: its capacity-test verdict and how many areas pass, fail or are
    inconclusive (empty counts where the run ends before the assessment window)."""
    rows = []
    for e, t in zip(c.experiments, c.capacity_tests, strict=True):
        row: dict[str, object] = {"option": e.scenario.name}
        if t is not None:
            n = t.national.iloc[0]
            row |= {k: n[k] for k in ("verdict", "areas", "areas_pass", "areas_fail",
                                      "areas_inconclusive", "window_start_day",
                                      "window_end_day")}
        rows.append(row)
    return pd.DataFrame(rows)


def inequality_table(c: Comparison) -> pd.DataFrame:
    """The postcode lottery per option (:func:`rjsim.analysis.inequality.compare`): each
    between-area KPI with its 95% CI and the paired difference from the first option. The row
    with ``kpi == "unmet_gap"`` is the gap between the best and worst area's unmet demand."""
    return inequality.compare({e.scenario.name: e.per_replication["area_summary"]
                               for e in c.experiments})


def _per_rep(e: Experiment, table: str) -> pd.DataFrame:
    return e.per_replication[table]


def _estimates(experiments: list[Experiment]) -> pd.DataFrame:
    parts = []
    for e in experiments:
        for level, key in (("national", "national"), ("area", "area"), ("group", "group")):
            s = e.summary[key].assign(level=level, scenario=e.scenario.name)
            for column in ("area", "group"):
                if column not in s:
                    s[column] = "all"
            parts.append(s)
    df = pd.concat(parts, ignore_index=True)
    return df[["level", "area", "group", "kpi", "scenario", "mean", "sd", "n", "ci_low",
               "ci_high"]]


def _differences(experiments: list[Experiment]) -> pd.DataFrame:
    base = experiments[0]
    rows = []
    for level, table, key in LEVELS:
        a_df = _per_rep(base, table)
        kpis = stats.kpi_columns(a_df, [key] if key else [])
        for other in experiments[1:]:
            b_df = _per_rep(other, table)
            for unit, a_rows, b_rows in _pairs(a_df, b_df, key):
                area, group = (unit, "all") if key != "group" else ("all", unit)
                for kpi in kpis:
                    p = stats.paired(a_rows[kpi].to_numpy(), b_rows[kpi].to_numpy())
                    d = p.difference
                    rows.append((level, area, group, kpi, other.scenario.name,
                                 base.scenario.name,
                                 d.mean, d.low, d.high, d.n, p.significant,
                                 p.paired_variance, p.independent_variance,
                                 p.variance_reduction))
    return pd.DataFrame(rows, columns=[
        "level", "area", "group", "kpi", "scenario", "baseline", "difference", "ci_low",
        "ci_high", "n",
        "significant", "paired_variance", "independent_variance", "variance_reduction"])


def _pairs(a: pd.DataFrame, b: pd.DataFrame, key: str | None
           ) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Rows of ``a`` and ``b`` for each area (or nationally), both in replication order."""
    if key is None:
        return [("all", a.sort_values("replication"), b.sort_values("replication"))]
    out = []
    for area, a_rows in a.groupby(key, sort=False):
        b_rows = b[b[key] == area]
        if len(b_rows):
            out.append((str(area), a_rows.sort_values("replication"),
                        b_rows.sort_values("replication")))
    return out


#: The KPIs committee staff compare funding options on.
OPTION_KPIS = ("annual_cost_gbp", "fte_in_post", "interventions", "unmet_demand",
               "unmet_demand_rate", "wait_alloc_days_mean", "wait_alloc_days_p90",
               "cost_per_intervention_gbp")


def options_table(c: Comparison) -> pd.DataFrame:
    """One row per option, level (national or area) and key KPI: the option's mean and 95% CI
    and its paired difference from the first option with 95% CI."""
    est = c.estimates[c.estimates["kpi"].isin(OPTION_KPIS)]
    diff = c.differences[c.differences["kpi"].isin(OPTION_KPIS)].rename(columns={
        "ci_low": "difference_ci_low", "ci_high": "difference_ci_high",
        "significant": "difference_real_at_95"})
    keys = ["level", "area", "group", "kpi", "scenario"]
    out = est.merge(diff[[*keys, "difference", "difference_ci_low", "difference_ci_high",
                          "difference_real_at_95"]], on=keys, how="left")
    out = out.rename(columns={"scenario": "option"})
    return out[["option", "level", "area", "group", "kpi", "mean", "ci_low", "ci_high", "n",
                "difference", "difference_ci_low", "difference_ci_high",
                "difference_real_at_95"]]
