"""Codes for what became of each referral and how its intervention was delivered.

Kept in one place so the model, the tables and the reports agree on the words.
"""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """Where a referral ended up (or stood at the end of the horizon)."""

    COMPLETED = 0  # intervention delivered, follow-up done, case closed
    VICTIM_WITHDREW = 1  # at assessment, after contact
    OFFENDER_DECLINED = 2  # at assessment: declined or unavailable
    UNSUITABLE = 3  # at assessment: risk assessment
    WITHDREW_PREPARATION = 4  # a party withdrew in preparation
    WITHDREW_WAITING = 5  # capacity: patience ran out in the intake queue
    WINDOW_CLOSED = 6  # capacity: the case's window closed before allocation
    NO_SERVICE = 7  # capacity: no slot of a suitable skill exists in the area
    UNALLOCATED_AT_END = 8  # capacity: still waiting at the end, longer than the target
    WAITING_AT_END = 9  # in progress: waiting at the end, within the target
    IN_SERVICE_AT_END = 10  # in progress: allocated, not yet closed


class Mode(IntEnum):
    """How an intervention was delivered."""

    NONE = 0
    DIRECT_CONFERENCE = 1
    DIRECT_VIDEO = 2
    INDIRECT = 3


CLOSED = (Outcome.COMPLETED, Outcome.VICTIM_WITHDREW, Outcome.OFFENDER_DECLINED,
          Outcome.UNSUITABLE, Outcome.WITHDREW_PREPARATION)
CAPACITY_LOSSES = (Outcome.WITHDREW_WAITING, Outcome.WINDOW_CLOSED, Outcome.NO_SERVICE,
                   Outcome.UNALLOCATED_AT_END)
IN_PROGRESS = (Outcome.WAITING_AT_END, Outcome.IN_SERVICE_AT_END)


def label(code: IntEnum) -> str:
    """The lower-case name used in tables, e.g. ``withdrew_waiting``."""
    return code.name.lower()
