"""Unit tests of the replication statistics against hand-worked examples.

Every expected number below is worked out by hand in the comments (t quantiles from printed
tables), so the tests check :mod:`rjsim.core.stats` against arithmetic, not against itself.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from rjsim.core import stats

#: Student t quantiles from printed tables: t(0.975, df).
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 5: 2.5706, 6: 2.4469, 7: 2.3646}


def test_t_interval_hand_worked_example() -> None:
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    # mean = 40 / 8 = 5
    # deviations -3, -1, -1, -1, 0, 0, 2, 4; squares 9, 1, 1, 1, 0, 0, 4, 16: sum 32
    # sd = sqrt(32 / 7) = sqrt(4.5714) = 2.13809
    # half-width = t(0.975, 7) * sd / sqrt(8) = 2.3646 * 2.13809 / 2.82843 = 1.78745
    sd = math.sqrt(32 / 7)
    half = T975[7] * sd / math.sqrt(8)
    assert half == pytest.approx(1.78745, abs=1e-4)
    iv = stats.t_interval(values)
    assert iv.n == 8
    assert iv.mean == pytest.approx(5.0, abs=1e-12)
    assert iv.sd == pytest.approx(2.13809, abs=1e-5)
    assert iv.half_width == pytest.approx(half, abs=1e-4)  # table t has 4 decimals
    assert iv.low == pytest.approx(5 - 1.78745, abs=1e-4)
    assert iv.high == pytest.approx(5 + 1.78745, abs=1e-4)
    # relative half-width = 1.78745 / 5 = 0.35749
    assert iv.relative_half_width == pytest.approx(0.35749, abs=1e-4)


def test_t_interval_two_values_and_other_level() -> None:
    # [10, 30]: mean 20, sd = sqrt(((-10)^2 + 10^2) / 1) = 14.1421
    # half-width = t(0.975, 1) * 14.1421 / sqrt(2) = 12.7062 * 10 = 127.062
    iv = stats.t_interval([10.0, 30.0])
    assert iv.half_width == pytest.approx(127.062, abs=1e-2)
    # a 90% interval uses t(0.95, 1) = 6.3138: half-width 63.138
    assert stats.t_interval([10.0, 30.0], level=0.90).half_width == pytest.approx(63.138,
                                                                                  abs=1e-2)


def test_t_interval_ignores_nan_and_degenerate_cases() -> None:
    with_nan = stats.t_interval([2, 4, np.nan, 4, 4, 5, 5, 7, 9])
    assert with_nan.n == 8 and with_nan.mean == pytest.approx(5.0)
    one = stats.t_interval([3.0])
    assert one.n == 1 and one.mean == 3.0 and math.isnan(one.low) and math.isnan(one.sd)
    none = stats.t_interval([])
    assert none.n == 0 and math.isnan(none.mean)
    constant = stats.t_interval([4.0, 4.0, 4.0])
    assert constant.half_width == 0.0 and constant.relative_half_width == 0.0
    zero_mean = stats.t_interval([-1.0, 1.0])
    assert zero_mean.relative_half_width == math.inf


def test_summarise_columns_and_values() -> None:
    per_rep = pd.DataFrame({
        "replication": [0, 1, 2, 0, 1, 2],
        "area": ["A", "A", "A", "B", "B", "B"],
        "force": ["Ay", "Ay", "Ay", "Bee", "Bee", "Bee"],  # a label, not a KPI
        "referrals": [10, 20, 30, 1, 1, 1],
        "wait_alloc_days_mean": [1.0, 2.0, np.nan, 5.0, 6.0, 7.0]})
    out = stats.summarise(per_rep, ["area"])
    assert list(out.columns) == ["area", "kpi", "mean", "sd", "n", "ci_low", "ci_high",
                                 "half_width", "relative_half_width"]
    assert list(zip(out["area"], out["kpi"], strict=True)) == [
        ("A", "referrals"), ("A", "wait_alloc_days_mean"),
        ("B", "referrals"), ("B", "wait_alloc_days_mean")]
    a = out.set_index(["area", "kpi"])
    # A referrals 10, 20, 30: mean 20, sd 10, half-width 4.3027 * 10 / sqrt(3) = 24.842
    assert a.loc[("A", "referrals"), "mean"] == pytest.approx(20.0)
    assert a.loc[("A", "referrals"), "sd"] == pytest.approx(10.0)
    assert a.loc[("A", "referrals"), "half_width"] == pytest.approx(24.842, abs=1e-2)
    assert a.loc[("A", "referrals"), "ci_low"] == pytest.approx(20 - 24.842, abs=1e-2)
    # A waits 1, 2 (NaN ignored): n 2
    assert a.loc[("A", "wait_alloc_days_mean"), "n"] == 2
    # B referrals constant: zero-width interval
    assert a.loc[("B", "referrals"), "half_width"] == 0.0
    national = stats.summarise(per_rep, [])
    assert national.columns[0] == "kpi" and set(national["kpi"]) == {
        "referrals", "wait_alloc_days_mean"}
    assert national.set_index("kpi").loc["referrals", "n"] == 6


def test_paired_hand_worked_example() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 4.0, 5.0, 5.0])
    # d = b - a = 1, 2, 2, 1: mean 1.5; squared deviations 4 x 0.25 = 1; var(d) = 1/3
    # var(a): mean 2.5, squares 2.25 + 0.25 + 0.25 + 2.25 = 5, /3 = 5/3
    # var(b): mean 4, squares 4 + 0 + 1 + 1 = 6, /3 = 2
    # independent variance 5/3 + 2 = 11/3; reduction 1 - (1/3) / (11/3) = 10/11
    # interval: 1.5 +- 3.1824 * sqrt(1/3) / 2 = 1.5 +- 0.91868 -> excludes 0: significant
    p = stats.paired(a, b)
    assert p.difference.mean == pytest.approx(1.5)
    assert p.paired_variance == pytest.approx(1 / 3)
    assert p.independent_variance == pytest.approx(11 / 3)
    assert p.variance_reduction == pytest.approx(10 / 11)
    assert p.difference.half_width == pytest.approx(0.91868, abs=1e-4)
    assert p.significant
    # swapping the sign of the difference keeps the variances and the verdict
    q = stats.paired(b, a)
    assert q.difference.mean == pytest.approx(-1.5) and q.significant
    assert q.paired_variance == pytest.approx(1 / 3)


def test_paired_noise_and_missing_values() -> None:
    # d = 1, -1, 1, -1: mean 0 -> the interval contains 0: not significant
    p = stats.paired(np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0, 0.0]))
    assert p.difference.mean == pytest.approx(0.0) and not p.significant
    # a NaN in either drops that pair only
    q = stats.paired(np.array([1.0, np.nan, 3.0, 4.0]), np.array([2.0, 9.0, 5.0, 5.0]))
    assert q.difference.n == 3
    # identical scenarios: the paired difference has no variance at all
    same = stats.paired(np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.0]))
    assert same.paired_variance == 0.0 and same.variance_reduction == pytest.approx(1.0)
    assert not same.significant


def test_replications_for_precision_by_hand() -> None:
    iv = stats.t_interval([2, 4, 4, 4, 5, 5, 7, 9])  # mean 5, sd 2.13809, relative hw 0.35749
    # target 10% of 5 = 0.5: t(72) * 2.13809 / sqrt(73) = 1.99346 * 0.25024 = 0.49885 <= 0.5,
    # while t(71) * 2.13809 / sqrt(72) = 1.99394 * 0.25198 = 0.50243 > 0.5: 73 replications
    assert stats.replications_for_precision(iv, 0.10) == 73
    assert stats.replications_for_precision(iv, 0.5) == 8  # already met: never fewer than n
    assert stats.replications_for_precision(stats.t_interval([1.0]), 0.1) is None
    assert stats.replications_for_precision(stats.t_interval([-1.0, 1.0]), 0.1) is None
    assert stats.replications_for_precision(stats.t_interval([3.0, 3.0]), 0.1) == 2


@given(sd=st.floats(0.01, 100.0), room=st.floats(0.01, 100.0), n=st.integers(1, 500),
       level=st.sampled_from([0.9, 0.95, 0.99]))
@settings(max_examples=60, deadline=None)
def test_replications_needed_is_the_least_enough(sd: float, room: float, n: int,
                                                 level: float) -> None:
    def half(k: int) -> float:
        return float(scipy_stats.t.ppf(0.5 + level / 2, k - 1)) * sd / math.sqrt(k)

    m = stats.replications_needed(sd, room, n, level)
    assert m is not None and m >= max(n, 2)
    if m == stats.REPLICATIONS_LIMIT:
        assert half(m - 1) > room
    else:
        assert half(m) <= room  # enough ...
        assert m == max(n, 2) or half(m - 1) > room  # ... and the least


def test_replications_needed_cannot_estimate() -> None:
    assert stats.replications_needed(1.0, 0.0, 5) is None  # spread but no room
    assert stats.replications_needed(math.nan, 1.0, 5) is None
    assert stats.replications_needed(0.0, 0.0, 5) == 5  # no spread: already decided
    assert stats.replications_needed(1.0, 1e-9, 5) == stats.REPLICATIONS_LIMIT


def test_t_quantile_matches_tables() -> None:
    # printed tables: t(0.975, 7) = 2.3646, t(0.995, 30) = 2.7500, t(0.95, 1000) ~ 1.6464
    assert stats.t_quantile(7) == pytest.approx(2.3646, abs=1e-4)
    assert stats.t_quantile(30, 0.99) == pytest.approx(2.7500, abs=1e-4)
    both = stats.t_quantile(np.array([7.0, 1000.0]), 0.9)
    assert both == pytest.approx([1.8946, 1.6464], abs=1e-4)
