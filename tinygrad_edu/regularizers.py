"""Weight penalties R(W), added to a data loss as ``loss + lam * R(W)``.

Each takes a Tensor of any shape and returns a scalar Tensor, built from engine ops, so the
gradient comes from the ops' own backward passes:

    l2(W)                 sum W^2                 gradient 2 W
    l1(W)                 sum |W|                 gradient sign(W) (0 at W == 0)
    elastic_net(W, beta)  sum (beta W^2 + |W|)    gradient 2 beta W + sign(W)

The notes' example of what L2 prefers: w1 = [1, 0, 0, 0] and w2 = [0.25] * 4 give the same
w . x = 1 for x = [1, 1, 1, 1] and the same L1 penalty (1.0), but L2 is 1.0 against 0.25:
L2 likes to spread the weights out; L1 is indifferent here (and elsewhere favours zeros).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["l2", "l1", "elastic_net"]


def l2(W: Tensor) -> Tensor:
    """sum of W², a scalar Tensor. W: Tensor of any shape."""
    W = _as_tensor("l2", W)
    return (W * W).sum()


def l1(W: Tensor) -> Tensor:
    """sum of |W|, a scalar Tensor. W: Tensor of any shape."""
    return _as_tensor("l1", W).abs().sum()


def elastic_net(W: Tensor, beta: float) -> Tensor:
    """sum of beta·W² + |W| (L1 + L2), a scalar Tensor. W: Tensor of any shape; beta >= 0
    weighs the L2 part against the L1 part."""
    real = isinstance(beta, numbers.Real) and not isinstance(beta, bool)
    if not (real and math.isfinite(beta) and beta >= 0):
        raise ValueError(f"elastic_net: beta must be a finite number >= 0, got {beta!r}")
    W = _as_tensor("elastic_net", W)
    # float(): a numpy float64 beta would promote a float32 W's penalty to float64.
    return float(beta) * l2(W) + l1(W)


def _as_tensor(name: str, W: Any) -> Tensor:
    if isinstance(W, Tensor):
        return W
    if isinstance(W, (np.ndarray, list, tuple, int, float)):
        return Tensor(W)
    raise TypeError(f"{name}: expected a Tensor (or an array), got {type(W).__name__}")
