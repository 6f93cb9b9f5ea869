"""The machinery behind `workers=` (checks/parallel.py, checks/workers.py): a local pool the call
creates (an int), a caller's ProcessPoolExecutor, a real Dask cluster through
`client.get_executor()`, and a map-like callable (multiprocessing's Pool.map). What travels (one
cloudpickle payload, the closure pattern, views refused), results by index, per-op re-checks,
errors naming the element, dead workers, BLAS threads, no process left. The public API on the
same pools (reports bit for bit, planted bugs, gradgradcheck) is in test_workers_api.py, which
imports the pool fixtures from here.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import psutil
import pytest
from tinygrad_edu import Tensor
from tinygrad_edu.checks import culprits as culprits_module
from tinygrad_edu.checks import numerical_gradient
from tinygrad_edu.checks.parallel import (
    BLAS_ENVIRONMENT,
    FINEST,
    SHARE,
    WorkerError,
    _chunk_sizes,
    evaluate_steps_parallel,
    recheck_ops,
    resolve_workers,
)
from tinygrad_edu.checks.procedure import examine
from tinygrad_edu.checks.settings import GradcheckSettings
from tinygrad_edu.checks.subject import prepare
from tinygrad_edu.function import Function
from tinygrad_edu.tensor import topological_order

cloudpickle = pytest.importorskip("cloudpickle")
pytestmark = pytest.mark.timeout(120)
# The workers get this module's functions and classes by value, rather than import it (and
# pytest with it): a pool starts in half the time.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPAWN = multiprocessing.get_context("spawn")
KINDS = ["int", "executor", "dask", "map"]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def process_executor() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=SPAWN) as executor:
        yield executor


@pytest.fixture(scope="module")
def map_pool() -> Iterator[Any]:
    with SPAWN.Pool(2) as pool:
        yield pool


@pytest.fixture(params=KINDS)
def workers(request: pytest.FixtureRequest) -> Any:
    """One `workers=` value of each kind."""
    kind = request.param
    if kind == "int":
        return 2
    if kind == "executor":
        return request.getfixturevalue("process_executor")
    if kind == "dask":
        return request.getfixturevalue("dask_client").get_executor()
    return request.getfixturevalue("map_pool").map


def new_children(before: set[int]) -> list[psutil.Process]:
    """Processes started by this one since `before`, but multiprocessing's resource tracker
    (one per process, started with the first spawned pool, by design)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.pid not in before and child.is_running() \
                    and child.status() != psutil.STATUS_ZOMBIE \
                    and "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
    return found


def children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


# ----------------------------------------------------------------------------- models


class Net:
    """The lecture's shape of model: parameters as attributes, a loss reading them."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.W = Tensor(rng.standard_normal((6, 3)), requires_grad=True, name="W")
        self.X = Tensor(rng.standard_normal((10, 6)))
        self.labels = rng.integers(0, 3, size=10)

    def loss(self) -> Tensor:
        scores = self.X @ self.W
        shifted = scores - Tensor(scores.data.max(axis=1, keepdims=True))
        log_normalizer = shifted.exp().sum(axis=1).log()
        return (log_normalizer - shifted[np.arange(10), self.labels]).mean()


class HalfSquare(Function):
    """x², with a planted bug: backward forgets the factor 2."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * x


def two_layers_with_bug(W: Tensor, b: Tensor) -> Tensor:
    X = Tensor(np.linspace(-1.0, 1.0, 12).reshape(4, 3))
    return HalfSquare.apply(X @ W + b).mean()


def parameters() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(1)
    return (Tensor(rng.standard_normal((3, 5)), requires_grad=True, name="W"),
            Tensor(rng.standard_normal(5), requires_grad=True, name="b"))


# ----------------------------------------------------------------------------- identical results


def test_the_lectures_closure_pattern_perturbs_the_array_fn_reads(workers: Any) -> None:
    # fn ignores its argument and reads net.W through its closure: in a worker, the array
    # perturbed must be that one, or the gradient comes out silently zero.
    net = Net()
    serial = numerical_gradient(lambda _: net.loss(), net.W.data)
    spread = numerical_gradient(lambda _: net.loss(), net.W.data, workers=workers)
    assert np.array_equal(spread, serial)
    assert np.all(spread != 0)
    loss = net.loss()
    loss.backward()
    np.testing.assert_allclose(spread, net.W.grad, rtol=1e-6, atol=1e-9)


def test_progress_counts_every_evaluation_from_every_worker(process_executor: Any) -> None:
    class Count:
        done = 0

        def advance(self, count: int) -> None:
            self.done += count

    x = np.linspace(-1.0, 1.0, 40)
    counter = Count()
    with resolve_workers(process_executor) as pool:
        evaluate_steps_parallel(square_sum, (x,), 0, np.arange(40), (1e-6, -1e-6), pool=pool,
                                progress=counter)  # type: ignore[arg-type]
    assert counter.done == 80


@pytest.mark.parametrize("count, workers", [(2000, 2), (10, 2), (3, 8), (100_000, 64)])
def test_chunks_shrink_toward_the_end_and_cover_every_element(count: int, workers: int) -> None:
    sizes = _chunk_sizes(count, workers)
    assert sum(sizes) == count and min(sizes) >= 1
    assert sizes[:-1] == sorted(sizes[:-1], reverse=True)  # the last one takes what is left
    assert len(sizes) <= (SHARE + 1) * FINEST * workers


def square_sum(args: Any) -> np.ndarray:
    return np.array([float(np.sum(args[0] ** 2))])


# ----------------------------------------------------------------------------- per-op re-checks


def check_op(settings: GradcheckSettings, fn: type, kwargs: dict[str, Any],
             inputs: tuple[Any, ...]) -> Any:
    """What the culprit search runs for one op, on the op's own (copied) inputs."""
    findings = examine(prepare(functools.partial(fn.apply, **kwargs), inputs), settings)
    findings.backward_error = None if findings.backward_error is None \
        else RuntimeError(str(findings.backward_error))
    return findings


def test_per_op_rechecks_ship_arrays_and_come_back_by_position(dask_client: Any) -> None:
    out = two_layers_with_bug(*parameters())
    nodes = [t.grad_fn for t in topological_order(out, only_requiring_grad=True)
             if t.grad_fn is not None]
    settings = GradcheckSettings.of(eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False,
                                    samples=None, directions=2, seed=0, localize=False,
                                    progress=False)
    serial = culprits_module.localize(out, settings)
    with resolve_workers(dask_client.get_executor()) as pool:
        findings = recheck_ops(functools.partial(check_op, settings), nodes, pool=pool)
    spread = [c for node, f in zip(nodes, findings, strict=True)
              for c in culprits_module._culprits_of(node, f)]
    assert [(c.node, c.message, c.rel_error) for c in spread] == \
        [(c.node, c.message, c.rel_error) for c in serial]
    assert [c.op for c in spread] == ["HalfSquare"]


def test_per_op_rechecks_keep_a_tensor_used_twice_as_one_input(process_executor: Any) -> None:
    x = Tensor(np.arange(3.0), requires_grad=True, name="x")
    node = (x * x).grad_fn

    def same(fn: type, kwargs: dict[str, Any], inputs: tuple[Any, ...]) -> Any:
        return inputs[0] is inputs[1], inputs[0].name, inputs[0].requires_grad, fn.__name__

    with resolve_workers(process_executor) as pool:
        assert recheck_ops(same, [node], pool=pool) == [(True, "x", True, "Mul")]
    assert recheck_ops(same, [node], pool=None) == [(True, "x", True, "Mul")]


class TwoArgumentError(ValueError):
    """An exception whose __init__ takes more than its message: pickle stores only args[0]."""

    def __init__(self, message: str, op: str) -> None:
        super().__init__(message)
        self.op = op


def test_per_op_results_that_cannot_travel_back_are_a_clear_error(
        process_executor: Any) -> None:
    node = (Tensor(np.arange(3.0), requires_grad=True) * 2.0).grad_fn

    def check(fn: type, kwargs: dict[str, Any], inputs: tuple[Any, ...]) -> Any:
        return TwoArgumentError("bad gradient", fn.__name__)  # pickles, does not unpickle

    with resolve_workers(process_executor) as pool, \
            pytest.raises(TypeError, match="re-checks cannot travel back: TypeError") as error:
        recheck_ops(check, [node], pool=pool)
    assert "sending their results back" in "\n".join(error.value.__notes__)


# ----------------------------------------------------------------------------- errors


class Raises:
    """A readout that raises once element 7 of x moves."""

    def __init__(self, x: np.ndarray) -> None:
        self.original = x.flat[7]

    def __call__(self, args: Any) -> np.ndarray:
        if args[0].flat[7] != self.original:
            raise ValueError("fn cannot take this value")
        return square_sum(args)


def test_fn_raising_in_a_worker_raises_its_error_naming_the_element(workers: Any) -> None:
    x = np.linspace(-1.0, 1.0, 10).reshape(2, 5)
    kept = x.copy()
    with pytest.raises(ValueError, match="fn cannot take this value") as serial:
        evaluate_steps_parallel(Raises(x), (x,), 0, np.arange(10), (1e-5, -1e-5), pool=None)
    before = children()
    with resolve_workers(workers) as pool, \
            pytest.raises(ValueError, match="fn cannot take this value") as spread:
        evaluate_steps_parallel(Raises(x), (x,), 0, np.arange(10), (1e-5, -1e-5), pool=pool)
    if workers == 2:  # the pool the call made is gone
        assert new_children(before) == []
    assert serial.value.__notes__ == ["while evaluating fn with x[1, 2] moved by +1e-05"]
    assert spread.value.__notes__ == [
        "while evaluating fn with x[1, 2] moved by +1e-05 (in a worker process; its traceback "
        "is the cause)"]
    assert "in the worker process" in str(spread.value.__cause__)
    assert np.array_equal(x, kept)


def exits_at_element_0(args: Any) -> np.ndarray:
    if args[0].flat[0] != 0.5:
        os._exit(3)  # a crash: the worker process dies
    return square_sum(args)


def test_a_dying_worker_is_named_and_the_pool_is_gone() -> None:
    x = np.full((2, 5), 0.5)
    before = children()
    with pytest.raises(WorkerError, match=r"x\[0, 0\] moved by \+1e-05") as error, \
            resolve_workers(2) as pool:
        evaluate_steps_parallel(exits_at_element_0, (x,), 0, np.arange(10), (1e-5, -1e-5),
                                pool=pool)
    assert "BrokenProcessPool" in str(error.value)
    assert new_children(before) == []


def test_a_pool_the_call_creates_leaves_nothing_running_and_sets_blas_threads() -> None:
    before, environment = children(), dict(os.environ)
    with resolve_workers(2) as pool:
        threads = evaluate_steps_parallel(blas_threads, (np.zeros(6),), 0, np.arange(6),
                                          (1.0,), pool=pool)[0]
    assert np.all(threads == 1)
    assert dict(os.environ) == environment
    assert new_children(before) == []


def blas_threads(args: Any) -> np.ndarray:
    from threadpoolctl import threadpool_info

    variables = all(os.environ.get(name) == "1" for name in BLAS_ENVIRONMENT)
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return np.array([max(blas) if variables else -1.0])


def test_a_callers_executor_runs_blas_single_threaded_and_stays_open(
        process_executor: Any) -> None:
    pytest.importorskip("threadpoolctl")
    with resolve_workers(process_executor) as pool:
        threads = evaluate_steps_parallel(blas_threads_now, (np.zeros(4),), 0, np.arange(4),
                                          (1.0,), pool=pool)[0]
    assert np.all(threads == 1)
    assert process_executor.submit(abs, -1).result() == 1  # still the caller's, still open


def blas_threads_now(args: Any) -> np.ndarray:
    from threadpoolctl import threadpool_info

    return np.array([max(p["num_threads"] for p in threadpool_info()
                         if p["user_api"] == "blas")])


def test_a_view_of_the_perturbed_array_is_refused(process_executor: Any) -> None:
    base = np.linspace(-1.0, 1.0, 12)
    x = base[:6]  # fn reads base; the worker would perturb a separate copy of x
    with resolve_workers(process_executor) as pool, \
            pytest.raises(ValueError, match="sharing its memory.*gradient would come out zero"):
        evaluate_steps_parallel(lambda args: np.array([base.sum()]), (x,), 0, np.arange(6),
                                (1e-6, -1e-6), pool=pool)


def test_fn_that_cannot_travel_is_a_clear_error(process_executor: Any) -> None:
    import threading

    lock = threading.Lock()
    with resolve_workers(process_executor) as pool, \
            pytest.raises(TypeError, match="could not be sent to the workers: cloudpickle"):
        evaluate_steps_parallel(lambda args: (lock, square_sum(args))[1], (np.zeros(3),), 0,
                                np.arange(3), (1e-6,), pool=pool)


class UnloadableReadout:
    """Pickles, but cannot be rebuilt: as an fn whose module the workers cannot import."""

    def __reduce__(self) -> Any:
        return (_import_missing_module, ())

    def __call__(self, args: Any) -> np.ndarray:
        return square_sum(args)


def _import_missing_module() -> Any:
    import a_module_the_workers_do_not_have  # type: ignore[import-not-found]  # noqa: F401


def test_fn_the_workers_cannot_load_is_a_clear_error(process_executor: Any) -> None:
    with resolve_workers(process_executor) as pool, \
            pytest.raises(ModuleNotFoundError) as error:
        evaluate_steps_parallel(UnloadableReadout(), (np.zeros(3),), 0, np.arange(3), (1e-6,),
                                pool=pool)
    assert "could not load fn and its inputs" in "\n".join(error.value.__notes__)


@pytest.mark.parametrize("bad, kind", [(0, ValueError), (-2, ValueError), (True, TypeError),
                                       ("2", TypeError), (2.0, TypeError)])
def test_bad_workers_are_refused(bad: Any, kind: type) -> None:
    with pytest.raises(kind, match="gradcheck: workers must be a positive int"), \
            resolve_workers(bad):
        pass


def test_serial_values_mean_no_pool() -> None:
    for serial in (None, 1, np.int64(1)):
        with resolve_workers(serial) as pool:
            assert pool is None


def test_missing_cloudpickle_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # import cloudpickle -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'tinygrad_edu\[distributed\]'"), \
            resolve_workers(2):
        pass
