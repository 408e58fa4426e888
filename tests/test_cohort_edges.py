"""The cumulative referral-cohort counts behind the rolling windows (``rolling.cohort_edges``)
are exact: every column equals a direct count of the referrals before each month edge (or on or
before each edge less the wait target), group by group, including referrals made exactly on an
edge, where ``<`` and ``<=`` differ."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import rjsim
from rjsim.analysis import rolling
from rjsim.analysis.tables import period_edges
from rjsim.core.codes import CAPACITY_LOSSES
from rjsim.experiment import runner
from rjsim.model.area import AreaRecords
from rjsim.scenario.spec import Scenario


@pytest.fixture(scope="module")
def area_records() -> tuple[Scenario, AreaRecords]:
    s = rjsim.load_scenario("scenarios/statutory_right.toml",
                            {"run": {"years": 2}, "areas": {"include": ["Cumbria"]},
                             "demand": {"informed": 0.30}})
    p = runner.task_plan(s)
    return s, runner.simulate_task(p, 0, p.areas[0])


def _brute(day: np.ndarray, group: np.ndarray, flags: np.ndarray, before: np.ndarray,
           n_g: int, *, inclusive: bool) -> np.ndarray:
    out = np.zeros((len(before), n_g), dtype=np.int64)
    for e, b in enumerate(before):
        counted = (day <= b) if inclusive else (day < b)
        for g in range(n_g):
            out[e, g] = int(np.sum(counted & flags & (group == g)))
    return out


def test_cohort_edges_are_direct_counts_with_referrals_on_the_edges(
        area_records: tuple[Scenario, AreaRecords]) -> None:
    s, rec = area_records
    edges = period_edges(s.run.horizon_days)
    target = rolling.target_days(s)
    rng = np.random.default_rng(5)
    day = rec.referral_day.copy()
    assert len(day) > 200, "too few referrals for the check to mean anything"
    on_edge = rng.choice(len(day), len(day) // 5, replace=False)
    day[on_edge[::2]] = rng.choice(edges[:-1], len(on_edge[::2]))
    cut = edges - target
    day[on_edge[1::2]] = rng.choice(cut[cut >= 0], len(on_edge[1::2]))
    rec = replace(rec, referral_day=day)
    got = rolling.cohort_edges(s, rec)
    n_g = len(rec.groups)
    group = rec.group.astype(np.int64)
    every = np.ones(len(day), dtype=bool)
    lost = np.isin(rec.outcome, [int(o) for o in CAPACITY_LOSSES])
    within = (rec.allocation_day - day) <= target
    assert lost.any() and within.any() and (~within).any()
    expected = {"referrals": _brute(day, group, every, edges, n_g, inclusive=False),
                "lost": _brute(day, group, lost, edges, n_g, inclusive=False),
                "within": _brute(day, group, within, edges, n_g, inclusive=False),
                "referrals_cut": _brute(day, group, every, cut, n_g, inclusive=True),
                "within_cut": _brute(day, group, within, cut, n_g, inclusive=True)}
    assert list(got["edge"]) == list(np.repeat(np.arange(len(edges)), n_g))
    assert list(got["group"]) == list(rec.groups) * len(edges)
    for column, want in expected.items():
        np.testing.assert_array_equal(got[column], want.reshape(-1), err_msg=column)
