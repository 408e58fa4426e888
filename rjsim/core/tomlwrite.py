"""Write plain nested dictionaries as TOML (the subset rjsim scenarios use).

The standard library reads TOML but does not write it; the resolved scenario in every results
directory is written with this, so that it can be run again as it stands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _value(v: Any) -> str:
    if type(v).__module__ == "numpy" and hasattr(v, "item"):  # numpy scalars: plain Python
        v = v.item()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _is_inline(v: Mapping[str, Any]) -> bool:
    """Distributions and small flat tables are written inline."""
    return "kind" in v or (all(not isinstance(x, Mapping) for x in v.values()) and len(v) <= 3)


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for ``data``."""
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(data: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    subtables = []
    for k, v in data.items():
        if isinstance(v, Mapping) and not (path and _is_inline(v)):
            subtables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in subtables:
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in [*path, k]) + "]")
        _table(v, [*path, k], lines)
