"""Sweeps: one scenario file declaring a list or grid of overrides.

```toml
[sweep]
mode = "grid"                 # every combination (default); "zip" pairs values by position
[sweep.values]
"funding.national_budget_gbp" = [10_000_000, 30_000_000, 60_000_000, 120_000_000]
"statutory_right.informed" = [0.3, 0.95]
```

Each point is a variant scenario (the file with that point's values laid on top), validated on
its own and run with its own results; a combined table puts the points side by side.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rjsim.core.errors import Problem
from rjsim.core.schema import Origin, did_you_mean
from rjsim.scenario.spec import MAX_TITLE

MAX_POINTS = 1000
MODES = ("grid", "zip")


@dataclass(frozen=True)
class Point:
    """One sweep point: its number (from 1), dotted-key overrides and those values in plain
    words (:func:`describe`)."""

    number: int
    values: dict[str, Any]
    words: str = ""

    @property
    def label(self) -> str:
        """The overrides exactly, e.g. ``funding.national_budget_gbp=10000000``."""
        return ", ".join(f"{k}={v!r}" for k, v in self.values.items())

    @property
    def tag(self) -> str:
        return f"p{self.number:03d}"

    def title(self, base_title: str) -> str:
        """The point's display title: a swept ``title`` if there is one, else the sweep's
        title (if any) and the point's values in words, cut to the longest title allowed."""
        if isinstance(self.values.get("title"), str):
            return str(self.values["title"])
        words = self.words or self.label
        text = " ".join((f"{base_title} - {words}" if base_title else words).split())
        text = "".join(ch for ch in text if ch.isprintable())  # a title is one printable line
        return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 3].rstrip(" ,:") + "..."

    def as_layer(self, base_name: str, base_title: str = "") -> dict[str, Any]:
        """The point as a nested settings table (plus a distinct name and its title)."""
        out: dict[str, Any] = {"name": f"{base_name}-{self.tag}",
                               "title": self.title(base_title)}
        for key, value in self.values.items():
            node = out
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        return out


def _key_problems(keys: list[str], origin: Origin) -> list[Problem]:
    """Keys must be dotted paths of settings, none inside another, and not the name (each
    point names itself)."""
    problems = []
    for key in keys:
        parts = key.split(".")
        if not all(parts):
            problems.append(Problem(origin(f"sweep.values.{key}"), "must be a dotted path of "
                                    "a setting, e.g. \"demand.informed\""))
        elif parts[0] in ("name", "sweep", "extends"):
            problems.append(Problem(origin(f"sweep.values.{key}"), f"'{parts[0]}' cannot be "
                                    "swept (each point is named after the sweep)"))
    swept = set(keys)
    for key in keys:  # linear in the number of keys: look up each key's parents
        parts = key.split(".")
        outer = next((p for p in (".".join(parts[:i]) for i in range(1, len(parts)))
                      if p in swept), None)
        if outer is not None:
            problems.append(Problem(origin(f"sweep.values.{key}"), f"lies inside '{outer}', "
                                    "which is also swept; sweep one or the other"))
    return problems


def _money(x: float) -> str:
    return f"GBP {x / 1e6:,.4g}m" if abs(x) >= 1e5 else f"GBP {x:,.0f}"


def value_words(key: str, value: Any, unit: str = "") -> str:
    """One swept setting in plain words: its last key part with spaces, and its value as
    money (keys ending ``_gbp``), a percentage (a probability or share between 0 and 1, by its
    ``unit`` in the assumptions log), days (keys ending ``_days``), yes/no, or as written."""
    leaf = key.rsplit(".", 1)[-1]
    parts = leaf.split("_")
    if len(parts) > 1 and parts[-1] in ("gbp", "days"):
        parts = parts[:-1]
    name = " ".join(parts)
    if isinstance(value, bool):
        return f"{name} {'yes' if value else 'no'}"
    if isinstance(value, int | float) and math.isfinite(value):
        if leaf.endswith("_gbp"):
            return f"{name} {_money(float(value))}"
        if unit.startswith(("probability", "share")) and 0 <= value <= 1:
            return f"{name} {100 * value:.4g}%"
        if leaf.endswith("_days"):
            return f"{name} {value:g} days"
        return f"{name} {value:g}"
    return f"{name} {value}"


def describe(values: Mapping[str, Any], units: Mapping[str, str] | None = None) -> str:
    """A point's overrides in plain words (:func:`value_words`; ``units``: the assumptions
    log's unit per key), leaving out a swept ``title`` or ``description``."""
    units = units or {}
    return ", ".join(value_words(k, v, units.get(k, "")) for k, v in values.items()
                     if k not in ("title", "description"))


def points(spec: Any, origin: Origin, units: Mapping[str, str] | None = None
           ) -> tuple[list[Point], list[Problem]]:
    """Expand a ``[sweep]`` table into points (each with its values in words: ``units`` is the
    assumptions log's unit per key), or report what is wrong with it."""
    if not isinstance(spec, Mapping):
        return [], [Problem(origin("sweep"), "must be a table with 'mode' and 'values'")]
    problems = [Problem(origin(f"sweep.{k}"), f"unknown key '{k}'"
                        f"{did_you_mean(k, ('mode', 'values'))}; allowed: mode, values")
                for k in spec if k not in ("mode", "values")]
    mode = spec.get("mode", "grid")
    if mode not in MODES:
        problems.append(Problem(origin("sweep.mode"), "must be 'grid' or 'zip'", repr(mode)))
    values = spec.get("values")
    if not isinstance(values, Mapping) or not values:
        problems.append(Problem(origin("sweep.values"), "must be a table of setting = [values] "
                                "with at least one setting, e.g. \"demand.informed\" = "
                                "[0.3, 0.9]"))
        return [], problems
    for key, options in values.items():
        if not isinstance(options, list) or not options:
            problems.append(Problem(origin(f"sweep.values.{key}"), "must be a non-empty list of "
                                    "values", repr(options)))
    problems += _key_problems(list(values), origin)
    if problems:
        return [], problems
    keys = list(values)
    size = len(values[keys[0]]) if mode == "zip" else math.prod(len(values[k]) for k in keys)
    if size > MAX_POINTS:  # checked before any point is built
        return [], [Problem(origin("sweep"), f"has {size} points; at most {MAX_POINTS}")]
    if mode == "zip":
        lengths = {len(values[k]) for k in keys}
        if len(lengths) > 1:
            return [], [Problem(origin("sweep.values"), "in 'zip' mode every list must have the "
                                "same length", str({k: len(values[k]) for k in keys}))]
        combos = list(zip(*(values[k] for k in keys), strict=True))
    else:
        combos = list(itertools.product(*(values[k] for k in keys)))
    out = [dict(zip(keys, c, strict=True)) for c in combos]
    return [Point(i, v, describe(v, units)) for i, v in enumerate(out, 1)], []
