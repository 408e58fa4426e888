"""A schematic tile map of the 43 force areas coloured by capacity-test verdict and margin.

There is no boundary data in rjsim, so each area is a square tile placed near its approximate
centroid (``lat``/``lon`` in the area data) on a coarse grid: areas are placed from the most
crowded part of the country outwards, each on the free cell nearest its centroid, which keeps
neighbours next to each other without overlaps. Built from the verdict table alone.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from rjsim.core.codes import Verdict
from rjsim.report.plots import OKABE_ITO

VERDICT_COLOURS = {Verdict.PASS: OKABE_ITO[2], Verdict.INCONCLUSIVE: OKABE_ITO[1],
                   Verdict.FAIL: OKABE_ITO[3]}
CELL_DEGREES = 0.62  # grid spacing in degrees of latitude (longitude scaled by cos(lat))
_DROP = {"and", "of", "police", "the", "&", "constabulary"}


def _candidates(name: str) -> list[str]:
    """Ever longer labels for one force: initials (one word: its first letters), then more
    letters of the last word."""
    words = [w for w in re.split(r"[\s-]+", name) if w.lower() not in _DROP] or [name]
    head = "".join(w[0] for w in words[:-1])
    start = 1 if len(words) > 1 else 3
    return [(head + words[-1][:k]).upper() for k in range(start, len(words[-1]) + 1)]


def labels(names: list[str]) -> list[str]:
    """Short, unique tile labels from force names (e.g. TV, WMI, NORF)."""
    options = [_candidates(n) for n in names]
    level = [0] * len(names)
    for _ in range(max(len(o) for o in options)):
        current = [o[min(k, len(o) - 1)] for o, k in zip(options, level, strict=True)]
        clashes = {x for x in current if current.count(x) > 1}
        if not clashes:
            break
        level = [k + (x in clashes) for k, x in zip(level, current, strict=True)]
    return [o[min(k, len(o) - 1)] for o, k in zip(options, level, strict=True)]


def tile_positions(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Grid cells (column, row) for centroids: crowded areas first, each on the nearest free
    cell to its centroid."""
    x = lon * math.cos(math.radians(float(np.nanmean(lat)))) / CELL_DEGREES
    y = lat / CELL_DEGREES
    points = np.column_stack([x, y])
    crowd = np.array([np.sort(np.hypot(*(points - p).T))[1:4].sum() for p in points])
    taken: set[tuple[int, int]] = set()
    cells = np.zeros((len(points), 2), dtype=int)
    for i in np.argsort(crowd):
        best, home = None, (int(np.rint(x[i])), int(np.rint(y[i])))
        for r in range(0, 6):
            near = [(home[0] + dx, home[1] + dy)
                    for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
            free = [c for c in near if c not in taken]
            if free:
                best = min(free, key=lambda c: (c[0] - x[i]) ** 2 + (c[1] - y[i]) ** 2)
                break
        assert best is not None  # 6 rings always hold a free cell for 43 areas
        taken.add(best)
        cells[i] = best
    return cells


def _panel(ax: object, cells: np.ndarray, text: list[str], colours: list[object],
           title: str) -> None:
    for (cx, cy), label, colour in zip(cells, text, colours, strict=True):
        ax.add_patch(Rectangle((cx - 0.47, cy - 0.47), 0.94, 0.94, facecolor=colour,  # type: ignore[attr-defined]
                               edgecolor="white", linewidth=1.0))
        r, g, b = mpl.colors.to_rgb(colour)  # type: ignore[arg-type]
        ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.45 else "black"
        ax.text(cx, cy, label, ha="center", va="center", fontsize=6.5,  # type: ignore[attr-defined]
                color=ink)
    ax.set_xlim(cells[:, 0].min() - 1, cells[:, 0].max() + 1)  # type: ignore[attr-defined]
    ax.set_ylim(cells[:, 1].min() - 1, cells[:, 1].max() + 1)  # type: ignore[attr-defined]
    ax.set_aspect("equal")  # type: ignore[attr-defined]
    ax.axis("off")  # type: ignore[attr-defined]
    ax.set_title(title, fontsize=10)  # type: ignore[attr-defined]


def _layout(verdicts: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Areas with centroids placed by :func:`tile_positions`; any without (a user's area
    file need not give them) in rows of eight below."""
    has = verdicts[["lat", "lon"]].notna().all(axis=1).to_numpy()
    v = pd.concat([verdicts[has], verdicts[~has]]).reset_index(drop=True)
    placed = (tile_positions(v["lat"].to_numpy(float)[:has.sum()],
                             v["lon"].to_numpy(float)[:has.sum()])
              if has.any() else np.zeros((0, 2), dtype=int))
    x0 = int(placed[:, 0].min()) if len(placed) else 0
    y0 = int(placed[:, 1].min()) - 2 if len(placed) else 0
    rest = [(x0 + i % 8, y0 - i // 8) for i in range(int((~has).sum()))]
    return v, np.vstack([placed, np.array(rest, dtype=int).reshape(-1, 2)]), len(rest)


def capacity_map(verdicts: pd.DataFrame, path: Path) -> list[Path]:
    """Write the map as ``path``.png and .svg; return the files written.

    Left: verdict per area. Right: the binding criterion's margin relative to the room its
    threshold allows (blue: passes with room; red: short), clipped to [-1, 1].
    """
    v, cells, unplaced = _layout(verdicts)
    text = labels(list(v["force"]))
    fig = Figure(figsize=(10, 6.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    counts = v["verdict"].value_counts()
    _panel(left, cells, text, [VERDICT_COLOURS.get(x, "#cccccc") for x in v["verdict"]],
           "Verdict by area")
    left.legend(handles=[Patch(color=c, label=f"{k} ({int(counts.get(k, 0))})")
                         for k, c in VERDICT_COLOURS.items()], loc="lower left", fontsize=8,
                frameon=False)
    cmap = mpl.colormaps["RdBu"]
    margin = v["binding_relative_margin"].clip(-1, 1).fillna(0.0)
    _panel(right, cells, text, [cmap((m + 1) / 2) for m in margin],
           "Margin on the binding criterion")
    sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(-1, 1), cmap=cmap)
    bar = fig.colorbar(sm, ax=right, shrink=0.6, location="bottom")
    bar.set_label("margin / room the threshold allows (negative: short of it)", fontsize=8)
    passed = int(counts.get(Verdict.PASS, 0))
    note = f"; {unplaced} area(s) without a centroid in a row below" if unplaced else ""
    fig.suptitle(f"Capacity test: {passed} of {len(v)} areas demonstrably pass "
                 f"(schematic tiles at approximate centroids{note})", fontsize=11)
    written = []
    for suffix in (".png", ".svg"):
        out = path.with_suffix(suffix)
        fig.savefig(out, dpi=150)  # constrained layout: nothing clipped
        written.append(out)
    return written
