"""Unit tests of the analytic queueing formulas in :mod:`rjsim.capacity.queueing`.

Each formula is checked against a value worked out independently: by hand (M/M/1, a textbook
Erlang C value), by a direct sum written out here, by a different route through the same chain
(Erlang A abandonment from Little's law), or by a limit (Erlang A tends to Erlang C).
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from rjsim.capacity.queueing import (
    ErlangA,
    erlang_a,
    erlang_b,
    erlang_c,
    mmc_mean_queue_length,
    mmc_mean_wait,
    mmc_wait_exceeds,
)


def direct_erlang_c(lam: float, mu: float, c: int) -> float:
    """Erlang C by the textbook sum over states (exact for small ``c``)."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def direct_erlang_b(lam: float, mu: float, c: int) -> float:
    """Erlang B as a truncated Poisson distribution (scipy; stable for large ``c``)."""
    a = lam / mu
    return float(math.exp(stats.poisson.logpmf(c, a) - stats.poisson.logcdf(c, a)))


# ---- M/M/1 by hand --------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (3.0, 4.0), (0.01, 0.02)])
def test_mm1_probability_of_waiting_is_utilisation(lam: float, mu: float) -> None:
    assert erlang_c(lam, mu, 1) == pytest.approx(lam / mu, rel=1e-12)


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (3.0, 4.0), (0.01, 0.02)])
def test_mm1_mean_wait_is_rho_over_mu_minus_lam(lam: float, mu: float) -> None:
    rho = lam / mu
    assert mmc_mean_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam), rel=1e-12)
    assert mmc_mean_queue_length(lam, mu, 1) == pytest.approx(rho**2 / (1 - rho), rel=1e-12)


def test_mm1_waiting_time_tail() -> None:
    # P(Wq > t) = rho exp(-(mu - lam) t); at t = 0 it is P(wait).
    assert mmc_wait_exceeds(0.8, 1.0, 1, 0.0) == pytest.approx(0.8, rel=1e-12)
    assert mmc_wait_exceeds(0.8, 1.0, 1, 5.0) == pytest.approx(0.8 * math.exp(-1.0), rel=1e-12)


# ---- Erlang B and C against textbook values and direct sums -----------------------------------


def test_textbook_erlang_c_value() -> None:
    # a = 2 erlangs on 3 servers: P0 = 1 / (1 + 2 + 2 + (8/6) * 3) = 1/9, so C = 4 * (1/9) = 4/9.
    assert direct_erlang_c(2.0, 1.0, 3) == pytest.approx(4 / 9, rel=1e-12)
    assert erlang_c(2.0, 1.0, 3) == pytest.approx(4 / 9, rel=1e-12)
    assert mmc_mean_wait(2.0, 1.0, 3) == pytest.approx(4 / 9, rel=1e-12)  # C / (3 - 2)


@pytest.mark.parametrize(("lam", "mu", "c"), [(6.4, 1.0, 8), (7.0, 2.0, 4), (45.0, 0.5, 100),
                                               (0.3, 1.0, 2), (19.9, 1.0, 20)])
def test_erlang_c_matches_direct_sum(lam: float, mu: float, c: int) -> None:
    assert erlang_c(lam, mu, c) == pytest.approx(direct_erlang_c(lam, mu, c), rel=1e-10)


@pytest.mark.parametrize(("a", "c"), [(2.0, 3), (50.0, 60), (450.0, 500), (4000.0, 4100)])
def test_erlang_b_matches_truncated_poisson(a: float, c: int) -> None:
    assert erlang_b(a, 1.0, c) == pytest.approx(direct_erlang_b(a, 1.0, c), rel=1e-8)


def test_large_c_is_finite_and_sensible() -> None:
    # 900 erlangs on 1,000 servers: factorials would overflow; the recursion does not.
    c_value = erlang_c(900.0, 1.0, 1000)
    assert 0.0 < c_value < 1.0
    b = direct_erlang_b(900.0, 1.0, 1000)
    assert c_value == pytest.approx(1000 * b / (1000 - 900 * (1 - b)), rel=1e-8)
    assert mmc_wait_exceeds(900.0, 1.0, 1000, 0.01) < c_value


def test_erlang_c_rises_with_load_and_falls_with_servers() -> None:
    assert erlang_c(5.0, 1.0, 8) < erlang_c(6.0, 1.0, 8) < erlang_c(7.0, 1.0, 8)
    assert erlang_c(6.0, 1.0, 10) < erlang_c(6.0, 1.0, 8) < erlang_c(6.0, 1.0, 7)


def test_no_arrivals_means_no_waiting() -> None:
    assert erlang_c(0.0, 1.0, 3) == 0.0
    assert mmc_mean_wait(0.0, 1.0, 3) == 0.0


# ---- Erlang A -------------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "mu", "c"), [(0.8, 1.0, 1), (6.4, 1.0, 8), (45.0, 0.5, 100)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(lam: float, mu: float, c: int) -> None:
    exact = erlang_a(lam, mu, 0.0, c)
    assert exact.p_wait == pytest.approx(erlang_c(lam, mu, c), rel=1e-10)
    assert exact.mean_wait == pytest.approx(mmc_mean_wait(lam, mu, c), rel=1e-10)
    assert exact.p_abandon == 0.0
    gaps = [abs(erlang_a(lam, mu, theta, c).mean_wait - exact.mean_wait)
            for theta in (1e-1, 1e-3, 1e-5)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3 * exact.mean_wait


@pytest.mark.parametrize(("lam", "mu", "theta", "c"),
                         [(7.6, 1.0, 0.5, 8), (12.0, 1.0, 0.2, 8), (0.9, 1.0, 2.0, 1),
                          (400.0, 1.0, 0.05, 380), (1.0, 0.1, 1.0, 3)])
def test_erlang_a_abandonment_obeys_littles_law(lam: float, mu: float, theta: float,
                                                c: int) -> None:
    # p_abandon is computed per arrival (from the customers ahead of it); Little's law applied
    # to the abandonment flow gives it again from the time-average queue: theta Lq = lam P(ab).
    r = erlang_a(lam, mu, theta, c)
    assert r.p_abandon == pytest.approx(theta * r.mean_queue_length / lam, rel=1e-9)
    assert r.mean_wait == pytest.approx(r.mean_queue_length / lam, rel=1e-12)
    assert 0.0 < r.p_abandon < r.p_wait < 1.0


def test_erlang_a_flow_balance() -> None:
    # Served rate plus abandonment rate equals arrival rate; served rate = mu x busy servers.
    lam, mu, theta, c = 9.0, 1.0, 0.5, 8  # overloaded: only abandonment keeps it stable
    r = erlang_a(lam, mu, theta, c)
    assert r.p_wait == pytest.approx(1.0 - sum(_mmc_plus_m_pi(lam, mu, theta, c)[:c]), rel=1e-9)
    busy = sum(min(n, c) * p for n, p in enumerate(_mmc_plus_m_pi(lam, mu, theta, c)))
    assert lam * (1 - r.p_abandon) == pytest.approx(mu * busy, rel=1e-9)


def _mmc_plus_m_pi(lam: float, mu: float, theta: float, c: int, n_max: int = 400) -> list[float]:
    """Stationary distribution of the Erlang A chain by a plain product (small cases only)."""
    w = [1.0]
    for n in range(1, n_max):
        w.append(w[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = sum(w)
    return [x / total for x in w]


def test_erlang_a_overloaded_fluid_limit() -> None:
    # Many servers, heavy overload: the queue settles where abandonment takes the excess,
    # so P(ab) ~ (lam - c mu) / lam and Lq ~ (lam - c mu) / theta.
    r = erlang_a(1000.0, 1.0, 0.01, 900)
    assert r.p_abandon == pytest.approx(0.1, rel=1e-3)
    assert r.mean_queue_length == pytest.approx(100 / 0.01, rel=1e-3)


def test_erlang_a_is_a_frozen_record() -> None:
    r = erlang_a(7.6, 1.0, 0.5, 8)
    assert isinstance(r, ErlangA)
    with pytest.raises(AttributeError):
        r.p_wait = 0.0  # type: ignore[misc]


# ---- invalid arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(("call", "match"), [
    (lambda: erlang_c(1.0, 1.0, 0), "c .* integer >= 1"),
    (lambda: erlang_c(1.0, 1.0, 2.5), "c .* integer >= 1"),  # type: ignore[arg-type]
    (lambda: erlang_c(3.0, 1.0, 3), "no steady state"),
    (lambda: erlang_c(4.0, 1.0, 3), "no steady state"),
    (lambda: erlang_c(-1.0, 1.0, 3), "lam must be"),
    (lambda: erlang_c(1.0, 0.0, 3), "mu must be"),
    (lambda: erlang_c(math.nan, 1.0, 3), "lam must be"),
    (lambda: mmc_mean_wait(2.0, 1.0, 2), "no steady state"),
    (lambda: mmc_wait_exceeds(1.0, 1.0, 2, -1.0), "t must be"),
    (lambda: erlang_a(0.0, 1.0, 1.0, 2), "lam must be"),
    (lambda: erlang_a(1.0, 1.0, -0.1, 2), "theta must be"),
    (lambda: erlang_a(3.0, 1.0, 0.0, 2), "no steady state"),
    (lambda: erlang_a(1.0, 1.0, 1.0, 0), "c .* integer >= 1"),
])
def test_invalid_arguments_raise_value_error(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
