"""Finite differences: the lecture's `numerical_gradient`. Its evaluations go through
`evaluations.evaluate_steps` (here, or on workers through `parallel`), the one loop of
evaluations at perturbed points, which gradcheck's numerical side uses too.

Why finite differences work, and how well
-----------------------------------------
A derivative is the limit of a difference quotient, so it can be estimated from values of f
alone. Taylor's theorem tells how good the estimate is for a step h:

    f(x + h) = f(x) + h f'(x) + h²/2 f''(x) + h³/6 f'''(x) + ...

    forward   (f(x+h) - f(x)) / h        = f'(x) + h/2 f''(x)  + ...   error O(h)
    centered  (f(x+h) - f(x-h)) / (2h)   = f'(x) + h²/6 f'''(x) + ...  error O(h²)

(the even powers cancel in the centered quotient). For f(θ) = θ³ at θ = 1 and h = 0.01 the
forward quotient is 3.0301 and the centered one 3.0001; the derivative is 3. A smaller h is
not always better: f is computed with a relative rounding error of about ε (2.2e-16 in float64,
1.2e-7 in float32) and the quotient divides it by h, adding ~ε·|f|/h. The total error is
smallest near h ≈ 1e-5 for the centered quotient in float64; in float32 no step gives much more
than three correct digits. So gradcheck always differentiates float64 copies of the inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import versions
from ..errors import LockedArrayError
from ..modes import no_grad
from ..tensor import Tensor
from ..validation import callable_arg, one_of, positive_float
from .parallel import evaluate_steps_parallel
from .progress import Progress
from .workers import Workers, resolve_workers

__all__ = ["numerical_gradient", "numerical_gradient_array", "METHODS"]

METHODS = ("central", "forward")


def numerical_gradient(
    f: Callable[[Any], Any],
    x: np.ndarray | Tensor,
    eps: float = 1e-5,
    method: str = "central",
    *,
    grad_output: np.ndarray | None = None,
    workers: Workers = None,
) -> np.ndarray:
    """The gradient of f at x by finite differences, one element of x at a time.

    f            called as f(x); returns a number (a float, a one-element array or Tensor).
                 With `grad_output`, f may return an array or Tensor of any shape, and the
                 result is the gradient of sum(f(x) * grad_output): the vector-Jacobian
                 product a backward pass computes for that upstream gradient.
    x            a floating-point ndarray, or a Tensor (its `.data` is perturbed and f is
                 called with the Tensor). It is changed in place, one element at a time, and
                 each element is put back bit-for-bit, also when f raises.
    eps          the step h.
    method       "central": (f(x+h) - f(x-h)) / 2h, error O(h²), two calls per element;
                 "forward": (f(x+h) - f(x)) / h, error O(h), one call per element (+1).
                 By Taylor, f(x±h) = f ± h f' + h²/2 f'' ± h³/6 f''' + ..., so the forward
                 quotient is f' + h/2 f'' + ... while in the centered one the h² terms cancel,
                 leaving f' + h²/6 f''' + .... For f(θ) = θ³ at θ = 1, h = 0.01:
                 forward 3.0301 (error 3h + h²), centered 3.0001 (error h²).
    workers      None (here), an int (a process pool of that many workers, -1: one per core,
                 created and shut down by this call), a concurrent.futures.Executor or a
                 map-like callable, as in `gradcheck`. f and x travel together in one payload,
                 so an f that reads x through its closure (`lambda _: net.loss()`) reads, in
                 the worker, the very array being perturbed. Same result, bit for bit.

    The step actually taken is (x + h) - x as rounded in x's dtype, which removes the error
    of h not being representable next to x. f runs under no_grad. Returns a float64 array of
    x's shape.
    """
    __tracebackhide__ = True
    callable_arg("numerical_gradient", "f", f)
    method = one_of("numerical_gradient", "method", method, METHODS)
    eps = positive_float("numerical_gradient", "eps", eps)
    array = x.data if isinstance(x, Tensor) else x
    _check_perturbable(array)
    if grad_output is not None:
        grad_output = np.asarray(
            grad_output.data if isinstance(grad_output, Tensor) else grad_output)
    readout = _NumberReadout(f, grad_output)

    steps = (eps,) if method == "forward" else (eps, -eps)
    with resolve_workers(workers, where="numerical_gradient") as pool, no_grad(), \
            Progress(array.size * len(steps), label="numerical_gradient") as progress:
        base = readout((x,))[0] if method == "forward" else 0.0
        # Here (pool None) or on the workers; an exception from f names the element.
        values, taken = evaluate_steps_parallel(readout, (x,), 0, np.arange(array.size),
                                                steps, pool=pool, progress=progress)
    if method == "forward":
        gradient = (values[0, :, 0] - base) / taken[0]
    else:
        gradient = (values[0, :, 0] - values[1, :, 0]) / (taken[0] - taken[1])
    return gradient.reshape(array.shape)


def numerical_gradient_array(
    f: Callable[[Any], Any],
    x: np.ndarray | Tensor,
    grad_output: np.ndarray,
    eps: float = 1e-5,
    method: str = "central",
    *,
    workers: Workers = None,
) -> np.ndarray:
    """cs231n's eval_numerical_gradient_array: the gradient of sum(f(x) * grad_output), for
    an f returning an array or Tensor. Same as `numerical_gradient(..., grad_output=...)`."""
    __tracebackhide__ = True
    return numerical_gradient(f, x, eps, method, grad_output=grad_output, workers=workers)


class _NumberReadout:
    """numerical_gradient's f, read as a one-element float array (see `_as_number`)."""

    def __init__(self, f: Callable[[Any], Any], grad_output: np.ndarray | None) -> None:
        self.f, self.grad_output = f, grad_output

    def __call__(self, args: Sequence[Any]) -> np.ndarray:
        __tracebackhide__ = True
        return np.array([_as_number(self.f(args[0]), self.grad_output)])


def _as_number(result: Any, grad_output: np.ndarray | None) -> float:
    data = np.asarray(result.data if isinstance(result, Tensor) else result)
    if data.dtype.kind not in "fiub":
        raise TypeError(
            f"numerical_gradient: f must return a number, an array or a Tensor, "
            f"got {type(result).__name__}"
        )
    if grad_output is None:
        if data.size != 1:
            raise ValueError(
                f"numerical_gradient: f returned an array of shape {data.shape}; return a single "
                "number, or pass grad_output= (an array of that shape) to get the gradient of "
                "sum(f(x) * grad_output)"
            )
        return float(data.reshape(-1)[0])
    if data.shape != grad_output.shape:
        raise ValueError(
            f"numerical_gradient: f returned shape {data.shape} but grad_output has shape "
            f"{grad_output.shape}"
        )
    return float(np.sum(data * grad_output))


def _check_perturbable(array: Any) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"numerical_gradient: x must be a numpy array or a Tensor (it is perturbed in "
            f"place), got {type(array).__name__}"
        )
    if array.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must hold floating-point numbers, got dtype {array.dtype}: "
            "a step of eps cannot be represented in it"
        )
    if not array.flags.writeable:
        if versions.is_locked(array):
            raise LockedArrayError(
                "numerical_gradient: x is held by a live graph (an op saved it for backward), so "
                "it is read-only until that graph is released: call backward() on its output or "
                "drop it (del loss) before the numerical check"
            )
        raise ValueError("numerical_gradient: x is read-only; it must be perturbed in place")
