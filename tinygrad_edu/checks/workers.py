"""The pools behind `workers=`: what the argument means, and running tasks on it.

A full check costs 2·numel evaluations of fn, each independent of the others, so they spread
over processes with no change to the answer (`parallel` decides what travels). `workers` is, as
in SciPy:

    None or 1   serial, in the calling process
    an int n    a local process pool of n workers (-1: one per core), created and shut down by
                the call: nothing of it is left running afterwards
    an Executor any `concurrent.futures.Executor`, e.g. a ProcessPoolExecutor, loky's, or a Dask
                cluster's `client.get_executor()`; its `submit` is used, and it stays the
                caller's (never shut down here)
    a callable  map-like, `map(function, tasks)`: `multiprocessing.Pool().map` (or `.imap`, to
                see progress as chunks finish), Ray's `ray.util.multiprocessing.Pool().map`

Threads inside workers
----------------------
Two workers on two cores must not each start a BLAS thread pool of two threads. The pools this
module creates start their processes (spawn) with `BLAS_ENVIRONMENT` set: OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, BLIS_NUM_THREADS, VECLIB_MAXIMUM_THREADS and
NUMEXPR_NUM_THREADS = 1, read by the BLAS libraries when numpy loads. Dask's workers set the
first three themselves (`distributed.nanny.pre-spawn-environ`). In an executor whose workers
did not, each chunk runs under `threadpoolctl.threadpool_limits(1)` if threadpoolctl is
installed; otherwise set those variables before starting the workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing.context
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

import numpy as np

__all__ = [
    "BLAS_ENVIRONMENT",
    "MapLike",
    "Workers",
    "WorkerError",
    "WorkerPool",
    "resolve_workers",
    "blas_single_threaded",
    "cloudpickle_module",
]

# A map-like callable: map_like(function, tasks) -> results in task order.
MapLike = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
Workers = int | Executor | MapLike | None

BLAS_ENVIRONMENT = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                           "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
}
IN_FLIGHT_PER_WORKER = 2  # tasks handed to an executor per worker at a time: one runs, one waits
_EXTRA = "pip install 'tinygrad_edu[distributed]'"


class WorkerError(RuntimeError):
    """A worker process died (or the executor failed) while evaluating; the message names
    what the workers were evaluating at the time."""


class WorkerPool:
    """Where chunks of work run: an executor (progress as chunks finish, in any order) or a
    map-like callable (results as it yields them). Made by `resolve_workers`.

    size   how many workers, as far as known: a hint for how finely to split the work
    owned  created by `resolve_workers`, which shuts it down
    """

    def __init__(self, where: str, *, executor: Executor | None = None,
                 map_like: MapLike | None = None, size: int, owned: bool = False) -> None:
        self.where, self.executor, self.map_like = where, executor, map_like
        self.size, self.owned = max(1, size), owned

    def run(self, function: Callable[[Any], Any], tasks: Sequence[Any],
            on_result: Callable[[int, Any], None],
            on_lost: Callable[[list[int], BaseException], Exception]) -> None:
        """function(task) for each task, on the workers; on_result(i, result) in the caller as
        each finishes. A failure of the machinery itself (a dead worker, an executor that
        refuses work) raises on_lost(unfinished task indices, error). Whatever ends the run
        early cancels the tasks not yet started, and stops a pool made by resolve_workers.

        An executor gets IN_FLIGHT_PER_WORKER tasks per worker at a time, in order. (The
        caller does not run tasks itself while a pool starts: measured, its BLAS threads and the
        booting processes slow each other down more than it gains.)"""
        futures: dict[Future[Any], int] = {}
        try:
            if self.executor is None:
                self._map(function, tasks, on_result, on_lost)
                return
            waiting = list(range(len(tasks)))[::-1]  # pop() gives the next task in order
            unfinished = set(waiting)
            while waiting or futures:
                try:
                    while waiting and len(futures) < IN_FLIGHT_PER_WORKER * self.size:
                        i = waiting.pop()
                        futures[self.executor.submit(function, tasks[i])] = i
                except Exception as error:  # a closed executor, say
                    raise on_lost(sorted(unfinished), error) from error
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    i = futures.pop(future)
                    try:
                        result = future.result()
                    except Exception as error:
                        raise on_lost(sorted(unfinished), error) from error
                    on_result(i, result)
                    unfinished.discard(i)
        except BaseException:
            for future in futures:
                future.cancel()
            if self.owned:
                self._terminate()
            raise

    def _map(self, function: Callable[[Any], Any], tasks: Sequence[Any],
             on_result: Callable[[int, Any], None],
             on_lost: Callable[[list[int], BaseException], Exception]) -> None:
        assert self.map_like is not None
        try:
            results = iter(self.map_like(function, tasks))
        except Exception as error:
            raise on_lost(list(range(len(tasks))), error) from error
        for i in range(len(tasks)):
            try:
                result = next(results)
            except Exception as error:  # StopIteration too: a map that lost tasks
                raise on_lost(list(range(i, len(tasks))), error) from error
            on_result(i, result)

    def _terminate(self) -> None:
        """Stop an owned pool's processes now, rather than let running chunks finish."""
        executor = self.executor
        if executor is None:
            return
        if hasattr(executor, "terminate_workers"):  # Python 3.14+
            executor.terminate_workers()
            return
        # Before 3.14 there is no public way; shutdown() below still joins them.
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()

    def close(self) -> None:
        if self.owned and self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def resolve_workers(workers: Workers, *, where: str = "gradcheck") -> Iterator[WorkerPool | None]:
    """The pool behind a `workers=` argument, for the duration of a `with` block (see the
    module docstring); None means serial. A pool created here is shut down on leaving the
    block, also on error."""
    if workers is None:
        yield None
        return
    if isinstance(workers, Executor):
        cloudpickle_module(where)
        yield WorkerPool(where, executor=workers, size=_executor_size(workers))
        return
    if callable(workers):
        cloudpickle_module(where)
        yield WorkerPool(where, map_like=workers, size=_cpu_count())
        return
    count = _worker_count(workers, where)
    if count == 1:
        yield None
        return
    cloudpickle_module(where)
    from concurrent.futures import ProcessPoolExecutor  # 4 ms of imports, for pools only

    executor = ProcessPoolExecutor(count, mp_context=_SingleThreadedSpawn())
    pool = WorkerPool(where, executor=executor, size=count, owned=True)
    try:
        for _ in range(count):  # start every process now: they boot while the caller works
            executor.submit(os.getpid)
        yield pool
    finally:
        pool.close()


def _worker_count(workers: Any, where: str) -> int:
    rule = ("a positive int (-1: all cores), a concurrent.futures.Executor, a map-like callable "
            "or None")
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)):
        raise TypeError(f"{where}: workers must be {rule}, got {type(workers).__name__} "
                        f"{workers!r}")
    if workers == -1:
        return _cpu_count()
    if workers < 1:
        raise ValueError(f"{where}: workers must be {rule}, got {workers!r}")
    return int(workers)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor_size(executor: Executor) -> int:
    """How many workers an executor has, as far as it tells (a chunking hint only)."""
    size = getattr(executor, "_max_workers", None)  # ProcessPoolExecutor, loky
    if isinstance(size, int):
        return size
    client = getattr(executor, "_client", None)  # Dask's ClientExecutor
    if client is not None:
        with contextlib.suppress(Exception):
            return sum(client.nthreads().values()) or 1
    return _cpu_count()


_environment_lock = threading.Lock()


class _SingleThreadedSpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawned process whose BLAS runs one thread: the variables must be in its environment
    when numpy loads, which happens before any code of ours could run in it."""

    def start(self) -> None:
        with _environment_lock:
            saved = {name: os.environ.get(name) for name in BLAS_ENVIRONMENT}
            os.environ.update(BLAS_ENVIRONMENT)
            try:
                super().start()
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value


class _SingleThreadedSpawn(multiprocessing.context.SpawnContext):
    Process = _SingleThreadedSpawnProcess


def blas_single_threaded() -> contextlib.AbstractContextManager[Any]:
    """BLAS on one thread, for a chunk in a worker whose environment did not ask for it:
    threadpoolctl when installed (else nothing: set BLAS_ENVIRONMENT before starting them)."""
    if all(os.environ.get(name) == "1" for name in list(BLAS_ENVIRONMENT)[:3]):
        return contextlib.nullcontext()  # our pools, Dask's workers
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def cloudpickle_module(where: str) -> Any:
    """cloudpickle, imported when workers are used (an optional dependency)."""
    try:
        import cloudpickle
    except ImportError as error:
        raise ImportError(
            f"{where}: workers= needs cloudpickle, which sends fn (a lambda or closure too) and "
            f"its inputs to the worker processes; install it with {_EXTRA}"
        ) from error
    return cloudpickle


