"""Imports point one way: the import graph of `protoprimer_harness/` and `protoprimer/`, built from the
source with `ast`, has no cycle.

Every `import` and `from ... import` statement that can run is an edge, wherever it stands: at module
level, inside a function (a late import is still a dependency: it only moves the failure to the first
call), under `if` or `try`. The one exception is the body of `if TYPE_CHECKING:`, which never runs (its
names exist only for type checkers, so nothing can use them at run time). `from PKG import NAME` is an
edge to the submodule `PKG.NAME` when there is one, else to `PKG`. Imports of modules outside the scanned
packages are ignored, and so are imports by string (`importlib.import_module`): a module that needs
another at run time names it in an import statement.
"""

import ast
import os
import textwrap
from typing import Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ("protoprimer_harness", "protoprimer")

# module -> {imported module: (file, line) of the first import statement}
Graph = Dict[str, Dict[str, Tuple[str, int]]]


def package_modules(root: str, package: str) -> Dict[str, Tuple[str, bool]]:
    """module name -> (file, is a package) for every .py file under root/package."""
    modules = {}
    for directory, dir_names, file_names in os.walk(os.path.join(root, package)):
        dir_names[:] = sorted(name for name in dir_names if name != "__pycache__")
        for name in sorted(file_names):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            is_package = parts[-1] == "__init__"
            modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _statements(tree: ast.AST):
    """Every node of `tree` that can run (all but the bodies of `if TYPE_CHECKING:`)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if _is_type_checking(node):
            pending.append(node.test)
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def _imported(node: ast.AST, module: str, is_package: bool, known: Dict[str, Tuple[str, bool]]) -> List[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = base + ("." + node.module if node.module else "")
    else:
        source = node.module or ""
    submodules = [source + "." + alias.name for alias in node.names if source + "." + alias.name in known]
    attributes = len(submodules) < len(node.names)
    return submodules + ([source] if attributes else [])


def import_graph(root: str, packages: Tuple[str, ...]) -> Graph:
    """The import edges between the modules of `packages` (directories under `root`)."""
    known: Dict[str, Tuple[str, bool]] = {}
    for package in packages:
        known.update(package_modules(root, package))
    graph: Graph = {}
    for module, (path, is_package) in sorted(known.items()):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        edges = graph.setdefault(module, {})
        for node in _statements(tree):
            for target in _imported(node, module, is_package, known):
                if target in known and target != module:
                    place = (os.path.relpath(path, root), node.lineno)
                    edges[target] = min(edges.get(target, place), place)
    return graph


def _strongly_connected(graph: Graph) -> List[List[str]]:
    """Tarjan's components of more than one module, each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
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
    return sorted(found)


def _cycle_through(graph: Graph, component: List[str]) -> List[str]:
    """One cycle (a path from the component's first module back to it) inside `component`."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node]):
            if nxt == start:
                return paths[node] + [start]
            if nxt in members and nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError("no cycle through %s" % start)  # a strongly connected component always has one


def import_cycles(graph: Graph) -> List[str]:
    """Each cycle, named: its modules in import order and, for each hop, the import statement's place."""
    reports = []
    for component in _strongly_connected(graph):
        cycle = _cycle_through(graph, component)
        hops = ["  %s:%d imports %s" % (graph[a][b] + (b,)) for a, b in zip(cycle, cycle[1:])]
        reports.append("%s\n%s" % (" -> ".join(cycle), "\n".join(hops)))
    return reports


# --- the packages -----------------------------------------------------------------------------------


def test_the_harness_and_the_kernel_import_without_cycles():
    # given
    graph = import_graph(REPO, PACKAGES)
    # when
    cycles = import_cycles(graph)
    # then
    assert not cycles, "import cycles (make each import point downward: docs/harness.md, %s):\n%s" % (
        '"How the modules depend on each other"', "\n".join(cycles))


def test_the_graph_holds_module_level_and_function_level_imports_of_both_packages():
    # given
    graph = import_graph(REPO, PACKAGES)
    # then
    assert "protoprimer_harness.session" in graph["protoprimer_harness.world"]  # module level
    assert "protoprimer_harness._layouts" in graph["protoprimer_harness.world"]  # inside World.apply_layout
    assert "protoprimer.primer_kernel" in graph["protoprimer_harness.session"]  # across the packages
    assert "protoprimer_harness.tools.base" in graph["protoprimer_harness.tools._pip"]  # relative, one level up


# --- the check itself, on a synthetic package --------------------------------------------------------


def write_package(root, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_a_cycle_through_a_function_level_import_is_found_and_named(tmp_path):
    # given: a imports b at module level; b imports a inside a function (a late import)
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import helper\n",
        "pkg/b.py": """\
            def helper():
                from pkg import a

                return a
            """,
        "pkg/c.py": "import pkg.a\n",
    })
    # when
    cycles = import_cycles(import_graph(str(tmp_path), ("pkg",)))
    # then
    assert cycles == [
        "pkg.a -> pkg.b -> pkg.a\n"
        "  pkg/a.py:1 imports pkg.b\n"
        "  pkg/b.py:2 imports pkg.a"
    ]


def test_a_longer_cycle_through_sub_packages_is_named_hop_by_hop(tmp_path):
    # given: x -> tools.y -> tools.z -> x, with relative imports of every level
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/x.py": "from .tools import y\n",
        "pkg/tools/__init__.py": "",
        "pkg/tools/y.py": "import os\n\nfrom . import z\n",
        "pkg/tools/z.py": "try:\n    from ..x import NAME\nexcept ImportError:\n    NAME = None\n",
    })
    # when
    cycles = import_cycles(import_graph(str(tmp_path), ("pkg",)))
    # then
    assert cycles == [
        "pkg.tools.y -> pkg.tools.z -> pkg.x -> pkg.tools.y\n"
        "  pkg/tools/y.py:3 imports pkg.tools.z\n"
        "  pkg/tools/z.py:2 imports pkg.x\n"
        "  pkg/x.py:1 imports pkg.tools.y"
    ]


def test_an_import_only_type_checkers_run_is_no_edge(tmp_path):
    # given: b names a for its annotations only; its else branch runs and counts
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import helper\n",
        "pkg/b.py": """\
            import typing
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from .a import helper
            if typing.TYPE_CHECKING:
                import pkg.a
            else:
                import pkg.c

            def helper() -> "helper":
                pass
            """,
        "pkg/c.py": "",
    })
    # when
    graph = import_graph(str(tmp_path), ("pkg",))
    # then
    assert import_cycles(graph) == []
    assert sorted(graph["pkg.b"]) == ["pkg.c"]


def test_imports_that_point_one_way_pass(tmp_path):
    # given: a shared base module that both the table and the handlers import (the shape of _fake_tools)
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Call:\n    pass\n",
        "pkg/handler.py": "from .base import Call\n",
        "pkg/table.py": "from .base import Call\nfrom .handler import *\n\ndef late():\n    import pkg.handler\n",
    })
    # when
    graph = import_graph(str(tmp_path), ("pkg",))
    # then
    assert import_cycles(graph) == []
    assert sorted(graph["pkg.table"]) == ["pkg.base", "pkg.handler"]
