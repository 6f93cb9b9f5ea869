"""How a check covers the input elements: every element (`FullMode`), a random sample of them
(`SampledMode`), or random directions (`FastMode`, in fast.py). The procedure asks its mode
which upstream gradients to use, whether to run the linearity passes, and how to check an
input; nothing else in the procedure tests which mode it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .outcomes import InputCheck
from .progress import Progress
from .run import CheckRun, Upstream

__all__ = ["CheckMode", "FullMode", "SampledMode", "JACOBIAN_LIMIT"]

JACOBIAN_LIMIT = 1_000_000  # Jacobian entries; above this, vᵀJ for a random v is checked
MAX_JACOBIAN_ROWS = 2048  # one backward pass per output element: cap their number


class CheckMode:
    """The strategy of the numerical side. Subclasses set `checks_linearity` and implement
    `check_input`; they may refine the others."""

    checks_linearity: ClassVar[bool] = True  # run the -2, zero and mixed upstream passes
    # widen the rounding terms by fn's inner values only when a judgement needs them
    # (CheckRun.read_inside) instead of in the first backward passes
    reads_inside_lazily: ClassVar[bool] = False
    name: ClassVar[str] = ""

    def upstream(self, out_size: int, entries: int, rng: np.random.Generator) -> Upstream:
        """Unit upstream gradients (the whole Jacobian) while it is small, else one random v.
        entries: out_size times the number of checked input elements."""
        full = out_size == 1 or (0 < out_size <= MAX_JACOBIAN_ROWS and entries <= JACOBIAN_LIMIT)
        if full:  # an empty output gets an empty v: vᵀJ = 0, matched by finite differences
            return Upstream(list(np.eye(out_size)), "Jacobian")
        return Upstream.projected(rng, out_size)

    def planned_evaluations(self, sizes: list[int]) -> int:
        """How many evaluations of fn the numerical side will make (for the progress bar; 0
        when adaptive)."""
        return 2 * sum(sizes)

    def check_input(self, run: CheckRun, position: int, analytic: np.ndarray, method: str,
                    progress: Progress) -> InputCheck:
        """analytic: (upstream gradients, input elements), the Jacobian or vᵀJ."""
        raise NotImplementedError


class FullMode(CheckMode):
    """Every element of every input, a centered difference each: 2·numel evaluations."""

    name = "full"

    def check_input(self, run: CheckRun, position: int, analytic: np.ndarray, method: str,
                    progress: Progress) -> InputCheck:
        __tracebackhide__ = True
        return check_elements(run, position, np.arange(analytic.shape[1]), analytic, method,
                              progress)


@dataclass(frozen=True)
class SampledMode(CheckMode):
    """`samples` random elements of each input (cs231n's grad_check_sparse)."""

    samples: int
    name = "sampled"

    def planned_evaluations(self, sizes: list[int]) -> int:
        return 2 * sum(min(n, self.samples) for n in sizes)

    def check_input(self, run: CheckRun, position: int, analytic: np.ndarray, method: str,
                    progress: Progress) -> InputCheck:
        __tracebackhide__ = True
        size = analytic.shape[1]
        indices = np.arange(size)
        if self.samples < size:
            indices = np.sort(run.rng.choice(size, size=self.samples, replace=False))
            method = f"sampled {self.samples} of {size} elements, {method}"
        return check_elements(run, position, indices, analytic, method, progress)


def check_elements(run: CheckRun, position: int, indices: np.ndarray, analytic: np.ndarray,
                   method: str, progress: Progress) -> InputCheck:
    """Compare the columns `indices` of analytic with centered differences."""
    __tracebackhide__ = True
    if indices.size == 0:
        return run.summarize(position, method, 0, [])
    comparison = run.differences.compare(position, indices, analytic[:, indices].T, progress)
    return run.summarize(position, method, comparison.entries, [comparison])
