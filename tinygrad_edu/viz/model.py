"""What to draw: the graph model, built from a recorded graph without Graphviz.

`build_model(root, ...)` flattens the graph `root` was computed by (`recorded`), marks what to
highlight (`highlight`), hides long repeats (`collapse`), then walks from the root against the
data flow, keeping at most `max_nodes` nodes. The result, a `GraphModel`, is frozen plain
data: nodes with a kind, label lines and overlays, in drawing order; edges with a kind; the
notes for the graph's label. The look module only maps kinds to styles and lines to markup.

The one place that decides a drawn node's kind, label and inputs is `_ModelBuilder._describe`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..tensor import Context, Tensor
from .collapse import Collapsed, Group, collapse_repeats
from .highlight import Marks, forward_of, resolve_highlight
from .labels import (
    Line,
    constant_lines,
    group_lines,
    omitted_lines,
    op_lines,
    tensor_lines,
)
from .parts import Parts, split_parts
from .recorded import Recorded
from .text import shown

OMITTED = "omitted"  # the name of the "… N more nodes" node


class NodeKind(Enum):
    """What a drawn node stands for (the values are the keys of the look's STYLES)."""

    PARAM = "param"  # a leaf that requires grad (W, b)
    DATA = "data"  # a leaf that requires no grad (X)
    VALUE = "value"  # the output of an op
    OP = "op"  # the Function that ran, with its non-default kwargs
    CONST = "const"  # an argument of an op that is not a Tensor (the 2 in x * 2)
    COLLAPSED = "collapsed"  # "× N more": repeats hidden behind one node
    OMITTED = "omitted"  # "… N more nodes": what max_nodes left out


class EdgeKind(Enum):
    DATA = "data"  # an input flowing into an op, an op into its output
    CULPRIT = "culprit"  # from the input whose gradient a culprit op gets wrong
    OMITTED = "omitted"  # from the "… N more nodes" node, where inputs were left out


@dataclass(frozen=True)
class Node:
    name: str  # unique and stable: "t<id>", "op<id>", "k<id>_<i>", a group's, "omitted"
    kind: NodeKind
    lines: tuple[Line, ...]
    culprit: bool = False  # drawn red: blamed by gradcheck, or highlighted by the user
    root: bool = False  # the drawn output
    part: str = ""  # of a gradient's graph: parts.FORWARD or parts.BACKWARD ("" if not split)


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    kind: EdgeKind = EdgeKind.DATA


@dataclass(frozen=True)
class GraphModel:
    """What draw_graph draws. `nodes` are in drawing order: an op's constants, then the op,
    then its output, in the topological order of the tensors; a collapsed group takes the
    place of its first hidden tensor; the "… N more nodes" node comes last."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...]  # the graph's label: highlight, collapsing and max_nodes notes

    @functools.cached_property
    def by_name(self) -> Mapping[str, Node]:
        return {node.name: node for node in self.nodes}


def build_model(
    root: Tensor,
    *,
    show_grad: bool = True,
    show_values: bool = False,
    highlight: Any = None,
    max_nodes: int | None = 500,
    forward: Tensor | None = None,
) -> GraphModel:
    """The model of the graph `root` was computed by (draw_graph's arguments, same meaning)."""
    _check_options(root, max_nodes, forward)
    with _gc_paused():
        forward = forward if forward is not None else forward_of(highlight)
        recorded = Recorded(root, forward)
        marks = resolve_highlight(highlight, recorded)
        parts = split_parts(recorded)
        collapsed = collapse_repeats(recorded, marks)
        return _ModelBuilder(recorded, marks, collapsed, show_grad, show_values,
                             parts).build(max_nodes)


def _check_options(root: Any, max_nodes: int | None, forward: Any) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: root must be a Tensor, got {type(root).__name__}")
    if forward is not None and not isinstance(forward, Tensor):
        raise TypeError(
            "draw_graph: forward must be the Tensor whose gradient root is (the loss given to "
            f"grad), or None; got {type(forward).__name__}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2
    ):
        raise ValueError(
            "draw_graph: max_nodes must be an int of at least 2 (the output and a note of what "
            f"was left out), or None for no cap; got {max_nodes!r}"
        )


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


@dataclass(frozen=True)
class _Constant:
    """An argument of an op that is not a Tensor: its `position` among `node.inputs`."""

    node: Context
    position: int


def _constant_name(node: Context, position: int) -> str:
    return f"k{id(node)}_{position}"


_Item = Tensor | Context | _Constant | Group  # what a drawn node stands for
_Inputs = list[tuple[str, EdgeKind]]  # a drawn node's drawn inputs: (name, edge kind)


class _ModelBuilder:
    """Walks from the root against the data flow, naming and describing what it meets; hidden
    tensors and ops are replaced by their group. `build()` returns the frozen model."""

    def __init__(
        self,
        recorded: Recorded,
        marks: Marks,
        collapsed: Collapsed,
        show_grad: bool,
        show_values: bool,
        parts: Parts,
    ) -> None:
        self.recorded = recorded
        self.marks = marks
        self.collapsed = collapsed
        self.show_grad = show_grad
        self.show_values = show_values
        self.parts = parts
        self._items: dict[str, _Item] = {}  # drawn name -> what it stands for

    def build(self, max_nodes: int | None) -> GraphModel:
        total = self._count_drawable()
        limit = max_nodes - 1 if max_nodes is not None and total > max_nodes else total
        # From the roots, and from the highlighted ops, which a cap keeps:
        starts = [self._tensor(r) for r in self.recorded.roots]
        starts += [self._op(node) for node in self.recorded.ops if id(node) in self.marks.ops]
        kept, inputs = self._walk(starts, limit)
        order = self._order(kept)
        edges = self._edges(order, kept, inputs)
        nodes = [kept[name] for name in order]
        notes = self.marks.notes + self.collapsed.notes()
        if len(kept) < total:
            nodes.append(Node(OMITTED, NodeKind.OMITTED, omitted_lines(total - len(kept))))
            notes += (self._cut_note(kept, total, max_nodes),)
        return GraphModel(tuple(nodes), tuple(edges), notes)

    # Naming: each returns the drawn name of a tensor, op or constant (for a hidden one: its
    # group's) and remembers what the name stands for.

    def _tensor(self, t: Tensor) -> str:
        group = self.collapsed.hidden.get(id(t))
        return self._register(group.name, group) if group else self._register(f"t{id(t)}", t)

    def _op(self, node: Context) -> str:
        group = self.collapsed.hidden.get(id(node))
        return self._register(group.name, group) if group else self._register(f"op{id(node)}", node)

    def _constant(self, node: Context, position: int) -> str:
        return self._register(_constant_name(node, position), _Constant(node, position))

    def _register(self, name: str, item: _Item) -> str:
        self._items.setdefault(name, item)
        return name

    def _describe(self, name: str) -> tuple[Node, _Inputs]:
        """The drawn node `name` names, and its drawn inputs in argument order."""
        item = self._items[name]
        part = self.parts.part
        if isinstance(item, Tensor):
            made_by = item._node
            if made_by is not None:
                kind, inputs = NodeKind.VALUE, [(self._op(made_by), EdgeKind.DATA)]
            else:
                kind, inputs = (NodeKind.PARAM if item.requires_grad else NodeKind.DATA), []
            lines = tensor_lines(item, self.show_grad, self.show_values, self.recorded.backward_ran,
                                 seed=id(item) in self.parts.seeds)
            marked = id(item) in self.marks.tensors
            root = any(item is r for r in self.recorded.roots)
            return Node(name, kind, lines, culprit=marked, root=root,
                        part=part.get(id(item), "")), inputs
        if isinstance(item, Context):
            culprits = self.marks.ops.get(id(item))
            blamed = {c.input_index for c in culprits or ()}
            inputs = [
                (self._tensor(x) if isinstance(x, Tensor) else self._constant(item, i),
                 EdgeKind.CULPRIT if i in blamed else EdgeKind.DATA)
                for i, x in enumerate(item.inputs)
            ]
            lines = op_lines(item, culprits or ())
            return Node(name, NodeKind.OP, lines, culprit=culprits is not None,
                        part=part.get(id(item), "")), inputs
        if isinstance(item, _Constant):
            return Node(name, NodeKind.CONST, constant_lines(item.node.inputs[item.position]),
                        part=part.get(id(item.node), "")), []
        # A group: one edge from each tensor outside it that it consumes.
        inputs = list(dict.fromkeys((self._tensor(x), EdgeKind.DATA) for x in item.inputs))
        return Node(name, NodeKind.COLLAPSED, group_lines(item),
                    part=part.get(item.anchor, "")), inputs

    def _walk(self, starts: list[str], limit: int) -> tuple[dict[str, Node], dict[str, _Inputs]]:
        """Breadth-first from `starts` against the data flow: the `limit` nodes nearest to
        them, described, and the drawn inputs of each."""
        kept: dict[str, Node] = {}
        inputs: dict[str, _Inputs] = {}
        queue = deque(starts)
        while queue and len(kept) < limit:
            name = queue.popleft()
            if name in kept:
                continue
            kept[name], inputs[name] = self._describe(name)
            queue.extend(tail for tail, _ in inputs[name] if tail not in kept)
        return kept, inputs

    def _order(self, kept: Mapping[str, Node]) -> list[str]:
        """The kept names in drawing order, read off the recorded topological order: an op's
        constants, the op, its output; a group where its first hidden tensor was."""
        by_id = {id(self._items[name]): name for name in kept}
        anchored = {group.anchor: group for group in self.collapsed.groups}
        order = []
        for t in self.recorded.tensors:
            node = t._node
            if node is not None and id(node) in by_id:
                for i, x in enumerate(node.inputs):
                    constant = _constant_name(node, i)
                    if not isinstance(x, Tensor) and constant in kept:
                        order.append(constant)
                order.append(by_id[id(node)])
            if id(t) in by_id:
                order.append(by_id[id(t)])
            group = anchored.get(id(t))
            if group is not None and id(group) in by_id:
                order.append(by_id[id(group)])
        return order

    def _edges(
        self, order: list[str], kept: Mapping[str, Node], inputs: Mapping[str, _Inputs]
    ) -> list[Edge]:
        """The drawn edges, head by head in drawing order; an edge from "omitted" into each
        node some of whose inputs were left out."""
        edges: list[Edge] = []
        from_groups: set[tuple[str, str]] = set()
        for head in order:
            cut = False
            for tail, kind in inputs[head]:
                if tail not in kept:
                    cut = True
                elif kept[tail].kind is NodeKind.COLLAPSED:
                    if (tail, head) not in from_groups:  # one edge stands for all hidden ones
                        from_groups.add((tail, head))
                        edges.append(Edge(tail, head, kind))
                else:
                    edges.append(Edge(tail, head, kind))
            if cut:
                edges.append(Edge(OMITTED, head, EdgeKind.OMITTED))
        return edges

    def _count_drawable(self) -> int:
        r, groups = self.recorded, self.collapsed.groups
        hidden = sum(g.ops + g.tensors + g.constants for g in groups)
        return len(r.tensors) + len(r.ops) + r.constants - hidden + len(groups)

    def _cut_note(self, kept: Mapping[str, Node], total: int, max_nodes: int | None) -> str:
        left_out = total - len(kept)
        return (
            f"max_nodes={max_nodes}: drew {len(kept):,} of {total:,} nodes; left out the "
            f"{left_out:,} farthest from the output ({self._summarize_left_out(kept)}). "
            "Pass a larger max_nodes (or None) to draw more."
        )

    def _summarize_left_out(self, kept: Mapping[str, Node]) -> str:
        """Counts of what was left out: the most common ops by name, tensors, constants."""
        r, groups, hidden = self.recorded, self.collapsed.groups, self.collapsed.hidden
        drawn = Counter(node.kind for node in kept.values())
        ops = Counter(node.name for node in r.ops if id(node) not in hidden)
        ops.subtract(item.name for name in kept if isinstance(item := self._items[name], Context))
        parts = [f"{n:,} {shown(name)}" for name, n in ops.most_common(3) if n > 0]
        other_ops = sum(n for _, n in ops.most_common()[3:])
        if other_ops > 0:
            parts.append(f"{other_ops:,} other ops")
        tensors = len(r.tensors) - sum(g.tensors for g in groups)
        drawn_tensors = drawn[NodeKind.PARAM] + drawn[NodeKind.DATA] + drawn[NodeKind.VALUE]
        parts.append(f"{tensors - drawn_tensors:,} tensors")
        constants = r.constants - sum(g.constants for g in groups) - drawn[NodeKind.CONST]
        if constants:
            parts.append(f"{constants:,} constants")
        if len(groups) > drawn[NodeKind.COLLAPSED]:
            parts.append(f'{len(groups) - drawn[NodeKind.COLLAPSED]:,} "× N more" nodes')
        return ", ".join(parts)
