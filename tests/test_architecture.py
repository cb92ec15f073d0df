"""The package's shape: its layers import only the layers below them (counting imports inside functions), no
module imports itself back, and importing hls4ml stays quiet."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "masr_hls"
# The layers, bottom first: a subpackage or top-level module imports only those before it (README's layout table).
# "root" is the package's own __init__ (its public API).
LAYERS = (
    "errors",
    "files",
    "constants",
    "quiet",
    "batches",
    "toolchain",
    "hls_lint",
    "numerics",
    "reference",
    "training",
    "frontend",
    "backend",
    "csim",
    "rtl",
    "export",
    "analysis",
    "model",
    "root",
    "flow",
    "sweep",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the masr_hls modules it imports anywhere in its body (a package counts as its __init__)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module for alias in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "root"


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a layer that is not below its own."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    return sorted(f"{m} -> {e}" for m, edges in graph.items() for e in edges if layer_of(m) != layer_of(e) and rank[layer_of(e)] > rank[layer_of(m)])


def test_every_layer_imports_only_the_layers_below_it():
    graph = import_graph()
    assert {layer_of(m) for m in graph} == set(LAYERS), "a new subpackage or top-level module needs its place in LAYERS"
    assert layer_violations(graph) == []


def test_the_layer_check_finds_an_upward_import():
    assert layer_violations({"masr_hls.backend.writer": {"masr_hls.csim.modules"}, "masr_hls.csim.modules": set()}) == [
        "masr_hls.backend.writer -> masr_hls.csim.modules"
    ]


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 30 and "masr_hls.backend.plugin" in graph
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_importing_hls4ml_or_masr_hls_prints_nothing():
    for code in ("import hls4ml", "import masr_hls", "import masr_hls.backend.plugin", "import masr_hls.cli.main"):
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
        )
        assert run.returncode == 0, run.stderr
        assert "WARNING" not in run.stdout + run.stderr and run.stdout == "", (code, run.stdout, run.stderr)
