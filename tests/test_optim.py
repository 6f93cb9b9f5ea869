"""SGD (the notes' momentum and decay) and random_search."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from tinygrad_edu import Tensor
from tinygrad_edu.losses import softmax_cross_entropy
from tinygrad_edu.optim import SGD, RandomSearchResult, random_search

# ----------------------------------------------------------------- the notes' code


def func(x: Any) -> Any:
    return np.square(x)


def dfunc(x: Any) -> Any:
    return 2 * x


def GD_decay(
    w_init: float, df: Any, epochs: int, lr: float, decay: float = 0.0, momentum: float = 0.0
) -> np.ndarray:
    """The notes' GD_decay, line for line, but for the update of v, which follows the notes'
    momentum formula v = beta * v - alpha * dx (with momentum = 0 it is their `v = -dx * lr_i`;
    with decay = 0 too, their plain GD)."""
    xs = np.zeros(epochs + 1)
    x = w_init
    xs[0] = x
    v = 0
    for i in range(epochs):
        dx = df(x)
        lr_i = lr * 1.0 / (1.0 + decay * i)
        v = momentum * v - dx * lr_i
        x += v
        xs[i + 1] = x
    return xs


def sgd_trajectory(x0: float, epochs: int, **hyperparameters: float) -> np.ndarray:
    """Minimize x² with SGD, the gradient coming from the engine's backward."""
    x = Tensor(x0, requires_grad=True)
    optimizer = SGD([x], **hyperparameters)
    xs = [x.item()]
    for _ in range(epochs):
        optimizer.zero_grad()
        (x * x).backward()
        optimizer.step()
        xs.append(x.item())
    return np.array(xs)


@pytest.mark.parametrize("lr", [0.001, 0.01, 0.1])
def test_plain_gd_reproduces_the_notes_trajectory_exactly(lr: float) -> None:
    expected = GD_decay(3, dfunc, 5, lr)
    np.testing.assert_array_equal(sgd_trajectory(3.0, 5, lr=lr), expected)
    np.testing.assert_allclose(expected, 3 * (1 - 2 * lr) ** np.arange(6), rtol=1e-14)


@pytest.mark.parametrize("lr", [0.1, 0.3, 0.9, 0.99])
@pytest.mark.parametrize("decay", [0.0, 0.01, 0.5, 0.9])
def test_decay_reproduces_the_notes_trajectory_exactly(lr: float, decay: float) -> None:
    expected = GD_decay(-1, dfunc, 10, lr, decay)
    np.testing.assert_array_equal(sgd_trajectory(-1.0, 10, lr=lr, decay=decay), expected)


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.6, 0.9])
@pytest.mark.parametrize("momentum", [0.0, 0.1, 0.5, 0.9])
def test_momentum_reproduces_the_notes_trajectory_exactly(lr: float, momentum: float) -> None:
    expected = GD_decay(-5, dfunc, 10, lr, momentum=momentum)
    np.testing.assert_array_equal(sgd_trajectory(-5.0, 10, lr=lr, momentum=momentum), expected)


def test_momentum_and_decay_by_hand() -> None:
    p = Tensor([1.0, -2.0], requires_grad=True)
    optimizer = SGD([p], lr=0.5, momentum=0.5, decay=1.0)
    p.grad = np.array([2.0, 4.0])
    optimizer.step()  # lr_0 = 0.5: v = -0.5 * g = [-1, -2]; p = [0, -4]
    np.testing.assert_array_equal(p.data, [0.0, -4.0])
    p.grad = np.array([2.0, -8.0])
    assert optimizer.current_lr == 0.25  # 0.5 / (1 + 1 * 1)
    optimizer.step()  # v = 0.5 * [-1, -2] - 0.25 * [2, -8] = [-1, 1]; p = [-1, -3]
    np.testing.assert_array_equal(p.data, [-1.0, -3.0])
    np.testing.assert_array_equal(optimizer.velocities[0], [-1.0, 1.0])
    assert optimizer.steps == 2


# ----------------------------------------------------------------- against torch.optim.SGD


def run_ours(steps: int, lr: float, momentum: float, decay: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=3), requires_grad=True)
    optimizer = SGD([W, b], lr=lr, momentum=momentum, decay=decay)
    for _ in range(steps):
        optimizer.zero_grad()
        softmax_cross_entropy(X @ W + b, y).backward()
        optimizer.step()
    return [W.data, b.data]


def run_torch(steps: int, lr: float, momentum: float, decay: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    X, y = torch.tensor(rng.normal(size=(12, 4))), torch.tensor(rng.integers(0, 3, size=12))
    W = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = torch.tensor(rng.normal(size=3), requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=lr, momentum=momentum)
    # The same schedule as ours: lr_i = lr / (1 + decay * i) at step i.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1.0 / (1.0 + decay * i))
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(X @ W + b, y).backward()
        optimizer.step()
        schedule.step()
    return [W.detach().numpy(), b.detach().numpy()]


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_agrees_with_torch_while_the_learning_rate_is_fixed(momentum: float) -> None:
    for ours, theirs in zip(run_ours(15, 0.3, momentum, 0.0), run_torch(15, 0.3, momentum, 0.0)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_agrees_with_torch_under_decay_without_momentum() -> None:
    for ours, theirs in zip(run_ours(15, 0.3, 0.0, 0.5), run_torch(15, 0.3, 0.0, 0.5)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_differs_from_torch_under_decay_with_momentum() -> None:
    """Torch rescales the whole remembered velocity by today's (smaller) rate; ours keeps each
    gradient's own rate, so ours moves further."""
    ours = run_ours(15, 0.3, 0.9, 0.5)
    theirs = run_torch(15, 0.3, 0.9, 0.5)
    start = run_ours(0, 0.3, 0.9, 0.5)
    assert not np.allclose(ours[0], theirs[0], rtol=1e-3)
    assert np.linalg.norm(ours[0] - start[0]) > np.linalg.norm(theirs[0] - start[0])


def test_the_two_momentum_forms_by_hand_under_decay() -> None:
    # g = 1 on both steps, lr = 1, momentum = 0.5, decay = 1: lr_0 = 1, lr_1 = 0.5.
    # ours:  v1 = -1, v2 = 0.5 * -1 - 0.5 * 1 = -1        -> p = 0 - 1 - 1 = -2
    # torch: b1 = 1, p = -1;  b2 = 0.5 * 1 + 1 = 1.5 ; p = -1 - 0.5 * 1.5 = -1.75
    p = Tensor(0.0, requires_grad=True)
    optimizer = SGD([p], lr=1.0, momentum=0.5, decay=1.0)
    for _ in range(2):
        p.grad = np.array(1.0)
        optimizer.step()
    assert p.item() == -2.0
    assert run_torch_scalar() == -1.75


def run_torch_scalar() -> float:
    p = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=1.0, momentum=0.5)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1.0 / (1.0 + i))
    for _ in range(2):
        p.grad = torch.tensor(1.0, dtype=torch.float64)
        optimizer.step()
        schedule.step()
    return p.item()


# ----------------------------------------------------------------- behaviour


def two_params() -> tuple[Tensor, Tensor]:
    return (
        Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="W"),
        Tensor(np.array([0.5, -0.5]), requires_grad=True, name="b"),
    )


def test_a_parameter_without_gradient_is_skipped() -> None:
    W, b = two_params()
    optimizer = SGD([W, b], lr=0.1, momentum=0.9)
    W.grad = np.ones((2, 2))
    optimizer.step()
    np.testing.assert_array_equal(W.data, [[0.9, 1.9], [2.9, 3.9]])
    np.testing.assert_array_equal(b.data, [0.5, -0.5])
    assert b.version == 0 and optimizer.velocities[1] is None


def test_step_changes_parameters_in_place_and_bumps_their_version() -> None:
    W, b = two_params()
    data_before = W.data
    stale = (W * W).sum()  # saved W's old values for backward
    W.grad = np.ones((2, 2))
    SGD([W], lr=0.1).step()
    assert W.data is data_before and W.version > 0
    with pytest.raises(RuntimeError, match="changed in place"):
        stale.backward()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_gradient_anywhere_changes_nothing(bad: float) -> None:
    W, b = two_params()
    optimizer = SGD([W, b], lr=0.1, momentum=0.9)
    W.grad, b.grad = np.ones((2, 2)), np.ones(2)
    optimizer.step()
    before = [W.data.copy(), b.data.copy(), *(v.copy() for v in optimizer.velocities)]
    versions = (W.version, b.version)
    W.grad, b.grad = np.ones((2, 2)), np.array([1.0, bad])  # only the LAST parameter is bad
    with pytest.raises(ValueError) as error:
        optimizer.step()
    assert "SGD.step: the gradient of parameter 1 'b'" in str(error.value)
    assert ("NaN" if np.isnan(bad) else "inf") in str(error.value)
    after = [W.data, b.data, *optimizer.velocities]
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    assert (W.version, b.version) == versions and optimizer.steps == 1


def test_a_gradient_of_the_wrong_shape_changes_nothing() -> None:
    W, b = two_params()
    W.grad, b.grad = np.ones((2, 2)), np.ones(3)
    with pytest.raises(ValueError, match=r"'b' has shape \(2,\) but its gradient has shape \(3,\)"):
        SGD([W, b], lr=0.1).step()
    assert W.version == 0


def test_zero_grad_sets_gradients_to_none() -> None:
    W, b = two_params()
    W.grad, b.grad = np.ones((2, 2)), np.ones(2)
    SGD([W, b], lr=0.1).zero_grad()
    assert W.grad is None and b.grad is None


def test_float32_parameters_and_velocities_stay_float32() -> None:
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.9, decay=0.1)
    for _ in range(3):
        p.grad = np.full(3, 0.5, dtype=np.float32)
        optimizer.step()
    assert p.dtype == np.float32 and optimizer.velocities[0].dtype == np.float32


def test_state_dict_round_trip_resumes_the_same_trajectory() -> None:
    def train(optimizer: SGD, p: Tensor, steps: int) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            (p * p * p).sum().backward()
            optimizer.step()

    p = Tensor([1.0, -0.5], requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.8, decay=0.2)
    train(optimizer, p, 3)
    state, saved_p = optimizer.state_dict(), p.data.copy()
    assert (state["steps"], state["lr"], state["momentum"], state["decay"]) == (3, 0.1, 0.8, 0.2)
    state["velocities"][0][:] = 99  # a deep copy: the optimizer does not see this
    assert not np.any(optimizer.velocities[0] == 99)
    state = optimizer.state_dict()
    train(optimizer, p, 3)

    q = Tensor(saved_p, requires_grad=True)
    resumed = SGD([q], lr=1.0)
    resumed.load_state_dict(state)
    state["velocities"][0][:] = 99  # loading copied too
    train(resumed, q, 3)
    np.testing.assert_array_equal(q.data, p.data)
    assert resumed.steps == 6


@pytest.mark.parametrize(
    "change, phrase",
    [
        (lambda s: s.pop("velocities"), "lacks ['velocities']"),
        (lambda s: s.update(velocities=[None, None]), "2 velocities for 1 parameters"),
        (lambda s: s.update(velocities=[np.zeros(3)]), "velocity 0 has shape (3,)"),
        (lambda s: s.update(steps=-1), "steps must be an int >= 0, got -1"),
        (lambda s: s.update(lr=float("nan")), "lr must be a positive finite number, got nan"),
        (lambda s: s.update(momentum=1.0), "momentum must be a number in [0, 1), got 1.0"),
        (lambda s: s.update(velocities=[np.array([0.0, np.nan])]), "velocity 0 contains NaN"),
        (lambda s: s.update(velocities=[np.array([0.0, np.inf])]), "velocity 0 contains inf"),
        (lambda s: s.update(extra=1), "unknown entries ['extra']"),
    ],
)
def test_load_state_dict_refuses_a_bad_state_and_changes_nothing(change: Any, phrase: str) -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.5)
    p.grad = np.ones(2)
    optimizer.step()
    state, before = optimizer.state_dict(), optimizer.state_dict()
    change(state)
    with pytest.raises(ValueError) as error:
        optimizer.load_state_dict(state)
    assert phrase in str(error.value)
    after = optimizer.state_dict()
    assert {k: v for k, v in after.items() if k != "velocities"} == {
        k: v for k, v in before.items() if k != "velocities"
    }
    np.testing.assert_array_equal(after["velocities"][0], before["velocities"][0])


@pytest.mark.parametrize(
    "params, error, phrase",
    [
        (lambda W: [W, np.ones(2)], TypeError, "parameter 1 has type ndarray, not Tensor"),
        (lambda W: [W, Tensor([1.0], name="c")], TypeError,
         "parameter 1 'c' (shape (1,)) does not require grad"),
        (lambda W: [W * 2], TypeError,
         "parameter 0 (shape (2, 2)) is the output of Mul, not a leaf"),
        (lambda W: [W, W], ValueError, "parameter 1 'W' appears more than once"),
        (lambda W: [], ValueError, "empty list of parameters"),
        (lambda W: W, TypeError, "got a single Tensor"),
    ],
)
def test_bad_params_are_refused(params: Any, error: type, phrase: str) -> None:
    W, _ = two_params()
    with pytest.raises(error) as raised:
        SGD(params(W), lr=0.1)
    assert str(raised.value).startswith("SGD: ") and phrase in str(raised.value)


@pytest.mark.parametrize(
    "kwargs, error, phrase",
    [
        ({"lr": 0.0}, ValueError, "lr must be a positive finite number, got 0.0"),
        ({"lr": -0.1}, ValueError, "lr must be a positive finite number, got -0.1"),
        ({"lr": float("nan")}, ValueError, "lr must be a positive finite number, got nan"),
        ({"lr": float("inf")}, ValueError, "lr must be a positive finite number, got inf"),
        ({"lr": 10**400}, ValueError, "lr must be a positive finite number, got 100000..."),
        ({"lr": "0.1"}, TypeError, "lr must be a positive finite number, got str '0.1'"),
        ({"lr": True}, TypeError, "lr must be a positive finite number, got bool True"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, "momentum must be a number in [0, 1), got 1.0"),
        ({"lr": 0.1, "momentum": -0.1}, ValueError, "momentum must be a number in [0, 1)"),
        ({"lr": 0.1, "momentum": True}, TypeError, "momentum must be a number in [0, 1), got bool"),
        ({"lr": 0.1, "decay": -1}, ValueError, "decay must be a finite number >= 0, got -1"),
        ({"lr": 0.1, "decay": True}, TypeError, "decay must be a finite number >= 0, got bool"),
        ({"lr": 0.1, "weight_decay": -1e-4}, ValueError, "weight_decay must be a finite number >= 0"),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs: dict, error: type, phrase: str) -> None:
    W, _ = two_params()
    with pytest.raises(error) as raised:
        SGD([W], **kwargs)
    assert str(raised.value).startswith("SGD: ") and phrase in str(raised.value)


def test_repr() -> None:
    W, b = two_params()
    assert repr(SGD([W, b], lr=0.1, momentum=0.9)) == (
        "SGD(2 parameters, lr=0.1, momentum=0.9, decay=0.0, steps=0)"
    )


# ----------------------------------------------------------------- random search


def distance_to_ones(W: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((W - 1) ** 2) + np.sum((b - 1) ** 2))


def test_random_search_is_deterministic_and_keeps_the_best() -> None:
    result = random_search(distance_to_ones, [(3, 2), (2,)], trials=50, scale=1.0, seed=3)
    again = random_search(distance_to_ones, [(3, 2), (2,)], trials=50, scale=1.0, seed=3)
    assert isinstance(result, RandomSearchResult)
    params, loss, history = result
    assert history.shape == (50,) and loss == history.min() == distance_to_ones(*params)
    np.testing.assert_array_equal(history, again.history)
    for mine, theirs in zip(params, again.params):
        np.testing.assert_array_equal(mine, theirs)
    other = random_search(distance_to_ones, [(3, 2), (2,)], trials=50, scale=1.0, seed=4)
    assert not np.array_equal(other.history, history)


def test_random_search_draws_scale_times_standard_normal_in_order() -> None:
    rng = np.random.default_rng(11)
    first_W, first_b = 0.01 * rng.standard_normal((2, 2)), 0.01 * rng.standard_normal(2)
    result = random_search(lambda W, b: 0.0, [(2, 2), 2], trials=5, scale=0.01, seed=11)
    np.testing.assert_array_equal(result.params[0], first_W)  # ties keep the earliest draw
    np.testing.assert_array_equal(result.params[1], first_b)


def test_random_search_skips_nan_losses_and_accepts_tensors() -> None:
    losses = iter([math.nan, 3.0, Tensor(2.0), np.array([5.0]), math.nan])
    result = random_search(lambda W: next(losses), [(1,)], trials=5, scale=1.0, seed=0)
    assert result.loss == 2.0
    np.testing.assert_array_equal(result.history, [math.nan, 3.0, 2.0, 5.0, math.nan])


def test_random_search_on_a_classifier_builds_no_graph() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    seen = []

    def loss_fn(W: np.ndarray, b: np.ndarray) -> Tensor:
        loss = softmax_cross_entropy(Tensor(X) @ Tensor(W, requires_grad=True) + b, y)
        seen.append(loss.requires_grad)
        return loss

    result = random_search(loss_fn, [(4, 3), (3,)], trials=10, scale=1e-3, seed=0)
    assert not any(seen)
    assert abs(result.loss - math.log(3)) < 1e-2  # tiny weights: the uniform guess's loss


@pytest.mark.parametrize(
    "kwargs, phrase",
    [
        ({"trials": 0}, "trials must be an int >= 1, got 0"),
        ({"scale": 0.0}, "scale must be a positive finite number, got 0.0"),
        ({"scale": float("nan")}, "scale must be a positive finite number, got nan"),
        ({"scale": 10**400}, "scale must be a positive finite number, got 100000..."),
        ({"shapes": [(2, -1)]}, "shapes[0] must be an int >= 0, got -1"),
        ({"shapes": []}, "shapes is empty"),
    ],
)
def test_random_search_refuses_bad_arguments(kwargs: dict, phrase: str) -> None:
    arguments = {"loss_fn": lambda *p: 0.0, "shapes": [(2,)], "trials": 3, "scale": 1.0, **kwargs}
    with pytest.raises(ValueError) as error:
        random_search(**arguments)
    assert str(error.value).startswith(f"random_search: {phrase}")


def test_random_search_wants_one_number_from_loss_fn() -> None:
    with pytest.raises(ValueError, match=r"loss_fn must return one number, got shape \(2,\)"):
        random_search(lambda W: W, [(2,)], trials=1, scale=1.0, seed=0)


# ----------------------------------------------------------------- all or nothing, types


def test_load_state_dict_with_strings_in_velocities_changes_nothing() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.5)
    p.grad = np.ones(2)
    optimizer.step()
    before = optimizer.state_dict()
    state = {**before, "lr": 0.5, "steps": 7, "velocities": [np.array(["a", "b"])]}
    with pytest.raises(TypeError, match=r"^SGD.load_state_dict: velocity 0 must be an array of real"):
        optimizer.load_state_dict(state)
    assert (optimizer.lr, optimizer.steps) == (0.1, 1)
    np.testing.assert_array_equal(optimizer.velocities[0], before["velocities"][0])


@pytest.mark.parametrize(
    "velocity, error, phrase",
    [
        (np.array([1j, 0j]), TypeError, "velocity 0 must be an array of real numbers, got complex"),
        ([[0.0, 1.0], [2.0]], ValueError, "velocity 0 must be a rectangular array"),
        ("ab", TypeError, "velocity 0 must be an array of real numbers, got strings"),
    ],
)
def test_load_state_dict_refuses_complex_and_ragged_velocities(
    velocity: Any, error: type, phrase: str
) -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.5)
    state = {**optimizer.state_dict(), "lr": 0.5, "velocities": [velocity]}
    with pytest.raises(error) as raised:
        optimizer.load_state_dict(state)
    assert str(raised.value).startswith("SGD.load_state_dict: ") and phrase in str(raised.value)
    assert optimizer.lr == 0.1 and optimizer.velocities == [None]


@pytest.mark.parametrize(
    "bad_grad, error, phrase",
    [
        (np.array([1j, 2j]), TypeError, "must be an array of real numbers, got complex128"),
        (np.array(["1", "2"]), TypeError, "must be an array of real numbers, got <U1"),
        ([1.0, 2.0], TypeError, "must be an array of real numbers, got list"),
        (np.array([True, False]), TypeError, "got bool"),
    ],
)
def test_a_bad_second_gradient_fails_before_the_first_parameter_changes(
    bad_grad: Any, error: type, phrase: str
) -> None:
    W, b = two_params()
    optimizer = SGD([W, b], lr=0.1, momentum=0.9)
    W_before = W.data.copy()
    W.grad, b.grad = np.ones((2, 2)), bad_grad
    with pytest.raises(error) as raised:
        optimizer.step()
    message = str(raised.value)
    assert message.startswith("SGD.step: the gradient of parameter 1 'b'") and phrase in message
    assert "no parameter was changed" in message
    np.testing.assert_array_equal(W.data, W_before)
    assert W.version == 0 and optimizer.velocities == [None, None] and optimizer.steps == 0


def test_params_may_be_a_generator() -> None:
    W, b = two_params()
    optimizer = SGD((p for p in (W, b)), lr=0.1)
    assert optimizer.params[0] is W and optimizer.params[1] is b


def test_named_parameters_by_mistake_get_a_hint() -> None:
    W, b = two_params()
    with pytest.raises(TypeError, match=r"parameter 0 has type tuple, not Tensor; pass model.parameters\(\)"):
        SGD([("W", W), ("b", b)], lr=0.1)


@pytest.mark.parametrize(
    "kwargs, error, phrase",
    [
        ({"trials": True}, TypeError, "trials must be an int >= 1, got bool True"),
        ({"trials": 2.0}, TypeError, "trials must be an int >= 1, got float 2.0"),
        ({"scale": True}, TypeError, "scale must be a positive finite number, got bool True"),
        ({"loss_fn": 3}, TypeError, "loss_fn must be callable, got int 3"),
        ({"dtype": np.int64}, TypeError, "dtype must be a floating-point type, got int64"),
        ({"shapes": [(2, "a")]}, TypeError, "shapes[0] must be an int >= 0, got str 'a'"),
        ({"seed": -1}, ValueError, "seed must be an int >= 0, got -1"),
    ],
)
def test_random_search_refuses_bad_types(kwargs: dict, error: type, phrase: str) -> None:
    arguments = {"loss_fn": lambda *p: 0.0, "shapes": [(2,)], "trials": 3, "scale": 1.0, **kwargs}
    with pytest.raises(error) as raised:
        random_search(**arguments)
    assert str(raised.value).startswith(f"random_search: {phrase}")


def test_random_search_accepts_numpy_ints_and_int_shapes() -> None:
    result = random_search(lambda w: float(w.sum()), [np.int64(3)], trials=np.int64(4), seed=0)
    assert result.params[0].shape == (3,) and result.history.shape == (4,)
