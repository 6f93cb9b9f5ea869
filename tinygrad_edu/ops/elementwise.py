"""More elementwise functions: `Sqrt`, `Sin`, `Cos`, `Clip` and the binary `Minimum`, forward and
backward side by side; and `exp`, `sqrt`, `sin`, `cos`, functions that take an array or a
Tensor (for backward passes that must work on both, such as Sin's, which needs cos).

Conventions at kinks, as PyTorch's:
  clip      the gradient passes where min <= x <= max, bounds included (as `torch.clamp`);
            it is 0 strictly outside
  minimum   at a == b each input gets half the gradient (as `maximum`, `torch.minimum`)
  sqrt      at 0 the gradient is inf (as `torch.sqrt`); negative inputs give NaN
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor
from .arithmetic import Exp, SavesInput, SavesOutput, _Elementwise
from .broadcast import value_of
from .selection import where

__all__ = ["Sqrt", "Sin", "Cos", "Clip", "Minimum", "exp", "sqrt", "sin", "cos", "minimum", "clip"]


class Sqrt(SavesOutput):
    function = np.sqrt

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad / (out + out)


class Sin(SavesInput):
    function = np.sin

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad * cos(ctx.saved_tensors[0])


class Cos(SavesInput):
    function = np.cos

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad * sin(ctx.saved_tensors[0])


def exp(x: Any) -> Any:
    """e ** x: a recorded op on a Tensor, numpy's on an array."""
    return Exp.apply(x) if isinstance(x, Tensor) else np.exp(x)


def sqrt(x: Any) -> Any:
    """The square root: a recorded op on a Tensor, numpy's on an array."""
    return Sqrt.apply(x) if isinstance(x, Tensor) else np.sqrt(x)


def sin(x: Any) -> Any:
    """The sine: a recorded op on a Tensor, numpy's on an array."""
    return Sin.apply(x) if isinstance(x, Tensor) else np.sin(x)


def cos(x: Any) -> Any:
    """The cosine: a recorded op on a Tensor, numpy's on an array."""
    return Cos.apply(x) if isinstance(x, Tensor) else np.cos(x)


class Clip(Function):
    """x limited to [min, max] (either bound may be None). The gradient passes where
    min <= x <= max, bounds included, as `torch.clamp`'s; it is 0 strictly outside (and
    everywhere when min > max, where every element is max)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, min: Any = None, max: Any = None) -> np.ndarray:  # noqa: A002
        # Bounds are Python numbers (`clip` makes them so): they combine in x's dtype.
        out = x if min is None else np.maximum(x, min)
        out = np.asarray(out if max is None else np.minimum(out, max))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        low, high = ctx.kwargs.get("min"), ctx.kwargs.get("max")
        xv = value_of(x)  # which elements pass is piecewise constant: a plain mask
        if low is not None and high is not None and low > high:
            inside = np.zeros(xv.shape, dtype=np.bool_)
        else:  # unchanged by the clip exactly where min <= x <= max (NaN: never)
            inside = xv == value_of(out)
        return where(inside, grad, 0.0)  # a Python 0.0 combines in grad's dtype


def _bound(name: str, value: Any) -> float | None:
    if value is None or (type(value) is float and value == value):  # the common case: done
        return value
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if not number:
        raise TypeError(
            f"clip: {name} must be a number or None, got {type(value).__name__}"
            + (" (for a tensor bound, use tinygrad_edu.maximum / minimum, which give it a "
               "gradient)" if isinstance(value, (Tensor, np.ndarray)) else "")
        )
    if math.isnan(value):
        raise ValueError(f"clip: {name} must not be NaN")
    return value.item() if isinstance(value, np.generic) else value  # a Python number: weak


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """x with values below `min` set to `min` and above `max` set to `max` (numbers; either may
    be None, not both). When min > max every element becomes max (as numpy and torch)."""
    low, high = _bound("min", min), _bound("max", max)
    if low is None and high is None:
        raise ValueError("clip: give min, max or both (both are None)")
    return Clip.apply(x, min=low, max=high)


class Minimum(_Elementwise):
    """Elementwise minimum with broadcasting; at a == b each input gets half the gradient
    (as `maximum` and `torch.minimum`)."""

    ufunc = np.minimum
    saves_operands = True

    @staticmethod
    def partials(grad: Any, a: Any, b: Any, need_a: bool, need_b: bool) -> tuple[Any, Any]:
        av, bv = value_of(a), value_of(b)  # which side wins is piecewise constant
        half = grad.dtype.type(0.5)  # a Python 0.5 would promote a float32 mask product
        a_share = np.less(av, bv) + np.equal(av, bv) * half
        return grad * a_share if need_a else None, grad * (1 - a_share) if need_b else None


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of two tensors (or a tensor and a number/array), broadcasting; at
    ties each gets half the gradient."""
    return Minimum.apply(a, b)
