"""A task's NumPy columns joined into one table are the table pandas would make by concatenating
per-area tables: same columns, dtypes, values and memory blocks (pandas sums a block of columns
and single columns in different orders, so the blocks decide the last bit of a sum)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rjsim.analysis.columns import Columns, head, joined

_KINDS = st.lists(st.sampled_from(["U", "i", "f", "b"]), min_size=1, max_size=12)


def _part(kinds: list[str], rows: int, seed: int) -> Columns:
    rng = np.random.default_rng(seed)
    out: Columns = {}
    for i, k in enumerate(kinds):
        out[f"c{i}"] = {"U": np.array([f"area{j % 3}" for j in range(rows)], dtype=str),
                        "i": rng.integers(0, 100, rows),
                        "f": rng.random(rows) * 1e6, "b": rng.random(rows) < 0.5}[k]
    return out


def _layout(df: pd.DataFrame) -> list[tuple[str, list[int]]]:
    return sorted((str(b.dtype), [int(i) for i in b.mgr_locs.as_array])
                  for b in df._mgr.blocks)


@settings(max_examples=60, deadline=None)
@given(_KINDS, st.lists(st.integers(1, 30), min_size=1, max_size=5))
def test_joined_is_pandas_concat_of_the_parts(kinds: list[str], rows: list[int]) -> None:
    parts = [_part(kinds, n, seed) for seed, n in enumerate(rows)]
    ours = joined(parts)
    theirs = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert ours.columns.equals(theirs.columns) and ours.index.equals(theirs.index)
    assert _layout(ours) == _layout(theirs)
    numeric = [c for c, k in zip(ours.columns, kinds, strict=True) if k in "if"]
    if numeric:  # the same blocks give the same sums to the last bit
        np.testing.assert_array_equal(ours[numeric].sum().to_numpy(),
                                      theirs[numeric].sum().to_numpy())


def test_empty_parts_keep_the_blocks_and_text_stays_text() -> None:
    """An area without allocated cases gives an empty part: the numeric blocks are those of
    pandas' concatenation; the text columns stay text (pandas may make them object or float)."""
    kinds = ["i", "U", "i", "f", "f"]
    parts = [_part(kinds, 4, 0), head(_part(kinds, 4, 1), 0), _part(kinds, 3, 2)]
    ours = joined(parts)
    theirs = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
    def numeric(df: pd.DataFrame) -> list[tuple[str, list[int]]]:
        return [x for x in _layout(df) if x[0] not in ("str", "object")]
    assert numeric(ours) == numeric(theirs)
    assert ours["c1"].dtype == "str" and list(ours["c1"]) == list(theirs["c1"])
    assert joined([head(parts[0], 0)]).shape == (0, 5)
    assert joined([]).empty
