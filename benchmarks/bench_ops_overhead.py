"""Per-op overhead of the op vocabulary (issue 13) against the existing ops, side by side.

Each candidate is one op on tiny (4, 4) float64 tensors that require grad, then backward:
`op(x).backward(ones)`. The arithmetic is negligible at this size, so the time is the op's own
bookkeeping: argument checks, numpy calls, recording, the backward formula. Unary ops are
compared with `Exp`, binary ones (and joins of two tensors) with `Mul`, as the issue asks;
reductions are also shown against the existing reduction nearest to them (`Sum`, `Max`).
All candidates run in one process, in alternating rounds (benchmarks/_timing.py).

    .venv/bin/python benchmarks/bench_ops_overhead.py [--rounds 41] [--calls 100]

Target: every new op within 1.5x of its reference (forward + backward).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import fmt_us, machine_note, paired_runs, summary  # noqa: E402
from tinygrad_edu import Tensor, ops  # noqa: E402

TARGET = 1.5
SHAPE = (4, 4)

Op = Callable[[Tensor, Tensor, Tensor], Tensor]

# name -> (op, reference name, nearest existing op or None); the references come first
CANDIDATES: dict[str, tuple[Op, str | None, str | None]] = {
    "exp": (lambda a, b, c: a.exp(), None, None),
    "mul": (lambda a, b, c: a * b, None, None),
    "sum(axis=1)": (lambda a, b, c: a.sum(axis=1), None, None),
    "max(axis=1)": (lambda a, b, c: a.max(axis=1), None, None),
    # existing ops, for context
    "log": (lambda a, b, c: a.log(), "exp", None),
    "abs": (lambda a, b, c: a.abs(), "exp", None),
    "maximum": (lambda a, b, c: ops.maximum(a, b), "mul", None),
    "matmul": (lambda a, b, c: a @ b, "mul", None),
    # the new unary ops
    "relu": (lambda a, b, c: a.relu(), "exp", None),
    "tanh": (lambda a, b, c: a.tanh(), "exp", None),
    "sigmoid": (lambda a, b, c: a.sigmoid(), "exp", None),
    "sqrt": (lambda a, b, c: a.sqrt(), "exp", None),
    "sin": (lambda a, b, c: a.sin(), "exp", None),
    "cos": (lambda a, b, c: a.cos(), "exp", None),
    "clip(-0.5, 0.5)": (lambda a, b, c: a.clip(-0.5, 0.5), "exp", None),
    "softmax()": (lambda a, b, c: a.softmax(), "exp", None),
    "log_softmax()": (lambda a, b, c: a.log_softmax(), "exp", None),
    "min(axis=1)": (lambda a, b, c: a.min(axis=1), "exp", "max(axis=1)"),
    "prod(axis=1)": (lambda a, b, c: a.prod(axis=1), "exp", "sum(axis=1)"),
    "var(axis=1)": (lambda a, b, c: a.var(axis=1), "exp", "sum(axis=1)"),
    "std(axis=1)": (lambda a, b, c: a.std(axis=1), "exp", "sum(axis=1)"),
    "cumsum(axis=1)": (lambda a, b, c: a.cumsum(axis=1), "exp", "sum(axis=1)"),
    "flatten()": (lambda a, b, c: a.flatten(), "exp", None),
    "squeeze(0)": (lambda a, b, c: c.squeeze(0), "exp", None),
    "expand_dims(x, 0)": (lambda a, b, c: ops.expand_dims(a, 0), "exp", None),
    # the new binary ops and joins of two tensors
    "minimum": (lambda a, b, c: ops.minimum(a, b), "mul", None),
    "concatenate([a, b])": (lambda a, b, c: ops.concatenate([a, b]), "mul", None),
    "stack([a, b])": (lambda a, b, c: ops.stack([a, b]), "mul", None),
    "einsum('ij,jk->ik')": (lambda a, b, c: ops.einsum("ij,jk->ik", a, b), "mul", "matmul"),
}


def step_of(op: Op, a: Tensor, b: Tensor, c: Tensor) -> Callable[[], None]:
    ones = np.ones(op(a, b, c).shape)

    def step() -> None:
        a.grad = b.grad = c.grad = None
        op(a, b, c).backward(ones)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    a = Tensor(rng.uniform(0.5, 1.5, SHAPE), requires_grad=True)
    b = Tensor(rng.uniform(0.5, 1.5, SHAPE), requires_grad=True)
    c = Tensor(rng.uniform(0.5, 1.5, (1, *SHAPE)), requires_grad=True)  # for squeeze
    steps = {name: step_of(op, a, b, c) for name, (op, _, _) in CANDIDATES.items()}
    samples = paired_runs(steps, rounds=args.rounds, calls=args.calls)
    medians = {name: summary(times)[0] for name, times in samples.items()}
    bests = {name: summary(times)[1] for name, times in samples.items()}

    print(f"per-op overhead: op(x).backward(ones) on {SHAPE} float64 tensors requiring grad")
    print(f"machine: {machine_note()}")
    print(f"median (best) of {args.rounds} alternating rounds x {args.calls} calls; ratios of "
          "medians (of best rounds)\n")
    print(f"{'op':<22} {'fwd+bwd':>10}  {'reference':<10} {'ratio':>12}  {'nearest':<12} {'ratio':>12}")
    first_new = list(CANDIDATES).index("relu")
    missed = []
    for position, (name, (_, reference, nearest)) in enumerate(CANDIDATES.items()):
        line = f"{name:<22} {fmt_us(medians[name]):>10}"
        for other in (reference, nearest):
            if other is None:
                continue
            ratio = medians[name] / medians[other]
            best = bests[name] / bests[other]
            flag = " !" if other == reference and ratio > TARGET else "  "
            line += f"  {other:<10} {ratio:>5.2f} ({best:.2f}){flag}"
            if flag.strip() and position >= first_new:
                missed.append(name)
        print(line)
    verdict = "met" if not missed else "MISSED by " + ", ".join(missed)
    print(f"\ntarget: every new op within {TARGET}x of its reference (exp or mul): {verdict}")


if __name__ == "__main__":
    main()
