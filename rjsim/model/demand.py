"""Demand: victims, the referral funnel, and the referral stream of one area and offence group.

Victims with an identifiable offence arrive as a Poisson process at the recorded annual rate
(scaled by demand growth), piecewise constant on periods (months). Per month the funnel is drawn
in bulk (eligible victims, offender identified, diverted to police level-one RJ, informed,
uninformed, asked for RJ) and only the victims who asked get individual times, uniform within
the month: together an exact thinned Poisson process, without a process or even a random draw
per victim.

Common random numbers around commencement. Two scenarios that differ only in the statutory right
(its phases, commencement day on or off a month edge, ramp, informed, wants_rj, referral delay)
draw on the same seed exactly the same victims, offenders identified and level-one diversions in
every month, and exactly the same referrals (offence day, referral day, flag) for every offence
before the group's commencement in the area. The draws are split into streams
(:mod:`rjsim.core.streams`), each named by its source, the area code, the group and a stage:

- ``("demand", area, group)``: for every month, whatever the right, the victims (Poisson),
  offenders identified, level-one diversions, and who is informed and asks at the status quo's
  shares;
- ``("demand", area, group, "times")``: the offence times of those who asked, month by month,
  drawn only for the months before commencement (a prefix of the status quo's draws);
- ``("demand", area, group, "right")``: only where the right commences in the run. The month it
  commences in (when off a month edge) is split at commencement: those who asked keep their
  status-quo times (the ones before commencement stay), the informed who did not ask and the
  uninformed are split by the share of the month before commencement (binomial: their times are
  uniform); the victims left after commencement, and every later month's, are then drawn afresh
  at the right's shares (informed, asked, offence times);
- ``("delay", area, group)`` and ``("delay", area, group, "right")``: referral delays in
  offence order, the status quo's for offences before commencement (again a prefix of the status
  quo's draws), the right's after.

While awareness ramps up after commencement (:mod:`rjsim.scenario.awareness`) the share informed
changes within a month: the part of the month under the right is drawn at its largest share and
the askers are thinned to the share at their own offence time (thinning against the maximum
rate, exact), from the ``"right"`` stream too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rjsim.core.streams import Streams
from rjsim.scenario import awareness
from rjsim.scenario.spec import DAYS_PER_YEAR, Scenario

DAYS_PER_PERIOD = DAYS_PER_YEAR / 12.0
#: Funnel counts kept per period, in funnel order.
FUNNEL = ("eligible_victims", "offender_identified", "diverted_level_one", "informed",
          "uninformed_eligible", "asked_for_rj")
_EDGE = 1e-9  # a commencement this close to a month edge is on it


def n_periods(horizon_days: float) -> int:
    """Number of (month-long) periods covering the horizon."""
    return int(np.ceil(horizon_days / DAYS_PER_PERIOD - 1e-9))


def period_of(days: np.ndarray) -> np.ndarray:
    """Period index of each time in days."""
    return np.floor(np.asarray(days) / DAYS_PER_PERIOD).astype(np.int64)


@dataclass(frozen=True)
class GroupDemand:
    """One group's demand in one area: funnel counts per period and the referrals' times."""

    funnel: np.ndarray  # (len(FUNNEL), periods) counts by offence period
    referral_day: np.ndarray  # sorted days of referral (< horizon)
    under_right: np.ndarray  # bool: offence on or after commencement
    offence_day: np.ndarray  # day of each referral's offence (in referral order)


def _months(horizon: float) -> tuple[np.ndarray, np.ndarray]:
    edges = np.arange(n_periods(horizon) + 1) * DAYS_PER_PERIOD
    edges[-1] = horizon
    return edges[:-1], edges[1:]


@dataclass(frozen=True)
class _Month:
    """Per month, drawn whatever the right: its bounds, the victims left after level-one
    diversion, and those informed and asking at the status quo's shares."""

    start: np.ndarray
    end: np.ndarray
    left: np.ndarray
    informed: np.ndarray
    asked: np.ndarray


def generate(scenario: Scenario, area: str, group: str, victims_per_year: float,
             streams: Streams, *, area_name: str = "") -> GroupDemand:
    """Draw one replication's demand for ``group`` in ``area`` (its code; ``area_name`` too
    when the right's phases may name areas by name)."""
    horizon = scenario.run.horizon_days
    start, end = _months(horizon)
    p_id, p_inf, p_want = scenario.funnel(group)
    divert_p = (scenario.level_one.diversion_share if group in scenario.level_one.groups else 0.0)
    growth = (1.0 + scenario.demand.growth_per_year) ** ((start + end) / 2 / DAYS_PER_YEAR)
    rng = streams.rng("demand", area, group)
    eligible = rng.poisson(victims_per_year / DAYS_PER_YEAR * growth * (end - start))
    identified = rng.binomial(eligible, p_id)
    diverted = rng.binomial(identified, divert_p)
    left = identified - diverted
    informed = rng.binomial(left, p_inf)
    m = _Month(start, end, left, informed, rng.binomial(informed, p_want))
    day = scenario.right_commences(group, area, area_name)
    if day is not None:
        snap = np.flatnonzero(np.abs(start - day) < _EDGE)
        day = float(start[snap[0]]) if len(snap) else float(day)
    # months with a part before commencement get the status quo's askers and times
    before = len(start) if day is None else int(np.count_nonzero(start < day))
    seg = np.repeat(np.arange(before), m.asked[:before])
    offence_day = start[seg] + streams.rng("demand", area, group, "times").random(len(seg)) * (
        end - start)[seg]
    informed, asked = m.informed.copy(), m.asked.copy()
    if day is not None and day < horizon:
        kept = offence_day < day
        offence_day = offence_day[kept]
        informed, asked, later = _after_commencement(
            scenario, group, m, (p_inf, p_want, day), np.bincount(seg[kept], minlength=len(start)),
            streams.rng("demand", area, group, "right"))
        offence_day = np.concatenate([offence_day, later])
    funnel = np.stack([eligible, identified, diverted, informed, m.left - informed, asked])
    return _referrals(scenario, offence_day, day, funnel, streams, area, group)


def _after_commencement(scenario: Scenario, group: str, m: _Month,
                        before: tuple[float, float, float], asked_before: np.ndarray,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right's part of the months after commencement ``day``: the status quo's months
    before it stand, the month it falls in is split at it (``asked_before``: that month's
    status-quo askers with offences before it), and the rest is drawn at the right's shares.
    Returns the informed and asking per month, and the offence days of those who asked after
    commencement."""
    right = scenario.statutory_right
    p_inf, p_want, day = before
    after = m.end > day  # months with a part on or after commencement
    seg_start = np.maximum(m.start[after], day)
    seg_end = m.end[after]
    share_before = (seg_start - m.start[after]) / (m.end - m.start)[after]
    split = share_before > 0  # at most the first, when commencement is inside it
    informed_before = np.where(after, 0, m.informed)
    asked_before = np.where(after, asked_before, m.asked)
    n_after = m.left[after].copy()
    if split.any():
        i = int(np.flatnonzero(after)[0])
        s = float(share_before[0])
        stayed = (asked_before[i] + rng.binomial(m.informed[i] - m.asked[i], s))
        informed_before[i] = stayed
        n_after[0] -= stayed + rng.binomial(m.left[i] - m.informed[i], s)
    ramping = right.ramp_days > 0
    if ramping:  # drawn against the most informed in each segment, then thinned (below)
        q = np.maximum(*(awareness.informed(p_inf, right.informed, right.ramp_days,
                                            right.ramp_curve, edge - day)
                         for edge in (seg_start, seg_end)))
    else:
        q = np.full(len(seg_start), right.informed)
    wants = p_want if right.wants_rj is None else right.wants_rj
    informed_after = rng.binomial(n_after, q)
    asked_after = rng.binomial(informed_after, wants)
    seg = np.repeat(np.arange(len(seg_start)), asked_after)
    offence_day = seg_start[seg] + rng.random(len(seg)) * (seg_end - seg_start)[seg]
    if ramping:
        informed_after, asked_after, keep = _thin_to_ramp(
            scenario, _Drawn(seg_start, seg_end, q, informed_after, asked_after),
            (p_inf, day), seg, offence_day, rng)
        offence_day = offence_day[keep]
    informed, asked = informed_before, asked_before
    informed[after] += informed_after
    asked[after] += asked_after
    return informed, asked, offence_day


@dataclass(frozen=True)
class _Drawn:
    """Per segment under the right: its bounds, the share informed drawn against, and the
    victims informed and asking at that share."""

    start: np.ndarray
    end: np.ndarray
    informed_p: np.ndarray
    informed: np.ndarray
    asked: np.ndarray


def _thin_to_ramp(scenario: Scenario, d: _Drawn, before_and_day: tuple[float, float],
                  seg: np.ndarray, offence_day: np.ndarray, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thinning for an awareness ramp: each victim who asked at the segment's most informed
    share ``q`` is kept with chance ``p(t) / q`` at their offence time ``t`` (an exact thinned
    Poisson process at rate ``p(t)``); victims informed who did not ask are thinned in bulk by
    the segment's mean ``p`` over ``q`` (their times are uniform, so each is kept with that
    chance). Returns the victims informed and asking per segment, and which askers stay."""
    right, (before, day) = scenario.statutory_right, before_and_day
    p_at = awareness.informed(before, right.informed, right.ramp_days, right.ramp_curve,
                              offence_day - day)
    keep = rng.random(len(seg)) * d.informed_p[seg] < p_at
    mean_p = awareness.mean_informed(before, right.informed, right.ramp_days, right.ramp_curve,
                                     d.start - day, d.end - day)
    ratio = np.divide(mean_p, d.informed_p, out=np.ones(len(d.start)), where=d.informed_p > 0)
    asked = np.bincount(seg[keep], minlength=len(d.start))
    informed = asked + rng.binomial(d.informed - d.asked, np.clip(ratio, 0.0, 1.0))
    return informed, asked, keep


def _referrals(scenario: Scenario, offence_day: np.ndarray, day: float | None,
               funnel: np.ndarray, streams: Streams, area: str, group: str) -> GroupDemand:
    """Referral delays in offence order: the status quo's stream for offences before
    commencement ``day`` (which sort first), the right's after."""
    offence_day = np.sort(offence_day, kind="stable")
    n = len(offence_day)
    n_before = n if day is None else int(np.searchsorted(offence_day, day, side="left"))
    under_right = np.arange(n) >= n_before
    delay = np.empty(n)
    delay[:n_before] = scenario.demand.referral_delay.sample(
        streams.rng("delay", area, group), n_before)
    if n > n_before:
        delay[n_before:] = scenario.statutory_right.referral_delay.sample(
            streams.rng("delay", area, group, "right"), n - n_before)
    referral_day = offence_day + delay
    keep = referral_day < scenario.run.horizon_days
    referral_day, under_right, offence_day = (referral_day[keep], under_right[keep],
                                              offence_day[keep])
    order = np.argsort(referral_day, kind="stable")
    return GroupDemand(funnel, referral_day[order], under_right[order], offence_day[order])
