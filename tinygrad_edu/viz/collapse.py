"""Collapsing repeats: the middle of a long chain of identical steps (a loop of 10,000
`y = y * 2`, or of `y = y * 2 + 1`), with whatever feeds only those steps, is hidden behind
one "× N more" node; so are many identical inputs of one op (a user's `Stack(*xs)`).

Steps are compared by structure, not by value: two tensors are alike when they were computed
the same way (same Functions, kwarg names, constant positions, shapes, dtypes) from alike
leaves, so `y * 2` and `y * 3` are repeats. Named tensors, tensors with a gradient, the root
and whatever is highlighted always stay drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..tensor import Context, Tensor
from .highlight import Marks
from .recorded import Recorded
from .text import shown

KEEP_REPEATS = 2  # a collapsed run keeps this many repetitions at each end
MIN_REPEATS = 10  # fewer repetitions than this are drawn in full
MAX_PERIOD = 4  # repeated patterns of up to this many ops are found (x = x * 2 + 1 has 2)


@dataclass(frozen=True, eq=False)
class Group:
    """One "× N more" node: the hidden repetitions of a chain, or identical inputs of one op.

    name       the drawn node's name, from its first hidden member (as stable as theirs)
    title      "× 9,996 more Mul" or "× 46 more inputs like these"
    detail     what one repetition gives ("each → (3,) float64") or what the inputs are
    anchor     id of the hidden tensor whose place in topological order the group takes
    ops, tensors, constants   how many of each it hides
    inputs     the tensors outside it that it consumes, in topological order
    (these four are filled in once everything hidden is known: a draft has none)
    """

    name: str
    title: str
    detail: str
    anchor: int
    ops: int = 0
    tensors: int = 0
    constants: int = 0
    inputs: tuple[Tensor, ...] = ()


@dataclass(frozen=True)
class Collapsed:
    """The groups, and what each hides: id(tensor or node) -> its group."""

    hidden: Mapping[int, Group] = field(default_factory=lambda: MappingProxyType({}))
    groups: tuple[Group, ...] = ()

    def notes(self) -> tuple[str, ...]:
        if not self.groups:
            return ()
        ops = sum(g.ops for g in self.groups)
        return (f'Repeats collapsed: {len(self.groups):,} "× N more" node(s) stand for {ops:,} ops.',)


def collapse_repeats(recorded: Recorded, marks: Marks) -> Collapsed:
    """Hide the middle of long repeated chains and of long runs of identical inputs, with
    whatever feeds only them, behind one "× N more" node each."""
    if len(recorded.tensors) <= MIN_REPEATS:  # too small to hold MIN_REPEATS of anything
        return Collapsed()
    return _Collapser(recorded, marks).run()


class _Collapser:
    """The one object that decides what is hidden: `run()` returns the frozen result."""

    def __init__(self, recorded: Recorded, marks: Marks) -> None:
        self.recorded = recorded
        self.shapes = _Shapes(recorded, marks)
        # Tensors that stay drawn whatever repeats around them.
        self.keep = {id(r) for r in recorded.roots} | set(marks.tensors)
        self.keep.update(id(recorded.output[key]) for key in marks.ops)
        self.private = _private_inputs(recorded, self.keep)
        self.hidden: dict[int, int] = {}  # id(tensor or node) -> index of its draft
        self.drafts: list[Group] = []  # not counted yet

    def run(self) -> Collapsed:
        for chain in _chains(self.recorded, self.shapes, self.private):
            self._collapse_chain(chain)
        self._collapse_identical_inputs()
        if not self.drafts:
            return Collapsed()
        self._hide_what_feeds_only_hidden()
        return self._counted()

    def _hide(self, draft: Group, members: list[Any]) -> None:
        """Start a group: `members` (tensors and op nodes) are hidden behind it."""
        self.drafts.append(draft)
        index = len(self.drafts) - 1
        for member in members:
            self.hidden[id(member)] = index

    def _collapse_chain(self, chain: list[tuple[Context, int]]) -> None:
        """Keep KEEP_REPEATS repetitions at each end of every periodic run; hide the middle."""
        sequence = [self.shapes.link(node, position) for node, position in chain]
        outputs = [self.recorded.output[id(node)] for node, _ in chain]
        for start, period, repeats in _periodic_runs(sequence):
            first = start + KEEP_REPEATS * period
            last = start + (repeats - KEEP_REPEATS) * period  # exclusive
            pattern = " → ".join(shown(node.name) for node, _ in chain[start:start + period])
            out = outputs[start + period - 1]
            draft = Group(
                name=f"more_op{id(chain[first][0])}",
                title=f"× {repeats - 2 * KEEP_REPEATS:,} more {pattern}",
                detail=f"each → {out.shape} {out.dtype}",
                anchor=id(outputs[first]),
            )
            # The last hidden op's output stays drawn: it feeds the kept tail.
            self._hide(draft, [node for node, _ in chain[first:last]] + outputs[first:last - 1])
            self.keep.update(id(t) for t in outputs[start:first] + outputs[last - 1:])

    def _collapse_identical_inputs(self) -> None:
        """An op with many identical private inputs keeps the first and last KEEP_REPEATS of
        them; one "× N more" node stands for the rest."""
        for node in self.recorded.ops:
            positions = self.private.get(id(node), ())
            if len(positions) < MIN_REPEATS or id(node) in self.hidden:
                continue
            alike: dict[int, list[Tensor]] = {}
            for i in positions:
                x = node.inputs[i]
                if id(x) not in self.keep and id(x) not in self.hidden:
                    alike.setdefault(self.shapes.structure[id(x)], []).append(x)
            for same in alike.values():
                if len(same) < MIN_REPEATS:
                    continue
                hidden = same[KEEP_REPEATS:-KEEP_REPEATS]
                sample = same[0]
                if sample._node is not None:
                    made_by = shown(sample._node.name)
                else:
                    made_by = "param" if sample.requires_grad else "data"
                draft = Group(
                    name=f"more_t{id(hidden[0])}",
                    title=f"× {len(hidden):,} more inputs like these",
                    detail=f"{made_by} {sample.shape} {sample.dtype}",
                    anchor=id(hidden[0]),
                )
                self._hide(draft, hidden)

    def _hide_what_feeds_only_hidden(self) -> None:
        """A tensor all of whose consumers are hidden is hidden with them, and so is the op
        that made it. Consumers come after their inputs in topological order, so one sweep
        from the root settles each tensor after all of its consumers."""
        hidden, consumers = self.hidden, self.recorded.consumers
        for t in reversed(self.recorded.tensors):
            if id(t) not in hidden and id(t) not in self.keep:
                users = consumers.get(id(t))
                if users and all(id(u) in hidden for u in users):
                    hidden[id(t)] = hidden[id(users[0])]
            node = t._node
            if node is not None and id(t) in hidden and id(node) not in hidden:
                hidden[id(node)] = hidden[id(t)]

    def _counted(self) -> Collapsed:
        """The groups with what each hides counted, and the tensors outside it it consumes."""
        hidden = self.hidden
        counts = [[0, 0, 0] for _ in self.drafts]  # ops, tensors, constants
        inputs: list[dict[int, Tensor]] = [{} for _ in self.drafts]
        for t in self.recorded.tensors:
            index = hidden.get(id(t))
            if index is not None:
                counts[index][1] += 1
            node = t._node
            index = hidden.get(id(node)) if node is not None else None
            if node is None or index is None:
                continue
            counts[index][0] += 1
            for x in node.inputs:
                if not isinstance(x, Tensor):
                    counts[index][2] += 1
                elif hidden.get(id(x)) != index:
                    inputs[index].setdefault(id(x), x)
        groups = tuple(
            replace(d, ops=ops, tensors=tensors, constants=constants, inputs=tuple(used.values()))
            for d, (ops, tensors, constants), used in zip(self.drafts, counts, inputs, strict=True)
        )
        return Collapsed(MappingProxyType({key: groups[i] for key, i in hidden.items()}), groups)


class _Shapes:
    """Structure ids, hash-consed: two tensors get the same id when they were computed the same
    way (same Functions, kwarg names, constant positions, shapes, dtypes) from alike leaves.
    Kwarg and constant *values* are left out on purpose: y * 2 and y * 3 are repeats."""

    def __init__(self, recorded: Recorded, marks: Marks) -> None:
        self._ids: dict[Any, int] = {}
        self.head: dict[int, int] = {}  # id(node) -> what the op alone looks like
        self.structure: dict[int, int] = {}  # id(tensor) -> what its whole computation looks like
        self.depth: dict[int, int] = {}  # id(tensor) -> the longest path to it from a leaf
        intern, structure, depth = self.intern, self.structure, self.depth
        for t in recorded.tensors:  # the hot loop of a big drawing: plain locals, no properties
            node, data = t._node, t.data
            if node is None:
                name = t.name if t.name is None or type(t.name) is str else shown(t.name)
                structure[id(t)] = intern(("leaf", name, t.requires_grad, data.shape, data.dtype))
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


def _private_inputs(recorded: Recorded, keep: set[int]) -> dict[int, list[int]]:
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
    recorded: Recorded, shapes: _Shapes, private: dict[int, list[int]]
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
        chains.append(list(zip(chain, positions, strict=True)))
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
