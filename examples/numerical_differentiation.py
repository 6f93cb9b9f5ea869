"""One-sided vs centered differences for f(θ) = θ³, as the step ε shrinks.

At θ = 1, ε = 0.01 (the lecture's numbers): forward (1.01³ - 1)/0.01 = 3.0301, centered
(1.01³ - 0.99³)/0.02 = 3.0001, exact 3. Taylor's series gives the truncation error at any θ:
forward (f(θ+ε) - f(θ))/ε = f' + 3θε + ε² (error O(ε): slope 1 on a log-log plot), centered
(f(θ+ε) - f(θ-ε))/2ε = f' + ε² (error O(ε²): slope 2). But f is computed with a rounding error
of about 1e-16·|f|, which the quotient divides by ε: below some step the rounding error,
~1e-16·|f|/ε (slope -1), takes over and a smaller step makes things worse. That happens near
ε ≈ 1e-8 for the forward difference and 1e-5 for the centered one, which is why gradcheck uses
the centered difference with ε around 1e-6, in float64.

The sweep is at θ = 1.3: at θ = 1 exactly, 1 + ε and (1 + ε)³ = 1 + 3ε + ... round so neatly
together (numerical_gradient divides by the step actually taken) that rounding never shows.

    python examples/numerical_differentiation.py [--out DIR]

prints the numbers and saves DIR/numerical_differentiation.png (default: examples/output/).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu.checks import numerical_gradient  # noqa: E402

THETA = 1.3  # the sweep's point; the lecture's numbers are at θ = 1
STEPS = np.logspace(-1, -14, 66)
ROUNDING = np.finfo(np.float64).eps


def cube(theta: np.ndarray) -> float:
    return float(theta[0] ** 3)


def errors(method: str, steps: np.ndarray = STEPS) -> np.ndarray:
    """|numerical - exact| derivative of θ³ at THETA, for each step."""
    theta, exact = np.array([THETA]), 3 * THETA**2
    return np.array([abs(numerical_gradient(cube, theta, eps=h, method=method)[0] - exact)
                     for h in steps])


def slope(steps: np.ndarray, error: np.ndarray, low: float, high: float) -> float:
    """The slope of log(error) against log(step) for steps in [low, high]."""
    chosen = (steps >= low) & (steps <= high) & (error > 0)
    return float(np.polyfit(np.log10(steps[chosen]), np.log10(error[chosen]), 1)[0])


def rounding_takes_over(error: np.ndarray, truncation: np.ndarray) -> float:
    """The largest step at which the error exceeds twice the truncation law alone."""
    above = np.flatnonzero(error > 2 * truncation)
    return float(STEPS[above[0]]) if above.size else float("nan")


def plot(forward: np.ndarray, central: np.ndarray, rounding_steps: dict[str, float],
         path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    shown = lambda e: np.where(e > 0, e, np.nan)  # noqa: E731  (exact zeros cannot be drawn)
    ax.loglog(STEPS, shown(forward), "o-", ms=3, label="forward  (f(θ+ε) - f(θ)) / ε")
    ax.loglog(STEPS, shown(central), "s-", ms=3, label="centered (f(θ+ε) - f(θ-ε)) / 2ε")
    ax.loglog(STEPS, 3 * THETA * STEPS, "k--", lw=0.8, label="3θε (slope 1)")
    ax.loglog(STEPS, STEPS**2, "k:", lw=0.8, label="ε² (slope 2)")
    ax.loglog(STEPS, ROUNDING * THETA**3 / STEPS, color="gray", lw=0.8,
              label="rounding ~ 2.2e-16·f/ε (slope -1)")
    for i, (method, step) in enumerate(rounding_steps.items()):
        ax.axvline(step, color=f"C{i}", lw=0.6, alpha=0.6)
        ax.text(step, 3.0, f" {method}: rounding\n takes over", color=f"C{i}", fontsize=7,
                va="top")
    ax.set_ylim(1e-17, 10)
    ax.set_xlabel("step ε")
    ax.set_ylabel(f"|numerical - exact| derivative of θ³ at θ = {THETA}")
    ax.set_title("Truncation error falls with ε until rounding takes over")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output",
                        help="folder for numerical_differentiation.png (created if missing)")
    args = parser.parse_args(argv)

    one = np.array([1.0])
    forward_lecture = numerical_gradient(cube, one, eps=0.01, method="forward")[0]
    central_lecture = numerical_gradient(cube, one, eps=0.01, method="central")[0]
    print("f(θ) = θ³ at θ = 1, ε = 0.01; exact derivative 3")
    print(f"  forward  (1.01³ - 1³) / 0.01      = {forward_lecture:.4f}   "
          f"error {forward_lecture - 3:.4f}   (3ε + ε²: O(ε))")
    print(f"  centered (1.01³ - 0.99³) / 0.02   = {central_lecture:.4f}   "
          f"error {central_lecture - 3:.4f}   (ε²: O(ε²))")

    forward, central = errors("forward"), errors("central")
    results = {
        "forward_lecture": forward_lecture,
        "central_lecture": central_lecture,
        "forward_slope": slope(STEPS, forward, 1e-4, 1e-1),
        "central_slope": slope(STEPS, central, 1e-3, 1e-1),
        "forward_rounding_step": rounding_takes_over(forward, 3 * THETA * STEPS + STEPS**2),
        "central_rounding_step": rounding_takes_over(central, STEPS**2),
    }
    print(f"\nerror against step on a log-log scale, at θ = {THETA}:")
    print(f"  forward:  slope {results['forward_slope']:.2f} for ε in [1e-4, 1e-1]"
          f" (truncation O(ε))")
    print(f"  centered: slope {results['central_slope']:.2f} for ε in [1e-3, 1e-1]"
          f" (truncation O(ε²))")
    f = THETA**3  # rounding error of the quotient ~ ε_machine·f/ε; truncation 3θε or ε²
    print("where rounding takes over (the error exceeds twice the truncation law, going down;"
          " theory: where truncation = ε_machine·f/ε):")
    print(f"  forward:  below ε ≈ {results['forward_rounding_step']:.1e}"
          f" (theory: 3θε = ε_machine·f/ε at ε ≈ {np.sqrt(ROUNDING * f / (3 * THETA)):.1e})")
    print(f"  centered: below ε ≈ {results['central_rounding_step']:.1e}"
          f" (theory: ε² = ε_machine·f/ε at ε ≈ {np.cbrt(ROUNDING * f):.1e})")
    print(f"  at ε = 1e-12: forward error {errors('forward', np.array([1e-12]))[0]:.1e}, "
          f"centered {errors('central', np.array([1e-12]))[0]:.1e}: smaller is not better")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "numerical_differentiation.png"
    plot(forward, central, {"forward": results["forward_rounding_step"],
                            "central": results["central_rounding_step"]}, path)
    print(f"\nplot saved to {path}")
    return results


if __name__ == "__main__":
    main()
