"""The graph model (`tinygrad_edu.viz.model`): what draw_graph draws, checked without Graphviz.

Also: every node kind draws for a user's Function (nothing in the drawer knows a built-in op
by name), and bool / int tensors (comparison results, index tensors) draw like any other.
"""

from __future__ import annotations

import ast
import dataclasses
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, topological_order
from tinygrad_edu.checks import Culprit, GradcheckReport
from tinygrad_edu.viz import EdgeKind, GraphModel, NodeKind, build_model, draw_graph
from tinygrad_edu.viz.labels import Line, Role

VIZ_DIR = Path(__file__).resolve().parent.parent / "tinygrad_edu" / "viz"


def softmax_loss() -> dict[str, Tensor]:
    """MatMul, Add, Max, Sub, Exp, Sum, Log, GetItem, Sub, Mean: 10 ops, 13 tensors."""
    rng = np.random.default_rng(0)
    X = Tensor(rng.normal(size=(5, 4)), name="X")
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True, name="W")
    b = Tensor(rng.normal(size=3), requires_grad=True, name="b")
    scores = X @ W + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_sum_exp = shifted.exp().sum(axis=1).log()
    loss = (log_sum_exp - shifted[np.arange(5), np.array([0, 2, 1, 1, 0])]).mean()
    return {"X": X, "W": W, "b": b, "scores": scores, "loss": loss}


def assert_inputs_drawn_first(model: GraphModel) -> None:
    """The drawing order follows the data flow: every edge's tail is drawn before its head
    (the "… N more nodes" note, drawn last, aside)."""
    position = {node.name: i for i, node in enumerate(model.nodes)}
    for edge in model.edges:
        if edge.kind is not EdgeKind.OMITTED:
            assert position[edge.tail] < position[edge.head], edge


def test_only_the_render_module_imports_graphviz() -> None:
    importers = set()
    for path in VIZ_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "graphviz" for name in names):
                importers.add(path.name)
    assert importers == {"render.py"}


def test_model_of_a_known_graph() -> None:
    graph = softmax_loss()
    model = build_model(graph["loss"])
    kinds = Counter(node.kind for node in model.nodes)
    assert kinds == {NodeKind.PARAM: 2, NodeKind.DATA: 1, NodeKind.VALUE: 10, NodeKind.OP: 10}
    assert len(model.edges) == 24 and {e.kind for e in model.edges} == {EdgeKind.DATA}
    assert [n.name for n in model.nodes if n.root] == [f"t{id(graph['loss'])}"]
    assert not any(n.culprit for n in model.nodes) and model.notes == ()
    W = model.by_name[f"t{id(graph['W'])}"]
    assert W.kind is NodeKind.PARAM
    assert W.lines == (Line("W", Role.TITLE), Line("(4, 3) float64", Role.BODY))
    ops = [n for n in model.nodes if n.kind is NodeKind.OP]
    assert Counter(n.lines[0].text for n in ops) == Counter(
        ["MatMul", "Add", "Max", "Sub", "Exp", "Sum", "Log", "GetItem", "Sub", "Mean"]
    )
    (maximum,) = [n for n in ops if n.lines[0].text == "Max"]
    assert maximum.lines[1] == Line("axis=1, keepdims=True", Role.SMALL)
    assert_inputs_drawn_first(model)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.nodes = ()  # type: ignore[misc]


def test_each_op_is_drawn_between_its_constants_and_its_output() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (2 - x * 0.5) * np.array([1.0, 2.0, 3.0])
    model = build_model(y)
    order = [(n.kind, n.lines[0].text) for n in model.nodes]
    assert order == [
        (NodeKind.PARAM, "(3,) float64"),
        (NodeKind.CONST, "0.5"), (NodeKind.OP, "Mul"), (NodeKind.VALUE, "(3,) float64"),
        (NodeKind.CONST, "2"), (NodeKind.OP, "Sub"), (NodeKind.VALUE, "(3,) float64"),
        (NodeKind.CONST, "[1., 2., 3.]"), (NodeKind.OP, "Mul"), (NodeKind.VALUE, "(3,) float64"),
    ]


def test_a_collapsed_group_takes_the_place_of_what_it_hides() -> None:
    y = Tensor(np.ones(3), requires_grad=True, name="x")
    for _ in range(100):
        y = y * 0.5 + 1
    model = build_model(y)
    (group,) = [n for n in model.nodes if n.kind is NodeKind.COLLAPSED]
    assert group.lines[0] == Line("× 96 more Mul → Add", Role.TITLE)
    kinds = [n.kind for n in model.nodes]
    # x, then 2 steps of (constant, op, value) x 2, the group, the last hidden output's op...
    assert kinds.index(NodeKind.COLLAPSED) == 1 + 2 * 2 * 3
    assert_inputs_drawn_first(model)


def test_culprits_are_marked_from_gradcheck_report_types() -> None:
    graph = softmax_loss()
    (exp_node,) = [t._node for t in topological_order(graph["loss"]) if t._node and t._node.name == "Exp"]
    report = GradcheckReport(
        inputs=[], culprits=[Culprit(exp_node, "Exp", 0, 0.25, "")], output=graph["loss"],
        verdict="",
    )
    model = build_model(graph["loss"], highlight=report)
    (red,) = [n for n in model.nodes if n.culprit]
    assert red.name == f"op{id(exp_node)}"
    assert red.lines == (Line("Exp", Role.TITLE), Line("rel. error 0.25 (input 0)", Role.ALERT))
    (culprit_edge,) = [e for e in model.edges if e.kind is EdgeKind.CULPRIT]
    assert (culprit_edge.tail, culprit_edge.head) == (f"t{id(exp_node.inputs[0])}", red.name)


def test_a_duck_typed_report_is_not_a_report() -> None:
    class LooksLikeAReport:
        culprits: list[Any] = []
        ok = True

    with pytest.raises(TypeError, match="highlight must be a GradcheckError, a GradcheckReport"):
        build_model(softmax_loss()["loss"], highlight=LooksLikeAReport())


def test_max_nodes_puts_the_omitted_note_last() -> None:
    y = Tensor(np.ones(2), requires_grad=True)
    for _ in range(6):
        y = -((y * 1.5) + 0.5)
    model = build_model(y, max_nodes=8)
    assert len(model.nodes) == 8 and model.nodes[-1].kind is NodeKind.OMITTED
    # Each step: 3 ops, 2 constants, 3 tensors; and x. 7 nodes drawn besides the note.
    assert model.nodes[-1].lines == (Line(f"… {8 * 6 + 1 - 7} more nodes", Role.BODY),)
    assert {e.tail for e in model.edges if e.kind is EdgeKind.OMITTED} == {"omitted"}
    assert_inputs_drawn_first(model)


# ------------------------------------------------------------------ users' Functions


class Step(Function):
    """y = 0.5 x + shift: a user's op with a constant and a setting."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, shift: float, *, mode: str = "plain") -> np.ndarray:
        return 0.5 * x + shift

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, None]:
        return 0.5 * grad, None


class Mul(Function):
    """A user's op that happens to share a built-in op's name."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, y: Any) -> np.ndarray:
        ctx.save_for_backward(y)
        return x * y

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[np.ndarray, None]:
        (y,) = ctx.saved_tensors
        return grad * y, None


class Greater(Function):
    """x > threshold, a comparison: a bool result with no gradient."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, threshold: float = 0.0) -> np.ndarray:
        return x > threshold

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> None:
        return None


def test_every_node_kind_draws_for_a_users_function() -> None:
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    data = Tensor(np.ones(3), name="data")
    y = Step.apply(x, 1.0, mode="fancy")
    blamed = y._node
    for _ in range(40):
        y = Step.apply(y, 0.25)
    y = Step.apply(y * data, 0.0)
    report = GradcheckReport(
        inputs=[], culprits=[Culprit(blamed, "Step", 0, 0.5, "")], output=None, verdict=""
    )
    model = build_model(y, highlight=report, max_nodes=20)
    assert {n.kind for n in model.nodes} == set(NodeKind)
    assert {e.kind for e in model.edges} == set(EdgeKind)
    assert model.by_name[f"op{id(blamed)}"].lines == (
        Line("Step", Role.TITLE), Line("mode='fancy'", Role.SMALL),
        Line("rel. error 0.5 (input 0)", Role.ALERT),
    )
    svg = draw_graph(y, highlight=report, max_nodes=20, legend=True).pipe(format="svg")
    assert ET.fromstring(svg) is not None


def test_a_users_op_named_like_a_built_in_is_drawn_like_any_op() -> None:
    def chain(mul: Any) -> GraphModel:
        y = Tensor(np.ones(3), requires_grad=True, name="x")
        for _ in range(30):
            y = mul(y)
        return build_model(y)

    built_in = chain(lambda y: y * 2.0)
    users = chain(lambda y: Mul.apply(y, 2.0))
    assert [(n.kind, n.lines) for n in users.nodes] == [(n.kind, n.lines) for n in built_in.nodes]
    assert users.notes == built_in.notes
    assert [e.kind for e in users.edges] == [e.kind for e in built_in.edges]


def test_bool_and_int_tensors_draw() -> None:
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True, name="x")
    index = Tensor(np.array([2, 0, 1], dtype=np.int64), name="index")
    mask = Greater.apply(x, threshold=0.5)
    loss = (x * mask).sum() + x[index.data].sum()
    loss.backward()
    model = build_model(loss, show_values=True)
    assert model.by_name[f"t{id(mask)}"].lines == (
        Line("(3,) bool", Role.BODY), Line("[ True, False,  True]", Role.SMALL)
    )
    assert model.by_name[f"op{id(mask._node)}"].lines == (
        Line("Greater", Role.TITLE), Line("threshold=0.5", Role.SMALL)
    )
    # An int tensor as an op's input (a user's op takes it as is).
    scaled = Mul.apply(x, index)
    model = build_model(scaled.sum(), show_values=True)
    assert model.by_name[f"t{id(index)}"].kind is NodeKind.DATA
    assert model.by_name[f"t{id(index)}"].lines == (
        Line("index", Role.TITLE), Line("(3,) int64", Role.BODY), Line("[2, 0, 1]", Role.SMALL)
    )
    for root in (loss, scaled.sum()):
        svg = draw_graph(root, show_values=True).pipe(format="svg")
        assert ET.fromstring(svg) is not None


def test_default_settings_whose_comparison_fails_are_shown() -> None:
    class Odd:  # as a default value, compared with the value given
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("cannot compare")

        __hash__ = object.__hash__

    ODD = Odd()

    class Scaled(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray, *, how: Any = ODD) -> np.ndarray:
            return 3 * x

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return 3 * grad

    x = Tensor([1.0], requires_grad=True)
    out = Scaled.apply(x, how=Odd())
    assert build_model(out).by_name[f"op{id(out._node)}"].lines[1] == Line("how=Odd", Role.SMALL)
