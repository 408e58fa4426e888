"""The discrete-event core: one area's intake queues and caseload slots, on SimPy.

Design (STYLE.md habit 12, "hot paths are designed"):

* Referral times are known in advance (:mod:`rjsim.model.demand`), so an intake queue is a pointer
  into the referrals its facilitator pool serves, sorted by time: everyone with a referral time
  up to *now* past the pointer is waiting. Joining the queue costs nothing.
* Abandonment (patience or window) is found lazily: when a slot looks for its next case it
  steps over referrals whose deadline has passed and records them as lost at their deadline.
  For a first-come-first-served queue this is exact.
* An allocated case holds its slot for its pre-drawn service time: one SimPy timeout whose
  callback frees the slot and allocates again. No process per victim or per case.
* While a slot is idle the service wakes at the next relevant referral time. A wake-up is
  scheduled only when it is earlier than the last one scheduled (or that one has fired), so
  several can be pending at once; each that fires runs an allocation pass, which does nothing
  when no case is ready. While all slots are busy, arrivals need no events at all.
* Staffing changes (:class:`SlotChange`) are timeouts scheduled at the start: added slots are
  free at once; removed ones disappear as their cases close.

Specialist slots (:attr:`~rjsim.core.codes.Pool.SPECIALIST`) take sensitive cases first and
general cases only when no sensitive case waits; general cases prefer general slots.
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import numpy as np
import simpy

from rjsim.core.codes import NO_POOL, Pool

GENERAL, SPECIALIST = Pool.GENERAL, Pool.SPECIALIST


class SlotChange(NamedTuple):
    """From ``day`` on, an area has this many caseload slots in each pool."""

    day: float
    general: int
    specialist: int


class IntakeQueue:
    """First-come-first-served queue of one pool's referrals, as a pointer into them sorted by
    time."""

    __slots__ = ("arrive", "deadline", "head", "idx", "lost")

    def __init__(self, idx: np.ndarray, referral_day: np.ndarray, deadline: np.ndarray) -> None:
        self.idx: list[int] = idx.tolist()
        self.arrive: list[float] = referral_day[idx].tolist()
        self.deadline: list[float] = deadline[idx].tolist()
        self.head = 0
        self.lost: list[int] = []  # cases found to have abandoned before allocation

    def pop_ready(self, now: float) -> int:
        """The longest-waiting case still waiting at ``now``, or -1 when none is."""
        h, n, arrive, deadline = self.head, len(self.idx), self.arrive, self.deadline
        while h < n and arrive[h] <= now:
            if deadline[h] < now:  # gone before now (zero patience can still be served now)
                self.lost.append(self.idx[h])
                h += 1
                continue
            self.head = h + 1
            return self.idx[h]
        self.head = h
        return -1

    def next_arrival(self) -> float:
        """Referral time of the next case not yet arrived (valid right after ``pop_ready``)."""
        return self.arrive[self.head] if self.head < len(self.idx) else math.inf

    def remaining(self) -> np.ndarray:
        """Cases never allocated nor found lost (still waiting, or abandoned unseen)."""
        return np.asarray(self.idx[self.head:], dtype=np.int64)


class AreaService:
    """Caseload slots of one area serving its two intake queues until the horizon.

    ``queues`` and ``slots`` are indexed by :class:`~rjsim.core.codes.Pool` (general, then
    specialist); ``changes`` are later staffing changes.
    """

    def __init__(self, env: simpy.Environment, queues: tuple[IntakeQueue, IntakeQueue],
                 slots: tuple[int, int], service_days: np.ndarray, group: np.ndarray,
                 n_groups: int, changes: list[SlotChange] | None = None) -> None:
        self.env = env
        self.general_q, self.sensitive_q = queues
        self.slots = [slots[GENERAL], slots[SPECIALIST]]
        # free < 0 means slots were cut while busy: they disappear as their cases close
        self.free = [slots[GENERAL], slots[SPECIALIST]]
        self.service_days: list[float] = service_days.tolist()
        self.group: list[int] = group.tolist()
        n = len(service_days)
        self.allocation_day = np.full(n, np.nan)
        self.skill = np.full(n, NO_POOL, dtype=np.int8)  # the Pool of the slot each case got
        self.closed = [0] * n_groups  # counted as cases close (for the conservation check)
        self.busy = [0] * n_groups
        self._wake_at = math.inf
        env.timeout(0).callbacks.append(self._allocate)
        for change in changes or []:
            env.timeout(change.day, value=(change.general, change.specialist)).callbacks.append(
                self._set_slots)

    def _set_slots(self, event: simpy.Event) -> None:
        """Staffing changed: add slots now, or remove them as their cases close."""
        target = cast(tuple[int, int], event.value)
        for skill in Pool:
            self.free[skill] += target[skill] - self.slots[skill]
            self.slots[skill] = target[skill]
        self._allocate()

    def _allocate(self, _event: simpy.Event | None = None) -> None:
        now, free = self.env.now, self.free
        gq, sq = self.general_q, self.sensitive_q
        while free[SPECIALIST] > 0 and (i := sq.pop_ready(now)) >= 0:
            self._start(i, SPECIALIST, now)
        while free[GENERAL] > 0 and (i := gq.pop_ready(now)) >= 0:
            self._start(i, GENERAL, now)
        while free[SPECIALIST] > 0 and (i := gq.pop_ready(now)) >= 0:
            self._start(i, SPECIALIST, now)
        self._schedule_wake(now)

    def _start(self, case: int, skill: Pool, now: float) -> None:
        self.free[skill] -= 1
        self.allocation_day[case] = now
        self.skill[case] = skill
        self.busy[self.group[case]] += 1
        done = self.env.timeout(self.service_days[case], value=(case, skill))
        done.callbacks.append(self._release)

    def _release(self, event: simpy.Event) -> None:
        case, skill = cast(tuple[int, Pool], event.value)
        g = self.group[case]
        self.free[skill] += 1
        self.busy[g] -= 1
        self.closed[g] += 1
        self._allocate()

    def _schedule_wake(self, now: float) -> None:
        if self.free[SPECIALIST] > 0:
            t = min(self.general_q.next_arrival(), self.sensitive_q.next_arrival())
        elif self.free[GENERAL] > 0:
            t = self.general_q.next_arrival()
        else:
            return
        if t < self._wake_at and t != math.inf:
            self._wake_at = t
            self.env.timeout(t - now).callbacks.append(self._wake)

    def _wake(self, _event: simpy.Event) -> None:
        self._wake_at = math.inf
        self._allocate()
