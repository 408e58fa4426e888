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

A **shared service** in a pooled region (``funding.shared_services``: a small area served by
a neighbour's service) is one unit: its areas share general slots and queue, so the formulas
above read "unit" for "area", with the unit's loads and slots the sums of its areas'. (A group
that is not ``pooled`` is a region of one unit with no overhead: the unpooled test applied to
the service as a whole. The runner does not ask for it: an area that only shares a service is
judged alone, see :meth:`rjsim.experiment.runner.TaskPlan.service_groups`.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


@dataclass(frozen=True)
class ServiceGroup:
    """Areas simulated together: its ``units`` (services: an area, or a host and the small
    areas it serves, by area code) and whether they pool specialists across a region
    (``pooled``: each pooled case pays the overhead) or are one shared service."""

    units: tuple[tuple[str, ...], ...]
    pooled: bool


def service_groups(together: Mapping[str, tuple[str, ...]], hosts: Mapping[str, str],
                   region_pooled: Callable[[str], bool]) -> tuple[ServiceGroup, ...]:
    """The groups of a task plan: ``together`` maps an area to the areas simulated with it,
    ``hosts`` a small area to the area whose service serves it, ``region_pooled`` says whether
    an area pools its specialists with its region."""
    out: dict[tuple[str, ...], ServiceGroup] = {}
    for code, members in together.items():
        if members in out:
            continue
        units: dict[str, list[str]] = {}
        for m in members:
            units.setdefault(hosts.get(m, m), []).append(m)
        out[members] = ServiceGroup(tuple(tuple(u) for u in units.values()),
                                    pooled=region_pooled(code))
    return tuple(out.values())


@dataclass(frozen=True)
class Region:
    """A :class:`ServiceGroup` as row indices of the areas present, and its overhead (days a
    pooled case holds its slot longer; 0 for a shared service)."""

    units: list[np.ndarray]
    extra: float

    @property
    def members(self) -> np.ndarray:
        return np.concatenate(self.units)


def regions(areas: list[str], groups: Sequence[ServiceGroup], extra: float) -> list[Region]:
    """``groups`` as row indices among ``areas`` (areas not present, e.g. not simulated in
    this run, are left out); ``extra``: the pooled overhead in days."""
    index = {a: i for i, a in enumerate(areas)}
    out = []
    for g in groups:
        units = [np.array([index[c] for c in u if c in index], dtype=np.int64) for u in g.units]
        units = [u for u in units if len(u)]
        if units:
            out.append(Region(units, extra if g.pooled else 0.0))
    return out


def pooled_utilisation(loads: Loads, members: list[Region]) -> tuple[np.ndarray, np.ndarray]:
    """(specialist, general) utilisation per area and window for the areas in ``members``
    (see the module docstring: each unit's value given to its areas); NaN for every other
    area."""
    rho_s = np.full(loads.general_workload.shape, np.nan)
    rho_g = np.full(loads.general_workload.shape, np.nan)
    for region in members:
        def per_unit(x: np.ndarray, r: Region = region) -> np.ndarray:  # (units, windows)
            return np.stack([x[u].sum(axis=0) for u in r.units])
        lg, g = per_unit(loads.general_workload), per_unit(loads.general_slot_days)
        # slot-days a general case holds a pooled slot per slot-day it holds its own unit's
        f = 1.0 + region.extra * ratio(per_unit(loads.general_referrals), lg)
        f = np.where(np.isfinite(f), f, 1.0)
        overflow = np.maximum(lg - g, 0.0) * f
        sensitive = (loads.sensitive_workload[region.members].sum(axis=0)
                     + region.extra * loads.sensitive_referrals[region.members].sum(axis=0))
        pool = loads.specialist_slot_days[region.members].sum(axis=0)
        others = overflow.sum(axis=0) - overflow
        unit_g = ratio(lg * f + sensitive + others, g * f + pool)
        for k, u in enumerate(region.units):
            rho_s[u] = ratio(sensitive, pool)
            rho_g[u] = unit_g[k]
    return rho_s, rho_g


def pooled_fewest(specialist_slots: np.ndarray, members: list[Region]) -> np.ndarray:
    """Per area and month (``specialist_slots``: (areas, months) own slots), the region's
    specialist slots for pooled areas (NaN for every other area)."""
    out = np.full(specialist_slots.shape, np.nan)
    for region in members:
        out[region.members] = specialist_slots[region.members].sum(axis=0)
    return out
