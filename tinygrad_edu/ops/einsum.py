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
from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor
from .broadcast import broadcast_to, value_of

__all__ = ["Einsum", "einsum"]

_LETTERS = string.ascii_letters
_OPTIMIZE_FROM = 4096  # elements: below, numpy's path search costs more than it saves

Labels = tuple[tuple[str, ...], str]


class Einsum(Function):
    """np.einsum(subscripts, *operands); `subscripts` without repeated indices inside one
    operand (see the module's docstring)."""

    @staticmethod
    def forward(ctx: Context, *operands: np.ndarray, subscripts: str = "") -> np.ndarray:
        labels, output = parse(subscripts, tuple(np.ndim(o) for o in operands))
        ctx.save_for_backward(*operands)
        return np.asarray(_numpy_einsum(_explicit(labels, output), operands))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        operands = ctx.saved_tensors
        labels, output = parse(ctx.kwargs["subscripts"], tuple(value_of(o).ndim for o in operands))
        return tuple(
            _operand_grad(k, grad, operands, labels, output) if needs else None
            for k, needs in enumerate(ctx.needs_input_grad)
        )


def _operand_grad(k: int, grad: Any, operands: Any, labels: tuple[str, ...], output: str) -> Any:
    """The gradient of operand k: an einsum of grad with the other operands into k's indices."""
    target = labels[k]
    others = [j for j in range(len(operands)) if j != k]
    available = set(output).union(*(labels[j] for j in others))
    kept = "".join(c for c in target if c in available)
    expression = ",".join([output] + [labels[j] for j in others]) + "->" + kept
    part = _einsum(expression, grad, *(operands[j] for j in others))
    shape = value_of(operands[k]).shape
    full = tuple(part.shape[kept.index(c)] if c in kept else 1 for c in target)
    if part.shape != full:  # give back, as size 1, the indices found only in operand k
        part = part.reshape(full)
    stretched = tuple(i for i, (m, n) in enumerate(zip(full, shape)) if n == 1 and m != 1)
    if stretched:  # operand k broadcast along these axes: sum them back
        part = part.sum(axis=stretched, keepdims=True)
    if part.shape != shape:  # the indices found only in operand k: the gradient is spread
        part = broadcast_to(part, shape)
    dtype = value_of(operands[k]).dtype
    return part if part.dtype == dtype else part.astype(dtype)


def _numpy_einsum(expression: str, arrays: Any) -> Any:
    big = len(arrays) > 2 or sum(np.size(a) for a in arrays) >= _OPTIMIZE_FROM
    return np.einsum(expression, *arrays, optimize="greedy" if big else False)


def _einsum(expression: str, *operands: Any) -> Any:
    """An einsum of explicit, checked subscripts: recorded if an operand is a Tensor."""
    if any(isinstance(o, Tensor) for o in operands):
        return Einsum.apply(*operands, subscripts=expression)
    return _numpy_einsum(expression, operands)


def _explicit(labels: tuple[str, ...], output: str) -> str:
    return ",".join(labels) + "->" + output


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
    labels, output = parse(subscripts, tuple(a.ndim for a in arrays))
    _check_sizes(labels, arrays)
    items = [o if isinstance(o, Tensor) else a for o, a in zip(operands, arrays)]
    if any(isinstance(o, Tensor) for o in items):
        return Einsum.apply(*items, subscripts=subscripts)
    return np.asarray(_numpy_einsum(_explicit(labels, output), arrays))


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
def parse(subscripts: str, ndims: tuple[int, ...]) -> Labels:
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
    return labels, _output(subscripts, given_output, labels, free)


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
