"""Comparisons paired by offence group (issue 16 item 2: compare pooled and unpooled on the same
seeds, where pooling shows first, in the sensitive groups' waits)."""

from __future__ import annotations

import dataclasses
from html import unescape
from pathlib import Path

import numpy as np
import pytest

import rjsim as api
from rjsim.core import stats
from rjsim.scenario import io as scenario_io

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = {"run": {"years": 2.0, "replications": 3},
         "areas": {"include": ("Durham", "Cleveland", "Northumbria")},
         # a busy service so that specialist capacity binds (see briefs: pin informed)
         "demand": {"informed": 0.3}}


def test_group_differences_are_paired_replication_by_replication(tmp_path: Path) -> None:
    alone = scenario_io.load(SCENARIOS / "baseline.toml", SMALL)
    pooled = dataclasses.replace(scenario_io.with_overrides(
        alone, pooling={"regions": ("North East",)}), name="pooled")
    out = tmp_path / "cmp"
    c = api.compare([alone, pooled], workers=1, out=out)
    diff = c.differences[c.differences["level"] == "group"]
    assert set(diff["group"]) == set(alone.demand.groups)
    assert (diff["area"] == "all").all()
    a, b = (e.per_replication["group_summary"] for e in c.experiments)
    for group in ("sexual", "theft"):
        for kpi in ("wait_alloc_days_mean", "referrals"):
            by_hand = (b[b["group"] == group].sort_values("replication")[kpi].to_numpy()
                       - a[a["group"] == group].sort_values("replication")[kpi].to_numpy())
            row = diff[(diff["group"] == group) & (diff["kpi"] == kpi)].iloc[0]
            iv = stats.t_interval(by_hand)
            assert row["difference"] == pytest.approx(by_hand.mean(), nan_ok=True)
            assert row["ci_low"] == pytest.approx(iv.low, nan_ok=True)
    # pooling leaves who is referred alone (common random numbers): identical referrals
    referrals = diff[diff["kpi"] == "referrals"]
    assert np.allclose(referrals["difference"], 0.0)
    est = c.estimates[c.estimates["level"] == "group"]
    assert set(est["scenario"]) == {alone.name, "pooled"} and (est["area"] == "all").all()
    html = unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "Differences by offence group" in html and "domestic_abuse" in html
