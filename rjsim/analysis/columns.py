"""A task's share of a table as NumPy columns, made into one table per replication.

Each (replication, area) task leaves small per-area tables. Made as pandas tables one by one,
they would cost more than the arithmetic behind them (a table per area and kind, strings
converted for each), so a task keeps them as :data:`Columns`: column name -> NumPy array, in
column order, text as NumPy unicode arrays. :func:`joined` concatenates the areas' columns and
makes one table, which is the table the per-area tables concatenated would be (same columns,
dtypes, values and memory blocks).

The memory blocks matter: pandas sums a two-dimensional block of columns and single columns in
different orders, so the same numbers grouped in other blocks can sum to a different last bit.
``pd.concat`` of tables made from dicts keeps one block per run of adjacent columns of the same
NumPy dtype (text: one column per block), and :func:`joined` lays its blocks out the same way.
One difference: a text column of parts that are all empty (or partly empty) stays text, where
``pd.concat`` makes it a float (or object) column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks  # type: ignore[import-not-found]

#: One table's columns in order (text as NumPy unicode arrays); all of the same length.
Columns = dict[str, np.ndarray]


def joined(parts: Sequence[Columns]) -> pd.DataFrame:
    """One table of the ``parts``' rows, in order (the columns of the first part)."""
    if not parts:
        return pd.DataFrame()
    if len(parts) == 1:  # pd.concat of one table keeps its (consolidated) blocks
        return pd.DataFrame(parts[0])
    names = list(parts[0])
    arrays = [np.concatenate([p[c] for p in parts]) for c in names]
    rows = len(arrays[0]) if arrays else 0
    blocks: list[tuple[object, np.ndarray]] = []
    i = 0
    while i < len(arrays):
        if arrays[i].dtype.kind == "U":  # text: a pandas string column of its own
            blocks.append((pd.array(arrays[i], dtype="str"), np.array([i], dtype=np.intp)))
            i += 1
            continue
        j = i + 1
        while j < len(arrays) and arrays[j].dtype == arrays[i].dtype:
            j += 1
        blocks.append((np.vstack(arrays[i:j]), np.arange(i, j, dtype=np.intp)))
        i = j
    frame: pd.DataFrame = create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(rows), columns=pd.Index(names))
    return frame


def head(columns: Columns, n: int) -> Columns:
    """The first ``n`` rows."""
    return {c: v[:n] for c, v in columns.items()}
