"""Comparisons and selection: elementwise comparisons (bool tensors, no gradient) and
`where(cond, a, b)`, whose backward routes the gradient to the side each element came from."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor, _make
from .broadcast import as_weak_numbers, unbroadcast, value_of

__all__ = ["compare", "Where", "where"]

_SYMBOLS = {
    np.less: "<", np.less_equal: "<=", np.greater: ">", np.greater_equal: ">=",
    np.equal: "==", np.not_equal: "!=",
}


def compare(ufunc: Any, a: Any, b: Any) -> Tensor:
    """a <op> b elementwise with broadcasting: a bool Tensor that requires no grad."""
    av, bv = value_of(a), value_of(b)
    if type(av) is not np.ndarray or type(bv) is not np.ndarray:
        av, bv = as_weak_numbers(av, bv)
    try:
        out = ufunc(av, bv)
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"comparison {_SYMBOLS.get(ufunc, ufunc.__name__)}: {error} (shapes {np.shape(av)} "
            f"and {np.shape(bv)})"
        ) from error
    if isinstance(out, np.bool_):  # a 0-d array and a number give a numpy scalar
        out = np.asarray(out)
    if not isinstance(out, np.ndarray) or out.dtype != np.bool_:
        raise TypeError(
            f"comparison {_SYMBOLS.get(ufunc, ufunc.__name__)}: cannot compare a tensor with "
            f"{type(b).__name__ if isinstance(a, Tensor) else type(a).__name__}"
        )
    return _make(out)


class Where(Function):
    """cond ? a : b elementwise, broadcasting all three; cond is a bool array (no gradient)."""

    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> np.ndarray:
        cond = np.asarray(cond)
        if cond.dtype != np.bool_:
            raise TypeError(f"the condition must be bool (a comparison's result), got {cond.dtype}")
        if type(a) is not np.ndarray or type(b) is not np.ndarray:
            a, b = as_weak_numbers(a, b)
        ctx.save_for_backward(cond)
        return np.asarray(np.where(cond, a, b))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        (cond,) = ctx.saved_tensors
        cond = value_of(cond)
        _, need_a, need_b = ctx.needs_input_grad
        _, a, b = ctx.inputs
        zero = grad.dtype.type(0)
        return (
            None,
            unbroadcast(where(cond, grad, zero), a.data.shape) if need_a else None,
            unbroadcast(where(cond, zero, grad), b.data.shape) if need_b else None,
        )


def where(cond: Any, a: Any, b: Any) -> Any:
    """Elements of `a` where `cond` holds, of `b` elsewhere (numpy's broadcasting). A Tensor
    result (recorded) when any argument is a Tensor; an array otherwise."""
    if isinstance(cond, Tensor) or isinstance(a, Tensor) or isinstance(b, Tensor):
        if isinstance(cond, Tensor) and cond.requires_grad:
            raise TypeError("where: the condition must be a bool tensor, not one that requires grad")
        return Where.apply(value_of(cond), a, b)
    return np.where(cond, a, b)
