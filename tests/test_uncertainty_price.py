"""The price of commencement across parameter sets: the analytic least staffing of an M/M/c
area with a right, checked against Erlang C worked out here, and its headline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capacity_helpers import AREA
from conftest import scenario
from uncertainty_helpers import LAM_MAX, MU, mmc_scenario, write_area_csv

from rjsim.analysis import capacity_metrics as capacity
from rjsim.capacity.queueing import mmc_wait_exceeds
from rjsim.core.codes import Pool
from rjsim.experiment import runner
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.planning import planner
from rjsim.scenario import uncertainty as unc
from rjsim.scenario import uncertainty_declare
from rjsim.scenario import uncertainty_sample as sampling
from rjsim.scenario.spec import Scenario
from rjsim.uncertainty import price, propagate

TARGET_DAYS = 0.5  # short enough that timeliness, not utilisation, decides the slots
COST_PER_FTE = 30_000 * 1.30 * 1.20  # default salary x on-costs x (1 + overheads)


def least_slots(lam: float) -> int:
    c = 1
    while lam >= c * MU or mmc_wait_exceeds(lam, MU, c, TARGET_DAYS) > 0.10:
        c += 1
    return c


@pytest.fixture(scope="module")
def right(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    data = write_area_csv(tmp_path_factory.mktemp("mmc") / "area.csv")
    return mmc_scenario(data, years=2.0, statutory_right={"commence_day": 30, "informed": 1},
                        capacity_test={"wait_target_days": TARGET_DAYS, "settle_days": 0})


def _sets(right: Scenario, samples: int = 16) -> tuple[np.ndarray, list[Scenario],
                                                       pd.DataFrame]:
    settings = unc.parse_settings({"samples": samples, "vary": ["demand.offender_identified"],
                                   "distributions": {"demand.offender_identified": {
                                       "kind": "uniform", "low": 0.3, "high": 0.9}}},
                                  lambda p: p)
    decl = uncertainty_declare.declare(right, settings, lambda p: p)
    values = sampling.sample(decl, seed=1)
    scenarios = propagate.sample_scenarios(right, decl, values)
    return values, scenarios, price.price_table(scenarios)


def test_analytic_price_matches_erlang_c_per_parameter_set(right: Scenario) -> None:
    values, _, prices = _sets(right)
    nat = prices[prices["area"] == "national"].set_index("sample")["annual_cost_gbp"]
    expected = [least_slots(LAM_MAX * oi) * COST_PER_FTE for oi in values[:, 0]]
    assert nat.to_numpy() == pytest.approx(expected)
    assert len(set(expected)) > 3  # the sets really differ
    summary = price.price_summary(prices).set_index("area").loc["national"]
    assert summary["median_gbp"] == pytest.approx(np.quantile(expected, 0.5))
    assert summary["p90_gbp"] == pytest.approx(np.quantile(expected, 0.9))
    line = price.headline(price.price_summary(prices))
    assert line.startswith(f"Commencing the right needs about GBP "
                           f"{np.quantile(expected, 0.5) / 1e6:.0f}m a year (90% interval")


def test_no_price_without_a_right(right: Scenario, tmp_path: Path) -> None:
    data = write_area_csv(tmp_path / "area.csv")
    assert price.has_price(right)
    assert not price.has_price(mmc_scenario(data))


def test_quantile_sets_are_the_sets_at_the_inverted_cdf() -> None:
    costs = [7.0, 3.0, 9.0, 1.0, 5.0, 8.0, 2.0, 10.0, 4.0, 6.0] * 2  # 20 sets, each cost twice
    prices = pd.DataFrame({"sample": range(20), "area": "national", "annual_cost_gbp": costs})
    got = price.quantile_sets(prices, (0.5, 0.9, 0.95))
    # the least cost covering at least 50%, 90% and 95% of the 20 sets: the 10th, 18th and
    # 19th smallest
    assert [(q, cost) for q, _, cost in got] == [(0.5, 5.0), (0.9, 9.0), (0.95, 10.0)]
    assert all(costs[sample] == cost for _, sample, cost in got)


def test_price_is_confirmed_by_simulation_and_a_smaller_plan_is_not(right: Scenario) -> None:
    # each quantile set's least staffing by Erlang C passes the simulated capacity test; the
    # same sets two slots short must not (the check can fail)
    _, scenarios, prices = _sets(right)
    local = ExperimentSettings(executor=ExecutorSettings("local"))
    confirmed = price.confirm(scenarios, prices, local, replications=10)
    assert confirmed["quantile"].tolist() == list(price.CONFIRM_QUANTILES)
    assert confirmed["passes"].all(), confirmed.to_dict("records")
    assert (confirmed["areas_pass"] == 1).all()
    at = dict(zip(confirmed["quantile"], confirmed["sample"], strict=True))
    nat = prices[prices["area"] == "national"].set_index("sample")["annual_cost_gbp"]
    assert nat[at[0.5]] == pytest.approx(np.quantile(nat, 0.5, method="inverted_cdf"))
    short = prices.assign(general_fte=prices["general_fte"] - 2)
    failed = price.confirm(scenarios, short, local, replications=10, quantiles=(0.5, 0.95))
    assert not failed["passes"].any(), failed.to_dict("records")
    assert failed["not_passing"].str.contains(AREA).all()
    line = price.headline(price.price_summary(prices), confirmed)
    assert "(10 replications), that set's plan: at the median (GBP" in line
    assert line.endswith("at the 95th percentile (GBP "
                         f"{confirmed['annual_cost_gbp'].iloc[2] / 1e6:.1f}m) it passes")


def test_the_analytic_price_keeps_a_shared_service_as_rjsim_plan_does() -> None:
    """City of London served by the Metropolitan Police (the default): the Met is seeded for
    both areas' referrals and City has no staff of its own; with its own service (``""``) City
    is seeded and costed alone."""
    city, met = "E23000034", "E23000001"
    sections = {"areas": {"include": [city, met]}, "run": {"years": 3},
                "statutory_right": {"commence_day": 365}}
    shared = price.analytic_plan(scenario(**sections)).set_index("area")
    alone = price.analytic_plan(scenario(**sections, funding={
        "shared_services": {city: ""}})).set_index("area")
    assert shared.loc[city, ["general_slots", "specialist_slots", "annual_cost_gbp"]].eq(0).all()
    assessed = capacity.assessed(scenario(**sections))
    tasks = runner.task_plan(assessed)
    both = planner.seeds(assessed, tasks.area(met), (tasks.area(city),))
    assert shared.loc[met, "general_slots"] == both[Pool.GENERAL]
    assert shared.loc[met, "specialist_slots"] == both[Pool.SPECIALIST]
    assert alone.loc[city, "annual_cost_gbp"] > 0  # its own service costs its own staff
    # one queue for both needs no more than the two apart (Erlang C's pooling effect)
    assert shared["annual_cost_gbp"].sum() <= alone["annual_cost_gbp"].sum()
