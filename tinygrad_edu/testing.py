"""Helpers for checking your own ops in your own pytest suite.

    from tinygrad_edu.testing import check_function

    def test_my_mul_backward():
        check_function(MyMul, shapes=[(3, 4), (4,)])

`check_function` draws random inputs where every op is differentiable (values of magnitude
0.5 to 1.5, all distinct, so no input sits at 0 where |x| and relu bend, and no two compete in a
max), and gradchecks the op on them: with all inputs requiring grad, with each input alone
requiring grad (a backward must cope with `ctx.needs_input_grad` False for the others), and
with broadcast variants of the shapes (a backward must sum a broadcast gradient back). A
failure raises `GradcheckError`, an AssertionError, whose message says which case failed.
"""

from __future__ import annotations

import functools

from typing import Any, Sequence

import numpy as np

from .checks import GradcheckError, GradcheckReport, check_gradients
from .function import Function, no_grad
from .tensor import Tensor

__all__ = ["check_function", "random_inputs", "broadcast_shape_variants"]

Shape = tuple[int, ...]


def random_inputs(
    shapes: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    positive: bool = False,
    requires_grad: bool | Sequence[bool] = True,
) -> list[Tensor]:
    """float64 Tensors of the given shapes, named "a", "b", ..., with values away from kinks
    and domain edges.

    Magnitudes lie in [0.5, 1.5] and are all distinct across all the tensors, at least
    0.5/(total number of elements) apart, so no value is near 0 (|x|, relu, 1/x, log) and no
    two are near a tie (max, maximum). Signs are random, or all positive with positive=True
    (log, fractional powers). `requires_grad`: one bool for all, or one per shape.
    """
    shapes = [tuple(int(n) for n in shape) for shape in shapes]
    if isinstance(requires_grad, bool):
        flags = [requires_grad] * len(shapes)
    else:
        flags = list(requires_grad)
    if len(flags) != len(shapes):
        raise ValueError(
            f"random_inputs: {len(flags)} requires_grad flags for {len(shapes)} shapes"
        )
    sizes = [int(np.prod(shape)) for shape in shapes]
    total = sum(sizes)
    rng = np.random.default_rng(seed)
    # A random order of evenly spaced slots, each jittered within the middle of its slot.
    magnitudes = 0.5 + (rng.permutation(total) + rng.uniform(0.25, 0.75, size=total)) / total
    signs = np.ones(total) if positive else np.concatenate([_mixed_signs(rng, n) for n in sizes])
    values = np.split(magnitudes * signs, np.cumsum(sizes)[:-1])
    return [
        Tensor(v.reshape(shape), requires_grad=flag, name=_name(i))
        for i, (v, shape, flag) in enumerate(zip(values, shapes, flags))
    ]


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
    seed: int = 0,
    positive: bool = False,
    broadcast_variants: bool = True,
    each_input_alone: bool = True,
    fast_mode: bool = False,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> list[GradcheckReport]:
    """Gradcheck `function` (a Function subclass) on random inputs of the given shapes.

    function            called as function.apply(*inputs, **kwargs)
    shapes              one shape per positional (Tensor) input
    kwargs              keyword arguments of the op (axis=, exponent=, index=, ...)
    seed, positive      passed to `random_inputs` (positive=True for log, fractional powers)
    broadcast_variants  also check every variant from `broadcast_shape_variants` that the op
                        accepts and that gives the same output shape (skipped otherwise)
    each_input_alone    with several inputs, also check each input alone requiring grad
    fast_mode, eps, atol, rtol   passed to gradcheck

    Returns the reports of all cases; raises `GradcheckError` (an AssertionError) naming the
    failing case, the op and its shapes. Errors of the op's forward on the given shapes
    propagate as they are.
    """
    kwargs = dict(kwargs or {})
    base = [tuple(shape) for shape in shapes]
    cases: list[tuple[list[Shape], list[bool]]] = [(base, [True] * len(base))]
    if each_input_alone and len(base) > 1:
        cases += [(base, [j == i for j in range(len(base))]) for i in range(len(base))]
    if broadcast_variants:
        cases += [(variant, [True] * len(base))
                  for variant in _accepted_variants(function, base, kwargs, seed, positive)]

    op = functools.partial(function.apply, **kwargs)
    reports = []
    for case_shapes, flags in cases:
        inputs = random_inputs(case_shapes, seed=seed, positive=positive, requires_grad=flags)
        report = check_gradients(op, inputs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode,
                                 seed=seed)
        if not report.ok:
            raise GradcheckError(
                report, context=_describe_case(function, case_shapes, kwargs, flags)
            ) from report.backward_error
        reports.append(report)
    return reports


def _accepted_variants(function: type[Function], base: list[Shape], kwargs: dict[str, Any],
                       seed: int, positive: bool) -> list[list[Shape]]:
    """The broadcast variants the op's forward accepts, giving the base case's output shape."""
    with no_grad():
        inputs = random_inputs(base, seed=seed, positive=positive)
        expected = function.apply(*inputs, **kwargs).shape
        accepted = []
        for variant in broadcast_shape_variants(base):
            inputs = random_inputs(variant, seed=seed, positive=positive)
            try:
                shape = function.apply(*inputs, **kwargs).shape
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


def _name(i: int) -> str:
    return chr(ord("a") + i) if i < 26 else f"x{i}"


def _mixed_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    """n signs in random order, as many -1 as +1 (one more of a random one when n is odd):
    every input of two or more elements has both signs, so a backward that is only right for
    positive (or negative) values cannot pass by luck of the draw."""
    signs = np.where((np.arange(n) + rng.integers(2)) % 2 == 0, 1.0, -1.0)
    rng.shuffle(signs)
    return signs
