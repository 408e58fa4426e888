"""Funding to staff: per-area budgets, the cost of a facilitator FTE, and FTE in post.

This release holds staffing constant over the horizon (budget schedules, recruitment lags and
attrition are a later extension; :class:`Staffing` is the seam). FTE are split into general and
specialist (trained for sexual offences, domestic abuse and hate crime) by a scenario share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rjsim.areadata import Area, AreaTable, packaged
from rjsim.errors import Problem, ScenarioError
from rjsim.scenario import Funding, Scenario


@dataclass(frozen=True)
class Staffing:
    """One area's budget and facilitators (constant over the horizon in this release)."""

    budget_gbp: float
    general_fte: float
    specialist_fte: float
    cost_per_general_fte_gbp: float
    cost_per_specialist_fte_gbp: float

    @property
    def annual_cost_gbp(self) -> float:
        """What the FTE in post cost a year (equals the budget when derived from it)."""
        return (self.general_fte * self.cost_per_general_fte_gbp
                + self.specialist_fte * self.cost_per_specialist_fte_gbp)


def cost_per_fte(f: Funding) -> tuple[float, float]:
    """Annual cost (GBP) of a general and of a specialist FTE.

    salary x on-cost factor x (1 + overhead share); specialists add their pay uplift and their
    one-off training cost spread over the amortisation period.
    """
    general = f.salary_gbp * f.on_cost_factor * (1.0 + f.overhead_share)
    specialist = (general * (1.0 + f.specialist_pay_uplift)
                  + f.specialist_training_gbp / f.training_amortisation_years)
    return general, specialist


def unknown_area_problems(scenario: Scenario, table: AreaTable) -> list[Problem]:
    """Per-area funding settings naming areas that are not in the data file."""
    f, codes = scenario.funding, {a.code for a in table.areas}
    return [Problem(f"funding.{key}", f"unknown area code '{c}' (not in {table.source}); use "
                    "the area's ONS code, e.g. E23000036", c)
            for key, given in (("area_budget_gbp", f.area_budget_gbp), ("area_fte", f.area_fte))
            for c in given if c not in codes]


def area_budgets(scenario: Scenario, table: AreaTable) -> dict[str, float]:
    """Annual RJ budget per area code: the uprated national budget shared by the allocation
    rule (areas missing from a user's file keep their packaged share), then overrides."""
    f = scenario.funding
    problems = unknown_area_problems(scenario, table)
    if problems:
        raise ScenarioError(problems)
    weights = {a.code: _weight(a, f.allocation) for a in table.areas}
    # The pot is national: areas missing from a user's file still take their packaged share.
    total = sum(weights.values()) + sum(_weight(a, f.allocation) for a in packaged().areas
                                        if a.code not in weights)
    pot = f.national_budget_gbp * f.uprating_factor
    budgets = {code: (pot * w / total if total > 0 else 0.0) for code, w in weights.items()}
    budgets.update(f.area_budget_gbp)
    return budgets


def _weight(area: Area, rule: str) -> float:
    if rule == "population":
        return area.population
    value = area.recorded_crime
    if math.isnan(value):
        raise ScenarioError([Problem("funding.allocation", "'recorded_crime' needs the column "
                                     "prc_2024_25_total_excl_fraud in the area data")])
    return value


def staffing(scenario: Scenario, table: AreaTable) -> dict[str, Staffing]:
    """Budget and FTE per area code."""
    f = scenario.funding
    general_cost, specialist_cost = cost_per_fte(f)
    out = {}
    if f.capacity_from == "fte":
        problems = unknown_area_problems(scenario, table)
        if problems:
            raise ScenarioError(problems)
        for a in table.areas:
            set_fte = f.area_fte.get(a.code, f.fte)
            s = Staffing(0.0, set_fte.general, set_fte.specialist, general_cost, specialist_cost)
            out[a.code] = Staffing(s.annual_cost_gbp, set_fte.general, set_fte.specialist,
                                   general_cost, specialist_cost)
        return out
    blended = (1 - f.specialist_share) * general_cost + f.specialist_share * specialist_cost
    for code, budget in area_budgets(scenario, table).items():
        fte = budget / blended
        out[code] = Staffing(budget, fte * (1 - f.specialist_share), fte * f.specialist_share,
                             general_cost, specialist_cost)
    return out


def slots(fte: float, caseload_per_fte: float) -> int:
    """Concurrent caseload slots from FTE: rounded down, because a part-slot cannot hold a case."""
    return math.floor(fte * caseload_per_fte + 1e-9)
