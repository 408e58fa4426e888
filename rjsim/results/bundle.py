"""Dataclasses of tables and arrays stored as data, never as code: the task cache's format.

:func:`dumps` turns a dataclass instance whose fields hold tables (``pandas.DataFrame``), NumPy
arrays, numbers, strings, ``None``, lists, dicts with string keys or nested dataclasses into
one ZIP archive: ``meta.json`` (the fields, with scalars inline and each table or array named)
plus one member per array (``.npy``; a table is stored block by block: its numeric blocks as
arrays, other columns, index and column labels as Arrow IPC). :func:`loads` reads it back
*against the dataclass's declared field types*: a missing, extra or mistyped field, a member
that is not there, an object array, a table that Arrow cannot read or sizes over the limits
raise :class:`BundleError`. Nothing in a bundle can run code: JSON, Arrow and ``.npy`` with
``allow_pickle=False`` describe data only, unlike pickle.

The format follows the dataclass's fields, so adding, removing or retyping a field changes
nothing here (old entries fail validation and are recomputed).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import types
import typing
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks  # type: ignore[import-not-found]

FORMAT = "rjsim-bundle"
VERSION = 1
#: Limits on what a bundle may expand to (a foreign file must not exhaust memory).
MAX_MEMBERS = 4096
MAX_MEMBER_BYTES = 1 << 30
MAX_META_BYTES = 16 << 20


class BundleError(ValueError):
    """A bundle that is not one rjsim wrote for this type (corrupt, foreign or outdated)."""


def dumps(obj: Any) -> bytes:
    """The bundle of the dataclass instance ``obj``."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"dumps needs a dataclass instance, not {type(obj).__name__}")
    members: dict[str, bytes] = {}
    meta = {"format": FORMAT, "version": VERSION, "type": type(obj).__qualname__,
            "value": _encode(obj, members)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("meta.json", json.dumps(meta, allow_nan=True))
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def loads(data: bytes, cls: type[Any]) -> Any:
    """The instance of dataclass ``cls`` stored in ``data``, validated field by field."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise BundleError(f"not a bundle ({exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise BundleError(f"{len(infos)} members (at most {MAX_MEMBERS})")
    sizes = {i.filename: i.file_size for i in infos}
    if sizes.get("meta.json", MAX_META_BYTES + 1) > MAX_META_BYTES:
        raise BundleError("no meta.json, or one too large")
    if any(size > MAX_MEMBER_BYTES for size in sizes.values()):
        raise BundleError("a member is too large")
    try:
        meta = json.loads(z.read("meta.json"))
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BundleError(f"unreadable meta.json ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BundleError("not an rjsim bundle")
    if meta.get("version") != VERSION or meta.get("type") != cls.__qualname__:
        raise BundleError(f"a bundle of {meta.get('type')!r} version {meta.get('version')!r}, "
                          f"not {cls.__qualname__!r} version {VERSION}")
    return _decode(meta.get("value"), cls, _Reader(z, set(sizes)), "value")


class _Reader:
    def __init__(self, z: zipfile.ZipFile, names: set[str]) -> None:
        self.z, self.names = z, names

    def read(self, name: object, where: str) -> bytes:
        if not isinstance(name, str) or name not in self.names or name == "meta.json":
            raise BundleError(f"{where}: names a member that is not in the bundle")
        try:
            return self.z.read(name)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise BundleError(f"{where}: unreadable member {name} ({exc})") from None


def _encode(value: Any, members: dict[str, bytes]) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return {"float": repr(float(value))}  # exact, and nan/inf survive
    if isinstance(value, pd.DataFrame):
        return {"frame": _encode_frame(value, members)}
    if isinstance(value, np.ndarray):
        return {"array": _add(members, "npy", _npy_bytes(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"fields": {f.name: _encode(getattr(value, f.name), members)
                           for f in dataclasses.fields(value)}}
    if isinstance(value, list | tuple):
        return {"list": [_encode(v, members) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, members) for k, v in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in a bundle")


def _decode(node: Any, hint: Any, r: _Reader, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if node is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _decode(node, option, r, where)
            except BundleError as exc:
                errors.append(str(exc))
        raise BundleError("; ".join(errors) or f"{where}: no value allowed")
    if hint is Any:
        raise BundleError(f"{where}: untyped field (cannot be validated)")
    if hint is type(None) or hint is None:
        if node is None:
            return None
    elif hint is bool:
        if isinstance(node, bool):
            return node
    elif hint is int:
        if isinstance(node, int) and not isinstance(node, bool):
            return node
    elif hint is float:
        if isinstance(node, int) and not isinstance(node, bool):
            return float(node)
        if isinstance(node, dict) and set(node) == {"float"} and isinstance(node["float"], str):
            try:
                return float(node["float"])
            except ValueError:
                pass
    elif hint is str:
        if isinstance(node, str):
            return node
    elif hint is pd.DataFrame:
        if isinstance(node, dict) and set(node) == {"frame"}:
            return _decode_frame(node["frame"], r, where)
    elif hint is np.ndarray or origin is np.ndarray:
        if isinstance(node, dict) and set(node) == {"array"}:
            return _array(r.read(node["array"], where), where)
    elif origin in (list, tuple):
        if isinstance(node, dict) and set(node) == {"list"} and isinstance(node["list"], list):
            item = args[0] if args else Any
            items = [_decode(v, item, r, f"{where}[{i}]") for i, v in enumerate(node["list"])]
            return tuple(items) if origin is tuple else items
    elif origin is dict:
        if isinstance(node, dict) and set(node) == {"dict"} and isinstance(node["dict"], dict):
            item = args[1] if len(args) == 2 else Any
            return {k: _decode(v, item, r, f"{where}.{k}") for k, v in node["dict"].items()}
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(node, hint, r, where)
    else:
        raise BundleError(f"{where}: a field of type {hint!r} cannot be stored")
    raise BundleError(f"{where}: not a valid {getattr(hint, '__name__', hint)}")


def _dataclass(node: Any, cls: type[Any], r: _Reader, where: str) -> Any:
    if not (isinstance(node, dict) and set(node) == {"fields"}
            and isinstance(node["fields"], dict)):
        raise BundleError(f"{where}: not a {cls.__qualname__}")
    hints = typing.get_type_hints(cls)
    wanted = {f.name for f in dataclasses.fields(cls) if f.init}
    given = node["fields"]
    if set(given) != wanted:
        missing, extra = sorted(wanted - set(given)), sorted(set(given) - wanted)
        raise BundleError(f"{where}: fields differ from {cls.__qualname__} "
                          f"(missing {missing}, unexpected {extra})")
    return cls(**{k: _decode(v, hints[k], r, f"{where}.{k}") for k, v in given.items()})


def _add(members: dict[str, bytes], suffix: str, data: bytes) -> str:
    name = f"m{len(members)}.{suffix}"
    members[name] = data
    return name


def _arrow_bytes(df: pd.DataFrame, *, index: bool) -> bytes:
    table = pa.Table.from_pandas(df, preserve_index=index)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)  # object arrays refuse: data only
    return buf.getvalue()


def _encode_frame(df: pd.DataFrame, members: dict[str, bytes]) -> dict[str, Any]:
    """A table block by block: results computed from a table can depend on how its columns
    are grouped in memory (pandas sums a 2-D block and single columns in different orders),
    so a table read back is rebuilt with the same blocks as the one written."""
    blocks: list[dict[str, Any]] = []
    for block in df._mgr.blocks:
        locs = [int(i) for i in block.mgr_locs.as_array]
        values = block.values
        if isinstance(values, np.ndarray) and values.ndim == 2:
            blocks.append({"locs": locs, "array": _add(members, "npy", _npy_bytes(values))})
        else:  # extension arrays: strings as arrays, others one column each, via Arrow
            for i in locs:
                column = df.iloc[:, i]
                text = _encode_strings(column, members)
                if text is not None:
                    blocks.append({"locs": [i], "strings": text})
                    continue
                one = pd.DataFrame({"c": column})
                blocks.append({"locs": [i], "arrow": _add(members, "arrow",
                                                          _arrow_bytes(one, index=False))})
    return {"index": _encode_labels(df.index, members),
            "columns": _encode_labels(df.columns, members), "blocks": blocks}


def _encode_labels(index: pd.Index, members: dict[str, bytes]) -> Any:
    """Row or column labels: a range or plain strings inline, anything else via Arrow."""
    name = index.name
    if name is None or isinstance(name, str):
        if isinstance(index, pd.RangeIndex):
            return {"range": [index.start, index.stop, index.step], "name": name}
        if index.dtype == object or isinstance(index.dtype, pd.StringDtype):
            labels = list(index)
            if all(type(v) is str for v in labels):
                return {"labels": labels, "name": name, "dtype": str(index.dtype)}
    return _add(members, "arrow", _arrow_bytes(pd.DataFrame(index=index), index=True))


def _decode_labels(node: Any, r: _Reader, where: str) -> pd.Index:
    if isinstance(node, dict) and set(node) == {"range", "name"}:
        bounds, name = node["range"], node["name"]
        if (isinstance(bounds, list) and len(bounds) == 3 and all(
                isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                and bounds[2] != 0 and (name is None or isinstance(name, str))):
            return pd.RangeIndex(start=bounds[0], stop=bounds[1], step=bounds[2], name=name)
        raise BundleError(f"{where}: a malformed range of labels")
    if isinstance(node, dict) and set(node) == {"labels", "name", "dtype"}:
        labels, name, dtype = node["labels"], node["name"], node["dtype"]
        if (isinstance(labels, list) and all(isinstance(v, str) for v in labels)
                and (name is None or isinstance(name, str)) and dtype in ("object", "str")):
            return pd.Index(labels, name=name, dtype=dtype)
        raise BundleError(f"{where}: malformed labels")
    return _table(r.read(node, where), where).index


def _encode_strings(column: pd.Series, members: dict[str, bytes]) -> Any:
    """A string column as a NumPy unicode array and a missing-value mask, or ``None`` when it
    is not one (or holds text NumPy cannot keep exactly: trailing NULs)."""
    dtype = column.dtype
    if not isinstance(dtype, pd.StringDtype):
        return None
    missing = column.isna().to_numpy()
    values = [("" if m else v) for v, m in zip(column.tolist(), missing, strict=True)]
    if any(v.endswith("\x00") for v in values):
        return None
    na = "nan" if dtype.na_value is np.nan else "NA"
    return {"text": _add(members, "npy", _npy_bytes(np.array(values, dtype=str))),
            "missing": _add(members, "npy", _npy_bytes(missing)),
            "storage": dtype.storage, "na": na}


def _decode_strings(node: Any, rows: int, r: _Reader, where: str) -> Any:
    if not (isinstance(node, dict) and set(node) == {"text", "missing", "storage", "na"}
            and node["storage"] in ("python", "pyarrow") and node["na"] in ("nan", "NA")):
        raise BundleError(f"{where}: a malformed text column")
    text = _array(r.read(node["text"], where), where)
    missing = _array(r.read(node["missing"], where), where)
    if (text.dtype.kind != "U" or missing.dtype != np.bool_ or text.shape != (rows,)
            or missing.shape != (rows,)):
        raise BundleError(f"{where}: a text column of the wrong shape or type")
    dtype = pd.StringDtype(node["storage"], na_value=np.nan if node["na"] == "nan" else pd.NA)
    values = text.astype(object)
    values[missing] = None
    return pd.array(values, dtype=dtype)


def _decode_frame(node: Any, r: _Reader, where: str) -> pd.DataFrame:
    if not (isinstance(node, dict) and set(node) == {"index", "columns", "blocks"}
            and isinstance(node["blocks"], list)):
        raise BundleError(f"{where}: not a table")
    index = _decode_labels(node["index"], r, where)
    columns = _decode_labels(node["columns"], r, where)
    blocks: list[tuple[Any, np.ndarray]] = []
    seen: list[int] = []
    for b in node["blocks"]:
        if not (isinstance(b, dict) and isinstance(b.get("locs"), list) and b["locs"]
                and all(isinstance(i, int) and not isinstance(i, bool) for i in b["locs"])):
            raise BundleError(f"{where}: a malformed block")
        locs = np.asarray(b["locs"], dtype=np.intp)
        seen += b["locs"]
        if set(b) == {"locs", "array"}:
            values: Any = _array(r.read(b["array"], where), where)
            if values.shape != (len(locs), len(index)):
                raise BundleError(f"{where}: a block of the wrong shape")
        elif set(b) == {"locs", "strings"} and len(locs) == 1:
            values = _decode_strings(b["strings"], len(index), r, where)
        elif set(b) == {"locs", "arrow"} and len(locs) == 1:
            col = _table(r.read(b["arrow"], where), where)
            if list(col.columns) != ["c"] or len(col) != len(index):
                raise BundleError(f"{where}: a column of the wrong shape")
            values = col["c"].array
        else:
            raise BundleError(f"{where}: a malformed block")
        blocks.append((values, locs))
    if sorted(seen) != list(range(len(columns))):
        raise BundleError(f"{where}: blocks do not cover the columns exactly once")
    try:
        frame: pd.DataFrame = create_dataframe_from_blocks(blocks, index=index, columns=columns)
    except (ValueError, TypeError, AssertionError, IndexError) as exc:
        raise BundleError(f"{where}: inconsistent table ({exc})") from None
    return frame


def _table(data: bytes, where: str) -> pd.DataFrame:
    try:
        table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
        frame: pd.DataFrame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
        raise BundleError(f"{where}: unreadable table ({exc})") from None
    return frame


def _array(data: bytes, where: str) -> np.ndarray:
    try:
        out = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BundleError(f"{where}: unreadable array ({exc})") from None
    if not isinstance(out, np.ndarray) or out.dtype.hasobject:
        raise BundleError(f"{where}: not a plain array")
    return out


def same(a: Any, b: Any) -> bool:
    """Whether two decoded values are identical (tables with dtypes, arrays, NaN equal NaN)."""
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.dtypes.equals(b.dtypes) and a.equals(b) and (
            a.index.equals(b.index))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)
