"""The graph a Tensor recorded, flattened once for the drawing: its tensors in topological
order, its ops, and who consumes each tensor. Everything else in `viz` reads this."""

from __future__ import annotations

from ..tensor import Context, Tensor, topological_order


class Recorded:
    """Every tensor below `root` in topological order (inputs first), and who consumes each.

    Tensors and op nodes are known by their id() while drawing (both are alive, so ids are
    unique); the drawn node names are made from them, so drawing the same graph twice gives
    the same names. Read-only once built.

    tensors       list[Tensor], inputs before the ops that use them
    roots         `root`, and `forward` if given: the output a gradient `root` is of (drawn
                  with it, so that the forward computation shows whole, its loss op too)
    forward       the tensors of `forward`'s graph (the first of `tensors`); None without it
    ops           the op nodes, in the order of the tensors they made
    output        id(node) -> the tensor it made
    consumers     id(tensor) -> the ops that take it as an input, once per use (x * x: Mul twice)
    constants     how many inputs of all ops are not Tensors (each drawn as a node of its own)
    backward_ran  whether some tensor of the graph has a gradient
    """

    def __init__(self, root: Tensor, forward: Tensor | None = None) -> None:
        self.roots = [root] if forward is None or forward is root else [root, forward]
        self.tensors = topological_order(root)
        self.forward = None if forward is None else self.tensors
        if forward is not None and forward is not root:  # forward's graph first: root's may read it
            self.forward = topological_order(forward)
            seen = {id(t) for t in self.forward}
            self.tensors = self.forward + [t for t in self.tensors if id(t) not in seen]
        self.ops: list[Context] = []
        self.output: dict[int, Tensor] = {}
        self.consumers: dict[int, list[Context]] = {}
        self.constants = 0
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
