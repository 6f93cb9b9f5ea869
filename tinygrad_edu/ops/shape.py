"""Ops that move elements without arithmetic: `Reshape`, `Transpose`, indexing (`GetItem`) and
its adjoint `ScatterAdd`. Each backward is the adjoint move, written so that it works on
arrays and Tensors alike (GetItem's backward scatter-adds; ScatterAdd's gathers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor

__all__ = ["Reshape", "Transpose", "GetItem", "ScatterAdd", "scatter_add", "plain_index"]


def _owned(out: np.ndarray) -> np.ndarray:
    """`out` itself, or a copy if it is a view: an op's output never aliases its input, so an
    in-place change of one can never silently change the other."""
    return out.copy() if out.base is not None else out


class Reshape(Function):
    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return _owned(np.reshape(x, shape))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.reshape(ctx.inputs[0].data.shape)


class Transpose(Function):
    """Permute axes (reverse them when `axes` is None), as np.transpose."""

    settings_may_hold_arrays = False  # axes, shapes, numbers

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
        return _owned(np.transpose(x, axes))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        axes = ctx.kwargs.get("axes")
        if axes is None:
            return grad.transpose()
        return grad.transpose(tuple(int(i) for i in np.argsort([a % grad.ndim for a in axes])))


class GetItem(Function):
    """x[index] with numpy's basic and advanced indexing. The backward scatter-adds, so an
    element picked several times (repeated integer indices) receives the sum of its grads.
    The index is locked with the graph (see `versions`): changing it cannot go unnoticed."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: Any) -> np.ndarray:
        out = x[index]
        return _owned(out) if type(out) is np.ndarray else np.asarray(out)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x = ctx.inputs[0].data
        return scatter_add(grad, ctx.kwargs["index"], x.shape)


def _scatter_add_array(values: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    full = np.zeros(shape, dtype=values.dtype)
    if _is_basic_index(index):
        full[index] = values  # a basic index never picks an element twice
    else:
        np.add.at(full, index, values)
    return full


class ScatterAdd(Function):
    """zeros(shape) with `values` added at `index` (repeated positions accumulate): the adjoint
    of indexing. Its backward gathers: grad[index]."""

    @staticmethod
    def forward(ctx: Context, values: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        picked = np.empty(shape, dtype=np.bool_)[index].shape
        if np.shape(values) != picked:  # no broadcasting: the gather back must give values' shape
            raise ValueError(
                f"values of shape {np.shape(values)} do not match the {picked} elements the index "
                f"picks from shape {shape}"
            )
        return _scatter_add_array(values, index, shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad[ctx.kwargs["index"]]


def scatter_add(values: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """`ScatterAdd` on a Tensor (recorded), or the same on an array (a new array)."""
    if isinstance(values, Tensor):
        return ScatterAdd.apply(values, index=index, shape=shape)
    return _scatter_add_array(values, index, shape)


def _is_basic_index(index: Any) -> bool:
    parts = index if type(index) is tuple else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    ) and not any(isinstance(p, bool) for p in parts)


def _plain_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        return part.data
    if isinstance(part, list):  # a list could change after the forward; an array we own cannot
        return np.asarray(part)
    return part


def plain_index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays (indices carry no gradient) and lists by
    arrays (numpy reads a list index as an array; ours is then locked with the graph)."""
    if isinstance(index, tuple):
        return tuple(_plain_part(i) for i in index)
    return _plain_part(index)
