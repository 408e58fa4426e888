"""Regression references: the committed KPI tables that ``rjsim regress`` compares runs with.

A reference directory (default ``results/reference/``, committed to git) holds::

    manifest.json             what is declared (the CI-sized configuration, the KPIs judged and
                              their tolerances) and what was generated (per scenario: its file,
                              fingerprint, code digest and versions), with a history of updates
    <scenario>/national.csv   one row per replication: national KPIs
    <scenario>/area.csv       one row per replication and area: area KPIs

Tables are small CSV files (they diff well in git) whose floats are written in their shortest
round-trip form, so reading them back gives the same numbers bit for bit. The directory is
written into a hidden temporary sibling and renamed into place, so it is never half-written.
Nothing here runs the model; every problem found reading references is a
:class:`RegressionError` naming the file and what is wrong.
"""

from __future__ import annotations

import io
import json
import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.core.errors import InputError, Problem
from rjsim.results import atomic

MANIFEST = "manifest.json"
FORMAT_KEY = "rjsim_regression_references"
LEVELS = ("national", "area")
KEYS: dict[str, tuple[str, ...]] = {"national": ("replication",),
                                     "area": ("replication", "area")}
#: Columns every reference table keeps for the exact layer (the judged KPIs are added).
EXACT_COLUMNS = (
    "eligible_victims", "asked_for_rj", "referrals", "allocations", "interventions",
    "closed_completed", "lost_withdrew_waiting", "lost_window_closed", "lost_no_service",
    "lost_unallocated_at_end", "unmet_demand", "wait_alloc_days_p90",
    "wait_intervention_days_mean", "facilitator_hours", "fte_in_post", "cost_gbp",
)
UPDATE_COMMAND = 'rjsim regress --update --reason "..."'
UPDATE_HINT = f"regenerate them with: {UPDATE_COMMAND}"


class RegressionError(InputError):
    """Regression references are missing, corrupted or inconsistent with what is declared."""

    def __init__(self, problems: list[Problem] | Problem,
                 summary: str = "cannot use the regression references") -> None:
        super().__init__([problems] if isinstance(problems, Problem) else problems, summary)


@dataclass(frozen=True)
class Tolerance:
    """An equivalence margin: ``max(absolute, relative * |reference mean|)``."""

    absolute: float = 0.0
    relative: float = 0.0
    rationale: str = ""

    def margin(self, reference_mean: float) -> float:
        """The margin around a reference mean (the absolute part alone if it is NaN)."""
        scaled = self.relative * abs(reference_mean) if math.isfinite(reference_mean) else 0.0
        return max(self.absolute, scaled)

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.absolute:
            out["absolute"] = self.absolute
        if self.relative:
            out["relative"] = self.relative
        return out | {"rationale": self.rationale}


@dataclass(frozen=True)
class RegressConfig:
    """The CI-sized run every reference scenario is reduced to (by overrides, never by editing
    the scenario files)."""

    areas: tuple[str, ...]
    years: float
    replications: int
    equivalence_ci: float = 0.90  # two one-sided tests at 5% each

    def overrides(self, seed: int | None = None) -> dict[str, Any]:
        """Scenario overrides that apply this configuration (and another seed, if given)."""
        run: dict[str, Any] = {"years": self.years}
        if seed is not None:
            run["seed"] = seed
        return {"run": run, "areas": {"include": list(self.areas)}}

    def plain(self) -> dict[str, Any]:
        return {"areas": list(self.areas), "years": self.years,
                "replications": self.replications, "equivalence_ci": self.equivalence_ci}

    def same_run(self, other: Mapping[str, Any]) -> bool:
        """Whether tables generated with ``other`` (a manifest's record) match this run."""
        mine = self.plain()
        return all(other.get(k) == mine[k] for k in ("areas", "years", "replications"))


@dataclass(frozen=True)
class Declaration:
    """What a manifest declares: the configuration and each judged KPI's tolerance."""

    config: RegressConfig
    tolerances: Mapping[str, Mapping[str, Tolerance]]  # level -> KPI -> tolerance

    def columns(self, level: str) -> tuple[str, ...]:
        """Key columns, then the exact-layer columns and every judged KPI of ``level``."""
        extra = [k for k in self.tolerances.get(level, {}) if k not in EXACT_COLUMNS]
        return (*KEYS[level], *EXACT_COLUMNS, *extra)

    def plain(self) -> dict[str, Any]:
        return {"config": self.config.plain(),
                "tolerances": {lvl: {k: t.plain() for k, t in kpis.items()}
                               for lvl, kpis in self.tolerances.items()}}


@dataclass(frozen=True)
class ScenarioReference:
    """One scenario's reference tables and how they were generated."""

    name: str
    file: str
    record: Mapping[str, Any]  # the manifest entry: file, fingerprint, config, generated
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class References:
    """A reference directory as read: the declaration, each scenario and the raw manifest."""

    root: Path
    declaration: Declaration
    scenarios: Mapping[str, ScenarioReference]
    manifest: Mapping[str, Any]


# The declaration a new reference directory starts with; from then on its manifest is the
# declaration (edit it there). Areas: City of London (no caseload slot of its own: served by
# the Metropolitan Police's service by default, which runs with it but is not reported, so
# City of London's budget is outside the references' national cost), Cumbria and Dyfed-Powys
# (small, one English and one Welsh), Avon and Somerset (large), West Midlands (among the
# largest; the Metropolitan Police is left out for time). Tolerances: each above its KPI's
# noise floor at this configuration in every shipped scenario and area (docs/developers.md:
# Regression checks).
DEFAULT_AREAS = ("E23000034", "E23000002", "W15000004", "E23000036", "E23000014")
DEFAULT_TOLERANCES: dict[str, dict[str, Tolerance]] = {
    "national": {
        "unmet_demand_rate": Tolerance(0.01, 0.0, "1 percentage point of referrals lost to "
                                       "capacity, the smallest shift a capacity case would "
                                       "report; noise floor at most 0.0065"),
        "share_allocated_within_target": Tolerance(0.01, 0.0, "1 percentage point of referrals "
                                                   "allocated within the target; noise floor "
                                                   "at most 0.007"),
        "wait_alloc_days_mean": Tolerance(2.0, 0.05, "5% of the mean wait, at least 2 days; "
                                          "noise floor at most 2.9 days (baseline, 94 days)"),
        "referrals_per_year": Tolerance(0.0, 0.02, "2%: Poisson demand varies little (noise "
                                        "floor at most 1.1%); a funnel change moves it more"),
        "interventions_per_year": Tolerance(0.0, 0.05, "5%: interventions follow capacity; "
                                            "noise floor at most 3.8%"),
        "annual_cost_gbp": Tolerance(0.0, 0.001, "0.1%: cost follows the deterministic "
                                     "staffing path, so it does not move with the seed; any "
                                     "change is a model change"),
        "backlog_mean": Tolerance(0.0, 0.05, "5% of the mean backlog; noise floor at most "
                                  "3.1%"),
        "utilisation": Tolerance(0.01, 0.0, "1 percentage point of slots busy; noise floor at "
                                 "most 0.0067"),
    },
    "area": {
        "unmet_demand_rate": Tolerance(0.05, 0.0, "5 percentage points in any one area: small "
                                       "areas vary far more than the nation; noise floor at "
                                       "most 0.04 (City of London, few slots)"),
    },
}
DEFAULT_DECLARATION = Declaration(RegressConfig(DEFAULT_AREAS, 2, 20), DEFAULT_TOLERANCES)


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a reference directory, checked to be one."""
    path = root / MANIFEST
    if not root.is_dir():
        raise RegressionError(Problem(str(root), "reference directory does not exist; create "
                                      f"the references first ({UPDATE_COMMAND})"))
    if not path.is_file():
        raise RegressionError(Problem(str(path), f"missing; {UPDATE_HINT}"))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RegressionError(Problem(str(path), f"cannot be read ({exc})")) from None
    except json.JSONDecodeError as exc:
        raise RegressionError(Problem(str(path), f"is not valid JSON ({exc})")) from None
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != 1:
        raise RegressionError(Problem(str(path), "is not an rjsim regression manifest (it "
                                      f"needs \"{FORMAT_KEY}\": 1)"))
    return data


def _number(value: Any, where: str, problems: list[Problem], low: float = 0.0, *,
            integer: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (integer and value != int(value)):
        kind = "a whole number" if integer else "a number"
        problems.append(Problem(where, f"must be {kind} of at least {low:g}", repr(value)))
        return math.nan
    return float(value)


def _config(data: Any, where: str, problems: list[Problem]) -> RegressConfig:
    if not isinstance(data, dict):
        problems.append(Problem(where, "must be a table with areas, years and replications"))
        return RegressConfig((), math.nan, 0)
    areas = data.get("areas")
    if not (isinstance(areas, list) and areas and all(isinstance(a, str) for a in areas)):
        problems.append(Problem(f"{where}.areas", "must be a non-empty list of area codes or "
                                "names", repr(areas)))
        areas = []
    years = _number(data.get("years"), f"{where}.years", problems, low=0.1)
    reps = _number(data.get("replications"), f"{where}.replications", problems, 3, integer=True)
    ci = _number(data.get("equivalence_ci", 0.90), f"{where}.equivalence_ci", problems, 0.5)
    if ci >= 1:
        problems.append(Problem(f"{where}.equivalence_ci", "must be below 1 (e.g. 0.90)", str(ci)))
    return RegressConfig(tuple(areas), years, int(reps) if math.isfinite(reps) else 0, ci)


def _tolerance(data: Any, where: str, problems: list[Problem]) -> Tolerance:
    if not isinstance(data, dict) or not ({"absolute", "relative"} & data.keys()):
        problems.append(Problem(where, "must be a table with 'absolute' and/or 'relative' (and "
                                "a 'rationale')", repr(data)))
        return Tolerance()
    unknown = sorted(set(data) - {"absolute", "relative", "rationale"})
    if unknown:
        problems.append(Problem(where, "unknown keys (allowed: absolute, relative, rationale)",
                                ", ".join(unknown)))
    absolute = _number(data.get("absolute", 0.0), f"{where}.absolute", problems)
    relative = _number(data.get("relative", 0.0), f"{where}.relative", problems)
    return Tolerance(absolute, relative, str(data.get("rationale", "")))


def parse_declaration(manifest: Mapping[str, Any], where: str) -> Declaration:
    """The declared configuration and tolerances of a manifest (all problems reported)."""
    problems: list[Problem] = []
    config = _config(manifest.get("config"), f"{where}: config", problems)
    raw = manifest.get("tolerances")
    tolerances: dict[str, dict[str, Tolerance]] = {}
    if not isinstance(raw, dict) or not raw or set(raw) - set(LEVELS):
        problems.append(Problem(f"{where}: tolerances", "must be a table with 'national' and/or "
                                "'area', each KPI -> tolerance", repr(raw)[:80]))
        raw = {}
    for level, kpis in raw.items():
        if not isinstance(kpis, dict):
            problems.append(Problem(f"{where}: tolerances.{level}", "must be a table of KPIs"))
            continue
        tolerances[level] = {kpi: _tolerance(t, f"{where}: tolerances.{level}.{kpi}", problems)
                             for kpi, t in kpis.items()}
    if problems:
        raise RegressionError(problems, "invalid regression manifest")
    return Declaration(config, tolerances)


def table_text(df: pd.DataFrame) -> str:
    """A table as CSV text, floats in shortest round-trip form."""
    return df.to_csv(index=False, lineterminator="\n")


def parse_table(text: str, where: str, level: str, declaration: Declaration) -> pd.DataFrame:
    """Parse a reference table and check its columns and types; rows are sorted by key."""
    try:
        df = pd.read_csv(io.StringIO(text), dtype={"area": str})
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise RegressionError(Problem(where, f"is not a valid CSV table ({exc}); "
                                      f"{UPDATE_HINT}")) from None
    problems = []
    judged = set(declaration.tolerances.get(level, {}))
    missing = [c for c in (*KEYS[level], *judged) if c not in df.columns]
    if missing:
        problems.append(Problem(where, f"missing column(s) {', '.join(sorted(missing))}"))
    for col in df.columns:
        if col != "area" and not pd.api.types.is_numeric_dtype(df[col]):
            problems.append(Problem(where, f"column '{col}' is not numeric"))
    if problems:
        problems[-1] = Problem(problems[-1].where, f"{problems[-1].message}; {UPDATE_HINT}")
        raise RegressionError(problems)
    return df.sort_values(list(KEYS[level]), ignore_index=True)


def _check_rows(df: pd.DataFrame, where: str, level: str, config: RegressConfig) -> None:
    reps = list(range(config.replications))
    want = len(reps) * (len(config.areas) if level == "area" else 1)
    found = sorted(set(df["replication"].tolist()))
    if found != reps or len(df) != want or df.duplicated(list(KEYS[level])).any():
        raise RegressionError(Problem(where, f"has {len(df)} rows for replications "
                                      f"{_span(found)}; the configuration needs {want} rows "
                                      f"(replications 0-{len(reps) - 1}); {UPDATE_HINT}"))


def _span(values: list[Any]) -> str:
    return f"{values[0]}-{values[-1]}" if values else "none"


def read_table(root: Path, name: str, level: str, declaration: Declaration) -> pd.DataFrame:
    """One reference table, checked against the declaration."""
    path = root / name / f"{level}.csv"
    if not path.is_file():
        raise RegressionError(Problem(str(path), f"missing; {UPDATE_HINT}"))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegressionError(Problem(str(path), f"cannot be read ({exc})")) from None
    df = parse_table(text, str(path), level, declaration)
    _check_rows(df, str(path), level, declaration.config)
    return df


def _scenario_record(name: str, record: Any, where: str, config: RegressConfig
                     ) -> Mapping[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("file"), str):
        raise RegressionError(Problem(f"{where}: scenarios.{name}", "must be a table with the "
                                      "scenario's 'file' (and fingerprint, config, generated)"))
    if not isinstance(record.get("config"), dict) or not config.same_run(record["config"]):
        raise RegressionError(Problem(
            f"{where}: scenarios.{name}", "was generated with another configuration "
            f"({record.get('config')}) than the declared one ({config.plain()}); {UPDATE_HINT}"))
    return record


def read_references(root: Path, names: list[str] | None = None) -> References:
    """Read and check a reference directory (only the named scenarios' tables, if given)."""
    manifest = read_manifest(root)
    where = str(root / MANIFEST)
    declaration = parse_declaration(manifest, where)
    entries = manifest.get("scenarios")
    if not isinstance(entries, dict) or not entries:
        raise RegressionError(Problem(f"{where}: scenarios", f"no scenario references; "
                                      f"{UPDATE_HINT}"))
    scenarios = {}
    for name, record in entries.items():
        if names is not None and name not in names:
            continue
        rec = _scenario_record(name, record, where, declaration.config)
        tables = {lvl: read_table(root, name, lvl, declaration) for lvl in LEVELS}
        scenarios[name] = ScenarioReference(name, rec["file"], rec, tables)
    return References(root, declaration, scenarios, manifest)


def write_references(root: Path, manifest: Mapping[str, Any],
                     tables: Mapping[str, Mapping[str, str]], keep: list[str]) -> None:
    """Write a complete reference directory at ``root`` atomically.

    ``tables`` maps scenario -> level -> CSV text; scenarios in ``keep`` are copied unchanged
    from the current directory.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic.temp_dir(root)
    try:
        for name in keep:
            shutil.copytree(root / name, tmp / name)
        for name, levels in tables.items():
            (tmp / name).mkdir()
            for level, text in levels.items():
                (tmp / name / f"{level}.csv").write_text(text, encoding="utf-8")
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        atomic.replace_dir(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
