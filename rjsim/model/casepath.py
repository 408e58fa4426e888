"""Each referral's path through the service once allocated, drawn up front in bulk.

A case holds its caseload slot from allocation until it closes, and nothing after allocation
depends on other cases, so its whole path (exits, intervention mode, stage durations and
facilitator hours) can be drawn at referral time from its own named streams. That keeps the
engine to one event per allocated case and makes per-case draws identical whatever the
capacity (common random numbers).

Exits at assessment are applied in sequence: the victim withdraws; else the offender declines;
else the case is found unsuitable on risk. Then a party may withdraw in preparation. Each exit
is a share of the cases that reached it, counted once: the victim's choice to take part is
``demand.wants_rj`` (before referral) and the offender's acceptance of responsibility
``demand.offender_identified``, so the assessment exits are later withdrawals (after consent) and
unavailability, not the same choices again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rjsim.core.codes import Mode, Outcome
from rjsim.core.streams import Streams
from rjsim.scenario.expected import mode_hours
from rjsim.scenario.spec import Scenario

STAGES = ("assessment", "preparation", "intervention", "follow_up")


@dataclass(frozen=True)
class CasePaths:
    """Per-case arrays (one element per referral, in referral order within a group)."""

    outcome: np.ndarray  # int8 Outcome of the path if allocated (COMPLETED .. WITHDREW_PREP.)
    mode: np.ndarray  # int8 Mode
    stage_end: np.ndarray  # (n, 4) days from allocation to the end of each stage; nan: not reached
    stage_hours: np.ndarray  # (n, 4) facilitator hours of each stage; 0 where not reached

    @property
    def service_days(self) -> np.ndarray:
        """Days from allocation to closure (the time the case holds its slot)."""
        days: np.ndarray = np.nanmax(self.stage_end, axis=1)
        return days


def draw(scenario: Scenario, group: str, n: int, streams: Streams, area: str) -> CasePaths:
    """Draw ``n`` case paths for ``group`` in ``area``."""
    ex = scenario.exits
    u = streams.rng("path", area, group).random((n, 4))
    outcome = np.full(n, Outcome.COMPLETED, dtype=np.int8)
    outcome[u[:, 3] < ex.preparation_withdraws] = Outcome.WITHDREW_PREPARATION
    outcome[u[:, 2] < scenario.unsuitable(group)] = Outcome.UNSUITABLE
    outcome[u[:, 1] < ex.offender_declines] = Outcome.OFFENDER_DECLINED
    outcome[u[:, 0] < ex.victim_withdraws] = Outcome.VICTIM_WITHDREW
    mode = _modes(scenario, streams.rng("mode", area, group).random((n, 2)))
    mode[outcome != Outcome.COMPLETED] = Mode.NONE
    st = scenario.stages
    dur = np.empty((n, 4))
    dur[:, 0] = st.assessment.duration.sample(streams.rng("duration", area, group, "assessment"), n)
    dur[:, 1] = st.preparation.duration.sample(streams.rng("duration", area, group, "preparation"),
                                               n)
    dur[:, 2] = _intervention_durations(scenario, mode, streams, area, group)
    dur[:, 3] = st.follow_up.duration.sample(streams.rng("duration", area, group, "follow_up"), n)
    reached = _reached(outcome)
    stage_end = np.where(reached, np.cumsum(np.where(reached, dur, 0.0), axis=1), np.nan)
    hours = np.where(reached, _hours_table(scenario, mode), 0.0)
    return CasePaths(outcome, mode, stage_end, hours)


def _modes(scenario: Scenario, u: np.ndarray) -> np.ndarray:
    iv = scenario.interventions
    direct = u[:, 0] < iv.direct_share
    video = direct & (u[:, 1] < iv.video_share_of_direct)
    mode = np.full(len(u), Mode.INDIRECT, dtype=np.int8)
    mode[direct] = Mode.DIRECT_CONFERENCE
    mode[video] = Mode.DIRECT_VIDEO
    return mode


def _intervention_durations(scenario: Scenario, mode: np.ndarray, streams: Streams, area: str,
                            group: str) -> np.ndarray:
    st, n = scenario.stages, len(mode)
    out = np.zeros(n)
    for m, stage in ((Mode.DIRECT_CONFERENCE, st.direct_conference),
                     (Mode.DIRECT_VIDEO, st.direct_video), (Mode.INDIRECT, st.indirect)):
        # Draw for every case so a change in the mode split does not shift other draws.
        drawn = stage.duration.sample(streams.rng("duration", area, group, m.name.lower()), n)
        out[mode == m] = drawn[mode == m]
    return out


def _reached(outcome: np.ndarray) -> np.ndarray:
    """(n, 4) booleans: which stages each case goes through."""
    n = len(outcome)
    reached = np.zeros((n, 4), dtype=bool)
    reached[:, 0] = True
    reached[:, 1] = outcome <= Outcome.WITHDREW_PREPARATION
    reached[:, 1] &= outcome != Outcome.VICTIM_WITHDREW
    reached[:, 1] &= outcome != Outcome.OFFENDER_DECLINED
    reached[:, 1] &= outcome != Outcome.UNSUITABLE
    reached[:, 2] = outcome == Outcome.COMPLETED
    reached[:, 3] = outcome == Outcome.COMPLETED
    return reached


def _hours_table(scenario: Scenario, mode: np.ndarray) -> np.ndarray:
    st = scenario.stages
    by_mode = mode_hours(scenario)
    lookup = np.array([by_mode[Mode(m)] for m in range(len(Mode))])
    hours = np.empty((len(mode), 4))
    hours[:, 0] = st.assessment.effort_hours
    hours[:, 1] = st.preparation.effort_hours
    hours[:, 2] = lookup[mode]
    hours[:, 3] = st.follow_up.effort_hours
    return hours
