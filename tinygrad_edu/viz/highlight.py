"""What to draw in red: the ops gradcheck or gradgradcheck blamed (read from their reports),
or the nodes and tensors a user names. Culprits are matched by identity; when none of them is
in the graph being drawn, every op of the same Function is marked instead, and a note says so.

A gradgradcheck report (`GradgradcheckReport`, a GradcheckReport) names two kinds of culprit:
ops of fn's forward graph whose double backward is wrong (`DoubleBackwardCulprit`, nodes of
`report.output`'s graph) and ops of the backward computation whose own backward is wrong
(nodes of `report.gradient`'s graph): drawing either graph marks the culprits it holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..checks import Culprit, GradcheckError, GradcheckReport, GradgradcheckReport
from ..tensor import Context, Tensor
from .recorded import Recorded
from .text import shown


@dataclass(frozen=True)
class Marks:
    """What to draw in red.

    ops      id(node) -> the culprits gradcheck measured on it (none for a node the user named)
    tensors  ids of leaf tensors the user named (a leaf has no op to mark, so it turns red)
    notes    what the graph's label says about the highlight (culprits not found, ...)
    """

    ops: Mapping[int, tuple[Culprit, ...]] = field(default_factory=lambda: MappingProxyType({}))
    tensors: frozenset[int] = frozenset()
    notes: tuple[str, ...] = ()


def resolve_highlight(highlight: Any, recorded: Recorded) -> Marks:
    """The marks for `draw_graph(..., highlight=...)`: a GradcheckError or its
    GradcheckReport, or Context nodes / Tensors (one, or an iterable of them)."""
    if highlight is None:
        return Marks()
    if isinstance(highlight, GradcheckError):
        highlight = highlight.report
    if isinstance(highlight, GradcheckReport):
        return _from_report(highlight, recorded)
    return _from_items(_highlight_items(highlight), recorded)


def forward_of(highlight: Any) -> Tensor | None:
    """The forward output a highlight knows of: a gradgradcheck report's `output` (fn's), whose
    ops are the forward part of a drawing of its `gradient` (see `parts`)."""
    report = highlight.report if isinstance(highlight, GradcheckError) else highlight
    return report.output if isinstance(report, GradgradcheckReport) else None


def _highlight_items(highlight: Any) -> list[Context | Tensor]:
    if isinstance(highlight, (Tensor, Context)):
        return [highlight]
    if isinstance(highlight, Iterable) and not isinstance(highlight, (str, bytes)):
        items = list(highlight)
        if all(isinstance(x, (Tensor, Context)) for x in items):
            return items
    raise TypeError(
        "draw_graph: highlight must be a GradcheckError, a GradcheckReport, or Context nodes / "
        f"Tensors (one, or an iterable of them); got {type(highlight).__name__}"
    )


def _from_report(report: GradcheckReport, recorded: Recorded) -> Marks:
    culprits = report.culprits
    checker = "gradgradcheck" if isinstance(report, GradgradcheckReport) else "gradcheck"
    if not culprits:
        if report.ok:
            return Marks(notes=(f"{checker} passed: nothing to highlight.",))
        return Marks(notes=(f"{checker} named no culprit op. {report.verdict}".strip(),))
    ops: dict[int, list[Culprit]] = {}
    found = [c for c in culprits if id(c.node) in recorded.output]
    if found:
        for culprit in found:
            ops.setdefault(id(culprit.node), []).append(culprit)
        missing = len(culprits) - len(found)
        notes = (
            (f"{missing} of {checker}'s {len(culprits)} culprits are not in this graph.",)
            if missing else ()
        )
        return Marks(_frozen(ops), notes=notes)
    # The user drew a graph of their own: blame the same Function wherever it appears.
    for culprit in culprits:
        for candidate in recorded.ops:
            if candidate.fn is culprit.node.fn:
                ops.setdefault(id(candidate), []).append(culprit)
    names = ", ".join(dict.fromkeys(shown(c.node.name) for c in culprits))
    note = _fallback_note(
        bool(ops), names, f"{checker}'s culprit nodes are",
        f"; the errors were measured on {checker}'s own graph",
    )
    return Marks(_frozen(ops), notes=(note,))


def _from_items(items: list[Context | Tensor], recorded: Recorded) -> Marks:
    ops: dict[int, list[Culprit]] = {}
    tensors: set[int] = set()
    missing: list[Context] = []
    for item in items:
        node = item._node if isinstance(item, Tensor) else item
        if node is None:  # a leaf Tensor: the tensor itself turns red
            tensors.add(id(item))
        elif id(node) in recorded.output:
            ops[id(node)] = []
        else:
            missing.append(node)
    if not missing:
        return Marks(_frozen(ops), frozenset(tensors))
    if ops or tensors:
        note = f"{len(missing)} of the highlighted nodes are not in this graph."
        return Marks(_frozen(ops), frozenset(tensors), (note,))
    functions = {node.fn for node in missing}
    ops = {id(candidate): [] for candidate in recorded.ops if candidate.fn in functions}
    names = ", ".join(sorted({shown(node.name) for node in missing}))
    return Marks(_frozen(ops), notes=(_fallback_note(bool(ops), names, "the highlighted nodes are", ""),))


def _frozen(ops: dict[int, list[Culprit]]) -> Mapping[int, tuple[Culprit, ...]]:
    return MappingProxyType({key: tuple(culprits) for key, culprits in ops.items()})


def _fallback_note(found: bool, names: str, what: str, detail: str) -> str:
    if found:
        return (
            f"Note: {what} not in this graph; every {names} op is highlighted instead "
            f"(same Function{detail})."
        )
    return f"Note: {what} not in this graph, and no {names} op is."
