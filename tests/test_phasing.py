"""Phased commencement of the statutory right: by offence group and by area on different days.

Common random numbers make the central checks exact: every group's referrals are drawn from
streams named by (seed, replication, area, group), so a group or area the right has not reached
sees exactly the status quo's referral stream, and one it has reached sees exactly the stream of
a right commenced for everyone on the same day.
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
from rjsim.funding import allocation
from rjsim.model.demand import FUNNEL, generate

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


def test_before_its_phase_a_group_gets_status_quo_referrals():
    """Months before the sensitive groups' phase: referrals at the status-quo funnel rate
    (the stream is the status quo's in distribution; bit for bit only where no phase splits
    the run, below)."""
    phased = _phased({"commence_day": 365, "groups": GENERAL},
                     {"commence_day": 730, "groups": ["sexual"]})
    victims, reps, months = 40_000.0, 40, 24
    p_id, p_inf, p_want = phased.funnel("sexual")
    expected = victims * months / 12 * p_id * p_inf * p_want
    asked = sum(generate(phased, AVON, "sexual", victims, Streams(12, r)).funnel[
        ASKED, :months].sum() for r in range(reps)) / reps
    assert abs(asked - expected) <= z_bound(math.sqrt(expected / reps))
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
