"""The package's layers, read from its imports: no import points up a layer, and there is no
import cycle (including imports made inside functions).

Each subpackage of ``rjsim`` is a layer; :data:`LAYERS` lists them lowest first. A module may
import modules of its own layer and of any layer below it. The top-level ``rjsim/__init__.py``
(the Python API) and ``rjsim/__main__.py`` sit above every layer. Imports under
``if TYPE_CHECKING:`` must respect the layers too, but are not run, so they may close a cycle
(a module naming the type of its caller).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rjsim"

#: Lowest first. Keep in step with docs/developers.md ("Layout"; checked below).
LAYERS = ("core", "scenario", "data", "results", "model", "funding", "analysis", "capacity",
          "experiment", "planning", "uncertainty", "report", "regress", "app", "cli")


DEVELOPERS = PACKAGE.parent / "docs" / "developers.md"


def _modules(root: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, bool, int]]:
    """(imported rjsim module, only for type checking?, line) for every import in ``path``."""
    found: list[tuple[str, bool, int]] = []

    def resolve(base: str, names: list[str]) -> list[str]:
        out = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
        return out if len(out) == len(names) else [*out, base]

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    visit_stmt(sub, True)
                for sub in child.orelse:
                    visit_stmt(sub, typing_only)
                continue
            visit_stmt(child, typing_only)

    def visit_stmt(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((a.name, typing_only, node.lineno) for a in node.names
                         if a.name == "rjsim" or a.name.startswith("rjsim."))
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports"
            if node.module and (node.module == "rjsim" or node.module.startswith("rjsim.")):
                found.extend((m, typing_only, node.lineno)
                             for m in resolve(node.module, [a.name for a in node.names]))
        visit(node, typing_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def layer(module: str) -> int | None:
    """Rank of ``module``'s layer; None for the top-level API (``rjsim``, ``rjsim.__main__``)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] == "__main__":
        return None
    return LAYERS.index(parts[1])


def test_every_subpackage_is_a_layer_with_a_docstring() -> None:
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages == sorted(LAYERS)
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"], "modules belong in a layer's subpackage"
    for name in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "may import" in doc.lower(), \
            f"rjsim/{name}/__init__.py must say what it may import"


def upward_imports(modules: dict[str, Path]) -> list[str]:
    bad = []
    for name, path in modules.items():
        rank = layer(name)
        for target, _, line in imports(path, modules):
            to = layer(target)
            if rank is not None and (to is None or to > rank):
                bad.append(f"{path.name}:{line}: {name} "
                           f"({LAYERS[rank]}) imports {target} "
                           f"({'the top-level API' if to is None else LAYERS[to]})")
    return bad


def cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), runtime imports only."""
    graph = {n: sorted({t for t, typing_only, _ in imports(p, modules)
                        if not typing_only and t != n and t in modules and t != "rjsim"})
             for n, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_points_up_a_layer() -> None:
    assert upward_imports(_modules()) == []


def test_no_import_cycle() -> None:
    assert cycles(_modules()) == []


def _fake_package(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp_path / "rjsim" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return _modules(tmp_path / "rjsim")


def test_the_checks_catch_an_upward_import_and_a_lazy_cycle(tmp_path: Path) -> None:
    modules = _fake_package(tmp_path, {
        "__init__.py": "", "core/__init__.py": "", "model/__init__.py": "",
        "core/a.py": "def f():\n    from rjsim.model import b\n",
        "model/b.py": "from rjsim.core import a\n",
        "model/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from rjsim.model.b import X\n",
    })
    assert len(upward_imports(modules)) == 1
    assert "rjsim.core.a (core) imports rjsim.model.b (model)" in upward_imports(modules)[0]
    assert cycles(modules) == [["rjsim.core.a", "rjsim.model.b"]]


@pytest.mark.parametrize("name", LAYERS)
def test_layer_docstring_names_only_lower_layers(name: str) -> None:
    """The docstring's "may import" line lists no layer above this one."""
    doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
    line = next((ln for ln in doc.splitlines() if "may import" in ln.lower()), "")
    above = LAYERS[LAYERS.index(name) + 1:]
    assert not [w for w in above if f"``{w}``" in line], line


def documented_layers(text: str) -> list[str]:
    """The subpackages the "Layout" section's tree lists under ``rjsim/``, in order."""
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    tree = section.split("```", 2)[1]
    return re.findall(r"^  ([a-z_]+)/", tree, flags=re.MULTILINE)


def test_the_developer_docs_list_every_layer_lowest_first() -> None:
    assert documented_layers(DEVELOPERS.read_text(encoding="utf-8")) == list(LAYERS)


def test_the_layout_check_catches_a_missing_or_misplaced_layer() -> None:
    text = DEVELOPERS.read_text(encoding="utf-8")
    assert documented_layers(text.replace("\n  cli/", "\n  cli_gone")) != list(LAYERS)
    swapped = text.replace("\n  core/", "\n  TMP/").replace("\n  scenario/", "\n  core/")
    assert documented_layers(swapped.replace("\n  TMP/", "\n  scenario/")) != list(LAYERS)
