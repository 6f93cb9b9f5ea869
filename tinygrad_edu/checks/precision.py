"""float32-only bugs: the check's finite differences run on float64 copies, so an op that
overflows or loses precision only in the caller's dtype would pass unseen. When an input is
float32 (or float16), fn's forward and backward also run in that dtype, and each op of that
graph runs in both dtypes on the same input values:

    NaN/inf in the low precision where float64 gives finite values that the low precision can
    represent (exp(x)/(1 + exp(x)) for x > 88 in float32), or a result that differs from
    float64 by more than LOSS_FACTOR·ε (by norm) names the op.

An op that computes in float32 inside but is right at float32 precision passes. When fn's
float32 gradient differs from its float64 one but no op is to blame (rounding accumulated over
many correct ops), the report gets a note, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..modes import enable_grad
from ..tensor import Context, Tensor
from .outcomes import Culprit, FunctionProblem
from .run import random_weights
from .subject import Subject, recorded_ops

__all__ = ["low_precision_problems", "LOSS_FACTOR"]

LOSS_FACTOR = 1e3  # a result may differ from float64 by this many ε (by norm) of its dtype


def low_precision_problems(subject: Subject, vjp64: Callable[[np.ndarray], list[np.ndarray]],
                           seed: int) -> tuple[list[FunctionProblem], list[Culprit], list[str], int]:
    """(fn-level problems, ops named, notes, calls of fn made). Nothing when every Tensor
    input is float64."""
    dtypes = [x.dtype for x in subject.originals if isinstance(x, Tensor) and x.dtype.kind == "f"]
    low = [d for d in dtypes if d.itemsize < 8]
    if not low:
        return [], [], [], 0
    dtype = min(low, key=lambda d: d.itemsize)
    rng = np.random.default_rng(seed)
    args = [Tensor(np.array(x.data), requires_grad=x.requires_grad, name=x.name)
            if isinstance(x, Tensor) else x for x in subject.originals]
    with enable_grad():
        out = subject.fn(*args)
    if not isinstance(out, Tensor) or not out.requires_grad:
        return [], [], [], 1
    cotangent = random_weights(rng, out.size).reshape(out.shape)
    out.backward(cotangent.astype(out.dtype))
    grads = [np.zeros(args[i].size) if args[i].grad is None
             else np.asarray(args[i].grad, dtype=np.float64).reshape(-1) for i in subject.checked]
    reference = vjp64(cotangent.astype(np.float64))
    eps = float(np.finfo(dtype).eps)
    findings = [_differs(g, r, eps) for g, r in zip(grads, reference, strict=True)]
    culprits = _recorded_nodes(_ops_at_fault(out, rng), out, subject.output)
    bad = [(i, what) for i, what in zip(subject.checked, findings, strict=True) if what]
    if not bad:
        return [], culprits, [], 1
    text = "; ".join(f"for {subject.label(i)} {what}" for i, what in bad)
    message = (f"in {dtype} (the inputs' dtype), fn's gradient is not its float64 gradient "
               f"rounded: {text}")
    if culprits:
        return [FunctionProblem(f"wrong in {dtype}", bad[0][0], float("inf"), message)], \
            culprits, [], 1
    return [], [], [message + " (every op is right at its precision: rounding accumulated "
                     "over many ops)"], 1


def _differs(low: np.ndarray, high: np.ndarray, eps: float) -> str:
    """What is wrong with `low` (a low-precision result, as float64) against `high`."""
    if low.shape != high.shape:
        return ""
    limit = np.finfo(np.float32).max if eps > 1e-10 else np.inf
    broken = ~np.isfinite(low) & np.isfinite(high) & (np.abs(high) <= limit)
    if broken.any():
        return f"it is inf/NaN at {int(broken.sum())} element(s) where float64 is finite"
    finite = np.isfinite(low) & np.isfinite(high)
    scale = float(np.linalg.norm(high[finite]))
    gap = float(np.linalg.norm(low[finite] - high[finite]))
    if gap > LOSS_FACTOR * eps * scale:
        return f"it differs from float64 by {gap / max(scale, 1e-300):.1e} (relative, by norm)"
    return ""


def _ops_at_fault(output: Tensor, rng: np.random.Generator) -> list[Culprit]:
    """Each op of the low-precision graph run in its dtype and in float64 on the same values."""
    culprits = []
    for node in reversed(recorded_ops(output)):
        culprits += _op_at_fault(node, rng)
    return culprits


def _recorded_nodes(culprits: list[Culprit], low: Tensor, recorded: Tensor) -> list[Culprit]:
    """The culprits with their nodes replaced by the same ops of the recorded float64 graph
    (matched by position in creation order), so that a drawing of report.output marks them."""
    ours, theirs = recorded_ops(low), recorded_ops(recorded)
    if [n.name for n in ours] != [n.name for n in theirs]:
        return culprits
    where = {id(n): k for k, n in enumerate(ours)}
    return [Culprit(theirs[where[id(c.node)]], c.op, c.input_index, c.rel_error, c.message)
            if id(c.node) in where else c for c in culprits]


def _op_at_fault(node: Context, rng: np.random.Generator) -> list[Culprit]:
    floats = [x.dtype for x in node.inputs if isinstance(x, Tensor) and x.dtype.kind == "f"]
    if not floats or all(d == np.float64 for d in floats):
        return []
    eps = max(float(np.finfo(d).eps) for d in floats)
    op = node.name
    try:
        out_low, ctx_low = _run(node, lambda a: a.copy())
        out_high, ctx_high = _run(node, lambda a: a.astype(np.float64)
                                  if a.dtype.kind == "f" else a.copy())
        what = _differs(np.asarray(out_low.data, dtype=np.float64), out_high.data, eps)
        if what:
            return [Culprit(node, op, None, float("inf"),
                            f"forward of {op} is wrong in {out_low.dtype}: {what}")]
        grad = random_weights(rng, out_high.size).reshape(out_high.shape)
        low = _backward(ctx_low, grad.astype(out_low.dtype))
        high = _backward(ctx_high, grad)
    except Exception:  # noqa: BLE001 - an op that fails here is judged by finite differences
        return []
    for i, (g_low, g_high) in enumerate(zip(low, high, strict=False)):
        what = _differs(g_low, g_high, eps)
        if what and node.needs_input_grad[i]:
            return [Culprit(node, op, i, float("inf"),
                            f"backward of {op} is wrong in {floats[0]} for input {i}: {what}")]
    return []


def _run(node: Context, convert: Callable[[np.ndarray], np.ndarray]) -> tuple[Tensor, Any]:
    inputs = [Tensor(convert(np.asarray(x.data)), requires_grad=needs) if isinstance(x, Tensor)
              else x for x, needs in zip(node.inputs, node.needs_input_grad, strict=True)]
    with enable_grad(), np.errstate(all="ignore"):
        out = node.fn.apply(*inputs, **node.kwargs)
    return out, out.grad_fn


def _backward(ctx: Any, grad: np.ndarray) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        result = ctx.fn.backward(ctx, grad)
    grads = result if isinstance(result, tuple) else (result,)
    return [np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64).reshape(-1)
            if g is not None else np.zeros(0) for g in grads]
