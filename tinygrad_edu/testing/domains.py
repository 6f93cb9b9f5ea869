"""Where an op's inputs are drawn from: `Domain`, and `random_inputs`.

A finite-difference check only judges the points it is given. A backward that is wrong only
for x > 1.5, or only for negative x, passes at every other point, so the inputs should cover
the op's whole domain. `check_function` draws by default from `Domain()`: values spread evenly
over [-5, 5], both signs in every input of two or more elements, kept `margin` = 0.05 away
from 0 (where |x| and relu bend) and all distinct (so no two compete in a max). An op with a
smaller domain says so, per input:

    Domain(low=0.0)                 log, sqrt, fractional powers: (0.05, 4.95]
    Domain(-1.0, 1.0)               atanh: [-0.95, 0.95], away from 0
    Domain(avoid=(-1.0, 0.0, 1.0))  clip to [-1, 1]: away from both bends and from 0
    (0.0, None)                     the same as Domain(low=0.0); None is an open side
    lambda rng, shape: ...          a sampler: draws the values itself, any way it likes

A bound of the domain is an edge (log at 0, atanh at ±1): values stay `margin` inside it, as
they stay `margin` away from every point in `avoid`. A step of 1e-6 then never crosses a kink
or leaves the domain, and the values are far enough apart for finite differences to tell
them apart. With a sampler, keeping away from kinks is the sampler's business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from .. import validation
from ..tensor import Tensor

__all__ = ["Domain", "DomainLike", "Sampler", "random_inputs", "SPAN"]

Shape = tuple[int, ...]
Sampler = Callable[[np.random.Generator, Shape], Any]
# A Domain, a (low, high) pair (None for an open side), a sampler, or None (the default).
DomainLike = Union["Domain", tuple[float | None, float | None], Sampler, None]

SPAN = 5.0  # an open side of a domain reaches this far: to ±SPAN, or SPAN past the other bound
MARGIN = 0.05


@dataclass(frozen=True)
class Domain:
    """The values one input is drawn from.

    low, high  the domain's edges; values lie in [low + margin, high - margin]
    avoid      points to keep `margin` away from: kinks (0 for |x| and relu), poles
    margin     the distance kept from the edges and from the points in `avoid`
    sampler    sampler(rng, shape) -> array of that shape: replaces all of the above

    Values are spread evenly over what is left, in random order, all distinct. When the
    domain is symmetric about 0 (low == -high, avoid symmetric) magnitudes are spread and
    every input of two or more elements gets both signs.
    """

    low: float = -SPAN
    high: float = SPAN
    avoid: tuple[float, ...] = (0.0,)
    margin: float = MARGIN
    sampler: Sampler | None = None

    def __post_init__(self) -> None:
        where = "Domain"
        if self.sampler is not None:
            validation.callable_arg(where, "sampler", self.sampler)
            return
        low = validation.finite_float(where, "low", self.low)
        high = validation.finite_float(where, "high", self.high)
        if not low < high:
            raise ValueError(f"Domain: low must be below high, got low={low!r}, high={high!r}")
        margin = validation.positive_float(where, "margin", self.margin, allow_zero=True)
        if isinstance(self.avoid, (str, bytes)) or not isinstance(self.avoid, Sequence):
            raise TypeError(f"Domain: avoid must be a tuple of numbers, got {self.avoid!r}")
        avoid = tuple(validation.finite_float(where, "avoid", p) for p in self.avoid)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "margin", margin)
        object.__setattr__(self, "avoid", avoid)
        if sum(b - a for a, b in self.intervals()) <= 0:
            raise ValueError(
                f"Domain: nothing is left to draw from in [{low:g}, {high:g}] once values keep "
                f"margin={margin:g} away from its edges and from avoid={avoid}; widen the "
                "domain or lower the margin"
            )

    @classmethod
    def of(cls, spec: DomainLike, where: str = "check_function") -> Domain:
        """A Domain from what users write: a Domain, (low, high), a sampler, or None."""
        if spec is None:
            return cls()
        if isinstance(spec, Domain):
            return spec
        if isinstance(spec, tuple) and len(spec) == 2:
            low, high = spec
            if low is None and high is None:
                return cls()
            if low is None:
                high = validation.finite_float(where, "a domain's high", high)
                return cls(min(-SPAN, high - SPAN), high)
            if high is None:
                low = validation.finite_float(where, "a domain's low", low)
                return cls(low, max(SPAN, low + SPAN))
            return cls(low, high)
        if callable(spec):
            return cls(sampler=spec)
        raise TypeError(
            f"{where}: a domain must be a Domain, a (low, high) pair or a sampler "
            f"(rng, shape) -> array, got {type(spec).__name__} {spec!r}"
        )

    @property
    def symmetric(self) -> bool:
        """Symmetric about 0: magnitudes are spread, and signs mixed in every input."""
        return self.sampler is None and self.low == -self.high and \
            sorted(self.avoid) == sorted(-p for p in self.avoid)

    def intervals(self) -> list[tuple[float, float]]:
        """What is left to draw from: the values, or (symmetric) the magnitudes."""
        m = self.margin
        if self.symmetric:
            start, stop, points = 0.0, self.high - m, [abs(p) for p in self.avoid]
        else:
            start, stop, points = self.low + m, self.high - m, list(self.avoid)
        pieces = [(start, stop)]
        for p in points:
            pieces = [part for a, b in pieces
                      for part in ((a, min(b, p - m)), (max(a, p + m), b))]
        return [(a, b) for a, b in pieces if b > a]

    def describe(self) -> str:
        if self.sampler is not None:
            return f"the sampler {getattr(self.sampler, '__name__', repr(self.sampler))}"
        text = f"[{self.low:g}, {self.high:g}]"
        if self.avoid:
            text += " away from " + ", ".join(f"{p:g}" for p in self.avoid)
        return text


# The band random_inputs draws from by default: magnitudes in [0.5, 1.5] (see its docstring).
NARROW = Domain(-2.0, 2.0, margin=0.5)
NARROW_POSITIVE = Domain(0.0, 2.0, margin=0.5)
POSITIVE = Domain(0.0, SPAN)


def random_inputs(
    shapes: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    positive: bool = False,
    requires_grad: bool | Sequence[bool] = True,
    domains: DomainLike | Sequence[DomainLike] = None,
    dtype: Any = np.float64,
) -> list[Tensor]:
    """Tensors of the given shapes, named "a", "b", ..., with values away from kinks and
    domain edges.

    domains        one domain for every input, or one per input (see `Domain`; None entries
                   take the default). Without domains, the narrow band of earlier versions:
                   magnitudes in [0.5, 1.5], all distinct across all the tensors (at least
                   0.5/(total number of elements) apart), random signs with both signs in
                   every tensor of two or more elements, or all positive with positive=True.
                   `check_function` draws from the whole `Domain()` instead.
    positive       the default domain is positive (log, fractional powers)
    requires_grad  one bool for all, or one per shape
    dtype          float64 (the default) or float32

    Inputs whose domains are equal are drawn together, so their values are distinct too.
    """
    where = "random_inputs"
    wanted: list[Shape] = [tuple(int(n) for n in shape) for shape in shapes]
    flags = [requires_grad] * len(shapes) if isinstance(requires_grad, bool) else list(requires_grad)
    if len(flags) != len(wanted):
        raise ValueError(f"random_inputs: {len(flags)} requires_grad flags for {len(wanted)} shapes")
    dtype = validation.float_dtype(where, "dtype", dtype)
    if domains is None:  # the narrow band
        chosen = [NARROW_POSITIVE if positive else NARROW] * len(wanted)
    else:
        chosen = domains_of(domains, len(wanted), where, positive=positive)
    values = _draw(np.random.default_rng(seed), wanted, chosen, where)
    return [
        Tensor(v.astype(dtype), requires_grad=flag, name=input_name(i))
        for i, (v, flag) in enumerate(zip(values, flags, strict=True))
    ]


def domains_of(domains: DomainLike | Sequence[DomainLike], count: int, where: str, *,
               positive: bool = False) -> list[Domain]:
    """One Domain per input, from one spec for all or a list of one per input; None (or a None
    entry) takes the whole default domain: `Domain()`, or POSITIVE with positive=True."""
    default = POSITIVE if positive else Domain()
    return [default if d is None else Domain.of(d, where)
            for d in per_input(domains, count, where)]


def per_input(domains: DomainLike | Sequence[DomainLike], count: int,
              where: str) -> list[DomainLike]:
    """One domain spec per input: a single spec is used for all; a list gives one each."""
    if domains is None or isinstance(domains, Domain) or callable(domains) or _is_pair(domains):
        return [domains] * count  # type: ignore[list-item]
    if isinstance(domains, (list, tuple)):
        if len(domains) != count:
            raise ValueError(f"{where}: {len(domains)} domains for {count} inputs; give one "
                             "domain for all, or one per input")
        return list(domains)
    raise TypeError(
        f"{where}: domains must be a domain (a Domain, a (low, high) pair, a sampler) or a "
        f"list of them, one per input, got {type(domains).__name__}"
    )


def _is_pair(spec: Any) -> bool:
    return isinstance(spec, tuple) and len(spec) == 2 and all(
        s is None or (isinstance(s, (int, float, np.number)) and not isinstance(s, bool))
        for s in spec)


def _draw(rng: np.random.Generator, shapes: list[Shape], domains: list[Domain],
          where: str) -> list[np.ndarray]:
    """Values for each shape; inputs with equal domains are drawn together (distinct values),
    groups in the order of their first input."""
    values: list[np.ndarray | None] = [None] * len(shapes)
    for domain in dict.fromkeys(domains):  # distinct domains, in order of first appearance
        members = [i for i, d in enumerate(domains) if d == domain]
        if domain.sampler is not None:
            for i in members:
                values[i] = _sampled(domain, rng, shapes[i], i, where)
            continue
        sizes = [math.prod(shapes[i]) for i in members]
        spread = _spread(rng, domain.intervals(), sum(sizes))
        for i, part, n in zip(members, np.split(spread, np.cumsum(sizes)[:-1]), sizes, strict=True):
            if domain.symmetric:
                part = part * _mixed_signs(rng, n)
            values[i] = part.reshape(shapes[i])
    return [v for v in values if v is not None]


def _spread(rng: np.random.Generator, intervals: list[tuple[float, float]],
            total: int) -> np.ndarray:
    """`total` points spread evenly over the intervals, in random order: a random order of
    evenly spaced slots, each point jittered within the middle half of its slot."""
    lengths = np.array([b - a for a, b in intervals])
    t = (rng.permutation(total) + rng.uniform(0.25, 0.75, size=total)) / total
    if len(intervals) == 1:  # the common case, and bit-for-bit the draw of earlier versions
        return intervals[0][0] + t * lengths[0]
    t *= lengths.sum()
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(intervals) - 1)
    return np.array([a for a, _ in intervals])[k] + (t - edges[k])


def _sampled(domain: Domain, rng: np.random.Generator, shape: Shape, i: int,
             where: str) -> np.ndarray:
    assert domain.sampler is not None
    drawn = domain.sampler(rng, shape)
    array = np.asarray(drawn.data if isinstance(drawn, Tensor) else drawn, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{where}: the sampler of input {i} returned shape {array.shape}, "
                         f"but was asked for shape {shape}")
    validation.finite_array(where, f"the sampler's values for input {i}", array)
    return array


def input_name(i: int) -> str:
    """"a", "b", ... for the inputs of an op."""
    return chr(ord("a") + i) if i < 26 else f"x{i}"


def _mixed_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    """n signs in random order, as many -1 as +1 (one more of a random one when n is odd):
    every input of two or more elements has both signs, so a backward that is only right for
    positive (or negative) values cannot pass by luck of the draw."""
    signs = np.where((np.arange(n) + rng.integers(2)) % 2 == 0, 1.0, -1.0)
    rng.shuffle(signs)
    return signs
