"""``rjsim verify``: a user's area as M/M/c and M/M/c+M, against Erlang C and Erlang A."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rjsim
from rjsim.funding.allocation import expected_referrals_by_group
from rjsim.model import area as model
from rjsim.planning import verify
from rjsim.scenario.expected import caseload_per_fte, expected
from tests.clitools import assert_clean_error
from tests.clitools import rjsim as run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "verification" / "cumbria_funded.toml"
SHIPPED = ROOT / "scenarios" / "verification"
REPLICATIONS, MARGIN = 12, 365.0


def test_the_equivalent_keeps_rate_slots_and_mean_case_length() -> None:
    sc = rjsim.load_scenario(EXAMPLE)
    eq = verify.equivalent(sc, "cumbria")
    rates = expected_referrals_by_group(sc, _area("E23000002"))
    assert eq.referrals_per_day == pytest.approx(sum(rates.values()) / 365)
    days = sum(r * expected(sc, g).service_days for g, r in rates.items()) / sum(rates.values())
    assert eq.mean_service_days == pytest.approx(days)
    per_fte = caseload_per_fte(sc)  # 4 general and 2 specialist FTE, each pool rounded down
    assert eq.slots == math.floor(4 * per_fte) + math.floor(2 * per_fte)
    assert eq.mean_patience_days == 90 and 0.85 < eq.utilisation < 0.95


def _area(code: str) -> Any:
    from rjsim.data.areas import packaged
    return next(a for a in packaged().areas if a.code == code)


def test_shipped_equivalents_are_what_verify_writes(tmp_path: Path) -> None:
    eq = verify.equivalent(rjsim.load_scenario(EXAMPLE))
    assert verify.area_csv(eq) == (SHIPPED / "cumbria_area.csv").read_text(encoding="utf-8")
    for name in ("cumbria_mmc.toml", "cumbria_mmcm.toml"):
        shipped = rjsim.load_scenario(SHIPPED / name)
        assert shipped.areas.include == (eq.area_code,)
        assert shipped.funding.fte.general == eq.slots


def _check(path: Path, patience: bool) -> Any:
    eq = verify.equivalent(rjsim.load_scenario(EXAMPLE))
    sim = verify.simulate(path, REPLICATIONS, MARGIN)
    return verify.compare({"q": (sim, verify.theory(eq, patience))})


def test_the_equivalent_agrees_with_erlang_a_and_c() -> None:
    for name, patience in (("cumbria_mmcm.toml", True), ("cumbria_mmc.toml", False)):
        table = _check(SHIPPED / name, patience)
        judged = table[table["verdict"] != "no analytic value"]
        assert list(judged["verdict"]) == ["agrees"] * len(judged), table.to_string()


def test_a_broken_model_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = model.slot_schedule

    def fewer(*args: Any) -> Any:
        return np.maximum(real(*args) - 2, 0)  # two slots fewer than the equivalent's
    monkeypatch.setattr(model, "slot_schedule", fewer)
    table = _check(SHIPPED / "cumbria_mmcm.toml", True)
    assert "DIFFERS" in set(table["verdict"]), table.to_string()


def test_cli_verify_writes_the_equivalents_and_refuses_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "v"
    proc = run_cli("verify", str(EXAMPLE), "--replications", "5", "--years", "8", "--out",
                   str(out), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "M/M/c+M against Erlang A" in proc.stdout
    assert {p.name for p in (out / "equivalent").iterdir()} == {
        "cumbria_area.csv", "cumbria_mmc.toml", "cumbria_mmcm.toml"}
    assert (out / "tables" / "verify.csv").exists()
    over = run_cli("verify", str(ROOT / "scenarios" / "statutory_right.toml"), "--area",
                   "Derbyshire",
                   "--replications", "3", "--years", "7", "--out", str(tmp_path / "o"),
                   cwd=tmp_path)
    assert "Erlang C has no steady state" in over.stdout, over.stderr
    bad = run_cli("verify", str(EXAMPLE), "--area", "Cumbia", "--out", str(tmp_path / "b"),
                  cwd=tmp_path)
    assert_clean_error(bad, "unknown area 'Cumbia'", "Cumbria")
    short = run_cli("verify", str(EXAMPLE), "--years", "3", cwd=tmp_path)
    assert_clean_error(short, "--years")
