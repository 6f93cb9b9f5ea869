"""Parallel evaluation for gradient checks: the chunks of work behind `workers=` (see
`workers` for what the argument may be), and what travels with them.

How the work travels
--------------------
The elements to perturb are split into chunks, large ones first and small ones last (see
`SHARE`, `FINEST`), never one task per element. fn (inside its readout) and the inputs are
serialized with cloudpickle in ONE payload, sent once per chunk: a lambda or closure travels,
and an array fn reads through its closure is, in the worker, the very array that gets perturbed
(pickle keeps one object for references to the same object within one payload). So the
lecture's `numerical_gradient(lambda _: net.loss(X, y), net.W.data)` perturbs, in the worker,
the W that net.loss reads. A view of that array reached by fn would travel as a separate copy,
which the perturbation would not reach (a silently zero gradient): that is refused with an
error.

Each chunk runs the serial loop (`evaluations.evaluate_steps`) on its elements, and results come
back by index, so the numbers are those of the serial check, bit for bit, for a deterministic fn
with single-threaded BLAS (a multithreaded BLAS may round reductions differently).

Failures
--------
fn raising in a worker raises the same exception in the caller, with a note naming the element
being evaluated ("while evaluating fn with W[3, 1] moved by +1e-06") and the worker's traceback
as its cause; the serial path adds the same note. A worker process that dies raises
`WorkerError`, naming the elements the workers were evaluating at the time. Either way the
remaining chunks are cancelled, and a pool the call created is shut down.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
import tempfile
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..modes import detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad
from ..tensor import Context, Tensor
from .evaluations import evaluate_steps, warm_allocator
from .progress import Progress
from .workers import (
    BLAS_ENVIRONMENT,
    WorkerError,
    WorkerPool,
    Workers,
    blas_single_threaded,
    cloudpickle_module,
    resolve_workers,
)

__all__ = [
    "SHARE",
    "FINEST",
    "evaluate_steps_parallel",
    "recheck_ops",
    # from .workers, so that one import serves the checks
    "BLAS_ENVIRONMENT",
    "WorkerError",
    "WorkerPool",
    "Workers",
    "resolve_workers",
]

# Chunk sizes (guided scheduling): each chunk takes 1/(SHARE·workers) of the elements left, so
# the first chunks are large (few payloads) and the last ones, which decide when the workers
# finish together, small; none is smaller than 1/(FINEST·workers) of the whole.
SHARE, FINEST = 2, 16


# ----------------------------------------------------------------------------- what each chunk runs


class _Modes(NamedTuple):
    """The caller's modes, which fn must see in the workers too."""

    grad: bool
    anomaly: bool
    errstate: dict[str, Any]
    caller: int  # the caller's process id

    @classmethod
    def current(cls) -> _Modes:
        return cls(is_grad_enabled(), is_anomaly_enabled(), dict(np.geterr()), os.getpid())

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            stack.enter_context(enable_grad() if self.grad else no_grad())
            if self.anomaly:
                stack.enter_context(detect_anomaly())
            stack.enter_context(np.errstate(**self.errstate))
            if os.getpid() != self.caller:  # threads of the caller's process: its BLAS is its own
                stack.enter_context(blas_single_threaded())
                warm_allocator()
            yield


class _SweepTask(NamedTuple):
    payload: bytes  # cloudpickle of (readout, args)
    position: int
    chunk: int
    indices: np.ndarray
    steps: Sequence[Any]  # as given: a numpy float and a Python float round differently
    modes: _Modes
    tracker: str | None


class _Failure(NamedTuple):
    """What a worker sends back when the work raised: the exception (if it pickles), its
    type, message and traceback, and where in the work it happened."""

    position: int | None  # in the chunk's work: an evaluation, an op; None: loading the payload
    error: bytes | None
    kind: str
    message: str
    traceback: str

    @classmethod
    def of(cls, error: BaseException, position: int | None) -> _Failure:
        try:
            pickled: bytes | None = _round_trip(error)
        except Exception:  # an exception class whose __init__ pickle cannot call again
            pickled = None
        return cls(position, pickled, type(error).__name__, str(error),
                   "".join(traceback.format_exception(error)))

    def exception(self, note: str, where: str) -> BaseException:
        error: BaseException | None = None
        if self.error is not None:
            with contextlib.suppress(Exception):
                error = pickle.loads(self.error)
        if not isinstance(error, BaseException):
            error = WorkerError(f"{where}: {self.kind}: {self.message}")
        _add_note(error, note)
        error.__cause__ = _RemoteTraceback(self.traceback)
        return error


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process, shown as its cause."""

    def __init__(self, text: str) -> None:
        super().__init__(text)

    def __str__(self) -> str:
        return "\n\nin the worker process:\n" + str(self.args[0])


class _Counted:
    """A readout that counts its calls, so that an exception tells which evaluation raised,
    and writes the count into the chunk's tracker slot (read if the worker dies)."""

    def __init__(self, readout: Callable[[Sequence[Any]], np.ndarray],
                 slot: np.ndarray | None = None) -> None:
        self.readout, self.slot, self.calls = readout, slot, 0

    def __call__(self, args: Sequence[Any]) -> np.ndarray:
        self.calls += 1
        if self.slot is not None:
            self.slot[0] = self.calls
        return self.readout(args)


def _sweep_chunk(task: _SweepTask) -> tuple[np.ndarray, np.ndarray] | _Failure:
    """In a worker: the serial loop on one chunk of elements."""
    with task.modes.applied():
        try:
            readout, args = pickle.loads(task.payload)
        except Exception as error:
            return _Failure.of(error, None)
        counted = _Counted(readout, _tracker_slot(task.tracker, task.chunk))
        try:
            return evaluate_steps(counted, args, task.position, task.indices, task.steps)
        except Exception as error:
            return _Failure.of(error, counted.calls - 1)


# ----------------------------------------------------------------------------- evaluations


def evaluate_steps_parallel(
    readout: Callable[[Sequence[Any]], np.ndarray],
    args: Sequence[Any],
    position: int,
    indices: np.ndarray,
    steps: Sequence[Any],
    *,
    pool: WorkerPool | None,
    jointly: bool = False,
    progress: Progress | None = None,
    label: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`evaluations.evaluate_steps` (same arguments, same results bit for bit), its elements
    spread over the pool's workers in chunks. pool None runs it here.

    readout  called as readout(args) in the workers: it must be self-contained (fn, the shape
             it expects, a projection vector), never an object holding Tensors with graphs,
             and must count nothing (its copies in the workers would do the counting).
    label    how the perturbed input is named in errors ("W", "input 0 'x'"); default: its
             Tensor name, else "x" for a single argument, else "input{position}".

    Joint moves (fast mode's few directional evaluations) always run here: two evaluations are
    not worth shipping. An exception from fn carries a note naming the element and step.
    """
    naming = _Naming(label or _default_label(args, position), _array(args[position]).shape,
                     steps)
    indices = np.asarray(indices)
    if pool is None or jointly or indices.size == 0:
        counted = _Counted(readout)
        try:
            return evaluate_steps(counted, args, position, indices, steps, jointly=jointly,
                                  progress=progress)
        except Exception as error:
            if counted.calls:  # fn raised (not a check before any evaluation)
                _add_note(error, "while evaluating fn with "
                          + naming.evaluation(indices, counted.calls - 1, jointly))
            raise
    chunks = np.split(indices, np.cumsum(_chunk_sizes(indices.size, pool.size))[:-1])
    offsets = np.cumsum([0] + [chunk.size for chunk in chunks])
    payload = _payload(readout, args, position, pool.where, naming.label)
    modes = _Modes.current()
    taken = np.empty((len(steps), indices.size))
    collected: list[np.ndarray] = []  # the values array, once the first result tells its width

    def on_result(i: int, result: tuple[np.ndarray, np.ndarray] | _Failure) -> None:
        start, stop = offsets[i], offsets[i + 1]
        if isinstance(result, _Failure):
            raise naming.failure(result, chunks[i], pool.where)
        values, chunk_taken = result
        if not collected:
            collected.append(np.empty((len(steps), indices.size) + values.shape[2:]))
        collected[0][:, start:stop] = values
        taken[:, start:stop] = chunk_taken
        if progress is not None:
            progress.advance(len(steps) * (stop - start))

    with _Tracker(len(chunks)) as tracker:
        tasks = [_SweepTask(payload, position, c, chunk, steps, modes, tracker.path)
                 for c, chunk in enumerate(chunks)]

        def on_lost(unfinished: list[int], error: BaseException) -> Exception:
            counts = tracker.counts()
            moves = [naming.evaluation(chunks[c], counts[c] - 1)
                     for c in unfinished if counts[c] > 0]
            return naming.lost(pool.where, error, moves, [chunks[c] for c in unfinished])

        pool.run(_sweep_chunk, tasks, on_result, on_lost)
    return collected[0], taken


class _Naming(NamedTuple):
    """How the evaluations of one sweep are named in errors: "W[3, 1] moved by +1e-06"."""

    label: str
    shape: tuple[int, ...]
    steps: Sequence[Any]

    def element(self, flat_index: int) -> str:
        index = np.unravel_index(int(flat_index), self.shape) if self.shape else ()
        return f"{self.label}[{', '.join(str(int(i)) for i in index)}]" if index else self.label

    def evaluation(self, indices: np.ndarray, evaluation: int, jointly: bool = False) -> str:
        """The evaluation-th call of fn in a sweep of `indices` (element after element, each
        with every step in turn; or, jointly, one call per step)."""
        if jointly:
            return (f"{self.label} moved along direction {evaluation} "
                    f"({indices.size} elements at once)")
        element, step = divmod(max(evaluation, 0), len(self.steps))
        return f"{self.element(indices[element])} moved by {float(self.steps[step]):+.3g}"

    def failure(self, failure: _Failure, chunk: np.ndarray, where: str) -> BaseException:
        if failure.position is None:
            return failure.exception(
                f"{where}: the workers could not load fn and its inputs. A function or class "
                "whose module is importable is sent by reference, so the workers must be able "
                "to import that module too (or call cloudpickle.register_pickle_by_value(module))",
                where)
        return failure.exception(f"while evaluating fn with {self.evaluation(chunk, failure.position)}"
                                 " (in a worker process; its traceback is the cause)", where)

    def lost(self, where: str, error: BaseException, moves: list[str],
             unfinished: list[np.ndarray]) -> WorkerError:
        if moves:
            doing = "evaluating fn with " + (moves[0] if len(moves) == 1
                                             else "one of " + "; ".join(moves))
        else:  # the workers are on other machines: no tracker
            doing = "evaluating fn on " + "; ".join(
                f"{self.element(c[0])} to {self.element(c[-1])}" for c in unfinished[:4])
        return WorkerError(
            f"{where}: a worker failed ({type(error).__name__}: {error}) while {doing}. A worker "
            "process that dies (a crash in compiled code, out of memory, os._exit) takes its "
            "evaluation with it; the check was stopped, and a pool created by the call shut down.")


def _chunk_sizes(count: int, workers: int) -> list[int]:
    """How many elements each chunk gets, largest first (see SHARE, FINEST); sums to count."""
    smallest = -(-count // (FINEST * workers))
    sizes, left = [], count
    while left > 0:
        sizes.append(min(left, max(smallest, -(-left // (SHARE * workers)))))
        left -= sizes[-1]
    return sizes


def _default_label(args: Sequence[Any], position: int) -> str:
    target = args[position]
    if isinstance(target, Tensor) and target.name:
        return target.name
    return "x" if len(args) == 1 else f"input{position}"


def _add_note(error: BaseException, note: str) -> None:
    """PEP 678 notes (shown under the message from Python 3.11; kept in `__notes__` before)."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), note]  # type: ignore[attr-defined]


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else value


class _Tracker:
    """A small file where each chunk writes how many evaluations it has started, so that when
    a worker process dies the caller can say what it was evaluating. Only workers on this
    machine find the file; elsewhere a chunk does without."""

    def __init__(self, chunks: int) -> None:
        descriptor, self.path = tempfile.mkstemp(prefix="tinygrad_edu-", suffix=".evaluations")
        try:
            os.ftruncate(descriptor, 8 * max(chunks, 1))
        finally:
            os.close(descriptor)

    def counts(self) -> np.ndarray:
        return np.fromfile(self.path, dtype=np.int64)

    def __enter__(self) -> _Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _tracker_slot(path: str | None, chunk: int) -> np.ndarray | None:
    if path is None or not os.path.exists(path):
        return None
    try:
        return np.memmap(path, dtype=np.int64, mode="r+", offset=8 * chunk, shape=(1,))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- the payload


def _payload(readout: Any, args: Sequence[Any], position: int, where: str, label: str) -> bytes:
    """cloudpickle of (readout, args) in one stream, the perturbed array made writable in the
    workers; refuses an fn that reaches that array through a separate view."""
    target = _array(args[position])
    payload, pickler = _dumps((readout, tuple(args)), target, where, "fn and its inputs")
    if pickler.aliases:
        shapes = ", ".join(str(a.shape) for a in pickler.aliases[:3])
        raise ValueError(
            f"{where}: fn reaches {label} (shape {target.shape}) also through another array "
            f"sharing its memory (a view, shape {shapes}). In a worker process that view would "
            "be a separate copy, which the perturbation does not reach, and the gradient would "
            "come out zero. Pass the array fn reads (the base array, not a view of it), or run "
            "without workers."
        )
    return payload


def _dumps(obj: Any, target: np.ndarray | None, where: str, what: str) -> tuple[bytes, Any]:
    buffer = io.BytesIO()
    pickler = _payload_pickler(cloudpickle_module(where))(buffer, target)
    try:
        pickler.dump(obj)
    except Exception as error:
        raise TypeError(
            f"{where}: {what} could not be sent to the workers: cloudpickle failed with "
            f"{type(error).__name__}: {error}"
        ) from error
    return buffer.getvalue(), pickler


_pickler_classes: dict[int, type] = {}


def _payload_pickler(cloudpickle: Any) -> type:
    """A cloudpickle Pickler that watches for the perturbed array, and sends a classmethod
    (`MyOp.apply`) as the attribute of its class, as pickle does: cloudpickle would send the
    function by value, with the module globals it reads (the engine's thread-local modes do
    not pickle). Made once: cloudpickle is imported lazily."""
    cached = _pickler_classes.get(id(cloudpickle))
    if cached is not None:
        return cached

    class PayloadPickler(cloudpickle.Pickler):
        def __init__(self, file: io.BytesIO, target: np.ndarray | None) -> None:
            super().__init__(file, protocol=cloudpickle.DEFAULT_PROTOCOL)
            self.target = target
            self.aliases: list[np.ndarray] = []

        def reducer_override(self, obj: Any) -> Any:
            if type(obj) is np.ndarray:
                if obj is self.target:
                    # A copy travels (keeping the memory layout), so that a read-only array
                    # (saved by a live graph) arrives writable; every reference to the target
                    # in this payload becomes that one array.
                    return _writable, (obj.copy(order="K"),)
                if self.target is not None and _shares_memory(obj, self.target):
                    self.aliases.append(obj)
            elif isinstance(obj, types.MethodType) and isinstance(obj.__self__, type) \
                    and getattr(obj.__self__, obj.__name__, None) == obj:
                return getattr, (obj.__self__, obj.__name__)
            return super().reducer_override(obj)

    _pickler_classes[id(cloudpickle)] = PayloadPickler
    return PayloadPickler


def _shares_memory(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):
        return False
    return bool(np.shares_memory(a, b))  # exact; quick for the views people make


def _writable(array: np.ndarray) -> np.ndarray:
    return array if array.flags.writeable else array.copy(order="K")


# ----------------------------------------------------------------------------- per-op re-checks


class _Leaf(NamedTuple):
    """A Tensor input of an op, as it travels: its array, never the Tensor (whose pickle would
    carry its whole graph)."""

    data: np.ndarray
    requires_grad: bool
    name: str | None


class _OpTask(NamedTuple):
    payload: bytes  # cloudpickle of (check, [(Function class, kwargs, inputs), ...])
    modes: _Modes


def _op_spec(node: Context) -> tuple[type, dict[str, Any], tuple[Any, ...]]:
    leaves: dict[int, _Leaf] = {}  # the same Tensor twice stays one input, as in the graph

    def leaf(t: Tensor) -> _Leaf:
        return leaves.setdefault(id(t), _Leaf(t.data, t.requires_grad, t.name))

    inputs = tuple(leaf(x) if isinstance(x, Tensor) else x for x in node.inputs)
    return node.fn, dict(node.kwargs), inputs


def _rebuilt(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    tensors: dict[int, Tensor] = {}

    def tensor(leaf: _Leaf) -> Tensor:
        if id(leaf) not in tensors:
            tensors[id(leaf)] = Tensor(leaf.data, requires_grad=leaf.requires_grad,
                                       name=leaf.name)
        return tensors[id(leaf)]

    return tuple(tensor(x) if isinstance(x, _Leaf) else x for x in inputs)


def _check_ops(task: _OpTask) -> bytes | _Failure:
    """In a worker: check(fn, kwargs, inputs) for each op of the chunk; the results pickled."""
    with task.modes.applied():
        try:
            check, specs = pickle.loads(task.payload)
        except Exception as error:
            return _Failure.of(error, None)
        results = []
        for k, (fn, kwargs, inputs) in enumerate(specs):
            try:
                results.append(check(fn, kwargs, _rebuilt(inputs)))
            except Exception as error:
                return _Failure.of(error, k)
        try:
            return _round_trip(results)
        except Exception as error:
            return _Failure.of(TypeError(
                f"the results of the re-checks cannot travel back: {type(error).__name__}: "
                f"{error}"), None)


def _round_trip(obj: Any) -> bytes:
    """obj pickled, once it is known to unpickle too (an exception whose __init__ takes more
    than its message pickles, then fails to load)."""
    data: bytes = cloudpickle_module("gradcheck").dumps(obj)
    pickle.loads(data)
    return data


def recheck_ops(
    check: Callable[[type, dict[str, Any], tuple[Any, ...]], Any],
    nodes: Sequence[Context],
    *,
    pool: WorkerPool | None,
    progress: Progress | None = None,
) -> list[Any]:
    """[check(node.fn, kwargs, inputs) for node in nodes], in node order, the calls spread over
    the pool's workers (pool None: here).

    inputs are the node's inputs with each Tensor replaced by a new leaf Tensor holding a copy
    of its array, its requires_grad and name (the same Tensor twice stays one Tensor);
    constants as they are. Only arrays travel, never a Tensor with its graph. check travels
    with cloudpickle; what it returns must pickle (no Tensor with a graph: drop
    `report.output`), and comes back mapped to its node by position.
    """
    specs = [_op_spec(node) for node in nodes]
    if pool is None or not specs:
        results = []
        for node, (fn, kwargs, inputs) in zip(nodes, specs, strict=True):
            try:
                results.append(check(fn, kwargs, _rebuilt(inputs)))
            except Exception as error:
                _add_note(error, f"while re-checking op {node.name}")
                raise
            if progress is not None:
                progress.advance(1)
        return results
    bounds = np.cumsum([0] + _chunk_sizes(len(specs), pool.size))
    ranges = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
    modes = _Modes.current()
    tasks = [_OpTask(_dumps((check, specs[a:b]), None, pool.where, "the ops to re-check")[0],
                     modes) for a, b in ranges]
    collected: list[Any] = [None] * len(specs)

    def on_result(i: int, result: bytes | _Failure) -> None:
        a, b = ranges[i]
        if isinstance(result, _Failure):
            doing = ("while loading the ops to re-check, or sending their results back"
                     if result.position is None
                     else f"while re-checking op {nodes[a + result.position].name}")
            raise result.exception(f"{doing} (in a worker process; its traceback is the cause)",
                                   pool.where)
        collected[a:b] = pickle.loads(result)
        if progress is not None:
            progress.advance(b - a)

    def on_lost(unfinished: list[int], error: BaseException) -> Exception:
        ops = sorted({nodes[k].name for i in unfinished for k in range(*ranges[i])})
        return WorkerError(f"{pool.where}: a worker failed ({type(error).__name__}: {error}) "
                           f"while re-checking ops {', '.join(ops)}")

    pool.run(_check_ops, tasks, on_result, on_lost)
    return collected
