"""Regression checks for CI: rerun scenarios at a small configuration and compare their KPIs
with committed references.

:func:`check` runs each reference scenario at the configuration the reference manifest declares
(a few areas, years and replications, applied as scenario overrides) and judges it in two
layers (:mod:`rjsim.regress.stats`): *exact* (same code and seed reproduce the reference tables
bit for bit) and *statistical* (each judged KPI equivalent to the reference within its declared
tolerance). :func:`update` regenerates references deliberately, recording why, when, and from
which code. Nothing updates references implicitly, and a check only ever reads them.

Runs use local worker processes and no task cache, so a check can never reuse stale results.
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.core.errors import Problem
from rjsim.core.version import __version__
from rjsim.experiment import experiment
from rjsim.experiment.cache import code_digest
from rjsim.experiment.executors import ExecutorKind, ExecutorSettings
from rjsim.regress.refs import (
    DEFAULT_DECLARATION,
    FORMAT_KEY,
    LEVELS,
    MANIFEST,
    Declaration,
    RegressionError,
    parse_declaration,
    read_manifest,
    read_references,
    table_text,
    write_references,
)
from rjsim.regress.stats import ExactResult, Floor, KpiCheck, exact, noise_floors, statistical
from rjsim.results import store
from rjsim.scenario import io as scenario_io

SCENARIO_GLOB = "scenarios/*.toml"
EXIT_PASS, EXIT_REGRESSION = 0, 1
OnScenario = Callable[[str, int, int], None]  # name, index (from 1), total


@dataclass(frozen=True)
class RegressSettings:
    """Where references are, which scenarios to run (names or files; all if empty) and how."""

    reference: Path = Path("results/reference")
    scenarios: tuple[str, ...] = ()
    workers: int | None = None  # None: every core
    seed: int | None = None  # check only: run with another seed (exact layer then differs)
    on_scenario: OnScenario | None = None


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario run at the regression configuration, tables as they would be stored."""

    name: str
    file: str
    fingerprint: str
    tables: Mapping[str, pd.DataFrame]
    seconds: float


@dataclass(frozen=True)
class ScenarioResult:
    """Both layers for one scenario, with notes that help read a failure."""

    name: str
    file: str
    exact: ExactResult
    checks: tuple[KpiCheck, ...]
    notes: tuple[str, ...]
    seconds: float

    @property
    def statistical_ok(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class RegressionResult:
    """A regression check of every selected scenario."""

    reference: Path
    declaration: Declaration
    scenarios: tuple[ScenarioResult, ...]
    notes: tuple[str, ...]
    seconds: float

    @property
    def statistical_ok(self) -> bool:
        return all(s.statistical_ok for s in self.scenarios)

    @property
    def exact_ok(self) -> bool:
        return all(s.exact.identical for s in self.scenarios)

    def exit_status(self, *, statistical_only: bool = False) -> int:
        """1 if any KPI is not equivalent, or (unless ``statistical_only``) any exact
        difference; otherwise 0."""
        ok = self.statistical_ok and (statistical_only or self.exact_ok)
        return EXIT_PASS if ok else EXIT_REGRESSION


@dataclass(frozen=True)
class UpdateResult:
    """What an update wrote."""

    reference: Path
    updated: tuple[str, ...]
    kept: tuple[str, ...]
    floors: tuple[Floor, ...]
    seconds: float


def relative_file(path: str | Path) -> str:
    """A scenario file as stored in references: relative to the current directory, '/'-separated."""
    rel = Path(os.path.relpath(os.path.abspath(path)))
    if rel.parts and rel.parts[0] == "..":
        raise RegressionError(Problem(str(path), "scenario files must be inside the current "
                                      "directory (references store paths relative to it)"))
    return rel.as_posix()


def run_scenario(file: str, declaration: Declaration, workers: int | None,
                 seed: int | None = None) -> ScenarioRun:
    """Run one scenario file at the declared configuration (process executor, no cache)."""
    t0 = time.perf_counter()
    config = declaration.config
    scenario = scenario_io.load(file, config.overrides(seed), "regression configuration")
    kind: ExecutorKind = "local" if workers == 1 else "processes"
    e = experiment.run_experiment(scenario, experiment.ExperimentSettings(
        replications=config.replications, executor=ExecutorSettings(kind, workers),
        cache_dir=None))
    tables = {"national": _stored(e.per_replication["national_summary"], declaration, "national"),
              "area": _stored(e.per_replication["area_summary"], declaration, "area")}
    fingerprint = scenario_io.fingerprint(scenario, e.plan.table.digest)
    return ScenarioRun(scenario.name, file, fingerprint, tables, time.perf_counter() - t0)


def _stored(df: pd.DataFrame, declaration: Declaration, level: str) -> pd.DataFrame:
    """The declared columns as they would read back from a stored CSV file."""
    columns = [c for c in declaration.columns(level) if c in df.columns]
    text = table_text(df[columns].sort_values(columns[:2 if level == "area" else 1]))
    return pd.read_csv(io.StringIO(text), dtype={"area": str})


def _select(entries: Mapping[str, Any], wanted: tuple[str, ...], where: str) -> list[str]:
    """Reference names for ``--scenarios`` items (a name, or a file a reference was made from)."""
    if not wanted:
        return list(entries)
    by_file = {str(rec.get("file")): name for name, rec in entries.items()
               if isinstance(rec, dict)}
    names, problems = [], []
    for item in wanted:
        name = item if item in entries else by_file.get(_safe_relative(item))
        if name is None:
            problems.append(Problem(f"--scenarios {item}", f"no reference for this scenario in "
                                    f"{where} (references: {', '.join(entries)}); add one with "
                                    f'rjsim regress --update --scenarios {item} --reason "..."'))
        elif name not in names:
            names.append(name)
    if problems:
        raise RegressionError(problems, "unknown scenarios")
    return names


def _safe_relative(path: str) -> str:
    try:
        return relative_file(path)
    except RegressionError:
        return path


def check(settings: RegressSettings) -> RegressionResult:
    """Run the selected reference scenarios and judge them against their references."""
    t0 = time.perf_counter()
    root = settings.reference
    entries = read_manifest(root).get("scenarios")
    names = _select(entries if isinstance(entries, dict) else {}, settings.scenarios,
                    str(root / MANIFEST))
    refs = read_references(root, names)
    _require_files(root, {n: refs.scenarios[n].file for n in names})
    for name in names:  # every scenario is valid before any runs
        scenario_io.load(refs.scenarios[name].file, refs.declaration.config.overrides(),
                         "regression configuration")
    results = []
    for i, name in enumerate(names, 1):
        if settings.on_scenario is not None:
            settings.on_scenario(name, i, len(names))
        ref = refs.scenarios[name]
        run = run_scenario(ref.file, refs.declaration, settings.workers, settings.seed)
        checks = statistical(ref.tables, run.tables, refs.declaration.tolerances,
                             refs.declaration.config.equivalence_ci)
        results.append(ScenarioResult(name, ref.file, exact(ref.tables, run.tables),
                                      tuple(checks), _notes(ref.record, run, settings.seed),
                                      run.seconds))
    notes = [] if settings.scenarios else _uncovered(refs.manifest)
    if settings.seed is not None:
        notes.append(f"run with seed {settings.seed} instead of each scenario's own: exact "
                     "differences are expected; the statistical layer is what counts")
    return RegressionResult(root, refs.declaration, tuple(results), tuple(notes),
                            time.perf_counter() - t0)


def _notes(record: Mapping[str, Any], run: ScenarioRun, seed: int | None) -> tuple[str, ...]:
    """What differs from when the reference was generated, to help read a failure."""
    found = record.get("generated")
    generated: Mapping[str, Any] = found if isinstance(found, dict) else {}
    notes = []
    if seed is None and record.get("fingerprint") != run.fingerprint:
        notes.append("the scenario's inputs differ from the reference's (its file, a file it "
                     "extends, the packaged defaults or the area data changed)")
    if generated.get("code_digest") not in (None, code_digest()):
        dirty = " with uncommitted changes" if generated.get("git_dirty") else ""
        notes.append(f"rjsim's code differs from the code that generated the reference "
                     f"(commit {generated.get('git_commit') or 'unknown'}{dirty})")
    versions = generated.get("versions")
    then: Mapping[str, Any] = versions if isinstance(versions, dict) else {}
    changed = [f"{k} {v} (reference {then[k]})" for k, v in store.versions().items()
               if k in then and then[k] != v]
    if changed:
        notes.append("versions differ from the reference's: " + ", ".join(changed))
    return tuple(notes)


def _uncovered(manifest: Mapping[str, Any]) -> list[str]:
    entries = manifest.get("scenarios")
    covered = {rec.get("file") for rec in entries.values()} if isinstance(entries, dict) else set()
    return [f"{p.as_posix()} has no reference; add one with rjsim regress --update --scenarios "
            f'{p.as_posix()} --reason "..."' for p in sorted(Path().glob(SCENARIO_GLOB))
            if p.as_posix() not in covered]


def _require_files(root: Path, files: Mapping[str, str]) -> None:
    """Every reference scenario's file exists (name -> file)."""
    missing = [Problem(f"{root / MANIFEST}: scenarios.{name}", f"its scenario file '{file}' no "
                       "longer exists; restore it, or remove this entry and the directory "
                       f"{root / name} from the references")
               for name, file in files.items() if not Path(file).is_file()]
    if missing:
        raise RegressionError(missing)


def update(settings: RegressSettings, reason: str) -> UpdateResult:
    """Regenerate the references of the selected scenarios (all, if none are named), keeping
    the declared configuration and tolerances, and record why in the manifest's history."""
    t0 = time.perf_counter()
    if not reason.strip():
        raise RegressionError(Problem("--reason", "say why the references change (e.g. "
                                      '--reason "Stage durations re-estimated from 2025 data")'),
                              "references are only updated deliberately")
    root = settings.reference
    manifest = _existing(root)
    declaration = parse_declaration(manifest, str(root / MANIFEST)) if manifest \
        else DEFAULT_DECLARATION
    entries = _entries(manifest, root)
    files = _files_to_update(entries, settings.scenarios, root)
    kept = sorted(set(entries) - set(_scenario_names(files, declaration, entries)))
    if kept:  # a partial update keeps only references valid for the declared configuration
        read_references(root, kept)
    runs, floors = [], []
    for i, file in enumerate(files, 1):
        if settings.on_scenario is not None:
            settings.on_scenario(file, i, len(files))
        run = run_scenario(file, declaration, settings.workers)
        _require_kpis(run, declaration)
        runs.append(run)
        floors += noise_floors(run.name, run.tables, declaration.tolerances,
                               declaration.config.equivalence_ci)
    _write(root, manifest or {}, declaration, entries, runs, _provenance(reason))
    return UpdateResult(root, tuple(r.name for r in runs), tuple(kept), tuple(floors),
                        time.perf_counter() - t0)


def _write(root: Path, manifest: Mapping[str, Any], declaration: Declaration,
           entries: dict[str, Any], runs: list[ScenarioRun], stamp: dict[str, Any]) -> None:
    """Write the new references with the manifest's history extended by this update."""
    for run in runs:
        entries[run.name] = {"file": run.file, "fingerprint": run.fingerprint,
                             "config": declaration.config.plain(), "generated": stamp}
    kept = sorted(set(entries) - {r.name for r in runs})
    history = list(manifest.get("history") or [])
    history.append({k: v for k, v in stamp.items() if k != "versions"}
                   | {"scenarios": [r.name for r in runs], "config": declaration.config.plain()})
    new = {FORMAT_KEY: 1, "description": _DESCRIPTION, **declaration.plain(),
           "scenarios": dict(sorted(entries.items())), "history": history}
    tables = {r.name: {lvl: table_text(r.tables[lvl]) for lvl in LEVELS} for r in runs}
    write_references(root, new, tables, kept)


_DESCRIPTION = ("Regression references for 'rjsim regress' (docs/developers.md: Regression "
                "checks). 'config' and 'tolerances' are declarations you may edit (then run rjsim "
                "regress --update --reason ...); everything else is written by --update.")


def _existing(root: Path) -> dict[str, Any] | None:
    """The current manifest, None for a new reference directory; anything else is refused."""
    if (root / MANIFEST).exists():
        return read_manifest(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise RegressionError(Problem(str(root), "exists and is not a reference directory (no "
                                      f"{MANIFEST}); choose another --reference"))
    return None


def _entries(manifest: Mapping[str, Any] | None, root: Path) -> dict[str, Any]:
    """The manifest's scenario entries (name -> record), checked for shape."""
    raw = (manifest or {}).get("scenarios") or {}
    if not isinstance(raw, dict) or not all(isinstance(r, dict) and isinstance(r.get("file"), str)
                                            for r in raw.values()):
        raise RegressionError(Problem(f"{root / MANIFEST}: scenarios", "must map each scenario "
                                      "name to a table with its 'file'"))
    return dict(raw)


def _files_to_update(entries: Mapping[str, Any], wanted: tuple[str, ...], root: Path
                     ) -> list[str]:
    """Files to regenerate: named ones, else every referenced one, else every shipped one."""
    if wanted:
        files = [entries[w]["file"] if w in entries else relative_file(w) for w in wanted]
    elif entries:
        _require_files(root, {name: rec["file"] for name, rec in entries.items()})
        files = [rec["file"] for rec in entries.values()]
    else:
        files = [p.as_posix() for p in sorted(Path().glob(SCENARIO_GLOB))]
        if not files:
            raise RegressionError(Problem(SCENARIO_GLOB, "no scenario files found; run from the "
                                          "project directory or name them with --scenarios"))
    return list(dict.fromkeys(files))


def _scenario_names(files: list[str], declaration: Declaration, entries: Mapping[str, Any]
                    ) -> list[str]:
    """Load (validate) every file before anything runs; names must not collide."""
    names: dict[str, str] = {}
    for file in files:
        name = scenario_io.load(file, declaration.config.overrides(),
                                "regression configuration").name
        old = entries.get(name, {}).get("file", file)
        clash = names.get(name) or (old if old != file and Path(old).is_file() else None)
        if clash:
            raise RegressionError(Problem(file, f"has the same name '{name}' as {clash}; "
                                          "references are kept by name"))
        names[name] = file
    return list(names)


def _require_kpis(run: ScenarioRun, declaration: Declaration) -> None:
    problems = [Problem(f"tolerances.{lvl}.{kpi}", f"'{kpi}' is not a KPI the model produces "
                        f"for {run.file}")
                for lvl in LEVELS for kpi in declaration.tolerances.get(lvl, {})
                if kpi not in run.tables[lvl].columns]
    if problems:
        raise RegressionError(problems, "invalid regression manifest")


def _provenance(reason: str) -> dict[str, Any]:
    """Why, when and from which code references were generated."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"utc": store.now_utc(), "reason": reason.strip(), "rjsim_version": __version__,
            "git_commit": _git("rev-parse", "HEAD"),
            "git_dirty": None if status is None else bool(status),  # uncommitted changes
            "code_digest": code_digest(), "versions": store.versions()}


def _git(*args: str) -> str | None:
    """Output of a git command in the current directory; None where git or a repository is
    not available."""
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
