"""Regional pooling of specialists, as a part of the scenario schema (MODEL.md sections 2 and 11).

The areas of a pooled region share one queue of sensitive referrals and one pool of specialist
caseload slots (the sum of their own); general facilitators stay with their area. A case served
by a pooled specialist costs ``overhead_hours_per_case`` more facilitator time (travel across the
region, or setting up video meetings), which holds its slot longer. Region names come from the
area data's ``region`` column and are checked against it when the scenario's areas are loaded.
Defaults live in ``data/defaults.toml`` with their sources in ``data/assumptions.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rjsim.core.schema import setting as _f

#: Hours above which a per-case overhead is not a travel or video overhead any more.
MAX_OVERHEAD_HOURS = 100.0


@dataclass(frozen=True)
class Pooling:
    """Which regions pool their specialists, and what a pooled case costs in extra time."""

    regions: tuple[str, ...] = _f("regions (the area data's 'region' column) whose areas share "
                                  "one specialist queue; empty: every area on its own")
    overhead_hours_per_case: float = _f("extra facilitator hours per case a pooled specialist "
                                        "serves (travel or video set-up)", min=0.0,
                                        max=MAX_OVERHEAD_HOURS)
