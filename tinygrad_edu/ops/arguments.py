"""The arguments of the ops' public methods and functions: axes checked against the tensor's
shape, and keywords they do not take refused with numpy's name for PyTorch's.

tinygrad_edu follows numpy's names (`axis`, `keepdims`, `ddof`); a PyTorch user will type
`dim=`, `keepdim=`, `correction=`. Methods and functions that take an axis collect unknown
keywords (`**unknown`) and hand them here, so the error says which name to use instead of
Python's bare "unexpected keyword argument".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import validation

__all__ = ["refuse_keywords", "checked_axis", "axis_of", "call_axis"]

# PyTorch's name (or a common misspelling) -> ours
_OURS = {
    "dim": "axis=",
    "axes": "axis=",
    "keepdim": "keepdims=",
    "keep_dims": "keepdims=",
    "correction": "ddof=",
    "unbiased": "ddof= (ddof=1 for unbiased=True, ddof=0 for unbiased=False)",
}


def refuse_keywords(func: str, unknown: dict[str, Any], takes: Sequence[str]) -> None:
    """Raise TypeError for the keywords in `unknown`, which `func` does not take.

        >>> refuse_keywords("sum", {"dim": 1}, ("axis", "keepdims"))
        TypeError: sum: unexpected keyword argument dim=1; tinygrad_edu uses numpy's names:
        axis= (PyTorch's dim=)
    """
    if not unknown:
        return
    name = next(iter(unknown))
    value = unknown[name]
    ours = _OURS.get(name)
    if ours is not None and ours.split("=")[0] in takes:  # only where numpy's name is the fix
        hint = f"tinygrad_edu uses numpy's names: {ours} (PyTorch's {name}=)"
    else:
        hint = "it takes " + (", ".join(f"{t}=" for t in takes) if takes else "no keywords")
    raise TypeError(f"{func}: unexpected keyword argument {name}={value!r}; {hint}")


def checked_axis(func: str, axis: Any, shape: tuple[int, ...]) -> Any:
    """`axis` (an int, a tuple of distinct ints, or None) of a tensor of `shape`, non-negative;
    a bad one raises an error naming `func` and the shape."""
    ndim = len(shape)
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, without the full check
        return axis % ndim
    return axis_of(func, axis, ndim, f"tensor of shape {shape}")


def axis_of(func: str, axis: Any, ndim: int, what: str) -> Any:
    """`validation.axis` of an ndim-D array, a bad value's error completed with `what` (the
    shape at fault, in words)."""
    try:
        return validation.axis(func, "axis", axis, ndim)
    except ValueError as error:
        raise ValueError(f"{error} ({what})") from None


def call_axis(
    method: str, op: str, axis: Any, shape: tuple[int, ...], unknown: dict[str, Any],
    takes: Sequence[str],
) -> Any:
    """The `axis` a public method or function (`method`, taking the keywords `takes`) hands
    to its op (`op`) for a tensor of `shape`: keywords it does not take refused (an error
    naming `method`), the axis checked (an error naming `op`, as its forward's errors do);
    None, all axes, as it is."""
    if unknown:
        refuse_keywords(method, unknown, takes)
    return axis if axis is None else checked_axis(op, axis, shape)
