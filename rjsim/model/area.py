"""One area, one replication: demand, case paths, the engine, and the flat records it leaves.

Pure simulation: no pandas, no files. :func:`simulate_area` is the unit of work that runners
parallelise over (scenario, replication, area). Every run checks conservation per offence group
(referrals = closed + lost + in progress) from counters kept independently of the case records,
and raises :class:`~rjsim.core.errors.ConservationError` naming the area and group if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from rjsim.core.codes import CLOSED, Outcome
from rjsim.core.errors import ConservationError
from rjsim.core.streams import Streams
from rjsim.data.areas import Area, victims_per_year
from rjsim.model import casepath, demand, workforce
from rjsim.model.engine import AreaService, IntakeQueue
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
    slots_by_period: np.ndarray  # (periods, 2) general and specialist slots in each period
    workforce: Workforce
    funnel: np.ndarray  # (groups, len(demand.FUNNEL), periods) by offence period
    group: np.ndarray  # int8 index into ``groups``
    referral_day: np.ndarray
    under_right: np.ndarray  # bool: offence on or after commencement
    allocation_day: np.ndarray  # nan if never allocated
    queue_exit_day: np.ndarray  # allocation, loss, or the horizon if still waiting
    outcome: np.ndarray  # int8 Outcome as it stood at the horizon
    mode: np.ndarray  # int8 Mode of the (eventual) intervention; NONE if none
    skill: np.ndarray  # int8: -1 never allocated, 0 general slot, 1 specialist slot
    stage_end_day: np.ndarray  # (n, 4) absolute day each stage ended; nan if not reached
    stage_hours: np.ndarray  # (n, 4) facilitator hours of each stage reached

    @property
    def n_referrals(self) -> int:
        return len(self.referral_day)

    @property
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


@dataclass
class _Referrals:
    group: np.ndarray
    referral_day: np.ndarray
    under_right: np.ndarray
    deadline: np.ndarray
    deadline_reason: np.ndarray
    paths: casepath.CasePaths
    funnel: np.ndarray


def _draw_referrals(scenario: Scenario, area: Area, streams: Streams) -> _Referrals:
    groups = scenario.demand.groups
    rates = victims_per_year(area, scenario.demand.apportionment)
    parts = []
    for gi, g in enumerate(groups):
        d = demand.generate(scenario, area.code, g, rates[g], streams)
        n = len(d.referral_day)
        patience = scenario.service.patience.sample(streams.rng("patience", area.code, g), n)
        window = scenario.service.window.sample(streams.rng("window", area.code, g), n)
        paths = casepath.draw(scenario, g, n, streams, area.code)
        parts.append((gi, d, patience, window, paths))
    day = np.concatenate([p[1].referral_day for p in parts])
    order = np.argsort(day, kind="stable")

    def cat(get: object) -> np.ndarray:
        return np.concatenate([get(p) for p in parts])[order]  # type: ignore[operator]

    patience, window = cat(lambda p: p[2]), cat(lambda p: p[3])
    paths = casepath.CasePaths(cat(lambda p: p[4].outcome), cat(lambda p: p[4].mode),
                               cat(lambda p: p[4].stage_end), cat(lambda p: p[4].stage_hours))
    return _Referrals(
        group=cat(lambda p: np.full(len(p[1].referral_day), p[0], dtype=np.int8)),
        referral_day=day[order], under_right=cat(lambda p: p[1].under_right),
        deadline=day[order] + np.minimum(patience, window),
        deadline_reason=np.where(window < patience, Outcome.WINDOW_CLOSED,
                                 Outcome.WITHDREW_WAITING).astype(np.int8),
        paths=paths, funnel=np.stack([p[1].funnel for p in parts]))


def slot_schedule(scenario: Scenario, wf: Workforce) -> np.ndarray:
    """(periods, 2) caseload slots from staff in post (volunteers add general capacity)."""
    fte = wf.in_post + np.array([wf.volunteer_fte, 0.0])
    return slot_counts(fte, expected_path.caseload_per_fte(scenario))


def simulate_area(scenario: Scenario, area: Area, staffing: Staffing, replication: int,
                  wf: Workforce | None = None) -> AreaRecords:
    """Simulate one area for one replication and return its records (conservation checked).

    ``wf`` gives staffing per period; without it the day-0 ``staffing`` holds throughout.
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
    no_service = np.where(sensitive, at_referral[:, 1] == 0, at_referral.sum(axis=1) == 0)
    all_idx = np.arange(len(ref.referral_day))
    queues = (IntakeQueue(all_idx[~sensitive & ~no_service], ref.referral_day, ref.deadline),
              IntakeQueue(all_idx[sensitive & ~no_service], ref.referral_day, ref.deadline))
    starts = np.concatenate([[0.0], np.cumsum(days)[:-1]])
    changes = [(float(starts[k]), int(by_period[k, 0]), int(by_period[k, 1]))
               for k in range(1, len(days)) if (by_period[k] != by_period[k - 1]).any()]
    env = simpy.Environment()
    service = AreaService(env, queues, (int(by_period[0, 0]), int(by_period[0, 1])),
                          ref.paths.service_days, ref.group, len(scenario.demand.groups),
                          changes)
    env.run(until=horizon)
    records = _assemble(scenario, area, staffing, replication, ref, service, queues, no_service,
                        (expected_path.caseload_per_fte(scenario), by_period, wf))
    _check_conservation(records, ref, service, queues, no_service)
    return records


def _assemble(scenario: Scenario, area: Area, staffing: Staffing, replication: int,
              ref: _Referrals, service: AreaService, queues: tuple[IntakeQueue, IntakeQueue],
              no_service: np.ndarray, capacity: tuple[float, np.ndarray, Workforce]
              ) -> AreaRecords:
    horizon, target = scenario.run.horizon_days, scenario.service.wait_target_days
    alloc = service.allocation_day
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
    lost = np.concatenate([np.asarray(q.lost, dtype=np.int64) for q in queues])
    outcome[lost], exit_day[lost] = ref.deadline_reason[lost], ref.deadline[lost]
    waiting = np.concatenate([q.remaining() for q in queues])
    gone = ref.deadline[waiting] <= horizon
    outcome[waiting[gone]] = ref.deadline_reason[waiting[gone]]
    exit_day[waiting[gone]] = ref.deadline[waiting[gone]]
    still = waiting[~gone]
    outcome[still] = np.where(horizon - ref.referral_day[still] > target,
                              Outcome.UNALLOCATED_AT_END, Outcome.WAITING_AT_END)
    stage_end[stage_end >= horizon] = np.nan  # stages not finished by the horizon
    hours = np.where(np.isnan(stage_end), 0.0, ref.paths.stage_hours)
    return AreaRecords(
        area=area.code, replication=replication, groups=scenario.demand.groups,
        horizon_days=horizon, staffing=staffing, caseload_per_fte=capacity[0],
        general_slots=int(capacity[1][0, 0]), specialist_slots=int(capacity[1][0, 1]),
        slots_by_period=capacity[1], workforce=capacity[2], funnel=ref.funnel,
        group=ref.group, referral_day=ref.referral_day, under_right=ref.under_right,
        allocation_day=alloc, queue_exit_day=exit_day, outcome=outcome, mode=ref.paths.mode,
        skill=service.skill, stage_end_day=stage_end, stage_hours=hours)


def _check_conservation(rec: AreaRecords, ref: _Referrals, service: AreaService,
                        queues: tuple[IntakeQueue, IntakeQueue], no_service: np.ndarray) -> None:
    """referrals = closed + lost + in progress, per group, from independent counters."""
    n_groups = len(rec.groups)
    referrals = np.bincount(ref.group, minlength=n_groups)
    lost_seen = np.concatenate([np.asarray(q.lost, dtype=np.int64) for q in queues])
    waiting = np.concatenate([q.remaining() for q in queues])
    lost = (np.bincount(ref.group[lost_seen], minlength=n_groups)
            + np.bincount(ref.group[no_service], minlength=n_groups)
            + np.bincount(ref.group[waiting[ref.deadline[waiting] <= rec.horizon_days]],
                          minlength=n_groups))
    in_queue = np.bincount(ref.group[waiting[ref.deadline[waiting] > rec.horizon_days]],
                           minlength=n_groups)
    closed, busy = np.asarray(service.closed), np.asarray(service.busy)
    for g in range(n_groups):
        if referrals[g] != closed[g] + lost[g] + busy[g] + in_queue[g]:
            raise ConservationError(
                f"conservation failed in area {rec.area}, offence group '{rec.groups[g]}', "
                f"replication {rec.replication}: {referrals[g]} referrals != {closed[g]} closed "
                f"+ {lost[g]} lost + {busy[g] + in_queue[g]} in progress")


__all__ = ["GROUPS", "AreaRecords", "simulate_area"]
