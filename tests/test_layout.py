"""The package's layout holds (issue 11): no import circles, backends only in adapters.

The import graph is read from the source (every ``import`` and ``from ...
import`` of a ``chainaudit`` module, at module level or inside a function,
except under ``if TYPE_CHECKING:``), so a lazy import that only hides a
circle at run time is still a circle here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chainaudit

PACKAGE = Path(chainaudit.__file__).parent
BACKENDS = ("boto3", "botocore", "psycopg", "dask", "distributed")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


def _imports(tree: ast.AST) -> list[tuple[str, ast.stmt]]:
    """Every absolute import target (``module`` or ``module.name``) and its node."""
    hidden = _type_checking_nodes(tree)
    out: list[tuple[str, ast.stmt]] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(f"{node.module}.{a.name}", node) for a in node.names]
    return out


def import_graph() -> dict[str, set[str]]:
    """chainaudit module -> the chainaudit modules it imports."""
    mods = _modules()

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for target, _ in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if target.startswith("chainaudit"):
                dep = owner(target)
                if dep and dep != mod:
                    graph[mod].add(dep)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_another_in_a_circle() -> None:
    graph = import_graph()
    assert len(graph) > 100, "the graph should cover the whole package"
    assert cycles(graph) == []


def test_a_lazy_import_still_counts() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from chainaudit.x import T\n"
        "def f():\n    from chainaudit.y import g\n"
    )
    assert [t for t, _ in _imports(tree) if t.startswith("chainaudit")] == ["chainaudit.y.g"]


def test_only_store_adapters_import_a_backend_library_at_import_time() -> None:
    offenders = []
    for mod, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body}
        for target, node in _imports(tree):
            backend = target.split(".")[0] in BACKENDS
            if backend and id(node) in top_level and not mod.startswith("chainaudit.sources."):
                offenders.append(f"{mod} imports {target}")
    assert offenders == []


def test_every_folder_says_what_it_holds() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init.relative_to(PACKAGE.parent)} has no docstring"


def test_the_package_root_holds_only_the_face_and_cross_cutting_modules() -> None:
    flat = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert flat == [
        "__init__",
        "api",
        "audit",
        "distributed",
        "errors",
        "outfile",
        "sample",
        "scratch",
        "spilllist",
        "spillmap",
    ]
