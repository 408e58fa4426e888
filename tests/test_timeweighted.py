"""Property-based tests: time-weighted counts against a brute-force step-function integration.

Times are drawn both as arbitrary floats and on a coarse grid (quarters of a day), so that
starts, ends and period edges often coincide and the half-open convention [start, end) is
exercised.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rjsim.analysis.timeweighted import count_at, integral, per_period

_time = st.one_of(st.integers(0, 400).map(lambda q: q / 4.0),
                  st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False))
_length = st.one_of(st.integers(0, 80).map(lambda q: q / 4.0),
                    st.floats(0.0, 50.0, allow_nan=False, allow_infinity=False))
_intervals = st.lists(st.tuples(_time, _length), max_size=40)
_edges = st.lists(_time, min_size=2, max_size=12, unique=True).map(sorted).filter(
    lambda e: min(np.diff(e)) > 1e-3)


def _arrays(intervals: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([s for s, _ in intervals], dtype=float)
    ends = np.array([s + length for s, length in intervals], dtype=float)
    return starts, ends


def _brute_count(starts: np.ndarray, ends: np.ndarray, x: float) -> int:
    return sum(1 for s, e in zip(starts, ends, strict=True) if s <= x < e)


def _brute_overlap(starts: np.ndarray, ends: np.ndarray, a: float, b: float) -> float:
    """Integral of the step function over [a, b): the summed overlaps of the intervals."""
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in zip(starts, ends, strict=True))


def _tolerance(starts: np.ndarray, ends: np.ndarray) -> float:
    scale = max(1.0, float(np.max(ends, initial=0.0)))
    return 1e-9 * scale * (len(starts) + 1)


@settings(max_examples=200, deadline=None)
@given(intervals=_intervals, at=st.lists(_time, min_size=1, max_size=10))
def test_integral_matches_brute_force(intervals, at):
    starts, ends = _arrays(intervals)
    got = integral(starts, ends, np.array(at))
    want = [_brute_overlap(starts, ends, 0.0, x) for x in at]
    assert np.allclose(got, want, rtol=0, atol=_tolerance(starts, ends))


@settings(max_examples=200, deadline=None)
@given(intervals=_intervals, at=st.lists(_time, min_size=1, max_size=10))
def test_count_at_matches_brute_force(intervals, at):
    starts, ends = _arrays(intervals)
    got = count_at(starts, ends, np.array(at))
    assert got.tolist() == [_brute_count(starts, ends, x) for x in at]


@settings(max_examples=200, deadline=None)
@given(intervals=_intervals, edges=_edges)
def test_per_period_matches_brute_force(intervals, edges):
    starts, ends = _arrays(intervals)
    e = np.array(edges)
    mean, end_count = per_period(starts, ends, e)
    want_mean = [_brute_overlap(starts, ends, a, b) / (b - a) for a, b in pairwise(e)]
    before_end = np.nextafter(e[1:], -np.inf)
    assert len(mean) == len(end_count) == len(e) - 1
    # + 5e-10: per_period rounds means to 9 decimals (to drop cumulative-sum dust)
    tol = _tolerance(starts, ends) / float(np.min(np.diff(e))) + 5e-10
    assert np.allclose(mean, want_mean, rtol=0, atol=tol)
    assert end_count.tolist() == [_brute_count(starts, ends, x) for x in before_end]


@settings(max_examples=100, deadline=None)
@given(intervals=_intervals, at=st.lists(_time, min_size=2, max_size=10).map(sorted))
def test_integral_grows_no_faster_than_the_count(intervals, at):
    starts, ends = _arrays(intervals)
    f = integral(starts, ends, np.array(at))
    tol = _tolerance(starts, ends)
    assert np.all(np.diff(f) >= -tol)
    assert np.all(np.diff(f) <= len(starts) * np.diff(at) + tol)


def test_a_single_interval_by_hand():
    starts, ends = np.array([2.0]), np.array([5.0])
    assert integral(starts, ends, np.array([0.0, 2.0, 3.5, 5.0, 9.0])).tolist() == [
        0.0, 0.0, 1.5, 3.0, 3.0]
    assert count_at(starts, ends, np.array([1.9, 2.0, 4.9, 5.0])).tolist() == [0, 1, 1, 0]
    mean, end_count = per_period(starts, ends, np.array([0.0, 4.0, 8.0]))
    assert mean.tolist() == [0.5, 0.25]
    assert end_count.tolist() == [1, 0]


def test_no_intervals_means_zero_everywhere():
    empty = np.array([], dtype=float)
    assert integral(empty, empty, np.array([0.0, 3.0])).tolist() == [0.0, 0.0]
    assert count_at(empty, empty, np.array([1.0])).tolist() == [0]
    mean, end_count = per_period(empty, empty, np.array([0.0, 1.0, 2.0]))
    assert mean.tolist() == [0.0, 0.0] and end_count.tolist() == [0, 0]
