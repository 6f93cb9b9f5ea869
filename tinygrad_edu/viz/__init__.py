"""Draw the graph a Tensor recorded, with graphviz: `draw_graph(loss)` or `loss.draw()`.

The result is a `graphviz.Digraph`: it displays inline in Jupyter (as SVG), and
`draw_graph(loss).render("graph", format="svg")` or `render_graph(loss, "graph.svg")` writes a
file. Drawing needs only the `graphviz` Python package; rendering (Jupyter's display too) runs
Graphviz's `dot` program. Without it graphviz raises `graphviz.ExecutableNotFound`, and
`render_graph` a RuntimeError that says what to install.

How to read a drawing (data flows left to right: input -> op -> output):

  blue box, bold border     parameter: a leaf that requires grad (W, b)
  grey dashed box           data or constant tensor: a leaf that requires no grad (X)
  grey text, no border      a constant argument that is not a Tensor (the 2 in x * 2)
  white rounded box         intermediate value, the output of an op (the drawn root: thick border)
  green ellipse             op: the Function that ran (MatMul, Exp, a user's Cube) with the
                            keyword arguments that differ from its forward's defaults (axis=1)
  red ellipse, red edge     an op gradcheck blamed, with the relative error it measured; the red
                            edge comes from the input whose gradient is wrong
  purple 3-D box "× N more" N more repetitions of a chain (or N more identical inputs), collapsed
  grey note "… N more"      what `max_nodes` left out (the graph's label says what it was)

A tensor's label: its name (bold) if it has one, shape and dtype, the norm of its gradient once
a backward pass gave it one (`show_grad`), its values if small (`show_values`).
`draw_graph(..., legend=True)` adds this key to the drawing.

The modules, in the order a call of `draw_graph` meets them:
    recorded   the graph flattened: tensors in topological order, ops, consumers
    highlight  what to draw red, read from gradcheck's report or from the nodes a user names
    collapse   long repeated chains and runs of identical inputs hidden behind "× N more"
    model      what to draw: GraphModel, NodeKind, EdgeKind, build_model (no graphviz)
    labels     the lines of text on each node, with their roles
    text       names and values made safe for a label; short forms of values
    render     how it looks: styles, markup, legend; draw_graph, render_graph (imports graphviz)
"""

from ..tensor import register_drawer
from .model import EdgeKind, GraphModel, NodeKind, build_model
from .render import DOT_MISSING, RED, STYLES, draw_graph, render_graph

__all__ = [
    "draw_graph",
    "render_graph",
    "build_model",
    "GraphModel",
    "NodeKind",
    "EdgeKind",
    "DOT_MISSING",
    "RED",
    "STYLES",
]

# `Tensor.draw(**options)` calls draw_graph: the engine imports nothing from the drawing layer.
register_drawer(draw_graph)
