"""What each drawn node says, as lines of plain text with a role (title, body, small, alert);
the look module turns roles into fonts and colours. User-chosen text is made safe here
(`text.shown`), so a label never carries a character Graphviz or XML would choke on."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from ..checks import Culprit, DoubleBackwardCulprit
from ..tensor import Context, Function, Tensor
from .collapse import Group
from .text import array_values, compact, number, shown

MAX_VALUES_SHOWN = 12  # show_values prints tensors of at most this many elements


class Role(Enum):
    """How a line of a label is set: the look module maps each to a font."""

    TITLE = "title"  # bold: a tensor's name, an op's name
    BODY = "body"
    SMALL = "small"  # details: kwargs, gradient norms, values
    ALERT = "alert"  # red: what gradcheck measured on a culprit


@dataclass(frozen=True)
class Line:
    text: str  # may hold line breaks only where the library put them (an array's rows)
    role: Role = Role.BODY


def tensor_lines(t: Tensor, show_grad: bool, show_values: bool, backward_ran: bool,
                 seed: bool = False) -> tuple[Line, ...]:
    """Name (if any), shape and dtype, gradient norm, values of a small tensor; "upstream
    gradient" on the leaf of ones that seeded a recorded backward (`parts`)."""
    lines = []
    if t.name is not None:
        lines.append(Line(shown(t.name), Role.TITLE))
    if seed:
        lines.append(Line("upstream gradient", Role.TITLE))
    lines.append(Line(f"{t.shape} {t.dtype}"))
    grad = t.grad
    if show_grad and grad is not None:
        array = grad.data if isinstance(grad, Tensor) else grad  # a create_graph gradient
        lines.append(Line(f"grad norm {number(float(np.linalg.norm(array)))}", Role.SMALL))
    elif show_grad and backward_ran and t._node is None and t.requires_grad:
        lines.append(Line("grad: None (backward did not reach it)", Role.SMALL))
    if show_values and t.data.size <= MAX_VALUES_SHOWN:
        lines.append(Line(array_values(t.data), Role.SMALL))
    return tuple(lines)


def op_lines(node: Context, culprits: Sequence[Culprit]) -> tuple[Line, ...]:
    """The Function's name, its kwargs that differ from forward's defaults, and what gradcheck
    measured on it if it is a culprit."""
    lines = [Line(shown(node.name), Role.TITLE)]
    arguments = non_default_kwargs(node)
    if arguments:
        lines.append(Line(arguments, Role.SMALL))
    for culprit in culprits:
        where = "" if culprit.input_index is None else f" (input {culprit.input_index})"
        order = "double backward " if isinstance(culprit, DoubleBackwardCulprit) else ""
        error = f"rel. error {number(culprit.rel_error)}" if np.isfinite(culprit.rel_error) \
            else "wrong"
        lines.append(Line(f"{order}{error}{where}", Role.ALERT))
    return tuple(lines)


def constant_lines(value: Any) -> tuple[Line, ...]:
    return (Line(compact(value)),)


def group_lines(group: Group) -> tuple[Line, ...]:
    return (
        Line(group.title, Role.TITLE),
        Line(group.detail, Role.SMALL),
        Line(f"hides {group.ops:,} ops, {group.tensors:,} tensors", Role.SMALL),
    )


def omitted_lines(left_out: int) -> tuple[Line, ...]:
    return (Line(f"… {left_out:,} more nodes"),)


def non_default_kwargs(node: Context) -> str:
    """`axis=1, keepdims=True`: the kwargs whose values differ from forward's defaults."""
    defaults = _forward_defaults(node.fn)  # type: ignore[arg-type]
    shown_kwargs = [
        f"{shown(name)}={compact(value)}"
        for name, value in node.kwargs.items()
        if not _is_default(value, defaults.get(name, inspect.Parameter.empty))
    ]
    return ", ".join(shown_kwargs)


@functools.lru_cache(maxsize=256)
def _forward_defaults(fn: type[Function]) -> dict[str, Any]:
    try:
        parameters = inspect.signature(fn.forward).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty or type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:  # arrays, and values whose == fails: shown, not guessed
        return False
