"""Functional and extreme-value tests of one area's simulation
(:func:`rjsim.model.area.simulate_area`).

Each test runs Avon and Somerset for a few simulated years (milliseconds each) and checks a
property the records must have whatever the random numbers: zero waits with unlimited capacity,
nothing with no demand, no slot idle while a suitable case waits, sensitive cases only with
specialists, common random numbers across capacities, determinism, and outcome bookkeeping.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from conftest import fte_scenario as _fte_scenario
from conftest import scenario, staffing_for
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rjsim.core.codes import CAPACITY_LOSSES, CLOSED, IN_PROGRESS, Mode, Outcome
from rjsim.core.errors import ScenarioError
from rjsim.model import area as model
from rjsim.model.area import AreaRecords, simulate_area
from rjsim.model.staffing import slots
from rjsim.scenario import expected as expected_path
from rjsim.scenario.spec import SENSITIVE, Scenario

YEARS = {"years": 3}
EPS = 1e-7  # days: just after an event, to read the state the event left
#: Few sensitive referrals, so specialists have time for general cases too.
LIGHT_SENSITIVE = {"by_group": {g: {"wants_rj": 0.03} for g in sorted(SENSITIVE)}}
#: The share told about RJ these tests were built for (0.30, the pre-calibration status quo):
#: busy enough for queues to form in a few simulated years. Set here, not taken from the
#: calibrated default (0.0174), which leaves Avon too few referrals for the properties to bite.
BUSY = {"informed": 0.3}


def fte_scenario(general: float, specialist: float, **sections: Any) -> Scenario:
    """:func:`conftest.fte_scenario` with this module's demand level (:data:`BUSY`)."""
    demand = {**BUSY, **sections.pop("demand", {})}
    return _fte_scenario(general, specialist, demand=demand, **sections)


def _run(sc: Scenario, table, area, replication: int = 0) -> AreaRecords:
    return simulate_area(sc, area, staffing_for(sc, table, area.code), replication)


def _sensitive(rec: AreaRecords) -> np.ndarray:
    codes = [i for i, g in enumerate(rec.groups) if g in SENSITIVE]
    return np.isin(rec.group, codes)


def _release_day(rec: AreaRecords) -> np.ndarray:
    """When each allocated case frees its slot (the horizon if still in service)."""
    closed = np.isin(rec.outcome, CLOSED)
    last = np.where(np.isnan(rec.stage_end_day), -np.inf, rec.stage_end_day).max(axis=1)
    return np.where(closed, last, rec.horizon_days)


def _count_in(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many [start, end) intervals contain each time (a direct count, for the checks)."""
    return (np.searchsorted(np.sort(starts), at, side="right")
            - np.searchsorted(np.sort(ends), at, side="right"))


def _busy(rec: AreaRecords, skill: int, at: np.ndarray) -> np.ndarray:
    on = rec.skill == skill
    return _count_in(rec.allocation_day[on], _release_day(rec)[on], at)


def _waiting(rec: AreaRecords, which: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Cases of ``which`` in the intake queue at each time (referred, not yet out)."""
    queued = which & (rec.outcome != Outcome.NO_SERVICE)
    return _count_in(rec.referral_day[queued], rec.queue_exit_day[queued], at)


def _event_times(rec: AreaRecords) -> np.ndarray:
    times = np.concatenate([rec.referral_day, rec.queue_exit_day,
                            rec.allocation_day[~np.isnan(rec.allocation_day)],
                            _release_day(rec)[~np.isnan(rec.allocation_day)]])
    times = np.unique(times) + EPS
    return times[times < rec.horizon_days]


@pytest.fixture(scope="module")
def loaded(table, avon) -> AreaRecords:
    """A busy service: queues form, some cases are lost, specialists take both kinds (1.5
    specialist FTE: sensitive cases still queue, and specialists take some 30 general cases in
    three years, where 1 FTE left only 10 to 15 whatever the seed)."""
    return _run(fte_scenario(1.0, 1.5, run=YEARS, demand=LIGHT_SENSITIVE), table, avon)


# --- extreme values --------------------------------------------------------------------------

def test_unlimited_capacity_means_no_waits(table, avon):
    rec = _run(fte_scenario(10_000, 10_000, run=YEARS), table, avon)
    assert rec.n_referrals > 1000
    assert not np.isnan(rec.allocation_day).any()  # every referral allocated
    wait = rec.allocation_day - rec.referral_day
    assert np.all(wait >= 0)
    assert np.max(wait) <= 1e-9
    assert not np.isin(rec.outcome, CAPACITY_LOSSES).any()
    assert not (rec.outcome == Outcome.WAITING_AT_END).any()


def test_no_demand_means_no_referrals(table, avon):
    rec = _run(fte_scenario(2.0, 1.0, run=YEARS, demand={"offender_identified": 0.0}),
               table, avon)
    assert rec.n_referrals == 0
    assert rec.funnel[:, 0].sum() > 0  # victims still arrive and are counted
    assert rec.funnel[:, 1:].sum() == 0
    assert rec.stage_hours.shape == (0, 4)


def test_no_offence_groups_is_refused_or_gives_no_referrals(table, avon):
    """An empty group list must be refused at validation or simulate to nothing, not crash
    inside the model."""
    try:
        sc = fte_scenario(2.0, 1.0, run=YEARS, demand={"groups": []})
    except ScenarioError:
        return
    assert _run(sc, table, avon).n_referrals == 0


def test_no_facilitators_means_no_service_for_anyone(table, avon):
    rec = _run(fte_scenario(0.0, 0.0, run=YEARS), table, avon)
    assert rec.n_referrals > 0
    assert np.all(rec.outcome == Outcome.NO_SERVICE)
    assert np.array_equal(rec.queue_exit_day, rec.referral_day)
    assert np.isnan(rec.allocation_day).all()
    assert np.all(rec.skill == -1)


def test_no_specialists_means_no_service_for_sensitive_cases_only(table, avon):
    rec = _run(fte_scenario(3.0, 0.0, run=YEARS), table, avon)
    sensitive = _sensitive(rec)
    assert sensitive.any() and (~sensitive).any()
    assert np.all(rec.outcome[sensitive] == Outcome.NO_SERVICE)
    assert not (rec.outcome[~sensitive] == Outcome.NO_SERVICE).any()
    assert (rec.skill[~sensitive] == 0).any()


def test_general_cases_can_use_specialists_when_there_are_no_general_slots(table, avon):
    rec = _run(fte_scenario(0.0, 2.0, run=YEARS, demand=LIGHT_SENSITIVE), table, avon)
    general = ~_sensitive(rec)
    assert not (rec.outcome[general] == Outcome.NO_SERVICE).any()
    assert (rec.skill[general] == 1).sum() > 10
    assert not (rec.skill == 0).any()


# --- the service rules -----------------------------------------------------------------------

def test_sensitive_cases_only_ever_go_to_specialists(loaded):
    allocated = loaded.skill >= 0
    sensitive = _sensitive(loaded)
    assert (allocated & sensitive).sum() > 50
    assert np.all(loaded.skill[allocated & sensitive] == 1)


def test_slots_are_never_overbooked(loaded):
    times = _event_times(loaded)
    assert loaded.general_slots > 0 and loaded.specialist_slots > 0
    assert np.max(_busy(loaded, 0, times)) == loaded.general_slots  # full, never over
    assert np.max(_busy(loaded, 1, times)) == loaded.specialist_slots


def test_no_slot_idles_while_a_suitable_case_waits(loaded):
    times = _event_times(loaded)
    sensitive = _sensitive(loaded)
    busy_general, busy_specialist = _busy(loaded, 0, times), _busy(loaded, 1, times)
    waiting_sensitive = _waiting(loaded, sensitive, times)
    waiting_general = _waiting(loaded, ~sensitive, times)
    assert waiting_general.max() > 0 and waiting_sensitive.max() > 0  # queues did form
    specialist_free = busy_specialist < loaded.specialist_slots
    general_free = busy_general < loaded.general_slots
    assert not np.any((waiting_sensitive > 0) & specialist_free)
    assert not np.any((waiting_general > 0) & (general_free | specialist_free))


def test_specialists_take_general_cases_only_when_no_sensitive_case_waits(loaded):
    """...and general cases go to a specialist only when every general slot is busy."""
    general_on_specialist = (~_sensitive(loaded)) & (loaded.skill == 1)
    assert general_on_specialist.sum() > 10
    at = loaded.allocation_day[general_on_specialist] + EPS
    assert np.all(_waiting(loaded, _sensitive(loaded), at) == 0)
    assert np.all(_busy(loaded, 0, at) == loaded.general_slots)


def test_each_queue_is_first_come_first_served(loaded):
    for which in (_sensitive(loaded), ~_sensitive(loaded)):
        chosen = which & ~np.isnan(loaded.allocation_day)
        order = np.argsort(loaded.referral_day[chosen], kind="stable")
        assert np.all(np.diff(loaded.allocation_day[chosen][order]) >= 0)


@pytest.mark.parametrize("patience, window, reason", [
    ({"kind": "fixed", "value": 20}, {"kind": "never"}, Outcome.WITHDREW_WAITING),
    ({"kind": "never"}, {"kind": "fixed", "value": 30}, Outcome.WINDOW_CLOSED),
])
def test_a_fixed_deadline_bounds_every_wait(table, avon, patience, window, reason):
    """With a fixed deadline of D days, a case is allocated within D days or lost at exactly D."""
    limit = patience.get("value", window.get("value"))
    sc = fte_scenario(1.0, 1.0, run=YEARS, demand=LIGHT_SENSITIVE,
                      service={"patience": patience, "window": window})
    rec = _run(sc, table, avon)
    allocated = ~np.isnan(rec.allocation_day)
    waits = rec.allocation_day[allocated] - rec.referral_day[allocated]
    assert waits.max() < limit
    assert waits.max() > limit - 5  # the bound is reached: queues are long
    lost = np.isin(rec.outcome, (Outcome.WITHDREW_WAITING, Outcome.WINDOW_CLOSED))
    assert lost.sum() > 100
    assert np.all(rec.outcome[lost] == reason)
    assert np.allclose(rec.queue_exit_day[lost] - rec.referral_day[lost], limit)
    still = np.isin(rec.outcome, (Outcome.WAITING_AT_END, Outcome.UNALLOCATED_AT_END))
    assert np.all(rec.horizon_days - rec.referral_day[still] < limit)


def test_without_patience_or_window_nobody_is_lost(table, avon):
    never = {"kind": "never"}
    rec = _run(fte_scenario(1.0, 1.0, run=YEARS, service={"patience": never, "window": never}),
               table, avon)
    assert not np.isin(rec.outcome, (Outcome.WITHDREW_WAITING, Outcome.WINDOW_CLOSED)).any()
    assert (rec.outcome == Outcome.UNALLOCATED_AT_END).sum() > 100  # the backlog just grows


# --- bookkeeping -----------------------------------------------------------------------------

def test_times_respect_the_horizon(loaded):
    h = loaded.horizon_days
    allocated = ~np.isnan(loaded.allocation_day)
    assert np.all(loaded.referral_day < h)
    assert np.all(loaded.allocation_day[allocated] < h)
    assert np.all(loaded.queue_exit_day <= h)
    assert np.all(loaded.queue_exit_day >= loaded.referral_day)
    assert np.all(loaded.allocation_day[allocated] >= loaded.referral_day[allocated])
    finished = ~np.isnan(loaded.stage_end_day)
    assert np.all(loaded.stage_end_day[finished] < h)


def test_outcomes_partition_the_referrals_and_agree_with_the_records(loaded):
    rec = loaded
    classes = [np.isin(rec.outcome, c) for c in (CLOSED, CAPACITY_LOSSES, IN_PROGRESS)]
    assert np.array_equal(sum(c.astype(int) for c in classes), np.ones(rec.n_referrals, int))
    allocated = ~np.isnan(rec.allocation_day)
    in_service = rec.outcome == Outcome.IN_SERVICE_AT_END
    assert np.array_equal(allocated, np.isin(rec.outcome, CLOSED) | in_service)
    assert np.array_equal(allocated, rec.skill >= 0)
    assert np.array_equal(rec.queue_exit_day[allocated], rec.allocation_day[allocated])
    at_end = np.isin(rec.outcome, (Outcome.WAITING_AT_END, Outcome.UNALLOCATED_AT_END))
    assert np.all(rec.queue_exit_day[at_end] == rec.horizon_days)
    waited = rec.horizon_days - rec.referral_day
    target = 28.0
    assert np.all(waited[rec.outcome == Outcome.WAITING_AT_END] <= target)
    assert np.all(waited[rec.outcome == Outcome.UNALLOCATED_AT_END] > target)
    lost = np.isin(rec.outcome, (Outcome.WITHDREW_WAITING, Outcome.WINDOW_CLOSED))
    assert lost.sum() > 0 and np.all(rec.queue_exit_day[lost] > rec.referral_day[lost])
    completed = rec.outcome == Outcome.COMPLETED
    assert completed.sum() > 0
    assert np.all(rec.mode[completed] != Mode.NONE)
    assert not np.isnan(rec.stage_end_day[completed]).any()
    assert np.all(rec.stage_hours[~allocated] == 0)
    assert np.all((rec.stage_hours > 0) == ~np.isnan(rec.stage_end_day))


def test_referrals_per_group_agree_with_the_funnel(loaded):
    per_group = np.bincount(loaded.group, minlength=len(loaded.groups))
    asked = loaded.funnel[:, 5, :].sum(axis=1)  # asked_for_rj
    assert np.all(per_group <= asked)
    assert np.all(per_group > 0)


def test_slots_come_from_fte_and_caseload(table, avon):
    sc = fte_scenario(1.37, 0.52, run=YEARS)
    rec = _run(sc, table, avon)
    caseload = expected_path.caseload_per_fte(sc)
    assert rec.caseload_per_fte == caseload
    assert rec.general_slots == slots(1.37, caseload) == int(1.37 * caseload)
    assert rec.specialist_slots == int(0.52 * caseload)


# --- common random numbers and determinism ---------------------------------------------------

def test_same_seed_gives_identical_records(table, avon):
    sc = fte_scenario(1.0, 0.5, run=YEARS)
    a, b = _run(sc, table, avon), _run(sc, table, avon)
    for field in dataclasses.fields(AreaRecords):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), field.name
        else:
            assert x == y, field.name
    other = _run(sc, table, avon, replication=1)
    assert not np.array_equal(a.referral_day[:100], other.referral_day[:100])


def test_a_capacity_change_leaves_the_referral_stream_unchanged(table, avon):
    low = _run(fte_scenario(0.5, 0.3, run=YEARS), table, avon)
    high = _run(fte_scenario(3.0, 1.5, run=YEARS), table, avon)
    assert np.array_equal(low.referral_day, high.referral_day)
    assert np.array_equal(low.group, high.group)
    assert np.array_equal(low.under_right, high.under_right)
    assert np.array_equal(low.funnel, high.funnel)
    assert np.array_equal(low.mode, high.mode)
    # cases closed in both runs followed the same path, shifted only by their allocation day
    both = np.isin(low.outcome, CLOSED) & np.isin(high.outcome, CLOSED)
    assert both.sum() > 50
    assert np.array_equal(low.outcome[both], high.outcome[both])
    assert np.allclose(low.stage_end_day[both] - low.allocation_day[both, None],
                       high.stage_end_day[both] - high.allocation_day[both, None],
                       rtol=0, atol=1e-9, equal_nan=True)
    assert np.array_equal(low.stage_hours[both], high.stage_hours[both])
    # and capacity did matter
    assert np.mean(high.queue_exit_day - high.referral_day) < np.mean(
        low.queue_exit_day - low.referral_day)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), general=st.floats(0.5, 4.0), specialist=st.floats(0.5, 2.5),
       extra_general=st.floats(0.0, 3.0), extra_specialist=st.floats(0.0, 2.0))
@example(seed=5756, general=3.125, specialist=2.5, extra_general=0.0, extra_specialist=0.125)
def test_more_facilitators_never_lengthen_the_mean_time_in_queue(
        table, avon, seed, general, specialist, extra_general, extra_specialist):
    """Same seed, same referrals: more slots take cases sooner, up to a small routing effect.
    (Both skills start with at least three slots: going from none to some specialists turns
    instant 'no service' exits into waits, which is not a longer queue.)

    The mean is not monotone sample path by sample path, so the test allows 1%: a spare
    specialist slot takes a general case when no sensitive case waits (non-preemptive), and
    a sensitive case arriving next then waits for it; and a case that no longer abandons adds
    work for those behind it. Hypothesis found such a case (the ``@example``: one more
    specialist slot lengthened the mean from 41.721 to 41.741 days, +0.05%). A model that
    used capacity wrongly (slots swapped or ignored) moves the mean by far more than 1%.
    """
    run = {"years": 2, "seed": seed}
    low = _run(fte_scenario(general, specialist, run=run), table, avon)
    high = _run(fte_scenario(general + extra_general, specialist + extra_specialist, run=run),
                table, avon)
    assert np.array_equal(low.referral_day, high.referral_day)
    assert (np.mean(high.queue_exit_day - high.referral_day)
            <= 1.01 * np.mean(low.queue_exit_day - low.referral_day) + 1e-9)


def test_budget_staffing_runs_and_checks_conservation(table, avon):
    """The default (budget-driven) scenario for one area: records are complete."""
    sc = scenario(run=YEARS)
    rec = _run(sc, table, avon)
    assert rec.staffing.budget_gbp > 0
    assert rec.general_slots > 0 and rec.specialist_slots > 0
    n = rec.n_referrals
    for name in ("group", "allocation_day", "queue_exit_day", "outcome", "mode", "skill"):
        assert len(getattr(rec, name)) == n, name
    assert rec.stage_end_day.shape == rec.stage_hours.shape == (n, 4)
    assert model.simulate_area is simulate_area
