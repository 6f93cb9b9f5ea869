"""What a check is about: fn, the caller's inputs, and fn recorded at float64 copies of them.

    prepare(fn, inputs)   calls fn once, with grad recording, on the copies -> Subject

That call is the only call of user code before the checks; everything after it (the analytic
and numerical sides in `procedure`, `purity`, `precision`, the culprit search) reads the Subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..modes import enable_grad
from ..tensor import Context, Tensor, topological_order
from .outcomes import input_label, short_repr

__all__ = ["Subject", "prepare", "as_input_tuple", "checked_positions", "pristine_copies",
           "recorded_ops"]


@dataclass(frozen=True, eq=False)
class Subject:
    """What is checked: fn, the caller's inputs (`originals`), fn's arguments (`args`: float64
    leaf copies of the Tensors, constants as given), the positions of the inputs that require
    grad, fn's output at args (with its graph), and the leaves fn closes over.

    The numerical side calls fn on `numeric_args`, other copies of the checked inputs: the
    recorded graph holds `args`' arrays (read-only while it lives). `pristine` keeps the
    checked inputs' values, to tell whether fn changed them. `computed` holds the values fn
    computed (the outputs of the recorded graph's ops, inputs first), listed once here for
    every pass that reads or clears them."""

    fn: Callable[..., Tensor]
    originals: tuple[Any, ...]
    args: list[Any]
    checked: list[int]
    output: Tensor
    outside_leaves: list[Tensor]
    numeric_args: list[Any]
    pristine: dict[int, np.ndarray]
    computed: list[Tensor]

    def label(self, position: int) -> str:
        return input_label(position, self.originals[position].name)


def as_input_tuple(inputs: Any) -> tuple[Any, ...]:
    if isinstance(inputs, Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    raise TypeError(
        f"gradcheck: inputs must be a Tensor or a tuple of Tensors (and constants), "
        f"got {type(inputs).__name__}"
    )


def prepare(fn: Callable[..., Tensor], inputs: tuple[Any, ...]) -> Subject:
    """Copy the inputs and record fn at the copies."""
    __tracebackhide__ = True
    args = [_float64_copy(x) if isinstance(x, Tensor) else x for x in inputs]
    checked = checked_positions(inputs, "gradcheck")
    with enable_grad():
        output = _call(fn, args)
    graph = topological_order(output)
    used = {id(t) for t in graph}
    for i in checked:
        if id(inputs[i]) in used:
            raise ValueError(
                f"gradcheck: fn used {input_label(i, inputs[i].name)} from its "
                "enclosing scope instead of the argument it was passed. gradcheck calls fn "
                "with float64 copies of the inputs, so that yours stay untouched: compute "
                "with fn's arguments."
            )
    ours = {id(x) for x in args}
    # Parameters fn closes over: backward passes accumulate into their .grad, which the
    # caller puts back afterwards.
    outside = [t for t in graph if t.is_leaf and t.requires_grad and id(t) not in ours]
    numeric = [_float64_copy(x) if i in checked else a
               for i, (x, a) in enumerate(zip(inputs, args, strict=True))]
    computed = [t for t in graph if t.grad_fn is not None]
    return Subject(fn, inputs, args, checked, output, outside, numeric,
                   pristine_copies(inputs, checked), computed)


def checked_positions(inputs: tuple[Any, ...], where: str) -> list[int]:
    """The positions of the inputs that are Tensors requiring grad; ValueError from `where`
    when there are none."""
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(
            f"{where}: no input requires grad, so there is nothing to check; create the "
            "tensors to differentiate with requires_grad=True"
        )
    return checked


def recorded_ops(output: Tensor) -> list[Context]:
    """The op nodes of output's graph that gradients pass through, inputs first."""
    return [t.grad_fn for t in topological_order(output, only_requiring_grad=True)
            if t.grad_fn is not None]


def pristine_copies(inputs: tuple[Any, ...], checked: list[int]) -> dict[int, np.ndarray]:
    """The checked inputs' values as float64, by position, to compare fn's arguments with.
    A float64 input's own array stands for its values (no copy): the check never writes into
    the caller's tensors, and fn is refused the caller's tensors (it gets copies)."""
    return {i: np.asarray(inputs[i].data, dtype=np.float64) for i in checked}


def _call(fn: Callable[..., Tensor], args: list[Any]) -> Tensor:
    __tracebackhide__ = True
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"gradcheck: fn must return a Tensor, but it returned {type(out).__name__} "
            f"({short_repr(out)})"
        )
    if out.dtype.kind != "f":
        raise TypeError(
            f"gradcheck: fn returned a Tensor of dtype {out.dtype}; gradients need a "
            "floating-point output"
        )
    return out


def _float64_copy(x: Tensor) -> Tensor:
    """A leaf copy of x as fn must see it: same shape (0-d stays 0-d) and memory layout,
    float64 if x is floating-point, with x's requires_grad and name."""
    dtype = np.float64 if x.dtype.kind == "f" else x.dtype
    data = np.array(x.data, dtype=dtype, order="K", copy=True)
    return Tensor(data, requires_grad=x.requires_grad, name=x.name, dtype=dtype)
