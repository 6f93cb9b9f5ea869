"""LinearClassifier: parameters, forward, gradients, predict, dtypes and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.nn import LinearClassifier


def test_parameters_shapes_names_and_seeded_init() -> None:
    model = LinearClassifier(5, 3, seed=7)
    W, b = model.parameters()
    assert W is model.W and b is model.b
    assert (W.name, W.shape, b.name, b.shape) == ("W", (5, 3), "b", (3,))
    assert W.requires_grad and b.requires_grad and W.is_leaf and b.is_leaf
    np.testing.assert_array_equal(W.data, 0.001 * np.random.default_rng(7).standard_normal((5, 3)))
    np.testing.assert_array_equal(b.data, np.zeros(3))
    np.testing.assert_array_equal(LinearClassifier(5, 3, seed=7).W.data, W.data)
    assert not np.array_equal(LinearClassifier(5, 3, seed=8).W.data, W.data)
    assert LinearClassifier(5, 3, seed=7, init_scale=0.5).W.data[0, 0] == 500 * W.data[0, 0]


def test_scores_for_arrays_lists_tensors_and_one_example() -> None:
    model = LinearClassifier(4, 3, seed=0)
    model.b.copy_([0.5, -1.0, 2.0])
    X = np.arange(8.0).reshape(2, 4)
    expected = X @ model.W.data + model.b.data
    for given in (X, X.tolist(), Tensor(X)):
        scores = model(given)
        assert isinstance(scores, Tensor) and scores.shape == (2, 3)
        np.testing.assert_allclose(scores.data, expected, rtol=1e-15)
    np.testing.assert_allclose(model(X[1]).data, expected[1], rtol=1e-15)


def test_gradients_reach_W_b_and_an_input_that_requires_grad() -> None:
    rng = np.random.default_rng(1)
    model = LinearClassifier(4, 3, seed=0)
    X = Tensor(rng.normal(size=(5, 4)), requires_grad=True)
    upstream = rng.normal(size=(5, 3))
    model(X).backward(upstream)
    np.testing.assert_allclose(model.W.grad, X.data.T @ upstream, rtol=1e-14)
    np.testing.assert_allclose(model.b.grad, upstream.sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(X.grad, upstream @ model.W.data.T, rtol=1e-14)


def test_predict_returns_the_argmax_class_without_a_graph() -> None:
    model = LinearClassifier(2, 3, seed=0)
    model.W.copy_([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])
    X = np.array([[3.0, 1.0], [1.0, 3.0], [-2.0, -2.0]])
    predictions = model.predict(X)
    np.testing.assert_array_equal(predictions, [0, 1, 2])
    assert predictions.dtype.kind == "i"
    assert model.predict(X[0]) == 0
    assert model.W.grad is None


def test_float32_model_keeps_float32_and_converts_arrays() -> None:
    model = LinearClassifier(3, 2, seed=0, dtype=np.float32)
    assert model.W.dtype == model.b.dtype == np.float32
    scores = model(np.ones((4, 3)))  # a float64 array is converted to the model's dtype
    assert scores.dtype == np.float32
    scores.backward(np.ones((4, 2), dtype=np.float32))
    assert model.W.grad.dtype == np.float32


def test_a_tensor_of_another_dtype_is_refused() -> None:
    model = LinearClassifier(3, 2, seed=0, dtype=np.float32)
    with pytest.raises(TypeError, match="input dtype float64 does not match the model's float32"):
        model(Tensor(np.ones((4, 3))))


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 4, 3), ()])
def test_wrong_input_shape_names_in_features_and_the_shape(shape: tuple) -> None:
    model = LinearClassifier(3, 2, seed=0)
    with pytest.raises(ValueError) as error:
        model(np.ones(shape))
    assert "in_features=3" in str(error.value) and f"got shape {shape}" in str(error.value)
    assert model.W.version == 0 and model.W.grad is None


def test_non_numeric_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="LinearClassifier: input must be numbers, got list"):
        LinearClassifier(2, 2)([["a", "b"]])


@pytest.mark.parametrize(
    "args, kwargs, error, phrase",
    [
        ((0, 3), {}, ValueError, "in_features must be an int >= 1, got 0"),
        ((3, -1), {}, ValueError, "num_classes must be an int >= 1, got -1"),
        ((3.0, 2), {}, TypeError, "in_features must be an int >= 1, got float 3.0"),
        ((3, True), {}, TypeError, "num_classes must be an int >= 1, got bool True"),
        ((3, 2), {"dtype": np.int64}, TypeError, "dtype must be a floating-point type, got int64"),
        ((3, 2), {"init_scale": float("nan")}, ValueError, "init_scale must be a finite number >= 0, got nan"),
        ((3, 2), {"init_scale": float("inf")}, ValueError, "init_scale must be a finite number >= 0, got inf"),
        ((3, 2), {"init_scale": "1"}, TypeError, "init_scale must be a finite number >= 0, got str '1'"),
        ((3, 2), {"seed": -1}, ValueError, "seed must be an int >= 0, got -1"),
    ],
)
def test_bad_constructor_arguments(args: tuple, kwargs: dict, error: type, phrase: str) -> None:
    with pytest.raises(error, match=f"LinearClassifier: {phrase}"):
        LinearClassifier(*args, **kwargs)


def test_repr() -> None:
    assert repr(LinearClassifier(64, 10)) == (
        "LinearClassifier(in_features=64, num_classes=10, dtype=float64)"
    )


def test_a_linear_classifier_is_a_module_with_a_state_dict() -> None:
    from tinygrad_edu.nn import Module

    model = LinearClassifier(3, 2, seed=0)
    assert isinstance(model, Module)
    assert [name for name, _ in model.named_parameters()] == ["W", "b"]
    state = model.state_dict()
    assert list(state) == ["W", "b"]
    np.testing.assert_array_equal(state["W"], model.W.data)
    other = LinearClassifier(3, 2, seed=1)
    other.load_state_dict(state)
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(other(X).data, model(X).data)
    model.W.grad = np.ones((3, 2))
    model.zero_grad()
    assert model.W.grad is None
