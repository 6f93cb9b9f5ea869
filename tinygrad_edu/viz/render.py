"""How a drawing looks: node and edge styles, label markup, the legend; `draw_graph` turns a
`GraphModel` into a `graphviz.Digraph` and `render_graph` writes it to a file. The only module
of the package that imports graphviz.

A new node style: add a member to `model.NodeKind`, its entry here in STYLES (keyed by the
member's value) and, if it should be explained, a row in LEGEND.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from typing import Any

import graphviz

from ..tensor import Tensor
from .labels import Line, Role
from .model import GraphModel, Node, build_model
from .parts import BACKWARD, FORWARD
from .text import escape_unsafe

__all__ = ["draw_graph", "render_graph", "to_digraph"]

RED = "#cc0000"
FONT = "Helvetica"

# Node styles by NodeKind value. "culprit" and "root" are overlays, applied on top of a kind's.
STYLES: dict[str, dict[str, str]] = {
    "param": {"shape": "box", "style": "filled,bold", "fillcolor": "#cfe2ff", "color": "#1f4e99"},
    "data": {
        "shape": "box",
        "style": "filled,dashed",
        "fillcolor": "#eeeeee",
        "color": "#888888",
        "fontcolor": "#444444",
    },
    "value": {"shape": "box", "style": "rounded,filled", "fillcolor": "white", "color": "#666666"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#e2f0d9", "color": "#38761d"},
    "const": {"shape": "plaintext", "fontcolor": "#666666", "fontsize": "9"},
    "collapsed": {"shape": "box3d", "style": "filled", "fillcolor": "#e8e0f0", "color": "#674ea7"},
    "omitted": {"shape": "note", "style": "dashed", "color": "#999999", "fontcolor": "#666666"},
    "culprit": {
        "style": "filled,bold",
        "fillcolor": "#f4cccc",
        "color": RED,
        "fontcolor": RED,
        "penwidth": "2.5",
    },
    "root": {"penwidth": "2.5"},
}
# The boxes around the two parts of a gradient's graph (see parts.py), by part.
PART_STYLES: dict[str, dict[str, str]] = {
    FORWARD: {"label": "forward: the computation that was differentiated",
              "style": "rounded,filled", "fillcolor": "#f4f8fd", "color": "#9fb8d9"},
    BACKWARD: {"label": "backward: recorded by grad(..., create_graph=True)",
               "style": "rounded,filled", "fillcolor": "#fdf6ec", "color": "#d9b88f"},
}
EDGE_STYLES: dict[str, dict[str, str]] = {  # by EdgeKind value
    "data": {},
    "culprit": {"color": RED, "penwidth": "2.5"},
    "omitted": {"style": "dashed", "color": "#999999"},
}
GRAPH_ATTRS = {  # notes (the graph's label) go bottom left; ranks a little tighter than dot's
    "fontname": FONT,
    "fontsize": "10",
    "labelloc": "b",
    "labeljust": "l",
    "ranksep": "0.3",
    "nodesep": "0.25",
}
NODE_ATTRS = {"fontname": FONT, "fontsize": "11"}
EDGE_ATTRS = {"color": "#555555", "arrowsize": "0.7"}
LEGEND = [  # (style, sample text, meaning) for legend=True
    ("param", "W", "parameter: leaf that requires grad"),
    ("data", "X", "data / constant tensor"),
    ("const", "2", "constant argument (not a Tensor)"),
    ("value", "(4, 3)", "intermediate value (thick: the output)"),
    ("op", "Exp", "op (Function) and its kwargs"),
    ("culprit", "Cube", "op blamed by gradcheck, rel. error"),
    ("collapsed", "× N more", "N repeats collapsed into one node"),
]
# How each role of a label line is set, in Graphviz's HTML-like label language.
MARKUP = {
    Role.TITLE: "<b>{}</b>",
    Role.BODY: "{}",
    Role.SMALL: '<font point-size="9">{}</font>',
    Role.ALERT: f'<font color="{RED}"><b>{{}}</b></font>',
}

DOT_MISSING = (
    "render_graph: Graphviz's `dot` program is not on PATH, so the graph cannot be rendered; "
    "install Graphviz's dot: sudo apt-get install graphviz (Debian/Ubuntu) or "
    "brew install graphviz (macOS)"
)
RANKDIRS = ("LR", "RL", "TB", "BT")


def draw_graph(
    root: Tensor,
    *,
    show_grad: bool = True,
    show_values: bool = False,
    rankdir: str = "LR",
    highlight: Any = None,
    max_nodes: int | None = 500,
    legend: bool = False,
    forward: Tensor | None = None,
) -> graphviz.Digraph:
    """The graph `root` was computed by, as a `graphviz.Digraph` (the `tinygrad_edu.viz`
    docstring says how to read it).

    root         the Tensor to draw (a loss, usually): it and every tensor and op it depends on
    show_grad    put each tensor's gradient norm on it once it has a `.grad`
    show_values  put the values of tensors of at most MAX_VALUES_SHOWN (12) elements on them
    rankdir      "LR" (left to right), "TB" (top to bottom), "RL" or "BT"
    highlight    what to draw in red: a GradcheckError or its GradcheckReport (the ops it
                 blamed, with the relative errors it measured), or Context nodes / Tensors.
                 Culprits are matched by identity (draw `err.report.output`); if none of them
                 is in this graph, every op of the same Function is highlighted instead, and
                 the graph's label says so
    max_nodes    draw at most this many nodes (None: no cap); those farthest from the root
                 are left out, and the graph's label says what they were
    legend       add a key of the node styles
    forward      for the graph of a gradient (`grad(loss, W, create_graph=True)[0]`): the
                 Tensor that was differentiated (loss). Its ops are boxed as the forward part,
                 the others as the backward part. Without it the parts are read off the graph
                 (see `viz.parts`); a gradgradcheck report as highlight gives its own

    Repeats are collapsed first: the middle of a long chain of identical steps (a loop of
    10,000 `y = y * 2`, or of `y = y * 2 + 1`), with whatever feeds only those steps, becomes
    one "× N more" node; so do many identical inputs of one op.

    Names are drawn as given, except that characters a label cannot carry (control
    characters, line breaks, lone surrogates) are shown as Python escapes, a name with nothing
    visible is quoted and a name that is not a string is shown by its repr.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(
            f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}"
        )
    model = build_model(
        root, show_grad=show_grad, show_values=show_values, highlight=highlight,
        max_nodes=max_nodes, forward=forward,
    )
    return to_digraph(model, rankdir=rankdir, legend=legend)


def to_digraph(model: GraphModel, *, rankdir: str = "LR", legend: bool = False) -> graphviz.Digraph:
    """The Digraph of a model: each node styled by its kind and overlays, each edge by its kind."""
    digraph = graphviz.Digraph(
        "tinygrad_edu",
        graph_attr={**GRAPH_ATTRS, "rankdir": rankdir},
        node_attr=NODE_ATTRS,
        edge_attr=EDGE_ATTRS,
    )
    boxes = {part: graphviz.Digraph(name=f"cluster_{part}", graph_attr=PART_STYLES[part])
             for part in PART_STYLES if any(node.part == part for node in model.nodes)}
    for node in model.nodes:
        box = boxes.get(node.part, digraph)
        box.node(node.name, html_label(node.lines), **_style(node))
    for box in boxes.values():
        digraph.subgraph(box)
    for edge in model.edges:
        digraph.edge(edge.tail, edge.head, **EDGE_STYLES[edge.kind.value])
    if legend:
        _add_legend(digraph)
    if model.notes:
        digraph.attr(label=html_label(Line(note, Role.SMALL) for note in model.notes))
    return digraph


def render_graph(
    root_or_digraph: Tensor | graphviz.Digraph,
    path: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002  (graphviz's own name for it)
) -> str:
    """Write a drawing to `path` and return the path written. A Tensor is drawn with
    `draw_graph` first. The format is `format`, else `path`'s extension (".svg", ".png",
    ".pdf", ...), else SVG; an extension is appended when `path` lacks the format's.

    Raises RuntimeError saying what to install when Graphviz's `dot` is missing.
    """
    if isinstance(root_or_digraph, Tensor):
        digraph = draw_graph(root_or_digraph)
    elif isinstance(root_or_digraph, graphviz.Digraph):
        digraph = root_or_digraph
    else:
        raise TypeError(
            "render_graph: expected a Tensor or a graphviz.Digraph, "
            f"got {type(root_or_digraph).__name__}"
        )
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    format = format or extension or "svg"  # noqa: A001
    if extension != format:
        path = f"{path}.{format}"
    try:
        image = digraph.pipe(format=format)
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(DOT_MISSING) from error
    with open(path, "wb") as file:
        file.write(image)
    return path


def html_label(lines: Iterable[Line]) -> str:
    """An HTML-like Graphviz label, one row per line of text. Every row is escaped (XML's
    special characters, and what a label cannot carry at all), and a blank row is left
    without markup: Graphviz refuses an empty <b></b>."""
    rows = []
    for line in lines:
        for row in line.text.split("\n"):
            row = html.escape(escape_unsafe(row), quote=False)
            rows.append(MARKUP[line.role].format(row) if row.strip() else "")
    return "<" + "<br/>".join(rows) + ">" if any(rows) else "< >"


def _style(node: Node) -> dict[str, str]:
    style = dict(STYLES[node.kind.value])
    if node.culprit:
        style.update(STYLES["culprit"])
    if node.root:
        style.update(STYLES["root"])
    return style


def _add_legend(digraph: graphviz.Digraph) -> None:
    """One node holding a table: a sample of each style beside what it means."""
    rows = []
    for kind, sample, meaning in LEGEND:
        style = STYLES[kind]
        fill = style.get("fillcolor", "white")
        border = style.get("color", "white")
        font = style.get("fontcolor", "black")
        rows.append(
            f'<tr><td bgcolor="{fill}" color="{border}" border="1">'
            f'<font color="{font}">{html.escape(sample)}</font></td>'
            f'<td align="left">{html.escape(meaning)}</td></tr>'
        )
    table = (
        '<<table border="0" cellspacing="3" cellpadding="3">'
        '<tr><td colspan="2"><b>legend</b></td></tr>' + "".join(rows) + "</table>>"
    )
    digraph.node("legend", table, shape="box", style="dashed", color="#bbbbbb", fontsize="9")
