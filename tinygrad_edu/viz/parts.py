"""The two parts of a gradient's graph: the forward computation that was differentiated, and
the backward computation `grad(..., create_graph=True)` recorded on top of it.

The graph of `g = tinygrad_edu.grad(loss, W, create_graph=True)[0]` holds the ops each
backward ran (MatMul, Transpose, Where, ...), which read the forward values they saved (the
inputs of the forward ops, and some of their outputs): so the forward ops that made those
values are in it too. Drawn as one graph, the two look alike; `draw_graph` puts each in a box
of its own.

Which part an op belongs to:

    forward= given   (`draw_graph(g, forward=loss)`, or the highlight is a gradgradcheck
                     report, whose `output` is fn's): the ops of that tensor's graph are the
                     forward part, every other op the backward part. Exact.
    otherwise        read off the graph. `grad` seeds the walk with an upstream gradient of
                     ones, a leaf with no name that requires no grad; a backward's first steps
                     on it alone (divided by the batch size for a mean, broadcast for a sum) are
                     not recorded and give such leaves too, each of one value throughout. The
                     ops that depend on such a leaf, and every op created after the first of
                     them (ops are numbered in creation order), are the backward part. A
                     backward that begins by recomputing forward values from its inputs (the
                     fused softmax loss recomputes its probabilities) makes ops before that
                     first one: they are drawn in the forward part, whose values they compute.
                     With no such leaf (the graph of a loss, or a gradient seeded with varied
                     values), nothing is split. A leaf of one value that the forward itself
                     computed with (a Tensor of ones) is taken for a seed: pass forward=.

A leaf belongs to the forward part when a forward op reads it (parameters, data), else to the
backward part (the upstream gradient, constants the backward made).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..tensor import Tensor
from .recorded import Recorded

__all__ = ["FORWARD", "BACKWARD", "Parts", "split_parts"]

FORWARD, BACKWARD = "forward", "backward"


@dataclass(frozen=True)
class Parts:
    """part   id(tensor or op node) -> FORWARD or BACKWARD; empty when nothing is split
    seeds     ids of the upstream-gradient leaves, and leaves made from them alone (labelled
              "upstream gradient")"""

    part: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    seeds: frozenset[int] = frozenset()


def split_parts(recorded: Recorded) -> Parts:
    """The parts of the graph `recorded` flattened (see the module docstring), split at its
    `forward` if it was given one."""
    seeds = frozenset(id(t) for t in recorded.tensors if _is_seed(t, recorded))
    if recorded.forward is not None:
        ops = {id(t._node) for t in recorded.forward if t._node is not None}
        backward_ops = {id(node) for node in recorded.ops if id(node) not in ops}
    elif seeds:
        backward_ops = _after_the_seeds(recorded, seeds)
    else:
        return Parts()
    if not backward_ops or len(backward_ops) == len(recorded.ops):
        return Parts(seeds=seeds)  # one part only: nothing to tell apart
    part: dict[int, str] = {}
    for t in recorded.tensors:
        node = t._node
        if node is not None:
            part[id(node)] = part[id(t)] = BACKWARD if id(node) in backward_ops else FORWARD
        else:
            readers = recorded.consumers.get(id(t), [])
            read_forward = any(id(n) not in backward_ops for n in readers)
            part[id(t)] = FORWARD if read_forward and id(t) not in seeds else BACKWARD
    return Parts(MappingProxyType(part), seeds)


def _is_seed(t: Tensor, recorded: Recorded) -> bool:
    """A leaf as `grad` makes the default upstream gradient, or a backward's unrecorded first
    steps on it: no name, no grad, floating-point, one value throughout."""
    if t._node is not None or t.requires_grad or t.name is not None or t.dtype.kind != "f" \
            or t.size == 0 or id(t) not in recorded.consumers:
        return False
    flat = t.data.reshape(-1)
    return bool(np.all(flat == flat[0]))


def _after_the_seeds(recorded: Recorded, seeds: frozenset[int]) -> set[int]:
    """The ops that depend on a seed, and every op created after the first of them."""
    dependent = set(seeds)
    first = None
    for t in recorded.tensors:  # inputs first
        node = t._node
        if node is None:
            continue
        if any(isinstance(x, Tensor) and id(x) in dependent for x in node.inputs):
            dependent.add(id(t))
            first = node.sequence_nr if first is None else min(first, node.sequence_nr)
    if first is None:
        return set()
    return {id(node) for node in recorded.ops
            if node.sequence_nr >= first or id(recorded.output[id(node)]) in dependent}
