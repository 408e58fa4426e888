"""Parameter uncertainty: which settings are uncertain, their distributions, and samples of them.

Declared once. Every setting with a plausible range (``low`` and ``high``) in the assumptions log
(``data/assumptions.csv``) has a default distribution by one rule, :func:`logged_distribution`:
**triangular, with the scenario's value as its mode, on the logged range narrowed towards the
mode by the log's confidence** -- the whole range for low confidence, three quarters of it for
medium and half of it for high (each side of the mode shrinks by that factor). A setting whose
value is a distribution varies its ``mean`` (exponential, gamma), ``median`` (lognormal) or
``value`` (fixed), the quantity the log's range is about; a table of per-group values (such as
``exits.unsuitable_by_group``) varies each entry on the same range. Whole numbers are rounded.

Not varied by default: choices rather than uncertainties (:data:`DECISIONS`: run settings, the
capacity test's thresholds, the budget and how it is shared, switches that are off by default),
settings the scenario switches off (the right's settings without a right; leakage from a
ringfenced pot), and a setting whose scenario value lies outside its logged range (it is held at
that value unless a distribution is declared for it).

A scenario's ``[uncertainty]`` table chooses what varies and how it is sampled::

    [uncertainty]
    samples = 64                  # parameter sets
    replications = 5              # replications of each set, on common random numbers
    method = "lhs"                # "lhs" (Latin hypercube) or "sobol" (scrambled Sobol')
    vary = []                     # key paths to vary; empty: every ranged setting (above)
    exclude = ["funding.salary_gbp"]
    sample_file = ""              # a CSV or Parquet of parameter sets (columns = key paths)
    [uncertainty.distributions]   # override or add distributions
    "demand.informed" = { kind = "uniform", low = 0.2, high = 0.5 }
    [[uncertainty.correlations]]  # rank-correlated through a Gaussian copula
    parameters = ["demand.informed", "demand.wants_rj"]
    rho = 0.5

Sampling uses :mod:`scipy.stats.qmc` on the unit cube, correlates columns through a Gaussian
copula where declared, and maps each column through its distribution's quantile function.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import Origin, build, did_you_mean, to_plain
from rjsim.core.schema import setting as _f
from rjsim.scenario.spec import Scenario, validate

if TYPE_CHECKING:  # SciPy is imported where it is used: reading scenarios stays quick
    from scipy.stats import qmc

#: Share of each side of the logged range (mode to bound) kept, by the log's confidence.
NARROWING = {"low": 1.0, "medium": 0.75, "high": 0.5}
#: Sections and keys that are choices, not uncertainties: never varied unless named in ``vary``
#: or ``distributions``.
DECISION_SECTIONS = ("run", "areas", "capacity_test")
DECISIONS = frozenset({
    "funding.national_budget_gbp", "funding.floor_gbp", "service.wait_target_days",
    "level_one.diversion_share",  # police street RJ: off by default (a scenario choice)
    "interventions.video_share_of_direct",  # a scenario choice (MODEL.md s4)
    "staffing.volunteer_hours_per_100k_population",  # volunteers: off by default
})
#: The scalar a distribution-valued setting's logged range is about, by distribution kind.
SCALAR_OF_KIND = {"exponential": "mean", "gamma": "mean", "lognormal": "median",
                  "fixed": "value"}
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


# ---- the assumptions log ----------------------------------------------------------------------


def assumptions_log() -> list[dict[str, str]]:
    """The packaged assumptions log, one dict per row."""
    text = resources.files("rjsim").joinpath("data/assumptions.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def logged_distribution(low: float, high: float, central: float, confidence: str
                        ) -> ParameterDistribution:
    """The default rule: triangular with mode ``central`` on ``[low, high]`` narrowed towards
    the mode by :data:`NARROWING` for ``confidence``."""
    f = NARROWING.get(confidence, 1.0)
    lo, hi = central - f * (central - low), central + f * (high - central)
    if hi <= lo:  # a zero-width logged range cannot happen in a valid log; guard anyway
        hi = lo + 1e-12
    return ParameterDistribution("triangular", low=lo, mode=central, high=hi)


def _node(plain: Mapping[str, Any], key: str) -> Any:
    node: Any = plain
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _scalars(plain: Mapping[str, Any], key: str) -> list[tuple[str, Any]]:
    """The numeric leaves a logged key stands for: itself, its distribution's scalar, or each
    entry of its table."""
    node = _node(plain, key)
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float):
        return [(key, node)]
    if isinstance(node, Mapping) and "kind" in node:
        name = SCALAR_OF_KIND.get(str(node["kind"]))
        return [] if name is None else [(f"{key}.{name}", node[name])]
    if isinstance(node, Mapping):
        return [(f"{key}.{k}", v) for k, v in node.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
    return []


def _switched_off(scenario: Scenario, key: str) -> str | None:
    if key.startswith("statutory_right.") and scenario.commence_day is None:
        return "the scenario has no statutory right"
    if key == "funding.leakage_share" and scenario.funding.ringfenced:
        return "the pot is ringfenced (no leakage)"
    return None


def ranged_parameters(scenario: Scenario) -> tuple[list[Parameter], list[tuple[str, str]]]:
    """Every setting with a logged range that varies by default, and those held (with why)."""
    plain = to_plain(scenario)
    out, held = [], []
    for row in assumptions_log():
        key = row["key"]
        try:
            low, high = float(row["low"]), float(row["high"])
        except ValueError:
            continue  # no range: not uncertain in the log
        if key.split(".")[0] in DECISION_SECTIONS or key in DECISIONS:
            held.append((key, "a choice, not an uncertainty (name it in vary to vary it)"))
            continue
        off = _switched_off(scenario, key)
        if off:
            held.append((key, off))
            continue
        for leaf, value in _scalars(plain, key):
            central = float(value)
            if not low <= central <= high:
                held.append((leaf, f"the scenario's value {central:g} is outside the logged "
                             f"range {low:g}-{high:g}; declare a distribution to vary it"))
                continue
            conf = row.get("confidence", "low")
            dist = logged_distribution(low, high, central, conf)
            out.append(Parameter(leaf, dist, f"assumptions log: {conf} confidence, range "
                                 f"{low:g}-{high:g}", central, isinstance(value, int)))
    return out, held


def numeric_setting(scenario: Scenario, key: str) -> tuple[float, bool] | None:
    """``(value, is_integer)`` of a numeric setting at ``key`` in ``scenario``, else None."""
    value = _node(to_plain(scenario), key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value), isinstance(value, int)


def _expand(plain: Mapping[str, Any], key: str) -> list[str]:
    """A key named in ``vary``/``exclude``: a numeric leaf, or a logged key standing for its
    leaves (a distribution's scalar, a table's entries)."""
    return [leaf for leaf, _ in _scalars(plain, key)]


def declare(scenario: Scenario, settings: UncertaintySettings, origin: Origin
            ) -> Declaration:
    """Resolve a scenario's ``[uncertainty]`` table into its parameters; raise
    :class:`ScenarioError` listing every problem (unknown keys, bounds, correlations)."""
    if settings.sample_file:
        return _declare_from_file(scenario, settings, origin)
    plain = to_plain(scenario)
    problems: list[Problem] = []
    logged, held = ranged_parameters(scenario)
    by_key = {p.key: p for p in logged}
    every = sorted({*by_key, *(k for k, _ in held)})

    def resolve(key: str, where: str) -> list[str]:
        leaves = _expand(plain, key)
        if not leaves:
            problems.append(Problem(origin(where), f"'{key}' is not a numeric setting of this "
                                    f"scenario{did_you_mean(key, every)}; settings with a "
                                    "logged range: " + ", ".join(every)))
        return leaves

    if settings.vary:
        chosen = [leaf for i, k in enumerate(settings.vary)
                  for leaf in resolve(k, f"uncertainty.vary[{i}]")]
    else:
        chosen = list(by_key)
    for i, k in enumerate(settings.exclude):
        drop = set(resolve(k, f"uncertainty.exclude[{i}]"))
        chosen = [c for c in chosen if c not in drop]
    for key in settings.distributions:
        if numeric_setting(scenario, key) is None:
            resolve(key, f"uncertainty.distributions.{key}")
        elif key not in chosen and key not in [e for k in settings.exclude
                                                for e in _expand(plain, k)]:
            chosen.append(key)
    params = []
    for key in dict.fromkeys(chosen):
        found = numeric_setting(scenario, key)
        if found is None:
            continue
        central, integer = found
        if key in settings.distributions:
            params.append(Parameter(key, settings.distributions[key], "scenario [uncertainty]",
                                    central, integer))
        elif key in by_key:
            params.append(by_key[key])
        else:
            problems.append(Problem(origin("uncertainty.vary"), f"'{key}' has no range in the "
                                    "assumptions log (or it is held there: "
                                    f"{dict(held).get(key, 'no range')}); declare its "
                                    f"distribution in [uncertainty.distributions.\"{key}\"]"))
    problems += _bounds_problems(scenario, params, origin)
    problems += _correlation_problems(params, settings.correlations, origin)
    if problems:
        raise ScenarioError(problems, "invalid [uncertainty]")
    varied = {p.key for p in params}
    return Declaration(settings, tuple(params),
                       tuple((k, why) for k, why in held if k not in varied))


def _declare_from_file(scenario: Scenario, settings: UncertaintySettings, origin: Origin
                       ) -> Declaration:
    """Parameter sets from a CSV or Parquet file (e.g. the non-implausible sets a calibration
    kept): every column whose name is a key path (has a '.') is a parameter; other columns
    (a set number, an implausibility) are ignored."""
    import pandas as pd

    where = origin("uncertainty.sample_file")
    path = settings.sample_file
    try:
        df = (pd.read_parquet(path) if path.lower().endswith(".parquet")
              else pd.read_csv(path))
    except (OSError, ValueError, ImportError) as exc:
        raise ScenarioError([Problem(where, f"cannot read the sample file '{path}' as "
                                     f"{'Parquet' if path.lower().endswith('.parquet') else 'CSV'}"
                                     f": {exc}")], "invalid [uncertainty]") from None
    keys = [str(c) for c in df.columns if "." in str(c)]
    problems = []
    if not keys or df.empty:
        problems.append(Problem(where, "needs at least one row and one column named by a key "
                                "path, e.g. demand.informed", path))
    params = []
    for key in keys:
        found = numeric_setting(scenario, key)
        col = pd.to_numeric(df[key], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(col))
        if found is None:
            problems.append(Problem(where, f"column '{key}' is not a numeric setting of this "
                                    "scenario", path))
        elif bad.size:
            problems.append(Problem(where, f"column '{key}', row {bad[0] + 2}: must be a finite "
                                    "number", str(df[key].iloc[bad[0]])))
        else:
            params.append(Parameter(key, None, f"sample file {path}", found[0], found[1]))
    if problems:
        raise ScenarioError(problems, "invalid [uncertainty]")
    values = df[keys].to_numpy(dtype=float)
    integer = {p.key: p.integer for p in params}
    for j, p in enumerate(params):
        for end in (values[:, j].min(), values[:, j].max()):
            try:
                apply(scenario, {p.key: end}, integer)
            except ScenarioError as exc:
                problems.append(Problem(where, f"column '{p.key}' has {end:g}, which the scenario "
                                        "does not allow: "
                                        + "; ".join(q.message for q in exc.problems)))
                break
    if problems:
        raise ScenarioError(problems, "invalid [uncertainty]")
    return Declaration(settings, tuple(params), (), values)


def _bounds_problems(scenario: Scenario, params: Sequence[Parameter], origin: Origin
                     ) -> list[Problem]:
    """Each parameter's support must give a valid scenario at both ends."""
    out = []
    for p in params:
        if p.distribution is None:
            continue
        lo, hi = (float(v) for v in p.distribution.ppf(np.array([1e-9, 1 - 1e-9])))
        for end in (lo, hi):
            try:
                apply(scenario, {p.key: end}, {p.key: p.integer})
            except ScenarioError as exc:
                why = "; ".join(q.message for q in exc.problems)
                out.append(Problem(origin(f"uncertainty.distributions.{p.key}"),
                                   f"its distribution {p.distribution.describe()} reaches "
                                   f"{end:g}, which the scenario does not allow: {why}"))
                break
    return out


def _correlation_problems(params: Sequence[Parameter], correlations: Sequence[Correlation],
                          origin: Origin) -> list[Problem]:
    keys = [p.key for p in params]
    out, seen = [], set()
    for i, c in enumerate(correlations):
        where = f"uncertainty.correlations[{i}].parameters"
        for k in c.parameters:
            if k not in keys:
                out.append(Problem(origin(where), f"'{k}' is not a varied parameter"
                                   f"{did_you_mean(k, keys)}", k))
        pair = frozenset(c.parameters)
        if pair in seen:
            out.append(Problem(origin(where), "this pair is correlated twice",
                               repr(list(c.parameters))))
        seen.add(pair)
    if not out and correlations:
        try:
            np.linalg.cholesky(correlation_matrix(keys, correlations))
        except np.linalg.LinAlgError:
            out.append(Problem(origin("uncertainty.correlations"), "the correlations are not "
                               "consistent with each other (their matrix is not positive "
                               "definite); weaken some of them"))
    return out


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


# ---- sampling ---------------------------------------------------------------------------------


def unit_sample(d: int, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of a space-filling design on the unit cube ``[0, 1)^d``."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0))
    engine: qmc.QMCEngine = (qmc.Sobol(d, scramble=True, seed=seed) if method == "sobol"
                             else qmc.LatinHypercube(d, seed=seed))
    return np.asarray(engine.random(n), dtype=float)


def correlate(u: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Impose a Gaussian copula with correlation ``matrix`` on uniform columns ``u``."""
    from scipy import stats

    if u.shape[1] == 0 or np.allclose(matrix, np.eye(len(matrix))):
        return u
    z = stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
    z = z @ np.linalg.cholesky(matrix).T
    return np.asarray(stats.norm.cdf(z), dtype=float)


def to_values(decl: Declaration, u: np.ndarray) -> np.ndarray:
    """Unit-cube points to parameter values (column per parameter, whole numbers rounded)."""
    out = np.empty_like(u)
    for j, p in enumerate(decl.parameters):
        if p.distribution is None:
            raise ValueError(f"{p.key}: values from a sample file have no distribution")
        col = p.distribution.ppf(u[:, j])
        out[:, j] = np.round(col) if p.integer else col
    return out


def sample(decl: Declaration, seed: int) -> np.ndarray:
    """The declared sample: ``settings.samples`` rows, one column per parameter (or the sample
    file's parameter sets)."""
    if decl.file_values is not None:
        return decl.file_values.copy()
    s = decl.settings
    u = unit_sample(len(decl.parameters), s.samples, s.method, seed)
    u = correlate(u, correlation_matrix(decl.keys, s.correlations))
    return to_values(decl, u)


# ---- parameter sets to scenarios --------------------------------------------------------------


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
