"""The results directory: the only place rjsim writes results.

A results directory describes and reproduces itself: ``scenario.toml`` (the resolved scenario,
runnable as it stands), ``manifest.json`` (versions, seed, fingerprint, command, times),
``assumptions.csv`` (every default with its value, source and confidence) and ``tables/`` (CSV
and Parquet). Everything is written into a hidden temporary sibling directory that is renamed
into place only when complete, so an interrupted run never leaves a half-written directory, and
an existing directory is replaced only by a complete new one (and only if it is an rjsim
results directory: anything else is refused, never deleted).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable, Mapping
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from rjsim.core import files
from rjsim.core.errors import ResultsError
from rjsim.core.schema import to_plain
from rjsim.core.version import __version__
from rjsim.results import atomic
from rjsim.scenario.spec import Scenario

MANIFEST = "manifest.json"
DEPENDENCIES = ("simpy", "numpy", "scipy", "pandas", "pyarrow", "matplotlib")


def scenario_toml(scenario: Scenario, comment: str = "") -> str:
    """A resolved scenario as TOML that ``rjsim run`` reads back, after a ``# comment`` line."""
    return (f"# {comment}\n" if comment else "") + tomli_w.dumps(to_plain(scenario))


def versions() -> dict[str, str]:
    """rjsim, Python and dependency versions."""
    out = {"rjsim": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def now_utc() -> str:
    """The current time, ISO 8601 in UTC."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def assumptions_table(scenario: Scenario) -> pd.DataFrame:
    """The packaged assumptions log with each key's value in this scenario."""
    text = resources.files("rjsim").joinpath("data/assumptions.csv").read_text(encoding="utf-8")
    log = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    plain = to_plain(scenario)

    def value_of(key: str) -> str:
        node: Any = plain
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return ""
            node = node[part]
        return json.dumps(node) if isinstance(node, Mapping | list) else str(node)

    log.insert(1, "value", [value_of(k) for k in log["key"]])
    return log


def write_results(out_dir: Path, scenario: Scenario, tables: Mapping[str, pd.DataFrame],
                  manifest: Mapping[str, Any],
                  extra: Callable[[Path], None] | None = None) -> Path:
    """Write a complete results directory at ``out_dir`` atomically; return its path.

    ``extra`` may write more files (figures, raw records) into the temporary directory. The
    manifest lists every file written (``files``), so that the directory is later replaced
    only if it holds nothing else (see :func:`prepare_target`).
    """
    out_dir = Path(out_dir)
    prepare_target(out_dir)
    try:
        tmp = atomic.temp_dir(out_dir, owned=True)
    except OSError as exc:
        raise ResultsError(f"--out {out_dir}: cannot create the results directory there "
                           f"({exc.strerror or exc})") from None
    try:
        (tmp / "scenario.toml").write_text(scenario_toml(
            scenario, "Resolved scenario (defaults and every 'extends' layer merged); run it as "
            "it is."), encoding="utf-8")
        assumptions_table(scenario).to_csv(tmp / "assumptions.csv", index=False,
                                           quoting=csv.QUOTE_MINIMAL)
        (tmp / "tables").mkdir()
        for name, df in tables.items():
            df.to_csv(tmp / "tables" / f"{name}.csv", index=False)
            df.to_parquet(tmp / "tables" / f"{name}.parquet", index=False)
        if extra is not None:
            extra(tmp)
        atomic.disown(tmp)
        full = dict(manifest) | {"finished_utc": now_utc(),
                                 "tables": {n: len(df) for n, df in tables.items()},
                                 "files": _files(tmp)}
        (tmp / MANIFEST).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        atomic.replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _files(root: Path) -> list[str]:
    """Every file under ``root`` (relative, '/'-separated, sorted)."""
    out = []
    for folder, _, names in os.walk(root):
        rel = Path(folder).relative_to(root)
        out += [(rel / n).as_posix() for n in names]
    return sorted(out)


#: Files a report adds to a results directory after it is written (``rjsim report``).
REPORT_FILES = ("report.html", "report.xlsx")


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(files.read_limited(path / MANIFEST, 64 * 1024 * 1024))
    except (files.FileProblem, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_results_dir(path: Path) -> bool:
    """Whether ``path`` is a directory rjsim wrote (its manifest says so)."""
    data = _read_manifest(path)
    return data is not None and "rjsim_results" in data


def _foreign(out_dir: Path) -> str | None:
    """Why ``out_dir`` may not be replaced (``None``: it holds exactly what rjsim wrote: the
    files its manifest lists, plus reports and their figures next to a listed manifest)."""
    data = _read_manifest(out_dir)
    if data is None or "rjsim_results" not in data:
        return "is not an rjsim results directory"
    listed = data.get("files")
    if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
        return ("does not list the files rjsim wrote (written by an older rjsim?); delete it "
                "yourself if nothing in it is needed")
    known = {*listed, MANIFEST}
    manifests = {str(Path(f).parent) for f in known if Path(f).name == MANIFEST}
    for folder, dirs, names in os.walk(out_dir):
        rel = Path(folder).relative_to(out_dir)
        for name in names:
            f = (rel / name).as_posix()
            if f in known or _report_file(rel, name, manifests):
                continue
            return f"holds '{f}', which rjsim did not write"
        for d in dirs:
            if (Path(folder) / d).is_symlink():  # os.walk does not follow it: refuse it
                return f"holds a link '{(rel / d).as_posix()}', which rjsim did not write"
    return None


def _report_file(rel: Path, name: str, manifests: set[str]) -> bool:
    """A report file: report.html/xlsx beside a listed manifest, or a figure in its figures/."""
    if name in REPORT_FILES:
        return str(rel) in manifests
    return (rel.name == "figures" and Path(name).suffix in (".png", ".svg")
            and str(rel.parent) in manifests)


def prepare_target(out_dir: Path) -> None:
    """Check, before any work, that results can be written at ``out_dir``: it must not exist,
    be empty, or hold exactly what rjsim wrote there (anything else is refused, never
    deleted); its parent is created and must be writable. Staging folders that killed runs
    left beside it are removed."""
    out_dir = Path(out_dir)
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir() or out_dir.is_symlink():
            raise ResultsError(f"--out {out_dir}: exists and is not a folder; choose another "
                               "directory (nothing was written)")
        why = None if not any(out_dir.iterdir()) else _foreign(out_dir)
        if why is not None:
            raise ResultsError(f"--out {out_dir}: exists and {why}; choose another directory "
                               "(nothing was written)")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        atomic.clean_stale(out_dir)
        probe = atomic.temp_dir(out_dir, "probe")  # a read-only parent fails here, not later
        probe.rmdir()
    except OSError as exc:
        raise ResultsError(f"--out {out_dir}: cannot create the results directory there "
                           f"({exc.strerror or exc})") from None


def command_line() -> str:
    """The command that is running, for the manifest (program name without its path)."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
