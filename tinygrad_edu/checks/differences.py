"""gradcheck's numerical side: fn read out at perturbed copies of its inputs, the quotients,
and their comparison with the analytic derivatives (kinks told apart by a halved step)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..function import no_grad
from ..tensor import Tensor
from .comparison import Comparison
from .numerical import evaluate_steps
from .progress import Progress

__all__ = ["Readout", "FiniteDifferences", "dot", "short_repr"]


class Readout:
    """fn at given arguments, flattened, and projected on `projection` (v, of the output's
    size) when there is one. The hot loop of the numerical side: the checks here are the
    cheapest that still catch fn returning something else than at the unperturbed inputs."""

    def __init__(self, fn: Callable[..., Tensor], output_shape: tuple[int, ...],
                 projection: np.ndarray | None) -> None:
        self.fn, self.output_shape, self.projection = fn, output_shape, projection

    def __call__(self, args: Sequence[Any]) -> np.ndarray:
        out = self.fn(*args)
        if not isinstance(out, Tensor) or out.data.shape != self.output_shape:
            self._reject(out)
        values = out.data.reshape(-1)
        return values if self.projection is None else np.array([dot(self.projection, values)])

    def at_output(self, output: Tensor) -> tuple[np.ndarray, float]:
        """The readout of `output` (fn at the unperturbed inputs) and the size of the terms it
        sums (what its rounding error is relative to)."""
        values = np.asarray(output.data, dtype=np.float64).reshape(-1)
        if self.projection is None:
            return values, float(np.sum(np.abs(values)))
        magnitude = dot(np.abs(self.projection), np.abs(values))
        return np.array([dot(self.projection, values)]), magnitude

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

    args      fn's arguments: float64 C-ordered leaf copies of the Tensors, constants as given
    base      the readout at the unperturbed args; `magnitude` the size of its terms
    """

    def __init__(self, readout: Readout, args: Sequence[Any], base: np.ndarray,
                 magnitude: float, eps: float, atol: float, rtol: float) -> None:
        self.readout, self.args = readout, args
        self.base, self.magnitude = base, magnitude
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.evaluations = 0  # calls of fn made here

    def quotients(self, position: int, indices: np.ndarray, step: float,
                  progress: Progress | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centered and one-sided (+h, -h) quotients, each (len(indices), readout size)."""
        with no_grad():
            values, taken = evaluate_steps(self.readout, self.args, position, indices,
                                           (step, -step), progress=progress)
        self.evaluations += 2 * len(indices)
        plus, minus = values[0].reshape(len(indices), -1), values[1].reshape(len(indices), -1)
        step_plus, step_minus = taken[0][:, None], taken[1][:, None]
        centered = (plus - minus) / (step_plus - step_minus)
        return centered, (plus - self.base) / step_plus, (self.base - minus) / -step_minus

    def along(self, position: int, indices: np.ndarray, step: np.ndarray
              ) -> tuple[float, float, np.ndarray]:
        """The readout (one number) with args[position].flat[indices] moved by +step and by
        -step together, and the displacement x+ - x- actually represented (about 2·step)."""
        with no_grad():
            values, taken = evaluate_steps(self.readout, self.args, position, indices,
                                           np.stack([step, -step]), jointly=True)
        self.evaluations += 2
        return float(values[0, 0]), float(values[1, 0]), taken[0] - taken[1]

    def compare(self, position: int, indices: np.ndarray, analytic: np.ndarray,
                progress: Progress | None = None) -> Comparison:
        """Compare analytic[k, r] = d readout_r / d x[indices[k]] with centered differences."""
        numerical, slope_plus, slope_minus = self.quotients(position, indices, self.eps,
                                                            progress)
        comparison = Comparison.of(indices, analytic, numerical, slope_plus, slope_minus,
                                   self.atol, self.rtol)
        self._confirm_kinks(position, comparison)
        return comparison

    def _confirm_kinks(self, position: int, comparison: Comparison) -> None:
        """A derivative that agrees but whose one-sided slopes differ sits on a kink (relu at
        exactly 0) or on a sharp bend of a smooth function. Halving the step tells them apart:
        a kink's slopes keep their jump, a smooth bend's jump halves with the step."""
        unsure = np.flatnonzero(comparison.kink & ~comparison.wrong)
        if unsure.size == 0:
            return
        elements = np.unique(comparison.element[unsure])
        _, plus, minus = self.quotients(position, elements, self.eps / 2)
        rows = np.searchsorted(elements, comparison.element[unsure])
        cols = comparison.output[unsure]
        jump_at_half = np.abs(plus[rows, cols] - minus[rows, cols])
        jump = np.abs(comparison.slope_plus[unsure] - comparison.slope_minus[unsure])
        comparison.kink[unsure[jump_at_half <= 0.75 * jump]] = False


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """a·b of two 1-D arrays without BLAS: for long vectors BLAS wakes its thread pool, which
    can cost milliseconds on a busy machine, more than an evaluation of fn."""
    return float(np.einsum("i,i->", a, b))


def short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
