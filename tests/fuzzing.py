"""Input generators and checks shared by the fuzz tests (``tests/test_fuzz.py``, bounded, part of
``make test``) and the long campaign (``tests/fuzz_campaign.py``, ``make fuzz``).

Scenario files are mutations of the shipped scenarios (keys set to hostile values, deleted or
invented, distributions replaced, the text itself damaged); area CSVs are mutations of the
packaged data (cells, columns, rows, bytes). Every input is run through ``rjsim validate`` in
this process under an alarm, and classified: ``ok`` (exit 0), ``error`` (exit 2),
``traceback`` (any other outcome or exception) or ``hang`` (the alarm fired).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import signal
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

from rjsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
PACKAGED_CSV = (ROOT / "rjsim" / "data" / "force_areas_2024_25.csv").read_text(encoding="utf-8")
DEFAULTS = tomllib.loads((ROOT / "rjsim" / "data" / "defaults.toml").read_text(encoding="utf-8"))


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    return out


#: Every key path of the defaults (where a mutation hurts most), plus invented ones.
KEY_PATHS = [*_paths(DEFAULTS), ("sweep", "values", "run.years"), ("sweep", "mode"),
             ("extends",), ("areas", "data"), ("nonsense",),
             ("funding", "area_budget_gbp", "E23000036"),
             ("funding", "area_fte", "W15000002", "general"), ("funding", "shares", "E23000036")]
KINDS = ["fixed", "exponential", "gamma", "lognormal", "never", "weibull", ""]
PARAMS = ["value", "mean", "cv", "median", "sigma", "shape"]
RULES = ["current", "population", "recorded_crime", "eligible_demand", "floor_plus", "shares",
         "column", "bogus"]


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


#: Leaf paths holding numbers (for mutations that keep the structure valid).
NUMBER_PATHS = [p for p in _paths(DEFAULTS) if isinstance(_get(DEFAULTS, p), int | float)
                and not isinstance(_get(DEFAULTS, p), bool)]

hostile_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1, 2, 7, 365, 2**31, 2**63, 2**64, 10**18, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-300, 1e-200, 1e-3, 0.5, 0.999, 1.0, 1e8, 1e9, 1e12, 1e15, 1e308, -0.0,
                     4.6e18]),
)
hostile_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "\x00", "x" * 300, "../../nowhere.toml", "/dev/zero", "/dev/null",
                     "=1+1", "nan", "2024-02-30", "2025-04-01", "Gwent", "E23000036",
                     "baseline.toml", "statutory_right.toml", *KINDS, *RULES, "grid", "zip"]),
)
scalars = st.one_of(hostile_numbers, hostile_text, st.booleans(),
                    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
keys = st.one_of(st.sampled_from([p[-1] for p in KEY_PATHS]), st.text(min_size=1, max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=8)
distributions = st.builds(
    lambda kind, params: {"kind": kind, **params}, st.sampled_from(KINDS),
    st.dictionaries(st.sampled_from(PARAMS), hostile_numbers, max_size=3))


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, tuple[str, ...], Any]:
    """One change to a scenario: set, delete, or replace with a distribution."""
    op = draw(st.sampled_from(["set", "set", "delete", "distribution", "number"]))
    if op == "number":
        return "set", draw(st.sampled_from(NUMBER_PATHS)), draw(hostile_numbers)
    path = draw(st.sampled_from(KEY_PATHS))
    if op == "distribution":
        return "set", path, draw(distributions)
    return op, path, draw(values) if op == "set" else None


def apply(base: dict[str, Any], changes: list[tuple[str, tuple[str, ...], Any]]
          ) -> dict[str, Any]:
    """``base`` with the changes made (parents created where missing or not tables)."""
    out = tomllib.loads(tomli_w.dumps(base))  # a deep copy
    for op, path, value in changes:
        node = out
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if op == "delete":
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return out


def dumps(data: dict[str, Any]) -> str | None:
    """TOML text of ``data``, or ``None`` when TOML cannot express it."""
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return None


@st.composite
def damaged_text(draw: st.DrawFn, text: str) -> bytes:
    """``text`` as bytes, possibly damaged: bytes inserted, a slice deleted, cut short, a BOM."""
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["insert", "delete", "truncate", "bom", "line"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 20)):]
        elif op == "truncate":
            data = data[:at]
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        else:
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join([*lines[:i], lines[i], *lines[i:]])
    return data


@st.composite
def scenario_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, bytes): a shipped scenario with mutations, possibly damaged as text."""
    source = draw(st.sampled_from(SCENARIOS))
    base = tomllib.loads(source.read_text(encoding="utf-8"))
    changed = apply(base, draw(st.lists(mutation(), min_size=1, max_size=4)))
    taken, first = draw(structural())
    if taken is not None:
        changed.pop(taken, None)
    text = first + (dumps(changed) or source.read_text(encoding="utf-8"))
    damage = draw(st.booleans())
    return source.name, draw(damaged_text(text)) if damage else text.encode("utf-8")


SECTIONS = [k for k in DEFAULTS if isinstance(DEFAULTS[k], dict)]
SCALAR_PATHS = [".".join(p) for p in NUMBER_PATHS] + ["name", "description"]


@st.composite
def structural(draw: st.DrawFn) -> tuple[str | None, str]:
    """(a top-level key to take out of the file, TOML to put first instead): the shapes that
    once broke the reader (a section as a plain value, deep nesting, huge integers, long or
    odd paths, sweep keys under plain values)."""
    kind = draw(st.sampled_from(["none", "none", "section", "deep", "digits", "extends",
                                 "path", "sweep"]))
    if kind == "section":
        section = draw(st.sampled_from(SECTIONS))
        return section, f"{section} = " + draw(st.sampled_from(
            ["1", '"x"', "[1, 2]", "true", "1979-05-27", "nan"])) + "\n"
    if kind == "deep":
        n = draw(st.integers(1, 1500))
        return None, f"deep = {'[' * n}{']' * n}\n"
    if kind == "digits":
        return "run", f"run = {{ seed = {'9' * draw(st.integers(15, 6000))} }}\n"
    if kind == "extends":
        name = draw(st.sampled_from(["x" * draw(st.integers(1, 400)), "a\\u0000b", "/dev/zero",
                                     ".", "..", "/", "baseline.toml"]))
        return "extends", f'extends = "{name}"\n'
    if kind == "path":
        name = draw(st.sampled_from(["x" * 300, "a\\u0000b.csv", "/dev/zero", "/dev/null", ".",
                                     "/", "missing.csv"]))
        return "areas", f'areas = {{ data = "{name}" }}\n'
    if kind == "sweep":
        key = draw(st.sampled_from(SCALAR_PATHS)) + draw(st.sampled_from(["", ".x", ".x.y"]))
        other = draw(st.sampled_from(SCALAR_PATHS))
        mode = draw(st.sampled_from(["grid", "zip", "other"]))
        values = draw(st.sampled_from(["[1]", "[]", "3", "[0.5, 2]"]))
        return "sweep", (f'sweep = {{ mode = "{mode}", values = {{ "{key}" = [1, 2], '
                         f'"{other}" = {values} }} }}\n')
    return None, ""


@st.composite
def area_csv(draw: st.DrawFn) -> tuple[bytes, str]:
    """(CSV bytes, scenario text using it): the packaged data mutated."""
    rows = list(csv.reader(io.StringIO(PACKAGED_CSV)))
    cell_text = st.one_of(hostile_text, hostile_numbers.map(str))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop_column", "add_column",
                                   "drop_row", "duplicate_row", "header", "all_column"]))
        r = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        c = draw(st.integers(0, max(len(rows[0]) - 1, 0)))
        if op == "cell" and rows[r:]:
            rows[r][c:c + 1] = [draw(cell_text)]
        elif op == "all_column":
            value = draw(cell_text)
            for row in rows[1:]:
                row[c:c + 1] = [value]
        elif op == "drop_column":
            rows = [row[:c] + row[c + 1:] for row in rows]
        elif op == "add_column":
            rows = [rows[0] + [draw(st.sampled_from(["w", "rj_budget_gbp", "victims_hate"]))]
                    ] + [[*row, draw(cell_text)] for row in rows[1:]]
        elif op == "drop_row" and len(rows) > 1:
            del rows[r]
        elif op == "duplicate_row" and len(rows) > 1:
            rows.insert(r, list(rows[r]))
        elif op == "header" and rows:
            rows[0][c:c + 1] = [draw(hostile_text)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = draw(damaged_text(buf.getvalue())) if draw(st.booleans()) else buf.getvalue().encode()
    rule = draw(st.sampled_from(RULES[:-1]))
    column = draw(st.sampled_from(["w", "rj_budget_gbp", "census2021_population", "nope"]))
    include = draw(st.sampled_from(['[]', '["Gwent"]', '["E23000036", "W15000002"]']))
    extra = ('shares = { W15000002 = 1.0 }\n' if rule == "shares" else "") + (
        "floor_gbp = 100000\n" if rule == "floor_plus" else "")
    text = (f'name = "fuzz_areas"\n[areas]\ndata = "areas.csv"\ninclude = {include}\n'
            f'[funding]\nallocation = "{rule}"\nallocation_column = "{column}"\n{extra}')
    return data, text


@st.composite
def runnable_scenario(draw: st.DrawFn) -> str:
    """A shipped scenario with number and distribution mutations, made short (a quarter year,
    one replication, one or two areas), for the check that a valid file also runs."""
    source = draw(st.sampled_from(SCENARIOS))
    base = tomllib.loads(source.read_text(encoding="utf-8"))
    base.pop("extends", None)
    changes = draw(st.lists(st.one_of(
        st.tuples(st.just("set"), st.sampled_from(NUMBER_PATHS), hostile_numbers),
        st.tuples(st.just("set"), st.sampled_from(NUMBER_PATHS), st.sampled_from(
            [0, 0.01, 0.5, 1, 2, 30, 365, 3650, 1e4, 1e6])),
        st.tuples(st.just("set"), st.sampled_from(
            [("service", "patience"), ("service", "window"), ("demand", "referral_delay"),
             ("stages", "assessment", "duration"), ("stages", "preparation", "duration")]),
            distributions)), min_size=1, max_size=4))
    changed = apply(base, changes)
    changed.setdefault("run", {}).update({"years": 0.25, "replications": 1, "warmup_days": 0})
    changed.setdefault("areas", {})["include"] = draw(st.sampled_from(
        [["Gwent"], ["Dyfed-Powys", "E23000036"]]))
    changed.pop("sweep", None)
    return dumps(changed) or source.read_text(encoding="utf-8")


# --- running and classifying ------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str  # ok, error, traceback, hang
    detail: str = ""


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def stop(*_: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")
    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(args: list[str], seconds: int) -> Outcome:
    """``rjsim ARGS`` in this process, classified."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with alarm(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(args)
            except SystemExit as exc:
                status = int(exc.code or 0)
    except TimeoutError:
        return Outcome("hang", " ".join(args))
    except BaseException:
        return Outcome("traceback", traceback.format_exc())
    text = out.getvalue() + err.getvalue()
    if "Traceback" in text:
        return Outcome("traceback", text)
    if status == 0:
        return Outcome("ok", text)
    if status == 2:
        return Outcome("error", text)
    return Outcome("traceback", f"exit status {status}: {text}")


def prepare_scenarios(folder: Path) -> None:
    """The shipped scenarios in ``folder`` (mutated files may extend them)."""
    for source in SCENARIOS:
        (folder / source.name).write_bytes(source.read_bytes())
