"""Unit and statistical tests: sampling the distributions a scenario can name."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import binomial_se, z_bound

from rjsim.scenario.distributions import Distribution

N = 50_000


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


@pytest.mark.parametrize("dist", [
    Distribution("exponential", mean=90.0),
    Distribution("gamma", mean=14.0, cv=0.5),
    Distribution("gamma", mean=45.0, cv=1.5),
    Distribution("lognormal", median=7.0, sigma=0.6),
])
def test_sample_mean_matches_mean_days(dist):
    x = dist.sample(_rng(1), N)
    assert x.shape == (N,) and np.all(x >= 0)
    se = float(np.std(x, ddof=1)) / math.sqrt(N)
    assert abs(float(np.mean(x)) - dist.mean_days) <= z_bound(se)


@pytest.mark.parametrize("dist, cv", [
    (Distribution("exponential", mean=90.0), 1.0),
    (Distribution("gamma", mean=14.0, cv=0.5), 0.5),
    (Distribution("lognormal", median=7.0, sigma=0.6), math.sqrt(math.exp(0.36) - 1)),
])
def test_sample_spread_matches_the_coefficient_of_variation(dist, cv):
    """Mean of (x - mu)^2 estimates the variance; its SE comes from the sample itself."""
    x = dist.sample(_rng(2), N)
    sq = (x - dist.mean_days) ** 2
    se = float(np.std(sq, ddof=1)) / math.sqrt(N)
    assert abs(float(np.mean(sq)) - (cv * dist.mean_days) ** 2) <= z_bound(se)


def test_lognormal_median_is_the_median():
    x = Distribution("lognormal", median=14.0, sigma=0.8).sample(_rng(3), N)
    share_below = float(np.mean(x < 14.0))
    assert abs(share_below - 0.5) <= z_bound(binomial_se(0.5, N))


def test_fixed_never_and_zero_cv_are_deterministic():
    assert np.all(Distribution("fixed", value=3.0).sample(_rng(), 10) == 3.0)
    assert np.all(Distribution("gamma", mean=5.0, cv=0.0).sample(_rng(), 10) == 5.0)
    never = Distribution("never")
    assert np.all(np.isinf(never.sample(_rng(), 10)))
    assert never.mean_days == math.inf
    assert Distribution("fixed", value=0.0).mean_days == 0.0


def test_lognormal_mean_days():
    assert Distribution("lognormal", median=7.0, sigma=0.6).mean_days == pytest.approx(
        7.0 * math.exp(0.18))


def test_describe_names_kind_and_parameters():
    assert Distribution("lognormal", median=7.0, sigma=0.6).describe() == (
        "lognormal(median=7, sigma=0.6) days")
    assert Distribution("never").describe() == "never"
