"""The capacity test for areas that pool their specialists (issue 16, MODEL.md sections 2 and 6).

A pooled area's sensitive cases are served by its region's pool, so its specialist utilisation
and coverage are the pool's (:mod:`rjsim.analysis.pooled_load`): hand-worked examples of the
formulas, then a pooled region of two M/M/c-like areas where one has no specialist of its own,
which passes when the pool is ample and fails (on the pool's utilisation) when it is not, while
the same area on its own fails coverage. Unpooled areas are judged exactly as before.

The planner plans such a region: one specialist search for the region's pool (within a slot of
Erlang C's least c for the region's sensitive queue, never more than the areas need apart),
general slots per area, shared by the areas in proportion to their sensitive demand.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capacity_helpers import Queue, capacity_tested, queue_dict

from rjsim.analysis import pooled_load
from rjsim.capacity.queueing import mmc_wait_exceeds
from rjsim.core.codes import Verdict
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.planning import planner
from rjsim.scenario import io as scenario_io
from rjsim.scenario.spec import GROUPS, Scenario


def _loads(**columns: list[float]) -> pooled_load.Loads:
    fields = [f.name for f in dataclasses.fields(pooled_load.Loads)]
    return pooled_load.Loads(**{f: np.array(columns[f], dtype=float)[:, None] for f in fields})


def test_pooled_utilisation_by_hand() -> None:
    """Two areas in one region, a third on its own. Area 0: 10 slot-days of general load on 4
    of its own general slot-days (overflow 6), 3 of sensitive load, no specialist; area 1:
    general load 2 on 5 (no overflow), sensitive 5, 20 specialist slot-days."""
    loads = _loads(sensitive_workload=[3, 5, 1], general_workload=[10, 2, 1],
                   sensitive_referrals=[1, 1, 1], general_referrals=[5, 1, 1],
                   general_slot_days=[4, 5, 1], specialist_slot_days=[0, 20, 1])
    region = (pooled_load.ServiceGroup((("A",), ("B",)), pooled=True),)
    members = pooled_load.regions(["A", "B", "C"], region, extra=0.0)
    assert [m.members.tolist() for m in members] == [[0, 1]]
    rho_s, rho_g = pooled_load.pooled_utilisation(loads, members)
    # the pool: (3 + 5) / 20; area 0: (10 + 8 + 0) / (4 + 20); area 1: (2 + 8 + 6) / (5 + 20)
    assert rho_s[:2, 0] == pytest.approx([0.4, 0.4])
    assert rho_g[:2, 0] == pytest.approx([18 / 24, 16 / 25])
    assert np.isnan(rho_s[2, 0]) and np.isnan(rho_g[2, 0])  # not pooled: left to the caller
    # an overhead of 0.5 day per pooled case: 2 sensitive cases add 1 slot-day to the pool's
    # load; each area's general cases (2 days of slot a case) hold a pooled slot
    # (2 + 0.5) / 2 = 1.25 times as long
    rho_s, rho_g = pooled_load.pooled_utilisation(
        loads, pooled_load.regions(["A", "B", "C"], region, extra=0.5))
    assert rho_s[:2, 0] == pytest.approx([9 / 20, 9 / 20])
    assert rho_g[0, 0] == pytest.approx((10 * 1.25 + 9) / (4 * 1.25 + 20))
    assert rho_g[1, 0] == pytest.approx((2 * 1.25 + 9 + 6 * 1.25) / (5 * 1.25 + 20))


def test_a_region_of_one_area_without_overhead_is_the_area_on_its_own() -> None:
    loads = _loads(sensitive_workload=[7], general_workload=[9], sensitive_referrals=[3],
                   general_referrals=[4], general_slot_days=[6], specialist_slot_days=[8])
    one = pooled_load.regions(["A"], (pooled_load.ServiceGroup((("A",),), pooled=True),), 0.0)
    rho_s, rho_g = pooled_load.pooled_utilisation(loads, one)
    assert rho_s[0, 0] == pytest.approx(7 / 8)  # sensitive load / specialist slots
    assert rho_g[0, 0] == pytest.approx((7 + 9) / (6 + 8))  # all load / all slots


def test_a_shared_service_in_a_pooled_region_is_one_unit() -> None:
    """A small area G (no staff) served by its neighbour H's service, pooled with area B: G and
    H are one unit (summed loads and slots, shared general slots), B another."""
    loads = _loads(sensitive_workload=[7, 1, 2], general_workload=[9, 2, 3],
                   sensitive_referrals=[3, 1, 1], general_referrals=[4, 1, 1],
                   general_slot_days=[6, 0, 4], specialist_slot_days=[8, 0, 2])
    groups = pooled_load.service_groups({c: ("H", "G", "B") for c in "HGB"}, {"G": "H"},
                                        lambda _code: True)
    assert groups == (pooled_load.ServiceGroup((("H", "G"), ("B",)), pooled=True),)
    members = pooled_load.regions(["H", "G", "B"], groups, extra=0.0)
    rho_s, rho_g = pooled_load.pooled_utilisation(loads, members)
    assert rho_s[:, 0] == pytest.approx([10 / 10] * 3)  # (7 + 1 + 2) / (8 + 0 + 2)
    # unit H+G: general 11 on 6 (overflow 5); B: 3 on 4 (none)
    assert rho_g[:, 0] == pytest.approx([(11 + 10) / (6 + 10)] * 2 + [(3 + 10 + 5) / (4 + 10)])
    # with G judged as an area of its own its general load (2, on no slot) would be overflow
    apart = pooled_load.regions(["H", "G", "B"], (pooled_load.ServiceGroup(
        (("H",), ("G",), ("B",)), pooled=True),), extra=0.0)
    assert pooled_load.pooled_utilisation(loads, apart)[1][1, 0] == pytest.approx((2 + 10 + 3) / 10)
    fewest = pooled_load.pooled_fewest(np.array([[2.0, 3.0], [0.0, 0.0], [1.0, 1.0]]), members)
    assert fewest.tolist() == [[3.0, 4.0]] * 3


def test_the_pool_is_stable_exactly_when_every_overflow_fits() -> None:
    """rho_g < 1 iff the sensitive load plus every area's general overflow fits the pool."""
    rng = np.random.default_rng(16)
    for _ in range(200):
        n = 3
        loads = _loads(**{f.name: list(rng.uniform(0, 10, n))
                          for f in dataclasses.fields(pooled_load.Loads)})
        units = tuple((str(a),) for a in range(n))
        region = pooled_load.regions([str(a) for a in range(n)],
                                     (pooled_load.ServiceGroup(units, pooled=True),), 0.0)
        _, rho_g = pooled_load.pooled_utilisation(loads, region)
        fits = (loads.sensitive_workload.sum()
                + np.maximum(loads.general_workload - loads.general_slot_days, 0).sum()
                < loads.specialist_slot_days.sum())
        for a in range(n):
            if loads.general_workload[a, 0] > loads.general_slot_days[a, 0]:
                assert (rho_g[a, 0] < 1) == fits


def test_region_fewest_slots_is_the_pools() -> None:
    own = np.array([[0, 0, 0], [3, 1, 2], [5, 5, 0]], dtype=float)
    region = pooled_load.regions(["A", "B", "C"],
                                 (pooled_load.ServiceGroup((("A",), ("B",)), pooled=True),), 0.0)
    fewest = pooled_load.pooled_fewest(own, region)
    assert fewest[0].tolist() == fewest[1].tolist() == [3, 1, 2]
    assert np.isnan(fewest[2]).all()


# --- a pooled region of two areas, simulated ------------------------------------------------

MU = 0.1  # cases a day per slot (10-day cases)
THEFT, SEXUAL = 1.0, 0.5  # referrals a day per area: general load 10, sensitive 5 slot-days/day


def _region_csv(path: Path) -> Path:
    """Two areas (codes of Wales's forces) of one region with the same demand."""
    columns = ",".join(f"victims_{g}" for g in GROUPS)
    victims = {"theft": THEFT * 365.0, "sexual": SEXUAL * 365.0}
    values = ",".join(f"{victims.get(g, 0.0):.10g}" for g in GROUPS)
    path.write_text(f"pfa_code,force,region,census2021_population,{columns}\n"
                    f"W15000004,Area without specialists,Testshire,1000000,{values}\n"
                    f"W15000002,Area with specialists,Testshire,1000000,{values}\n",
                    encoding="utf-8")
    return path


def _pooled_scenario(tmp_path: Path, specialists: float, pooled: bool = True) -> Scenario:
    d = queue_dict(Queue(THEFT, MU, 16), _region_csv(tmp_path / "region.csv"), 2.0,
                   {"settle_days": 60})
    d["funding"] = {"capacity_from": "fte", "area_fte": {
        "W15000004": {"general": 16, "specialist": 0},
        "W15000002": {"general": 16, "specialist": specialists}}}
    d["pooling"] = {"regions": ["Testshire"] if pooled else [], "overhead_hours_per_case": 0}
    return scenario_io.from_dict(d, source="test")


def _rows(result: pd.DataFrame, area: str) -> dict[str, dict[str, object]]:
    return {r["criterion"]: r for r in result[result["area"] == area].to_dict("records")}


def _within(row: dict[str, object], expected: float) -> None:
    """``expected`` lies in the row's confidence interval across replications."""
    low, high = float(row["ci_low"]), float(row["ci_high"])  # type: ignore[arg-type]
    assert low <= expected <= high, (low, expected, high)


@pytest.mark.slow
def test_an_area_without_specialists_passes_on_an_ample_pool(tmp_path: Path) -> None:
    """20 pooled specialist slots for 10 slot-days a day of sensitive work (both areas'):
    the area with none of its own is covered (20 slots) and passes; on its own it fails."""
    t = capacity_tested(_pooled_scenario(tmp_path, 20.0), 5)
    none = _rows(t.result.criteria, "W15000004")
    assert none["coverage"]["estimate"] == 20 and none["coverage"]["verdict"] == Verdict.PASS
    # the larger of the pool's load (5 + 5) / 20 and the general one (10 + 10 + 0) / (16 + 20)
    # (no overflow), in expectation: within the replications' interval
    _within(none["utilisation"], 20 / 36)
    assert t.result.verdict == Verdict.PASS
    alone = capacity_tested(_pooled_scenario(tmp_path, 20.0, pooled=False), 5)
    own = _rows(alone.result.criteria, "W15000004")
    assert own["coverage"]["verdict"] == Verdict.FAIL
    assert own["utilisation"]["estimate"] == np.inf


@pytest.mark.slow
def test_an_area_without_specialists_fails_on_a_short_pool(tmp_path: Path) -> None:
    """8 pooled specialist slots for 10 slot-days a day of sensitive work: every area of the
    region fails on the pool's utilisation (about 1.25), although it is covered."""
    t = capacity_tested(_pooled_scenario(tmp_path, 8.0), 5)
    for code in ("W15000004", "W15000002"):
        rows = _rows(t.result.criteria, code)
        assert rows["coverage"]["verdict"] == Verdict.PASS
        assert rows["utilisation"]["verdict"] == Verdict.FAIL
        _within(rows["utilisation"], 10 / 8)
    assert t.result.verdict == Verdict.FAIL
    # the rolling windows behind "time to pass" judge the same pool
    rolling = t.experiment.per_replication["rolling_metrics"]
    assert (rolling["specialist_slots_min"] == 8).all()
    assert (rolling["utilisation"] > 1.1).all()



# --- planning a pooled region ---------------------------------------------------------------


def _least_slots(lam: float, target: float, share: float) -> int:
    """Erlang C: the least c with P(wait > target) <= 1 - share (10-day exponential cases)."""
    c = 1
    while lam / (c * MU) >= 1 or mmc_wait_exceeds(lam, MU, c, target) > 1 - share:
        c += 1
    return c


def test_specialists_are_shared_in_proportion_to_demand() -> None:
    assert planner.shares(7, {"a": 1.0, "b": 1.0}) == {"a": 4, "b": 3}
    assert planner.shares(10, {"a": 3.0, "b": 1.0, "c": 0.0}) == {"a": 8, "b": 2, "c": 0}
    assert planner.shares(5, {"a": 0.0, "b": 0.0}) == {"a": 3, "b": 2}
    assert planner.shares(0, {"a": 2.0}) == {"a": 0}


@pytest.mark.slow
def test_the_planner_plans_a_pooled_region(tmp_path: Path) -> None:
    settings = ExperimentSettings(replications=6, executor=ExecutorSettings(kind="local"))
    test = _pooled_scenario(tmp_path, 0.0).capacity_test
    target, share = test.wait_target_days or 28.0, test.timeliness_share
    result = planner.plan(_pooled_scenario(tmp_path, 0.0), settings)
    rows = result.areas.set_index("area")
    pool = int(rows["specialist_slots"].sum())
    # the region's sensitive queue: 2 x 0.5 referrals a day of 10-day cases, no overhead; the
    # search starts there (Erlang C) and may add slots the backlog-trend criterion asks for
    least = _least_slots(2 * SEXUAL, target, share)
    assert planner.region_seed(result.check.scenario, list(result.check.plan.areas)) == least
    assert least - 1 <= pool <= least + 4, result.search_log
    # the two areas have the same demand: the pool is shared evenly (to a slot)
    assert abs(int(rows["specialist_slots"].diff().iloc[-1])) <= 1
    assert result.test.verdict == Verdict.PASS
    assert result.scenario.pooling.regions == ("Testshire",)  # the plan stays pooled
    alone = planner.plan(_pooled_scenario(tmp_path, 0.0, pooled=False), settings)
    assert pool <= int(alone.areas["specialist_slots"].sum())
