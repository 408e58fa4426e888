"""Phased commencement of the statutory right: by offence group and by area on different days.

Common random numbers make the central checks exact, not statistical: every group's demand is
drawn from streams named by (seed, replication, area, group) and funnel stage. The victims,
offenders identified and level-one diversions of each month come from streams no right touches,
and everything the status quo draws for offences before commencement is a prefix of its own
streams; the right's draws after commencement come from streams of their own. So on the same seed
a group or area the right has not reached sees exactly the status quo's demand, and one it has
reached sees exactly the status quo's referrals for every offence before its commencement (on or
off a month edge, with or without a ramp) and exactly the stream of a right commenced for
everyone on the same day.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from clitools import assert_clean_error, rjsim
from conftest import AVON, scenario, z_bound

from rjsim.analysis import capacity_metrics
from rjsim.core.errors import ScenarioError
from rjsim.core.streams import Streams
from rjsim.data.areas import AreaTable
from rjsim.experiment import runner
from rjsim.experiment.comparison import compare
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.funding import allocation
from rjsim.model.demand import DAYS_PER_PERIOD, FUNNEL, generate

KENT = "E23000032"
GENERAL = ["violence", "robbery", "burglary", "vehicle", "theft", "criminal_damage"]
SHORT = {"run": {"years": 3}}
ASKED = FUNNEL.index("asked_for_rj")


def _phased(*phases: dict[str, object]) -> object:
    return scenario(**SHORT, statutory_right={"phase": list(phases)})


def _same(a: object, b: object) -> bool:
    """Two group demands drawn identically: referral days, flags and funnel counts."""
    return (np.array_equal(a.referral_day, b.referral_day)  # type: ignore[attr-defined]
            and np.array_equal(a.under_right, b.under_right)  # type: ignore[attr-defined]
            and np.array_equal(a.offence_day, b.offence_day)  # type: ignore[attr-defined]
            and np.array_equal(a.funnel, b.funnel))  # type: ignore[attr-defined]


def _draw(sc: object, group: str, code: str = AVON, name: str = "Avon and Somerset",
          rep: int = 0) -> object:
    return generate(sc, code, group, 40_000.0, Streams(11, rep), area_name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize("rep", [0, 1, 2])
def test_each_group_sees_the_demand_of_its_own_commencement_on_the_same_seeds(rep):
    phased = _phased({"commence_day": 365, "groups": GENERAL},
                     {"commence_day": 730, "groups": ["sexual", "domestic_abuse", "hate"]})
    everyone_at = {day: scenario(**SHORT, statutory_right={"commence_day": day})
                   for day in (365, 730)}
    for group in ("violence", "theft"):
        d = _draw(phased, group, rep=rep)
        assert _same(d, _draw(everyone_at[365], group, rep=rep))
        assert not _same(d, _draw(everyone_at[730], group, rep=rep))
    for group in ("sexual", "hate"):
        d = _draw(phased, group, rep=rep)
        assert _same(d, _draw(everyone_at[730], group, rep=rep))
        assert not d.under_right[d.referral_day < 730].any()


# Rights that differ from the status quo in every way a right can; on the same seeds each must
# leave every draw that does not depend on the right exactly as the status quo's.
LEVEL_ONE = {"diversion_share": 0.2, "groups": ["theft"]}  # so the diverted row is not all 0
RIGHTS: dict[str, dict[str, object]] = {
    # general groups on a month edge; sexual offences in Avon only, inside a month (day 548)
    "phased": {"phase": [{"commence_day": 365, "groups": GENERAL},
                         {"commence_date": "2026-10-01", "groups": ["sexual"],
                          "areas": ["Avon and Somerset"]}]},
    # day 183, inside month 6, with its own informed, wants_rj and referral delay
    "off_month_edge": {"commence_date": "2025-10-01", "informed": 0.8, "wants_rj": 0.7,
                       "referral_delay": {"kind": "gamma", "mean": 3, "cv": 0.5}},
    "month_edge": {"commence_day": 365},
    "ramped": {"commence_day": 200, "ramp_days": 240, "ramp_curve": "logistic"},
}
ELIGIBLE_TO_DIVERTED = slice(0, FUNNEL.index("diverted_level_one") + 1)


def _with_right(name: str | None) -> object:
    right = {} if name is None else {"statutory_right": RIGHTS[name]}
    # today's informed share of 0.3 (not the calibrated 0.0174): enough referrals to compare
    return scenario(**SHORT, level_one=LEVEL_ONE, demand={"informed": 0.3}, **right)


@pytest.mark.parametrize("right", sorted(RIGHTS))
@pytest.mark.parametrize("group", ["theft", "sexual"])
def test_victims_identified_and_diverted_are_the_status_quo_s_in_every_month(right, group):
    sc, status_quo = _with_right(right), _with_right(None)
    for rep in (0, 1):
        a, b = _draw(sc, group, rep=rep), _draw(status_quo, group, rep=rep)
        assert np.array_equal(a.funnel[ELIGIBLE_TO_DIVERTED],  # type: ignore[attr-defined]
                              b.funnel[ELIGIBLE_TO_DIVERTED])  # type: ignore[attr-defined]
        # the right did change who is informed and asks (the check is not vacuous)
        assert not np.array_equal(a.funnel, b.funnel)  # type: ignore[attr-defined]
    if group == "theft":
        assert a.funnel[FUNNEL.index("diverted_level_one")].sum() > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("right", sorted(RIGHTS))
@pytest.mark.parametrize("group", ["theft", "sexual"])
def test_every_referral_of_an_offence_before_commencement_is_the_status_quo_s(right, group):
    sc, status_quo = _with_right(right), _with_right(None)
    day = sc.right_commences(group, AVON, "Avon and Somerset")  # type: ignore[attr-defined]
    assert day is not None and day > 100
    month = int(day // DAYS_PER_PERIOD)  # months wholly before commencement: [0, month)
    for rep in (0, 1):
        a, b = _draw(sc, group, rep=rep), _draw(status_quo, group, rep=rep)
        before_a, before_b = a.offence_day < day, b.offence_day < day  # type: ignore[attr-defined]
        assert before_a.sum() > 50
        for field in ("referral_day", "under_right", "offence_day"):
            assert np.array_equal(getattr(a, field)[before_a], getattr(b, field)[before_b]), field
        assert np.array_equal(a.under_right, ~before_a)  # type: ignore[attr-defined]
        assert a.under_right.any()  # type: ignore[attr-defined]
        # every funnel row of every month wholly before commencement
        assert np.array_equal(a.funnel[:, :month], b.funnel[:, :month])  # type: ignore[attr-defined]


def test_the_paired_difference_in_eligible_victims_is_exactly_zero():
    """Through ``compare``: the status quo against a right commenced inside a month."""
    areas = {"include": ["Cumbria", "Gwent"]}
    status_quo = scenario(name="status_quo", run={"years": 1}, areas=areas)
    right = scenario(name="right", run={"years": 1}, areas=areas,
                     statutory_right={"commence_date": "2025-10-01", "ramp_days": 90})
    c = compare([status_quo, right], ExperimentSettings(
        replications=3, executor=ExecutorSettings("local", 1)))
    per_rep = [e.per_replication["national_summary"] for e in c.experiments]
    assert per_rep[0]["eligible_victims"].nunique() > 1  # common, not constant
    assert np.array_equal(per_rep[0]["eligible_victims"], per_rep[1]["eligible_victims"])
    assert not np.array_equal(per_rep[0]["referrals"], per_rep[1]["referrals"])
    d = c.differences.set_index(["level", "area", "kpi"])
    row = d.loc[("national", "all", "eligible_victims")]
    assert row["difference"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0
    areas_rows = c.differences[(c.differences["level"] == "area")
                               & (c.differences["kpi"] == "eligible_victims")]
    assert len(areas_rows) == 2 and (areas_rows["difference"] == 0).all()


def test_after_its_phase_a_group_gets_the_right_s_referral_rate():
    """The months after the sensitive group's phase: referrals at the right's funnel rate."""
    phased = _phased({"commence_day": 365, "groups": GENERAL},
                     {"commence_day": 730, "groups": ["sexual"]})
    victims, reps, months = 40_000.0, 40, 24
    p_id, _, p_want = phased.funnel("sexual")
    after = sum(generate(phased, AVON, "sexual", victims, Streams(12, r)).funnel[
        ASKED, months:].sum() for r in range(reps)) / reps
    right = victims * 12 / 12 * p_id * phased.statutory_right.informed * p_want
    assert abs(after - right) <= z_bound(math.sqrt(right / reps))


def test_a_group_no_phase_names_keeps_the_status_quo_throughout():
    phased = _phased({"commence_day": 365, "groups": GENERAL})
    status_quo = scenario(**SHORT)
    for group in ("sexual", "domestic_abuse", "hate"):
        assert _same(_draw(phased, group), _draw(status_quo, group))
        assert phased.right_commences(group, AVON) is None
    # nor an area no phase names, with its neighbour commenced inside a month
    pilot = scenario(**SHORT, statutory_right={"phase": [{"commence_date": "2025-10-01",
                                                          "areas": [AVON]}]})
    for group in ("violence", "sexual"):
        assert _same(_draw(pilot, group, KENT, "Kent"), _draw(status_quo, group, KENT, "Kent"))


def test_pilot_areas_commence_first_named_by_code_or_name():
    phased = _phased({"commence_day": 200, "areas": ["avon and somerset"]},
                     {"commence_day": 600, "areas": [KENT]})
    at = {day: scenario(**SHORT, statutory_right={"commence_day": day}) for day in (200, 600)}
    assert _same(_draw(phased, "violence"), _draw(at[200], "violence"))
    assert _same(_draw(phased, "violence", KENT, "Kent"), _draw(at[600], "violence", KENT, "Kent"))
    surrey = ("E23000035", "Surrey")
    assert _same(_draw(phased, "violence", *surrey), _draw(scenario(**SHORT), "violence", *surrey))


def test_the_earliest_phase_naming_a_group_and_area_wins():
    phased = _phased({"commence_day": 100, "areas": [AVON]},
                     {"commence_day": 500, "groups": GENERAL},
                     {"commence_day": 800})
    assert phased.right_commences("violence", AVON) == 100
    assert phased.right_commences("sexual", AVON) == 100
    assert phased.right_commences("violence", KENT, "Kent") == 500
    assert phased.right_commences("sexual", KENT, "Kent") == 800
    assert phased.phase_days == (100.0, 500.0, 800.0)
    # the right is in force everywhere from the last phase: the capacity test assesses from then
    assert phased.commence_day == 800
    start, _ = capacity_metrics.window(phased)
    assert start == 800 + phased.capacity_test.settle_days


def test_the_simple_form_is_one_phase_for_everyone():
    simple = scenario(**SHORT, statutory_right={"commence_date": "2026-04-01"})
    one = _phased({"commence_date": "2026-04-01"})
    assert simple.phase_days == one.phase_days == (365.0,)
    for group in ("violence", "sexual"):
        assert _same(_draw(simple, group), _draw(one, group))
        assert simple.right_commences(group, AVON) == 365.0
    assert scenario().phase_days == ()
    assert scenario().right_commences("violence", AVON) is None


def test_needs_based_weights_use_the_right_only_where_it_commences(table: AreaTable, avon):
    kent = table.select((KENT,), "test")[0]
    general = _phased({"commence_day": 365, "groups": GENERAL, "areas": ["Kent"]})
    everyone = scenario(**SHORT, statutory_right={"commence_day": 365})
    none = scenario(**SHORT)
    mixed = allocation.expected_referrals_by_group(general, kent)
    full = allocation.expected_referrals_by_group(everyone, kent)
    sq = allocation.expected_referrals_by_group(none, kent)
    assert mixed["violence"] == pytest.approx(full["violence"])
    assert mixed["sexual"] == pytest.approx(sq["sexual"]) != pytest.approx(full["sexual"])
    assert allocation.expected_referrals(general, avon) == pytest.approx(
        allocation.expected_referrals(none, avon))


# --- validation ------------------------------------------------------------------------------

def _problems(**right: object) -> str:
    with pytest.raises(ScenarioError) as excinfo:
        scenario(**SHORT, statutory_right=right)
    return str(excinfo.value)


def test_a_phase_naming_an_unknown_group_is_refused_with_a_suggestion():
    text = _problems(phase=[{"commence_day": 365, "groups": ["violence", "sexul"]}])
    assert "statutory_right.phase[0].groups" in text
    assert "unknown offence group 'sexul'" in text and "did you mean 'sexual'" in text


def test_a_phase_naming_an_unknown_area_is_refused_with_a_suggestion():
    sc = _phased({"commence_day": 365, "areas": ["Avon and Somerset"]},
                 {"commence_day": 700, "areas": ["Kentt", "E23000099"]})
    with pytest.raises(ScenarioError) as excinfo:
        runner.task_plan(sc)
    text = str(excinfo.value)
    assert "statutory_right.phase[1].areas" in text
    assert "unknown area 'Kentt'" in text and "did you mean 'Kent'" in text
    assert "unknown area 'E23000099'" in text
    assert "phase[0]" not in text


@pytest.mark.parametrize(("right", "needle"), [
    ({"commence_day": 365, "phase": [{"commence_day": 400}]}, "not both"),
    ({"phase": [{"groups": ["theft"]}]}, "exactly one of commence_day and commence_date"),
    ({"phase": [{"commence_day": 10, "commence_date": "2026-04-01"}]}, "exactly one of"),
    ({"phase": [{"commence_day": 10}, {"commence_day": 5000}]}, "statutory_right.phase[1]"),
    ({"phase": [{"commence_date": "2024-01-01"}]}, "must fall inside the run"),
    ({"phase": [{"commence_date": "April 2026"}]}, "must be a date YYYY-MM-DD"),
    ({"phase": [{"commence_day": 10, "regions": ["London"]}]}, "unknown key 'regions'"),
])
def test_bad_phasing_is_refused(right, needle):
    assert needle in _problems(**right)


def test_phasing_keeps_the_level_one_rule_for_domestic_abuse():
    with pytest.raises(ScenarioError) as excinfo:
        scenario(**SHORT, level_one={"diversion_share": 0.1,
                                     "groups": ["theft", "domestic_abuse"]},
                 statutory_right={"phase": [{"commence_day": 365, "groups": ["theft"]},
                                            {"commence_day": 730,
                                             "groups": ["domestic_abuse", "robery"]}]})
    text = str(excinfo.value)
    assert "must not be used for domestic abuse" in text  # both problems, reported together
    assert "unknown offence group 'robery'" in text


def test_validate_refuses_an_unknown_phase_area_cleanly(tmp_path: Path):
    (tmp_path / "phased.toml").write_text(
        'name = "phased"\n[statutory_right]\n[[statutory_right.phase]]\ncommence_day = 365\n'
        'areas = ["Avon and Somerset", "Nothumbria"]\n', encoding="utf-8")
    assert_clean_error(rjsim("validate", "phased.toml", cwd=tmp_path),
                       "statutory_right.phase[0].areas", "did you mean 'Northumbria'")


class _Results:
    """The one method of a results directory the report's commencement line reads."""

    def __init__(self, right: dict[str, object]) -> None:
        self.right = right

    def setting(self, dotted: str, default: object = None) -> object:
        assert dotted == "statutory_right"
        return self.right


@pytest.mark.parametrize(("right", "text"), [
    ({}, "not commenced"),
    ({"commence_day": 365.0}, "commenced on day 365"),
    ({"commence_date": "2026-04-01"}, "commenced on 2026-04-01"),
    ({"phase": [{"label": "pilot", "commence_day": 365.0, "areas": ["Kent"], "groups": []},
                {"commence_date": "2027-04-01", "groups": ["sexual", "hate"], "areas": []}]},
     "commenced in 2 phases: pilot on day 365 (every group in Kent); 2 on 2027-04-01 (sexual, "
     "hate in every area)"),
])
def test_the_report_says_when_each_phase_commences(right, text):
    from rjsim.report.sections import _commencement
    assert _commencement(_Results(right)) == text  # type: ignore[arg-type]
