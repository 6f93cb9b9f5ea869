"""`einsum(subscripts, *operands)`: numpy's Einstein summation as one op, `Einsum`.

The gradient with respect to one operand is itself an einsum: of the output gradient with the
other operands, into that operand's indices (then spread over indices that appear nowhere
else, and summed over axes the operand broadcast). So the backward is written with `einsum`
and works on arrays and Tensors alike: it can be differentiated again.

Supported: explicit ("ij,jk->ik") and implicit ("ij,jk") output, "..." for leading axes
(broadcast as numpy does), size-1 axes broadcast against others, any number of operands.
Not supported (refused with an error): an index repeated inside one operand ("ii->i",
"ii->": diagonals and traces); take the diagonal by indexing first.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Context, Function, Tensor
from .broadcast import broadcast_to, in_dtype_of, unbroadcast, value_of

__all__ = ["Einsum", "einsum"]

_LETTERS = string.ascii_letters
_OPTIMIZE_FROM = 4096  # elements: below, numpy's path search costs more than it saves

# np.einsum(..., optimize=False) without its argument handling: the hot path of small einsums.
try:
    from numpy._core.multiarray import c_einsum as _c_einsum  # numpy 2
except ImportError:  # pragma: no cover - numpy 1.x
    _c_einsum = functools.partial(np.einsum, optimize=False)



class Parsed(NamedTuple):
    """Subscripts made explicit: the index letters of each operand and of the output
    ("..." replaced by letters), and the same as one numpy subscripts string."""

    labels: tuple[str, ...]
    output: str
    explicit: str


class Einsum(Function):
    """np.einsum(subscripts, *operands); `subscripts` without repeated indices inside one
    operand (see the module's docstring)."""

    @staticmethod
    def forward(ctx: Context, *operands: np.ndarray, subscripts: str = "") -> np.ndarray:
        operands = tuple(np.asarray(o) for o in operands)
        parsed = parse(subscripts, tuple(o.ndim for o in operands))
        ctx.save_for_backward(*operands)
        return np.asarray(_numpy_einsum(parsed.explicit, operands))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        operands = ctx.saved_tensors
        labels, output, _ = parse(ctx.kwargs["subscripts"], tuple(value_of(o).ndim for o in operands))
        return tuple(
            _operand_grad(k, grad, operands, labels, output) if needs else None
            for k, needs in enumerate(ctx.needs_input_grad)
        )


@functools.lru_cache(maxsize=512)
def _gradient_plan(labels: tuple[str, ...], output: str, k: int) -> tuple[str, tuple[int, ...], str]:
    """How to get operand k's gradient: (the einsum of grad and the other operands, the
    other operands' positions, the indices of k that einsum gives back)."""
    others = tuple(j for j in range(len(labels)) if j != k)
    available = set(output).union(*(labels[j] for j in others))
    kept = "".join(c for c in labels[k] if c in available)
    return ",".join([output] + [labels[j] for j in others]) + "->" + kept, others, kept


def _operand_grad(k: int, grad: Any, operands: Any, labels: tuple[str, ...], output: str) -> Any:
    """The gradient of operand k: an einsum of grad with the other operands into k's indices."""
    expression, others, kept = _gradient_plan(labels, output, k)
    others_operands = [operands[j] for j in others]
    if isinstance(grad, Tensor):  # under create_graph: recorded, to be differentiated again
        part = Einsum.apply(grad, *others_operands, subscripts=expression)
    else:
        part = _numpy_einsum(expression, [grad, *others_operands])
    shape = value_of(operands[k]).shape
    if part.shape != shape:
        part = _fitted(part, labels[k], kept, shape)
    return in_dtype_of(part, operands[k])


def _fitted(part: Any, target: str, kept: str, shape: tuple[int, ...]) -> Any:
    """An operand's gradient, computed over the indices `kept`, brought to its `shape`."""
    full = tuple(part.shape[kept.index(c)] if c in kept else 1 for c in target)
    if part.shape != full:  # give back, as size 1, the indices found only in this operand
        part = part.reshape(full)
    # Summed back: the axes the operand broadcast (size 1 in it); kept as size 1: its own.
    part = unbroadcast(part, tuple(n if m == n else 1 for m, n in zip(full, shape)))
    if part.shape != shape:  # the indices found only in this operand: the gradient is spread
        part = broadcast_to(part, shape)
    return part


def _numpy_einsum(expression: str, arrays: Sequence[np.ndarray]) -> Any:
    if len(arrays) > 2 or arrays[0].size + arrays[-1].size >= _OPTIMIZE_FROM:
        return np.einsum(expression, *arrays, optimize="greedy")
    return _c_einsum(expression, *arrays)


def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation, as np.einsum: e.g. einsum("bij,bjk->bik", a, b) is a batched
    matmul, einsum("i,i->", a, b) a dot product, einsum("ij->ji", a) a transpose.

    subscripts  one comma-separated term of index letters per operand, optionally "->" and
                the output's letters (implicit output: the letters that appear once, in
                alphabetical order, as numpy). "..." stands for leading axes.
    operands    Tensors or arrays; the result is a Tensor (recorded) when any is a Tensor

    An index may not repeat inside one operand ("ii->i", diagonals and traces are not
    supported: index the diagonal first). Sizes of one index must agree (or be 1).
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: the first argument must be the subscripts string (as 'ij,jk->ik'), got "
            f"{type(subscripts).__name__}"
        )
    arrays = [value_of(o) if isinstance(o, Tensor) else np.asarray(o) for o in operands]
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "fiub":
            raise TypeError(f"einsum: operand {i} must hold real numbers, got dtype {a.dtype}")
    parsed = parse(subscripts, tuple(a.ndim for a in arrays))
    _check_sizes(parsed.labels, arrays)
    items = [o if isinstance(o, Tensor) else a for o, a in zip(operands, arrays)]
    if any(isinstance(o, Tensor) for o in items):
        return Einsum.apply(*items, subscripts=subscripts)
    return np.asarray(_numpy_einsum(parsed.explicit, arrays))


def _check_sizes(labels: tuple[str, ...], arrays: list[np.ndarray]) -> None:
    seen: dict[str, tuple[int, int]] = {}  # letter -> (size other than 1, operand)
    for k, (term, a) in enumerate(zip(labels, arrays)):
        for letter, size in zip(term, a.shape):
            if size == 1:
                continue
            earlier = seen.setdefault(letter, (size, k))
            if earlier[0] != size:
                raise ValueError(
                    f"einsum: index {letter!r} has size {earlier[0]} in operand {earlier[1]} "
                    f"(shape {arrays[earlier[1]].shape}) but {size} in operand {k} (shape "
                    f"{a.shape}); sizes of one index must agree (or be 1)"
                )


@functools.lru_cache(maxsize=512)
def parse(subscripts: str, ndims: tuple[int, ...]) -> Parsed:
    """The index letters of each operand and of the output, "..." replaced by letters unused
    in `subscripts`, for operands of `ndims` dimensions. Raises ValueError naming einsum."""
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise ValueError(f"einsum: {subscripts!r} has more than one '->'")
    given_output = text.split("->")[1] if "->" in text else None
    terms = text.split("->")[0].split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: the subscripts {subscripts!r} name {len(terms)} operand(s), but "
            f"{len(ndims)} were given"
        )
    for term in terms + ([given_output] if given_output is not None else []):
        explicit = term.replace("...", "", 1)
        bad = sorted({c for c in explicit if c not in _LETTERS})
        if bad:
            raise ValueError(
                f"einsum: {subscripts!r} has {''.join(bad)!r} in {term!r}; indices are letters "
                "a-z, A-Z, with at most one '...' per term"
            )
    width = 0  # axes covered by "..."
    for k, (term, ndim) in enumerate(zip(terms, ndims)):
        explicit = term.replace("...", "")
        for letter in explicit:
            if explicit.count(letter) > 1:
                raise ValueError(
                    f"einsum: index {letter!r} repeats inside operand {k} ({term!r}); an index "
                    "repeated inside one operand (a diagonal or trace) is not supported: take "
                    "the diagonal by indexing first"
                )
        if "..." in term:
            if len(explicit) > ndim:
                raise ValueError(
                    f"einsum: operand {k} has {ndim} axes but its subscripts {term!r} name "
                    f"{len(explicit)} besides '...'"
                )
            width = max(width, ndim - len(explicit))
        elif len(term) != ndim:
            raise ValueError(
                f"einsum: operand {k} has {ndim} axes but its subscripts {term!r} name {len(term)}"
            )
    free = "".join(c for c in _LETTERS if c not in text)[:width]
    if len(free) < width:
        raise ValueError(f"einsum: too many axes under '...' ({width}) for the letters left")
    # An operand's "..." covers its leading axes, aligned on the right with the others'.
    labels = tuple(
        term.replace("...", free[width - (ndim - len(term) + 3):]) if "..." in term else term
        for term, ndim in zip(terms, ndims)
    )
    output = _output(subscripts, given_output, labels, free)
    return Parsed(labels, output, ",".join(labels) + "->" + output)


def _output(subscripts: str, given: str | None, labels: tuple[str, ...], free: str) -> str:
    if given is None:  # implicit: "..." first, then the letters that appear once, sorted
        letters = "".join(labels)
        return free + "".join(sorted(c for c in set(letters) if c not in free and letters.count(c) == 1))
    output = given.replace("...", free)
    for letter in output:
        if output.count(letter) > 1:
            raise ValueError(f"einsum: index {letter!r} repeats in the output of {subscripts!r}")
        if not any(letter in term for term in labels):
            raise ValueError(
                f"einsum: the output index {letter!r} of {subscripts!r} is in no operand"
            )
    return output
