"""Probability distributions a scenario can name, and how to sample them.

A distribution is declared in TOML as an inline table, e.g. ``{ kind = "lognormal", median = 7,
sigma = 0.6 }``. Each kind takes exactly the parameters listed in :data:`PARAMETERS`; ``never``
means "does not happen" (an infinite time) and is how patience or windows are switched off.
All times are in days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

from rjsim.core.errors import Problem
from rjsim.core.schema import Origin

Kind = Literal["fixed", "exponential", "gamma", "lognormal", "never"]

#: The parameters each kind requires (and the only ones it accepts).
PARAMETERS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "gamma": ("mean", "cv"),
    "lognormal": ("median", "sigma"),
    "never": (),
}


@dataclass(frozen=True)
class Distribution:
    """A non-negative random duration in days (see module docstring for the kinds)."""

    kind: Kind
    value: float | None = None
    mean: float | None = None
    cv: float | None = None
    median: float | None = None
    sigma: float | None = None

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
        return problems

    @property
    def mean_days(self) -> float:
        """The expected value (``inf`` for ``never``)."""
        if self.kind == "fixed":
            return float(self.value or 0.0)
        if self.kind in ("exponential", "gamma"):
            return float(self.mean or 0.0)
        if self.kind == "lognormal":
            return float(self.median or 0.0) * math.exp((self.sigma or 0.0) ** 2 / 2)
        return math.inf

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values with ``rng`` (float64 days; ``inf`` for ``never``)."""
        if self.kind == "fixed":
            return np.full(size, float(self.value or 0.0))
        if self.kind == "exponential":
            return rng.exponential(float(self.mean or 0.0), size)
        if self.kind == "gamma":
            cv = float(self.cv or 0.0)
            if cv == 0.0:
                return np.full(size, float(self.mean or 0.0))
            shape = 1.0 / cv**2
            return rng.gamma(shape, float(self.mean or 0.0) / shape, size)
        if self.kind == "lognormal":
            return rng.lognormal(math.log(float(self.median or 1.0)), float(self.sigma or 0.0),
                                 size)
        return np.full(size, np.inf)

    def describe(self) -> str:
        """A short human description, e.g. ``lognormal(median=7, sigma=0.6) days``."""
        params = ", ".join(f"{n}={getattr(self, n):g}" for n in PARAMETERS[self.kind])
        return f"{self.kind}({params}) days" if params else "never"
