"""Analytic queueing results the simulation is validated against.

With one area, one offence group, no funnel losses, exponential case durations and no exits,
the RJ service is an M/M/c queue (``c`` caseload slots, arrival rate ``lam`` referrals a day,
service rate ``mu`` cases a day per slot); with exponential patience (rate ``theta``) it is the
M/M/c+M ("Erlang A") queue. This module gives the exact steady-state values of those queues so
the statistical tests can check the model's output against them (MODEL.md section 8).

All rates are per day and all times in days. Everything is computed by recursions or in log
space, so it stays accurate for several hundred (indeed thousands of) servers: no factorials or
powers of the offered load are ever formed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Relative mass of the Erlang A birth-death chain left beyond the truncation point (at most).
TAIL_TOLERANCE = 1e-15
#: Refuse chains longer than this (a tiny ``theta`` with ``lam >= c * mu``).
MAX_STATES = 20_000_000


@dataclass(frozen=True)
class ErlangA:
    """Steady-state measures of the M/M/c+M (Erlang A) queue.

    Attributes
    ----------
    p_wait
        Probability that an arrival finds every server busy and so has to queue.
    p_abandon
        Probability that an arrival abandons (runs out of patience) before service.
    mean_wait
        Mean time in queue over *all* arrivals, days: zero for those served at once, time to
        service for those served after a wait, time to abandonment for those who abandon.
    mean_queue_length
        Time-average number waiting (not in service).
    """

    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_queue_length: float


def _check_servers(c: int) -> None:
    if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 1:
        raise ValueError(f"c (number of servers) must be an integer >= 1, got {c!r}")


def _check_rate(name: str, value: float, *, positive: bool) -> None:
    ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        allowed = "a finite number > 0" if positive else "a finite number >= 0"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _check_stable(lam: float, mu: float, c: int) -> None:
    if lam >= c * mu:
        raise ValueError(f"no steady state without abandonment: lam ({lam:g}) must be below "
                         f"c * mu ({c} * {mu:g} = {c * mu:g})")


def erlang_b(lam: float, mu: float, c: int) -> float:
    """Blocking probability of the M/M/c/c loss system (Erlang B).

    Parameters
    ----------
    lam
        Arrival rate (per day), ``>= 0``.
    mu
        Service rate of one server (per day), ``> 0``.
    c
        Number of servers, ``>= 1``.

    Returns
    -------
    float
        Erlang B, by the stable recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, ``a = lam/mu``.
    """
    _check_rate("lam", lam, positive=False)
    _check_rate("mu", mu, positive=True)
    _check_servers(c)
    a, b = lam / mu, 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival must wait in the M/M/c queue (Erlang C).

    Parameters
    ----------
    lam
        Arrival rate (per day), ``>= 0`` and below ``c * mu``.
    mu
        Service rate of one server (per day), ``> 0``.
    c
        Number of servers, ``>= 1``.

    Returns
    -------
    float
        ``C = c B / (c - a (1 - B))`` with ``B`` the Erlang B value and ``a = lam / mu``.

    Raises
    ------
    ValueError
        For invalid arguments or when ``lam >= c * mu`` (no steady state).
    """
    b = erlang_b(lam, mu, c)
    _check_stable(lam, mu, c)
    a = lam / mu
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue ``Wq`` (days) of the M/M/c queue: ``C / (c mu - lam)``.

    Parameters and errors are as for :func:`erlang_c`.
    """
    return erlang_c(lam, mu, c) / (c * mu - lam)


def mmc_mean_queue_length(lam: float, mu: float, c: int) -> float:
    """Time-average number waiting ``Lq`` of the M/M/c queue (Little's law: ``lam Wq``)."""
    return lam * mmc_mean_wait(lam, mu, c)


def mmc_wait_exceeds(lam: float, mu: float, c: int, t: float) -> float:
    """``P(Wq > t)`` in the M/M/c queue: ``C exp(-(c mu - lam) t)``.

    Parameters
    ----------
    lam, mu, c
        As for :func:`erlang_c`.
    t
        Time in days, ``>= 0``.
    """
    _check_rate("t", t, positive=False)
    return erlang_c(lam, mu, c) * math.exp(-(c * mu - lam) * t)


def _death_rates(n: np.ndarray, mu: float, theta: float, c: int) -> np.ndarray:
    """Rate of leaving state ``n`` downwards: services plus abandonments."""
    rates: np.ndarray = np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta
    return rates


def _log_weights(lam: float, mu: float, theta: float, c: int) -> np.ndarray:
    """``log`` of the unnormalised stationary weights of states ``0..N`` of the Erlang A chain.

    Built chunk by chunk from ``log w(n) = log w(n-1) + log(lam / d(n))`` until the ratio
    ``r = lam / d(N+1)`` is below one and the tail bound ``w(N) r / (1 - r)`` (valid because
    the death rates ``d`` never decrease) is below :data:`TAIL_TOLERANCE` of the peak weight.
    """
    parts, last, peak, top = [np.zeros(1)], 0.0, 0.0, 0
    chunk = max(4096, 2 * int(c))
    while top < MAX_STATES:
        n = np.arange(top + 1, top + chunk + 1, dtype=float)
        logw = last + np.cumsum(math.log(lam) - np.log(_death_rates(n, mu, theta, c)))
        parts.append(logw)
        last, peak, top = float(logw[-1]), max(peak, float(logw.max())), top + chunk
        r = lam / float(_death_rates(np.array([top + 1.0]), mu, theta, c)[0])
        if r < 1.0 and last - peak + math.log(r / (1.0 - r)) < math.log(TAIL_TOLERANCE):
            return np.concatenate(parts)
    raise ValueError(f"Erlang A chain needs more than {MAX_STATES} states (theta={theta:g} is "
                     f"too small for lam={lam:g} >= c*mu={c * mu:g}); use a larger theta")


def erlang_a(lam: float, mu: float, theta: float, c: int) -> ErlangA:
    """Steady state of the M/M/c+M (Erlang A) queue from its truncated birth-death chain.

    Parameters
    ----------
    lam
        Arrival rate (per day), ``> 0``.
    mu
        Service rate of one server (per day), ``> 0``.
    theta
        Abandonment rate of one waiting customer (1 / mean patience, per day), ``>= 0``;
        ``0`` is allowed only when ``lam < c * mu`` (it is then the M/M/c queue).
    c
        Number of servers, ``>= 1``.

    Returns
    -------
    ErlangA
        ``p_wait = P(N >= c)`` (arrivals see time averages); ``p_abandon`` from each arrival's
        chance of abandoning given the ``j`` customers ahead of it,
        ``(j + 1) theta / (c mu + (j + 1) theta)``, which is independent of Little's law
        (so ``p_abandon == theta Lq / lam`` is a real check); ``mean_wait = Lq / lam``.

    Raises
    ------
    ValueError
        For invalid arguments, or ``theta == 0`` with ``lam >= c * mu``.
    """
    _check_rate("lam", lam, positive=True)
    _check_rate("mu", mu, positive=True)
    _check_rate("theta", theta, positive=False)
    _check_servers(c)
    if theta == 0:
        _check_stable(lam, mu, c)
    logw = _log_weights(lam, mu, theta, int(c))
    pi = np.exp(logw - logw.max())
    pi /= pi.sum()
    queued = pi[int(c):]  # states c, c+1, ...: j = 0, 1, ... already waiting
    ahead = np.arange(len(queued), dtype=float)
    lq = float(np.dot(ahead, queued))
    p_abandon = float(np.dot(queued, (ahead + 1) * theta / (c * mu + (ahead + 1) * theta)))
    return ErlangA(p_wait=float(queued.sum()), p_abandon=p_abandon, mean_wait=lq / lam,
                   mean_queue_length=lq)


__all__ = ["ErlangA", "erlang_a", "erlang_b", "erlang_c", "mmc_mean_queue_length",
           "mmc_mean_wait", "mmc_wait_exceeds"]
