"""The lecture notes' one-dimensional gradient-descent demos, run with tinygrad_edu.optim.SGD.

    python examples/gradient_descent.py [--out examples/output]

The function is f(x) = x², minimum at x = 0 (the notes plot `func` without defining it; the
course's sample code uses np.square). The parameter x is a one-element Tensor; each step
computes f(x), calls backward() for df/dx = 2x and lets SGD update x:

    learning rate  lr in [0.001, 0.01, 0.1], x starts at 3, 5 steps        gd_learning_rate.png
    decay          lr_i = lr / (1 + decay * i), lr in [0.1, 0.3, 0.9, 0.99],
                   decay in [0.0, 0.01, 0.5, 0.9], x starts at -1, 10 steps  gd_decay.png
    momentum       v = momentum * v - lr * dx; x += v, lr in [0.01, 0.1, 0.6, 0.9],
                   momentum in [0.0, 0.1, 0.5, 0.9], x starts at -5, 10 steps gd_momentum.png

What to look for: a small rate crawls, a rate near 1 oscillates across the minimum (x² has
curvature 2, so x -> (1 - 2 lr) x); decay damps the oscillation; momentum speeds up a small
rate and overshoots with a large one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # files only: runs on a machine without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.optim import SGD  # noqa: E402

LINE_X = np.linspace(-5, 5, 100)
COLORS = ["k", "r", "g", "y"]


def func(x: Tensor) -> Tensor:
    """f(x) = x²."""
    return x * x


def descend(
    x_start: float, epochs: int, lr: float, momentum: float = 0.0, decay: float = 0.0
) -> np.ndarray:
    """x after each of `epochs` SGD steps on func, starting at x_start: shape (epochs + 1,)."""
    x = Tensor(float(x_start), requires_grad=True, name="x")
    optimizer = SGD([x], lr=lr, momentum=momentum, decay=decay)
    xs = [x.item()]
    for _ in range(epochs):
        optimizer.zero_grad()
        func(x).backward()
        optimizer.step()
        xs.append(x.item())
    return np.array(xs)


def plot_path(ax: plt.Axes, xs: np.ndarray, color: str, label: str) -> None:
    """The notes' picture: the curve, the path of x on it, the last point drawn larger."""
    ys = xs**2
    sizes = np.full(len(xs), 10)
    sizes[-1] = 70
    ax.plot(LINE_X, LINE_X**2, c="b", lw=1)
    ax.plot(xs, ys, c=color, label=label)
    ax.scatter(xs, ys, c=color, s=sizes)
    ax.legend(fontsize=7, loc="upper center")


def learning_rates(out: Path) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), num="Gradient Descent: Learning Rate")
    for ax, lr, color in zip(axes, [0.001, 0.01, 0.1], COLORS[1:]):
        xs = descend(3, 5, lr)
        plot_path(ax, xs, color, f"lr={lr}")
        print(f"learning rate  lr={lr:<5}                 x: 3 -> {xs[-1]: .5f}")
    return save(fig, out / "gd_learning_rate.png")


def grid(
    out: Path, name: str, x_start: float, rates: list[float], setting: str, values: list[float]
) -> Path:
    """One subplot per (learning rate, value of `setting`): rows are rates, columns values."""
    fig, axes = plt.subplots(
        len(rates), len(values), figsize=(13, 11), num=f"Gradient Descent: {name}"
    )
    for row, lr in enumerate(rates):
        for column, value in enumerate(values):
            xs = descend(x_start, 10, lr, **{setting: value})
            plot_path(axes[row, column], xs, COLORS[column], f"lr={lr}, {setting}={value}")
            print(f"{name:<14} lr={lr:<5} {setting}={value:<5}  x: {x_start} -> {xs[-1]: .5f}")
    return save(fig, out / f"gd_{setting}.png")


def save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output",
                        help="where to save the PNG files (default: examples/output)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    saved = [
        learning_rates(args.out),
        grid(args.out, "decay", -1, [0.1, 0.3, 0.9, 0.99], "decay", [0.0, 0.01, 0.5, 0.9]),
        grid(args.out, "momentum", -5, [0.01, 0.1, 0.6, 0.9], "momentum", [0.0, 0.1, 0.5, 0.9]),
    ]
    print(f"saved: {', '.join(str(p) for p in saved)}")
    return saved


if __name__ == "__main__":
    main()
