"""Train a two-layer network (64 -> 100 ReLU -> 10) on the 8x8 digits, with SGD-momentum and with
Adam, next to the linear classifiers of train_digits.py.

    python examples/train_mlp.py [--out examples/output] [--epochs 30] [--seed 0] [--no-graph]

1. Data: the digits example's 80/20 stratified split, standardised with the training split's
   statistics (`load_data` of train_digits.py).
2. Before training, gradcheck the whole objective (cross-entropy + L2 on both weight
   matrices) with respect to all four parameters of the network, on 8 training examples: the
   model's own forward is checked, called on the checker's copies of its parameters.
3. Train the network twice from the same initial weights, minibatch SGD with momentum and
   Adam, and the two linear classifiers with train_digits.py's settings, recording the
   training loss and the test accuracy after every epoch.
4. Save the trained network's state dict with `tinygrad_edu.save`, load it into a fresh
   network with `tinygrad_edu.load` and check that it predicts the same classes.
5. Print train and test accuracy of all four; save the loss and accuracy curves
   (mlp_curves.png), the network's graph (mlp_graph.svg / .png) and the state dict
   (mlp_state.npz) into --out.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")  # files only: runs on a machine without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # train_digits.py, beside this file

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402
from tinygrad_edu.checks import gradcheck  # noqa: E402
from tinygrad_edu.losses import softmax_cross_entropy  # noqa: E402
from tinygrad_edu.nn import Linear, LinearClassifier, Module, ReLU, Sequential  # noqa: E402
from tinygrad_edu.optim import SGD, Adam, Optimizer  # noqa: E402
from tinygrad_edu.regularizers import l2  # noqa: E402
from tinygrad_edu.viz import draw_graph, render_graph  # noqa: E402
from train_digits import (  # noqa: E402
    CLASSIFIERS,
    DECAY,
    MOMENTUM,
    REG,
    Data,
    load_data_and_describe,
    parse_arguments,
    train_one_epoch,
)
from train_digits import objective as linear_objective  # noqa: E402

HIDDEN = 100
# (name, optimizer factory). The same initial weights for both.
OPTIMIZERS: list[tuple[str, Callable[[list[Tensor]], Optimizer]]] = [
    ("SGD-momentum", lambda params: SGD(params, lr=0.05, momentum=MOMENTUM, decay=DECAY)),
    ("Adam", lambda params: Adam(params, lr=2e-3)),
]
TARGET = 0.97  # test accuracy both networks must reach

Objective = Callable[[Module, Any, np.ndarray], Tensor]  # (model, X array or Tensor, y)


class Run(NamedTuple):
    name: str
    losses: list[float]  # mean training objective of each epoch
    test_accuracies: list[float]  # after each epoch
    train_accuracy: float  # after the last epoch
    seconds: float  # training time


def network(seed: int) -> Sequential:
    """64 -> 100 ReLU -> 10: PyTorch's layout and initialisation, parameters named as its."""
    return Sequential(Linear(64, HIDDEN, seed=seed), ReLU(), Linear(HIDDEN, 10, seed=seed + 1))


def mlp_objective(model: Module, X: Any, y: np.ndarray) -> Tensor:
    """What the optimizers minimise: mean cross-entropy of the (N, 10) scores plus REG (the
    digits example's) times the squared weights of both layers (biases are not penalised)."""
    weights = [t for name, t in model.named_parameters() if name.endswith("weight")]
    return softmax_cross_entropy(model(X), y) + REG * l2(weights)


def linear_classifier_objective(loss_fn: Any) -> Objective:
    def objective(model: Module, X: Any, y: np.ndarray) -> Tensor:
        assert isinstance(model, LinearClassifier)
        return linear_objective(loss_fn, model(X), model.W, y)

    return objective


@contextmanager
def parameters_replaced(model: Module, tensors: Sequence[Tensor]) -> Iterator[Module]:
    """The model with its parameters swapped for `tensors` (in `model.parameters()` order)
    for the duration of the block, as torch.func.functional_call: so a checker can call the
    model's own forward on its copies of the parameters."""
    slots = []
    for name, _ in model.named_parameters():
        *path, attribute = name.split(".")
        owner: Any = model
        for part in path:
            owner = owner[int(part)] if isinstance(owner, Sequential) else getattr(owner, part)
        slots.append((owner, attribute, getattr(owner, attribute)))
    try:
        for (owner, attribute, _), tensor in zip(slots, tensors):
            setattr(owner, attribute, tensor)
        yield model
    finally:
        for owner, attribute, original in slots:
            setattr(owner, attribute, original)


def check_gradients(data: Data, seed: int) -> None:
    """gradcheck the objective w.r.t. every parameter of the network on 8 training examples."""
    model = network(seed)
    X, y = data.X_train[:8], data.y_train[:8]

    def fn(*params: Tensor) -> Tensor:
        with parameters_replaced(model, params) as replaced:
            return mlp_objective(replaced, X, y)

    gradcheck(fn, model.parameters())
    shapes = ", ".join(f"{name} {t.shape}" for name, t in model.named_parameters())
    print(f"gradcheck passed: cross-entropy + L2 of the network w.r.t. {shapes}")


def predict(model: Module, X: np.ndarray) -> np.ndarray:
    """The predicted class of each row of X (no graph is built)."""
    with no_grad():
        scores: Tensor = model(X)
    return scores.data.argmax(axis=-1)


def accuracy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, X) == y))


def fit(
    name: str, model: Module, objective: Objective, optimizer: Optimizer, data: Data,
    epochs: int, seed: int,
) -> Run:
    """Minibatch training, the digits example's loop; records loss and test accuracy."""
    rng = np.random.default_rng(seed)
    losses, test_accuracies = [], []
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        # tg.as_tensor: no copy, the batch is fresh every step
        losses.append(train_one_epoch(
            lambda X, y: objective(model, tg.as_tensor(X), y), optimizer, data, rng))
        test_accuracies.append(accuracy(model, data.X_test, data.y_test))
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            print(f"{name:>22} epoch {epoch:3d}/{epochs}  loss {losses[-1]:.4f}  "
                  f"test acc {test_accuracies[-1]:.4f}")
    seconds = time.perf_counter() - started
    return Run(name, losses, test_accuracies, accuracy(model, data.X_train, data.y_train), seconds)


def train_networks(data: Data, epochs: int, seed: int) -> tuple[list[Run], Sequential]:
    """The network trained by each optimizer from the same start; returns the runs and the
    last trained network."""
    runs, model = [], network(seed)
    for name, make_optimizer in OPTIMIZERS:
        model = network(seed)
        optimizer = make_optimizer(model.parameters())
        runs.append(fit(f"MLP + {name}", model, mlp_objective, optimizer, data, epochs, seed))
    return runs, model


def train_linear_classifiers(data: Data, epochs: int, seed: int) -> list[Run]:
    """train_digits.py's two linear classifiers, with its settings and its loop."""
    runs = []
    for name, loss_fn, lr in CLASSIFIERS:
        model = LinearClassifier(64, 10, seed=seed)
        optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM, decay=DECAY)
        objective = linear_classifier_objective(loss_fn)
        runs.append(fit(f"linear {name} + SGD", model, objective, optimizer, data, epochs, seed))
    return runs


def save_and_reload(model: Sequential, data: Data, path: Path, seed: int) -> None:
    """Save the state dict, load it into a fresh network, compare the predictions."""
    tg.save(model.state_dict(), path)
    fresh = network(seed + 100)  # other initial weights: the loaded state must replace them
    fresh.load_state_dict(tg.load(path))
    same = bool(np.array_equal(predict(fresh, data.X_test), predict(model, data.X_test)))
    names = ", ".join(model.state_dict())
    print(f"state dict saved to {path.name} ({names}) and loaded into a fresh network: "
          f"{'same' if same else 'DIFFERENT'} test predictions")
    if not same:
        raise RuntimeError("the reloaded network predicts differently")


def save_curves(runs: list[Run], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        style = {"ls": "-" if run.name.startswith("MLP") else "--", "marker": "o", "markersize": 2}
        epochs = range(1, len(run.losses) + 1)
        left.plot(epochs, run.losses, label=run.name, **style)
        right.plot(epochs, run.test_accuracies, label=run.name, **style)
    left.set(xlabel="epoch", ylabel="training loss (data + L2)", yscale="log",
             title="training loss")
    right.axhline(TARGET, c="grey", lw=0.8, ls=":")
    right.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.8, 1.0),
              title="test accuracy (dotted: the MLP's target)")
    left.legend()
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_graph(data: Data, model: Sequential, out: Path) -> list[Path]:
    """Draw the graph of one full objective (4 examples) after its backward pass."""
    for name, parameter in model.named_parameters():
        parameter.name = name  # "0.weight" rather than the layer's own "weight"
    X = Tensor(data.X_train[:4], name="X")
    loss = mlp_objective(model, X, data.y_train[:4])
    model.zero_grad()
    loss.backward()  # so the drawing shows the gradient norms of the parameters
    digraph = draw_graph(loss)
    return [Path(render_graph(digraph, str(out / "mlp_graph"), format=f)) for f in ("svg", "png")]


def print_summary(runs: list[Run]) -> None:
    print(f"\n{'model':<24}{'train acc':>10}{'test acc':>10}{'final loss':>12}{'time':>8}"
          "   target (test)")
    for run in runs:
        verdict = ""
        if run.name.startswith("MLP"):
            verdict = f">= {TARGET}  {'ok' if run.test_accuracies[-1] >= TARGET else 'MISSED'}"
        print(f"{run.name:<24}{run.train_accuracy:>10.4f}{run.test_accuracies[-1]:>10.4f}"
              f"{run.losses[-1]:>12.4f}{run.seconds:>7.2f}s   {verdict}")


def main(argv: Sequence[str] | None = None) -> list[Run]:
    args = parse_arguments(
        argv, __doc__, saves="the figures and the state dict",
        seeds="the initial weights and the minibatch order",
    )
    started = time.perf_counter()

    data = load_data_and_describe()
    model = network(args.seed)
    print(model)
    check_gradients(data, args.seed)

    runs, trained = train_networks(data, args.epochs, args.seed)
    runs += train_linear_classifiers(data, args.epochs, args.seed)
    save_and_reload(trained, data, args.out / "mlp_state.npz", args.seed)

    saved = [args.out / "mlp_curves.png"]
    save_curves(runs, saved[0])
    if not args.no_graph:
        saved += save_graph(data, trained, args.out)
    print_summary(runs)
    print(f"\nsaved: {', '.join(str(p) for p in saved + [args.out / 'mlp_state.npz'])}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return runs


if __name__ == "__main__":
    main()
