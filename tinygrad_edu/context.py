"""The graph's node: `Context`, the record of one op application, made by `Function.apply`
(in tensor.py) and read by the walk, the checks and the drawer; and `FreedArrays`, what stands
in its saved arrays once a backward pass freed them.

It sits below tensor.py and walk.py and imports neither, not even for type annotations: a node
refers to its inputs by the shape they have (`GraphTensor`, which `Tensor` satisfies) and to its
op as a `FunctionBase`, the part of `Function` that does not build Tensors.
"""

from __future__ import annotations

import traceback
from typing import Any, Protocol

import numpy as np

from . import versions

__all__ = ["Context", "FunctionBase", "GraphTensor", "FreedArrays", "freed_marker", "is_tensor"]


class GraphTensor(Protocol):
    """What the node and the walk read and write of a Tensor (`tensor.Tensor` is one). They sit
    below tensor.py, so they name it by this shape rather than by importing it."""

    data: np.ndarray
    grad: np.ndarray | None
    name: str | None
    _node: Context | None
    _requires_grad: bool
    _retains_grad: bool


class FunctionBase:
    """What a node knows of its op (`ctx.fn`): forward, backward and whether its settings may
    hold arrays. `tensor.Function`, the class every op subclasses, adds `apply`, which builds
    Tensors; this part sits here, below the Tensor, so that the node needs nothing above it."""

    # Whether keyword settings may hold arrays (an index) that backward reads: those are
    # locked with the graph. Built-in ops whose settings are axes, shapes or numbers say False.
    settings_may_hold_arrays = True

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("Function subclasses must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Defined by `tensor.Function`: run the op on Tensors and record it."""
        raise NotImplementedError("subclass tinygrad_edu.Function, which defines apply")


class Context:
    """The record of one op application: the node of the graph. `Function.apply` makes it.

    `forward` and `backward` receive it as `ctx`. Users call `save_for_backward(*arrays)` and
    read `saved_tensors`, `needs_input_grad`; they may also set their own attributes on it.

    The engine's own fields:
      fn                the Function subclass that ran
      inputs            the positional arguments of `apply`, Tensors and constants as given
      kwargs            its keyword arguments (non-differentiable settings such as `axis`)
      needs_input_grad  one bool per positional input: a Tensor that requires grad
      sequence_nr       the op's number in creation order: an op always comes after the ops
                        that made its inputs, so backward runs ops in decreasing sequence_nr
      created_at        the in-place-change clock when the op ran: backward refuses saved
                        arrays changed in place after that (see `versions`)
      locked            the arrays made read-only while this node holds them (see `versions`)
      trace             the creation stack, recorded only under `detect_anomaly`
    """

    __slots__ = (
        "fn",
        "inputs",
        "kwargs",
        "needs_input_grad",
        "saved_tensors",
        "sequence_nr",
        "created_at",
        "locked",
        "trace",
        "__dict__",  # users stash their own non-array state on ctx, as in PyTorch
    )
    fn: type[FunctionBase]  # the Function subclass itself
    inputs: tuple[Any, ...]
    kwargs: Any
    needs_input_grad: tuple[bool, ...]
    saved_tensors: Any  # the saved tuple, or a FreedArrays marker once backward freed it
    sequence_nr: int
    created_at: int
    locked: tuple[np.ndarray, ...]
    trace: list[traceback.FrameSummary] | None
    forward_arrays: list[Any]  # only when two inputs shared an array (in __dict__; see _distinct)

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or anything else) that `backward` will need, as `ctx.saved_tensors`."""
        self.saved_tensors = arrays

    @property
    def freed(self) -> bool:
        """Whether a backward pass without retain_graph released the saved arrays."""
        return type(self.saved_tensors) is FreedArrays

    @property
    def name(self) -> str:
        """The op's name: its Function's class name."""
        return self.fn.__name__

    def parents(self) -> list[GraphTensor]:
        """The Tensor inputs of this op, in argument order."""
        return [a for a in self.inputs if is_tensor(a)]

    def creation_site(self) -> str:
        """Where in user code this op was created (only known under `detect_anomaly`)."""
        if not self.trace:
            return "(creation site unknown: run under tinygrad_edu.detect_anomaly() to record it)"
        return "".join(traceback.format_list(self.trace))

    def __repr__(self) -> str:
        return f"<{self.fn.__name__} node>"


class _Node(Context):
    """The Context of a recorded op that locked arrays: when the graph is dropped without a
    backward, the locks go with it. (Other ops keep a plain Context: no finalizer to run.)"""

    __slots__ = ()

    def __del__(self) -> None:
        held = self.locked
        if held:
            self.locked = ()
            versions.release(held)


class FreedArrays:
    """Stands in `ctx.saved_tensors` once a backward pass without retain_graph released the
    saved arrays: any use of it raises, saying how to keep them."""

    __slots__ = ("fn",)

    def __init__(self, fn: type) -> None:
        self.fn = fn

    def _refuse(self, *_: Any) -> Any:
        raise RuntimeError(
            f"backward of {self.fn.__name__}: its saved arrays were freed by an earlier "
            "backward(). To run backward through the same graph twice, pass retain_graph=True "
            "to the first call."
        )

    __iter__ = __len__ = __getitem__ = _refuse

    def __bool__(self) -> bool:
        return True


# One marker per Function class, shared by all its freed nodes: a backward pass allocates no
# lasting object per node (a million of them would slow the cyclic garbage collector).
_freed_markers: dict[type, FreedArrays] = {}


def freed_marker(fn: type) -> FreedArrays:
    marker = _freed_markers.get(fn)
    if marker is None:
        marker = _freed_markers[fn] = FreedArrays(fn)
    return marker


def is_tensor(x: Any) -> bool:
    """Whether x is a Tensor, read by its fields (this module sits below tensor.py)."""
    return hasattr(x, "_node") and hasattr(x, "data")
