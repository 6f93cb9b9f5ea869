"""Optimizers: stochastic gradient descent with momentum and learning-rate decay as the lecture
notes write it, Adam as PyTorch computes it, and random search, the notes' "very bad idea"
baseline kept for contrast.

Both optimizers take any iterable of leaf Tensors that require grad (`model.parameters()`, a
list, a generator), skip parameters whose `.grad` is None, and are all-or-nothing: `step()`
checks every gradient before it changes any parameter, `load_state_dict()` checks the whole
state before it changes anything.

State dicts hold plain Python numbers and lists of arrays, so `tinygrad_edu.save` writes them
as they are. Per-parameter state that does not exist yet (the velocity of a parameter that has
never had a gradient) is None in the list; `save` stores it as None and `load` gives None back.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from . import validation
from .modes import no_grad
from .tensor import Tensor
from .validation import named as _named

__all__ = ["Optimizer", "SGD", "Adam", "random_search", "RandomSearchResult"]


class Optimizer:
    """What SGD and Adam share: the checked parameter list, `zero_grad`, an all-or-nothing
    `step` and `load_state_dict`, and `state_dict`.

    A subclass names its hyperparameters (`HYPERPARAMETERS`, checked by `_checked_settings`)
    and its per-parameter state lists (`SLOTS`: attribute name -> singular for messages), and
    computes one parameter's update in `_update`.
    """

    HYPERPARAMETERS: ClassVar[tuple[str, ...]] = ()
    SLOTS: ClassVar[dict[str, str]] = {}
    # >= 0: an L2 penalty, as torch.optim's weight_decay (not AdamW's decoupled decay): step
    # adds its gradient, weight_decay * p, to g before `_update` sees it.
    weight_decay: float = 0.0

    def __init__(self, params: Iterable[Tensor], settings: dict[str, Any]) -> None:
        """`settings`: the hyperparameters as `_checked_settings` returned them."""
        self.params: list[Tensor] = _checked_params(type(self).__name__, params)
        self.steps = 0
        for slot in self.SLOTS:
            setattr(self, slot, [None] * len(self.params))
        for key, value in settings.items():
            setattr(self, key, value)

    # ------------------------------------------------------------------ subclass hooks

    def _checked_settings(self, func: str, settings: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters, validated and in canonical form (errors begin with func)."""
        raise NotImplementedError

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: list[np.ndarray | None]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """(the change to add to p, the new per-parameter state in SLOTS order); `grad` has
        the weight decay's term added. Must not write into p, grad or state: step applies the
        results only once all are computed."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (bumping its version)."""
        gradients = self._checked_gradients()
        slots = [getattr(self, slot) for slot in self.SLOTS]
        weight_decay = self.weight_decay
        with no_grad():
            updates = []
            for i, grad in gradients:
                p = self.params[i].data
                if weight_decay:  # the gradient of (weight_decay / 2) * ||p||², an L2 penalty
                    grad = grad + weight_decay * p
                updates.append((i, *self._update(p, grad, [slot[i] for slot in slots])))
            for i, change, state in updates:
                self.params[i].add_(change)
                for slot, value in zip(slots, state, strict=True):
                    slot[i] = value
        self.steps += 1

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to None (gradients otherwise add up across backwards)."""
        for p in self.params:
            p.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of the state: hyperparameters, `steps` and the per-parameter lists (an
        array, or None where no state exists yet)."""
        keys = (*self.HYPERPARAMETERS, "steps", *self.SLOTS)
        return copy.deepcopy({key: getattr(self, key) for key in keys})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` (copied). Everything is checked before anything changes:
        names, hyperparameters, steps, and each array's shape, type (real numbers) and values
        (finite)."""
        func = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{func}: state must be a dict, got {type(state).__name__}")
        expected = (*self.HYPERPARAMETERS, "steps", *self.SLOTS)
        missing = [key for key in expected if key not in state]
        if missing:
            raise ValueError(f"{func}: the state lacks {missing}")
        unknown = sorted(map(str, set(state) - set(expected)))
        if unknown:
            raise ValueError(f"{func}: the state has unknown entries {unknown}")
        settings = self._checked_settings(func, {k: state[k] for k in self.HYPERPARAMETERS})
        steps = validation.integer(func, "steps", state["steps"], minimum=0)
        slots = {slot: self._checked_slot(func, slot, state[slot]) for slot in self.SLOTS}
        for key, value in settings.items():
            setattr(self, key, value)
        self.steps = steps
        for slot, values in slots.items():
            setattr(self, slot, values)

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={getattr(self, key)}" for key in self.HYPERPARAMETERS)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings}, steps={self.steps})"

    # ------------------------------------------------------------------ checks

    def _checked_slot(self, func: str, slot: str, values: Any) -> list[np.ndarray | None]:
        """A per-parameter list from a state dict, as fresh arrays of each parameter's dtype."""
        singular = self.SLOTS[slot]
        if isinstance(values, (str, bytes, np.ndarray)) or not isinstance(values, Sequence):
            raise TypeError(
                f"{func}: {slot} must be a list (one array or None per parameter), "
                f"got {type(values).__name__}"
            )
        if len(values) != len(self.params):
            raise ValueError(
                f"{func}: the state has {len(values)} {slot} for {len(self.params)} parameters"
            )
        checked: list[np.ndarray | None] = []
        for i, (p, value) in enumerate(zip(self.params, values, strict=True)):
            if value is None:
                checked.append(None)
                continue
            what = f"{singular} {i}"
            array = validation.real_array(func, what, value)
            if array.shape != p.shape:
                raise ValueError(
                    f"{func}: {what} has shape {array.shape}, but parameter {i}{_named(p.name)} "
                    f"has shape {p.shape}"
                )
            validation.finite_array(func, what, array, consequence="nothing was changed")
            checked.append(np.array(array, dtype=p.dtype))  # a copy, never shared with the caller
        return checked

    def _checked_gradients(self) -> list[tuple[int, np.ndarray]]:
        """(position, gradient) of each parameter with a gradient, all checked first."""
        func = f"{type(self).__name__}.step"
        gradients = []
        for i, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            if not isinstance(grad, np.ndarray) or grad.dtype.kind not in "iuf":
                given = grad.dtype if isinstance(grad, np.ndarray) else type(grad).__name__
                raise TypeError(
                    f"{func}: {_gradient_of(i, p)} must be an array of real numbers, got "
                    f"{given}; no parameter was changed"
                )
            if grad.shape != p.shape:
                raise ValueError(
                    f"{func}: parameter {i}{_named(p.name)} has shape {p.shape} but its "
                    f"gradient has shape {grad.shape}; no parameter was changed"
                )
            # Every step passes here: the message is written only for a gradient that needs it.
            if grad.dtype.kind == "f" and not np.isfinite(grad).all():
                validation.finite_array(
                    func, _gradient_of(i, p), grad, consequence="no parameter was changed"
                )
            gradients.append((i, grad))
        return gradients


def _gradient_of(i: int, p: Tensor) -> str:
    """Parameter i's gradient, in words, for an error."""
    return f"the gradient of parameter {i}{_named(p.name)} (shape {p.shape})"


class SGD(Optimizer):
    """Gradient descent with momentum and learning-rate decay, exactly as the notes write it.

    SGD(params, lr, momentum=0.0, decay=0.0, weight_decay=0.0)

    params        the Tensors to update: leaves with requires_grad=True (e.g. model.parameters())
    lr            the starting learning rate, finite and > 0
    momentum      beta in [0, 1): the fraction of the previous update kept in this one
    decay         >= 0: the LEARNING RATE decays, lr_i = lr / (1 + decay * i)  (the notes' name)
    weight_decay  >= 0: the WEIGHTS decay, an L2 penalty (weight_decay / 2) * ||p||² whose
                  gradient weight_decay * p is added to g  (PyTorch's name and meaning)

    Two names, two ideas: `decay` is the lecture's learning-rate schedule and has no PyTorch
    counterpart among SGD's arguments (torch.optim.lr_scheduler plays that role);
    `weight_decay` is exactly torch.optim.SGD's weight_decay. A PyTorch user who writes
    `decay=5e-4` meaning weight decay gets a slowly shrinking learning rate instead: use
    `weight_decay=5e-4`.

    Step i (i = 0, 1, ... counts the steps already taken), for each parameter p with gradient g:

        g    = g + weight_decay * p            (only if weight_decay > 0)
        lr_i = lr / (1 + decay * i)
        v    = momentum * v - lr_i * g         (v starts at 0)
        p    = p + v                           (in place: p.add_(v) bumps p.version)

    With momentum = 0 and decay = 0 this is plain gradient descent, p -= lr * g. A parameter
    whose `.grad` is None is skipped (its velocity is left as it is). A NaN or inf in any
    gradient, or a gradient of the wrong shape or type, raises before any parameter changes.

    How this differs from torch.optim.SGD. PyTorch keeps a buffer b of raw gradients and
    scales it by the *current* learning rate:

        b = momentum * b + g ;   p = p - lr_t * b

    Write ours with u = -v: u = momentum * u + lr_t * g ; p = p - u. Unrolled,

        ours:   u_t       = sum_k momentum^(t-k) * lr_k * g_k
        torch:  lr_t * b_t = sum_k momentum^(t-k) * lr_t * g_k

    While the learning rate is fixed (lr_k = lr_t = lr) the two are equal term by term, so the
    trajectories agree (weight_decay included). Once it decays they differ: ours moves each
    gradient with the rate of the step that saw it, PyTorch re-scales all remembered gradients
    by today's smaller rate. Without momentum (one term, k = t) they agree again, decay or not.

    state_dict(): {"lr", "momentum", "decay", "weight_decay", "steps", "velocities"}, where
    velocities[i] is None until parameter i first has a gradient.
    """

    HYPERPARAMETERS = ("lr", "momentum", "decay", "weight_decay")
    SLOTS = {"velocities": "velocity"}
    lr: float
    momentum: float
    decay: float
    weight_decay: float
    velocities: list[np.ndarray | None]

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        decay: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        settings = self._checked_settings(
            "SGD", {"lr": lr, "momentum": momentum, "decay": decay, "weight_decay": weight_decay}
        )
        super().__init__(params, settings)

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use: lr / (1 + decay * steps)."""
        return self.lr / (1.0 + self.decay * self.steps)

    def __repr__(self) -> str:  # weight_decay only when used: the lecture's SGD has none
        extra = f", weight_decay={self.weight_decay}" if self.weight_decay else ""
        return (
            f"SGD({len(self.params)} parameters, lr={self.lr}, momentum={self.momentum}, "
            f"decay={self.decay}{extra}, steps={self.steps})"
        )

    def _checked_settings(self, func: str, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": validation.positive_float(func, "lr", settings["lr"]),
            "momentum": validation.probability(func, "momentum", settings["momentum"], open_high=True),
            "decay": validation.positive_float(func, "decay", settings["decay"], allow_zero=True),
            "weight_decay": validation.positive_float(
                func, "weight_decay", settings["weight_decay"], allow_zero=True
            ),
        }

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: list[np.ndarray | None]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        (v,) = state
        if v is None:
            v = np.zeros_like(p)
        v = (self.momentum * v - self.current_lr * grad).astype(p.dtype, copy=False)
        return v, [v]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), computed as torch.optim.Adam computes it (step for step equal
    at float64).

    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    lr            the step size, finite and > 0
    betas         (beta1, beta2), each in [0, 1): the decay rates of the moment estimates
    eps           > 0, added to the denominator so it is never 0
    weight_decay  >= 0: adds weight_decay * p to the gradient (an L2 penalty, as in
                  torch.optim.Adam; this is not AdamW's decoupled decay)

    Step t (t = 1, 2, ...), for each parameter p with gradient g:

        g = g + weight_decay * p                  (only if weight_decay > 0)
        m = beta1 * m + (1 - beta1) * g           (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g²
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The dividing by 1 - beta^t corrects the bias of m and v toward their zero start. PyTorch
    evaluates m as m + (1 - beta1) * (g - m) (its lerp) and groups every product and sum in
    its own order; this class does the same, so given the same gradients the two agree to a
    unit in the last place (PyTorch's CPU kernels may fuse a multiply and an add).

    state_dict(): {"lr", "betas", "eps", "weight_decay", "steps", "exp_avg", "exp_avg_sq"}
    (PyTorch's names for m and v), exp_avg[i] and exp_avg_sq[i] being None until parameter i
    first has a gradient.
    """

    HYPERPARAMETERS = ("lr", "betas", "eps", "weight_decay")
    SLOTS = {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}
    lr: float
    betas: tuple[float, float]
    eps: float
    weight_decay: float
    exp_avg: list[np.ndarray | None]
    exp_avg_sq: list[np.ndarray | None]

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        settings = self._checked_settings(
            "Adam", {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )
        super().__init__(params, settings)

    def _checked_settings(self, func: str, settings: dict[str, Any]) -> dict[str, Any]:
        betas = settings["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise TypeError(
                f"{func}: betas must be a pair (beta1, beta2), got {validation.shown(betas)}"
            )
        return {
            "lr": validation.positive_float(func, "lr", settings["lr"]),
            "betas": tuple(
                validation.probability(func, f"betas[{i}]", beta, open_high=True)
                for i, beta in enumerate(betas)
            ),
            "eps": validation.positive_float(func, "eps", settings["eps"]),
            "weight_decay": validation.positive_float(
                func, "weight_decay", settings["weight_decay"], allow_zero=True
            ),
        }

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: list[np.ndarray | None]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        beta1, beta2 = self.betas
        t = self.steps + 1
        grad = grad.astype(p.dtype, copy=False)
        m, v = (np.zeros_like(p) if s is None else s for s in state)
        # PyTorch's lerp (weight < 0.5): m + w * (g - m); its addcmul: b2 * v + ((1 - b2) * g) * g
        weight = 1 - beta1
        m = m + weight * (grad - m) if weight < 0.5 else grad - (grad - m) * (1 - weight)
        v = beta2 * v + ((1 - beta2) * grad) * grad
        step_size = self.lr / (1 - beta1**t)
        denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + self.eps
        return (-step_size * (m / denom)).astype(p.dtype, copy=False), [m, v]


def _checked_params(func: str, params: Iterable[Tensor]) -> list[Tensor]:
    if isinstance(params, Tensor):
        raise TypeError(
            f"{func}: params must be an iterable of Tensors, got a single Tensor; wrap it in a list"
        )
    if isinstance(params, dict):
        raise TypeError(
            f"{func}: params must be an iterable of Tensors, got a dict; pass "
            "model.parameters() (not a state_dict or named_parameters)"
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"{func}: params must be an iterable of Tensors, got {type(params).__name__}"
        ) from None
    if not params:
        raise ValueError(f"{func}: got an empty list of parameters")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            hint = (
                "; pass model.parameters(), not named_parameters()"
                if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Tensor) else ""
            )
            raise TypeError(f"{func}: parameter {i} has type {type(p).__name__}, not Tensor{hint}")
        if not p.requires_grad:
            raise TypeError(
                f"{func}: parameter {i}{_named(p.name)} (shape {p.shape}) does not require "
                "grad; create it with requires_grad=True"
            )
        if not p.is_leaf:
            raise TypeError(
                f"{func}: parameter {i}{_named(p.name)} (shape {p.shape}) is the output of "
                f"{getattr(p.grad_fn, 'name', 'an op')}, not a leaf; optimize the leaf tensors "
                "it was computed from"
            )
        if id(p) in seen:
            raise ValueError(
                f"{func}: parameter {i}{_named(p.name)} appears more than once in params"
            )
        seen.add(id(p))
    return params


class RandomSearchResult(NamedTuple):
    """What `random_search` found: the best parameters, their loss, and every trial's loss."""

    params: list[np.ndarray]
    loss: float
    history: np.ndarray


def random_search(
    loss_fn: Callable[..., Any],
    shapes: Sequence[Any],
    trials: int = 1000,
    scale: float = 1e-4,
    seed: int | None = None,
    dtype: Any = np.float64,
) -> RandomSearchResult:
    """The notes' "first very bad idea": draw every parameter at random, keep the best.

    loss_fn  called as loss_fn(*params) with one array per shape; returns a number or a
             one-element Tensor/array (evaluated under no_grad, so no graph is built)
    shapes   the parameters' shapes, e.g. [(in_features, num_classes), (num_classes,)]; an
             int n means (n,)
    trials   how many random draws (an int >= 1); each draws params = scale * N(0, 1),
             independently
    scale    a positive finite number
    seed     None or an int >= 0, for np.random.default_rng: the same seed gives the same result
    dtype    a floating-point dtype for the drawn parameters

    Returns RandomSearchResult(params, loss, history): the best draw, its loss and the loss
    of every trial in order (shape (trials,)); ties keep the earlier draw, and a NaN loss is
    never the best. If every loss is NaN, params is the first draw and loss is NaN.
    """
    func = "random_search"
    loss_fn = validation.callable_arg(func, "loss_fn", loss_fn)
    trials = validation.integer(func, "trials", trials, minimum=1)
    scale = validation.positive_float(func, "scale", scale)
    if seed is not None:
        seed = validation.integer(func, "seed", seed, minimum=0)
    dtype = validation.float_dtype(func, "dtype", dtype)
    shapes = _checked_shapes(func, shapes)
    rng = np.random.default_rng(seed)
    history = np.empty(trials)
    best_params: list[np.ndarray] = []
    best_loss = math.nan
    with no_grad():
        for trial in range(trials):
            params = [(scale * rng.standard_normal(shape)).astype(dtype) for shape in shapes]
            loss = history[trial] = _scalar_loss(loss_fn(*params))
            if trial == 0 or _improves(loss, best_loss):
                best_params, best_loss = params, loss
    return RandomSearchResult(best_params, best_loss, history)


def _checked_shapes(func: str, shapes: Any) -> list[tuple[int, ...]]:
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Iterable):
        raise TypeError(f"{func}: shapes must be a list of shapes, got {type(shapes).__name__}")
    checked = []
    for i, shape in enumerate(shapes):
        dims = shape if isinstance(shape, (tuple, list)) else (shape,)
        checked.append(
            tuple(validation.integer(func, f"shapes[{i}]", n, minimum=0) for n in dims)
        )
    if not checked:
        raise ValueError(f"{func}: shapes is empty; give one shape per parameter")
    return checked


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
