"""The discrete-event core of a region that pools its specialists: one SimPy model per region.

Used when a scenario pools specialists (:class:`~rjsim.scenario.pooling.Pooling`) or serves a
small area by a neighbour's service (``funding.shared_services``); an area on its own runs
:class:`~rjsim.model.engine.AreaService`. The region's areas form services (units): an area on
its own is one, and a host with the small areas it serves is one. Each unit keeps its general
slots (the sum of its areas' own) and one first-come-first-served queue of its areas' general
referrals; the region has one queue of sensitive referrals (every area's, in referral order)
and one pool of specialist slots (the sum of the areas' own). The rules are the area engine's,
read across the region:

1. pooled specialists take the longest-waiting sensitive referral of the region;
2. each unit's general slots take that unit's general referrals;
3. pooled specialists with nothing sensitive waiting take the longest-waiting general referral
   of any unit in the region.

A case a pooled specialist serves holds the slot ``extra_days`` longer (the travel or video
overhead of a pooled case). With one area and no overhead this is the area engine, event for
event (a test checks it). Queues, lazy abandonment, one timeout per allocated case and wake-ups
only while a slot is idle work as in :mod:`rjsim.model.engine`.
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import numpy as np
import simpy

from rjsim.core.codes import NO_POOL, Pool
from rjsim.model.engine import IntakeQueue

GENERAL, SPECIALIST = Pool.GENERAL, Pool.SPECIALIST


class RegionSlotChange(NamedTuple):
    """From ``day`` on, each unit has these general slots and the region these specialists."""

    day: float
    general: tuple[int, ...]
    specialist: int


class RegionCases(NamedTuple):
    """The region's referrals, numbered across its areas: days each holds its slot, and the
    index of its area, of its offence group and of the unit (service) whose general slots
    serve it."""

    service_days: np.ndarray
    area: np.ndarray
    group: np.ndarray
    n_areas: int
    n_groups: int
    unit: np.ndarray


class PeekQueue(IntakeQueue):
    """An intake queue that can show its longest-waiting case before handing it out (to pick
    the oldest general referral across a region's areas)."""

    __slots__ = ()

    def peek_ready(self, now: float) -> float:
        """Referral day of the longest-waiting case still waiting at ``now`` (it stays at the
        head), or ``inf`` when none is; cases found gone are recorded as lost."""
        if self.pop_ready(now) < 0:
            return math.inf
        self.head -= 1  # pop_ready moved past it: put it back
        return self.arrive[self.head]

    def take(self) -> int:
        """Hand out the case :meth:`peek_ready` found."""
        self.head += 1
        return self.idx[self.head - 1]


class RegionService:
    """Caseload slots of a region's areas serving their queues until the horizon.

    ``queues`` are each unit's general queue and the region's sensitive queue; closed and busy
    cases are counted per (area, offence group), at index ``area * n_groups + group``.
    """

    def __init__(self, env: simpy.Environment, queues: tuple[list[PeekQueue], PeekQueue],
                 start: RegionSlotChange, cases: RegionCases, *, extra_days: float = 0.0,
                 changes: list[RegionSlotChange] | None = None) -> None:
        self.env = env
        self.general_qs, self.sensitive_q = queues
        self.general_slots = list(start.general)
        self.specialist_slots = start.specialist
        # free < 0 means slots were cut while busy: they disappear as their cases close
        self.general_free = list(start.general)
        self.specialist_free = start.specialist
        self.extra_days = extra_days
        self.service_days: list[float] = cases.service_days.tolist()
        self.unit_of: list[int] = cases.unit.tolist()
        self.counter: list[int] = (cases.area.astype(np.int64) * cases.n_groups
                                   + cases.group).tolist()
        n = len(cases.service_days)
        self.allocation_day = np.full(n, np.nan)
        self.skill = np.full(n, NO_POOL, dtype=np.int8)
        self.closed = [0] * (cases.n_areas * cases.n_groups)
        self.busy = [0] * (cases.n_areas * cases.n_groups)
        self._wake_at = math.inf
        env.timeout(0).callbacks.append(self._allocate)
        for change in changes or []:
            env.timeout(change.day, value=change).callbacks.append(self._set_slots)

    def _set_slots(self, event: simpy.Event) -> None:
        change = cast(RegionSlotChange, event.value)
        for a, target in enumerate(change.general):
            self.general_free[a] += target - self.general_slots[a]
            self.general_slots[a] = target
        self.specialist_free += change.specialist - self.specialist_slots
        self.specialist_slots = change.specialist
        self._allocate()

    def _allocate(self, _event: simpy.Event | None = None) -> None:
        now = self.env.now
        sq = self.sensitive_q
        while self.specialist_free > 0 and (i := sq.pop_ready(now)) >= 0:
            self._start(i, SPECIALIST, now)
        for a, q in enumerate(self.general_qs):
            while self.general_free[a] > 0 and (i := q.pop_ready(now)) >= 0:
                self._start(i, GENERAL, now)
        while self.specialist_free > 0 and (oldest := self._oldest_general(now)) is not None:
            self._start(oldest.take(), SPECIALIST, now)
        self._schedule_wake(now)

    def _oldest_general(self, now: float) -> PeekQueue | None:
        """The unit queue whose ready head waited longest (the first unit on a tie)."""
        best: PeekQueue | None = None
        best_day = math.inf
        for q in self.general_qs:
            day = q.peek_ready(now)
            if day < best_day:
                best, best_day = q, day
        return best

    def _start(self, case: int, skill: Pool, now: float) -> None:
        if skill == SPECIALIST:
            self.specialist_free -= 1
            days = self.service_days[case] + self.extra_days
        else:
            self.general_free[self.unit_of[case]] -= 1
            days = self.service_days[case]
        self.allocation_day[case] = now
        self.skill[case] = skill
        self.busy[self.counter[case]] += 1
        self.env.timeout(days, value=(case, skill)).callbacks.append(self._release)

    def _release(self, event: simpy.Event) -> None:
        case, skill = cast(tuple[int, Pool], event.value)
        if skill == SPECIALIST:
            self.specialist_free += 1
        else:
            self.general_free[self.unit_of[case]] += 1
        c = self.counter[case]
        self.busy[c] -= 1
        self.closed[c] += 1
        self._allocate()

    def _schedule_wake(self, now: float) -> None:
        t = math.inf
        if self.specialist_free > 0:
            t = min([self.sensitive_q.next_arrival()]
                    + [q.next_arrival() for q in self.general_qs])
        for a, q in enumerate(self.general_qs):
            if self.general_free[a] > 0:
                t = min(t, q.next_arrival())
        if t < self._wake_at and t != math.inf:
            self._wake_at = t
            self.env.timeout(t - now).callbacks.append(self._wake)

    def _wake(self, _event: simpy.Event) -> None:
        self._wake_at = math.inf
        self._allocate()
