"""Per-op overhead of the op vocabulary (issue 13) against the existing ops, side by side.

Each candidate is one op on tiny (4, 4) float64 tensors that require grad, then backward:
`op(x).backward(ones)`. The arithmetic is negligible at this size, so the time is the op's own
bookkeeping: argument checks, numpy calls, recording, the backward formula. Unary ops are
compared with `Exp`, binary ones (and joins of two tensors) with `Mul`, as the issue asks;
reductions are also shown against the existing reduction nearest to them (`Sum`, `Max`).
All candidates run in one process, in alternating rounds (benchmarks/_timing.py).

    .venv/bin/python benchmarks/bench_ops_overhead.py [--rounds 41] [--calls 100] [--torch]

With --torch, the same ops are timed in PyTorch eager too, and its own ratios (softmax / exp in
torch, say) printed beside ours: how much of a ratio is the op's nature, not our overhead.

Target: every new op within 1.5x of its reference (forward + backward).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # before importing torch: idle threads must not spin

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import fmt_us, machine_note, paired_runs, summary  # noqa: E402
from tinygrad_edu import Tensor, ops  # noqa: E402

TARGET = 1.5
SHAPE = (4, 4)

Op = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Candidate:
    ours: Op  # on tinygrad_edu tensors a, b (4, 4) and c (1, 4, 4)
    theirs: Op  # the same on torch tensors (for torch's own ratio, with --torch)
    reference: str | None = None  # "exp" or "mul": the target's yardstick
    nearest: str | None = None  # the existing op closest in kind (reductions)


# The references come first, then existing ops for context, then the new ops.
CANDIDATES: dict[str, Candidate] = {
    "exp": Candidate(lambda a, b, c: a.exp(), lambda a, b, c: a.exp()),
    "mul": Candidate(lambda a, b, c: a * b, lambda a, b, c: a * b),
    "sum(axis=1)": Candidate(lambda a, b, c: a.sum(axis=1), lambda a, b, c: a.sum(dim=1)),
    "max(axis=1)": Candidate(lambda a, b, c: a.max(axis=1), lambda a, b, c: a.amax(dim=1)),
    "log": Candidate(lambda a, b, c: a.log(), lambda a, b, c: a.log(), "exp"),
    "abs": Candidate(lambda a, b, c: a.abs(), lambda a, b, c: a.abs(), "exp"),
    "maximum": Candidate(lambda a, b, c: ops.maximum(a, b), lambda a, b, c: torch.maximum(a, b), "mul"),
    "matmul": Candidate(lambda a, b, c: a @ b, lambda a, b, c: a @ b, "mul"),
    # the new unary ops
    "relu": Candidate(lambda a, b, c: a.relu(), lambda a, b, c: a.relu(), "exp"),
    "tanh": Candidate(lambda a, b, c: a.tanh(), lambda a, b, c: a.tanh(), "exp"),
    "sigmoid": Candidate(lambda a, b, c: a.sigmoid(), lambda a, b, c: a.sigmoid(), "exp"),
    "sqrt": Candidate(lambda a, b, c: a.sqrt(), lambda a, b, c: a.sqrt(), "exp"),
    "sin": Candidate(lambda a, b, c: a.sin(), lambda a, b, c: a.sin(), "exp"),
    "cos": Candidate(lambda a, b, c: a.cos(), lambda a, b, c: a.cos(), "exp"),
    "clip(-0.5, 0.5)": Candidate(lambda a, b, c: a.clip(-0.5, 0.5),
                                 lambda a, b, c: a.clamp(-0.5, 0.5), "exp"),
    "softmax()": Candidate(lambda a, b, c: a.softmax(), lambda a, b, c: a.softmax(-1), "exp"),
    "log_softmax()": Candidate(lambda a, b, c: a.log_softmax(),
                               lambda a, b, c: a.log_softmax(-1), "exp"),
    "min(axis=1)": Candidate(lambda a, b, c: a.min(axis=1), lambda a, b, c: a.amin(dim=1),
                             "exp", "max(axis=1)"),
    "prod(axis=1)": Candidate(lambda a, b, c: a.prod(axis=1), lambda a, b, c: a.prod(dim=1),
                              "exp", "sum(axis=1)"),
    "var(axis=1)": Candidate(lambda a, b, c: a.var(axis=1),
                             lambda a, b, c: a.var(dim=1, correction=0), "exp", "sum(axis=1)"),
    "std(axis=1)": Candidate(lambda a, b, c: a.std(axis=1),
                             lambda a, b, c: a.std(dim=1, correction=0), "exp", "sum(axis=1)"),
    "cumsum(axis=1)": Candidate(lambda a, b, c: a.cumsum(axis=1), lambda a, b, c: a.cumsum(dim=1),
                                "exp", "sum(axis=1)"),
    "flatten()": Candidate(lambda a, b, c: a.flatten(), lambda a, b, c: a.flatten(), "exp"),
    "squeeze(0)": Candidate(lambda a, b, c: c.squeeze(0), lambda a, b, c: c.squeeze(0), "exp"),
    "expand_dims(x, 0)": Candidate(lambda a, b, c: ops.expand_dims(a, 0),
                                   lambda a, b, c: a.unsqueeze(0), "exp"),
    # the new binary ops, and joins of two tensors
    "minimum": Candidate(lambda a, b, c: ops.minimum(a, b), lambda a, b, c: torch.minimum(a, b), "mul"),
    "concatenate([a, b])": Candidate(lambda a, b, c: ops.concatenate([a, b]),
                                     lambda a, b, c: torch.cat([a, b]), "mul"),
    "stack([a, b])": Candidate(lambda a, b, c: ops.stack([a, b]),
                               lambda a, b, c: torch.stack([a, b]), "mul"),
    "einsum('ij,jk->ik')": Candidate(lambda a, b, c: ops.einsum("ij,jk->ik", a, b),
                                     lambda a, b, c: torch.einsum("ij,jk->ik", a, b), "mul", "matmul"),
}
FIRST_NEW = list(CANDIDATES).index("relu")


def step_of(op: Op, leaves: tuple[Any, Any, Any], ones: Any) -> Callable[[], None]:
    a, b, c = leaves

    def step() -> None:
        a.grad = b.grad = c.grad = None
        op(a, b, c).backward(ones)

    return step


def timed(library: str, rounds: int, calls: int) -> tuple[dict[str, float], dict[str, float]]:
    """(median, best) seconds per fwd+bwd of every candidate, in `library`."""
    rng = np.random.default_rng(0)
    arrays = (rng.uniform(0.5, 1.5, SHAPE), rng.uniform(0.5, 1.5, SHAPE),
              rng.uniform(0.5, 1.5, (1, *SHAPE)))
    steps = {}
    for name, candidate in CANDIDATES.items():
        if library == "torch":
            leaves = tuple(torch.tensor(x, requires_grad=True) for x in arrays)
            op = candidate.theirs
            ones: Any = torch.ones(op(*leaves).shape, dtype=torch.float64)
        else:
            leaves = tuple(Tensor(x, requires_grad=True) for x in arrays)
            op = candidate.ours
            ones = np.ones(op(*leaves).shape)
        steps[name] = step_of(op, leaves, ones)  # type: ignore[arg-type]
    samples = paired_runs(steps, rounds=rounds, calls=calls)
    return ({name: summary(t)[0] for name, t in samples.items()},
            {name: summary(t)[1] for name, t in samples.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--torch", action="store_true",
                        help="also time the same ops in PyTorch, for its own ratios")
    args = parser.parse_args()
    torch.set_num_threads(1)

    medians, bests = timed("ours", args.rounds, args.calls)
    theirs = timed("torch", args.rounds, args.calls)[0] if args.torch else None

    print(f"per-op overhead: op(x).backward(ones) on {SHAPE} float64 tensors requiring grad")
    print(f"machine: {machine_note()}")
    print(f"median (best) of {args.rounds} alternating rounds x {args.calls} calls; ratios of "
          "medians (of best rounds)" + ("; torch: its own ratio of medians" if theirs else "") + "\n")
    print(f"{'op':<22} {'fwd+bwd':>9}  {'vs':<4} {'ratio':>12}{'  torch' if theirs else ''}"
          f"  {'nearest':<12} {'ratio':>12}")
    missed = []
    for position, (name, candidate) in enumerate(CANDIDATES.items()):
        line = f"{name:<22} {fmt_us(medians[name]):>9}"
        reference, nearest = candidate.reference, candidate.nearest
        if reference is not None:
            ratio = medians[name] / medians[reference]
            flag = " !" if ratio > TARGET else "  "
            line += f"  {reference:<4} {ratio:>5.2f} ({bests[name] / bests[reference]:.2f}){flag}"
            if theirs:
                line += f" {theirs[name] / theirs[reference]:>5.2f}"
            if flag.strip() and position >= FIRST_NEW:
                missed.append(name)
        if nearest is not None:
            line += (f"  {nearest:<12} {medians[name] / medians[nearest]:>5.2f} "
                     f"({bests[name] / bests[nearest]:.2f})")
        print(line)
    verdict = "met" if not missed else "missed by " + ", ".join(missed)
    print(f"\ntarget: every new op within {TARGET}x of its reference (exp or mul): {verdict}")


if __name__ == "__main__":
    main()
