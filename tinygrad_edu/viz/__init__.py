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

The graph of a gradient (`tinygrad_edu.grad(loss, W, create_graph=True)[0].draw()`) holds the
ops of the backward passes and the forward values they read; the two parts are drawn in boxes
of their own: pale blue "forward: the computation that was differentiated", pale orange
"backward: recorded by grad(..., create_graph=True)", where the leaf the walk started from is
labelled "upstream gradient". `draw_graph(g, forward=loss)` makes the split exact and draws
the loss op too (see `parts` for how it is read off the graph otherwise). A gradgradcheck
report as `highlight` marks the op whose double backward is wrong ("double backward rel.
error") and draws fn's forward graph with the gradient's.

A tensor's label: its name (bold) if it has one, shape and dtype, the norm of its gradient once
a backward pass gave it one (`show_grad`), its values if small (`show_values`).
`draw_graph(..., legend=True)` adds this key to the drawing.

The modules, in the order a call of `draw_graph` meets them:
    recorded   the graph flattened: tensors in topological order, ops, consumers
    highlight  what to draw red, read from gradcheck's or gradgradcheck's report or from the
               nodes a user names
    parts      a gradient's graph split into the forward part and the recorded backward part
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
