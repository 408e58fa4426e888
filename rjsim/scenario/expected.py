"""The expected path of an allocated case, in closed form from a scenario's settings.

Pure arithmetic on the scenario (no draws): the chance of reaching preparation and an
intervention, expected days holding a slot and facilitator hours, and the caseload one FTE can
carry. Validation uses it (cases must take some facilitator time); the model, the capacity
metrics and the planner use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rjsim.core.codes import Mode

if TYPE_CHECKING:
    from rjsim.scenario.spec import Scenario


def mode_hours(scenario: Scenario) -> dict[Mode, float]:
    """Facilitator hours of the intervention stage by mode (conferences are co-facilitated)."""
    st, iv = scenario.stages, scenario.interventions
    return {Mode.NONE: 0.0,
            Mode.DIRECT_CONFERENCE: st.direct_conference.effort_hours
            * iv.facilitators_per_direct_conference,
            Mode.DIRECT_VIDEO: st.direct_video.effort_hours,
            Mode.INDIRECT: st.indirect.effort_hours}


@dataclass(frozen=True)
class Expected:
    """Expected values per referral allocated, for one offence group (exact, not simulated)."""

    p_preparation: float
    p_intervention: float
    service_days: float
    facilitator_hours: float


def expected(scenario: Scenario, group: str) -> Expected:
    """The expected path of an allocated referral of ``group``."""
    ex, st, iv = scenario.exits, scenario.stages, scenario.interventions
    p_prep = ((1 - ex.victim_withdraws) * (1 - ex.offender_declines)
              * (1 - scenario.unsuitable(group)))
    p_int = p_prep * (1 - ex.preparation_withdraws)
    shares = {Mode.DIRECT_CONFERENCE: iv.direct_share * (1 - iv.video_share_of_direct),
              Mode.DIRECT_VIDEO: iv.direct_share * iv.video_share_of_direct,
              Mode.INDIRECT: 1 - iv.direct_share}
    stage_of = {Mode.DIRECT_CONFERENCE: st.direct_conference, Mode.DIRECT_VIDEO: st.direct_video,
                Mode.INDIRECT: st.indirect}
    hours_of = mode_hours(scenario)
    intervention_days = sum(s * stage_of[m].duration.mean_days for m, s in shares.items())
    intervention_hours = sum(s * hours_of[m] for m, s in shares.items())
    days = (st.assessment.duration.mean_days + p_prep * st.preparation.duration.mean_days
            + p_int * (intervention_days + st.follow_up.duration.mean_days))
    hours = (st.assessment.effort_hours + p_prep * st.preparation.effort_hours
             + p_int * (intervention_hours + st.follow_up.effort_hours))
    return Expected(p_prep, p_int, days, hours)


def caseload_per_fte(scenario: Scenario) -> float:
    """Concurrent cases one FTE can carry: productive hours a day x mean case days / mean hours.

    Uses ``service.caseload_per_fte`` when it is set above 0; otherwise the expected path of a
    general-group case (exits that depend on the group change days and hours nearly in step).
    """
    if scenario.service.caseload_per_fte > 0:
        return scenario.service.caseload_per_fte
    e = expected(scenario, "violence")
    if e.facilitator_hours == 0:
        return float("inf")
    return scenario.service.productive_hours_per_fte_day * e.service_days / e.facilitator_hours
