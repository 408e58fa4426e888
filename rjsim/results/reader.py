"""Reading a finished results directory, for reports: never re-runs the model.

A results directory (see :mod:`rjsim.results.store`) is recognised by its ``manifest.json`` carrying
``"rjsim_results"``; its kind follows from the manifest: a sweep names its ``points``, a
comparison the scenarios ``compared``, anything else is one experiment. Tables are read from
Parquet when present (types kept), otherwise CSV. Reports write their files with
:func:`rjsim.results.atomic.write_atomic`, so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rjsim.core import files
from rjsim.core.errors import ResultsError
from rjsim.results.store import MANIFEST

Kind = Literal["experiment", "comparison", "sweep", "uncertainty", "sensitivity"]

#: Tables every experiment results directory has; a report cannot be built without them.
EXPERIMENT_TABLES = ("national_summary", "area_summary", "kpi_national", "kpi_area")


class Results:
    """A results directory opened for reading; tables are read once, on first use.

    Parameters
    ----------
    path
        The results directory.
    manifest
        Its parsed ``manifest.json``.
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def kind(self) -> Kind:
        """``"sweep"``, ``"comparison"``, ``"uncertainty"``, ``"sensitivity"`` or
        ``"experiment"``, from the manifest."""
        if "points" in self.manifest:
            return "sweep"
        for kind in ("uncertainty", "sensitivity"):
            if kind in self.manifest:
                return kind
        return "comparison" if "compared" in self.manifest else "experiment"

    def table_names(self) -> list[str]:
        """Names of the tables in ``tables/`` (CSV or Parquet), sorted."""
        folder = self.path / "tables"
        return sorted({p.stem for p in folder.iterdir()
                       if p.is_file() and p.suffix in (".csv", ".parquet")})

    def has(self, name: str) -> bool:
        """Whether ``tables/<name>`` exists."""
        return any((self.path / "tables" / f"{name}{ext}").is_file()
                   for ext in (".parquet", ".csv"))

    def table(self, name: str) -> pd.DataFrame:
        """``tables/<name>`` as a DataFrame (a :class:`ResultsError` if it is missing)."""
        if name not in self._tables:
            self._tables[name] = _read_table(self.path / "tables", name)
        return self._tables[name]

    def optional(self, name: str) -> pd.DataFrame | None:
        """``tables/<name>``, or ``None`` when the directory has no such table."""
        return self.table(name) if self.has(name) else None

    def assumptions(self) -> pd.DataFrame | None:
        """``assumptions.csv`` (all text), or ``None`` if absent."""
        path = self.path / "assumptions.csv"
        if not path.is_file():
            return None
        try:
            data = files.read_limited(path)
        except files.FileProblem as exc:
            raise ResultsError(f"{path}: cannot read the assumptions ({exc})") from None
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)

    def scenario(self) -> dict[str, Any]:
        """The resolved scenario from ``scenario.toml`` (a :class:`ResultsError` if it is
        missing or damaged: the report must not guess what was run)."""
        path = self.path / "scenario.toml"
        try:
            return tomllib.loads(files.read_limited(path).decode("utf-8-sig"))
        except files.FileProblem as exc:
            raise ResultsError(f"{path}: cannot read the resolved scenario ({exc})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ResultsError(f"{path}: not valid TOML ({exc}); a results directory's "
                               "scenario.toml is written by rjsim, was it edited?") from None

    def setting(self, dotted: str, default: Any = None) -> Any:
        """One value of the resolved scenario by key path, e.g. ``"service.wait_target_days"``."""
        node: Any = self.scenario()
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def figure(self, stem: str) -> Path | None:
        """``figures/<stem>.png`` if it exists."""
        path = self.path / "figures" / f"{stem}.png"
        return path if path.is_file() else None


#: Largest table a report reads (a national 30-replication run's largest is about 10 MB).
MAX_TABLE_BYTES = 1 << 30


def _read_table(folder: Path, name: str) -> pd.DataFrame:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    try:
        if parquet.is_file():
            return pd.read_parquet(io.BytesIO(files.read_limited(parquet, MAX_TABLE_BYTES)))
        if csv.is_file():
            return pd.read_csv(io.BytesIO(files.read_limited(csv, MAX_TABLE_BYTES)))
    except files.FileProblem as exc:
        raise ResultsError(f"{folder / name}: cannot read the table ({exc})") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder / name}: cannot read the table ({exc})") from None
    raise ResultsError(f"{folder.parent}: has no table tables/{name}.csv or .parquet; a report "
                       "needs the tables rjsim wrote (run the scenario again)")


def open_results(path: Path) -> Results:
    """Open an rjsim results directory for reading, checking it is one.

    Raises
    ------
    ResultsError
        If ``path`` is not a directory, has no rjsim ``manifest.json``, or lacks the tables a
        report needs.
    """
    path = Path(path)
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "no such directory"
        raise ResultsError(f"{path}: {what}; give a results directory written by 'rjsim run' "
                           "or 'rjsim compare'")
    try:
        manifest = json.loads(files.read_limited(path / MANIFEST))
    except (files.FileProblem, ValueError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict) or "rjsim_results" not in manifest:
        raise ResultsError(f"{path}: not an rjsim results directory (no {MANIFEST} marked "
                           "\"rjsim_results\"); give a directory written by 'rjsim run' or "
                           "'rjsim compare'")
    results = Results(path, manifest)
    if not (path / "tables").is_dir() or not results.table_names():
        raise ResultsError(f"{path}: has no tables/ (CSV or Parquet); nothing to report")
    if results.kind == "experiment":
        missing = [n for n in EXPERIMENT_TABLES if not results.has(n)]
        if missing:
            raise ResultsError(f"{path}: lacks table(s) {', '.join(missing)} in tables/; a "
                               "report needs the tables 'rjsim run' writes")
    return results
