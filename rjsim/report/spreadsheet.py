"""``report.xlsx``: a summary sheet first, then the tables of a results directory as sheets.

The first sheet, ``Summary``, is what a reader needs first: for a comparison the decision
table (one row per option, :mod:`rjsim.report.decision`) and its conclusion; for a single run
the national figures with plain labels and 95% CIs. Then a README sheet listing every column
of every table with its description and unit from :mod:`rjsim.report.columns`, and where each
table is (its sheet, or its files). Then one sheet per table in ``tables/`` (names cut to
Excel's 31 characters and made unique): summary tables first, monthly tables last, and the
large per-replication tables (:data:`FILE_ONLY`: monthly by offence group about a million
cells nationally, by area about 140,000, national monthly about 100,000 at 30 replications; the
capacity-test inputs of every replication, area and pool about 70,000; the rolling windows of
every replication about 700,000) left in ``tables/`` as Parquet and CSV; the README sheet says
where. Their summaries across replications are sheets (``kpi_area``, ``kpi_national``, the
capacity test's verdicts), and the report's figures show the monthly series.

Every table sheet has a filter on its header row and frozen headers; a police force name column
is put beside every column of ONS area codes; numbers carry formats from their documented unit
(percent for shares, GBP, days, FTE, counts). Written with openpyxl in write-only mode
(streamed, low memory).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from rjsim.report.columns import KPI_DISPLAY, describe, label
from rjsim.report.uncertainty_columns import parameter_columns
from rjsim.results.atomic import write_atomic
from rjsim.results.reader import Results

MAX_SHEET_NAME = 31
MAX_ROWS = 1_048_575  # Excel's limit, less the header row
UNDOCUMENTED = "(no description)"
#: Text starting with one of these is a formula to a spreadsheet (formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Tables kept out of the workbook (per-replication monthly series: too large to be useful in a
#: spreadsheet or quick to write).
FILE_ONLY = ("area_month_group", "area_month", "national_month", "capacity_metrics",
             "rolling_metrics")
#: The same for an uncertainty run: every run of every parameter set, tidy but long (its
#: summaries are sheets).
FILE_ONLY_UNCERTAINTY = ("uncertainty_runs", "uncertainty_monthly", "uncertainty_time_to_pass")
NOT_IN_WORKBOOK = "(not in this workbook)"
SUMMARY, README = "Summary", "README"
#: Number formats by unit (see :func:`unit_format`).
FORMATS = {"share": "0.0%", "gbp": '"GBP "#,##0', "gbp_m": '"GBP "#,##0.00"m"',
           "days": '#,##0.0" days"', "fte": '#,##0.0', "count": "#,##0", "ratio": "0.000"}
#: Columns whose unit is that of the row's KPI (``kpi_*`` and comparison tables).
KPI_UNIT_COLUMNS = ("mean", "sd", "ci_low", "ci_high", "half_width", "difference",
                    "difference_ci_low", "difference_ci_high", "estimate", "threshold",
                    "margin")
FORCE = "force"


@dataclass(frozen=True)
class Summary:
    """The summary sheet's content: lines of text above a table, and per column of the table
    (by name) its readable header and a unit key of :data:`FORMATS` (or None for text)."""

    table: pd.DataFrame
    columns: Sequence[tuple[str, str, str | None]]
    lines: Sequence[str]


def unit_format(description: str | None) -> str | None:
    """The unit key of a column from its documented unit, or None (text, or unknown)."""
    text = (description or "").rstrip()
    if not text.endswith(")"):
        return None
    unit = text[text.rfind("(") + 1:-1]
    for start, key in (("0-1", "share"), ("GBP", "gbp"), ("days", "days"), ("FTE", "fte"),
                       ("count", "count"), ("referrals a year", "count"),
                       ("ratio", "ratio"), ("slot", "count"), ("concurrent cases", "fte"),
                       ("hours", "count")):
        if unit.startswith(start):
            return key
    return None


def _kpi_unit(kpi: str) -> str | None:
    if kpi in KPI_DISPLAY:
        return {"number": None}.get(KPI_DISPLAY[kpi][1], KPI_DISPLAY[kpi][1])
    return unit_format(describe(kpi))


def sheet_names(tables: Iterable[str]) -> dict[str, str]:
    """Table name -> a unique sheet name of at most 31 characters (never 'README' or
    'Summary')."""
    used = {README.lower(), SUMMARY.lower()}
    out = {}
    for name in tables:
        base = "".join(c if c not in "[]:*?/\\" else "_" for c in name)[:MAX_SHEET_NAME]
        candidate, k = base, 2
        while candidate.lower() in used:
            suffix = f"~{k}"
            candidate, k = base[:MAX_SHEET_NAME - len(suffix)] + suffix, k + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def readme_rows(res: Results, sheets: dict[str, str]) -> list[list[str]]:
    """One row per table and column: sheet (or :data:`NOT_IN_WORKBOOK`), where the table is,
    column, description."""
    rows = []
    for name in res.table_names():
        sheet = sheets.get(name, NOT_IN_WORKBOOK)
        where = f"tables/{name}" if name in sheets else (
            f"tables/{name}.parquet and tables/{name}.csv in the results directory (too large "
            "for this workbook)")
        columns = list(res.table(name).columns)
        if name in sheets and _needs_force(columns):
            columns.insert(columns.index("area") + 1, FORCE)
        sampled = parameter_columns(res, name)
        for column in columns:
            rows.append([sheet, where, str(column), sampled.get(str(column))
                         or describe(str(column), name) or UNDOCUMENTED])
    return rows


def _needs_force(columns: Sequence[object]) -> bool:
    return "area" in columns and FORCE not in columns


def force_names(res: Results) -> dict[str, str]:
    """ONS area code -> police force name, from the results' (or the first option's) per-area
    summary; empty if there is none."""
    folders = [res.path, *sorted((res.path / "scenarios").glob("*"))]
    for folder in folders:
        area = Results(folder, {}).optional("area_summary") if folder.is_dir() else None
        if area is not None and {"area", FORCE} <= set(area.columns):
            return dict(zip(area["area"].astype(str), area[FORCE].astype(str), strict=True))
    return {}


def _order(names: list[str]) -> list[str]:
    """Summary tables first, monthly tables last (each group in its original order)."""
    return sorted(names, key=lambda n: "month" in n)


def _values(df: pd.DataFrame) -> list[list[Any]]:
    """Rows of plain Python values (NaN and NA become empty cells)."""
    plain = df.head(MAX_ROWS).astype(object)
    return plain.where(pd.notna(plain), None).to_numpy().tolist()


def _row(ws: WriteOnlyWorksheet, values: list[Any]) -> list[Any]:
    """Cells of one row, text that looks like a formula written as text (never evaluated,
    e.g. an area name "=HYPERLINK(...)" from a user's data file)."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, str) and v.startswith(FORMULA_START):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            cell.quotePrefix = True  # and the spreadsheet keeps it text when edited
            out.append(cell)
        else:
            out.append(v)
    return out


def _formats(name: str, df: pd.DataFrame) -> list[str | None]:
    """Per column: a fixed number format, or None (text, or per row: see :func:`_cells`)."""
    out: list[str | None] = []
    for column in df.columns:
        key = unit_format(describe(str(column), name))
        numeric = pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(
            df[column])
        out.append(FORMATS[key] if key and numeric else None)
    return out


def _cells(ws: WriteOnlyWorksheet, df: pd.DataFrame, formats: list[str | None],
           per_kpi: list[bool]) -> Iterable[list[Any]]:
    """Rows of cells with number formats: a column's own, or that of the row's KPI."""
    kpis = df["kpi"].astype(str).tolist() if "kpi" in df else []
    kpi_formats = {k: FORMATS.get(_kpi_unit(k) or "") for k in set(kpis)}
    for i, values in enumerate(_values(df)):
        row: list[Any] = []
        for j, v in enumerate(_row(ws, values)):
            style = kpi_formats.get(kpis[i]) if per_kpi[j] and kpis else formats[j]
            if style and isinstance(v, int | float) and not isinstance(v, bool) and not (
                    isinstance(v, float) and math.isnan(v)):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = style
                row.append(cell)
            else:
                row.append(v)
        yield row


def _with_force(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    if not names or not _needs_force(list(df.columns)):
        return df
    at = list(df.columns).index("area") + 1
    forces = df["area"].astype(str).map(names).fillna("")
    return pd.concat([df.iloc[:, :at], forces.rename(FORCE), df.iloc[:, at:]], axis=1)


def _width(ws: WriteOnlyWorksheet, column: str, width: float) -> None:
    """Set a column's width (write-only sheets have the attribute; openpyxl's stubs do not)."""
    dims: Any = getattr(ws, "column_dimensions")  # noqa: B009
    dims[column].width = width


def _filter(ws: WriteOnlyWorksheet, ref: str) -> None:
    """A filter on the cells ``ref`` (header row first)."""
    auto: Any = getattr(ws, "auto_filter")  # noqa: B009
    auto.ref = ref


def _table_sheet(ws: WriteOnlyWorksheet, name: str, df: pd.DataFrame) -> None:
    ws.freeze_panes = "A2"
    for j, column in enumerate(df.columns, start=1):
        _width(ws, get_column_letter(j), max(10, min(40, len(str(column)) + 2)))
    if len(df.columns):
        _filter(ws, f"A1:{get_column_letter(len(df.columns))}"
                              f"{min(len(df), MAX_ROWS) + 1}")
    ws.append(_row(ws, [str(c) for c in df.columns]))
    per_kpi = [str(c) in KPI_UNIT_COLUMNS and "kpi" in df for c in df.columns]
    for row in _cells(ws, df, _formats(name, df), per_kpi):
        ws.append(row)


def _summary_sheet(ws: WriteOnlyWorksheet, summary: Summary) -> None:
    """Text lines, a blank row, then the table with readable headers and a filter; a column
    without a unit of its own, such as ``mean``, takes that of each row's KPI if the table has
    a ``kpi`` column."""
    columns = [c for c in summary.columns if c[0] in summary.table.columns]
    first = len(summary.lines) + 2
    ws.freeze_panes = f"A{first + 1}"
    _width(ws, "A", 40)
    for j, (_, header, _) in enumerate(columns[1:], start=2):
        _width(ws, get_column_letter(j), max(12, min(45, len(header) + 2)))
    _filter(ws, f"A{first}:{get_column_letter(len(columns))}"
                          f"{first + len(summary.table)}")
    for line in summary.lines:
        ws.append(_row(ws, [line]))
    ws.append([])
    ws.append([header for _, header, _ in columns])
    table_ = summary.table[[c for c, _, _ in columns]]
    formats = [FORMATS.get(unit or "") for _, _, unit in columns]
    per_kpi = [unit is None and c in KPI_UNIT_COLUMNS and "kpi" in table_
               for c, _, unit in columns]
    for row in _cells(ws, table_, formats, per_kpi):
        ws.append(row)


def national_summary(res: Results) -> Summary | None:
    """A single run's summary sheet: every national KPI with a plain label, unit and 95% CI
    (None if the results have no national KPI table)."""
    kpis = res.optional("kpi_national")
    if kpis is None or "kpi" not in kpis:
        return None
    table_ = kpis.assign(measure=[label(str(k)) for k in kpis["kpi"]])
    columns = (("measure", "Measure", None), ("kpi", "KPI (column name)", None),
               ("mean", "Mean", None), ("ci_low", "95% CI low", None),
               ("ci_high", "95% CI high", None), ("n", "Replications", "count"))
    name = str(res.manifest.get("scenario") or res.path.name)
    return Summary(table_, columns, [f"National figures for '{name}': means over "
                                     "replications with 95% confidence intervals (simulation "
                                     "noise only). The README sheet describes every table."])


def write_workbook(res: Results, path: Path, summary: Summary | None = None) -> Path:
    """Write the summary sheet (``summary``, else :func:`national_summary`), the README sheet
    and every table of ``res`` to ``path`` atomically."""
    sheets = sheet_names(_order([n for n in res.table_names()
                                 if n not in FILE_ONLY + FILE_ONLY_UNCERTAINTY]))
    summary = summary or national_summary(res)
    names = force_names(res)

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        if summary is not None:
            _summary_sheet(wb.create_sheet(SUMMARY), summary)
        readme = wb.create_sheet(README)
        rows = readme_rows(res, sheets)
        _filter(readme, f"A1:D{len(rows) + 1}")
        for width, column in zip((24, 40, 32, 90), "ABCD", strict=True):
            _width(readme, column, width)
        readme.append(["sheet", "table", "column", "description"])
        for row in rows:
            readme.append(_row(readme, row))
        for name, sheet in sheets.items():
            _table_sheet(wb.create_sheet(sheet), name, _with_force(res.table(name), names))
        wb.save(tmp)

    return write_atomic(path, write)

