"""Structural checks of each op, on guarded copies of its own inputs: faults a finite
difference may not show, or shows without saying which op is to blame.

For every op of the recorded graph, on fresh copies of the inputs it saw:

    forward twice          the same inputs must give the same output (no random or changing
                           state inside the op), and forward must leave its inputs alone
    backward, guarded      backward must leave the arrays saved for it and the upstream
                           gradient alone (another consumer of either would see the change)
    forward, forward, then backward of the first
                           must give what backward gave right after its own forward: an op that
                           keeps state outside ctx (a cache of its last output) fails this

Each costs a few calls of the op alone, about what one evaluation of fn costs for all of them.
A problem found is a `Culprit` naming the op and what it did.

On a check that passed, only the guarded forward and backward run, and only for users' ops
(a user's Function, a user's subclass of a built-in op, a built-in op whose backward was
replaced): the library's own ops are checked by its test suite, and are only run forward here
to give the ops after them their inputs. A check that failed inspects every op, thoroughly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..modes import enable_grad, no_grad
from ..tensor import Context, Tensor, topological_order
from .outcomes import Culprit
from .report import wrote_into_saved
from .run import random_weights

__all__ = ["inspect_ops"]

SAME_RTOL = 1e-12  # two runs of a deterministic op agree to this (BLAS may reorder sums)


def inspect_ops(output: Tensor, seed: int = 0, leaves: dict[int, np.ndarray] | None = None,
                *, thorough: bool = True) -> list[Culprit]:
    """The structural problems of the ops of output's graph, in creation order.

    The graph is replayed op by op on copies: each op gets the values its inputs had when it
    ran in the replay (an op that changed its inputs in the recorded call is then caught in
    the act). `leaves` maps id(leaf Tensor) to the values to start from (fn's inputs as the
    caller gave them); other leaves start from their current values.

    thorough=False is for a check that passed: the second forward and the forward, forward,
    backward sequence are skipped (what they catch shows in fn's own repeat and differences),
    and so is the inspection of the library's own ops (`is_library_op`: the test suite checks
    them), which are only run forward to give the ops after them their inputs."""
    order = [t for t in topological_order(output, only_requiring_grad=True)  # inputs first
             if t.grad_fn is not None]
    inspected = [not is_library_op(t.grad_fn) or thorough for t in order]  # type: ignore[arg-type]
    if True not in inspected:
        return []
    pattern = _Pattern(np.random.default_rng(seed))
    values: dict[int, np.ndarray] = dict(leaves or {})
    culprits: list[Culprit] = []
    last = max(k for k, wanted in enumerate(inspected) if wanted)
    for tensor, wanted in zip(order[:last + 1], inspected, strict=False):
        node: Context = tensor.grad_fn  # type: ignore[assignment]
        inputs = [values.get(id(x), x.data) if isinstance(x, Tensor) else None
                  for x in node.inputs]
        if wanted:
            found, out = _inspect(node, inputs, pattern, thorough)
            culprits += found
        else:
            out = _forward(node, inputs)
        if out is not None:
            values[id(tensor)] = out
    return culprits


def is_library_op(node: Context) -> bool:
    """Whether the op's forward and backward are tinygrad_edu's own (not a user's Function, a
    user's subclass of a built-in op, or a built-in op with a replaced backward)."""
    return all(getattr(f, "__module__", "").split(".")[0] == "tinygrad_edu"
               for f in (node.fn.forward, node.fn.backward))


class _Pattern:
    """Upstream gradients for the replayed backward passes: random signs times magnitudes in
    [0.5, 1] (`random_weights`), drawn once and tiled, so that a large graph does not draw (and
    allocate) a fresh random array per op."""

    PERIOD = 4099  # prime: the tiling does not line up with the axes of common shapes

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.block = rng, np.empty(0)

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        size = int(np.prod(shape))
        if self.block.size == 0:
            self.block = random_weights(self.rng, self.PERIOD)
        tiled = np.resize(self.block, size) if size > self.PERIOD else self.block[:size]
        return tiled.reshape(shape).astype(dtype, copy=True)


def _forward(node: Context, inputs: list[np.ndarray | None]) -> np.ndarray | None:
    """The op's output on these input values, not recorded (a library op leaves its inputs
    alone)."""
    arguments = [x if data is None else data for x, data in zip(node.inputs, inputs, strict=True)]
    try:
        with no_grad():
            return node.fn.apply(*arguments, **node.kwargs).data
    except Exception:  # noqa: BLE001 - the ops after it start from their recorded inputs
        return None


def _copies(node: Context, inputs: list[np.ndarray | None], scale: float) -> list[Any]:
    """Fresh leaf Tensors of these input values (float values times 1 + scale), constants as
    the node got them."""
    copies: list[Any] = []
    for x, data, needs in zip(node.inputs, inputs, node.needs_input_grad, strict=True):
        if data is None:
            copies.append(x)
            continue
        data = data * (1 + scale) if scale and data.dtype.kind == "f" else data.copy()
        copies.append(Tensor(data, requires_grad=needs))
    return copies


def _run(node: Context, inputs: list[Any]) -> tuple[Tensor, Context]:
    with enable_grad():
        out = node.fn.apply(*inputs, **node.kwargs)
    ctx = out.grad_fn
    if ctx is None:
        raise _Skip
    return out, ctx


class _Skip(Exception):
    """The op cannot be run on copies here; its finite differences speak for it."""


def _backward(ctx: Context, grad: np.ndarray) -> list[np.ndarray]:
    """The op's own backward on (ctx, grad), its gradients as arrays."""
    result = ctx.fn.backward(ctx, grad)
    grads = result if isinstance(result, tuple) else (result,)
    return [np.asarray(g.data if isinstance(g, Tensor) else g) if g is not None
            else np.zeros(0) for g in grads]


def _inspect(node: Context, values: list[np.ndarray | None], pattern: _Pattern,
             thorough: bool) -> tuple[list[Culprit], np.ndarray | None]:
    """The op's problems on copies of these input values, and its output."""
    op = node.name

    def culprit(message: str, input_index: int | None = None) -> list[Culprit]:
        return [Culprit(node, op, input_index, float("inf"), message)]

    try:
        inputs = _copies(node, values, 0.0)
        out, ctx = _run(node, inputs)
        result = out.data
        for i, (x, kept) in enumerate(zip(inputs, values, strict=True)):
            if kept is not None and not _same(x.data, kept):
                return culprit(f"forward of {op} writes into its input {i} (by up to "
                               f"{_gap(x.data, kept):.1e}): compute out of place", i), result
        again = _run(node, _copies(node, values, 0.0))[0] if thorough else out
        if not _same(again.data, out.data):
            return culprit(f"forward of {op} is not deterministic: two calls on the same inputs "
                           f"differ by up to {_gap(again.data, out.data):.1e} (random or "
                           "changing state inside the op)"), result
        grad = pattern(out.shape, out.dtype)
        return _inspect_backward(node, values, ctx, grad, culprit, thorough), result
    except Exception:  # noqa: BLE001 - _Skip, or what the finite differences report
        return [], None


def _inspect_backward(node: Context, values: list[np.ndarray | None], ctx: Context,
                      grad: np.ndarray, culprit: Any, thorough: bool) -> list[Culprit]:
    op = node.name
    # Arrays the engine made read-only cannot change: a write into them raises.
    saved = [(k, a, a.copy()) for k, a in enumerate(ctx.saved_tensors)
             if isinstance(a, np.ndarray) and a.flags.writeable]
    upstream = grad.copy()
    try:
        first = _backward(ctx, upstream)
    except ValueError as error:
        if wrote_into_saved(error):
            return culprit(f"backward of {op} writes into the arrays saved for it "
                           f"({type(error).__name__}): compute out of place")
        raise
    for k, array, kept in saved:
        if not _same(array, kept):
            return culprit(f"backward of {op} writes into its saved array {k} (by up to "
                           f"{_gap(array, kept):.1e}): a second backward would see the change")
    if not _same(upstream, grad):
        return culprit(f"backward of {op} writes into its upstream gradient (by up to "
                       f"{_gap(upstream, grad):.1e}): another consumer of that array would "
                       "see the change; compute out of place")
    if not thorough:
        return []
    _, ctx_b = _run(node, _copies(node, values, 0.0))
    _run(node, _copies(node, values, 1e-2))  # another call in between
    later = _backward(ctx_b, grad.copy())
    for i, (a, b) in enumerate(zip(first, later, strict=False)):
        if a.shape == b.shape and not _same(a, b):
            return culprit(f"backward of {op} depends on later calls of its forward (its "
                           f"gradient for input {i} changed by up to {_gap(a, b):.1e}): it "
                           "keeps state outside ctx; save what backward needs with "
                           "ctx.save_for_backward", i)
    return []


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if np.array_equal(a, b) or a.dtype.kind not in "fc":  # the usual case, and the cheapest
        return bool(np.array_equal(a, b))
    scale = np.maximum(np.abs(a), np.abs(b))
    close = np.abs(a - b) <= SAME_RTOL * scale
    return bool(np.all(close | (np.isnan(a) & np.isnan(b)) | (a == b)))


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(invalid="ignore"):
        gap = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return float(np.nanmax(gap, initial=0.0)) if gap.size else 0.0
