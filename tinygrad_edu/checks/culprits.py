"""Culprit search: when a check fails, every op of the recorded graph is checked the same way
on a float64 copy of its own inputs; the ops whose backward disagrees with their own finite
differences are the culprits. Nothing here knows any op by name.

With `workers=`, the ops are re-checked on the workers (`parallel.recheck_ops`): each op's
Function, settings and input arrays travel, never a Tensor with its graph, and what comes back
(plain numbers and text) is mapped to its node by position."""

from __future__ import annotations

import functools
from typing import Any

from ..errors import BadGradient
from ..tensor import Context, Tensor
from .fast import FastMode
from .modes import FullMode
from .outcomes import Culprit
from .parallel import WorkerPool, recheck_ops
from .procedure import Findings, examine
from .report import builtin_name
from .settings import GradcheckSettings
from .subject import prepare, recorded_ops

__all__ = ["localize", "op_check_settings", "FULL_NODE_CHECK_LIMIT"]

FULL_NODE_CHECK_LIMIT = 4096  # op inputs with more elements are checked in fast mode


def localize(output: Tensor, settings: GradcheckSettings,
             pool: WorkerPool | None = None) -> list[Culprit]:
    """The ops of output's graph whose backward disagrees with their own finite differences
    (re-checked on the pool's workers when there is one)."""
    nodes = recorded_ops(output)
    results = recheck_ops(functools.partial(_check_op, settings), nodes, pool=pool)
    return [Culprit(node, node.name, position, rel_error, message.format(op=node.name))
            for node, found in zip(nodes, results, strict=True)
            for position, rel_error, message in found]


def op_check_settings(settings: GradcheckSettings, inputs: tuple[Any, ...], *,
                      localize: bool) -> GradcheckSettings:
    """The settings one op is re-checked with on its own inputs: fast mode when the whole
    check was, or when the op's inputs that require grad hold too many elements to take one
    by one; full mode otherwise."""
    size = sum(x.size for x in inputs if isinstance(x, Tensor) and x.requires_grad)
    fast = isinstance(settings.mode, FastMode) or size > FULL_NODE_CHECK_LIMIT
    return settings.with_mode(FastMode() if fast else FullMode(), localize=localize)


def _check_op(settings: GradcheckSettings, fn: Any, kwargs: dict[str, Any],
              inputs: tuple[Any, ...]) -> list[tuple[int | None, float, str]]:
    """One op checked on copies of its inputs: (input, rel. error, message with {op}) per
    culprit found, plain values that travel back from a worker."""
    node_settings = op_check_settings(settings, inputs, localize=False)
    subject = prepare(functools.partial(fn.apply, **kwargs), inputs)
    try:
        findings = examine(subject, node_settings)
    finally:
        for copy in subject.args:
            if isinstance(copy, Tensor):
                copy.grad = None
    return _culprit_fields(findings)


def _culprits_of(node: Context, findings: Findings) -> list[Culprit]:
    op = node.name
    return [Culprit(node, op, position, rel_error, message.format(op=op))
            for position, rel_error, message in _culprit_fields(findings)]


def _culprit_fields(findings: Findings) -> list[tuple[int | None, float, str]]:
    if findings.backward_error is not None:
        error = findings.backward_error
        position = _bad_input(error)
        text = _braces(str(error))
        if position is None:
            message = f"backward of {{op}} raised {type(error).__name__}: {text}"
        else:
            message = (f"backward of {{op}} is wrong for input {position} "
                       f"(it raised {_braces(builtin_name(error))})")
        return [(position, float("inf"), message)]
    fields: list[tuple[int | None, float, str]] = [
        (c.position, c.max_rel_error, f"backward of {{op}} is wrong for input {c.position}")
        for c in findings.inputs if not c.ok]
    fields += [(p.input_index, p.rel_error,
                f"backward of {{op}} is wrong for input {p.input_index}: {_braces(p.message)}")
               for p in findings.backward_problems]
    return fields


def _braces(text: str) -> str:
    """text kept as it is by str.format."""
    return text.replace("{", "{{").replace("}", "}}")


def _bad_input(error: BaseException) -> int | None:
    """The input a backward's unusable gradient was for, if the engine said."""
    return error.input_index if isinstance(error, BadGradient) else None
