"""Police force area data: the packaged 2024/25 table, user CSVs, and demand by offence group.

The packaged ``data/force_areas_2024_25.csv`` holds ONS population and Home Office police
recorded crime (PRC) for the 43 territorial force areas (provenance in ``data/SOURCES.md``). A
user file with the same columns may replace it; it may also give annual victim counts per
offence group directly (``victims_<group>`` columns), which then win over the apportionment of
sensitive groups from national shares.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from rjsim.core import files
from rjsim.core.errors import MAX_SHOWN, DataError, Problem, ScenarioError
from rjsim.core.schema import did_you_mean
from rjsim.scenario.spec import GROUPS, HATE_CATEGORIES, MAX_COUNT, Apportionment, Demand, Phase

PACKAGED = "force_areas_2024_25.csv"
REQUIRED = ("pfa_code", "force", "census2021_population")
VS = "prc_violence_and_sexual_offences"
#: The PRC column of each category hate crimes are recorded in (HATE_CATEGORIES).
HATE_COLUMNS = dict(zip(HATE_CATEGORIES, (VS, "prc_public_order",
                                          "prc_criminal_damage_and_arson"), strict=True))
#: PRC columns each non-apportioned offence group is built from.
PRC_COLUMNS: dict[str, tuple[str, ...]] = {
    "robbery": ("prc_robbery",), "burglary": ("prc_burglary",),
    "vehicle": ("prc_vehicle_crime",),
    "theft": ("prc_theft_from_the_person", "prc_bicycle_theft", "prc_other_theft"),
    "criminal_damage": ("prc_criminal_damage_and_arson",), "shoplifting": ("prc_shoplifting",),
    "violence": (VS,), "sexual": (VS,), "domestic_abuse": (VS,),
    "hate": tuple(HATE_COLUMNS.values()),
}
#: Largest area CSV read (the packaged one, 43 rows, is about 8 KB).
MAX_AREA_BYTES = 4 * 1024 * 1024
OPTIONAL_NUMERIC = ("prc_2024_25_total_excl_fraud", "approx_centroid_lat", "approx_centroid_lon")


@dataclass(frozen=True)
class Area:
    """One police force area's published figures (annual counts)."""

    code: str
    name: str
    region: str
    population: float
    recorded_crime: float
    lat: float
    lon: float
    counts: dict[str, float]  # PRC columns and victims_<group> overrides present in the file
    values: dict[str, float] = field(default_factory=dict)  # every numeric column, by name
    row: int = 0  # its line in the data file (for messages)


@dataclass(frozen=True)
class AreaTable:
    """The areas of one data file, in file order, with a digest of the file's bytes."""

    areas: tuple[Area, ...]
    source: str
    digest: str
    columns: tuple[str, ...] = ()  # the file's header

    def group_problems(self, groups: tuple[str, ...]) -> list[Problem]:
        """Columns missing for the offence ``groups`` a scenario uses (a file needs no columns
        for groups it does not model)."""
        return group_column_problems(list(self.columns), self.source, groups)

    def select(self, include: tuple[str, ...], where: str) -> tuple[Area, ...]:
        """The areas named in ``include`` (codes or names, any case), or all when empty."""
        if not include:
            return self.areas
        problems = self.unknown_area_problems(include, where)
        if problems:
            raise ScenarioError(problems, "invalid scenario")
        by_key, chosen = self._by_key(), list[Area]()
        for item in include:
            if by_key[item.lower()] not in chosen:
                chosen.append(by_key[item.lower()])
        return tuple(chosen)

    def unknown_area_problems(self, names: tuple[str, ...], where: str) -> list[Problem]:
        """A problem for each of ``names`` that is neither a code nor a name of an area here."""
        by_key = self._by_key()
        return [Problem(where, f"unknown area '{item}'"
                        f"{did_you_mean(item, [a.name for a in self.areas])}; "
                        f"use a code or name from {self.source}")
                for item in names if item.lower() not in by_key]

    def phase_problems(self, phases: tuple[Phase, ...]) -> list[Problem]:
        """Areas named by the statutory right's phases that are not in this data."""
        return [p for i, phase in enumerate(phases)
                for p in self.unknown_area_problems(phase.areas,
                                                    f"statutory_right.phase[{i}].areas")]

    def _by_key(self) -> dict[str, Area]:
        return {a.code.lower(): a for a in self.areas} | {a.name.lower(): a for a in self.areas}


@cache
def known_codes() -> dict[str, str]:
    """Code -> name of the 43 territorial police force areas (from the packaged data)."""
    return {a.code: a.name for a in packaged().areas}


@cache
def packaged() -> AreaTable:
    """The packaged 2024/25 area table."""
    raw = resources.files("rjsim").joinpath(f"data/{PACKAGED}").read_bytes()
    return _parse(raw, f"packaged {PACKAGED}", check_codes=False)


@cache
def national_violence_and_sexual() -> float:
    """National PRC violence and sexual offences, 2024/25 (denominator for apportionment)."""
    return national(VS)


@cache
def national(column: str) -> float:
    """National total of a PRC column of the packaged 2024/25 table (denominator for
    apportioning national counts to areas)."""
    return sum(a.counts[column] for a in packaged().areas)


def load(path: str | Path | None) -> AreaTable:
    """Load the packaged table (``None`` or empty) or a user CSV, checking every row."""
    if not path:
        return packaged()
    shown = Path(path).name
    try:
        raw = files.read_limited(Path(path), MAX_AREA_BYTES)
    except files.FileProblem as exc:
        raise DataError([Problem(str(path), f"cannot read area data: the file {exc}")],
                        "invalid area data") from None
    return _parse(raw, shown, check_codes=True)


SIGNED = ("approx_centroid_lat", "approx_centroid_lon")
#: Today's RJ budget per area (GBP a year), optional; checked like any other number.
BUDGET_COLUMN = "rj_budget_gbp"
#: Upper bounds: an area's population, its annual counts and budget (far above any real one;
#: more would not finish simulating, or overflow the sums).
MAX_POPULATION = 1e9
MAX_BUDGET_GBP = 1e12


def _limit(column: str) -> float:
    if column.startswith(("prc_", "victims_")):
        return MAX_COUNT
    if column == "census2021_population":
        return MAX_POPULATION
    if column == BUDGET_COLUMN:
        return MAX_BUDGET_GBP
    return math.inf


def _number(text: str, *, signed: bool) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and (signed or value >= 0) else None


def _parse(raw: bytes, shown: str, *, check_codes: bool) -> AreaTable:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(shown, "is not UTF-8 text")], "invalid area data") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems = [Problem(f"{shown}: header", f"missing column '{c}'") for c in REQUIRED
                if c not in header]
    numeric = [c for c in header if c.startswith(("prc_", "victims_")) or c in OPTIONAL_NUMERIC
               or c in ("census2021_population", BUDGET_COLUMN)]
    areas: list[Area] = []
    seen: set[str] = set()
    for raw_row in reader:
        line = reader.line_num  # the file's own line number (blank lines are skipped)
        if None in raw_row:
            problems.append(Problem(f"{shown}: row {line}", f"has more fields than the header "
                                    f"({len(header)} columns)"))
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in raw_row.items()}
        area = _row_to_area(row, line, shown, numeric, seen, problems, check_codes=check_codes)
        if area is not None:
            areas.append(area)
    if not areas and not problems:
        problems.append(Problem(shown, "has no data rows"))
    if problems:
        raise DataError(problems, "invalid area data")
    return AreaTable(tuple(areas), shown, hashlib.sha256(raw).hexdigest(), tuple(header))


def _row_to_area(row: dict[str, str], line: int, shown: str, numeric: list[str],
                 seen: set[str], problems: list[Problem], *, check_codes: bool) -> Area | None:
    before = len(problems)
    code = row.get("pfa_code", "")
    if check_codes and code not in known_codes():
        # a suggestion only for problems that will be shown (difflib is slow on huge files)
        hint = did_you_mean(code, known_codes()) if len(problems) < MAX_SHOWN else ""
        problems.append(Problem(f"{shown}: row {line}, column pfa_code", f"unknown area code"
                                f"{hint}; allowed: the 43 ONS police force area codes (E23..., "
                                "W15...)", repr(code)))
    if code in seen:
        problems.append(Problem(f"{shown}: row {line}, column pfa_code", "area listed twice",
                                repr(code)))
    seen.add(code)
    values: dict[str, float] = {}
    for col in numeric:
        text = row.get(col, "")
        value = _number(text, signed=col in SIGNED)
        high = _limit(col)
        if value is None or value > high:
            problems.append(Problem(f"{shown}: row {line}, column {col}", "must be a "
                                    + ("number" if col in SIGNED else "non-negative number")
                                    + (f" of at most {high:g}" if math.isfinite(high) else ""),
                                    repr(text)))
        else:
            values[col] = value
    if len(problems) > before:
        return None
    return Area(code=code, name=row.get("force") or code, region=row.get("region", ""),
                population=values.get("census2021_population", 0.0),
                recorded_crime=values.get("prc_2024_25_total_excl_fraud", math.nan),
                lat=values.get("approx_centroid_lat", math.nan),
                lon=values.get("approx_centroid_lon", math.nan),
                counts={k: v for k, v in values.items() if k.startswith(("prc_", "victims_"))},
                values=values | _other_numbers(row, values), row=line)


def _other_numbers(row: dict[str, str], known: dict[str, float]) -> dict[str, float]:
    """Numeric values of the remaining columns (for allocation by a named column)."""
    out = {}
    for key, text in row.items():
        if key and key not in known:
            value = _number(text, signed=True)
            if value is not None:
                out[key] = value
    return out


def group_column_problems(header: list[str], shown: str,
                          groups: tuple[str, ...] = GROUPS) -> list[Problem]:
    """A problem for each column missing for one of ``groups``."""
    problems = []
    for group in groups:
        if f"victims_{group}" in header:
            continue
        for col in PRC_COLUMNS[group]:
            if col not in header:
                problems.append(Problem(f"{shown}: header", f"missing column '{col}' (needed for "
                                        f"offence group '{group}'; or give 'victims_{group}')"))
    return sorted(set(problems), key=str)


def demand_victims(area: Area, demand: Demand) -> dict[str, float]:
    """Annual victims per modelled offence group in ``area`` under the scenario's demand
    settings: :func:`victims_per_year`, scaled to the demand scope (``demand.scope``)."""
    victims = victims_per_year(area, demand.apportionment, demand.groups)
    return {g: v * demand.in_scope(g) for g, v in victims.items()}


def hate_parts(area: Area, apportion: Apportionment) -> dict[str, float]:
    """Hate crimes a year in ``area`` per PRC column they are recorded in: each category's
    national share of hate crimes (``hate_recorded_as``) apportioned by the force's share of
    that category; a ``victims_hate`` column is split in the same proportions."""
    c = area.counts
    parts = {HATE_COLUMNS[k]: apportion.hate_national * share * c.get(HATE_COLUMNS[k], 0.0)
             / national(HATE_COLUMNS[k]) for k, share in apportion.hate_recorded_as.items()}
    given = c.get("victims_hate")
    if given is None:
        return parts
    total = sum(parts.values())
    if total <= 0:
        return {VS: given}
    return {col: given * v / total for col, v in parts.items()}


def victims_per_year(area: Area, apportion: Apportionment,
                     groups: tuple[str, ...] = GROUPS) -> dict[str, float]:
    """Annual victims with an identifiable offence, per offence group in ``groups``, for
    ``area`` (whose data must have those groups' columns: :meth:`AreaTable.group_problems`).

    Sexual offences and domestic abuse are apportioned from national figures as shares of the
    force's violence and sexual offences and carved out of that category; hate crime from the
    categories it is recorded in (violence and sexual offences, public order, criminal damage
    and arson; :func:`hate_parts`), carved out of the first and last (public-order hate crimes
    have a victim but sit outside the identifiable-victim subset, so they add to it). These are
    assumptions in the assumptions log. ``victims_<group>`` columns win.
    """
    c = area.counts
    vs = c.get(VS, 0.0)
    per_vs = vs / national_violence_and_sexual()
    hate = hate_parts(area, apportion)
    derived = {
        "sexual": vs * apportion.sexual_share_of_violence_and_sexual,
        "domestic_abuse": apportion.domestic_abuse_national * per_vs,
    }
    # Sexual offences and DA sit inside PRC violence and sexual offences, whether derived or
    # given; hate crime is carved out of the categories it is recorded in.
    sensitive = {g: c.get(f"victims_{g}", derived[g]) for g in derived}
    carved = {VS: sum(sensitive.values()) + hate.get(VS, 0.0),
              HATE_COLUMNS["criminal_damage_and_arson"]:
                  hate.get(HATE_COLUMNS["criminal_damage_and_arson"], 0.0)}
    out: dict[str, float] = {}
    for group in groups:
        if f"victims_{group}" in c:
            out[group] = c[f"victims_{group}"]
        elif group in sensitive:
            out[group] = sensitive[group]
        elif group == "hate":
            out[group] = sum(hate.values())
        elif group == "violence":
            out[group] = max(vs - carved[VS], 0.0)
        else:
            total = sum(c[col] for col in PRC_COLUMNS[group])
            out[group] = max(total - sum(carved.get(col, 0.0) for col in PRC_COLUMNS[group]),
                             0.0)
    return out
