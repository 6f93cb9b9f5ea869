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
"""

from __future__ import annotations

import contextlib
import functools
import gc
import html
import inspect
import os
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import graphviz
import numpy as np

from .function import Context
from .tensor import Tensor, topological_order

__all__ = ["draw_graph", "render_graph"]

# ------------------------------------------------------------------ looks: the one place for them

RED = "#cc0000"
FONT = "Helvetica"

# Node styles by kind. "culprit" and "root" are overlays, applied on top of a kind's style.
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
EDGE_STYLES: dict[str, dict[str, str]] = {
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

MAX_VALUES_SHOWN = 12  # show_values prints tensors of at most this many elements
MAX_ARG_CHARS = 40  # a kwarg or constant longer than this is cut with "…"
KEEP_REPEATS = 2  # a collapsed run keeps this many repetitions at each end
MIN_REPEATS = 10  # fewer repetitions than this are drawn in full
MAX_PERIOD = 4  # repeated patterns of up to this many ops are found (x = x * 2 + 1 has 2)

DOT_MISSING = (
    "render_graph: Graphviz's `dot` program is not on PATH, so the graph cannot be rendered; "
    "install Graphviz's dot: sudo apt-get install graphviz (Debian/Ubuntu) or "
    "brew install graphviz (macOS)"
)
RANKDIRS = ("LR", "RL", "TB", "BT")


# ------------------------------------------------------------------ public API


def draw_graph(
    root: Tensor,
    *,
    show_grad: bool = True,
    show_values: bool = False,
    rankdir: str = "LR",
    highlight: Any = None,
    max_nodes: int | None = 500,
    legend: bool = False,
) -> graphviz.Digraph:
    """The graph `root` was computed by, as a `graphviz.Digraph` (the module docstring says
    how to read it).

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

    Repeats are collapsed first: the middle of a long chain of identical steps (a loop of
    10,000 `y = y * 2`, or of `y = y * 2 + 1`), with whatever feeds only those steps, becomes
    one "× N more" node; so do many identical inputs of one op.
    """
    _check_options(root, rankdir, max_nodes)
    with _gc_paused():
        recorded = _Recorded(root)
        marks = _resolve_highlight(highlight, recorded)
        collapsed = _collapse_repeats(recorded, marks)
        view = _View(recorded, collapsed, marks, max_nodes)
    notes = marks.notes + collapsed.notes() + view.notes
    return _emit(view, marks, notes, show_grad, show_values, rankdir, legend)


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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The analysis makes a few small tuples and dict entries per node; with a graph of 100,000
    ops alive, Python's cyclic collector would rescan all of it again and again meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_options(root: Any, rankdir: str, max_nodes: int | None) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: root must be a Tensor, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(
            f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}"
        )
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2
    ):
        raise ValueError(
            "draw_graph: max_nodes must be an int of at least 2 (the output and a note of what "
            f"was left out), or None for no cap; got {max_nodes!r}"
        )


# ------------------------------------------------------------------ the recorded graph, flattened


class _Recorded:
    """Every tensor below root in topological order (inputs first), and who consumes each.

    Tensors and op nodes are known by their id() while drawing (both are alive, so ids are
    unique); the drawn node names are made from them, so drawing the same graph twice gives
    the same names.
    """

    def __init__(self, root: Tensor) -> None:
        self.root = root
        self.tensors = topological_order(root)
        self.index = {id(t): i for i, t in enumerate(self.tensors)}  # topological position
        self.ops: list[Context] = []
        self.output: dict[int, Tensor] = {}  # id(node) -> the tensor it produced
        # id(tensor) -> the ops that take it as input, once per use (x * x lists Mul twice)
        self.consumers: dict[int, list[Context]] = {}
        self.constants = 0  # non-Tensor inputs, each drawn as a small node of its own
        for t in self.tensors:
            node = t._node
            if node is None:
                continue
            self.ops.append(node)
            self.output[id(node)] = t
            for x in node.inputs:
                if isinstance(x, Tensor):
                    self.consumers.setdefault(id(x), []).append(node)
                else:
                    self.constants += 1
        self.backward_ran = any(t.grad is not None for t in self.tensors)


# ------------------------------------------------------------------ highlight: gradcheck's culprits


@dataclass
class _Blame:
    rel_error: float | None
    input_index: int | None


@dataclass
class _Marks:
    """What to draw in red: id(node) -> what gradcheck measured on it; ids of leaf tensors."""

    ops: dict[int, list[_Blame]] = field(default_factory=dict)
    tensors: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _resolve_highlight(highlight: Any, recorded: _Recorded) -> _Marks:
    marks = _Marks()
    if highlight is None:
        return marks
    report = getattr(highlight, "report", highlight)  # a GradcheckError carries its report
    culprits = getattr(report, "culprits", None)
    if culprits is not None:
        _mark_culprits(list(culprits), report, recorded, marks)
    else:
        _mark_nodes(_highlight_items(highlight), recorded, marks)
    return marks


def _highlight_items(highlight: Any) -> list[Context | Tensor]:
    if isinstance(highlight, (Tensor, Context)):
        return [highlight]
    if isinstance(highlight, Iterable) and not isinstance(highlight, (str, bytes)):
        items = list(highlight)
        if all(isinstance(x, (Tensor, Context)) for x in items):
            return items
    raise TypeError(
        "draw_graph: highlight must be a GradcheckError, a GradcheckReport, or Context nodes / "
        f"Tensors (one, or an iterable of them); got {type(highlight).__name__}"
    )


@dataclass
class _Accused:
    """One culprit of a report, read by duck typing (.node, .op, .rel_error, .input_index)."""

    node: Context | None
    name: str
    blame: _Blame

    @classmethod
    def of(cls, culprit: Any) -> _Accused:
        node = getattr(culprit, "node", None)
        name = node.name if node is not None else str(getattr(culprit, "op", "?"))
        blame = _Blame(getattr(culprit, "rel_error", None), getattr(culprit, "input_index", None))
        return cls(node, name, blame)

    def same_function(self, candidate: Context) -> bool:
        if self.node is not None:
            return candidate.fn is self.node.fn
        return candidate.name == self.name


def _mark_culprits(culprits: list[Any], report: Any, recorded: _Recorded, marks: _Marks) -> None:
    if not culprits:
        if getattr(report, "ok", False):
            marks.notes.append("gradcheck passed: nothing to highlight.")
        else:
            verdict = getattr(report, "verdict", "")
            marks.notes.append(f"gradcheck named no culprit op. {verdict}".strip())
        return
    accused = [_Accused.of(c) for c in culprits]
    found = [a for a in accused if a.node is not None and id(a.node) in recorded.output]
    if found:
        for a in found:
            marks.ops.setdefault(id(a.node), []).append(a.blame)
        if len(found) < len(accused):
            missing, total = len(accused) - len(found), len(accused)
            marks.notes.append(f"{missing} of gradcheck's {total} culprits are not in this graph.")
        return
    # The user drew a graph of their own: blame the same Function wherever it appears.
    for a in accused:
        for candidate in recorded.ops:
            if a.same_function(candidate):
                marks.ops.setdefault(id(candidate), []).append(a.blame)
    _note_fallback(
        marks, ", ".join(dict.fromkeys(a.name for a in accused)), "gradcheck's culprit nodes are",
        "; the errors were measured on gradcheck's own graph",
    )


def _mark_nodes(items: list[Context | Tensor], recorded: _Recorded, marks: _Marks) -> None:
    missing: list[Context] = []
    for item in items:
        node = item._node if isinstance(item, Tensor) else item
        if node is None:  # a leaf Tensor: the tensor itself turns red
            marks.tensors.add(id(item))
        elif id(node) in recorded.output:
            marks.ops.setdefault(id(node), [])
        else:
            missing.append(node)
    if not missing:
        return
    if marks.ops or marks.tensors:
        marks.notes.append(f"{len(missing)} of the highlighted nodes are not in this graph.")
        return
    fns = {node.fn for node in missing}
    for candidate in recorded.ops:
        if candidate.fn in fns:
            marks.ops.setdefault(id(candidate), [])
    names = ", ".join(sorted({node.name for node in missing}))
    _note_fallback(marks, names, "the highlighted nodes are", "")


def _note_fallback(marks: _Marks, names: str, what: str, detail: str) -> None:
    if marks.ops:
        marks.notes.append(
            f"Note: {what} not in this graph; every {names} op is highlighted instead "
            f"(same Function{detail})."
        )
    else:
        marks.notes.append(f"Note: {what} not in this graph, and no {names} op is.")


# ------------------------------------------------------------------ collapsing repeats


@dataclass
class _Group:
    """One "× N more" node: the hidden repetitions of a chain, or identical inputs of one op.
    Its name comes from its first hidden member, so it is as stable as theirs."""

    name: str
    title: str
    detail: str
    position: int  # where it goes in the drawing's topological order
    ops: int = 0
    tensors: int = 0
    constants: int = 0
    inputs: list[Tensor] = field(default_factory=list)  # tensors outside it that it consumes


@dataclass
class _Collapsed:
    hidden: dict[int, _Group] = field(default_factory=dict)  # id(tensor or node) -> its group
    groups: list[_Group] = field(default_factory=list)

    def notes(self) -> list[str]:
        if not self.groups:
            return []
        ops = sum(g.ops for g in self.groups)
        count = len(self.groups)
        return [f'Repeats collapsed: {count:,} "× N more" node(s) stand for {ops:,} ops.']


class _Shapes:
    """Structure ids, hash-consed: two tensors get the same id when they were computed the same
    way (same Functions, kwarg names, constant positions, shapes, dtypes) from alike leaves.
    Kwarg and constant *values* are left out on purpose: y * 2 and y * 3 are repeats."""

    def __init__(self, recorded: _Recorded, marks: _Marks) -> None:
        self._ids: dict[Any, int] = {}
        self.head: dict[int, int] = {}  # id(node) -> what the op alone looks like
        self.structure: dict[int, int] = {}  # id(tensor) -> what its whole computation looks like
        self.depth: dict[int, int] = {}  # id(tensor) -> the longest path to it from a leaf
        intern, structure, depth = self.intern, self.structure, self.depth
        for t in recorded.tensors:  # the hot loop of a big drawing: plain locals, no properties
            node, data = t._node, t.data
            if node is None:
                structure[id(t)] = intern(("leaf", t.name, t.requires_grad, data.shape, data.dtype))
                depth[id(t)] = 0
                continue
            tensors = [x for x in node.inputs if isinstance(x, Tensor)]
            if id(node) in marks.ops:  # a highlighted op repeats nothing, so it is never hidden
                head = intern(("highlighted", id(node)))
            else:
                constants = (
                    tuple(i for i, x in enumerate(node.inputs) if not isinstance(x, Tensor))
                    if len(tensors) < len(node.inputs) else ()
                )
                head = intern((node.fn, tuple(node.kwargs), constants, data.shape, data.dtype))
            self.head[id(node)] = head
            inputs = tuple([structure[id(x)] if isinstance(x, Tensor) else -1 for x in node.inputs])
            structure[id(t)] = intern((head, inputs))
            depth[id(t)] = 1 + max([depth[id(x)] for x in tensors], default=0)

    def intern(self, key: Any) -> int:
        return self._ids.setdefault(key, len(self._ids))

    def link(self, node: Context, chain_position: int) -> int:
        """What one step of a chain looks like: the op and all of its inputs but the chain's."""
        side = tuple(
            self.structure[id(x)] if isinstance(x, Tensor) else -1
            for i, x in enumerate(node.inputs)
            if i != chain_position
        )
        return self.intern(("link", self.head[id(node)], chain_position, side))


def _collapse_repeats(recorded: _Recorded, marks: _Marks) -> _Collapsed:
    """Hide the middle of long repeated chains and of long runs of identical inputs, with
    whatever feeds only them, behind one "× N more" node each."""
    collapsed = _Collapsed()
    if len(recorded.tensors) <= MIN_REPEATS:  # too small to hold MIN_REPEATS of anything
        return collapsed
    shapes = _Shapes(recorded, marks)
    # Tensors that stay drawn whatever repeats around them.
    keep = {id(recorded.root)} | marks.tensors
    keep.update(id(recorded.output[key]) for key in marks.ops)
    private = _private_inputs(recorded, keep)
    for chain in _chains(recorded, shapes, private):
        _collapse_chain(chain, recorded, shapes, collapsed, keep)
    _collapse_identical_inputs(recorded, shapes, private, collapsed, keep)
    if collapsed.groups:
        _hide_what_feeds_only_hidden(recorded, collapsed, keep)
        _count_hidden(recorded, collapsed)
    return collapsed


def _private_inputs(recorded: _Recorded, keep: set[int]) -> dict[int, list[int]]:
    """id(node) -> positions of its inputs that only it uses (once) and that have nothing to
    show on their own (no name, no gradient): the tensors a collapse may hide."""
    private: dict[int, list[int]] = {}
    consumers = recorded.consumers
    for node in recorded.ops:
        positions = [
            i for i, x in enumerate(node.inputs)
            if isinstance(x, Tensor)
            and x.name is None
            and x.grad is None
            and id(x) not in keep
            and len(consumers[id(x)]) == 1
        ]
        if positions:
            private[id(node)] = positions
    return private


def _chains(
    recorded: _Recorded, shapes: _Shapes, private: dict[int, list[int]]
) -> list[list[tuple[Context, int]]]:
    """Split the ops into chains: each op continues the chain of its deepest private input
    made by an op. Returns the chains of at least MIN_REPEATS ops, each as (op, position of
    its chain input) pairs, first op first."""
    chain_position: dict[int, int] = {}
    successor: dict[int, Context] = {}
    for node in recorded.ops:
        candidates = [i for i in private.get(id(node), ()) if node.inputs[i]._node is not None]
        if candidates:
            best = candidates[0] if len(candidates) == 1 else max(
                candidates, key=lambda i: shapes.depth[id(node.inputs[i])]
            )
            chain_position[id(node)] = best
            successor[id(node.inputs[best]._node)] = node
    chains = []
    for node in recorded.ops:
        if id(node) in chain_position:
            continue  # not the first op of its chain
        chain = [node]
        while id(chain[-1]) in successor:
            chain.append(successor[id(chain[-1])])
        if len(chain) < MIN_REPEATS:
            continue
        positions = [chain_position.get(id(n), -1) for n in chain]
        # The first op has no chain input: compare it as if its input at the second op's chain
        # position were one, so the x in x * 2 * 2 * ... starts the run.
        if isinstance(_input_at(chain[0], positions[1]), Tensor):
            positions[0] = positions[1]
        chains.append(list(zip(chain, positions)))
    return chains


def _input_at(node: Context, position: int) -> Any:
    return node.inputs[position] if 0 <= position < len(node.inputs) else None


def _periodic_runs(sequence: list[int]) -> list[tuple[int, int, int]]:
    """(start, period, repeats) of each run where `sequence` repeats a pattern of up to
    MAX_PERIOD items at least MIN_REPEATS times. Shorter periods are looked for first, and a
    longer one only among the items no run took yet."""
    used = [False] * len(sequence)
    runs = []

    def repeats_at(i: int, period: int) -> bool:
        return not used[i] and not used[i - period] and sequence[i] == sequence[i - period]

    for period in range(1, MAX_PERIOD + 1):
        i = period
        while i < len(sequence):
            if not repeats_at(i, period):
                i += 1
                continue
            end = i
            while end < len(sequence) and repeats_at(end, period):
                end += 1
            start = i - period  # sequence[start:end] repeats its first `period` items
            repeats = (end - start) // period
            if repeats >= MIN_REPEATS:
                runs.append((start, period, repeats))
                used[start:start + repeats * period] = [True] * (repeats * period)
            i = end
    return runs


def _collapse_chain(
    chain: list[tuple[Context, int]],
    recorded: _Recorded,
    shapes: _Shapes,
    collapsed: _Collapsed,
    keep: set[int],
) -> None:
    """Keep KEEP_REPEATS repetitions at each end of every periodic run; hide the middle."""
    sequence = [shapes.link(node, position) for node, position in chain]
    outputs = [recorded.output[id(node)] for node, _ in chain]
    for start, period, repeats in _periodic_runs(sequence):
        first = start + KEEP_REPEATS * period
        last = start + (repeats - KEEP_REPEATS) * period  # exclusive
        pattern = " → ".join(node.name for node, _ in chain[start:start + period])
        out = outputs[start + period - 1]
        group = _Group(
            name=f"more_op{id(chain[first][0])}",
            title=f"× {repeats - 2 * KEEP_REPEATS:,} more {pattern}",
            detail=f"each → {out.shape} {out.dtype}",
            position=recorded.index[id(outputs[first])],
        )
        collapsed.groups.append(group)
        for node, _ in chain[first:last]:
            collapsed.hidden[id(node)] = group
        for t in outputs[first:last - 1]:  # the last hidden op's output stays: it feeds the tail
            collapsed.hidden[id(t)] = group
        keep.update(id(t) for t in outputs[start:first] + outputs[last - 1:])


def _collapse_identical_inputs(
    recorded: _Recorded,
    shapes: _Shapes,
    private: dict[int, list[int]],
    collapsed: _Collapsed,
    keep: set[int],
) -> None:
    """An op with many identical private inputs (a user's Stack(*xs)) keeps the first and last
    KEEP_REPEATS of them; one "× N more" node stands for the rest."""
    for node in recorded.ops:
        positions = private.get(id(node), ())
        if len(positions) < MIN_REPEATS or id(node) in collapsed.hidden:
            continue
        alike: dict[int, list[Tensor]] = {}
        for i in positions:
            x = node.inputs[i]
            if id(x) not in keep and id(x) not in collapsed.hidden:
                alike.setdefault(shapes.structure[id(x)], []).append(x)
        for same in alike.values():
            if len(same) < MIN_REPEATS:
                continue
            hidden = same[KEEP_REPEATS:-KEEP_REPEATS]
            sample = same[0]
            made_by = sample._node.name if sample._node is not None else _kind(sample)
            group = _Group(
                name=f"more_t{id(hidden[0])}",
                title=f"× {len(hidden):,} more inputs like these",
                detail=f"{made_by} {sample.shape} {sample.dtype}",
                position=recorded.index[id(hidden[0])],
            )
            collapsed.groups.append(group)
            for x in hidden:
                collapsed.hidden[id(x)] = group


def _hide_what_feeds_only_hidden(
    recorded: _Recorded, collapsed: _Collapsed, keep: set[int]
) -> None:
    """A tensor all of whose consumers are hidden is hidden with them, and so is the op that
    made it. Consumers come after their inputs in topological order, so one sweep from the
    root settles each tensor after all of its consumers."""
    hidden = collapsed.hidden
    for t in reversed(recorded.tensors):
        if id(t) not in hidden and id(t) not in keep:
            users = recorded.consumers.get(id(t))
            if users and all(id(u) in hidden for u in users):
                hidden[id(t)] = hidden[id(users[0])]
        node = t._node
        if node is not None and id(t) in hidden and id(node) not in hidden:
            hidden[id(node)] = hidden[id(t)]


def _count_hidden(recorded: _Recorded, collapsed: _Collapsed) -> None:
    """Count what each group hides, and list the tensors outside it that it consumes."""
    hidden = collapsed.hidden
    listed: set[tuple[int, int]] = set()  # (id(group), id(input)) already in group.inputs
    for t in recorded.tensors:
        group = hidden.get(id(t))
        if group is not None:
            group.tensors += 1
        node = t._node
        group = hidden.get(id(node)) if node is not None else None
        if group is None:
            continue
        group.ops += 1
        for x in node.inputs:
            if not isinstance(x, Tensor):
                group.constants += 1
            elif hidden.get(id(x)) is not group and (id(group), id(x)) not in listed:
                listed.add((id(group), id(x)))
                group.inputs.append(x)


# ------------------------------------------------------------------ what is drawn: the view


def _kind(t: Tensor) -> str:
    if t._node is not None:
        return "value"
    return "param" if t.requires_grad else "data"


@dataclass
class _Edge:
    tail: str
    head: str
    style: str = "data"  # a key of EDGE_STYLES


class _View:
    """The nodes and edges to draw: found by walking from the root against the data flow, with
    hidden nodes replaced by their group's node, and at most max_nodes of them."""

    OMITTED = "omitted"

    def __init__(
        self, recorded: _Recorded, collapsed: _Collapsed, marks: _Marks, max_nodes: int | None
    ) -> None:
        self.recorded = recorded
        self.hidden = collapsed.hidden
        self.groups = collapsed.groups
        self.marks = marks
        self.items: dict[str, tuple[str, Any]] = {}  # name -> (kind, tensor/node/constant/group)
        self.position: dict[str, float] = {}  # name -> place in topological order
        self.notes: list[str] = []
        total = self._count_drawable()
        limit = max_nodes - 1 if max_nodes is not None and total > max_nodes else total
        self.root_name = self._tensor(recorded.root)
        starts = [self.root_name]  # and highlighted ops, which a cap must keep:
        starts += [self._op(recorded.output[key]._node) for key in marks.ops]
        kept, inputs = _walk_inputs(starts, self._inputs, limit)
        self.order = sorted(kept, key=self.position.__getitem__)
        self.edges = self._edges(self.order, kept, inputs)
        if len(kept) < total:
            self.notes.append(self._cut(kept, total, max_nodes))
            self.order.append(self.OMITTED)

    def _count_drawable(self) -> int:
        r = self.recorded
        hidden = sum(g.ops + g.tensors + g.constants for g in self.groups)
        return len(r.tensors) + len(r.ops) + r.constants - hidden + len(self.groups)

    # Each of these names a drawn node (for a hidden one: its group's) and registers it, with
    # its place in topological order: a tensor's op and the op's constants just before it.

    def _tensor(self, t: Tensor) -> str:
        return self._hidden_or(id(t), "t", _kind(t), t, 3 * self.recorded.index[id(t)] + 2)

    def _op(self, node: Context) -> str:
        return self._hidden_or(id(node), "op", "op", node, self._op_place(node) + 1)

    def _constant(self, node: Context, i: int) -> str:
        place = self._op_place(node) + i / 100
        return self._register(f"k{id(node)}_{i}", "const", node.inputs[i], place)

    def _op_place(self, node: Context) -> int:
        return 3 * self.recorded.index[id(self.recorded.output[id(node)])]

    def _hidden_or(self, key: int, prefix: str, kind: str, obj: Any, place: float) -> str:
        group = self.hidden.get(key)
        if group is not None:
            return self._register(group.name, "collapsed", group, 3 * group.position + 2)
        return self._register(f"{prefix}{key}", kind, obj, place)

    def _register(self, name: str, kind: str, obj: Any, place: float) -> str:
        if name not in self.items:
            self.items[name] = (kind, obj)
            self.position[name] = place
        return name

    def _inputs(self, name: str) -> list[tuple[str, str]]:
        """The drawn inputs of a drawn node, as (name, edge style), in argument order."""
        kind, obj = self.items[name]
        if kind in ("param", "data", "value"):
            return [(self._op(obj._node), "data")] if obj._node is not None else []
        if kind == "collapsed":
            return list(dict.fromkeys((self._tensor(x), "data") for x in obj.inputs))
        if kind != "op":
            return []
        blamed = {b.input_index for b in self.marks.ops.get(id(obj), ())}
        drawn = []
        for i, x in enumerate(obj.inputs):
            tail = self._tensor(x) if isinstance(x, Tensor) else self._constant(obj, i)
            drawn.append((tail, "culprit" if i in blamed else "data"))
        return drawn

    def _edges(
        self, order: list[str], kept: set[str], inputs: dict[str, list[tuple[str, str]]]
    ) -> list[_Edge]:
        """The drawn edges, head by head in drawing order (`order` lists `kept`)."""
        edges: list[_Edge] = []
        seen_group_edges: set[tuple[str, str]] = set()
        for head in order:
            cut = False
            for tail, style in inputs[head]:
                if tail not in kept:
                    cut = True
                elif tail.startswith("more_") and (tail, head) in seen_group_edges:
                    continue  # one edge stands for all hidden ones between two nodes
                else:
                    seen_group_edges.add((tail, head))
                    edges.append(_Edge(tail, head, style))
            if cut:
                edges.append(_Edge(self.OMITTED, head, "omitted"))
        return edges

    def _cut(self, kept: set[str], total: int, max_nodes: int | None) -> str:
        """Name the "… N more" node and say in the graph's label what was left out."""
        left_out = total - len(kept)
        self.items[self.OMITTED] = ("omitted", f"… {left_out:,} more nodes")
        return (
            f"max_nodes={max_nodes}: drew {len(kept):,} of {total:,} nodes; left out the "
            f"{left_out:,} farthest from the output ({self._summarize_left_out(kept)}). "
            "Pass a larger max_nodes (or None) to draw more."
        )

    def _summarize_left_out(self, kept: set[str]) -> str:
        """Counts of what was left out: the most common ops by name, tensors, constants."""
        r, groups = self.recorded, self.groups
        drawn = Counter(kind for kind, _ in map(self.items.__getitem__, kept))
        ops = Counter(node.name for node in r.ops if id(node) not in self.hidden)
        ops.subtract(obj.name for kind, obj in map(self.items.__getitem__, kept) if kind == "op")
        parts = [f"{n:,} {name}" for name, n in ops.most_common(3) if n > 0]
        other_ops = sum(n for _, n in ops.most_common()[3:])
        if other_ops > 0:
            parts.append(f"{other_ops:,} other ops")
        tensors = len(r.tensors) - sum(g.tensors for g in groups)
        parts.append(f"{tensors - drawn['param'] - drawn['data'] - drawn['value']:,} tensors")
        constants = r.constants - sum(g.constants for g in groups) - drawn["const"]
        if constants:
            parts.append(f"{constants:,} constants")
        if len(groups) > drawn["collapsed"]:
            parts.append(f'{len(groups) - drawn["collapsed"]:,} "× N more" nodes')
        return ", ".join(parts)


def _walk_inputs(
    starts: list[str], inputs_of: Callable[[str], list[tuple[str, str]]], limit: int
) -> tuple[set[str], dict[str, list[tuple[str, str]]]]:
    """Breadth-first from `starts` against the data flow: the `limit` nodes nearest to them,
    and the inputs of each."""
    kept: set[str] = set()
    inputs: dict[str, list[tuple[str, str]]] = {}
    queue = deque(starts)
    while queue and len(kept) < limit:
        name = queue.popleft()
        if name in kept:
            continue
        kept.add(name)
        inputs[name] = inputs_of(name)
        queue.extend(tail for tail, _ in inputs[name] if tail not in kept)
    return kept, inputs


# ------------------------------------------------------------------ labels

_Line = tuple[str, str]  # (text, role): role is "title", "body", "small" or "alert"


def _html(lines: list[_Line]) -> str:
    """An HTML-like graphviz label; every text is escaped, so names like "<W&b>" are safe."""
    parts = []
    for text, role in lines:
        for row in text.split("\n"):
            row = html.escape(row, quote=False)
            if role == "title":
                row = f"<b>{row}</b>"
            elif role == "small":
                row = f'<font point-size="9">{row}</font>'
            elif role == "alert":
                row = f'<font color="{RED}"><b>{row}</b></font>'
            parts.append(row)
    return "<" + "<br/>".join(parts) + ">"


def _tensor_lines(t: Tensor, show_grad: bool, show_values: bool, backward_ran: bool) -> list[_Line]:
    lines: list[_Line] = []
    if t.name is not None:
        lines.append((t.name, "title"))
    lines.append((f"{t.shape} {t.dtype}", "body"))
    if show_grad and t.grad is not None:
        lines.append((f"grad norm {_number(float(np.linalg.norm(t.grad)))}", "small"))
    elif show_grad and backward_ran and t._node is None and t.requires_grad:
        lines.append(("grad: None (backward did not reach it)", "small"))
    if show_values and t.size <= MAX_VALUES_SHOWN:
        lines.append((_values(t.data), "small"))
    return lines


def _op_lines(node: Context, blames: list[_Blame] | None) -> list[_Line]:
    lines: list[_Line] = [(node.name, "title")]
    arguments = _non_default_kwargs(node)
    if arguments:
        lines.append((arguments, "small"))
    for blame in blames or ():
        error = "flagged" if blame.rel_error is None else f"rel. error {_number(blame.rel_error)}"
        where = "" if blame.input_index is None else f" (input {blame.input_index})"
        lines.append((error + where, "alert"))
    return lines


def _group_lines(group: _Group) -> list[_Line]:
    return [
        (group.title, "title"),
        (group.detail, "small"),
        (f"hides {group.ops:,} ops, {group.tensors:,} tensors", "small"),
    ]


def _number(x: float) -> str:
    return f"{x:.4g}"


def _values(data: np.ndarray) -> str:
    return np.array2string(
        data, precision=4, separator=", ", suppress_small=True, max_line_width=48
    )


def _non_default_kwargs(node: Context) -> str:
    defaults = _forward_defaults(node.fn)
    shown = [
        f"{name}={_compact(value)}"
        for name, value in node.kwargs.items()
        if not _is_default(value, defaults.get(name, inspect.Parameter.empty))
    ]
    return ", ".join(shown)


@functools.lru_cache(maxsize=256)
def _forward_defaults(fn: type) -> dict[str, Any]:
    try:
        parameters = inspect.signature(fn.forward).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty or type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return False


def _compact(value: Any) -> str:
    """A short text for a kwarg or constant: `2`, `0.5`, `(0, 1)`, `[0, 2, 1]`, `1:3`."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        text = repr(value)
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
    elif isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, np.ndarray):
        text = _compact_array(value)
    elif isinstance(value, tuple):
        inner = ", ".join(map(_compact, value))
        text = f"({inner},)" if len(value) == 1 else f"({inner})"
    elif isinstance(value, list):
        text = "[" + ", ".join(map(_compact, value)) + "]"
    elif isinstance(value, slice):
        parts = (value.start, value.stop, value.step)
        text = ":".join("" if v is None else _compact(v) for v in parts)
        text = text[:-1] if value.step is None else text
    elif value is Ellipsis:
        text = "..."
    else:
        text = type(value).__name__
    return text if len(text) <= MAX_ARG_CHARS else text[: MAX_ARG_CHARS - 1] + "…"


def _compact_array(value: np.ndarray) -> str:
    if value.size <= 6:
        return np.array2string(value, precision=4, separator=", ", max_line_width=10_000)
    return f"{value.dtype} array {value.shape}"


# ------------------------------------------------------------------ emitting the Digraph


def _emit(
    view: _View,
    marks: _Marks,
    notes: list[str],
    show_grad: bool,
    show_values: bool,
    rankdir: str,
    legend: bool,
) -> graphviz.Digraph:
    digraph = graphviz.Digraph(
        "tinygrad_edu",
        graph_attr={**GRAPH_ATTRS, "rankdir": rankdir},
        node_attr=NODE_ATTRS,
        edge_attr=EDGE_ATTRS,
    )
    for name in view.order:
        kind, obj = view.items[name]
        lines, overlays = _node_look(kind, obj, marks, show_grad, show_values, view.recorded)
        if name == view.root_name:
            overlays.append("root")
        digraph.node(name, _html(lines), **_style(kind, overlays))
    for edge in view.edges:
        digraph.edge(edge.tail, edge.head, **EDGE_STYLES[edge.style])
    if legend:
        _add_legend(digraph)
    if notes:
        digraph.attr(label=_html([(note, "small") for note in notes]))
    return digraph


def _node_look(
    kind: str, obj: Any, marks: _Marks, show_grad: bool, show_values: bool, recorded: _Recorded
) -> tuple[list[_Line], list[str]]:
    """A drawn node's label lines, and the style overlays on top of its kind's style."""
    if kind == "op":
        blames = marks.ops.get(id(obj))
        return _op_lines(obj, blames), [] if blames is None else ["culprit"]
    if kind == "const":
        return [(_compact(obj), "body")], []
    if kind == "collapsed":
        return _group_lines(obj), []
    if kind == "omitted":
        return [(obj, "body")], []
    lines = _tensor_lines(obj, show_grad, show_values, recorded.backward_ran)
    return lines, ["culprit"] if id(obj) in marks.tensors else []


def _style(kind: str, overlays: list[str]) -> dict[str, str]:
    style = dict(STYLES[kind])
    for overlay in overlays:
        style.update(STYLES[overlay])
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


from .tensor import register_drawer  # noqa: E402

register_drawer(draw_graph)
