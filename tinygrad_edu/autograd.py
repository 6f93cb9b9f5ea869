"""`grad(outputs, inputs, ...)`: gradients returned instead of accumulated, to any order.

With PyTorch's names and meanings (`torch.autograd.grad`). With `create_graph=True` the
returned gradients are recorded Tensors: differentiate them again for second derivatives,
Hessian-vector products, gradient penalties. Each built-in op's backward is written with
operations that work on arrays and Tensors alike, so the same code serves both orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .modes import enable_grad
from .ops.broadcast import zeros_like
from .tensor import Context, Function, Tensor, _make, topological_order
from .validation import named, upstream_gradient
from .walk import run_backward

__all__ = ["grad"]


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`: one Tensor per input, of its shape.

    outputs            a Tensor or a sequence of them: the sum of outputs[k] · grad_outputs[k]
                       is differentiated
    inputs             a Tensor or a sequence of Tensors that require grad (leaves or not)
    grad_outputs       one per output: an array or Tensor of its shape, or None (1 for a
                       one-element output). A Tensor that requires grad is differentiated
                       through (the double-vjp trick behind `functional.jvp`).
    retain_graph       keep the graph's saved arrays for another walk (default: create_graph)
    create_graph       record the gradient computation, so the results can be differentiated
                       again, to any order
    allow_unused       an input no output with a graph reaches gets None (or zeros with
                       materialize_grads) instead of an error

    No `.grad` is read or written. A derivative that is identically zero (the gradient of
    `2 * x` with respect to x, once more) comes out as zeros, not as an error: under
    create_graph every returned gradient stays connected to the inputs.
    """
    outs = _as_tensor_list("outputs", outputs)
    ins = _as_tensor_list("inputs", inputs)
    seeds = _seeds(outs, grad_outputs, create_graph)
    for i, x in enumerate(ins):
        if not x.requires_grad:
            raise ValueError(
                f"grad: input {i}{named(x.name)} (shape {x.shape}) does not require grad, so "
                "nothing can be differentiated with respect to it; create it with "
                "requires_grad=True"
            )
    if retain_graph is None:
        retain_graph = create_graph
    roots = [(o, g) for o, g in zip(outs, seeds) if o.requires_grad]
    capture: dict[int, int] = {}
    for i, x in enumerate(ins):
        capture.setdefault(id(x), i)  # an input listed twice is captured once, then copied
    found: list[Any] = [None] * len(ins)  # by each input's first position
    if roots:
        found = run_backward(
            [o for o, _ in roots], [g for _, g in roots], retain_graph, create_graph, capture
        ) or found
    found = [found[capture[id(x)]] for x in ins]
    results: list[Tensor | None] = []
    reached: set[int] | None = None
    for i, (x, g) in enumerate(zip(ins, found)):
        if g is None:
            if reached is None:  # only worked out when some input got nothing
                reached = {id(t) for o, _ in roots for t in topological_order(o, True)}
            if id(x) not in reached and not allow_unused:
                raise ValueError(
                    f"grad: input {i}{named(x.name)} (shape {x.shape}) is not reached from the "
                    "outputs' graphs; pass allow_unused=True to get None for it"
                )
            if id(x) not in reached and not materialize_grads:
                results.append(None)
                continue
            g = np.zeros(x.shape, dtype=x.dtype)
        results.append(_as_result(g, x, ins, create_graph))
    return tuple(results)


def _as_tensor_list(what: str, value: Any) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else value
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"grad: {what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}") from None
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"grad: {what}[{i}] must be a Tensor, got {type(item).__name__}")
    if not items:
        raise ValueError(f"grad: {what} is empty")
    return items


def _seeds(outs: list[Tensor], grad_outputs: Any, create_graph: bool) -> list[Any]:
    """One upstream gradient per output: arrays, or Tensors under create_graph."""
    if grad_outputs is None:
        given: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        if len(outs) != 1:
            raise ValueError("grad: give grad_outputs as a sequence, one per output")
        given = [grad_outputs]
    else:
        given = list(grad_outputs)
    if len(given) != len(outs):
        raise ValueError(f"grad: {len(given)} grad_outputs for {len(outs)} outputs")
    seeds = []
    for k, (o, g) in enumerate(zip(outs, given)):
        if g is None:
            if o.size != 1:
                raise ValueError(
                    f"grad: output {k} has shape {o.shape}; a gradient can be implied only for a "
                    "one-element output. Pass grad_outputs."
                )
            g = np.ones(o.shape, dtype=o.dtype)
        array = upstream_gradient("grad", f"grad_outputs[{k}]", g.data if isinstance(g, Tensor) else g,
                                  o.data, f"output {k}")
        if isinstance(g, Tensor):  # kept as it is: under create_graph, a gradient depending on it
            seeds.append(g if create_graph else array)
        else:
            seeds.append(_make(array) if create_graph else array)
    return seeds


def _as_result(g: Any, x: Tensor, ins: list[Tensor], create_graph: bool) -> Tensor:
    if not create_graph:
        array = g.data if isinstance(g, Tensor) else g
        return _make(np.array(array, dtype=x.dtype))  # a copy we own, in the input's dtype
    if not isinstance(g, Tensor):
        g = _make(np.asarray(g, dtype=x.dtype))
    if g.dtype != x.dtype:
        g = g.astype(x.dtype)
    if not g.requires_grad:
        # Computed from constants only: its derivative with respect to the inputs is zero.
        # Record that (also under no_grad: create_graph asks for a graph), so differentiating
        # it again gives zeros rather than "unused".
        with enable_grad():
            g = ZeroDerivative.apply(g, *ins)
    return g


class ZeroDerivative(Function):
    """A value that depends on `inputs` with derivative zero (a gradient that came out
    constant, as d(2x)/dx). Forward: a copy of the value; backward: zeros for every input."""

    @staticmethod
    def forward(ctx: Context, value: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
        return np.array(value)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        recorded = isinstance(grad, Tensor)  # under create_graph: constant Tensors
        return (None, *[(zeros_like(x) if recorded else np.zeros(x.shape, x.dtype)) if need else None
                        for x, need in zip(ctx.inputs[1:], ctx.needs_input_grad[1:])])
