"""gradcheck refuses what is not a function, and names the op behind a side effect: random
or changing fn, inputs changed in place, writes into saved arrays or the upstream gradient,
state kept between calls (issue 11, items 3, 5, 6 and 8). Each in full and fast mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import check_gradients

MODES = [False, True]  # fast_mode


def x_input(n: int = 6, seed: int = 0) -> Tensor:
    return Tensor(np.random.default_rng(seed).uniform(0.5, 1.5, size=n) * np.resize([1, -1], n),
                  requires_grad=True, name="x")


class Tanh(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class TanhShiftsX(Tanh):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        x += 1e-3  # the bug: meant x + 1e-3
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y


class TanhWritesGrad(Tanh):
    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (y,) = ctx.saved_tensors
        grad *= 1 - y * y  # the bug: writes into the upstream gradient
        return grad


class SquareWritesX(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        x *= 2  # the bug: meant 2 * x
        return grad * x


class Dropout(Function):
    rng = np.random.default_rng(0)

    @classmethod
    def forward(cls, ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.mask = (cls.rng.random(x.shape) < 0.5) * 2.0
        return x * ctx.mask

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return grad * ctx.mask


class CachedTanh(Function):
    """Keeps its last output in the class, not in ctx: wrong when used twice in a graph."""

    last: np.ndarray = np.zeros(0)

    @classmethod
    def forward(cls, ctx: Any, x: np.ndarray) -> np.ndarray:
        cls.last = np.tanh(x)
        return cls.last

    @classmethod
    def backward(cls, ctx: Any, grad: np.ndarray) -> np.ndarray:
        return grad * (1 - cls.last**2)


WEIGHTS = np.array([0.7, -1.3, 0.4, 1.1, -0.6, 0.9])


def weighted(t: Tensor) -> Tensor:
    return (t * WEIGHTS[: t.shape[-1]]).sum()


@pytest.mark.parametrize("fast_mode", MODES)
@pytest.mark.parametrize("noise", [1e-3, 1e-6])
def test_a_random_fn_is_diagnosed_as_not_deterministic(fast_mode: bool, noise: float) -> None:
    rng = np.random.default_rng(1)
    report = check_gradients(lambda x: weighted(x * x) + float(rng.normal()) * noise,
                             x_input(), fast_mode=fast_mode)
    assert not report.ok and report.kinks == []
    assert [p.kind for p in report.fn_problems] == ["not deterministic"]
    assert report.verdict.startswith("fn is not deterministic: two calls at the same point "
                                     "differ by ")
    assert "fix its random seed" in report.verdict
    assert report.evaluations == 0 and report.extra_evaluations == 1


@pytest.mark.parametrize("fast_mode", MODES)
def test_a_random_op_is_named(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(Dropout.apply(x)), x_input(), fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["Dropout"]
    assert "forward of Dropout is not deterministic" in report.verdict


@pytest.mark.parametrize("fast_mode", MODES)
def test_a_fn_changing_its_input_is_diagnosed(fast_mode: bool) -> None:
    def fn(x: Tensor) -> Tensor:
        x.data[...] += 1e-3  # the bug: fn moves its own input at every call
        return weighted(x * x)

    report = check_gradients(fn, x_input(), fast_mode=fast_mode)
    assert not report.ok
    assert [(p.kind, p.input_index) for p in report.fn_problems] == [("changes its inputs", 0)]
    assert report.verdict.startswith("fn changes its input 0 'x' in place")


@pytest.mark.parametrize("fast_mode", MODES)
def test_an_op_changing_its_input_is_named(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(TanhShiftsX.apply(x)), x_input(),
                             fast_mode=fast_mode)
    assert not report.ok
    assert [(c.op, c.input_index) for c in report.culprits] == [("TanhShiftsX", 0)]
    assert report.verdict.startswith("forward of TanhShiftsX writes into its input 0")


@pytest.mark.parametrize("fast_mode", MODES)
def test_an_op_writing_into_its_saved_input_is_named(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(SquareWritesX.apply(x)), x_input(),
                             fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["SquareWritesX"]
    assert "backward of SquareWritesX writes into" in report.verdict


@pytest.mark.parametrize("fast_mode", MODES)
def test_an_op_writing_into_its_upstream_gradient_is_named(fast_mode: bool) -> None:
    # The gradients come out right here, but a second consumer of grad would be corrupted.
    report = check_gradients(lambda x: weighted(TanhWritesGrad.apply(x)), x_input(),
                             fast_mode=fast_mode)
    assert not report.ok
    assert all(c.ok for c in report.inputs)
    assert [c.op for c in report.culprits] == ["TanhWritesGrad"]
    assert "writes into its upstream gradient" in report.verdict


@pytest.mark.parametrize("fast_mode", MODES)
def test_an_op_keeping_state_between_calls_is_named(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(CachedTanh.apply(CachedTanh.apply(x) * 2.0)),
                             x_input(), fast_mode=fast_mode)
    assert not report.ok
    assert {c.op for c in report.culprits} == {"CachedTanh"}
    assert "keeps state outside ctx" in report.verdict


def test_a_correct_op_is_not_blamed_and_extra_calls_are_counted_apart() -> None:
    report = check_gradients(lambda x: weighted(Tanh.apply(x)), x_input())
    assert report.ok and report.culprits == [] and report.fn_problems == []
    assert report.evaluations == 12 and report.extra_evaluations == 1


class AddsConstant(Tanh):
    """tanh whose gradient is off by an additive 1e-4 in element 1234."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (y,) = ctx.saved_tensors
        g = grad * (1 - y * y)
        g[1234] += 1e-4
        return g


def test_fast_mode_catches_an_additive_1e_minus_4_error() -> None:
    # Gradients of size ~10: a fixed rtol of 1e-3 would allow 1e-2 per element.
    x = Tensor(np.random.default_rng(2).normal(size=3000), requires_grad=True, name="x")
    c = 10 * np.random.default_rng(3).normal(size=3000)
    assert check_gradients(lambda x: (Tanh.apply(x) * c).sum(), x, fast_mode=True).ok
    report = check_gradients(lambda x: (AddsConstant.apply(x) * c).sum(), x, fast_mode=True)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["AddsConstant"]


def test_a_zero_dimensional_input_reaches_fn_as_zero_dimensional() -> None:
    def fn(x: Tensor) -> Tensor:
        if x.shape != ():
            raise AssertionError(f"fn got shape {x.shape}")
        return x * x * 3.0

    x = Tensor(np.array(1.5), requires_grad=True, name="x")
    report = check_gradients(fn, x)
    assert report.ok, report
    assert report.inputs[0].shape == ()


def test_a_fortran_ordered_input_keeps_its_layout_for_fn() -> None:
    seen = []

    def fn(x: Tensor) -> Tensor:
        seen.append(x.data.flags.f_contiguous)
        return (x * x).sum()

    x = Tensor(np.asfortranarray(np.arange(6.0).reshape(2, 3)), requires_grad=True)
    assert check_gradients(fn, x).ok
    assert all(seen)
