"""The awareness ramp: how the share of victims told about RJ rises once the right commences.

From commencement the share informed moves from the status quo's value to the right's over
``statutory_right.ramp_days`` along a declared curve; ``ramp_days = 0`` is a jump. The curves
map the fraction of the ramp elapsed, ``x`` (0 at commencement, 1 at its end), to the fraction
of the rise reached, 0 before and 1 after:

* ``linear``: ``x``;
* ``logistic``: the logistic function of ``LOGISTIC_STEEPNESS * (x - 1/2)``, rescaled to run
  from exactly 0 at ``x = 0`` to exactly 1 at ``x = 1`` (slow start, fastest at mid-ramp).

Both are monotone, so over any interval the share informed is largest at one of its ends: the
demand model thins against that maximum (:mod:`rjsim.model.demand`). Exact means over an
interval (closed-form integrals) give the expected counts.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Curve = Literal["linear", "logistic"]
#: Steepness of the logistic ramp: about 1% of the rise in the first tenth of the ramp, 50% at
#: its middle.
LOGISTIC_STEEPNESS = 10.0


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def _softplus(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.logaddexp(0.0, z)
    return out


_K = LOGISTIC_STEEPNESS
_LOW, _HIGH = float(_sigmoid(np.array(-_K / 2))), float(_sigmoid(np.array(_K / 2)))


def reached(curve: Curve, x: np.ndarray | float) -> np.ndarray:
    """Fraction of the rise reached when a fraction ``x`` of the ramp has elapsed."""
    share: np.ndarray = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    if curve == "linear":
        return share
    out: np.ndarray = np.clip((_sigmoid(_K * (share - 0.5)) - _LOW) / (_HIGH - _LOW), 0.0, 1.0)
    return out


def _integral(curve: Curve, x: np.ndarray) -> np.ndarray:
    """The integral of :func:`reached` from 0 to ``x``."""
    inside = np.clip(x, 0.0, 1.0)
    if curve == "linear":
        part = inside ** 2 / 2
    else:
        part = ((_softplus(_K * (inside - 0.5)) - _softplus(np.array(-_K / 2))) / _K
                - _LOW * inside) / (_HIGH - _LOW)
    out: np.ndarray = part + np.maximum(x - 1.0, 0.0)  # the rise is complete after the ramp
    return out


def mean_reached(curve: Curve, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Mean of :func:`reached` over each interval ``[x0, x1]`` (``x1 > x0``)."""
    x0, x1 = np.asarray(x0, dtype=float), np.asarray(x1, dtype=float)
    out: np.ndarray = (_integral(curve, x1) - _integral(curve, x0)) / (x1 - x0)
    return out


def informed(before: float, after: float, ramp_days: float, curve: Curve,
             days_since: np.ndarray) -> np.ndarray:
    """Share informed ``days_since`` commencement (a jump when ``ramp_days`` is 0)."""
    days_since = np.asarray(days_since, dtype=float)
    if ramp_days <= 0:
        return np.where(days_since >= 0, after, before)
    return before + (after - before) * reached(curve, days_since / ramp_days)


def mean_informed(before: float, after: float, ramp_days: float, curve: Curve,
                  since0: np.ndarray, since1: np.ndarray) -> np.ndarray:
    """Mean share informed over each interval ``[since0, since1]`` of days since commencement
    (both at or after commencement; ``ramp_days`` above 0)."""
    return before + (after - before) * mean_reached(curve, np.asarray(since0) / ramp_days,
                                                    np.asarray(since1) / ramp_days)
