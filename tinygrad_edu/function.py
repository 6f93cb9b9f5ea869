"""`Function`: one differentiable operation, its forward and backward side by side.

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
input requires grad, records a `Context` as the output's node. That node is the whole graph
record: `Tensor.backward` walks it, `gradcheck` re-checks it, `draw_graph` draws it.

This module also holds the two thread-local modes: grad mode (`no_grad`, `enable_grad`) and
anomaly mode (`detect_anomaly`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import traceback
import weakref
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Function",
    "Context",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
]


class _Modes(threading.local):
    # Class attributes are the per-thread defaults: a new thread starts with grad mode on.
    grad_enabled: bool = True
    anomaly: bool = False


_modes = _Modes()

_F = TypeVar("_F", bound=Callable[..., Any])


class _ModeSwitch(contextlib.ContextDecorator):
    """Sets one flag of this thread's modes for the duration of a `with` block or a call."""

    _flag = ""
    _value = False

    def __enter__(self) -> None:
        self._previous = getattr(_modes, self._flag)
        setattr(_modes, self._flag, self._value)

    def __exit__(self, *exc: object) -> None:
        setattr(_modes, self._flag, self._previous)


class no_grad(_ModeSwitch):
    """Context manager (and decorator): ops run but record no graph, in this thread only."""

    _flag, _value = "grad_enabled", False


class enable_grad(_ModeSwitch):
    """Context manager (and decorator): turns graph recording back on inside `no_grad`."""

    _flag, _value = "grad_enabled", True


class detect_anomaly(_ModeSwitch):
    """Context manager (and decorator): check every forward output and every gradient for NaN
    and inf, and name the op (and where in your code it was created) that produced one.

    It records a traceback per op, so it is slow: turn it on to hunt a NaN, not to train.
    """

    _flag, _value = "anomaly", True


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph."""
    return _modes.grad_enabled


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return _modes.anomaly


# One clock for all in-place changes. Each change stamps the changed *array* with the next tick
# (so every Tensor sharing that array, e.g. after detach(), sees it), and each op notes the tick
# it ran at. Backward looks at the stamps only when the clock has moved since the op ran, so the
# common case (no change at all) costs one comparison.
mutation_clock = [0]
_op_sequence = itertools.count()  # numbers ops in creation order (next() is atomic)
_array_stamps: dict[int, tuple[weakref.ref, int]] = {}


_clock_lock = threading.Lock()  # two threads' ticks must never coincide or run backwards


def bump_version(array: np.ndarray) -> int:
    """Record that `array` was just changed in place; returns its new version."""
    key = id(array)
    with _clock_lock:
        mutation_clock[0] += 1
        tick = mutation_clock[0]
        entry = _array_stamps.get(key)
        if entry is not None and entry[0]() is array:
            ref = entry[0]
        else:  # forget the stamp when the array dies: a later array with its id starts at 0
            ref = weakref.ref(array, lambda _, key=key: _array_stamps.pop(key, None))
        _array_stamps[key] = (ref, tick)
    return tick


def array_version(array: Any) -> int:
    """The tick of the last in-place change of `array` through the library (0: never)."""
    entry = _array_stamps.get(id(array))
    return entry[1] if entry is not None and entry[0]() is array else 0


class FreedArrays:
    """Stands in `ctx.saved_tensors` once a backward pass without retain_graph released the
    saved arrays: any use of it raises, saying how to keep them."""

    __slots__ = ("fn",)

    def __init__(self, fn: type[Function]) -> None:
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


def freed_marker(fn: type[Function]) -> FreedArrays:
    marker = _freed_markers.get(fn)
    if marker is None:
        marker = _freed_markers[fn] = FreedArrays(fn)
    return marker


_OBJECT = np.dtype(object)  # numpy's builtin dtypes are singletons: `is` compares them
_NO_KWARGS: Any = MappingProxyType({})  # shared by the many ops called without settings
_new_object = object.__new__


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
                        arrays of tensors changed in place after that (see `mutation_clock`)
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
        "trace",
        "__dict__",  # users stash their own non-array state on ctx, as in PyTorch
    )

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

    def parents(self) -> list[Tensor]:
        """The Tensor inputs of this op, in argument order."""
        return [a for a in self.inputs if isinstance(a, Tensor)]

    def creation_site(self) -> str:
        """Where in user code this op was created (only known under `detect_anomaly`)."""
        if not self.trace:
            return "(creation site unknown: run under tinygrad_edu.detect_anomaly() to record it)"
        return "".join(traceback.format_list(self.trace))

    def __repr__(self) -> str:
        return f"<{self.fn.__name__} node>"


class Function:
    """Base class of every differentiable op. Subclass it and define two static methods:

    forward(ctx, *arrays, **kwargs) -> ndarray
        Tensors given to `apply` arrive as their numpy arrays; other arguments as they are.
    backward(ctx, grad) -> one array (or None) per positional input of forward
        `grad` has the output's shape; each returned gradient must have its input's shape
        (use `tinygrad_edu.ops.unbroadcast` to sum a broadcast gradient back). Return None
        for inputs that are constants or whose `ctx.needs_input_grad` is False.

    Call `YourFunction.apply(*tensors_or_numbers, **kwargs)` to use it.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("Function subclasses must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run forward on the inputs' arrays; record the op when some input requires grad."""
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        needs = tuple([isinstance(x, Tensor) and x.requires_grad for x in inputs])
        # The node and the output Tensor are filled in here, with no constructor calls: this is
        # the hot path of every op. (`saved_tensors` is what forward saved, for backward.)
        ctx = _new_object(Context)
        ctx.fn, ctx.inputs, ctx.needs_input_grad = cls, inputs, needs
        ctx.kwargs = kwargs or _NO_KWARGS
        ctx.saved_tensors, ctx.trace = (), None
        ctx.sequence_nr, ctx.created_at = next(_op_sequence), mutation_clock[0]
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            raise _named_error(cls, error, arrays, kwargs) from error
        if type(out) is not np.ndarray or out.dtype is _OBJECT:
            out = _as_output_array(cls, out)
        result = _new_object(Tensor)
        result.data, result.grad, result.name, result._retains_grad = out, None, None, False
        if True in needs and _modes.grad_enabled:
            result.requires_grad, result._node = True, ctx
        else:
            result.requires_grad, result._node = False, None
        if _modes.anomaly:
            _check_forward_anomaly(ctx, out)
        return result


def _named_error(
    cls: type[Function], error: Exception, arrays: list[Any], kwargs: dict[str, Any]
) -> Exception:
    """The same error, its message prefixed with the op's name and its inputs' shapes."""
    shapes = ", ".join(str(np.shape(a)) if isinstance(a, np.ndarray) else repr(a) for a in arrays)
    settings = "".join(f"; {k}={v!r}" for k, v in kwargs.items())
    message = f"{cls.__name__}: {error} (inputs: {shapes}{settings})"
    if isinstance(error, ValueError):  # numpy's AxisError is both; ValueError is the documented one
        return ValueError(message)
    if isinstance(error, IndexError):
        return IndexError(message)
    return TypeError(message)


def _as_output_array(cls: type[Function], out: Any) -> np.ndarray:
    array = np.asarray(out)
    if array.dtype.kind not in "fcuib":
        raise TypeError(
            f"{cls.__name__}.forward must return a numeric numpy array, got {type(out).__name__}"
            + (f" of dtype {array.dtype}" if isinstance(out, np.ndarray) else "")
        )
    return array


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stack() -> list[traceback.FrameSummary]:
    """The current stack without its innermost frames inside tinygrad_edu, however many there
    are (Tensor.log -> apply, or a user's MyOp.apply directly), so it ends at the caller's line."""
    stack = traceback.extract_stack()
    while stack and os.path.abspath(stack[-1].filename).startswith(_PACKAGE_DIR):
        stack.pop()
    return stack


def _check_forward_anomaly(ctx: Context, out: np.ndarray) -> None:
    ctx.trace = _user_stack()
    if out.dtype.kind in "fc" and not np.all(np.isfinite(out)):
        bad = "NaN" if np.isnan(out).any() else "inf"
        raise FloatingPointError(
            f"detect_anomaly: forward of {ctx.name} produced {bad} "
            f"(output shape {out.shape}). The op was created at:\n{ctx.creation_site()}"
        )


from .tensor import Tensor  # noqa: E402  (Tensor's operators call back into Function.apply)
