"""History matching on a synthetic case where the truth is known: targets are simulated from
known funnel values, the calibration must keep the truth and put its point estimate near it,
and the same check fails when the calibration is broken."""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any

import numpy as np
import pytest

import rjsim
from rjsim.data.targets import Target, parse_measure
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.planning import calibrate as cal

CUMBRIA = "E23000002"
SETTINGS = ExperimentSettings(replications=2, executor=ExecutorSettings("local", 1))
YEARS = 1.25
TRUTH = {"demand.informed": 0.35, "demand.wants_rj": 0.25}
PARAMETERS = (cal.Parameter("demand.informed", 0.1, 0.6),
              cal.Parameter("demand.wants_rj", 0.1, 0.6))
MEASURES = {"offered": "informed/eligible_victims", "accepted": "asked_for_rj/informed",
            "asked": "asked_for_rj per year"}


def _scenario() -> Any:
    return rjsim.load_scenario("scenarios/baseline.toml", {"areas": {"include": [CUMBRIA]}})


def _targets(values: np.ndarray) -> list[Target]:
    """Targets at the model's values at the truth, each with a +/-5% published range."""
    return [Target(name, name, "range", float(v), 0.95 * float(v), 1.05 * float(v), "share",
                   CUMBRIA, "synthetic", "synthetic", "victims", parse_measure(m), None, "",
                   "calibration", "simulated at known values", "high", "+/-5%")
            for (name, m), v in zip(MEASURES.items(), values, strict=True)]


@pytest.fixture(scope="module")
def synthetic() -> tuple[Any, list[Target]]:
    sc = _scenario()
    placeholders = _targets(np.ones(len(MEASURES)))
    truth_values, _ = cal.point(sc, placeholders, TRUTH, SETTINGS, YEARS)
    return sc, _targets(truth_values)


def recovers_truth(result: cal.Calibration) -> bool:
    """The truth lies inside the retained set and the point estimate is near it."""
    kept, best = result.retained, result.best
    if best is None or kept.empty:
        return False
    inside = all(kept[k].min() <= v <= kept[k].max() for k, v in TRUTH.items())
    near = all(abs(float(best[k]) - v) < 0.04 for k, v in TRUTH.items())
    narrowed = len(kept) < 0.5 * len(result.design)
    return inside and near and narrowed


def _run(synthetic: tuple[Any, list[Target]]) -> cal.Calibration:
    sc, targets = synthetic
    return cal.calibrate(sc, targets, PARAMETERS, SETTINGS, points=30, years=YEARS)


def test_synthetic_calibration_recovers_the_truth(synthetic: tuple[Any, list[Target]]) -> None:
    sc, targets = synthetic
    _, at_truth = cal.point(sc, targets, TRUTH, SETTINGS, YEARS)
    assert at_truth.max() < 1e-9  # same seed at the truth: the model reproduces its targets
    result = _run(synthetic)
    assert recovers_truth(result), result.retained.to_string()
    fit = cal.fit_table(result)
    assert (fit["implausibility"] < cal.CUTOFF).all()
    links = cal.constraints(result).set_index(["target", "parameter"])["spearman"]
    assert links[("offered", "demand.informed")] > 0.9  # the offer share pins 'informed'
    assert abs(links[("offered", "demand.wants_rj")]) < 0.5
    assert links[("accepted", "demand.wants_rj")] > 0.9


def test_a_broken_calibration_does_not_recover_the_truth(
        synthetic: tuple[Any, list[Target]], monkeypatch: pytest.MonkeyPatch) -> None:
    real = cal.design

    def mislabelled(*args: Any) -> Any:  # a bug: each design column reports the other's name
        grid = real(*args)
        grid.columns = list(reversed(grid.columns))
        return grid
    monkeypatch.setattr(cal, "design", mislabelled)
    assert not recovers_truth(_run(synthetic))


def test_design_and_ranges() -> None:
    grid = cal.design(PARAMETERS, 20, seed=1)
    assert grid.shape == (20, 2) and grid.min().min() >= 0.1 and grid.max().max() <= 0.6
    # a Latin hypercube: one point in each of the 20 strata of every parameter
    strata = np.floor((grid["demand.informed"] - 0.1) / 0.5 * 20).astype(int)
    assert sorted(strata) == list(range(20))
    logged = cal.logged_parameters(cal.DEFAULT_PARAMETERS)
    text = resources.files("rjsim").joinpath("data/assumptions.csv").read_text("utf-8")
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
    assert [(p.low, p.high) for p in logged] == [
        (float(rows[k]["low"]), float(rows[k]["high"])) for k in cal.DEFAULT_PARAMETERS]
    with pytest.raises(rjsim_error()):
        cal.logged_parameters(["run.seed"])
    assert cal.overrides({"demand.informed": 0.123456789}) == {"demand": {"informed": 0.123457}}


def rjsim_error() -> type[Exception]:
    from rjsim.core.errors import ScenarioError
    return ScenarioError
