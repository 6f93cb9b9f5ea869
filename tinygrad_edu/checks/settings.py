"""The options of a gradient check as the caller gives them, and the settings they become.

`GradcheckOptions` is the one list of the keywords `gradcheck`, `check_gradients`,
`gradgradcheck` and `check_second_derivatives` take (`check_numpy_gradient` takes
`CheckOptions`, a part of it). From it come everything those functions share about them:

    the names and types    `**options: Unpack[GradcheckOptions]`, checked by mypy at call sites
    the defaults           `DEFAULTS`
    any other keyword      refused by `refuse_unknown`, naming the function and what it takes
    help() and signature   `shows_options`: each keyword with its default, as if written out

`GradcheckSettings.of` validates them into the frozen settings of one check (all but
`workers=`, which says where the check runs, not what it is).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ForwardRef, TypedDict, TypeVar

import numpy as np

from ..ops.arguments import refuse_keywords
from ..validation import integer, positive_float
from .comparison import Tolerance
from .fast import FastMode
from .modes import CheckMode, FullMode, SampledMode
from .workers import Workers

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["GradcheckSettings", "GradcheckOptions", "CheckOptions", "DEFAULTS",
           "refuse_unknown", "shows_options"]


class CheckOptions(TypedDict, total=False):
    """The options every check takes (their meaning: `gradcheck`'s docstring)."""

    eps: float
    atol: float | None
    rtol: float | None
    samples: int | None
    seed: int
    progress: bool | None


class GradcheckOptions(CheckOptions, total=False):
    """The options of gradcheck and gradgradcheck: CheckOptions and those that need a graph
    of ops (fast_mode, directions, localize) or processes (workers)."""

    fast_mode: bool
    directions: int
    localize: bool
    workers: Workers


DEFAULTS: GradcheckOptions = {
    "eps": 1e-6, "atol": None, "rtol": None, "fast_mode": False, "samples": None,
    "directions": 2, "seed": 0, "localize": True, "progress": None, "workers": None,
}


def refuse_unknown(where: str, options: Mapping[str, Any],
                   accepted: type[CheckOptions] = GradcheckOptions,
                   own: Iterable[str] = ()) -> None:
    """TypeError naming `where` for a keyword that is not one of `accepted`'s options (nor of
    the function's `own` keywords), listing those it takes."""
    unknown = {name: value for name, value in options.items()
               if name not in accepted.__annotations__}
    refuse_keywords(where, unknown, [*own, *_ordered(accepted)])


F = TypeVar("F", bound=Callable[..., Any])


def shows_options(accepted: type[CheckOptions]) -> Callable[[F], F]:
    """Show the function's `**options` as `accepted`'s keywords with their defaults, in
    help() and inspect.signature, as they would be written out."""
    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        defaults: Mapping[str, object] = DEFAULTS
        written = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                     default=defaults[name],
                                     annotation=_shown(accepted.__annotations__[name]))
                   for name in _ordered(accepted)]
        function.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=kept + written)
        return function
    return decorate


def _ordered(accepted: type[CheckOptions]) -> list[str]:
    return [name for name in DEFAULTS if name in accepted.__annotations__]


def _shown(annotation: Any) -> Any:
    """An annotation as the other parameters show theirs (a string, for this package)."""
    return annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else annotation


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
    def of(cls, **options: Unpack[GradcheckOptions]) -> GradcheckSettings:
        """Validate gradcheck's options (those not given at their `DEFAULTS`) and choose the
        mode. `workers` is not a setting: it is not read here."""
        given: GradcheckOptions = {**DEFAULTS, **options}
        eps = positive_float("gradcheck", "eps", given["eps"])
        seed = integer("gradcheck", "seed", given["seed"], minimum=0)
        atol, rtol = given["atol"], given["rtol"]
        for value in (atol, rtol):
            if value is not None and not (_is_number(value) and 0 <= value < np.inf):
                raise ValueError(f"gradcheck: atol and rtol must be >= 0 (or None: the "
                                 f"estimated error), got atol={atol}, rtol={rtol}")
        directions, samples = given["directions"], given["samples"]
        if not _is_int(directions) or directions < 1:
            raise ValueError(
                f"gradcheck: directions must be a positive integer, got {directions!r}")
        mode: CheckMode
        if samples is not None:
            if given["fast_mode"]:
                raise ValueError("gradcheck: choose fast_mode=True or samples=k, not both")
            if not _is_int(samples) or samples < 1:
                raise ValueError(
                    f"gradcheck: samples must be a positive integer, got {samples!r}")
            mode = SampledMode(int(samples))
        else:
            mode = FastMode() if given["fast_mode"] else FullMode()
        return cls(eps=eps, atol=atol, rtol=rtol, mode=mode, directions=int(directions),
                   seed=seed, localize=given["localize"], progress=given["progress"])

    @property
    def tolerance_text(self) -> str:
        return Tolerance(self.atol, self.rtol).describe()

    def with_mode(self, mode: CheckMode, *, localize: bool) -> GradcheckSettings:
        return replace(self, mode=mode, localize=localize)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
