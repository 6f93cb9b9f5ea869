"""fn evaluated at perturbed points: `evaluate_steps`, the one loop of evaluations behind every
finite difference (`numerical_gradient`, gradcheck's numerical side, and each chunk a worker
runs for `parallel`), and `warm_allocator`, which keeps those evaluations from page-faulting.

It sits below both its callers: `numerical` and `differences` reach it directly or through
`parallel.evaluate_steps_parallel`, which runs it here or spreads it over workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .progress import Progress

__all__ = ["evaluate_steps", "warm_allocator", "Readout"]

# What `evaluate_steps` calls: the function at the (perturbed) arguments, as a flat float array.
Readout = Callable[[Sequence[Any]], np.ndarray]


def evaluate_steps(
    readout: Readout,
    args: Sequence[Any],
    position: int,
    indices: np.ndarray,
    steps: Sequence[float] | np.ndarray,
    *,
    jointly: bool = False,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """readout(args) with elements of args[position] (an ndarray, or a Tensor's .data) moved.

    indices   flat indices into that array (C order of its flattened view)
    steps     jointly=False: scalars s; for each index j and each s, x.flat[j] alone is moved
              by s. Returns values (len(steps), len(indices), m) and the steps actually taken
              (as rounded in x's dtype), (len(steps), len(indices)).
              jointly=True: rows s of shape (len(indices),); all the indices move together,
              x.flat[indices] += steps[s]. Returns values (len(steps), m) and the
              displacements actually taken, (len(steps), len(indices)).

    m is the length of what readout returns. Every element is restored bit-for-bit before the
    next move, and in any case before this returns or raises. The caller decides the grad mode.
    This is the numerical side's only loop over evaluations: a parallel evaluator replaces it.
    """
    __tracebackhide__ = True
    target = args[position]
    x = target.data if isinstance(target, Tensor) else target
    if jointly:
        return _joint_moves(readout, args, x, indices, np.asarray(steps, dtype=np.float64),
                            progress)
    flat = x.flat
    taken = np.empty((len(steps), len(indices)))
    values: np.ndarray | None = None
    for row, j in enumerate(indices):
        original = flat[j]
        try:
            for s, step in enumerate(steps):
                flat[j] = original + step
                taken[s, row] = flat[j] - original
                value = readout(args)
                if values is None:
                    values = np.empty((len(steps), len(indices), value.size))
                values[s, row] = value
        finally:
            flat[j] = original
        if progress is not None:
            progress.advance(len(steps))
    if values is None:
        values = np.empty((len(steps), 0, 0))
    return values, taken


def _joint_moves(readout: Readout, args: Sequence[Any], x: np.ndarray, indices: np.ndarray,
                 steps: np.ndarray, progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """evaluate_steps(jointly=True) for a contiguous range of indices of a C-ordered x (a view
    of the block, written in place) or any indices (fancy indexing)."""
    contiguous = (x.flags.c_contiguous and indices.size > 0
                  and indices[-1] - indices[0] == indices.size - 1)
    flat = x.reshape(-1) if contiguous else None
    block = flat[indices[0]:indices[-1] + 1] if flat is not None else None
    original = block.copy() if block is not None else x.flat[indices].copy()
    taken = np.empty((len(steps), indices.size))
    values: list[np.ndarray] = []
    try:
        for s, step in enumerate(steps):
            if block is not None:
                np.add(original, step, out=block)
                taken[s] = block
            else:
                x.flat[indices] = original + step
                taken[s] = x.flat[indices]
            taken[s] -= original
            values.append(readout(args))
    finally:
        if block is not None:
            block[...] = original
        else:
            x.flat[indices] = original
    if progress is not None:
        progress.advance(len(steps))
    return np.stack(values) if values else np.empty((0, 0)), taken


_allocator_warm = False


def warm_allocator() -> None:
    """Free one large block, once per process (the caller's, at its first check, and each
    worker's). glibc hands a freed block above its mmap threshold (128 KB at start) straight
    back to the system, and trims the heap's top, so a process whose fn makes temporaries of a
    few hundred KB page-faults them in again on every evaluation (a check of a 30,000-element
    input: ~730 faults, twice its cost). Freeing a 16 MB block raises the thresholds as later
    large arrays would (glibc's dynamic threshold; elsewhere this costs an allocation and
    does nothing)."""
    global _allocator_warm
    if not _allocator_warm:
        _allocator_warm = True
        block = np.empty(1 << 21)  # 16 MB, untouched: no page is faulted in
        del block
