"""Statistical and unit tests: victims, the referral funnel and the referral stream.

Every tolerance is a 99.99% interval (``conftest.Z``) from a Poisson or binomial standard error,
and each check uses a fixed seed, so the suite is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import AVON, binomial_se, scenario, z_bound
from scipy import stats

from rjsim.core.streams import Streams
from rjsim.model import demand
from rjsim.model.demand import DAYS_PER_PERIOD, FUNNEL, generate, n_periods
from rjsim.scenario import awareness
from rjsim.scenario.spec import DAYS_PER_YEAR

ROW = {name: i for i, name in enumerate(FUNNEL)}


def _expected_per_period(victims_per_year: float, growth: float, horizon: float) -> np.ndarray:
    """Exact expected victims in each period: the integral of the growing rate."""
    edges = np.minimum(np.arange(n_periods(horizon) + 1) * DAYS_PER_PERIOD, horizon)
    edges[-1] = horizon
    rate = victims_per_year / DAYS_PER_YEAR
    if growth == 0:
        return rate * np.diff(edges)
    k = math.log(1 + growth) / DAYS_PER_YEAR
    return rate * np.diff(np.exp(k * edges)) / k


@pytest.mark.parametrize("growth", [0.0, 0.10, -0.20])
def test_eligible_victims_are_poisson_at_the_recorded_rate(growth):
    sc = scenario(demand={"growth_per_year": growth})
    victims = 2_000_000.0  # enough victims to see a rate off by a fortnight's growth
    d = generate(sc, AVON, "violence", victims, Streams(1, 0))
    eligible = d.funnel[ROW["eligible_victims"]]
    expected = _expected_per_period(victims, growth, sc.run.horizon_days)
    assert len(eligible) == len(expected) == 60
    total, mu = eligible.sum(), expected.sum()
    assert abs(total - mu) <= z_bound(math.sqrt(mu))
    # month by month too: a Pearson chi-square over the 60 periods
    chi2 = float(np.sum((eligible - expected) ** 2 / expected))
    assert stats.chi2.sf(chi2, df=len(expected)) > 1e-4


def test_a_horizon_that_ends_mid_month_has_a_short_last_period():
    sc = scenario(run={"years": 1.3})  # 15.6 months
    d = generate(sc, AVON, "violence", 50_000.0, Streams(2, 0))
    expected = _expected_per_period(50_000.0, 0.0, sc.run.horizon_days)
    eligible = d.funnel[ROW["eligible_victims"]]
    assert len(eligible) == n_periods(sc.run.horizon_days) == 16
    assert expected[-1] == pytest.approx(0.6 * expected[0])
    assert abs(eligible[-1] - expected[-1]) <= z_bound(math.sqrt(expected[-1]))
    assert np.all(d.referral_day < sc.run.horizon_days)


def test_funnel_counts_are_internally_consistent():
    sc = scenario(level_one={"diversion_share": 0.3},
                  statutory_right={"commence_day": 700.0, "wants_rj": 0.4},
                  demand={"by_group": {"hate": {"wants_rj": 0.1}}})
    for i, group in enumerate(sc.demand.groups):
        d = generate(sc, AVON, group, 5_000.0 * (i + 1), Streams(3, 0))
        f = {name: d.funnel[row] for name, row in ROW.items()}
        assert np.all(f["offender_identified"] <= f["eligible_victims"])
        assert np.array_equal(f["informed"] + f["uninformed_eligible"] + f["diverted_level_one"],
                              f["offender_identified"])
        assert np.all(f["asked_for_rj"] <= f["informed"])
        assert np.all(d.funnel >= 0)
        # a referral is a victim who asked, minus those whose referral falls past the horizon
        assert 0 < len(d.referral_day) <= f["asked_for_rj"].sum()
        if group not in sc.level_one.groups:
            assert f["diverted_level_one"].sum() == 0


def test_funnel_probabilities_are_applied_in_order():
    sc = scenario(level_one={"diversion_share": 0.25, "groups": ["theft"]})
    d = generate(sc, AVON, "theft", 400_000.0, Streams(4, 0))
    f = {name: int(d.funnel[row].sum()) for name, row in ROW.items()}
    p_id, p_inf, p_want = sc.funnel("theft")
    checks = [
        (f["offender_identified"], f["eligible_victims"], p_id),
        (f["diverted_level_one"], f["offender_identified"], 0.25),
        (f["informed"], f["offender_identified"] - f["diverted_level_one"], p_inf),
        (f["asked_for_rj"], f["informed"], p_want),
    ]
    for successes, trials, p in checks:
        assert abs(successes / trials - p) <= z_bound(binomial_se(p, trials)), (successes, p)


def test_referral_days_are_sorted_and_inside_the_horizon():
    sc = scenario(statutory_right={"commence_day": 400.0})
    d = generate(sc, AVON, "violence", 30_000.0, Streams(5, 0))
    assert len(d.referral_day) > 1000
    assert np.all(np.diff(d.referral_day) >= 0)
    assert d.referral_day.min() >= 0
    assert d.referral_day.max() < sc.run.horizon_days
    assert d.under_right.dtype == bool and len(d.under_right) == len(d.referral_day)
    assert np.all(d.referral_day[d.under_right] >= 400.0)  # offence on/after commencement


def test_no_victims_no_referrals():
    d = generate(scenario(), AVON, "violence", 0.0, Streams(6, 0))
    assert d.funnel.sum() == 0
    assert len(d.referral_day) == 0


def test_no_identified_offenders_no_referrals():
    d = generate(scenario(demand={"offender_identified": 0.0}), AVON, "violence", 30_000.0,
                 Streams(6, 0))
    assert d.funnel[ROW["eligible_victims"]].sum() > 0
    assert d.funnel[ROW["offender_identified"]:].sum() == 0
    assert len(d.referral_day) == 0


def _log_rate_ratio(days: np.ndarray, before: tuple[float, float], after: tuple[float, float]
                    ) -> tuple[float, float]:
    """log(rate after / rate before) and its standard error, from two Poisson window counts."""
    n1 = np.count_nonzero((days >= before[0]) & (days < before[1]))
    n2 = np.count_nonzero((days >= after[0]) & (days < after[1]))
    ratio = (n2 / (after[1] - after[0])) / (n1 / (before[1] - before[0]))
    return math.log(ratio), math.sqrt(1 / n1 + 1 / n2)


@pytest.mark.parametrize("right", [{}, {"wants_rj": 0.5}, {"informed": 0.6}])
def test_a_statutory_right_raises_the_referral_rate_by_the_informed_ratio(right):
    """Windows sit 200 days clear of day 0 and of commencement, so referral delays (status quo
    median 14 days) cannot carry offences across them (P(delay > 200) < 0.1%)."""
    commence = 900.0
    sc = scenario(statutory_right={"commence_day": commence, **right})
    d = generate(sc, AVON, "violence", 200_000.0, Streams(7, 0))
    r = sc.statutory_right
    _, p_inf, p_want = sc.funnel("violence")
    want_after = p_want if r.wants_rj is None else r.wants_rj
    expected = (r.informed * want_after) / (p_inf * p_want)
    log_ratio, se = _log_rate_ratio(d.referral_day, (200.0, commence),
                                    (commence + 200.0, sc.run.horizon_days))
    assert abs(log_ratio - math.log(expected)) <= z_bound(se)
    late = d.referral_day >= commence + 200.0
    assert d.under_right[late].mean() > 0.999
    assert not d.under_right[d.referral_day < commence].any()


def test_without_a_right_the_referral_rate_is_flat():
    sc = scenario()
    d = generate(sc, AVON, "violence", 200_000.0, Streams(8, 0))
    log_ratio, se = _log_rate_ratio(d.referral_day, (200.0, 900.0), (1100.0, 1800.0))
    assert abs(log_ratio) <= z_bound(se)
    assert not d.under_right.any()


def test_level_one_diversion_reduces_referrals_of_its_groups_only():
    base = scenario()
    diverting = scenario(level_one={"diversion_share": 0.4, "groups": ["theft"]})
    victims = 300_000.0
    theft = generate(diverting, AVON, "theft", victims, Streams(9, 0))
    theft_before = generate(base, AVON, "theft", victims, Streams(9, 0))
    p_id, p_inf, p_want = diverting.funnel("theft")
    mu = victims * diverting.run.years * p_id * (1 - 0.4) * p_inf * p_want
    asked = theft.funnel[ROW["asked_for_rj"]].sum()
    assert abs(asked - mu) <= z_bound(math.sqrt(mu))
    assert len(theft.referral_day) < len(theft_before.referral_day)
    # the victims themselves are unchanged: only who is referred
    assert np.array_equal(theft.funnel[ROW["eligible_victims"]],
                          theft_before.funnel[ROW["eligible_victims"]])
    # groups police may not divert see exactly the same stream
    violence = generate(diverting, AVON, "violence", victims, Streams(9, 0))
    violence_before = generate(base, AVON, "violence", victims, Streams(9, 0))
    assert np.array_equal(violence.referral_day, violence_before.referral_day)
    assert np.array_equal(violence.funnel, violence_before.funnel)


def test_period_of_and_n_periods():
    assert n_periods(365.0) == 12
    assert n_periods(5 * 365.0) == 60
    assert n_periods(DAYS_PER_PERIOD * 3 + 1e-12) == 3  # float noise does not add a period
    assert n_periods(DAYS_PER_PERIOD * 3 + 1.0) == 4
    days = np.array([0.0, DAYS_PER_PERIOD - 1e-9, DAYS_PER_PERIOD, 364.9])
    assert demand.period_of(days).tolist() == [0, 0, 1, 11]


@pytest.mark.parametrize("ramp_days", [0.0, 120.0])
def test_the_month_a_right_commences_in_mixes_both_funnels_by_its_share_of_the_month(ramp_days):
    """Commencement half-way through month 6: the month's informed and askers are the status
    quo's over its first half and the right's (ramping, or not) over its second, and the askers'
    offence times fall on the right side of commencement in those proportions."""
    month, share_before = 6, 0.5
    start, end = month * DAYS_PER_PERIOD, (month + 1) * DAYS_PER_PERIOD
    day = start + share_before * DAYS_PER_PERIOD
    sc = scenario(run={"years": 2}, demand={"informed": 0.3},
                  statutory_right={"commence_day": day, "informed": 0.9, "wants_rj": 0.6,
                                   "ramp_days": ramp_days})
    victims, reps = 100_000.0, 20
    p_id, p_inf, p_want = sc.funnel("violence")
    right = sc.statutory_right
    after = (right.informed if ramp_days == 0 else float(awareness.mean_informed(
        p_inf, right.informed, ramp_days, right.ramp_curve, np.array(0.0),
        np.array(end - day))))
    identified = victims / DAYS_PER_YEAR * p_id * (end - start)
    expected = {  # per replication: Poisson means (a thinned Poisson process)
        "informed": identified * (share_before * p_inf + (1 - share_before) * after),
        "asked_before": identified * share_before * p_inf * p_want,
        "asked_after": identified * (1 - share_before) * after * 0.6,
    }
    seen = dict.fromkeys(expected, 0.0)
    for r in range(reps):
        d = generate(sc, AVON, "violence", victims, Streams(10, r))
        seen["informed"] += d.funnel[ROW["informed"], month] / reps
        in_month = (d.offence_day >= start) & (d.offence_day < end)
        seen["asked_before"] += np.count_nonzero(in_month & (d.offence_day < day)) / reps
        seen["asked_after"] += np.count_nonzero(in_month & (d.offence_day >= day)) / reps
        assert np.array_equal(d.under_right, d.offence_day >= day)
    for key, mu in expected.items():
        assert abs(seen[key] - mu) <= z_bound(math.sqrt(mu / reps)), (key, seen[key], mu)
