"""Funding options end to end: money and unmet demand, ringfencing, bad input, the shipped
options and ``rjsim compare`` on them.

Kinds: statistical (more money never increases unmet demand, under common random numbers,
judged by confidence intervals and a sign test), functional (leakage scales delivered FTE
exactly), validation (each bad funding setting is one clear error naming its key, in Python
and from the CLI) and CLI end to end (a funding comparison writes its options table, the
funding frontier and per-option allocation tables).
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import AVON, scenario

from rjsim.core.errors import ScenarioError
from rjsim.data import areas as areadata
from rjsim.experiment import runner
from rjsim.experiment.comparison import OPTION_KPIS, compare
from rjsim.experiment.executors import ExecutorSettings
from rjsim.experiment.experiment import ExperimentSettings
from rjsim.funding import allocation
from rjsim.funding import budgets as funding
from rjsim.model.workforce import simulate_skill
from rjsim.scenario import io as scenario_io

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FUNDING_FILES = sorted(SCENARIOS.glob("funding_*.toml"))
FEW = ["E23000036", "W15000004", "E23000026"]  # Avon and Somerset, Dyfed-Powys, Bedfordshire


def rjsim_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rjsim", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300)


def binomial_cdf(k: int, n: int, p: float = 0.5) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


# -- more money, less unmet demand (statistical) -------------------------------------------------

@pytest.mark.slow
def test_more_money_never_increases_unmet_demand():
    budgets = (4.6e6, 9e6, 18e6)
    options = [scenario(name=f"pot_{b / 1e6:g}m".replace(".", "_"),
                        run={"years": 2, "replications": 10}, areas={"include": FEW},
                        funding={"national_budget_gbp": b}) for b in budgets]
    c = compare(options, ExperimentSettings(replications=10,
                                            executor=ExecutorSettings("local")))
    # Criterion 1 (confidence intervals): for each higher budget, the paired difference in
    # unmet demand from the lowest (same seeds: common random numbers) has its 95% CI entirely
    # below zero, nationally and in every area. With 10 replications that is a one-sided test
    # at 2.5% that money does not reduce unmet demand; a correct model with these large budget
    # steps (about 2x and 4x the FTE) fails it with negligible probability.
    d = c.differences[(c.differences["kpi"] == "unmet_demand")
                      & (c.differences["level"] != "group")]  # nationally and per area
    assert len(d) == 2 * (1 + len(FEW))
    assert (d["n"] == 10).all()
    assert (d["ci_high"] < 0).all(), d[["level", "area", "scenario", "difference", "ci_high"]]
    # Criterion 2 (sign test, replication by replication): over every step up in budget
    # (4.6m -> 9m, 9m -> 18m) and every area, count the replications in which unmet demand
    # went *up*. If money did not help, an increase would be at least as likely as not
    # (p >= 1/2); allow at most the largest count k with P(Binomial(n, 1/2) <= k) < 0.001,
    # so a model in which money does not help passes with probability < 0.1%.
    per_rep = [e.per_replication["area_summary"].set_index(["area", "replication"])
               ["unmet_demand"].sort_index() for e in c.experiments]
    steps = pd.concat([hi - lo for lo, hi in itertools.pairwise(per_rep)])
    n = len(steps)  # 2 steps x 3 areas x 10 replications = 60
    k = max(i for i in range(n + 1) if binomial_cdf(i, n) < 0.001)
    assert n == 60 and k == 17
    assert int((steps > 0).sum()) <= k, steps[steps > 0]
    # and more money buys more staff and costs more, as it should
    nat = c.estimates[(c.estimates["level"] == "national")].set_index(["kpi", "scenario"])
    names = c.names
    for kpi in ("fte_in_post", "annual_cost_gbp"):
        values = [nat.loc[(kpi, name), "mean"] for name in names]
        assert values == sorted(values) and values[0] < values[-1], (kpi, values)


# -- ringfencing -------------------------------------------------------------------------------

def _workforces(ringfenced: bool) -> dict[str, Any]:
    leak = {} if ringfenced else {"ringfenced": False, "leakage_share": 0.25}
    sc = scenario(run={"years": 3}, staffing={"attrition_per_year": 0.12},
                  funding={"schedule": [{"from_day": 365, "national_budget_gbp": 9.2e6}]}
                  | leak)
    return funding.workforces(sc, areadata.packaged())


def test_leakage_scales_budget_establishment_and_staff_in_post_exactly():
    fenced, leaky = _workforces(True), _workforces(False)
    assert set(fenced) == set(leaky) and len(fenced) == 43
    for code, a in fenced.items():
        b = leaky[code]
        assert a.volunteer_fte == b.volunteer_fte == 0.0
        # budgets (and with no volunteers, everything bought with them) are 75% month by month,
        # through the rise at day 365 and its recruitment lag, with attrition throughout
        for name in ("budget_gbp", "establishment", "in_post", "hires", "leavers", "spend_gbp"):
            np.testing.assert_allclose(getattr(b, name), 0.75 * getattr(a, name), rtol=1e-12,
                                       atol=1e-12, err_msg=f"{code} {name}")
        # the rise happened (City of London, served by the Met by default, has no budget)
        assert a.budget_gbp[12] > a.budget_gbp[11] or (code == "E23000034"
                                                       and not a.budget_gbp.any())


def test_staff_in_post_is_linear_in_the_establishment():
    # why staff in post scale with the budget: attrition is a share of staff, lags are fixed,
    # so the stock-and-flow model is homogeneous of degree one
    rng = np.random.default_rng(4)
    est = rng.uniform(0, 20, 40).round(1)
    days = np.full(40, 365 / 12)
    base = simulate_skill(est, days, 0.3, 4, 3, 2)
    for c in (0.25, 0.75, 3.0):
        scaled = simulate_skill(c * est, days, 0.3, 4, 3, 2)
        for x, y in zip(scaled, base, strict=True):
            np.testing.assert_allclose(x, c * y, rtol=1e-12, atol=1e-12)


def test_tables_carry_the_workforce_month_by_month():
    sc = scenario(run={"years": 2}, areas={"include": [AVON]},
                  funding={"ringfenced": False, "leakage_share": 0.25,
                           "schedule": [{"from_day": 365, "national_budget_gbp": 9.2e6}]})
    result = runner.run(sc)
    am = result.tables["area_month"].set_index("period")
    wf = result.plan.workforce[AVON]
    np.testing.assert_allclose(am["budget_gbp"], wf.budget_gbp)
    np.testing.assert_allclose(am["establishment_fte_general"], wf.establishment[:, 0])
    np.testing.assert_allclose(am["establishment_fte_specialist"], wf.establishment[:, 1])
    np.testing.assert_allclose(am["fte_general"], wf.in_post[:, 0])
    np.testing.assert_allclose(am["fte_specialist"], wf.in_post[:, 1])
    np.testing.assert_allclose(am["vacancies_fte"], wf.vacancies.sum(axis=1))
    np.testing.assert_allclose(am["hires_fte"], wf.hires.sum(axis=1))
    np.testing.assert_allclose(am["leavers_fte"], wf.leavers.sum(axis=1))
    np.testing.assert_allclose(am["cost_gbp"], wf.spend_gbp)
    # Avon's budget is its population share of the pot less a quarter that leaks
    pk = areadata.packaged()
    share = next(a.population for a in pk.areas if a.code == AVON) / sum(
        a.population for a in pk.areas)
    assert am["budget_gbp"].iloc[0] == pytest.approx(4.6e6 * 1.33 * 0.75 * share)
    assert am["budget_gbp"].iloc[12] == pytest.approx(9.2e6 * 1.33 * 0.75 * share)


# -- bad input: one clear error naming the key ---------------------------------------------------

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("negative national budget", {"funding": {"national_budget_gbp": -1}},
     "funding.national_budget_gbp"),
    ("negative area budget", {"funding": {"area_budget_gbp": {AVON: -5.0}}},
     f"funding.area_budget_gbp.{AVON}"),
    ("negative scheduled budget",
     {"funding": {"schedule": [{"from_day": 365, "national_budget_gbp": -1}]}},
     "funding.schedule[0].national_budget_gbp"),
    ("shares not adding to one",
     {"funding": {"allocation": "shares", "shares": {AVON: 0.5, "E23000026": 0.4}}},
     "funding.shares"),
    ("duplicate schedule dates",
     {"funding": {"schedule": [{"from_day": 365, "national_budget_gbp": 1e6},
                               {"from_date": "2026-04-01", "national_budget_gbp": 2e6}]}},
     "funding.schedule[1]"),
    ("schedule out of order",
     {"funding": {"schedule": [{"from_day": 700, "national_budget_gbp": 1e6},
                               {"from_day": 400, "national_budget_gbp": 2e6}]}},
     "funding.schedule[1]"),
    ("schedule outside the run",
     {"run": {"years": 2}, "funding": {"schedule": [{"from_day": 800, "allocation": "current"}]}},
     "funding.schedule[0]"),
    ("leakage from a ringfenced pot", {"funding": {"leakage_share": 0.2}},
     "funding.leakage_share"),
    ("leakage in a ringfenced change",
     {"funding": {"schedule": [{"from_day": 365, "national_budget_gbp": 1e6,
                                "leakage_share": 0.2}]}},
     "funding.schedule[0].leakage_share"),
    ("schedule entry setting nothing",
     {"funding": {"schedule": [{"from_day": 365}]}}, "funding.schedule[0]"),
    ("floor_plus without a floor", {"funding": {"allocation": "floor_plus"}},
     "funding.floor_gbp"),
    ("column without a column", {"funding": {"allocation": "column"}},
     "funding.allocation_column"),
]


@pytest.mark.parametrize("values, key", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_funding_is_refused_naming_the_key(values, key):
    with pytest.raises(ScenarioError) as err:
        scenario(**values)
    problems = err.value.problems
    assert len(problems) == 1, problems
    assert key in problems[0].where, problems[0]


PLAN_BAD: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    ("column not in the data", {"allocation": "column", "allocation_column": "rj_weight"},
     "allocation_column", ("rj_weight", "census2021_population", "prc_robbery")),
    ("floors exceeding the pot", {"allocation": "floor_plus", "floor_gbp": 200_000},
     "funding.floor_gbp", ("43 areas",)),
    ("unknown area in shares",
     {"allocation": "shares", "shares": {AVON: 0.5, "E23999999": 0.5}},
     "funding.shares", ("E23999999",)),
    ("unknown area in a scheduled budget",
     {"schedule": [{"from_day": 365, "area_budget_gbp": {"E23999999": 1e5}}]},
     "funding.schedule[0].area_budget_gbp", ("E23999999",)),
]


@pytest.mark.parametrize("fund, key, needles", [b[1:] for b in PLAN_BAD],
                         ids=[b[0] for b in PLAN_BAD])
def test_bad_funding_found_with_the_area_data_at_plan_time(fund, key, needles):
    sc = scenario(funding=fund)  # valid on its own: the area data decides
    with pytest.raises(ScenarioError) as err:
        runner.task_plan(sc)
    text = str(err.value)
    assert key in text
    for needle in needles:
        assert needle in text, text


@pytest.mark.parametrize("body, needles", [
    ('[funding]\nallocation = "shares"\nshares = { E23000036 = 0.5, E23000026 = 0.4 }\n',
     ("funding.shares", "add up to 1")),
    ('[funding]\nallocation = "column"\nallocation_column = "rj_weight"\n',
     ("allocation_column", "rj_weight", "census2021_population")),
], ids=["shares", "column"])
def test_cli_validate_refuses_bad_funding_cleanly(tmp_path, body, needles):
    path = tmp_path / "bad_funding.toml"
    path.write_text(f'name = "bad"\ndescription = "bad funding"\n{body}', encoding="utf-8")
    proc = rjsim_cli("validate", str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "FAIL" in proc.stderr and "bad_funding.toml" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


# -- the shipped funding options -----------------------------------------------------------------

def test_shipped_funding_scenarios_validate_and_describe_themselves():
    assert len(FUNDING_FILES) >= 5
    names = set()
    for path in FUNDING_FILES:
        sc = scenario_io.load(path)
        assert sc.name == path.stem
        assert len(sc.description.strip()) > 80, path
        assert sc.funding.capacity_from == "budget"
        runner.task_plan(sc)  # the area data and budgets are part of a valid scenario
        names.add(sc.name)
    assert len(names) == len(FUNDING_FILES)


def test_shipped_option_budgets(table):
    """What each shipped option puts into the pot, after uprating and leakage."""
    expected_after_day_365 = {
        "funding_today": 4.6e6 * 1.33,
        "funding_30m_population": 30.5e6 * 1.29,
        "funding_30m_crime": 30.5e6 * 1.29,
        "funding_30m_need": 30.5e6 * 1.29,
        "funding_30m_population_not_ringfenced": 30.5e6 * 1.29 * 0.75,
        "funding_120m_need": 120e6,
    }
    for path in FUNDING_FILES:
        sc = scenario_io.load(path)
        days, budgets = allocation.timeline(sc, table)
        assert sum(budgets[0].values()) == pytest.approx(4.6e6 * 1.33), path
        assert sum(budgets[-1].values()) == pytest.approx(expected_after_day_365[sc.name]), path
        assert days[-1] in (0.0, 365.0)


WRAPPER = """
extends = "{base}"
name = "{name}"
[areas]
include = ["E23000036", "W15000004"]
"""


@pytest.mark.slow
def test_cli_compare_of_funding_options_writes_options_table_frontier_and_allocations(tmp_path):
    pots = {"funding_today": {0: 4.6e6 * 1.33},
            "funding_30m_population_not_ringfenced": {0: 4.6e6 * 1.33,
                                                      365: 30.5e6 * 1.29 * 0.75}}
    files = []
    for name in pots:
        path = tmp_path / f"small_{name}.toml"
        path.write_text(WRAPPER.format(base=(SCENARIOS / f"{name}.toml").as_posix(),
                                       name=f"small_{name}"), encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "cmp"
    proc = rjsim_cli("compare", *files, "--replications", "2", "--years", "2", "--workers", "1",
                     "--no-cache", "--out", str(out), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr

    options = pd.read_csv(out / "tables" / "comparison_options.csv")
    assert set(options["option"]) == {f"small_{n}" for n in pots}
    for level, areas in (("national", {"all"}), ("area", {"E23000036", "W15000004"})):
        rows = options[options["level"] == level]
        assert set(rows["area"]) == areas
        for area in areas:
            got = set(rows.loc[rows["area"] == area, "kpi"])
            assert got == set(OPTION_KPIS), (level, area, set(OPTION_KPIS) - got)
    assert (options["n"] == 2).all()
    # the first option is the reference: differences are given for the other
    other = options[options["option"] == "small_funding_30m_population_not_ringfenced"]
    assert other["difference"].notna().all()

    for ext in ("png", "svg"):
        figure = out / "figures" / f"funding_frontier.{ext}"
        assert figure.is_file() and figure.stat().st_size > 1000, figure

    for name, pot in pots.items():
        t = pd.read_csv(out / "scenarios" / f"small_{name}" / "tables" / "funding_allocation.csv")
        assert len(t["area"].unique()) == 43  # the whole national pot, not just the 2 simulated
        totals = t.groupby("from_day")["budget_gbp"].sum()
        assert totals.to_dict() == pytest.approx({float(d): v for d, v in pot.items()}), name

