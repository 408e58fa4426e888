"""A region that pools its specialists, or a service shared by a small area and its host, one
replication: every area's records from one model.

:func:`simulate_region` draws each area's referrals exactly as :func:`~rjsim.model.area.
simulate_area` does (same named streams, so pooled and unpooled runs share their victims:
common random numbers), runs the region's :class:`~rjsim.model.pooled.RegionService`, and
returns one :class:`~rjsim.model.area.AreaRecords` per area: cases keep their home area, and
each area reports its own staff and slots (the specialists it contributes to the pool).
Conservation is checked per area and offence group from the engine's own counters. Areas that
share one service (``RegionArea.unit``: a host and the small areas it serves) also share its
general slots and queue; a shared service outside a pooled region is a region of one unit
whose specialists pay no travel overhead (``pooled=False``): it is one service.

Assumptions and limitations: every case a pooled specialist serves pays the travel or video
overhead (``pooling.overhead_hours_per_case``), even one that happens to be in the
specialist's own area, because a pooled slot has no home; the overhead's hours are added to
the case's assessment stage and hold the slot longer by the time they take at a slot's pace
(productive hours per FTE-day / caseload per FTE), so every later stage ends that much later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import simpy

from rjsim.core.codes import Pool
from rjsim.core.streams import Streams
from rjsim.data.areas import Area
from rjsim.model import area as areamodel
from rjsim.model import demand, workforce
from rjsim.model.area import AreaRecords
from rjsim.model.casepath import CasePaths
from rjsim.model.pooled import PeekQueue, RegionCases, RegionService, RegionSlotChange
from rjsim.model.staffing import Staffing, period_days
from rjsim.model.workforce import Workforce
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import SENSITIVE, Scenario


class RegionArea(NamedTuple):
    """One area of a pooled region with its day-0 staffing and its staffing per period, and the
    service (unit) whose general slots serve it (``None``: its own)."""

    area: Area
    staffing: Staffing
    workforce: Workforce | None = None
    unit: int | None = None


def overhead_days(scenario: Scenario, hours: float | None = None) -> float:
    """Days a pooled case holds its slot longer: its overhead hours (default: the scenario's)
    at one slot's pace."""
    hours = scenario.pooling.overhead_hours_per_case if hours is None else hours
    return (hours * expected_path.caseload_per_fte(scenario)
            / scenario.service.productive_hours_per_fte_day)


@dataclass(frozen=True)
class _AreaServed:
    """One area's slice of the region's engine state (satisfies ``area.Served``)."""

    allocation_day: np.ndarray
    skill: np.ndarray
    closed: list[int]
    busy: list[int]


@dataclass(frozen=True)
class _AreaSimulated:
    """One area's referrals and what the region did with them (``area.Simulated``)."""

    ref: areamodel._Referrals
    service: _AreaServed
    no_service: np.ndarray
    lost: np.ndarray
    waiting: np.ndarray


@dataclass(frozen=True)
class _Region:
    """The region's referrals numbered across areas (area ``a`` holds cases
    ``offsets[a]:offsets[a + 1]``), each area's slots per period and its unit."""

    refs: list[areamodel._Referrals]
    offsets: np.ndarray
    by_period: list[np.ndarray]  # per area, (periods, 2) own slots of each Pool
    workforces: list[Workforce]
    units: list[int]  # per area, the index of the service whose general slots serve it

    @property
    def unit_general(self) -> np.ndarray:
        """(periods, units) general slots of each unit: the sum of its areas' own."""
        out = np.zeros((len(self.by_period[0]), max(self.units) + 1), dtype=np.int64)
        for u, b in zip(self.units, self.by_period, strict=True):
            out[:, u] += b[:, Pool.GENERAL]
        return out

    @property
    def pooled_specialists(self) -> np.ndarray:
        """Specialist slots of the region in each period."""
        total: np.ndarray = np.sum([b[:, Pool.SPECIALIST] for b in self.by_period], axis=0)
        return total


def _staff(scenario: Scenario, members: list[RegionArea], streams: Streams) -> _Region:
    days = period_days(scenario.run.horizon_days)
    refs, by_period, wfs, units = [], [], [], list[int]()
    for m in members:
        units.append(len(units) if m.unit is None else m.unit)
        s = m.staffing
        wf = m.workforce or workforce.constant(
            (s.general_fte, s.specialist_fte), days,
            (s.cost_per_general_fte_gbp, s.cost_per_specialist_fte_gbp))
        refs.append(areamodel._draw_referrals(scenario, m.area, streams))
        by_period.append(areamodel.slot_schedule(scenario, wf))
        wfs.append(wf)
    offsets = np.concatenate([[0], np.cumsum([len(r.referral_day) for r in refs])])
    if sorted(set(units)) != list(range(max(units) + 1)):
        raise ValueError(f"units must number 0, 1, ... without gaps: {units}")
    return _Region(refs, offsets, by_period, wfs, units)


def _queues(scenario: Scenario, region: _Region
            ) -> tuple[list[PeekQueue], PeekQueue, list[np.ndarray]]:
    """Each unit's general queue, the region's sensitive queue, and each area's referrals
    that find no slot of their kind anywhere in the region (local indices)."""
    sensitive_codes = [i for i, g in enumerate(scenario.demand.groups) if g in SENSITIVE]
    pooled, unit_general = region.pooled_specialists, region.unit_general
    day = np.concatenate([r.referral_day for r in region.refs])
    deadline = np.concatenate([r.deadline for r in region.refs])
    general_idx: list[list[np.ndarray]] = [[] for _ in range(unit_general.shape[1])]
    sensitive_idx, no_service = [], []
    for a, ref in enumerate(region.refs):
        u = region.units[a]
        period = demand.period_of(ref.referral_day)
        sensitive = np.isin(ref.group, sensitive_codes)
        none = np.where(sensitive, pooled[period] == 0,
                        unit_general[period, u] + pooled[period] == 0)
        local = np.arange(len(ref.referral_day))
        general_idx[u].append(local[~sensitive & ~none] + region.offsets[a])
        sensitive_idx.append(local[sensitive & ~none] + region.offsets[a])
        no_service.append(none)
    general_qs = []
    for parts in general_idx:
        g = np.concatenate(parts)
        if len(parts) > 1:  # a shared service: its areas' referrals in referral order
            g = g[np.argsort(day[g], kind="stable")]
        general_qs.append(PeekQueue(g, day, deadline))
    idx = np.concatenate(sensitive_idx)
    idx = idx[np.argsort(day[idx], kind="stable")]
    return general_qs, PeekQueue(idx, day, deadline), no_service


def _slot_changes(region: _Region, horizon_days: float) -> list[RegionSlotChange]:
    """The region's slots at day 0 (first) and at each later period start where they change."""
    pooled = region.pooled_specialists
    n = len(pooled)
    general = region.unit_general  # (periods, units)
    starts = np.concatenate([[0.0], np.cumsum(period_days(horizon_days))[:-1]])
    return [RegionSlotChange(float(starts[k]), tuple(int(x) for x in general[k]), int(pooled[k]))
            for k in range(n)
            if k == 0 or (general[k] != general[k - 1]).any() or pooled[k] != pooled[k - 1]]


def _split(scenario: Scenario, region: _Region, service: RegionService,
           queues: tuple[list[PeekQueue], PeekQueue], no_service: list[np.ndarray],
           hours: float) -> list[_AreaSimulated]:
    """Each area's view of the region's run, in local case numbers."""
    general_qs, sensitive_q = queues
    extra = overhead_days(scenario, hours)
    lost = np.concatenate([np.asarray(q.lost, dtype=np.int64) for q in [*general_qs, sensitive_q]])
    waiting = np.concatenate([q.remaining() for q in [*general_qs, sensitive_q]])
    n_groups = len(scenario.demand.groups)
    out = []
    for a, ref in enumerate(region.refs):
        lo, hi = int(region.offsets[a]), int(region.offsets[a + 1])
        skill = service.skill[lo:hi]
        pooled = skill == Pool.SPECIALIST
        paths = ref.paths
        stage_end = np.where(pooled[:, None], paths.stage_end + extra, paths.stage_end)
        stage_hours = paths.stage_hours.copy()
        stage_hours[pooled, 0] += hours
        ref = replace(ref, paths=CasePaths(paths.outcome, paths.mode, stage_end, stage_hours))
        served = _AreaServed(service.allocation_day[lo:hi], skill,
                             service.closed[a * n_groups:(a + 1) * n_groups],
                             service.busy[a * n_groups:(a + 1) * n_groups])
        out.append(_AreaSimulated(ref, served, no_service[a],
                                  lost[(lost >= lo) & (lost < hi)] - lo,
                                  waiting[(waiting >= lo) & (waiting < hi)] - lo))
    return out


def simulate_region(scenario: Scenario, members: list[RegionArea], replication: int, *,
                    pooled: bool = True) -> dict[str, AreaRecords]:
    """Simulate a pooled region (or, ``pooled=False``, one service shared by several areas:
    no travel overhead) for one replication; each area's records (conservation checked), by
    area code."""
    hours = scenario.pooling.overhead_hours_per_case if pooled else 0.0
    streams = Streams(scenario.run.seed, replication)
    region = _staff(scenario, members, streams)
    general_qs, sensitive_q, no_service = _queues(scenario, region)
    first, *changes = _slot_changes(region, scenario.run.horizon_days)
    cases = RegionCases(
        service_days=np.concatenate([r.paths.service_days for r in region.refs]),
        area=np.repeat(np.arange(len(members)), np.diff(region.offsets)),
        group=np.concatenate([r.group for r in region.refs]),
        n_areas=len(members), n_groups=len(scenario.demand.groups),
        unit=np.repeat(np.asarray(region.units), np.diff(region.offsets)))
    env = simpy.Environment()
    service = RegionService(env, (general_qs, sensitive_q), first, cases,
                            extra_days=overhead_days(scenario, hours), changes=changes)
    env.run(until=scenario.run.horizon_days)
    caseload = expected_path.caseload_per_fte(scenario)
    out = {}
    for m, by_period, wf, sim in zip(members, region.by_period, region.workforces,
                                     _split(scenario, region, service,
                                            (general_qs, sensitive_q), no_service, hours),
                                     strict=True):
        records = areamodel._assemble(scenario, m.area, replication, sim, areamodel._Capacity(
            m.staffing, caseload, by_period, wf))
        areamodel._check_conservation(records, sim)
        out[m.area.code] = records
    return out
