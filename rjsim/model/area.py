"""One area, one replication: demand, case paths, the engine, and the flat records it leaves.

Pure simulation: no pandas, no files. :func:`simulate_area` is the unit of work that runners
parallelise over (scenario, replication, area). Every run checks conservation per offence group
(referrals = closed + lost + in progress) from counters kept independently of the case records,
and raises :class:`~rjsim.core.errors.ConservationError` naming the area and group if it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from rjsim.core.codes import CLOSED, Outcome, Pool
from rjsim.core.errors import ConservationError
from rjsim.core.streams import Streams
from rjsim.data.areas import Area, demand_victims
from rjsim.model import casepath, demand, workforce
from rjsim.model.engine import AreaService, Clock, IntakeQueue, SlotChange
from rjsim.model.staffing import Staffing, period_days, slot_counts
from rjsim.model.workforce import Workforce
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import GROUPS, SENSITIVE, Scenario


@dataclass(frozen=True)
class AreaRecords:
    """Everything one area's replication produced, as flat arrays (one row per referral)."""

    area: str
    replication: int
    groups: tuple[str, ...]  # group names, indexed by the ``group`` codes below
    horizon_days: float
    staffing: Staffing
    caseload_per_fte: float
    general_slots: int  # at day 0
    specialist_slots: int  # at day 0
    slots_by_period: np.ndarray  # (periods, 2) slots of each Pool (general, specialist)
    workforce: Workforce
    funnel: np.ndarray  # (groups, len(demand.FUNNEL), periods) by offence period
    group: np.ndarray  # int8 index into ``groups``
    referral_day: np.ndarray
    under_right: np.ndarray  # bool: offence on or after commencement
    allocation_day: np.ndarray  # nan if never allocated
    queue_exit_day: np.ndarray  # allocation, loss, or the horizon if still waiting
    outcome: np.ndarray  # int8 Outcome as it stood at the horizon
    mode: np.ndarray  # int8 Mode of the (eventual) intervention; NONE if none
    skill: np.ndarray  # int8 Pool of the slot each case got; NO_POOL (-1) never allocated
    stage_end_day: np.ndarray  # (n, 4) absolute day each stage ended; nan if not reached
    stage_hours: np.ndarray  # (n, 4) facilitator hours of each stage reached

    @property
    def n_referrals(self) -> int:
        return len(self.referral_day)

    @cached_property
    def close_day(self) -> np.ndarray:
        """Day each case closed; nan if it had not closed by the horizon (or never started)."""
        closed = np.isin(self.outcome, CLOSED)
        last = np.where(np.isnan(self.stage_end_day), -np.inf, self.stage_end_day).max(axis=1)
        return np.where(closed, last, np.nan)

    @property
    def slot_release_day(self) -> np.ndarray:
        """Day each allocated case frees its slot (the horizon if still in service); nan if
        never allocated."""
        return np.where(np.isnan(self.allocation_day), np.nan,
                        np.where(np.isnan(self.close_day), self.horizon_days, self.close_day))


@dataclass(frozen=True)
class _GroupDraw:
    """One offence group's referrals in an area, in the order drawn."""

    group: int  # index into the scenario's groups
    demand: demand.GroupDemand
    patience: np.ndarray  # days a victim waits for a facilitator before withdrawing
    window: np.ndarray  # days until the case's window for RJ closes
    paths: casepath.CasePaths


@dataclass(frozen=True)
class _Referrals:
    """Every referral of an area, all groups together, sorted by referral day (the same
    draws whether the area is simulated on its own or in a pooled region)."""

    group: np.ndarray
    referral_day: np.ndarray
    under_right: np.ndarray
    deadline: np.ndarray
    deadline_reason: np.ndarray
    paths: casepath.CasePaths
    funnel: np.ndarray


def _draw_group(scenario: Scenario, area: Area, index: int, group: str, rate: float,
                streams: Streams) -> _GroupDraw:
    d = demand.generate(scenario, area.code, group, rate, streams, area_name=area.name)
    n = len(d.referral_day)
    return _GroupDraw(
        group=index, demand=d,
        patience=scenario.service.patience.sample(streams.rng("patience", area.code, group), n),
        window=scenario.service.window.sample(streams.rng("window", area.code, group), n),
        paths=casepath.draw(scenario, group, n, streams, area.code))


def _draw_referrals(scenario: Scenario, area: Area, streams: Streams) -> _Referrals:
    rates = demand_victims(area, scenario.demand)
    parts = [_draw_group(scenario, area, gi, g, rates[g], streams)
             for gi, g in enumerate(scenario.demand.groups)]
    day = np.concatenate([p.demand.referral_day for p in parts])
    order = np.argsort(day, kind="stable")

    def cat(get: Callable[[_GroupDraw], np.ndarray]) -> np.ndarray:
        return np.concatenate([get(p) for p in parts])[order]

    patience, window = cat(lambda p: p.patience), cat(lambda p: p.window)
    paths = casepath.CasePaths(cat(lambda p: p.paths.outcome), cat(lambda p: p.paths.mode),
                               cat(lambda p: p.paths.stage_end),
                               cat(lambda p: p.paths.stage_hours))
    return _Referrals(
        group=cat(lambda p: np.full(len(p.demand.referral_day), p.group, dtype=np.int8)),
        referral_day=day[order], under_right=cat(lambda p: p.demand.under_right),
        deadline=day[order] + np.minimum(patience, window),
        deadline_reason=np.where(window < patience, Outcome.WINDOW_CLOSED,
                                 Outcome.WITHDREW_WAITING).astype(np.int8),
        paths=paths, funnel=np.stack([p.demand.funnel for p in parts]))


@dataclass(frozen=True)
class _Capacity:
    """An area's caseload capacity: day-0 staffing, slots per FTE and slots in each period."""

    staffing: Staffing
    caseload_per_fte: float
    slots_by_period: np.ndarray  # (periods, 2) slots of each Pool
    workforce: Workforce


class Served(Protocol):
    """What an engine leaves per case of an area: when and on which slot kind each case was
    allocated, and cases closed and in service per offence group."""

    @property
    def allocation_day(self) -> np.ndarray: ...
    @property
    def skill(self) -> np.ndarray: ...
    @property
    def closed(self) -> Sequence[int]: ...
    @property
    def busy(self) -> Sequence[int]: ...


class Simulated(Protocol):
    """One area's referrals and what the engine did with them (on its own or in a region)."""

    @property
    def ref(self) -> _Referrals: ...
    @property
    def service(self) -> Served: ...
    @property
    def no_service(self) -> np.ndarray: ...
    @property
    def lost(self) -> np.ndarray: ...
    @property
    def waiting(self) -> np.ndarray: ...


@dataclass(frozen=True)
class _Simulated:
    """What the engine leaves: the referrals, the service and its queues (indexed by Pool),
    and which referrals found no slot of their pool at all."""

    ref: _Referrals
    service: AreaService
    queues: tuple[IntakeQueue, IntakeQueue]
    no_service: np.ndarray

    @property
    def lost(self) -> np.ndarray:
        """Cases the queues found gone (patience or window) before allocation."""
        return np.concatenate([np.asarray(q.lost, dtype=np.int64) for q in self.queues])

    @property
    def waiting(self) -> np.ndarray:
        """Cases never allocated nor found lost (still waiting, or abandoned unseen)."""
        return np.concatenate([q.remaining() for q in self.queues])


def slot_schedule(scenario: Scenario, wf: Workforce) -> np.ndarray:
    """(periods, 2) caseload slots of each :class:`~rjsim.core.codes.Pool` from staff in post
    (volunteers add general capacity)."""
    fte = wf.in_post + np.array([wf.volunteer_fte, 0.0])
    return slot_counts(fte, expected_path.caseload_per_fte(scenario))


def simulate_area(scenario: Scenario, area: Area, staffing: Staffing, replication: int,
                  wf: Workforce | None = None) -> AreaRecords:
    """Simulate one area for one replication and return its records (conservation checked).

    ``wf`` gives staffing per period; without it the day-0 ``staffing`` holds throughout.
    This is the model the experiment runner drives (:class:`rjsim.experiment.runner.AreaModel`).
    """
    streams = Streams(scenario.run.seed, replication)
    ref = _draw_referrals(scenario, area, streams)
    horizon = scenario.run.horizon_days
    days = period_days(horizon)
    wf = wf or workforce.constant((staffing.general_fte, staffing.specialist_fte), days,
                                  (staffing.cost_per_general_fte_gbp,
                                   staffing.cost_per_specialist_fte_gbp))
    by_period = slot_schedule(scenario, wf)
    at_referral = by_period[demand.period_of(ref.referral_day)]
    sensitive = np.isin(ref.group, [i for i, g in enumerate(scenario.demand.groups)
                                    if g in SENSITIVE])
    no_service = np.where(sensitive, at_referral[:, Pool.SPECIALIST] == 0,
                          at_referral.sum(axis=1) == 0)
    all_idx = np.arange(len(ref.referral_day))
    queues = (IntakeQueue(all_idx[~sensitive & ~no_service], ref.referral_day, ref.deadline),
              IntakeQueue(all_idx[sensitive & ~no_service], ref.referral_day, ref.deadline))
    starts = np.concatenate([[0.0], np.cumsum(days)[:-1]])
    changes = [SlotChange(float(starts[k]), int(by_period[k, Pool.GENERAL]),
                          int(by_period[k, Pool.SPECIALIST]))
               for k in range(1, len(days)) if (by_period[k] != by_period[k - 1]).any()]
    env = Clock()
    service = AreaService(env, queues, (int(by_period[0, Pool.GENERAL]),
                                        int(by_period[0, Pool.SPECIALIST])),
                          ref.paths.service_days, ref.group, len(scenario.demand.groups),
                          changes)
    env.run(until=horizon)
    sim = _Simulated(ref, service, queues, no_service)
    records = _assemble(scenario, area, replication, sim, _Capacity(
        staffing, expected_path.caseload_per_fte(scenario), by_period, wf))
    _check_conservation(records, sim)
    return records


def _assemble(scenario: Scenario, area: Area, replication: int, sim: Simulated,
              capacity: _Capacity) -> AreaRecords:
    horizon, target = scenario.run.horizon_days, scenario.service.wait_target_days
    ref, no_service = sim.ref, sim.no_service
    alloc = sim.service.allocation_day
    allocated = ~np.isnan(alloc)
    stage_end = alloc[:, None] + ref.paths.stage_end
    outcome = np.full(len(alloc), Outcome.WAITING_AT_END, dtype=np.int8)
    exit_day = np.full(len(alloc), horizon)
    closes = stage_end.max(axis=1, initial=-np.inf, where=~np.isnan(stage_end))
    outcome[allocated] = np.where(closes[allocated] < horizon, ref.paths.outcome[allocated],
                                  Outcome.IN_SERVICE_AT_END)
    exit_day[allocated] = alloc[allocated]
    outcome[no_service] = Outcome.NO_SERVICE
    exit_day[no_service] = ref.referral_day[no_service]
    lost = sim.lost
    outcome[lost], exit_day[lost] = ref.deadline_reason[lost], ref.deadline[lost]
    waiting = sim.waiting
    gone = ref.deadline[waiting] <= horizon
    outcome[waiting[gone]] = ref.deadline_reason[waiting[gone]]
    exit_day[waiting[gone]] = ref.deadline[waiting[gone]]
    still = waiting[~gone]
    outcome[still] = np.where(horizon - ref.referral_day[still] > target,
                              Outcome.UNALLOCATED_AT_END, Outcome.WAITING_AT_END)
    stage_end[stage_end >= horizon] = np.nan  # stages not finished by the horizon
    hours = np.where(np.isnan(stage_end), 0.0, ref.paths.stage_hours)
    slots = capacity.slots_by_period
    return AreaRecords(
        area=area.code, replication=replication, groups=scenario.demand.groups,
        horizon_days=horizon, staffing=capacity.staffing,
        caseload_per_fte=capacity.caseload_per_fte,
        general_slots=int(slots[0, Pool.GENERAL]),
        specialist_slots=int(slots[0, Pool.SPECIALIST]),
        slots_by_period=slots, workforce=capacity.workforce, funnel=ref.funnel,
        group=ref.group, referral_day=ref.referral_day, under_right=ref.under_right,
        allocation_day=alloc, queue_exit_day=exit_day, outcome=outcome, mode=ref.paths.mode,
        skill=sim.service.skill, stage_end_day=stage_end, stage_hours=hours)


def _check_conservation(rec: AreaRecords, sim: Simulated) -> None:
    """referrals = closed + lost + in progress, per group, from independent counters."""
    n_groups = len(rec.groups)
    ref = sim.ref
    referrals = np.bincount(ref.group, minlength=n_groups)
    waiting = sim.waiting
    lost = (np.bincount(ref.group[sim.lost], minlength=n_groups)
            + np.bincount(ref.group[sim.no_service], minlength=n_groups)
            + np.bincount(ref.group[waiting[ref.deadline[waiting] <= rec.horizon_days]],
                          minlength=n_groups))
    in_queue = np.bincount(ref.group[waiting[ref.deadline[waiting] > rec.horizon_days]],
                           minlength=n_groups)
    closed, busy = np.asarray(sim.service.closed), np.asarray(sim.service.busy)
    for g in range(n_groups):
        if referrals[g] != closed[g] + lost[g] + busy[g] + in_queue[g]:
            raise ConservationError(
                f"conservation failed in area {rec.area}, offence group '{rec.groups[g]}', "
                f"replication {rec.replication}: {referrals[g]} referrals != {closed[g]} closed "
                f"+ {lost[g]} lost + {busy[g] + in_queue[g]} in progress")


__all__ = ["GROUPS", "AreaRecords", "simulate_area"]
