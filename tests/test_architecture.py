"""The package's import graph, read from the source: the layers ARCHITECTURE.md describes.

- The one cycle is tensor <-> ops: the ops subclass Function and build Tensors, and Tensor's
  operators call the ops. Imports inside functions count, and so do those under
  `if TYPE_CHECKING:` (the node and the walk name a Tensor by a protocol, not by import).
- The engine imports nothing from the checking, drawing, model or training layers, not even
  lazily or for type annotations (`loss.draw()` goes through a drawer viz registers).
- The leaf modules import nothing from the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_edu"

ENGINE = {"modes", "versions", "errors", "validation", "context", "anomaly", "walk", "tensor",
          "function", "autograd", "ops"}
LAYERS_ABOVE = {"checks", "viz", "nn", "losses", "optim", "regularizers", "serialization",
                "testing", "functional"}
LEAVES = {"modes", "versions", "errors", "validation"}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, with_type_checking: bool, root: Path = PACKAGE) -> set[str]:
    """The package modules `path` imports (dotted names below `root`, '' for the package
    itself), at any depth of the file; TYPE_CHECKING blocks only when asked."""
    modules = {module_name(p, root) for p in root.rglob("*.py")}
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if not with_type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    name = module_name(path, root)
    here = name.split(".") if name else []
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here if is_package else here[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            submodules = [f"{target}.{a.name}".lstrip(".") for a in node.names]
            known = [s for s in submodules if s in modules]
            found |= set(known) if len(known) == len(submodules) else {target}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found |= {n.removeprefix("tinygrad_edu.") for n in names if n.startswith("tinygrad_edu.")}
    return found - {name}


ALL_MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}


def top(module: str) -> str:
    """The unit the layering speaks of: `ops/` is one unit, as is each other package."""
    return module.split(".")[0]


def graph(with_type_checking: bool, unit: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = top(module_name(path)) if unit else module_name(path)
        targets = {top(t) if unit else t for t in imports(path, with_type_checking)}
        edges.setdefault(source, set()).update(targets - {source, ""})
    return edges


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("with_type_checking", [False, True], ids=["run time", "with annotations"])
def test_the_one_import_cycle_is_tensor_and_ops(with_type_checking: bool) -> None:
    assert cycles(graph(with_type_checking, unit=True)) == [{"tensor", "ops"}]


def test_the_finder_sees_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    # The check above can fail: an import inside a function counts.
    (tmp_path / "a.py").write_text("from . import b\n")
    (tmp_path / "b.py").write_text("def f() -> None:\n    from .a import x\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\n")
    edges = {p.stem: imports(p, with_type_checking=False, root=tmp_path) for p in tmp_path.glob("*.py")}
    assert cycles(edges) == [{"a", "b"}] and edges["c"] == set()
    assert imports(tmp_path / "c.py", with_type_checking=True, root=tmp_path) == {"a"}


@pytest.mark.parametrize("module", sorted(m for m in ALL_MODULES if top(m) in ENGINE))
def test_the_engine_imports_nothing_from_the_layers_above(module: str) -> None:
    path = PACKAGE / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE / module.replace(".", "/") / "__init__.py"
    reached = {top(t) for t in imports(path, with_type_checking=True)}
    assert not reached & LAYERS_ABOVE, f"{module} imports {sorted(reached & LAYERS_ABOVE)}"


@pytest.mark.parametrize("module", sorted(LEAVES))
def test_the_leaves_import_nothing_from_the_package(module: str) -> None:
    assert imports(PACKAGE / f"{module}.py", with_type_checking=True) == set()
