"""The built-in primitive ops: each a `Function` with its forward and backward side by side.

They use exactly the mechanism a user's own op uses, so everything that checks or draws a
built-in op (gradcheck, culprit localization, draw_graph, anomaly mode) works on a user's op.

Conventions
-----------
* Broadcasting follows numpy. A binary op's backward sums the gradient back to each input's
  shape with `unbroadcast`, the one place that knows how.
* Backward returns None for an input whose `ctx.needs_input_grad` is False: no gradient is
  computed for data (the X in X @ W) or for constants.
* Ties, where the derivative is not defined, follow PyTorch:
    - `max` (full or along an axis): the gradient is split equally among all tied maxima
      (as torch.amax);
    - `maximum(a, b)` where a == b: each input gets half the gradient;
    - `abs` at 0: the gradient is 0 (sign(0) = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .function import Context, Function
from .tensor import Tensor

__all__ = [
    "unbroadcast",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "MatMul",
    "Exp",
    "Log",
    "Abs",
    "Sum",
    "Mean",
    "Max",
    "Maximum",
    "Reshape",
    "Transpose",
    "GetItem",
    "maximum",
    "pow",
    "rpow",
]

Axis = int | tuple[int, ...] | None


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` (the shape of a broadcast result) back to `shape` (the input's shape).

    Broadcasting (a) prepends axes to the shorter shape and (b) stretches size-1 axes; the
    gradient of a stretched or prepended axis is the sum over it. Raises ValueError when
    `grad`'s shape is not a broadcast of `shape` (a bug in the backward calling it).
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


# A number (a Python or numpy scalar) combines with a floating array in the array's dtype, as in
# PyTorch: float32 * 2.0 and float32 / np.sqrt(d) stay float32. numpy alone would promote the
# second to float64 (a numpy float64 scalar is "strong"), and numpy 1.x even the first when the
# array is 0-d (a loss, say). Arrays combine by numpy's rules.
_NUMBER_TYPES = (int, float, np.number)


def _as_weak_numbers(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(b, _NUMBER_TYPES) and isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a, a.dtype.type(b)
    if isinstance(a, _NUMBER_TYPES) and isinstance(b, np.ndarray) and b.dtype.kind == "f":
        return b.dtype.type(a), b
    return a, b


# ------------------------------------------------------------------------- arithmetic


class _Elementwise(Function):
    """A binary numpy ufunc, broadcasting (Add, Sub, Mul, Div, Maximum share this forward).

    A number operand combines in the array's dtype (see `_as_weak_numbers`). Subclasses name
    the ufunc and whether their backward needs the operands."""

    ufunc: Any = None
    saves_operands = False

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> np.ndarray:
        if type(a) is not np.ndarray or type(b) is not np.ndarray:
            a, b = _as_weak_numbers(a, b)
        op = ctx.fn
        if op.saves_operands:
            ctx.save_for_backward(a, b)
        return op.ufunc(a, b)


class Add(_Elementwise):
    ufunc = np.add

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        need_a, need_b = ctx.needs_input_grad
        a, b = ctx.inputs  # an input that needs a gradient is a Tensor
        return (
            unbroadcast(grad, a.data.shape) if need_a else None,
            unbroadcast(grad, b.data.shape) if need_b else None,
        )


class Sub(_Elementwise):
    ufunc = np.subtract

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        need_a, need_b = ctx.needs_input_grad
        a, b = ctx.inputs
        return (
            unbroadcast(grad, a.data.shape) if need_a else None,
            unbroadcast(-grad, b.data.shape) if need_b else None,
        )


class Mul(_Elementwise):
    ufunc = np.multiply
    saves_operands = True

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * b, a.shape) if need_a else None,  # needed: a is an array
            unbroadcast(grad * a, b.shape) if need_b else None,
        )


class Div(_Elementwise):
    ufunc = np.true_divide
    saves_operands = True

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_over_b = grad / b
        return (
            unbroadcast(grad_over_b, a.shape) if need_a else None,
            unbroadcast(-grad_over_b * a / b, b.shape) if need_b else None,
        )


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.negative(x)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return -grad


class Pow(Function):
    """x ** exponent for a constant (scalar) exponent."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, exponent: float) -> np.ndarray:
        x, exponent = _as_weak_numbers(x, exponent)
        ctx.save_for_backward(x)
        return np.power(x, exponent)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        exponent = ctx.kwargs["exponent"]
        if exponent == 0:  # x ** 0 is constant; 0 * 0 ** -1 would be NaN at x = 0
            return np.zeros_like(x, dtype=grad.dtype)
        return grad * exponent * np.power(x, exponent - 1)


def pow(x: Tensor, exponent: Any) -> Tensor:  # noqa: A001  (mirrors Python's operator name)
    """x ** exponent, where exponent is a Python or numpy scalar."""
    if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
        raise TypeError(
            f"Pow: the exponent must be a Python or numpy scalar, got {type(exponent).__name__}"
            f" of shape {np.shape(exponent.data if isinstance(exponent, Tensor) else exponent)}"
        )
    return Pow.apply(x, exponent=exponent)


def rpow(base: Any, x: Tensor) -> Tensor:
    """base ** x for a positive scalar base, as exp(x · ln base): its gradient comes from
    Mul and Exp, so no new backward is needed."""
    number = isinstance(base, (int, float, np.integer, np.floating)) and not isinstance(base, bool)
    if not (number and base > 0):
        raise TypeError(
            f"Pow: base ** tensor needs a positive Python or numpy scalar base, got {base!r}"
        )
    return Exp.apply(Mul.apply(x, float(np.log(base))))


# ------------------------------------------------------------------------- matmul


class MatMul(Function):
    """a @ b with numpy's rules: 1-D operands are promoted (and the added axis removed), and
    leading batch axes broadcast."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> np.ndarray:
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
        inner_a = a.shape[-1]
        inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            raise ValueError(
                f"shapes {a.shape} and {b.shape} are not aligned: {inner_a} (last axis of the "
                f"first) != {inner_b} ({'second-to-last' if b.ndim > 1 else 'only'} axis of "
                "the second)"
            )
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # Promote 1-D operands to matrices, as forward did, so one formula covers all cases.
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        if b.ndim == 1:  # first: for 1-D @ 1-D the 0-d grad becomes (1,), then (1, 1)
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(grad @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b


# ------------------------------------------------------------------------- elementwise


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad / x


class Abs(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Maximum(_Elementwise):
    """Elementwise maximum with broadcasting; at a == b each input gets half the gradient."""

    ufunc = np.maximum
    saves_operands = True

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        half_ties = np.equal(a, b) * grad.dtype.type(0.5)  # a Python 0.5 would promote to float64
        return (
            unbroadcast(grad * (np.greater(a, b) + half_ties), a.shape) if need_a else None,
            unbroadcast(grad * (np.less(a, b) + half_ties), b.shape) if need_b else None,
        )


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (or a tensor and a number/array), broadcasting."""
    return Maximum.apply(a, b)


# ------------------------------------------------------------------------- reductions


def _expand_reduced(grad: np.ndarray, axis: Axis, keepdims: bool, ndim: int) -> np.ndarray:
    """Give a reduction's gradient back its reduced axes (as size 1), ready to broadcast."""
    if keepdims:
        return grad
    if axis is None:
        return grad.reshape((1,) * ndim)
    axes = (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(grad, tuple(a % ndim for a in axes))


def _owned(out: np.ndarray) -> np.ndarray:
    """`out` itself, or a copy if it is a view: an op's output never aliases its input, so an
    in-place change of one can never silently change the other."""
    return out.copy() if out.base is not None else out


def _spread(ctx: Context, grad: np.ndarray) -> np.ndarray:
    """A reduction's gradient copied back over every element of its input (a writable array;
    np.broadcast_to would give a read-only view, and costs more per call)."""
    shape = ctx.inputs[0].data.shape
    kwargs = ctx.kwargs
    grad = _expand_reduced(grad, kwargs.get("axis"), kwargs.get("keepdims", False), len(shape))
    out = np.empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return _spread(ctx, grad)


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        count = ctx.inputs[0].data.size // grad.size if grad.size else 1  # elements per mean
        return _spread(ctx, grad / max(count, 1))


class Max(Function):
    """Maximum over axes; the gradient is split equally among tied maxima."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = None, keepdims: bool = False) -> np.ndarray:
        out = x.max(axis=axis, keepdims=keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        x, out = ctx.saved_tensors
        axis, keepdims = ctx.kwargs.get("axis"), ctx.kwargs.get("keepdims", False)
        out = _expand_reduced(out, axis, keepdims, x.ndim)
        grad = _expand_reduced(grad, axis, keepdims, x.ndim)
        winners = x == out
        ties = winners.sum(axis=axis, keepdims=True, dtype=grad.dtype)  # not int64: keep float32
        return winners * (grad / ties)


# ------------------------------------------------------------------------- shape


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return _owned(np.reshape(x, shape))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(ctx.inputs[0].data.shape)


class Transpose(Function):
    """Permute axes (reverse them when `axes` is None), as np.transpose."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
        return _owned(np.transpose(x, axes))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        axes = ctx.kwargs.get("axes")
        return grad.transpose(None if axes is None else np.argsort([a % grad.ndim for a in axes]))


class GetItem(Function):
    """x[index] with numpy's basic and advanced indexing. The backward scatter-adds, so an
    element picked several times (repeated integer indices) receives the sum of its grads."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: Any) -> np.ndarray:
        out = x[index]
        return _owned(out) if type(out) is np.ndarray else np.asarray(out)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        x = ctx.inputs[0].data
        full = np.zeros(x.shape, dtype=np.result_type(x.dtype, grad.dtype))
        index = ctx.kwargs["index"]
        if _is_basic_index(index):
            full[index] = grad  # a basic index never picks an element twice
        else:
            np.add.at(full, index, grad)
        return full


def _is_basic_index(index: Any) -> bool:
    parts = index if type(index) is tuple else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    ) and not any(isinstance(p, bool) for p in parts)


def plain_index(index: Any) -> Any:
    """An index with any Tensors in it replaced by their arrays (indices carry no gradient)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index
