"""svm_loss and softmax_cross_entropy: the notes' numbers, PyTorch's values and gradients,
finite differences, float32, stability, and every kind of bad input."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers_fd import check_grads
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, topological_order
from tinygrad_edu.checks import gradcheck
from tinygrad_edu.losses import softmax_cross_entropy, svm_loss

# The notes' example, one row per example (the slide's columns): a cat, a car and a frog image,
# scored for the classes [cat, car, frog].
NOTES_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
NOTES_LABELS = np.array([0, 1, 2])
LOSSES = [svm_loss, softmax_cross_entropy]


def scores_and_labels(n: int = 6, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)) * 2, rng.integers(0, c, size=n)


# --------------------------------------------------------------------- the notes' numbers


def test_svm_notes_example_per_example_and_mean() -> None:
    scores = Tensor(NOTES_SCORES)
    per_example = svm_loss(scores, NOTES_LABELS, reduction="none").data
    np.testing.assert_allclose(per_example, [2.9, 0.0, 12.9], rtol=0, atol=1e-12)
    assert svm_loss(scores, NOTES_LABELS).item() == pytest.approx(15.8 / 3, abs=1e-12)
    assert round(svm_loss(scores, NOTES_LABELS).item(), 2) == 5.27
    assert svm_loss(scores, NOTES_LABELS, reduction="sum").item() == pytest.approx(15.8, abs=1e-12)


def test_svm_notes_w_twice_as_large_still_zero_for_the_car() -> None:
    car = NOTES_SCORES[1:2]  # max(0, 1.3 - 4.9 + 1) + max(0, 2.0 - 4.9 + 1) = 0
    assert svm_loss(Tensor(car), [1]).item() == 0.0
    assert svm_loss(Tensor(2 * car), [1]).item() == 0.0  # max(0, -6.2) + max(0, -4.8)


def test_svm_notes_poll_example_doubling_w_removes_the_loss() -> None:
    scores = np.array([[1.3, 2.5, 2.0]])  # a car: max(0, 1.3-2.5+1) + max(0, 2.0-2.5+1) = 0.5
    assert svm_loss(Tensor(scores), [1]).item() == pytest.approx(0.5, abs=1e-12)
    assert svm_loss(Tensor(2 * scores), [1]).item() == 0.0


def test_softmax_notes_cat_example() -> None:
    loss = softmax_cross_entropy(Tensor(NOTES_SCORES[:1]), [0]).item()
    closed_form = -np.log(np.exp(3.2) / (np.exp(3.2) + np.exp(5.1) + np.exp(-1.7)))
    assert loss == pytest.approx(closed_form, rel=1e-14)
    assert round(loss, 2) == 2.04


def test_notes_jiggle_question_svm_flat_softmax_not() -> None:
    """The notes' 'jiggle' scores, all labelled 0: the SVM loss is already 0 for all three (a
    small change of the scores leaves it 0), while softmax always wants a larger gap."""
    scores = Tensor(np.array([[10.0, -2, 3], [10, 9, 9], [10, -100, -100]]))
    np.testing.assert_array_equal(svm_loss(scores, [0, 0, 0], reduction="none").data, [0, 0, 0])
    softmax = softmax_cross_entropy(scores, [0, 0, 0], reduction="none").data
    np.testing.assert_allclose(softmax[:2], np.log1p([np.exp(-12) + np.exp(-7), 2 * np.exp(-1)]))
    assert 0 <= softmax[2] < 1e-40  # log(1 + 2e^-110): positive, but below float64's resolution


# --------------------------------------------------------------------- against PyTorch


def torch_loss(name: str, scores: torch.Tensor, y: torch.Tensor, reduction: str) -> torch.Tensor:
    if name == "softmax_cross_entropy":
        return F.cross_entropy(scores, y, reduction=reduction)
    # torch's multi_margin_loss (p=1 by default) divides each example's sum over j != y_i by C.
    num_classes = scores.shape[1]
    per_example = F.multi_margin_loss(scores, y, margin=1.0, reduction="none") * num_classes
    return {"none": per_example, "sum": per_example.sum(), "mean": per_example.mean()}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_values_and_gradients_match_torch(loss: Callable, reduction: str) -> None:
    raw, y = scores_and_labels(n=7, c=5, seed=3)
    scores = Tensor(raw, requires_grad=True)
    out = loss(scores, y, reduction=reduction)
    upstream = np.random.default_rng(1).normal(size=out.shape)
    out.backward(upstream)

    raw_t = torch.tensor(raw, requires_grad=True)
    out_t = torch_loss(loss.__name__, raw_t, torch.tensor(y), reduction)
    out_t.backward(torch.tensor(upstream))

    assert out.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(scores.grad, raw_t.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_svm_custom_margin_matches_torch() -> None:
    raw, y = scores_and_labels(n=5, c=4, seed=4)
    scores = Tensor(raw, requires_grad=True)
    svm_loss(scores, y, margin=0.5, reduction="sum").backward()
    raw_t = torch.tensor(raw, requires_grad=True)
    expected = F.multi_margin_loss(raw_t, torch.tensor(y), margin=0.5, reduction="sum") * 4
    expected.backward()
    assert svm_loss(Tensor(raw), y, margin=0.5, reduction="sum").item() == pytest.approx(
        expected.item(), rel=1e-13
    )
    np.testing.assert_allclose(scores.grad, raw_t.grad.numpy(), rtol=1e-12)


def test_svm_tie_takes_subgradient_zero_like_torch() -> None:
    # Label 0: the term for class 1 is 0 - 1 + 1 = 0 exactly (a tie); class 2's is 2 > 0.
    raw = np.array([[1.0, 0.0, 2.0]])
    scores = Tensor(raw, requires_grad=True)
    loss = svm_loss(scores, [0])
    loss.backward()
    assert loss.item() == 2.0
    np.testing.assert_array_equal(scores.grad, [[-1.0, 0.0, 1.0]])
    raw_t = torch.tensor(raw, requires_grad=True)
    (F.multi_margin_loss(raw_t, torch.tensor([0])) * 3).backward()
    np.testing.assert_array_equal(scores.grad, raw_t.grad.numpy())


def test_svm_gradient_closed_form() -> None:
    scores = Tensor(NOTES_SCORES, requires_grad=True)
    svm_loss(scores, NOTES_LABELS, reduction="sum").backward()
    # cat image: only car violates; car image: none; frog image: cat and car violate.
    np.testing.assert_array_equal(scores.grad, [[-1, 1, 0], [0, 0, 0], [1, 1, -2]])


def test_softmax_gradient_closed_form_is_probabilities_minus_one_hot() -> None:
    scores = Tensor(NOTES_SCORES, requires_grad=True)
    softmax_cross_entropy(scores, NOTES_LABELS).backward()
    probs = np.exp(NOTES_SCORES) / np.exp(NOTES_SCORES).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(scores.grad, (probs - np.eye(3)) / 3, rtol=1e-13, atol=1e-16)


# --------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_gradients_match_finite_differences(loss: Callable, reduction: str) -> None:
    raw, y = scores_and_labels(seed=5)  # random scores: no hinge term sits on its kink
    check_grads(lambda s: loss(s, y, reduction=reduction), raw)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_gradcheck_through_a_linear_model(loss: Callable, reduction: str) -> None:
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    W = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=3), requires_grad=True)
    assert gradcheck(lambda W, b: loss(X @ W + b, y, reduction=reduction), [W, b])
    assert W.grad is None and b.grad is None  # gradcheck works on copies


# --------------------------------------------------------------------- numerics and dtypes


def test_softmax_is_stable_for_huge_scores() -> None:
    raw = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    scores = Tensor(raw, requires_grad=True)
    loss = softmax_cross_entropy(scores, [1, 1], reduction="none")
    loss.backward(np.ones(2))
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(scores.grad))
    np.testing.assert_allclose(loss.data, [2000.0, np.log1p(np.exp(-1.0))], rtol=1e-14)
    raw_t = torch.tensor(raw, requires_grad=True)
    F.cross_entropy(raw_t, torch.tensor([1, 1]), reduction="sum").backward()
    np.testing.assert_allclose(scores.grad, raw_t.grad.numpy(), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_float32_stays_float32(loss: Callable, reduction: str) -> None:
    raw, y = scores_and_labels()
    scores = Tensor(raw.astype(np.float32), requires_grad=True)
    out = loss(scores, y, reduction=reduction)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert scores.grad.dtype == np.float32


def test_a_linear_training_loss_is_float32_at_every_node() -> None:
    """No silent float64 upcast anywhere in scores -> loss + penalty -> gradients."""
    from tinygrad_edu.nn import LinearClassifier
    from tinygrad_edu.regularizers import l2

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 8)).astype(np.float32), rng.integers(0, 4, size=16)
    model = LinearClassifier(8, 4, seed=0, dtype=np.float32)
    for loss_fn in LOSSES:
        loss = loss_fn(model(Tensor(X)), y) + 1e-3 * l2(model.W)
        assert {t.dtype for t in topological_order(loss)} == {np.dtype(np.float32)}
        loss.backward()
        assert model.W.grad.dtype == model.b.grad.dtype == np.float32


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_second_backward_with_retain_graph_gives_the_same_gradient(loss: Callable) -> None:
    raw, y = scores_and_labels()
    scores = Tensor(raw, requires_grad=True)
    out = loss(scores, y)
    out.backward(retain_graph=True)
    first = scores.grad.copy()
    out.backward()
    np.testing.assert_allclose(scores.grad, 2 * first, rtol=1e-15)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_changing_the_labels_after_forward_does_not_change_the_gradient(loss: Callable) -> None:
    raw, y = scores_and_labels()
    expected = Tensor(raw, requires_grad=True)
    loss(expected, y).backward()
    scores = Tensor(raw, requires_grad=True)
    out = loss(scores, y)
    y[:] = (y + 1) % raw.shape[1]
    out.backward()
    np.testing.assert_array_equal(scores.grad, expected.grad)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_labels_as_list_int_array_or_tensor_agree(loss: Callable) -> None:
    raw, y = scores_and_labels()
    expected = loss(Tensor(raw), y).item()
    for labels in (y.tolist(), y.astype(np.int32), y.astype(np.uint8), Tensor(y)):
        assert loss(Tensor(raw), labels).item() == expected
    plain = loss(raw, y)  # scores as a plain array: a constant, nothing to differentiate
    assert plain.item() == expected and not plain.requires_grad


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 5),
    c=st.integers(2, 6),
    shift=st.floats(-50, 50),
    seed=st.integers(0, 2**16),
)
def test_both_losses_ignore_a_constant_added_to_a_row(
    n: int, c: int, shift: float, seed: int
) -> None:
    raw, y = scores_and_labels(n, c, seed)
    for loss in LOSSES:
        base = loss(Tensor(raw), y, reduction="none").data
        moved = loss(Tensor(raw + shift), y, reduction="none").data
        np.testing.assert_allclose(moved, base, atol=1e-9 * (1 + abs(shift)))
        assert np.all(base >= 0)


# --------------------------------------------------------------------- bad input


BAD_INPUTS = [
    # (scores shape, labels, phrases the message must contain)
    ((4, 3), np.array([0, 1, 3, 2]), ["[0, 3)", "label 3 at position 2", "(4, 3)"]),
    ((4, 3), np.array([0, -1, 2, 1]), ["label -1 at position 1"]),
    ((4, 3), np.array([0.0, 1.0, 2.0, 1.0]), ["integer class indices", "float64"]),
    ((4, 3), np.array([True, False, True, True]), ["integer class indices", "bool"]),
    ((4, 3), np.array([0, 1, 2]), ["3 labels for 4 examples", "(4, 3)"]),
    ((4, 3), np.array([[0, 1, 2, 1]]), ["1-D", "(1, 4)"]),
    ((4, 3), 1, ["1-D", "()"]),
    ((3,), np.array([0, 1, 2]), ["2-D", "(3,)"]),
    ((2, 3, 4), np.array([0, 1]), ["2-D", "(2, 3, 4)"]),
    ((0, 3), np.array([], dtype=int), ["no examples", "(0, 3)"]),
]


@pytest.mark.parametrize("shape, labels, phrases", BAD_INPUTS)
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_bad_input_raises_value_error_and_changes_nothing(
    loss: Callable, shape: tuple, labels: object, phrases: list[str]
) -> None:
    raw = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    scores = Tensor(raw, requires_grad=True)
    labels_before = np.array(labels, copy=True)
    with pytest.raises(ValueError) as error:
        loss(scores, labels)
    message = str(error.value)
    assert message.startswith(loss.__name__)
    for phrase in phrases:
        assert phrase in message
    np.testing.assert_array_equal(scores.data, raw)
    assert scores.grad is None and scores.version == 0
    np.testing.assert_array_equal(labels, labels_before)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_unknown_reduction_and_integer_scores_are_refused(loss: Callable) -> None:
    with pytest.raises(ValueError, match=f"{loss.__name__}: reduction must be one of .*'avg'"):
        loss(Tensor(np.zeros((2, 3))), [0, 1], reduction="avg")
    with pytest.raises(ValueError, match="scores must be floating point, got dtype int64"):
        loss(Tensor(np.zeros((2, 3), dtype=np.int64)), [0, 1])


@pytest.mark.parametrize(
    "margin, error",
    [(float("nan"), ValueError), (float("inf"), ValueError), pytest.param(10**400, ValueError, id="10**400"),
     ("1", TypeError), (True, TypeError)],
)
def test_svm_refuses_a_bad_margin(margin: object, error: type) -> None:
    with pytest.raises(error, match="^svm_loss: margin must be a finite number"):
        svm_loss(Tensor(np.zeros((2, 3))), [0, 1], margin=margin)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "scores, labels, error, phrase",
    [
        ([[1.0, 2.0], [3.0]], [0, 1], ValueError, "scores must be a rectangular array"),
        ([[1.0, 2.0], [3.0, 4.0]], [[0], [1, 0]], ValueError, "labels must be a rectangular array"),
        ([[1.0, 2.0], [3.0, 4.0]], [0, 10**400], ValueError, "labels must be an array of numbers that fit"),
        ([[1.0, 2.0], [3.0, 4.0]], [0, 1], TypeError, "reduction must be one of 'mean', 'sum', 'none', got int 1"),
    ],
)
def test_ragged_input_gets_our_error_not_numpys(
    loss: Callable, scores: object, labels: object, error: type, phrase: str
) -> None:
    kwargs = {"reduction": 1} if error is TypeError else {}
    with pytest.raises(error) as raised:
        loss(scores, labels, **kwargs)
    assert str(raised.value).startswith(f"{loss.__name__}: {phrase}")
