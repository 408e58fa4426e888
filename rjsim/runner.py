"""Run a scenario: simulate every area for one replication and build the tables.

The unit of work is :func:`simulate_task` (scenario, replication, area); this module runs the
tasks in-process, one after another. Parallel and distributed executors plug in at that seam:
tasks share nothing and name their own random streams, so their order and placement cannot
change the results.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from rjsim import areadata, funding, summary, tables
from rjsim.areadata import Area, AreaTable
from rjsim.model import AreaRecords, simulate_area
from rjsim.scenario import Scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What a scenario resolves to before any randomness: areas and their staffing."""

    scenario: Scenario
    table: AreaTable
    areas: tuple[Area, ...]
    staffing: dict[str, funding.Staffing]


@dataclass(frozen=True)
class RunResult:
    """One replication's records and tables."""

    plan: Plan
    replication: int
    records: list[AreaRecords]
    tables: dict[str, pd.DataFrame]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario

    @property
    def n_referrals(self) -> int:
        return sum(r.n_referrals for r in self.records)


def plan(scenario: Scenario) -> Plan:
    """Load the scenario's area data, select its areas and staff them."""
    table = areadata.load(scenario.areas.data or None)
    areas = table.select(scenario.areas.include, "areas.include")
    return Plan(scenario, table, areas, funding.staffing(scenario, table))


def simulate_task(p: Plan, replication: int, area: Area) -> AreaRecords:
    """The unit of parallel work: one area, one replication."""
    return simulate_area(p.scenario, area, p.staffing[area.code], replication)


def build_tables(p: Plan, records: list[AreaRecords]) -> dict[str, pd.DataFrame]:
    """Every output table of one replication, by name."""
    s = p.scenario
    amg = tables.area_month_group(s, records)
    am = tables.area_month(s, records, amg)
    return {
        "area_month_group": amg,
        "area_month": am,
        "national_month": tables.national_month(s, records, am),
        "area_summary": summary.area_summary(s, records, am, p.areas),
        "group_summary": summary.group_summary(s, records, amg),
        "national_summary": summary.national_summary(s, records, am),
    }


def run(scenario: Scenario, replication: int = 0) -> RunResult:
    """Simulate every selected area for ``replication`` and tabulate the results."""
    t0 = time.perf_counter()
    p = plan(scenario)
    t1 = time.perf_counter()
    records = [simulate_task(p, replication, a) for a in p.areas]
    t2 = time.perf_counter()
    built = build_tables(p, records)
    t3 = time.perf_counter()
    log.info("simulated %d referrals in %d areas in %.2f s", sum(r.n_referrals for r in records),
             len(records), t2 - t1)
    return RunResult(p, replication, records, built,
                     {"plan_s": t1 - t0, "simulate_s": t2 - t1, "tables_s": t3 - t2})
