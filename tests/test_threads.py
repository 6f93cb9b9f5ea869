"""Grad mode and anomaly mode belong to a thread: one thread's `no_grad` never stops another
thread from recording its graph, and threads training side by side get the results they would
get alone.

Threads are interleaved deterministically with Events (every wait has a timeout, so a broken
hand-off fails the test instead of hanging it); each thread reports what it saw, or the
exception it hit, back to the main thread.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

TIMEOUT = 10.0


def run_threads(*bodies: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Run each body in its own thread, with a dict to report into; re-raise their errors."""
    reports: list[dict[str, Any]] = [{} for _ in bodies]

    def guarded(body: Callable[[dict[str, Any]], None], report: dict[str, Any]) -> None:
        try:
            body(report)
        except BaseException as error:  # handed to the main thread, which re-raises it
            report["error"] = error

    threads = [threading.Thread(target=guarded, args=pair) for pair in zip(bodies, reports)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread did not finish: an Event hand-off is broken"
    for report in reports:
        if "error" in report:
            raise report["error"]
    return reports


def wait(event: threading.Event) -> None:
    assert event.wait(TIMEOUT), "timed out waiting for the other thread"


def test_no_grad_in_one_thread_does_not_stop_another() -> None:
    """A enters no_grad, then B builds a graph while A is still inside it, then A builds
    one: B's graph is recorded (and differentiates), A's is not."""
    a_inside, b_built = threading.Event(), threading.Event()

    def thread_a(report: dict[str, Any]) -> None:
        x = Tensor([1.0, 2.0], requires_grad=True)
        with tg.no_grad():
            a_inside.set()
            wait(b_built)  # B has recorded its graph while A is in no_grad
            y = (x * x).sum()
            report["enabled inside"] = tg.is_grad_enabled()
        report["enabled after"] = tg.is_grad_enabled()
        report["y"] = y

    def thread_b(report: dict[str, Any]) -> None:
        wait(a_inside)
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        report["enabled"] = tg.is_grad_enabled()
        b_built.set()
        y.backward()
        report["y"], report["grad"] = y, x.grad

    a, b = run_threads(thread_a, thread_b)
    assert a["enabled inside"] is False and a["enabled after"] is True
    assert a["y"].grad_fn is None and not a["y"].requires_grad
    assert b["enabled"] is True
    assert b["y"].grad_fn is not None and b["y"].grad_fn.name == "Sum"
    np.testing.assert_array_equal(b["grad"], [2.0, 4.0])
    assert tg.is_grad_enabled()  # the main thread was never affected


def test_a_new_thread_starts_with_grad_on_even_if_its_creator_is_in_no_grad() -> None:
    seen: dict[str, bool] = {}

    def child(report: dict[str, Any]) -> None:
        report["enabled"] = tg.is_grad_enabled()
        report["recorded"] = (Tensor([1.0], requires_grad=True) * 2.0).grad_fn is not None

    with tg.no_grad():
        (report,) = run_threads(child)
        seen["parent"] = tg.is_grad_enabled()
    assert report == {"enabled": True, "recorded": True}
    assert seen["parent"] is False


def test_no_grad_as_a_decorator_is_per_thread_too() -> None:
    """The decorator form, running in A, while B checks the mode in between."""
    a_inside, b_checked = threading.Event(), threading.Event()

    @tg.no_grad()
    def evaluate(x: Tensor) -> Tensor:
        a_inside.set()
        wait(b_checked)
        return x * 3.0

    def thread_a(report: dict[str, Any]) -> None:
        report["out"] = evaluate(Tensor([1.0], requires_grad=True))

    def thread_b(report: dict[str, Any]) -> None:
        wait(a_inside)
        report["enabled"] = tg.is_grad_enabled()
        report["recorded"] = (Tensor([1.0], requires_grad=True) * 3.0).grad_fn is not None
        b_checked.set()

    a, b = run_threads(thread_a, thread_b)
    assert a["out"].grad_fn is None
    assert b == {"enabled": True, "recorded": True}


def test_anomaly_mode_is_per_thread() -> None:
    """A runs under detect_anomaly; B, meanwhile, computes log(-1) without an error."""
    a_inside, b_done = threading.Event(), threading.Event()

    def thread_a(report: dict[str, Any]) -> None:
        with tg.detect_anomaly():
            a_inside.set()
            wait(b_done)
            report["enabled"] = tg.is_anomaly_enabled()

    def thread_b(report: dict[str, Any]) -> None:
        wait(a_inside)
        report["enabled"] = tg.is_anomaly_enabled()
        with np.errstate(invalid="ignore"):
            report["value"] = Tensor([-1.0], requires_grad=True).log().data
        b_done.set()

    a, b = run_threads(thread_a, thread_b)
    assert a["enabled"] is True and b["enabled"] is False
    assert np.isnan(b["value"]).all()


def train(seed: int, steps: int, barrier: threading.Barrier | None = None) -> np.ndarray:
    """A small least-squares fit by gradient descent; returns the final weights."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w = Tensor(np.zeros(3), requires_grad=True, name="w")
    for _ in range(steps):
        if barrier is not None:
            barrier.wait(TIMEOUT)  # keep the two threads' steps interleaved
        loss = ((Tensor(X) @ w - y) ** 2).mean()
        w.zero_grad()
        loss.backward()
        with tg.no_grad():
            w.sub_(0.1 * w.grad)
    return w.data


def test_two_threads_training_side_by_side_match_training_alone() -> None:
    """Interleaved steps (with in-place updates moving the shared mutation clock) change
    nothing: each thread's weights are bit-for-bit those of a lone run."""
    alone = [train(seed, steps=60) for seed in (0, 1)]
    barrier = threading.Barrier(2)

    def trainer(seed: int) -> Callable[[dict[str, Any]], None]:
        return lambda report: report.update(w=train(seed, steps=60, barrier=barrier))

    together = run_threads(trainer(0), trainer(1))
    for lone, side_by_side in zip(alone, together):
        np.testing.assert_array_equal(side_by_side["w"], lone)
