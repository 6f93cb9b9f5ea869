"""Per-op overhead on tiny tensors: tinygrad_edu against PyTorch CPU eager, side by side.

The graph is `f = ((a*b + c).exp() * a).sum()` on (4, 4) float64 tensors, then `f.backward()`:
five ops whose arithmetic is negligible, so the time is the libraries' own bookkeeping
(wrapping, recording the graph, walking it). Both run in one process, in alternating rounds
(benchmarks/_timing.py), single-threaded.

    .venv/bin/python benchmarks/bench_overhead.py [--rounds 21] [--calls 200]

Target: ours / torch <= 0.6 for forward + backward.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # before importing torch: idle threads must not spin

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import fmt_us, machine_note, paired_runs, summary  # noqa: E402

from tinygrad_edu import Tensor  # noqa: E402

OPS_PER_ITERATION = 5  # mul, add, exp, mul, sum
TARGET = 0.6


@dataclass
class Side:
    """One library's leaves a, b, c; the expression is written once, for both libraries."""

    leaves: tuple[Any, Any, Any]

    def forward(self) -> Any:
        a, b, c = self.leaves
        return ((a * b + c).exp() * a).sum()

    def step(self) -> None:
        for leaf in self.leaves:
            leaf.grad = None
        self.forward().backward()


def check_same_gradients(ours: Side, theirs: Side) -> None:
    """The two sides compute the same thing (else the comparison means nothing)."""
    ours.step()
    theirs.step()
    for x, t in zip(ours.leaves, theirs.leaves):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((4, 4)) * 0.5 for _ in range(3))
    ours = Side((Tensor(a, requires_grad=True), Tensor(b, requires_grad=True),
                 Tensor(c, requires_grad=True)))
    theirs = Side((torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True),
                   torch.tensor(c, requires_grad=True)))  # float64, as the numpy arrays
    check_same_gradients(ours, theirs)

    print("tiny-graph overhead: ((a*b + c).exp() * a).sum() on (4, 4) float64, then backward")
    print(f"machine: {machine_note()}; torch {torch.__version__}, {torch.get_num_threads()} thread")
    for what in ("forward", "step"):
        samples = paired_runs(
            {"tinygrad_edu": getattr(ours, what), "torch": getattr(theirs, what)},
            rounds=args.rounds,
            calls=args.calls,
        )
        mine, mine_best = summary(samples["tinygrad_edu"])
        ref, ref_best = summary(samples["torch"])
        label = "forward only" if what == "forward" else "forward + backward"
        print(f"\n{label}: median (best) of {args.rounds} alternating rounds x {args.calls} calls")
        for name, median, best in (("tinygrad_edu", mine, mine_best), ("torch", ref, ref_best)):
            print(f"  {name:<13} {fmt_us(median):>11} ({fmt_us(best)}) per iteration"
                  f"  {fmt_us(median / OPS_PER_ITERATION):>9} per op")
        verdict = "" if what == "forward" else (
            f"  target <= {TARGET}: {'met' if mine / ref <= TARGET else 'MISSED'}")
        print(f"  ratio ours/torch = {mine / ref:.2f} "
              f"(best rounds: {mine_best / ref_best:.2f}){verdict}")
    print("\n(HIPS autograd is not installed: no third column.)")


if __name__ == "__main__":
    main()
