"""Uncertain parameters declared once: the default rule from the assumptions log, a scenario's
``[uncertainty]`` table, samples that cover the declared distributions, and bad declarations
reported as validation errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from clitools import assert_clean_error, rjsim
from scipy import stats

from rjsim.core.errors import ScenarioError
from rjsim.scenario import io as scenario_io
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.scenario import uncertainty_rules as rules
from rjsim.scenario import uncertainty_sample as sampling

ROOT = Path(__file__).resolve().parents[1]
RIGHT = ROOT / "scenarios" / "statutory_right.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"


def _declared(write_toml: Callable[[str, str], Path], table: str, base: Path = RIGHT
              ) -> unc.Declaration:
    path = write_toml("u.toml", f'extends = "{base}"\nname = "u"\n{table}')
    return scenario_io.load_uncertainty(path)[1]


def _param(decl: unc.Declaration, key: str) -> unc.Parameter:
    return next(p for p in decl.parameters if p.key == key)


# ---- the default rule ------------------------------------------------------------------------


def test_every_ranged_uncertainty_gets_the_stated_rule() -> None:
    scenario = scenario_io.load(RIGHT)
    decl = uncertainty_declare.declare(scenario, unc.UncertaintySettings(), lambda p: p)
    log = {row["key"]: row for row in rules.assumptions_log()}
    assert len(decl.parameters) > 30
    for p in decl.parameters:
        logged = next(k for k in log if p.key == k or p.key.startswith(k + "."))
        low, high = float(log[logged]["low"]), float(log[logged]["high"])
        f = rules.NARROWING[log[logged]["confidence"]]
        d = p.distribution
        assert d.kind == "triangular" and d.mode == p.central
        assert d.low == pytest.approx(p.central - f * (p.central - low))
        assert d.high == pytest.approx(p.central + f * (high - p.central))


def test_rule_narrows_with_confidence_and_follows_the_scenario_value() -> None:
    scenario = scenario_io.load(RIGHT)
    decl = uncertainty_declare.declare(scenario, unc.UncertaintySettings(), lambda p: p)
    wants = _param(decl, "demand.wants_rj")  # medium confidence, range 0.24-0.33
    v = scenario.demand.wants_rj  # 0.318 (calibrated): medium confidence keeps 75% of each side
    assert (wants.distribution.low, wants.distribution.high) == pytest.approx(
        (v - 0.75 * (v - 0.24), v + 0.75 * (0.33 - v)))
    patience = _param(decl, "service.patience.mean")  # a distribution's mean, low confidence
    assert (patience.distribution.low, patience.distribution.high) == (30.0, 180.0)
    assert patience.central == 90.0
    assert _param(decl, "exits.unsuitable_by_group.domestic_abuse").central == 0.30
    assert _param(decl, "interventions.facilitators_per_direct_conference").integer


def test_choices_and_switched_off_settings_are_held() -> None:
    held = dict(uncertainty_declare.declare(scenario_io.load(BASELINE), unc.UncertaintySettings(),
                            lambda p: p).held)
    assert "capacity_test.timeliness_share" in held and "run.years" in held
    assert "funding.floor_gbp" in held
    assert "statutory_right.informed" in held  # the baseline has no right
    assert "no statutory right" in held["statutory_right.informed"]


def test_value_outside_the_logged_range_is_held_unless_declared(
        write_toml: Callable[[str, str], Path]) -> None:
    decl = _declared(write_toml, "[demand]\ninformed = 0.9\n[uncertainty]\n")
    assert "demand.informed" not in decl.keys
    assert "outside the logged range" in dict(decl.held)["demand.informed"]
    decl = _declared(write_toml, '[demand]\ninformed = 0.9\n[uncertainty.distributions]\n'
                     '"demand.informed" = { kind = "uniform", low = 0.8, high = 1.0 }\n')
    assert _param(decl, "demand.informed").source == "scenario [uncertainty]"


def test_vary_exclude_and_overrides(write_toml: Callable[[str, str], Path]) -> None:
    decl = _declared(write_toml, '[uncertainty]\nvary = ["demand.informed", "service.patience",'
                     ' "exits.unsuitable_by_group"]\nexclude = ["exits.unsuitable_by_group.sexual"]'
                     '\n[uncertainty.distributions]\n"service.window.mean" = { kind = '
                     '"loguniform", low = 60, high = 400 }\n')
    assert decl.keys == ["demand.informed", "service.patience.mean",
                         "exits.unsuitable_by_group.domestic_abuse", "service.window.mean"]


# ---- sampling covers the declared distributions ----------------------------------------------

N = 512


@pytest.fixture(scope="module")
def declared_sample() -> tuple[unc.Declaration, np.ndarray]:
    scenario = scenario_io.load(RIGHT)
    settings = unc.parse_settings({
        "samples": N, "method": "sobol",
        "vary": ["demand.informed", "demand.wants_rj", "service.patience.mean",
                 "funding.specialist_share"],
        "distributions": {"demand.informed": {"kind": "uniform", "low": 0.2, "high": 0.5},
                          "funding.specialist_share": {"kind": "normal", "mean": 0.3,
                                                       "sd": 0.05, "low": 0.2, "high": 0.5}},
        "correlations": [{"parameters": ["demand.informed", "demand.wants_rj"], "rho": 0.6}]},
        lambda p: p)
    decl = uncertainty_declare.declare(scenario, settings, lambda p: p)
    return decl, sampling.sample(decl, seed=11)


def test_marginals_match_the_declared_distributions(
        declared_sample: tuple[unc.Declaration, np.ndarray]) -> None:
    decl, x = declared_sample
    assert x.shape == (N, 4)
    for j, p in enumerate(decl.parameters):
        col = x[:, j]
        d = p.distribution
        # Kolmogorov-Smirnov at 1%: a space-filling sample sits far closer than iid draws.
        assert stats.kstest(col, d.frozen().cdf).pvalue > 0.01, p.key
        lo, hi = d.frozen().support()
        assert lo <= col.min() and col.max() <= hi, p.key
        mean, sd = d.frozen().mean(), d.frozen().std()
        assert abs(col.mean() - mean) < 3 * sd / math.sqrt(N), p.key


def test_declared_correlation_is_imposed(
        declared_sample: tuple[unc.Declaration, np.ndarray]) -> None:
    _, x = declared_sample
    rho_s = stats.spearmanr(x[:, 0], x[:, 1]).statistic
    expected = 6 / math.pi * math.asin(0.6 / 2)  # Spearman's rho of a Gaussian copula
    half = 3 / math.sqrt(N - 3)  # Fisher z, about 3 standard errors
    assert abs(math.atanh(rho_s) - math.atanh(expected)) < half
    others = stats.spearmanr(x[:, 0], x[:, 2]).statistic
    assert abs(math.atanh(others)) < half


def test_lhs_stratifies_every_margin() -> None:
    u = sampling.unit_sample(3, 50, "lhs", seed=3)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))


def test_apply_sets_the_values_and_keeps_the_rest() -> None:
    scenario = scenario_io.load(RIGHT)
    out = unc.apply(scenario, {"service.patience.mean": 42.0, "demand.wants_rj": 0.25,
                               "interventions.facilitators_per_direct_conference": 1.4},
                    {"interventions.facilitators_per_direct_conference": True})
    assert out.service.patience.mean == 42.0 and out.service.patience.kind == "exponential"
    assert out.demand.wants_rj == 0.25
    assert out.interventions.facilitators_per_direct_conference == 1
    assert out.stages == scenario.stages


# ---- bad declarations --------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "needles"), [
    ('[uncertainty]\nvary = ["demand.wants_rjj"]', ["uncertainty.vary[0]", "did you mean "
                                                     "'demand.wants_rj'"]),
    ('[uncertainty]\nsamples = 1', ["uncertainty.samples", "at least 2"]),
    ('[uncertainty]\nmethod = "sobol"\nsamples = 48', ["power of two", "32 or 64"]),
    ('[uncertainty]\nmehtod = "lhs"', ["unknown key 'mehtod'", "did you mean 'method'"]),
    ('[uncertainty.distributions]\n"demand.informed" = { kind = "uniform", low = 0.2, '
     'high = 1.5 }', ["uncertainty.distributions.demand.informed", "reaches 1.5",
                      "at most 1.0"]),
    ('[uncertainty.distributions]\n"demand.informed" = { kind = "triangular", low = 0.2, '
     'high = 0.5 }', ["mode", "is required for a 'triangular'"]),
    ('[uncertainty.distributions]\n"demand.informed" = { kind = "beta", low = 0.2 }',
     ["must be one of"]),
    ('[uncertainty]\nvary = ["run.seed"]\n', ["'run.seed' has no range"]),
    ('[[uncertainty.correlations]]\nparameters = ["demand.informed", "demand.nope"]\nrho = 0.5',
     ["'demand.nope' is not a varied parameter"]),
    ('[[uncertainty.correlations]]\nparameters = ["demand.informed", "demand.wants_rj"]\n'
     'rho = 0.9\n[[uncertainty.correlations]]\nparameters = ["demand.informed", '
     '"demand.offender_identified"]\nrho = 0.9\n[[uncertainty.correlations]]\nparameters = '
     '["demand.wants_rj", "demand.offender_identified"]\nrho = -0.9', ["not positive definite"]),
])
def test_bad_declarations_are_validation_errors(write_toml: Callable[[str, str], Path],
                                                table: str, needles: list[str]) -> None:
    path = write_toml("bad.toml", f'extends = "{RIGHT}"\nname = "bad"\n{table}\n')
    with pytest.raises(ScenarioError) as exc:
        scenario_io.load_uncertainty(path)
    for needle in needles:
        assert needle in str(exc.value), str(exc.value)
    assert "bad.toml" in str(exc.value)


def test_validate_command_checks_the_uncertainty_table(
        write_toml: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write_toml("bad.toml", f'extends = "{RIGHT}"\nname = "bad"\n[uncertainty]\n'
                      'vary = ["demand.wants_rjj"]\n')
    assert_clean_error(rjsim("validate", str(path), cwd=tmp_path), "uncertainty.vary[0]")
    good = write_toml("good.toml", f'extends = "{RIGHT}"\nname = "good"\n[uncertainty]\n'
                      'samples = 8\n')
    proc = rjsim("validate", str(good), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert scenario_io.load(good).name == "good"  # 'run' ignores the table


def test_sample_file_gives_the_parameter_sets(write_toml: Callable[[str, str], Path],
                                              tmp_path: Path) -> None:
    (tmp_path / "sets.csv").write_text("set,demand.informed,service.patience.mean,implausibility\n"
                                       "1,0.21,40,0.5\n2,0.33,120,2.1\n3,0.45,75,1.0\n",
                                       encoding="utf-8")
    decl = _declared(write_toml, '[uncertainty]\nsample_file = "sets.csv"\n')
    assert decl.keys == ["demand.informed", "service.patience.mean"] and decl.samples == 3
    assert sampling.sample(decl, seed=0).tolist() == [[0.21, 40.0], [0.33, 120.0], [0.45, 75.0]]


@pytest.mark.parametrize(("text", "needle"), [
    ("demand.informd\n0.2\n", "column 'demand.informd' is not a numeric setting"),
    ("demand.informed\n0.2\n1.3\n", "column 'demand.informed' has 1.3"),
    ("demand.informed\n0.2\nabc\n", "row 3: must be a finite number"),
    ("set\n1\n", "needs at least one row and one column named by a key path"),
])
def test_bad_sample_file_is_a_validation_error(write_toml: Callable[[str, str], Path],
                                               tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "sets.csv").write_text(text, encoding="utf-8")
    path = write_toml("bad.toml", f'extends = "{RIGHT}"\nname = "bad"\n[uncertainty]\n'
                      'sample_file = "sets.csv"\n')
    with pytest.raises(ScenarioError, match=r"uncertainty\.sample_file") as exc:
        scenario_io.load_uncertainty(path)
    assert needle in str(exc.value)
