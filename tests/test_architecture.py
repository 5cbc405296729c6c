"""The layers, read from the source: no import circles among the project's modules, the core
(``handlers``) free of the bot and of platform SDKs, storage free of both, and handlers that
reach their services through the Context, never through the Core.

Imports under ``if TYPE_CHECKING:`` count like any other: they cost nothing at run time, but
they are still one module knowing another, and the circles this test guards against (the
sender typed with the whole App, the Context with the Core) were made of exactly such imports.
Imports inside functions count too (a lazy import is a dependency all the same)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage")
SDKS = ("telegram", "nio", "aiohttp", "apscheduler", "prometheus_client")
"""What only the bot's side may use: the platforms' libraries and the process's machinery."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from a import b`` also counts ``a.b``,
    which is kept only when it is a module of the project)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def project_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports (a package's ``__init__`` only when named)."""
    files = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        graph[module] = {name for name in imported(path, module) if name in files and name != module}
        graph[module] -= {name for name in graph[module] if name in PACKAGES}  # `from handlers import x`
    return graph


def external_imports(package: str) -> dict[str, set[str]]:
    return {
        module_name(path): imported(path, module_name(path)) for path in (ROOT / package).rglob("*.py")
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    graph = project_graph()
    assert {"handlers.core", "bot.app", "storage.db", "storage.migrations.env"} <= set(graph)
    assert "handlers.services" in graph["handlers.core"] and "storage.db" in graph["handlers.services"]
    assert "handlers.services" in graph["handlers.context"]  # an import under TYPE_CHECKING
    assert {"bot.delivery", "bot.router", "bot.hub"} <= graph["bot.app"]


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_core_imports_neither_the_bot_nor_a_platform() -> None:
    offending = {
        module: sorted(name for name in names if name.split(".")[0] in ("bot", *SDKS))
        for module, names in external_imports("handlers").items()
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_storage_imports_neither_handlers_nor_the_bot() -> None:
    offending = {
        module: sorted(name for name in names if name.split(".")[0] in ("bot", "handlers", *SDKS))
        for module, names in external_imports("storage").items()
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_handlers_reach_their_services_through_the_context_not_the_core() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reaches = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "core"
            and isinstance(node.value, ast.Name) and node.value.id == "ctx"
        ]
        assert not reaches, f"{path.relative_to(ROOT)} uses ctx.core on lines {reaches}"
        assert "ctx.core" not in path.read_text(encoding="utf-8"), path
    handler_modules = [p for p in (ROOT / "handlers").glob("*.py") if p.stem not in ("core", "__init__")]
    assert not [p.name for p in handler_modules if "handlers.core" in imported(p, module_name(p))]
