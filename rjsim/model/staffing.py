"""The pure staffing arithmetic the model needs: an area's day-0 staffing, FTE to caseload
slots (the one place the rounding rule lives), and the length of each monthly period.

No budgets or allocation rules here: those are :mod:`rjsim.funding`, which builds
:class:`Staffing` and hands it to the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rjsim.model.demand import DAYS_PER_PERIOD, n_periods


@dataclass(frozen=True)
class Staffing:
    """One area's budget and facilitators at day 0 (staffing over the run, as budgets change
    and staff come and go, is a :class:`~rjsim.model.workforce.Workforce`)."""

    budget_gbp: float
    general_fte: float
    specialist_fte: float
    cost_per_general_fte_gbp: float
    cost_per_specialist_fte_gbp: float

    @property
    def annual_cost_gbp(self) -> float:
        """What the FTE in post cost a year (equals the budget when derived from it)."""
        return (self.general_fte * self.cost_per_general_fte_gbp
                + self.specialist_fte * self.cost_per_specialist_fte_gbp)


def slots(fte: float, caseload_per_fte: float) -> int:
    """Concurrent caseload slots from FTE: rounded down, because a part-slot cannot hold a case."""
    return int(slot_counts(np.asarray(fte), caseload_per_fte))


def slot_counts(fte: np.ndarray, caseload_per_fte: float) -> np.ndarray:
    """:func:`slots` for an array of FTE (the one place the rounding rule lives)."""
    return np.floor(fte * caseload_per_fte + 1e-9).astype(np.int64)


def period_days(horizon_days: float) -> np.ndarray:
    """Length in days of each period of the run (the last may be short)."""
    edges = np.arange(n_periods(horizon_days) + 1) * DAYS_PER_PERIOD
    edges[-1] = horizon_days
    return np.diff(edges)
