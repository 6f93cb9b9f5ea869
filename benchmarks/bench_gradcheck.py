"""What gradcheck costs, in units of the function it checks.

1. Full gradcheck of a softmax classifier's loss with respect to W (100, 10): it needs
   2·numel = 2000 evaluations of the loss, so the floor is the time of 2000 forward passes under
   no_grad. Printed: (gradcheck time) / (time of those 2000 forwards). Target <= 1.3.
2. fast_mode on a 30,000-element input: gradcheck time / (time of one forward under no_grad,
   timed as a tenth of ten). Target <= ~20. Also printed: the minor page faults per check and
   per forward. A check allocates arrays of the input's size that the timed forward loop
   reuses; where the C allocator returns freed memory to the system (glibc trims the heap top)
   and a page fault is slow (virtual machines, sandboxes), that fresh memory dominates the
   ratio: compare with MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=100000000 in
   the environment, which keeps freed memory for reuse.
3. gradgradcheck with fast_mode on the same function: its time / (time of one evaluation of
   the first derivative it checks, g(x) = grad(f(x), x, create_graph=True), timed likewise).

The two timings of each pair run back to back, pair after pair in alternating order (see
_timing.py), so that noise from other processes hits both alike; the ratio of each pair is
taken and the median printed.

    python benchmarks/bench_gradcheck.py [--pairs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import alternate, machine_note, time_calls  # noqa: E402
from tinygrad_edu import Tensor, grad, no_grad  # noqa: E402
from tinygrad_edu.checks import check_gradients  # noqa: E402
from tinygrad_edu.checks.gradgrad import check_second_derivatives  # noqa: E402

FULL_TARGET, FAST_TARGET = 1.3, 20.0


def softmax_loss(X: Tensor, labels: np.ndarray) -> Callable[[Tensor], Tensor]:
    """Mean softmax cross-entropy of scores X @ W, written with Tensor ops."""
    rows = np.arange(len(labels))

    def loss(W: Tensor) -> Tensor:
        scores = X @ W
        shifted = scores - scores.max(axis=1, keepdims=True)  # for exp's sake; no kink in value
        log_normalizer = shifted.exp().sum(axis=1).log()
        return (log_normalizer - shifted[rows, labels]).mean()

    return loss


def elementwise_model(c: Tensor) -> Callable[[Tensor], Tensor]:
    """A scalar function of a large input: sum(c · exp(x)) + mean(x²)."""

    def f(x: Tensor) -> Tensor:
        return (x.exp() * c).sum() + (x * x).mean()

    return f


def forwards(fn: Callable[[Tensor], Tensor], x: Tensor, count: int) -> Callable[[], None]:
    def run() -> None:
        with no_grad():
            for _ in range(count):
                fn(x)

    return run


def paired_ratios(numerator: Callable[[], object], denominator: Callable[[], object],
                  pairs: int) -> list[float]:
    """time(numerator) / time(denominator), pair by pair."""
    times = alternate(
        {"top": lambda: time_calls(numerator), "bottom": lambda: time_calls(denominator)},
        rounds=pairs,
    )
    return [top / bottom for top, bottom in zip(times["top"], times["bottom"])]


def bench_full(pairs: int) -> float:
    rng = np.random.default_rng(0)
    X = Tensor(rng.normal(size=(50, 100)))
    labels = rng.integers(0, 10, size=50)
    W = Tensor(0.01 * rng.normal(size=(100, 10)), requires_grad=True, name="W")
    loss = softmax_loss(X, labels)

    def check() -> None:
        report = check_gradients(loss, W, progress=False)
        assert report.ok, report

    ratios = paired_ratios(check, forwards(loss, W, 2 * W.size), pairs)
    ratio = statistics.median(ratios)
    print(f"full gradcheck, softmax loss, W {W.shape} ({W.size} elements, "
          f"{2 * W.size} evaluations):")
    print(f"  gradcheck time / time of {2 * W.size} no_grad forwards = {ratio:.3f} "
          f"(median of {pairs} pairs; min {min(ratios):.3f}, max {max(ratios):.3f}; "
          f"target <= {FULL_TARGET})")
    return ratio


def bench_fast(pairs: int, size: int = 30_000) -> float:
    rng = np.random.default_rng(1)
    c = Tensor(rng.normal(size=size))
    x = Tensor(rng.uniform(-1, 1, size=size), requires_grad=True, name="x")
    f = elementwise_model(c)
    evaluations = []

    def check() -> None:
        report = check_gradients(f, x, fast_mode=True, progress=False)
        assert report.ok, report
        evaluations.append((report.evaluations, report.extra_evaluations))

    # One forward is too short to time alone: time ten, and count in tenths of that.
    ratios = [10 * r for r in paired_ratios(check, forwards(f, x, 10), pairs)]
    ratio = statistics.median(ratios)
    print(f"fast_mode gradcheck, {size}-element input, sum(c·exp(x)) + mean(x²):")
    print(f"  gradcheck time / time of one no_grad forward = {ratio:.1f} forward evaluations "
          f"(median of {pairs} pairs; min {min(ratios):.1f}, max {max(ratios):.1f}; "
          f"{evaluations[-1][0]} of them finite-difference evaluations, "
          f"{evaluations[-1][1]} a repeat at the same point; target <= ~{FAST_TARGET:g})")
    faults = page_faults(check), page_faults(forwards(f, x, 1))
    if faults[0] is not None:
        print(f"  minor page faults: {faults[0]:.0f} per check, {faults[1]:.0f} per forward "
              "(see the docstring)")
    return ratio


def bench_gradgrad_fast(pairs: int, size: int = 30_000) -> float:
    rng = np.random.default_rng(1)
    c = Tensor(rng.normal(size=size))
    x = Tensor(rng.uniform(-1, 1, size=size), requires_grad=True, name="x")
    f = elementwise_model(c)

    def check() -> None:
        report = check_second_derivatives(f, x, fast_mode=True, progress=False)
        assert report.ok, report

    def first_derivatives(count: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(count):
                grad(f(x), x, create_graph=True)
        return run

    ratios = [10 * r for r in paired_ratios(check, first_derivatives(10), pairs)]
    ratio = statistics.median(ratios)
    print(f"fast_mode gradgradcheck, {size}-element input, same function:")
    print(f"  gradgradcheck time / time of one evaluation of the first derivative "
          f"(grad with create_graph=True) = {ratio:.1f} (median of {pairs} pairs; "
          f"min {min(ratios):.1f}, max {max(ratios):.1f})")
    return ratio


def page_faults(fn: Callable[[], object], calls: int = 20) -> float | None:
    """Minor page faults per call of fn (None where getrusage does not count them)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="timed pairs per figure (median)")
    args = parser.parse_args(argv)
    print(machine_note())
    full = bench_full(args.pairs)
    fast = bench_fast(max(args.pairs, 15))
    gradgrad = bench_gradgrad_fast(args.pairs)
    print(f"summary: full {full:.3f} (target <= {FULL_TARGET}), "
          f"fast {fast:.1f} forwards (target <= ~{FAST_TARGET:g}), "
          f"gradgradcheck fast {gradgrad:.1f} first-derivative evaluations")


if __name__ == "__main__":
    main()
