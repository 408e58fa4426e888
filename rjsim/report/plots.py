"""The shared figure style (the Okabe-Ito colour-blind-safe palette, titles wrapped to the
figure), a check that no two texts of a figure overlap, and the funding frontier of a
comparison, drawn from its estimates table only (never from the model) and saved as PNG and
SVG.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")


def _save(fig: Figure, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def wrap(text: str, fig: Figure, fontsize: float, share: float = 0.95) -> str:
    """``text`` broken into lines that fit ``share`` of the figure's width at ``fontsize``
    points (an average character is about 0.6 of the font size wide)."""
    width_pt = fig.get_figwidth() * 72 * share
    return "\n".join(textwrap.wrap(text, max(int(width_pt / (0.6 * fontsize)), 20),
                                   break_on_hyphens=False))


def _texts(fig: Figure) -> list[Text]:
    """Every text of ``fig`` that is drawn (call after a draw): the titles, axis labels, tick
    labels within each axis's limits, texts, annotations and legend entries."""
    out: list[Text] = list(fig.texts)
    for legend in fig.legends:
        out += legend.get_texts()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis, (low, high) in ((ax.xaxis, sorted(ax.get_xlim())),
                                  (ax.yaxis, sorted(ax.get_ylim()))):
            span = (high - low) * 1e-9
            out += [t.label1 for t in axis.get_major_ticks()
                    if t.label1.get_visible() and low - span <= t.get_loc() <= high + span]
        if (own := ax.get_legend()) is not None:
            out += own.get_texts()
    unique = {id(t): t for t in out}
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def _boxes(fig: Figure) -> list[tuple[Text, Bbox]]:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    # Text's own extent: an annotation's would include its arrow
    return [(t, Text.get_window_extent(t, renderer)) for t in _texts(fig)]


def _overlap(a: Bbox, b: Bbox, tolerance_px: float) -> bool:
    dx = min(a.x1, b.x1) - max(a.x0, b.x0)
    dy = min(a.y1, b.y1) - max(a.y0, b.y0)
    return bool(dx > tolerance_px and dy > tolerance_px)


def text_overlaps(fig: Figure, tolerance_px: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of drawn texts in ``fig`` whose boxes overlap (by more than ``tolerance_px``
    both ways), and any text wider than the figure (paired with ``"<figure width>"``).
    Empty for a legible figure."""
    boxes = _boxes(fig)
    width = fig.bbox.width
    found = [(t.get_text(), "<figure width>") for t, b in boxes if b.width > width + tolerance_px]
    for i, (a, box_a) in enumerate(boxes):
        found += [(a.get_text(), b.get_text()) for b, box_b in boxes[i + 1:]
                  if _overlap(box_a, box_b, tolerance_px)]
    return found


def _clusters(points: list[tuple[str, float, float]], xspan: float, yspan: float
              ) -> list[list[tuple[str, float, float]]]:
    """Options whose points lie within 3% of each axis's span of each other, grouped (in the
    order first met), so that one label names them all."""
    groups: list[list[tuple[str, float, float]]] = []
    for p in points:
        for g in groups:
            if any(abs(p[1] - q[1]) <= 0.03 * xspan and abs(p[2] - q[2]) <= 0.03 * yspan
                   for q in g):
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


#: Where a point's label may go (offset in points; the first free one is used).
_OFFSETS = tuple((sx * dx, sy * dy) for dy in (4, 20, 36, 52) for dx in (8, 24)
                 for sx in (1, -1) for sy in (1, -1))


def _place(label: Annotation, dx: float, dy: float) -> None:
    label.xyann = (dx, dy)
    label.set_horizontalalignment("left" if dx > 0 else "right")
    label.set_verticalalignment("bottom" if dy > 0 else "top")


def _label_points(ax: Axes, points: list[tuple[str, float, float]]) -> list[Annotation]:
    """Name every point beside it (points on top of each other share one label, one name a
    line), each label in the first of :data:`_OFFSETS` where it overlaps no other text."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    labels = []
    for group in _clusters(points, x1 - x0, y1 - y0):
        x, y = group[0][1], group[0][2]
        text = "\n".join(name for name, _, _ in group)
        label = ax.annotate(text, (x, y), xytext=_OFFSETS[0], textcoords="offset points",
                            fontsize=7.5, arrowprops={"arrowstyle": "-", "color": "#777777",
                                                      "lw": 0.6})
        clashes = []
        for dx, dy in _OFFSETS:
            _place(label, dx, dy)
            boxes = _boxes(figure)
            mine = next(b for t, b in boxes if t is label)
            inside = figure.bbox.x0 <= mine.x0 and mine.x1 <= figure.bbox.x1
            clash = sum(_overlap(mine, b, 0.5) for t, b in boxes if t is not label)
            clashes.append(clash + (0 if inside else 100))
            if clashes[-1] == 0:
                break
        else:  # nowhere free: the place with the fewest clashes
            _place(label, *_OFFSETS[clashes.index(min(clashes))])
        labels.append(label)
    return labels


def frontier_figure(estimates: pd.DataFrame) -> Figure:
    """Annual cost against unmet demand per option (national means with 95% CIs), each point
    named beside it."""
    nat = estimates[estimates["level"] == "national"]
    cost = nat[nat["kpi"] == "annual_cost_gbp"].set_index("scenario")
    unmet = nat[nat["kpi"] == "unmet_demand_rate"].set_index("scenario")
    names = list(dict.fromkeys(nat["scenario"]))
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    points: list[tuple[str, float, float]] = []
    highs: list[tuple[float, float]] = []
    for i, name in enumerate(names):
        x, y = cost.loc[name], unmet.loc[name]
        ax.errorbar(x["mean"] / 1e6, 100 * y["mean"],
                    xerr=[[(x["mean"] - x["ci_low"]) / 1e6], [(x["ci_high"] - x["mean"]) / 1e6]],
                    yerr=[[100 * (y["mean"] - y["ci_low"])], [100 * (y["ci_high"] - y["mean"])]],
                    fmt="o", color=OKABE_ITO[i % len(OKABE_ITO)], capsize=3, label=name)
        points.append((str(name), float(x["mean"]) / 1e6, 100 * float(y["mean"])))
        highs.append((float(x["ci_high"]) / 1e6, 100 * float(y["ci_high"])))
    best = str(unmet["mean"].idxmin())
    ax.set_title(wrap(f"Funding frontier: '{best}' leaves the least unmet demand "
                      f"({100 * float(unmet['mean'][best]):.0f}% of referrals)", fig, 10),
                 fontsize=10)
    ax.set_xlabel("Annual spend on RJ services (GBP million, mean over the run)")
    ax.set_ylabel("Unmet demand (% of referrals lost for lack of capacity)")
    right = max((h[0] for h in highs if math.isfinite(h[0])), default=1.0)
    top = max((h[1] for h in highs if math.isfinite(h[1])), default=1.0)
    ax.set_ylim(0, max(top * 1.15, 1.0))
    ax.set_xlim(0, max(right * 1.15, 1.0))
    ax.grid(alpha=0.3)
    _label_points(ax, points)
    return fig


def funding_frontier(estimates: pd.DataFrame, stem: Path) -> list[Path]:
    """:func:`frontier_figure` saved as ``stem``.png and .svg; returns the files written."""
    return _save(frontier_figure(estimates), stem)
