"""Backward through very deep graphs: a chain of N ops, x -> x * 1.0000001, N up to a million.

tinygrad_edu walks the graph with explicit stacks, so depth is limited by memory, not by
Python's recursion limit, and the walk should cost the same per op at any depth. This script
times backward (the graph is built untimed before each run) for N = 10,000, 200,000 and
1,000,000, in alternating rounds, and prints the per-op cost and the two scaling ratios

    t(200k) / (20 * t(10k))   and   t(1M) / (100 * t(10k))      (target: both <= 1.3)

Timings are taken with Python's garbage collector *on*, as users run; a gc-off figure is
printed beside it. The ratios use each size's best round (the least disturbed by other load
on the machine: on a shared VM a round can run 50% slow), the medians are printed beside. Last, a micrograd-style engine (a recursive topological sort, as in
micrograd's engine.py) shows the RecursionError it raises on the 10,000-op chain.

    .venv/bin/python benchmarks/bench_depth.py [--rounds 3]

Needs ~0.6 GB of memory for the million-op graph.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from typing import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import alternate, machine_note, summary  # noqa: E402

from tinygrad_edu import Tensor  # noqa: E402

DEPTHS = (10_000, 200_000, 1_000_000)
REPEAT_UNTIL_OPS = 200_000  # each measurement walks at least this many ops
FACTOR = 1.0000001
TARGET = 1.3


def chain(depth: int) -> tuple[Tensor, Tensor]:
    """(x, y) with y = x * FACTOR ** depth, built as `depth` Mul ops."""
    x = Tensor(np.ones(1), requires_grad=True, name="x")
    y = x
    for _ in range(depth):
        y = y * FACTOR
    return x, y


def backward_seconds(depth: int, gc_on: bool) -> float:
    """Build a fresh chain (untimed), time its backward, check the gradient
    (d y / d x = FACTOR ** depth)."""
    x, y = chain(depth)
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        y.backward()
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    np.testing.assert_allclose(x.grad, [FACTOR**depth], rtol=1e-9)
    return seconds


def measurement(depth: int, gc_on: bool) -> Callable[[], float]:
    """For `alternate`: the best of enough backward runs to take ~0.5 s or more, so the
    short chains' figures are as steady as the long ones'."""
    repeats = max(1, REPEAT_UNTIL_OPS // depth)
    return lambda: min(backward_seconds(depth, gc_on) for _ in range(repeats))


class MicrogradValue:
    """The shape of micrograd's Value, enough to show its recursive topological sort."""

    def __init__(self, data: float, children: tuple[MicrogradValue, ...] = ()) -> None:
        self.data, self.grad, self._prev = data, 0.0, children
        self._backward: Callable[[], None] = lambda: None

    def __mul__(self, k: float) -> MicrogradValue:
        out = MicrogradValue(self.data * k, (self,))

        def _backward() -> None:
            self.grad += k * out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list[MicrogradValue] = []
        visited: set[int] = set()

        def build_topo(v: MicrogradValue) -> None:  # recursion as deep as the graph
            if id(v) not in visited:
                visited.add(id(v))
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def micrograd_depth_check(depth: int) -> str:
    y = MicrogradValue(1.0)
    for _ in range(depth):
        y = y * FACTOR
    try:
        y.backward()
    except RecursionError as error:
        return f"RecursionError ({error}; recursion limit {sys.getrecursionlimit()})"
    return "no error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    print("backward through a chain of N ops (x * 1.0000001), (1,) float64")
    print(f"machine: {machine_note()}")
    results: dict[bool, dict[int, float]] = {}
    medians: dict[bool, dict[int, float]] = {}
    for gc_on in (True, False):
        samples = alternate(
            {str(n): measurement(n, gc_on) for n in DEPTHS}, rounds=args.rounds, warmup=0
        )
        results[gc_on] = {n: summary(samples[str(n)])[1] for n in DEPTHS}
        medians[gc_on] = {n: summary(samples[str(n)])[0] for n in DEPTHS}
    print(f"\nbest of {args.rounds} alternating rounds (10k: best of "
          f"{REPEAT_UNTIL_OPS // DEPTHS[0]} runs per round); backward only, graph built untimed")
    print(f"  {'N':>9}  {'gc on':>10}  {'per op':>9}  {'gc off':>10}  {'per op':>9}")
    for n in DEPTHS:
        on, off = results[True][n], results[False][n]
        per_op_on, per_op_off = on / n * 1e6, off / n * 1e6
        print(f"  {n:>9,}  {on:>9.3f}s  {per_op_on:>7.2f}µs  {off:>9.3f}s  {per_op_off:>7.2f}µs")
    base = results[True][DEPTHS[0]]
    for n in DEPTHS[1:]:
        scale = n // DEPTHS[0]
        ratio = results[True][n] / (scale * base)
        ratio_off = results[False][n] / (scale * results[False][DEPTHS[0]])
        ratio_median = medians[True][n] / (scale * medians[True][DEPTHS[0]])
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(f"  t({n:,}) / ({scale} * t({DEPTHS[0]:,})) = {ratio:.2f} "
              f"(gc off: {ratio_off:.2f}; medians: {ratio_median:.2f})  "
              f"target <= {TARGET}: {verdict}")
    print(f"\nmicrograd-style recursive engine on the {DEPTHS[0]:,}-op chain: "
          f"{micrograd_depth_check(DEPTHS[0])}")


if __name__ == "__main__":
    main()
