"""The dependency rules of DESIGN.md, checked on the source: arrows point down, never sideways.

``cli -> {emulator, aws, grade, csp, bundle, targets} -> {policy, cloudfront}``, with shared
low-level pieces (``sf``, ``packaging``, ``errors``) at the bottom, and ``edge`` alone (stdlib
only: it ships to Lambda@Edge by itself). Imports are read with ``ast`` from every module of
``src/edgeshield``; an import inside a function counts for the sideways rules (it still needs the
other package at run time) and for cycles: a cycle through a deferred import is still two modules
that cannot be understood, tested or moved apart.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import edgeshield

SRC = Path(edgeshield.__file__).resolve().parent
ROOT = "edgeshield"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module (or package), dotted and absolute
    line: int
    module_level: bool  # False: inside a function or class body


def _module_name(path: Path) -> str:
    parts = [ROOT, *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _walk(node: ast.AST, module_level: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, module_level
        nested = module_level and not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        )
        # ``if TYPE_CHECKING:`` imports never run, so they make no cycle.
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            nested = False
        yield from _walk(child, nested)


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # ``from pkg import mod`` depends on pkg.mod; ``from pkg import name`` on pkg itself.
    submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in _modules()]
    return submodules if len(submodules) == len(node.names) else [base, *submodules]


@cache
def _imports() -> tuple[Import, ...]:
    found = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, module_level in _walk(tree, True):
            for target in _targets(name, path, node):
                found.append(Import(name, target, node.lineno, module_level))
    return tuple(found)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _where(imp: Import) -> str:
    return f"{imp.source} (line {imp.line}) imports {imp.target}"


def _top(module: str) -> str | None:
    """The top-level subpackage or module of edgeshield a module belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == ROOT and len(parts) > 1 else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_reader_sees_the_package() -> None:
    # Guards the guard: if parsing found nothing, every rule below would pass vacuously.
    assert len(_modules()) > 100
    edges = {(i.source, i.target) for i in _imports()}
    assert ("edgeshield.cli.app", "typer") in edges
    assert ("edgeshield.grade.analyzers.coop", "edgeshield.sf") in edges
    assert any(not i.module_level for i in _imports())


def test_edge_imports_only_itself_and_the_stdlib() -> None:
    bad = [
        _where(i)
        for i in _imports()
        if _inside(i.source, "edgeshield.edge")
        and not _inside(i.target, "edgeshield.edge")
        and i.target.split(".")[0] not in sys.stdlib_module_names
    ]
    assert bad == []


@pytest.mark.parametrize("low", ["policy", "cloudfront"])
def test_pure_core_imports_nothing_above_it(low: str) -> None:
    above = ("emulator", "aws", "grade", "csp", "cli", "targets", "bundle", "api", "testing")
    bad = [
        _where(i)
        for i in _imports()
        if _inside(i.source, f"{ROOT}.{low}")
        and any(_inside(i.target, f"{ROOT}.{name}") for name in above)
    ]
    assert bad == []


def test_emulator_does_not_import_the_cdk_side() -> None:
    bad = [
        _where(i)
        for i in _imports()
        if _inside(i.source, "edgeshield.emulator")
        and (_inside(i.target, "edgeshield.aws.cdk") or i.target.split(".")[0] == "aws_cdk")
    ]
    assert bad == []


def test_no_import_cycle_between_top_level_parts() -> None:
    graph: dict[str, set[str]] = {}
    for i in _imports():
        a, b = _top(i.source), _top(i.target)
        if a and b and a != b:
            graph.setdefault(a, set()).add(b)
    assert _cycles(graph) == []


def test_no_import_cycle_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for i in _imports():
        # A package importing its own submodules (``__init__`` re-exports) is not a cycle.
        if i.target in _modules() and not _inside(i.target, i.source):
            graph.setdefault(i.source, set()).add(i.target)
    assert _cycles(graph) == []


# grade's rooms, bottom up: what each may import from the rest of grade (its own room is always
# fine, except that analyzers stay independent of one another: one module per Observatory test).
GRADE_ROOMS: dict[str, frozenset[str]] = {
    "parse": frozenset(),
    "lists": frozenset(),
    "model": frozenset({"parse"}),
    "analyzers": frozenset({"parse", "lists", "model"}),
    "scoring": frozenset({"parse", "lists", "model", "analyzers"}),
    "scan": frozenset({"parse", "lists", "model", "analyzers", "scoring"}),
}


def _grade_room(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == [ROOT, "grade"] and len(parts) > 2 else None


def test_every_grade_module_lives_in_a_known_room() -> None:
    loose = [m for m in _modules() if _inside(m, "edgeshield.grade") and m != "edgeshield.grade"]
    assert loose, "the import reader found no grade modules"
    assert sorted(m for m in loose if _grade_room(m) not in GRADE_ROOMS) == []


def test_grade_rooms_point_down() -> None:
    bad = []
    for i in _imports():
        room, target_room = _grade_room(i.source), _grade_room(i.target)
        if room is None or target_room is None:
            continue  # outside grade, or grade/__init__ re-exporting its public names
        allowed = GRADE_ROOMS[room] | ({room} if room != "analyzers" else set())
        if target_room not in allowed:
            bad.append(_where(i))
    assert bad == []


# The emulator's rooms, bottom up. The services at its root (console, stats, logstore, pops)
# import no other part of the emulator; functions/ runs code and knows nothing of requests;
# pipeline/ is CloudFront's stages over an invoker and an origin; http/ puts the pipeline on a
# socket. The assembly at the root (config, runner, collector_route) may use every room.
EMULATOR_SERVICES = frozenset({"console", "stats", "logstore", "pops"})
EMULATOR_ROOMS: dict[str, frozenset[str]] = {
    "functions": EMULATOR_SERVICES,
    "pipeline": EMULATOR_SERVICES | {"functions"},
    "http": EMULATOR_SERVICES | {"functions", "pipeline"},
}


def _emulator_part(module: str) -> str | None:
    prefix = f"{ROOT}.emulator."
    return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else None


def test_emulator_rooms_point_down() -> None:
    bad = []
    for i in _imports():
        source, target = _emulator_part(i.source), _emulator_part(i.target)
        if source is None or target is None or source == target:
            continue
        if source in EMULATOR_SERVICES or source in EMULATOR_ROOMS:
            allowed = EMULATOR_ROOMS.get(source, frozenset())
            if target not in allowed:
                bad.append(_where(i))
    assert bad == []
