"""Derivatives of derivatives: the lecture's f(θ) = θ³ to third order, and Newton's method
against gradient descent with momentum on a small logistic regression.

1. f(θ) = θ³ at θ = 1. `tinygrad_edu.grad(..., create_graph=True)` returns f'(θ) = 3θ² as a
   recorded Tensor, so it can be differentiated again: f''(1) = 6, f'''(1) = 6. Checked
   against finite differences of the first derivative with the lecture's ε = 0.01:
   (f'(1.01) - f'(0.99)) / 0.02 and (f'(1.01) - 2 f'(1) + f'(0.99)) / 0.01² (both exact for a
   quadratic f', up to rounding), and f'(1) against the lecture's centered difference of f,
   (1.01³ - 0.99³) / 0.02 = 3.0001.

2. Logistic regression on 200 made-up examples (2 features of different scales plus a bias,
   labels drawn from the model, so no separating line makes the loss 0), with an L2 penalty:

       L(w) = mean(log(1 + exp(x·w)) - y x·w) + λ/2 ||w||²,   y in {0, 1}

   Newton's method, w <- w - H⁻¹ ∇L with H = functional.hessian(L, w), against the lecture's
   gradient descent with momentum (tinygrad_edu.optim.SGD: v = βv - lr ∇L; w += v) and
   without it, at lr = 1/(the largest curvature L can have), all from w = 0 and stopped once
   ||∇L|| < 1e-8. Newton needs a handful of iterations (quadratic convergence near the
   minimum), gradient descent hundreds.

   Why log(1 + exp(z)) and not the overflow-safe max(z, 0) + log(1 + exp(-|z|)): both have
   the same gradient, but at z = 0 (every example, at w = 0) the safe form's second
   derivative comes from the kink conventions of max and abs (0 there, instead of 1/4), so
   its Hessian at the start is λI and Newton's first step flies off. |z| stays small here.

    python examples/second_order.py [--out DIR]

prints the numbers and saves DIR/second_order.png (default: docs/).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.functional import hessian  # noqa: E402
from tinygrad_edu.optim import SGD  # noqa: E402
from tinygrad_edu.regularizers import l2  # noqa: E402

EPS = 0.01  # the lecture's step
TOLERANCE = 1e-8  # stop once ||∇L|| is below this
LAMBDA = 1e-2  # L2 strength
MOMENTUM = 0.9
MAX_ITERATIONS = 5000

Loss = Callable[[Tensor], Tensor]

# --------------------------------------------------------------------------- 1. θ³


def cube_derivatives(theta: float, order: int = 3) -> list[float]:
    """f(θ), f'(θ), ... up to the order-th derivative of f(θ) = θ³, each by differentiating
    the last."""
    t = Tensor(theta, requires_grad=True)
    value = t**3
    found = [value.item()]
    for _ in range(order):
        (derivative,) = tg.grad(value, t, create_graph=True)
        assert derivative is not None  # t is used: grad returns a Tensor for it
        value = derivative
        found.append(value.item())
    return found


def first_derivative(theta: float) -> float:
    return cube_derivatives(theta, order=1)[1]


def cube_report(theta: float = 1.0) -> dict[str, float]:
    _, d1, d2, d3 = cube_derivatives(theta)
    f = lambda s: s**3  # noqa: E731
    g = first_derivative
    return {
        "first": d1, "second": d2, "third": d3,
        "fd_first": (f(theta + EPS) - f(theta - EPS)) / (2 * EPS),
        "fd_second": (g(theta + EPS) - g(theta - EPS)) / (2 * EPS),
        "fd_third": (g(theta + EPS) - 2 * d1 + g(theta - EPS)) / EPS**2,
    }


# --------------------------------------------------------------------------- 2. logistic regression


def logistic_problem(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 3): two features (scales 1 and 4) and a column of ones; y (n,) in {0, 1}."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 2)) * np.array([1.0, 4.0])
    X = np.hstack([features, np.ones((n, 1))])
    w_true = np.array([1.5, -0.5, 0.5])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w_true))).astype(np.float64)
    return X, y


def make_loss(X: np.ndarray, y: np.ndarray) -> Loss:
    """L(w) for w a Tensor of shape (3,): a one-element Tensor."""
    Xt, yt = Tensor(X), Tensor(y)

    def loss(w: Tensor) -> Tensor:
        z = Xt @ w
        return ((1.0 + z.exp()).log() - yt * z).mean() + LAMBDA / 2 * l2(w)

    return loss


def newton(loss: Loss, w0: np.ndarray) -> tuple[list[float], np.ndarray]:
    """||∇L|| at each iterate of Newton's method until it is below TOLERANCE; the last w."""
    w = Tensor(w0.copy(), requires_grad=True, name="w")
    norms = []
    for _ in range(MAX_ITERATIONS):
        (gradient,) = tg.grad(loss(w), w)
        assert gradient is not None  # w is used: grad returns a Tensor for it
        g = gradient.data
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < TOLERANCE:
            break
        H = hessian(loss, w).data  # (3, 3)
        with tg.no_grad():
            w.sub_(np.linalg.solve(H, g))
    return norms, w.data.copy()


def descent(loss: Loss, w0: np.ndarray, lr: float, momentum: float
            ) -> tuple[list[float], np.ndarray]:
    """||∇L|| at each iterate of SGD (full batch) until it is below TOLERANCE; the last w."""
    w = Tensor(w0.copy(), requires_grad=True, name="w")
    optimizer = SGD([w], lr=lr, momentum=momentum)
    norms = []
    for _ in range(MAX_ITERATIONS):
        optimizer.zero_grad()
        loss(w).backward()
        assert w.grad is not None  # backward set it
        norms.append(float(np.linalg.norm(w.grad)))
        if norms[-1] < TOLERANCE:
            break
        optimizer.step()
    return norms, w.data.copy()


# --------------------------------------------------------------------------- plot and main


def plot(report: dict[str, float], runs: dict[str, list[float]], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    thetas = np.linspace(-1.5, 1.5, 61)
    curves = np.array([cube_derivatives(t) for t in thetas])
    for k, label in enumerate(["f(θ) = θ³", "f'(θ) = 3θ²", "f''(θ) = 6θ", "f'''(θ) = 6"]):
        left.plot(thetas, curves[:, k], label=label + "  (tinygrad_edu.grad)")
    left.plot([1.0] * 3, [report["fd_first"], report["fd_second"], report["fd_third"]], "kx",
              ms=9, label=f"finite differences at θ = 1 (ε = {EPS})")
    left.axvline(1.0, color="gray", lw=0.6)
    left.set_xlabel("θ")
    left.set_title("θ³ and its derivatives, to third order")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for label, norms in runs.items():
        right.semilogy(range(len(norms)), norms, "o-" if len(norms) < 20 else "-", ms=4,
                       label=f"{label}: {len(norms) - 1} iterations")
    right.axhline(TOLERANCE, color="k", ls="--", lw=0.8, label=f"stop: ||∇L|| < {TOLERANCE:g}")
    right.set_xscale("symlog", linthresh=10)  # Newton's few steps and descent's hundreds
    right.set_xlim(left=0)
    right.set_xlabel("iteration")
    right.set_ylabel("||∇L(w)||")
    right.set_title("Logistic regression: Newton vs gradient descent")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs",
                        help="folder for second_order.png (created if missing)")
    args = parser.parse_args(argv)

    report = cube_report(1.0)
    print("f(θ) = θ³ at θ = 1: autodiff (tinygrad_edu.grad, create_graph=True) against finite "
          f"differences (ε = {EPS})")
    print(f"  f'(1)   = {report['first']:.4f}   (f(1.01) - f(0.99)) / 0.02             = "
          f"{report['fd_first']:.4f}   exact 3")
    print(f"  f''(1)  = {report['second']:.4f}   (f'(1.01) - f'(0.99)) / 0.02           = "
          f"{report['fd_second']:.4f}   exact 6")
    print(f"  f'''(1) = {report['third']:.4f}   (f'(1.01) - 2f'(1) + f'(0.99)) / 0.01² = "
          f"{report['fd_third']:.4f}   exact 6")

    X, y = logistic_problem()
    loss = make_loss(X, y)
    curvature = float(np.linalg.eigvalsh(X.T @ X).max()) / (4 * len(y)) + LAMBDA  # σ' <= 1/4
    lr = 1.0 / curvature
    w0 = np.zeros(X.shape[1])
    newton_norms, w_newton = newton(loss, w0)
    momentum_norms, w_momentum = descent(loss, w0, lr, MOMENTUM)
    plain_norms, w_plain = descent(loss, w0, lr, 0.0)
    print(f"\nlogistic regression: {len(y)} examples, 2 features + bias, L2 λ = {LAMBDA}; from "
          f"w = 0 until ||∇L|| < {TOLERANCE:g}")
    rows = [
        ("Newton's method (H from functional.hessian)", newton_norms),
        (f"gradient descent, momentum {MOMENTUM} (SGD, lr = {lr:.3f})", momentum_norms),
        (f"gradient descent, no momentum (SGD, lr = {lr:.3f})", plain_norms),
    ]
    for label, norms in rows:
        print(f"  {label:<52} {len(norms) - 1:>5} iterations")
    print(f"  the same minimum: w = {np.array2string(w_newton, precision=6)}, loss "
          f"{loss(Tensor(w_newton)).item():.6f}; largest difference between the three "
          f"{max(np.abs(w_momentum - w_newton).max(), np.abs(w_plain - w_newton).max()):.1e}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "second_order.png"
    plot(report, {"Newton": newton_norms, f"momentum {MOMENTUM}": momentum_norms,
                  "no momentum": plain_norms}, path)
    print(f"\nplot saved to {path}")
    return {
        **report,
        "newton_iterations": len(newton_norms) - 1,
        "momentum_iterations": len(momentum_norms) - 1,
        "plain_iterations": len(plain_norms) - 1,
        "difference": float(max(np.abs(w_momentum - w_newton).max(),
                                np.abs(w_plain - w_newton).max())),
    }


if __name__ == "__main__":
    main()
