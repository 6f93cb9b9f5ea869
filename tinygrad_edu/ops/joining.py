"""Joining and reshaping: `Concatenate`, `Stack` (each input gets back its slice of the
gradient), and `expand_dims`, `squeeze`, `flatten` (compositions of `Reshape`: one op, as
accurate and as fast as a dedicated one).

The functions take arrays as well as Tensors: a Tensor result (recorded) when any argument is a
Tensor, an array otherwise, so a backward pass can use them on either. Shapes and axes follow
numpy's rules; a bad one raises an error naming the function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..tensor import Context, Function, Tensor
from .arguments import axis_of, refuse_keywords
from .broadcast import in_dtype_of, normalize_axis, value_of
from .shape import Reshape

__all__ = [
    "Concatenate", "Stack", "concatenate", "stack", "expand_dims", "squeeze", "flatten", "reshape",
]


class _Join(Function):
    """Inputs joined along `axis` by `numpy_join`; each gets back its part of the gradient, in
    its own dtype. A subclass names the numpy function and says where each input's part lies
    along the axis (`parts`)."""

    numpy_join: Any = None

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        return ctx.fn.numpy_join(arrays, axis=axis)  # type: ignore[attr-defined]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        axis = ctx.kwargs.get("axis", 0) % grad.ndim
        lead = (slice(None),) * axis
        parts = ctx.fn.parts(ctx.inputs, axis)  # type: ignore[attr-defined]
        grads: list[Any] = []
        for x, needs, part in zip(ctx.inputs, ctx.needs_input_grad, parts):
            grads.append(in_dtype_of(grad[lead + (part,)], x) if needs else None)
        return tuple(grads)

    @staticmethod
    def parts(inputs: tuple[Any, ...], axis: int) -> Iterable[int | slice]:
        """Each input's index along `axis` (non-negative) of the joined result."""
        raise NotImplementedError


class Concatenate(_Join):
    """The inputs joined along an existing `axis`; each gets back its slice of the gradient."""

    numpy_join = np.concatenate

    @staticmethod
    def parts(inputs: tuple[Any, ...], axis: int) -> Iterable[int | slice]:
        parts, start = [], 0
        for x in inputs:
            stop = start + value_of(x).shape[axis]
            parts.append(slice(start, stop))
            start = stop
        return parts


class Stack(_Join):
    """The inputs (all of one shape) joined along a new `axis`; each gets back its slice."""

    numpy_join = np.stack

    @staticmethod
    def parts(inputs: tuple[Any, ...], axis: int) -> Iterable[int | slice]:
        return range(len(inputs))


def _items(func: str, tensors: Any) -> list[Any]:
    """The tensors of a list or tuple: Tensors as they are, anything else as an array."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{func}: pass a list or tuple of tensors, got {type(tensors).__name__}"
            + (" (to split a tensor into its rows, index it)" if isinstance(tensors, Tensor) else "")
        )
    if not tensors:
        raise ValueError(f"{func}: needs at least one tensor, got an empty {type(tensors).__name__}")
    items: list[Any] = []
    for i, t in enumerate(tensors):
        if isinstance(t, Tensor):
            items.append(t)
            continue
        try:
            array = np.asarray(t)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{func}: input {i} is not a tensor or array ({error})") from error
        if array.dtype.kind not in "fiub":
            raise TypeError(f"{func}: input {i} must hold real numbers, got dtype {array.dtype}")
        items.append(array)
    return items


def _join(
    func: str, fn: type[_Join], tensors: Any, axis: Any, new_axis: bool, unknown: dict[str, Any],
) -> Any:
    if unknown:
        refuse_keywords(func, unknown, ("axis",))
    items = _items(func, tensors)
    shapes = [value_of(t).shape for t in items]
    ndim = len(shapes[0])
    if not new_axis and ndim == 0:
        raise ValueError(f"{func}: 0-d tensors have no axis to join along (use stack)")
    try:
        axis = normalize_axis(func, axis, ndim + new_axis)
    except ValueError as error:
        raise ValueError(f"{error} (input shapes {', '.join(map(str, shapes))})") from None
    for i, shape in enumerate(shapes[1:], start=1):
        if new_axis:
            fits = shape == shapes[0]
        else:
            fits = len(shape) == ndim and all(
                m == n for a, (m, n) in enumerate(zip(shape, shapes[0])) if a != axis)
        if not fits:
            rule = "of one shape" if new_axis else f"of one shape except along axis {axis}"
            raise ValueError(
                f"{func}: the tensors must be {rule}; input 0 has shape {shapes[0]}, input {i} "
                f"has shape {shape}"
            )
    if not any(isinstance(t, Tensor) for t in items):
        return fn.numpy_join(items, axis=axis)
    return fn.apply(*items, axis=axis)


def concatenate(tensors: Sequence[Any], axis: int = 0, **unknown: Any) -> Any:
    """The tensors joined along an existing axis (as np.concatenate; PyTorch's torch.cat):
    all of one shape except along `axis`. Each input gets back its slice of the gradient."""
    return _join("concatenate", Concatenate, tensors, axis, False, unknown)


def stack(tensors: Sequence[Any], axis: int = 0, **unknown: Any) -> Any:
    """The tensors (all of one shape) joined along a new axis at position `axis` (as
    np.stack). Each input gets back its slice of the gradient."""
    return _join("stack", Stack, tensors, axis, True, unknown)


def expand_dims(x: Any, axis: Any = None, **unknown: Any) -> Any:
    """x with a size-1 axis inserted at `axis` (an int or a tuple of ints: positions in the
    result), as np.expand_dims (PyTorch's unsqueeze). A Reshape for a Tensor."""
    if unknown:
        refuse_keywords("expand_dims", unknown, ("axis",))
    if axis is None:
        raise TypeError("expand_dims: axis is required (where the new size-1 axis goes)")
    shape = list(np.shape(value_of(x)))
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    where = f"positions in the result; the input has shape {tuple(shape)}"
    for a in sorted(_axis_tuple("expand_dims", axis, len(shape) + count, where)):
        shape.insert(a, 1)
    return _reshaped(x, tuple(shape))


def squeeze(x: Any, axis: Any = None, **unknown: Any) -> Any:
    """x without its size-1 axes (all of them, or those in `axis`), as np.squeeze: naming an
    axis whose size is not 1 is an error (PyTorch would silently keep it)."""
    if unknown:
        refuse_keywords("squeeze", unknown, ("axis",))
    shape = np.shape(value_of(x))
    if axis is None:
        return _reshaped(x, tuple(n for n in shape if n != 1))
    listed = _axis_tuple("squeeze", axis, len(shape), f"shape {shape}")
    for a in listed:
        if shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} has size {shape[a]} (shape {shape}); only size-1 axes can be "
                "removed"
            )
    return _reshaped(x, tuple(n for a, n in enumerate(shape) if a not in listed))


def flatten(x: Any, **unknown: Any) -> Any:
    """x as one axis, in row-major order (a Reshape)."""
    if unknown:
        refuse_keywords("flatten", unknown, ())
    return _reshaped(x, (x.size if isinstance(x, Tensor) else int(np.size(x)),))


def reshape(x: Tensor, shape: tuple[Any, ...], unknown: dict[str, Any]) -> Tensor:
    """`x.reshape(2, 3)` or `x.reshape((2, 3))`: the Reshape op (shape checked by numpy)."""
    if unknown:
        raise TypeError(
            f"reshape: unexpected keyword argument {next(iter(unknown))}=; give the shape "
            "positionally: t.reshape(2, 3) or t.reshape((2, 3))"
        )
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(x, shape=shape)


def _axis_tuple(func: str, axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """An int or tuple of axes of an ndim-D array (`what`, for errors), checked, as a tuple
    of non-negative ints."""
    axes = axis_of(func, axis, ndim, what)
    if axes is None:
        return tuple(range(ndim))
    return axes if isinstance(axes, tuple) else (axes,)


def _reshaped(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, Tensor):
        return Reshape.apply(x, shape=shape)
    return np.reshape(x, shape)
