"""Unit and statistical tests: each allocated referral's path (exits, mode, days, hours).

Simulated shares are compared with :func:`rjsim.model.expected_path.expected` using binomial
standard errors
and simulated means using the sample standard error, at the suite's 99.99% level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import AVON, binomial_se, scenario, z_bound

from rjsim.core.codes import Mode, Outcome
from rjsim.core.streams import Streams
from rjsim.data import targets
from rjsim.data.areas import packaged
from rjsim.funding.allocation import expected_referrals_by_group
from rjsim.model import casepath
from rjsim.model.casepath import draw
from rjsim.scenario import expected as expected_path
from rjsim.scenario.expected import caseload_per_fte, expected
from rjsim.scenario.spec import DAYS_PER_YEAR

N = 40_000


def _share_close(hits: np.ndarray, p: float) -> None:
    n = len(hits)
    share = float(np.mean(hits))
    assert abs(share - p) <= z_bound(binomial_se(p, n)), (share, p)


def _mean_close(values: np.ndarray, mu: float) -> None:
    se = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    assert abs(float(np.mean(values)) - mu) <= z_bound(se), (float(np.mean(values)), mu)


@pytest.mark.parametrize("group", ["violence", "domestic_abuse", "sexual"])
def test_share_reaching_each_stage_matches_expected(group):
    sc = scenario()
    paths = draw(sc, group, N, Streams(1, 0), AVON)
    e = expected(sc, group)
    _share_close(paths.outcome == Outcome.COMPLETED, e.p_intervention)
    _share_close(~np.isnan(paths.stage_end[:, 1]), e.p_preparation)
    _share_close(~np.isnan(paths.stage_end[:, 2]), e.p_intervention)


def test_defaults_send_about_27_percent_of_victims_referred_to_an_intervention():
    """MODEL.md section 4: Hampshire's 8% direct and 19% indirect RJ are of referrals before the
    victim is asked (the model's informed victims), so the share asking times the share of
    askers reaching an intervention must lie in the sum of the two published ranges."""
    by_id = {t.id: t for t in targets.packaged()}
    direct, indirect = (by_id[f"hampshire_{k}_of_referrals"] for k in ("direct", "indirect"))
    low = direct.interval[0] + indirect.interval[0]
    high = direct.interval[1] + indirect.interval[1]
    sc = scenario()
    for group in ("violence", "theft", "burglary"):
        p = sc.funnel(group)[2] * expected(sc, group).p_intervention
        assert low <= p <= high, (group, p, low, high)


def test_exits_are_applied_in_sequence():
    sc = scenario()
    ex = sc.exits
    outcome = draw(sc, "theft", N, Streams(2, 0), AVON).outcome
    stay = 1 - ex.victim_withdraws
    probabilities = {
        Outcome.VICTIM_WITHDREW: ex.victim_withdraws,
        Outcome.OFFENDER_DECLINED: stay * ex.offender_declines,
        Outcome.UNSUITABLE: stay * (1 - ex.offender_declines) * ex.unsuitable,
        Outcome.WITHDREW_PREPARATION: stay * (1 - ex.offender_declines) * (1 - ex.unsuitable)
        * ex.preparation_withdraws,
    }
    probabilities[Outcome.COMPLETED] = 1 - sum(probabilities.values())
    for code, p in probabilities.items():
        _share_close(outcome == code, p)
    assert set(np.unique(outcome)) == set(probabilities)


def test_mode_shares_among_interventions():
    sc = scenario(interventions={"direct_share": 0.3, "video_share_of_direct": 0.4})
    paths = draw(sc, "violence", N, Streams(3, 0), AVON)
    done = paths.outcome == Outcome.COMPLETED
    mode = paths.mode[done]
    _share_close(mode != Mode.INDIRECT, 0.3)
    direct = mode[mode != Mode.INDIRECT]
    _share_close(direct == Mode.DIRECT_VIDEO, 0.4)
    assert np.all(paths.mode[~done] == Mode.NONE)
    assert np.all(paths.mode[done] != Mode.NONE)


@pytest.mark.parametrize("group", ["violence", "domestic_abuse"])
@pytest.mark.parametrize("video", [0.0, 0.5])
def test_service_days_and_hours_match_expected(group, video):
    sc = scenario(interventions={"video_share_of_direct": video})
    paths = draw(sc, group, N, Streams(4, 0), AVON)
    e = expected(sc, group)
    _mean_close(paths.service_days, e.service_days)
    _mean_close(paths.stage_hours.sum(axis=1), e.facilitator_hours)


def test_stage_ends_accumulate_and_unreached_stages_cost_nothing():
    sc = scenario()
    paths = draw(sc, "violence", 5_000, Streams(5, 0), AVON)
    end, hours = paths.stage_end, paths.stage_hours
    reached = ~np.isnan(end)
    assert reached[:, 0].all()
    # a stage is reached only if every earlier stage was
    assert np.all(reached[:, 1:] <= reached[:, :-1])
    assert np.all(hours[~reached] == 0)
    assert np.all(hours[:, 0] == sc.stages.assessment.effort_hours)
    assert np.all(_stage_days(paths)[reached] > 0)
    assert np.all(end[:, 0] > 0)
    assert np.array_equal(paths.service_days, np.nanmax(end, axis=1))


def test_conference_hours_count_every_facilitator():
    sc = scenario(interventions={"facilitators_per_direct_conference": 3})
    hours = expected_path.mode_hours(sc)
    assert hours[Mode.DIRECT_CONFERENCE] == 3 * sc.stages.direct_conference.effort_hours
    assert hours[Mode.INDIRECT] == sc.stages.indirect.effort_hours
    paths = draw(sc, "violence", 5_000, Streams(6, 0), AVON)
    conference = paths.mode == Mode.DIRECT_CONFERENCE
    assert conference.any()
    assert np.all(paths.stage_hours[conference, 2] == 24.0)


def _stage_days(paths: casepath.CasePaths) -> np.ndarray:
    """Each stage's own duration (nan where not reached), undoing the cumulative ends."""
    end = paths.stage_end
    before = np.concatenate([np.zeros((len(end), 1)), end[:, :-1]], axis=1)
    return end - before


def test_mode_split_does_not_shift_other_draws():
    """Common random numbers: changing the direct share changes modes, nothing else."""
    a = draw(scenario(interventions={"direct_share": 0.1}), "violence", 5_000, Streams(7, 0),
             AVON)
    b = draw(scenario(interventions={"direct_share": 0.6}), "violence", 5_000, Streams(7, 0),
             AVON)
    assert np.array_equal(a.outcome, b.outcome)
    da, db = _stage_days(a), _stage_days(b)
    for stage in (0, 1, 3):
        assert np.allclose(da[:, stage], db[:, stage], rtol=1e-12, atol=1e-9, equal_nan=True)
    same_mode = a.mode == b.mode
    assert np.array_equal(a.stage_end[same_mode], b.stage_end[same_mode], equal_nan=True)
    assert not same_mode.all()


def test_zero_cases():
    paths = draw(scenario(), "violence", 0, Streams(8, 0), AVON)
    assert paths.outcome.shape == (0,) and paths.stage_end.shape == (0, 4)


def test_defaults_give_15_to_25_interventions_per_fte_a_year():
    """MODEL.md section 4: a paid FTE completes roughly 15-25 interventions a year. That is a
    measured rate, of services that are not always busy (the back-cast's
    interventions_per_paid_fte, checked in test_credibility); the full-load capacity computed
    here on the national mix of cases (a slot serves every group in proportion to its
    referrals) must reach it at the utilisation of a service without queues (85%-100%)."""
    sc = scenario()
    caseload = caseload_per_fte(sc)
    referrals: dict[str, float] = {g: 0.0 for g in sc.demand.groups}
    for area in packaged().areas:
        for g, v in expected_referrals_by_group(sc, area).items():
            referrals[g] += v
    e = {g: expected(sc, g) for g in sc.demand.groups}
    interventions = sum(w * e[g].p_intervention for g, w in referrals.items())
    slot_days = sum(w * e[g].service_days for g, w in referrals.items())
    full_load = caseload * DAYS_PER_YEAR * interventions / slot_days
    assert 0.85 * full_load >= 15 and full_load <= 25 / 0.85, full_load


def test_caseload_is_productive_hours_times_days_over_hours():
    sc = scenario()
    e = expected(sc, "violence")
    assert caseload_per_fte(sc) == pytest.approx(
        sc.service.productive_hours_per_fte_day * e.service_days / e.facilitator_hours)
    # twice the productive hours, twice the caseload
    doubled = scenario(service={"productive_hours_per_fte_day": 5.6})
    assert caseload_per_fte(doubled) == pytest.approx(2 * caseload_per_fte(sc))


def test_explicit_caseload_wins():
    assert caseload_per_fte(scenario(service={"caseload_per_fte": 12.0})) == 12.0
