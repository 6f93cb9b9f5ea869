"""The engine's core: `Tensor`, `Function` (one differentiable op, its forward and backward
side by side) and `Context` (the record of one op application: the graph's node).

Every op in tinygrad_edu, built-in or written by a user, is a subclass of `Function`::

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):            # numpy in, numpy out
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):        # vector-Jacobian product: one gradient per input
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(t)                   # a Tensor that joins the graph

`Function.apply` unwraps Tensors, runs `forward` on arrays and, when grad mode is on and some
input requires grad, records a `Context` as the output's node (`grad_fn`); the node holds the
op's inputs. That node is the whole graph record: `backward()` hands the root to the walk
(`walk.py`), which calls each op's backward and sums the results into the leaves' `.grad`;
`gradcheck` re-checks it, `draw_graph` draws it. Tensor's operators call the built-in ops
(`ops/`), which subclass Function: tensor <-> ops is the package's one import cycle.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import anomaly, versions
from .context import Context, FunctionBase, _Node
from .errors import op_error
from .modes import modes
from .validation import can_require_grad, forward_output, in_place_value, numeric_data, upstream_gradient
from .validation import named as _named
from .walk import run_backward, topological_order

if TYPE_CHECKING:
    import graphviz

__all__ = ["Tensor", "Function", "Context", "as_tensor", "topological_order"]


# ---------------------------------------------------------------- Tensor's operator sugar
# Each operator and one-op method is one call into ops/, where the op's forward and backward
# live. These make them from the op's name, looked up in ops/ when called (ops/ imports this
# module, so the classes do not exist yet when Tensor's body runs).


def _binary(op_name: str, doc: str, reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    if reflected:
        def operator(self: Tensor, other: Any) -> Tensor:
            return getattr(_ops, op_name).apply(other, self)
    else:
        def operator(self: Tensor, other: Any) -> Tensor:
            return getattr(_ops, op_name).apply(self, other)
    operator.__doc__ = f"{doc}, elementwise with broadcasting (ops.{op_name})"
    return operator


def _unary(op_name: str, doc: str) -> Callable[[Tensor], Tensor]:
    def method(self: Tensor) -> Tensor:
        return getattr(_ops, op_name).apply(self)
    method.__doc__ = f"{doc} (ops.{op_name})"
    return method


def _comparison(ufunc: np.ufunc, doc: str) -> Callable[[Tensor, Any], Tensor]:
    def compare(self: Tensor, other: Any) -> Tensor:
        return _ops.compare(ufunc, self, other)
    compare.__doc__ = (f"{doc}: elementwise and broadcast, as numpy's; a bool tensor that requires "
                       "no grad (a comparison has no derivative), usable as a mask or in `where`")
    return compare


def _augmented(op_name: str, symbol: str, ufunc: np.ufunc) -> Callable[[Tensor, Any], Tensor]:
    """`self <symbol> other` as PyTorch does it: under no_grad in place (the `W -= lr * W.grad`
    of a hand-written step); in grad mode a leaf that requires grad refuses, and anything else
    gets a new tensor with the value and gradient PyTorch's recorded in-place op would have."""
    def operator(self: Tensor, other: Any) -> Tensor:
        if not modes.grad_enabled:
            return self._in_place(symbol, ufunc, other)
        if self._node is None and self._requires_grad:
            raise RuntimeError(
                f"{symbol}: the tensor{_named(self.name)} of shape {self.shape} is a leaf that "
                "requires grad, and grad mode is on: an in-place change would not be recorded. "
                "Update parameters under `with tinygrad_edu.no_grad():` (or with an optimizer)."
            )
        return getattr(_ops, op_name).apply(self, other)
    operator.__doc__ = f"self {symbol} other: in place under no_grad, else a new tensor (ops.{op_name})"
    return operator


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

    __slots__ = ("data", "grad", "_requires_grad", "_node", "name", "_retains_grad")

    # Tensors are hashable by identity (as in PyTorch), though `==` is elementwise.
    __hash__ = object.__hash__

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
            if isinstance(data, (list, tuple)) and _holds_tensor_requiring_grad(data):
                raise TypeError(
                    "Tensor: a list of tensors that require grad would be silently detached "
                    "(the new tensor would get no gradient path to them). Use "
                    "tinygrad_edu.stack(tensors) (or concatenate) to build it inside the graph."
                ) from None
            raise TypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__}: {error}"
            ) from error
        numeric_data(array, "Tensor", type(data).__name__)
        can_require_grad(array, requires_grad, name, "Tensor")
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
        self._requires_grad = bool(requires_grad)
        self._node: Context | None = None
        self.name = name
        self._retains_grad = False

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded and it receives a `.grad`. Only a leaf's
        can be set, and only floating-point data can require grad."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be True or False, got {value!r}")
        if self._node is not None and not value:
            raise RuntimeError(
                f"requires_grad: the tensor{_named(self.name)} was made by {self._node.name}; "
                "only a leaf's flag can be changed (use detach() to get a tensor outside the graph)"
            )
        can_require_grad(self.data, value, self.name, "requires_grad")
        self._requires_grad = bool(value)

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

        It belongs to the memory, so tensors sharing one array (`detach()`, `as_tensor`), and
        views of it, share the version."""
        return versions.array_version(self.data)

    def numpy(self) -> np.ndarray:
        """The data array itself (not a copy). Refused for a tensor that requires grad, as in
        PyTorch: numpy work on it would not reach the graph (use `.detach().numpy()`)."""
        if self._requires_grad:
            raise TypeError(_detach_hint(self, "numpy()"))
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
        return _make(self.data)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        self._retains_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self._requires_grad:  # numpy would silently detach it: no gradient would flow
            raise TypeError(_detach_hint(self, "a numpy function"))
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

    __add__ = _binary("Add", "self + other")
    __radd__ = _binary("Add", "other + self", reflected=True)
    __sub__ = _binary("Sub", "self - other")
    __rsub__ = _binary("Sub", "other - self", reflected=True)
    __mul__ = _binary("Mul", "self * other")
    __rmul__ = _binary("Mul", "other * self", reflected=True)
    __truediv__ = _binary("Div", "self / other")
    __rtruediv__ = _binary("Div", "other / self", reflected=True)
    __matmul__ = _binary("MatMul", "self @ other")
    __rmatmul__ = _binary("MatMul", "other @ self", reflected=True)
    __neg__ = _unary("Neg", "-self")
    __abs__ = _unary("Abs", "|x| elementwise; its derivative at 0 is 0 (as PyTorch)")

    def __pow__(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops.rpow(base, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.GetItem.apply(self, index=_ops.plain_index(index))

    __lt__ = _comparison(np.less, "self < other")
    __le__ = _comparison(np.less_equal, "self <= other")
    __gt__ = _comparison(np.greater, "self > other")
    __ge__ = _comparison(np.greater_equal, "self >= other")
    __eq__ = _comparison(np.equal, "self == other")  # type: ignore[assignment]
    __ne__ = _comparison(np.not_equal, "self != other")  # type: ignore[assignment]

    __iadd__ = _augmented("Add", "+=", np.add)
    __isub__ = _augmented("Sub", "-=", np.subtract)
    __imul__ = _augmented("Mul", "*=", np.multiply)
    __itruediv__ = _augmented("Div", "/=", np.true_divide)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes, as np.swapaxes."""
        axes = list(range(self.data.ndim))
        a, b = _ops.normalize_axis("swapaxes", axis1, self.data.ndim), _ops.normalize_axis(
            "swapaxes", axis2, self.data.ndim)
        axes[a], axes[b] = axes[b], axes[a]
        return _ops.Transpose.apply(self, axes=tuple(axes))

    def astype(self, dtype: Any) -> Tensor:
        """This tensor's values in another dtype (a recorded op: the gradient is cast back)."""
        return _ops.Cast.apply(self, dtype=np.dtype(dtype))

    exp = _unary("Exp", "e**x elementwise")
    log = _unary("Log", "the natural logarithm elementwise")
    abs = __abs__

    # ---------------------------------------------------------------- the op vocabulary (ops/)
    # numpy's names and conventions (axis=, keepdims=, ddof=); PyTorch's dim= / keepdim= raise
    # an error naming ours. Each method is one call into ops/, where the op's forward and
    # backward (and its convention at kinks and ties) live.

    def sum(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        return _ops.reduce("sum", _ops.Sum, self, axis, keepdims, unknown)

    def mean(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        return _ops.reduce("mean", _ops.Mean, self, axis, keepdims, unknown)

    def max(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        """Maximum over axes; tied maxima share the gradient equally (as torch.amax)."""
        return _ops.reduce("max", _ops.Max, self, axis, keepdims, unknown)

    def min(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        """Minimum over axes; tied minima share the gradient equally (as torch.amin)."""
        return _ops.reduce("min", _ops.Min, self, axis, keepdims, unknown)

    def prod(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        """Product over axes; exact gradients with zeros (no division)."""
        return _ops.reduce("prod", _ops.Prod, self, axis, keepdims, unknown)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, **unknown: Any) -> Tensor:
        """Variance over axes, divided by n - ddof (numpy's ddof is PyTorch's correction)."""
        return _ops.variance("var", _ops.Var, self, axis, keepdims, ddof, unknown)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, **unknown: Any) -> Tensor:
        """sqrt(var(...)); its gradient is 0 where it is 0 (as torch.std)."""
        return _ops.variance("std", _ops.Std, self, axis, keepdims, ddof, unknown)

    def argmax(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        """Index of the largest element (flattened when axis is None): an int tensor."""
        return _ops.argmax(self, axis, keepdims, **unknown)

    def argmin(self, axis: Any = None, keepdims: bool = False, **unknown: Any) -> Tensor:
        """Index of the smallest element (flattened when axis is None): an int tensor."""
        return _ops.argmin(self, axis, keepdims, **unknown)

    def cumsum(self, axis: Any = None, **unknown: Any) -> Tensor:
        """Running sum along axis (of the flattened tensor when axis is None, as numpy)."""
        return _ops.cumsum(self, axis, **unknown)

    def softmax(self, axis: Any = -1, **unknown: Any) -> Tensor:
        return _ops.softmax(self, axis, **unknown)

    def log_softmax(self, axis: Any = -1, **unknown: Any) -> Tensor:
        """log(softmax(x)), stable for large scores."""
        return _ops.log_softmax(self, axis, **unknown)

    relu = _unary("Relu", "max(x, 0); relu'(0) = 0, as PyTorch")
    tanh = _unary("Tanh", "tanh(x) elementwise")
    sigmoid = _unary("Sigmoid", "1 / (1 + e**-x) elementwise, stable for large |x|")
    sqrt = _unary("Sqrt", "the square root elementwise")
    sin = _unary("Sin", "sin(x) elementwise")
    cos = _unary("Cos", "cos(x) elementwise")

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Values limited to [min, max]; the gradient passes at the bounds (as torch.clamp)."""
        return _ops.clip(self, min, max)

    def squeeze(self, axis: Any = None, **unknown: Any) -> Tensor:
        """Without its size-1 axes (all, or those named: each must have size 1, as numpy)."""
        return _ops.squeeze(self, axis, **unknown)

    def flatten(self, **unknown: Any) -> Tensor:
        return _ops.flatten(self, **unknown)

    def reshape(self, *shape: Any, **unknown: Any) -> Tensor:
        return _ops.reshape(self, shape, unknown)

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
        return self._in_place("copy_", lambda a, b, out, casting: np.copyto(out, b, casting=casting), other)

    def _in_place(self, op: str, ufunc: Any, other: Any) -> Tensor:
        if self._node is not None and modes.grad_enabled:
            raise RuntimeError(
                f"{op}: the tensor{_named(self.name)} of shape {self.shape} was made by "
                f"{self._node.name} and grad mode is on; an in-place change is not recorded in "
                "the graph, so gradients through it would be wrong. Compute a new tensor "
                "(h = h * 3), or change it under no_grad() if its graph no longer matters."
            )
        value = in_place_value(op, other.data if isinstance(other, Tensor) else other, self.data,
                               f"tensor{_named(self.name)}")
        data = self.data
        versions.write(data, lambda: ufunc(data, value, out=data, casting="unsafe"))
        return self

    def __copy__(self) -> Tensor:
        return self.__deepcopy__({}, deep=False)

    def __deepcopy__(self, memo: dict[int, Any], deep: bool = True) -> Tensor:
        """A leaf copies (data, requires_grad, name, grad); a tensor made by an op refuses at
        once, as in PyTorch: a copy of its node would share or break the graph."""
        if self._node is not None:
            raise RuntimeError(
                f"copy: the tensor{_named(self.name)} was made by {self._node.name}; only "
                "leaves (tensors made by you, not by an op) can be copied. Use "
                "t.detach() (shares data) or Tensor(t.detach()) (copies it)."
            )
        data = self.data.copy() if deep else self.data
        twin = _make(data, self._requires_grad, self.name)
        if self.grad is not None:
            twin.grad = self.grad.copy() if deep else self.grad
        memo[id(self)] = twin
        return twin

    # ---------------------------------------------------------------- reverse mode

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Add d(self)/d(leaf) · grad into every leaf's `.grad` that requires grad.

        grad          the upstream gradient, of self's shape; implied as 1 for a one-element
                      tensor, required otherwise
        retain_graph  keep saved arrays so the same graph can be walked again; by default they
                      are freed, so memory does not grow with the graphs a loop leaves behind
        create_graph  not here: `.grad` holds arrays. Use `tinygrad_edu.grad(..., create_graph=
                      True)`, which returns gradients you can differentiate again.
        """
        if create_graph:
            raise ValueError(
                "backward: create_graph=True is not supported here (.grad holds plain arrays); "
                "use tinygrad_edu.grad(outputs, inputs, create_graph=True), which returns "
                "gradients as Tensors that can be differentiated again"
            )
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
            grad = upstream_gradient("backward", "grad", grad.data if isinstance(grad, Tensor) else grad,
                                     self.data, f"the tensor{_named(self.name)}")
        run_backward((self,), (grad,), retain_graph)

    def draw(self, **options: Any) -> graphviz.Digraph:
        """Shortcut for `tinygrad_edu.draw_graph(self, **options)`."""
        if _drawer is None:
            raise RuntimeError("draw: no drawer is registered (import tinygrad_edu.viz)")
        return _drawer(self, **options)


# The operators the factories made take the names they are bound to, for help() and repr.
_FACTORIES = ("_binary.", "_unary.", "_comparison.", "_augmented.")
for _name, _member in list(vars(Tensor).items()):
    if getattr(_member, "__qualname__", "").startswith(_FACTORIES):
        _member.__name__, _member.__qualname__ = _name, f"Tensor.{_name}"
del _name, _member


# The drawing layer registers its draw_graph here (tinygrad_edu.viz does it on import), so that
# `loss.draw()` works while the engine imports nothing from the drawing layer.
_drawer: Callable[..., Any] | None = None


def register_drawer(draw: Callable[..., Any]) -> None:
    """Make `Tensor.draw(**options)` call `draw(tensor, **options)`."""
    global _drawer
    _drawer = draw


_op_sequence = itertools.count()  # numbers ops in creation order (next() is atomic)
_clock = versions.clock

_NO_KWARGS: Any = MappingProxyType({})  # shared by the many ops called without settings
_new_object = object.__new__


class Function(FunctionBase):
    """Base class of every differentiable op. Subclass it and define two static methods:

    forward(ctx, *arrays, **kwargs) -> ndarray
        Tensors given to `apply` arrive as their numpy arrays; other arguments as they are.
    backward(ctx, grad) -> one array (or None) per positional input of forward
        `grad` has the output's shape; each returned gradient must have its input's shape
        (use `tinygrad_edu.ops.unbroadcast` to sum a broadcast gradient back). Return None
        for inputs that are constants or whose `ctx.needs_input_grad` is False.

    Call `YourFunction.apply(*tensors_or_numbers, **kwargs)` to use it. Set the class attribute
    `settings_may_hold_arrays = False` when keyword settings are only axes, shapes or numbers
    (arrays among them, an index, are locked with the graph).
    """

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run forward on the inputs' arrays; record the op when some input requires grad."""
        needs: tuple[bool, ...]
        if len(inputs) == 2:  # most ops: unrolled, a third of the comprehensions' cost
            a, b = inputs
            if isinstance(a, Tensor):
                array_a, need_a = a.data, a._requires_grad
            else:
                array_a, need_a = a, False
            if isinstance(b, Tensor):
                array_b, need_b = b.data, b._requires_grad
            else:
                array_b, need_b = b, False
            arrays, needs = [array_a, array_b], (need_a, need_b)
            recorded = (need_a or need_b) and modes.grad_enabled
        elif len(inputs) == 1 and isinstance(inputs[0], Tensor):
            arrays, needs = [inputs[0].data], (inputs[0]._requires_grad,)
            recorded = needs[0] and modes.grad_enabled
        else:
            arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
            needs = tuple([isinstance(x, Tensor) and x._requires_grad for x in inputs])
            recorded = True in needs and modes.grad_enabled
        # The node and the output Tensor are filled in here, with no constructor calls: this is
        # the hot path of every op. (`saved_tensors` is what forward saved, for backward.)
        ctx = _new_object(Context)
        ctx.fn, ctx.inputs, ctx.needs_input_grad = cls, inputs, needs
        ctx.kwargs = kwargs or _NO_KWARGS
        ctx.saved_tensors, ctx.trace, ctx.locked = (), None, ()
        ctx.sequence_nr, ctx.created_at = next(_op_sequence), _clock[0]
        count = len(arrays)
        if count == 2:
            if arrays[0] is arrays[1] and inputs[0] is not inputs[1]:
                _give_distinct_arrays(ctx, inputs, arrays)  # c * x with c = x.detach()
        elif count > 2 and _shared(inputs, arrays):
            _give_distinct_arrays(ctx, inputs, arrays)
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError, OverflowError) as error:
            raise op_error(cls.__name__, error, arrays, kwargs) from error
        if type(out) is not np.ndarray or out.dtype.kind not in "fiub":
            returned, out = out, forward_output(cls.__name__, out)
            if ctx.saved_tensors and out is not returned:  # a numpy scalar it saved, now wrapped
                ctx.saved_tensors = tuple(out if v is returned else v for v in ctx.saved_tensors)
        result = _new_object(Tensor)
        result.data, result.grad, result.name, result._retains_grad = out, None, None, False
        if recorded:
            result._requires_grad, result._node = True, ctx
            saved = ctx.saved_tensors
            if saved or (kwargs and cls.settings_may_hold_arrays and versions.holds_arrays(kwargs)):
                ctx.locked = versions.lock(saved, kwargs.values() if kwargs else ())
                ctx.__class__ = _Node  # same slots: from now on, dropping it releases the locks
        else:
            result._requires_grad, result._node = False, None
        if modes.anomaly:
            anomaly.record_forward(ctx, out)
        return result


def _make(data: np.ndarray, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """The one way the library makes a Tensor around an array it already validated (the hot
    path, `Function.apply`, fills its output the same way inline)."""
    t = _new_object(Tensor)
    t.data, t.grad, t._requires_grad, t._node, t.name, t._retains_grad = (
        data, None, requires_grad, None, name, False)
    return t


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """A Tensor sharing `data`'s memory when it is already an array of that dtype (no copy),
    like `np.asarray` / `torch.as_tensor`; `Tensor(data)` copies, like `np.array`.

    Wrapping a training batch costs nothing this way; the graph still cannot be fooled by a
    later change of the shared array (see the README's "Safety nets")."""
    if isinstance(data, Tensor):
        if dtype is None or np.dtype(dtype) == data.dtype:
            return data
        data = data.data
    try:
        array = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"as_tensor: cannot make a numeric array from {type(data).__name__}: {error}"
        ) from error
    numeric_data(array, "as_tensor", type(data).__name__)
    return _make(array)


def _holds_tensor_requiring_grad(values: list[Any] | tuple[Any, ...]) -> bool:
    return any(
        (isinstance(v, Tensor) and v._requires_grad)
        or (isinstance(v, (list, tuple)) and _holds_tensor_requiring_grad(v))
        for v in values
    )


def _detach_hint(t: Tensor, what: str) -> str:
    return (
        f"{what} on the tensor{_named(t.name)} of shape {t.shape}, which requires grad, would "
        "silently detach it (no gradient flows through numpy). Use Tensor methods and "
        "tinygrad_edu functions (tinygrad_edu.stack for a list of tensors), or "
        "t.detach().numpy() if you mean its current values as a constant."
    )


def _distinct(array: Any) -> Any:
    """A view of `array` (same memory, another object), for an input position whose array is
    also another input's: under create_graph the walk maps what forward saved back to the
    inputs by the identity of these arrays, and `c * x` with c = x.detach() must keep c a
    constant."""
    return array.view() if isinstance(array, np.ndarray) else array


def _shared(inputs: tuple[Any, ...], arrays: list[Any]) -> bool:
    """Whether two different inputs hand forward the same array object."""
    return len({id(a) for a in arrays}) < len({id(x) for x in inputs})


def _give_distinct_arrays(ctx: Context, inputs: tuple[Any, ...], arrays: list[Any]) -> None:
    seen: dict[int, Any] = {}
    changed = False
    for i, (x, a) in enumerate(zip(inputs, arrays)):
        first = seen.setdefault(id(a), x)
        if first is not x and isinstance(a, np.ndarray):
            arrays[i], changed = _distinct(a), True
    if changed:
        ctx.forward_arrays = arrays


from . import ops as _ops  # noqa: E402  (the ops build Tensors; Tensor's operators call them)
