"""Settling the entries a first comparison could not: kinks told from steep points by halving
the step.

At a kink (relu at 0, a tie of max, |x| at 0) the one-sided slopes (f(x+h) - f(x))/h and
(f(x) - f(x-h))/h stay apart as h shrinks; at a smooth point their gap is about h·|f''| and
halves with h, while the centered differences converge to the derivative (Richardson: their
limit is D(h/2) + (D(h/2) - D(h))/3, good to O(h⁴)). So an entry outside the first tolerance
is re-differenced at h/2, h/4, ... (at most MAX_HALVINGS times, two evaluations each):

    D converges             its change shrinks about 4x per halving (and the gap with it):
                            smooth here, the analytic value must match the Richardson limit
                            within the refined tolerance, else the entry is WRONG
    the gap stays           twice in a row: a KINK, if the analytic value lies between the
                            one-sided slopes (a subgradient), else WRONG
    the gap doubles         twice in a row: the function itself jumps, a DISCONTINUITY
    none by the last step   an UNRESOLVED kink if the analytic value lies between the slopes
                            (reported with a note, not a failure), else WRONG

D that moves by as much at first, then converges, means the step has left a kink close to x:
an entry that then agrees is listed as a kink it sits next to.

Entries that agree at once are left alone, except that those whose slopes jump (by more than
PyTorch's default tolerance) are listed as kinks if the jump survives one halving.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .comparison import (
    AGREE,
    DISCONTINUITY,
    KINK,
    UNRESOLVED,
    WRONG,
    Comparison,
    Tolerance,
)

__all__ = ["settle", "Quotients", "MAX_HALVINGS"]

MAX_HALVINGS = 4

# quotients(elements, step): the centered and one-sided (+h, -h) quotients of the input being
# settled at these elements with this step, each (len(elements), readout size), and their
# rounding magnitude (`differences.FiniteDifferences.quotients` for one input).
Quotients = Callable[[np.ndarray, float],
                     tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def settle(comparison: Comparison, quotients: Quotients, tolerance: Tolerance,
           eps: float) -> None:
    """Decide the kind of the entries of `comparison` (made with step eps) the first
    comparison left open, differencing again with `quotients` at smaller steps."""
    _list_agreeing_kinks(comparison, quotients, tolerance, eps)
    _refine(comparison, quotients, tolerance, eps)


def _quotients_at(quotients: Quotients, comparison: Comparison, entries: np.ndarray,
                  step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centered and one-sided quotients with this step for these entries of comparison."""
    elements = np.unique(comparison.element[entries])
    centered, plus, minus, _ = quotients(elements, step)
    rows = np.searchsorted(elements, comparison.element[entries])
    cols = comparison.output[entries]
    return centered[rows, cols], plus[rows, cols], minus[rows, cols]


def _list_agreeing_kinks(comparison: Comparison, quotients: Quotients, tolerance: Tolerance,
                         eps: float) -> None:
    """An agreeing entry whose one-sided slopes differ sits on a kink (relu at exactly 0,
    with backward taking the average) or on a sharp bend of a smooth function; a kink's jump
    survives a halved step, a smooth bend's halves with it."""
    sp, sm, a = comparison.slope_plus, comparison.slope_minus, comparison.analytic
    jump = np.abs(sp - sm)
    atol, rtol = tolerance.fixed  # PyTorch's defaults when the tolerance is estimated
    slack = atol + rtol * np.abs(a)
    between = (a >= np.minimum(sp, sm) - slack) & (a <= np.maximum(sp, sm) + slack)
    unsure = np.flatnonzero((comparison.kind == AGREE) & between
                            & (jump > atol + rtol * np.maximum(np.abs(sp), np.abs(sm))))
    if unsure.size == 0:
        return
    _, plus, minus = _quotients_at(quotients, comparison, unsure, eps / 2)
    kept = np.abs(plus - minus) > 0.75 * jump[unsure]
    comparison.kind[unsure[kept]] = KINK


def _refine(comparison: Comparison, quotients: Quotients, tolerance: Tolerance,
            eps: float) -> None:
    """Re-difference the WRONG entries at halved steps until each is decided."""
    entries = np.flatnonzero(comparison.kind == WRONG)
    if entries.size == 0:
        return
    a, m = comparison.analytic[entries], comparison.magnitude[entries]
    d_prev = comparison.numerical[entries].copy()
    change_prev = np.full(entries.size, np.nan)  # how much D moved at the previous halving
    sp_prev, sm_prev = comparison.slope_plus[entries], comparison.slope_minus[entries]
    gap_prev = np.abs(sp_prev - sm_prev)
    kind = np.full(entries.size, WRONG)
    value = d_prev.copy()
    stayed = np.zeros(entries.size, dtype=int)  # consecutive halvings the gap stayed
    grew = np.zeros(entries.size, dtype=int)  # consecutive halvings the gap doubled
    bracketed = np.zeros(entries.size, dtype=bool)
    open_ = np.ones(entries.size, dtype=bool)
    step = eps
    for level in range(1, MAX_HALVINGS + 1):
        step /= 2
        live = np.flatnonzero(open_)
        d, sp, sm = _quotients_at(quotients, comparison, entries[live], step)
        gap, before = np.abs(sp - sm), gap_prev[live]
        noise = tolerance.rounding(m[live], step)
        change = np.abs(d - d_prev[live])
        stays = (np.abs(gap - before) <= 0.25 * before) & (gap > 4 * noise)
        doubles = (gap >= 1.6 * before) & (gap > 4 * noise)
        stayed[live] = np.where(stays, stayed[live] + 1, 0)
        grew[live] = np.where(doubles, grew[live] + 1, 0)
        # Smooth between the last steps: D converges like h² (its change shrinks about 4x)
        # and the gap of the slopes shrinks. Then compare with the Richardson limit.
        smooth = ((change <= 0.35 * change_prev[live] + noise)
                  & (gap <= 0.6 * before + 4 * noise))
        limit = d + (d - d_prev[live]) / 3
        agree = np.abs(a[live] - limit) <= tolerance.refined(limit, change, m[live], step)
        settled = np.where(agree, KINK if level > 2 else AGREE, WRONG)
        kind[live[smooth]] = settled[smooth]
        value[live[smooth]] = limit[smooth]
        # A kink proved (the gap stayed twice), or a jump of f (it doubled twice).
        lo, hi = np.minimum(sp, sm), np.maximum(sp, sm)
        moved = np.abs(sp - sp_prev[live]) + np.abs(sm - sm_prev[live])
        slack = tolerance.first(d, m[live], step) + moved
        bracketed[live] = (a[live] >= lo - slack) & (a[live] <= hi + slack)
        kinked = ~smooth & (stayed[live] >= 2)
        kind[live[kinked]] = np.where(bracketed[live[kinked]], KINK, WRONG)
        jumped = ~smooth & (grew[live] >= 2)
        kind[live[jumped]] = DISCONTINUITY
        open_[live[smooth | kinked | jumped]] = False
        d_prev[live], change_prev[live], gap_prev[live] = d, change, gap
        sp_prev[live], sm_prev[live] = sp, sm
        if not open_.any():
            break
    rest = np.flatnonzero(open_)
    kind[rest] = np.where(bracketed[rest], UNRESOLVED, WRONG)
    comparison.kind[entries] = kind
    comparison.numerical[entries] = value
