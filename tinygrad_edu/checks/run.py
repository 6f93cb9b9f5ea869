"""One run of a check: the upstream gradients of its analytic side (`Upstream`, drawn with
`random_weights`, which the other passes use for their random upstream gradients too) and
`CheckRun`, what a mode reads while it checks an input.

`procedure` makes the CheckRun from the settings (the mode picks the upstream gradients) and
hands it to the mode; the mode classes, below the settings that hold them, see only the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .comparison import SENSITIVITY_SAFETY, Comparison, summarize
from .differences import FiniteDifferences
from .outcomes import InputCheck
from .subject import Subject

__all__ = ["CheckRun", "Upstream", "random_weights"]


@dataclass(frozen=True, eq=False)
class Upstream:
    """The upstream gradients of the analytic side: unit vectors (the rows of the Jacobian),
    or one random v (the vector-Jacobian product vᵀJ; `projection` is v, and the numerical
    side reads vᵀ·output). Gradients are divided by `scale`, the upstream gradient given to a
    scalar output."""

    cotangents: list[np.ndarray]
    method: str
    projection: np.ndarray | None = None
    scale: float = 1.0

    @classmethod
    def projected(cls, rng: np.random.Generator, out_size: int) -> Upstream:
        v = random_weights(rng, out_size)
        return cls([v], "vector-Jacobian product", v)


class CheckRun:
    """One run of the check on a Subject: its random numbers, upstream gradients and
    numerical side (`differences`, its element-by-element evaluations on a pool's workers
    when there is one), and fast mode's number of blocks. Modes read it; it calls no user
    code itself.

    `inside` is, while a lazy mode has not needed it yet, how to read the rounding scale of
    the values fn computes inside (one more backward pass): see `read_inside`."""

    def __init__(self, subject: Subject, rng: np.random.Generator, upstream: Upstream,
                 differences: FiniteDifferences, directions: int) -> None:
        self.subject, self.rng, self.upstream = subject, rng, upstream
        self.differences, self.directions = differences, directions
        self.inside: Callable[[], np.ndarray] | None = None

    def widen_rounding(self, sensitivity: np.ndarray) -> None:
        """What the readout's rounding error is relative to: also the values fn computes
        inside, weighted by how much the readout depends on them (f may be small while they
        are not: a sum that cancels, a loss scaled down)."""
        self.differences.terms = np.maximum(self.differences.terms,
                                            SENSITIVITY_SAFETY * sensitivity)

    def read_inside(self) -> bool:
        """For a mode that judges first without them (fast mode, whose passing path is one
        backward pass): widen the rounding terms by the values fn computes inside, at the
        cost of one more backward pass, once. Whether they were not read yet."""
        inside, self.inside = self.inside, None
        if inside is None:
            return False
        self.widen_rounding(inside())
        return True

    def summarize(self, position: int, method: str, checked: int,
                  comparisons: list[Comparison], *, note: str = "",
                  directional_checks: int = 0) -> InputCheck:
        output = self.subject.output
        out_shape = output.shape if self.upstream.projection is None and output.size > 1 \
            else None
        return summarize(self.subject.originals[position], position, method, checked,
                         comparisons, out_shape, note=note, directional_checks=directional_checks)


def random_weights(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random signs times magnitudes in [0.5, 1]: no entry is near zero (so none is diluted)
    and no two errors cancel but by chance. Drawn as one random byte each (sign bit and 128
    magnitudes): for large inputs, drawing float64s costs about as much as a forward pass."""
    bits = rng.integers(0, 256, size=size, dtype=np.uint8)
    weights = (bits & 127).astype(np.float64)
    weights *= 0.5 / 127
    weights += 0.5
    return np.copysign(weights, 127.5 - bits, out=weights)  # negative where the top bit is set
