"""Reductions over axes: `Sum`, `Mean`, `Max`, forward and backward side by side.

A reduction's backward gives the gradient back its reduced axes (`expand_reduced`) and spreads
it over the input (`broadcast_to`); both work on arrays and Tensors, so these backward passes
can be differentiated again. `max` splits the gradient equally among tied maxima (as
`torch.amax`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Context, Function
from .broadcast import Axis, broadcast_to, expand_reduced, value_of

__all__ = ["Sum", "Mean", "Max"]


def _spread(ctx: Context, grad: Any) -> Any:
    """A reduction's gradient copied back over every element of its input."""
    shape = ctx.inputs[0].data.shape
    kwargs = ctx.kwargs
    grad = expand_reduced(grad, kwargs.get("axis"), kwargs.get("keepdims", False), shape)
    return broadcast_to(grad, shape)


class Sum(Function):
    settings_may_hold_arrays = False  # axes, shapes, numbers
    method = "sum"  # the ndarray method forward calls (Mean shares this forward)

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        return np.asarray(getattr(x, ctx.fn.method)(axis=axis, keepdims=keepdims))  # type: ignore[attr-defined]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _spread(ctx, grad)


class Mean(Sum):
    method = "mean"

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        count = ctx.inputs[0].data.size // grad.size if grad.size else 1  # elements per mean
        return _spread(ctx, grad / max(count, 1))


class Max(Function):
    """Maximum over axes; the gradient is split equally among tied maxima."""

    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        out = np.asarray(x.max(axis=axis, keepdims=keepdims))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        axis, keepdims = ctx.kwargs.get("axis"), ctx.kwargs.get("keepdims", False)
        xv = value_of(x)  # which elements win is piecewise constant: plain arrays
        winners = xv == expand_reduced(value_of(out), axis, keepdims, xv.shape)
        ties = winners.sum(axis=axis, keepdims=True, dtype=grad.dtype)  # not int64: keep float32
        return expand_reduced(grad, axis, keepdims, xv.shape) * (winners / ties)
