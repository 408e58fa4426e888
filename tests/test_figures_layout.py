"""Report figures are legible: no two texts overlap and none is wider than its figure (titles
wrap), comparison panels keep short tick labels, every point of the funding frontier is named
(options on one point share a label), and the capacity map has a key of its abbreviations."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from rjsim.report import capmap, figures, plots
from rjsim.report.capacity import map_key
from rjsim.report.compare import COMPARE_KPIS

#: Six options with long names; three of them on one point, as the shipped GBP 30.5m options
#: are (same pot, similar cost and unmet demand).
OPTIONS = {"funding_today": (5.8e6, 0.93), "funding_30m_population": (29.0e6, 0.69),
           "funding_30m_crime": (29.2e6, 0.688), "funding_30m_need": (29.1e6, 0.691),
           "funding_30m_population_not_ringfenced": (22.4e6, 0.76),
           "funding_120m_need": (85.8e6, 0.14)}


def _estimates() -> pd.DataFrame:
    rows = []
    for name, (cost, unmet) in OPTIONS.items():
        rows += [("national", "national", "annual_cost_gbp", name, cost, cost * 0.98,
                  cost * 1.02),
                 ("national", "national", "unmet_demand_rate", name, unmet, unmet - 0.005,
                  unmet + 0.005)]
    return pd.DataFrame(rows, columns=["level", "area", "kpi", "scenario", "mean", "ci_low",
                                       "ci_high"])


def _differences() -> pd.DataFrame:
    scale = {"referrals": 1.0, "interventions": 150_000.0, "unmet_demand": -550_000.0,
             "unmet_demand_rate": -0.8, "annual_cost_gbp": 80e6}
    rows = []
    for i, name in enumerate(list(OPTIONS)[1:], start=1):
        for kpi in COMPARE_KPIS:
            d = scale.get(kpi, -140.0) * i / 5
            rows.append(("national", "national", kpi, name, "funding_today", d,
                         d - 0.1 * abs(d), d + 0.1 * abs(d), kpi != "referrals"))
    return pd.DataFrame(rows, columns=["level", "area", "kpi", "scenario", "baseline",
                                       "difference", "ci_low", "ci_high", "significant"])


def test_the_overlap_check_finds_overlapping_and_too_wide_texts() -> None:
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    ax.set_title("a title far too long to fit across a figure only four inches wide, at all")
    found = plots.text_overlaps(fig)
    assert ("one label", "another label") in found
    assert any(b == "<figure width>" for _, b in found)


def test_frontier_names_every_point_with_no_overlapping_text() -> None:
    fig = plots.frontier_figure(_estimates())
    assert plots.text_overlaps(fig) == []
    labels = [t.get_text() for t in fig.axes[0].texts]
    named = [name for text in labels for name in text.split("\n")]
    assert sorted(named) == sorted(OPTIONS)
    # the three options on one point share one label, one name a line
    assert "funding_30m_population\nfunding_30m_crime\nfunding_30m_need" in labels
    assert fig.axes[0].get_legend() is None  # names, not colours, identify the options


def test_option_differences_has_no_overlapping_titles_or_tick_labels() -> None:
    fig = figures.option_differences(_differences(), COMPARE_KPIS)
    assert plots.text_overlaps(fig) == []
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    assert max(len(t) for t in ticks) <= 6, ticks  # 550k, not 550000


@pytest.mark.parametrize(("value", "text"), [(-550_000, "-550k"), (1.5e6, "1.5m"),
                                             (2500, "2,500"), (0.04, "0.04"), (0, "0")])
def test_compact_tick_labels(value: float, text: str) -> None:
    assert figures._compact(value) == text


def test_wrap_keeps_a_title_within_the_figure() -> None:
    fig = Figure(figsize=(3, 2))
    text = plots.wrap("word " * 40, fig, 10)
    assert text.count("\n") >= 3
    fig.suptitle(text, fontsize=10)
    assert plots.text_overlaps(fig) == []


def test_map_key_lists_every_abbreviation_and_force() -> None:
    forces = ["Thames Valley", "West Midlands", "West Mercia", "Norfolk", "Northumbria"]
    key = map_key(forces)
    for short, name in zip(capmap.labels(forces), forces, strict=True):
        assert f"<dt>{short}</dt><dd>{name}</dd>" in key
    assert key.index("<dt>NORF</dt>") < key.index("<dt>TV</dt>")  # in order of abbreviation
