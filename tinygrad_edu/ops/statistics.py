"""More reductions: `Min`, `Prod`, `Var`, `Std`, the running sum `Cumsum`, and `argmax` /
`argmin` (integer results, no gradient); forward and backward side by side, every backward
written so that it works on arrays and on Tensors (and so can be differentiated again).

`reduce` is what the reduction methods of Tensor (sum, mean, max, min, prod) call: one check
of the axis and of PyTorch's keyword names for all of them.

Conventions, as PyTorch's:
  min       the gradient is split equally among tied minima (as `max`, `torch.amin`;
            `torch.min(x, dim)` instead sends it all to the index it returns)
  prod      zeros are handled exactly: with one zero in a slice, only the zero gets a
            gradient (the product of the others); with two or more, every gradient is 0
  var, std  `ddof` as numpy's (PyTorch's `correction`): the divisor is n - ddof; it must stay
            positive. Where std is 0, its gradient is 0 (as `torch.std`)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import validation
from ..tensor import Context, Function, Tensor, _make
from .arguments import call_axis, checked_axis, refuse_keywords
from .broadcast import Axis, expand_reduced, value_of
from .reductions import Max
from .selection import where

__all__ = [
    "Min", "Prod", "Var", "Std", "Cumsum", "reduce", "variance", "cumsum", "argmax", "argmin",
]

_REDUCTION_KEYWORDS = ("axis", "keepdims")


def reduce(
    name: str, fn: type[Function], x: Tensor, axis: Any, keepdims: bool, unknown: dict[str, Any]
) -> Tensor:
    """`x.<name>(axis, keepdims)`: the reduction `fn` over a checked axis (a bad one is an
    error naming the op, as its forward's errors do; PyTorch's `dim=` / `keepdim=` an error
    naming the method `name`)."""
    axis = call_axis(name, fn.__name__, axis, x.data.shape, unknown, _REDUCTION_KEYWORDS)
    return fn.apply(x, axis=axis, keepdims=keepdims)


class Min(Max):
    """Minimum over axes; the gradient is split equally among tied minima (Max's backward:
    the winners are the elements equal to the result)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        return _saved_with_input(ctx, x, np.minimum.reduce(x, axis=axis, keepdims=keepdims))  # type: ignore[call-overload]


def _saved_with_input(ctx: Context, x: np.ndarray, out: Any) -> np.ndarray:
    """A reduction's result as an array, saved with its input for backward."""
    out = np.asarray(out)
    ctx.save_for_backward(x, out)
    return out


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes, non-negative and sorted."""
    if axis is None:
        return tuple(range(ndim))
    listed = (axis,) if isinstance(axis, (int, np.integer)) else axis
    return tuple(sorted(int(a) % max(ndim, 1) for a in listed))


class Prod(Function):
    """Product over axes. Its gradient is the product of the other elements of the slice:
    out / x where no product is 0 or overflows, else computed exactly without division."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        return _saved_with_input(ctx, x, x.prod(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        axis, keepdims = ctx.kwargs.get("axis"), ctx.kwargs.get("keepdims", False)
        shape = value_of(x).shape
        grad = expand_reduced(grad, axis, keepdims, shape)
        if _all_nonzero_and_finite(value_of(out)):  # then no x is 0: divide
            return grad * expand_reduced(out, axis, keepdims, shape) / x
        return grad * _product_of_others(x, _axes(axis, len(shape)))


def _all_nonzero_and_finite(values: np.ndarray) -> bool:
    return bool(np.logical_and.reduce(np.isfinite(values) & (values != 0), axis=None))


def _product_of_others(x: Any, axes: tuple[int, ...]) -> Any:
    """For each element of x, the product of the other elements of its slice over `axes`
    (same shape as x), without division, so zeros are exact."""
    shape = x.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    order = kept + axes
    moved = tuple(shape[i] for i in order)
    n = math.prod(shape[i] for i in axes)
    rows = x.transpose(order).reshape(moved[: len(kept)] + (n,))  # each slice as one last axis
    if isinstance(x, Tensor):
        # Recorded, so it can be differentiated again: row i of each slice with its element i
        # replaced by 1, then the product of each row (n x n per slice: only on this path).
        spread = rows.reshape(rows.shape[:-1] + (1, n))
        others = where(np.eye(n, dtype=np.bool_), x.dtype.type(1), spread).prod(axis=-1)
    else:
        # Products of the elements before and after each one: two running products.
        before = np.ones_like(rows)
        after = np.ones_like(rows)
        np.cumprod(rows[..., :-1], axis=-1, out=before[..., 1:])
        np.cumprod(rows[..., :0:-1], axis=-1, out=after[..., -2::-1])
        others = before * after
    return others.reshape(moved).transpose(tuple(int(i) for i in np.argsort(order)))


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements each result of a reduction over `axis` reduces."""
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


def _moments(x: np.ndarray, axis: Axis, keepdims: bool, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """(x minus its mean over axis, the variance): computed as np.var does, keeping the
    deviations for backward."""
    count = _count(x.shape, axis)
    if count - ddof <= 0:  # numpy would warn and give NaN or inf
        raise ValueError(
            f"ddof={ddof} leaves no degrees of freedom: each result reduces {count} element(s), "
            "and the divisor is n - ddof"
        )
    deviations = x - np.add.reduce(x, axis=axis, keepdims=True) / count
    variance = np.add.reduce(deviations * deviations, axis=axis, keepdims=keepdims) / (count - ddof)  # type: ignore[call-overload]
    return deviations, np.asarray(variance)


def _deviations(x: Any, saved: np.ndarray, axis: Axis) -> Any:
    """x minus its mean: as saved by forward, or, under create_graph (x is then the input's
    Tensor), recomputed from x so that the second derivative reaches it."""
    return x - x.mean(axis=axis, keepdims=True) if isinstance(x, Tensor) else saved


def _backward_terms(ctx: Context, *reduced: Any) -> tuple[list[Any], Any, int]:
    """What Var's and Std's backward share: the `reduced` values (the upstream gradient, Std's
    result) with their reduced axes back as size 1; x's deviations from its mean (see
    `_deviations`); and the divisor n - ddof."""
    x, deviations = ctx.saved_tensors[:2]
    kwargs = ctx.kwargs
    axis, keepdims, ddof = kwargs.get("axis"), kwargs.get("keepdims", False), kwargs.get("ddof", 0)
    shape = value_of(x).shape
    widened = [expand_reduced(value, axis, keepdims, shape) for value in reduced]
    return widened, _deviations(x, deviations, axis), _count(shape, axis) - ddof


def variance(
    name: str, fn: type[Function], x: Tensor, axis: Any, keepdims: bool, ddof: Any,
    unknown: dict[str, Any],
) -> Tensor:
    """`x.var(...)` / `x.std(...)`: checked axis and ddof, then the op `fn`."""
    axis = call_axis(name, fn.__name__, axis, x.data.shape, unknown, _REDUCTION_KEYWORDS + ("ddof",))
    ddof = validation.integer(fn.__name__, "ddof", ddof, minimum=0)
    return fn.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


class Var(Function):
    """Variance over axes: the sum of squared deviations from the mean over n - ddof."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False, ddof: int = 0
    ) -> np.ndarray:
        deviations, out = _moments(x, axis, keepdims, ddof)
        ctx.save_for_backward(x, deviations)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (grad,), deviations, divisor = _backward_terms(ctx, grad)
        return grad * deviations * (2.0 / divisor)


class Std(Function):
    """Standard deviation over axes: sqrt(var). Where it is 0 the gradient is 0 (as
    `torch.std`: every deviation is 0 there, and so is the numerator)."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False, ddof: int = 0
    ) -> np.ndarray:
        deviations, variance = _moments(x, axis, keepdims, ddof)
        out = np.sqrt(variance, out=variance)
        ctx.save_for_backward(x, deviations, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (grad, out), deviations, divisor = _backward_terms(ctx, grad, ctx.saved_tensors[2])
        zero = value_of(out) == 0
        if np.logical_or.reduce(zero, axis=None):  # divide by 1 there: the deviations are 0
            out = where(zero, out.dtype.type(1), out)
        return grad * deviations / (out * divisor)


class Cumsum(Function):
    """Running sum along `axis` (of the flattened input when axis is None, as numpy). The
    gradient of element i is the sum of the output gradients from i on: a running sum of the
    reversed gradient, reversed."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: int | None = None) -> np.ndarray:
        return _running_sum(x, axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        axis = ctx.kwargs.get("axis")
        shape = ctx.inputs[0].data.shape
        if axis is None:
            return _reversed_cumsum(grad, 0).reshape(shape)
        return _reversed_cumsum(grad, axis)


def _running_sum(x: np.ndarray, axis: int | None) -> np.ndarray:
    if x.dtype.kind != "f":  # numpy widens small ints (and counts bools): its cumsum does that
        return np.cumsum(x, axis=axis)
    return np.add.accumulate(x.reshape(-1) if axis is None else x, axis=axis or 0)


def _reversed_cumsum(grad: Any, axis: int) -> Any:
    flip = (slice(None),) * (axis % grad.ndim) + (slice(None, None, -1),)
    if isinstance(grad, Tensor):
        return Cumsum.apply(grad[flip], axis=axis)[flip]
    return np.add.accumulate(grad[flip], axis=axis)[flip]


def cumsum(x: Any, axis: Any = None, **unknown: Any) -> Any:
    """The running sum along `axis` (None: of the flattened x): a recorded op on a Tensor,
    numpy's on an array."""
    if unknown:
        refuse_keywords("cumsum", unknown, ("axis",))
    if not isinstance(x, Tensor):
        return np.cumsum(x, axis=axis)
    if axis is not None:
        axis = _one_axis("Cumsum", axis, x.data.shape)
    return Cumsum.apply(x, axis=axis)


def _one_axis(func: str, axis: Any, shape: tuple[int, ...]) -> int:
    """checked_axis for an op that takes one axis, not a tuple."""
    checked = checked_axis(func, axis, shape)
    if isinstance(checked, tuple):
        raise TypeError(f"{func}: axis must be one int or None, got {checked!r}")
    return checked


def _arg(name: str, pick: Any, x: Tensor, axis: Any, keepdims: bool, unknown: dict[str, Any]) -> Tensor:
    if unknown:
        refuse_keywords(name, unknown, _REDUCTION_KEYWORDS)
    data = x.data
    if axis is not None:
        axis = _one_axis(name, axis, data.shape)
    try:
        return _make(np.asarray(pick(data, axis=axis, keepdims=keepdims)))
    except ValueError as error:  # an empty axis has no largest element
        raise ValueError(f"{name}: {error} (shape {data.shape}, axis={axis})") from error


def argmax(x: Tensor, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
    """Index of the largest element (of the flattened x when axis is None; the first at
    ties): an int Tensor that requires no grad."""
    return _arg("argmax", np.argmax, x, axis, keepdims, unknown)


def argmin(x: Tensor, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
    """Index of the smallest element (of the flattened x when axis is None; the first at
    ties): an int Tensor that requires no grad."""
    return _arg("argmin", np.argmin, x, axis, keepdims, unknown)
