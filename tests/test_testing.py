"""tinygrad_edu.testing: check_function over every built-in op, and on planted bugs."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, ops
from tinygrad_edu.checks import GradcheckError
from tinygrad_edu.ops import unbroadcast
from tinygrad_edu.testing import broadcast_shape_variants, check_function, random_inputs

from test_checks import UnreducedAdd

# Shapes and settings per built-in op: broadcasting where the op broadcasts, kwargs where it
# has them, positive inputs where its domain needs them.
BUILT_IN_CASES: dict[str, list[dict[str, Any]]] = {
    "Add": [dict(shapes=[(3, 4), (4,)])],
    "Sub": [dict(shapes=[(3, 4), (3, 1)])],
    "Mul": [dict(shapes=[(2, 3, 4), (3, 4)])],
    "Div": [dict(shapes=[(3, 4), (4,)])],
    "Neg": [dict(shapes=[(3, 4)])],
    "Pow": [dict(shapes=[(3, 4)], kwargs={"exponent": 3}),
            dict(shapes=[(3, 4)], kwargs={"exponent": -0.5}, positive=True)],
    "MatMul": [dict(shapes=[(3, 4), (4, 5)]), dict(shapes=[(2, 3, 4), (1, 4, 5)]),
               dict(shapes=[(4,), (4, 5)]), dict(shapes=[(3, 4), (4,)])],
    "Exp": [dict(shapes=[(3, 4)])],
    "Log": [dict(shapes=[(3, 4)], positive=True)],
    "Abs": [dict(shapes=[(3, 4)])],
    "Sum": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4, 2)], kwargs={"axis": (0, 2)}),
            dict(shapes=[(3, 4)], kwargs={"axis": 1, "keepdims": True})],
    "Mean": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4)], kwargs={"axis": 0})],
    "Max": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4)], kwargs={"axis": 1}),
            dict(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2), "keepdims": True})],
    "Maximum": [dict(shapes=[(3, 4), (4,)])],
    "Reshape": [dict(shapes=[(3, 4)], kwargs={"shape": (2, 6)})],
    "Transpose": [dict(shapes=[(3, 4)]), dict(shapes=[(2, 3, 4)], kwargs={"axes": (2, 0, 1)})],
    "GetItem": [dict(shapes=[(3, 4)], kwargs={"index": (slice(None), [0, 2, 2])}),
                dict(shapes=[(3, 4)], kwargs={"index": (1, slice(1, 3))}),
                dict(shapes=[(3, 4)],
                     kwargs={"index": (np.array([0, 2, 0]), np.array([1, 3, 1]))})],
}


def built_in_functions() -> list[str]:
    """The public op classes of ops.py (a private base such as _Elementwise is not an op)."""
    return sorted(name for name, obj in vars(ops).items()
                  if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
                  and not name.startswith("_"))


def test_every_built_in_op_has_a_case() -> None:
    assert sorted(BUILT_IN_CASES) == built_in_functions()


@pytest.mark.parametrize(
    "name, case",
    [(name, case) for name, cases in BUILT_IN_CASES.items() for case in cases],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_check_function_passes_on_every_built_in_op(name: str, case: dict[str, Any]) -> None:
    reports = check_function(getattr(ops, name), **case)
    assert reports and all(report.ok for report in reports)


def test_binary_ops_are_checked_with_broadcast_variants_and_each_input_alone() -> None:
    reports = check_function(ops.Maximum, shapes=[(3, 4), (4,)])
    shapes = [tuple(c.shape for c in r.inputs) for r in reports]
    assert shapes[0] == ((3, 4), (4,))  # both inputs requiring grad
    assert shapes[1:3] == [((3, 4),), ((4,),)]  # each alone
    assert ((3, 1), (4,)) in shapes and ((3, 4), ()) in shapes and ((3, 4), (1,)) in shapes
    assert ((1, 4), (4,)) not in shapes  # its output would be (1, 4), not (3, 4): skipped


# ----------------------------------------------------------------------------- planted bugs


class MulAssumingBothNeedGrad(ops.Mul):
    """Correct when both inputs require grad; crashes when only b does."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b if need_a else None
        grad_b = grad_a / b * a  # the bug: uses grad_a, which is None when a needs no grad
        return grad_a, grad_b


class DivWithWrongSign(ops.Div):
    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        return unbroadcast(grad / b, a.shape), unbroadcast(grad * a / b**2, b.shape)


def test_only_a_broadcast_variant_reveals_a_missing_reduction() -> None:
    # Same shapes: the bug is invisible. check_function's variants make it visible.
    reports = check_function(UnreducedAdd, shapes=[(3, 4), (3, 4)],
                             broadcast_variants=False)
    assert all(r.ok for r in reports)
    with pytest.raises(GradcheckError) as caught:
        check_function(UnreducedAdd, shapes=[(3, 4), (3, 4)])
    text = str(caught.value)
    assert text.startswith("check_function(UnreducedAdd): shapes [(1, 4), (3, 4)]")
    assert "backward of UnreducedAdd is wrong for input 0" in text


def test_each_input_alone_reveals_a_backward_that_ignores_needs_input_grad() -> None:
    with pytest.raises(GradcheckError) as caught:
        check_function(MulAssumingBothNeedGrad, shapes=[(3,), (3,)], broadcast_variants=False)
    text = str(caught.value)
    assert "only input 1 requiring grad" in text
    assert "backward raised TypeError" in text
    assert caught.value.report.culprits[0].op == "MulAssumingBothNeedGrad"


def test_a_wrong_gradient_is_reported_with_the_case() -> None:
    with pytest.raises(GradcheckError) as caught:
        check_function(DivWithWrongSign, shapes=[(2, 3), (3,)])
    report = caught.value.report
    assert report.inputs[0].ok and not report.inputs[1].ok
    assert str(caught.value).startswith("check_function(DivWithWrongSign): shapes [(2, 3), (3,)]")
    assert report.verdict == "backward of DivWithWrongSign is wrong for input 1"


def test_kwargs_appear_in_the_case_description() -> None:
    class SumTimesTwo(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray, axis: int) -> np.ndarray:
            ctx.shape = x.shape
            return 2 * x.sum(axis=axis)

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return np.broadcast_to(np.expand_dims(grad, ctx.kwargs["axis"]), ctx.shape).copy()

    with pytest.raises(GradcheckError, match=r"SumTimesTwo\): shapes \[\(3, 4\)\], kwargs axis=1"):
        check_function(SumTimesTwo, shapes=[(3, 4)], kwargs={"axis": 1})


def test_forward_errors_on_the_given_shapes_propagate() -> None:
    with pytest.raises(ValueError, match=r"MatMul: shapes \(3, 4\) and \(3, 4\) are not aligned"):
        check_function(ops.MatMul, shapes=[(3, 4), (3, 4)])


# ----------------------------------------------------------------------------- inputs


def test_random_inputs_are_away_from_kinks_and_ties() -> None:
    a, b = random_inputs([(3, 4), (4,)], seed=3)
    values = np.concatenate([a.data.ravel(), b.data.ravel()])
    magnitudes = np.sort(np.abs(values))
    assert magnitudes[0] >= 0.5 and magnitudes[-1] <= 1.5
    assert np.min(np.diff(magnitudes)) >= 0.5 / 16  # distinct, even in absolute value
    assert (values < 0).any() and (values > 0).any()
    assert (a.name, b.name) == ("a", "b") and a.requires_grad and a.dtype == np.float64


def test_random_inputs_options() -> None:
    first = random_inputs([(5,)], seed=1, positive=True)[0]
    again = random_inputs([(5,)], seed=1, positive=True)[0]
    assert np.all(first.data > 0) and np.array_equal(first.data, again.data)
    x, y = random_inputs([(2,), ()], requires_grad=[False, True])
    assert (x.requires_grad, y.requires_grad, y.shape) == (False, True, ())
    with pytest.raises(ValueError, match="1 requires_grad flags for 2 shapes"):
        random_inputs([(2,), (3,)], requires_grad=[True])


def test_broadcast_shape_variants() -> None:
    assert broadcast_shape_variants([(3, 4), (4,)]) == [
        [(1, 4), (4,)], [(3, 1), (4,)], [(4,), (4,)], [(3, 4), (1,)], [(3, 4), ()],
    ]
    assert broadcast_shape_variants([(1,)]) == [[()]]


class ReluWithoutMask(Function):
    """relu whose backward forgets the mask: right for positive inputs only."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return grad


@pytest.mark.parametrize("shape", [(2,), (3,), (4,), (2, 3)])
def test_every_drawn_input_has_both_signs(shape: tuple[int, ...]) -> None:
    for seed in range(5):
        (x,) = random_inputs([shape], seed=seed)
        assert (x.data > 0).any() and (x.data < 0).any()


@pytest.mark.parametrize("shape", [(3,), (4,)])
def test_check_function_catches_a_backward_right_only_for_positive_inputs(shape: tuple) -> None:
    with pytest.raises(GradcheckError, match="ReluWithoutMask"):
        check_function(ReluWithoutMask, shapes=[shape])
