"""Culprit search: when a check fails, every op of the recorded graph is checked the same way
on a float64 copy of its own inputs; the ops whose backward disagrees with their own finite
differences are the culprits. Nothing here knows any op by name."""

from __future__ import annotations

import functools

from ..errors import BadGradient
from ..function import Context
from ..tensor import Tensor, topological_order
from .fast import FastMode
from .modes import FullMode
from .procedure import Findings, examine, prepare
from .report import Culprit, builtin_name
from .settings import GradcheckSettings

__all__ = ["localize", "FULL_NODE_CHECK_LIMIT"]

FULL_NODE_CHECK_LIMIT = 4096  # op inputs with more elements are checked in fast mode


def localize(output: Tensor, settings: GradcheckSettings) -> list[Culprit]:
    """The ops of output's graph whose backward disagrees with their own finite differences."""
    culprits: list[Culprit] = []
    for tensor in topological_order(output, only_requiring_grad=True):
        node = tensor.grad_fn
        if node is None:
            continue
        size = sum(x.size for x, needs in zip(node.inputs, node.needs_input_grad, strict=True) if needs)
        fast = isinstance(settings.mode, FastMode) or size > FULL_NODE_CHECK_LIMIT
        node_settings = settings.with_mode(FastMode() if fast else FullMode(), localize=False)
        op = functools.partial(node.fn.apply, **node.kwargs)
        subject = prepare(op, tuple(node.inputs))
        try:
            findings = examine(subject, node_settings)
        finally:
            for copy in subject.args:
                if isinstance(copy, Tensor):
                    copy.grad = None
        culprits += _culprits_of(node, findings)
    return culprits


def _culprits_of(node: Context, findings: Findings) -> list[Culprit]:
    op = node.name
    if findings.backward_error is not None:
        error = findings.backward_error
        position = _bad_input(error)
        if position is None:
            message = f"backward of {op} raised {type(error).__name__}: {error}"
        else:
            message = (f"backward of {op} is wrong for input {position} "
                       f"(it raised {builtin_name(error)})")
        return [Culprit(node, op, position, float("inf"), message)]
    culprits = [
        Culprit(node, op, c.position, c.max_rel_error,
                f"backward of {op} is wrong for input {c.position}")
        for c in findings.inputs if not c.ok
    ]
    culprits += [
        Culprit(node, op, p.input_index, p.rel_error,
                f"backward of {op} is wrong for input {p.input_index}: {p.message}")
        for p in findings.backward_problems
    ]
    return culprits


def _bad_input(error: BaseException) -> int | None:
    """The input a backward's unusable gradient was for, if the engine said."""
    if isinstance(error, BadGradient):
        return error.input_index
    index = getattr(error, "input_index", None)  # engines before errors.BadGradient
    return index if isinstance(index, int) else None

