"""Optional files of a results directory: the printed summary and raw per-referral records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rjsim.codes import Mode, Outcome, label
from rjsim.runner import RunResult


def write_summary(directory: Path, text: str) -> None:
    """The national summary exactly as printed."""
    (directory / "summary.txt").write_text(text, encoding="utf-8")


def cases_frame(result: RunResult) -> pd.DataFrame:
    """One row per referral: the raw records behind every table."""
    outcome_names = np.array([label(o) for o in Outcome])
    mode_names = np.array([label(m) for m in Mode])
    parts = []
    for rec in result.records or []:
        parts.append(pd.DataFrame({
            "replication": rec.replication, "area": rec.area,
            "group": np.asarray(rec.groups)[rec.group], "referral_day": rec.referral_day,
            "under_right": rec.under_right, "allocation_day": rec.allocation_day,
            "queue_exit_day": rec.queue_exit_day, "close_day": rec.close_day,
            "outcome": outcome_names[rec.outcome], "mode": mode_names[rec.mode],
            "slot": np.choose(rec.skill + 1, ["none", "general", "specialist"]),
            "intervention_day": rec.stage_end_day[:, 2],
            "facilitator_hours": rec.stage_hours.sum(axis=1)}))
    return pd.concat(parts, ignore_index=True)


def write_cases(directory: Path, result: RunResult) -> None:
    """``tables/cases.parquet`` (Parquet only: a national run has ~700,000 rows)."""
    cases_frame(result).to_parquet(directory / "tables" / "cases.parquet", index=False)
