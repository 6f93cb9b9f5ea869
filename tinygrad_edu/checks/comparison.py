"""Analytic against numerical derivatives, entry by entry, and what a mismatch means: a wrong
backward, or a kink (a point where no single derivative exists)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..tensor import Tensor
from .report import MAX_LISTED, InputCheck, Mismatch

__all__ = ["Comparison", "summarize", "TINY"]

TINY = float(np.finfo(np.float64).tiny)


@dataclass(eq=False)
class Comparison:
    """Analytic vs numerical derivatives, flattened: entry e compares d readout[output[e]] /
    d x.flat[element[e]].

    An entry outside the tolerance whose one-sided slopes (f(x+h) - f(x))/h and
    (f(x) - f(x-h))/h differ and bracket the analytic value sits on a kink (relu at 0, a tie
    of max, |x| at 0): it is a kink, not a failure. `kink` may be narrowed afterwards (see
    `FiniteDifferences.compare`), the one change made to a Comparison once built.
    """

    element: np.ndarray
    output: np.ndarray
    analytic: np.ndarray
    numerical: np.ndarray
    slope_plus: np.ndarray
    slope_minus: np.ndarray
    wrong: np.ndarray  # outside the tolerance
    kink: np.ndarray
    rel: np.ndarray

    @property
    def failed(self) -> np.ndarray:
        """Wrong and not on a kink."""
        return self.wrong & ~self.kink

    @property
    def entries(self) -> int:
        return self.element.size

    @classmethod
    def of(cls, indices: np.ndarray, analytic: np.ndarray, numerical: np.ndarray,
           slope_plus: np.ndarray, slope_minus: np.ndarray, atol: float, rtol: float
           ) -> Comparison:
        """analytic, numerical, slopes: (len(indices), readout size)."""
        rows, cols = analytic.shape
        a, n = analytic.reshape(-1), numerical.reshape(-1)
        sp, sm = slope_plus.reshape(-1), slope_minus.reshape(-1)
        wrong = ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # NaN counts as wrong
        jump = np.abs(sp - sm) > atol + rtol * np.maximum(np.abs(sp), np.abs(sm))
        slack = atol + rtol * np.abs(a)
        between = (a >= np.minimum(sp, sm) - slack) & (a <= np.maximum(sp, sm) + slack)
        rel = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), TINY)
        return cls(np.repeat(indices, cols), np.tile(np.arange(cols), rows), a, n, sp, sm,
                   wrong, jump & between, np.nan_to_num(rel, nan=np.inf))

    @classmethod
    def concatenate(cls, parts: list[Comparison]) -> Comparison:
        if not parts:
            empty = np.empty(0)
            flag = empty.astype(bool)
            return cls(empty.astype(int), empty.astype(int), empty, empty, empty, empty,
                       flag, flag, empty)
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def mismatch(self, position: int, e: int, shape: tuple[int, ...],
                 out_shape: tuple[int, ...] | None) -> Mismatch:
        return Mismatch(
            input_index=position,
            index=unravel(self.element[e], shape),
            output_index=None if out_shape is None else unravel(self.output[e], out_shape),
            analytic=float(self.analytic[e]), numerical=float(self.numerical[e]),
            rel_error=float(self.rel[e]),
            slopes=(float(self.slope_plus[e]), float(self.slope_minus[e])),
        )


def summarize(original: Tensor, position: int, method: str, checked: int,
              comparisons: list[Comparison], out_shape: tuple[int, ...] | None, *,
              note: str = "", directional_checks: int = 0) -> InputCheck:
    """The InputCheck of one input from its comparisons. out_shape: None when each
    comparison's readout is one number (a scalar or projected output)."""
    merged = Comparison.concatenate(comparisons)
    failed = merged.failed

    def listed(mask: np.ndarray) -> list[Mismatch]:
        chosen = np.flatnonzero(mask)
        chosen = chosen[np.argsort(-merged.rel[chosen], kind="stable")][:MAX_LISTED]
        return [merged.mismatch(position, int(k), original.shape, out_shape) for k in chosen]

    return InputCheck(
        position=position, name=original.name, shape=original.shape,
        dtype=str(original.dtype), method=method, checked=checked,
        failures=int(failed.sum()), worst=listed(failed),
        num_kinks=int(merged.kink.sum()), kinks=listed(merged.kink),
        max_rel_error=float(np.max(merged.rel[~merged.kink], initial=0.0)),
        unit="elements" if out_shape is None else "Jacobian entries", note=note,
        directional_checks=directional_checks,
    )


def unravel(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape)) if shape else ()
