"""fast_mode: directional derivatives, then bisection.

For a large input, 2·n evaluations of fn are too many. fast_mode projects the output on a
random v (φ = vᵀ·output, so g = vᵀJ is one backward pass), splits the input's elements into
`directions` blocks (2 by default), and for each block B compares gᵀu with the centered
difference of φ along a random direction u supported on B (two evaluations). The entries of u
are random signs times magnitudes in [0.5, 1]: an error e in a single element moves gᵀu by at
least e/2, whatever the size of the block. So the tolerance is the per-element one,
atol + rtol·median|g| (not rtol·|gᵀu|, which grows like sqrt(n) and is why PyTorch's fast mode
misses a 1% error in one element of a 30,000-element gradient), plus an estimate of the
difference's own rounding error, 32·ε·|φ|/h. A block that disagrees is halved and each half
re-checked, down to a few elements that are checked one by one; that element-wise check
decides, so every failure fast mode reports is confirmed element by element. Kinks are met
only there: fast mode reports a kink only where it made a direction disagree. The linearity
passes are skipped: the upstream gradient of a scalar output is -0.75, not 1, so a backward
that ignores its grad argument still disagrees with the finite differences. When nothing
disagrees, the cost is 2·directions evaluations of fn, one recorded forward pass and one
backward pass, whatever n: the rounding scale of the values fn computes inside (a second
backward pass that keeps every inner gradient) is read only once a direction disagrees, since
it can only widen the tolerance.
"""

from __future__ import annotations

import numpy as np

from .comparison import ROUNDING_SAFETY, Comparison
from .differences import dot
from .modes import CheckMode
from .outcomes import InputCheck
from .progress import Progress
from .run import CheckRun, Upstream, random_weights

__all__ = ["FastMode"]

LEAF_SIZE = 8  # a block this small is checked element by element
LOCALIZE_LIMIT = 10  # stop narrowing down once this many elements are confirmed
SCALAR_UPSTREAM = -0.75  # a power of two times 3: dividing by it is exact


class FastMode(CheckMode):
    """Random directional derivatives over `directions` blocks of each input (the settings'
    `directions`, read from the run)."""

    checks_linearity = False  # each pass costs about three evaluations of fn
    reads_inside_lazily = True  # the rounding scale of fn's inner values: see disagrees
    name = "fast"

    def upstream(self, out_size: int, entries: int, rng: np.random.Generator) -> Upstream:
        if out_size == 1:
            return Upstream([np.array([SCALAR_UPSTREAM])], "Jacobian", None, SCALAR_UPSTREAM)
        return Upstream.projected(rng, out_size)

    def planned_evaluations(self, sizes: list[int]) -> int:
        return 0  # adaptive; fast anyway

    def check_input(self, run: CheckRun, position: int, analytic: np.ndarray, method: str,
                    progress: Progress) -> InputCheck:
        __tracebackhide__ = True
        return _Bisection(run, position, analytic[0]).check()


class _Bisection:
    """Directional checks on blocks of consecutive elements of one input; a block that
    disagrees is halved until its elements can be checked one by one. Blocks are ranges
    (start, stop) of the flattened input."""

    def __init__(self, run: CheckRun, position: int, gradient: np.ndarray) -> None:
        self.run, self.position, self.gradient = run, position, gradient
        n = gradient.size
        self.weights = random_weights(run.rng, n)  # u of block (start, stop): weights[start:stop]
        typical = _median(np.abs(gradient[:: max(1, n // 4096)]))
        # halved: |u| >= 0.5
        self.per_element = 0.5 * float(run.differences.tolerance.per_element(np.array(typical)))
        self.directional_checks = 0

    def check(self) -> InputCheck:
        __tracebackhide__ = True
        run, n = self.run, self.gradient.size
        bounds = np.linspace(0, n, min(run.directions, n) + 1).astype(int)
        suspects = [(start, stop) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
                    if self.disagrees(start, stop)]
        comparisons: list[Comparison] = []
        failures = 0
        while suspects and failures < LOCALIZE_LIMIT:
            start, stop = suspects.pop()
            if stop - start <= LEAF_SIZE:
                block = np.arange(start, stop)
                comparisons.append(run.differences.compare(
                    self.position, block, self.gradient[block, None]))
                failures += int(comparisons[-1].failed.sum())
                continue
            middle = (start + stop) // 2
            suspects += [half for half in ((start, middle), (middle, stop))
                         if self.disagrees(*half)]
        note = ""
        if suspects:
            note = (f"fast mode stopped after localizing {failures} disagreeing elements; "
                    "there may be more")
        method = ("fast" if run.upstream.projection is None
                  else "fast; derivatives of vᵀ·output, v random")
        return run.summarize(self.position, method, n, comparisons, note=note,
                             directional_checks=self.directional_checks)

    def disagrees(self, start: int, stop: int) -> bool:
        """Compare gᵀu with the centered difference of φ along u = weights on the elements
        start..stop-1 (and 0 elsewhere); if they differ by more than the first tolerance, again
        with half the step, and judge the Richardson limit of the two (as kinks.py does for
        single elements).

        The first tolerance's rounding term is first taken from φ's own values only; the
        values fn computes inside (a sum that cancels, a loss scaled down) are read, with one
        more backward pass, only once some direction disagrees: they can only widen it."""
        self.directional_checks += 1
        first = self._error(start, stop, 1.0)
        if first.agrees() or (self.run.read_inside() and first.agrees()):
            return False
        second = self._error(start, stop, 0.5)
        limit = second.error + (second.error - first.error) / 3
        spread = abs(second.error - first.error) \
            if self.run.differences.tolerance.estimated else 0.0
        return not abs(limit) <= 2 * spread + second.allowed()

    def _error(self, start: int, stop: int, fraction: float) -> _Directional:
        """gᵀu - the centered difference of φ along u, in units of a derivative, with step
        fraction·eps."""
        __tracebackhide__ = True
        differences = self.run.differences
        h = differences.eps * fraction
        g = self.gradient[start:stop]
        phi_plus, phi_minus, displacement = differences.along(
            self.position, np.arange(start, stop), h * self.weights[start:stop])
        error = (dot(g, displacement) - (phi_plus - phi_minus)) / (2 * h)
        return _Directional(self, error, max(abs(phi_plus), abs(phi_minus)), h,
                            float(np.abs(g).sum()))


class _Directional:
    """One directional comparison: its error, and what it needs to say what the first
    tolerance allows (which widens when fn's inner values are read)."""

    def __init__(self, bisection: _Bisection, error: float, phi: float, h: float,
                 g_sum: float) -> None:
        self.bisection, self.error, self.phi, self.h, self.g_sum = bisection, error, phi, h, g_sum

    def allowed(self) -> float:
        """An error e in one element moves gᵀu by |e·u| >= e/2: the per-element tolerance
        applies as is; plus the rounding error of φ's values and of the dot product."""
        differences, h = self.bisection.run.differences, self.h
        magnitude = max(ROUNDING_SAFETY * self.phi, differences.magnitude)
        magnitude += ROUNDING_SAFETY * 3 * h * self.g_sum  # > sum |g·displacement|
        rounding = differences.tolerance.precision * magnitude / (2 * h)
        return self.bisection.per_element + rounding

    def agrees(self) -> bool:
        return abs(self.error) <= self.allowed()


def _median(values: np.ndarray) -> float:
    """The (upper) median; np.median would import numpy.ma on first use (~0.1 s)."""
    if values.size == 0:
        return 0.0
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])
