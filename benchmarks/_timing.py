"""Timing helpers shared by the benchmark scripts: paired, alternating runs and medians.

Two implementations timed one after the other drift apart with the machine's load (other
processes, CPU frequency, caches). These helpers alternate them round by round (A B, then
B A, ...), so both see the same conditions, and report medians, which ignore the occasional
slow round; the best round is printed beside it as a check on the load's effect.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from typing import Callable

__all__ = ["time_calls", "alternate", "paired_runs", "summary", "machine_note", "fmt_us"]


def time_calls(fn: Callable[[], object], calls: int = 1, gc_off: bool = True) -> float:
    """Seconds per call over `calls` back-to-back calls of fn.

    gc_off  switch the cyclic garbage collector off while timing (as timeit does), so that a
            collection triggered by one side is not billed to whichever runs; pass False when
            the collector's cost is part of what is measured (e.g. scaling to huge graphs).
    """
    gc.collect()
    was_enabled = gc.isenabled()
    if gc_off:
        gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    finally:
        if was_enabled:
            gc.enable()


def alternate(
    measurements: dict[str, Callable[[], float]], *, rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Take every measurement once per round, flipping the order every round; `warmup`
    untimed rounds first. Each measurement returns its own figure (e.g. seconds), so it may
    do untimed set-up first. Returns the figures of the timed rounds, per name."""
    names = list(measurements)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            figure = measurements[name]()
            if round_index >= warmup:
                samples[name].append(figure)
    return samples


def paired_runs(
    candidates: dict[str, Callable[[], object]], *, rounds: int = 21, calls: int = 100,
    warmup: int = 2,
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, one sample per round of `calls` calls, alternated."""
    return alternate(
        {name: (lambda fn=fn: time_calls(fn, calls)) for name, fn in candidates.items()},
        rounds=rounds,
        warmup=warmup,
    )


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, best) of a list of timings."""
    return statistics.median(samples), min(samples)


def machine_note() -> str:
    """CPU count and load average: the context every printed figure needs."""
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # not available on this platform
        load = "unknown"
    return f"{os.cpu_count()} CPUs, load average (1, 5, 15 min): {load}"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"
