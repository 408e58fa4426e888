"""Offence groups and the checks of scenario settings that name groups or durations, shared by
the scenario's sections (:mod:`rjsim.scenario.spec`, :mod:`rjsim.scenario.right`)."""

from __future__ import annotations

from typing import Any

from rjsim.core.errors import Problem
from rjsim.core.schema import Origin, did_you_mean
from rjsim.scenario.distributions import Distribution, DistributionKind

#: Offence groups, in the fixed order used by every table.
GROUPS: tuple[str, ...] = ("violence", "sexual", "domestic_abuse", "hate", "robbery", "burglary",
                           "vehicle", "theft", "criminal_damage", "shoplifting")
#: Groups only specialist-trained facilitators may take.
SENSITIVE: frozenset[str] = frozenset({"sexual", "domestic_abuse", "hate"})


def finite_time(dist: Distribution, path: str, origin: Origin) -> list[Problem]:
    """A duration must be finite ('never' is only for patience and windows)."""
    if dist.kind is DistributionKind.NEVER:
        return [Problem(origin(path), "must be a finite time: 'never' is only for patience and "
                        "windows", "never")]
    return []


def group_list_problems(groups: Any, path: str, origin: Origin) -> list[Problem]:
    """Each name of ``groups`` that is not an offence group, with the allowed ones."""
    out = []
    for g in groups:
        if g not in GROUPS:
            out.append(Problem(origin(path), f"unknown offence group '{g}'{did_you_mean(g, GROUPS)}"
                               "; allowed: " + ", ".join(GROUPS)))
    return out
