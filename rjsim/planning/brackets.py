"""The planner's search state: per-pool brackets of caseload slots, their queueing-theory seeds,
and a pooled region's specialists shared among its areas (:mod:`rjsim.planning.planner` runs the
rounds that move them).

A :class:`Bracket` holds the search for one pool's slots; :func:`seeds` and :func:`region_seed`
start them from Erlang C (and A); :class:`Search` holds every area's brackets (a pooled
region's specialist bracket shared by its areas, split by :func:`shares`) and converts slots to
FTE (:func:`fte_for_slots`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rjsim.capacity import queueing
from rjsim.core.codes import Pool
from rjsim.data.areas import Area
from rjsim.funding import allocation
from rjsim.model import staffing
from rjsim.model.region import overhead_days
from rjsim.scenario import expected as expected_path
from rjsim.scenario.distributions import DistributionKind
from rjsim.scenario.funding import AreaFte
from rjsim.scenario.spec import DAYS_PER_YEAR, SENSITIVE, Scenario

#: The pools searched, specialists first (general slots are seeded on top of them).
POOLS = (Pool.SPECIALIST, Pool.GENERAL)
MAX_SLOTS = 100_000


@dataclass
class Bracket:
    """The search for one pool of one area: ``low`` fails, ``high`` passes (``None`` until
    such a number is known).

    Until both ends are known the candidate moves away from the last verdict by ``step``
    slots, doubling each time (the seed is usually within a few per cent); then it bisects.
    Zero slots cannot fail for want of fewer, so a pass at zero ends the search.
    """

    current: int
    low: int | None = None
    high: int | None = None
    step: int = field(init=False)

    def __post_init__(self) -> None:
        self.step = max(1, math.ceil(0.01 * self.current))

    @classmethod
    def settled(cls, slots: int) -> Bracket:
        """A search already decided at ``slots`` (a pool with no demand: ``settled(0)``)."""
        b = cls(slots)
        b.high = slots
        if slots > 0:
            b.low = slots - 1
        return b

    @property
    def done(self) -> bool:
        if self.high is None:
            return False
        return self.high == 0 or (self.low is not None and self.high - self.low <= 1)

    def update(self, *, passed: bool) -> None:
        """Record the verdict at ``current`` and choose the next candidate."""
        if passed:
            self.high = self.current
        else:
            self.low = self.current
        if self.high is None:  # only fails so far: move up
            self.current = min(MAX_SLOTS, self.current + self.step)
            self.step *= 2
        elif self.done:
            self.current = self.high
        elif self.low is None:  # only passes so far (above zero): move down
            self.current = max(0, self.high - self.step)
            self.step *= 2
        else:
            self.current = (self.low + self.high) // 2


def fte_for_slots(slots: int, per_fte: float) -> float:
    """The least FTE, in steps of 0.1, that gives at least ``slots`` caseload slots."""
    fte = math.ceil(slots / per_fte * 10 - 1e-9) / 10
    while staffing.slots(fte, per_fte) < slots:
        fte = round(fte + 0.1, 1)
    return fte


def seed_slots(lam: float, mean_days: float, scenario: Scenario, offset: int = 0) -> int:
    """Fewest slots for one pool by Erlang C (and A), less ``offset`` slots already there."""
    if lam <= 0:
        return 0
    c_test, service = scenario.capacity_test, scenario.service
    target = c_test.wait_target_days or service.wait_target_days
    mu = 1.0 / mean_days
    theta = sum(1.0 / d.mean_days for d in (service.patience, service.window)
                if d.kind is DistributionKind.EXPONENTIAL)
    c = max(1, math.floor(lam / mu / c_test.max_utilisation) + 1)
    while c < MAX_SLOTS:
        late = queueing.mmc_wait_exceeds(lam, mu, c, target)
        lost = queueing.erlang_a(lam, mu, theta, c).p_abandon if theta > 0 else 0.0
        if late <= 1 - c_test.timeliness_share and lost <= c_test.max_unmet_demand_rate:
            break
        c += 1
    return max(0, c - offset)


def _rates(scenario: Scenario, areas: tuple[Area, ...]) -> dict[str, float]:
    """Expected referrals a year per offence group of ``areas`` together (a service: an area
    and the small areas it serves)."""
    out: dict[str, float] = {}
    for area in areas:
        for g, r in allocation.expected_referrals_by_group(scenario, area).items():
            out[g] = out.get(g, 0.0) + r
    return out


def seeds(scenario: Scenario, area: Area, guests: tuple[Area, ...] = ()) -> dict[Pool, int]:
    """Analytic starting slots per pool for ``area`` and the areas its service serves
    (``guests``) (see the module docstring)."""
    per_day = {g: r / DAYS_PER_YEAR for g, r in _rates(scenario, (area, *guests)).items()}
    days = {g: expected_path.expected(scenario, g).service_days for g in per_day}

    def pool(groups: list[str]) -> tuple[float, float]:
        lam = sum(per_day[g] for g in groups)
        return lam, (sum(per_day[g] * days[g] for g in groups) / lam if lam > 0 else 1.0)
    sensitive = seed_slots(*pool([g for g in per_day if g in SENSITIVE]), scenario)
    general = seed_slots(*pool(list(per_day)), scenario, offset=sensitive)
    return {Pool.SPECIALIST: sensitive, Pool.GENERAL: general}


def shares(total: int, weights: dict[str, float]) -> dict[str, int]:
    """``total`` slots shared among areas in proportion to ``weights`` (equally when all are
    zero), whole slots by largest remainder (ties to the first area)."""
    w = np.array(list(weights.values()), dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    exact = total * w
    out = np.floor(exact + 1e-9).astype(int)
    for i in np.argsort(-(exact - out), kind="stable")[:total - int(out.sum())]:
        out[i] += 1
    return dict(zip(weights, (int(x) for x in out), strict=True))


@dataclass
class Search:
    """The state of a national search: brackets per area and pool, and a log of rounds.

    The areas of a pooled region share one specialist bracket (the same object under each
    member's :attr:`Pool.SPECIALIST`; it counts the region's slots), held by each area in
    proportion to ``weights`` (its expected sensitive referrals): ``pooled`` maps each pooled
    area to its region's areas."""

    per_fte: float
    brackets: dict[str, dict[Pool, Bracket]]
    log: list[dict[str, object]] = field(default_factory=list)
    pooled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    # area code -> its shared service (host first, then its guests), for hosts and guests
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def hosts(self) -> dict[str, str]:
        """Guest code -> host code of every shared service searched."""
        return {c: s[0] for c, s in self.services.items() if c != s[0]}

    def host(self, code: str) -> str:
        """The area whose slots serve ``code`` (its host, or itself)."""
        return self.services[code][0] if code in self.services else code

    def slots(self, code: str) -> dict[Pool, int]:
        out = {p: b.current for p, b in self.brackets[code].items()}
        if code in self.pooled and code == self.host(code):  # its share of its region's
            region = [c for c in self.pooled[code] if c in self.brackets]
            out[Pool.SPECIALIST] = shares(out[Pool.SPECIALIST],
                                          {c: self.weights.get(c, 0.0) for c in region})[code]
        return out

    def with_regions(self, codes: list[str]) -> list[str]:
        """``codes`` with every other area of their pooled regions and shared services
        (simulated together), in the search's order."""
        wanted = set(codes).union(*(self.pooled.get(c, ()) for c in codes),
                                  *(self.services.get(c, ()) for c in codes))
        return [c for c in self.brackets if c in wanted]

    def searching(self) -> list[str]:
        return [c for c, pools in self.brackets.items()
                if not all(b.done for b in pools.values())]

    def fte(self, code: str) -> AreaFte:
        s = self.slots(code)
        return AreaFte(general=fte_for_slots(s[Pool.GENERAL], self.per_fte),
                       specialist=fte_for_slots(s[Pool.SPECIALIST], self.per_fte))


def area_brackets(scenario: Scenario, area: Area, guests: tuple[Area, ...] = ()
                  ) -> dict[Pool, Bracket]:
    """Start each pool at its seed (for the area's service: with its ``guests``' demand); a
    pool with no expected demand needs no slot."""
    rates = _rates(scenario, (area, *guests))
    demand = {Pool.SPECIALIST: sum(r for g, r in rates.items() if g in SENSITIVE),
              Pool.GENERAL: sum(r for g, r in rates.items() if g not in SENSITIVE)}
    start = seeds(scenario, area, guests)
    return {p: Bracket(start[p]) if demand[p] > 0 else Bracket.settled(0) for p in POOLS}


def sensitive_rate(scenario: Scenario, area: Area) -> float:
    """Expected sensitive referrals a year of ``area`` (its weight in a pooled region)."""
    return sum(r for g, r in allocation.expected_referrals_by_group(scenario, area).items()
               if g in SENSITIVE)


def region_seed(scenario: Scenario, members: list[Area]) -> int:
    """Fewest specialist slots for a pooled region by Erlang C (and A): the region's
    sensitive referrals on one queue, each case holding its slot the pooled overhead longer."""
    lam = days = 0.0
    for area in members:
        for g, r in allocation.expected_referrals_by_group(scenario, area).items():
            if g in SENSITIVE:
                lam += r / DAYS_PER_YEAR
                days += r / DAYS_PER_YEAR * expected_path.expected(scenario, g).service_days
    mean = days / lam + overhead_days(scenario) if lam > 0 else 1.0
    return seed_slots(lam, mean, scenario)


def new_search(scenario: Scenario, areas: dict[str, Area], pooled: dict[str, tuple[str, ...]],
               hosts: dict[str, str] | None = None) -> Search:
    """Each area's brackets at their seeds; each pooled region's specialists one bracket,
    seeded for the region, shared by its areas (their general slots searched as alone).

    ``hosts`` (guest code -> host code, both in ``areas``: ``funding.shared_services``): a
    host's brackets are seeded with its guests' demand, and a guest has no slot of its own
    (its brackets are settled at zero; in a pooled region its expected sensitive referrals
    weigh on its host's share)."""
    hosts = hosts or {}
    guests: dict[str, list[Area]] = {}
    for guest, host in hosts.items():
        guests.setdefault(host, []).append(areas[guest])
    brackets = {c: ({p: Bracket.settled(0) for p in POOLS} if c in hosts
                    else area_brackets(scenario, a, tuple(guests.get(c, ()))))
                for c, a in areas.items()}
    for region in dict.fromkeys(pooled[c] for c in areas if c in pooled):
        members = [areas[c] for c in region if c in areas]
        shared = (Bracket(region_seed(scenario, members))
                  if any(sensitive_rate(scenario, a) > 0 for a in members)
                  else Bracket.settled(0))
        for a in members:
            if a.code not in hosts:  # a guest holds none of the region's slots
                brackets[a.code][Pool.SPECIALIST] = shared
    weights = {c: 0.0 if c in hosts else sensitive_rate(scenario, a)
               + sum(sensitive_rate(scenario, g) for g in guests.get(c, ()))
               for c, a in areas.items()}
    services = {c: (host, *(g.code for g in guests[host]))
                for host in guests for c in (host, *(g.code for g in guests[host]))}
    return Search(expected_path.caseload_per_fte(scenario), brackets,
                  pooled={c: r for c, r in pooled.items() if c in areas},
                  weights=weights, services=services)
