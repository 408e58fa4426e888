"""The scenario: a passive, frozen description of one national RJ system to simulate.

Schema and validation only (no I/O: :mod:`rjsim.scenario.io` reads files). Every value has its
default in the packaged ``data/defaults.toml``, with its source, range and confidence in
``data/assumptions.csv``; nothing here invents a default. Units: days, hours, pounds (GBP),
full-time equivalents (FTE), probabilities in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import PROBABILITY as _P
from rjsim.core.schema import FrozenMap, Origin, build, did_you_mean
from rjsim.core.schema import setting as _f
from rjsim.scenario.capacity import CapacityTestSettings
from rjsim.scenario.distributions import Distribution
from rjsim.scenario.expected import expected
from rjsim.scenario.funding import (
    BudgetChange,
    Funding,
    StaffingDynamics,
)
from rjsim.scenario.groups import GROUPS as GROUPS  # re-exported
from rjsim.scenario.groups import SENSITIVE as SENSITIVE
from rjsim.scenario.groups import finite_time, group_list_problems
from rjsim.scenario.pooling import Pooling
from rjsim.scenario.right import Phase as Phase  # re-exported
from rjsim.scenario.right import StatutoryRight as StatutoryRight

DAYS_PER_YEAR = 365.0
#: Upper bound of any annual count of crimes or victims (England and Wales record about 7
#: million crimes a year); more would not finish simulating.
MAX_COUNT = 1e8



#: Longest display title of a scenario (a table cell in the reports).
MAX_TITLE = 80

@dataclass(frozen=True)
class RunSettings:
    years: float = _f("simulated horizon in years", gt=0.0, max=50.0)
    warmup_days: float = _f("days discarded from summaries (a filter on times)", min=0.0)
    seed: int = _f("base random seed", min=0, max=2**63)
    replications: int = _f("replications to run", min=1, max=10_000)
    start_date: str = _f("calendar date of day 0, YYYY-MM-DD (labels periods only)")

    @property
    def horizon_days(self) -> float:
        return self.years * DAYS_PER_YEAR

    def check(self, path: str, origin: Origin) -> list[Problem]:
        p = []
        try:
            dt.date.fromisoformat(self.start_date)
        except ValueError:
            p.append(Problem(origin(f"{path}.start_date"), "must be a date YYYY-MM-DD",
                             self.start_date))
        month = DAYS_PER_YEAR / 12
        if self.warmup_days > self.horizon_days - month:
            p.append(Problem(origin(f"{path}.warmup_days"), "must leave at least one month "
                             f"after warm-up (at most {self.horizon_days - month:g} days for a "
                             f"{self.horizon_days:g}-day run)", f"{self.warmup_days:g}"))
        return p


@dataclass(frozen=True)
class AreaSettings:
    data: str = _f("area data CSV; empty for the packaged 2024/25 data")
    include: tuple[str, ...] = _f("force area codes or names to simulate; empty for all 43")


@dataclass(frozen=True)
class Apportionment:
    sexual_share_of_violence_and_sexual: float = _f("share of PRC violence & sexual", **_P)
    domestic_abuse_national: float = _f("national DA-related crimes a year", min=0.0,
                                       max=MAX_COUNT)
    hate_national: float = _f("national hate crimes a year", min=0.0, max=MAX_COUNT)
    hate_recorded_as: FrozenMap[float] = field(
        default_factory=FrozenMap,
        metadata=_P | {"check": lambda v, p, o: _hate_categories(v, p, o),
                       "doc": "share of hate crimes recorded in each PRC category "
                       "(violence_and_sexual, public_order, criminal_damage_and_arson)"})


@dataclass(frozen=True)
class FunnelOverride:
    offender_identified: float | None = field(default=None, metadata=_P)
    informed: float | None = field(default=None, metadata=_P)
    wants_rj: float | None = field(default=None, metadata=_P)


@dataclass(frozen=True)
class Demand:
    groups: tuple[str, ...] = _f("offence groups with demand",
                                 check=lambda v, p, o: _demand_groups(v, p, o))
    growth_per_year: float = _f("annual demand growth (0.02 = +2% a year)", min=-0.5, max=1.0)
    apportionment: Apportionment = _f("how sensitive groups are derived per force")
    offender_identified: float = _f("P(offender identified and accepts responsibility)", **_P)
    informed: float = _f("P(victim told about RJ), status quo", **_P)
    wants_rj: float = _f("P(informed victim asks for RJ)", **_P)
    referral_delay: Distribution = _f("days from offence to referral, status quo",
                                      check=finite_time)
    scope: Literal["recorded", "cja"] = _f(
        "'recorded': every recorded crime with an identifiable victim; 'cja': only indictable "
        "and either-way offences (Criminal Justice Alliance 2017 scope), each group scaled by "
        "demand.cja_in_scope")
    cja_in_scope: FrozenMap[float] = field(
        default_factory=FrozenMap,
        metadata=_P | {"check": group_list_problems,
                       "doc": "share of each group's victims whose offence is indictable or "
                       "either-way (used when scope = 'cja')"})
    by_group: FrozenMap[FunnelOverride] = field(
        default_factory=FrozenMap,
        metadata={"check": group_list_problems})

    def in_scope(self, group: str) -> float:
        """Share of ``group``'s victims inside the demand scope (1 unless scope = 'cja'; the
        packaged defaults give every group a share and a scenario's table overlays them)."""
        return self.cja_in_scope[group] if self.scope == "cja" else 1.0


@dataclass(frozen=True)
class LevelOne:
    diversion_share: float = _f("share of eligible cases resolved by police street RJ", **_P)
    groups: tuple[str, ...] = _f("low-level general groups police may divert",
                                 check=lambda v, p, o: _level_one_groups(v, p, o))


@dataclass(frozen=True)
class Stage:
    effort_hours: float = _f("facilitator hours per facilitator", min=0.0)
    duration: Distribution = _f("calendar days the stage takes",
                                check=finite_time)


@dataclass(frozen=True)
class Stages:
    assessment: Stage = _f("assessment and consent")
    preparation: Stage = _f("preparation")
    direct_conference: Stage = _f("direct face-to-face conference")
    direct_video: Stage = _f("direct conference by video")
    indirect: Stage = _f("indirect (shuttle) RJ")
    follow_up: Stage = _f("follow-up and closure")


@dataclass(frozen=True)
class Exits:
    victim_withdraws: float = _f("P(victim withdraws after asking for RJ, at assessment)", **_P)
    offender_declines: float = _f("P(offender withdraws or is unavailable at assessment | "
                                  "victim stays)", **_P)
    unsuitable: float = _f("P(unsuitable on risk | both consent)", **_P)
    preparation_withdraws: float = _f("P(a party withdraws in preparation)", **_P)
    unsuitable_by_group: FrozenMap[float] = field(
        default_factory=FrozenMap,
        metadata=_P | {"check": group_list_problems})


@dataclass(frozen=True)
class Interventions:
    direct_share: float = _f("share of interventions that are direct", **_P)
    video_share_of_direct: float = _f("share of direct interventions by video", **_P)
    facilitators_per_direct_conference: int = _f("co-facilitators at a conference", min=1, max=4)


@dataclass(frozen=True)
class Service:
    wait_target_days: float = _f("referral-to-allocation target, days", gt=0.0)
    patience: Distribution = _f("days a victim will wait for allocation")
    window: Distribution = _f("days from referral the case stays possible")
    productive_hours_per_fte_day: float = _f("casework hours per FTE per calendar day", gt=0.0)
    caseload_per_fte: float = _f("concurrent cases one FTE carries (slots = FTE x this, rounded "
                                 "down); 0 derives it from productive hours, mean case days and "
                                 "mean facilitator hours", min=0.0, max=1000.0)


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario. Build it with :func:`validate`; never mutate it."""

    name: str = _f("short name (letters, digits, '-', '_' and '.'; names the results)",
                   check=lambda v, p, o: _name_problems(v, p, o))
    title: str = _f("display title for reports: a few plain words on one line, at most "
                    f"{MAX_TITLE} characters (reports show the name when it is empty); not "
                    "inherited from a file this one extends",
                    check=lambda v, p, o: _title_problems(v, p, o))
    description: str = _f("what the scenario represents and where its numbers come from")
    run: RunSettings = _f("run settings")
    areas: AreaSettings = _f("which areas and which data")
    demand: Demand = _f("demand and the referral funnel")
    level_one: LevelOne = _f("police-delivered level-one RJ")
    service: Service = _f("the RJ service")
    stages: Stages = _f("case stages")
    exits: Exits = _f("exits not caused by capacity")
    interventions: Interventions = _f("intervention modes")
    funding: Funding = _f("budgets and allocation")
    staffing: StaffingDynamics = _f("recruitment, attrition and volunteers")
    statutory_right: StatutoryRight = _f("a statutory right to RJ")
    capacity_test: CapacityTestSettings = _f("the minister's capacity test (MODEL.md s6)")
    pooling: Pooling = _f("regional pooling of specialist facilitators (MODEL.md s2)")

    @property
    def commence_day(self) -> float | None:
        """Day the statutory right is in force for every group and area it names (from
        ``commence_day`` or ``commence_date``, or the last ``phase``), or ``None`` when there
        is no right. The capacity test's window opens after it."""
        days = self.phase_days
        return max(days) if days else None

    @property
    def phase_days(self) -> tuple[float, ...]:
        """The run day of each phase of the right, in file order (one for the simple form,
        none without a right)."""
        right = self.statutory_right
        if right.phase:
            return tuple(self._day(p.commence_day, p.commence_date) for p in right.phase)
        if right.commence_day is None and right.commence_date is None:
            return ()
        return (self._day(right.commence_day, right.commence_date),)

    def right_commences(self, group: str, *area: str) -> float | None:
        """Day the right commences for ``group`` in the area known by ``area`` (its code and
        name, any case): the earliest phase naming both; ``None`` if it never does."""
        right = self.statutory_right
        if not right.phase:
            return self.commence_day
        days = [d for p, d in zip(right.phase, self.phase_days, strict=True)
                if p.covers(group, area)]
        return min(days) if days else None

    def _day(self, day: float | None, date: str | None) -> float:
        if date is None:
            return float(day or 0.0)
        start = dt.date.fromisoformat(self.run.start_date)
        return float((dt.date.fromisoformat(date) - start).days)

    def check(self, path: str, origin: Origin) -> list[Problem]:
        problems = self._right_problems(origin) + self._schedule_problems(origin)
        if problems:
            return problems
        if not self.service.caseload_per_fte and not all(
                expected(self, g).facilitator_hours > 0 for g in self.demand.groups):
            return [Problem(origin("stages"), "cases must take some facilitator time (all "
                            "effort_hours are 0), or set service.caseload_per_fte")]
        return []

    def _right_problems(self, origin: Origin) -> list[Problem]:
        right = self.statutory_right
        key = "statutory_right.commence_date"
        if right.commence_date is not None:
            if right.commence_day is not None:
                return [Problem(origin(key), "give commence_day or commence_date, not both")]
            try:
                dt.date.fromisoformat(right.commence_date)
            except ValueError:
                return [Problem(origin(key), "must be a date YYYY-MM-DD", right.commence_date)]
        else:
            key = "statutory_right.commence_day"
        if right.phase:
            if right.commence_day is not None or right.commence_date is not None:
                return [Problem(origin(key), "give either one commencement (commence_day or "
                                "commence_date) or phases ([[statutory_right.phase]]), not "
                                "both")]
            keys = [f"statutory_right.phase[{i}]" for i in range(len(right.phase))]
        else:
            keys = [key]
        return [Problem(origin(k), f"must fall inside the run (from run.start_date "
                        f"{self.run.start_date}, {self.run.horizon_days:g} days); omit it for "
                        "no right", f"day {day:g}")
                for k, day in zip(keys, self.phase_days, strict=False)
                if not 0 <= day < self.run.horizon_days]

    def day_of(self, change: BudgetChange) -> float:
        """The run day a budget change takes effect."""
        return self._day(change.from_day, change.from_date)

    def _schedule_problems(self, origin: Origin) -> list[Problem]:
        days = [self.day_of(c) for c in self.funding.schedule]
        p = []
        for i, day in enumerate(days):
            key = f"funding.schedule[{i}]"
            if not 0 < day < self.run.horizon_days:
                p.append(Problem(origin(key), "must take effect inside the run (after day 0 and "
                                 f"before day {self.run.horizon_days:g})", f"day {day:g}"))
            if i and day <= days[i - 1]:
                p.append(Problem(origin(key), "dates overlap or are out of order: each change "
                                 "must start after the previous one", f"day {day:g} after day "
                                 f"{days[i - 1]:g}"))
        return p

    def funnel(self, group: str) -> tuple[float, float, float]:
        """(offender_identified, informed, wants_rj) for ``group`` before any right."""
        over = self.demand.by_group.get(group, FunnelOverride())
        d = self.demand
        return (d.offender_identified if over.offender_identified is None
                else over.offender_identified,
                d.informed if over.informed is None else over.informed,
                d.wants_rj if over.wants_rj is None else over.wants_rj)

    def unsuitable(self, group: str) -> float:
        """P(unsuitable on risk) for ``group``."""
        return self.exits.unsuitable_by_group.get(group, self.exits.unsuitable)


def validate(raw: dict[str, Any], origin: Origin) -> Scenario:
    """Validate a fully merged scenario dictionary; raise :class:`ScenarioError` listing all
    problems, or return the frozen :class:`Scenario`."""
    problems: list[Problem] = []
    scenario = build(Scenario, raw, "", origin, problems)
    if problems or scenario is None:
        raise ScenarioError(problems, "invalid scenario")
    return scenario


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")


def _name_problems(name: str, path: str, origin: Origin) -> list[Problem]:
    if _NAME.fullmatch(name):
        return []
    return [Problem(origin(path), "must be 1-80 letters, digits, '-', '_' or '.', not starting "
                    "with '.' or '-' (it names the results directory)", repr(name))]


def _title_problems(title: str, path: str, origin: Origin) -> list[Problem]:
    if len(title) <= MAX_TITLE and title == title.strip() and title.isprintable():
        return []
    return [Problem(origin(path), f"must be one line of at most {MAX_TITLE} printable "
                    "characters without leading or trailing spaces (a display title; the "
                    "description holds the detail)", repr(title[:100]))]


#: PRC categories hate crimes are recorded in (``demand.apportionment.hate_recorded_as``).
HATE_CATEGORIES = ("violence_and_sexual", "public_order", "criminal_damage_and_arson")


def _hate_categories(shares: Any, path: str, origin: Origin) -> list[Problem]:
    out = [Problem(origin(path), f"unknown category '{k}'{did_you_mean(k, HATE_CATEGORIES)}; "
                   "allowed: " + ", ".join(HATE_CATEGORIES)) for k in shares
           if k not in HATE_CATEGORIES]
    if sum(shares.values()) > 1 + 1e-9:
        out.append(Problem(origin(path), "shares must add up to at most 1 (the rest: hate "
                           "crimes in other categories, not modelled)",
                           f"{sum(shares.values()):g}"))
    return out


def _demand_groups(groups: tuple[str, ...], path: str, origin: Origin) -> list[Problem]:
    p = group_list_problems(groups, path, origin)
    if not groups:
        p.append(Problem(origin(path), "must list at least one offence group (to model no "
                         "demand, set demand.offender_identified = 0)", "[]"))
    if len(set(groups)) != len(groups):
        p.append(Problem(origin(path), "lists a group twice", repr(list(groups))))
    return p


def _level_one_groups(groups: tuple[str, ...], path: str, origin: Origin) -> list[Problem]:
    p = group_list_problems(groups, path, origin)
    for g in groups:
        if g == "domestic_abuse":
            p.append(Problem(origin(path), "police street (level-one) RJ must not be used for "
                             "domestic abuse (risk of coercion and repeat victimisation); remove "
                             "'domestic_abuse'", g))
        elif g in SENSITIVE:
            p.append(Problem(origin(path), f"'{g}' is a sensitive group that only specialist "
                             "facilitators may take; level-one RJ is for low-level general "
                             "cases only", g))
    return p
