"""`check_function`: gradcheck one op the ways its bugs hide.

An op is checked on random inputs drawn from its whole domain (see `domains`): with all inputs
requiring grad, with each input alone requiring grad (a backward must cope with
`ctx.needs_input_grad` False for the others), and with broadcast variants of the shapes (a
backward must sum a broadcast gradient back). A failure raises `GradcheckError`, an
AssertionError, whose message says which case failed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import GradcheckError, GradcheckReport, check_gradients
from ..function import Function, no_grad
from ..tensor import Tensor
from .domains import POSITIVE, Domain, DomainLike, per_input, random_inputs

__all__ = ["check_function", "broadcast_shape_variants"]

Shape = tuple[int, ...]


def broadcast_shape_variants(shapes: Sequence[Sequence[int]]) -> list[list[Shape]]:
    """Shape lists in which one input's shape is replaced by a shape that broadcasts to it:
    one axis set to 1, or the leading axis dropped. For [(3, 4), (4,)]: [(1, 4), (4,)],
    [(3, 1), (4,)], [(4,), (4,)], [(3, 4), (1,)], [(3, 4), ()]. Which of them an op accepts,
    and with the same output shape, only running it tells (see `check_function`)."""
    base = [tuple(int(n) for n in shape) for shape in shapes]
    variants: list[list[Shape]] = []
    for i, shape in enumerate(base):
        smaller = [shape[:axis] + (1,) + shape[axis + 1:] for axis in range(len(shape))
                   if shape[axis] > 1]
        if shape:
            smaller.append(shape[1:])
        for new in dict.fromkeys(smaller):  # unique, in order
            variants.append(base[:i] + [new] + base[i + 1:])
    return variants


def check_function(
    function: type[Function],
    shapes: Sequence[Sequence[int]] = ((3, 4), (4,)),
    kwargs: dict[str, Any] | None = None,
    *,
    domains: DomainLike | Sequence[DomainLike] = None,
    seed: int = 0,
    positive: bool = False,
    broadcast_variants: bool = True,
    each_input_alone: bool = True,
    fast_mode: bool = False,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> list[GradcheckReport]:
    """Gradcheck `function` (a Function subclass) on random inputs of the given shapes.

    function            called as function.apply(*inputs, **kwargs)
    shapes              one shape per positional (Tensor) input
    kwargs              keyword arguments of the op (axis=, exponent=, index=, ...)
    domains             where the inputs are drawn from: one domain for all inputs, or a list
                        with one per input (None entries: the default). A domain is a
                        `Domain`, a (low, high) pair (None for an open side) or a sampler
                        (rng, shape) -> array. Default: `Domain()`, values spread over
                        [-5, 5], away from 0, both signs, all distinct; with positive=True,
                        (0.05, 4.95]. See `tinygrad_edu.testing.domains`.
    seed                seeds the draws and gradcheck's random choices
    positive            the default domain is positive (log, fractional powers)
    broadcast_variants  also check every variant from `broadcast_shape_variants` that the op
                        accepts and that gives the same output shape (skipped otherwise)
    each_input_alone    with several inputs, also check each input alone requiring grad
    fast_mode, eps, atol, rtol   passed to gradcheck (None: gradcheck's own default)

    Returns the reports of all cases; raises `GradcheckError` (an AssertionError) naming the
    failing case, the op and its shapes. Errors of the op's forward on the given shapes
    propagate as they are; a forward giving NaN or inf on the drawn inputs raises ValueError
    (the op's domain is smaller than the one drawn from: give `domains=` or `positive=True`).
    """
    kwargs = dict(kwargs or {})
    base = [tuple(shape) for shape in shapes]
    default = POSITIVE if positive else Domain()
    chosen = [default if d is None else Domain.of(d)
              for d in per_input(domains, len(base), "check_function")]
    draw = functools.partial(random_inputs, seed=seed, domains=chosen)
    _check_finite_forward(function, draw(base), kwargs, chosen)

    cases: list[tuple[list[Shape], list[bool]]] = [(base, [True] * len(base))]
    if each_input_alone and len(base) > 1:
        cases += [(base, [j == i for j in range(len(base))]) for i in range(len(base))]
    if broadcast_variants:
        cases += [(variant, [True] * len(base))
                  for variant in _accepted_variants(function, base, kwargs, draw)]

    options: dict[str, Any] = {"fast_mode": fast_mode, "seed": seed}
    options.update({k: v for k, v in (("eps", eps), ("atol", atol), ("rtol", rtol))
                    if v is not None})
    op = functools.partial(function.apply, **kwargs)
    reports = []
    for case_shapes, flags in cases:
        report = check_gradients(op, draw(case_shapes, requires_grad=flags), **options)
        if not report.ok:
            raise GradcheckError(
                report, context=_describe_case(function, case_shapes, kwargs, flags)
            ) from report.backward_error
        reports.append(report)
    return reports


def _check_finite_forward(function: type[Function], inputs: list[Tensor], kwargs: dict[str, Any],
                          domains: list[Domain]) -> None:
    """Refuse inputs outside the op's domain before any gradient is compared: NaN from log of
    a negative number says nothing about log's backward."""
    with no_grad(), np.errstate(all="ignore"):
        out = function.apply(*inputs, **kwargs)
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
        bad = "NaN" if np.isnan(data).any() else "inf"
        drawn = "; ".join(f"input {i} from {d.describe()}" for i, d in enumerate(domains))
        raise ValueError(
            f"check_function({function.__name__}): its forward gives {bad} on the inputs "
            f"drawn ({drawn}), so they lie outside the op's domain. Give the domain of each "
            "input: domains=[(0, None), ...] or Domain(low=..., high=..., avoid=...) per "
            "input, or positive=True for all"
        )


def _accepted_variants(function: type[Function], base: list[Shape], kwargs: dict[str, Any],
                       draw: functools.partial[list[Tensor]]) -> list[list[Shape]]:
    """The broadcast variants the op's forward accepts, giving the base case's output shape."""
    with no_grad(), np.errstate(all="ignore"):
        expected = function.apply(*draw(base), **kwargs).shape
        accepted = []
        for variant in broadcast_shape_variants(base):
            try:
                shape = function.apply(*draw(variant), **kwargs).shape
            except (ValueError, IndexError, TypeError):
                continue  # the op does not broadcast this way: nothing to check
            if shape == expected:
                accepted.append(variant)
    return accepted


def _describe_case(function: type[Function], shapes: list[Shape], kwargs: dict[str, Any],
                   flags: list[bool]) -> str:
    text = f"check_function({function.__name__}): shapes {shapes}"
    if kwargs:
        text += ", kwargs " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if not all(flags):
        text += ", only " + ", ".join(f"input {i}" for i, f in enumerate(flags) if f) + \
            " requiring grad"
    return text
