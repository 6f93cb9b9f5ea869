"""Broadcasting and axes: the one helper that sums a gradient back to an input's shape, its
inverse `broadcast_to`, and the small rules every op shares (numbers combine in the tensor's
dtype, axes as numpy ints are plain ints).

`unbroadcast`, `broadcast_to`, `expand_reduced`, `zeros_like` work on numpy arrays and on
Tensors alike: that is what lets a backward written with them be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validation
from ..tensor import Context, Function, Tensor, _make

__all__ = [
    "unbroadcast",
    "broadcast_to",
    "BroadcastTo",
    "expand_reduced",
    "zeros_like",
    "value_of",
    "in_dtype_of",
    "normalize_axis",
    "as_weak_numbers",
]

Axis = int | tuple[int, ...] | None


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum `grad` (the shape of a broadcast result) back to `shape` (the input's shape).

    Broadcasting (a) prepends axes to the shorter shape and (b) stretches size-1 axes; the
    gradient of a stretched or prepended axis is the sum over it. Raises ValueError when
    `grad`'s shape is not a broadcast of `shape` (a bug in the backward calling it).
    Works on arrays and on Tensors (then the sums are recorded).
    """
    if grad.shape == shape:
        return grad
    summed = grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        summed = summed.sum(axis=tuple(range(extra)))
    if extra >= 0:
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and summed.shape[i] != 1)
        if stretched:
            summed = summed.sum(axis=stretched, keepdims=True)
    if summed.shape != shape:
        raise ValueError(
            f"unbroadcast: a gradient of shape {grad.shape} is not the shape of a broadcast "
            f"of {shape}"
        )
    return summed


def _spread(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # A writable array we own (np.broadcast_to would give a read-only view, and costs more).
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


class BroadcastTo(Function):
    """x repeated along broadcast axes to `shape`; the gradient sums them back."""

    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return _spread(np.asarray(x), shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return unbroadcast(grad, ctx.inputs[0].data.shape)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x broadcast to `shape` (a new array, or a recorded op for a Tensor)."""
    if isinstance(x, Tensor):
        return BroadcastTo.apply(x, shape=tuple(shape))
    return _spread(x, shape)


def expand_reduced(grad: Any, axis: Axis, keepdims: bool, shape: tuple[int, ...]) -> Any:
    """Give a reduction's result back its reduced axes (as size 1), ready to broadcast
    against the input of shape `shape`."""
    if keepdims:
        return grad
    ndim = len(shape)
    if axis is None:
        return grad.reshape((1,) * ndim)
    listed: tuple[int, ...] = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = {a % ndim for a in listed}
    return grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def zeros_like(x: Any) -> Any:
    """Zeros of x's shape and dtype: an array, or a constant Tensor for a Tensor."""
    if isinstance(x, Tensor):
        return _make(np.zeros(x.shape, dtype=x.dtype))
    return np.zeros(np.shape(x), dtype=np.result_type(x))


def in_dtype_of(part: Any, x: Any) -> Any:
    """A gradient in the dtype of its input x (an array or a Tensor): an op that combines inputs
    of several dtypes (float32 with float64 gives float64) hands each its gradient back in its
    own."""
    dtype = value_of(x).dtype
    return part if part.dtype == dtype else part.astype(dtype)


def value_of(x: Any) -> Any:
    """The array behind x (x itself when it is not a Tensor). For piecewise-constant factors
    of a backward (masks, signs, tie weights): their derivative is zero, so they may be
    computed on values and enter the gradient as constants."""
    return x.data if isinstance(x, Tensor) else x


def normalize_axis(func: str, axis: Any, ndim: int) -> int:
    """One axis as a non-negative int (numpy ints accepted), or an error naming `func`."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"{func}: an axis must be an int, got {axis!r}")
    return validation.axis(func, "axis", axis, ndim)  # type: ignore[return-value]


# A number (a Python or numpy scalar) combines with a floating array in the array's dtype, as in
# PyTorch: float32 * 2.0 and float32 / np.sqrt(d) stay float32. numpy alone would promote the
# second to float64 (a numpy float64 scalar is "strong"), and numpy 1.x even the first when the
# array is 0-d (a loss, say). Arrays combine by numpy's rules.
_NUMBER_TYPES = (int, float, np.integer, np.floating)  # complex stays complex, and is refused


def as_weak_numbers(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(b, _NUMBER_TYPES) and isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a, a.dtype.type(b)
    if isinstance(a, _NUMBER_TYPES) and isinstance(b, np.ndarray) and b.dtype.kind == "f":
        return b.dtype.type(a), b
    return a, b
