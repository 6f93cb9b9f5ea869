"""gradcheck spread over worker processes: serial against workers=2, and what more would give.

1. Full gradcheck of a softmax classifier's loss with respect to W (10 features, 200 classes):
   2,000 elements, 4,000 evaluations of a forward pass of about 1 ms (X of 2,000 rows). Timed,
   in alternating rounds: serial (numpy's BLAS on its default threads); serial with BLAS on one
   thread (the evaluations on one core); workers=2 (a pool the call creates and shuts down: its
   start-up is counted); a caller's ProcessPoolExecutor already running. The reports of the
   parallel runs must be identical to the serial one, bit for bit. Target: workers=2 at least
   1.7 times faster than serial.

   Two things make a serial run on this machine faster than "one core": numpy's BLAS runs the
   matrix product on both cores (1.1x on this model; 1.37x with X (5000, 200), W (200, 10)),
   while each worker runs it on one thread; and glibc's allocator, once a process has freed a
   large block, keeps freed memory instead of returning it to the system, which makes this
   forward 4 times faster (1.0 ms -> 0.24 ms at 700 rows). Workers free such a block when they
   start; the calling process does it here before timing, so both sides run warm.
2. The parts of the parallel time: the pool's start-up, the overhead of one chunk (its payload
   out, unpickled in the worker, results back), and the serial part (what the calling process
   does besides evaluations: recording, backward passes, comparisons). With a local Dask
   cluster (distributed installed, not --no-dask): the overhead of one chunk through Dask.
3. Amdahl on paper, from those figures: 16 local cores, and a 4-node Dask cluster of 16 cores
   each, for a model of 10^5 parameters with a 1 ms forward.

    python benchmarks/bench_gradcheck_parallel.py [--rounds 3] [--rows 2000] [--no-dask]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import alternate, machine_note, time_calls  # noqa: E402
from bench_gradcheck import softmax_loss  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402
from tinygrad_edu.checks import (  # noqa: E402
    GradcheckReport,
    check_gradients,
    differences,
    parallel,
)

TARGET = 1.7
N_BIG, FORWARD_BIG = 100_000, 1e-3  # the model of the extrapolation: parameters, forward (s)


@contextlib.contextmanager
def time_in_evaluations() -> Iterator[list[float]]:
    """Seconds spent inside gradcheck's loop of evaluations (the part workers share)."""
    inside = [0.0]
    loop = differences.evaluate_steps

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return loop(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - start

    differences.evaluate_steps = timed
    try:
        yield inside
    finally:
        differences.evaluate_steps = loop


def serial_part(loss: Callable[[Tensor], Tensor], W: Tensor) -> float:
    """Seconds of a serial check spent outside its evaluations: recording, backward passes,
    comparisons, the report."""
    with time_in_evaluations() as inside:
        start = time.perf_counter()
        check(loss, W, None)
        total = time.perf_counter() - start
    return total - inside[0]


def blas_single_threaded() -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def check(loss: Callable[[Tensor], Tensor], W: Tensor, workers: Any) -> GradcheckReport:
    return check_gradients(loss, W, progress=False, workers=workers)


class CarriesPayload:
    """A readout that does no work but carries the same payload as the real one: what is
    timed through it is the overhead of shipping chunks."""

    def __init__(self, loss: Callable[[Tensor], Tensor]) -> None:
        self.loss = loss

    def __call__(self, args: Any) -> np.ndarray:
        return np.zeros(1)


def chunk_overhead(loss: Callable[[Tensor], Tensor], W: Tensor, workers: Any,
                   chunks: int = 64) -> float:
    """Seconds of worker time per chunk: `chunks` chunks of one element each, on `workers`
    (already running), whose evaluations cost nothing."""
    with parallel.resolve_workers(workers) as pool:
        assert pool is not None
        start = time.perf_counter()
        parallel.evaluate_steps_parallel(CarriesPayload(loss), (W,), 0,
                                         np.arange(min(chunks, W.size)), (1e-6, -1e-6),
                                         pool=pool)
        return (time.perf_counter() - start) * pool.size / chunks


def pool_start_up() -> float:
    """A pool of 2 that the call creates: start, one tiny chunk per worker, shut down."""
    start = time.perf_counter()
    with parallel.resolve_workers(2) as pool:
        parallel.evaluate_steps_parallel(lambda args: np.zeros(1), (np.zeros(2),), 0,
                                         np.arange(2), (1.0,), pool=pool)
    return time.perf_counter() - start


def identical(a: GradcheckReport, b: GradcheckReport) -> bool:
    return a.ok == b.ok and a.inputs == b.inputs and str(a) == str(b)


def dask_chunk_overhead(loss: Callable[[Tensor], Tensor], W: Tensor) -> float | None:
    try:
        import distributed
    except ImportError:
        return None
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        executor = client.get_executor()
        chunk_overhead(loss, W, executor, chunks=8)  # warm-up: imports in the workers
        return statistics.median(chunk_overhead(loss, W, executor) for _ in range(3))


def amdahl(workers: int, serial_part: float, evaluations: int, forward: float,
           per_chunk: float, start_up: float) -> float:
    """Time of a check on `workers` workers: start-up and the serial part, then the
    evaluations and the chunks' overhead shared among the workers."""
    chunks = len(parallel._chunk_sizes(evaluations // 2, workers))
    return start_up + serial_part + (evaluations * forward + chunks * per_chunk) / workers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--rows", type=int, default=2000, help="rows of X (sets the forward time)")
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask measurement")
    args = parser.parse_args(argv)
    print(machine_note())
    block = np.empty(1 << 21)  # warm the allocator, as a worker does (see the docstring)
    del block

    rng = np.random.default_rng(0)
    X = Tensor(rng.normal(size=(args.rows, args.features)))
    labels = rng.integers(0, args.classes, size=args.rows)
    W = Tensor(0.01 * rng.normal(size=(args.features, args.classes)), requires_grad=True,
               name="W")
    loss = softmax_loss(X, labels)
    n = 2 * W.size

    def forward_time() -> float:
        with no_grad():
            return time_calls(lambda: loss(W), 50)

    forward = statistics.median(forward_time() for _ in range(5))
    payload = len(parallel._payload(differences.Readout(loss, (), None), (W,), 0, "bench", "W"))
    print(f"softmax classifier: X {X.shape}, W {W.shape} ({W.size} elements, {n} evaluations); "
          f"forward {forward * 1e3:.2f} ms; payload {payload / 1e6:.1f} MB per chunk")

    reports: dict[str, GradcheckReport] = {}
    executor: Executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))

    def timed(name: str, workers: Any, single: bool = False) -> Callable[[], float]:
        def run() -> float:
            with blas_single_threaded() if single else contextlib.nullcontext():
                start = time.perf_counter()
                reports[name] = check(loss, W, workers)
                return time.perf_counter() - start
        return run

    with executor:
        check(loss, W, executor)  # the caller's pool is running before it is timed
        times = alternate({"serial": timed("serial", None),
                           "serial, BLAS 1 thread": timed("serial1", None, single=True),
                           "workers=2": timed("workers=2", 2),
                           "executor": timed("executor", executor)}, rounds=args.rounds)
        per_chunk = statistics.median(chunk_overhead(loss, W, executor) for _ in range(3))
    start_up = statistics.median(pool_start_up() for _ in range(3))
    outside = statistics.median(serial_part(loss, W) for _ in range(3))
    serial, serial1, spread, warm = (statistics.median(times[k]) for k in (
        "serial", "serial, BLAS 1 thread", "workers=2", "executor"))
    same = all(identical(reports["serial"], reports[k]) for k in ("workers=2", "executor"))
    assert reports["serial"].ok, reports["serial"]
    print(f"  serial                         {serial:6.2f} s")
    print(f"  serial, BLAS on one thread     {serial1:6.2f} s   (a second BLAS thread gains "
          f"{serial1 / serial:.2f}x)")
    print(f"  workers=2 (pool made by call)  {spread:6.2f} s   speedup {serial / spread:.2f} "
          f"(target >= {TARGET}); over one core {serial1 / spread:.2f}")
    print(f"  a caller's running executor    {warm:6.2f} s   speedup {serial / warm:.2f}; over "
          f"one core {serial1 / warm:.2f}")
    print(f"  reports identical to serial, bit for bit: {same}  "
          f"(median of {args.rounds} alternating rounds; per round: "
          + ", ".join(f"{k} " + "/".join(f"{t:.2f}" for t in v) for k, v in times.items()) + ")")

    evaluation = (serial - outside) / n  # one evaluation inside the check, loop included
    chunks = len(parallel._chunk_sizes(W.size, 2))
    print(f"parts: evaluations {n} x {evaluation * 1e3:.2f} ms = {n * evaluation:.2f} s; serial "
          f"part {outside:.3f} s (serial fraction {outside / serial:.4f}); pool start-up "
          f"{start_up:.2f} s; per chunk {per_chunk * 1e3:.1f} ms ({chunks} chunks)")
    one_thread = (serial1 - outside) / n  # what an evaluation costs a worker
    model = amdahl(2, outside, n, one_thread, per_chunk, start_up)
    print(f"  model for workers=2: start-up + serial part + (evaluations at {one_thread * 1e3:.2f}"
          f" ms, one BLAS thread, + chunks) / 2 = {model:.2f} s (measured {spread:.2f} s; the "
          "rest: the last chunks' imbalance, first calls in fresh processes)")

    dask_chunk = None if args.no_dask else dask_chunk_overhead(loss, W)
    if dask_chunk is not None:
        print(f"  per chunk through a local Dask cluster: {dask_chunk * 1e3:.1f} ms")

    n_big = 2 * N_BIG
    scale = n_big / n  # the serial part (bookkeeping per element, comparisons) grows with n
    big_serial = outside * scale + n_big * FORWARD_BIG
    print(f"Amdahl on paper: {N_BIG:,} parameters, {FORWARD_BIG * 1e3:g} ms forward, "
          f"{n_big:,} evaluations; serial {big_serial:,.0f} s; serial part "
          f"{outside * scale:.1f} s (scaled with n); per chunk as measured")
    for label, workers, chunk, up in (
            ("16 local cores (workers=16)", 16, per_chunk, start_up),
            ("4-node Dask cluster, 64 cores", 64,
             (dask_chunk if dask_chunk is not None else per_chunk) + payload / 1e9, 0.0)):
        t = amdahl(workers, outside * scale, n_big, FORWARD_BIG, chunk, up)
        print(f"  {label:32s} {t:8.1f} s   speedup {big_serial / t:5.1f} of {workers}")
    print("  (Dask: a cluster already running; each chunk's payload also crosses a 1 GB/s "
          "network; per chunk otherwise as on the local cluster)")


if __name__ == "__main__":
    main()
