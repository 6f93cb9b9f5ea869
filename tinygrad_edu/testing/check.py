"""`check_function`: gradcheck one op the ways its bugs hide.

An op is checked on random inputs drawn from its whole domain (see `domains`): with all inputs
requiring grad, with each input alone requiring grad (a backward must cope with
`ctx.needs_input_grad` False for the others), and with broadcast variants of the shapes (a
backward must sum a broadcast gradient back). A failure raises `GradcheckError`, an
AssertionError, whose message says which case failed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import validation
from ..checks import GradcheckError, GradcheckReport, check_gradients
from ..modes import no_grad
from ..tensor import Function, Tensor
from .domains import Domain, DomainLike, domains_of, random_inputs

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
    constants: Mapping[int, Any] | None = None,
    dtype: Any = np.float64,
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
    shapes              one shape per positional Tensor input (in order, skipping constants)
    kwargs              keyword arguments of the op (axis=, exponent=, index=, ...)
    constants           positional arguments passed as they are, by position: {0: mask}
                        for an op called as op(mask, a, b). Never drawn, varied or
                        differentiated; positions in messages count them.
    dtype               of the drawn inputs: float64, or float32 (gradcheck differentiates
                        float64 copies, and runs the op in float32 too where it can)
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
    dtype = validation.float_dtype("check_function", "dtype", dtype)
    base = [tuple(shape) for shape in shapes]
    chosen = domains_of(domains, len(base), "check_function", positive=positive)
    arguments = _Arguments(dict(constants or {}), len(base))
    op = functools.partial(function.apply, **kwargs)

    def draw(case_shapes: list[Shape], requires_grad: bool | list[bool] = True) -> list[Any]:
        return arguments.of(random_inputs(case_shapes, seed=seed, domains=chosen, dtype=dtype,
                                          requires_grad=requires_grad))

    with no_grad(), np.errstate(all="ignore"):
        out = op(*draw(base))
        _check_finite_forward(function, out, arguments, chosen)

    cases: list[tuple[list[Shape], list[bool]]] = [(base, [True] * len(base))]
    if each_input_alone and len(base) > 1:
        cases += [(base, [j == i for j in range(len(base))]) for i in range(len(base))]
    if broadcast_variants:
        cases += [(variant, [True] * len(base))
                  for variant in _accepted_variants(op, base, out.shape, draw)]

    options: dict[str, Any] = {"fast_mode": fast_mode, "seed": seed}
    options.update({k: v for k, v in (("eps", eps), ("atol", atol), ("rtol", rtol))
                    if v is not None})
    reports = []
    for case_shapes, flags in cases:
        report = check_gradients(op, draw(case_shapes, flags), **options)
        if not report.ok:
            context = _describe_case(function, case_shapes, kwargs, flags, arguments)
            raise GradcheckError(report, context=context) from report.backward_error
        reports.append(report)
    return reports


class _Arguments:
    """The op's positional arguments: drawn Tensors, with the constants at their positions."""

    def __init__(self, constants: dict[int, Any], drawn: int) -> None:
        total = drawn + len(constants)
        bad = [p for p in constants if not (isinstance(p, int) and 0 <= p < total)]
        if bad:
            raise ValueError(
                f"check_function: constants at positions {bad}, but the op takes {total} "
                f"positional inputs ({drawn} shapes and {len(constants)} constants)")
        self.constants = constants
        self.positions = [p for p in range(total) if p not in constants]  # of the drawn ones

    def of(self, tensors: list[Tensor]) -> list[Any]:
        drawn = iter(tensors)
        return [self.constants[p] if p in self.constants else next(drawn)
                for p in range(len(self.positions) + len(self.constants))]


def _check_finite_forward(function: type[Function], out: Tensor, arguments: _Arguments,
                          domains: list[Domain]) -> None:
    """Refuse inputs outside the op's domain before any gradient is compared: NaN from log of
    a negative number says nothing about log's backward."""
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
        bad = "NaN" if np.isnan(data).any() else "inf"
        drawn = "; ".join(f"input {p} from {d.describe()}"
                          for p, d in zip(arguments.positions, domains, strict=True))
        raise ValueError(
            f"check_function({function.__name__}): its forward gives {bad} on the inputs "
            f"drawn ({drawn}), so they lie outside the op's domain. Give the domain of each "
            "input: domains=[(0, None), ...] or Domain(low=..., high=..., avoid=...) per "
            "input, or positive=True for all"
        )


def _accepted_variants(op: Callable[..., Tensor], base: list[Shape], expected: Shape,
                       draw: Callable[[list[Shape]], list[Any]]) -> list[list[Shape]]:
    """The broadcast variants the op's forward accepts, giving the base case's output shape
    (`expected`)."""
    with no_grad(), np.errstate(all="ignore"):
        accepted = []
        for variant in broadcast_shape_variants(base):
            try:
                shape = op(*draw(variant)).shape
            except (ValueError, IndexError, TypeError):
                continue  # the op does not broadcast this way: nothing to check
            if shape == expected:
                accepted.append(variant)
    return accepted


def _describe_case(function: type[Function], shapes: list[Shape], kwargs: dict[str, Any],
                   flags: list[bool], arguments: _Arguments) -> str:
    text = f"check_function({function.__name__}): shapes {shapes}"
    if arguments.constants:
        text += ", constant " + ", ".join(f"input {p}" for p in sorted(arguments.constants))
    if kwargs:
        text += ", kwargs " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if not all(flags):
        chosen = [p for p, f in zip(arguments.positions, flags, strict=True) if f]
        text += ", only " + ", ".join(f"input {p}" for p in chosen) + " requiring grad"
    return text
