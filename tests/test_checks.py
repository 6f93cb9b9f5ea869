"""gradcheck: it passes correct backwards, catches planted bugs and names the op at fault,
treats kinks as kinks, leaves the inputs as they were, and says all of it clearly."""

from __future__ import annotations

import io
import sys
from typing import Any, Callable

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, maximum, no_grad, topological_order
from tinygrad_edu import checks, ops
from tinygrad_edu.checks import (
    GradcheckError,
    GradcheckReport,
    check_gradients,
    gradcheck,
    numerical_gradient,
)
from tinygrad_edu.ops import unbroadcast

from test_numerical_gradient import FakeTerminal, terminal_with_bar

# ----------------------------------------------------------------------------- planted bugs
# Most are a built-in op with its backward replaced by a buggy copy: the forward is inherited.


class ScaledMul(ops.Mul):
    """Mul whose gradient for input 1 is 10% too large."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        return unbroadcast(grad * b, a.shape), unbroadcast(1.1 * grad * a, b.shape)


class FlippedSub(ops.Sub):
    """Sub whose gradient for input 1 has the wrong sign."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.inputs
        return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)


class OneWrongExp(ops.Exp):
    """Exp whose gradient is 1.5 times too large in one element, flat index 5."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        g = grad * out
        g.flat[5] *= 1.5
        return g


class UnreducedAdd(ops.Add):
    """Add that forgets to sum the gradient of a broadcast input back to its shape."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        return grad, grad


class SwappedMul(ops.Mul):
    """Mul that sends each input the gradient meant for the other."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        return grad * a, grad * b


class BadExp(ops.Exp):
    """Exp whose gradient is 1.5 times too large."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        return 1.5 * grad * out


class PowIgnoringGrad(ops.Pow):
    """x ** exponent whose backward forgets to multiply by the upstream gradient."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        exponent = ctx.kwargs["exponent"]
        return exponent * x ** (exponent - 1)


class SquareMutatingSaved(Function):
    """x² whose backward changes its saved array in place: a second backward differs."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x.copy())
        return x**2

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        x *= 2.0  # the bug: the first call doubles what the next one will see
        return grad * x


class ReluOneAtZero(Function):
    """relu with derivative 1 at 0 (a valid subgradient; not the centered difference's 0.5)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * (x >= 0.0)


class LeakyMaskRelu(ReluOneAtZero):
    """relu whose mask lets negative inputs down to -1 through."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * (x > -1.0)


def randn(*shape: int, seed: int = 0, name: str | None = None, grad: bool = True) -> Tensor:
    return Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=grad, name=name)


def softmax_loss(X: Tensor, labels: np.ndarray, exp: Callable[[Tensor], Tensor] = Tensor.exp
                 ) -> Callable[[Tensor], Tensor]:
    rows = np.arange(len(labels))

    def loss(W: Tensor) -> Tensor:
        scores = X @ W
        shifted = scores - scores.max(axis=1, keepdims=True)
        return (exp(shifted).sum(axis=1).log() - shifted[rows, labels]).mean()

    return loss


def failure(fn: Callable[..., Tensor], inputs: Any, **options: Any) -> GradcheckError:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(fn, inputs, **options)
    return caught.value


# ----------------------------------------------------------------------------- passing


def test_softmax_loss_passes() -> None:
    rng = np.random.default_rng(0)
    X, labels = Tensor(rng.normal(size=(8, 5))), rng.integers(0, 3, size=8)
    assert gradcheck(softmax_loss(X, labels), randn(5, 3, name="W")) is True


def test_several_inputs_constants_and_an_input_not_requiring_grad() -> None:
    a, b = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="b")
    data = randn(3, 4, seed=3, grad=False)
    report = check_gradients(lambda a, b, k, d: ((a * b + k) * d).exp().sum(), (a, b, 2.0, data))
    assert report.ok
    assert [c.position for c in report.inputs] == [0, 1]  # only inputs requiring grad
    assert [c.name for c in report.inputs] == ["a", "b"]
    assert report.inputs[0].checked == 12 and report.inputs[1].checked == 4
    assert report.evaluations == 2 * (12 + 4)


def test_non_scalar_output_checks_the_whole_jacobian() -> None:
    a, b = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="b")
    report = check_gradients(lambda a, b: a * b, (a, b))
    assert report.ok
    assert report.inputs[0].method == "Jacobian"
    assert report.inputs[0].checked == 12 * 12 and report.inputs[1].checked == 12 * 4
    assert report.inputs[0].unit == "Jacobian entries"


@pytest.mark.parametrize("seed", range(8))
def test_no_false_alarm_at_random_points(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, labels = Tensor(rng.normal(size=(6, 4))), rng.integers(0, 3, size=6)
    W = Tensor(rng.normal(size=(4, 3)) * 3, requires_grad=True, name="W")
    b = Tensor(rng.normal(size=3), requires_grad=True, name="b")

    def fn(W: Tensor, b: Tensor) -> Tensor:
        scores = X @ W + b
        hinge = maximum(0.0, scores - scores[np.arange(6), labels].reshape(6, 1) + 1.0)
        return hinge.sum() / 6 + (W * W).sum() * 0.1 + (b.abs() / (1.0 + (b * b))).sum()

    report = check_gradients(fn, (W, b))
    assert report.ok, report


def test_report_of_a_pass_reads_well() -> None:
    report = check_gradients(lambda x: (x * x).sum(), randn(3, name="x"))
    text = str(report)
    assert text.startswith(
        "gradcheck passed (eps=1e-06, tolerance: each difference's estimated error")
    assert "input 0 'x' (shape (3,), float64; Jacobian): ok, max rel. error" in text
    assert text.splitlines()[-1].startswith(
        "verdict: the gradients of input 0 'x' agree with finite differences"
    )


# ----------------------------------------------------------------------------- planted bugs


def test_wrong_scale_message_names_input_count_elements_and_verdict() -> None:
    a, W = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="W")
    error = failure(lambda a, W: ScaledMul.apply(a, W).sum(), (a, W))
    text = str(error)
    assert "input 1 'W' (shape (4,), float64; Jacobian): 4 of 4 elements disagree" in text
    assert "input 0 'a' (shape (3, 4), float64; Jacobian): ok" in text
    for i in range(4):
        assert f"W[{i}]" in text
    assert "backward of ScaledMul is wrong for input 1" in text
    assert text.splitlines()[-1] == "verdict: backward of ScaledMul is wrong for input 1"
    report = error.report
    assert isinstance(report, GradcheckReport) and not report.ok
    bad = report.inputs[1]
    assert (bad.position, bad.name, bad.failures, bad.checked) == (1, "W", 4, 4)
    worst = bad.worst[0]
    expected = a.data.sum(axis=0)[worst.index]
    assert worst.analytic == pytest.approx(1.1 * expected, rel=1e-12)
    assert worst.numerical == pytest.approx(expected, rel=1e-8)
    assert worst.rel_error == pytest.approx(0.1 / 2.1, rel=1e-6)  # |a-n| / (|a|+|n|)


def test_wrong_sign() -> None:
    a, b = randn(3, seed=1, name="a"), randn(3, seed=2, name="b")
    report = failure(lambda a, b: (FlippedSub.apply(a, b) ** 2).sum(), (a, b)).report
    assert report.inputs[0].ok and report.inputs[1].failures == 3
    worst = report.inputs[1].worst[0]
    assert worst.analytic == pytest.approx(-worst.numerical, rel=1e-6)
    assert worst.rel_error == pytest.approx(1.0)
    assert [(c.op, c.input_index) for c in report.culprits] == [("FlippedSub", 1)]


def test_one_wrong_element() -> None:
    x = randn(3, 4, name="x")
    report = failure(lambda x: OneWrongExp.apply(x).sum(), x).report
    check = report.inputs[0]
    assert check.failures == 1
    assert check.worst[0].index == (1, 1)  # flat index 5 of a (3, 4) array
    assert "1 of 12 elements disagree" in str(report)
    assert "x[1, 1]" in str(report)


def test_missing_broadcast_reduction_is_reported_as_a_wrong_backward() -> None:
    a, b = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="b")
    error = failure(lambda a, b: UnreducedAdd.apply(a, b).sum(), (a, b))
    assert isinstance(error.__cause__, ValueError)  # the engine's shape check, chained
    report = error.report
    assert isinstance(report.backward_error, ValueError)
    assert [(c.op, c.input_index) for c in report.culprits] == [("UnreducedAdd", 1)]
    assert report.verdict == "backward of UnreducedAdd is wrong for input 1 (it raised ValueError)"
    assert ("backward raised ValueError: backward of UnreducedAdd returned a gradient of shape "
            "(3, 4) for input 1 'b', whose shape is (4,)") in str(error)


def test_gradient_sent_to_the_wrong_input() -> None:
    a, b = randn(2, 3, seed=1, name="a"), randn(2, 3, seed=2, name="b")
    report = failure(lambda a, b: SwappedMul.apply(a, b).sum(), (a, b)).report
    assert report.inputs[0].failures == 6 and report.inputs[1].failures == 6
    culprits = {(c.op, c.input_index) for c in report.culprits}
    assert culprits == {("SwappedMul", 0), ("SwappedMul", 1)}


def test_backward_ignoring_its_upstream_gradient_is_caught_by_linearity() -> None:
    # Under .sum() the upstream gradient is 1, so finite differences alone cannot see this.
    x = randn(4, name="x")
    report = failure(lambda x: PowIgnoringGrad.apply(x, exponent=3).sum(), x).report
    assert report.inputs[0].ok
    assert report.backward_problems
    assert "not linear in the upstream gradient" in report.backward_problems[0].message
    messages = [c.message for c in report.culprits]
    assert any(m.startswith("backward of PowIgnoringGrad is wrong for input 0: ") for m in messages)
    assert any("a zero upstream gradient gave a nonzero gradient" in m for m in messages)


def test_fast_mode_catches_a_backward_ignoring_its_upstream_gradient_without_extra_passes() -> None:
    # Fast mode skips the linearity passes; its upstream gradient for a scalar is -0.75, not 1.
    x = randn(4, name="x")
    report = check_gradients(
        lambda x: PowIgnoringGrad.apply(x, exponent=3).sum(), x, fast_mode=True, progress=False
    )
    assert not report.ok and not report.backward_problems
    assert report.inputs[0].failures > 0
    assert [(c.op, c.input_index) for c in report.culprits] == [("PowIgnoringGrad", 0)]


def test_backward_that_changes_its_saved_array_is_caught_as_not_repeatable() -> None:
    report = failure(lambda x: SquareMutatingSaved.apply(x).sum(), randn(3, name="x")).report
    assert "not repeatable" in report.backward_problems[0].message
    assert report.culprits[0].op == "SquareMutatingSaved"


def test_wrong_gradient_through_a_non_scalar_output() -> None:
    a, b = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="b")
    report = failure(lambda a, b: ScaledMul.apply(a, b), (a, b)).report
    check = report.inputs[1]
    assert check.unit == "Jacobian entries" and check.checked == 48
    assert check.failures == 12  # one nonzero entry per output element
    assert check.worst[0].output_index is not None
    assert " -> out[" in str(report)


def test_large_outputs_are_checked_through_a_vector_jacobian_product(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checks.modes, "JACOBIAN_LIMIT", 10)
    a, b = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="b")
    assert check_gradients(lambda a, b: a * b, (a, b)).inputs[0].method == "vector-Jacobian product"
    report = failure(lambda a, b: ScaledMul.apply(a, b), (a, b)).report
    assert report.inputs[1].method == "vector-Jacobian product"
    assert report.inputs[1].failures == 4 and report.inputs[0].ok


def test_raise_exception_false_returns_false() -> None:
    a, b = randn(3, seed=1), randn(3, seed=2)
    fn = lambda a, b: ScaledMul.apply(a, b).sum()  # noqa: E731
    assert gradcheck(fn, (a, b), raise_exception=False) is False
    assert issubclass(GradcheckError, AssertionError)


# ----------------------------------------------------------------------------- culprits


def test_culprit_inside_a_softmax_loss_is_the_planted_exp() -> None:
    rng = np.random.default_rng(0)
    X, labels = Tensor(rng.normal(size=(8, 5))), rng.integers(0, 3, size=8)
    loss = softmax_loss(X, labels, exp=BadExp.apply)
    error = failure(loss, randn(5, 3, name="W"))
    report = error.report
    assert [(c.op, c.input_index) for c in report.culprits] == [("BadExp", 0)]
    culprit = report.culprits[0]
    assert culprit.message == "backward of BadExp is wrong for input 0"
    assert culprit.rel_error == pytest.approx(0.5 / 2.5, rel=1e-6)
    nodes = [t.grad_fn for t in topological_order(report.output) if t.grad_fn is not None]
    assert any(culprit.node is node for node in nodes)
    assert culprit.node.name == "BadExp"
    assert report.verdict == "backward of BadExp is wrong for input 0"


def test_culprit_is_a_users_function_by_its_class_name() -> None:
    class MyMul(ScaledMul):
        pass

    a, b = randn(2, 3, seed=1, name="a"), randn(3, seed=2, name="b")
    error = failure(lambda a, b: (MyMul.apply(a, b).exp() * 2.0).sum(), (a, b))
    assert "backward of MyMul is wrong for input 1" in str(error)


def test_no_culprit_when_part_of_fn_is_computed_outside_the_graph() -> None:
    # x * x.data: the graph sees only one of the two factors, every op is right.
    report = failure(lambda x: (x * Tensor(x.data)).sum(), randn(3, name="x")).report
    assert report.culprits == []
    assert "every op's backward agrees with its own" in report.verdict
    assert "outside the recorded graph" in report.verdict


def test_output_without_a_graph() -> None:
    report = failure(lambda x: Tensor(x.data * 2.0).sum(), randn(3, name="x")).report
    assert report.inputs[0].failures == 3
    assert "no recorded graph" in report.verdict


# ----------------------------------------------------------------------------- kinks


def test_relu_with_an_element_exactly_at_zero_is_a_kink_not_a_failure() -> None:
    x = Tensor(np.array([-1.5, 0.0, 2.0, 0.7]), requires_grad=True, name="x")
    report = check_gradients(lambda x: (maximum(0.0, x) * np.arange(1.0, 5.0)).sum(), x)
    assert report.ok, report
    assert [k.index for k in report.kinks] == [(1,)]
    kink = report.kinks[0]
    assert kink.analytic == pytest.approx(1.0)  # half of the upstream 2.0: maximum's tie rule
    assert kink.slopes == pytest.approx((2.0, 0.0))
    assert "1 derivative(s) on kinks" in str(report)


def test_abs_at_zero_is_a_kink() -> None:
    x = Tensor(np.array([0.0, -2.0, 3.0]), requires_grad=True, name="x")
    report = check_gradients(lambda x: x.abs().sum(), x)
    assert report.ok
    assert [k.index for k in report.kinks] == [(0,)]
    assert report.kinks[0].slopes == pytest.approx((1.0, -1.0))


def test_max_with_ties_is_a_kink() -> None:
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True, name="x")
    report = check_gradients(lambda x: x.max(axis=1), x)
    assert report.ok
    assert sorted(k.index for k in report.kinks) == [(0, 1), (0, 2)]


def test_svm_loss_with_a_margin_exactly_at_zero() -> None:
    scores = Tensor(np.array([[2.0, 1.0, 3.5], [0.0, 1.0, -1.0]]), requires_grad=True, name="s")
    labels = np.array([0, 1])

    def svm(s: Tensor) -> Tensor:
        correct = s[np.arange(2), labels].reshape(2, 1)
        return maximum(0.0, s - correct + 1.0).sum()  # s[0, 1] - s[0, 0] + 1 == 0 exactly

    report = check_gradients(svm, scores)
    assert report.ok, report
    assert (0, 1) in [k.index for k in report.kinks]


def test_element_just_next_to_a_kink_is_no_false_alarm() -> None:
    # 3e-7 and -4e-7 are within eps = 1e-6 of relu's kink: the centered difference straddles it.
    x = Tensor(np.array([3e-7, -4e-7, 0.2]), requires_grad=True, name="x")
    report = check_gradients(lambda x: maximum(x, 0.0).sum(), x)
    assert report.ok
    assert sorted(k.index for k in report.kinks) == [(0,), (1,)]


def test_a_sharp_bend_of_a_smooth_function_is_not_a_kink() -> None:
    x = Tensor(np.array([0.0, 0.5]), requires_grad=True, name="x")
    report = check_gradients(lambda x: (x * x * 1000.0).sum(), x)
    assert report.ok and report.kinks == []


def test_a_wrong_backward_is_still_caught_where_the_function_is_smooth() -> None:
    x = Tensor(np.array([-0.5, 0.0, 1.0, -2.0]), requires_grad=True, name="x")
    report = failure(lambda x: LeakyMaskRelu.apply(x).sum(), x).report
    check = report.inputs[0]
    assert [m.index for m in check.worst] == [(0,)]  # -0.5: the mask is wrong there
    assert [k.index for k in check.kinks] == [(1,)]  # 0: a kink, not a failure


# ----------------------------------------------------------------------------- restoration


class _Boom(Exception):
    pass


def test_inputs_are_restored_when_fn_raises_midway() -> None:
    x = Tensor(np.array([0.1, -0.0, 2.5], dtype=np.float32), requires_grad=True, name="x")
    w = randn(3, seed=1, name="w")
    before = (x.data.tobytes(), w.data.tobytes())
    calls = []

    def fn(x: Tensor, w: Tensor) -> Tensor:
        calls.append(1)
        if len(calls) == 5:  # the first call records the graph; the 5th is mid-sweep
            raise _Boom()
        return (x * w).sum()

    with pytest.raises(_Boom):
        gradcheck(fn, (x, w))
    assert (x.data.tobytes(), w.data.tobytes()) == before
    assert x.dtype == np.float32
    assert x.grad is None and w.grad is None
    assert x.version == 0 and w.version == 0


def test_inputs_and_grads_are_untouched_after_a_check() -> None:
    x = randn(4, name="x")
    x.grad = np.full(4, 7.0)
    grad_array = x.grad
    before = x.data.tobytes()
    assert gradcheck(lambda x: (x * x).sum(), x)
    assert x.data.tobytes() == before
    assert x.grad is grad_array and np.all(x.grad == 7.0)


def test_grads_of_parameters_fn_closes_over_are_put_back() -> None:
    W = randn(3, seed=4, name="W")
    W.grad = np.ones(3)
    held = W.grad
    assert gradcheck(lambda x: (x * W).sum(), randn(3, name="x"))
    assert W.grad is held and np.array_equal(W.grad, np.ones(3))
    V = randn(3, seed=5, name="V")
    assert gradcheck(lambda x: (x * V).sum(), randn(3, name="x"))
    assert V.grad is None


def test_fn_using_the_original_instead_of_its_argument_is_refused() -> None:
    x = randn(3, name="x")
    with pytest.raises(ValueError, match=r"fn used input 0 'x' from its enclosing scope"):
        gradcheck(lambda _: (x * x).sum(), x)


# ----------------------------------------------------------------------------- float32


def test_float32_inputs_are_checked_in_float64() -> None:
    x = Tensor(np.linspace(2.0, 3.0, 5, dtype=np.float32), requires_grad=True, name="x")

    def fn(x: Tensor) -> Tensor:
        return (x.exp() * 1000.0).sum()

    # In float32, with gradcheck's step, the finite differences are off by far more than rtol.
    analytic = 1000.0 * np.exp(x.data.astype(np.float64))
    in_float32 = numerical_gradient(lambda v: float(np.sum(np.exp(v) * np.float32(1000.0))),
                                    x.data.copy(), eps=1e-6)
    assert np.max(np.abs(in_float32 - analytic) / analytic) > 1e-2
    report = check_gradients(fn, x)
    assert report.ok, report
    assert report.inputs[0].dtype == "float32"
    assert report.inputs[0].max_rel_error < 1e-8
    assert x.dtype == np.float32


# ----------------------------------------------------------------------------- bad input


def test_fn_returning_a_float_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"fn must return a Tensor, but it returned float \(1\.5"):
        gradcheck(lambda x: 1.5 + 0 * x.sum().item(), randn(3))


def test_fn_returning_an_integer_tensor() -> None:
    with pytest.raises(TypeError, match="dtype int64"):
        gradcheck(lambda x: Tensor(np.array([1, 2])), randn(3))


def test_no_input_requires_grad() -> None:
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x.sum(), randn(3, grad=False))


def test_inputs_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="inputs must be a Tensor or a tuple"):
        gradcheck(lambda x: x, np.ones(3))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options, phrase",
    [
        (dict(eps=0.0), "eps must be a positive finite number"),
        (dict(atol=-1.0), "atol and rtol must be >= 0"),
        (dict(samples=0), "samples must be a positive integer"),
        (dict(samples=3, fast_mode=True), "fast_mode=True or samples=k, not both"),
        (dict(fast_mode=True, directions=0), "directions must be a positive integer"),
    ],
)
def test_bad_options(options: dict[str, Any], phrase: str) -> None:
    with pytest.raises(ValueError, match=phrase.replace("(", r"\(")):
        gradcheck(lambda x: x.sum(), randn(3), **options)


def test_output_shape_changing_under_perturbation() -> None:
    def fn(x: Tensor) -> Tensor:
        return x if x.data[0] == 0.5 else x.sum()

    x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(\) at a perturbed input but \(2,\)"):
        gradcheck(fn, x)


# ----------------------------------------------------------------------------- sampled mode


def test_sampled_mode_checks_k_random_elements() -> None:
    x = randn(10, 10, name="x")
    report = check_gradients(lambda x: (x.exp() * x).sum(), x, samples=7)
    assert report.ok
    assert report.inputs[0].checked == 7 and report.evaluations == 14
    assert report.inputs[0].method.startswith("sampled 7 of 100 elements")


def test_sampled_mode_catches_a_scale_bug() -> None:
    a, b = randn(10, 10, seed=1, name="a"), randn(10, 10, seed=2, name="b")
    report = failure(lambda a, b: ScaledMul.apply(a, b).sum(), (a, b), samples=5).report
    assert report.inputs[1].failures == 5 and report.inputs[0].ok


# ----------------------------------------------------------------------------- fast mode


N_FAST = 30_000


class OnePercentOffExp(ops.Exp):
    """Exp whose gradient is 1% too large in the single element 12345."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        g = grad * out
        g[12345] *= 1.01
        return g


def fast_inputs() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(7)
    weights = Tensor(rng.normal(size=N_FAST))
    x = Tensor(rng.uniform(-1.0, 1.0, size=N_FAST), requires_grad=True, name="x")
    return weights, x


def test_fast_mode_passes_a_correct_backward_in_few_evaluations() -> None:
    weights, x = fast_inputs()
    report = check_gradients(lambda x: (x.exp() * weights).sum() + (x * x).mean(), x,
                             fast_mode=True)
    assert report.ok, report
    assert report.evaluations == 4  # 2 directions, two evaluations each: no bisection needed
    assert report.inputs[0].directional_checks == 2
    assert "2 random directional derivatives" in report.verdict


def test_fast_mode_catches_a_one_percent_error_in_one_of_30000_elements() -> None:
    weights, x = fast_inputs()
    error = failure(lambda x: (OnePercentOffExp.apply(x) * weights).sum(), x, fast_mode=True)
    report = error.report
    check = report.inputs[0]
    assert check.failures == 1 and check.worst[0].index == (12345,)
    assert check.worst[0].analytic == pytest.approx(1.01 * check.worst[0].numerical, rel=1e-6)
    assert report.evaluations < 150  # bisection, not an element-wise sweep (60,000)
    assert [(c.op, c.input_index) for c in report.culprits] == [("OnePercentOffExp", 0)]
    assert "1 of 30000 elements disagree" in str(error)


def test_one_direction_with_a_relative_tolerance_would_miss_that_error() -> None:
    # Why fast mode does not compare gᵀu with rtol·|gᵀu| (PyTorch's fast mode does): a 1%
    # error in one element moves gᵀu by ~0.01·|g_j|, while |gᵀu| grows like sqrt(n)·|g|.
    rng = np.random.default_rng(0)
    g = np.exp(rng.uniform(-1.0, 1.0, size=N_FAST)) * rng.normal(size=N_FAST)
    wrong = g.copy()
    wrong[12345] *= 1.01
    u = rng.uniform(-1.0, 1.0, size=N_FAST)
    assert abs(wrong @ u - g @ u) < 1e-3 * abs(g @ u)


def test_fast_mode_with_a_non_scalar_output() -> None:
    weights, x = fast_inputs()
    assert check_gradients(lambda x: x.exp() * weights, x, fast_mode=True).ok
    report = failure(lambda x: OnePercentOffExp.apply(x) * weights, x, fast_mode=True).report
    assert report.inputs[0].worst[0].index == (12345,)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_kinks_where_backward_picks_another_subgradient(fast_mode: bool) -> None:
    values = np.random.default_rng(3).normal(size=2000)
    values[[10, 500, 1999]] = 0.0
    x = Tensor(values, requires_grad=True, name="x")
    report = check_gradients(lambda x: (ReluOneAtZero.apply(x) * 3.0 + x.abs()).sum(), x,
                             fast_mode=fast_mode)
    assert report.ok, report
    assert sorted(k.index for k in report.kinks) == [(10,), (500,), (1999,)]
    if fast_mode:  # found by bisecting the directions that disagreed, not by a full sweep
        assert report.evaluations < 400


def test_fast_mode_passes_through_kinks_where_backward_takes_the_average() -> None:
    # maximum's tie rule and abs'(0) = 0 give exactly the centered difference: nothing to see.
    values = np.random.default_rng(3).normal(size=2000)
    values[[10, 500, 1999]] = 0.0
    x = Tensor(values, requires_grad=True, name="x")
    report = check_gradients(lambda x: (maximum(x, 0.0) * 3.0 + x.abs()).sum(), x, fast_mode=True)
    assert report.ok and report.evaluations == 4


def test_fast_mode_catches_planted_bugs_in_small_inputs_too() -> None:
    a, W = randn(3, 4, seed=1, name="a"), randn(4, seed=2, name="W")
    report = failure(lambda a, W: ScaledMul.apply(a, W).sum(), (a, W), fast_mode=True).report
    assert report.inputs[0].ok and report.inputs[1].failures >= 1
    assert report.culprits[0].op == "ScaledMul"


# ----------------------------------------------------------------------------- progress


def test_progress_bar_for_a_long_check_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = terminal_with_bar(monkeypatch)
    assert gradcheck(lambda x: (x * x).sum(), randn(1000, name="x"))
    assert "gradcheck [" in terminal.getvalue()
    assert "2000/2000 evaluations (100%)" in terminal.getvalue()


def test_no_progress_bar_when_not_a_terminal_or_when_short(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert gradcheck(lambda x: (x * x).sum(), randn(1000, name="x"))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert gradcheck(lambda x: (x * x).sum(), randn(10, name="x"))
    assert gradcheck(lambda x: (x * x).sum(), randn(1000, name="x"), progress=False)
    assert pipe.getvalue() == "" and terminal.getvalue() == ""


def test_check_runs_inside_no_grad() -> None:
    with no_grad():
        assert gradcheck(lambda x: (x * x).sum(), randn(3))


class ToFloat32(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x.astype(np.float32)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return grad.astype(np.float64)


def test_fn_computing_in_float32_inside_gets_a_note() -> None:
    report = check_gradients(lambda x: ToFloat32.apply(x) * 2.0, randn(3, name="x"), atol=1e-3)
    assert any("fn returned float32 for float64 inputs" in note for note in report.notes)
    assert "note: fn returned float32" in str(report)


def test_fortran_ordered_input_in_fast_mode() -> None:
    x = Tensor(np.asfortranarray(np.random.default_rng(0).normal(size=(60, 50))),
               requires_grad=True, name="x")
    report = check_gradients(lambda x: (x.exp() * np.arange(50.0)).sum(), x, fast_mode=True)
    assert report.ok and report.evaluations == 4
    assert x.data.flags.f_contiguous  # the original keeps its layout


def test_one_progress_bar_spans_all_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = terminal_with_bar(monkeypatch)
    assert gradcheck(lambda a, b: (a * a).sum() + (b * b).sum(),
                     (randn(600, name="a"), randn(600, seed=1, name="b")))
    text = terminal.getvalue()
    assert "2400/2400 evaluations (100%)" in text and text.count("\n") == 1


def test_empty_output_is_a_pass_with_nothing_to_compare() -> None:
    x = randn(2, name="x")
    report = check_gradients(lambda t: t[2:] * 3.0, x)
    assert report.ok and report.culprits == []
    assert report.inputs[0].method == "vector-Jacobian product"
    assert gradcheck(lambda t: (t[2:] * 3.0).sum(), x)


@pytest.mark.parametrize(
    "options, error, phrase",
    [
        (dict(eps=True), TypeError, "gradcheck: eps must be a positive finite number"),
        (dict(samples=True), ValueError, "samples must be a positive integer"),
        (dict(fast_mode=True, directions=2.0), ValueError, "directions must be a positive integer"),
        (dict(atol=True), ValueError, "atol and rtol must be >= 0"),
        (dict(seed=-1), ValueError, "gradcheck: seed must be an int >= 0"),
    ],
)
def test_bad_option_types(options: dict[str, Any], error: type[Exception], phrase: str) -> None:
    with pytest.raises(error, match=phrase):
        gradcheck(lambda x: x.sum(), randn(3), **options)


def test_fn_not_callable() -> None:
    with pytest.raises(TypeError, match="gradcheck: fn must be callable"):
        gradcheck(3.0, randn(3))  # type: ignore[arg-type]
