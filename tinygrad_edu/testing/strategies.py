"""Hypothesis strategies for property-testing your own ops, as the library tests its own.

    from hypothesis import given
    from tinygrad_edu import gradcheck
    from tinygrad_edu.testing import strategies as tst

    @given(tst.op_inputs(tst.broadcast_compatible_shapes(2)))
    def test_my_mul_gradient(inputs):
        assert gradcheck(MyMul.apply, inputs)

    @given(tst.tensors(tst.shapes(min_dims=1)).flatmap(
        lambda x: tst.reductions(x.ndim).map(lambda kw: (x, kw))))
    def test_my_sum_gradient(case):
        x, kwargs = case
        assert gradcheck(lambda t: MySum.apply(t, **kwargs), x)

Shapes:   shapes, broadcastable_shapes (to a given shape), broadcast_compatible_shapes
          (tuples of shapes that broadcast together)
Reducing: axes (None, an axis, or a tuple of distinct axes; negative ones too), keepdims,
          reductions ({"axis": ..., "keepdims": ...} for sum/mean/max-like ops)
Values:   float_dtypes, arrays, tensors, op_inputs; values come from a `Domain` (default:
          [-5, 5] kept 0.05 away from 0, where |x| and relu bend), so a finite-difference check
          is not fooled by a kink. Hypothesis likes awkward values: pass unique=True where
          ties matter (max, maximum).

hypothesis is an optional dependency: `pip install "tinygrad_edu[testing]"`. It is imported
only when this module is, and its absence is reported by an ImportError saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # pragma: no cover - exercised by a test that hides hypothesis
    raise ImportError(
        "tinygrad_edu.testing.strategies needs hypothesis, an optional dependency: "
        'pip install "tinygrad_edu[testing]" (or pip install hypothesis)'
    ) from error

from .. import validation
from ..tensor import Tensor
from .domains import Domain, DomainLike, input_name, per_input

__all__ = [
    "float_dtypes",
    "shapes",
    "broadcastable_shapes",
    "broadcast_compatible_shapes",
    "axes",
    "keepdims",
    "reductions",
    "arrays",
    "tensors",
    "op_inputs",
]

Shape = tuple[int, ...]
ShapeLike = Shape | st.SearchStrategy[Shape]
DtypeLike = Any  # a float dtype, or a strategy of them


def float_dtypes() -> st.SearchStrategy[np.dtype]:
    """float32 or float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes; min_side=0 also draws empty axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(shape: Shape, *, min_dims: int = 0, max_dims: int | None = None,
                         min_side: int = 1, max_side: int | None = None
                         ) -> st.SearchStrategy[Shape]:
    """Shapes that broadcast to `shape`: axes set to 1, leading axes dropped (a bias (4,) or
    (1, 4) for an activation (3, 4))."""
    shape = tuple(shape)
    max_dims = len(shape) if max_dims is None else max_dims
    # hypothesis's broadcastable_shapes broadcast *with* shape, maybe to a larger one: keep
    # those that broadcast *to* it (an axis of 1 in shape takes only 1).
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims,
                                    min_side=min_side, max_side=max_side).filter(
        lambda drawn: np.broadcast_shapes(shape, drawn) == shape)


def broadcast_compatible_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3,
                                min_side: int = 1, max_side: int = 4
                                ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of `num_shapes` shapes that broadcast together, as the inputs of a binary op:
    ((3, 1), (4,)), ((2, 3, 4), (3, 1)), ((), (5,)), ..."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda drawn: tuple(drawn.input_shapes))


@st.composite
def axes(draw: st.DrawFn, ndim: int, *, allow_none: bool = True, allow_negative: bool = True,
         allow_tuple: bool = True) -> int | tuple[int, ...] | None:
    """An `axis=` argument for an array of `ndim` dimensions: None (every axis), one axis, or
    a non-empty tuple of distinct axes; negative axes too. Never () (numpy reads it as "no
    axis", PyTorch as "every axis")."""
    if ndim == 0 or (allow_none and draw(st.booleans())):
        if not allow_none:
            raise ValueError("axes: a 0-d array has no axis to draw; allow_none=True")
        return None
    count = draw(st.integers(1, ndim if allow_tuple else 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=count, max_size=count, unique=True))
    if allow_negative:
        chosen = [a - ndim if draw(st.booleans()) else a for a in chosen]
    if len(chosen) == 1 and (not allow_tuple or draw(st.booleans())):
        return chosen[0]
    return tuple(chosen)


def keepdims() -> st.SearchStrategy[bool]:
    return st.booleans()


def reductions(ndim: int) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of a reduction over an array of `ndim` dimensions:
    {"axis": None | int | tuple, "keepdims": bool}."""
    return st.fixed_dictionaries({"axis": axes(ndim), "keepdims": keepdims()})


def arrays(shape: ShapeLike, dtype: DtypeLike = np.float64, domain: DomainLike = None, *,
           unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Float arrays with values in `domain` (a `Domain`, a (low, high) pair or a sampler;
    default `Domain()`). unique=True: all values distinct (no ties in a max).

    shape and dtype may be strategies (`shapes()`, `float_dtypes()`)."""
    chosen = Domain.of(domain, "arrays")
    dtypes = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))
    shape_strategy = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    return st.tuples(shape_strategy, dtypes).flatmap(
        lambda pair: _arrays_of(pair[0], pair[1], chosen, unique))


def _arrays_of(shape: Shape, dtype: Any, domain: Domain,
               unique: bool) -> st.SearchStrategy[np.ndarray]:
    dtype = validation.float_dtype("arrays", "dtype", dtype)
    if domain.sampler is not None:
        sampler = domain.sampler
        return st.integers(0, 2**32 - 1).map(
            lambda seed: np.asarray(sampler(np.random.default_rng(seed), shape), dtype=dtype))
    return hnp.arrays(dtype, shape, elements=_values(domain, dtype), unique=unique)


def _values(domain: Domain, dtype: np.dtype) -> st.SearchStrategy[float]:
    """Floats of the domain's allowed intervals, representable in dtype."""
    width: Literal[16, 32, 64] = 32 if dtype.itemsize == 4 else 16 if dtype.itemsize == 2 else 64
    pieces = []
    for low, high in domain.intervals():
        low, high = _inward(low, high, dtype)
        if low <= high:
            pieces.append(st.floats(low, high, width=width, allow_subnormal=False))
    values = st.one_of(pieces)
    if domain.symmetric:  # the intervals are magnitudes: give them a sign
        values = st.tuples(values, st.booleans()).map(lambda v: -v[0] if v[1] else v[0])
    return values


def _inward(low: float, high: float, dtype: np.dtype) -> tuple[float, float]:
    """The bounds rounded to dtype, inward (hypothesis wants representable bounds)."""
    lo, hi = dtype.type(low), dtype.type(high)
    if float(lo) < low:
        lo = np.nextafter(lo, dtype.type(np.inf))
    if float(hi) > high:
        hi = np.nextafter(hi, dtype.type(-np.inf))
    return float(lo), float(hi)


def tensors(shape: ShapeLike, dtype: DtypeLike = np.float64, domain: DomainLike = None, *,
            unique: bool = False, requires_grad: bool = True,
            name: str | None = None) -> st.SearchStrategy[Tensor]:
    """Tensors whose values come from `arrays(shape, dtype, domain, unique=unique)`."""
    return arrays(shape, dtype, domain, unique=unique).map(
        lambda a: Tensor(a, requires_grad=requires_grad, name=name))


def op_inputs(shapes: Sequence[Shape] | st.SearchStrategy[tuple[Shape, ...]],
              domains: DomainLike | Sequence[DomainLike] = None, dtype: DtypeLike = np.float64,
              *, unique: bool = False,
              requires_grad: bool = True) -> st.SearchStrategy[tuple[Tensor, ...]]:
    """A tuple of Tensors named "a", "b", ..., one per shape, to call an op on: `shapes` is a
    list of shapes or a strategy of them (`broadcast_compatible_shapes(2)`); `domains` one
    domain for all inputs or one per input; `dtype` one float dtype (or a strategy) for all."""
    shape_lists = shapes if isinstance(shapes, st.SearchStrategy) else \
        st.just(tuple(tuple(s) for s in shapes))
    dtypes = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))

    def build(pair: tuple[tuple[Shape, ...], np.dtype]) -> st.SearchStrategy[tuple[Tensor, ...]]:
        drawn_shapes, drawn_dtype = pair
        specs = per_input(domains, len(drawn_shapes), "op_inputs")
        return st.tuples(*[
            tensors(s, drawn_dtype, spec, unique=unique, requires_grad=requires_grad,
                    name=input_name(i))
            for i, (s, spec) in enumerate(zip(drawn_shapes, specs, strict=True))])

    return st.tuples(shape_lists, dtypes).flatmap(build)
