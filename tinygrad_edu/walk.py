"""The reverse-mode walk: from roots with their upstream gradients, through every recorded
node, to the gradients of leaves (written into `.grad`) or of chosen inputs (returned).

As PyTorch's engine: ops run in decreasing creation order (a max-heap on `sequence_nr`). An op
is created after the ops that made its inputs, so by the time a tensor's op runs, every op that
consumes the tensor has run and sent its gradient. There is no recursion, so depth is not
limited by Python's stack.

All or nothing: `.grad` is written, and saved arrays freed, only once every backward has
succeeded, so a backward that raises leaves every tensor and the graph as they were.

Under `create_graph`, gradients are Tensors and each backward runs in grad mode on them, with
the arrays its op saved handed back as the Tensors they are the data of (an input's or the
output's: PyTorch's saved-variable rule), so the gradients can be differentiated again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import versions
from .anomaly import check_gradient
from .context import FreedArrays, freed_marker, is_tensor
from .errors import GradientShapeError, GradientTypeError
from .modes import modes
from .validation import named

if TYPE_CHECKING:
    from .context import Context, GraphTensor

T = TypeVar("T", bound="GraphTensor")

__all__ = ["run_backward", "topological_order"]


_accumulating = threading.Lock()  # concurrent backward passes into one leaf lose nothing


def run_backward(
    roots: Sequence[GraphTensor],
    grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool = False,
    capture: dict[int, int] | None = None,
) -> list[Any] | None:
    """Walk back from `roots` (each with its upstream gradient, of its shape).

    capture  None: add the gradients into the leaves' (and retained tensors') `.grad`.
             Otherwise {id(tensor): position}: return, per position, the gradient that reached
             that tensor (None if none did), and write no `.grad` at all.
    """
    saved_mode = modes.grad_enabled
    modes.grad_enabled = create_graph  # only a create_graph walk records what backward does
    try:
        return _walk(roots, grads, retain_graph, create_graph, capture)
    finally:
        modes.grad_enabled = saved_mode


def _walk(
    roots: Sequence[GraphTensor],
    grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: dict[int, int] | None,
) -> list[Any] | None:
    partial: dict[int, Any] = {}  # gradients summed so far, by id of tensor
    heap: list[tuple[int, GraphTensor]] = []  # sequence numbers are unique: no Tensor is compared
    arrived: list[tuple[GraphTensor, Any]] = []  # (leaf or retained tensor, gradient), in order
    for root, grad in zip(roots, grads):
        _receive(root, grad, partial, heap, arrived)
    walked: list[Context] = []
    anomaly = modes.anomaly
    clock = versions.clock
    keep_all = capture is not None
    while heap:
        tensor = heappop(heap)[1]
        g = partial.pop(id(tensor))
        node: Context = tensor._node  # type: ignore[assignment]
        if keep_all or tensor._retains_grad:
            arrived.append((tensor, g))
        if type(node.saved_tensors) is FreedArrays:
            node.saved_tensors._refuse()
        if clock[0] != node.created_at:
            _check_unchanged(tensor, node)
        if create_graph:
            input_grads = _call_backward_recorded(node, tensor, g)
        else:
            input_grads = node.fn.backward(node, g)
        if type(input_grads) is not tuple or len(input_grads) != len(node.inputs):
            if type(input_grads) is np.ndarray and len(node.inputs) == 1:
                input_grads = (input_grads,)  # the common unary op returns its one gradient
            else:
                input_grads = _as_gradient_tuple(node, input_grads)
        if clock[0] != node.created_at:  # again: a write racing this backward in another thread
            _check_unchanged(tensor, node)
        walked.append(node)
        for x, needs, gx in zip(node.inputs, node.needs_input_grad, input_grads):
            if not needs or gx is None:
                continue
            if (
                type(gx) is not np.ndarray or gx.shape != x.data.shape or gx.dtype is not x.data.dtype
                or create_graph  # there, an array is refused: its derivative would be lost
            ):
                gx = _checked_gradient(node, x, gx, input_grads, create_graph)
            if anomaly:
                check_gradient(node, gx, functools.partial(_input_position, node, x, gx, input_grads))
            x_node = x._node
            if x_node is None:
                arrived.append((x, gx))
                continue
            key = id(x)
            previous = partial.get(key)
            if previous is None:  # the first gradient to reach x: schedule x's op
                partial[key] = gx
                heappush(heap, (-x_node.sequence_nr, x))
            else:  # out of place: one op may hand the same array to several inputs
                partial[key] = previous + gx
    if capture is None:
        _write_grads(arrived)
        result = None
    else:
        result = [None] * (max(capture.values()) + 1 if capture else 0)
        for x, gx in arrived:
            position = capture.get(id(x))
            if position is not None:
                result[position] = gx if result[position] is None else result[position] + gx
    if not retain_graph:
        held: list[np.ndarray] = []
        for node in walked:
            if node.saved_tensors:
                node.saved_tensors = freed_marker(node.fn)
            if node.locked:
                held += node.locked
                node.locked = ()
        if held:
            versions.release(held)
    return result


def _receive(x: GraphTensor, gx: Any, partial: dict[int, Any], heap: list[Any], arrived: list[Any]) -> None:
    """Sum gradient `gx` into what tensor x has received; schedule x's op the first time."""
    node = x._node
    if node is None:
        arrived.append((x, gx))
        return
    key = id(x)
    previous = partial.get(key)
    if previous is None:
        partial[key] = gx
        heappush(heap, (-node.sequence_nr, x))
    else:  # out of place: one op may hand the same array to several inputs
        partial[key] = previous + gx


def _call_backward_recorded(node: Context, output: GraphTensor, g: Any) -> Any:
    """Under create_graph: backward on Tensors, with errors naming the op."""
    try:
        return node.fn.backward(_SavedAsTensors(node, output), g)  # type: ignore[arg-type]
    except (ValueError, TypeError, IndexError) as error:
        if str(error).startswith(f"backward of {node.name}"):
            raise
        kind = ValueError if isinstance(error, ValueError) else type(error)
        raise kind(f"backward of {node.name} (create_graph=True): {error}") from error


class _SavedAsTensors:
    """A node as its backward sees it under create_graph: each saved array that is the data of
    one of the op's inputs, or of its output, is that Tensor, so the gradient computed from it
    stays connected to the graph. Everything else reads through to the node."""

    __slots__ = ("_node", "saved_tensors")

    def __init__(self, node: Context, output: GraphTensor) -> None:
        self._node = node
        # The arrays forward received, by identity (when two inputs shared an array, apply gave
        # the later one a view of its own: see `Function.apply`), so a constant sharing an
        # input's memory (x.detach(), x.data) stays a constant.
        received = getattr(node, "forward_arrays", None) or [getattr(x, "data", None) for x in node.inputs]
        by_data = {id(a): x for a, x in zip(received, node.inputs) if is_tensor(x)}
        by_data[id(output.data)] = output
        self.saved_tensors = tuple(
            by_data.get(id(s), s) if isinstance(s, np.ndarray) else s for s in node.saved_tensors
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)

    def save_for_backward(self, *values: Any) -> None:
        raise RuntimeError(f"backward of {self._node.name}: save_for_backward belongs in forward")


def _write_grads(arrived: list[tuple[GraphTensor, Any]]) -> None:
    """Add each gradient into its tensor's `.grad`, all of them or (on a bad hand-set `.grad`)
    none; atomic with respect to other threads' backward passes."""
    with _accumulating:
        for x, _ in arrived:
            held = x.grad
            if held is not None and (
                type(held) is not np.ndarray or held.shape != x.data.shape or held.dtype is not x.data.dtype
            ):
                _check_held_grad(x, held)
        for x, gx in arrived:
            if x.grad is None:
                x.grad = np.array(gx, dtype=x.data.dtype)  # a copy we own, in the tensor's dtype
            else:
                x.grad += gx


def _check_held_grad(x: GraphTensor, held: Any) -> None:
    """A `.grad` set by hand must be a float array of the tensor's shape to be added to."""
    if type(held) is np.ndarray and held.shape == x.data.shape and held.dtype.kind == "f":
        return
    raise ValueError(
        f"backward: the tensor{named(x.name)} of shape {x.data.shape} holds a .grad "
        f"that is not a float array of its shape ({type(held).__name__}"
        f"{' of shape ' + str(np.shape(held)) if hasattr(held, 'shape') else ''}); "
        "set it to None (zero_grad()) before backward"
    )


def _as_gradient_tuple(node: Context, returned: Any) -> tuple[Any, ...]:
    """What a backward returned, as one gradient per input, or a TypeError saying what is off."""
    count = len(node.inputs)
    if isinstance(returned, list):
        returned = tuple(returned)
    elif not isinstance(returned, tuple) and count == 1:
        returned = (returned,)
    if not isinstance(returned, tuple):
        raise TypeError(
            f"backward of {node.name} returned {type(returned).__name__}; it must return a "
            f"tuple of {count} gradients (None for an input that needs none)"
        )
    if len(returned) != count:
        raise TypeError(
            f"backward of {node.name} returned {len(returned)} gradient(s) for {count} "
            "input(s); return one per input of forward (None where none is needed)"
        )
    return returned


def _input_position(node: Context, x: GraphTensor, gx: Any, input_grads: tuple[Any, ...]) -> int:
    """Which input of node a returned gradient belongs to (only for error messages)."""
    for i, (candidate, returned) in enumerate(zip(node.inputs, input_grads)):
        if candidate is x and returned is gx:
            return i
    return next(i for i, candidate in enumerate(node.inputs) if candidate is x)


def _checked_gradient(
    node: Context, x: GraphTensor, gx: Any, input_grads: tuple[Any, ...], create_graph: bool
) -> Any:
    """A gradient returned for input x, of x's shape (an array; a Tensor under create_graph),
    or an error naming the op and the input (whose position is worked out only then)."""
    returned = gx
    if create_graph:
        if not is_tensor(gx):
            i = _input_position(node, x, returned, input_grads)
            raise GradientTypeError(
                f"backward of {node.name} returned a {type(gx).__name__} for input {i}"
                f"{named(x.name)} under create_graph=True, so its derivative would be silently "
                "constant. Write its backward with operators, Tensor methods and tinygrad_edu "
                "functions (which work on arrays and Tensors alike), not np.* calls",
                node.name,
                i,
            )
        array = gx.data
    else:
        if is_tensor(gx):
            gx = gx.data
        array = gx = np.asarray(gx)
    if array.dtype.kind not in "fiub":
        i = _input_position(node, x, returned, input_grads)
        raise GradientTypeError(
            f"backward of {node.name} returned a gradient of dtype {array.dtype} for input {i}"
            f"{named(x.name)}; gradients must be real numeric arrays",
            node.name,
            i,
        )
    if array.shape != x.data.shape:
        i = _input_position(node, x, returned, input_grads)
        hint = " (sum the broadcast axes back with ops.unbroadcast)" if array.ndim >= x.data.ndim else ""
        raise GradientShapeError(
            f"backward of {node.name} returned a gradient of shape {array.shape} for input {i}"
            f"{named(x.name)}, whose shape is {x.data.shape}{hint}",
            node.name,
            i,
        )
    return gx


def _check_unchanged(tensor: GraphTensor, node: Context) -> None:
    """Raise if an array this op saved (or its index) was changed in place since the op ran:
    the arrays it holds locked (`node.locked`, from `versions.lock`), views before bases."""
    for array in node.locked:
        if isinstance(array, np.ndarray) and versions.array_version(array) > node.created_at:
            owners = [x for x in (tensor, *node.inputs) if is_tensor(x) and x.data is array]
            owner = owners[0] if owners else None
            what = f"a tensor{named(owner.name)}" if owner is not None else "an array"
            raise RuntimeError(
                f"backward of {node.name}: {what} of shape {array.shape} that it saved for "
                "backward was changed in place after the op ran, so its gradient would be "
                "wrong. Change data only after backward, or recompute the forward pass after "
                "the change."
            )


def _tensor_inputs(node: Context, only_requiring_grad: bool) -> Iterator[Any]:
    for x, needs in zip(node.inputs, node.needs_input_grad):
        if needs or (not only_requiring_grad and is_tensor(x)):
            yield x


def topological_order(root: T, only_requiring_grad: bool = False) -> list[T]:
    """Every tensor `root` depends on (itself included), inputs before the ops that use them.

    Iterative depth-first search: the depth of the graph is not limited by Python's stack.
    With `only_requiring_grad`, the walk does not enter inputs that require no grad.
    """
    order: list[T] = []
    visited: set[int] = set()
    stack: list[tuple[T, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = tensor._node
        if node is not None:
            for x in _tensor_inputs(node, only_requiring_grad):
                if id(x) not in visited:
                    stack.append((x, False))
    return order
