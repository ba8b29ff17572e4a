"""The code's shape, checked: no import cycle between any two modules, and no source file over 500 lines.

The layers themselves are import-linter contracts (``.importlinter``, run by ``make test``)."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan's algorithm, iterative), each a cycle of imports."""
    modules = sorted(graph.modules)
    edges = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in modules:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycles_in_the_engine_or_the_server() -> None:
    graph = grimp.build_graph("workcrew.engine", "workcrew.server", include_external_packages=False,
                              exclude_type_checking_imports=True)
    assert len(graph.modules) > 80
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert cycles(graph) == [["a.x", "a.y"]]


def test_no_source_file_is_over_500_lines() -> None:
    long = {str(path.relative_to(ROOT)): count for folder in ("engine", "server")
            for path in (ROOT / folder).rglob("*.py")
            if "builtin" not in path.parts and (count := len(path.read_text().splitlines())) > 500}
    assert long == {}


def test_every_package_is_in_the_distribution() -> None:
    """A package missing from pyproject.toml's list works from the checkout and is absent from the wheel the
    editor installs on a fresh machine (the daemon then fails to start)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(["workcrew", top, *init.parent.relative_to(ROOT / folder).parts])
        for top, folder in (("engine", "engine"), ("server", "server"))
        for init in (ROOT / folder).rglob("__init__.py")
        if "builtin" not in init.parts
    }
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
