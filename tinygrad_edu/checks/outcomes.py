"""What a check finds about each input and each op: the parts of a report (and the labels
and short forms of values its messages use).

`InputCheck` (one per input that requires grad, with its worst `Mismatch`es and its kinks),
`BackwardProblem`, `FunctionProblem` and `Culprit` are made by the check's passes while it runs
and collected, at the end, into a `report.GradcheckReport`. With it they are the contract
users, `tinygrad_edu.testing` and the drawer read (`tinygrad_edu.checks` exports them). Frozen:
never changed once made. This module sits at the bottom of checks/: it imports none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..tensor import Context

__all__ = [
    "Mismatch",
    "InputCheck",
    "BackwardProblem",
    "Culprit",
    "FunctionProblem",
    "MAX_LISTED",
    "input_label",
    "short_repr",
]

MAX_LISTED = 10  # worst entries (and kinks) kept per input in a report


@dataclass(frozen=True)
class Mismatch:
    """One compared derivative: d output[output_index] / d input[index].

    `output_index` is None when the output is a single number or was projected on a random
    vector v (then the derivative is that of vᵀ·output). `numerical` is the centered
    difference, or its Richardson limit where the entry was refined. `slopes` are the
    one-sided quotients (f(x+h) - f(x))/h and (f(x) - f(x-h))/h; they differ at a kink.
    `kind` is set for derivatives on non-differentiable points: "kink" (the slopes stayed
    apart as the step shrank, and the analytic value lies between them), "unresolved kink"
    (not settled at the smallest step tried; not a failure), "discontinuity" (f jumps).
    """

    input_index: int
    index: tuple[int, ...]
    output_index: tuple[int, ...] | None
    analytic: float
    numerical: float
    rel_error: float
    slopes: tuple[float, float]
    kind: str = ""  # "" (compared), "kink", "unresolved kink" or "discontinuity"


@dataclass(frozen=True)
class InputCheck:
    """The outcome for one input that requires grad (0-based `position` in `inputs`)."""

    position: int
    name: str | None
    shape: tuple[int, ...]
    dtype: str  # the input's own dtype; the check itself ran in float64
    method: str  # "Jacobian", "vector-Jacobian product", "sampled ...", "fast"
    checked: int  # derivatives compared (fast mode: elements covered by directions)
    failures: int  # of those, how many disagree (not counting kinks)
    worst: list[Mismatch]  # the worst failures, at most MAX_LISTED, worst first
    num_kinks: int
    kinks: list[Mismatch]  # at most MAX_LISTED
    max_rel_error: float  # over the compared derivatives that are not on kinks
    unit: str = "elements"  # what `checked` counts: "elements" or "Jacobian entries"
    directional_checks: int = 0  # fast mode: directional derivatives compared
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.failures == 0

    @property
    def label(self) -> str:
        return input_label(self.position, self.name)


@dataclass(frozen=True)
class BackwardProblem:
    """A failure of backward that no finite difference is needed to see: it raised, or it is
    not repeatable, or not linear in the upstream gradient."""

    input_index: int | None
    message: str
    rel_error: float = float("inf")


@dataclass(frozen=True)
class FunctionProblem:
    """fn is not a function of its inputs: `kind` is "not deterministic" (two calls at the
    same point differ by `size`) or "changes its inputs" (input `input_index`, by `size`)."""

    kind: str
    input_index: int | None
    size: float
    message: str


@dataclass(frozen=True, eq=False)
class Culprit:
    """An op of `report.output`'s graph whose backward disagrees with its own finite
    differences, checked on a float64 copy of the inputs it saw."""

    node: Context
    op: str
    input_index: int | None
    rel_error: float
    message: str


def input_label(position: int, name: str | None) -> str:
    return f"input {position}" + (f" {name!r}" if name else "")


def short_repr(value: Any) -> str:
    """A value as a message shows it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
