"""The committee's question answered in one line at the end of ``rjsim capacity-test`` (and so
of ``make run``): yes, no or not yet known, from the national verdict's counts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd
import pytest
import tomli_w
from capacity_helpers import Queue, queue_dict, write_area_csv

from rjsim.app.capacity import answer_text
from rjsim.cli import main as cli


def _result(verdict: str, passing: int, failing: int, unsure: int) -> Any:
    national = pd.DataFrame([{"verdict": verdict, "areas": passing + failing + unsure,
                              "areas_pass": passing, "areas_fail": failing,
                              "areas_inconclusive": unsure}])
    return cast(Any, SimpleNamespace(verdict=verdict, national=national))


def test_answer_yes_when_every_area_passes() -> None:
    text = answer_text(_result("pass", 43, 0, 0), "plan")
    assert text.startswith("Answer: yes.") and "all 43 areas" in text and "'plan'" in text


def test_answer_no_gives_the_counts_and_the_next_step() -> None:
    text = answer_text(_result("fail", 3, 38, 2), "statutory_right")
    assert text.startswith("Answer: no.")
    assert "3 of 43 areas" in text and "(38 fail, 2 inconclusive)" in text
    assert "rjsim plan" in text


def test_answer_not_yet_known_when_nothing_fails_but_something_is_inconclusive() -> None:
    text = answer_text(_result("inconclusive", 40, 0, 3), "x")
    assert text.startswith("Answer: not yet known.") and "40 of 43" in text
    assert "more replications" in text


@pytest.mark.slow
def test_capacity_test_output_ends_with_the_answer_then_the_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_area_csv(tmp_path / "one.csv", {"theft": 4.0 * 365})
    toml = tmp_path / "one.toml"
    toml.write_text(tomli_w.dumps(queue_dict(Queue(4.0, 1.0, 5), data, 1.0, {
        "wait_target_days": 0.5, "timeliness_share": 0.8})), encoding="utf-8")
    status = cli.main(["capacity-test", str(toml), "--replications", "3", "--executor", "local",
                       "--no-cache", "--out", str(tmp_path / "res")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 1
    assert lines[-2].startswith("Answer: no. Under '") and "0 of 1 areas" in lines[-2]
    assert lines[-1] == f"Report: {tmp_path / 'res' / 'report.html'}"
