"""Draw a linear classifier's loss graph, and the op gradcheck blames for a planted bug.

    python examples/draw_graph.py [--out DIR]

Writes (by default into docs/):
  graph.png          the loss graph after backward: X @ W + b, a softmax cross-entropy written
                     with Tensor ops, plus an L2 penalty; gradient norms on W and b; a legend
  graph_culprit.png  the same loss with the penalty computed by a user's `Square` op whose
                     backward forgets the factor 2: gradcheck fails, and its culprit is drawn red

Needs Graphviz's `dot` (sudo apt-get install graphviz, or brew install graphviz).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import GradcheckError, gradcheck
from tinygrad_edu.viz import draw_graph, render_graph

NUM_SAMPLES, NUM_FEATURES, NUM_CLASSES = 6, 4, 3
REG = 0.05


class Square(Function):
    """x ** 2 elementwise, with a planted bug: the backward forgets the factor 2."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * x  # should be grad * 2 * x


def softmax_loss(X: Tensor, W: Tensor, b: Tensor, y: np.ndarray, penalty: Tensor) -> Tensor:
    """Mean softmax cross-entropy of the scores X @ W + b, plus REG * penalty."""
    scores = X @ W + b
    shifted = scores - scores.max(axis=1, keepdims=True)  # numerically stable softmax
    log_sum_exp = shifted.exp().sum(axis=1).log()
    data_loss = (log_sum_exp - shifted[np.arange(len(y)), y]).mean()
    return data_loss + REG * penalty


def make_problem(seed: int = 0) -> tuple[Tensor, Tensor, Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = Tensor(rng.normal(size=(NUM_SAMPLES, NUM_FEATURES)), name="X")
    W = Tensor(0.1 * rng.normal(size=(NUM_FEATURES, NUM_CLASSES)), requires_grad=True, name="W")
    b = Tensor(np.zeros(NUM_CLASSES), requires_grad=True, name="b")
    y = rng.integers(0, NUM_CLASSES, size=NUM_SAMPLES)
    return X, W, b, y


def draw_loss_graph(out: Path) -> str:
    X, W, b, y = make_problem()
    loss = softmax_loss(X, W, b, y, penalty=(W * W).sum())
    loss.backward()
    digraph = draw_graph(loss, legend=True, rankdir="TB")  # tall rather than wide, for a README
    return render_graph(digraph, out / "graph.png", format="png")


def draw_culprit_graph(out: Path) -> str:
    X, W, b, y = make_problem()

    def loss_fn(W: Tensor, b: Tensor) -> Tensor:
        return softmax_loss(X, W, b, y, penalty=Square.apply(W).sum())

    try:
        gradcheck(loss_fn, (W, b))
    except GradcheckError as error:
        for culprit in error.report.culprits:
            print(f"gradcheck blames {culprit.op} (input {culprit.input_index}): "
                  f"relative error {culprit.rel_error:.3g}")
        # Drawn on gradcheck's own evaluation, so the culprit is matched node for node.
        digraph = draw_graph(error.report.output, highlight=error, show_grad=False, rankdir="TB")
        return render_graph(digraph, out / "graph_culprit.png", format="png")
    raise AssertionError("the planted bug in Square.backward should have failed gradcheck")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parent.parent / "docs"
    parser.add_argument("--out", type=Path, default=default, help=f"directory (default {default})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        written = [draw_loss_graph(args.out), draw_culprit_graph(args.out)]
    except RuntimeError as error:  # render_graph's message says what to install
        raise SystemExit(str(error)) from error
    for path in written:
        print("wrote", path)


if __name__ == "__main__":
    main()
