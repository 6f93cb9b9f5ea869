"""Memory over a long training loop: does anything accumulate from step to step?

A linear softmax classifier written with raw Tensor ops (no fused loss), trained for 10,000
steps of full-batch gradient descent on random data, with the in-place updates under
no_grad, as an optimizer does them. tracemalloc traces every allocation made from Python
(numpy's arrays included); the traced memory at step 1,000 (everything warmed up) and at
step 10,000 must be within 1 MiB of each other. The garbage collector is run before each
reading, and the objects it finds unreachable are counted: reference cycles made by the
engine would be freed only by the collector, late.

    .venv/bin/python benchmarks/bench_memory.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import machine_note  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

N, D, C = 64, 20, 5  # examples, features, classes
LR = 0.5
CHECKPOINTS = (1_000, 10_000)
TARGET_MIB = 1.0


def softmax_cross_entropy(scores: Tensor, y: np.ndarray) -> Tensor:
    """Mean cross-entropy from primitive ops, shifted by the row maximum for stability."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_sum_exp = shifted.exp().sum(axis=1).log()
    correct = shifted[np.arange(len(y)), y]
    return (log_sum_exp - correct).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=CHECKPOINTS[-1])
    args = parser.parse_args()
    checkpoints = [c for c in CHECKPOINTS if c <= args.steps]

    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((N, D)), name="X")
    y = rng.integers(0, C, size=N)
    W = Tensor(rng.standard_normal((D, C)) * 0.01, requires_grad=True, name="W")
    b = Tensor(np.zeros(C), requires_grad=True, name="b")

    print(f"{args.steps:,} steps of a linear softmax classifier from raw ops "
          f"(N={N}, D={D}, C={C}), traced by tracemalloc")
    print(f"machine: {machine_note()}")
    readings: dict[int, int] = {}
    unreachable: dict[int, int] = {}
    gc.collect()  # so that the counts below are of cycles made by the loop only
    tracemalloc.start()
    start = time.perf_counter()
    first_loss = loss_value = float("nan")
    for step in range(1, args.steps + 1):
        loss = softmax_cross_entropy(X @ W + b, y)
        loss.backward()
        with tg.no_grad():
            W.sub_(LR * W.grad)
            b.sub_(LR * b.grad)
        W.zero_grad()
        b.zero_grad()
        loss_value = loss.item()
        if step == 1:
            first_loss = loss_value
        del loss
        if step in checkpoints:
            unreachable[step] = gc.collect()
            readings[step] = tracemalloc.get_traced_memory()[0]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print(f"loss {first_loss:.4f} -> {loss_value:.4f}; {seconds / args.steps * 1e6:.0f} µs "
          f"per step under tracemalloc; peak traced {peak / 2**20:.2f} MiB")
    for step in checkpoints:
        print(f"  traced at step {step:>6,}: {readings[step] / 2**20:8.3f} MiB "
              f"({unreachable[step]} unreachable objects found by gc.collect())")
    if len(checkpoints) == 2:
        growth = (readings[checkpoints[1]] - readings[checkpoints[0]]) / 2**20
        verdict = "met" if growth < TARGET_MIB else "MISSED"
        print(f"  growth from step {checkpoints[0]:,} to {checkpoints[1]:,}: "
              f"{growth * 1024:+.1f} KiB (target < {TARGET_MIB:.0f} MiB: {verdict})")


if __name__ == "__main__":
    main()
