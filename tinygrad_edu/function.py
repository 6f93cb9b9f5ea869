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

The modes (`no_grad`, `detect_anomaly`) live in `modes.py`; they are re-exported here.
"""

from __future__ import annotations

import itertools
import os
import traceback
from types import MappingProxyType
from typing import Any

import numpy as np

from . import versions

# The modes are importable from here too (`from tinygrad_edu.function import no_grad`), as
# before they had a module of their own.
from .modes import detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, modes, no_grad  # noqa: F401
from .walk import FreedArrays

__all__ = ["Function", "Context"]

_op_sequence = itertools.count()  # numbers ops in creation order (next() is atomic)
_clock = versions.clock

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
    fn: type[Function]
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


class _Node(Context):
    """The Context of a recorded op that locked arrays: when the graph is dropped without a
    backward, the locks go with it. (Other ops keep a plain Context: no finalizer to run.)"""

    __slots__ = ()

    def __del__(self) -> None:
        held = self.locked
        if held:
            self.locked = ()
            versions.release(held)


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
            raise _named_error(cls, error, arrays, kwargs) from error
        if type(out) is not np.ndarray or out.dtype.kind not in "fiub":
            returned, out = out, _as_output_array(cls, out)
            if ctx.saved_tensors and out is not returned:  # a numpy scalar it saved, now wrapped
                ctx.saved_tensors = tuple(out if v is returned else v for v in ctx.saved_tensors)
        result = _new_object(Tensor)
        result.data, result.grad, result.name, result._retains_grad = out, None, None, False
        if recorded:
            result._requires_grad, result._node = True, ctx
            saved = ctx.saved_tensors
            if saved or (kwargs and cls.settings_may_hold_arrays and _holds_arrays(kwargs)):
                ctx.locked = versions.lock(saved, kwargs.values() if kwargs else ())
                ctx.__class__ = _Node  # same slots: from now on, dropping it releases the locks
        else:
            result._requires_grad, result._node = False, None
        if modes.anomaly:
            _check_forward_anomaly(ctx, out)
        return result


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


def _holds_arrays(kwargs: dict[str, Any]) -> bool:
    """Whether an op's settings hold arrays (an index) that must be locked with its graph."""
    for value in kwargs.values():
        kind = type(value)
        if kind is tuple or isinstance(value, np.ndarray):
            return True
    return False


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
    if isinstance(error, OverflowError):
        return OverflowError(message + ": a number too large for the array's dtype")
    return TypeError(message)


def _as_output_array(cls: type[Function], out: Any) -> np.ndarray:
    array = np.asarray(out)
    if array.dtype.kind == "c":
        raise TypeError(
            f"{cls.__name__}: complex values are not supported (its forward returned {array.dtype}"
            "); gradients would silently drop the imaginary part. Use real inputs."
        )
    if array.dtype.kind not in "fuib":
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


from .tensor import Tensor  # noqa: E402  (apply builds Tensors; Tensor's operators call the ops)
