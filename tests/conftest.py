"""Shared fixtures and helpers for the rjsim tests.

Scenarios are built over the packaged defaults with :func:`rjsim.scenario.io.from_dict` (or read
from temporary TOML files), one area is picked from the packaged table, and statistical checks
share :func:`z_bound`, so every tolerance in the suite comes from one stated confidence level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from rjsim.data import areas as areadata
from rjsim.data.areas import Area, AreaTable
from rjsim.funding import budgets as funding
from rjsim.model.staffing import Staffing
from rjsim.scenario.io import from_dict
from rjsim.scenario.spec import Scenario

#: Standard normal quantile used for every statistical tolerance: a two-sided 99.99% interval,
#: so a correct model fails a fixed-seed check about once in 16,000 checks.
Z = 3.89

AVON = "E23000036"  # Avon and Somerset: a mid-sized force with every offence group


def z_bound(standard_error: float) -> float:
    """Half-width of the two-sided 99.99% normal interval for an estimate with this SE."""
    return Z * standard_error


def binomial_se(p: float, n: int) -> float:
    """Standard error of a sample proportion."""
    return math.sqrt(p * (1.0 - p) / n)


@pytest.fixture(scope="session")
def table() -> AreaTable:
    return areadata.packaged()


@pytest.fixture(scope="session")
def avon(table: AreaTable) -> Area:
    return table.select((AVON,), "tests")[0]


@pytest.fixture(scope="session")
def packaged_csv() -> str:
    """The packaged area CSV as text (to derive user files from)."""
    path = resources.files("rjsim").joinpath(f"data/{areadata.PACKAGED}")
    return path.read_text(encoding="utf-8")


def scenario(**sections: Mapping[str, Any]) -> Scenario:
    """A validated scenario: the packaged defaults overlaid with ``sections``."""
    return from_dict(dict(sections), source="test")


def fte_scenario(general: float, specialist: float, **sections: Mapping[str, Any]) -> Scenario:
    """A scenario whose capacity is set directly in FTE (the same in every area)."""
    fund = {"capacity_from": "fte", "fte": {"general": general, "specialist": specialist}}
    fund.update(sections.pop("funding", {}))
    return scenario(funding=fund, **sections)


def staffing_for(sc: Scenario, table: AreaTable, code: str = AVON) -> Staffing:
    """The staffing of one area under ``sc``, through the real funding code."""
    return funding.staffing(sc, table)[code]


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a TOML file under ``tmp_path`` (sub-folders allowed) and return its path."""
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    return write
