"""The postcode lottery measured (issue 16 item 5): inequality KPIs between areas.

Hand-worked examples on small tables (the arithmetic is written out in each test), property
tests of the Gini coefficient (hypothesis), and the comparison's paired differences and its
sentence.
"""

from __future__ import annotations

import math
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjsim.analysis import inequality as ineq
from rjsim.cli import main as cli

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_gini_hand_worked() -> None:
    # values 1, 2, 3, 4 (unweighted): |differences| over all ordered pairs sum to
    # 2 * (1+2+3+1+2+1) = 20; mean 2.5; G = 20 / (2 * 4^2 * 2.5) = 0.25
    assert ineq.gini(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)
    # two areas, shares 0 and 1: unweighted G = 2 * 1 / (2 * 4 * 0.5) = 0.5
    assert ineq.gini(np.array([0.0, 1.0])) == pytest.approx(0.5)
    # weighted 3:1 (population): pairs (i, j) weighted w_i w_j: 2 * 3 * 1 * |0 - 1| = 6;
    # W = 4; mean = (3 * 0 + 1 * 1) / 4 = 0.25; G = 6 / (2 * 16 * 0.25) = 0.75
    assert ineq.gini(np.array([0.0, 1.0]), np.array([3.0, 1.0])) == pytest.approx(0.75)
    # ... and the same with the weights the other way: mean 0.75, G = 6 / (2 * 16 * 0.75)
    assert ineq.gini(np.array([0.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(0.25)
    # weights act as repeated units: weight 2 on 1.0 is the unweighted 1, 1, 3
    assert ineq.gini(np.array([1.0, 3.0]), np.array([2.0, 1.0])) == pytest.approx(
        ineq.gini(np.array([1.0, 1.0, 3.0])))
    # NaN areas (no eligible victims) are left out; nothing left: NaN; all zero: 0
    assert ineq.gini(np.array([1.0, np.nan, 3.0, 1.0])) == pytest.approx(
        ineq.gini(np.array([1.0, 3.0, 1.0])))
    assert math.isnan(ineq.gini(np.array([np.nan])))
    assert ineq.gini(np.zeros(5)) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        ineq.gini(np.array([-1.0, 1.0]))


shares = st.lists(st.floats(0, 1), min_size=1, max_size=43)


@given(shares, st.randoms(use_true_random=False))
def test_gini_properties(values: list[float], rnd: object) -> None:
    x = np.array(values)
    w = np.linspace(1.0, 9.0, len(x))  # unequal populations
    g = ineq.gini(x, w)
    assert 0.0 <= g < 1.0
    assert ineq.gini(np.full(len(x), x[0]), w) == pytest.approx(0.0, abs=1e-12)
    order = np.arange(len(x))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    assert ineq.gini(x[order], w[order]) == pytest.approx(g, abs=1e-12)
    # scaling every share (or every weight) leaves it unchanged
    assert ineq.gini(3 * x, w) == pytest.approx(g, abs=1e-12)
    assert ineq.gini(x, 7 * w) == pytest.approx(g, abs=1e-12)


@given(st.lists(st.floats(0, 1), min_size=2, max_size=20))
def test_gini_matches_the_double_sum(values: list[float]) -> None:
    x = np.array(values)
    w = np.arange(1.0, len(x) + 1)
    mean = (w * x).sum() / w.sum()
    if mean == 0:
        return
    direct = (np.outer(w, w) * np.abs(x[:, None] - x[None, :])).sum() / (
        2 * w.sum() ** 2 * mean)
    assert ineq.gini(x, w) == pytest.approx(direct, rel=1e-9, abs=1e-12)


def test_worst_best_ratio() -> None:
    assert ineq.worst_best_ratio(np.array([0.02, 0.10, 0.05])) == pytest.approx(5.0)
    assert ineq.worst_best_ratio(np.array([0.0, 0.1])) == math.inf
    assert ineq.worst_best_ratio(np.array([0.0, 0.0])) == 1.0
    assert ineq.worst_best_ratio(np.array([np.nan, 0.2, 0.1])) == pytest.approx(2.0)
    assert math.isnan(ineq.worst_best_ratio(np.array([])))


def _areas(rep: int, rates: list[float], waits: list[float], received: list[float],
           eligible: list[float], population: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"replication": rep, "area": [f"A{i}" for i in range(len(rates))],
                         "unmet_demand_rate": rates, "wait_alloc_days_mean": waits,
                         "interventions": received, "offender_identified": eligible,
                         "population": population})


def test_kpis_of_a_small_table() -> None:
    area = _areas(0, [0.10, 0.05, 0.20], [10.0, 20.0, 30.0], [10.0, 10.0, 0.0],
                  [100.0, 50.0, 10.0], [1.0, 1.0, 2.0])
    k = ineq.kpis(area)
    assert k["unmet_ratio"] == pytest.approx(0.20 / 0.05)  # 4
    assert k["unmet_gap"] == pytest.approx(0.15)
    assert k["wait_range_days"] == pytest.approx(20.0)
    # waits 10, 20, 30: mean 20, population sd sqrt(200/3) = 8.165; CV 0.408
    assert k["wait_cv"] == pytest.approx(math.sqrt(200 / 3) / 20)
    # shares received/eligible: 0.1, 0.2, 0 with weights 1, 1, 2: W = 4, mean = 0.075;
    # pairs: w w |d|: (0.1,0.2) 1*1*0.1, (0.1,0) 1*2*0.1, (0.2,0) 1*2*0.2 -> 0.7, twice = 1.4;
    # G = 1.4 / (2 * 16 * 0.075) = 0.58333
    assert k["access_gini"] == pytest.approx(1.4 / 2.4)


def test_undefined_areas_are_left_out() -> None:
    area = _areas(0, [np.nan, 0.1, 0.3], [np.nan, 5.0, 5.0], [0.0, 1.0, 1.0],
                  [0.0, 10.0, 10.0], [1.0, 1.0, 1.0])
    k = ineq.kpis(area)
    assert k["unmet_ratio"] == pytest.approx(3.0)
    assert k["wait_range_days"] == 0.0 and k["wait_cv"] == 0.0
    assert k["access_gini"] == 0.0  # the area with no eligible victims is left out


def test_summary_interval_and_infinite_ratio() -> None:
    reps = pd.concat([_areas(r, [0.1, 0.1 + 0.01 * r], [10.0, 10.0 + r], [1.0, 1.0],
                             [10.0, 10.0], [1.0, 1.0]) for r in range(4)])
    table = ineq.table(reps).set_index("kpi")
    gaps = np.array([0.0, 0.01, 0.02, 0.03])
    assert table.loc["unmet_gap", "mean"] == pytest.approx(gaps.mean())
    half = 3.182446305284263 * gaps.std(ddof=1) / 2  # t(3) 97.5% x sd / sqrt(4)
    assert table.loc["unmet_gap", "ci_high"] == pytest.approx(gaps.mean() + half)
    assert table.loc["unmet_gap", "n"] == 4
    zero = pd.concat([_areas(r, [0.0, 0.1], [1.0, 2.0], [1.0, 1.0], [10.0, 10.0],
                             [1.0, 1.0]) for r in range(3)])
    row = ineq.table(zero).set_index("kpi").loc["unmet_ratio"]
    assert math.isinf(row["mean"]) and math.isnan(row["ci_low"])


def test_compare_pairs_replications_and_says_the_gap_narrows() -> None:
    noise = [0.00, 0.05, 0.10]  # common to both options (common random numbers)
    a = pd.concat([_areas(r, [0.1 + n, 0.5 + n], [10.0, 40.0], [1.0, 1.0], [10.0, 10.0],
                          [1.0, 1.0]) for r, n in enumerate(noise)])
    b = pd.concat([_areas(r, [0.1 + n, 0.2 + n + 0.001 * r], [10.0, 20.0], [1.0, 1.0],
                          [10.0, 10.0], [1.0, 1.0]) for r, n in enumerate(noise)])
    c = ineq.compare({"today": a, "more": b})
    gap = c[c["kpi"] == "unmet_gap"].set_index("option")
    assert gap.loc["today", "mean"] == pytest.approx(0.4)
    assert gap.loc["more", "mean"] == pytest.approx(0.101)
    assert math.isnan(gap.loc["today", "difference"])
    assert gap.loc["more", "difference"] == pytest.approx(-0.299)
    assert gap.loc["more", "diff_ci_high"] < 0  # paired: the shared noise cancels
    text = ineq.gap_sentence(c, "more")
    assert text.startswith("under option more the gap between the best and worst area's "
                           "unmet demand narrows from 40.0 to 10.1 percentage points")
    assert "real at 95%" in text
    assert "widens from 10.1 to 40.0" in ineq.gap_sentence(ineq.compare({"more": b, "today": a}),
                                                          "today")


def _two(rates: list[float]) -> pd.DataFrame:
    """Two areas with these unmet-demand rates in each of three replications."""
    return pd.concat([_areas(r, rates, [1.0, 1.0], [1.0, 1.0], [10.0, 10.0], [1.0, 1.0])
                      for r in range(3)])


def test_the_sentence_gives_the_best_and_worst_rates_and_reads_levelling_down() -> None:
    today, worse, better = _two([0.0, 0.3]), _two([0.9, 0.95]), _two([0.05, 0.10])
    row = ineq.table(today).set_index("kpi")
    assert row.loc["unmet_best", "mean"] == 0.0 and row.loc["unmet_worst", "mean"] == 0.3
    # every area loses more: the gap narrows (30 to 5 pp) by levelling down, and says so
    down = ineq.gap_sentence(ineq.compare({"today": today, "x": worse}), "x")
    assert "narrows from 30.0 to 5.0 percentage points" in down
    assert ("the best area's losses for lack of capacity are 0.0% of its referrals and the "
            "worst's 30.0% under today, against 90.0% and 95.0% under x") in down
    assert "only because every area loses more referrals" in down
    # the worst area loses fewer: a real narrowing, no such warning
    up = ineq.gap_sentence(ineq.compare({"today": today, "y": better}), "y")
    assert "narrows from 30.0 to 5.0" in up and "against 5.0% and 10.0% under y" in up
    assert "only because" not in up and "above 100%" not in up
    # replications that cannot tell the options apart: neither "narrows" nor "widens"
    wobble = pd.concat([_areas(r, [0.1, 0.3 + d], [1.0, 1.0], [1.0, 1.0], [10.0, 10.0],
                               [1.0, 1.0]) for r, d in enumerate([-0.1, 0.1, 0.02])])
    same = ineq.gap_sentence(ineq.compare({"today": today, "w": wobble}), "w")
    assert "goes from 30.0 to 20.7 percentage points, no real change" in same
    assert "not distinguishable from noise" in same
    assert "narrows" not in same and "widens" not in same
    flat = ineq.gap_sentence(ineq.compare({"today": today, "f": _two([0.0, 0.3])}), "f")
    assert "stays at 30.0 percentage points" in flat
    # a flow rate above 1 (a backlog built earlier lost in the window) is explained
    over = ineq.gap_sentence(ineq.compare({"today": today, "z": _two([0.98, 1.02])}), "z")
    assert "102.0% under z (losses over referrals in the same window: above 100%" in over


def _small(tmp: Path, name: str, base: str) -> Path:
    """A shipped scenario on three areas (small to large), two years."""
    path = tmp / f"{name}.toml"
    path.write_text(f'extends = "{(SCENARIOS / base).as_posix()}"\nname = "{name}"\n'
                    '[run]\nyears = 2\n[areas]\ninclude = ["E23000034", "E23000010", '
                    '"E23000014"]\n', encoding="utf-8")
    return path


def test_run_and_compare_show_the_postcode_lottery(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``rjsim compare`` (and so each option's run): the tables, the sentence in the summary
    and the report's section; the sentence's numbers are those of the table."""
    a, b = _small(tmp_path, "today", "funding_today.toml"), _small(tmp_path, "more",
                                                                   "funding_120m_need.toml")
    out = tmp_path / "cmp"
    status = cli.main(["compare", str(a), str(b), "--replications", "3", "--executor",
                       "local", "--no-cache", "--out", str(out), "-q"])
    assert status == 0, capsys.readouterr()
    table = pd.read_csv(out / "tables" / "comparison_inequality.csv")
    assert list(dict.fromkeys(table["option"])) == ["today", "more"]
    assert set(table["kpi"]) == {k for k, _, _ in ineq.KPIS}
    gap = table[table["kpi"] == "unmet_gap"].set_index("option")
    real = not gap.loc["more", "diff_ci_low"] <= 0 <= gap.loc["more", "diff_ci_high"]
    way = ("narrows" if gap.loc["more", "mean"] < gap.loc["today", "mean"] else "widens"
           ) if real else "goes"
    sentence = (f"under option more the gap between the best and worst area's unmet demand "
                f"{way} from {100 * gap.loc['today', 'mean']:.1f} to "
                f"{100 * gap.loc['more', 'mean']:.1f} percentage points")
    assert sentence in (out / "summary.txt").read_text(encoding="utf-8")
    html = unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "the postcode lottery" in html and sentence[1:] in html
    # each option's own results carry its summary and table, equal to the comparison's rows
    own_text = (out / "scenarios" / "more" / "summary.txt").read_text(encoding="utf-8")
    assert own_text.startswith("Scenario 'more'") and "Between areas" in own_text
    own = pd.read_csv(out / "scenarios" / "more" / "tables" / "inequality.csv")
    mine = table[table["option"] == "more"].reset_index(drop=True)
    assert np.allclose(own["mean"], mine["mean"], equal_nan=True)


def test_the_printed_lines_say_why_a_ratio_is_infinite() -> None:
    rows = pd.DataFrame({"area": ["a", "b"] * 2, "replication": [0, 0, 1, 1],
                         "unmet_demand_rate": [0.0, 0.3, 0.0, 0.1],
                         "wait_alloc_days_mean": [1.0, 3.0, 2.0, 2.0], "population": 1.0,
                         ineq.ELIGIBLE: 10.0, ineq.RECEIVED: [1.0, 2.0, 1.0, 1.0]})
    printed = ineq.lines(ineq.table(rows))
    ratio = next(line for line in printed if "rate / best" in line)
    assert ratio.endswith(": infinite (the best area loses no referral)")
    gap = next(line for line in printed if "rate minus best" in line)
    assert ": 20.0 pp (95% CI" in gap  # mean of 0.3 and 0.1


def test_intervals_stop_at_the_least_possible_value() -> None:
    # waits range 0, 0, 6 days: mean 2, sd 3.46; t(2) interval 2 -/+ 8.6 reaches below 0
    reps = pd.concat([_areas(r, [0.1, 0.1], [1.0, 1.0 + w], [1.0, 1.0], [10.0, 10.0],
                             [1.0, 1.0]) for r, w in enumerate([0.0, 0.0, 6.0])])
    row = ineq.table(reps).set_index("kpi")
    assert row.loc["wait_range_days", "mean"] == pytest.approx(2.0)
    assert row.loc["wait_range_days", "ci_low"] == 0.0
    assert row.loc["wait_range_days", "ci_high"] == pytest.approx(
        2.0 + 4.302652729749464 * math.sqrt(12.0) / math.sqrt(3))
    assert row.loc["unmet_ratio", "ci_low"] == 1.0 and row.loc["unmet_ratio", "mean"] == 1.0
