"""Centered finite differences for the engine's own tests.

Deliberately independent of `tinygrad_edu.checks` (the library's gradcheck), so that these
tests check the engine with nothing but numpy arithmetic and do not share its bugs.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_edu import Tensor, no_grad


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f() / d x by centered differences, (f(x + eps) - f(x - eps)) / (2 eps) per element.

    x   a float64, C-contiguous array that f reads; it is perturbed in place, one element at a
        time, and every element is restored before returning.
    """
    assert x.dtype == np.float64 and x.flags.c_contiguous, "perturb float64, contiguous arrays"
    grad = np.zeros(x.shape)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views onto x and grad
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        plus = f()
        flat_x[i] = original - eps
        minus = f()
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_grads(
    fn: Callable[..., Tensor],
    *arrays: Any,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> list[Tensor]:
    """Compare the engine's gradients of `fn` with centered finite differences.

    Each array becomes a float64 Tensor requiring grad; `out = fn(*tensors)` is differentiated
    with `out.backward(cotangent)` for a random cotangent (so every output element matters,
    and no other op of the engine takes part), and each input's `.grad` is compared with the
    finite-difference gradient of sum(fn(...) * cotangent). Returns the tensors, with `.grad`
    set, for further checks against closed forms.
    """
    tensors = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    cotangent = np.random.default_rng(seed).normal(size=out.shape)
    out.backward(cotangent)

    def projected_output() -> float:
        with no_grad():
            return float(np.sum(fn(*tensors).data * cotangent))

    for i, t in enumerate(tensors):
        expected = numerical_grad(projected_output, t.data, eps)
        assert t.grad is not None, f"input {i} got no gradient"
        np.testing.assert_allclose(
            t.grad, expected, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}"
        )
    return tensors


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reference (written separately from ops.unbroadcast): sum a broadcast gradient back to
    `shape` by summing away prepended axes, then every axis that was stretched from size 1."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
