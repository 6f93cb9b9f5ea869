"""`Tensor`: a numpy array that remembers the op that made it, and the reverse-mode graph walk.

A Tensor made by an op holds that op's `Context` as its node (`grad_fn`); the node holds the
op's inputs. `backward()` walks those nodes from the root in reverse topological order, with an
explicit stack (no recursion, so a graph of a million ops is fine), calls each op's backward
and sums the results into the leaves' `.grad`.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

if TYPE_CHECKING:
    import graphviz

    from .function import Context

__all__ = ["Tensor", "topological_order"]


class Tensor:
    """An n-dimensional array with an optional gradient.

    Tensor(data, requires_grad=False, name=None, dtype=None)

    data           anything `np.array` accepts (it is copied); float32 and float64 stay as given
    requires_grad  record ops on it and give it a `.grad`; only floating-point data may ask for
                   this (integer or bool data raises TypeError rather than being promoted,
                   so an int array never silently turns into a parameter)
    name           shown in `repr`, error messages and drawn graphs

    `.data` is the numpy array; `.grad` is None until a backward pass reaches the tensor, then
    an array of `.data`'s shape and dtype, summed over calls as in PyTorch (`zero_grad()`
    resets it). Change `.data` in place only through `add_`, `sub_`, `mul_`, `copy_` (or an
    optimizer): they bump `.version`, so a graph that saved the old values refuses to backward
    instead of returning a wrong gradient.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "name", "_retains_grad")

    # Make numpy defer to Tensor's reflected operators: ndarray + Tensor -> Tensor.__radd__.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__}: {error}"
            ) from error
        if array.dtype.kind not in "fiub":
            raise TypeError(
                f"Tensor: data must be numbers (float, int or bool), got dtype {array.dtype} "
                f"from {type(data).__name__}"
            )
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point data can require grad, got dtype {array.dtype}"
                f"{_named(name)}. Pass float data, e.g. np.asarray(x, dtype=np.float64)."
            )
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._node: Context | None = None
        self.name = name
        self._retains_grad = False

    # ---------------------------------------------------------------- array-like properties

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return self.transpose()

    @property
    def grad_fn(self) -> Context | None:
        """The node of the op that made this tensor (None for leaves and untracked results)."""
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def version(self) -> int:
        """0 until `.data` is changed in place through the library; it grows with every change.

        It belongs to the array, so tensors sharing one (`detach()`) share the version."""
        return array_version(self.data)

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy)."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor converts to a Python number; "
                f"this one{_named(self.name)} has shape {self.shape}"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """A tensor sharing this data (and so its version), outside any graph."""
        t = _new_tensor(Tensor)
        t.data, t.grad, t.requires_grad, t._node, t.name, t._retains_grad = (
            self.data, None, False, None, None, False)
        return t

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retains_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return np.asarray(self.data, dtype=dtype)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor{_named(self.name)} of shape {self.shape} is "
                "ambiguous; only a one-element tensor has one (use .item(), or .data.any()/.all())"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=50)
        parts = [body]
        if self.data.dtype != np.float64:
            parts.append(f"dtype={self.data.dtype}")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        if self._node is not None:
            parts.append(f"op={self._node.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        if self.grad is not None:
            parts.append("grad=" + np.array2string(self.grad, separator=", ", threshold=50))
        return "Tensor(" + ", ".join(parts) + ")"

    # ---------------------------------------------------------------- operators (ops.py)

    def __add__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops.rpow(base, self)

    def __neg__(self) -> Tensor:
        return _ops.Neg.apply(self)

    def __abs__(self) -> Tensor:
        return _ops.Abs.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.GetItem.apply(self, index=_ops.plain_index(index))

    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])
        return _ops.Transpose.apply(self, axes=axes or None)

    # ---------------------------------------------------------------- in-place changes

    def add_(self, other: Any) -> Tensor:
        """self.data += other, in place; bumps `.version`. Not recorded in any graph."""
        return self._in_place("add_", np.add, other)

    def sub_(self, other: Any) -> Tensor:
        """self.data -= other, in place; bumps `.version`. Not recorded in any graph."""
        return self._in_place("sub_", np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        """self.data *= other, in place; bumps `.version`. Not recorded in any graph."""
        return self._in_place("mul_", np.multiply, other)

    def copy_(self, other: Any) -> Tensor:
        """self.data[...] = other, in place; bumps `.version`. Not recorded in any graph."""
        return self._in_place("copy_", lambda a, b, out: np.copyto(out, b), other)

    def _in_place(self, op: str, ufunc: Any, other: Any) -> Tensor:
        if self._node is not None and _modes.grad_enabled:
            raise RuntimeError(
                f"{op}: the tensor{_named(self.name)} of shape {self.shape} was made by "
                f"{self._node.name} and grad mode is on; an in-place change is not recorded in "
                "the graph, so gradients through it would be wrong. Compute a new tensor "
                "(h = h * 3), or change it under no_grad() if its graph no longer matters."
            )
        value = other.data if isinstance(other, Tensor) else np.asarray(other)
        try:
            fits = np.broadcast_shapes(self.data.shape, value.shape) == self.data.shape
        except ValueError:
            fits = False
        if not fits:  # checked first, so a bad shape fails before a single element is written
            raise ValueError(
                f"{op}: a value of shape {value.shape} does not fit in place into the "
                f"tensor{_named(self.name)} of shape {self.shape}"
            )
        try:
            ufunc(self.data, value, out=self.data)
        except TypeError as error:
            raise TypeError(
                f"{op}: cannot write {value.dtype} values into the {self.data.dtype} "
                f"tensor{_named(self.name)}: {error}"
            ) from error
        bump_version(self.data)
        return self

    # ---------------------------------------------------------------- reverse mode

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Add d(self)/d(leaf) · grad into every leaf's `.grad` that requires grad.

        grad          the upstream gradient, of self's shape; implied as 1 for a one-element
                      tensor, required otherwise
        retain_graph  keep saved arrays so the same graph can be walked again; by default they
                      are freed, so memory does not grow with the graphs a loop leaves behind
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor{_named(self.name)} does not require grad, so there is "
                "no graph to walk. Create its inputs with requires_grad=True, and compute it "
                "outside no_grad()."
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can be implied only for a one-element output; this "
                    f"one{_named(self.name)} has shape {self.shape}. Pass grad=, an array of "
                    "that shape (e.g. np.ones(shape) to differentiate its sum)."
                )
            grad = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            given = grad
            try:
                grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"backward: grad must be numbers of shape {self.shape}, got "
                    f"{type(given).__name__}: {error}"
                ) from error
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward: grad has shape {grad.shape} but the tensor{_named(self.name)} "
                    f"has shape {self.shape}"
                )
        _run_backward(self, grad, retain_graph)

    def draw(self, **options: Any) -> graphviz.Digraph:
        """Shortcut for `tinygrad_edu.draw_graph(self, **options)`."""
        if _drawer is None:
            raise RuntimeError("draw: no drawer is registered (import tinygrad_edu.viz)")
        return _drawer(self, **options)


# The drawing layer registers its draw_graph here (tinygrad_edu.viz does it on import), so that
# `loss.draw()` works while the engine imports nothing from the drawing layer.
_drawer: Callable[..., Any] | None = None


def register_drawer(draw: Callable[..., Any]) -> None:
    """Make `Tensor.draw(**options)` call `draw(tensor, **options)`."""
    global _drawer
    _drawer = draw


_new_tensor = object.__new__


def _named(name: str | None) -> str:
    return f" {name!r}" if name else ""


def _tensor_inputs(node: Context, only_requiring_grad: bool) -> Iterator[Tensor]:
    for x, needs in zip(node.inputs, node.needs_input_grad):
        if needs or (not only_requiring_grad and isinstance(x, Tensor)):
            yield x


def topological_order(root: Tensor, only_requiring_grad: bool = False) -> list[Tensor]:
    """Every tensor `root` depends on (itself included), inputs before the ops that use them.

    Iterative depth-first search: the depth of the graph is not limited by Python's stack.
    With `only_requiring_grad`, the walk does not enter inputs that require no grad.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
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


def _run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    """Reverse mode, as PyTorch's engine does it: ops run in decreasing creation order (a
    max-heap on `sequence_nr`). An op is created after the ops that made its inputs, so by the
    time a tensor's op runs, every op that consumes the tensor has run and sent its gradient.

    Leaves' `.grad` are written, and saved arrays freed, only once every backward has
    succeeded: a backward that raises leaves every tensor and the graph as they were."""
    if root._node is None:
        _accumulate_into_leaf(root, grad)
        return
    partial: dict[int, Any] = {id(root): grad}  # gradients summed so far, by id of tensor
    heap: list[tuple[int, Tensor]] = [(-root._node.sequence_nr, root)]
    arrived: list[tuple[Tensor, Any]] = []  # (leaf or retained tensor, gradient), in order
    walked: list[Context] = []
    anomaly = _modes.anomaly
    clock = mutation_clock
    while heap:
        tensor = heappop(heap)[1]
        g = partial.pop(id(tensor))
        node = tensor._node
        if tensor._retains_grad:
            arrived.append((tensor, g))
        if type(node.saved_tensors) is FreedArrays:
            node.saved_tensors._refuse()
        if clock[0] != node.created_at:
            _check_unchanged(tensor, node)
        input_grads = node.fn.backward(node, g)
        if type(input_grads) is not tuple or len(input_grads) != len(node.inputs):
            input_grads = _as_gradient_tuple(node, input_grads)
        walked.append(node)
        for x, needs, gx in zip(node.inputs, node.needs_input_grad, input_grads):
            if not needs or gx is None:
                continue
            if type(gx) is not np.ndarray or gx.shape != x.data.shape or gx.dtype is _OBJECT:
                gx = _checked_gradient(node, x, gx, input_grads)
            if anomaly:
                _check_backward_anomaly(node, x, gx, input_grads)
            if x._node is None:
                arrived.append((x, gx))
                continue
            key = id(x)
            previous = partial.get(key)
            if previous is None:  # the first gradient to reach x: schedule x's op
                partial[key] = gx
                heappush(heap, (-x._node.sequence_nr, x))
            else:  # out of place: one op may hand the same array to several inputs
                partial[key] = previous + gx
    for x, gx in arrived:
        _accumulate_into_leaf(x, gx)
    if not retain_graph:
        for node in walked:
            if node.saved_tensors:
                node.saved_tensors = freed_marker(node.fn)


def _accumulate_into_leaf(leaf: Tensor, g: np.ndarray) -> None:
    if leaf.grad is None:
        leaf.grad = np.array(g, dtype=leaf.data.dtype)  # a copy we own, in the leaf's dtype
    else:
        leaf.grad += g


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


def _input_position(node: Context, x: Tensor, gx: Any, input_grads: tuple[Any, ...]) -> int:
    """Which input of node a returned gradient belongs to (only for error messages)."""
    for i, (candidate, returned) in enumerate(zip(node.inputs, input_grads)):
        if candidate is x and returned is gx:
            return i
    return next(i for i, candidate in enumerate(node.inputs) if candidate is x)


def _checked_gradient(node: Context, x: Tensor, gx: Any, input_grads: tuple[Any, ...]) -> np.ndarray:
    """A gradient returned for input x as an array of x's shape, or an error naming the op."""
    returned = gx
    gx = np.asarray(gx.data if isinstance(gx, Tensor) else gx)
    error: Exception | None = None
    if gx.dtype.kind not in "fciub":
        i = _input_position(node, x, returned, input_grads)
        error = TypeError(
            f"backward of {node.name} returned a gradient of dtype {gx.dtype} for input {i}"
            f"{_named(x.name)}; gradients must be numeric arrays"
        )
    elif gx.shape != x.data.shape:
        i = _input_position(node, x, returned, input_grads)
        hint = " (sum the broadcast axes back with ops.unbroadcast)" if gx.ndim >= x.ndim else ""
        error = ValueError(
            f"backward of {node.name} returned a gradient of shape {gx.shape} for input {i}"
            f"{_named(x.name)}, whose shape is {x.data.shape}{hint}"
        )
    if error is not None:
        error.input_index = i  # type: ignore[attr-defined]  (for programs, e.g. gradcheck)
        raise error
    return gx


def _check_unchanged(tensor: Tensor, node: Context) -> None:
    """Raise if an array this op saved was changed in place since the op ran."""
    for array in node.saved_tensors:
        if type(array) is np.ndarray and array_version(array) > node.created_at:
            owners = [x for x in (tensor, *node.inputs) if isinstance(x, Tensor) and x.data is array]
            _raise_modified(node, owners[0] if owners else None, array)


def _raise_modified(node: Context, owner: Tensor | None, array: np.ndarray) -> None:
    what = f"a tensor{_named(owner.name)}" if owner is not None else "an array"
    raise RuntimeError(
        f"backward of {node.name}: {what} of shape {array.shape} that it saved for backward "
        "was changed in place after the op ran, so its gradient would be wrong. Change data "
        "only after backward, or recompute the forward pass after the change."
    )


def _check_backward_anomaly(node: Context, x: Tensor, gx: np.ndarray, input_grads: tuple[Any, ...]) -> None:
    if gx.dtype.kind in "fc" and not np.all(np.isfinite(gx)):
        bad = "NaN" if np.isnan(gx).any() else "inf"
        i = _input_position(node, x, gx, input_grads)
        raise FloatingPointError(
            f"detect_anomaly: backward of {node.name} produced {bad} in the gradient of input "
            f"{i} (shape {gx.shape}). The op was created at:\n{node.creation_site()}"
        )


from . import ops as _ops  # noqa: E402  (ops defines Functions, which build Tensors)
from .function import (  # noqa: E402
    _OBJECT,
    FreedArrays,
    _modes,
    array_version,
    bump_version,
    freed_marker,
    mutation_clock,
)
