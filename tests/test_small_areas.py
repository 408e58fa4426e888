"""Small areas: a minimum establishment per area, top-sliced from the national pot.

City of London (population 8,584) gets about GBP 900 of today's pot by population: on its own,
no slot, so every referral there is lost as ``no_service``. By default it is served by the
Metropolitan Police's service (``funding.shared_services``, tests/test_shared_services.py);
these tests are of the alternative, with no shared service: a minimum establishment raises
every area to the budget of ``funding.min_fte_per_area`` FTE, paid for by the other areas in
proportion.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import scenario

from rjsim.core.codes import Outcome
from rjsim.core.errors import ScenarioError
from rjsim.data.areas import AreaTable
from rjsim.experiment import runner
from rjsim.funding import allocation
from rjsim.funding import budgets as funding
from rjsim.model.area import simulate_area

CITY, MET, KENT, AVON = "E23000034", "E23000001", "E23000032", "E23000036"


OWN = {"shared_services": {"City of London": ""}}  # its own service: the alternative


def _budgets(table: AreaTable, **fund: object) -> dict[str, float]:
    return allocation.timeline(scenario(funding=OWN | fund), table)[1][0]


def test_without_a_minimum_city_of_london_buys_no_slot(table: AreaTable):
    sc = scenario(funding=OWN | {"min_fte_per_area": 0})
    staff = funding.staffing(sc, table)[CITY]
    assert staff.general_fte * 6.3 < 1 and staff.specialist_fte * 6.3 < 1


def test_a_minimum_raises_small_areas_and_the_others_pay_in_proportion(table: AreaTable):
    before = _budgets(table, min_fte_per_area=0)
    after = _budgets(table, min_fte_per_area=1.0)
    sc = scenario(funding=OWN | {"min_fte_per_area": 1.0})
    city = table.select((CITY,), "test")[0]
    assert after[CITY] == pytest.approx(allocation.minimum_budget(sc, city))
    assert after[CITY] > 50 * before[CITY]
    assert sum(after.values()) == pytest.approx(sum(before.values()), rel=1e-12)  # the same pot
    raised = {c for c in after if after[c] == pytest.approx(allocation.minimum_budget(
        sc, next(a for a in allocation._national(table) if a.code == c)))}
    assert raised == {CITY}  # the next smallest, Cumbria, has about 1.06 FTE by population
    scale = after[KENT] / before[KENT]
    assert 0.99 < scale < 1
    for code in (MET, AVON):
        assert after[code] / before[code] == pytest.approx(scale, rel=1e-12)


def test_a_higher_minimum_raises_every_area_below_it_and_no_one_ends_below(table: AreaTable):
    sc = scenario(funding=OWN | {"min_fte_per_area": 10.0, "national_budget_gbp": 30_500_000})
    budgets = allocation.timeline(sc, table)[1][0]
    need = {a.code: allocation.minimum_budget(sc, a) for a in table.areas}
    assert all(budgets[c] >= need[c] * (1 - 1e-12) for c in need)
    raised = [c for c in need if budgets[c] == pytest.approx(need[c])]
    assert len(raised) > 3
    pot = 30_500_000 * sc.funding.uprating_factor
    assert sum(budgets.values()) == pytest.approx(pot, rel=1e-12)


def test_with_a_minimum_city_of_london_is_served(table: AreaTable):
    # informed 0.3, not the calibrated 0.0174, so that City of London has referrals to serve
    sc = scenario(run={"years": 1}, demand={"informed": 0.3},
                  funding=OWN | {"min_fte_per_area": 1.0})
    city = table.select((CITY,), "test")[0]
    staff = funding.staffing(sc, table)[CITY]
    rec = simulate_area(sc, city, staff, 0, funding.workforces(sc, table)[CITY])
    assert rec.general_slots >= 1 and rec.specialist_slots >= 1
    assert rec.n_referrals > 50
    assert not np.any(rec.outcome == Outcome.NO_SERVICE)
    assert np.any(~np.isnan(rec.allocation_day))


def test_a_minimum_the_pot_cannot_pay_is_a_clean_error():
    sc = scenario(funding=OWN | {"min_fte_per_area": 500.0})
    with pytest.raises(ScenarioError, match=r"funding\.min_fte_per_area.*cost more than the pot"):
        runner.task_plan(sc)


def test_a_minimum_is_ignored_when_fte_are_set_directly(table: AreaTable):
    # a budget floor has nothing to raise when each area's FTE are given: no refusal
    sc = scenario(funding=OWN | {"capacity_from": "fte", "fte": {"general": 1, "specialist": 1},
                                 "min_fte_per_area": 3.0})
    staff = funding.staffing(sc, table)
    assert (staff[CITY].general_fte, staff[CITY].specialist_fte) == (1.0, 1.0)
    assert staff == funding.staffing(scenario(funding=OWN | {
        "capacity_from": "fte", "fte": {"general": 1, "specialist": 1}}), table)


def test_areas_served_by_a_shared_service_need_no_minimum_of_their_own(table: AreaTable):
    sc = scenario(funding={"min_fte_per_area": 1.0})  # City of London shares the Met's
    budgets = allocation.timeline(sc, table)[1][0]
    assert budgets[CITY] < 0.05 * allocation.minimum_budget(sc, table.select((CITY,), "t")[0])
    assert funding.staffing(sc, table)[CITY].budget_gbp == 0.0
