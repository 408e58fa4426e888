"""Read scenario files: TOML with ``extends`` overlays onto the packaged defaults.

The only module that reads scenario files. A scenario file may say ``extends = "other.toml"``
(relative to itself); the chain is merged onto ``data/defaults.toml``, later layers winning.
Tables merge key by key, except a table with a ``kind`` key (a distribution), which replaces the
earlier one whole. Every leaf remembers which file set it, so an error names that file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from rjsim.core import files
from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import to_plain
from rjsim.scenario import sweep, uncertainty_declare, uncertainty_rules
from rjsim.scenario import uncertainty as unc
from rjsim.scenario.spec import Scenario, validate

DEFAULTS_NAME = "rjsim defaults"
_MAX_CHAIN = 20
#: Largest scenario file read (real ones are a few KB).
MAX_SCENARIO_BYTES = 1024 * 1024
#: Deepest nesting of tables and arrays in a scenario file (real ones use at most 5).
MAX_DEPTH = 20


@dataclass(frozen=True)
class Layer:
    """One layer of settings and the name to blame for its values."""

    values: dict[str, Any]
    source: str
    base_dir: Path


def defaults_layer() -> Layer:
    """The packaged defaults, the bottom layer of every scenario."""
    text = resources.files("rjsim").joinpath("data/defaults.toml").read_text(encoding="utf-8")
    return Layer(tomllib.loads(text), DEFAULTS_NAME, Path.cwd())


def _read_toml(path: Path, shown: str, referrer: str | None) -> dict[str, Any]:
    where = shown if referrer is None else f"{referrer}: extends"
    try:
        raw = files.read_limited(path, MAX_SCENARIO_BYTES)
    except files.FileProblem as exc:
        raise ScenarioError([Problem(where, f"scenario file '{_short_path(shown)}' {exc}")],
                            "cannot read scenario") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (as some editors write) is fine
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(shown, f"is not UTF-8 text ({exc.reason} at byte "
                                     f"{exc.start})")], "cannot read scenario") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem(shown, f"is not valid TOML: {exc}")],
                            "cannot read scenario") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise ScenarioError([Problem(shown, "has a whole number too long to read (at most "
                                     "4300 digits; no setting needs more than 20)")],
                            "cannot read scenario") from None
    except RecursionError:
        raise ScenarioError([Problem(shown, f"nests arrays or tables too deeply (at most "
                                     f"{MAX_DEPTH} levels)")], "cannot read scenario") from None
    deepest = _depth(values)
    if deepest > MAX_DEPTH:
        raise ScenarioError([Problem(shown, f"nests arrays or tables {deepest} levels deep; at "
                                     f"most {MAX_DEPTH} are allowed")], "cannot read scenario")
    return values


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short_path(text: str, limit: int = 80) -> str:
    """A long path cut at its start, so the file's own name stays in the message."""
    return text if len(text) <= limit else "..." + text[-(limit - 3):]


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and tables (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(node, Mapping):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def file_layers(path: Path | str) -> list[Layer]:
    """Layers from the ``extends`` chain ending at ``path``, base first."""
    chain: list[Layer] = []
    seen: list[Path] = []
    current, shown, referrer = Path(path), str(path), None
    while True:
        try:
            resolved = files.resolve(current)
        except files.FileProblem as exc:
            where = shown if referrer is None else f"{referrer}: extends"
            raise ScenarioError([Problem(where, f"cannot read scenario file "
                                                f"'{_short_path(shown)}': {exc}")],
                                "cannot read scenario") from None
        if resolved in seen:
            raise ScenarioError([Problem(shown, "'extends' chain loops back to this file")],
                                "cannot read scenario")
        if len(seen) >= _MAX_CHAIN:
            raise ScenarioError([Problem(shown, f"'extends' chain longer than {_MAX_CHAIN}")],
                                "cannot read scenario")
        seen.append(resolved)
        values = _read_toml(current, shown, referrer)
        parent = values.pop("extends", None)
        chain.append(Layer(values, shown, resolved.parent))
        if parent is None:
            break
        if not isinstance(parent, str):
            raise ScenarioError([Problem(f"{shown}: extends", "must be a file name (a string)",
                                         repr(parent))], "cannot read scenario")
        referrer, current = shown, resolved.parent / parent
        shown = str(Path(shown).parent / parent)
    return list(reversed(chain))


def _is_value_table(value: Any) -> bool:
    return isinstance(value, Mapping) and "kind" in value


def merge(layers: list[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge layers (base first); return the values and, per dotted key path, its source."""
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def put(target: dict[str, Any], values: Mapping[str, Any], prefix: str, source: str) -> None:
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else key
            origins[path] = source
            if (isinstance(value, Mapping) and not _is_value_table(value)
                    and isinstance(target.get(key), dict)):
                put(target[key], value, path, source)
            else:
                old = target.get(key)
                if isinstance(old, Mapping):  # a replaced table's old keys no longer come
                    _unmark(old, path, origins)  # from there
                target[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
                _mark(value, path, source, origins)

    for layer in layers:
        put(merged, layer.values, "", layer.source)
    return merged, origins


def _mark(value: Any, path: str, source: str, origins: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            origins[f"{path}.{key}"] = source
            _mark(sub, f"{path}.{key}", source, origins)


def _unmark(value: Mapping[str, Any], path: str, origins: dict[str, str]) -> None:
    for key, sub in value.items():
        origins.pop(f"{path}.{key}", None)
        if isinstance(sub, Mapping):
            _unmark(sub, f"{path}.{key}", origins)


def origin_of(origins: Mapping[str, str], fallback: str) -> Any:
    """An ``Origin`` that names the file which set the longest known prefix of a key path."""
    def origin(path: str) -> str:
        probe = path
        while probe:
            if probe in origins:
                return f"{origins[probe]}: {path}"
            probe = probe.rpartition(".")[0]
        return f"{fallback}: {path}" if path else fallback
    return origin


def _resolve_data_path(merged: dict[str, Any], origins: Mapping[str, str],
                       layers: list[Layer]) -> None:
    areas = merged.get("areas")
    if not isinstance(areas, dict):
        return  # reported by validation
    data = areas.get("data")
    if not isinstance(data, str) or not data:
        return  # anything else is reported by validation
    setter = origins.get("areas.data")
    base = next((la.base_dir for la in layers if la.source == setter), Path.cwd())
    try:
        areas["data"] = str(files.resolve(base / data))
    except files.FileProblem as exc:
        raise ScenarioError([Problem(f"{setter or DEFAULTS_NAME}: areas.data", f"cannot use "
                                     f"this path: {exc}", _short(repr(data)))],
                            "invalid scenario") from None


def _layers(path: Path | str, overrides: Mapping[str, Any] | None,
            overrides_source: str) -> tuple[list[Layer], Any, dict[str, str]]:
    """The layers of a file, with any ``[sweep]`` table taken out (the last one wins) and any
    ``[uncertainty]`` table left out (see :func:`load_uncertainty`)."""
    layers = _all_layers(path, overrides, overrides_source)
    spec, origins = None, {}
    stripped = []
    for layer in layers:
        values = dict(layer.values)
        values.pop("uncertainty", None)
        if "sweep" in values:
            spec = values.pop("sweep")
            origins = {"sweep": layer.source}
        stripped.append(Layer(values, layer.source, layer.base_dir))
    return stripped, spec, origins


def _all_layers(path: Path | str, overrides: Mapping[str, Any] | None,
                overrides_source: str) -> list[Layer]:
    layers = [defaults_layer(), *file_layers(path)]
    if overrides:
        layers.append(Layer(dict(overrides), overrides_source, Path.cwd()))
    return layers


def _uncertainty_table(layers: list[Layer]) -> tuple[dict[str, Any] | None, dict[str, str],
                                                      Path]:
    """The ``[uncertainty]`` tables of the layers merged key by key (later layers win), where
    each key was set, and the directory of the file that set ``sample_file``."""
    found = [Layer({"uncertainty": la.values["uncertainty"]}, la.source, la.base_dir)
             for la in layers if "uncertainty" in la.values]
    if not found:
        return None, {}, Path.cwd()
    merged, origins = merge(found)
    setter = origins.get("uncertainty.sample_file")
    base = next((la.base_dir for la in found if la.source == setter), Path.cwd())
    return merged["uncertainty"], origins, base


def load_uncertainty(path: Path | str, overrides: Mapping[str, Any] | None = None,
                     overrides_source: str = "command line",
                     settings_overrides: Mapping[str, Any] | None = None
                     ) -> tuple[Scenario, unc.Declaration]:
    """A scenario file and its ``[uncertainty]`` declaration (the defaults of
    :class:`~rjsim.scenario.uncertainty.UncertaintySettings` when it has none), validated
    together: every problem of either is reported at once. ``settings_overrides`` replaces
    fields of the table (e.g. ``samples`` from the command line)."""
    scenario = load(path, overrides, overrides_source)
    raw, origins, base = _uncertainty_table(_all_layers(path, overrides, overrides_source))
    raw = dict(raw or {})
    for key, value in (settings_overrides or {}).items():
        raw[key] = value
        origins[f"uncertainty.{key}"] = overrides_source
    origin = origin_of(origins, str(path))
    settings = unc.parse_settings(raw, origin)
    if settings.sample_file:
        settings = replace(settings, sample_file=str((base / settings.sample_file).resolve()))
    return scenario, uncertainty_declare.declare(scenario, settings, origin)


def load(path: Path | str, overrides: Mapping[str, Any] | None = None,
         overrides_source: str = "command line") -> Scenario:
    """Load, merge and validate a scenario file (plus optional overrides, e.g. from the CLI).

    A file with a ``[sweep]`` is refused here: use :func:`load_variants`.
    """
    layers, spec, _ = _layers(path, overrides, overrides_source)
    if spec is not None:
        raise ScenarioError([Problem(f"{path}: sweep", "this file declares a sweep of several "
                                     "scenarios; run it with 'rjsim run' or load it with "
                                     "rjsim.load_variants")], "cannot load a sweep as one scenario")
    return _validate_layers(layers, str(path))


def load_variants(path: Path | str, overrides: Mapping[str, Any] | None = None,
                  overrides_source: str = "command line") -> list[tuple[sweep.Point | None,
                                                                        Scenario]]:
    """The scenario of a file, or one per point of its ``[sweep]``, all validated (every
    problem of every point reported together)."""
    layers, spec, origins = _layers(path, overrides, overrides_source)
    if spec is None:
        scenario = _validate_layers(layers, str(path))
        if _uncertainty_table(_all_layers(path, overrides, overrides_source))[0] is not None:
            load_uncertainty(path, overrides, overrides_source)  # its problems, if any
        return [(None, scenario)]
    base = _validate_layers(layers, str(path))
    units = {r["key"]: r["unit"] for r in uncertainty_rules.assumptions_log()}
    found, problems = sweep.points(spec, origin_of(origins, str(path)), units)
    if len(base.name) > 75:
        problems.append(Problem(f"{path}: name", "a sweep's name must be at most 75 characters "
                                "(each point adds '-pNNN')", base.name))
        found = []
    out: list[tuple[sweep.Point | None, Scenario]] = []
    for point in found:
        layer = Layer(point.as_layer(base.name, base.title), f"{path} [sweep point {point.tag}: "
                      f"{_short(point.label)}]", Path.cwd())
        try:
            out.append((point, _validate_layers([*layers, layer], str(path))))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems, "invalid sweep")
    return out


def from_dict(values: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Build a scenario from a dictionary laid over the defaults (for the Python API and tests)."""
    layers = [defaults_layer(), Layer(dict(values), source, Path.cwd())]
    return _validate_layers(layers, source)


def _validate_layers(layers: list[Layer], fallback: str) -> Scenario:
    merged, origins = merge(layers)
    _resolve_data_path(merged, origins, layers)
    if merged.get("name") == "defaults" and origins.get("name") == DEFAULTS_NAME:
        # an unnamed scenario is named after its file (made safe for a directory name)
        merged["name"] = re.sub(r"[^A-Za-z0-9_.-]", "", Path(fallback).stem).lstrip(".-") or \
            "scenario"
    if origins.get("title", DEFAULTS_NAME) not in (DEFAULTS_NAME, origins.get("name")):
        merged["title"] = ""  # a title names one scenario: not inherited by one extending it
    return validate(merged, origin_of(origins, fallback))


def with_overrides(scenario: Scenario, **sections: Mapping[str, Any]) -> Scenario:
    """A new scenario with some sections' fields replaced (the original is untouched)."""
    out = scenario
    for section, changes in sections.items():
        out = replace(out, **{section: replace(getattr(out, section), **changes)})
    return out


def fingerprint(scenario: Scenario, area_data_digest: str) -> str:
    """A stable SHA-256 of the resolved scenario and the area data it reads."""
    plain = to_plain(scenario)
    plain["areas"].pop("data", None)  # the data's content counts, not where it lives
    text = json.dumps(plain, sort_keys=True, separators=(",", ":")) + area_data_digest
    return hashlib.sha256(text.encode()).hexdigest()
