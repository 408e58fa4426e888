"""The awareness ramp: the share of victims told about RJ rising after commencement.

The curves are checked against numerical quadrature; the referral stream against the expected
referrals of each month, computed here independently of the model (the integral of the share
informed over the month, by quadrature), with tolerances from the Poisson counts' standard
errors (a thinned Poisson process has Poisson monthly counts) and a fixed seed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import AVON, scenario, z_bound
from scipy import integrate, special, stats

from rjsim.analysis import capacity_metrics
from rjsim.core.errors import ScenarioError
from rjsim.core.streams import Streams
from rjsim.model.demand import DAYS_PER_PERIOD, FUNNEL, generate
from rjsim.scenario import awareness
from rjsim.scenario.spec import DAYS_PER_YEAR

VICTIMS = 40_000.0
COMMENCE, RAMP = 365.0, 365.0
ROW = {name: i for i, name in enumerate(FUNNEL)}


@pytest.mark.parametrize("curve", ["linear", "logistic"])
def test_curves_rise_from_nothing_to_everything_monotonically(curve):
    x = np.linspace(-0.5, 1.5, 401)
    y = awareness.reached(curve, x)
    assert y[x <= 0].max() == 0.0 and y[x >= 1].min() == 1.0
    assert np.all(np.diff(y) >= 0)
    assert float(awareness.reached(curve, 0.5)) == pytest.approx(0.5)


@pytest.mark.parametrize("curve", ["linear", "logistic"])
@pytest.mark.parametrize(("x0", "x1"), [(-1.0, -0.2), (-0.5, 0.3), (0.0, 1.0), (0.2, 0.21),
                                        (0.37, 0.93), (0.9, 1.6), (1.2, 3.0)])
def test_interval_means_match_quadrature(curve, x0, x1):
    quad = integrate.quad(lambda x: float(awareness.reached(curve, x)), x0, x1,
                          points=[0.0, 1.0] if x0 < 0 < 1 < x1 else None)[0] / (x1 - x0)
    got = float(awareness.mean_reached(curve, np.array(x0), np.array(x1)))
    assert got == pytest.approx(quad, abs=1e-9)


def _share(curve: str, before: float, after: float, day: float) -> float:
    """The share informed on ``day``, written out here from the documented curves."""
    x = min(max((day - COMMENCE) / RAMP, 0.0), 1.0)
    if day < COMMENCE:
        return before
    if curve == "logistic":
        k = awareness.LOGISTIC_STEEPNESS
        low, high = special.expit(-k / 2), special.expit(k / 2)
        x = (special.expit(k * (x - 0.5)) - low) / (high - low)
    return before + (after - before) * x


def _expected_by_month(sc, curve: str, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Expected victims informed and referrals asked for, per offence month."""
    p_id, before, wants = sc.funnel("violence")
    after = sc.statutory_right.informed
    edges = np.minimum(np.arange(round(horizon / DAYS_PER_PERIOD) + 1) * DAYS_PER_PERIOD,
                       horizon)
    told = np.array([integrate.quad(lambda t: _share(curve, before, after, t), a, b,
                                    points=[COMMENCE, COMMENCE + RAMP] if a < COMMENCE + RAMP
                                    and b > COMMENCE else None)[0]
                     for a, b in itertools.pairwise(edges)])
    informed = VICTIMS / DAYS_PER_YEAR * p_id * told
    return informed, informed * wants


def _monthly_means(sc, reps: int) -> tuple[np.ndarray, np.ndarray]:
    runs = [generate(sc, AVON, "violence", VICTIMS, Streams(21, r)) for r in range(reps)]
    informed = np.mean([d.funnel[ROW["informed"]] for d in runs], axis=0)
    asked = np.mean([d.funnel[ROW["asked_for_rj"]] for d in runs], axis=0)
    return informed, asked


def _chi2_p(observed_mean: np.ndarray, expected: np.ndarray, reps: int) -> float:
    """P-value of the months' counts (sums of ``reps`` Poisson counts) against ``expected``."""
    chi2 = float(np.sum(reps * (observed_mean - expected) ** 2 / expected))
    return float(stats.chi2.sf(chi2, df=len(expected)))


@pytest.mark.parametrize(("curve", "target"), [("linear", 0.95), ("logistic", 0.95),
                                               ("linear", 0.10)])
def test_a_ramp_gives_the_expected_referrals_month_by_month(curve, target):
    reps = 30
    sc = scenario(run={"years": 3}, statutory_right={
        "commence_day": COMMENCE, "ramp_days": RAMP, "ramp_curve": curve, "informed": target})
    informed, asked = _monthly_means(sc, reps)
    exp_informed, exp_asked = _expected_by_month(sc, curve, sc.run.horizon_days)
    for observed, expected in ((informed, exp_informed), (asked, exp_asked)):
        assert abs(observed.sum() - expected.sum()) <= z_bound(math.sqrt(expected.sum() / reps))
        assert np.all(np.abs(observed - expected) <= z_bound(np.sqrt(expected / reps)))
        assert _chi2_p(observed, expected, reps) > 1e-4
    # the check has power: the same draws are far from a jump at commencement
    jump = scenario(run={"years": 3}, statutory_right={"commence_day": COMMENCE,
                                                        "informed": target})
    _, jump_asked = _expected_by_month(jump, "linear", sc.run.horizon_days)
    jump_asked[12:] = exp_asked[-1]  # full awareness from commencement
    assert _chi2_p(asked, jump_asked, reps) < 1e-12


def test_no_ramp_is_the_jump_bit_for_bit():
    jump = scenario(run={"years": 3}, statutory_right={"commence_day": COMMENCE})
    zero = scenario(run={"years": 3}, statutory_right={"commence_day": COMMENCE,
                                                        "ramp_days": 0, "ramp_curve": "logistic"})
    a = generate(jump, AVON, "violence", VICTIMS, Streams(3, 0))
    b = generate(zero, AVON, "violence", VICTIMS, Streams(3, 0))
    assert np.array_equal(a.referral_day, b.referral_day) and np.array_equal(a.funnel, b.funnel)


def test_each_phase_ramps_from_its_own_commencement():
    ramp = {"ramp_days": RAMP, "ramp_curve": "logistic"}
    phased = scenario(run={"years": 3}, statutory_right={**ramp, "phase": [
        {"commence_day": 200, "groups": ["violence"]}, {"commence_day": 500}]})
    for group, day in (("violence", 200), ("sexual", 500)):
        alone = scenario(run={"years": 3}, statutory_right={**ramp, "commence_day": day})
        a = generate(phased, AVON, group, VICTIMS, Streams(4, 1))
        b = generate(alone, AVON, group, VICTIMS, Streams(4, 1))
        assert np.array_equal(a.referral_day, b.referral_day)
        assert np.array_equal(a.funnel, b.funnel)


def test_the_capacity_test_assesses_once_awareness_has_ramped_up():
    sc = scenario(statutory_right={"commence_day": 365, "ramp_days": 400})
    assert capacity_metrics.window(sc)[0] == 365 + 400 + sc.capacity_test.settle_days
    assert capacity_metrics.window_problem(sc) is None
    late = scenario(run={"years": 2}, statutory_right={"commence_day": 365, "ramp_days": 300})
    problem = capacity_metrics.window_problem(late)
    assert problem is not None and "statutory_right.ramp_days" in problem


@pytest.mark.parametrize(("right", "needle"), [
    ({"ramp_curve": "sigmoid"}, "statutory_right.ramp_curve"),
    ({"ramp_days": -30}, "statutory_right.ramp_days"),
    ({"ramp_days": 5000}, "statutory_right.ramp_days"),
])
def test_bad_ramps_are_refused(right, needle):
    with pytest.raises(ScenarioError, match=needle.replace(".", r"\.")):
        scenario(statutory_right={"commence_day": 365, **right})
