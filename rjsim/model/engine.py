"""The discrete-event core: one area's intake queues and caseload slots, on SimPy.

Design (STYLE.md habit 12, "hot paths are designed"):

* Referral times are known in advance (:mod:`rjsim.model.demand`), so an intake queue is a pointer
  into the referrals its facilitator pool serves, sorted by time: everyone with a referral time
  up to *now* past the pointer is waiting. Joining the queue costs nothing.
* Abandonment (patience or window) is found lazily: when a slot looks for its next case it
  steps over referrals whose deadline has passed and records them as lost at their deadline.
  For a first-come-first-served queue this is exact.
* An allocated case holds its slot for its pre-drawn service time: one scheduled call that
  frees the slot and allocates again. No process per victim or per case.
* While a slot is idle the service wakes at the next relevant referral time. A wake-up is
  scheduled only when it is earlier than the last one scheduled (or that one has fired), so
  several can be pending at once; each that fires runs an allocation pass, which does nothing
  when no case is ready. While all slots are busy, arrivals need no events at all.
* Staffing changes (:class:`SlotChange`) are scheduled at the start: added slots are free at
  once; removed ones disappear as their cases close.
* Everything the service schedules is a plain call on the :class:`Clock` (a SimPy environment):
  no :class:`simpy.Timeout` object is made per case, and calls keep SimPy's order of events.

Specialist slots (:attr:`~rjsim.core.codes.Pool.SPECIALIST`) take sensitive cases first and
general cases only when no sensitive case waits; general cases prefer general slots.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, NamedTuple

import numpy as np
import simpy
from simpy.events import NORMAL

from rjsim.core.codes import NO_POOL, Pool

GENERAL, SPECIALIST = Pool.GENERAL, Pool.SPECIALIST


class SlotChange(NamedTuple):
    """From ``day`` on, an area has this many caseload slots in each pool."""

    day: float
    general: int
    specialist: int


class Clock(simpy.Environment):
    """A SimPy environment that also runs plain calls scheduled with :meth:`call_in`.

    A call is what a :class:`simpy.Timeout` with one callback would be, without the event
    object: it runs at ``now + delay`` and takes its place in SimPy's order of events (time,
    priority, then the order scheduled), because it draws its sequence number from the
    environment's own counter. So a model that schedules calls instead of timeouts runs its
    callbacks in exactly the same order, and ordinary SimPy events (processes, ``run(until)``)
    still interleave with them. (It relies on :class:`simpy.Environment`'s ``_now``,
    ``_queue`` and ``_eid``, stable since SimPy 4.0.)
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._calls: list[tuple[float, int, int, Callable[[Any], None], Any]] = []

    def call_in(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        """Run ``fn(arg)`` after ``delay``, as a timeout with that callback would."""
        heappush(self._calls, (self._now + delay, NORMAL, next(self._eid), fn, arg))

    def peek(self) -> float:
        t = super().peek()
        return min(t, self._calls[0][0]) if self._calls else t

    def step(self) -> None:
        calls, queue = self._calls, self._queue
        # (time, priority, sequence number) decide: sequence numbers are unique, so the
        # comparison never reaches the call or the event
        if calls and (not queue or calls[0] < queue[0]):
            self._now, _, _, fn, arg = heappop(calls)
            fn(arg)
        else:
            super().step()


class IntakeQueue:
    """First-come-first-served queue of one pool's referrals, as a pointer into them sorted by
    time."""

    __slots__ = ("arrive", "deadline", "head", "idx", "lost", "size")

    def __init__(self, idx: np.ndarray, referral_day: np.ndarray, deadline: np.ndarray) -> None:
        self.idx: list[int] = idx.tolist()
        self.arrive: list[float] = referral_day[idx].tolist()
        self.deadline: list[float] = deadline[idx].tolist()
        self.head = 0
        self.size = len(self.idx)
        self.lost: list[int] = []  # cases found to have abandoned before allocation

    def pop_ready(self, now: float) -> int:
        """The longest-waiting case still waiting at ``now``, or -1 when none is."""
        h, n, arrive, deadline = self.head, self.size, self.arrive, self.deadline
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
        return self.arrive[self.head] if self.head < self.size else math.inf

    def remaining(self) -> np.ndarray:
        """Cases never allocated nor found lost (still waiting, or abandoned unseen)."""
        return np.asarray(self.idx[self.head:], dtype=np.int64)


class AreaService:
    """Caseload slots of one area serving its two intake queues until the horizon.

    ``queues`` and ``slots`` are indexed by :class:`~rjsim.core.codes.Pool` (general, then
    specialist); ``changes`` are later staffing changes.
    """

    def __init__(self, env: Clock, queues: tuple[IntakeQueue, IntakeQueue],
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
        env.call_in(0, self._allocate)
        for change in changes or []:
            env.call_in(change.day, self._set_slots, (change.general, change.specialist))

    def _set_slots(self, target: tuple[int, int]) -> None:
        """Staffing changed: add slots now, or remove them as their cases close."""
        for skill in Pool:
            self.free[skill] += target[skill] - self.slots[skill]
            self.slots[skill] = target[skill]
        self._allocate()

    def _allocate(self, _: object = None) -> None:
        """Fill free slots with ready cases (sensitive ones first on specialist slots, then
        general ones on general slots, then on spare specialist slots), then schedule the
        wake-up for the next arrival a free slot could take. Each queue is asked only when
        its head has arrived: most passes allocate nothing."""
        now, free = self.env.now, self.free
        gq, sq = self.general_q, self.sensitive_q
        if free[SPECIALIST] > 0:
            while sq.head < sq.size and sq.arrive[sq.head] <= now and (
                    i := sq.pop_ready(now)) >= 0:
                self._start(i, SPECIALIST, now)
                if free[SPECIALIST] <= 0:
                    break
        for skill in (GENERAL, SPECIALIST):
            while free[skill] > 0 and gq.head < gq.size and gq.arrive[gq.head] <= now and (
                    i := gq.pop_ready(now)) >= 0:
                self._start(i, skill, now)
        if free[SPECIALIST] > 0:
            t = min(gq.next_arrival(), sq.next_arrival())
        elif free[GENERAL] > 0:
            t = gq.next_arrival()
        else:
            return
        if t < self._wake_at and t != math.inf:
            self._wake_at = t
            self.env.call_in(t - now, self._wake)

    def _start(self, case: int, skill: Pool, now: float) -> None:
        self.free[skill] -= 1
        self.allocation_day[case] = now
        self.skill[case] = skill
        self.busy[self.group[case]] += 1
        self.env.call_in(self.service_days[case], self._release, (case, skill))

    def _release(self, done: tuple[int, Pool]) -> None:
        case, skill = done
        g = self.group[case]
        self.free[skill] += 1
        self.busy[g] -= 1
        self.closed[g] += 1
        self._allocate()

    def _wake(self, _: object) -> None:
        self._wake_at = math.inf
        self._allocate()
