"""The price of commencement across parameter sets: the analytic least staffing of an M/M/c
area with a right, checked against Erlang C worked out here, and its headline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from uncertainty_helpers import LAM_MAX, MU, mmc_scenario, write_area_csv

from rjsim.capacity.queueing import mmc_wait_exceeds
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


def test_analytic_price_matches_erlang_c_per_parameter_set(right: Scenario) -> None:
    settings = unc.parse_settings({"samples": 16, "vary": ["demand.offender_identified"],
                                   "distributions": {"demand.offender_identified": {
                                       "kind": "uniform", "low": 0.3, "high": 0.9}}},
                                  lambda p: p)
    decl = uncertainty_declare.declare(right, settings, lambda p: p)
    values = sampling.sample(decl, seed=1)
    prices = price.price_table(propagate.sample_scenarios(right, decl, values))
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
