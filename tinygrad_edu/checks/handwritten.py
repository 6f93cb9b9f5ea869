"""Checking a gradient written by hand in numpy, the way course assignments compute it:

    def svm_loss(W):
        ...
        return loss, dW

    report = check_numpy_gradient(svm_loss, W)      # raises GradcheckError if dW is wrong

The same check as `gradcheck` (centered differences, each judged against its own error
estimate, kinks told apart, f tested for being a function), the same report: a per-element
table of the worst entries and the kinks, relative errors |a - n| / (|a| + |n|) as cs231n
computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Function, Tensor
from ..validation import callable_arg
from .api import passed, run_gradcheck
from .report import GradcheckReport
from .settings import CheckOptions, GradcheckSettings, refuse_unknown, shows_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["check_numpy_gradient"]

Arrays = np.ndarray | Sequence[np.ndarray] | Mapping[str, np.ndarray]


@shows_options(CheckOptions)
def check_numpy_gradient(
    f: Callable[[Any], tuple[Any, Any]],
    x: Arrays,
    *,
    raise_exception: bool = True,
    **options: Unpack[CheckOptions],
) -> GradcheckReport:
    """Check the gradient f returns against centered finite differences of the loss.

    f      called as f(x) with arrays of x's structure; returns (loss, grad): loss a number,
           grad an array of x's shape (for a tuple or dict x: a tuple or dict of arrays, one
           per entry, such as cs231n's `loss, grads = net.loss(X, y)`)
    x      a floating-point array, a tuple/list of them, or a dict name -> array (the names
           label the report). Never changed: f gets float64 copies.
    eps, atol, rtol, samples, seed, progress    as for `gradcheck`
    raise_exception   True: a wrong gradient raises GradcheckError (an AssertionError whose
                      message is the report); False: the report is returned either way.

    Returns the `GradcheckReport` (`report.ok`, `str(report)` for the table).
    """
    __tracebackhide__ = True  # pytest shows the report first, not the library's frames
    refuse_unknown("check_numpy_gradient", options, CheckOptions, own=["raise_exception"])
    callable_arg("check_numpy_gradient", "f", f)
    names, arrays, rebuild = _flatten(x)
    op = _returned_gradient(f, rebuild, len(arrays))
    inputs = [Tensor(np.array(a, dtype=a.dtype if a.dtype.kind == "f" else np.float64),
                     requires_grad=True, name=name)
              for name, a in zip(names, arrays, strict=True)]
    report = run_gradcheck(lambda *ts: op.apply(*ts), inputs, GradcheckSettings.of(**options))
    passed(report, raise_exception)
    return report


def _flatten(x: Arrays) -> tuple[list[str | None], list[np.ndarray], Callable[[list[Any]], Any]]:
    """(names, arrays, rebuild): rebuild(list of arrays) gives x's structure back."""
    def array(value: Any, where: str) -> np.ndarray:
        if isinstance(value, Tensor):
            value = value.data
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            raise TypeError(f"check_numpy_gradient: {where} must be a numeric numpy array, "
                            f"got {type(value).__name__}")
        return value

    if isinstance(x, Mapping):
        keys = list(x)
        return ([str(k) for k in keys], [array(x[k], f"x[{k!r}]") for k in keys],
                lambda values: dict(zip(keys, values, strict=True)))
    if isinstance(x, (list, tuple)):
        kind = type(x)
        return ([None] * len(x), [array(v, f"x[{i}]") for i, v in enumerate(x)],
                lambda values: kind(values))
    return ["x"], [array(x, "x")], lambda values: values[0]


def _returned_gradient(f: Callable[[Any], tuple[Any, Any]],
                       rebuild: Callable[[list[Any]], Any], count: int) -> type[Function]:
    """A Function whose forward is f's loss and whose backward is the gradient f returned."""
    def forward(ctx: Any, *arrays: np.ndarray) -> np.ndarray:
        result = f(rebuild(list(arrays)))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"check_numpy_gradient: f must return (loss, grad), got "
                            f"{type(result).__name__}")
        loss, grads = result
        loss = np.asarray(loss.data if isinstance(loss, Tensor) else loss, dtype=np.float64)
        if loss.size != 1:
            raise ValueError(f"check_numpy_gradient: f's loss must be a single number, got "
                             f"shape {loss.shape}")
        ctx.grads = _grads_of(grads, rebuild, arrays, count)
        return loss.reshape(())

    def backward(ctx: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(grad * g for g in ctx.grads)

    name = getattr(f, "__name__", "f")
    name = name if name.isidentifier() else "f"
    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


def _grads_of(grads: Any, rebuild: Callable[[list[Any]], Any], arrays: tuple[np.ndarray, ...],
              count: int) -> list[np.ndarray]:
    """f's gradient as a list in x's order, each checked against its array's shape."""
    structure = rebuild(list(range(count)))
    if isinstance(structure, dict):
        if not isinstance(grads, Mapping) or set(grads) != set(structure):
            raise TypeError("check_numpy_gradient: f must return its gradient as a dict with "
                            f"the keys of x, {sorted(structure)}")
        listed = [grads[k] for k in structure]
    elif isinstance(structure, (list, tuple)):
        if not isinstance(grads, (list, tuple)) or len(grads) != count:
            raise TypeError(f"check_numpy_gradient: f must return one gradient per array of "
                            f"x ({count})")
        listed = list(grads)
    else:
        listed = [grads]
    result = []
    for g, a in zip(listed, arrays, strict=True):
        g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
        if g.shape != a.shape:
            raise ValueError(f"check_numpy_gradient: f returned a gradient of shape {g.shape} "
                             f"for an array of shape {a.shape}")
        result.append(g)
    return result
