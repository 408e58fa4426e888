"""Unit tests: the assumptions log covers every default, and names nothing that does not exist.

A "key" is a dotted path to a value written in ``data/defaults.toml``: a scalar or list, or an
inline table written on one line (a distribution such as ``service.patience``, or a table such as
``funding.fte`` or ``exits.unsuitable_by_group``), which is one assumption.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from importlib import resources
from typing import Any

import pytest

from rjsim.core.errors import ScenarioError
from rjsim.scenario.io import from_dict

EXEMPT = {"name", "title", "description"}
CONFIDENCE = {"high", "medium", "low"}
_SECTION = re.compile(r"^\[([A-Za-z0-9_.]+)\]\s*(#.*)?$")
_ASSIGN = re.compile(r"^([A-Za-z0-9_]+)\s*=")


def _data(name: str) -> str:
    return resources.files("rjsim").joinpath(f"data/{name}").read_text(encoding="utf-8")


def _default_keys() -> set[str]:
    """Dotted key of every assignment in defaults.toml, under its [section] header."""
    keys, section = set(), ""
    for line in _data("defaults.toml").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if m := _SECTION.match(line):
            section = m.group(1)
        elif m := _ASSIGN.match(line):
            keys.add(f"{section}.{m.group(1)}" if section else m.group(1))
        else:  # pragma: no cover - the line reader must understand every line
            raise AssertionError(f"defaults.toml line not understood: {line!r}")
    return keys - EXEMPT


def _lookup(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        node = node[part]
    return node


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _leaves(value, path) if isinstance(value, dict) else {path}
    return out


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_data("assumptions.csv"))))


def test_key_reader_agrees_with_the_toml_parser():
    """Guard for the line reader: its keys exist and they cover every parsed leaf."""
    parsed = tomllib.loads(_data("defaults.toml"))
    keys = _default_keys()
    for key in keys:
        _lookup(parsed, key)  # KeyError if the reader invented a key
    uncovered = {leaf for leaf in _leaves(parsed) - EXEMPT
                 if not any(leaf == k or leaf.startswith(k + ".") for k in keys)}
    assert uncovered == set()
    assert {"service.patience", "funding.fte", "exits.unsuitable_by_group"} <= keys


def test_every_default_has_an_assumption_row(rows):
    logged = {r["key"] for r in rows}
    assert sorted(_default_keys() - logged) == []


def test_every_row_names_a_real_default(rows):
    assert sorted({r["key"] for r in rows} - _default_keys()) == []


def test_each_key_is_logged_once(rows):
    keys = [r["key"] for r in rows]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_every_row_has_a_source_and_a_confidence(rows):
    assert rows, "assumptions.csv has no rows"
    missing_source = [r["key"] for r in rows if not (r["source"] or "").strip()]
    bad_confidence = [(r["key"], r["confidence"]) for r in rows
                      if (r["confidence"] or "").strip() not in CONFIDENCE]
    assert missing_source == []
    assert bad_confidence == []


def test_ranges_are_ordered(rows):
    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    reversed_ranges = [r["key"] for r in rows
                       if number(r["low"]) is not None and number(r["high"]) is not None
                       and number(r["low"]) > number(r["high"])]  # type: ignore[operator]
    assert reversed_ranges == []


#: Settings that apply only together with another (validation refuses them otherwise).
PREREQUISITES: dict[str, dict[str, Any]] = {
    "funding.leakage_share": {"funding": {"ringfenced": False}},
}


def test_logged_ranges_are_themselves_valid_scenarios(rows):
    """Each numeric low/high of a scalar probability or count must pass validation: a range the
    model would refuse is a wrong range in the log."""
    parsed = tomllib.loads(_data("defaults.toml"))
    refused, checked = [], 0
    for r in rows:
        default = _lookup(parsed, r["key"])
        if isinstance(default, bool) or not isinstance(default, int | float):
            continue
        for bound in (r["low"], r["high"]):
            if not bound:
                continue
            section, _, name = r["key"].rpartition(".")
            value = float(bound)
            values: dict[str, Any] = {
                name: int(value) if isinstance(default, int) and value.is_integer() else value}
            for part in reversed(section.split(".")):
                values = {part: values}
            for part, extra in PREREQUISITES.get(r["key"], {}).items():
                values[part] = values.get(part, {}) | extra
            checked += 1
            try:
                from_dict(values)
            except ScenarioError as exc:
                refused.append((r["key"], bound, str(exc).splitlines()[-1]))
    assert refused == []
    assert checked > 40  # the log really does give ranges
