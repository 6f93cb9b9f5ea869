"""tinygrad_edu.testing.strategies: hypothesis strategies for users' property tests, and the
clear error when hypothesis is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import tinygrad_edu.testing
from tinygrad_edu import Function, Tensor
from tinygrad_edu.checks import check_gradients
from tinygrad_edu.ops import unbroadcast
from tinygrad_edu.testing import Domain
from tinygrad_edu.testing import strategies as tst

QUICK = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]


@QUICK
@given(tst.broadcast_compatible_shapes(3, max_dims=4))
def test_broadcast_compatible_shapes_broadcast_together(shapes: tuple[tuple[int, ...], ...]) -> None:
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)  # raises if they do not


@QUICK
@given(tst.shapes(min_dims=1).flatmap(
    lambda shape: st.tuples(st.just(shape), tst.broadcastable_shapes(shape))))
def test_broadcastable_shapes_broadcast_to_the_shape(pair: tuple[Any, Any]) -> None:
    shape, smaller = pair
    assert np.broadcast_shapes(shape, smaller) == shape and len(smaller) <= len(shape)


@QUICK
@given(tst.shapes(min_dims=0, max_dims=4).flatmap(
    lambda shape: st.tuples(st.just(shape), tst.reductions(len(shape)))))
def test_reductions_are_valid_numpy_reductions(case: tuple[Any, dict[str, Any]]) -> None:
    shape, kwargs = case
    assert set(kwargs) == {"axis", "keepdims"} and isinstance(kwargs["keepdims"], bool)
    axis = kwargs["axis"]
    assert axis != ()  # () means "no axis" in numpy and "every axis" in torch: never drawn
    if isinstance(axis, tuple):
        assert len({a % len(shape) for a in axis}) == len(axis)  # distinct axes
    np.zeros(shape).sum(**kwargs)  # numpy accepts it


def test_axes_options() -> None:
    only_ints = find(tst.axes(3, allow_none=False, allow_tuple=False, allow_negative=False),
                     lambda a: a == 2)
    assert only_ints == 2
    assert find(tst.axes(3), lambda a: isinstance(a, tuple) and len(a) == 3 and min(a) < 0)
    assert find(tst.axes(0), lambda a: True) is None  # a 0-d array: every axis
    with pytest.raises(ValueError, match="axes: a 0-d array has no axis to draw"):
        find(tst.axes(0, allow_none=False), lambda a: True)


@QUICK
@given(tst.arrays(tst.shapes(), tst.float_dtypes()))
def test_arrays_come_from_the_default_domain(array: np.ndarray) -> None:
    assert array.dtype in (np.float32, np.float64)
    assert np.all(np.abs(array) >= 0.05) and np.all(np.abs(array) <= 4.95)


@QUICK
@given(tst.arrays((20,), np.float32, Domain(0.0, 1.0, avoid=(0.5,), margin=0.01), unique=True))
def test_arrays_keep_away_from_edges_and_avoided_points(array: np.ndarray) -> None:
    assert array.dtype == np.float32 and len(set(array.tolist())) == 20
    assert np.all(array >= 0.01) and np.all(array <= 0.99) and np.all(np.abs(array - 0.5) >= 0.01)


@QUICK
@given(tst.tensors((2, 3), domain=lambda rng, shape: rng.integers(1, 4, size=shape) + 0.25,
                   name="w"))
def test_tensors_from_a_sampler(t: Tensor) -> None:
    assert t.shape == (2, 3) and t.requires_grad and t.name == "w" and t.dtype == np.float64
    assert np.all(t.data % 1 == 0.25)


@QUICK
@given(tst.op_inputs(tst.broadcast_compatible_shapes(2), domains=[None, (0, None)],
                     dtype=tst.float_dtypes()))
def test_op_inputs_follow_shapes_domains_and_dtype(inputs: tuple[Tensor, ...]) -> None:
    a, b = inputs
    assert (a.name, b.name) == ("a", "b") and a.dtype == b.dtype
    assert np.all(b.data > 0) and np.broadcast_shapes(a.shape, b.shape) is not None


class ScaledTanh(Function):
    """a · tanh(b), with a backward for b that is 10% off where b > 1.5 when `bug` is set."""

    bug = False

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        t = np.tanh(b)
        ctx.save_for_backward(a, b, t)
        return a * t

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b, t = ctx.saved_tensors
        grad_b = grad * a * (1 - t * t)
        if ScaledTanh.bug:
            grad_b = grad_b * np.where(b > 1.5, 1.1, 1.0)
        return unbroadcast(grad * t, a.shape), unbroadcast(grad_b, b.shape)


def passes(inputs: tuple[Tensor, ...]) -> bool:
    return check_gradients(ScaledTanh.apply, inputs, localize=False).ok


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(tst.op_inputs(tst.broadcast_compatible_shapes(2, max_dims=2, max_side=3)))
def test_a_correct_op_passes_on_every_draw(inputs: tuple[Tensor, ...]) -> None:
    assert passes(inputs)


def test_the_strategies_find_a_bug_that_shows_for_large_inputs_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScaledTanh, "bug", True)
    found = find(tst.op_inputs(tst.broadcast_compatible_shapes(2, max_dims=2, max_side=3)),
                 lambda inputs: not passes(inputs),
                 settings=settings(derandomize=True, database=None, max_examples=200,
                                   phases=[Phase.generate]))  # found is enough: no shrinking
    assert np.any(found[1].data > 1.5)


def test_strategies_is_an_attribute_of_the_testing_package() -> None:
    assert tinygrad_edu.testing.strategies is tst
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        tinygrad_edu.testing.nothing  # noqa: B018


def test_without_hypothesis_testing_imports_and_strategies_says_what_to_install() -> None:
    # A fresh interpreter where `import hypothesis` fails, as on a user's machine without it.
    script = (
        "import sys\n"
        "sys.modules['hypothesis'] = None\n"
        "from tinygrad_edu.testing import check_function, Domain\n"
        "assert 'hypothesis' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "try:\n"
        "    import tinygrad_edu.testing.strategies\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tinygrad_edu.testing.strategies needs hypothesis" in result.stdout
    assert 'pip install "tinygrad_edu[testing]"' in result.stdout
