"""Budgets to facilitators: the cost of an FTE, the establishment a budget pays for, and the
monthly stock-and-flow of staff in post (recruitment lag, training lag, attrition with
replacement lag, notice on cuts).

Unit tests compute the expected values by hand (the arithmetic is in the comments) and check
them to floating-point precision: the workforce model is deterministic, so there is no
sampling error to allow for. Property-based tests (hypothesis) check the invariants of
:func:`rjsim.model.workforce.simulate_skill` on arbitrary establishment paths.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import AVON, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from rjsim.data import areas as areadata
from rjsim.funding import budgets as funding
from rjsim.funding.budgets import cost_per_fte
from rjsim.model import workforce
from rjsim.model.area import slot_schedule
from rjsim.model.demand import DAYS_PER_PERIOD
from rjsim.model.staffing import period_days
from rjsim.model.workforce import simulate_skill

MONTH = 365.0 / 12  # days in a model period

#: The worked example of issue 4, every cost setting stated (not left to the defaults).
WORKED = {"salary_gbp": 30_000, "on_cost_factor": 1.3, "overhead_share": 0.2,
          "specialist_pay_uplift": 0.1, "specialist_training_gbp": 3_000,
          "training_amortisation_years": 3, "specialist_share": 0.3}
# general FTE    = 30,000 x 1.3 x (1 + 0.2)          = 46,800
# specialist FTE = 46,800 x (1 + 0.1) + 3,000 / 3    = 51,480 + 1,000 = 52,480
# blended FTE    = 0.7 x 46,800 + 0.3 x 52,480       = 32,760 + 15,744 = 48,504
GENERAL_GBP, SPECIALIST_GBP, BLENDED_GBP = 46_800.0, 52_480.0, 48_504.0


def staff(years: float = 3.0, budget_gbp: float = 100_000.0, schedule: list[Any] | None = None,
          **dynamics: float) -> workforce.Workforce:
    """Avon and Somerset's workforce under the worked example's costs with a fixed budget (an
    explicit per-area budget, optionally changed by ``schedule``) and the given dynamics."""
    dyn = {"recruitment_lag_days": 120, "replacement_lag_days": 120, "notice_days": 90,
           "specialist_training_lag_days": 30, "attrition_per_year": 0.0} | dynamics
    sc = scenario(run={"years": years},
                  funding=WORKED | {"area_budget_gbp": {AVON: budget_gbp},
                                    "schedule": schedule or []},
                  staffing=dyn)
    return funding.workforces(sc, areadata.packaged())[AVON]


# -- budget -> FTE arithmetic ------------------------------------------------------------------

def test_cost_per_fte_worked_example():
    general, specialist = cost_per_fte(scenario(funding=WORKED).funding)
    assert general == pytest.approx(GENERAL_GBP, rel=1e-12)
    assert specialist == pytest.approx(SPECIALIST_GBP, rel=1e-12)


def test_establishment_of_a_100k_budget_without_volunteers():
    wf = staff(budget_gbp=100_000)
    # 100,000 / 48,504 = 2.06168... FTE, 70% general and 30% specialist
    total = 100_000 / BLENDED_GBP
    assert wf.establishment[0, 0] == pytest.approx(0.7 * total, rel=1e-12)  # 1.44318
    assert wf.establishment[0, 1] == pytest.approx(0.3 * total, rel=1e-12)  # 0.61851
    assert wf.volunteer_fte == 0.0
    # what the establishment costs a year at the establishment's own unit costs is the budget
    assert (wf.establishment[0] @ [GENERAL_GBP, SPECIALIST_GBP]) == pytest.approx(100_000)


def test_volunteer_coordination_comes_off_the_budget_before_fte():
    sc = scenario(run={"years": 1},
                  funding=WORKED | {"area_budget_gbp": {AVON: 100_000}},
                  staffing={"volunteer_hours_per_100k_population": 100,
                            "volunteer_coordination_gbp_per_hour": 8})
    wf = funding.workforces(sc, areadata.packaged())[AVON]
    # Avon and Somerset: population 1,744,576 -> 17.44576 x 100 = 1,744.576 volunteer hours
    # coordination = 1,744.576 x 8 = 13,956.608 GBP; paid FTE = 86,043.392 / 48,504 = 1.77394
    hours = 1_744.576
    paid = (100_000 - hours * 8) / BLENDED_GBP
    assert wf.establishment[0, 0] == pytest.approx(0.7 * paid, rel=1e-12)
    assert wf.establishment[0, 1] == pytest.approx(0.3 * paid, rel=1e-12)
    # volunteer FTE-equivalent = hours / (2.8 productive hours x 365 days) = 1.70702
    assert wf.volunteer_fte == pytest.approx(hours / (2.8 * 365), rel=1e-12)


def test_build_directly_with_a_coordination_cost():
    f = scenario(funding=WORKED).funding
    dyn = scenario(staffing={"attrition_per_year": 0.0}).staffing
    days = np.full(3, MONTH)
    wf = workforce.build(np.full(3, 100_000.0), days, cost_per_fte(f), f, dyn, (0.5, 10_000.0))
    # (100,000 - 10,000) / 48,504 = 1.85552 FTE
    paid = 90_000 / BLENDED_GBP
    np.testing.assert_allclose(wf.establishment, [[0.7 * paid, 0.3 * paid]] * 3, rtol=1e-12)
    assert wf.volunteer_fte == 0.5
    # a budget smaller than the coordination cost pays for no staff (not negative staff)
    none = workforce.build(np.full(3, 5_000.0), days, cost_per_fte(f), f, dyn, (0.5, 10_000.0))
    assert (none.establishment == 0).all() and (none.in_post == 0).all()


def test_monthly_spend_is_staff_in_post_plus_training_of_new_specialists():
    # constant budget, no attrition: staff in post = establishment, nobody hired
    wf = staff(years=1, budget_gbp=100_000)
    g, s = 0.7 * 100_000 / BLENDED_GBP, 0.3 * 100_000 / BLENDED_GBP
    # staff already in post were trained before day 0: a specialist costs 52,480 - 1,000 a year
    monthly = (g * GENERAL_GBP + s * (SPECIALIST_GBP - 1_000)) / 12
    np.testing.assert_allclose(wf.spend_gbp, monthly, rtol=1e-12)
    # doubling the budget from day 365: each new specialist also costs 3,000 once, when hired
    grown = staff(years=2, budget_gbp=100_000,
                  schedule=[{"from_day": 365, "area_budget_gbp": {AVON: 200_000}}])
    k = 12 + 5  # specialists arrive 4 + 1 months after the change (see below)
    assert grown.hires[k, 1] == pytest.approx(s)
    in_post_cost = (grown.in_post[k] @ [GENERAL_GBP, SPECIALIST_GBP - 1_000]) / 12
    assert grown.spend_gbp[k] == pytest.approx(in_post_cost + 3_000 * s, rel=1e-12)


# -- recruitment, training, attrition and notice over time -------------------------------------

def test_whole_month_lags_round_up():
    assert MONTH == DAYS_PER_PERIOD
    # 120 days = 3.95 months -> 4; 30 -> 1; 90 -> 2.96 -> 3; 0 -> 0; exactly 2 months -> 2
    assert [workforce._lag(d) for d in (120, 30, 90, 0, 2 * MONTH)] == [4, 1, 3, 0, 2]


def test_attrition_zero_and_constant_budget_keeps_establishment_filled_every_month():
    wf = staff(years=3)
    np.testing.assert_array_equal(wf.in_post, wf.establishment)
    assert (wf.hires == 0).all() and (wf.leavers == 0).all() and (wf.vacancies == 0).all()


def test_budget_rise_is_filled_after_the_recruitment_lag_and_specialists_after_training():
    wf = staff(years=3, budget_gbp=100_000,
               schedule=[{"from_day": 365, "area_budget_gbp": {AVON: 250_000}}])
    old, new = wf.establishment[0], wf.establishment[-1]
    np.testing.assert_allclose(new, old * 2.5, rtol=1e-12)
    # day 365 starts period 12: the establishment changes there...
    assert (wf.establishment[:12] == old).all() and (wf.establishment[12:] == new).all()
    # ...general staff arrive ceil(120 / 30.42) = 4 months later (period 16), specialists
    # another ceil(30 / 30.42) = 1 month later (period 17)
    for skill, first in ((0, 16), (1, 17)):
        np.testing.assert_array_equal(wf.in_post[:first, skill], old[skill])
        np.testing.assert_allclose(wf.in_post[first:, skill], new[skill], rtol=1e-12)
        assert wf.hires[first, skill] == pytest.approx(new[skill] - old[skill])
        assert (np.delete(wf.hires[:, skill], first) == 0).all()
    # vacancies in the meantime are the unfilled growth
    np.testing.assert_allclose(wf.vacancies[12:16].sum(axis=1), (new - old).sum())


def test_budget_change_mid_month_applies_from_the_next_month_and_hires_never_arrive_early():
    wf = staff(years=2, budget_gbp=100_000,
               schedule=[{"from_day": 100, "area_budget_gbp": {AVON: 200_000}}])
    # day 100 falls in period 3 (91.25-121.67); the new budget applies from period 4
    assert (wf.budget_gbp[:4] == 100_000).all() and (wf.budget_gbp[4:] == 200_000).all()
    first = int(np.argmax(wf.in_post[:, 0] > wf.in_post[0, 0]))
    assert first == 4 + 4
    assert first * MONTH >= 100 + 120  # not before the recruitment lag has run from the change


def test_attrition_settles_below_establishment_by_the_replacement_lag():
    a = 0.12
    wf = staff(years=10, attrition_per_year=a)
    # Each month a share q = 1 - exp(-0.12 / 12) of staff leave; their posts are refilled
    # R months later (R = 4 general, 4 + 1 specialist). The model keeps staff + pending
    # hires = establishment E, so in the steady state s x (1 - q) + (R + 1) x q x s = E:
    #   s = E / (1 + R q)
    q = 1.0 - math.exp(-a / 12)
    for skill, lag in ((0, 4), (1, 5)):
        settled = wf.establishment[0, skill] / (1 + lag * q)
        np.testing.assert_allclose(wf.in_post[60:, skill], settled, rtol=1e-10)
        # roughly attrition x replacement lag: Rq / (1 + Rq) = 0.12 x 4/12 x (1 - 0.04) = 3.8%
        # short (general); to first order a x lag in years (4.0%), off by the (Rq)^2 term
        short = 1 - settled / wf.establishment[0, skill]
        assert short == pytest.approx(a * lag / 12, rel=2 * lag * q)
        # in steady state, leavers are replaced one for one
        np.testing.assert_allclose(wf.hires[60:, skill], wf.leavers[60:, skill], rtol=1e-10)
    assert (wf.in_post <= wf.establishment + 1e-12).all()


def test_budget_cut_staff_leave_after_notice():
    wf = staff(years=3, budget_gbp=200_000,
               schedule=[{"from_day": 365, "area_budget_gbp": {AVON: 80_000}}])
    old, new = wf.establishment[0], wf.establishment[-1]
    # cut from period 12; notice ceil(90 / 30.42) = 3 months: the excess leaves at period 15
    np.testing.assert_array_equal(wf.in_post[:15], np.tile(old, (15, 1)))
    np.testing.assert_allclose(wf.in_post[15:], np.tile(new, (len(wf.in_post) - 15, 1)))
    # the dismissed are the only leavers (counted in the month they go, 14 or 15 by convention:
    # see the reconciliation test below)
    np.testing.assert_allclose(wf.leavers[14:16].sum(axis=0), old - new)
    assert wf.leavers.sum() == pytest.approx((old - new).sum())
    # paid while serving notice: spend in periods 12-14 is at the old staffing
    np.testing.assert_allclose(wf.spend_gbp[12:15], wf.spend_gbp[0])


def test_cut_before_new_hires_arrive_cancels_them_and_nobody_is_dismissed():
    # hand-made: 10 FTE, 20 from period 5, 12 from period 7 (the 20 never arrive)
    est = np.array([10.0] * 5 + [20.0] * 2 + [12.0] * 13)
    in_post, hires, leavers = simulate_skill(est, np.full(20, MONTH), 0.0, 4, 4, 3)
    # growth recruited at step 4 would arrive at period 9; the cut (seen at step 6) cancels
    # 8 of the 10 pending hires, so only 2 arrive, and no one leaves
    np.testing.assert_array_equal(in_post, [10.0] * 9 + [12.0] * 11)
    np.testing.assert_array_equal(hires, [0.0] * 9 + [2.0] + [0.0] * 10)
    assert (leavers == 0).all()


def test_cut_larger_than_pending_hires_dismisses_only_the_rest_after_notice():
    est = np.array([10.0] * 3 + [14.0] + [6.0] * 8)
    in_post, hires, leavers = simulate_skill(est, np.full(12, MONTH), 0.0, 4, 4, 3)
    # step 2 recruits 4 (due at period 7); step 3 sees 6: cancel the 4, give notice to 4
    # (leave at period 3 + 1 + 3 = 7)
    np.testing.assert_array_equal(in_post, [10.0] * 7 + [6.0] * 5)
    assert (hires == 0).all()
    assert leavers.sum() == 4.0 and leavers[6:8].sum() == 4.0


def test_simulate_skill_by_hand_with_attrition():
    # E = 12 FTE, attrition 1.2 a year over 30-day months, replacement 1 month, recruitment 2
    days = np.full(4, 30.0)
    q = 1 - math.exp(-1.2 * 30 / 365)
    in_post, hires, leavers = simulate_skill(np.full(4, 12.0), days, 1.2, 2, 1, 0)
    # month 0: 12 in post, 12q leave, refilled 1 month later (period 0 + 1 + 1 = 2)
    # month 1: 12(1-q) in post, 12(1-q)q leave, refilled at period 3
    # month 2: 12(1-q)^2 + 12q in post; month 3: previous - its leavers + 12(1-q)q
    s0, s1 = 12.0, 12 * (1 - q)
    s2 = s1 * (1 - q) + 12 * q
    s3 = s2 * (1 - q) + s1 * q
    np.testing.assert_allclose(in_post, [s0, s1, s2, s3], rtol=1e-12)
    np.testing.assert_allclose(hires, [0, 0, 12 * q, s1 * q], rtol=1e-12)
    np.testing.assert_allclose(leavers, [s0 * q, s1 * q, s2 * q, s3 * q], rtol=1e-12)


@pytest.mark.parametrize("cut_to", [0.0, 0.5])
def test_attrition_during_notice_reduces_dismissals_and_never_leaves_negative_staff(cut_to):
    """Staff who leave by attrition while colleagues serve notice reduce the excess: nobody
    is recruited to replace them while the area is over establishment, and the dismissals
    at the end of the notice period bring staff in post down to the new establishment,
    never below it (and never below zero)."""
    est = np.array([10.0] * 12 + [10.0 * cut_to] * 18)
    in_post, hires, leavers = simulate_skill(est, np.full(30, MONTH), 0.12, 4, 4, 3)
    assert (in_post >= 0).all() and (leavers >= 0).all(), (in_post, leavers)
    # over establishment from step 11 (when the cut is seen) to step 14: no leaver of those
    # months is replaced (a replacement decided at step k would arrive at k + 1 + 4)
    assert (hires[12:20] == 0).all(), hires
    # the cut is seen at step 11 with notice 3 months: dismissals at period 15
    np.testing.assert_allclose(in_post[15], est[15], atol=1e-12)


def test_area_budget_cut_to_zero_leaves_no_negative_staff_slots_or_spend():
    sc = scenario(run={"years": 2}, staffing={"attrition_per_year": 0.12},
                  funding={"schedule": [{"from_day": 365, "area_budget_gbp": {AVON: 0}}]})
    wf = funding.workforces(sc, areadata.packaged())[AVON]
    assert (wf.establishment[12:] == 0).all()
    assert (wf.in_post >= 0).all(), wf.in_post[12:20]
    assert (wf.spend_gbp >= 0).all() and (wf.hires[12:] == 0).all()
    assert (slot_schedule(sc, wf) >= 0).all()


def test_budget_restored_during_notice_withdraws_the_notices():
    """A cut reversed before its notice runs out should not dismiss staff only to recruit
    their replacements (pending redundancies are withdrawn before anyone is recruited, as
    pending hires are cancelled before anyone is dismissed)."""
    est = np.array([10.0] * 5 + [5.0] + [10.0] * 14)
    in_post, hires, leavers = simulate_skill(est, np.full(20, MONTH), 0.0, 4, 4, 3)
    # establishment is 10 again from period 6; nobody needs to leave or be hired
    assert (in_post == 10.0).all(), in_post
    assert (leavers == 0).all() and (hires == 0).all()


def test_dismissals_reconcile_staff_in_post_with_leavers_and_hires():
    """Flows must add up to the stock: hires arrive at the start of a month and count in its
    staff in post, and leavers leave during a month, so staff in post next month = this
    month's - this month's leavers + next month's hires, for dismissals as for attrition."""
    est = np.array([10.0] * 5 + [4.0] * 7)
    in_post, hires, leavers = simulate_skill(est, np.full(12, MONTH), 0.12, 4, 4, 3)
    np.testing.assert_allclose(in_post[1:], in_post[:-1] - leavers[:-1] + hires[1:],
                               rtol=1e-12)


_paths = st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(est=_paths, attrition=st.sampled_from([0.0, 0.05, 0.12, 0.5, 2.0]),
       recruit=st.integers(0, 6), replace=st.integers(0, 6), notice=st.integers(0, 4))
def test_stock_and_flow_invariants(est, attrition, recruit, replace, notice):
    """Staff, hires and leavers are never negative; flows reconcile with staff in post; staff
    in post exceed the establishment only by those serving notice after a cut."""
    e = np.asarray(est)
    days = np.full(len(e), MONTH)
    in_post, hires, leavers = simulate_skill(e, days, attrition, recruit, replace, notice)
    tol = 1e-9 * (1 + e.max())
    assert (in_post >= -tol).all() and (hires >= -tol).all() and (leavers >= -tol).all()
    if (np.diff(e) >= 0).all():  # no cuts, so nobody is dismissed (dismissals: see above)
        # conservation: next month's staff = this month's - its leavers + next month's hires
        np.testing.assert_allclose(in_post[1:], in_post[:-1] - leavers[:-1] + hires[1:],
                                   atol=tol)
    # staff in post never exceed the establishment, except those serving notice after a cut
    # (at most `notice` months after the establishment they were employed for)
    for k in range(len(e)):
        allowed = e[max(0, k - notice):k + 1].max()
        assert in_post[k] <= allowed + tol, (k, in_post[k], allowed)


def test_period_days_cover_the_horizon():
    days = period_days(2.5 * 365)
    assert len(days) == 30 and days.sum() == pytest.approx(2.5 * 365)
    np.testing.assert_allclose(days, MONTH)
