"""What a gradient check found: `GradcheckReport`, `GradcheckError`, the verdict and the text.

This is the contract users, `tinygrad_edu.testing` and the drawer read: `GradcheckReport` holds
one `InputCheck` per input that requires grad (with its worst `Mismatch`es and its kinks), the
`BackwardProblem`s seen without finite differences, and the `Culprit` ops (those parts are made
in `outcomes` while the check runs; `tinygrad_edu.checks` exports them all). A report is built
once, complete, and not changed afterwards (the dataclasses are frozen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import LockedArrayError
from ..tensor import Tensor
from .outcomes import (
    BackwardProblem,
    Culprit,
    FunctionProblem,
    InputCheck,
    Mismatch,
)
from .settings import GradcheckSettings

__all__ = ["GradcheckReport", "GradcheckError", "verdict", "agreement", "format_report",
           "builtin_name", "wrote_into_saved"]


@dataclass(frozen=True, eq=False)
class GradcheckReport:
    """Everything one gradcheck found; `str(report)` is the failure message."""

    inputs: list[InputCheck]
    culprits: list[Culprit]
    output: Tensor | None  # fn at the unperturbed inputs; the culprits' nodes are in its graph
    verdict: str
    backward_problems: list[BackwardProblem] = field(default_factory=list)
    backward_error: BaseException | None = None
    evaluations: int = 0  # calls of fn made for finite differences
    settings: GradcheckSettings | None = None
    notes: list[str] = field(default_factory=list)  # warnings about the check itself
    fn_problems: list[FunctionProblem] = field(default_factory=list)
    op_problems: list[Culprit] = field(default_factory=list)  # also in culprits
    extra_evaluations: int = 0  # calls of fn made to check it is a function, and in its dtype

    @property
    def ok(self) -> bool:
        """fn is a function, every input agrees with finite differences, backward behaved
        (linear, repeatable, no error) and no op misbehaved on guarded copies."""
        return (not self.backward_problems and not self.fn_problems and not self.op_problems
                and all(c.ok for c in self.inputs))

    @property
    def kinks(self) -> list[Mismatch]:
        """Derivatives found on non-differentiable points, over all inputs (at most
        MAX_LISTED per input; `InputCheck.num_kinks` counts them all)."""
        return [k for check in self.inputs for k in check.kinks]

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.inputs), default=0.0)

    def __str__(self) -> str:
        return format_report(self)


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when gradients disagree; `.report` holds the facts.

    A subclass of AssertionError, so pytest reports it as a failed check, with the message.
    """

    def __init__(self, report: GradcheckReport, context: str = "") -> None:
        super().__init__(f"{context}\n{report}" if context else str(report))
        self.report = report


def builtin_name(error: BaseException) -> str:
    """The name of the built-in exception class the error is (ValueError for the engine's
    GradientShapeError): what users catch."""
    for cls in type(error).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(error).__name__


def wrote_into_saved(error: BaseException) -> bool:
    """Whether the error is a write into an array the graph saved: read-only while the graph
    lives, numpy's "assignment destination is read-only" (or the engine's LockedArrayError)."""
    return isinstance(error, LockedArrayError) or (
        isinstance(error, ValueError) and "read-only" in str(error))


# ----------------------------------------------------------------------------- verdict


def verdict(inputs: list[InputCheck], culprits: list[Culprit],
            backward_problems: list[BackwardProblem], output: Tensor | None,
            localized: bool, fn_problems: Sequence[FunctionProblem] = ()) -> str:
    """The one-line conclusion: what passed, or which op (or what else) is at fault."""
    failing = [c for c in inputs if not c.ok]
    if not backward_problems and not failing and not culprits and not fn_problems:
        return agreement(inputs, "the gradients of {labels} agree with finite differences "
                         "({detail})", "sit on kinks (non-differentiable points)")
    if culprits:
        return "; ".join(c.message for c in culprits)
    if fn_problems:
        return fn_problems[0].message
    if backward_problems:
        return backward_problems[0].message
    what = ", ".join(f"{c.label} ({c.failures} of {c.checked} {c.unit})" for c in failing)
    if output is not None and not output.requires_grad:
        return (f"the gradient of {what} disagrees with finite differences: fn's output has no "
                "recorded graph (computed under no_grad, or from .data/.detach()), so backward "
                "gives zero gradients")
    if localized:
        return (f"the gradient of {what} disagrees with finite differences, yet every op's "
                "backward agrees with its own: part of fn's result is computed outside the "
                "recorded graph (.data, .numpy(), numpy functions, or no_grad inside fn)")
    return f"the gradient of {what} disagrees with finite differences"


def agreement(inputs: list[InputCheck], agreed: str, on_kinks: str) -> str:
    """The verdict of a check that passed: `agreed`, its {labels} and {detail} filled in
    (the inputs; the directional derivatives or the max rel. error), and how many
    derivatives sit on kinks (then followed by `on_kinks`)."""
    labels = " and ".join(c.label for c in inputs)
    directional = sum(c.directional_checks for c in inputs)
    max_rel = max((c.max_rel_error for c in inputs), default=0.0)
    detail = (f"{directional} random directional derivatives" if directional
              else f"max rel. error {max_rel:.1e}")
    text = agreed.format(labels=labels, detail=detail)
    kinks = sum(c.num_kinks for c in inputs)
    if kinks:
        text += f"; {kinks} derivative(s) {on_kinks}"
    return text


# ----------------------------------------------------------------------------- text


def format_report(report: GradcheckReport) -> str:
    s = report.settings
    head = "gradcheck passed" if report.ok else "gradcheck failed"
    if s is None:
        lines = [head]
    else:
        lines = [f"{head} (eps={s.eps}, {s.tolerance_text}; checked in float64)"]
    lines += [f"  note: {note}" for note in report.notes]
    lines += [f"  {problem.message}" for problem in report.fn_problems]
    for problem in report.backward_problems:
        lines.append(f"  {problem.message}")
    rule = ("beyond the estimated error of their differences"
            if s is None or (s.atol is None and s.rtol is None)
            else "|analytic - numerical| > atol + rtol·|numerical|")
    for check in report.inputs:
        lines += _format_input(check, rule)
    if report.culprits:
        lines.append("  culprits (each op re-checked on copies of its own inputs):")
        lines += [f"    {c.message}" + (f" (rel. error {c.rel_error:.1e})"
                                        if np.isfinite(c.rel_error) else "")
                  for c in report.culprits]
    lines.append(f"verdict: {report.verdict}")
    return "\n".join(lines)


def _format_input(check: InputCheck, rule: str) -> list[str]:
    where = f"{check.label} (shape {check.shape}, {check.dtype}; {check.method})"
    if check.ok and check.directional_checks:
        lines = [f"  {where}: ok, {check.directional_checks} directional derivatives agree"]
    elif check.ok:
        lines = [f"  {where}: ok, max rel. error {check.max_rel_error:.1e}"]
    else:
        lines = [f"  {where}: {check.failures} of {check.checked} {check.unit} disagree "
                 f"({rule}); worst:"]
        lines += _format_table(check, check.worst)
    if check.num_kinks:
        lines.append(f"  {check.label}: {check.num_kinks} derivative(s) on kinks, where the "
                     "one-sided slopes differ and bracket the analytic value (not failures):")
        lines += _format_table(check, check.kinks)
        special = {m.kind for m in check.kinks} - {"kink"}
        if "unresolved kink" in special:
            lines.append("    unresolved kink: the one-sided slopes had neither converged nor "
                         "settled apart at the smallest step tried; not counted as a failure")
        if "discontinuity" in special:
            lines.append("    discontinuity: the one-sided quotients grow like 1/h, so fn itself "
                         "jumps there; no derivative exists to check")
    if check.note:
        lines.append(f"  {check.label}: {check.note}")
    return lines


def _format_table(check: InputCheck, rows: list[Mismatch]) -> list[str]:
    name = check.name or f"input{check.position}"
    cells = []
    for m in rows:
        where = f"{name}[{', '.join(map(str, m.index))}]" if m.index else name
        if m.output_index is not None:
            where += f" -> out[{', '.join(map(str, m.output_index))}]"
        cells.append((where, m))
    width = max([len("element")] + [len(w) for w, _ in cells])
    lines = [f"    {'element':<{width}}  {'analytic':>13}  {'numerical':>13}  {'rel. error':>10}"
             "  one-sided slopes (+h, -h)"]
    for where, m in cells:
        kind = f"  {m.kind}" if m.kind and m.kind != "kink" else ""
        lines.append(f"    {where:<{width}}  {m.analytic:>13.6e}  {m.numerical:>13.6e}  "
                     f"{m.rel_error:>10.1e}  ({m.slopes[0]:.4g}, {m.slopes[1]:.4g}){kind}")
    return lines
