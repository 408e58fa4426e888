"""Propagate parameter uncertainty: parameter sets x replications on common random numbers.

Each parameter set (a row of the declared sample, :mod:`rjsim.scenario.uncertainty`) is the
scenario with those settings replaced; it runs ``R`` replications through the ordinary
experiment runner, so its tasks are (replication, area) pairs on any executor and are cached:
an interrupted run resumes where it stopped, and the results are identical whatever the
executor or the number of workers. Every set uses the scenario's seed, so replication ``r`` of
every set sees the same random streams (common random numbers): differences between sets come
from the parameters, not from luck.

Per KPI (national and per area), the nested design splits the variance (one-way random
effects): with ``y[i, r]`` the KPI in set ``i``, replication ``r``,

* simulation noise ``s2_noise`` = mean over sets of the within-set variance,
* parameter uncertainty ``s2_param`` = variance of the set means minus ``s2_noise / R``
  (at least 0),

and the parameter share is ``s2_param / (s2_param + s2_noise)``. The uncertainty interval of a
KPI is the 5th-95th percentile of its set means (median in the middle).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rjsim.analysis import rolling
from rjsim.analysis.capacity_metrics import window_problem
from rjsim.capacity import capacity_test
from rjsim.capacity.time_to_pass_realised import first_pass
from rjsim.core.codes import Verdict
from rjsim.experiment.experiment import Experiment, ExperimentSettings, run_experiment
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_sample as sampling
from rjsim.scenario.spec import Scenario
from rjsim.uncertainty import price

#: KPIs summarised across parameter sets (those a summary lacks are skipped).
KPIS = ("referrals_per_year", "interventions_per_year", "unmet_demand_rate",
        "unmet_demand_per_year", "wait_alloc_days_mean", "wait_alloc_days_p90",
        "share_allocated_within_target", "backlog_end", "utilisation", "fte_in_post",
        "annual_cost_gbp", "cost_per_intervention_gbp")
#: Monthly national series kept for fan charts.
MONTHLY = ("backlog_end", "wait_alloc_days_mean", "share_allocated_within_target",
           "unmet_demand", "referrals")
LEVELS = (0.05, 0.5, 0.95)
Progress = Callable[[int, int], None]


@dataclass
class UncertaintyResult:
    """What :func:`run_uncertainty` found, as tidy DataFrames.

    ``samples``: one row per parameter set (``sample`` and one column per key path);
    ``runs``: one row per (sample, replication, level, area, kpi) with its value;
    ``kpis``: per (level, area, kpi) the median and 90% interval across parameter sets and the
    variance split; ``monthly``: national monthly series per (sample, replication, period);
    ``capacity``: per (sample, area) the capacity test's verdict (area ``national`` for the
    nation), when the scenario's run holds an assessment window; ``prices``: per (sample,
    area) the analytic least annual cost that passes the test
    (:mod:`rjsim.uncertainty.price`), when the scenario commences a right; ``passed_by``: per
    (sample, replication, area) the months from commencement to the end of the first rolling
    assessment window in which the capacity test is met (:mod:`rjsim.capacity.time_to_pass`;
    ``inf`` when no window within the run passes), when the run holds a rolling window;
    ``confirmed``: the analytic price confirmed by simulation at its median, 90th and 95th
    percentiles (:func:`rjsim.uncertainty.price.confirm`).
    """

    scenario: Scenario
    declaration: unc.Declaration
    replications: int
    samples: pd.DataFrame
    runs: pd.DataFrame
    kpis: pd.DataFrame
    monthly: pd.DataFrame
    capacity: pd.DataFrame | None
    prices: pd.DataFrame | None = None  # analytic least annual cost per set and area
    passed_by: pd.DataFrame | None = None  # time to pass per set, replication and area
    confirmed: pd.DataFrame | None = None  # the price confirmed by simulation (price.confirm)
    tasks_run: int = 0
    tasks_cached: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def sample_table(decl: unc.Declaration, values: np.ndarray) -> pd.DataFrame:
    """The parameter sets as a table: ``sample`` (from 0) and one column per key path."""
    df = pd.DataFrame(values, columns=decl.keys)
    df.insert(0, "sample", np.arange(len(df)))
    return df


def sample_scenarios(scenario: Scenario, decl: unc.Declaration, values: np.ndarray
                     ) -> list[Scenario]:
    """One validated scenario per parameter set (named ``<name>-uNNNN``)."""
    integer = {p.key: p.integer for p in decl.parameters}
    base = scenario.name[:72]
    return [unc.apply(scenario, dict(zip(decl.keys, row, strict=True)), integer,
                      f"uncertainty sample {i}", f"{base}-u{i:04d}")
            for i, row in enumerate(values)]


def _long(df: pd.DataFrame, level: str, sample: int) -> pd.DataFrame:
    kpis = [k for k in KPIS if k in df.columns]
    keep = ["replication", *(["area"] if level == "area" else [])]
    out = df[keep + kpis].melt(id_vars=keep, var_name="kpi", value_name="value")
    if level == "national":
        out.insert(1, "area", "national")
    out.insert(0, "level", level)
    out.insert(0, "sample", sample)
    return out


def _capacity_rows(e: Experiment, sample: int) -> pd.DataFrame | None:
    if window_problem(e.scenario) is not None:
        return None  # the run cannot hold the assessment window: nothing to judge
    result = capacity_test.evaluate(e.scenario, e.per_replication["capacity_metrics"],
                                    e.plan.areas)
    v = result.verdicts[["area", "verdict", "binding_criterion"]].copy()
    nat = pd.DataFrame([{"area": "national", "verdict": str(result.verdict),
                         "binding_criterion": ""}])
    out = pd.concat([v, nat], ignore_index=True)
    out["verdict"] = out["verdict"].map(str)
    out["binding_criterion"] = out["binding_criterion"].map(str)
    out.insert(0, "sample", sample)
    return out


def _passed_by_rows(e: Experiment, sample: int) -> pd.DataFrame | None:
    windows = e.per_replication.get("rolling_metrics")
    if windows is None or not len(windows):
        return None  # the run holds no rolling window
    first = first_pass(e.scenario, windows)
    out = first[["replication", "area", "first_window", "end_day",
                 "months_after_commencement", "censored"]].copy()
    out.insert(0, "sample", sample)
    return out


@dataclass
class SetRuns:
    """Every parameter set's replications: tidy KPI rows, national monthly series, capacity
    verdicts, times to pass, and task counts."""

    runs: pd.DataFrame
    monthly: pd.DataFrame
    capacity: pd.DataFrame | None
    tasks_run: int
    tasks_cached: int
    passed_by: pd.DataFrame | None = None


def run_sets(scenario: Scenario, decl: unc.Declaration, values: np.ndarray,
             settings: ExperimentSettings, replications: int, judge_capacity: bool = True
             ) -> SetRuns:
    """Run each row of ``values`` (one column per declared parameter) ``replications`` times
    on common random numbers (every set uses the scenario's seed)."""
    scenarios = sample_scenarios(scenario, decl, values)
    total_sets = len(scenarios)
    outer = settings.progress
    runs, monthly, capacity, passed_by = [], [], [], []
    run_count = cached = 0
    for i, s in enumerate(scenarios):
        def progress(done: int, total: int, i: int = i) -> None:
            if outer is not None:
                outer(i * total + done, total_sets * total)
        e = run_experiment(s, replace(settings, replications=replications, progress=progress,
                                      target_precision=None))
        run_count += e.tasks_run
        cached += e.tasks_cached
        runs += [_long(e.per_replication["national_summary"], "national", i),
                 _long(e.per_replication["area_summary"].reset_index(), "area", i)]
        nm = e.per_replication["national_month"]
        cols = [c for c in ("replication", "period", "month_start", *MONTHLY) if c in nm.columns]
        monthly.append(nm[cols].assign(sample=i))
        if judge_capacity:
            rows = _capacity_rows(e, i)
            if rows is not None:
                capacity.append(rows)
            first = _passed_by_rows(e, i)
            if first is not None:
                passed_by.append(first)
    months = pd.concat(monthly, ignore_index=True)
    months = months[["sample", *[c for c in months.columns if c != "sample"]]]
    return SetRuns(pd.concat(runs, ignore_index=True), months,
                   pd.concat(capacity, ignore_index=True) if capacity else None, run_count,
                   cached, pd.concat(passed_by, ignore_index=True) if passed_by else None)


def sample_seed(scenario: Scenario, decl: unc.Declaration, seed: int | None = None) -> int:
    """The seed of the parameter sample: ``seed``, else the declaration's, else the run's."""
    if seed is not None:
        return seed
    return decl.settings.seed if decl.settings.seed is not None else scenario.run.seed


def run_uncertainty(scenario: Scenario, decl: unc.Declaration,
                    settings: ExperimentSettings | None = None, seed: int | None = None,
                    replications: int | None = None, judge_capacity: bool = True,
                    confirm_replications: int | None = None,
                    values: np.ndarray | None = None) -> UncertaintyResult:
    """Sample the declared parameters, run every set ``replications`` times (default: the
    declaration's) on common random numbers, and summarise (module docstring). With a right,
    the analytic price is confirmed by simulation with ``confirm_replications`` replications
    (default: the scenario's ``run.replications``, as ``rjsim capacity-test`` runs; 0 skips).
    ``values``: parameter sets already drawn (one column per declared parameter, e.g. by
    :func:`rjsim.uncertainty.multi_option.shared_values`) instead of drawing them with
    ``seed``."""
    settings = settings or ExperimentSettings()
    t0 = time.perf_counter()
    r = replications or decl.settings.replications
    if values is None:
        values = sampling.sample(decl, sample_seed(scenario, decl, seed))
    scenarios = sample_scenarios(scenario, decl, values)
    prices = price.price_table(scenarios) if price.has_price(scenario) else None
    done = run_sets(scenario, decl, values, settings, r, judge_capacity)
    timings = {"propagate_s": time.perf_counter() - t0}
    n_confirm = (scenario.run.replications if confirm_replications is None
                 else confirm_replications)
    confirmed = (price.confirm(scenarios, prices, settings, n_confirm)
                 if prices is not None and n_confirm > 0 else None)
    timings["total_s"] = time.perf_counter() - t0
    return UncertaintyResult(
        scenario, decl, r, sample_table(decl, values), done.runs, summarise(done.runs),
        done.monthly, done.capacity, prices, done.passed_by, confirmed, done.tasks_run,
        done.tasks_cached, timings)


def variance_split(y: np.ndarray) -> tuple[float, float]:
    """``(parameter variance, noise variance)`` of ``y[sample, replication]`` by one-way
    random effects (module docstring); NaN values are left out; noise is NaN with one
    replication."""
    y = np.asarray(y, dtype=float)
    counts = np.sum(~np.isnan(y), axis=1)
    ok = counts > 0
    if ok.sum() < 2:
        return float("nan"), float("nan")
    y, counts = y[ok], counts[ok]
    means = np.nanmean(y, axis=1)
    between = float(np.var(means, ddof=1))
    multi = counts >= 2
    if not multi.any():
        return float("nan"), float("nan")
    with np.errstate(invalid="ignore"):
        within = np.nanvar(y[multi], axis=1, ddof=1)
    noise = float(np.mean(within))
    r_eff = float(len(counts) / np.sum(1.0 / counts))  # harmonic mean replications per set
    return max(0.0, between - noise / r_eff), noise


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (level, area, kpi): median and 90% interval of the set means, their mean, and the
    variance split (parameter vs simulation noise)."""
    rows = []
    for (level, area, kpi), g in runs.groupby(["level", "area", "kpi"], sort=False):
        wide = g.pivot(index="sample", columns="replication", values="value")
        y = wide.to_numpy(dtype=float)
        defined = y[~np.isnan(y).all(axis=1)]  # sets with the KPI defined in some replication
        means = np.nanmean(defined, axis=1) if defined.size else np.array([])
        p05, p50, p95 = (np.quantile(means, LEVELS) if len(means) else [np.nan] * 3)
        param, noise = variance_split(y)
        total = param + noise
        scale = float(np.mean(np.abs(means))) ** 2 if len(means) else 0.0
        if not total > 1e-12 * scale:
            total = 0.0  # a constant KPI (up to rounding), or undefined: nothing to split
        rows.append({"level": level, "area": area, "kpi": kpi, "median": p50,
                     "p05": p05, "p95": p95, "mean": float(np.mean(means)) if len(means)
                     else np.nan, "samples": len(means), "replications": y.shape[1],
                     "var_parameter": param, "var_noise": noise,
                     "share_parameter": param / total if total > 0 else np.nan,
                     "share_noise": noise / total if total > 0 else np.nan})
    return pd.DataFrame(rows)


def capacity_probabilities(capacity: pd.DataFrame) -> pd.DataFrame:
    """Per area (and ``national``): the share of parameter sets whose capacity test passes,
    fails and is inconclusive."""
    counts = capacity.pivot_table(index="area", columns="verdict", values="sample",
                                  aggfunc="count", fill_value=0, sort=False)
    n = counts.sum(axis=1)
    out = pd.DataFrame({"area": counts.index, "samples": n.to_numpy()})
    for v in (str(x) for x in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE)):
        out[f"p_{v}"] = (counts[v] / n).to_numpy() if v in counts else 0.0
    return out.reset_index(drop=True)


def met_by_date(passed_by: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """P(the capacity test is met by a date), per area (and ``national``) and rolling window:
    the share of (parameter set, replication) runs whose first passing window ends by that
    window's end (``p_met``: each set weighs the same, as the mean of the sets' shares), with
    the 5th and 95th percentiles of the sets' own shares (``p_met_sets_p05``/``_p95``: how much
    the answer moves with the parameters). ``passed_by``: :attr:`UncertaintyResult.passed_by`."""
    windows = rolling.windows(scenario)
    ends = windows["end_day"].to_numpy(dtype=float)
    months = np.asarray(rolling.months_after(scenario, ends), dtype=float)
    start = np.datetime64(scenario.run.start_date, "D")
    dates = start + ends.astype("timedelta64[D]")
    rows = []
    for area, g in passed_by.groupby("area", sort=False):
        wide = g.pivot(index="sample", columns="replication",
                       values="months_after_commencement").to_numpy(dtype=float)
        for w, (m, end, when) in enumerate(zip(months, ends, dates, strict=True)):
            met = np.where(np.isnan(wide), np.nan, wide <= m + 1e-9)
            per_set = np.nanmean(met, axis=1)
            rows.append({"area": area, "window": w, "end_day": end, "date": str(when),
                         "months_after_commencement": m, "p_met": float(per_set.mean()),
                         "p_met_sets_p05": float(np.quantile(per_set, 0.05)),
                         "p_met_sets_p95": float(np.quantile(per_set, 0.95)),
                         "samples": len(per_set), "replications": wide.shape[1]})
    return pd.DataFrame(rows)


def pass_probabilities(scenario: Scenario, decl: unc.Declaration,
                       settings: ExperimentSettings | None = None, seed: int | None = None,
                       replications: int | None = None) -> pd.DataFrame:
    """For a funding scenario: per area (and ``national``) the probability across parameter
    sets that the capacity test passes (``p_pass``; also ``p_fail``, ``p_inconclusive`` and
    ``samples``), each set judged on its own replications as ``rjsim capacity-test`` does.
    The table comparisons use for a P(pass) column. Empty when the run cannot hold the test's
    assessment window."""
    r = run_uncertainty(scenario, decl, settings, seed, replications, confirm_replications=0)
    if r.capacity is None:
        return pd.DataFrame(columns=["area", "samples", "p_pass", "p_fail", "p_inconclusive"])
    return capacity_probabilities(r.capacity)
