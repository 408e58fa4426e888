"""The statutory right to RJ, as a part of the scenario schema (see :mod:`rjsim.scenario.spec`):
its funnel once in force, its commencement (one day or date, or phases by offence group and
area) and the awareness ramp. The run days it commences on are the scenario's
(:meth:`rjsim.scenario.spec.Scenario.right_commences`), which knows the run's start date.
Defaults live in ``data/defaults.toml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rjsim.core.errors import Problem
from rjsim.core.schema import PROBABILITY as _P
from rjsim.core.schema import Origin
from rjsim.core.schema import setting as _f
from rjsim.scenario.awareness import Curve
from rjsim.scenario.distributions import Distribution
from rjsim.scenario.groups import finite_time, group_list_problems


@dataclass(frozen=True)
class Phase:
    """From a day (or date) on, the right is in force for these offence groups in these areas
    (empty: every group, every area). Areas are codes or names of the area data, checked
    against it when the data is loaded."""

    commence_day: float | None = field(default=None, metadata={"min": 0.0})
    commence_date: str | None = None
    groups: tuple[str, ...] = field(
        default=(), metadata={"check": group_list_problems})
    areas: tuple[str, ...] = ()
    label: str = ""

    def check(self, path: str, origin: Origin) -> list[Problem]:
        if (self.commence_day is None) == (self.commence_date is None):
            return [Problem(origin(path), "give exactly one of commence_day and commence_date")]
        if self.commence_date is not None:
            try:
                dt.date.fromisoformat(self.commence_date)
            except ValueError:
                return [Problem(origin(f"{path}.commence_date"), "must be a date YYYY-MM-DD",
                                self.commence_date)]
        return []

    def covers(self, group: str, area: tuple[str, ...]) -> bool:
        """Whether this phase names ``group`` and one of ``area``'s keys (its code, name)."""
        keys = {a.lower() for a in area}
        return ((not self.groups or group in self.groups)
                and (not self.areas or any(a.lower() in keys for a in self.areas)))


@dataclass(frozen=True)
class StatutoryRight:
    informed: float = _f("P(victim told about RJ) once the right is in force", **_P)
    referral_delay: Distribution = _f("days from offence to referral under the right",
                                      check=finite_time)
    ramp_days: float = _f("days over which the share informed rises from the status quo's to "
                          "the right's after commencement (0: at once)", min=0.0, max=3650.0)
    ramp_curve: Curve = _f("shape of the awareness ramp: 'linear' or 'logistic'")
    commence_day: float | None = field(default=None, metadata={"min": 0.0})
    commence_date: str | None = None
    wants_rj: float | None = field(default=None, metadata=_P)
    phase: tuple[Phase, ...] = ()
