"""What experiments, comparisons and sweeps write into results directories (via the store)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rjsim.analysis import inequality
from rjsim.experiment.comparison import (
    Comparison,
    capacity_table,
    inequality_table,
    options_table,
)
from rjsim.experiment.experiment import Experiment
from rjsim.funding import allocation
from rjsim.report import plots
from rjsim.results import atomic, store
from rjsim.scenario import io as scenario_io
from rjsim.scenario import sweep


def experiment_tables(e: Experiment) -> dict[str, pd.DataFrame]:
    """Every table of an experiment by file name."""
    out = dict(e.per_replication)  # national/area/group summaries and national_month, per rep
    out |= {f"kpi_{k}": v for k, v in e.summary.items()}  # across replications, with CIs
    out |= e.means  # area_month_group and area_month, averaged over replications
    out["inequality"] = inequality.table(e.per_replication["area_summary"])  # between areas
    if e.scenario.funding.capacity_from == "budget":
        out["funding_allocation"] = allocation.allocation_table(e.scenario, e.plan.table)
    if e.precision is not None:
        out["precision"] = e.precision
    return out


def manifest(e: Experiment, scenario_file: str, started: str) -> dict[str, Any]:
    """The manifest of an experiment's results directory."""
    s = e.scenario
    return {
        "rjsim_results": 1, "command": store.command_line(), "scenario_file": scenario_file,
        "scenario": s.name, "description": s.description,
        "fingerprint": scenario_io.fingerprint(s, e.plan.table.digest), "seed": s.run.seed,
        "replications": e.replications, "stop_reason": e.stop_reason,
        "areas": [a.code for a in e.plan.areas],
        "area_data": {"source": e.plan.table.source, "sha256": e.plan.table.digest},
        "referrals_simulated": e.n_referrals, "tasks_run": e.tasks_run,
        "tasks_from_cache": e.tasks_cached, "versions": store.versions(),
        "started_utc": started, "timings_s": e.timings}


class RecordsSink:
    """Raw per-referral records written task by task into a staging directory, moved into
    the results directory when it is written (memory stays flat)."""

    def __init__(self, out_dir: Path, label: str = "") -> None:
        store.prepare_target(out_dir)
        self.dir = atomic.temp_dir(out_dir, f"records{label}", owned=True)

    def __call__(self, records: pd.DataFrame) -> None:
        rep, area = int(records["replication"].iloc[0]), str(records["area"].iloc[0])
        records.to_parquet(self.dir / f"rep{rep:05d}_{area}.parquet", index=False)

    def move_into(self, results_tmp: Path) -> None:
        atomic.disown(self.dir)
        shutil.move(str(self.dir), str(results_tmp / "tables" / "cases"))

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def write_experiment(out: Path, e: Experiment, info: dict[str, Any], text: str,
                     sink: RecordsSink | None = None,
                     more: Callable[[Path], None] | None = None,
                     tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """A complete results directory for one experiment (``tables``: more tables to write,
    e.g. the capacity test's; ``more``: writes more files such as figures)."""
    def extra(tmp: Path) -> None:
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        if sink is not None:
            sink.move_into(tmp)
        if more is not None:
            more(tmp)
    return store.write_results(out, e.scenario, experiment_tables(e) | dict(tables or {}), info,
                               extra)


def comparison_tables(c: Comparison) -> dict[str, pd.DataFrame]:
    return {"comparison_estimates": c.estimates, "comparison_differences": c.differences,
            "comparison_options": options_table(c),
            "comparison_capacity_test": capacity_table(c),
            "comparison_inequality": inequality_table(c)}


def comparison_figures(c: Comparison, directory: Path) -> None:
    """The funding frontier (cost against unmet demand), PNG and SVG."""
    (directory / "figures").mkdir(exist_ok=True)
    plots.funding_frontier(c.estimates, directory / "figures" / "funding_frontier")


def sweep_table(points: Sequence[tuple[sweep.Point, Experiment]]) -> pd.DataFrame:
    """National KPIs of every sweep point side by side (long: point, settings, kpi, CI)."""
    parts = []
    for point, e in points:
        df = e.summary["national"].copy()
        df.insert(0, "point", point.tag)
        for i, (key, value) in enumerate(point.values.items(), start=1):
            df.insert(i, key, value)
        parts.append(df)
    return pd.concat(parts, ignore_index=True)
