"""draw_graph on the graph of a gradient (`grad(loss, W, create_graph=True)[0]`), and
gradgradcheck's culprits drawn red: checked on the SVG Graphviz's real `dot` renders.

The forward part and the backward part are drawn in boxes of their own (graphviz clusters
"cluster_forward" and "cluster_backward"); which box a node is in is read off the drawing's
geometry (its shape lies inside the box's outline).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import graphviz
import numpy as np
import pytest
import tinygrad_edu as tg
from test_gradgradcheck import Cube, CubeKeepingSquareOnCtx, Square, in_a_graph, x_input
from test_viz import SHAPES, SVG, Drawing, drawn, first
from tinygrad_edu import Tensor, losses, ops
from tinygrad_edu.checks import check_gradients
from tinygrad_edu.checks.gradgrad import check_second_derivatives
from tinygrad_edu.viz import RED, build_model, draw_graph

# ------------------------------------------------------------------ reading boxes off the SVG

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass
class Boxed:
    drawing: Drawing
    boxes: dict[str, Box] = field(default_factory=dict)  # "forward"/"backward" -> outline
    labels: dict[str, str] = field(default_factory=dict)  # box -> its label
    where: dict[str, Box] = field(default_factory=dict)  # node name -> its shape's extent

    def part(self, name: str) -> str:
        """The box node `name` is drawn in, or ""."""
        x0, y0, x1, y1 = self.where[name]
        for part, (a0, b0, a1, b1) in self.boxes.items():
            if a0 <= x0 and x1 <= a1 and b0 <= y0 and y1 <= b1:
                return part
        return ""

    def ops_in(self, part: str) -> list[str]:
        return sorted(first(self.drawing.text[n]) for n in self.drawing.names("op")
                      if self.part(n) == part)


def extent(element: ET.Element) -> Box:
    text = " ".join(filter(None, (element.get("points"), element.get("d"))))
    if element.tag == f"{SVG}ellipse":
        cx, cy, rx, ry = (float(element.get(k, 0)) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def boxed(digraph: graphviz.Digraph) -> Boxed:
    svg = digraph.pipe(format="svg")
    result = Boxed(drawn(digraph))
    graph = ET.fromstring(svg).find(f"{SVG}g")
    for g in graph.findall(f"{SVG}g"):
        title = g.find(f"{SVG}title").text or ""
        shape = next((e for e in g if e.tag in SHAPES), None)
        if g.get("class") == "cluster":
            part = title.removeprefix("cluster_")
            result.boxes[part] = extent(shape)
            result.labels[part] = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
        elif g.get("class") == "node" and shape is not None:
            result.where[title] = extent(shape)
        elif g.get("class") == "node":  # plaintext: its text's anchor
            t = g.find(f"{SVG}text")
            x, y = float(t.get("x")), float(t.get("y"))
            result.where[title] = (x, y, x, y)
    return result


# ------------------------------------------------------------------ graphs


def mlp(seed: int = 0) -> dict[str, Tensor]:
    """Two layers with a relu and the fused softmax loss; g = dloss/dW1, recorded."""
    rng = np.random.default_rng(seed)
    X = Tensor(rng.normal(size=(5, 4)), name="X")
    W1 = Tensor(rng.normal(size=(4, 6)), requires_grad=True, name="W1")
    b1 = Tensor(rng.normal(size=6), requires_grad=True, name="b1")
    W2 = Tensor(rng.normal(size=(6, 3)), requires_grad=True, name="W2")
    loss = losses.softmax_cross_entropy((X @ W1 + b1).relu() @ W2, np.array([0, 2, 1, 1, 0]))
    (g,) = tg.grad(loss, W1, create_graph=True)
    return {"loss": loss, "g": g, "W1": W1, "W2": W2}


FORWARD_OPS = ["Add", "MatMul", "MatMul", "Relu"]
FUNCTIONS = {name for name, obj in vars(ops).items() if isinstance(obj, type)} | {
    "SoftmaxCrossEntropy", "ZeroDerivative"}


def test_the_gradient_of_an_mlp_is_drawn_in_a_forward_and_a_backward_box() -> None:
    graph = mlp()
    d = boxed(draw_graph(graph["g"]))
    assert set(d.boxes) == {"forward", "backward"}
    assert d.labels["forward"] == "forward: the computation that was differentiated"
    assert d.labels["backward"] == "backward: recorded by grad(..., create_graph=True)"
    # Every op is labelled with its Function's name, and sits in one box or the other.
    op_names = [first(d.drawing.text[n]) for n in d.drawing.names("op")]
    assert op_names and set(op_names) <= FUNCTIONS
    assert all(d.part(n) for n in d.drawing.names("op"))
    # The forward ops are in the forward box; the backward's own (Transpose, Where, the
    # final Reshape) in the other.
    assert sorted(set(FORWARD_OPS)) == sorted(set(d.ops_in("forward")) & set(FORWARD_OPS))
    assert {"Transpose", "Where", "Reshape", "Mul"} <= set(d.ops_in("backward"))
    assert d.ops_in("forward").count("Relu") == 1 and "Where" not in d.ops_in("forward")
    # Parameters and data in the forward box; the upstream gradient in the backward box.
    for name in ("W1", "b1", "W2", "X"):
        assert d.part(d.drawing.find(name, "t")) == "forward"
    seed = d.drawing.find("upstream gradient", "t")
    assert d.part(seed) == "backward" and d.drawing.text[seed].endswith("() float64")
    # The root (the gradient, W1's shape) is in the backward box.
    root = next(n for n in d.drawing.names("t") if d.drawing.stroke_width[n] not in ("1", "2"))
    assert d.drawing.text[root] == "(4, 6) float64" and d.part(root) == "backward"


def test_with_forward_given_the_parts_are_exact_and_the_loss_is_drawn() -> None:
    graph = mlp()
    d = boxed(draw_graph(graph["g"], forward=graph["loss"]))
    # The loss op, not in the gradient's graph, is drawn with the forward pass; the ops the
    # loss's backward recomputed its probabilities with are in the backward box.
    assert d.ops_in("forward") == sorted(FORWARD_OPS + ["SoftmaxCrossEntropy"])
    assert {"Exp", "Div", "Sub"} <= set(d.ops_in("backward"))
    loss = next(n for n in d.drawing.names("t") if d.drawing.text[n] == "() float64")
    assert d.part(loss) == "forward"


def test_a_graph_that_is_not_a_gradients_has_no_boxes() -> None:
    graph = mlp()
    d = boxed(draw_graph(graph["loss"]))
    assert d.boxes == {}
    assert all(node.part == "" for node in build_model(graph["loss"]).nodes)


def test_a_second_derivatives_graph_draws_whole() -> None:
    graph = mlp()
    (h,) = tg.grad((graph["g"] * graph["g"]).sum(), graph["W2"], create_graph=True)
    d = boxed(draw_graph(h, max_nodes=None))
    op_names = [first(d.drawing.text[n]) for n in d.drawing.names("op")]
    assert len(op_names) > 40 and set(op_names) <= FUNCTIONS
    assert set(d.boxes) == {"forward", "backward"}
    assert sorted(set(FORWARD_OPS)) == sorted(set(d.ops_in("forward")) & set(FORWARD_OPS))
    capped = drawn(draw_graph(h, max_nodes=30))
    assert len(capped.text) == 30 and "max_nodes=30" in capped.label


def test_forward_must_be_a_tensor() -> None:
    with pytest.raises(TypeError, match="draw_graph: forward must be the Tensor"):
        draw_graph(mlp()["g"], forward="loss")  # type: ignore[arg-type]


# ------------------------------------------------------------------ culprits drawn red


def test_gradgradchecks_culprit_is_drawn_red_in_fns_graph() -> None:
    report = check_second_derivatives(in_a_graph(CubeKeepingSquareOnCtx), x_input())
    d = drawn(draw_graph(report.output, highlight=report))
    red = d.red()
    assert [first(d.text[n]) for n in red] == ["CubeKeepingSquareOnCtx"]
    rel = report.culprits[0].rel_error
    assert d.text[red[0]] == f"CubeKeepingSquareOnCtx\ndouble backward rel. error {rel:.4g} (input 0)"
    assert d.label == ""  # every culprit is in this graph


def test_gradgradchecks_culprits_are_drawn_red_in_the_gradients_graph() -> None:
    report = check_second_derivatives(in_a_graph(Square), x_input())
    d = boxed(draw_graph(report.gradient, highlight=report))
    red = {first(d.drawing.text[n]): d.part(n) for n in d.drawing.red()}
    # The op whose double backward is wrong, in the forward box (fn's graph is drawn with its
    # gradient's); the op of its backward whose own backward is wrong, in the backward box.
    assert red == {"Square": "forward", "SquareBackward": "backward"}
    square = d.drawing.find("Square", "op")
    assert "double backward rel. error" in d.drawing.text[square]
    backward = d.drawing.find("SquareBackward", "op")
    assert d.drawing.text[backward].startswith("SquareBackward\nrel. error")
    assert RED in {d.drawing.edge_stroke[e] for e in d.drawing.edges if e[1] == square}


def test_a_passing_gradgradcheck_highlights_nothing_and_says_so() -> None:
    report = check_second_derivatives(in_a_graph(Cube), x_input())
    d = drawn(draw_graph(report.gradient, highlight=report))
    assert d.red() == []
    assert d.label == "gradgradcheck passed: nothing to highlight."


def test_a_checks_passes_leave_no_gradients_on_the_graph_it_reports() -> None:
    # Drawn, they would show as "grad norm" lines the user never computed.
    x = Tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True, name="x")
    for fn in (lambda x: ((x * 0.5).exp() * x).sum(), lambda x: (x * 0.5).exp() * x):
        report = check_gradients(fn, x)
        assert all(t.grad is None for t in tg.topological_order(report.output))
        assert not any("grad" in line.text for node in build_model(report.output).nodes
                       for line in node.lines)
    report = check_second_derivatives(in_a_graph(Square), x_input())
    for root in (report.output, report.gradient):
        assert all(t.grad is None for t in tg.topological_order(root) if t.grad_fn is not None)


