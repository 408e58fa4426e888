"""Unit tests: budgets per area, the cost of a facilitator, FTE and caseload slots."""

from __future__ import annotations

import pytest
from conftest import AVON, scenario

from rjsim.core.errors import ScenarioError
from rjsim.funding.budgets import area_budgets, cost_per_fte, staffing
from rjsim.model.staffing import slots


def test_cost_per_fte_from_salary_on_costs_overheads_and_training():
    f = scenario().funding
    general, specialist = cost_per_fte(f)
    assert general == pytest.approx(30_000 * 1.30 * 1.20)
    assert specialist == pytest.approx(general * 1.10 + 3_000 / 3)


def test_budgets_share_the_uprated_pot_by_population(table):
    sc = scenario()
    budgets = area_budgets(sc, table)
    assert set(budgets) == {a.code for a in table.areas}
    pot = sc.funding.national_budget_gbp * sc.funding.uprating_factor
    assert sum(budgets.values()) == pytest.approx(pot)
    population = sum(a.population for a in table.areas)
    for a in table.areas:
        assert budgets[a.code] == pytest.approx(pot * a.population / population)


def test_budgets_by_recorded_crime(table):
    budgets = area_budgets(scenario(funding={"allocation": "recorded_crime"}), table)
    crime = sum(a.recorded_crime for a in table.areas)
    avon = next(a for a in table.areas if a.code == AVON)
    assert budgets[AVON] / sum(budgets.values()) == pytest.approx(avon.recorded_crime / crime)


def test_area_budget_override_and_unknown_code(table):
    assert area_budgets(scenario(funding={"area_budget_gbp": {AVON: 1.0e6}}), table)[AVON] == 1e6
    with pytest.raises(ScenarioError, match="E23999999"):
        area_budgets(scenario(funding={"area_budget_gbp": {"E23999999": 1.0}}), table)


def test_staffing_from_budget_spends_the_budget(table):
    sc = scenario()
    for code, s in staffing(sc, table).items():
        assert s.annual_cost_gbp == pytest.approx(s.budget_gbp), code
        total = s.general_fte + s.specialist_fte
        assert s.specialist_fte == pytest.approx(total * sc.funding.specialist_share), code


def test_staffing_from_fte_with_an_area_override(table):
    sc = scenario(funding={"capacity_from": "fte", "fte": {"general": 2.0, "specialist": 1.0},
                           "area_fte": {AVON: {"general": 5.0, "specialist": 0.0}}})
    by_area = staffing(sc, table)
    assert (by_area[AVON].general_fte, by_area[AVON].specialist_fte) == (5.0, 0.0)
    other = next(code for code in by_area if code != AVON)
    assert (by_area[other].general_fte, by_area[other].specialist_fte) == (2.0, 1.0)
    general, specialist = cost_per_fte(sc.funding)
    assert by_area[other].budget_gbp == pytest.approx(2 * general + specialist)
    with pytest.raises(ScenarioError, match="E23999999"):
        staffing(scenario(funding={"capacity_from": "fte",
                                   "area_fte": {"E23999999": {"general": 1.0, "specialist": 0}}}),
                 table)


@pytest.mark.parametrize("fte, caseload, expected", [
    (0.0, 6.3, 0), (0.15, 6.3, 0), (1.0, 6.3, 6), (0.5, 6.0, 3), (1.0 / 3.0, 3.0, 1),
    (0.57, 100.0, 57),  # 0.57 x 100 = 56.99999999999999: float noise must not lose a slot
])
def test_slots_round_down_without_losing_a_slot_to_float_noise(fte, caseload, expected):
    assert slots(fte, caseload) == expected
