"""Demand: victims, the referral funnel, and the referral stream of one area and offence group.

Victims with an identifiable offence arrive as a Poisson process at the recorded annual rate
(scaled by demand growth). Rates are piecewise constant on periods (months), split where the
statutory right commences for the group in the area (its phases may commence it on different
days). Per segment the funnel is drawn in bulk (eligible victims, offender identified, diverted
to police level-one RJ, informed, uninformed, asked for RJ) and only the victims who asked get
individual times, uniform within the segment: together an exact thinned Poisson process,
without a process or even a random draw per victim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rjsim.core.streams import Streams
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
    funnel = np.zeros((len(FUNNEL), n_periods(scenario.run.horizon_days)), dtype=np.int64)
    period = period_of(start)
    for row, counts in enumerate((eligible, identified, diverted, informed,
                                  identified - diverted - informed, asked)):
        np.add.at(funnel[row], period, counts)
    return _referrals(scenario, offence_day, under[seg_of_victim], funnel, streams, area, group)


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
