"""Train two linear classifiers on the 8x8 digits, softmax and SVM, against random search.

    python examples/train_digits.py [--out examples/output] [--epochs 30] [--seed 0] [--no-graph]

1. Data: scikit-learn's bundled digits (1797 images of 64 pixels, 10 classes; no download),
   split 80/20 (stratified, fixed random_state) and standardised with the training split's
   mean and standard deviation.
2. Before training, gradcheck the full loss (data loss + L2 penalty) with respect to W and b
   on a small batch: the gradients SGD will follow are checked against finite differences.
3. Train scores = X @ W + b with the softmax and with the SVM loss: minibatch SGD with
   momentum, learning-rate decay and a small L2 penalty.
4. The notes' "very bad idea" for contrast: random search over W, b (best of 1000 draws).
5. Print train and test accuracy of all three; save the loss curves (loss_curves.png) and the
   computation graph of one loss (loss_graph.svg / .png) into --out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import matplotlib

matplotlib.use("Agg")  # files only: runs on a machine without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.checks import gradcheck  # noqa: E402
from tinygrad_edu.losses import softmax_cross_entropy, svm_loss  # noqa: E402
from tinygrad_edu.nn import LinearClassifier  # noqa: E402
from tinygrad_edu.optim import SGD, Optimizer, random_search  # noqa: E402
from tinygrad_edu.regularizers import l2  # noqa: E402
from tinygrad_edu.viz import draw_graph, render_graph  # noqa: E402

Loss = Callable[[Tensor, np.ndarray], Tensor]

REG = 1e-3  # L2 strength: loss = data loss + REG * sum(W^2)
MOMENTUM = 0.9
DECAY = 1e-3  # per step: lr_i = lr / (1 + DECAY * i)
BATCH_SIZE = 64
# (name, loss, starting learning rate). At the start all 9 wrong classes violate the margin,
# so the hinge loss's gradient is up to 9 times the softmax's: the SVM wants the smaller step.
CLASSIFIERS: list[tuple[str, Loss, float]] = [
    ("softmax", softmax_cross_entropy, 0.05),
    ("SVM", svm_loss, 0.01),
]
TARGETS = {"softmax": 0.955, "SVM": 0.92}  # test accuracy this example must reach


class Data(NamedTuple):
    X_train: np.ndarray  # (N_train, 64), standardised
    X_test: np.ndarray  # (N_test, 64), standardised with the training statistics
    y_train: np.ndarray  # (N_train,) class indices 0..9
    y_test: np.ndarray


class Result(NamedTuple):
    name: str
    train_accuracy: float
    test_accuracy: float
    final_loss: float


def load_data() -> Data:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y  # the same split on every run
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0  # pixels that are blank in every training image stay 0
    return Data((X_train - mean) / std, (X_test - mean) / std, y_train, y_test)


def objective(loss_fn: Loss, scores: Tensor, W: Tensor, y: np.ndarray) -> Tensor:
    """What SGD minimises: the data loss of the (N, 10) scores, plus REG * sum(W^2) (b is not
    penalised)."""
    return loss_fn(scores, y) + REG * l2(W)


def check_gradients(data: Data, seed: int) -> None:
    """gradcheck both losses with respect to W and b on 8 training examples (float64)."""
    model = LinearClassifier(64, 10, seed=seed)
    X, y = data.X_train[:8], data.y_train[:8]
    for name, loss_fn, _ in CLASSIFIERS:
        W = Tensor(model.W.data, requires_grad=True, name="W")
        b = Tensor(np.random.default_rng(seed).normal(size=10), requires_grad=True, name="b")
        gradcheck(lambda W, b: objective(loss_fn, X @ W + b, W, y), [W, b])
        print(f"gradcheck passed: {name} loss + L2 w.r.t. W {W.shape} and b {b.shape}")


def accuracy(model: LinearClassifier, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(X) == y))


def evaluate(name: str, model: LinearClassifier, data: Data, final_loss: float) -> Result:
    return Result(
        name,
        accuracy(model, data.X_train, data.y_train),
        accuracy(model, data.X_test, data.y_test),
        final_loss,
    )


def train_one_epoch(
    batch_loss: Callable[[np.ndarray, np.ndarray], Tensor], optimizer: Optimizer, data: Data,
    rng: np.random.Generator,
) -> float:
    """One pass over the training split in minibatches of BATCH_SIZE, in an order drawn from
    rng: batch_loss(X, y), backward, optimizer step. Returns the mean training loss."""
    n = len(data.y_train)
    order = rng.permutation(n)
    total = 0.0
    for start in range(0, n, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        loss = batch_loss(data.X_train[batch], data.y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / n


def train(
    name: str, loss_fn: Loss, lr: float, data: Data, epochs: int, seed: int
) -> tuple[LinearClassifier, list[float]]:
    """Minibatch SGD; returns the model and the mean training loss of each epoch."""
    model = LinearClassifier(64, 10, seed=seed)
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM, decay=DECAY)
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        history.append(train_one_epoch(
            lambda X, y: objective(loss_fn, model(X), model.W, y), optimizer, data, rng))
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            train_accuracy = accuracy(model, data.X_train, data.y_train)
            print(
                f"{name:>7} epoch {epoch:3d}/{epochs}  loss {history[-1]:.4f}  "
                f"lr {optimizer.current_lr:.4f}  train acc {train_accuracy:.4f}"
            )
    return model, history


def random_search_baseline(data: Data, seed: int) -> tuple[Result, np.ndarray]:
    """The notes' Strategy #1: of 1000 random (W, b) = 1e-4 * N(0, 1), keep the one with the
    lowest softmax loss on the training set."""

    def loss_fn(W: np.ndarray, b: np.ndarray) -> Tensor:
        return softmax_cross_entropy(data.X_train @ W + b, data.y_train)

    shapes = [(64, 10), (10,)]
    params, loss, history = random_search(loss_fn, shapes, trials=1000, scale=1e-4, seed=seed)
    model = LinearClassifier(64, 10)
    model.W.copy_(params[0])
    model.b.copy_(params[1])
    return evaluate("random search", model, data, loss), history


def save_loss_curves(
    histories: dict[str, list[float]], search_history: np.ndarray, path: Path
) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in histories.items():
        epochs = range(1, len(history) + 1)
        left.plot(epochs, history, marker="o", markersize=3, label=f"{name} + SGD")
    left.set(xlabel="epoch", ylabel="training loss (data + L2)", yscale="log",
             title="SGD with momentum")
    left.legend()
    trials = np.arange(1, len(search_history) + 1)
    right.plot(trials, np.minimum.accumulate(search_history), c="k")
    right.set(xlabel="trial", ylabel="best softmax loss so far", xscale="log",
              title="random search")
    right.ticklabel_format(axis="y", useOffset=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_graph(data: Data, model: LinearClassifier, out: Path) -> list[Path]:
    """Draw the graph of one full loss (softmax on 4 examples + L2) after its backward pass."""
    X = Tensor(data.X_train[:4], name="X")
    loss = objective(softmax_cross_entropy, model(X), model.W, data.y_train[:4])
    model.W.grad = model.b.grad = None
    loss.backward()  # so the drawing shows the gradient norms of W and b
    digraph = draw_graph(loss)
    return [Path(render_graph(digraph, str(out / "loss_graph"), format=f)) for f in ("svg", "png")]


def print_summary(results: list[Result]) -> None:
    print(f"\n{'model':<16}{'train acc':>10}{'test acc':>10}{'final loss':>12}   target (test)")
    for r in results:
        target = TARGETS.get(r.name.split()[0])
        verdict = ""
        if target is not None:
            verdict = f">= {target}  {'ok' if r.test_accuracy >= target else 'MISSED'}"
        print(
            f"{r.name:<16}{r.train_accuracy:>10.4f}{r.test_accuracy:>10.4f}"
            f"{r.final_loss:>12.4f}   {verdict}"
        )


def parse_arguments(
    argv: Sequence[str] | None, description: str | None, *, saves: str, seeds: str
) -> argparse.Namespace:
    """--out (created), --epochs, --seed, --no-graph: the options of the digits examples.
    `saves` and `seeds` complete the help of --out and --seed."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output",
                        help=f"where to save {saves} (default: examples/output)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0, help=f"seeds {seeds} (the split is fixed)")
    parser.add_argument("--no-graph", action="store_true",
                        help="skip drawing the computation graph")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def load_data_and_describe() -> Data:
    """load_data(), with a line saying what was loaded."""
    data = load_data()
    print(f"digits: {len(data.y_train)} training and {len(data.y_test)} test images "
          "of 64 pixels, 10 classes")
    return data


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_arguments(
        argv, __doc__, saves="the PNG/SVG files",
        seeds="the initial weights, the minibatch order and random search",
    )
    started = time.perf_counter()

    data = load_data_and_describe()
    check_gradients(data, args.seed)

    results, histories, models = [], {}, {}
    for name, loss_fn, lr in CLASSIFIERS:
        models[name], histories[name] = train(name, loss_fn, lr, data, args.epochs, args.seed)
        results.append(evaluate(f"{name} + SGD", models[name], data, histories[name][-1]))
    search, search_history = random_search_baseline(data, args.seed)
    results.append(search)

    saved = [args.out / "loss_curves.png"]
    save_loss_curves(histories, search_history, saved[0])
    if not args.no_graph:
        saved += save_graph(data, models["softmax"], args.out)
    print_summary(results)
    print(f"\nsaved: {', '.join(str(p) for p in saved)}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return results


if __name__ == "__main__":
    main()
