"""Which settings are uncertain by default, and their distributions: one rule over the
assumptions log.

Every setting with a plausible range (``low`` and ``high``) in the assumptions log
(``data/assumptions.csv``) has a default distribution by one rule, :func:`logged_distribution`:
**triangular, with the scenario's value as its mode, on the logged range narrowed towards the
mode by the log's confidence** -- the whole range for low confidence, three quarters of it for
medium and half of it for high (each side of the mode shrinks by that factor). A setting whose
value is a distribution varies its ``mean`` (exponential, gamma), ``median`` (lognormal) or
``value`` (fixed), the quantity the log's range is about; a table of per-group values (such as
``exits.unsuitable_by_group``) varies each entry on the same range. Whole numbers are rounded.

Not varied by default: choices rather than uncertainties (:data:`DECISIONS`: run settings, the
capacity test's thresholds, the budget and how it is shared, switches that are off by default),
settings the scenario switches off (the right's settings without a right; leakage from a
ringfenced pot), and a setting whose scenario value lies outside its logged range (it is held at
that value unless a distribution is declared for it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from importlib import resources
from typing import Any

from rjsim.core.schema import to_plain
from rjsim.scenario.spec import Scenario
from rjsim.scenario.uncertainty import Parameter, ParameterDistribution

#: Share of each side of the logged range (mode to bound) kept, by the log's confidence.
NARROWING = {"low": 1.0, "medium": 0.75, "high": 0.5}
#: Sections and keys that are choices, not uncertainties: never varied unless named in ``vary``
#: or ``distributions``.
DECISION_SECTIONS = ("run", "areas", "capacity_test")
DECISIONS = frozenset({
    "funding.national_budget_gbp", "funding.floor_gbp", "service.wait_target_days",
    "level_one.diversion_share",  # police street RJ: off by default (a scenario choice)
    "interventions.video_share_of_direct",  # a scenario choice (MODEL.md s4)
    "staffing.volunteer_hours_per_100k_population",  # volunteers: off by default
})
#: The scalar a distribution-valued setting's logged range is about, by distribution kind.
SCALAR_OF_KIND = {"exponential": "mean", "gamma": "mean", "lognormal": "median",
                  "fixed": "value"}


def assumptions_log() -> list[dict[str, str]]:
    """The packaged assumptions log, one dict per row."""
    text = resources.files("rjsim").joinpath("data/assumptions.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def logged_distribution(low: float, high: float, central: float, confidence: str
                        ) -> ParameterDistribution:
    """The default rule: triangular with mode ``central`` on ``[low, high]`` narrowed towards
    the mode by :data:`NARROWING` for ``confidence``."""
    f = NARROWING.get(confidence, 1.0)
    lo, hi = central - f * (central - low), central + f * (high - central)
    if hi <= lo:  # a zero-width logged range cannot happen in a valid log; guard anyway
        hi = lo + 1e-12
    return ParameterDistribution("triangular", low=lo, mode=central, high=hi)


def _node(plain: Mapping[str, Any], key: str) -> Any:
    node: Any = plain
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _scalars(plain: Mapping[str, Any], key: str) -> list[tuple[str, Any]]:
    """The numeric leaves a logged key stands for: itself, its distribution's scalar, or each
    entry of its table."""
    node = _node(plain, key)
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float):
        return [(key, node)]
    if isinstance(node, Mapping) and "kind" in node:
        name = SCALAR_OF_KIND.get(str(node["kind"]))
        return [] if name is None else [(f"{key}.{name}", node[name])]
    if isinstance(node, Mapping):
        return [(f"{key}.{k}", v) for k, v in node.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
    return []


def _switched_off(scenario: Scenario, key: str) -> str | None:
    if key.startswith("statutory_right.") and scenario.commence_day is None:
        return "the scenario has no statutory right"
    if key == "funding.leakage_share" and scenario.funding.ringfenced:
        return "the pot is ringfenced (no leakage)"
    return None


def ranged_parameters(scenario: Scenario) -> tuple[list[Parameter], list[tuple[str, str]]]:
    """Every setting with a logged range that varies by default, and those held (with why)."""
    plain = to_plain(scenario)
    out, held = [], []
    for row in assumptions_log():
        key = row["key"]
        try:
            low, high = float(row["low"]), float(row["high"])
        except ValueError:
            continue  # no range: not uncertain in the log
        if key.split(".")[0] in DECISION_SECTIONS or key in DECISIONS:
            held.append((key, "a choice, not an uncertainty (name it in vary to vary it)"))
            continue
        off = _switched_off(scenario, key)
        if off:
            held.append((key, off))
            continue
        for leaf, value in _scalars(plain, key):
            central = float(value)
            if not low <= central <= high:
                held.append((leaf, f"the scenario's value {central:g} is outside the logged "
                             f"range {low:g}-{high:g}; declare a distribution to vary it"))
                continue
            conf = row.get("confidence", "low")
            dist = logged_distribution(low, high, central, conf)
            out.append(Parameter(leaf, dist, f"assumptions log: {conf} confidence, range "
                                 f"{low:g}-{high:g}", central, isinstance(value, int)))
    return out, held


def numeric_setting(scenario: Scenario, key: str) -> tuple[float, bool] | None:
    """``(value, is_integer)`` of a numeric setting at ``key`` in ``scenario``, else None."""
    value = _node(to_plain(scenario), key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value), isinstance(value, int)


def expand(plain: Mapping[str, Any], key: str) -> list[str]:
    """A key named in ``vary``/``exclude``: a numeric leaf, or a logged key standing for its
    leaves (a distribution's scalar, a table's entries)."""
    return [leaf for leaf, _ in _scalars(plain, key)]

