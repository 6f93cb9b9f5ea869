"""check_numpy_gradient: a gradient written by hand in numpy (loss, dW = f(W)), checked with
gradcheck's machinery and report; and a failing check in pytest shows the report first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu.checks import GradcheckError, check_gradients, check_numpy_gradient

rng = np.random.default_rng(0)
X, Y = rng.normal(size=(6, 5)), np.array([0, 2, 1, 2, 0, 1])


def svm_loss(W: np.ndarray, bug: float = 0.0) -> tuple[float, np.ndarray]:
    """cs231n's vectorized multiclass SVM loss and its gradient (bug scales the gradient)."""
    scores = X @ W
    rows = np.arange(len(Y))
    margins = np.maximum(0, scores - scores[rows, Y][:, None] + 1.0)
    margins[rows, Y] = 0
    loss = margins.sum() / len(Y)
    active = (margins > 0).astype(float)
    active[rows, Y] = -active.sum(axis=1)
    return loss, (1 + bug) * X.T @ active / len(Y)


def two_layer(params: dict[str, np.ndarray], wrong_b1: bool = False
              ) -> tuple[float, dict[str, np.ndarray]]:
    """A two-layer net with a softmax loss, cs231n's `loss, grads = net.loss(X, y)`."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(Y)), Y]).mean()
    d = p.copy()
    d[np.arange(len(Y)), Y] -= 1
    d /= len(Y)
    dh = d @ W2.T * (h > 0)
    grads = {"W1": X.T @ dh, "b1": dh.sum(axis=0) if not wrong_b1 else dh.sum(axis=1)[:4],
             "W2": h.T @ d, "b2": d.sum(axis=0)}
    return loss, grads


def params() -> dict[str, np.ndarray]:
    r = np.random.default_rng(1)
    return {"W1": r.normal(size=(5, 4)), "b1": r.normal(size=4) * 0.1,
            "W2": r.normal(size=(4, 3)), "b2": r.normal(size=3) * 0.1}


def test_a_correct_hand_written_gradient_passes() -> None:
    W = rng.normal(size=(5, 3)) * 0.1
    before = W.copy()
    report = check_numpy_gradient(svm_loss, W)
    assert report.ok and report.inputs[0].name == "x" and report.inputs[0].checked == 15
    assert np.array_equal(W, before)


def test_a_wrong_hand_written_gradient_fails_with_the_table() -> None:
    W = rng.normal(size=(5, 3)) * 0.1
    with pytest.raises(GradcheckError) as caught:
        check_numpy_gradient(lambda W: svm_loss(W, bug=0.02), W)
    report = caught.value.report
    check = report.inputs[0]
    assert check.failures > 0
    worst = check.worst[0]
    assert worst.rel_error == pytest.approx(0.02 / 2.02, rel=1e-4)  # |a-n| / (|a|+|n|)
    assert "element" in str(report) and "rel. error" in str(report)
    assert not check_numpy_gradient(lambda W: svm_loss(W, bug=0.02), W,
                                    raise_exception=False).ok


def test_a_dict_of_parameters_names_the_wrong_one() -> None:
    report = check_numpy_gradient(two_layer, params(), raise_exception=False)
    assert report.ok, report
    bad = check_numpy_gradient(lambda p: two_layer(p, wrong_b1=True), params(),
                               raise_exception=False)
    assert [c.name for c in bad.inputs if not c.ok] == ["b1"]
    assert "input 1 'b1'" in str(bad)


def test_a_relu_at_exactly_zero_is_a_kink() -> None:
    W = np.array([[0.0, 0.5], [-0.5, 2.0]])
    report = check_numpy_gradient(lambda W: (float(np.maximum(W, 0).sum()), (W > 0) * 1.0), W)
    assert report.ok
    assert [(k.index, k.kind) for k in report.kinks] == [((0, 0), "kink")]


def test_a_gradient_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"gradient of shape \(3, 5\) for an array of shape"):
        check_numpy_gradient(lambda W: (float(W.sum()), np.ones((3, 5))), np.ones((5, 3)))
    with pytest.raises(TypeError, match=r"must return \(loss, grad\)"):
        check_numpy_gradient(lambda W: float(W.sum()), np.ones(3))  # type: ignore[arg-type,return-value]


def hidden(error: BaseException) -> bool:
    """Every frame of tinygrad_edu.checks in the error's traceback is hidden from pytest."""
    frames, trace = [], error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    library = [f for f in frames if "tinygrad_edu/checks" in f.f_code.co_filename]
    return bool(library) and all(f.f_locals.get("__tracebackhide__") for f in library)


def test_library_frames_are_hidden_from_pytest_tracebacks() -> None:
    from tinygrad_edu import Tensor
    from tinygrad_edu.checks import gradcheck

    with pytest.raises(GradcheckError) as failed:
        check_numpy_gradient(lambda W: svm_loss(W, bug=0.5), rng.normal(size=(5, 3)))
    assert hidden(failed.value)
    with pytest.raises(TypeError) as refused:
        gradcheck(lambda t: 1.5, Tensor(np.ones(3), requires_grad=True))
    assert hidden(refused.value)
    assert check_gradients(lambda t: (t * t).sum(), Tensor(np.ones(3), requires_grad=True)).ok
