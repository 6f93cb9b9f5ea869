"""draw_graph: what is drawn, checked on the SVG that Graphviz's real `dot` renders (so these
tests need `dot`: scripts/setup.sh installs Debian's graphviz).

Node names tell kinds apart: "t<id>" tensors, "op<id>" ops, "k<id>_<i>" constant arguments,
"more_..." collapsed repeats, "omitted" the max_nodes note. Expected counts are worked out by
hand next to each graph.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import BackwardProblem, Culprit, GradcheckError, GradcheckReport
from tinygrad_edu.viz import DOT_MISSING, RED, STYLES, draw_graph, render_graph

SVG = "{http://www.w3.org/2000/svg}"
SHAPES = {f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path"}  # what dot draws a node's outline with
PARAM_FILL = STYLES["param"]["fillcolor"]
DATA_FILL = STYLES["data"]["fillcolor"]
VALUE_FILL = STYLES["value"]["fillcolor"]
OP_FILL = STYLES["op"]["fillcolor"]
CULPRIT_FILL = STYLES["culprit"]["fillcolor"]
COLLAPSED_FILL = STYLES["collapsed"]["fillcolor"]


# ------------------------------------------------------------------ reading the rendered SVG


@dataclass
class Drawing:
    """A rendered graph, read back from dot's SVG."""

    text: dict[str, str] = field(default_factory=dict)  # node name -> its label, lines joined by \n
    fill: dict[str, str] = field(default_factory=dict)  # node name -> its shape's fill ("": none)
    stroke: dict[str, str] = field(default_factory=dict)
    stroke_width: dict[str, str] = field(default_factory=dict)  # "1" where dot leaves it out
    edges: list[tuple[str, str]] = field(default_factory=list)
    edge_stroke: dict[tuple[str, str], str] = field(default_factory=dict)
    label: str = ""  # the graph's own label (notes)

    def names(self, prefix: str) -> list[str]:
        return [n for n in self.text if n.startswith(prefix)]

    def ops(self) -> Counter[str]:
        """Op names (first label line) of the drawn op nodes."""
        return Counter(first(self.text[n]) for n in self.names("op"))

    def find(self, first_line: str, prefix: str = "") -> str:
        """The one node whose label starts with `first_line`."""
        found = [n for n, t in self.text.items() if n.startswith(prefix) and first(t) == first_line]
        assert len(found) == 1, (first_line, found)
        return found[0]

    def red(self) -> list[str]:
        """The nodes drawn with a red border (highlighted), in drawing order."""
        return [n for n in self.text if self.stroke[n] == RED]


def first(label: str) -> str:
    return label.split("\n")[0]


def kind(name: str) -> str:
    """"op", "t" (tensor), "k" (constant), "more_" or "omitted", from a drawn node's name."""
    for prefix in ("op", "t", "k", "more_"):
        if name.startswith(prefix):
            return prefix
    return name


def drawn(digraph: graphviz.Digraph) -> Drawing:
    root = ET.fromstring(digraph.pipe(format="svg"))
    graph = root.find(f"{SVG}g")
    d = Drawing()
    for g in graph.findall(f"{SVG}g"):
        title = g.find(f"{SVG}title").text
        if g.get("class") == "node" and title != "legend":
            d.text[title] = "\n".join(t.text or "" for t in g.iter(f"{SVG}text"))
            shape = next((e for e in g if e.tag in SHAPES), None)
            d.fill[title] = "" if shape is None else shape.get("fill", "")
            d.stroke[title] = "" if shape is None else shape.get("stroke", "")
            d.stroke_width[title] = "1" if shape is None else shape.get("stroke-width", "1")
        elif g.get("class") == "edge":
            tail, head = title.split("->")
            d.edges.append((tail, head))
            d.edge_stroke[(tail, head)] = g.find(f"{SVG}path").get("stroke")
    d.label = "\n".join(t.text or "" for t in graph.findall(f"{SVG}text"))
    return d


# ------------------------------------------------------------------ graphs


def softmax_classifier(seed: int = 0) -> dict[str, Tensor]:
    """A linear classifier's mean softmax cross-entropy, from Tensor ops only:
    MatMul, Add, Max, Sub, Exp, Sum, Log, GetItem, Sub, Mean: 10 ops.
    Tensors: X, W, b and the 10 outputs = 13. No constant arguments.
    Edges: 14 inputs (MatMul 2, Add 2, Max 1, Sub 2, Exp 1, Sum 1, Log 1, GetItem 1, Sub 2,
    Mean 1) + 10 outputs = 24."""
    rng = np.random.default_rng(seed)
    X = Tensor(rng.normal(size=(5, 4)), name="X")
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True, name="W")
    b = Tensor(rng.normal(size=3), requires_grad=True, name="b")
    y = np.array([0, 2, 1, 1, 0])
    scores = X @ W + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_sum_exp = shifted.exp().sum(axis=1).log()
    loss = (log_sum_exp - shifted[np.arange(5), y]).mean()
    return {"X": X, "W": W, "b": b, "scores": scores, "loss": loss}


class Cube(Function):
    """x ** 3: a user's op."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.square = x * x
        return ctx.square * x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return 3 * ctx.square * grad


class BuggyCube(Cube):
    """x ** 3 with a planted bug: its backward says 2 x^2 instead of 3 x^2."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return 2 * ctx.square * grad


class SumAll(Function):
    """The sum of any number of same-shape inputs (a user's op with many inputs)."""

    @staticmethod
    def forward(ctx: Any, *xs: np.ndarray) -> np.ndarray:
        ctx.count = len(xs)
        return np.sum(xs, axis=0)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(grad.copy() for _ in range(ctx.count))


def period_five_chain(steps: int) -> Tensor:
    """5 ops per step (Mul, Add, Sub, Neg, Mul: a pattern longer than MAX_PERIOD, so nothing
    collapses), 4 with a constant: 5·steps ops, 5·steps + 1 tensors, 4·steps constants."""
    y = Tensor(np.ones(3), requires_grad=True, name="x")
    for _ in range(steps):
        y = -(((y * 1.0001) + 0.5) - 0.5) * 0.9999
    return y


def op_named(root: Tensor, name: str) -> Any:
    """The one op node called `name` in root's graph."""
    nodes = [t._node for t in tg.topological_order(root) if t._node is not None]
    (node,) = [n for n in nodes if n.name == name]
    return node


# gradcheck's results as the drawer reads them (through their types), made by hand so each
# test controls exactly what was blamed.


def make_culprit(node: Any, op: str, input_index: int | None, rel_error: float) -> Culprit:
    return Culprit(node=node, op=op, input_index=input_index, rel_error=rel_error, message="")


def make_report(
    culprits: list[Culprit],
    output: Tensor | None = None,
    ok: bool = False,
    verdict: str = "gradients disagree",
) -> GradcheckReport:
    problems = [] if ok else [BackwardProblem(input_index=None, message=verdict)]
    return GradcheckReport(
        inputs=[], culprits=culprits, output=output, verdict=verdict, backward_problems=problems
    )


def make_error(report: GradcheckReport) -> GradcheckError:
    return GradcheckError(report)


# ------------------------------------------------------------------ structure of a known graph


def test_linear_classifier_loss_draws_exact_nodes_and_edges() -> None:
    graph = softmax_classifier()
    d = drawn(draw_graph(graph["loss"]))
    assert len(d.names("t")) == 13 and len(d.names("op")) == 10 and d.names("k") == []
    assert len(d.text) == 23 and len(d.edges) == 24
    once = ["MatMul", "Add", "Max", "Exp", "Sum", "Log", "GetItem", "Mean"]
    assert d.ops() == Counter({"Sub": 2, **dict.fromkeys(once, 1)})
    # Data flow: tensor -> op -> tensor, every op with exactly one output.
    for tail, head in d.edges:
        assert (kind(tail), kind(head)) in {("t", "op"), ("op", "t")}
    outputs = Counter(tail for tail, head in d.edges if tail.startswith("op"))
    assert sorted(outputs.values()) == [1] * 10
    matmul = d.find("MatMul")
    assert {t for t, h in d.edges if h == matmul} == {f"t{id(graph['X'])}", f"t{id(graph['W'])}"}
    assert (matmul, f"t{id(graph['scores'])}") not in d.edges  # MatMul's output feeds Add
    add = d.find("Add")
    assert (add, f"t{id(graph['scores'])}") in d.edges


def test_kinds_look_different() -> None:
    graph = softmax_classifier()
    d = drawn(draw_graph(graph["loss"]))
    assert d.fill[f"t{id(graph['W'])}"] == d.fill[f"t{id(graph['b'])}"] == PARAM_FILL
    assert d.fill[f"t{id(graph['X'])}"] == DATA_FILL
    assert d.fill[f"t{id(graph['scores'])}"] == VALUE_FILL
    assert {d.fill[n] for n in d.names("op")} == {OP_FILL}
    assert len({PARAM_FILL, DATA_FILL, VALUE_FILL, OP_FILL, CULPRIT_FILL, COLLAPSED_FILL}) == 6
    thick = [n for n, width in d.stroke_width.items() if float(width) > 2]
    assert thick == [f"t{id(graph['loss'])}"]  # the root stands out


def test_tensor_labels_show_name_shape_and_dtype() -> None:
    graph = softmax_classifier()
    d = drawn(draw_graph(graph["loss"]))
    assert d.text[f"t{id(graph['W'])}"] == "W\n(4, 3) float64"
    assert d.text[f"t{id(graph['X'])}"] == "X\n(5, 4) float64"
    assert d.text[f"t{id(graph['scores'])}"] == "(5, 3) float64"
    assert d.text[f"t{id(graph['loss'])}"] == "() float64"
    float32 = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    assert drawn(draw_graph(float32.sum())).text[f"t{id(float32)}"] == "(2, 2) float32"


def test_op_labels_show_kwargs_that_differ_from_the_defaults() -> None:
    d = drawn(draw_graph(softmax_classifier()["loss"]))
    assert d.text[d.find("Max")] == "Max\naxis=1, keepdims=True"
    assert d.text[d.find("Sum")] == "Sum\naxis=1"  # keepdims=False is forward's default
    assert d.text[d.find("Mean")] == "Mean"
    assert d.text[d.find("GetItem")] == "GetItem\nindex=([0, 1, 2, 3, 4], [0, 2, 1, 1, 0])"
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    d = drawn(draw_graph((x**3).reshape(3, 2).transpose(1, 0)[:, 1:]))
    assert d.text[d.find("Pow")] == "Pow\nexponent=3"
    assert d.text[d.find("Reshape")] == "Reshape\nshape=(3, 2)"
    assert d.text[d.find("Transpose")] == "Transpose\naxes=(1, 0)"
    assert d.text[d.find("GetItem")] == "GetItem\nindex=(:, 1:)"


def test_grad_norms_appear_after_backward() -> None:
    graph = softmax_classifier()
    W, b = graph["W"], graph["b"]
    assert "grad" not in " ".join(drawn(draw_graph(graph["loss"])).text.values())
    graph["loss"].backward()
    d = drawn(draw_graph(graph["loss"]))
    assert d.text[f"t{id(W)}"] == f"W\n(4, 3) float64\ngrad norm {np.linalg.norm(W.grad):.4g}"
    assert d.text[f"t{id(b)}"].endswith(f"grad norm {np.linalg.norm(b.grad):.4g}")
    assert "grad" not in d.text[f"t{id(graph['X'])}"]  # data has no gradient
    assert "grad" not in " ".join(drawn(draw_graph(graph["loss"], show_grad=False)).text.values())


def test_a_parameter_backward_did_not_reach_says_so() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    c = Tensor([3.0, 4.0], requires_grad=True, name="c")
    a.sum().backward()  # a has a gradient now, c none
    d = drawn(draw_graph((a * c).sum()))
    assert d.text[f"t{id(a)}"] == f"a\n(2,) float64\ngrad norm {np.sqrt(2):.4g}"
    assert d.text[f"t{id(c)}"] == "c\n(2,) float64\ngrad: None (backward did not reach it)"


def test_diamond_draws_the_shared_input_once_with_one_edge_per_use() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * x + x  # x, Mul, x*x, Add, y: 5 nodes; x->Mul twice, x->Add, Mul->, ->Add, Add->: 6
    d = drawn(draw_graph(y))
    assert len(d.text) == 5 and len(d.edges) == 6
    x_name, mul, add = f"t{id(x)}", d.find("Mul"), d.find("Add")
    assert Counter(d.edges)[(x_name, mul)] == 2
    assert Counter(d.edges)[(x_name, add)] == 1


def test_constant_arguments_are_small_nodes_of_their_own() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (2 - x * 0.5) * np.array([1.0, 2.0, 3.0])  # 3 ops, 3 constants, 4 tensors: 10 nodes
    d = drawn(draw_graph(y))
    assert len(d.text) == 10 and len(d.edges) == 9
    constants = sorted(d.text[n] for n in d.names("k"))
    assert constants == ["0.5", "2", "[1., 2., 3.]"]
    assert {d.fill[n] for n in d.names("k")} == {""}  # plain text, no box
    sub = d.find("Sub")
    sub_node = y._node.inputs[0]._node
    assert [n for n, h in d.edges if h == sub and n.startswith("k")] == [f"k{id(sub_node)}_0"]


def test_a_users_function_is_labelled_with_its_class_name() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True)
    d = drawn(draw_graph(Cube.apply(x).sum()))
    assert d.ops() == Counter({"Cube": 1, "Sum": 1})


def test_labels_escape_graphviz_and_html_characters() -> None:
    name = '<W & "b"> {x|y} \\n'
    x = Tensor([1.0], requires_grad=True, name=name)
    d = drawn(draw_graph((x * 2).sum()))
    assert d.text[f"t{id(x)}"] == f"{name}\n(1,) float64"


def test_show_values_prints_small_tensors_only() -> None:
    small = Tensor([1.5, -2.0], requires_grad=True, name="small")
    big = Tensor(np.zeros(13), requires_grad=True, name="big")
    d = drawn(draw_graph((small * 2).sum() + big.sum(), show_values=True))
    assert d.text[f"t{id(small)}"] == "small\n(2,) float64\n[ 1.5, -2. ]"
    assert d.text[f"t{id(big)}"] == "big\n(13,) float64"
    assert "1.5" not in drawn(draw_graph(small.sum())).text[f"t{id(small)}"]


def test_leaves_and_untracked_results_draw_as_one_node() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    d = drawn(draw_graph(x))
    assert list(d.text) == [f"t{id(x)}"] and d.edges == []
    with tg.no_grad():
        y = x * 2
    d = drawn(draw_graph(y))
    assert list(d.text) == [f"t{id(y)}"] and d.fill[f"t{id(y)}"] == DATA_FILL


def test_node_names_are_unique_and_stable() -> None:
    loss = softmax_classifier()["loss"]
    first, second = draw_graph(loss), draw_graph(loss)
    assert first.source == second.source
    names = [line.split()[0] for line in first.body if "[label=" in line]
    assert len(names) == len(set(names)) == 23


def test_tensor_draw_is_draw_graph() -> None:
    loss = softmax_classifier()["loss"]
    assert loss.draw(rankdir="TB").source == draw_graph(loss, rankdir="TB").source
    assert "rankdir=TB" in loss.draw(rankdir="TB").source


def test_legend_is_one_extra_node() -> None:
    loss = softmax_classifier()["loss"]
    source = draw_graph(loss, legend=True).source
    assert source.count("[label=") == 24 and "legend [label=" in source
    assert "op blamed by gradcheck" in source


def test_bad_arguments_are_refused() -> None:
    loss = softmax_classifier()["loss"]
    with pytest.raises(TypeError, match="root must be a Tensor, got ndarray"):
        draw_graph(np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir must be one of LR, RL, TB, BT, got 'XY'"):
        draw_graph(loss, rankdir="XY")
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="max_nodes must be an int of at least 2"):
            draw_graph(loss, max_nodes=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="highlight must be a GradcheckError, a GradcheckReport"):
        draw_graph(loss, highlight=["Exp"])
    with pytest.raises(TypeError, match="highlight must be .* got int"):
        draw_graph(loss, highlight=3)


# ------------------------------------------------------------------ rendering


def test_jupyter_gets_svg() -> None:
    bundle = draw_graph(softmax_classifier()["loss"])._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert "<svg" in svg and ET.fromstring(svg).tag == f"{SVG}svg"


def test_digraph_render_writes_an_svg(tmp_path: Path) -> None:
    out = draw_graph(softmax_classifier()["loss"]).render(tmp_path / "graph", format="svg")
    assert Path(out) == tmp_path / "graph.svg"
    titles = [t.text for t in ET.parse(out).iter(f"{SVG}title")]
    assert len([t for t in titles if t.startswith("op") and "->" not in t]) == 10


def test_render_graph_writes_svg_and_png(tmp_path: Path) -> None:
    loss = softmax_classifier()["loss"]
    png = render_graph(loss, tmp_path / "graph.png", format="png")
    assert png == str(tmp_path / "graph.png")
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = render_graph(draw_graph(loss), str(tmp_path / "graph"))  # the suffix is added
    assert svg == str(tmp_path / "graph.svg") and ET.parse(svg).getroot().tag == f"{SVG}svg"
    with pytest.raises(TypeError, match="expected a Tensor or a graphviz.Digraph, got str"):
        render_graph("loss", str(tmp_path / "x"))  # type: ignore[arg-type]


def test_missing_dot_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loss = softmax_classifier()["loss"]
    digraph = draw_graph(loss)  # drawing needs no dot: only rendering does
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError) as caught:
        render_graph(digraph, str(tmp_path / "graph.svg"))
    message = str(caught.value)
    assert message == DOT_MISSING
    assert "sudo apt-get install graphviz" in message and "brew install graphviz" in message
    assert isinstance(caught.value.__cause__, graphviz.ExecutableNotFound)
    assert not (tmp_path / "graph.svg").exists()
    with pytest.raises(graphviz.ExecutableNotFound):  # graphviz's own render, as documented
        digraph.render(tmp_path / "graph", format="svg")


# ------------------------------------------------------------------ highlight


def test_fake_report_culprit_is_red_with_its_error() -> None:
    graph = softmax_classifier()
    loss = graph["loss"]
    exp_node = op_named(loss, "Exp")
    report = make_report([make_culprit(exp_node, "Exp", 0, 0.4213)], output=loss)
    for highlight in (report, make_error(report)):
        d = drawn(draw_graph(loss, highlight=highlight))
        red = d.red()
        assert red == [f"op{id(exp_node)}"]
        assert d.text[red[0]] == "Exp\nrel. error 0.4213 (input 0)"
        assert d.fill[red[0]] == CULPRIT_FILL
        red_edges = [e for e, colour in d.edge_stroke.items() if colour == RED]
        assert red_edges == [(f"t{id(exp_node.inputs[0])}", red[0])]
        assert d.label == ""  # found by identity: nothing to explain


def test_culprit_without_input_index_is_red_without_a_red_edge() -> None:
    loss = softmax_classifier()["loss"]
    log_node = loss._node.inputs[0]._node.inputs[0]._node
    assert log_node.name == "Log"
    d = drawn(draw_graph(loss, highlight=make_report([make_culprit(log_node, "Log", None, 2.0)])))
    assert d.text[f"op{id(log_node)}"] == "Log\nrel. error 2"
    assert RED not in d.edge_stroke.values()


def test_culprits_partly_in_the_graph_are_matched_by_identity_only() -> None:
    x = Tensor([0.5, 1.5], requires_grad=True)
    elsewhere = Cube.apply(x).exp()  # another evaluation: its Exp node is not in `mine`
    mine = Cube.apply(x).exp().sum()
    cube = mine._node.inputs[0]._node.inputs[0]._node
    report = make_report(
        [make_culprit(cube, "Cube", 0, 0.5), make_culprit(elsewhere._node, "Exp", 0, 0.1)]
    )
    d = drawn(draw_graph(mine, highlight=report))
    assert d.red() == [f"op{id(cube)}"]
    assert "1 of gradcheck's 2 culprits are not in this graph." in d.label


def test_culprits_not_in_the_graph_fall_back_to_the_same_function() -> None:
    x = Tensor([0.5, 1.5], requires_grad=True)
    blamed = Cube.apply(x)  # gradcheck's own evaluation
    mine = Cube.apply(Cube.apply(x) + 1).sum()  # the user's: two other Cube nodes
    report = make_report([make_culprit(blamed._node, "Cube", 0, 0.25)])
    d = drawn(draw_graph(mine, highlight=report))
    red = sorted(d.text[n] for n in d.red())
    assert red == ["Cube\nrel. error 0.25 (input 0)"] * 2
    label = d.label.replace("\n", " ")
    assert "culprit nodes are not in this graph; every Cube op is highlighted instead" in label
    d = drawn(draw_graph((x * 2).sum(), highlight=report))
    assert RED not in d.stroke.values()
    assert "and no Cube op is" in d.label


def test_reports_without_culprits_say_so() -> None:
    loss = softmax_classifier()["loss"]
    d = drawn(draw_graph(loss, highlight=make_report([], ok=True)))
    assert RED not in d.stroke.values() and "gradcheck passed: nothing to highlight." in d.label
    no_culprit = make_report([], verdict="the gradient of input 0 is wrong")
    d = drawn(draw_graph(loss, highlight=no_culprit))
    assert "gradcheck named no culprit op. the gradient of input 0 is wrong" in d.label


def test_highlight_tensors_and_nodes() -> None:
    graph = softmax_classifier()
    loss, scores, W = graph["loss"], graph["scores"], graph["W"]
    d = drawn(draw_graph(loss, highlight=[scores, W]))
    red = set(d.red())
    assert red == {f"op{id(scores._node)}", f"t{id(W)}"}  # a tensor's op; a leaf itself
    d = drawn(draw_graph(loss, highlight=scores._node))
    assert d.red() == [f"op{id(scores._node)}"]
    assert d.text[f"op{id(scores._node)}"] == "Add"  # no error to show
    other = softmax_classifier(seed=1)["scores"]  # the same ops, recorded again
    d = drawn(draw_graph(loss, highlight=[scores._node, other._node]))
    assert d.red() == [f"op{id(scores._node)}"]
    assert "1 of the highlighted nodes are not in this graph." in d.label
    d = drawn(draw_graph(loss, highlight=[other._node]))  # none in the graph: same Function
    assert sorted(d.text[n] for n in d.red()) == ["Add"]
    assert "the highlighted nodes are not in this graph; every Add op is highlighted" in d.label


def test_real_gradcheck_culprit_is_highlighted_on_its_own_graph() -> None:
    from tinygrad_edu.checks import GradcheckError, gradcheck

    def f(x: Tensor, w: Tensor) -> Tensor:
        return (BuggyCube.apply(x * w) + x.exp()).sum()

    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    w = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="w")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, (x, w))
    err = caught.value
    (culprit,) = err.report.culprits
    d = drawn(draw_graph(err.report.output, highlight=err))
    red = d.red()
    assert red == [f"op{id(culprit.node)}"]
    assert d.text[red[0]] == f"BuggyCube\nrel. error {culprit.rel_error:.4g} (input 0)"
    assert d.ops() == Counter({"Mul": 1, "BuggyCube": 1, "Exp": 1, "Add": 1, "Sum": 1})
    assert d.label == ""
    # Drawn on the user's own evaluation, the same Function is highlighted, with a note.
    d = drawn(draw_graph(f(x, w), highlight=err))
    assert [first(d.text[n]) for n in d.red()] == ["BuggyCube"]
    assert "not in this graph" in d.label


# ------------------------------------------------------------------ big graphs


def test_a_chain_of_10000_identical_ops_collapses() -> None:
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    # Kept: Mul 1, 2 and 9,999, 10,000 with their constants and outputs, x, the output of Mul
    # 9,998 (it feeds the tail) and one "× 9,996 more" node: 1 + 4·3 + 1 + 1 = 15 nodes.
    d = drawn(draw_graph(y))
    assert len(d.text) == 15 and len(d.edges) == 14
    (group,) = d.names("more_")
    assert d.text[group].split("\n") == [
        "× 9,996 more Mul", "each → (3,) float64", "hides 9,996 ops, 9,995 tensors"
    ]
    assert d.fill[group] == COLLAPSED_FILL
    assert sorted(d.text[n] for n in d.names("k")) == ["1.0001"] * 4
    assert 'Repeats collapsed: 1 "× N more" node(s) stand for 9,996 ops.' in d.label
    assert sum(1 for t, h in d.edges if group in (t, h)) == 2


def test_a_repeated_two_op_step_collapses() -> None:
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    y = x
    for _ in range(1000):
        y = y * 0.5 + 1
    # 2 steps kept at each end: 8 ops, 8 constants, x + 8 outputs + the last hidden output,
    # and the group: 27 nodes; each op has 2 inputs and 1 output, the group 1 of each: 26 edges.
    d = drawn(draw_graph(y))
    assert len(d.text) == 27 and len(d.edges) == 26
    (group,) = d.names("more_")
    assert d.text[group].split("\n") == [
        "× 996 more Mul → Add", "each → (3,) float64", "hides 1,992 ops, 1,991 tensors"
    ]


def test_a_python_sum_loop_collapses_with_its_side_branches() -> None:
    w = Tensor(np.ones(3), requires_grad=True, name="w")
    xs = [Tensor(np.full(3, float(i))) for i in range(100)]
    loss = sum(((w * x) ** 2).sum() for x in xs)  # 0 + t0, then 99 Adds with the same step
    d = drawn(draw_graph(loss))
    (group,) = d.names("more_")
    # Hidden: 95 Adds with their Mul, Pow, Sum; outputs of 94 Adds + 3 · 95; 95 data leaves.
    assert d.text[group] == "× 95 more Add\neach → () float64\nhides 380 ops, 474 tensors"
    assert (f"t{id(w)}", group) in d.edges  # the shared parameter feeds the hidden steps
    assert d.ops() == Counter({"Add": 1 + 4, "Mul": 5, "Pow": 5, "Sum": 5})


def test_many_identical_inputs_of_one_op_collapse() -> None:
    xs = [Tensor(np.ones(3), requires_grad=True) for _ in range(50)]
    d = drawn(draw_graph(SumAll.apply(*xs)))
    # 4 inputs kept, 46 behind one node, the op and its output: 7 nodes, 4 + 1 + 1 edges.
    assert len(d.text) == 7 and len(d.edges) == 6
    (group,) = d.names("more_")
    assert d.text[group].split("\n") == [
        "× 46 more inputs like these", "param (3,) float64", "hides 0 ops, 46 tensors"
    ]


def test_a_highlighted_op_is_never_collapsed() -> None:
    y = Tensor(np.ones(2), requires_grad=True)
    for _ in range(30):
        y = y * 1.5
    target = tg.topological_order(y)[15]._node  # the 15th Mul
    d = drawn(draw_graph(y, highlight=[target]))
    assert d.red() == [f"op{id(target)}"]
    assert len(d.names("more_")) == 2  # 14 Muls before it, 15 after: two runs


def test_max_nodes_leaves_out_the_farthest_nodes_and_says_so() -> None:
    y = period_five_chain(10)  # 50 ops + 51 tensors + 40 constants = 141 nodes
    assert len(drawn(draw_graph(y, max_nodes=None)).text) == 141
    d = drawn(draw_graph(y, max_nodes=20))
    assert len(d.text) == 20 and d.text["omitted"] == "… 122 more nodes"
    label = d.label.replace("\n", " ")
    assert "max_nodes=20: drew 19 of 141 nodes; left out the 122 farthest from the output" in label
    assert "Pass a larger max_nodes (or None) to draw more." in label
    assert f"t{id(y)}" in d.text  # the output is always drawn
    assert [h for t, h in d.edges if t == "omitted"] != []
    assert all(d.edge_stroke[("omitted", h)] == "#999999" for t, h in d.edges if t == "omitted")


def test_a_culprit_stays_drawn_under_max_nodes() -> None:
    y = Tensor(np.ones(2), requires_grad=True)
    y = Cube.apply(y)
    for _ in range(40):
        y = -((y + 1) - 1) * 0.5 + 0.1
    cube = op_named(y, "Cube")
    report = make_report([make_culprit(cube, "Cube", 0, 1.0)])
    d = drawn(draw_graph(y, max_nodes=10, highlight=report))
    assert len(d.text) == 10 and d.stroke[f"op{id(cube)}"] == RED


def test_a_100000_op_graph_draws_without_recursion() -> None:
    y = period_five_chain(20_000)  # 100,000 ops, 100,001 tensors, 80,000 constants
    d = drawn(draw_graph(y))
    assert len(d.text) == 500
    label = d.label.replace("\n", " ")
    assert "max_nodes=500: drew 499 of 280,001 nodes; left out the 279,502 farthest" in label


def test_the_example_draws_both_pictures(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "draw_graph.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "gradcheck blames Square (input 0): relative error 0.333" in done.stdout
    for name in ("graph.png", "graph_culprit.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_render_graph_takes_the_format_from_the_extension(
    tmp_path: Path, suffix: str, magic: bytes
) -> None:
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    target = tmp_path / f"graph{suffix}"
    written = render_graph((x * 2.0).sum(), target)
    assert written == str(target)
    assert target.read_bytes().startswith(magic)
