"""Funding to staff: per-area budgets, the cost of a facilitator FTE, and FTE in post.

Day-0 staffing comes from each area's budget (or FTE set directly); over the run the budget
schedule drives a monthly workforce with recruitment lags, training and attrition
(:func:`workforces`, :mod:`rjsim.model.workforce`). FTE are split into general and specialist
(trained for sexual offences, domestic abuse and hate crime) by a scenario share.
"""

from __future__ import annotations

import numpy as np

from rjsim.core.errors import Problem, ScenarioError
from rjsim.data.areas import AreaTable, packaged
from rjsim.funding import allocation, shared
from rjsim.funding.allocation import cost_per_fte as cost_per_fte  # re-exported
from rjsim.funding.allocation import volunteers as volunteers
from rjsim.model import workforce
from rjsim.model.staffing import Staffing, period_days
from rjsim.scenario.funding import AreaFte, Funding
from rjsim.scenario.spec import Scenario


def unknown_area_problems_all(scenario: Scenario, table: AreaTable) -> list[Problem]:
    """Area codes in per-area settings (budgets, FTE, shares, schedule) not in the data."""
    f, codes = scenario.funding, {a.code for a in table.areas} | {a.code for a in
                                                                  packaged().areas}
    named = [("shares", c) for c in f.shares]
    named += [(f"schedule[{i}].area_budget_gbp", c) for i, ch in enumerate(f.schedule)
              for c in ch.area_budget_gbp]
    return unknown_area_problems(scenario, table) + [
        Problem(f"funding.{key}", f"unknown area code '{c}'; use an ONS police force area "
                "code, e.g. E23000036", c) for key, c in named if c not in codes]


def unknown_area_problems(scenario: Scenario, table: AreaTable) -> list[Problem]:
    """Per-area funding settings naming areas that are not in the data file."""
    f, codes = scenario.funding, {a.code for a in table.areas}
    return [Problem(f"funding.{key}", f"unknown area code '{c}' (not in {table.source}); use "
                    "the area's ONS code, e.g. E23000036", c)
            for key, given in (("area_budget_gbp", f.area_budget_gbp), ("area_fte", f.area_fte),
                               ("area_specialist_share", f.area_specialist_share))
            for c in given if c not in codes]


def area_budgets(scenario: Scenario, table: AreaTable) -> dict[str, float]:
    """Annual RJ budget per area code at day 0 (see :mod:`rjsim.funding.allocation`): each
    area's own, before a shared service spends a guest's with its host's (:func:`staffing`)."""
    problems = unknown_area_problems(scenario, table)
    if problems:
        raise ScenarioError(problems)
    return allocation.timeline(scenario, table)[1][0]


def area_fte(scenario: Scenario, table: AreaTable) -> dict[str, AreaFte]:
    """FTE per area code when they are set directly, a shared service's guests' added to
    their host's."""
    f = scenario.funding
    fte = {a.code: f.area_fte.get(a.code, f.fte) for a in table.areas}
    for guest, host in shared.hosts_of(scenario, table).items():
        if guest in fte and host in fte:
            g, h = fte[guest], fte[host]
            fte[host] = AreaFte(h.general + g.general, h.specialist + g.specialist)
            fte[guest] = AreaFte(0.0, 0.0)
    return fte


def staffing(scenario: Scenario, table: AreaTable) -> dict[str, Staffing]:
    """Budget and FTE per area code (a shared service's guests' budget or FTE with their
    host's: the guest has none of its own)."""
    f = scenario.funding
    general_cost, specialist_cost = cost_per_fte(f)
    out = {}
    if f.capacity_from == "fte":
        problems = unknown_area_problems(scenario, table)
        if problems:
            raise ScenarioError(problems)
        return {code: fte_staffing(f, fte) for code, fte in area_fte(scenario, table).items()}
    by_code = {a.code: a for a in table.areas}
    spent = shared.merged(area_budgets(scenario, table), shared.hosts_of(scenario, table))
    for code, budget in spent.items():
        coordination = volunteers(scenario, by_code[code])[1] if code in by_code else 0.0
        general, specialist = workforce.establishment_fte(
            np.array([budget]), (general_cost, specialist_cost), f.specialist_share_of(code),
            coordination)[0]
        out[code] = Staffing(budget, float(general), float(specialist),
                             general_cost, specialist_cost)
    return out


def fte_staffing(f: Funding, fte: AreaFte) -> Staffing:
    """An area's staffing when its FTE are set directly (its budget is what they cost)."""
    general_cost, specialist_cost = cost_per_fte(f)
    cost = Staffing(0.0, fte.general, fte.specialist, general_cost, specialist_cost)
    return Staffing(cost.annual_cost_gbp, fte.general, fte.specialist, general_cost,
                    specialist_cost)


def fte_workforce(scenario: Scenario, fte: AreaFte) -> workforce.Workforce:
    """Staffing per period when an area's FTE are set directly: constant from day 0."""
    return workforce.constant((fte.general, fte.specialist),
                              period_days(scenario.run.horizon_days),
                              cost_per_fte(scenario.funding))


def workforces(scenario: Scenario, table: AreaTable) -> dict[str, workforce.Workforce]:
    """Staffing per area and period: budget-driven with recruitment and attrition, or the FTE
    set directly (constant)."""
    days = period_days(scenario.run.horizon_days)
    costs = cost_per_fte(scenario.funding)
    if scenario.funding.capacity_from == "fte":
        return {code: fte_workforce(scenario, fte)
                for code, fte in area_fte(scenario, table).items()}
    change_days, budgets = allocation.timeline(scenario, table)
    hosts = shared.hosts_of(scenario, table)
    budgets = [shared.merged(b, hosts) for b in budgets]
    starts = np.concatenate([[0.0], np.cumsum(days)[:-1]])
    out = {}
    for a in table.areas:
        budget = allocation.budget_by_period(change_days, budgets, a.code, starts)
        out[a.code] = workforce.build(budget, days, costs, scenario.funding, scenario.staffing,
                                      volunteers(scenario, a),
                                      scenario.funding.specialist_share_of(a.code))
    return out


