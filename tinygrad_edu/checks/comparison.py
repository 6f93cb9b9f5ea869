"""Analytic against numerical derivatives, entry by entry: the tolerance model, and what each
entry turned out to be (agreeing, wrong, or on a non-differentiable point).

The tolerance model
-------------------
By default (atol=None, rtol=None) an entry is judged against the error its own difference can
have. A centered difference with step h carries a truncation error of about h²/6·|f'''| and a
rounding error of about ε·|f|/h, where ε is the precision of the least precise value fn
computes (float64 unless an op works in float32 inside). The first comparison, made for every
entry at no extra cost, allows

    |analytic - numerical| <= 1e-7·|numerical| + 32·ε·|f|/h

(the floor for the rounding error of f's evaluations, as fast mode always used). The few
entries outside it are refined (see kinks.py): differences at h/2, h/4, ... give the
Richardson limit, whose error is estimated from how much the differences still move; the
analytic value must match that limit within twice that estimate (plus the floor). So a
0.1% error is caught in a loss scaled by 1e-7, and a steep but smooth point (log near 1e-4)
is judged by the limit of its differences, not excused as a kink.

With atol or rtol given, PyTorch's fixed rule |analytic - numerical| <= atol + rtol·|numerical|
applies instead (the other at PyTorch's default, atol=1e-5, rtol=1e-3), also to the refined
limit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..tensor import Tensor
from .outcomes import MAX_LISTED, InputCheck, Mismatch

__all__ = ["Comparison", "Tolerance", "summarize", "TINY", "AGREE", "WRONG", "KINK",
           "UNRESOLVED", "DISCONTINUITY"]

TINY = float(np.finfo(np.float64).tiny)
FLOOR_RTOL = 1e-7  # relative floor of the estimated tolerance
ROUNDING_SAFETY = 32.0  # multiple of ε·|f|/h tolerated as f's rounding error
SENSITIVITY_SAFETY = 2.0  # multiple of ε·Σ|∂f/∂y|·|y|/h (over the values y fn computes)
DEFAULT_ATOL, DEFAULT_RTOL = 1e-5, 1e-3  # PyTorch's, for a caller who gives only one

# What an entry is: its `kind` code.
AGREE, WRONG, KINK, UNRESOLVED, DISCONTINUITY = range(5)
KIND_NAMES = {KINK: "kink", UNRESOLVED: "unresolved kink", DISCONTINUITY: "discontinuity"}


@dataclass(frozen=True)
class Tolerance:
    """How far an analytic derivative may be from its finite difference.

    atol, rtol   None and None: the estimated error (see the module docstring); else PyTorch's
                 fixed rule, a missing one at PyTorch's default
    precision    ε of the least precise value fn computes (rounding of its evaluations)
    """

    atol: float | None
    rtol: float | None
    precision: float = float(np.finfo(np.float64).eps)

    @property
    def estimated(self) -> bool:
        return self.atol is None and self.rtol is None

    @property
    def fixed(self) -> tuple[float, float]:
        return (DEFAULT_ATOL if self.atol is None else self.atol,
                DEFAULT_RTOL if self.rtol is None else self.rtol)

    def rounding(self, magnitude: np.ndarray | float, step: float) -> np.ndarray | float:
        """The rounding error a centered difference with this step can carry, for values of f
        whose rounding scale (safety factors included) is `magnitude`."""
        return self.precision * magnitude / step

    def per_element(self, value: np.ndarray) -> np.ndarray:
        """The deviation allowed for a derivative of this value, before any estimate of the
        difference's own error: the floor 1e-7·|value|, or atol + rtol·|value|."""
        if self.estimated:
            return FLOOR_RTOL * np.abs(value)
        atol, rtol = self.fixed
        return atol + rtol * np.abs(value)

    def first(self, numerical: np.ndarray, magnitude: np.ndarray | float, step: float
              ) -> np.ndarray:
        """The deviation allowed at the first comparison."""
        if self.estimated:
            return self.per_element(numerical) + self.rounding(magnitude, step)
        return self.per_element(numerical)

    def refined(self, limit: np.ndarray, spread: np.ndarray, magnitude: np.ndarray | float,
                step: float) -> np.ndarray:
        """The deviation allowed from a Richardson limit, whose differences still moved by
        `spread` between the last two steps."""
        if self.estimated:
            return 2 * spread + self.per_element(limit) + self.rounding(magnitude, step)
        return self.per_element(limit)

    def describe(self) -> str:
        if self.estimated:
            return "tolerance: each difference's estimated error"
        atol, rtol = self.fixed
        return f"atol={atol}, rtol={rtol}"


@dataclass(eq=False)
class Comparison:
    """Analytic vs numerical derivatives, flattened: entry e compares d readout[output[e]] /
    d x.flat[element[e]]. `kind` says what each entry is (AGREE, WRONG, KINK, ...);
    `numerical` is the refined value where an entry was refined. Built by `of`, settled by
    kinks.settle, then only read."""

    element: np.ndarray
    output: np.ndarray
    analytic: np.ndarray
    numerical: np.ndarray
    slope_plus: np.ndarray
    slope_minus: np.ndarray
    magnitude: np.ndarray  # size of f's terms at this entry (what rounding is relative to)
    kind: np.ndarray

    @property
    def failed(self) -> np.ndarray:
        return self.kind == WRONG

    @property
    def kink(self) -> np.ndarray:
        """On a non-differentiable point: kink, unresolved kink or discontinuity."""
        return self.kind >= KINK

    @property
    def rel(self) -> np.ndarray:
        a, n = self.analytic, self.numerical
        rel = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), TINY)
        return np.nan_to_num(rel, nan=np.inf)

    @property
    def entries(self) -> int:
        return self.element.size

    @classmethod
    def of(cls, indices: np.ndarray, analytic: np.ndarray, numerical: np.ndarray,
           slope_plus: np.ndarray, slope_minus: np.ndarray, magnitude: np.ndarray,
           tolerance: Tolerance, step: float) -> Comparison:
        """analytic, numerical, slopes, magnitude: (len(indices), readout size). An entry is
        WRONG when outside the first tolerance (NaN included), AGREE otherwise."""
        rows, cols = analytic.shape
        a, n = analytic.reshape(-1), numerical.reshape(-1)
        m = np.broadcast_to(magnitude, analytic.shape).reshape(-1)
        agree = np.abs(a - n) <= tolerance.first(n, m, step)
        kind = np.where(agree, AGREE, WRONG)
        return cls(np.repeat(indices, cols), np.tile(np.arange(cols), rows), a, n.copy(),
                   slope_plus.reshape(-1), slope_minus.reshape(-1), m.copy(), kind)

    @classmethod
    def concatenate(cls, parts: list[Comparison]) -> Comparison:
        if not parts:
            empty = np.empty(0)
            index = empty.astype(int)
            return cls(index, index, empty, empty, empty, empty, empty, index)
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
            kind=KIND_NAMES.get(int(self.kind[e]), ""),
        )


def summarize(original: Tensor, position: int, method: str, checked: int,
              comparisons: list[Comparison], out_shape: tuple[int, ...] | None, *,
              note: str = "", directional_checks: int = 0) -> InputCheck:
    """The InputCheck of one input from its comparisons. out_shape: None when each
    comparison's readout is one number (a scalar or projected output)."""
    merged = Comparison.concatenate(comparisons)
    failed, kink, rel = merged.failed, merged.kink, merged.rel

    def listed(mask: np.ndarray) -> list[Mismatch]:
        chosen = np.flatnonzero(mask)
        chosen = chosen[np.argsort(-rel[chosen], kind="stable")][:MAX_LISTED]
        return [merged.mismatch(position, int(k), original.shape, out_shape) for k in chosen]

    return InputCheck(
        position=position, name=original.name, shape=original.shape,
        dtype=str(original.dtype), method=method, checked=checked,
        failures=int(failed.sum()), worst=listed(failed),
        num_kinks=int(kink.sum()), kinks=listed(kink),
        max_rel_error=float(np.max(rel[~kink], initial=0.0)),
        unit="elements" if out_shape is None else "Jacobian entries", note=note,
        directional_checks=directional_checks,
    )


def unravel(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape)) if shape else ()
