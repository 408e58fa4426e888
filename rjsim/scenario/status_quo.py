"""The status quo a funding option is measured against: the same world without the policy.

The capacity test reports how an option changes the postcode lottery ("under option X the gap
between the best and worst area narrows from A to B", MODEL.md section 11). *A* needs the status
quo on the same areas, horizon, assessment window and seeds, so that replication i of both sees
the same victims (common random numbers). :func:`twin` derives it from the option itself:

* **reverted to the packaged defaults** (the policy levers an option sets): the statutory right
  (not commenced, no phases), the funding levers (:data:`FUNDING_LEVERS`: the budget, how it is
  shared and ring-fenced, FTE set directly, floors, shared services, budget schedule and the
  specialist share), volunteers, and regional pooling;
* **kept from the option** (the world the option is judged in): run settings, areas and their
  data, demand and the funnel before the right, level-one RJ, the service, stages, exits,
  intervention modes, recruitment and attrition, and the unit costs of staff
  (:data:`FUNDING_KEPT`).

The choice is recorded in the assumptions log (``capacity_test.status_quo``). A user who means
another reference (e.g. the right with today's funding) gives it as a scenario; :func:`aligned`
then runs it on the option's areas, horizon, window and seeds.
"""

from __future__ import annotations

import dataclasses

from rjsim.core.schema import to_plain
from rjsim.scenario import io
from rjsim.scenario.funding import Funding
from rjsim.scenario.spec import Scenario

NAME = "status_quo"
TITLE = "Status quo: no statutory right, today's funding"

#: Funding settings kept from the option: what staff cost, not how many an option buys.
FUNDING_KEPT = ("uprating_factor", "salary_gbp", "on_cost_factor", "overhead_share",
                "specialist_pay_uplift", "specialist_training_gbp",
                "training_amortisation_years")
#: Funding settings reverted to the packaged defaults (today's funding): the option's levers.
FUNDING_LEVERS = tuple(f.name for f in dataclasses.fields(Funding) if f.name not in FUNDING_KEPT)


def defaults() -> Scenario:
    """The packaged defaults as a scenario: today's funding, no right, no pooling."""
    return io.from_dict({}, io.DEFAULTS_NAME)


def twin(scenario: Scenario) -> Scenario:
    """``scenario``'s status quo: its policy levers reverted to the packaged defaults, its
    world kept (see the module docstring), named :data:`NAME`."""
    today = defaults()
    funding = dataclasses.replace(today.funding, **{k: getattr(scenario.funding, k)
                                                     for k in FUNDING_KEPT})
    staffing = dataclasses.replace(
        scenario.staffing,
        volunteer_hours_per_100k_population=today.staffing.volunteer_hours_per_100k_population,
        volunteer_coordination_gbp_per_hour=today.staffing.volunteer_coordination_gbp_per_hour)
    right = dataclasses.replace(scenario.statutory_right, commence_day=None,
                                commence_date=None, phase=())
    return dataclasses.replace(
        scenario, name=NAME, title=TITLE,
        description=f"The status quo of '{scenario.name}': no statutory right, today's funding "
        "(the packaged defaults), no regional pooling; everything else as that scenario.",
        funding=funding, staffing=staffing, statutory_right=right, pooling=today.pooling)


def aligned(reference: Scenario, scenario: Scenario) -> Scenario:
    """A user's ``reference`` on ``scenario``'s run settings (horizon, warm-up, seed,
    replications) and areas, so that their replications pair."""
    return dataclasses.replace(reference, run=scenario.run, areas=scenario.areas)


def same_policy(a: Scenario, b: Scenario) -> bool:
    """Whether two scenarios differ at most in name, title and description (so the status
    quo need not be run again)."""
    def plain(s: Scenario) -> dict[str, object]:
        out: dict[str, object] = to_plain(s)
        for key in ("name", "title", "description"):
            out.pop(key, None)
        return out
    return plain(a) == plain(b)
