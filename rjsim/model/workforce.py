"""Facilitators in post over time: budgets become establishment, establishment becomes staff.

A deterministic monthly stock-and-flow model per area and facilitator pool (general,
specialist: :class:`~rjsim.core.codes.Pool`, the column order of the ``(periods, 2)`` arrays),
the expected path of recruitment and turnover rather than individual staff:

* the **establishment** is what the budget in force pays for (FTE);
* staff **leave** at the attrition rate; their posts are refilled after the replacement lag;
* when the establishment grows, new staff **arrive** after the recruitment lag (specialists
  also after the training lag);
* when it shrinks, pending hires are cancelled first and any staff still over establishment
  leave after the **notice** period (paid until then);
* at day 0 the establishment is fully staffed (services exist today).

Spend per month is the cost of staff in post (salary, on-costs and overheads), each
specialist's one-off training cost when they are hired, and volunteers' coordination cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from rjsim.model.demand import DAYS_PER_PERIOD
from rjsim.scenario.funding import Funding, StaffingDynamics
from rjsim.scenario.spec import DAYS_PER_YEAR


@dataclass(frozen=True, eq=False)
class Workforce:
    """One area's staffing per period (arrays of shape (periods, 2): general, specialist)."""

    budget_gbp: np.ndarray  # (periods,) annual budget in force
    establishment: np.ndarray  # FTE the budget pays for
    in_post: np.ndarray  # FTE in post during the period
    hires: np.ndarray  # FTE arriving at the start of the period
    leavers: np.ndarray  # FTE leaving during the period (attrition and notice)
    volunteer_fte: float  # FTE-equivalent of volunteer hours (general cases)
    spend_gbp: np.ndarray  # (periods,) spend in the period

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Workforce):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in fields(self))

    __hash__ = None  # type: ignore[assignment]  # holds arrays: compared by value, not hashed

    @property
    def vacancies(self) -> np.ndarray:
        """Establishment not filled (FTE; never negative)."""
        vacant: np.ndarray = np.maximum(self.establishment - self.in_post, 0.0)
        return vacant


def _lag(days: float) -> int:
    """A lag in days as whole periods (rounded up: a hire cannot arrive early)."""
    return math.ceil(days / DAYS_PER_PERIOD - 1e-9)


def simulate_skill(establishment: np.ndarray, period_days: np.ndarray, attrition: float,
                   recruit_lag: int, replace_lag: int, notice_lag: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-post FTE, hires and leavers per period for one skill (see the module docstring).

    Stocks reconcile: ``in_post[k + 1] = in_post[k] - leavers[k] + hires[k + 1]``, where
    leavers of period k include staff whose notice ends with it.
    """
    n = len(establishment)
    horizon = n + max(recruit_lag, replace_lag, notice_lag) + 2
    arrivals, dismissals = np.zeros(horizon), np.zeros(horizon)
    in_post, hires, leavers = np.zeros(n), np.zeros(n), np.zeros(n)
    staff = float(establishment[0])
    for k in range(n):
        staff += arrivals[k] - dismissals[k]
        hires[k] = arrivals[k]
        in_post[k] = staff
        left = staff * (1.0 - math.exp(-attrition * period_days[k] / DAYS_PER_YEAR))
        staff -= left
        target = establishment[k + 1] if k + 1 < n else establishment[k]
        gap = target - (staff + arrivals[k + 1:].sum() - dismissals[k + 1:].sum())
        if gap > 1e-12:
            gap = _withdraw(dismissals, k, gap)  # keep staff under notice before hiring
            refill = min(left, gap)
            arrivals[k + 1 + replace_lag] += refill
            arrivals[k + 1 + recruit_lag] += gap - refill
        elif gap < -1e-12:
            excess = _withdraw(arrivals, k, -gap)  # cancel pending hires before notices
            dismissals[k + 1 + notice_lag] += excess
        leavers[k] = left + dismissals[k + 1]  # notice ending with this period
    return in_post, hires, leavers


def _withdraw(pending: np.ndarray, k: int, amount: float) -> float:
    """Take up to ``amount`` from pending entries after period k, latest first; return what
    is left to take."""
    for j in range(len(pending) - 1, k, -1):
        cut = min(pending[j], amount)
        pending[j] -= cut
        amount -= cut
    return amount


def establishment_fte(budget_gbp: np.ndarray, costs: tuple[float, float],
                      specialist_share: float, coordination_gbp: float) -> np.ndarray:
    """(periods, 2) general and specialist FTE a budget pays for, after volunteers'
    coordination cost, at the blended cost of the general/specialist mix."""
    general_cost, specialist_cost = costs
    blended = (1 - specialist_share) * general_cost + specialist_share * specialist_cost
    paid = np.maximum(np.asarray(budget_gbp, dtype=float) - coordination_gbp, 0.0) / blended
    return np.stack([paid * (1 - specialist_share), paid * specialist_share], axis=1)


def build(budget_gbp: np.ndarray, period_days: np.ndarray, costs: tuple[float, float],
          funding: Funding, dyn: StaffingDynamics, volunteer: tuple[float, float],
          specialist_share: float | None = None) -> Workforce:
    """Staffing of one area from its budget per period.

    ``costs``: annual cost of a general and a specialist FTE as used for the establishment
    (specialists' includes amortised training); ``volunteer``: (FTE-equivalent, annual
    coordination cost); ``specialist_share``: the area's (default: ``funding``'s).
    """
    general_cost, specialist_cost = costs
    training_gbp = funding.specialist_training_gbp
    share = funding.specialist_share if specialist_share is None else specialist_share
    establishment = establishment_fte(budget_gbp, costs, share, volunteer[1])
    out = []
    for s in (0, 1):
        training = dyn.specialist_training_lag_days if s else 0.0
        out.append(simulate_skill(establishment[:, s], period_days, dyn.attrition_per_year,
                                  _lag(dyn.recruitment_lag_days + training),
                                  _lag(dyn.replacement_lag_days + training),
                                  _lag(dyn.notice_days)))
    in_post = np.stack([o[0] for o in out], axis=1)
    hires = np.stack([o[1] for o in out], axis=1)
    leavers = np.stack([o[2] for o in out], axis=1)
    year = period_days / DAYS_PER_YEAR
    amortised = training_gbp / funding.training_amortisation_years
    spend = (in_post[:, 0] * general_cost + in_post[:, 1] * (specialist_cost - amortised)
             + volunteer[1]) * year + hires[:, 1] * training_gbp
    return Workforce(budget_gbp, establishment, in_post, hires, leavers, volunteer[0], spend)


def constant(fte: tuple[float, float], period_days: np.ndarray, costs: tuple[float, float]
             ) -> Workforce:
    """Staffing set directly in FTE, constant over the horizon (no dynamics)."""
    n = len(period_days)
    in_post = np.tile(np.asarray(fte, dtype=float), (n, 1))
    annual = fte[0] * costs[0] + fte[1] * costs[1]
    return Workforce(np.full(n, annual), in_post.copy(), in_post, np.zeros((n, 2)),
                     np.zeros((n, 2)), 0.0, annual * period_days / DAYS_PER_YEAR)
