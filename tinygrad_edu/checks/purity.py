"""Is fn a function? Before any difference is trusted, fn is evaluated a second time at the
same point, and its inputs are compared with what they were. A random fn (dropout, noise) or
one that changes its own inputs gets its own verdict, never "kinks", never a pass."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..modes import no_grad
from .differences import FiniteDifferences
from .outcomes import FunctionProblem
from .subject import Subject

__all__ = ["changed_inputs", "repeat_problems", "REPEAT_SAFETY"]

REPEAT_SAFETY = 16.0  # two calls at one point may differ by this many ε of f's terms (BLAS)


def changed_inputs(subject: Subject, args: list[Any], when: str) -> list[FunctionProblem]:
    """The checked inputs among args whose values differ from the caller's."""
    problems = []
    for i in subject.checked:
        now, kept = args[i].data, subject.pristine[i]
        # equal_nan costs four times as much: only for arrays that differ somewhere
        if np.array_equal(now, kept) or np.array_equal(now, kept, equal_nan=True):
            continue
        gap = float(np.nanmax(np.abs(now - kept), initial=0.0))
        problems.append(FunctionProblem(
            "changes its inputs", i, gap,
            f"fn changes its {subject.label(i)} in place {when} (by up to {gap:.1e}): its "
            "finite differences would be taken at moving points; compute out of place"))
    return problems


def repeat_problems(subject: Subject, differences: FiniteDifferences
                    ) -> tuple[list[FunctionProblem], int]:
    """fn called again at the same point (on the numerical side's copies, read out as the
    differences read it) must give the recorded output again. Returns the problems and the
    number of calls made."""
    with no_grad():
        again = differences.readout(subject.numeric_args)
    base, terms = differences.base, differences.terms
    precision = differences.tolerance.precision
    allowed = precision * np.maximum(terms, REPEAT_SAFETY * np.abs(again))
    with np.errstate(invalid="ignore"):
        gap = np.abs(again - base)
    same = (gap <= allowed) | (np.isnan(again) & np.isnan(base)) | (again == base)
    problems = changed_inputs(subject, subject.numeric_args, "when called again")
    if not np.all(same):
        size = float(np.nanmax(np.where(same, 0.0, gap), initial=np.inf))
        problems.insert(0, FunctionProblem(
            "not deterministic", None, size,
            f"fn is not deterministic: two calls at the same point differ by {size:.1e}; "
            "fix its random seed (or its state) so that fn is a function of its inputs"))
    return problems, 1
