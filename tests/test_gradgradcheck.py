"""gradgradcheck: second derivatives (the derivative of the backward) against finite
differences of the first derivative, and the op whose double backward is wrong named.

The planted bugs are the three of issue 12, each written the ways users write them: a value
kept on ctx outside save_for_backward (a constant to the second derivative: PyTorch cannot
detect it, its issue 104040), a saved input detached (value_of, .data, numpy), and a sign error
that lives only in the double backward (a backward computed by a second Function whose own
backward is wrong). Every built-in op, the kinks, the fused losses and nn.Linear must pass.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
import tinygrad_edu as tg
from test_function import Cube  # x³, its backward written with operators
from test_testing import BUILT_IN_CASES
from tinygrad_edu import Function, Tensor, losses, nn, ops
from tinygrad_edu.checks import GradcheckError, gradcheck
from tinygrad_edu.checks.gradgrad import (
    DoubleBackwardCulprit,
    FirstDerivative,
    GradgradcheckError,
    GradgradcheckReport,
    check_second_derivatives,
    gradgradcheck,
)
from tinygrad_edu.ops.broadcast import value_of
from tinygrad_edu.testing import random_inputs

# ----------------------------------------------------------------------------- planted bugs


class CubeKeepingSquareOnCtx(Function):
    """x³ whose backward uses x² computed in forward and kept on ctx: right at first order,
    its second derivative silently zero."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.sq = x**2
        return x**3

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * 3 * ctx.sq


class CubeSavingX(Function):
    """x³ saving x; the subclasses' backward passes use it in different ways."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x**3


class CubeDetachingWithValueOf(CubeSavingX):
    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 3 * value_of(x) ** 2


class CubeDetachingWithData(CubeSavingX):
    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        values = x.data if isinstance(x, Tensor) else x
        return grad * 3 * values**2


class CubeCallingNumpyOnData(CubeSavingX):
    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 3 * np.square(value_of(x))


class CubeReturningAnArray(CubeSavingX):
    """A backward computed on values only: under create_graph it returns a numpy array."""

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return value_of(grad) * 3 * value_of(x) ** 2


class CubeCallingNumpyOnTensor(CubeSavingX):
    """np.square on the saved input: a Tensor under create_graph, which numpy refuses."""

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 3 * np.square(x)


class SquareBackward(Function):
    """(g, x) -> 2·g·x, the backward of Square as an op; its own backward has the wrong sign
    for x."""

    @staticmethod
    def forward(ctx: Any, g: np.ndarray, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(g, x)
        return 2 * g * x

    @staticmethod
    def backward(ctx: Any, gg: Any) -> tuple[Any, Any]:
        g, x = ctx.saved_tensors
        return 2 * x * gg, -2 * g * gg  # the bug: d(2gx)/dx is +2g


class Square(Function):
    """x², first derivative right; its double backward wrong (through SquareBackward)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return SquareBackward.apply(grad, x)


ZERO_DOUBLE_BACKWARD = [CubeKeepingSquareOnCtx, CubeDetachingWithValueOf, CubeDetachingWithData,
                        CubeCallingNumpyOnData]


def x_input(seed: int = 0, shape: tuple[int, ...] = (4,)) -> Tensor:
    return Tensor(np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)
                  * np.where(np.arange(int(np.prod(shape))) % 2, 1, -1).reshape(shape),
                  requires_grad=True, name="x")


def in_a_graph(op: type[Function]) -> Any:
    """The op in the middle of built-in ops, so that the culprit must be told from them."""
    W = Tensor(np.random.default_rng(5).normal(size=(4, 3)), name="W")
    return lambda x: (op.apply((x * 0.5).exp()) @ W).tanh().sum()


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("op", ZERO_DOUBLE_BACKWARD, ids=lambda op: op.__name__)
def test_a_double_backward_that_is_silently_zero_is_caught_and_named(
        op: type[Function], fast_mode: bool) -> None:
    x = x_input()
    assert gradcheck(in_a_graph(op), x, fast_mode=fast_mode)  # first order is right
    report = check_second_derivatives(in_a_graph(op), x, fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == [op.__name__]  # no built-in op blamed
    culprit = report.culprits[0]
    assert isinstance(culprit, DoubleBackwardCulprit) and culprit.input_index == 0
    assert culprit.message.startswith(f"double backward of {op.__name__} is wrong for input 0")
    assert "it is zero" in culprit.message and "save_for_backward" in culprit.message
    assert report.verdict.startswith(f"double backward of {op.__name__}")
    # The culprit is a node of fn's forward graph, which report.output holds.
    assert culprit.node in [t.grad_fn for t in tg.topological_order(report.output)]


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_a_backward_calling_numpy_on_a_saved_tensor_is_named(fast_mode: bool) -> None:
    x = x_input()
    report = check_second_derivatives(in_a_graph(CubeCallingNumpyOnTensor), x,
                                      fast_mode=fast_mode)
    assert not report.ok and report.inputs == []
    assert isinstance(report.backward_error, TypeError)
    assert [c.op for c in report.culprits] == ["CubeCallingNumpyOnTensor"]
    assert report.verdict.startswith(
        "backward of CubeCallingNumpyOnTensor cannot be differentiated: under "
        "create_graph=True it raised TypeError")
    assert "the first derivative cannot be recorded" in str(report)


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_a_backward_returning_an_array_under_create_graph_is_named(fast_mode: bool) -> None:
    # Refused by the engine (GradientTypeError), or taken as a constant: named either way.
    report = check_second_derivatives(in_a_graph(CubeReturningAnArray), x_input(),
                                      fast_mode=fast_mode)
    assert not report.ok
    assert [c.op for c in report.culprits] == ["CubeReturningAnArray"]
    message = report.culprits[0].message
    assert "it is zero" in message or message.startswith(
        "backward of CubeReturningAnArray cannot be differentiated")


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_a_sign_error_only_in_the_double_backward_names_both_ops(fast_mode: bool) -> None:
    x = x_input()
    assert gradcheck(in_a_graph(Square), x, fast_mode=fast_mode)  # first order is right
    report = check_second_derivatives(in_a_graph(Square), x, fast_mode=fast_mode)
    assert not report.ok
    ops_named = [c.op for c in report.culprits]
    assert ops_named[0] == "Square" and set(ops_named) == {"Square", "SquareBackward"}
    square = report.culprits[0]
    assert isinstance(square, DoubleBackwardCulprit)
    assert "in its backward: backward of SquareBackward is wrong for input 1" in square.message
    assert "it is zero" not in square.message
    # The other culprit is an op of the double-backward graph (report.gradient's).
    inner = next(c for c in report.culprits if c.op == "SquareBackward")
    assert inner.node in [t.grad_fn for t in tg.topological_order(report.gradient)]


def test_a_twice_differentiable_users_op_passes() -> None:
    x = x_input()
    assert gradgradcheck(in_a_graph(Cube), x)
    assert gradgradcheck(in_a_graph(Cube), x, fast_mode=True)


# ----------------------------------------------------------------------------- correct ops


@pytest.mark.parametrize(
    "name, case",
    [(name, case) for name, cases in BUILT_IN_CASES.items() for case in cases],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_built_in_op_passes(name: str, case: dict[str, Any]) -> None:
    tensors = random_inputs(case["shapes"], positive=case.get("positive", False),
                            domains=case.get("domains"), dtype=case.get("dtype", np.float64))
    arguments: list[Any] = list(tensors)
    for position, constant in sorted(case.get("constants", {}).items()):
        arguments.insert(position, constant)
    kwargs = case.get("kwargs", {})
    function = getattr(ops, name)
    for fast_mode in (False, True):
        report = check_second_derivatives(lambda *xs: function.apply(*xs, **kwargs),
                                          tuple(arguments), fast_mode=fast_mode)
        assert report.ok, str(report)
        assert len(report.inputs) == len(tensors) and report.culprits == []


KINKS = {
    # name: (fn, values): each has inputs exactly on kinks, where the first derivative jumps
    "maximum(x, 0)": (lambda x: (tg.maximum(x, 0.0) * x).sum(), [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "maximum(x, 0) alone": (lambda x: tg.maximum(x, 0.0), [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "relu": (lambda x: x.relu() * x, [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "abs": (lambda x: x.abs().sum(), [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "abs times x": (lambda x: x.abs() * x, [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "clip": (lambda x: x.clip(0.0, 0.5) * x, [-1.0, 0.0, 0.5, 0.0, 2.0]),
    "max at ties": (lambda x: x.max(axis=1) * x.sum(axis=1), [[1.0, 3.0, 3.0], [2.0, 0.5, 2.0]]),
    "max of all at ties": (lambda x: x.max() * x.sum(), [[1.0, 3.0, 3.0], [2.0, 0.5, 3.0]]),
}


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", list(KINKS))
def test_second_derivatives_at_kinks_are_not_bugs(name: str, fast_mode: bool) -> None:
    fn, values = KINKS[name]
    x = Tensor(np.array(values), requires_grad=True, name="x")
    report = check_second_derivatives(fn, x, fast_mode=fast_mode)
    assert report.ok, str(report)
    if not fast_mode:  # fast mode meets kinks only where a direction disagrees
        assert report.inputs[0].num_kinks > 0
        assert "sit on kinks of fn" in report.verdict


def test_maximum_at_a_tie_of_two_inputs_passes() -> None:
    a = Tensor([1.0, 2.0, -1.0], requires_grad=True, name="a")
    b = Tensor([1.0, 0.0, -1.0], requires_grad=True, name="b")
    for fast_mode in (False, True):
        report = check_second_derivatives(lambda a, b: tg.maximum(a, b) * a * b, (a, b),
                                          fast_mode=fast_mode)
        assert report.ok, str(report)


SCORES = np.random.default_rng(3).normal(size=(5, 4))
LABELS = np.array([0, 3, 1, 1, 2])


@pytest.mark.parametrize("loss", [
    lambda s: losses.softmax_cross_entropy(s, LABELS),
    lambda s: losses.softmax_cross_entropy(s, LABELS, reduction="none"),
    lambda s: losses.softmax_cross_entropy(s, LABELS, reduction="sum") * 0.1,
    lambda s: losses.svm_loss(s, LABELS),
    lambda s: losses.svm_loss(s, LABELS, reduction="none"),
], ids=["softmax-mean", "softmax-none", "softmax-sum", "svm-mean", "svm-none"])
def test_the_fused_losses_pass(loss: Any) -> None:
    scores = Tensor(SCORES, requires_grad=True, name="scores")
    for fast_mode in (False, True):
        report = check_second_derivatives(loss, scores, fast_mode=fast_mode)
        assert report.ok, str(report)


def test_linear_and_a_network_pass() -> None:
    rng = np.random.default_rng(4)
    layer = nn.Linear(4, 3, seed=0)
    x = Tensor(rng.normal(size=(5, 4)), requires_grad=True, name="x")
    assert gradgradcheck(lambda x: layer(x).tanh().sum(), x)
    assert layer.weight.grad is None and layer.bias.grad is None  # its parameters untouched
    W = Tensor(layer.weight.data.copy(), requires_grad=True, name="W")
    b = Tensor(layer.bias.data.copy(), requires_grad=True, name="b")
    assert gradgradcheck(lambda x, W, b: nn.LinearFunction.apply(x, W, b).tanh(), (x, W, b))
    X = Tensor(rng.normal(size=(6, 4)), name="X")
    W1 = Tensor(0.5 * rng.normal(size=(4, 5)), requires_grad=True, name="W1")
    W2 = Tensor(0.5 * rng.normal(size=(5, 3)), requires_grad=True, name="W2")
    y = np.array([0, 2, 1, 1, 0, 2])

    def mlp(W1: Tensor, W2: Tensor) -> Tensor:
        return losses.softmax_cross_entropy((X @ W1).relu() @ W2, y)

    for fast_mode in (False, True):
        assert gradgradcheck(mlp, (W1, W2), fast_mode=fast_mode)


# ----------------------------------------------------------------------------- the check itself


def test_the_first_derivative_is_the_gradient_for_a_scalar_and_v_J_otherwise() -> None:
    theta = Tensor([1.0], requires_grad=True, name="theta")  # the lecture's θ³ at θ = 1
    report = check_second_derivatives(lambda t: (t**3).sum(), theta)
    assert report.ok
    np.testing.assert_allclose(report.gradient.data, [3.0])
    np.testing.assert_allclose(report.inputs[0].max_rel_error, 0.0, atol=1e-8)
    assert "v = 1: g is the gradient" in report.checked_what
    x = Tensor([0.5, -2.0], requires_grad=True, name="x")
    v = np.array([2.0, -1.0])
    report = check_second_derivatives(lambda x: x**3, x, grad_outputs=v)
    np.testing.assert_allclose(report.gradient.data, v * 3 * x.data**2)
    assert "v = grad_outputs" in report.checked_what


def test_several_inputs_are_checked_together() -> None:
    rng = np.random.default_rng(2)
    x = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    W = Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    report = check_second_derivatives(lambda x, W, k: (x @ W).tanh() * k, (x, W, 2.0))
    assert report.ok and [c.label for c in report.inputs] == ["input 0 'x'", "input 1 'W'"]
    assert report.gradient.shape == (x.size + W.size,)
    assert "∂(vᵀ·fn)/∂(x, W), flattened and concatenated" in report.checked_what


def test_the_callers_tensors_are_left_as_they_were() -> None:
    x = x_input()
    x.grad = np.full(4, 7.0)
    kept, version = x.data.copy(), x.version
    for op in (Cube, CubeKeepingSquareOnCtx, CubeCallingNumpyOnTensor):
        check_second_derivatives(in_a_graph(op), x)
    np.testing.assert_array_equal(x.data, kept)
    np.testing.assert_array_equal(x.grad, np.full(4, 7.0))
    assert x.version == version and x.data.flags.writeable


def test_a_report_reads_well() -> None:
    report = check_second_derivatives(in_a_graph(CubeKeepingSquareOnCtx), x_input())
    text = str(report)
    lines = text.split("\n")
    assert lines[0].startswith("gradgradcheck failed (eps=1e-06")
    assert lines[1].startswith("  checked: the first derivative g = ∂(vᵀ·fn)/∂x")
    assert "input 0 'x' (shape (4,), float64; Jacobian):" in text
    assert "x[0] -> out[0]" in text  # the table: element of x -> entry of g
    assert "culprits (each op re-checked on copies of its own inputs):" in text
    assert lines[-1].startswith("verdict: double backward of CubeKeepingSquareOnCtx is wrong")
    passed = str(check_second_derivatives(in_a_graph(Cube), x_input()))
    assert passed.split("\n")[0].startswith("gradgradcheck passed")
    assert passed.split("\n")[-1].startswith(
        "verdict: the second derivatives with respect to input 0 'x' agree with finite "
        "differences of the first derivative")


def test_gradgradcheck_raises_or_returns_false() -> None:
    fn = in_a_graph(CubeKeepingSquareOnCtx)
    with pytest.raises(GradgradcheckError) as caught:
        gradgradcheck(fn, x_input())
    assert isinstance(caught.value, GradcheckError) and isinstance(caught.value, AssertionError)
    assert isinstance(caught.value.report, GradgradcheckReport)
    assert str(caught.value).startswith("gradgradcheck failed")
    assert gradgradcheck(fn, x_input(), raise_exception=False) is False
    assert gradgradcheck(fn, x_input(), localize=False, raise_exception=False) is False
    assert check_second_derivatives(fn, x_input(), localize=False).culprits == []


def test_bad_arguments_are_refused_naming_gradgradcheck() -> None:
    x = x_input()
    with pytest.raises(TypeError, match="gradgradcheck: unexpected keyword argument.*bogus"):
        gradgradcheck(lambda x: x.exp(), x, bogus=1)
    with pytest.raises(ValueError, match=r"gradgradcheck: grad_outputs has shape \(3,\), but "
                                         r"fn's output has shape \(4,\)"):
        gradgradcheck(lambda x: x.exp(), x, grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="gradgradcheck: no input requires grad"):
        gradgradcheck(lambda x: x.exp(), Tensor([1.0]))
    with pytest.raises(TypeError, match="gradgradcheck"):
        gradgradcheck("not a function", x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gradcheck: eps must be"):
        gradgradcheck(lambda x: x.exp(), x, eps=-1.0)


@pytest.mark.timeout(120)
def test_workers_pass_through() -> None:
    assert gradgradcheck(in_a_graph(Cube), x_input(), workers=2)
    report = check_second_derivatives(in_a_graph(CubeKeepingSquareOnCtx), x_input(), workers=2)
    assert [c.op for c in report.culprits] == ["CubeKeepingSquareOnCtx"]


def sum_of_cubes(x: Tensor) -> Tensor:
    return (x**3).sum()


def test_the_first_derivative_travels_to_workers_without_its_graph() -> None:
    first = FirstDerivative(sum_of_cubes, [0], None)
    x = x_input()
    with tg.enable_grad():
        first(x)
    assert first.forward is not None
    copy = pickle.loads(pickle.dumps(first))
    assert copy.forward is None and copy.positions == [0]
    np.testing.assert_array_equal(copy(x).data, 3 * x.data**2)
