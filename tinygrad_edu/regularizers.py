"""Weight penalties R(W), added to a data loss as ``loss + lam * R(W)``.

Each takes a Tensor of any shape (or an array, used as a constant) and returns a scalar Tensor.
`l2` is one fused op, `SquaredSum` (a training step pays for one node, not two); `l1` is built
from engine ops, so its gradient comes from the ops' own backward passes; `elastic_net` is
beta times the one plus the other:

    l2(W)                 sum W^2                 gradient 2 W
    l1(W)                 sum |W|                 gradient sign(W) (0 at W == 0)
    elastic_net(W, beta)  sum (beta W^2 + |W|)    gradient 2 beta W + sign(W)

Several weight matrices at once: give a list or tuple of Tensors (`l2([W1, W2])`), of any
shapes. The penalty is the sum of each one's penalty, and each tensor gets its own gradient
(nothing is stacked or copied, so no tensor is detached). A list that holds no Tensor and no
array is read as one nested array, as `Tensor` reads it (`l2([[1.0, 2.0]])`).

The notes' example of what L2 prefers: w1 = [1, 0, 0, 0] and w2 = [0.25] * 4 give the same
w . x = 1 for x = [1, 1, 1, 1] and the same L1 penalty (1.0), but L2 is 1.0 against 0.25:
L2 likes to spread the weights out; L1 is indifferent here (and elsewhere favours zeros).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import validation
from .tensor import Context, Function, Tensor

__all__ = ["l2", "l1", "elastic_net", "SquaredSum"]


class SquaredSum(Function):
    """sum of x², a 0-d array; the gradient is 2·x·grad (twice differentiable: the backward
    uses operators only)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.asarray(np.multiply(x, x).sum())

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def l2(W: Any) -> Tensor:
    """sum of W², a scalar Tensor. W: Tensor of any shape, or a list/tuple of them (summed)."""
    return _summed("l2", W, SquaredSum.apply)


def l1(W: Any) -> Tensor:
    """sum of |W|, a scalar Tensor. W: Tensor of any shape, or a list/tuple of them (summed)."""
    return _summed("l1", W, _abs_sum)


def elastic_net(W: Any, beta: float) -> Tensor:
    """sum of beta·W² + |W| (L1 + L2), a scalar Tensor. W: Tensor of any shape, or a
    list/tuple of them (summed); beta >= 0 weighs the L2 part against the L1 part."""
    # A Python float: a numpy float64 beta would promote a float32 W's penalty to float64.
    beta = validation.positive_float("elastic_net", "beta", beta, allow_zero=True)
    return _summed("elastic_net", W, lambda t: beta * SquaredSum.apply(t) + _abs_sum(t))


def _abs_sum(t: Tensor) -> Tensor:
    return t.abs().sum()


def _summed(func: str, W: Any, penalty: Callable[[Tensor], Tensor]) -> Tensor:
    """penalty(W), or the sum of penalty(w) over a list/tuple of weights; all of them are
    converted (and so checked) before any op runs."""
    weights = [_weight_tensor(func, w) for w in _weights(W)]
    total = penalty(weights[0])
    for w in weights[1:]:
        total = total + penalty(w)
    return total


def _weights(W: Any) -> list[Any]:
    """The separate weights in W: its items if it is a list/tuple holding a Tensor or array."""
    if isinstance(W, (list, tuple)) and W and any(isinstance(w, (Tensor, np.ndarray)) for w in W):
        return list(W)
    return [W]


def _weight_tensor(func: str, W: Any) -> Tensor:
    """W itself if a Tensor, else a constant Tensor copied from the array W describes."""
    if isinstance(W, Tensor):
        return W
    if isinstance(W, (np.ndarray, list, tuple, int, float, np.number)):
        return Tensor(validation.real_array(func, "W", W))
    raise TypeError(f"{func}: expected a Tensor (or an array), got {type(W).__name__}")
