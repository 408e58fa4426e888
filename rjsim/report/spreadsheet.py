"""``report.xlsx``: the tables of a results directory as sheets, with a README sheet.

One sheet per table in ``tables/`` (names cut to Excel's 31 characters and made unique), except
the large per-area tables (:data:`FILE_ONLY`: monthly by offence group about a million cells
nationally, by area about 140,000; the rolling windows of every replication about 700,000 at
30 replications), which stay in ``tables/`` as Parquet and CSV (the national
monthly table is a sheet); a README sheet lists every column of every table
with its description and unit from :mod:`rjsim.report.columns`, and says where each table is
(its sheet, or its files). Written with openpyxl in write-only mode (streamed, low memory).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from rjsim.report.columns import describe
from rjsim.results.atomic import write_atomic
from rjsim.results.reader import Results

MAX_SHEET_NAME = 31
MAX_ROWS = 1_048_575  # Excel's limit, less the header row
UNDOCUMENTED = "(no description)"
#: Text starting with one of these is a formula to a spreadsheet (formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Tables kept out of the workbook (too large to be useful in a spreadsheet or quick to write).
FILE_ONLY = ("area_month_group", "area_month", "rolling_metrics")
NOT_IN_WORKBOOK = "(not in this workbook)"


def sheet_names(tables: Iterable[str]) -> dict[str, str]:
    """Table name -> a unique sheet name of at most 31 characters (never 'README')."""
    used = {"readme"}
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
        for column in res.table(name).columns:
            rows.append([sheet, where, str(column), describe(str(column), name) or UNDOCUMENTED])
    return rows


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


def write_workbook(res: Results, path: Path) -> Path:
    """Write every table of ``res`` and the README sheet to ``path`` atomically."""
    sheets = sheet_names([n for n in res.table_names() if n not in FILE_ONLY])

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        readme = wb.create_sheet("README")
        readme.append(["sheet", "table", "column", "description"])
        for row in readme_rows(res, sheets):
            readme.append(_row(readme, row))
        for name, sheet in sheets.items():
            df = res.table(name)
            ws = wb.create_sheet(sheet)
            ws.freeze_panes = "A2"
            ws.append(_row(ws, [str(c) for c in df.columns]))
            for row in _values(df):
                ws.append(_row(ws, row))
        wb.save(tmp)

    return write_atomic(path, write)
