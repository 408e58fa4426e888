"""Resolving a scenario's ``[uncertainty]`` table into its parameters, and checking it: unknown
keys, distributions whose support the scenario does not allow, inconsistent correlations and
unreadable sample files are validation errors like any other (all reported together)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import Origin, did_you_mean, to_plain
from rjsim.scenario.spec import Scenario
from rjsim.scenario.uncertainty import (
    Correlation,
    Declaration,
    Parameter,
    UncertaintySettings,
    apply,
    correlation_matrix,
)
from rjsim.scenario.uncertainty_rules import expand, numeric_setting, ranged_parameters


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
        leaves = expand(plain, key)
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
                                                for e in expand(plain, k)]:
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

