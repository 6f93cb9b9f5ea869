"""gradcheck's numerical side: fn read out at perturbed copies of its inputs, the quotients,
and their comparison with the analytic derivatives (kinks told apart by a halved step)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..modes import no_grad
from ..tensor import Tensor
from .comparison import ROUNDING_SAFETY, Comparison, Tolerance
from .evaluations import evaluate_steps
from .kinks import settle
from .outcomes import short_repr
from .parallel import WorkerPool, evaluate_steps_parallel
from .progress import Progress

__all__ = ["Readout", "FiniteDifferences", "dot"]


class Readout:
    """fn at given arguments, flattened, and projected on `projection` (v, of the output's
    size) when there is one. The hot loop of the numerical side: the checks here are the
    cheapest that still catch fn returning something else than at the unperturbed inputs."""

    def __init__(self, fn: Callable[..., Tensor], output_shape: tuple[int, ...],
                 projection: np.ndarray | None) -> None:
        self.fn, self.output_shape, self.projection = fn, output_shape, projection

    def __call__(self, args: Sequence[Any]) -> np.ndarray:
        __tracebackhide__ = True
        out = self.fn(*args)
        if not isinstance(out, Tensor) or out.data.shape != self.output_shape:
            self._reject(out)
        values = out.data.reshape(-1)
        return values if self.projection is None else np.array([dot(self.projection, values)])

    def at_output(self, output: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The readout of `output` (fn at the unperturbed inputs) and, per readout entry, its
        rounding scale from the size of the terms it sums."""
        values = np.asarray(output.data, dtype=np.float64).reshape(-1)
        if self.projection is None:
            return values, ROUNDING_SAFETY * np.abs(values)
        magnitude = dot(np.abs(self.projection), np.abs(values))
        return np.array([dot(self.projection, values)]), np.array([ROUNDING_SAFETY * magnitude])

    def _reject(self, out: Any) -> None:
        if not isinstance(out, Tensor):
            raise TypeError(
                f"gradcheck: fn returned {type(out).__name__} ({short_repr(out)}) at a "
                "perturbed input, but a Tensor at the unperturbed one"
            )
        raise ValueError(
            f"gradcheck: fn returned shape {out.shape} at a perturbed input but "
            f"{self.output_shape} at the unperturbed one"
        )


class FiniteDifferences:
    """Centered differences of the readout with respect to elements of args[position].

    args       fn's arguments: float64 leaf copies of the Tensors, constants as given
    base       the readout at the unperturbed args
    terms      per readout entry, its rounding scale: ε·terms is the rounding error its values
               can carry (safety factors included)
    tolerance  how far an analytic derivative may be from its difference
    pool       where the element-by-element evaluations run (None: here; see `parallel`)
    """

    def __init__(self, readout: Readout, args: Sequence[Any], base: np.ndarray,
                 terms: np.ndarray, eps: float, tolerance: Tolerance,
                 pool: WorkerPool | None = None) -> None:
        self.readout, self.args, self.pool = readout, args, pool
        self.base, self.terms = base, terms
        self.eps, self.tolerance = eps, tolerance
        self.evaluations = 0  # calls of fn made here
        self._scales: dict[int, np.ndarray] = {}

    @property
    def magnitude(self) -> float:
        """The size of all the readout's terms together."""
        return float(np.sum(self.terms))

    def quotients(self, position: int, indices: np.ndarray, step: float,
                  progress: Progress | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Centered and one-sided (+h, -h) quotients, each (len(indices), readout size), and the
        magnitude their rounding error is relative to, divided by the element's step scale.

        An element x moves by step·scale(x), where scale(x) is 1 for |x| <= 1 and the power of
        two at or above |x| otherwise: a step of 1e-6 next to 1e20 would not move it at all."""
        __tracebackhide__ = True
        scales = self.scales(position)[indices]
        bands = np.unique(scales)
        values = np.empty((2, len(indices), self.base.size))
        taken = np.empty((2, len(indices)))
        with no_grad():
            for band in bands:
                rows = np.flatnonzero(scales == band) if bands.size > 1 else slice(None)
                steps = (step * band, -step * band)
                # Here (pool None) or in chunks on the workers, results by index; either way
                # an exception from fn names the element being evaluated.
                values[:, rows], taken[:, rows] = evaluate_steps_parallel(
                    self.readout, self.args, position, indices[rows], steps,
                    pool=self.pool, progress=progress)
        self.evaluations += 2 * len(indices)
        plus, minus = values[0], values[1]
        step_plus, step_minus = taken[0][:, None], taken[1][:, None]
        centered = (plus - minus) / (step_plus - step_minus)
        magnitude = np.maximum(ROUNDING_SAFETY * np.maximum(np.abs(plus), np.abs(minus)),
                               self.terms)
        return (centered, (plus - self.base) / step_plus, (self.base - minus) / -step_minus,
                magnitude / scales[:, None])

    def scales(self, position: int) -> np.ndarray:
        """The step scale of each element of args[position], flattened (see `quotients`)."""
        if position not in self._scales:
            x = np.abs(self.args[position].data.reshape(-1))
            _, exponents = np.frexp(x)
            self._scales[position] = np.where(x > 1, np.ldexp(1.0, exponents), 1.0)
        return self._scales[position]

    def along(self, position: int, indices: np.ndarray, step: np.ndarray
              ) -> tuple[float, float, np.ndarray]:
        """The readout (one number) with args[position].flat[indices] moved by +step and by
        -step together, and the displacement x+ - x- actually represented (about 2·step)."""
        __tracebackhide__ = True
        step = step * self.scales(position)[indices]
        with no_grad():
            values, taken = evaluate_steps(self.readout, self.args, position, indices,
                                           np.stack([step, -step]), jointly=True)
        self.evaluations += 2
        return float(values[0, 0]), float(values[1, 0]), taken[0] - taken[1]

    def compare(self, position: int, indices: np.ndarray, analytic: np.ndarray,
                progress: Progress | None = None) -> Comparison:
        """Compare analytic[k, r] = d readout_r / d x[indices[k]] with centered differences,
        refining the entries outside the first tolerance (see kinks.py)."""
        __tracebackhide__ = True
        numerical, slope_plus, slope_minus, magnitude = self.quotients(
            position, indices, self.eps, progress)
        comparison = Comparison.of(indices, analytic, numerical, slope_plus, slope_minus,
                                   magnitude, self.tolerance, self.eps)
        settle(comparison, functools.partial(self.quotients, position), self.tolerance,
               self.eps)
        return comparison


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """a·b of two 1-D arrays without BLAS: for long vectors BLAS wakes its thread pool, which
    can cost milliseconds on a busy machine, more than an evaluation of fn."""
    return float(np.einsum("i,i->", a, b))

