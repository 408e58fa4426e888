"""Fuzz tests (bounded, part of ``make test``): hostile scenario files and area CSVs never make
``rjsim validate`` print a traceback or hang, and a short run accepts what validate accepts.

Inputs are mutations of the shipped files (see :mod:`fuzzing`); each example runs the command
in this process under an alarm. The longer campaign is ``make fuzz``
(``tests/fuzz_campaign.py``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzzing import (
    area_csv,
    prepare_scenarios,
    run_cli,
    runnable_scenario,
    scenario_file,
)
from hypothesis import HealthCheck, given, settings

VALIDATE_S = 30
RUN_S = 120
FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rjsim-fuzz-"))
    prepare_scenarios(folder)
    return folder


@settings(FAST, max_examples=120)
@given(scenario_file())
def test_validate_never_crashes_on_mutated_scenarios(case: tuple[str, bytes]) -> None:
    name, data = case
    folder = _folder()
    (folder / f"fuzz_{name}").write_bytes(data)
    outcome = run_cli(["validate", str(folder / f"fuzz_{name}")], VALIDATE_S)
    assert outcome.kind in ("ok", "error"), outcome.detail


@FAST
@given(area_csv())
def test_validate_never_crashes_on_mutated_area_data(case: tuple[bytes, str]) -> None:
    data, scenario = case
    folder = _folder()
    (folder / "areas.csv").write_bytes(data)
    (folder / "s.toml").write_text(scenario, encoding="utf-8")
    outcome = run_cli(["validate", str(folder / "s.toml")], VALIDATE_S)
    assert outcome.kind in ("ok", "error"), outcome.detail


@settings(FAST, max_examples=6)
@given(runnable_scenario())
def test_what_validate_accepts_a_short_run_accepts(text: str) -> None:
    folder = _folder()
    path = folder / "short.toml"
    path.write_text(text, encoding="utf-8")
    checked = run_cli(["validate", str(path)], VALIDATE_S)
    assert checked.kind in ("ok", "error"), checked.detail
    if checked.kind == "ok":
        ran = run_cli(["run", str(path), "--no-cache", "--no-report", "-q", "--workers", "1",
                       "--out", str(folder / "out")], RUN_S)
        assert ran.kind == "ok", ran.detail
