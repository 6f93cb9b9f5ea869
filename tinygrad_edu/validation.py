"""Checks for public arguments: one rule, one wording, one error type per kind of argument.

Every helper takes the name of the public function (or method) being called and the name of the
argument, returns the value in canonical form (a Python float, int, np.dtype, ...) and raises:

    TypeError   the value has the wrong type (a bool where a number is wanted, a string, ...)
    ValueError  the type is right, the value is not (NaN, out of range, unknown option, ...)

Every message has one form, beginning with the function's name:

    "SGD: lr must be a positive finite number, got bool True"        (TypeError)
    "SGD: lr must be a positive finite number, got nan"              (ValueError)
    "SGD.step: the gradient of parameter 1 'b' contains NaN (1 of 2 values, first at (1,))"

Conventions shared by all helpers: numpy scalars count as numbers (np.float32(0.1),
np.int64(3)); bools (Python or numpy) are never numbers, as passing True for a learning rate
is always a mistake; Python ints too large for a float (10**400) are a ValueError, not numpy's
or Python's bare OverflowError. This module imports nothing from the package, so every module
(the engine included) may use it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "positive_float",
    "finite_float",
    "integer",
    "probability",
    "callable_arg",
    "one_of",
    "float_dtype",
    "finite_array",
    "as_array",
    "real_array",
    "axis",
    "shown",
    "named",
    "forward_output",
    "numeric_data",
    "can_require_grad",
    "upstream_gradient",
    "in_place_value",
]

T = TypeVar("T")

_MAX_SHOWN = 60  # characters of a value quoted in a message


def shown(value: Any) -> str:
    """The value as quoted in an error message: its repr, shortened when long (a 401-digit int
    is shown by its leading digits and its length)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        digits = str(abs(value))
        sign = "-" if value < 0 else ""
        return f"{sign}{digits[:6]}... (an int of {len(digits)} digits)"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def named(name: str | None) -> str:
    """` 'name'` for messages, or nothing for an unnamed tensor."""
    return f" {name!r}" if name else ""


def _got(value: Any) -> str:
    """How a value of the wrong type is quoted: its type, then its value."""
    return f"{type(value).__name__} {shown(value)}"


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _type_error(func: str, name: str, rule: str, value: Any) -> TypeError:
    return TypeError(f"{func}: {name} must be {rule}, got {_got(value)}")


def _value_error(func: str, name: str, rule: str, value: Any) -> ValueError:
    return ValueError(f"{func}: {name} must be {rule}, got {shown(value)}")


def _real(func: str, name: str, value: Any, rule: str) -> float:
    """value as a float, or a TypeError/ValueError stating `rule`."""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise _type_error(func, name, rule, value)
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond float's range
        raise _value_error(func, name, rule, value) from None
    if not math.isfinite(number):
        raise _value_error(func, name, rule, value)
    return number


def finite_float(func: str, name: str, value: Any) -> float:
    """A real number, not NaN or inf, as a float. ("svm_loss: margin must be a finite number")"""
    return _real(func, name, value, "a finite number")


def positive_float(func: str, name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with allow_zero=True), as a float."""
    rule = "a finite number >= 0" if allow_zero else "a positive finite number"
    number = _real(func, name, value, rule)
    if number < 0 or (number == 0 and not allow_zero):
        raise _value_error(func, name, rule, value)
    return number


def probability(
    func: str, name: str, value: Any, *, open_low: bool = False, open_high: bool = False
) -> float:
    """A real number in [0, 1] as a float; open_low excludes 0, open_high excludes 1
    (momentum: probability(..., open_high=True) is [0, 1))."""
    rule = f"a number in {'(' if open_low else '['}0, 1{')' if open_high else ']'}"
    number = _real(func, name, value, rule)
    if number < 0 or number > 1 or (open_low and number == 0) or (open_high and number == 1):
        raise _value_error(func, name, rule, value)
    return number


def integer(
    func: str, name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A Python or numpy int (not a bool, not an integral float) within [minimum, maximum]
    (either bound may be None), as a Python int."""
    if _is_bool(value) or not isinstance(value, (int, np.integer)):
        raise _type_error(func, name, _integer_rule(minimum, maximum), value)
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise _value_error(func, name, _integer_rule(minimum, maximum), value)
    return number


def _integer_rule(minimum: int | None, maximum: int | None) -> str:
    """What `integer` asks for, in words (written only for an error: ops call it per call)."""
    if minimum is not None and maximum is not None:
        return f"an int in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"an int >= {minimum}"
    if maximum is not None:
        return f"an int <= {maximum}"
    return "an int"


def callable_arg(func: str, name: str, value: Any) -> Callable[..., Any]:
    """A callable (function, lambda, object with __call__)."""
    if not callable(value):
        raise _type_error(func, name, "callable", value)
    return value


def one_of(func: str, name: str, value: Any, options: Sequence[T]) -> T:
    """One of `options` (compared by ==, types respected: True is not 1); returns the matching
    option itself. A value of none of the options' types is a TypeError, else a ValueError."""
    for option in options:
        if _same(value, option):
            return option
    rule = "one of " + ", ".join(repr(option) for option in options)  # for the error only
    if not any(_same_type(value, option) for option in options):
        raise _type_error(func, name, rule, value)
    raise _value_error(func, name, rule, value)


def _same_type(value: Any, option: Any) -> bool:
    return _is_bool(value) == _is_bool(option) and isinstance(value, type(option))


def _same(value: Any, option: Any) -> bool:
    if value is option:
        return True
    if not _same_type(value, option):
        return False
    try:
        equal = value == option
    except Exception:  # an array-like or a Tensor that refuses the comparison
        return False
    return isinstance(equal, (bool, np.bool_)) and bool(equal)


def float_dtype(func: str, name: str, value: Any) -> np.dtype:
    """A floating-point numpy dtype (np.float32, "float64", np.dtype("f2"), ...). None is
    refused (numpy would read it as float64): callers choose their own default first."""
    rule = "a floating-point type"
    if value is None:
        raise _type_error(func, name, rule, value)
    try:
        dtype = np.dtype(value)
    except (TypeError, ValueError):
        raise _type_error(func, name, rule, value) from None
    if dtype.kind != "f":
        raise TypeError(f"{func}: {name} must be {rule}, got {dtype}")
    return dtype


def finite_array(func: str, name: str, array: Any, *, consequence: str = "") -> None:
    """Raise ValueError if the array (any numeric dtype, complex included) holds NaN or inf:
    "{func}: {name} contains NaN (2 of 6 values, first at (0, 1))". `consequence` is appended
    after a semicolon ("no parameter was changed")."""
    data = np.asarray(array)
    if data.dtype.kind not in "fc":
        if data.dtype.kind in "biu":
            return
        raise TypeError(f"{func}: {name} must hold numbers, got dtype {data.dtype}")
    finite = np.isfinite(data)
    if finite.all():
        return
    bad = ~finite
    kinds = ["NaN"] if np.isnan(data).any() else []
    if data.dtype.kind == "c":
        kinds += ["inf"] if np.isinf(data).any() else []
    else:
        kinds += ["inf"] if np.isposinf(data).any() else []
        kinds += ["-inf"] if np.isneginf(data).any() else []
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    message = (
        f"{func}: {name} contains {' and '.join(kinds)} "
        f"({int(bad.sum())} of {data.size} values, first at {first})"
    )
    raise ValueError(message + (f"; {consequence}" if consequence else ""))


def as_array(func: str, name: str, value: Any) -> np.ndarray:
    """np.asarray(value), with the function's name on numpy's refusals: ragged nesting and
    Python ints beyond 64 bits are a ValueError ("... must be a rectangular array ..."); a
    Tensor that requires grad inside a list keeps the engine's TypeError, prefixed. The dtype
    is not checked (see real_array)."""
    try:
        data = np.asarray(value)
    except (ValueError, OverflowError) as error:  # ragged lists; ints beyond int64
        raise ValueError(
            f"{func}: {name} must be a rectangular array of numbers (every row of one length), "
            f"got {type(value).__name__}: {error}"
        ) from None
    except TypeError as error:
        raise TypeError(f"{func}: {name}: {error}") from error
    if data.dtype.kind == "O" and any(
        isinstance(v, int) and not _is_bool(v) for v in data.ravel()[:1000]
    ):
        raise ValueError(
            f"{func}: {name} must be an array of numbers that fit in 64 bits, got Python ints "
            "too large for numpy"
        )
    return data


_KIND_NAMES = {"b": "bools", "c": "complex numbers", "U": "strings", "S": "bytes",
               "f": "floats", "O": "Python objects"}


def real_array(func: str, name: str, value: Any, *, integer: bool = False) -> np.ndarray:
    """Nested lists or an array of real numbers as an ndarray (no copy if already one).

    Refused, with the function's name: ragged nesting and huge Python ints (ValueError, from
    as_array); strings, objects, bools, complex numbers, or floats when integer=True
    (TypeError). NaN and inf pass: combine with finite_array when they must not."""
    data = as_array(func, name, value)
    if data.dtype.kind not in ("iu" if integer else "iuf"):
        what = _KIND_NAMES.get(data.dtype.kind, f"dtype {data.dtype}")
        kind = "integers" if integer else "real numbers"
        raise TypeError(f"{func}: {name} must be an array of {kind}, got {what} ({data.dtype})")
    return data


def axis(func: str, name: str, value: Any, ndim: int) -> int | tuple[int, ...] | None:
    """An axis (or a tuple/list of distinct axes) of an array of `ndim` dimensions, each a
    Python or numpy int in [-ndim, ndim), returned non-negative (tuples keep their order).
    None passes through (meaning "every axis" to a reduction)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        axes = tuple(_one_axis(func, name, a, ndim) for a in value)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{func}: {name} repeats an axis, got {shown(value)}")
        return axes
    return _one_axis(func, name, value, ndim)


def _one_axis(func: str, name: str, value: Any, ndim: int) -> int:
    rule = "an int, a tuple of ints or None"
    if _is_bool(value) or not isinstance(value, (int, np.integer)):
        raise _type_error(func, name, rule, value)
    number = int(value)
    if not -ndim <= number < ndim:
        valid = f"in [{-ndim}, {ndim - 1}]" if ndim else "none: it has no axes"
        raise ValueError(
            f"{func}: {name} {shown(value)} is out of range for {ndim}-D input (valid: {valid})"
        )
    return number % ndim


# ------------------------------------------------------------------ a Tensor's data and gradients

_REAL_KINDS = "fiub"  # float, int, unsigned, bool: what a Tensor may hold


def numeric_data(array: np.ndarray, func: str, given: str) -> None:
    """Refuse a Tensor's data that is not real numbers (complex, strings, objects); `given` is
    the type the caller passed, for the message."""
    if array.dtype.kind not in _REAL_KINDS:
        what = ("complex numbers are not supported" if array.dtype.kind == "c"
                else "data must be numbers (float, int or bool)")
        raise TypeError(f"{func}: {what}, got dtype {array.dtype} from {given}")


def can_require_grad(array: np.ndarray, requires_grad: Any, name: str | None, func: str) -> None:
    """Refuse requires_grad on integer or bool data (it would silently become a parameter)."""
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(
            f"{func}: only floating-point data can require grad, got dtype {array.dtype}"
            f"{named(name)}. Pass float data, e.g. np.asarray(x, dtype=np.float64)."
        )


def upstream_gradient(func: str, name: str, value: Any, output: np.ndarray, described: str) -> np.ndarray:
    """The upstream gradient `value` given for `output` (`described` in messages, "the tensor
    'y'"): real numbers of exactly its shape, returned in its dtype. No strings parsed as
    numbers, no broadcasting."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{func}: {name} must be numbers of shape {output.shape}, got "
            f"{type(value).__name__}: {error}"
        ) from error
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{func}: {name} must be real numbers of shape {output.shape}, got "
            f"{type(value).__name__} of dtype {array.dtype}"
        )
    if array.shape != output.shape:
        raise ValueError(f"{func}: {name} has shape {array.shape} but {described} has shape {output.shape}")
    return array.astype(output.dtype, copy=False)


def in_place_value(func: str, value: Any, target: np.ndarray, described: str) -> np.ndarray:
    """`value` as an array that can be written into `target` in place (`described` in messages,
    "tensor 'W'"): its shape broadcasts to target's, its dtype casts to target's within its
    kind. Checked before anything is written, so a bad value leaves the target as it was."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    numeric_data(array, func, type(value).__name__)
    try:
        fits = np.broadcast_shapes(target.shape, array.shape) == target.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{func}: a value of shape {array.shape} does not fit in place into the "
            f"{described} of shape {target.shape}"
        )
    if not np.can_cast(array.dtype, target.dtype, "same_kind"):
        raise TypeError(f"{func}: cannot write {array.dtype} values into the {target.dtype} {described}")
    return array


def forward_output(op_name: str, out: Any) -> np.ndarray:
    """What a Function's forward returned, as a real numeric array (a numpy scalar is wrapped);
    complex values and non-numbers are refused, naming the op."""
    array = np.asarray(out)
    if array.dtype.kind == "c":
        raise TypeError(
            f"{op_name}: complex values are not supported (its forward returned {array.dtype}"
            "); gradients would silently drop the imaginary part. Use real inputs."
        )
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{op_name}.forward must return a numeric numpy array, got {type(out).__name__}"
            + (f" of dtype {array.dtype}" if isinstance(out, np.ndarray) else "")
        )
    return array
