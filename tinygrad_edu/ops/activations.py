"""Activations: `Relu`, `Tanh`, `Sigmoid`, `Softmax`, `LogSoftmax`, forward and backward side by
side. Each saves its output and writes its backward with operators and functions that work on
arrays and Tensors alike, so under `create_graph=True` the output's Tensor carries the second
derivative (d tanh = 1 - tanh², and tanh depends on x).

Conventions, as PyTorch's:
  relu      relu'(0) = 0 (`maximum(x, 0)` would give 0.5 there)
  softmax, log_softmax   over `axis` (an int, a tuple of ints or None for all), computed from
            x - max(x) so that large scores neither overflow nor lose precision
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor
from .arguments import call_axis
from .broadcast import Axis, value_of
from .elementwise import SavesOutput, exp
from .selection import where

__all__ = ["Relu", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "softmax", "log_softmax"]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) = inf for x < -709: 1 / inf = 0 is right
        out = np.asarray(np.exp(-x))
    out += 1
    return np.reciprocal(out, out=out)


class Relu(SavesOutput):
    """max(x, 0); the gradient passes where x > 0 only (relu'(0) = 0, as PyTorch)."""

    function = _relu

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return where(value_of(out) > 0, grad, 0.0)  # out > 0 exactly where x > 0; 0.0 keeps float32


class Tanh(SavesOutput):
    function = np.tanh

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad * ((1 - out) * (1 + out))  # 1 - out² without its cancellation near |out| = 1


class Sigmoid(SavesOutput):
    """1 / (1 + exp(-x)), PyTorch's formula: full relative precision for very negative x
    (sigmoid(-40) = 4.25e-18, not 0); where exp(-x) overflows the result is 0, as it should."""

    function = _sigmoid

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


def _shifted(x: np.ndarray, axis: Axis) -> np.ndarray:
    """x - max(x) over axis: every exponent is <= 0, so none overflows."""
    return x - np.maximum.reduce(x, axis=axis, keepdims=True)


def _output_and_axis(ctx: Context) -> tuple[Any, Axis]:
    return ctx.saved_tensors[0], ctx.kwargs.get("axis", -1)


class Softmax(Function):
    """exp(x) / sum(exp(x)) over `axis`, computed from x - max(x) (no overflow)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = -1) -> np.ndarray:
        out = np.exp(_shifted(x, axis))
        out /= np.add.reduce(out, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        out, axis = _output_and_axis(ctx)
        return out * (grad - (grad * out).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """x - log(sum(exp(x))) over `axis`, computed from x - max(x): exact for large scores,
    where log(softmax(x)) would give log(0) = -inf."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis: Axis = -1) -> np.ndarray:
        out = _shifted(x, axis)
        if out.dtype.kind != "f":  # int scores: the result is float
            out = out.astype(np.float64)
        out -= np.log(np.add.reduce(np.exp(out), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        out, axis = _output_and_axis(ctx)
        return grad - exp(out) * grad.sum(axis=axis, keepdims=True)


def _over_axis(name: str, fn: type[Function], x: Tensor, axis: Any, unknown: dict[str, Any]) -> Tensor:
    return fn.apply(x, axis=call_axis(name, fn.__name__, axis, x.data.shape, unknown, ("axis",)))


def softmax(x: Tensor, axis: Any = -1, **unknown: Any) -> Tensor:
    """exp(x) / sum(exp(x)) over `axis` (default the last; a tuple, or None for all axes)."""
    return _over_axis("softmax", Softmax, x, axis, unknown)


def log_softmax(x: Tensor, axis: Any = -1, **unknown: Any) -> Tensor:
    """log(softmax(x)) over `axis`, computed stably (exact for large scores)."""
    return _over_axis("log_softmax", LogSoftmax, x, axis, unknown)
