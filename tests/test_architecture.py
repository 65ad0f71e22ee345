"""The layers of docs/architecture.md hold: no import cycles between modules, and no domain
module (catalog, controls, perf, market, workspace) or service importing an interface (cli, api,
web, report).

Every import counts, at module level or inside a function (a lazy import still ties two
modules together); only ``if TYPE_CHECKING:`` blocks are left out. ``from a.b import c`` is an
edge to the module ``a.b.c`` when there is one, else to ``a.b``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chipwatch

ROOT = Path(chipwatch.__file__).parent
DOMAINS = ("catalog", "controls", "perf", "market", "workspace", "services", "jsonable")
INTERFACES = ("cli", "api", "web", "report")


def _name(path: Path) -> str:
    parts = ["chipwatch", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in ROOT.rglob("*.py")}


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> set[str]:
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in out if m in MODULES and m != module}


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
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
            strong(v)
    return out


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_the_walk_sees_the_package() -> None:
    assert "chipwatch.workspace" in GRAPH and "chipwatch.cli.perf" in GRAPH
    assert "chipwatch.workspace" in GRAPH["chipwatch.controls.classifier"]
    assert "chipwatch.services.perf" in GRAPH["chipwatch.api.perf"]


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_a_cycle_is_found() -> None:  # the checker itself works
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_domains_and_services_never_import_an_interface() -> None:
    bad = [
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        if _layer(m) in DOMAINS
        for t in targets
        if _layer(t) in INTERFACES
    ]
    assert bad == []
