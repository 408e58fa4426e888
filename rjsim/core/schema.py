"""Turn plain nested dictionaries (parsed TOML) into frozen, typed dataclasses.

A tiny, generic validator so that :mod:`rjsim.scenario.spec` can declare its schema once, as
dataclasses with type hints and field metadata, and get for free: unknown-key errors with a
"did you mean", type checks, numeric bounds and choices, and *every* problem reported together
with its key path. No I/O here; the caller says where each key came from through ``origin``.

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``, string enums
(``enum.StrEnum``: the TOML string must be one of its values), ``X | None`` (``None`` only as a
default: TOML has no null), ``tuple[str, ...]``, tuples of dataclasses (arrays of tables),
``FrozenMap[X]`` (or ``dict[str, X]``) and nested dataclasses. Field metadata keys: ``min``,
``max``, ``gt`` (strict lower bound), ``lt``, ``doc``, and ``check``: a function
``(value, path, origin) -> list[Problem]`` for rules on one field (run even when other fields
are wrong, so every problem is reported). A dataclass with a ``check(path, origin) ->
list[Problem]`` method gets it called once it is built, for rules that span its fields. Tables
become :class:`FrozenMap`, so a validated object cannot be changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import operator
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import numpy as np

from rjsim.core.errors import MAX_SHOWN, Problem

T = TypeVar("T")
V = TypeVar("V")

#: Maps a dotted key path to a human location, e.g. ``"right.toml: funnel.informed"``.
Origin = Callable[[str], str]

_MISSING = object()

#: Field metadata for a probability.
PROBABILITY = {"min": 0.0, "max": 1.0}


def setting(doc: str, **meta: Any) -> Any:
    """A required field with its documentation, bounds and rules (its value comes from the
    packaged defaults, never from code)."""
    return dataclasses.field(metadata={"doc": doc, **meta})


class FrozenMap(dict[str, V]):
    """A read-only dict of settings by name (``FrozenMap[float]``: numbers by area code, say):
    validated settings cannot be changed, yet still pickle (for process and cluster executors)
    and compare like dicts. A scenario field declared ``FrozenMap[X]`` (or ``dict[str, X]``)
    is read from a TOML table whose values are ``X``."""

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise TypeError("validated scenario settings are read-only; build a new scenario")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:  # a plain dict inside: no __setitem__ on load
        return (FrozenMap, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))


def did_you_mean(word: str, allowed: typing.Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed word, or ``""``."""
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def build(
    cls: type[T], data: Any, path: str, origin: Origin, problems: list[Problem]
) -> T | None:
    """Build dataclass ``cls`` from ``data``, appending every problem found to ``problems``.

    Returns ``None`` when any problem was found inside this value (the caller keeps going so
    that all problems are collected).
    """
    if not isinstance(data, Mapping):
        problems.append(Problem(origin(path), f"must be a table of {cls.__name__} settings",
                                _show(data)))
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    before = len(problems)
    for key in data:
        if key not in fields:
            # suggestions only for problems that will be shown (difflib is slow)
            hint = did_you_mean(key, fields) if len(problems) < MAX_SHOWN else ""
            problems.append(Problem(
                origin(_join(path, key)),
                f"unknown key '{key}'{hint}; allowed keys here: " + ", ".join(sorted(fields))))
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        sub = _join(path, name)
        if name in data:
            value = convert(hints[name], data[name], sub, origin, problems, field.metadata)
            if value is not _MISSING:
                rule = field.metadata.get("check")
                found = rule(value, sub, origin) if rule is not None else []
                problems.extend(found)
                kwargs[name] = value
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            problems.append(Problem(origin(sub), f"is required ({_doc(field)})"))
    if len(problems) > before:
        return None
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if callable(check):  # a section's own cross-field rules, e.g. Distribution.check
        found = check(path, origin)
        if found:
            problems.extend(found)
            return None
    return obj


def _doc(field: dataclasses.Field[Any]) -> str:
    return str(field.metadata.get("doc", field.name))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert(
    hint: Any, value: Any, path: str, origin: Origin, problems: list[Problem],
    meta: Mapping[str, Any] | None = None,
) -> Any:
    """Convert one value to ``hint``; on failure append a problem and return a sentinel."""
    meta = meta or {}
    o = typing.get_origin(hint)
    args = typing.get_args(hint)
    if o in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], value, path, origin, problems, meta)
    if o is typing.Literal:
        return value if _one_of(args, value, path, origin, problems) else _MISSING
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        choices = tuple(m.value for m in hint)
        return hint(value) if _one_of(choices, value, path, origin, problems) else _MISSING
    if o is tuple and args and dataclasses.is_dataclass(args[0]):
        return _convert_tables(args[0], value, path, origin, problems)
    if o is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(origin(path), "must be a list of strings", _show(value)))
            return _MISSING
        return tuple(value)
    if o is dict or o is FrozenMap:  # keys are TOML keys (str); the last argument: values
        return _convert_dict(args[-1], value, path, origin, problems, meta)
    if dataclasses.is_dataclass(hint):
        built = build(hint, value, path, origin, problems)  # type: ignore[arg-type]
        return _MISSING if built is None else built
    return _convert_scalar(hint, value, path, origin, problems, meta)


def _one_of(choices: tuple[Any, ...], value: Any, path: str, origin: Origin,
            problems: list[Problem]) -> bool:
    if value in choices:
        return True
    problems.append(Problem(origin(path), "must be one of " + ", ".join(
        repr(c) for c in choices) + (did_you_mean(value, choices) if isinstance(value, str)
                                     else ""), _show(value)))
    return False


def _convert_tables(hint: Any, value: Any, path: str, origin: Origin,
                    problems: list[Problem]) -> Any:
    """An array of tables (TOML ``[[...]]`` or a list of inline tables)."""
    if not isinstance(value, list | tuple):
        problems.append(Problem(origin(path), "must be a list of tables", _show(value)))
        return _MISSING
    before = len(problems)
    out = [build(hint, item, f"{path}[{i}]", origin, problems) for i, item in enumerate(value)]
    return _MISSING if len(problems) > before else tuple(out)


def _convert_dict(
    hint: Any, value: Any, path: str, origin: Origin, problems: list[Problem],
    meta: Mapping[str, Any],
) -> Any:
    if not isinstance(value, Mapping):
        problems.append(Problem(origin(path), "must be a table", _show(value)))
        return _MISSING
    out: dict[str, Any] = {}
    before = len(problems)
    for key, item in value.items():
        converted = convert(hint, item, _join(path, str(key)), origin, problems, meta)
        if converted is not _MISSING:
            out[str(key)] = converted
    return _MISSING if len(problems) > before else FrozenMap(out)


def _convert_scalar(
    hint: Any, value: Any, path: str, origin: Origin, problems: list[Problem],
    meta: Mapping[str, Any],
) -> Any:
    where = origin(path)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(Problem(where, "must be true or false", _show(value)))
            return _MISSING
        return value
    if hint is str:
        if isinstance(value, dt.date):  # a TOML date, e.g. start_date = 2025-04-01
            return value.isoformat()
        if not isinstance(value, str):
            problems.append(Problem(where, "must be a string", _show(value)))
            return _MISSING
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(where, "must be a whole number", _show(value)))
            return _MISSING
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(where, "must be a number", _show(value)))
            return _MISSING
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(Problem(where, "must be a finite number", _show(value)))
            return _MISSING
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"schema: unsupported type {hint!r} at {path}")
    return value if _in_bounds(value, where, meta, problems) else _MISSING


#: The largest value of any number setting without its own upper bound: far above any real
#: budget, count or duration, low enough that no loop or allocation it drives can run away.
DEFAULT_MAX = 1e12


def _in_bounds(value: float, where: str, meta: Mapping[str, Any], problems: list[Problem]) -> bool:
    if "max" not in meta and "lt" not in meta:
        meta = {**meta, "max": DEFAULT_MAX}
    checks = [("min", operator.ge, "at least"), ("max", operator.le, "at most"),
              ("gt", operator.gt, "greater than"), ("lt", operator.lt, "less than")]
    for key, ok, _ in checks:
        if key in meta and not ok(value, meta[key]):
            bounds = ", ".join(f"{w} {_bound(meta[k])}" for k, _, w in checks if k in meta)
            problems.append(Problem(where, f"must be {bounds}", _show(value)))
            return False
    return True


def _bound(b: float) -> str:
    return f"{b:g}" if isinstance(b, float) and abs(b) >= 1e6 else str(b)


def to_plain(obj: Any) -> Any:
    """Turn a (nested) dataclass back into plain dicts/lists, dropping ``None`` values; NumPy
    scalars (e.g. FTE a planner computed) become the Python numbers they hold.

    Used to write the resolved scenario as TOML (``tomli_w.dumps(to_plain(scenario))``) or
    JSON and to fingerprint it.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if getattr(obj, f.name) is not None}
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):  # e.g. a distribution's kind: its value as written
        return obj.value
    if isinstance(obj, np.generic):  # np.float64 is a float, but np.int64 and np.bool_ are not
        return obj.item()
    return obj
