"""Optimizers: stochastic gradient descent with momentum and learning-rate decay, as the lecture
notes write it, and random search, the notes' "very bad idea" baseline kept for contrast."""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np

from .function import no_grad
from .tensor import Tensor, _named

__all__ = ["SGD", "random_search", "RandomSearchResult"]


_STATE_KEYS = ("lr", "momentum", "decay", "steps", "velocities")  # what state_dict holds


class SGD:
    """Gradient descent with momentum and learning-rate decay, exactly as the notes write it.

    SGD(params, lr, momentum=0.0, decay=0.0)

    params    the Tensors to update: leaves with requires_grad=True (e.g. model.parameters())
    lr        the starting learning rate, finite and > 0
    momentum  beta in [0, 1): the fraction of the previous update kept in this one
    decay     >= 0: the learning rate of step i is lr / (1 + decay * i)

    Step i (i = 0, 1, ... counts the steps already taken), for each parameter p with gradient g:

        lr_i = lr / (1 + decay * i)
        v    = momentum * v - lr_i * g        (v starts at 0)
        p    = p + v                          (in place: p.add_(v) bumps p.version)

    With momentum = 0 and decay = 0 this is plain gradient descent, p -= lr * g. A parameter
    whose `.grad` is None is skipped (its velocity is left as it is). A NaN or inf in any
    gradient raises ValueError before any parameter changes.

    How this differs from torch.optim.SGD. PyTorch keeps a buffer b of raw gradients and
    scales it by the *current* learning rate:

        b = momentum * b + g ;   p = p - lr_t * b

    Write ours with u = -v: u = momentum * u + lr_t * g ; p = p - u. Unrolled,

        ours:   u_t       = sum_k momentum^(t-k) * lr_k * g_k
        torch:  lr_t * b_t = sum_k momentum^(t-k) * lr_t * g_k

    While the learning rate is fixed (lr_k = lr_t = lr) the two are equal term by term, so the
    trajectories agree. Once it decays they differ: ours moves each gradient with the rate of
    the step that saw it, PyTorch re-scales all remembered gradients by today's smaller rate.
    Without momentum (one term, k = t) they agree again, decay or not.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        decay: float = 0.0,
    ) -> None:
        self.params: list[Tensor] = _checked_params(params)
        self.lr, self.momentum, self.decay = _checked_hyperparameters(lr, momentum, decay)
        self.steps = 0
        self.velocities: list[np.ndarray | None] = [None] * len(self.params)

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use: lr / (1 + decay * steps)."""
        return self.lr / (1.0 + self.decay * self.steps)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        gradients = self._checked_gradients()
        lr_i = self.current_lr
        with no_grad():
            for i, grad in gradients:
                p = self.params[i]
                v = self.velocities[i]
                if v is None:
                    v = self.velocities[i] = np.zeros_like(p.data)
                v *= self.momentum
                v -= lr_i * grad
                p.add_(v)
        self.steps += 1

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to None (gradients otherwise add up across backwards)."""
        for p in self.params:
            p.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of the state: hyperparameters, the step count and the velocities."""
        return copy.deepcopy({key: getattr(self, key) for key in _STATE_KEYS})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` (deep-copied). Checked in full before anything changes."""
        missing = set(_STATE_KEYS) - set(state)
        if missing:
            raise ValueError(f"SGD.load_state_dict: the state lacks {sorted(missing)}")
        hyperparameters = _checked_hyperparameters(state["lr"], state["momentum"], state["decay"])
        steps = state["steps"]
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"SGD.load_state_dict: steps must be an int >= 0, got {steps!r}")
        velocities = list(state["velocities"])
        if len(velocities) != len(self.params):
            raise ValueError(
                f"SGD.load_state_dict: the state has {len(velocities)} velocities for "
                f"{len(self.params)} parameters"
            )
        for i, (p, v) in enumerate(zip(self.params, velocities)):
            if v is not None and np.shape(v) != p.shape:
                raise ValueError(
                    f"SGD.load_state_dict: velocity {i} has shape {np.shape(v)}, but parameter "
                    f"{i}{_named(p.name)} has shape {p.shape}"
                )
        self.lr, self.momentum, self.decay = hyperparameters
        self.steps = int(steps)
        self.velocities = [
            None if v is None else np.array(v, dtype=p.dtype)
            for p, v in zip(self.params, velocities)
        ]

    def _checked_gradients(self) -> list[tuple[int, np.ndarray]]:
        """(position, gradient) of each parameter with a gradient, all checked first."""
        gradients = []
        for i, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            if grad.shape != p.shape:
                raise ValueError(
                    f"SGD.step: parameter {i}{_named(p.name)} has shape {p.shape} but its "
                    f"gradient has shape {grad.shape}; no parameter was changed"
                )
            if not np.isfinite(grad).all():
                bad = "NaN" if np.isnan(grad).any() else "inf"
                raise ValueError(
                    f"SGD.step: the gradient of parameter {i}{_named(p.name)} (shape {p.shape}) "
                    f"contains {bad}; no parameter was changed"
                )
            gradients.append((i, grad))
        return gradients

    def __repr__(self) -> str:
        return (
            f"SGD({len(self.params)} parameters, lr={self.lr}, momentum={self.momentum}, "
            f"decay={self.decay}, steps={self.steps})"
        )


def _checked_params(params: Iterable[Tensor]) -> list[Tensor]:
    if isinstance(params, Tensor):
        raise TypeError(
            "SGD: params must be an iterable of Tensors, got a single Tensor; wrap it in a list"
        )
    params = list(params)
    if not params:
        raise ValueError("SGD: got an empty list of parameters")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"SGD: parameter {i} has type {type(p).__name__}, not Tensor")
        if not p.requires_grad:
            raise TypeError(
                f"SGD: parameter {i}{_named(p.name)} (shape {p.shape}) does not require grad; "
                "create it with requires_grad=True"
            )
        if not p.is_leaf:
            raise TypeError(
                f"SGD: parameter {i}{_named(p.name)} (shape {p.shape}) is the output of "
                f"{p.grad_fn.name}, not a leaf; optimize the leaf tensors it was computed from"
            )
        if id(p) in seen:
            raise ValueError(
                f"SGD: parameter {i}{_named(p.name)} appears more than once in params"
            )
        seen.add(id(p))
    return params


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"SGD: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"SGD: {name} must be finite, got {value}")
    return value


def _checked_hyperparameters(lr: Any, momentum: Any, decay: Any) -> tuple[float, float, float]:
    lr, momentum, decay = _real("lr", lr), _real("momentum", momentum), _real("decay", decay)
    if lr <= 0:
        raise ValueError(f"SGD: lr must be > 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
    if decay < 0:
        raise ValueError(f"SGD: decay must be >= 0, got {decay}")
    return lr, momentum, decay


class RandomSearchResult(NamedTuple):
    """What `random_search` found: the best parameters, their loss, and every trial's loss."""

    params: list[np.ndarray]
    loss: float
    history: np.ndarray


def random_search(
    loss_fn: Callable[..., Any],
    shapes: Sequence[tuple[int, ...]],
    trials: int = 1000,
    scale: float = 1e-4,
    seed: int | None = None,
    dtype: Any = np.float64,
) -> RandomSearchResult:
    """The notes' "first very bad idea": draw every parameter at random, keep the best.

    loss_fn  called as loss_fn(*params) with one array per shape; returns a number or a
             one-element Tensor/array (evaluated under no_grad, so no graph is built)
    shapes   the parameters' shapes, e.g. [(in_features, num_classes), (num_classes,)]
    trials   how many random draws; each draws params = scale * N(0, 1), independently
    seed     for np.random.default_rng: the same seed gives the same result

    Returns RandomSearchResult(params, loss, history): the best draw, its loss and the loss
    of every trial in order (shape (trials,)); ties keep the earlier draw, and a NaN loss is
    never the best. If every loss is NaN, params is the first draw and loss is NaN.
    """
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"random_search: trials must be an int >= 1, got {trials!r}")
    if not (isinstance(scale, numbers.Real) and 0 < scale < math.inf):
        raise ValueError(f"random_search: scale must be a finite number > 0, got {scale!r}")
    shapes = [(int(shape),) if np.ndim(shape) == 0 else tuple(map(int, shape)) for shape in shapes]
    if not shapes:
        raise ValueError("random_search: shapes is empty; give one shape per parameter")
    rng = np.random.default_rng(seed)
    history = np.empty(int(trials))
    best_params: list[np.ndarray] = []
    best_loss = math.nan
    with no_grad():
        for trial in range(int(trials)):
            params = [(scale * rng.standard_normal(shape)).astype(dtype) for shape in shapes]
            loss = history[trial] = _scalar_loss(loss_fn(*params))
            if trial == 0 or _improves(loss, best_loss):
                best_params, best_loss = params, loss
    return RandomSearchResult(best_params, best_loss, history)


def _improves(loss: float, best: float) -> bool:
    """Lower is better; NaN is worse than any number."""
    return not math.isnan(loss) and (math.isnan(best) or loss < best)


def _scalar_loss(value: Any) -> float:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.size != 1:
        raise ValueError(
            f"random_search: loss_fn must return one number, got shape {np.shape(data)}"
        )
    return float(data.reshape(()))
