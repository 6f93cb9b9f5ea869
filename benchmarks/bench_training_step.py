"""One training step of a linear softmax classifier: tinygrad_edu against hand-written numpy
and against PyTorch (CPU), side by side in one process.

The step: the batch X (a numpy array, as a data loader hands it over) wrapped inside the step
as a user's loop does (`tinygrad_edu.as_tensor(X)`, which shares its memory; PyTorch:
`torch.from_numpy`); scores = X @ W + b; loss = softmax cross-entropy (mean) + 1e-3 * sum(W^2);
backward to dW and db. D=3072, C=10, float32, N in (256, 4096). The contenders run in turn,
alternating their order round after round (benchmarks/_timing.py), so that noise from other
processes on the machine hits all of them alike; each reports its median and best round.
Targets (engine / numpy, medians): <= 1.25 at N=256, <= 1.10 at N=4096.

    python benchmarks/bench_training_step.py [--rounds 100] [--sizes 256 4096] [--no-torch]
                                             [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before torch is imported: its OpenMP threads sleep instead of spinning between calls, so they
# do not steal the cores from numpy's BLAS threads in the rounds that follow.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tinygrad_edu as tg  # noqa: E402
from _timing import machine_note, paired_runs, summary  # noqa: E402
from tinygrad_edu.losses import softmax_cross_entropy  # noqa: E402
from tinygrad_edu.nn import LinearClassifier  # noqa: E402
from tinygrad_edu.regularizers import l2  # noqa: E402

D, C, REG = 3072, 10, 1e-3
TARGETS = {256: 1.25, 4096: 1.10}

Step = Callable[[], tuple[Any, Any, Any]]  # -> (loss, dW, db) arrays


def engine_step(X: np.ndarray, y: np.ndarray, W0: np.ndarray) -> Step:
    model = LinearClassifier(D, C, dtype=np.float32)
    model.W.copy_(W0)

    def step() -> tuple[Any, Any, Any]:
        model.W.grad = model.b.grad = None
        batch = tg.as_tensor(X)  # inside the step, as a loop over fresh batches does: no copy
        loss = softmax_cross_entropy(model(batch), y) + REG * l2(model.W)
        loss.backward()
        return loss.data, model.W.grad, model.b.grad

    return step


def numpy_step(X: np.ndarray, y: np.ndarray, W0: np.ndarray) -> Step:
    W, b = W0.copy(), np.zeros(C, dtype=np.float32)
    rows = np.arange(len(y))

    def step() -> tuple[Any, Any, Any]:
        scores = X @ W + b
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        totals = exp.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(totals[:, 0]) - scores[rows, y]) + REG * np.sum(W * W)
        dscores = exp / totals
        dscores[rows, y] -= 1
        dscores /= len(y)
        dW = X.T @ dscores + (2 * REG) * W
        db = dscores.sum(axis=0)
        return loss, dW, db

    return step


def torch_step(X: np.ndarray, y: np.ndarray, W0: np.ndarray, threads: int) -> Step:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    y_t = torch.from_numpy(y.astype(np.int64))
    W = torch.tensor(W0, requires_grad=True)
    b = torch.zeros(C, dtype=torch.float32, requires_grad=True)

    def step() -> tuple[Any, Any, Any]:
        W.grad = b.grad = None
        loss = F.cross_entropy(torch.from_numpy(X) @ W + b, y_t) + REG * (W * W).sum()
        loss.backward()
        assert W.grad is not None and b.grad is not None
        return loss.detach().numpy(), W.grad.numpy(), b.grad.numpy()

    return step


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    return os.cpu_count() or 1


def check_same(name: str, reference: tuple, result: tuple) -> None:
    """The contenders must compute the same step in float32, or the timing means nothing."""
    for label, ref, got in zip(("loss", "dW", "db"), reference, result):
        got = np.asarray(got)
        if got.dtype != np.float32:
            raise AssertionError(f"{name}: {label} is {got.dtype}, not float32")
        if not np.allclose(got, ref, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"{name}: {label} differs from numpy's")


def bench(n: int, rounds: int, with_torch: bool, threads: int) -> dict[str, tuple[float, float]]:
    """{contender: (median, best) seconds per step} over `rounds` alternating rounds."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, D)).astype(np.float32)
    y = rng.integers(0, C, size=n)
    W0 = (0.001 * rng.standard_normal((D, C))).astype(np.float32)
    steps = {"numpy": numpy_step(X, y, W0), "engine": engine_step(X, y, W0)}
    if with_torch:
        steps["torch"] = torch_step(X, y, W0, threads)
    reference = steps["numpy"]()
    for name, step in steps.items():
        check_same(name, reference, step())
    calls = max(1, 4096 // n)  # a round of about the same length at every size
    samples = paired_runs(dict[str, Callable[[], object]](steps), rounds=rounds, calls=calls,
                          warmup=3)
    return {name: summary(times) for name, times in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS (and torch) threads; default: as installed. On a shared "
                        "machine, 1 gives steadier ratios (no thread waits for a busy core)")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")

    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("torch is not installed: skipping the PyTorch comparison")
            with_torch = False
    threads = blas_threads()
    print(f"one training step, D={D}, C={C}, float32, batch wrapped with as_tensor inside the "
          f"step, numpy BLAS threads={threads}; median (best) of {args.rounds} alternating rounds")
    print(f"machine: {machine_note()}")
    header = (f"{'N':>6} {'numpy ms':>16} {'engine ms':>16} {'engine/numpy':>18} {'target':>8}")
    if with_torch:
        header += f" {'torch ms':>16} {'engine/torch':>18}"
    print(header)
    missed = False
    for n in args.sizes:
        t = bench(n, args.rounds, with_torch, threads)
        ratio, best_ratio = t["engine"][0] / t["numpy"][0], t["engine"][1] / t["numpy"][1]
        target = TARGETS.get(n)
        verdict = "" if target is None else (" ok" if ratio <= target else " MISSED")
        missed |= target is not None and ratio > target
        line = (f"{n:>6} {_ms(t['numpy']):>16} {_ms(t['engine']):>16} "
                f"{f'{ratio:.3f} ({best_ratio:.3f})':>18} "
                f"{'' if target is None else f'<= {target:.2f}':>8}{verdict}")
        if with_torch:
            torch_ratio = t["engine"][0] / t["torch"][0]
            torch_best = t["engine"][1] / t["torch"][1]
            line += f" {_ms(t['torch']):>16} {f'{torch_ratio:.3f} ({torch_best:.3f})':>18}"
        print(line)
    return 1 if missed else 0


def _ms(median_best: tuple[float, float]) -> str:
    median, best = median_best
    return f"{1e3 * median:.3f} ({1e3 * best:.3f})"


if __name__ == "__main__":
    sys.exit(main())
