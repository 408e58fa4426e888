"""The capacity test's stability and coverage criteria for areas that pool their specialists.

In a pooled region (:mod:`rjsim.model.pooled`) an area's sensitive cases are served by the
region's one pool of specialist slots, and its general cases by its own general slots first,
then by pooled specialists with nothing sensitive to do (each pooled case holding its slot
``extra`` days longer: the travel or video overhead). Judging such an area on its *own*
specialist slots would call an area with none uncovered while its cases are served. So, for
every member area of a pooled region (decision recorded in ``data/assumptions.csv``, row
``pooling.regions``, and in docs/MODEL.md section 6):

* **specialist utilisation** is the pool's: the region's sensitive workload, each case with
  its overhead, over the region's specialist slot-days, ``rho_s = (L_S + extra n_S) / P``;
* **general utilisation** of area ``a`` counts what its general cases can use: its own general
  slots and the pool's slots, less the load the pool must carry first (every sensitive case of
  the region, and the general cases of the other areas that their own general slots cannot
  hold, ``O_b = max(L_b - G_b, 0) f_b`` with ``f_b = 1 + extra n_b / L_b`` for the overhead)::

      rho_a = (L_a f_a + L_S + extra n_S + sum_{b != a} O_b) / (G_a f_a + P)

  which is below 1 exactly when the region can hold all its load (every general overflow and
  every sensitive case fits the pool). For a region of one area with no overhead it is the
  unpooled area's ``(all load) / (all slots)``; the area's value (pool ``all``) is the larger
  of the two, as for an area on its own;
* **coverage** is the pool's: the fewest specialist slots the region has in a month.

Waits, unmet demand and the backlog trend stay each area's own (its own cases, wherever they
were served). Everything is vectorised over windows: inputs are (areas, windows) arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Loads:
    """Per area (rows, in ``areas`` order) and window (columns): workload in slot-days without
    overhead and referrals of each kind, and own slot-days of each kind."""

    sensitive_workload: np.ndarray
    general_workload: np.ndarray
    sensitive_referrals: np.ndarray
    general_referrals: np.ndarray
    general_slot_days: np.ndarray
    specialist_slot_days: np.ndarray


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where both are 0 and inf where only den is (as the metrics do)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.where((num > 0) & (den <= 0), np.inf, out)


def regions(areas: list[str], pooled: Mapping[str, tuple[str, ...]]) -> list[np.ndarray]:
    """The row indices of each pooled region's areas among ``areas`` (areas not present, e.g.
    not simulated in this run, are left out; a region is listed once)."""
    index = {a: i for i, a in enumerate(areas)}
    seen: dict[tuple[int, ...], None] = {}
    for code in areas:
        members = tuple(sorted(index[m] for m in pooled.get(code, ()) if m in index))
        if members:
            seen.setdefault(members, None)
    return [np.array(m, dtype=np.int64) for m in seen]


def pooled_utilisation(loads: Loads, members: list[np.ndarray], extra: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(specialist, general) utilisation per area and window for the areas in ``members``
    (see the module docstring); NaN for every other area."""
    rho_s = np.full(loads.general_workload.shape, np.nan)
    rho_g = np.full(loads.general_workload.shape, np.nan)
    lg, g = loads.general_workload, loads.general_slot_days
    # slot-days a general case holds a pooled slot per slot-day it holds its own area's
    f = 1.0 + extra * ratio(loads.general_referrals, lg)
    f = np.where(np.isfinite(f), f, 1.0)
    overflow = np.maximum(lg - g, 0.0) * f
    for idx in members:
        sensitive = (loads.sensitive_workload[idx].sum(axis=0)
                     + extra * loads.sensitive_referrals[idx].sum(axis=0))
        pool = loads.specialist_slot_days[idx].sum(axis=0)
        rho_s[idx] = ratio(sensitive, pool)
        others = overflow[idx].sum(axis=0) - overflow[idx]
        rho_g[idx] = ratio(lg[idx] * f[idx] + sensitive + others, g[idx] * f[idx] + pool)
    return rho_s, rho_g


def pooled_fewest(specialist_slots: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    """Per area and month (``specialist_slots``: (areas, months) own slots), the region's
    specialist slots for pooled areas (NaN for every other area)."""
    out = np.full(specialist_slots.shape, np.nan)
    for idx in members:
        out[idx] = specialist_slots[idx].sum(axis=0)
    return out
