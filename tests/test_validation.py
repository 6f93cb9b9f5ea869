"""The argument checks every public function uses: one rule and one wording per kind."""

from __future__ import annotations

import fractions
import math
from typing import Any

import numpy as np
import pytest
from tinygrad_edu import validation as v

NOT_NUMBERS = [True, False, np.bool_(True), "0.1", None, 1j, [0.1], np.array(0.1)]


@pytest.mark.parametrize(
    "value, expected",
    [(0.1, 0.1), (3, 3.0), (np.float32(0.5), 0.5), (np.int64(2), 2.0), (fractions.Fraction(1, 4), 0.25)],
)
def test_positive_float_accepts_python_and_numpy_numbers(value: Any, expected: float) -> None:
    result = v.positive_float("f", "lr", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_positive_float_refuses_non_numbers_and_bools_with_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError) as error:
        v.positive_float("SGD", "lr", value)
    message = str(error.value)
    assert message.startswith("SGD: lr must be a positive finite number, got ")
    assert type(value).__name__ in message


@pytest.mark.parametrize("value", [0, 0.0, -1e-3, math.nan, math.inf, -math.inf, 10**400, -(10**400)])
def test_positive_float_refuses_bad_values_with_a_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^SGD: lr must be a positive finite number, got "):
        v.positive_float("SGD", "lr", value)


def test_allow_zero_accepts_zero_and_states_its_own_rule() -> None:
    assert v.positive_float("f", "decay", 0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"^f: decay must be a finite number >= 0, got -1$"):
        v.positive_float("f", "decay", -1, allow_zero=True)


def test_huge_ints_are_a_value_error_shown_short() -> None:
    with pytest.raises(ValueError) as error:
        v.finite_float("elastic_net", "beta", 10**400)
    message = str(error.value)
    assert "an int of 401 digits" in message and len(message) < 120
    assert not isinstance(error.value, OverflowError)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_finite_float_refuses_nan_and_inf(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^svm_loss: margin must be a finite number, got"):
        v.finite_float("svm_loss", "margin", value)
    assert v.finite_float("svm_loss", "margin", -2) == -2.0


@pytest.mark.parametrize("value", [True, np.bool_(False), 2.0, "3", None])
def test_integer_refuses_bools_floats_and_strings(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^f: n must be an int >= 1, got "):
        v.integer("f", "n", value, minimum=1)


@pytest.mark.parametrize("value", [np.int64(3), np.int8(3), np.uint16(3), 3])
def test_integer_accepts_numpy_ints(value: Any) -> None:
    result = v.integer("f", "n", value, minimum=1, maximum=3)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize(
    "minimum, maximum, value, rule",
    [(1, None, 0, "an int >= 1"), (None, 5, 6, "an int <= 5"), (0, 2, -1, "an int in [0, 2]")],
)
def test_integer_range(minimum: Any, maximum: Any, value: int, rule: str) -> None:
    with pytest.raises(ValueError, match=rf"^f: n must be {re_escape(rule)}, got {value}$"):
        v.integer("f", "n", value, minimum=minimum, maximum=maximum)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_probability_bounds() -> None:
    assert v.probability("f", "p", 0) == 0.0 and v.probability("f", "p", 1) == 1.0
    with pytest.raises(ValueError, match=r"^SGD: momentum must be a number in \[0, 1\), got 1\.0$"):
        v.probability("SGD", "momentum", 1.0, open_high=True)
    with pytest.raises(ValueError, match=r"must be a number in \(0, 1\], got 0"):
        v.probability("f", "p", 0, open_low=True)
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError):
            v.probability("f", "p", bad)
    with pytest.raises(TypeError, match="got bool True"):
        v.probability("f", "p", True)


def test_callable_arg() -> None:
    assert v.callable_arg("f", "fn", len) is len
    with pytest.raises(TypeError, match=r"^random_search: loss_fn must be callable, got int 3$"):
        v.callable_arg("random_search", "loss_fn", 3)


def test_one_of_returns_the_option_and_names_them_all() -> None:
    assert v.one_of("f", "reduction", np.str_("sum"), ("mean", "sum")) == "sum"
    with pytest.raises(ValueError, match=r"^f: reduction must be one of 'mean', 'sum', got 'avg'$"):
        v.one_of("f", "reduction", "avg", ("mean", "sum"))
    with pytest.raises(TypeError, match=r"^f: reduction must be one of 'mean', 'sum', got int 1$"):
        v.one_of("f", "reduction", 1, ("mean", "sum"))
    with pytest.raises(TypeError):  # True == 1, but a bool is not the option 1
        v.one_of("f", "order", True, (1, 2))


def test_one_of_survives_values_whose_comparison_is_elementwise() -> None:
    with pytest.raises(TypeError, match="ndarray"):
        v.one_of("f", "mode", np.array(["a", "b"]), ("a", "b"))


@pytest.mark.parametrize("value", [np.float32, "float64", np.dtype("f2"), float])
def test_float_dtype_accepts_float_types(value: Any) -> None:
    assert v.float_dtype("f", "dtype", value).kind == "f"


@pytest.mark.parametrize(
    "value, shown", [(np.int64, "int64"), ("complex128", "complex128"), (bool, "bool"),
                     ("nonsense", "str 'nonsense'"), (None, "NoneType None")],
)
def test_float_dtype_refuses_others(value: Any, shown: str) -> None:
    with pytest.raises(TypeError, match=rf"^Model: dtype must be a floating-point type, got {shown}$"):
        v.float_dtype("Model", "dtype", value)


@pytest.mark.parametrize(
    "array, kinds, first",
    [
        (np.array([1.0, np.nan, np.nan]), "NaN", "(1,)"),
        (np.array([[1.0, 2.0], [np.inf, 1.0]]), "inf", "(1, 0)"),
        (np.array([-np.inf, np.nan], dtype=np.float32), "NaN and -inf", "(0,)"),
        (np.array([1 + 1j, complex(np.inf, 0)]), "inf", "(1,)"),
    ],
)
def test_finite_array_names_what_and_where(array: np.ndarray, kinds: str, first: str) -> None:
    with pytest.raises(ValueError) as error:
        v.finite_array("SGD.step", "the gradient of parameter 1", array, consequence="nothing changed")
    bad = int((~np.isfinite(array)).sum())
    assert str(error.value) == (
        f"SGD.step: the gradient of parameter 1 contains {kinds} ({bad} of {array.size} values, "
        f"first at {first}); nothing changed"
    )


def test_finite_array_passes_finite_and_integer_arrays() -> None:
    v.finite_array("f", "x", np.ones((2, 3)))
    v.finite_array("f", "x", np.arange(3))
    v.finite_array("f", "x", np.zeros(0))
    with pytest.raises(TypeError, match="must hold numbers"):
        v.finite_array("f", "x", np.array(["a"]))


def test_real_array() -> None:
    assert v.real_array("f", "x", [[1, 2], [3, 4]]).shape == (2, 2)
    array = np.ones(3)
    assert v.real_array("f", "x", array) is array
    with pytest.raises(ValueError, match=r"^loss: y must be a rectangular array of numbers"):
        v.real_array("loss", "y", [[0, 1], [2]], integer=True)
    with pytest.raises(TypeError, match=r"^loss: y must be an array of integers, got floats"):
        v.real_array("loss", "y", [0.0, 1.0], integer=True)
    with pytest.raises(ValueError, match="too large for numpy"):
        v.real_array("f", "x", [1, 10**400])
    for bad, what in ([True, False], "bools"), (["1"], "strings"), ([1j], "complex"), ([None], "objects"):
        with pytest.raises(TypeError, match=what):
            v.real_array("f", "x", bad)


@pytest.mark.parametrize(
    "value, ndim, expected",
    [(None, 2, None), (1, 2, 1), (-1, 2, 1), (np.int64(-2), 3, 1), ((0, -1), 3, (0, 2)), ([2, 0], 3, (2, 0))],
)
def test_axis_normalizes(value: Any, ndim: int, expected: Any) -> None:
    assert v.axis("Sum", "axis", value, ndim) == expected


@pytest.mark.parametrize(
    "value, ndim, error, phrase",
    [
        (2, 2, ValueError, "Sum: axis 2 is out of range for 2-D input (valid: in [-2, 1])"),
        (-3, 2, ValueError, "Sum: axis -3 is out of range"),
        (0, 0, ValueError, "for 0-D input (valid: none: it has no axes)"),
        ((0, -2), 2, ValueError, "Sum: axis repeats an axis, got (0, -2)"),
        (True, 2, TypeError, "Sum: axis must be an int, a tuple of ints or None, got bool True"),
        (1.0, 2, TypeError, "got float 1.0"),
        (("0",), 2, TypeError, "got str '0'"),
    ],
)
def test_axis_refuses(value: Any, ndim: int, error: type, phrase: str) -> None:
    with pytest.raises(error) as raised:
        v.axis("Sum", "axis", value, ndim)
    assert str(raised.value).startswith("Sum: ") and phrase in str(raised.value)


def test_long_values_are_shortened() -> None:
    with pytest.raises(TypeError) as error:
        v.positive_float("f", "lr", "x" * 500)
    assert len(str(error.value)) < 150
