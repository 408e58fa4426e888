"""Funding options: how a national pot becomes each area's budget (unit tests).

Every rule is checked against shares computed by hand for three areas of a user data file
(Avon and Somerset, Bedfordshire and Cambridgeshire with round numbers). The pot is national:
areas a user's file leaves out keep their packaged weight, so most tests use a file of all
43 areas in which the other 40 have zero weight (then the hand computation involves only the
three), and one test checks the national denominator with a file of just the three.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import scenario

from rjsim.core.errors import ScenarioError
from rjsim.data import areas as areadata
from rjsim.data.areas import AreaTable
from rjsim.funding import allocation
from rjsim.scenario.spec import GROUPS, Scenario

A, B, C = "E23000036", "E23000026", "E23000023"
MINE = (A, B, C)
#: code: population, recorded crime (excl. fraud), today's RJ budget, my_weight, victims a year
ROWS: dict[str, tuple[float, float, float, float, dict[str, float]]] = {
    A: (1_000_000, 60_000, 300_000, 1, {"violence": 10_000, "sexual": 2_000, "theft": 20_000}),
    B: (500_000, 30_000, 100_000, 2, {"violence": 4_000, "sexual": 1_000, "theft": 6_000}),
    C: (500_000, 10_000, 100_000, 5, {"violence": 6_000, "sexual": 500, "theft": 14_000}),
}
POT = 1_000_000.0


def write_area_csv(path: Path, rows: dict[str, tuple[Any, ...]], others_zero: bool) -> Path:
    """A user area file: ``rows`` with their numbers, plus (if ``others_zero``) every other
    force area with zero population, crime, victims and weights."""
    cols = ["pfa_code", "force", "census2021_population", "prc_2024_25_total_excl_fraud",
            *(f"victims_{g}" for g in GROUPS), "rj_budget_gbp", "my_weight"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(cols)
        for area in areadata.packaged().areas:
            if area.code in rows:
                pop, crime, today, weight, victims = rows[area.code]
            elif others_zero:
                pop, crime, today, weight, victims = 0, 0, 0, 0, {}
            else:
                continue
            out.writerow([area.code, area.name, pop, crime,
                          *(victims.get(g, 0) for g in GROUPS), today, weight])
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("areas")
    write_area_csv(d / "all43.csv", ROWS, others_zero=True)
    write_area_csv(d / "three.csv", ROWS, others_zero=False)
    return d


@pytest.fixture(scope="module")
def all43(data_dir: Path) -> AreaTable:
    return areadata.load(data_dir / "all43.csv")


@pytest.fixture(scope="module")
def three(data_dir: Path) -> AreaTable:
    return areadata.load(data_dir / "three.csv")


def funded(data: Path, **fund: Any) -> Scenario:
    """Three offence groups (sexual cases told about RJ more often), a GBP 1m pot, no
    uprating, over the given area data."""
    return scenario(
        areas={"data": str(data)},
        demand={"groups": ["violence", "sexual", "theft"],
                "by_group": {"sexual": {"informed": 0.5}}},
        funding={"national_budget_gbp": POT, "uprating_factor": 1.0} | fund)


def mine(budgets: dict[str, float]) -> list[float]:
    return [budgets[c] for c in MINE]


# -- the rules, by hand --------------------------------------------------------------------------

@pytest.mark.parametrize("rule, expected", [
    # population 1.0m, 0.5m, 0.5m of 2.0m
    ("population", [0.5, 0.25, 0.25]),
    # recorded crime 60k, 30k, 10k of 100k
    ("recorded_crime", [0.6, 0.3, 0.1]),
    # today's RJ budgets GBP 300k, 100k, 100k of 500k (the file's rj_budget_gbp column)
    ("current", [0.6, 0.2, 0.2]),
])
def test_rule_shares_by_hand(data_dir, all43, rule, expected):
    sc = funded(data_dir / "all43.csv", allocation=rule)
    shares = allocation.shares(sc, all43, rule)
    assert mine(shares) == pytest.approx(expected, rel=1e-12)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(shares[a.code] == 0 for a in all43.areas if a.code not in MINE)
    budgets = allocation.area_budgets_for(sc, all43, POT)
    assert mine(budgets) == pytest.approx([POT * s for s in expected], rel=1e-12)


def test_allocation_by_a_named_column(data_dir, all43):
    sc = funded(data_dir / "all43.csv", allocation="column", allocation_column="my_weight")
    # my_weight 1, 2, 5 of 8
    budgets = allocation.timeline(sc, all43)[1][0]
    assert mine(budgets) == pytest.approx([POT / 8, 2 * POT / 8, 5 * POT / 8], rel=1e-12)


def test_eligible_demand_is_expected_referrals(data_dir, all43):
    sc = scenario(areas={"data": str(data_dir / "all43.csv")},
                  demand={"groups": ["violence", "sexual", "theft"],
                          "offender_identified": 0.15, "informed": 0.3, "wants_rj": 0.3,
                          "by_group": {"sexual": {"informed": 0.5}}},
                  level_one={"diversion_share": 0.2, "groups": ["theft"]},
                  funding={"national_budget_gbp": POT, "uprating_factor": 1.0,
                           "allocation": "eligible_demand"})
    # the funnel is set here, not taken from the (calibrated) defaults, so the arithmetic holds:
    # referrals = victims x offender identified (0.15) x not diverted x informed x wants RJ
    # (0.30); informed 0.30, sexual 0.50; 20% of theft diverted to police level-one RJ:
    #   violence 0.15 x 0.3 x 0.3 = 0.0135; theft 0.0135 x 0.8 = 0.0108; sexual 0.0225
    # A: 10,000 x 0.0135 + 20,000 x 0.0108 + 2,000 x 0.0225 = 135 + 216 + 45 = 396
    # B:  4,000 x 0.0135 +  6,000 x 0.0108 + 1,000 x 0.0225 = 54 + 64.8 + 22.5 = 141.3
    # C:  6,000 x 0.0135 + 14,000 x 0.0108 +   500 x 0.0225 = 81 + 151.2 + 11.25 = 243.45
    by_code = {a.code: a for a in all43.areas}
    expected = [396.0, 141.3, 243.45]
    assert [allocation.expected_referrals(sc, by_code[c]) for c in MINE] == pytest.approx(
        expected, rel=1e-12)
    total = sum(expected)  # 780.75
    budgets = allocation.area_budgets_for(sc, all43, POT)
    assert mine(budgets) == pytest.approx([POT * e / total for e in expected], rel=1e-12)


def test_eligible_demand_under_a_statutory_right(data_dir, all43):
    sc = scenario(areas={"data": str(data_dir / "all43.csv")},
                  demand={"groups": ["violence", "theft"]},
                  statutory_right={"commence_day": 100, "informed": 0.9, "wants_rj": 0.4},
                  funding={"allocation": "eligible_demand"})
    # under the right: 0.15 x 0.9 x 0.4 = 0.054 of victims; A 30,000 x 0.054 = 1,620
    area = next(a for a in all43.areas if a.code == A)
    assert allocation.expected_referrals(sc, area) == pytest.approx(30_000 * 0.054)


def test_explicit_shares(data_dir, all43):
    sc = funded(data_dir / "all43.csv", allocation="shares", shares={A: 0.5, B: 0.3, C: 0.2})
    budgets = allocation.area_budgets_for(sc, all43, POT)
    assert mine(budgets) == pytest.approx([500_000, 300_000, 200_000], rel=1e-12)
    assert sum(budgets.values()) == pytest.approx(POT)


def test_floor_plus_formula(data_dir, all43):
    sc = funded(data_dir / "all43.csv", national_budget_gbp=10_000_000, allocation="floor_plus",
                floor_gbp=100_000, floor_rule="recorded_crime")
    budgets = allocation.timeline(sc, all43)[1][0]
    # floors 43 x 100,000 = 4.3m; the other 5.7m by recorded crime 0.6 / 0.3 / 0.1
    assert mine(budgets) == pytest.approx([100_000 + 5_700_000 * s for s in (0.6, 0.3, 0.1)],
                                          rel=1e-12)  # 3.52m, 1.81m, 0.67m
    others = [b for code, b in budgets.items() if code not in MINE]
    assert len(others) == 40 and others == pytest.approx([100_000] * 40)
    assert sum(budgets.values()) == pytest.approx(10_000_000)


def test_current_without_a_budget_column_is_population(table):
    sc = scenario(funding={"allocation": "current"})
    assert allocation.shares(sc, table, "current") == pytest.approx(
        allocation.shares(sc, table, "population"))


def test_partial_file_keeps_the_other_areas_in_the_national_denominator(data_dir, three):
    sc = funded(data_dir / "three.csv", allocation="population")
    shares = allocation.shares(sc, three, "population")
    assert len(shares) == 43
    # 2.0m people in the file; the 40 areas it leaves out keep their packaged populations
    others = sum(a.population for a in areadata.packaged().areas if a.code not in MINE)
    total = 2_000_000 + others
    assert mine(shares) == pytest.approx([1e6 / total, 5e5 / total, 5e5 / total], rel=1e-12)
    budgets = allocation.area_budgets_for(sc, three, POT)
    assert sum(budgets.values()) == pytest.approx(POT)


def test_partial_file_of_todays_budgets_is_consistent_with_the_default(tmp_path):
    """A file stating three areas' budgets today exactly as the default assumes (the pot
    shared by population) must leave every area's 'current' budget as it was: weights from
    the file (GBP) and the packaged weights of the areas it leaves out must be in the same
    units."""
    pk = areadata.packaged()
    sc0 = scenario(funding={"allocation": "current"})
    default = allocation.area_budgets_for(sc0, pk, 1e6)
    rows = {}
    for area in pk.areas:
        if area.code in MINE:
            # today's budget as the default assumes: today's national spend shared by population
            rows[area.code] = (area.population, area.recorded_crime,
                               allocation.today_budget(sc0, area), 1,
                               areadata.victims_per_year(area, sc0.demand.apportionment))
    table = areadata.load(write_area_csv(tmp_path / "today.csv", rows, others_zero=False))
    sc = scenario(areas={"data": str(tmp_path / "today.csv")},
                  funding={"allocation": "current"})
    budgets = allocation.area_budgets_for(sc, table, 1e6)
    assert budgets == pytest.approx(default, rel=1e-9)


# -- leakage, overrides and schedules ------------------------------------------------------------

def test_leakage_removes_exactly_the_stated_share(data_dir, all43):
    fenced = funded(data_dir / "all43.csv", allocation="recorded_crime")
    leaky = funded(data_dir / "all43.csv", allocation="recorded_crime", ringfenced=False,
                   leakage_share=0.25)
    a = allocation.timeline(fenced, all43)[1][0]
    b = allocation.timeline(leaky, all43)[1][0]
    assert set(a) == set(b)
    for code in a:
        assert b[code] == pytest.approx(0.75 * a[code], rel=1e-12, abs=1e-9), code
    assert sum(b.values()) == pytest.approx(0.75 * POT)


def test_explicit_area_budgets_win_and_persist(data_dir, all43):
    sc = funded(data_dir / "all43.csv", area_budget_gbp={B: 42_000},
                schedule=[{"from_day": 365, "national_budget_gbp": 3 * POT}])
    days, budgets = allocation.timeline(sc, all43)
    assert days == [0.0, 365.0]
    assert [b[B] for b in budgets] == [42_000, 42_000]
    assert [b[A] for b in budgets] == pytest.approx([0.5 * POT, 1.5 * POT])


def test_schedule_switches_pot_rule_and_ringfence_from_its_days(data_dir, all43):
    sc = funded(data_dir / "all43.csv", allocation="population", schedule=[
        {"from_day": 365, "national_budget_gbp": 2_000_000, "uprating_factor": 1.5,
         "allocation": "recorded_crime"},
        {"from_date": "2027-04-01", "allocation": "column", "ringfenced": False,
         "leakage_share": 0.2}],
        allocation_column="my_weight")
    days, budgets = allocation.timeline(sc, all43)
    assert days == [0.0, 365.0, 730.0]  # 2025-04-01 + 730 days = 2027-04-01
    assert allocation.rules(sc) == ["population", "recorded_crime", "column"]
    # day 0: GBP 1m by population; day 365: 2m x 1.5 = 3m by crime; day 730: 3m less 20%
    # leakage = 2.4m, by my_weight (1, 2, 5 of 8)
    expected = [[5e5, 2.5e5, 2.5e5], [1.8e6, 9e5, 3e5], [3e5, 6e5, 1.5e6]]
    for got, want in zip(budgets, expected, strict=True):
        assert mine(got) == pytest.approx(want, rel=1e-12)
    # in force at the start of each month: a change applies from the first month starting
    # on or after its day (month 12 starts on day 365 exactly, month 24 on day 730)
    starts = np.arange(36) * 365 / 12
    by_month = allocation.budget_by_period(days, budgets, A, starts)
    assert (by_month[:12] == 5e5).all()
    assert by_month[12:24] == pytest.approx([1.8e6] * 12)
    assert by_month[24:] == pytest.approx([3e5] * 12)


def test_budget_by_period_for_a_change_inside_a_month():
    days, budgets = [0.0, 100.0], [{A: 1.0}, {A: 2.0}]
    starts = np.arange(6) * 365 / 12  # 0, 30.4, 60.8, 91.25, 121.7, 152.1
    # day 100 falls inside month 3, so month 3 keeps the old budget
    np.testing.assert_array_equal(allocation.budget_by_period(days, budgets, A, starts),
                                  [1, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(allocation.budget_by_period(days, budgets, B, starts), 0)


def test_allocation_table_adds_up_to_the_pot_after_leakage_at_each_change(data_dir, all43):
    sc = funded(data_dir / "all43.csv", schedule=[
        {"from_day": 400, "national_budget_gbp": 5e6, "allocation": "recorded_crime",
         "ringfenced": False, "leakage_share": 0.1}])
    t = allocation.allocation_table(sc, all43)
    assert len(t) == 2 * 43
    totals = t.groupby("from_day")["budget_gbp"].sum()
    assert totals.to_dict() == pytest.approx({0.0: POT, 400.0: 0.9 * 5e6})
    row = t[(t["from_day"] == 400) & (t["area"] == A)].iloc[0]
    assert row["rule"] == "recorded_crime"
    assert (row["rule_share"], row["share_of_total"]) == pytest.approx((0.6, 0.6))


# -- bad allocations found when budgets are computed ---------------------------------------------

def test_floors_exceeding_the_pot(data_dir, all43):
    sc = funded(data_dir / "all43.csv", allocation="floor_plus", floor_gbp=30_000)
    # 43 x 30,000 = 1.29m > 1m
    with pytest.raises(ScenarioError, match=r"funding\.floor_gbp") as err:
        allocation.timeline(sc, all43)
    assert "43 areas" in str(err.value)


def test_column_missing_from_the_data(table):
    sc = scenario(funding={"allocation": "column", "allocation_column": "rj_weight"})
    with pytest.raises(ScenarioError, match="rj_weight") as err:
        allocation.timeline(sc, table)
    # the message lists the numeric columns there are
    assert "census2021_population" in str(err.value)
    assert "prc_2024_25_total_excl_fraud" in str(err.value)
