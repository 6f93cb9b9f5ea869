"""What a passing gradcheck spends its op guards on: the library's own ops are only run
forward (the test suite checks them), users' ops are inspected as before, on the values the
replay gives them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tinygrad_edu import Function, Tensor, ops
from tinygrad_edu.checks import check_gradients, guards


class ClampWritesInput(Function):
    """max(x, 0) that clamps its input in place: idempotent, so it is seen only on values it
    has not clamped yet."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        np.maximum(x, 0.0, out=x)  # the bug: writes into its input
        ctx.mask = x > 0
        return x.copy()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * ctx.mask


class TanhOwnBackward(ops.Tanh):
    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


def x_input() -> Tensor:
    return Tensor(np.linspace(-1.0, 1.2, 12).reshape(3, 4), requires_grad=True, name="x")


@pytest.fixture
def inspected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    original = guards._inspect

    def spy(node: Any, *args: Any) -> Any:
        names.append(node.name)
        return original(node, *args)

    monkeypatch.setattr(guards, "_inspect", spy)
    return names


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_a_passing_check_inspects_only_users_ops(inspected: list[str], fast_mode: bool) -> None:
    report = check_gradients(lambda x: ((x * 2.0).exp() * x).sum(), x_input(),
                             fast_mode=fast_mode)
    assert report.ok and inspected == []
    report = check_gradients(lambda x: (TanhOwnBackward.apply(x * 2.0).exp() * x).sum(),
                             x_input(), fast_mode=fast_mode)
    assert report.ok and inspected == ["TanhOwnBackward"]


def test_a_failing_check_inspects_every_op(inspected: list[str]) -> None:
    class WrongExp(ops.Exp):
        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (y,) = ctx.saved_tensors
            return 2 * grad * y

    report = check_gradients(lambda x: (WrongExp.apply(x * 2.0) * x).sum(), x_input())
    assert not report.ok
    assert inspected[:4] == ["Mul", "WrongExp", "Mul", "Sum"]


def test_library_ops_are_told_from_users_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    x = x_input()
    assert guards.is_library_op((x * 2.0).grad_fn)  # type: ignore[arg-type]
    assert not guards.is_library_op(TanhOwnBackward.apply(x).grad_fn)  # type: ignore[arg-type]
    assert not guards.is_library_op(ClampWritesInput.apply(x * 1.0).grad_fn)  # type: ignore[arg-type]
    monkeypatch.setattr(ops.Exp, "backward", staticmethod(lambda ctx, grad: grad))
    assert not guards.is_library_op(x.exp().grad_fn)  # type: ignore[arg-type]


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_a_users_op_after_library_ops_sees_the_values_they_gave_it(fast_mode: bool) -> None:
    # In the recorded call the op clamped x * 2 in place; replayed on what Mul gives anew
    # (negative entries again), the write shows, although its gradient is right.
    report = check_gradients(lambda x: (ClampWritesInput.apply(x * 2.0) * x).sum(), x_input(),
                             fast_mode=fast_mode)
    assert all(c.ok for c in report.inputs)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["ClampWritesInput"]
    assert report.verdict.startswith("forward of ClampWritesInput writes into its input 0")


def test_fast_mode_reads_fns_inner_values_only_once_a_direction_disagrees(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_edu.checks import procedure

    passes: list[bool] = []  # one per backward pass of the analytic side: inner values read?
    original = procedure._Analytic.jacobians

    def spy(self: Any, inside: bool = True) -> Any:
        passes.append(inside)
        return original(self, inside)

    monkeypatch.setattr(procedure._Analytic, "jacobians", spy)
    x = Tensor(np.random.default_rng(0).uniform(-1, 1, 3000), requires_grad=True, name="x")
    assert check_gradients(lambda x: ((x * 3.0).exp() * x).sum(), x, fast_mode=True).ok
    assert passes == [False]  # the passing path: one backward pass, no inner gradients kept
    passes.clear()
    assert check_gradients(lambda x: ((x * 3.0).exp() * x).sum(), x).ok
    assert passes == [True]  # full mode reads them at once (cheap beside 2·numel calls)

    class WrongExp(ops.Exp):
        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (y,) = ctx.saved_tensors
            return grad * y * 1.001

    passes.clear()
    report = check_gradients(lambda x: (WrongExp.apply(x * 3.0) * x).sum(), x, fast_mode=True)
    assert not report.ok and [c.op for c in report.culprits] == ["WrongExp"]
    assert passes[:2] == [False, True]  # read once, when a direction disagreed
