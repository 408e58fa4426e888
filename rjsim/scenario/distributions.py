"""Probability distributions a scenario can name, and how to sample them.

A distribution is declared in TOML as an inline table, e.g. ``{ kind = "lognormal", median = 7,
sigma = 0.6 }``. Its ``kind`` is a :class:`DistributionKind`; each kind takes exactly the
parameters listed in :data:`PARAMETERS`; ``never`` means "does not happen" (an infinite time)
and is how patience or windows are switched off. All times are in days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum

import numpy as np

from rjsim.core.errors import Problem
from rjsim.core.schema import Origin


class DistributionKind(StrEnum):
    """The kinds of distribution a scenario can name (the value is the TOML word)."""

    FIXED = "fixed"
    EXPONENTIAL = "exponential"
    GAMMA = "gamma"
    LOGNORMAL = "lognormal"
    NEVER = "never"


#: The parameters each kind requires (and the only ones it accepts).
PARAMETERS: dict[DistributionKind, tuple[str, ...]] = {
    DistributionKind.FIXED: ("value",),
    DistributionKind.EXPONENTIAL: ("mean",),
    DistributionKind.GAMMA: ("mean", "cv"),
    DistributionKind.LOGNORMAL: ("median", "sigma"),
    DistributionKind.NEVER: (),
}


#: Upper bounds of the parameters: durations at most 100 years; a coefficient of variation
#: at most 10 and a lognormal sigma at most 5 (wider spreads overflow the mean or the sampler).
LIMITS: dict[str, float] = {"value": 36_500.0, "mean": 36_500.0, "median": 36_500.0,
                            "cv": 10.0, "sigma": 5.0}
UNITS: dict[str, str] = {"value": " days", "mean": " days", "median": " days", "cv": "",
                         "sigma": ""}
#: The smallest non-zero coefficient of variation (the gamma shape 1/cv**2 must stay finite).
MIN_CV = 1e-3


@dataclass(frozen=True)
class Distribution:
    """A non-negative random duration in days (see module docstring for the kinds)."""

    kind: DistributionKind
    value: float | None = None
    mean: float | None = None
    cv: float | None = None
    median: float | None = None
    sigma: float | None = None

    def __post_init__(self) -> None:
        # code may name the kind by its word, Distribution("gamma", ...): hold the enum
        object.__setattr__(self, "kind", DistributionKind(self.kind))

    def check(self, path: str, origin: Origin) -> list[Problem]:
        """Return the problems with this distribution's parameters (empty when valid)."""
        needed = PARAMETERS[self.kind]
        given = {f.name for f in fields(self) if f.name != "kind" and getattr(self, f.name)
                 is not None}
        problems = []
        for name in sorted(given - set(needed)):
            problems.append(Problem(origin(f"{path}.{name}"), f"is not a parameter of a "
                                    f"'{self.kind}' distribution; it takes: "
                                    + (", ".join(needed) or "no parameters")))
        for name in needed:
            value = getattr(self, name)
            if value is None:
                problems.append(Problem(origin(f"{path}.{name}"),
                                        f"is required for a '{self.kind}' distribution"))
            elif value < 0 or (name in ("mean", "median") and value == 0):
                problems.append(Problem(origin(f"{path}.{name}"), "must be positive"
                                        + (" or zero" if name in ("value", "cv", "sigma")
                                           else ""), repr(value)))
            elif value > LIMITS[name]:
                problems.append(Problem(origin(f"{path}.{name}"), f"must be at most "
                                        f"{LIMITS[name]:g}{UNITS[name]}", repr(value)))
            elif name == "cv" and 0 < value < MIN_CV:
                problems.append(Problem(origin(f"{path}.{name}"), f"must be 0 (no variation) "
                                        f"or at least {MIN_CV:g}", repr(value)))
        return problems

    @property
    def mean_days(self) -> float:
        """The expected value (``inf`` for ``never``)."""
        if self.kind is DistributionKind.FIXED:
            return float(self.value or 0.0)
        if self.kind in (DistributionKind.EXPONENTIAL, DistributionKind.GAMMA):
            return float(self.mean or 0.0)
        if self.kind is DistributionKind.LOGNORMAL:
            return float(self.median or 0.0) * math.exp((self.sigma or 0.0) ** 2 / 2)
        return math.inf

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values with ``rng`` (float64 days; ``inf`` for ``never``)."""
        if self.kind is DistributionKind.FIXED:
            return np.full(size, float(self.value or 0.0))
        if self.kind is DistributionKind.EXPONENTIAL:
            return rng.exponential(float(self.mean or 0.0), size)
        if self.kind is DistributionKind.GAMMA:
            cv = float(self.cv or 0.0)
            if cv == 0.0:
                return np.full(size, float(self.mean or 0.0))
            shape = 1.0 / cv**2
            return rng.gamma(shape, float(self.mean or 0.0) / shape, size)
        if self.kind is DistributionKind.LOGNORMAL:
            return rng.lognormal(math.log(float(self.median or 1.0)), float(self.sigma or 0.0),
                                 size)
        return np.full(size, np.inf)

    def describe(self) -> str:
        """A short human description, e.g. ``lognormal(median=7, sigma=0.6) days``."""
        params = ", ".join(f"{n}={getattr(self, n):g}" for n in PARAMETERS[self.kind])
        return f"{self.kind}({params}) days" if params else "never"
