"""The shared vocabulary: what became of each referral, how its intervention was delivered,
which facilitator pool served it, and the capacity test's verdicts.

Kept in one place so the model, the tables and the reports agree on the words. Integer codes
(:class:`Outcome`, :class:`Mode`, :class:`Pool`) are what the model stores in its arrays;
:func:`label` is the word tables use. String enums (:class:`Verdict`) are the words themselves,
so what is written to tables and files is unchanged.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


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


class Pool(IntEnum):
    """A facilitator pool: the caseload slots of one skill, and the demand they serve first.

    The value is the slot kind the model stores per case (:data:`NO_POOL` when never
    allocated). Specialist facilitators (trained for sexual offences, domestic abuse and hate
    crime) take sensitive referrals first and general ones when no sensitive case waits; only
    they may take sensitive referrals. General facilitators (and volunteers) take general
    referrals only.
    """

    GENERAL = 0
    SPECIALIST = 1

    @property
    def demand(self) -> str:
        """The demand this pool serves first, as capacity tables name the pool:
        ``general`` or ``sensitive``."""
        return "sensitive" if self is Pool.SPECIALIST else "general"

    @classmethod
    def serving(cls, *, sensitive: bool) -> Pool:
        """The pool that serves a referral first (``sensitive``: of a sensitive group)."""
        return cls.SPECIALIST if sensitive else cls.GENERAL


#: The slot kind stored for a case never allocated a facilitator.
NO_POOL = -1
#: Capacity tables' pool of all demand served by both pools together.
ALL_POOLS = "all"


class Verdict(StrEnum):
    """The capacity test's verdict on a criterion, an area or the nation (MODEL.md s6).
    ``n/a``: a criterion that does not apply to an area (e.g. utilisation of an area with no
    caseload slot of its own, coverage where no sensitive case is referred); it never decides
    an area's verdict, which is only ever pass, fail or inconclusive."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "n/a"

    @property
    def severity(self) -> int:
        """Worse is larger: fail 2, inconclusive 1, pass and n/a 0."""
        return {Verdict.FAIL: 2, Verdict.INCONCLUSIVE: 1}.get(self, 0)

    @property
    def met(self) -> bool:
        """Whether the criterion is no bar to passing (pass, or n/a)."""
        return self in (Verdict.PASS, Verdict.NOT_APPLICABLE)


def label(code: IntEnum) -> str:
    """The lower-case name used in tables, e.g. ``withdrew_waiting``."""
    return code.name.lower()
