"""The shape of the package: no import cycle (function-level imports
included), no modality test outside the event-space registry, one
definition of `sample` and of `complete` among the models."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "arzoo"


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules():
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path, known):
    """The arzoo modules a file imports, anywhere in it (function bodies too).

    `from package import submodule` depends on the submodule; like any
    import of a submodule it runs the package's `__init__` first, which is
    not counted (else every module would depend on `arzoo`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
            names = submodules if len(submodules) == len(node.names) else [node.module] + submodules
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def find_cycle(graph):
    """One cycle of the directed graph as a list of nodes, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return stack[stack.index(child):] + [child]
            if child not in state:
                cycle = visit(child, stack)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def test_no_import_cycle():
    known = modules()
    graph = {name: imports_of(path, known) - {name} for name, path in known.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_modality_test_outside_the_event_space_registry():
    offenders = []
    for name, path in modules().items():
        if name == "arzoo.events" or name.startswith("arzoo.models"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "modality"
                for side in [node.left, *node.comparators]
            ):
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, offenders


@pytest.mark.parametrize("method", ["sample", "complete", "_run_sampler"])
def test_one_definition_among_the_models(method):
    defined = []
    for name, path in modules().items():
        if not name.startswith("arzoo.models"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == method:
                defined.append(f"{name}:{node.lineno}")
    assert len(defined) == 1, defined
