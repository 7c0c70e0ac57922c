"""The import graph of monitor/ and webui/: no cycles, and no import against the data flow.

The flow is camera source -> detect -> db -> counters -> web; each module belongs to a layer and may
import only its own layer or lower ones, and never what a rule in FORBIDDEN below names. The graph
is read with the stdlib ast module, every import statement counted, including the ones inside
functions and under TYPE_CHECKING, because those are the ones that hide cycles.
Run `python tests/test_imports.py -v` to print the graph summary and any violations.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "webui")

# Low -> high. A module's layer is the longest prefix listed here that matches its name. The web app
# sits below the supervisor: the supervisor is the process that assembles the workers, the single
# writer and the web server (it calls webui.create_app), and the web app never imports it back.
LAYERS: dict[str, int] = {
    "monitor": 0,  # the empty top package
    "monitor.records": 0,
    "monitor.layout": 0,
    "monitor.messages": 0,  # typed messages between the worker processes and the writer
    "monitor.site": 0,
    "monitor.detect": 0,
    "monitor.devices": 0,
    "monitor.simulate": 0,
    "monitor.camera": 1,
    "monitor.db": 2,
    "monitor.counters": 3,
    "monitor.upkeep": 4,
    "monitor.ops": 4,
    "monitor.cases": 4,  # case evidence export and verification (db + camera privacy masks)
    "webui": 5,
    "monitor.supervisor": 6,
    "monitor.jobs": 6,  # the supervisor's periodic jobs (reports, report cache, retention)
    "monitor.hubjob": 6,  # the supervisor's hub link job (issue 15)
    "monitor.hub": 6,  # the district hub service and its dashboard (uses the web app's machinery)
    "monitor.cli": 7,
}
LAYER_NAMES = ["site/detect/devices/records/layout", "camera", "db", "counters", "upkeep/ops", "webui", "supervisor",
               "cli"]


# Stricter rules on top of the layers: (importer prefix, imported prefix, why). Detection may use
# the records and the config types beside it, nothing else of monitor.
FORBIDDEN: list[tuple[str, str, str]] = [
    ("monitor.camera", "monitor.db", "a worker process never touches the database; the supervisor writes"),
    ("monitor.detect", "monitor.devices", "detection is pure"),
    ("monitor.detect", "monitor.layout", "detection is pure"),
    ("monitor.detect", "monitor.simulate", "detection is pure"),
    ("webui", "monitor.camera.worker", "the web app must not import the PyAV worker process module"),
    ("monitor.upkeep", "monitor.camera.worker", "recovery needs paths (monitor.layout), not the worker process"),
]


def module_name(path: Path) -> str:
    """Dotted module name of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(node: ast.AST, importer: str, is_pkg: bool, modules: set[str]) -> list[str]:
    """The internal modules one import statement loads (the most specific existing module per name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = importer.split(".") if is_pkg else importer.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    else:
        return []
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != importer:
            found.append(name)
    return found


def build_graph() -> dict[str, set[str]]:
    """Module -> the internal modules it imports, for every .py file in PACKAGES."""
    files = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        graph[name] = {t for node in ast.walk(tree) for t in _targets(node, name, is_pkg, modules)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int | None:
    """The layer of a module, from the longest matching prefix in LAYERS (None: not placed)."""
    best = None
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return None if best is None else best[1]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports against the flow: to a higher layer, or matching a FORBIDDEN rule; modules with no layer."""
    found = [f"{m}: no layer in LAYERS" for m in sorted(graph) if layer_of(m) is None]
    for src in sorted(graph):
        for dst in sorted(graph[src]):
            ls, ld = layer_of(src), layer_of(dst)
            if ls is not None and ld is not None and ld > ls:
                found.append(f"{src} ({LAYER_NAMES[ls]}) imports {dst} ({LAYER_NAMES[ld]}): against the flow")
            for low_prefix, high_prefix, why in FORBIDDEN:
                if _within(src, low_prefix) and _within(dst, high_prefix):
                    found.append(f"{src} imports {dst}: {why}")
    return found


def summary(graph: dict[str, set[str]]) -> str:
    """Modules and edges per layer, total import edges and cycles, as text."""
    per_layer: dict[int | None, list[str]] = defaultdict(list)
    for module in sorted(graph):
        per_layer[layer_of(module)].append(module)
    lines = [f"{len(graph)} modules, {sum(len(v) for v in graph.values())} internal import edges, "
             f"{len(cycles(graph))} cycles"]
    for layer in sorted(per_layer, key=lambda x: -1 if x is None else x):
        name = "unplaced" if layer is None else f"{layer} {LAYER_NAMES[layer]}"
        lines.append(f"  layer {name}: {len(per_layer[layer])} modules")
    lines += [f"  cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    return "\n".join(lines)


def test_graph_is_read():
    graph = build_graph()
    assert "monitor.supervisor" in graph and "webui" in graph, summary(graph)
    assert "monitor.camera.worker" in graph["monitor.supervisor"], summary(graph)


def test_no_import_cycles():
    graph = build_graph()
    assert cycles(graph) == [], summary(graph)


def test_imports_follow_the_flow():
    graph = build_graph()
    assert violations(graph) == [], summary(graph) + "\n" + "\n".join(violations(graph))


def private_imports() -> list[str]:
    """`from a.b import _name` of one internal module by another: a private helper used across modules."""
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                    found += [f"{module_name(path)} imports {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_private_names_imported_across_modules():
    assert private_imports() == [], "make the helper public (and document it) or move it"


def test_checks_catch_a_cycle_and_an_upward_import():
    graph = {"monitor.db.store": {"monitor.counters.analytics"}, "monitor.counters.analytics": {"monitor.db.store"},
             "monitor.camera.worker": {"monitor.db.store"}}
    assert cycles(graph) == [["monitor.counters.analytics", "monitor.db.store"]]
    found = violations(graph)
    assert any("monitor.db.store (db) imports monitor.counters.analytics" in v for v in found), found
    assert any("monitor.camera.worker imports monitor.db.store: a worker" in v for v in found), found


if __name__ == "__main__":
    g = build_graph()
    print(summary(g))
    print("\n".join(violations(g)) if "-v" in sys.argv else "")
