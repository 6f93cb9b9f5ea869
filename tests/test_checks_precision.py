"""float32-only bugs: gradcheck also runs fn in the caller's dtype and names the op that
overflows or loses precision there, while an op right at float32 precision passes (issue 11,
item 4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import check_gradients


class NaiveSigmoid(Function):
    """exp(x) / (1 + exp(x)): inf/inf = NaN for x > 88 in float32 (709 in float64)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x)
            y = e / (1 + e)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class StableSigmoid(NaiveSigmoid):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y


class DifferenceSoftplus(Function):
    """softplus whose backward is a centered difference with step 1e-5 in x's own dtype:
    accurate in float64, about 1% off in float32."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        h = x.dtype.type(1e-5)
        return grad * (np.logaddexp(0, x + h) - np.logaddexp(0, x - h)) / (2 * h)


class TanhInFloat32(Function):
    """tanh computed in float32 inside, whatever it is given: right at float32 precision."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x.astype(np.float32))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (y,) = ctx.saved_tensors
        return (grad * (1 - y * y)).astype(np.float32)


WEIGHTS = np.array([[0.7, -1.3, 0.4], [1.1, -0.6, 0.9]])


def weighted(t: Tensor) -> Tensor:
    return (t * WEIGHTS).sum()


def big32() -> Tensor:
    values = np.array([[95.0, -3.0, 0.5], [120.0, 2.0, -0.7]], dtype=np.float32)
    return Tensor(values, requires_grad=True, name="x")


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_sigmoid_overflowing_in_float32_is_named(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(NaiveSigmoid.apply(x)), big32(),
                             fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["NaiveSigmoid"]
    assert "forward of NaiveSigmoid is wrong in float32" in report.verdict
    assert "inf/NaN" in report.verdict
    assert report.inputs[0].ok  # the float64 differences agree: only float32 shows it


@pytest.mark.parametrize("fast_mode", [False, True])
def test_its_stable_twin_passes(fast_mode: bool) -> None:
    report = check_gradients(lambda x: weighted(StableSigmoid.apply(x)), big32(),
                             fast_mode=fast_mode)
    assert report.ok, report


def test_a_backward_losing_precision_in_float32_is_named() -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32),
               requires_grad=True, name="x")
    report = check_gradients(lambda x: weighted(DifferenceSoftplus.apply(x)), x)
    assert not report.ok
    assert [(c.op, c.input_index) for c in report.culprits] == [("DifferenceSoftplus", 0)]
    assert "backward of DifferenceSoftplus is wrong in float32 for input 0" in report.verdict
    assert report.extra_evaluations == 2  # the repeat at the same point, the float32 run


def test_an_op_right_at_float32_precision_is_no_false_alarm() -> None:
    x = Tensor(np.random.default_rng(1).normal(size=(2, 3)).astype(np.float32),
               requires_grad=True, name="x")
    report = check_gradients(lambda x: weighted(TanhInFloat32.apply(x)), x)
    assert report.ok, report


def test_float64_inputs_get_no_extra_run() -> None:
    x = Tensor(np.random.default_rng(1).normal(size=(2, 3)), requires_grad=True, name="x")
    report = check_gradients(lambda x: weighted(StableSigmoid.apply(x)), x)
    assert report.ok and report.extra_evaluations == 1


def test_the_culprit_is_a_node_of_the_reports_graph() -> None:
    from tinygrad_edu import topological_order

    report = check_gradients(lambda x: weighted(NaiveSigmoid.apply(x) * 2.0), big32())
    nodes = [t.grad_fn for t in topological_order(report.output) if t.grad_fn is not None]
    assert [c.op for c in report.culprits] == ["NaiveSigmoid"]
    assert any(report.culprits[0].node is node for node in nodes)
