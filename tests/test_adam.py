"""Adam against torch.optim.Adam step for step at float64, its state dict (all or nothing,
savable with tinygrad_edu.save), and SGD's weight_decay against torch.optim.SGD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from tinygrad_edu import Tensor
from tinygrad_edu.losses import softmax_cross_entropy
from tinygrad_edu.nn import Linear, Sequential
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.serialization import load, save


def problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)


def train_ours(optimizer_class: type, steps: int, **settings: Any) -> tuple[list[np.ndarray], Any]:
    X, y = problem()
    model = Sequential(Linear(4, 5, seed=0), Linear(5, 3, seed=1))
    optimizer = optimizer_class(model.parameters(), **settings)
    for _ in range(steps):
        optimizer.zero_grad()
        softmax_cross_entropy(model(X), y).backward()
        optimizer.step()
    return [p.data for p in model.parameters()], optimizer


def train_torch(optimizer_class: type, steps: int, **settings: Any) -> list[np.ndarray]:
    X, y = problem()
    ours = Sequential(Linear(4, 5, seed=0), Linear(5, 3, seed=1))
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3)).double()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    optimizer = optimizer_class(model.parameters(), **settings)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X_t), y_t).backward()
        optimizer.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"lr": 0.05},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.02, "betas": (0.6, 0.9)},  # 1 - beta1 > 0.5: the other branch of torch's lerp
    ],
)
def test_adam_equals_torch_step_for_step(settings: dict) -> None:
    for steps in (1, 2, 20):
        ours, _ = train_ours(Adam, steps, **settings)
        theirs = train_torch(torch.optim.Adam, steps, **settings)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "settings", [{}, {"lr": 0.05, "weight_decay": 0.1}, {"lr": 0.02, "betas": (0.6, 0.9), "eps": 1e-3}]
)
def test_adam_given_the_same_gradients_agrees_to_the_last_bits(settings: dict) -> None:
    rng = np.random.default_rng(0)
    start = rng.normal(size=(4, 5))
    p, p_t = Tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    ours, theirs = Adam([p], **settings), torch.optim.Adam([p_t], **settings)
    for _ in range(20):
        g = rng.normal(size=(4, 5))
        p.grad, p_t.grad = g.copy(), torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
        np.testing.assert_allclose(p.data, p_t.detach().numpy(), rtol=4e-16, atol=4e-16)
    np.testing.assert_allclose(ours.exp_avg_sq[0], theirs.state[p_t]["exp_avg_sq"].numpy(), rtol=4e-16)


@pytest.mark.parametrize("settings", [{"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
                                      {"lr": 0.1, "weight_decay": 0.5}])
def test_sgd_weight_decay_is_torchs(settings: dict) -> None:
    ours, _ = train_ours(SGD, 20, **settings)
    theirs = train_torch(torch.optim.SGD, 20, **settings)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sgd_decay_and_weight_decay_are_different_things() -> None:
    p = Tensor([1.0], requires_grad=True)
    q = Tensor([1.0], requires_grad=True)
    lr_decay, weight_decay = SGD([p], lr=0.1, decay=0.5), SGD([q], lr=0.1, weight_decay=0.5)
    for optimizer, t in ((lr_decay, p), (weight_decay, q)):
        for _ in range(2):
            t.grad = np.array([1.0])
            optimizer.step()
    assert p.item() == pytest.approx(1 - 0.1 - 0.1 / 1.5)  # the learning rate shrank
    assert q.item() == pytest.approx((1 - 0.1 * 1.5) - 0.1 * (1 + 0.5 * 0.85))  # g + 0.5 p


def test_a_parameter_without_gradient_is_skipped_as_in_torch() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    optimizer = Adam([a, b], lr=0.1)
    a.grad = np.array([0.5, -0.5])
    optimizer.step()
    assert b.item() == 3.0 and optimizer.exp_avg[1] is None and optimizer.exp_avg_sq[1] is None
    a_t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    reference = torch.optim.Adam([a_t, b_t], lr=0.1)
    a_t.grad = torch.tensor([0.5, -0.5], dtype=torch.float64)
    reference.step()
    np.testing.assert_allclose(a.data, a_t.detach().numpy(), rtol=1e-15)


def test_float32_stays_float32() -> None:
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    optimizer = Adam([p], lr=0.1, weight_decay=0.1)
    for _ in range(3):
        p.grad = np.full(3, 0.5, dtype=np.float32)
        optimizer.step()
    assert p.dtype == np.float32
    assert optimizer.exp_avg[0].dtype == optimizer.exp_avg_sq[0].dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, error, phrase",
    [
        ({"lr": 0.0}, ValueError, "Adam: lr must be a positive finite number, got 0.0"),
        ({"lr": True}, TypeError, "Adam: lr must be a positive finite number, got bool True"),
        ({"betas": (0.9, 1.0)}, ValueError, "Adam: betas[1] must be a number in [0, 1), got 1.0"),
        ({"betas": 0.9}, TypeError, "Adam: betas must be a pair (beta1, beta2), got 0.9"),
        ({"betas": (0.9,)}, TypeError, "Adam: betas must be a pair"),
        ({"eps": 0.0}, ValueError, "Adam: eps must be a positive finite number, got 0.0"),
        ({"weight_decay": float("nan")}, ValueError, "Adam: weight_decay must be a finite number >= 0"),
    ],
)
def test_adam_refuses_bad_hyperparameters(kwargs: dict, error: type, phrase: str) -> None:
    with pytest.raises(error) as raised:
        Adam([Tensor([1.0], requires_grad=True)], **kwargs)
    assert str(raised.value).startswith(phrase)


def test_adam_step_is_all_or_nothing() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    optimizer = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.array([0.5, -0.5]), np.array([np.inf])
    expected = r"^Adam.step: the gradient of parameter 1 \(shape \(1,\)\) contains inf"
    with pytest.raises(ValueError, match=expected):
        optimizer.step()
    np.testing.assert_array_equal(a.data, [1.0, 2.0])
    assert optimizer.steps == 0 and optimizer.exp_avg == [None, None]


# ----------------------------------------------------------------------------- state


def test_state_dict_round_trip_through_a_file_resumes_identically(tmp_path: Path) -> None:
    _, optimizer = train_ours(Adam, 3, lr=0.05)
    state = optimizer.state_dict()
    assert set(state) == {"lr", "betas", "eps", "weight_decay", "steps", "exp_avg", "exp_avg_sq"}
    save(state, tmp_path / "adam.npz")
    loaded = load(tmp_path / "adam.npz")
    assert loaded["betas"] == (0.9, 0.999) and isinstance(loaded["betas"], tuple)
    assert loaded["steps"] == 3 and isinstance(loaded["steps"], int)
    for key in ("exp_avg", "exp_avg_sq"):
        for a, b in zip(loaded[key], state[key]):
            np.testing.assert_array_equal(a, b)

    # Resume: 3 steps, save, load into a fresh optimizer, 2 more == 5 steps straight.
    X, y = problem()
    straight, _ = train_ours(Adam, 5, lr=0.05)
    model = Sequential(Linear(4, 5, seed=0), Linear(5, 3, seed=1))
    first = Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        first.zero_grad()
        softmax_cross_entropy(model(X), y).backward()
        first.step()
    save({"model": model.state_dict(), "optimizer": first.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = load(tmp_path / "ckpt.npz")
    resumed_model = Sequential(Linear(4, 5, seed=7), Linear(5, 3, seed=8))
    resumed_model.load_state_dict(checkpoint["model"])
    resumed = Adam(resumed_model.parameters())
    resumed.load_state_dict(checkpoint["optimizer"])
    for _ in range(2):
        resumed.zero_grad()
        softmax_cross_entropy(resumed_model(X), y).backward()
        resumed.step()
    for a, b in zip(resumed_model.parameters(), straight):
        np.testing.assert_array_equal(a.data, b)


def test_moments_not_created_yet_are_saved_as_none(tmp_path: Path) -> None:
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    optimizer = Adam([a, b])
    a.grad = np.array([1.0])
    optimizer.step()
    save(optimizer.state_dict(), tmp_path / "adam.npz")
    loaded = load(tmp_path / "adam.npz")
    assert loaded["exp_avg"][1] is None and loaded["exp_avg_sq"][1] is None
    fresh = Adam([Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)])
    fresh.load_state_dict(loaded)
    assert fresh.exp_avg[1] is None and fresh.steps == 1
    # SGD the same way
    sgd = SGD([a, b], lr=0.1, momentum=0.9)
    sgd.step()
    save(sgd.state_dict(), tmp_path / "sgd.npz")
    assert load(tmp_path / "sgd.npz")["velocities"][1] is None


@pytest.mark.parametrize(
    "change, error, phrase",
    [
        (lambda s: s.update(betas=(0.9, 1.5)), ValueError, "betas[1] must be a number in [0, 1)"),
        (lambda s: s.update(exp_avg_sq=[np.array([np.nan, 0.0]), None]), ValueError,
         "exp_avg_sq 0 contains NaN"),
        (lambda s: s.update(exp_avg=[np.zeros(3), None]), ValueError,
         "exp_avg 0 has shape (3,)"),
        (lambda s: s.update(exp_avg=[np.array(["a", "b"]), None]), TypeError,
         "exp_avg 0 must be an array of real"),
        (lambda s: s.pop("eps"), ValueError, "the state lacks ['eps']"),
        (lambda s: s.update(steps=True), TypeError, "steps must be an int >= 0, got bool True"),
    ],
)
def test_adam_load_state_dict_is_all_or_nothing(change: Any, error: type, phrase: str) -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    optimizer = Adam([a, b], lr=0.1)
    a.grad = np.array([0.5, -0.5])
    optimizer.step()
    before = optimizer.state_dict()
    state = {**optimizer.state_dict(), "lr": 0.5, "steps": 9}
    change(state)
    with pytest.raises(error) as raised:
        optimizer.load_state_dict(state)
    assert str(raised.value).startswith("Adam.load_state_dict: ") and phrase in str(raised.value)
    assert (optimizer.lr, optimizer.steps, optimizer.betas) == (0.1, 1, (0.9, 0.999))
    np.testing.assert_array_equal(optimizer.exp_avg[0], before["exp_avg"][0])
