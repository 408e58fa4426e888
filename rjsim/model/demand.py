"""Demand: victims, the referral funnel, and the referral stream of one area and offence group.

Victims with an identifiable offence arrive as a Poisson process at the recorded annual rate
(scaled by demand growth). Rates are piecewise constant on periods (months), split where the
statutory right commences for the group in the area (its phases may commence it on different
days). Per segment the funnel is drawn in bulk (eligible victims, offender identified, diverted
to police level-one RJ, informed, uninformed, asked for RJ) and only the victims who asked get
individual times, uniform within the segment: together an exact thinned Poisson process,
without a process or even a random draw per victim. While awareness ramps up after
commencement (:mod:`rjsim.scenario.awareness`) the share informed changes within a segment:
the segment is drawn at its largest share and the askers thinned to the share at their own
offence time (thinning against the maximum rate, exact).
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


def _segments(scenario: Scenario, day: float | None) -> tuple[np.ndarray, np.ndarray]:
    horizon = scenario.run.horizon_days
    edges = list(np.arange(n_periods(horizon) + 1) * DAYS_PER_PERIOD)
    edges[-1] = horizon
    if day is not None and day not in edges:
        edges.append(day)
    e = np.array(sorted(edges))
    return e[:-1], e[1:]


def generate(scenario: Scenario, area: str, group: str, victims_per_year: float,
             streams: Streams, *, area_name: str = "") -> GroupDemand:
    """Draw one replication's demand for ``group`` in ``area`` (its code; ``area_name`` too
    when the right's phases may name areas by name)."""
    day = scenario.right_commences(group, area, area_name)
    start, end = _segments(scenario, day)
    right = scenario.statutory_right
    p_id, p_inf, p_want = scenario.funnel(group)
    under = np.zeros(len(start), dtype=bool) if day is None else start >= day
    ramping = day is not None and right.ramp_days > 0
    if ramping:  # drawn against the most informed in each segment, then thinned (below)
        since = [awareness.informed(p_inf, right.informed, right.ramp_days, right.ramp_curve,
                                    np.maximum(edge - day, 0.0)) for edge in (start, end)]
        informed_p = np.where(under, np.maximum(*since), p_inf)
    else:
        informed_p = np.where(under, right.informed, p_inf)
    wants_p = np.where(under, p_want if right.wants_rj is None else right.wants_rj, p_want)
    divert_p = (scenario.level_one.diversion_share if group in scenario.level_one.groups else 0.0)
    growth = (1.0 + scenario.demand.growth_per_year) ** ((start + end) / 2 / DAYS_PER_YEAR)
    rate = victims_per_year / DAYS_PER_YEAR * growth
    rng = streams.rng("demand", area, group)
    eligible = rng.poisson(rate * (end - start))
    identified = rng.binomial(eligible, p_id)
    diverted = rng.binomial(identified, divert_p)
    informed = rng.binomial(identified - diverted, informed_p)
    asked = rng.binomial(informed, wants_p)
    seg_of_victim = np.repeat(np.arange(len(start)), asked)
    offence_day = start[seg_of_victim] + rng.random(len(seg_of_victim)) * (end - start)[
        seg_of_victim]
    if ramping:
        informed, asked, keep = _thin_to_ramp(
            scenario, _Drawn(start, end, under, informed_p, informed, asked),
            (p_inf, float(day or 0.0)), seg_of_victim, offence_day,
            streams.rng("demand", area, group, "ramp"))
        seg_of_victim, offence_day = seg_of_victim[keep], offence_day[keep]
    funnel = np.zeros((len(FUNNEL), n_periods(scenario.run.horizon_days)), dtype=np.int64)
    period = period_of(start)
    for row, counts in enumerate((eligible, identified, diverted, informed,
                                  identified - diverted - informed, asked)):
        np.add.at(funnel[row], period, counts)
    return _referrals(scenario, offence_day, under[seg_of_victim], funnel, streams, area, group)


@dataclass(frozen=True)
class _Drawn:
    """Per segment: its bounds, whether the right is in force, the share informed drawn
    against, and the victims informed and asking at that share."""

    start: np.ndarray
    end: np.ndarray
    under: np.ndarray
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
    p_at = np.where(d.under[seg], awareness.informed(
        before, right.informed, right.ramp_days, right.ramp_curve, offence_day - day), before)
    keep = rng.random(len(seg)) * d.informed_p[seg] < p_at
    mean_p = np.full(len(d.start), before)
    mean_p[d.under] = awareness.mean_informed(before, right.informed, right.ramp_days,
                                              right.ramp_curve, d.start[d.under] - day,
                                              d.end[d.under] - day)
    ratio = np.divide(mean_p, d.informed_p, out=np.ones(len(d.start)), where=d.informed_p > 0)
    asked = np.bincount(seg[keep], minlength=len(d.start))
    informed = asked + rng.binomial(d.informed - d.asked, np.clip(ratio, 0.0, 1.0))
    return informed, asked, keep


def _referrals(scenario: Scenario, offence_day: np.ndarray, under_right: np.ndarray,
               funnel: np.ndarray, streams: Streams, area: str, group: str) -> GroupDemand:
    order = np.argsort(offence_day, kind="stable")
    offence_day, under_right = offence_day[order], under_right[order]
    n = len(offence_day)
    delay = scenario.demand.referral_delay.sample(streams.rng("delay", area, group), n)
    if under_right.any():
        right_delay = scenario.statutory_right.referral_delay.sample(
            streams.rng("delay", area, group, "right"), n)
        delay = np.where(under_right, right_delay, delay)
    referral_day = offence_day + delay
    keep = referral_day < scenario.run.horizon_days
    referral_day, under_right = referral_day[keep], under_right[keep]
    order = np.argsort(referral_day, kind="stable")
    return GroupDemand(funnel, referral_day[order], under_right[order])
