"""Helpers for report tests: small real results directories, and a fake capacity test.

The results directories are real (written by the rjsim command) but small: two areas, a few
replications, short horizons, so they take seconds. The capacity-test tables are made up
with pandas in the layout the capacity-test command writes, to exercise the report's section.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
from clitools import rjsim
from matplotlib.figure import Figure

REPO = Path(__file__).resolve().parent.parent
AREAS = ("E23000036", "E23000026")  # Avon and Somerset, Cambridgeshire


def visible_text(html: str) -> str:
    """The visible text of (part of) a page: tags removed, entities undone, runs of white
    space one space."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def small_scenario(folder: Path, name: str, base: str = "statutory_right.toml",
                   extra: str = "", title: str = "") -> Path:
    """A two-area scenario file extending a shipped scenario (with a display title if
    ``title``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    include = ", ".join(f'"{a}"' for a in AREAS)
    path.write_text(f'extends = "{(REPO / "scenarios" / base).as_posix()}"\nname = "{name}"\n'
                    + (f'title = "{title}"\n' if title else "")
                    + f'description = "Two areas: {name} <b>test</b> & more."\n'
                    f'[areas]\ninclude = [{include}]\n{extra}', encoding="utf-8")
    return path


def run_ok(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run rjsim and insist it succeeded."""
    proc = rjsim(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def tiny_png(path: Path) -> None:
    """A small real PNG (a stand-in for the capacity map)."""
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    fig.savefig(path.with_suffix(".png"), dpi=50)
    fig.savefig(path.with_suffix(".svg"))


def _write(folder: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / f"{name}.csv", index=False)
    df.to_parquet(folder / f"{name}.parquet", index=False)


def add_capacity_test(results: Path) -> dict[str, pd.DataFrame]:
    """Add made-up capacity-test and plan tables (and a map) to a results directory."""
    area = pd.read_csv(results / "tables" / "area_summary.csv")
    info = area.drop_duplicates("area")[["area", "force", "region"]].reset_index(drop=True)
    n = len(info)
    verdict = info.assign(verdict=["fail"] + ["inconclusive"] * (n - 1),
                          binding_criterion="timeliness",
                          binding_margin=np.resize([-0.4, 0.01], n), lat=51.0, lon=-2.0)
    criteria = ("timeliness", "unmet_demand", "utilisation", "backlog_trend", "coverage")
    rows = [(r.area, r.force, c, 0.5, 0.4, 0.6, 0.9, ">=", -0.4, "fail", 60, "share")
            for r in info.itertuples() for c in criteria]
    per_criterion = pd.DataFrame(rows, columns=[
        "area", "force", "criterion", "estimate", "ci_low", "ci_high", "threshold",
        "comparison", "margin", "verdict", "replications_needed", "unit"])
    national = pd.DataFrame([{
        "verdict": "fail", "areas": len(info), "areas_pass": 0, "areas_fail": 1,
        "areas_inconclusive": len(info) - 1, "replications": 3,
        "more_replications_needed": np.nan, "window_start_day": 365.0,
        "window_end_day": 730.0}])
    plan_area = info[["area", "force"]].assign(general_fte=np.resize([3.5, 2.0], n),
                                               specialist_fte=1.0, annual_cost_gbp=250_000.0,
                                               today_budget_gbp=150_000.0, change_gbp=100_000.0)
    plan_national = pd.DataFrame([{"total_annual_cost_gbp": 500_000.0,
                                   "today_budget_gbp": 300_000.0, "change_gbp": 200_000.0}])
    tables = {"capacity_test_national": national, "capacity_test_verdict": verdict,
              "capacity_test_area": per_criterion, "plan_area": plan_area,
              "plan_national": plan_national}
    for name, df in tables.items():
        _write(results / "tables", name, df)
    (results / "figures").mkdir(exist_ok=True)
    tiny_png(results / "figures" / "capacity_map")
    return tables


def set_area_shares(results: Path, below: dict[int, int]) -> None:
    """Rewrite area_summary so that, in replication r, the first ``below[r]`` areas allocate
    fewer than 90% of referrals within the target and the rest more."""
    area = pd.read_csv(results / "tables" / "area_summary.csv")
    order = {a: i for i, a in enumerate(dict.fromkeys(area["area"]))}
    share = [0.5 if order[a] < below[int(r)] else 0.95
             for r, a in zip(area["replication"], area["area"], strict=True)]
    _write(results / "tables", "area_summary", area.assign(share_allocated_within_target=share))


def copy_results(src: Path, dst: Path) -> Path:
    """A copy of a results directory without its report files."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("report.*", "figures"))
    return dst


#: Shipped options with long names (one of them very long), for layout and PDF tests.
LONG_OPTIONS = ("funding_today", "funding_30m_population", "funding_30m_crime",
                "funding_30m_population_not_ringfenced")


def small_comparison(folder: Path, *more: str) -> Path:
    """A real two-area comparison of shipped funding options under their own (long) names,
    1.5 simulated years and 2 replications; ``more``: extra ``rjsim compare`` arguments."""
    files = [str(small_scenario(folder, name, f"{name}.toml")) for name in LONG_OPTIONS]
    out = folder / "compare"
    run_ok("compare", *files, "--years", "1.5", "--replications", "2", "--no-cache",
           "--workers", "1", "-q", "--out", str(out), *more, cwd=REPO)
    return out
