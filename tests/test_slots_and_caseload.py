"""The traps of hand-built configurations: ``service.caseload_per_fte`` is a logged default, and
every summary shows caseload slots beside FTE and warns when staff buy no slot."""

from __future__ import annotations

import pytest
from conftest import fte_scenario, scenario

import rjsim
from rjsim.report.text import national_text
from rjsim.results.store import assumptions_table
from rjsim.scenario.expected import caseload_per_fte, expected

ONE_AREA = {"include": ["Cumbria"]}
SHORT = {"years": 0.5}


def test_caseload_per_fte_is_a_default_with_its_assumption() -> None:
    sc = scenario()
    assert sc.service.caseload_per_fte == 0  # 0: derived from hours
    e = expected(sc, "violence")
    derived = sc.service.productive_hours_per_fte_day * e.service_days / e.facilitator_hours
    assert caseload_per_fte(sc) == pytest.approx(derived)
    assert caseload_per_fte(scenario(service={"caseload_per_fte": 1})) == 1
    log = assumptions_table(sc).set_index("key")
    assert log.loc["service.caseload_per_fte", "value"] == "0.0"
    assert "derive" in log.loc["service.caseload_per_fte", "source"]


def _run(sc: rjsim.Scenario) -> str:
    return national_text(rjsim.run_experiment(sc, replications=2, workers=1))


def test_summary_shows_slots_beside_fte_and_warns_when_fte_buy_no_slot() -> None:
    starved = fte_scenario(7, 0, areas=ONE_AREA, run=SHORT,
                           service={"caseload_per_fte": 0.1})  # 7 FTE x 0.1 = 0 slots
    text = _run(starved)
    assert "Facilitators, general (FTE)                       7.0" in text
    assert "Caseload slots, general                           0.0" in text
    assert "Warning: 1 area(s) have facilitators (FTE) but no caseload slot" in text
    assert "Cumbria" in text
    fine = _run(fte_scenario(7, 0, areas=ONE_AREA, run=SHORT, service={"caseload_per_fte": 1}))
    assert "Caseload slots, general                           7.0" in fine
    assert "Warning" not in fine


def test_warns_when_specialists_buy_no_specialist_slot() -> None:
    text = _run(fte_scenario(7, 0.5, areas=ONE_AREA, run=SHORT,
                             service={"caseload_per_fte": 1}))
    assert "have facilitators (FTE) but no specialist slot" in text
    assert "sensitive referrals are lost" in text
