"""Funding options: how a national pot becomes each area's budget, over time.

Rules (``funding.allocation``): ``current`` (today's per-area budgets: the area data column
``rj_budget_gbp`` where the file has one, otherwise the default assumption that today's
spending is shared by population), ``population``, ``recorded_crime``, ``eligible_demand``
(needs-based: the modelled referrals a year under the scenario), ``floor_plus`` (a floor per
area plus the rest shared by ``floor_rule``), ``shares`` (explicit shares that add up to one)
and ``column`` (weights from a named area data column). The pot is national: areas missing
from a user's data file keep their packaged share. An unringfenced pot loses
``leakage_share`` to other victim services. A budget schedule changes the pot (or sets
per-area budgets) from given days; per-area budgets given explicitly always win.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rjsim.core.errors import Problem, ScenarioError
from rjsim.data.areas import Area, AreaTable, demand_victims, packaged
from rjsim.funding import shared
from rjsim.scenario.funding import Funding
from rjsim.scenario.spec import Scenario

CURRENT_COLUMN = "rj_budget_gbp"
#: Largest total of allocation weights (larger ones lose precision or overflow).
MAX_TOTAL_WEIGHT = 1e200


def expected_referrals_by_group(scenario: Scenario, area: Area) -> dict[str, float]:
    """Modelled referrals a year in ``area`` per offence group (with the statutory right's
    funnel where it commences for the group in the area)."""
    victims = demand_victims(area, scenario.demand)
    right = scenario.statutory_right
    out = {}
    for g in scenario.demand.groups:
        p_id, p_inf, p_want = scenario.funnel(g)
        if scenario.right_commences(g, area.code, area.name) is not None:
            p_inf, p_want = right.informed, (p_want if right.wants_rj is None else right.wants_rj)
        divert = scenario.level_one.diversion_share if g in scenario.level_one.groups else 0.0
        out[g] = victims[g] * p_id * (1 - divert) * p_inf * p_want
    return out


def expected_referrals(scenario: Scenario, area: Area) -> float:
    """Modelled referrals a year in ``area`` (with the statutory right's funnel if one is
    commenced): the needs-based weight."""
    return sum(expected_referrals_by_group(scenario, area).values())


def weight(scenario: Scenario, area: Area, rule: str) -> float:
    """The weight of ``area`` under an allocation rule (shares are weight / total)."""
    if rule == "population":
        return area.population
    if rule == "recorded_crime":
        return _column(area, "prc_2024_25_total_excl_fraud", "allocation = 'recorded_crime'")
    if rule == "eligible_demand":
        return expected_referrals(scenario, area)
    if rule == "current":
        return today_budget(scenario, area)
    if rule == "column":
        col = scenario.funding.allocation_column
        return _column(area, col, f"allocation_column = '{col}'")
    if rule == "shares":
        return scenario.funding.shares.get(area.code, 0.0)
    raise ValueError(f"no weight for rule {rule!r}")  # floor_plus is handled by the caller


def today_budget(scenario: Scenario, area: Area) -> float:
    """Today's RJ budget of an area (GBP): its ``rj_budget_gbp`` if the data gives one, else
    the default assumption: the scenario's day-0 national pot shared by population."""
    if CURRENT_COLUMN in area.values:
        return area.values[CURRENT_COLUMN]
    f = scenario.funding
    national_population = sum(a.population for a in packaged().areas)
    return f.national_budget_gbp * f.uprating_factor * area.population / national_population


def _column(area: Area, column: str, setting: str) -> float:
    value = area.values.get(column)
    if value is None or math.isnan(value):
        known = ", ".join(sorted(k for k in area.values if not k.startswith("victims_")))
        raise ScenarioError([Problem(f"funding: {setting}", f"the area data has no numeric "
                                     f"column '{column}' (area {area.code}); numeric columns: "
                                     f"{known}")], "invalid funding allocation")
    return value


def _national(table: AreaTable) -> list[Area]:
    """Every area of the country: the file's, plus packaged ones it lacks."""
    codes = {a.code for a in table.areas}
    return list(table.areas) + [a for a in packaged().areas if a.code not in codes]


def shares(scenario: Scenario, table: AreaTable, rule: str) -> dict[str, float]:
    """Each area's share of the pot under ``rule``: over the whole country (areas missing from
    a user's file at their packaged values), except for the user's own weights (``column``,
    ``shares``), which cover only the file's areas."""
    areas = list(table.areas) if rule in ("column", "shares") else _national(table)
    weights = {a.code: weight(scenario, a, rule) for a in areas}
    _check_weights(scenario, table, rule, areas, weights)
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


def _weight_source(scenario: Scenario, rule: str) -> str:
    """What the weights of ``rule`` are, in the user's words."""
    return {"population": "column census2021_population",
            "recorded_crime": "column prc_2024_25_total_excl_fraud",
            "current": f"column {CURRENT_COLUMN} (or population where the file has none)",
            "column": f"column {scenario.funding.allocation_column}",
            "shares": "funding.shares",
            "eligible_demand": "the modelled referrals a year"}.get(rule, rule)


def _check_weights(scenario: Scenario, table: AreaTable, rule: str, areas: list[Area],
                   weights: dict[str, float]) -> None:
    """Weights must be finite and non-negative, add up to a finite positive number: else the
    pot cannot be shared (an error naming the file, row and column, never a silent zero)."""
    source = _weight_source(scenario, rule)
    problems = []
    for a in areas:
        w = weights[a.code]
        if not math.isfinite(w) or w < 0:
            at = f"{table.source}: row {a.row}, " if a.row else f"area {a.code}: "
            problems.append(Problem(f"{at}{source}", f"allocation = '{rule}' needs a finite, "
                                    f"non-negative weight for every area", f"{w!r}"))
    if problems:
        raise ScenarioError(problems, "invalid funding allocation")
    total = sum(weights.values())
    if not math.isfinite(total) or total > MAX_TOTAL_WEIGHT:
        raise ScenarioError([Problem(f"{table.source}: {source}", f"allocation = '{rule}': "
                                     f"the weights add up to {total:g}; at most "
                                     f"{MAX_TOTAL_WEIGHT:g} (rescale them)")],
                            "invalid funding allocation")
    if total <= 0:
        raise ScenarioError([Problem(f"{table.source}: {source}", f"allocation = '{rule}' "
                                     "needs at least one area with a positive weight; every "
                                     "area's is zero, so the pot cannot be shared")],
                            "invalid funding allocation")


def area_budgets_for(scenario: Scenario, table: AreaTable, pot_gbp: float,
                     rule: str | None = None, leakage: float | None = None) -> dict[str, float]:
    """Budget per area code for a national pot under ``rule`` after ``leakage`` (defaults: the
    scenario's rule, and its leakage if not ringfenced)."""
    f = scenario.funding
    rule = rule or f.allocation
    if leakage is None:
        leakage = 0.0 if f.ringfenced else f.leakage_share
    pot_gbp *= 1.0 - leakage
    if rule != "floor_plus":
        by_rule = {c: pot_gbp * s for c, s in shares(scenario, table, rule).items()}
        return _with_minimum(scenario, table, by_rule)
    n = len(_national(table))
    rest = pot_gbp - n * f.floor_gbp
    if rest < 0:
        raise ScenarioError([Problem("funding.floor_gbp", f"floors of GBP {f.floor_gbp:,.0f} for "
                                     f"{n} areas exceed the pot of GBP {pot_gbp:,.0f}")],
                            "invalid funding allocation")
    return _with_minimum(scenario, table, {
        c: f.floor_gbp + rest * s for c, s in shares(scenario, table, f.floor_rule).items()})


def cost_per_fte(f: Funding) -> tuple[float, float]:
    """Annual cost (GBP) of a general and of a specialist FTE.

    salary x on-cost factor x (1 + overhead share); specialists add their pay uplift and their
    one-off training cost spread over the amortisation period.
    """
    general = f.salary_gbp * f.on_cost_factor * (1.0 + f.overhead_share)
    specialist = (general * (1.0 + f.specialist_pay_uplift)
                  + f.specialist_training_gbp / f.training_amortisation_years)
    return general, specialist


def volunteers(scenario: Scenario, area: Area) -> tuple[float, float]:
    """(FTE-equivalent, annual coordination cost in GBP) of an area's volunteers."""
    dyn = scenario.staffing
    hours = dyn.volunteer_hours_per_100k_population * area.population / 1e5
    per_fte_year = scenario.service.productive_hours_per_fte_day * 365.0
    return hours / per_fte_year, hours * dyn.volunteer_coordination_gbp_per_hour


def minimum_budget(scenario: Scenario, area: Area) -> float:
    """The budget that keeps ``funding.min_fte_per_area`` FTE in ``area`` (general and
    specialist by the specialist share) after its volunteers' coordination cost."""
    f = scenario.funding
    general, specialist = cost_per_fte(f)
    blended = (1 - f.specialist_share) * general + f.specialist_share * specialist
    return f.min_fte_per_area * blended + volunteers(scenario, area)[1]


def _with_minimum(scenario: Scenario, table: AreaTable,
                  budgets: dict[str, float]) -> dict[str, float]:
    """``budgets`` with every area raised to its minimum establishment's budget, paid for by
    scaling down the others' in proportion (until none of them falls below its own minimum);
    unchanged without a minimum. An area served by a shared service needs no establishment of
    its own (its host's minimum applies)."""
    if not scenario.funding.min_fte_per_area:
        return budgets
    guests = shared.hosts_of(scenario, table)
    need = {a.code: 0.0 if a.code in guests else minimum_budget(scenario, a)
            for a in _national(table)}
    pot, raised, out = sum(budgets.values()), set[str](), dict(budgets)
    while low := {c for c, b in out.items() if c not in raised and b < need[c]}:
        raised |= low
        rest = pot - sum(need[c] for c in raised)
        others = sum(b for c, b in budgets.items() if c not in raised)
        if rest < 0 or others <= 0:
            raise ScenarioError([Problem(
                "funding.min_fte_per_area", f"minimum establishments of "
                f"{scenario.funding.min_fte_per_area:g} FTE in {len(raised)} areas cost more "
                f"than the pot of GBP {pot:,.0f}; lower the minimum or raise the pot")],
                "invalid funding allocation")
        out = {c: need[c] if c in raised else rest * b / others for c, b in budgets.items()}
    return out


def timeline(scenario: Scenario, table: AreaTable) -> tuple[list[float], list[dict[str, float]]]:
    """Days budgets change (starting with 0) and the budget of every area from each."""
    f = scenario.funding
    pot = f.national_budget_gbp * f.uprating_factor
    days, budgets = [0.0], [area_budgets_for(scenario, table, pot) | dict(f.area_budget_gbp)]
    overrides, rule = dict(f.area_budget_gbp), f.allocation
    leakage = 0.0 if f.ringfenced else f.leakage_share
    for change in f.schedule:
        if change.national_budget_gbp is not None:
            pot = change.national_budget_gbp * (change.uprating_factor or f.uprating_factor)
        rule = change.allocation or rule
        if change.ringfenced is not None:
            restated = f.leakage_share if change.leakage_share is None else change.leakage_share
            leakage = 0.0 if change.ringfenced else restated
        overrides |= dict(change.area_budget_gbp)
        days.append(scenario.day_of(change))
        budgets.append(area_budgets_for(scenario, table, pot, rule, leakage) | overrides)
    return days, budgets


def rules(scenario: Scenario) -> list[str]:
    """The allocation rule in force from each budget change (day 0 first)."""
    out: list[str] = [scenario.funding.allocation]
    for change in scenario.funding.schedule:
        out.append(change.allocation or out[-1])
    return out


def budget_by_period(days: list[float], budgets: list[dict[str, float]], code: str,
                     period_starts: np.ndarray) -> np.ndarray:
    """The annual budget in force at the start of each period (changes take effect from the
    first period starting on or after their day)."""
    idx = np.searchsorted(np.asarray(days), period_starts, side="right") - 1
    values = np.array([b.get(code, 0.0) for b in budgets])
    return values[idx]


def allocation_table(scenario: Scenario, table: AreaTable) -> pd.DataFrame:
    """Per area and budget change: the rule, the area's share, its budget (for checking by
    hand) and the area whose service spends it (``served_by``: itself, or its host under
    ``funding.shared_services``), written to every results directory."""
    days, budgets = timeline(scenario, table)
    f = scenario.funding
    hosts = shared.hosts_of(scenario, table)
    rows = []
    for day, by_area, rule in zip(days, budgets, rules(scenario), strict=True):
        share = shares(scenario, table, f.floor_rule if rule == "floor_plus" else rule)
        total = sum(by_area.values())
        for a in table.areas:
            rows.append((day, a.code, a.name, rule, share.get(a.code, 0.0), by_area[a.code],
                         by_area[a.code] / total if total else math.nan,
                         hosts.get(a.code, a.code)))
    return pd.DataFrame(rows, columns=["from_day", "area", "force", "rule", "rule_share",
                                       "budget_gbp", "share_of_total", "served_by"])
