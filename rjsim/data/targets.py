"""Evidence targets: the published figures the model is back-cast against and calibrated to.

The packaged ``data/evidence_targets.csv`` holds one target a row: what was measured
(``quantity``, ``definition``), its value and uncertainty (``low``-``high``), where and when
(``area``, ``period``), of whom (``denominator``), where it comes from (``source``,
``confidence``, ``uncertainty_basis``) and how the model's estimate of the same thing is computed
(``measure``). Keeping the denominator explicit is the point: a share of all victims, of victims
referred to a service before they consent (``referrals``) and of victims who opted in
(``consenting victims``) are different quantities.

A ``measure`` is a small expression over the model's summary columns (per replication, of the
target's area, or of all simulated areas for ``national``)::

    informed/eligible_victims              a ratio of counts
    interventions_direct_conference+interventions_direct_video/informed   sums of counts
    informed per quarter                   a count per quarter (or ``per year``)
    interventions per year/fte_in_post     a rate over a stock
    mean wait_alloc_days_mean              a KPI as it stands
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from rjsim.core.errors import DataError, Problem

PACKAGED = "evidence_targets.csv"
COLUMNS = ("id", "quantity", "kind", "value", "low", "high", "unit", "area", "period",
           "definition", "denominator", "measure", "budget_gbp", "price_base", "role", "source",
           "confidence", "uncertainty_basis")
#: ``range``: consistent when the model's CI meets [low, high]; bounds: when the CI reaches the
#: right side of ``value``; ``input``: a configuration figure, not judged.
KINDS = ("range", "lower_bound", "upper_bound", "input")
DENOMINATORS = ("victims", "referrals", "consenting victims", "interventions", "paid FTE", "none")
ROLES = ("calibration", "validation", "input")
CONFIDENCE = ("high", "medium", "low")
PER = {"year": 1.0, "quarter": 0.25}
_COLUMN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Term:
    """A sum of summary columns, optionally per year or per quarter of the judged window."""

    columns: tuple[str, ...]
    per: str | None = None  # None, "year" or "quarter"

    def __str__(self) -> str:
        text = "+".join(self.columns)
        return f"{text} per {self.per}" if self.per else text


@dataclass(frozen=True)
class Measure:
    """How the model estimates a target: ``numerator`` (over ``denominator`` if given), or a KPI
    column read as it is (``mean``)."""

    numerator: Term
    denominator: Term | None = None
    mean: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        extra = self.denominator.columns if self.denominator else ()
        return self.numerator.columns + extra

    def __str__(self) -> str:
        if self.mean:
            return f"mean {self.numerator}"
        return f"{self.numerator}/{self.denominator}" if self.denominator else str(self.numerator)


@dataclass(frozen=True)
class Target:
    """One published figure to compare the model with (see the module docstring)."""

    id: str
    quantity: str
    kind: str
    value: float
    low: float | None
    high: float | None
    unit: str
    area: str  # an ONS police force area code, or "national"
    period: str
    definition: str
    denominator: str
    measure: Measure | None  # None for inputs
    budget_gbp: float | None  # the area's published spend to configure it with, if any
    price_base: str  # "2016/17": budget_gbp and a GBP value are in 2016/17 prices (uprated)
    role: str
    source: str
    confidence: str
    uncertainty_basis: str

    @property
    def interval(self) -> tuple[float, float]:
        """The values consistent with the evidence: [low, high] for a range, a half-line for a
        bound."""
        if self.kind == "lower_bound":
            return (self.value, math.inf)
        if self.kind == "upper_bound":
            return (-math.inf, self.value)
        return (self.low if self.low is not None else self.value,
                self.high if self.high is not None else self.value)

    @property
    def judged(self) -> bool:
        return self.kind != "input"


def parse_measure(text: str) -> Measure:
    """Parse a ``measure`` expression; raise ``ValueError`` saying what is wrong."""
    text = " ".join(text.split())
    if text.startswith("mean "):
        column = text[5:].strip()
        if not _COLUMN.fullmatch(column):
            raise ValueError(f"'mean' takes one summary column, not {column!r}")
        return Measure(Term((column,)), mean=True)
    parts = text.split("/")
    if len(parts) > 2 or not parts[0].strip():
        raise ValueError("must be 'A', 'A/B', 'A per year', 'A per quarter' or 'mean A', where "
                         "A and B are summary columns joined by '+'")
    terms = [_term(p.strip()) for p in parts]
    return Measure(terms[0], terms[1] if len(terms) == 2 else None)


def _term(text: str) -> Term:
    per = None
    m = re.fullmatch(r"(.+?) per (year|quarter)", text)
    if m:
        text, per = m.group(1), m.group(2)
    columns = tuple(c.strip() for c in text.split("+"))
    bad = [c for c in columns if not _COLUMN.fullmatch(c)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a summary column name (lower case, digits and '_')")
    return Term(columns, per)


@cache
def packaged() -> tuple[Target, ...]:
    """The packaged evidence targets."""
    raw = resources.files("rjsim").joinpath(f"data/{PACKAGED}").read_bytes()
    return parse(raw, f"packaged {PACKAGED}")


def load(path: str | Path | None) -> tuple[Target, ...]:
    """The packaged targets (``None`` or empty) or a user's targets CSV, every row checked."""
    if not path:
        return packaged()
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError([Problem(str(path), f"cannot read the targets file: {exc.strerror}")],
                        "invalid evidence targets") from None
    return parse(raw, Path(path).name)


def parse(raw: bytes, shown: str) -> tuple[Target, ...]:
    """Targets from CSV bytes; every problem in the file is reported at once."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(shown, "is not UTF-8 text")], "invalid evidence targets") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [Problem(f"{shown}: header", f"missing column '{c}'") for c in COLUMNS
                if c not in header]
    if problems:
        raise DataError(problems, "invalid evidence targets")
    targets: list[Target] = []
    seen: set[str] = set()
    for raw_row in reader:
        where = f"{shown}: row {reader.line_num}"
        if None in raw_row:
            problems.append(Problem(where, f"has more fields than the header ({len(header)} "
                                    "columns); quote a text that contains a comma"))
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in raw_row.items()}
        target = _row(row, where, seen, problems)
        if target is not None:
            targets.append(target)
    if not targets and not problems:
        problems.append(Problem(shown, "has no targets"))
    if problems:
        raise DataError(problems, "invalid evidence targets")
    return tuple(targets)


def _number(row: dict[str, str], key: str, where: str, problems: list[Problem],
            required: bool = False) -> float | None:
    text = row.get(key, "")
    if not text:
        if required:
            problems.append(Problem(f"{where}, column {key}", "must be a number", "empty"))
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(Problem(f"{where}, column {key}", "must be a finite number", repr(text)))
        return None
    return value


def _choice(row: dict[str, str], key: str, allowed: tuple[str, ...], where: str,
            problems: list[Problem]) -> str:
    value = row.get(key, "")
    if value not in allowed:
        problems.append(Problem(f"{where}, column {key}", "must be one of: " + ", ".join(allowed),
                                repr(value)))
    return value


def _row(row: dict[str, str], where: str, seen: set[str],
         problems: list[Problem]) -> Target | None:
    before = len(problems)
    tid = row.get("id", "")
    if not re.fullmatch(r"[a-z0-9_]+", tid) or tid in seen:
        problems.append(Problem(f"{where}, column id", "must be a unique name of lower-case "
                                "letters, digits and '_'", repr(tid)))
    seen.add(tid)
    kind = _choice(row, "kind", KINDS, where, problems)
    _choice(row, "denominator", DENOMINATORS, where, problems)
    _choice(row, "role", ROLES, where, problems)
    _choice(row, "confidence", CONFIDENCE, where, problems)
    value = _number(row, "value", where, problems, required=True)
    low, high = _number(row, "low", where, problems), _number(row, "high", where, problems)
    budget = _number(row, "budget_gbp", where, problems)
    if kind == "range" and value is not None and not (
            (low is None or low <= value) and (high is None or value <= high)):
        problems.append(Problem(f"{where}, columns low/value/high", "must satisfy low <= value "
                                "<= high", f"{low}, {value}, {high}"))
    area = row.get("area", "")
    if area != "national" and not re.fullmatch(r"[EW]\d{8}", area):
        problems.append(Problem(f"{where}, column area", "must be 'national' or an ONS police "
                                "force area code (E23..., W15...)", repr(area)))
    if row.get("price_base", "") not in ("", "2016/17"):
        problems.append(Problem(f"{where}, column price_base", "must be empty (today's prices) "
                                "or '2016/17' (deflate by funding.uprating_factor)",
                                repr(row.get("price_base"))))
    measure = None
    if kind != "input":
        try:
            measure = parse_measure(row.get("measure", ""))
        except ValueError as exc:
            problems.append(Problem(f"{where}, column measure", str(exc),
                                    repr(row.get("measure", ""))))
    if len(problems) > before or value is None:
        return None
    return Target(tid, row["quantity"], kind, value, low, high, row["unit"], area, row["period"],
                  row["definition"], row["denominator"], measure, budget, row["price_base"],
                  row["role"], row["source"], row["confidence"], row["uncertainty_basis"])
