"""The funding and staffing part of the scenario schema (see :mod:`rjsim.scenario.spec`).

Budgets, how a national pot is allocated, dated budget changes, the cost of a facilitator, and
how staff in post follow the budget. Defaults live in ``data/defaults.toml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from rjsim.core.errors import Problem
from rjsim.core.schema import PROBABILITY as _P
from rjsim.core.schema import FrozenMap, Origin
from rjsim.core.schema import setting as _f

#: Upper bound of staffing lags and notice periods (ten years; each day is a step of the
#: workforce arithmetic).
MAX_LAG_DAYS = 3650.0


@dataclass(frozen=True)
class AreaFte:
    general: float = _f("general facilitator FTE", min=0.0)
    specialist: float = _f("specialist facilitator FTE", min=0.0)


Allocation = Literal["current", "population", "recorded_crime", "eligible_demand", "floor_plus",
                     "shares", "column"]


@dataclass(frozen=True)
class BudgetChange:
    """From a day (or date) on: a new national pot and/or new per-area budgets."""

    from_day: float | None = field(default=None, metadata={"min": 0.0})
    from_date: str | None = None
    national_budget_gbp: float | None = field(default=None, metadata={"min": 0.0})
    uprating_factor: float | None = field(default=None, metadata={"gt": 0.0})
    allocation: Allocation | None = None
    ringfenced: bool | None = None
    leakage_share: float | None = field(default=None, metadata=_P)
    area_budget_gbp: FrozenMap[float] = field(default_factory=FrozenMap,
                                              metadata={"min": 0.0})

    def check(self, path: str, origin: Origin) -> list[Problem]:
        if self.leakage_share and self.ringfenced is not False:
            return [Problem(origin(f"{path}.leakage_share"), "applies only with ringfenced = "
                            "false in the same change (a ringfenced pot cannot leak)")]
        if (self.from_day is None) == (self.from_date is None):
            return [Problem(origin(path), "give exactly one of from_day and from_date")]
        if self.from_date is not None:
            try:
                dt.date.fromisoformat(self.from_date)
            except ValueError:
                return [Problem(origin(f"{path}.from_date"), "must be a date YYYY-MM-DD",
                                self.from_date)]
        if self.uprating_factor is not None and self.national_budget_gbp is None:
            return [Problem(origin(f"{path}.uprating_factor"), "applies only with "
                            "national_budget_gbp in the same change")]
        if self.national_budget_gbp is None and not self.area_budget_gbp and not self.allocation:
            return [Problem(origin(path), "must set national_budget_gbp, allocation or "
                            "area_budget_gbp")]
        return []


@dataclass(frozen=True)
class StaffingDynamics:
    recruitment_lag_days: float = _f("days to recruit into a new post", min=0.0,
                                     max=MAX_LAG_DAYS)
    replacement_lag_days: float = _f("days to refill a post after a leaver", min=0.0,
                                     max=MAX_LAG_DAYS)
    specialist_training_lag_days: float = _f("extra days before a specialist can work",
                                             min=0.0, max=MAX_LAG_DAYS)
    attrition_per_year: float = _f("share of staff leaving a year", min=0.0, max=2.0)
    notice_days: float = _f("days' notice when a budget cut removes staff", min=0.0,
                            max=MAX_LAG_DAYS)
    volunteer_hours_per_100k_population: float = _f("volunteer hours a year", min=0.0)
    volunteer_coordination_gbp_per_hour: float = _f("cost of supporting volunteers", min=0.0)


@dataclass(frozen=True)
class Funding:
    capacity_from: Literal["budget", "fte"] = _f("derive FTE from budgets, or set FTE directly")
    national_budget_gbp: float = _f("national RJ budget before uprating, GBP a year", min=0.0)
    uprating_factor: float = _f("price uprating applied to the national budget", gt=0.0)
    allocation: Allocation = _f("how the national budget is shared among areas")
    ringfenced: bool = _f("whether the pot can be spent only on RJ")
    leakage_share: float = _f("share of an unringfenced pot spent on other services", **_P)
    floor_gbp: float = _f("floor_plus: minimum budget per area", min=0.0)
    floor_rule: Literal["current", "population", "recorded_crime", "eligible_demand"] = _f(
        "floor_plus: how the rest is shared")
    allocation_column: str = _f("column: the area data column whose values weight the shares")
    salary_gbp: float = _f("facilitator salary, GBP a year", gt=0.0)
    on_cost_factor: float = _f("employer on-costs multiplier", min=1.0, max=3.0)
    overhead_share: float = _f("overhead as a share of employment cost", min=0.0, max=2.0)
    specialist_pay_uplift: float = _f("specialist pay uplift (0.1 = +10%)", min=0.0, max=2.0)
    specialist_training_gbp: float = _f("one-off training cost per specialist FTE", min=0.0)
    training_amortisation_years: float = _f("years over which training is spread", gt=0.0)
    specialist_share: float = _f("share of FTE that is specialist-trained", **_P)
    fte: AreaFte = _f("FTE per area when capacity_from = 'fte'")
    min_fte_per_area: float = _f("minimum establishment of every area, FTE (split by "
                                 "specialist_share), top-sliced from the pot; 0: none; "
                                 "ignored with capacity_from = 'fte' (each area's FTE are "
                                 "given) and for areas served by a shared service",
                                 min=0.0, max=1000.0)
    area_budget_gbp: FrozenMap[float] = field(default_factory=FrozenMap,
                                              metadata={"min": 0.0})
    # small area (code or name) -> the neighbouring area (code or name) whose service serves it
    shared_services: FrozenMap[str] = field(default_factory=FrozenMap)
    area_fte: FrozenMap[AreaFte] = field(default_factory=FrozenMap)
    # per-area specialist_share (a staffing schedule's planned mix); others use the national one
    area_specialist_share: FrozenMap[float] = field(default_factory=FrozenMap, metadata=_P)
    shares: FrozenMap[float] = field(default_factory=FrozenMap, metadata=_P)
    schedule: tuple[BudgetChange, ...] = ()

    def specialist_share_of(self, code: str) -> float:
        """The specialist share of an area's FTE (its own if set, else the national one)."""
        return self.area_specialist_share.get(code, self.specialist_share)

    def check(self, path: str, origin: Origin) -> list[Problem]:
        """Refuse contradictory or silently ignored settings."""
        p = self._rule_problems(path, origin)
        if self.capacity_from == "budget":
            if self.area_fte or self.fte.general or self.fte.specialist:
                key = "area_fte" if self.area_fte else "fte"
                p.append(Problem(origin(f"{path}.{key}"), "is used only when "
                                 "funding.capacity_from = 'fte' (it is 'budget')"))
        elif self.area_budget_gbp or self.schedule or self.area_specialist_share:
            # min_fte_per_area is a budget floor: with FTE given per area it is ignored
            key = ("area_budget_gbp" if self.area_budget_gbp else "schedule" if self.schedule
                   else "area_specialist_share")
            p.append(Problem(origin(f"{path}.{key}"), "is used only when "
                             "funding.capacity_from = 'budget' (it is 'fte')"))
        return p

    def _rule_problems(self, path: str, origin: Origin) -> list[Problem]:
        p = []
        if self.ringfenced and self.leakage_share > 0:
            p.append(Problem(origin(f"{path}.leakage_share"), "applies only when ringfenced = "
                             "false (a ringfenced pot cannot leak)", f"{self.leakage_share:g}"))
        used = {self.allocation, *(c.allocation for c in self.schedule if c.allocation)}
        if "shares" in used:
            total = sum(self.shares.values())
            if not self.shares or abs(total - 1.0) > 1e-6:
                p.append(Problem(origin(f"{path}.shares"), "with allocation = 'shares', the "
                                 "areas' shares must add up to 1", f"sum {total:.6g}"))
        elif self.shares:
            p.append(Problem(origin(f"{path}.shares"), "is used only with allocation = 'shares'"))
        if "column" in used and not self.allocation_column:
            p.append(Problem(origin(f"{path}.allocation_column"), "name the area data column "
                             "to share the pot by (allocation = 'column')"))
        if "floor_plus" in used and self.floor_gbp <= 0:
            p.append(Problem(origin(f"{path}.floor_gbp"), "must be positive with allocation = "
                             "'floor_plus'"))
        return p
