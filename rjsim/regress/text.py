"""Plain-text reports of regression checks and reference updates (printed by the CLI)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from rjsim.regress.check import RegressionResult, ScenarioResult, UpdateResult
from rjsim.regress.refs import RegressConfig
from rjsim.regress.stats import Floor, KpiCheck


def _header(level: float) -> str:
    return (f"  {'KPI':<44}{'reference':>13}{'new':>13}{'difference':>12}"
            f"  {f'{level:.0%} interval':<24}{'tolerance':>11}  verdict")


def _g(x: float, fmt: str = ".6g") -> str:
    return "n/a" if math.isnan(x) else format(x, fmt)


def _label(kpi: str, area: str | None) -> str:
    return kpi if area is None else f"{kpi} [{area}]"


def _row(c: KpiCheck) -> str:
    interval = "" if math.isnan(c.low) else f"[{_g(c.low, '+.3g')}, {_g(c.high, '+.3g')}]"
    return (f"  {_label(c.kpi, c.area):<44}{_g(c.reference):>13}{_g(c.new):>13}"
            f"{_g(c.difference, '+.4g'):>12}  {interval:<24}{'±' + _g(c.tolerance, '.3g'):>11}"
            f"  {c.verdict}")


def describe_config(config: RegressConfig) -> str:
    """One line: the configuration and the test."""
    return (f"{len(config.areas)} areas ({', '.join(config.areas)}), {config.years:g} year(s), "
            f"{config.replications} replications; a KPI is equivalent when the "
            f"{config.equivalence_ci:.0%} Welch interval of new - reference lies within "
            "its tolerance")


def _exact_lines(s: ScenarioResult) -> list[str]:
    e = s.exact
    if e.identical:
        return [f"  exact: identical ({e.cells_compared:,} cells)"]
    lines = [f"  exact: {e.cells_differing:,} of {e.cells_compared:,} cells differ"
             + ("; first:" if e.first else "")]
    lines += [f"    {d}" for d in e.first]
    lines += [f"    {problem}" for problem in e.structural]
    return lines


def _scenario_lines(s: ScenarioResult, level: float, *, quiet: bool) -> list[str]:
    failed = [c for c in s.checks if not c.passed]
    status = "PASS" if s.statistical_ok and s.exact.identical else (
        "EXACT DIFFERENCES ONLY" if s.statistical_ok else "REGRESSION")
    lines = [f"{s.name} ({s.file}, {s.seconds:.1f} s): {status}", *_exact_lines(s),
             f"  statistical: {len(s.checks) - len(failed)} of {len(s.checks)} KPIs equivalent"]
    shown = failed if quiet else list(s.checks)
    if shown:
        lines += [_header(level), *(_row(c) for c in shown)]
    lines += [f"  note: {n}" for n in s.notes]
    return lines


def check_text(result: RegressionResult, *, statistical_only: bool = False,
               quiet: bool = False) -> str:
    """The report of a regression check: per scenario, each layer and each KPI's verdict
    (only failing KPIs when ``quiet``), then the overall verdict and exit status."""
    lines = [f"Regression check against {result.reference}/: "
             f"{describe_config(result.declaration.config)}.", ""]
    for s in result.scenarios:
        lines += [*_scenario_lines(s, result.declaration.config.equivalence_ci, quiet=quiet), ""]
    lines += [f"note: {n}" for n in result.notes]
    lines.append(_verdict(result, statistical_only=statistical_only))
    return "\n".join(lines)


def _verdict(result: RegressionResult, *, statistical_only: bool) -> str:
    n = len(result.scenarios)
    status = result.exit_status(statistical_only=statistical_only)
    regressed = [s.name for s in result.scenarios if not s.statistical_ok]
    inexact = [s.name for s in result.scenarios if not s.exact.identical]
    if regressed:
        return (f"REGRESSION (exit {status}): KPIs not equivalent to the reference in "
                f"{', '.join(regressed)} (of {n} scenario(s), {result.seconds:.0f} s)")
    if inexact:
        what = ("reported, not failed (--statistical-only)" if statistical_only else
                "failing; if the code change was meant to change random draws, update the "
                "references with --reason, or pass --statistical-only")
        return (f"EXACT DIFFERENCES ONLY (exit {status}): every KPI is statistically "
                f"equivalent, but {', '.join(inexact)} no longer reproduce the reference "
                f"tables exactly: {what} ({n} scenario(s), {result.seconds:.0f} s)")
    return (f"PASS (exit {status}): {n} scenario(s) reproduce their references exactly and every "
            f"KPI is equivalent ({result.seconds:.0f} s)")


def _worst(floors: Iterable[Floor]) -> list[Floor]:
    """Per (level, KPI) the scenario and area where the noise floor is closest to the
    tolerance."""
    worst: dict[tuple[bool, str], Floor] = {}
    for f in floors:
        key = (f.area is not None, f.kpi)
        if key not in worst or _ratio(f) > _ratio(worst[key]):
            worst[key] = f
    return list(worst.values())


def _ratio(f: Floor) -> float:
    if math.isnan(f.floor) or f.floor == 0:
        return 0.0
    return math.inf if f.tolerance == 0 else f.floor / f.tolerance


def update_text(result: UpdateResult) -> str:
    """The report of an update: what was written and how each tolerance compares with the
    noise of the new references."""
    kept = ", ".join(result.kept) or "none"
    lines = [f"References written to {result.reference}/ in {result.seconds:.0f} s: "
             f"{len(result.updated)} scenario(s) regenerated ({', '.join(result.updated)}); "
             f"kept unchanged: {kept}.", "",
             "Tolerances against noise (noise floor: the smallest tolerance a rerun with "
             "another seed passes with ~99.9% probability), worst scenario and area per KPI:",
             f"  {'KPI':<44}{'tolerance':>12}{'noise floor':>13}  {'where':<48}verdict"]
    for f in _worst(result.floors):
        where = f.scenario + ("" if f.area is None else f" {f.area}")
        lines.append(f"  {_label(f.kpi, 'area' if f.area else None):<44}"
                     f"{_g(f.tolerance, '.4g'):>12}{_g(f.floor, '.4g'):>13}  {where:<48}"
                     f"{'ok' if f.ok else 'TOO TIGHT: noise alone may fail this KPI'}")
    tight = [f for f in result.floors if not f.ok]
    if tight:
        lines += ["", f"warning: {len(tight)} tolerance(s) are below their noise floor: widen "
                  "them in manifest.json (with a rationale) or add replications"]
    return "\n".join(lines)
