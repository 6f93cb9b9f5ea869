"""Elementwise arithmetic, the elementwise functions and matmul: each a `Function`, forward and
backward side by side.

Every backward is written with operators, methods numpy arrays and Tensors share, and the
helpers of `broadcast.py`, so it runs on arrays on the first-order path and on Tensors under
`create_graph=True` (and can then be differentiated again).

Ties follow PyTorch: `maximum(a, b)` at a == b gives each input half the gradient; `abs'(0) = 0`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor
from .broadcast import as_weak_numbers, unbroadcast, value_of, zeros_like

__all__ = [
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Abs", "Maximum", "MatMul", "Cast",
    "SavesInput", "SavesOutput",
    "maximum", "pow", "rpow",
]


class _Elementwise(Function):
    """A binary numpy ufunc, broadcasting (Add, Sub, Mul, Div, Maximum, Minimum).

    A number operand combines in the array's dtype (see `as_weak_numbers`). Subclasses name
    the ufunc, say whether their derivatives need the operands, and write `partials`; the
    shared backward sums each operand's gradient back to its shape."""

    ufunc: Any = None
    saves_operands = False

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> np.ndarray:
        if type(a) is not np.ndarray or type(b) is not np.ndarray:
            a, b = as_weak_numbers(a, b)
        op = ctx.fn
        if op.saves_operands:  # type: ignore[attr-defined]
            ctx.save_for_backward(a, b)
        return op.ufunc(a, b)  # type: ignore[attr-defined]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        need_a, need_b = ctx.needs_input_grad
        op = ctx.fn
        if op.saves_operands:  # type: ignore[attr-defined]
            a, b = ctx.saved_tensors
        else:  # the derivatives are constants: only the operands' shapes are read
            x, y = ctx.inputs  # an input that needs a gradient is a Tensor
            a = x.data if need_a else x
            b = y.data if need_b else y
        grad_a, grad_b = op.partials(grad, a, b, need_a, need_b)  # type: ignore[attr-defined]
        # unbroadcast's own first test, done here: the common case then costs no call.
        if need_a and grad_a.shape != a.shape:
            grad_a = unbroadcast(grad_a, a.shape)
        if need_b and grad_b.shape != b.shape:
            grad_b = unbroadcast(grad_b, b.shape)
        return grad_a if need_a else None, grad_b if need_b else None

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        """The gradients of a and of b at the output's shape (`grad` times each partial
        derivative), each computed only when needed (need_a, need_b); what is not needed
        may be anything."""
        raise NotImplementedError


class Add(_Elementwise):
    ufunc = np.add

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        return grad, grad


class Sub(_Elementwise):
    ufunc = np.subtract

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        return grad, -grad if need_b else None


class Mul(_Elementwise):
    ufunc = np.multiply
    saves_operands = True

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        return grad * b if need_a else None, grad * a if need_b else None


class Div(_Elementwise):
    ufunc = np.true_divide
    saves_operands = True

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        grad_over_b = grad / b
        return grad_over_b, -grad_over_b * a / b if need_b else None


class Maximum(_Elementwise):
    """Elementwise maximum with broadcasting; at a == b each input gets half the gradient."""

    ufunc = np.maximum
    saves_operands = True

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        av, bv = value_of(a), value_of(b)  # the masks are piecewise constant: plain arrays
        half_ties = np.equal(av, bv) * grad.dtype.type(0.5)  # 0.5 alone would promote float32
        return (
            grad * (np.greater(av, bv) + half_ties) if need_a else None,
            grad * (np.less(av, bv) + half_ties) if need_b else None,
        )


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (or a tensor and a number/array), broadcasting."""
    return Maximum.apply(a, b)


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.negative(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad


class Pow(Function):
    """x ** exponent for a constant (scalar) exponent."""

    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, exponent: float) -> np.ndarray:
        x, exponent = as_weak_numbers(x, exponent)
        ctx.save_for_backward(x)
        return np.power(x, exponent)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        exponent = ctx.kwargs["exponent"]
        if exponent == 0:  # x ** 0 is constant; 0 * 0 ** -1 would be NaN at x = 0
            return zeros_like(grad)
        return grad * exponent * x ** (exponent - 1)


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


class SavesInput(Function):
    """An elementwise function (`function`, on arrays) whose backward needs its input, which
    it finds as `ctx.saved_tensors[0]`. Subclasses name the function and write backward."""

    function: Any = None

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return ctx.fn.function(x)  # type: ignore[attr-defined]


class SavesOutput(Function):
    """An elementwise function (`function`, on arrays) whose backward needs its output, which
    it finds as `ctx.saved_tensors[0]`: under create_graph, that is the output's Tensor, so
    the second derivative flows through it (d tanh = 1 - tanh², and tanh depends on x).
    Subclasses name the function and write backward."""

    function: Any = None

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        # Saved is the very array the output Tensor will hold (a ufunc gives a numpy scalar for
        # 0-d input, which apply would wrap in a new array), so create_graph can find it.
        out = np.asarray(ctx.fn.function(x))  # type: ignore[attr-defined]
        ctx.save_for_backward(out)
        return out


class Exp(SavesOutput):
    function = np.exp

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(SavesInput):
    function = np.log

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad / x


class Abs(SavesInput):
    function = np.abs

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * np.sign(value_of(x))  # the sign is piecewise constant


class Cast(Function):
    """x as another dtype; the gradient is cast back to x's dtype."""

    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return np.array(x, dtype=dtype)  # a copy: the output never aliases the input

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.astype(ctx.inputs[0].data.dtype)


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
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # Promote 1-D operands to matrices, as forward did, so one formula covers all cases.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        if b.ndim == 1:  # first: for 1-D @ 1-D the 0-d grad becomes (1,), then (1, 1)
            grad = grad.reshape(grad.shape + (1,))
        if a.ndim == 1:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(grad @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b
