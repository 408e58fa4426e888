"""The task cache's storage format: dataclasses of tables and arrays as data, never code.

Round trips are exact (values, dtypes, index and the tables' block layout, which later sums
depend on); anything that is not what :func:`bundle.dumps` wrote for the type asked for is a
:class:`BundleError`, never an exception of another kind and never code run.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rjsim.results import bundle
from rjsim.results.bundle import BundleError


@dataclass(frozen=True)
class Inner:
    name: str
    weights: np.ndarray


@dataclass(frozen=True)
class Sample:
    area: str
    replication: int
    share: float
    table: pd.DataFrame
    optional: pd.DataFrame | None = None
    inner: Inner | None = None
    extra: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Other:
    area: str


def sample() -> Sample:
    table = pd.DataFrame({"area": pd.array(["a", "b", None], dtype="str"),
                          "n": np.array([1, 2, 3], dtype=np.int64),
                          "x": [0.1, np.nan, 1e308],
                          "flag": [True, False, True],
                          "cat": pd.Categorical(["u", "v", "u"]),
                          "day": pd.to_datetime(["2024-01-01", "2024-02-01", None])})
    table["y"] = table["x"] * 3  # a second float block, as pandas builds tables column-wise
    return Sample("E1", 7, float("nan"), table, None,
                  Inner("w", np.arange(6, dtype=np.float32).reshape(2, 3)),
                  {"a": [1.5, -0.0], "b": []})


def test_round_trip_is_exact_including_the_block_layout() -> None:
    s = sample()
    back = bundle.loads(bundle.dumps(s), Sample)
    assert bundle.same(s, back)
    assert [b.mgr_locs.as_array.tolist() for b in back.table._mgr.blocks] == [
        b.mgr_locs.as_array.tolist() for b in s.table._mgr.blocks]
    assert list(back.table.dtypes) == list(s.table.dtypes)


def test_text_columns_and_labels_round_trip() -> None:
    table = pd.DataFrame({"s": pd.array(["x", None, "é\u2603"], dtype="string"),
                          "nul": pd.array(["a\x00", "b", None], dtype="str"),
                          "t": pd.array(["", "y", "z"], dtype="str")},
                         index=pd.Index(["r1", "r2", "r3"], name="row"))
    s = Sample("E1", 1, 0.5, table)
    back = bundle.loads(bundle.dumps(s), Sample)
    assert bundle.same(s, back)
    assert back.table["nul"].iloc[0] == "a\x00" and back.table["s"].isna().iloc[1]
    assert list(back.table.index) == ["r1", "r2", "r3"] and back.table.index.name == "row"


def test_same_sees_differences() -> None:
    s = sample()
    other = Sample(s.area, s.replication, s.share, s.table.assign(n=[1, 2, 4]), None, s.inner,
                   s.extra)
    assert not bundle.same(s, other)


def _rewrite(data: bytes, change: dict[str, bytes | None]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name, new in change.items():
        if new is None:
            members.pop(name, None)
        else:
            members[name] = new
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


class Boom:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.write_text, (self.marker, "ran"))


def test_pickled_members_are_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(Boom(marker))
    data = bundle.dumps(sample())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    for name in names:
        with pytest.raises(BundleError):
            bundle.loads(_rewrite(data, {name: payload}), Sample)
    with pytest.raises(BundleError):
        bundle.loads(payload, Sample)
    obj_array = io.BytesIO()
    np.save(obj_array, np.array([Boom(marker)], dtype=object), allow_pickle=True)
    npy = next(n for n in names if n.endswith(".npy"))
    with pytest.raises(BundleError):
        bundle.loads(_rewrite(data, {npy: obj_array.getvalue()}), Sample)
    assert not marker.exists()


@pytest.mark.parametrize("change", [
    {"meta.json": None},
    {"meta.json": b"{"},
    {"meta.json": b"[]"},
    {"meta.json": b'{"format": "rjsim-bundle", "version": 1, "type": "Sample", "value": 1}'},
    {"meta.json": b'{"format": "rjsim-bundle", "version": 99, "type": "Sample", "value": {}}'},
    {".npy": None},
    {".npy": b"\x93NUMPY garbage"},
    {".arrow": None},
    {".arrow": b"ARROW1 garbage"},
])
def test_damaged_bundles_are_refused(change: dict[str, bytes | None]) -> None:
    data = bundle.dumps(sample())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    for key, new in change.items():
        targets = [n for n in names if n.endswith(key)] if key.startswith(".") else [key]
        assert targets
        for name in targets:
            with pytest.raises(BundleError):
                bundle.loads(_rewrite(data, {name: new}), Sample)


def test_a_bundle_of_another_type_or_shape_is_refused() -> None:
    with pytest.raises(BundleError, match="Other"):
        bundle.loads(bundle.dumps(Other("x")), Sample)
    data = bundle.dumps(sample())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        meta = z.read("meta.json").decode()
    for old, new in [('"replication": 7', '"replication": "7"'),
                     ('"replication": 7', '"replication": true'),
                     ('"area": "E1", ', ""),
                     ('"area": "E1"', '"area": "E1", "surprise": 1')]:
        assert old in meta
        with pytest.raises(BundleError):
            bundle.loads(_rewrite(data, {"meta.json": meta.replace(old, new, 1).encode()}),
                         Sample)


def test_values_it_cannot_store_are_refused_when_written() -> None:
    with pytest.raises(TypeError):
        bundle.dumps(Other(object()))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bundle.dumps(Inner("x", np.array([object()], dtype=object)))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=0))
def test_any_bytes_load_or_raise_bundle_error(noise: bytes, at: int) -> None:
    data = bytearray(bundle.dumps(sample()))
    for data_ in (bytes(noise), bytes(data[:at % len(data)]) + noise):
        with contextlib.suppress(BundleError):
            bundle.loads(data_, Sample)
