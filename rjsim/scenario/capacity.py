"""The minister's capacity test, as a part of the scenario schema (MODEL.md section 6).

The test is evaluated per area over an *assessment window*: from ``settle_days`` after the
statutory right commences (or after day 0 when the scenario commences no right) to the end of
the run, or for ``window_years`` if set. Each criterion has a threshold; "demonstrated" means
the conservative end of the 95% confidence interval across replications meets it. Defaults
live in ``data/defaults.toml`` with their sources in ``data/assumptions.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rjsim.core.schema import PROBABILITY as _P
from rjsim.core.schema import setting as _f


@dataclass(frozen=True)
class CapacityTestSettings:
    """Thresholds and the assessment window of the capacity test."""

    timeliness_share: float = _f("least share of referrals allocated a facilitator within "
                                 "wait_target_days", **_P)
    max_unmet_demand_rate: float = _f("most capacity-caused losses / referrals", **_P)
    max_utilisation: float = _f("offered load per caseload slot must stay below this",
                                gt=0.0, max=1.0)
    max_backlog_growth_days_per_year: float = _f(
        "most growth of the intake backlog, in days of referrals per year", min=0.0)
    require_specialist_coverage: bool = _f("an area with sensitive demand needs specialists")
    settle_days: float = _f("days after commencement before the assessment window opens",
                            min=0.0, max=3650.0)
    confidence_level: float = _f("two-sided confidence level of the intervals", gt=0.5, lt=1.0)
    status_quo: bool = _f("also run the status quo (no right, today's funding, no pooling) on "
                          "the same seeds, to say how the scenario changes the gap between "
                          "the best and worst area")
    # optional: the wait target (default service.wait_target_days) and the window length
    wait_target_days: float | None = field(default=None, metadata={"gt": 0.0, "max": 3650.0})
    window_years: float | None = field(default=None, metadata={"gt": 0.0, "max": 50.0})
