"""Parameter uncertainty, declared once: a scenario's ``[uncertainty]`` table and what it
resolves to (the parameters, their distributions and correlations).

The table chooses what varies and how it is sampled::

    [uncertainty]
    samples = 64                  # parameter sets
    replications = 5              # replications of each set, on common random numbers
    method = "lhs"                # "lhs" (Latin hypercube) or "sobol" (scrambled Sobol')
    vary = []                     # key paths to vary; empty: every ranged setting
    exclude = ["funding.salary_gbp"]
    sample_file = ""              # a CSV or Parquet of parameter sets (columns = key paths)
    [uncertainty.distributions]   # override or add distributions
    "demand.informed" = { kind = "uniform", low = 0.2, high = 0.5 }
    [[uncertainty.correlations]]  # rank-correlated through a Gaussian copula
    parameters = ["demand.informed", "demand.wants_rj"]
    rho = 0.5

Where the default distributions come from: :mod:`rjsim.scenario.uncertainty_rules`; how a table
is resolved against a scenario and checked: :mod:`rjsim.scenario.uncertainty_declare`; how
parameter sets are drawn: :mod:`rjsim.scenario.uncertainty_sample`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import Origin, build, to_plain
from rjsim.core.schema import setting as _f
from rjsim.scenario.spec import Scenario, validate

MAX_SAMPLES = 100_000

DistKind = Literal["uniform", "triangular", "loguniform", "normal"]
_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # required, optional
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "loguniform": (("low", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),  # optionally truncated to [low, high]
}


@dataclass(frozen=True)
class ParameterDistribution:
    """The distribution of one uncertain setting (see :data:`_PARAMS` for each kind's
    parameters)."""

    kind: DistKind
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    def check(self, path: str, origin: Origin) -> list[Problem]:
        required, optional = _PARAMS[self.kind]
        allowed = required + optional
        p = []
        for name in ("low", "high", "mode", "mean", "sd"):
            if getattr(self, name) is not None and name not in allowed:
                p.append(Problem(origin(f"{path}.{name}"), f"is not a parameter of a "
                                 f"'{self.kind}' distribution; it takes: " + ", ".join(allowed)))
        p += [Problem(origin(f"{path}.{name}"), f"is required for a '{self.kind}' distribution")
              for name in required if getattr(self, name) is None]
        if p:
            return p
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and not lo < hi:
            p.append(Problem(origin(path), "needs low < high", f"low {lo:g}, high {hi:g}"))
        elif self.kind == "triangular" and not (lo or 0) <= (self.mode or 0) <= (hi or 0):
            p.append(Problem(origin(f"{path}.mode"), f"must lie in [low, high] = [{lo:g}, "
                             f"{hi:g}]", f"{self.mode:g}"))
        elif self.kind == "loguniform" and (lo or 0) <= 0:
            p.append(Problem(origin(f"{path}.low"), "must be greater than 0 for a 'loguniform' "
                             "distribution", f"{lo:g}"))
        elif self.kind == "normal" and (self.sd or 0) <= 0:
            p.append(Problem(origin(f"{path}.sd"), "must be greater than 0", f"{self.sd:g}"))
        return p

    def frozen(self) -> Any:
        """The scipy.stats frozen distribution."""
        from scipy import stats

        lo, hi = self.low, self.high
        if self.kind == "uniform":
            return stats.uniform(lo, (hi or 0) - (lo or 0))
        if self.kind == "triangular":
            width = (hi or 0) - (lo or 0)
            return stats.triang(((self.mode or 0) - (lo or 0)) / width, lo, width)
        if self.kind == "loguniform":
            return stats.loguniform(lo, hi)
        mean, sd = float(self.mean or 0), float(self.sd or 1)
        a = -math.inf if lo is None else (lo - mean) / sd
        b = math.inf if hi is None else (hi - mean) / sd
        return stats.truncnorm(a, b, loc=mean, scale=sd)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function, vectorised."""
        return np.asarray(self.frozen().ppf(u), dtype=float)

    def describe(self) -> str:
        required, optional = _PARAMS[self.kind]
        params = [f"{n}={getattr(self, n):g}" for n in required + optional
                  if getattr(self, n) is not None]
        return f"{self.kind}({', '.join(params)})"


@dataclass(frozen=True)
class Correlation:
    parameters: tuple[str, ...] = _f("the two key paths correlated")
    rho: float = _f("rank correlation of the two (Gaussian copula)", min=-0.99, max=0.99)

    def check(self, path: str, origin: Origin) -> list[Problem]:
        if len(self.parameters) != 2 or self.parameters[0] == self.parameters[1]:
            return [Problem(origin(f"{path}.parameters"), "must name exactly two different "
                            "settings", repr(list(self.parameters)))]
        return []


@dataclass(frozen=True)
class UncertaintySettings:
    """A scenario's ``[uncertainty]`` table (module docstring)."""

    samples: int = field(default=64, metadata={"min": 2, "max": MAX_SAMPLES})
    replications: int = field(default=5, metadata={"min": 1, "max": 1000})
    method: Literal["lhs", "sobol"] = "lhs"
    seed: int | None = field(default=None, metadata={"min": 0})
    vary: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    distributions: dict[str, ParameterDistribution] = field(default_factory=dict)
    correlations: tuple[Correlation, ...] = ()
    sample_file: str = ""

    def check(self, path: str, origin: Origin) -> list[Problem]:
        n = self.samples
        if self.method == "sobol" and n & (n - 1):
            return [Problem(origin(f"{path}.samples"), "must be a power of two for 'sobol' "
                            f"sampling (e.g. {1 << max(n.bit_length() - 1, 1)} or "
                            f"{1 << n.bit_length()}), or use method = 'lhs'", str(n))]
        return []


@dataclass(frozen=True)
class Parameter:
    """One uncertain setting: its key path, distribution, where the distribution comes from,
    its value in the scenario (the centre) and whether it is a whole number."""

    key: str
    distribution: ParameterDistribution | None  # None: the values come from a sample file
    source: str
    central: float
    integer: bool = False


@dataclass(frozen=True)
class Declaration:
    """What varies: the parameters in a fixed order, plus settings with a logged range that
    are held (with the reason), and the parameter sets of a sample file if one is named."""

    settings: UncertaintySettings
    parameters: tuple[Parameter, ...]
    held: tuple[tuple[str, str], ...] = ()
    file_values: np.ndarray | None = None  # (sets, parameters), from ``sample_file``

    @property
    def samples(self) -> int:
        return (self.settings.samples if self.file_values is None
                else len(self.file_values))

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def table(self) -> list[dict[str, Any]]:
        """One row per setting with a range: varied (distribution, source) or held (why)."""
        rows = [{"key": p.key, "varied": True, "central": p.central,
                 "distribution": p.distribution.describe() if p.distribution else "from file",
                 "source": p.source}
                for p in self.parameters]
        rows += [{"key": k, "varied": False, "central": math.nan, "distribution": "",
                  "source": why} for k, why in self.held]
        return rows



def correlation_matrix(keys: Sequence[str], correlations: Sequence[Correlation]) -> np.ndarray:
    """The Gaussian copula's correlation matrix over ``keys``."""
    index = {k: i for i, k in enumerate(keys)}
    m = np.eye(len(keys))
    for c in correlations:
        a, b = (index[k] for k in c.parameters)
        m[a, b] = m[b, a] = c.rho
    return m


def parse_settings(raw: Any, origin: Origin) -> UncertaintySettings:
    """Validate an ``[uncertainty]`` table (its schema only; :func:`declare` checks keys)."""
    problems: list[Problem] = []
    built = build(UncertaintySettings, raw, "uncertainty", origin, problems)
    if problems or built is None:
        raise ScenarioError(problems, "invalid [uncertainty]")
    return built



def apply(scenario: Scenario, values: Mapping[str, float],
          integer: Mapping[str, bool] | None = None, label: str = "uncertainty sample",
          name: str | None = None) -> Scenario:
    """``scenario`` with the settings at ``values``' key paths replaced (validated again)."""
    plain = to_plain(scenario)
    for key, value in values.items():
        node = plain
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = round(value) if (integer or {}).get(key) else float(value)
    if name is not None:
        plain["name"] = name
    return validate(plain, lambda path: f"{label}: {path}")
