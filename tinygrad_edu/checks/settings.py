"""The settings of one gradient check, fixed before it starts."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..validation import integer, positive_float
from .fast import FastMode
from .modes import CheckMode, FullMode, SampledMode

__all__ = ["GradcheckSettings"]


@dataclass(frozen=True)
class GradcheckSettings:
    """The arguments of `gradcheck` after validation (see its docstring for each).

    `mode` says how the numerical side covers the input elements: every element
    (`FullMode`), a random sample (`SampledMode`) or random directions (`FastMode`).
    `directions` is the fast mode's number of blocks; the culprit search uses it also in a
    full check, for ops whose inputs are too large to check element by element.
    """

    eps: float
    atol: float | None
    rtol: float | None
    mode: CheckMode
    directions: int = 2
    seed: int = 0
    localize: bool = True
    progress: bool | None = None

    @classmethod
    def of(cls, *, eps: float, atol: float | None, rtol: float | None, fast_mode: bool, samples: int | None,
           directions: int, seed: int, localize: bool, progress: bool | None
           ) -> GradcheckSettings:
        """Validate gradcheck's arguments and choose the mode."""
        eps = positive_float("gradcheck", "eps", eps)
        seed = integer("gradcheck", "seed", seed, minimum=0)
        for value in (atol, rtol):
            if value is not None and not (_is_number(value) and 0 <= value < np.inf):
                raise ValueError(f"gradcheck: atol and rtol must be >= 0 (or None: the "
                                 f"estimated error), got atol={atol}, rtol={rtol}")
        if not _is_int(directions) or directions < 1:
            raise ValueError(
                f"gradcheck: directions must be a positive integer, got {directions!r}")
        mode: CheckMode
        if samples is not None:
            if fast_mode:
                raise ValueError("gradcheck: choose fast_mode=True or samples=k, not both")
            if not _is_int(samples) or samples < 1:
                raise ValueError(
                    f"gradcheck: samples must be a positive integer, got {samples!r}")
            mode = SampledMode(int(samples))
        else:
            mode = FastMode() if fast_mode else FullMode()
        return cls(eps=eps, atol=atol, rtol=rtol, mode=mode, directions=int(directions),
                   seed=seed, localize=localize, progress=progress)

    @property
    def tolerance_text(self) -> str:
        if self.atol is None and self.rtol is None:
            return "tolerance: each difference's estimated error"
        atol = 1e-5 if self.atol is None else self.atol
        rtol = 1e-3 if self.rtol is None else self.rtol
        return f"atol={atol}, rtol={rtol}"

    def with_mode(self, mode: CheckMode, *, localize: bool) -> GradcheckSettings:
        return replace(self, mode=mode, localize=localize)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
