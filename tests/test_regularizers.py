"""l2, l1 and elastic_net: the notes' example, closed-form gradients, finite differences."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from helpers_fd import check_grads

from tinygrad_edu import Tensor
from tinygrad_edu.regularizers import elastic_net, l1, l2

W1 = np.array([1.0, 0.0, 0.0, 0.0])
W2 = np.array([0.25, 0.25, 0.25, 0.25])
X = np.array([1.0, 1.0, 1.0, 1.0])


def test_notes_example_same_score_same_l1_different_l2() -> None:
    assert W1 @ X == W2 @ X == 1.0
    assert l1(Tensor(W1)).item() == l1(Tensor(W2)).item() == 1.0
    assert l2(Tensor(W1)).item() == 1.0
    assert l2(Tensor(W2)).item() == 0.25  # L2 prefers the spread-out weights


def test_elastic_net_on_the_notes_example() -> None:
    assert elastic_net(Tensor(W1), 0.5).item() == 1.5  # 0.5 * 1 + 1
    assert elastic_net(Tensor(W2), 0.5).item() == 1.125  # 0.5 * 0.25 + 1
    assert elastic_net(Tensor(W2), 0).item() == l1(Tensor(W2)).item()


def test_a_matrix_gives_a_scalar_and_closed_form_gradients() -> None:
    raw = np.array([[1.5, -2.0, 0.0], [0.5, 0.0, -0.25]])
    for penalty, value, gradient in [
        (l2, np.sum(raw**2), 2 * raw),
        (l1, np.sum(np.abs(raw)), np.sign(raw)),  # |W|'(0) = 0
        (
            lambda W: elastic_net(W, 0.3),
            np.sum(0.3 * raw**2 + np.abs(raw)),
            0.6 * raw + np.sign(raw),
        ),
    ]:
        W = Tensor(raw, requires_grad=True)
        out = penalty(W)
        assert out.shape == ()
        assert out.item() == pytest.approx(value, rel=1e-15)
        out.backward()
        np.testing.assert_allclose(W.grad, gradient, rtol=1e-15)


@pytest.mark.parametrize(
    "penalty", [l2, l1, lambda W: elastic_net(W, 0.7)], ids=["l2", "l1", "elastic_net"]
)
def test_gradients_match_finite_differences(penalty: Callable[[Tensor], Tensor]) -> None:
    raw = np.random.default_rng(0).normal(size=(3, 4))  # no element at |W|'s kink
    check_grads(penalty, raw)


def test_float32_stays_float32_even_with_a_numpy_float64_beta() -> None:
    W = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    for out in (l2(W), l1(W), elastic_net(W, np.float64(0.5))):
        assert out.dtype == np.float32
        W.grad = None
        out.backward()
        assert W.grad.dtype == np.float32


def test_arrays_are_accepted_as_constants() -> None:
    out = l2(W2)
    assert isinstance(out, Tensor) and out.item() == 0.25 and not out.requires_grad


@pytest.mark.parametrize(
    "beta, error",
    [(-0.1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
     pytest.param(10**400, ValueError, id="10**400"), ("0.5", TypeError), (None, TypeError), (True, TypeError)],
)
def test_elastic_net_refuses_a_bad_beta(beta: object, error: type) -> None:
    W = Tensor(W1, requires_grad=True)
    with pytest.raises(error, match=r"^elastic_net: beta must be a finite number >= 0, got"):
        elastic_net(W, beta)
    assert W.grad is None and W.version == 0


@pytest.mark.parametrize("penalty", [l2, l1])
def test_a_non_array_is_refused(penalty: Callable) -> None:
    with pytest.raises(TypeError, match=f"{penalty.__name__}: expected a Tensor .*got str"):
        penalty("W")


# ----------------------------------------------------------------------------- several weights

PENALTIES = [
    (l2, lambda a: np.sum(a**2), lambda a: 2 * a),
    (l1, lambda a: np.sum(np.abs(a)), np.sign),
    (lambda W: elastic_net(W, 0.3), lambda a: np.sum(0.3 * a**2 + np.abs(a)),
     lambda a: 0.6 * a + np.sign(a)),
]


@pytest.mark.parametrize("penalty, value, gradient", PENALTIES, ids=["l2", "l1", "elastic_net"])
def test_a_list_of_weight_matrices_sums_their_penalties_and_reaches_each(
    penalty: Callable, value: Callable, gradient: Callable
) -> None:
    rng = np.random.default_rng(3)
    raws = [rng.normal(size=(3, 2)), rng.normal(size=(4,)), rng.normal(size=(2, 2))]
    tensors = [Tensor(raw, requires_grad=True) for raw in raws]
    for given in (tensors, tuple(tensors)):
        for t in tensors:
            t.zero_grad()
        out = penalty(given)
        assert out.shape == () and out.requires_grad
        assert out.item() == pytest.approx(sum(value(raw) for raw in raws), rel=1e-14)
        out.backward()
        for t, raw in zip(tensors, raws):
            np.testing.assert_allclose(t.grad, gradient(raw), rtol=1e-14)


def test_a_list_may_mix_tensors_and_constant_arrays() -> None:
    W = Tensor([[1.0, -2.0]], requires_grad=True)
    out = l2([W, np.array([3.0])])
    assert out.item() == 14.0
    out.backward()
    np.testing.assert_array_equal(W.grad, [[2.0, -4.0]])


def test_a_list_of_float32_weights_stays_float32() -> None:
    Ws = [Tensor(np.ones(2, dtype=np.float32), requires_grad=True) for _ in range(2)]
    assert elastic_net(Ws, np.float64(0.5)).dtype == np.float32


@pytest.mark.parametrize("penalty", [l2, l1, lambda W: elastic_net(W, 0.5)], ids=["l2", "l1", "elastic_net"])
@pytest.mark.parametrize(
    "W, error, phrase",
    [
        ([[1.0, 2.0], [3.0]], ValueError, "rectangular"),
        (np.array([1j, 2j]), TypeError, "complex"),
        (np.array(["a"]), TypeError, "strings"),
        ([1, 10**400], ValueError, "too large"),
        ([Tensor([1.0], requires_grad=True), "a"], TypeError, "str"),
    ],
)
def test_bad_weights_name_the_function_called(
    penalty: Callable, W: object, error: type, phrase: str
) -> None:
    name = "elastic_net" if penalty not in (l1, l2) else penalty.__name__
    with pytest.raises(error) as raised:
        penalty(W)
    assert str(raised.value).startswith(f"{name}: ") and phrase in str(raised.value)


def test_l2_is_one_fused_op_checked_and_twice_differentiable() -> None:
    import tinygrad_edu as tg
    from tinygrad_edu.regularizers import SquaredSum
    from tinygrad_edu.testing import check_function

    assert all(report.ok for report in check_function(SquaredSum, shapes=[(3, 4)]))
    W = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    penalty = l2(W)
    assert penalty.grad_fn is not None and penalty.grad_fn.name == "SquaredSum"
    (g,) = tg.grad(penalty, W, create_graph=True)
    np.testing.assert_array_equal(g.data, 2 * W.data)
    (hv,) = tg.grad((g * np.ones((2, 3))).sum(), W)
    np.testing.assert_array_equal(hv.data, np.full((2, 3), 2.0))
