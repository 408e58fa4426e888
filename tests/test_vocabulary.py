"""Unit tests: the typed vocabulary (pools, verdicts, comparators, distribution kinds) and the
words it writes to tables and files, which must stay exactly as before."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rjsim
from rjsim.capacity.capacity_test import Comparator, Criterion, judge
from rjsim.core.codes import ALL_POOLS, NO_POOL, Pool, Verdict, label
from rjsim.core.schema import to_plain
from rjsim.experiment import runner
from rjsim.scenario.distributions import Distribution, DistributionKind


def test_pools_are_the_slot_kinds_and_name_their_demand() -> None:
    assert [int(p) for p in Pool] == [0, 1] and NO_POOL == -1  # the codes stored per case
    assert [label(p) for p in Pool] == ["general", "specialist"]  # the cases table's 'slot'
    assert [p.demand for p in Pool] == ["general", "sensitive"]  # capacity tables' 'pool'
    assert Pool.serving(sensitive=True) is Pool.SPECIALIST
    assert Pool.serving(sensitive=False) is Pool.GENERAL
    assert ALL_POOLS == "all"


def test_records_store_pools_and_tables_keep_their_words() -> None:
    s = rjsim.scenario_from_dict({"run": {"years": 1, "seed": 3},
                                  "areas": {"include": ["Cumbria"]}})
    result = runner.run(s, keep_records=True)
    assert result.records is not None
    rec = result.records[0]
    assert set(np.unique(rec.skill)) <= {NO_POOL, *(int(p) for p in Pool)}
    assert (rec.skill == Pool.GENERAL).any() and (rec.skill == Pool.SPECIALIST).any()
    from rjsim.analysis import tables
    slots = tables.cases_frame(rec)["slot"]
    assert set(slots) == {"none", "general", "specialist"}
    assert ((slots == "none") == np.isnan(rec.allocation_day)).all()
    pools = result.tables["capacity_metrics"]["pool"]
    assert set(pools) == {"all", "general", "sensitive"}


def test_verdicts_are_their_words_and_order_by_severity() -> None:
    assert [str(v) for v in Verdict] == ["pass", "fail", "inconclusive", "n/a"]
    assert Verdict("fail") is Verdict.FAIL and Verdict.PASS == "pass"
    assert Verdict("n/a") is Verdict.NOT_APPLICABLE  # a criterion that does not apply
    assert sorted(Verdict, key=lambda v: v.severity) == [
        Verdict.PASS, Verdict.NOT_APPLICABLE, Verdict.INCONCLUSIVE, Verdict.FAIL]
    assert [v.met for v in Verdict] == [True, False, False, True]
    assert f"{Verdict.INCONCLUSIVE:<14}|" == "inconclusive  |"  # formats as its word


@pytest.mark.parametrize(("comparator", "value", "threshold", "holds"), [
    (Comparator.AT_LEAST, 0.9, 0.9, True), (Comparator.AT_LEAST, 0.89, 0.9, False),
    (Comparator.AT_MOST, 0.05, 0.05, True), (Comparator.AT_MOST, 0.06, 0.05, False),
    (Comparator.BELOW, 0.99, 1.0, True), (Comparator.BELOW, 1.0, 1.0, False),
])
def test_comparators(comparator: Comparator, value: float, threshold: float,
                     holds: bool) -> None:
    assert comparator.holds(value, threshold) is holds
    assert comparator.sign == (1.0 if comparator is Comparator.AT_LEAST else -1.0)


def test_a_criterion_written_with_its_operator_holds_the_comparator() -> None:
    c = Criterion("utilisation", "utilisation", "<", 1.0, "load", "")  # type: ignore[arg-type]
    assert c.comparison is Comparator.BELOW and str(c.comparison) == "<"
    with pytest.raises(ValueError):
        Criterion("x", "x", "=>", 1.0, "", "")  # type: ignore[arg-type]
    j = judge(c, np.array([0.5, 0.6, 0.55]), 0.95)
    assert j.verdict is Verdict.PASS and j.margin == pytest.approx(0.45)
    assert math.isnan(j.replications_needed)


def test_distribution_kinds_are_the_toml_words() -> None:
    d = Distribution("gamma", mean=14.0, cv=0.5)  # type: ignore[arg-type]
    assert d.kind is DistributionKind.GAMMA
    assert to_plain(d) == {"kind": "gamma", "mean": 14.0, "cv": 0.5}
    assert type(to_plain(d)["kind"]) is str
    assert d.describe() == "gamma(mean=14, cv=0.5) days"
    never = rjsim.scenario_from_dict({"service": {"window": {"kind": "never"}}}).service.window
    assert never.kind is DistributionKind.NEVER and never.mean_days == math.inf
