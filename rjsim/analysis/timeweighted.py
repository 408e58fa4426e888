"""Exact time-weighted counts of intervals (queue backlogs, busy slots) over periods.

For half-open intervals [start, end), the number "in" at time t is a step function. Its integral
from 0 to x is F(x) = sum_i (min(x, end_i) - min(x, start_i)), computed for many x at once with
sorted arrays and cumulative sums, so backlog and utilisation per period cost O(n log n) and no
event loop.
"""

from __future__ import annotations

import numpy as np


def _sum_min(sorted_values: np.ndarray, cumsum: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_i min(x, v_i) for each x, given sorted v and its cumulative sum."""
    if len(sorted_values) == 0:
        return np.zeros_like(x)
    k = np.searchsorted(sorted_values, x, side="left")  # values < x contribute themselves
    below = np.where(k > 0, cumsum[np.maximum(k - 1, 0)], 0.0)
    return below + x * (len(sorted_values) - k)


def integral(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """F(x) for each x in ``at``: total interval-time accumulated from 0 to x."""
    s, e = np.sort(starts), np.sort(ends)
    x = np.asarray(at, dtype=float)
    total: np.ndarray = _sum_min(e, np.cumsum(e), x) - _sum_min(s, np.cumsum(s), x)
    return total


def count_at(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many intervals contain each x in ``at`` (start <= x < end)."""
    s, e = np.sort(starts), np.sort(ends)
    return np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")


def per_period(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Time-weighted mean count within each period [edges[k], edges[k+1]), and the count at
    each period's end (just before ``edges[k+1]``)."""
    f = integral(starts, ends, edges)
    # differences of large cumulative sums leave ~1e-12 dust; counts cannot be negative
    mean = np.maximum(np.round(np.diff(f) / np.diff(edges), 9), 0.0)
    end_count = count_at(starts, ends, np.nextafter(edges[1:], -np.inf))
    return mean, end_count
