"""Propagating parameter uncertainty: the variance split, common random numbers, resuming,
the command, and an M/M/c area whose uncertain arrival rate gives each set's exact wait by
Erlang C, so the reported interval can be checked against the analytic quantiles."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from clitools import assert_clean_error, rjsim
from scipy import stats
from uncertainty_helpers import (
    LAM_MAX,
    MU,
    C,
    erlang_wait,
    mmc_scenario,
    write_area_csv,
    write_mmc_toml,
)

from rjsim.analysis import rolling
from rjsim.capacity.queueing import mmc_wait_exceeds
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.report import columns, uncertainty_plots
from rjsim.report import uncertainty as report_uncertainty
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.uncertainty import multi_option, propagate

LOCAL = ExperimentSettings(executor=ExecutorSettings("local"))
OI_LOW, OI_HIGH = 0.5, 0.85  # offender_identified: arrival rate 4 to 6.8 a day on 8 slots
#: Parameter sets of the Erlang C check: the fewest whose order-statistic intervals still reject
#: a model whose cases last 10% longer than the analytic queue's (checked once by hand).
SAMPLES = 32


def _declare(scenario: object, **table: object) -> unc.Declaration:
    settings = unc.parse_settings(table, lambda p: p)
    return uncertainty_declare.declare(scenario, settings, lambda p: p)  # type: ignore[arg-type]


# ---- the variance split ---------------------------------------------------------------------


def test_variance_split_recovers_known_components() -> None:
    rng = np.random.default_rng(5)
    n, r, var_param, var_noise = 400, 5, 4.0, 1.0
    y = rng.normal(0, math.sqrt(var_param), (n, 1)) + rng.normal(0, 1.0, (n, r))
    param, noise = propagate.variance_split(y)
    # standard errors of the two estimators (normal data): about 0.30 and 0.035
    se_param = math.sqrt(2 / (n - 1)) * (var_param + var_noise / r)
    se_noise = math.sqrt(2 / (n * (r - 1))) * var_noise
    assert abs(param - var_param) < 4 * se_param
    assert abs(noise - var_noise) < 4 * se_noise


def test_variance_split_of_pure_noise_is_near_zero_parameter_variance() -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(10, 2.0, (300, 4))  # no parameter effect at all
    param, noise = propagate.variance_split(y)
    assert noise == pytest.approx(4.0, rel=0.15)
    # the between-set variance is noise / R up to sampling error: the difference is small
    assert param < 4 * math.sqrt(2 / 299) * 4.0 / 4


def test_variance_split_needs_replications_for_noise() -> None:
    assert all(math.isnan(v) for v in propagate.variance_split(np.ones((5, 1))))


def test_summary_of_a_kpi_undefined_in_some_sets_is_quiet_and_uses_the_defined_ones() -> None:
    # a KPI undefined (NaN) in every replication of set 0, and everywhere in another KPI,
    # as a wait is when nobody is allocated: no "Mean of empty slice" warning, no split
    nan = math.nan
    runs = pd.DataFrame({"level": "national", "area": "national",
                         "kpi": ["wait"] * 6 + ["never"] * 6,
                         "sample": [0, 0, 1, 1, 2, 2] * 2, "replication": [0, 1] * 6,
                         "value": [nan, nan, 1.0, 3.0, 5.0, 7.0] + [nan] * 6})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k = propagate.summarise(runs).set_index("kpi")
    assert k.loc["wait", "samples"] == 2 and k.loc["wait", "median"] == 4.0
    assert k.loc["never", "samples"] == 0
    assert k.loc[["never"], ["median", "share_parameter"]].isna().all(axis=None)


# ---- on the model -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def area_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_area_csv(tmp_path_factory.mktemp("mmc") / "area.csv")


def test_parameter_free_configuration_is_all_noise_and_resumes(area_csv: Path,
                                                                tmp_path: Path) -> None:
    scenario = mmc_scenario(area_csv, years=1.0)
    settings = unc.UncertaintySettings(samples=3, replications=3)
    decl = unc.Declaration(settings, ())  # nothing varies
    cached = ExperimentSettings(executor=ExecutorSettings("local"), cache_dir=tmp_path)
    first = propagate.run_uncertainty(scenario, decl, cached)
    k = first.kpis.set_index(["level", "kpi"]).loc["national"]
    for kpi in ("wait_alloc_days_mean", "referrals_per_year", "utilisation"):
        assert k.loc[kpi, "var_noise"] > 0, kpi
        assert k.loc[kpi, "var_parameter"] == 0.0, kpi
        assert k.loc[kpi, "share_noise"] == 1.0, kpi
    assert first.tasks_run == 9 and first.tasks_cached == 0
    again = propagate.run_uncertainty(scenario, decl, cached)
    assert again.tasks_run == 0 and again.tasks_cached == 9
    pd.testing.assert_frame_equal(first.kpis, again.kpis)


def _order_statistic_interval(values: np.ndarray, p: float, level: float = 0.99
                              ) -> tuple[float, float]:
    """Distribution-free interval for the p-quantile from iid values (conservative for a
    Latin hypercube, which stratifies the parameter): the order statistics (j, k) with
    P(j <= Binomial(n, p) < k) >= level, widened to the sample's ends where needed."""
    x = np.sort(values)
    n = len(x)
    b = stats.binom(n, p)
    tail = (1 - level) / 2
    j = int(b.ppf(tail))  # P(B < j) <= tail
    k = int(b.ppf(1 - tail)) + 1
    return float(x[max(j - 1, 0)]), float(x[min(k - 1, n - 1)])


@pytest.mark.slow
def test_interval_matches_erlang_c_quantiles(area_csv: Path) -> None:
    """The arrival rate is uniform over [OI_LOW, OI_HIGH] x 8 a day; the mean wait rises with
    it, so its p-quantile across parameter sets is Erlang C's wait at the p-quantile rate.
    The reported quantiles are of the sets' means, which carry simulation noise: the
    distribution-free interval is widened by 3 noise standard deviations of a set mean (from
    the within-set spread of the sets nearest that rate)."""
    scenario = mmc_scenario(area_csv, years=2.0)
    decl = _declare(scenario, samples=SAMPLES, replications=2,
                    vary=["demand.offender_identified"],
                    distributions={"demand.offender_identified": {
                        "kind": "uniform", "low": OI_LOW, "high": OI_HIGH}})
    r = propagate.run_uncertainty(scenario, decl, LOCAL)  # no worker pool per set
    row = r.kpis.set_index(["level", "kpi"]).loc[("national", "wait_alloc_days_mean")]
    wide = (r.runs[(r.runs["level"] == "national") & (r.runs["kpi"] == "wait_alloc_days_mean")]
            .pivot(index="sample", columns="replication", values="value"))
    set_means = wide.mean(axis=1).to_numpy()
    within = wide.var(axis=1, ddof=1).to_numpy()
    oi = r.samples.set_index("sample")["demand.offender_identified"].to_numpy()
    for p, column in ((0.05, "p05"), (0.5, "median"), (0.95, "p95")):
        rate = OI_LOW + p * (OI_HIGH - OI_LOW)
        exact = erlang_wait(rate)
        near = np.argsort(np.abs(oi - rate))[:8]
        noise = 3 * math.sqrt(within[near].mean() / 2)
        low, high = _order_statistic_interval(set_means, p)
        assert low - noise <= exact <= high + noise, (p, exact, low, high, noise)
        assert low <= row[column] <= high
    # and the sets agree with their own Erlang C values on average (no bias across sets)
    exact_each = np.array([erlang_wait(v) for v in oi])
    rel = (set_means - exact_each) / exact_each
    assert abs(rel.mean()) < 4 * rel.std(ddof=1) / math.sqrt(len(rel))
    assert row["share_parameter"] > 0.5  # the rate, not the noise, drives the spread


# ---- the command ------------------------------------------------------------------------------


def test_uncertainty_command_writes_tidy_tables(area_csv: Path, tmp_path: Path) -> None:
    table = {"samples": 3, "replications": 2,
             "vary": ["demand.offender_identified", "stages.assessment.duration.mean"],
             "distributions": {
                 "demand.offender_identified": {"kind": "uniform", "low": OI_LOW,
                                                "high": OI_HIGH},
                 "stages.assessment.duration.mean": {"kind": "uniform", "low": 0.9,
                                                     "high": 1.0}}}
    path = write_mmc_toml(tmp_path / "mmc_unc.toml", area_csv, uncertainty=table)
    proc = rjsim("uncertainty", str(path), "--workers", "1", "--no-cache", "--out",
                 str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "90% uncertainty interval" in proc.stdout
    tables = tmp_path / "out" / "tables"
    samples = pd.read_csv(tables / "uncertainty_samples.csv")
    assert list(samples.columns) == ["sample", "demand.offender_identified",
                                     "stages.assessment.duration.mean"]
    runs = pd.read_parquet(tables / "uncertainty_runs.parquet")
    assert set(runs["level"]) == {"national", "area"}
    assert runs.groupby(["sample", "replication"]).ngroups == 6
    kpis = pd.read_csv(tables / "uncertainty_kpis.csv")
    assert {"median", "p05", "p95", "share_parameter", "share_noise"} <= set(kpis.columns)
    for kpi in ("backlog_end", "wait_alloc_days_mean", "share_allocated_within_target"):
        assert (tmp_path / "out" / "figures" / f"fan_{kpi}.png").stat().st_size > 0
    assert not (tables / "uncertainty_price.csv").exists()  # no right, no price
    params = pd.read_csv(tables / "uncertainty_parameters.csv")
    assert params.loc[params["varied"], "key"].tolist() == list(samples.columns[1:])
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    for section in ("National figures with uncertainty intervals", "What would narrow the "
                    "interval most", "The capacity test under uncertainty", "Over time"):
        assert section in html, section
    assert "The interval of the national mean wait would narrow most with better evidence " \
           "on " in html
    assert (tmp_path / "out" / "report.xlsx").stat().st_size > 0
    undescribed = [f"{csv.stem}.{c}" for csv in tables.glob("*.csv")
                   for c in pd.read_csv(csv, nrows=1).columns
                   if columns.describe(str(c), csv.stem) is None]
    assert not undescribed, f"add these to rjsim/report/uncertainty_columns.py: {undescribed}"
    # the workbook describes every sampled parameter: assumption, unit, distribution, source
    readme = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)["README"]
    described = {str(r[2]): str(r[3]) for r in readme.iter_rows(min_row=2, values_only=True)
                 if r[1] == "tables/uncertainty_samples"}
    assert set(described) == set(samples.columns)
    dist = dict(zip(params["key"], params["distribution"], strict=True))
    for key, unit, source in (("demand.offender_identified", "unit: probability",
                               "source: MODEL.md s3"),
                              ("stages.assessment.duration", "unit: days (mean)",
                               "source: MODEL.md s4 (~14 days)")):
        column = next(c for c in samples.columns if c.startswith(key))
        text = described[column]
        assert f"assumption {key}" in text and unit in text, text
        assert f"drawn from {dist[column]} (scenario [uncertainty])" in text, text
        assert source in text and "confidence" in text, text
        assert "Sweep setting" not in text
    assert "(the mean of its distribution)" in described["stages.assessment.duration.mean"]


def test_uncertainty_command_refuses_bad_input(tmp_path: Path) -> None:
    right = Path(__file__).resolve().parents[1] / "scenarios" / "statutory_right.toml"
    assert_clean_error(rjsim("uncertainty", str(right), "--samples", "1", cwd=tmp_path),
                       "--samples", "2 to 100000")
    assert_clean_error(rjsim("uncertainty", str(right), "--confirm-replications", "-1",
                             cwd=tmp_path), "--confirm-replications", "0 to 10000")
    assert_clean_error(rjsim("uncertainty", str(right), "--method", "sobol", "--samples",
                             "48", cwd=tmp_path), "power of two")


# ---- P(the capacity test is met by a date) --------------------------------------------------


TARGET_DAYS = 0.5  # the test's wait target: timeliness decides, so the rate decides


def test_met_by_date_follows_each_sets_erlang_c_timeliness(area_csv: Path,
                                                          tmp_path: Path) -> None:
    # each set's M/M/c queue meets the timeliness criterion (90% allocated within half a day)
    # or not by Erlang C: clear passes must pass in the first rolling window, clear failures
    # never; P(met by date) is the share of sets that pass, in every window
    right = mmc_scenario(area_csv, years=2.0, statutory_right={"commence_day": 30,
                                                               "informed": 1},
                         capacity_test={"wait_target_days": TARGET_DAYS, "settle_days": 0})
    decl = _declare(right, samples=8, replications=2, vary=["demand.offender_identified"],
                    distributions={"demand.offender_identified": {
                        "kind": "uniform", "low": 0.3, "high": 0.95}})
    r = propagate.run_uncertainty(right, decl, LOCAL, confirm_replications=0)
    assert r.passed_by is not None and r.capacity is not None and r.confirmed is None
    late = {int(row["sample"]): mmc_wait_exceeds(LAM_MAX * row["demand.offender_identified"],
                                                 MU, C, TARGET_DAYS)
            for _, row in r.samples.iterrows()}
    clear = {i: p < 0.05 for i, p in late.items() if p < 0.05 or p > 0.2}
    assert 0 < sum(clear.values()) < len(clear)  # the sample has clear passes and failures
    nat = r.passed_by[r.passed_by["area"] == "national"]
    first_window = nat["months_after_commencement"][~nat["censored"]].min()
    for sample, passes in clear.items():
        months = nat.loc[nat["sample"] == sample, "months_after_commencement"]
        assert (months == first_window).all() if passes else np.isinf(months).all(), sample
    met = propagate.met_by_date(r.passed_by, right)
    uncertainty_plots.met_by_date_chart(met, tmp_path / "met")
    assert (tmp_path / "met.png").stat().st_size > 0
    met = met[met["area"] == "national"]
    share = sum(clear.values()) / len(late)
    assert met["p_met"].iloc[0] >= share  # at least the clear passes, from the first window
    assert met["p_met"].iloc[-1] <= share + (len(late) - len(clear)) / len(late)
    assert met["p_met"].is_monotonic_increasing
    # the test over the whole window: passes in the clear-pass sets, never in the failures
    verdicts = r.capacity[r.capacity["area"] == "national"].set_index("sample")["verdict"]
    assert all((verdicts[i] == "pass") == passes for i, passes in clear.items())
    p_pass = propagate.capacity_probabilities(r.capacity).set_index("area")["p_pass"]
    assert p_pass["national"] == pytest.approx((verdicts == "pass").mean())


def test_met_by_date_is_the_mean_of_the_sets_shares(area_csv: Path) -> None:
    right = mmc_scenario(area_csv, years=3.0, statutory_right={"commence_day": 30})
    months = rolling.months_after(right, rolling.windows(right)["end_day"].to_numpy())
    m0, m2 = float(months[0]), float(months[2])
    passed_by = pd.DataFrame({"sample": [0, 0, 1, 1], "replication": [0, 1, 0, 1],
                              "area": "national",
                              "months_after_commencement": [m0, math.inf, m2, m2]})
    met = propagate.met_by_date(passed_by, right).set_index("window")
    assert met.loc[0, "p_met"] == 0.25 and met.loc[1, "p_met"] == 0.25
    assert met.loc[2, "p_met"] == 0.75 and met.loc[len(months) - 1, "p_met"] == 0.75
    assert met.loc[2, "p_met_sets_p05"] == pytest.approx(0.5 + 0.05 * 0.5)
    assert met.loc[0, "date"] == str(np.datetime64(right.run.start_date, "D")
                                     + int(rolling.windows(right)["end_day"].iloc[0]))


def test_what_would_narrow_the_interval_most_ranks_the_driver_first() -> None:
    rng = np.random.default_rng(8)
    samples = pd.DataFrame({"sample": range(64), "driver": rng.uniform(0, 1, 64),
                            "dummy": rng.uniform(0, 1, 64), "fixed": 0.5})
    y = pd.Series(np.exp(3 * samples["driver"]) + rng.normal(0, 0.05, 64), index=range(64))
    d = report_uncertainty.drivers(samples, y)
    assert d["parameter"].tolist() == ["driver", "dummy"]  # the constant one is left out
    assert d["share"].iloc[0] > 0.95
    # |rho| of an independent parameter over 64 sets: about 1/sqrt(63); 4 of those
    assert d["share"].iloc[1] < (4 / math.sqrt(63)) ** 2
    line = report_uncertainty.narrow_line("the price", d, 1)
    assert line == ("The interval of the price would narrow most with better evidence on "
                    f"driver (each alone accounts for {100 * d['share'].iloc[0]:.0f}% of its "
                    "spread across parameter sets, by rank correlation).")


def test_options_side_by_side() -> None:
    def result(wait: float, passes: list[bool], costs: list[float] | None
               ) -> propagate.UncertaintyResult:
        kpis = pd.DataFrame({"level": ["national", "area"], "area": ["national", "E1"],
                             "kpi": "wait_alloc_days_mean", "median": [wait, 99.0],
                             "p05": wait - 1, "p95": wait + 1, "share_parameter": 0.8})
        capacity = pd.DataFrame({"sample": range(len(passes)), "area": "national",
                                 "verdict": ["pass" if p else "fail" for p in passes],
                                 "binding_criterion": ""})
        prices = None if costs is None else pd.DataFrame(
            {"sample": range(len(costs)), "area": "national", "annual_cost_gbp": costs})
        return propagate.UncertaintyResult(
            None, None, 5, pd.DataFrame(), pd.DataFrame(), kpis,  # type: ignore[arg-type]
            pd.DataFrame(), capacity, prices)
    table = multi_option.options_table({
        "today": result(40.0, [False, False, True, False], None),
        "more": result(10.0, [True, True, True, False], [1e6, 2e6, 3e6, 4e6])})
    t = table.set_index(["option", "kpi"])
    assert t.loc[("today", "wait_alloc_days_mean"), "median"] == 40.0
    assert t.loc[("more", "wait_alloc_days_mean"), "p95"] == 11.0
    assert t.loc[("today", "p_pass_national"), "median"] == 0.25
    assert t.loc[("more", "p_pass_national"), "median"] == 0.75
    assert t.loc[("more", "price_of_commencement_gbp"), "median"] == 2.5e6
    assert ("today", "price_of_commencement_gbp") not in t.index
    assert len(table) == 5  # national rows only
