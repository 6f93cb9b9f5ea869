"""gradcheck's tolerance model and refinement: a mismatch is a kink only when halving the step
shows one; at a smooth point the analytic value must match the limit of the differences, judged
against each difference's own error estimate (issue 11, items 1 and 2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import check_gradients

from test_checks import ReluOneAtZero  # relu taking the right slope (1) at exactly 0


class Log(Function):
    """log x; `error` scales the backward (0: correct)."""

    error = 0.0

    @classmethod
    def make(cls, error: float) -> type[Log]:
        return type("Log", (cls,), {"error": error})

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x)

    @classmethod
    def backward(cls, ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad / x * (1.0 + cls.error)


class Reciprocal(Function):
    error = 0.0

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return 1.0 / x

    @classmethod
    def backward(cls, ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return -grad / (x * x) * (1.0 + cls.error)


class WrongReciprocal(Reciprocal):
    error = 0.004


STEEP = np.array([1e-4, 2.3e-4, 1.4e-4])


def weighted_sum(t: Tensor) -> Tensor:
    return (t * np.array([0.7, -1.3, 0.4])).sum()


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_small_error_at_a_steep_point_is_caught_not_called_a_kink(fast_mode: bool) -> None:
    x = Tensor(STEEP.copy(), requires_grad=True, name="x")
    report = check_gradients(lambda x: weighted_sum(Log.make(0.004).apply(x)), x,
                             fast_mode=fast_mode)
    assert not report.ok
    assert report.kinks == []
    assert [c.op for c in report.culprits] == ["Log"]


@pytest.mark.parametrize("fast_mode", [False, True])
def test_the_correct_twin_at_the_same_steep_point_passes(fast_mode: bool) -> None:
    x = Tensor(STEEP.copy(), requires_grad=True, name="x")
    report = check_gradients(lambda x: weighted_sum(Log.make(0.0).apply(x)), x,
                             fast_mode=fast_mode)
    assert report.ok, report
    assert report.kinks == []


def test_reciprocal_steep_bug_and_twin() -> None:
    x = Tensor(np.array([1e-4, -1.7e-4, 2.3e-4]), requires_grad=True, name="x")
    assert check_gradients(lambda x: weighted_sum(Reciprocal.apply(x)), x).ok
    report = check_gradients(lambda x: weighted_sum(WrongReciprocal.apply(x)), x)
    assert not report.ok and report.kinks == []
    assert [c.op for c in report.culprits] == ["WrongReciprocal"]


class Scaled(Function):
    """x ↦ 1e-7·x² summed later; `error` scales the backward."""

    error = 0.0

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return 1e-7 * x * x

    @classmethod
    def backward(cls, ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * 2e-7 * x * (1.0 + cls.error)


class ScaledOneInAThousand(Scaled):
    error = 1e-3


class ScaledSignError(Scaled):
    error = -2.0


@pytest.mark.parametrize("bug", [ScaledOneInAThousand, ScaledSignError])
@pytest.mark.parametrize("fast_mode", [False, True])
def test_errors_in_a_loss_scaled_by_1e_minus_7_are_caught(bug: type[Scaled],
                                                          fast_mode: bool) -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True, name="x")
    assert check_gradients(lambda x: Scaled.apply(x).sum(), x, fast_mode=fast_mode).ok
    report = check_gradients(lambda x: bug.apply(x).sum(), x, fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == [bug.__name__]


def test_a_fixed_tolerance_keeps_pytorchs_rule() -> None:
    # A caller's atol/rtol keep their meaning: a 0.1% error passes under rtol=1e-2.
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)) * 1e3, requires_grad=True, name="x")
    fn = lambda x: ScaledOneInAThousand.apply(x).sum()  # noqa: E731
    assert check_gradients(fn, x, rtol=1e-2).ok
    assert not check_gradients(fn, x).ok
    assert "atol=1e-05, rtol=0.01" in str(check_gradients(fn, x, rtol=1e-2))


def test_a_kink_is_proved_by_halving_the_step() -> None:
    # relu at exactly 0 with a backward taking the right slope: the one-sided slopes stay
    # (1, 0) as the step shrinks, so the mismatch with the centered 0.5 is a kink.
    x = Tensor(np.array([0.0, 0.5, -0.5]), requires_grad=True, name="x")
    report = check_gradients(lambda x: ReluOneAtZero.apply(x).sum(), x)
    assert report.ok
    assert [k.index for k in report.kinks] == [(0,)]
    assert report.kinks[0].kind == "kink"


def test_a_jump_of_the_function_is_a_discontinuity() -> None:
    class Step(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return (x > 0) * 1.0 + x

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return grad

    x = Tensor(np.array([0.0, 0.5]), requires_grad=True, name="x")
    report = check_gradients(lambda x: Step.apply(x).sum(), x)
    assert report.ok
    assert [(k.index, k.kind) for k in report.kinks] == [((0,), "discontinuity")]
    assert "discontinuit" in str(report)
