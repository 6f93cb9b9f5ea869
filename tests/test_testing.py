"""tinygrad_edu.testing: check_function over every built-in op, and on planted bugs."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, ops
from tinygrad_edu.checks import GradcheckError
from tinygrad_edu.ops import unbroadcast
from tinygrad_edu.testing import Domain, broadcast_shape_variants, check_function, random_inputs

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
    "BroadcastTo": [dict(shapes=[(3, 1)], kwargs={"shape": (2, 3, 4)}),
                    dict(shapes=[(4,)], kwargs={"shape": (3, 4)})],
    "Cast": [dict(shapes=[(3, 4)], kwargs={"dtype": np.float64}, dtype=np.float32)],
    "ScatterAdd": [dict(shapes=[(3,)], kwargs={"index": np.array([0, 2, 0]), "shape": (4,)})],
    "Where": [dict(shapes=[(3, 4), (4,)],
                   constants={0: np.array([[True, False, True, True], [False, False, True, False],
                                           [True, True, False, True]])})],
    # the op vocabulary for models (ops/activations, elementwise, statistics, joining, einsum)
    "Relu": [dict(shapes=[(3, 4)])],
    "Tanh": [dict(shapes=[(3, 4)])],
    "Sigmoid": [dict(shapes=[(3, 4)])],
    "Softmax": [dict(shapes=[(3, 4)]), dict(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2)})],
    "LogSoftmax": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4)], kwargs={"axis": 0})],
    "Sqrt": [dict(shapes=[(3, 4)], positive=True)],
    "Sin": [dict(shapes=[(3, 4)])],
    "Cos": [dict(shapes=[(3, 4)])],
    "Clip": [dict(shapes=[(3, 4)], kwargs={"min": -1.5, "max": 2.0}),
             dict(shapes=[(3, 4)], kwargs={"min": 0.5})],
    "Minimum": [dict(shapes=[(3, 4), (4,)])],
    "Min": [dict(shapes=[(3, 4)]), dict(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2), "keepdims": True})],
    "Prod": [dict(shapes=[(3, 4)], kwargs={"axis": 1}),
             dict(shapes=[(2, 3, 2)], kwargs={"axis": (0, 2), "keepdims": True}),
             dict(shapes=[(2, 3)], domains=[(0.5, 1.5)])],
    "Var": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4)], kwargs={"axis": 0, "ddof": 1})],
    "Std": [dict(shapes=[(3, 4)], kwargs={"axis": 1, "keepdims": True, "ddof": 1})],
    "Cumsum": [dict(shapes=[(3, 4)]), dict(shapes=[(3, 4)], kwargs={"axis": 0})],
    "Concatenate": [dict(shapes=[(2, 3), (4, 3)]), dict(shapes=[(2, 3), (2, 1), (2, 2)],
                                                        kwargs={"axis": 1})],
    "Stack": [dict(shapes=[(2, 3), (2, 3)], kwargs={"axis": -1})],
    "Einsum": [dict(shapes=[(3, 4), (4, 5)], kwargs={"subscripts": "ij,jk->ik"}),
               dict(shapes=[(2, 3, 4), (4,), (2, 1)], kwargs={"subscripts": "...ij,j,ak->ai"})],
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


# ----------------------------------------------------------------------------- input domains


class TanhWrongAbove1_5(Function):
    """tanh whose backward is 20% too large where x > 1.5 (a saturation shortcut gone wrong)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        x, y = ctx.saved_tensors
        return grad * (1 - y * y) * np.where(x > 1.5, 1.2, 1.0)


def test_check_function_draws_beyond_1_5_by_default() -> None:
    with pytest.raises(GradcheckError, match="backward of TanhWrongAbove1_5 is wrong"):
        check_function(TanhWrongAbove1_5, shapes=[(3, 4)])


def test_the_same_backward_passes_where_it_is_right() -> None:
    # The domain decides what is checked: inside [-1.5, 1.5] the bug cannot show.
    assert all(r.ok for r in check_function(TanhWrongAbove1_5, shapes=[(3, 4)],
                                            domains=(-1.5, 1.5)))


def test_default_domain_covers_both_signs_up_to_5_away_from_0() -> None:
    (x,) = random_inputs([(40,)], domains=Domain())
    values = x.data
    assert values.min() < -4 and values.max() > 4 and np.abs(values).max() <= 4.95
    assert np.abs(values).min() >= 0.05
    assert np.min(np.diff(np.sort(np.abs(values)))) > 0  # distinct, even in absolute value


def test_domains_per_input_bounds_and_open_sides() -> None:
    a, b, c = random_inputs([(50,), (50,), (50,)],
                            domains=[(0, None), Domain(-1.0, 1.0), (None, -2.0)], seed=4)
    assert 0.05 <= a.data.min() and a.data.max() <= 4.95  # log's domain, edge kept 0.05 away
    assert np.all(np.abs(b.data) <= 0.95) and np.all(np.abs(b.data) >= 0.05)
    assert (b.data < 0).any() and (b.data > 0).any()
    assert np.all(c.data <= -2.05) and c.data.min() >= -6.95  # open side: 5 beyond -2


def test_avoided_points_are_kept_a_margin_away() -> None:
    (x,) = random_inputs([(200,)], domains=Domain(avoid=(-1.0, 0.0, 1.0), margin=0.1))
    for point in (-1.0, 0.0, 1.0):
        assert np.min(np.abs(x.data - point)) >= 0.1
    (y,) = random_inputs([(200,)], domains=Domain(-1.0, 3.0, avoid=(0.0, 0.5)))  # not symmetric
    assert y.data.min() >= -0.95 and y.data.max() <= 2.95
    assert np.min(np.abs(y.data - 0.5)) >= 0.05 and np.min(np.abs(y.data)) >= 0.05


def test_inputs_with_the_same_domain_never_tie() -> None:
    a, b = random_inputs([(30,), (30,)], domains=Domain(), seed=2)
    assert not np.intersect1d(np.abs(a.data), np.abs(b.data)).size
    assert (a.data < 0).any() and (b.data < 0).any() and (b.data > 0).any()


def test_a_sampler_draws_the_values_itself() -> None:
    def halves(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.integers(1, 5, size=shape) + 0.5

    x, y = random_inputs([(3, 4), (4,)], domains=[halves, None], seed=1)
    assert np.all(x.data % 1 == 0.5) and x.shape == (3, 4)
    again = random_inputs([(3, 4), (4,)], domains=[halves, None], seed=1)
    assert np.array_equal(x.data, again[0].data) and np.array_equal(y.data, again[1].data)
    with pytest.raises(ValueError, match=r"sampler of input 0 returned shape \(2,\), but was "
                                         r"asked for shape \(3, 4\)"):
        random_inputs([(3, 4)], domains=lambda rng, shape: np.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        random_inputs([(2,)], domains=lambda rng, shape: np.full(shape, np.nan))


def test_random_inputs_in_float32() -> None:
    (x,) = random_inputs([(2, 3)], dtype=np.float32, domains=Domain())
    assert x.dtype == np.float32 and x.requires_grad


@pytest.mark.parametrize("spec, error, message", [
    ((3.0, 1.0), ValueError, "Domain: low must be below high, got low=3.0, high=1.0"),
    ((0.0, 0.05), ValueError, "nothing is left to draw from in \\[0, 0.05\\]"),
    ((0.0, float("inf")), ValueError, "Domain: high must be a finite number"),
    ("positive", TypeError, "random_inputs: domains must be a domain \\(a Domain, a \\(low, "
                            "high\\) pair, a sampler\\) or a list of them"),
    ([object()], TypeError, "random_inputs: a domain must be a Domain, a \\(low, high\\) pair "
                            "or a sampler"),
])
def test_bad_domains_are_refused(spec: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        random_inputs([(3,)], domains=spec)


def test_bad_domain_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="Domain: margin must be a finite number >= 0"):
        Domain(margin="wide")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Domain: avoid must be a tuple of numbers"):
        Domain(avoid=0.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Domain: sampler must be"):
        Domain(sampler=3)  # type: ignore[arg-type]


def test_one_domain_per_input_or_one_for_all() -> None:
    with pytest.raises(ValueError, match="check_function: 3 domains for 2 inputs"):
        check_function(ops.Mul, shapes=[(3,), (3,)], domains=[None, None, None])


class LogOp(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad / x


def test_an_op_outside_its_domain_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"check_function\(LogOp\): its forward gives NaN on the "
                                         r"inputs drawn \(input 0 from \[-5, 5\] away from 0\)"):
        check_function(LogOp, shapes=[(3, 4)])
    assert all(r.ok for r in check_function(LogOp, shapes=[(3, 4)], domains=(0, None)))
    assert all(r.ok for r in check_function(LogOp, shapes=[(3, 4)], positive=True))


class ScaledSqrt(Function):
    """a · sqrt(b): a may be anything, b must be positive."""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        root = np.sqrt(b)
        ctx.save_for_backward(a, root)
        return a * root

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any]:
        a, root = ctx.saved_tensors
        return (unbroadcast(grad * root, a.shape),
                unbroadcast(grad * a / (2 * root), root.shape))


def test_per_input_domains_in_a_binary_op() -> None:
    with pytest.raises(ValueError, match=r"input 0 from \[-5, 5\] away from 0; input 1 from "
                                         r"\[-5, 5\] away from 0"):
        check_function(ScaledSqrt, shapes=[(3, 4), (4,)])
    reports = check_function(ScaledSqrt, shapes=[(3, 4), (4,)], domains=[None, (0, None)])
    assert len(reports) == 3 + 3  # all, each alone; a (3, 1), b (1,) and b () broadcast
    assert all(r.ok for r in reports)


class MaskedBlend(Function):
    """mask ? a : 2·b, the mask a constant bool array given first."""

    @staticmethod
    def forward(ctx: Any, mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(mask)
        ctx.shapes = (a.shape, b.shape)
        return np.where(mask, a, 2 * b)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any, Any]:
        (mask,) = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        return (None, unbroadcast(np.where(mask, grad, 0.0), shape_a),
                unbroadcast(np.where(mask, 0.0, 2 * grad), shape_b))


class MaskedBlendWrongForB(MaskedBlend):
    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, Any, Any]:
        none, grad_a, grad_b = MaskedBlend.backward(ctx, grad)
        if not ctx.needs_input_grad[1]:  # a shortcut for b alone that forgets the factor 2
            grad_b = grad_b / 2
        return none, grad_a, grad_b


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


def test_constant_positional_inputs() -> None:
    reports = check_function(MaskedBlend, shapes=[(3, 4), (4,)], constants={0: MASK})
    assert all(r.ok for r in reports)
    assert [c.position for c in reports[0].inputs] == [1, 2]  # gradcheck counts the constant
    with pytest.raises(GradcheckError) as caught:
        check_function(MaskedBlendWrongForB, shapes=[(3, 4), (4,)], constants={0: MASK})
    assert str(caught.value).startswith("check_function(MaskedBlendWrongForB): shapes "
                                        "[(3, 4), (4,)], constant input 0, only input 2 requiring grad")
    assert caught.value.report.culprits[0].input_index == 2
    with pytest.raises(ValueError, match=r"check_function: constants at positions \[3\], but the "
                                         r"op takes 3 positional inputs \(2 shapes and 1 constants\)"):
        check_function(MaskedBlend, shapes=[(3, 4), (4,)], constants={3: MASK})


def test_inputs_in_float32() -> None:
    reports = check_function(ops.Mul, shapes=[(3, 4), (4,)], dtype=np.float32)
    assert {c.dtype for r in reports for c in r.inputs} == {"float32"}
    with pytest.raises(TypeError, match="check_function: dtype must be"):
        check_function(ops.Mul, shapes=[(3,), (3,)], dtype=np.int32)
