"""The built-in ops: forward values, gradients against closed forms and finite differences,
broadcasting, axes, matmul shapes, indexing, tie conventions (against torch) and bad input."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
import pytest
import torch
from helpers_fd import check_grads, sum_to_shape

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# ------------------------------------------------------------------------- elementwise binary

Array = np.ndarray


class BinaryCase(NamedTuple):
    op: Callable[[Any, Any], Tensor]
    reference: Callable[[Array, Array], Array]  # numpy's forward
    d_a: Callable[[Array, Array], Array]  # closed-form partial derivatives, elementwise
    d_b: Callable[[Array, Array], Array]


BINARY = {
    "add": BinaryCase(lambda a, b: a + b, np.add, lambda a, b: 1.0, lambda a, b: 1.0),
    "sub": BinaryCase(lambda a, b: a - b, np.subtract, lambda a, b: 1.0, lambda a, b: -1.0),
    "mul": BinaryCase(lambda a, b: a * b, np.multiply, lambda a, b: b, lambda a, b: a),
    "div": BinaryCase(lambda a, b: a / b, np.divide, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    "maximum": BinaryCase(tg.maximum, np.maximum, lambda a, b: a > b, lambda a, b: a < b),
}

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),  # rank promotion on the right
    ((4,), (3, 4)),  # ... and on the left
    ((3, 1), (1, 4)),  # size-1 axes stretched on both sides
    ((2, 3, 4), (3, 1)),
    ((2, 1, 4), (3, 1)),
    ((1,), (2, 3)),
    ((), (2, 3)),  # 0-d tensor
    ((2, 3), ()),
]


def _expected_grad(cotangent: Array, partial: Any, shape: tuple[int, ...]) -> Array:
    """cotangent * partial, summed back to the input's shape (the reference, not unbroadcast)."""
    return sum_to_shape(cotangent * np.broadcast_to(partial, cotangent.shape), shape)


def _operands(rng: np.random.Generator, shape_a: tuple, shape_b: tuple) -> tuple[Array, Array]:
    """Operands without ties (for maximum) and with |b| >= 0.5 (for div)."""
    a = rng.normal(size=shape_a)
    b = rng.uniform(0.5, 2.0, size=shape_b) * rng.choice([-1.0, 1.0], size=shape_b)
    return a, b


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_PAIRS)
def test_binary_op_forward_and_gradient_with_broadcasting(
    name: str, shape_a: tuple, shape_b: tuple
) -> None:
    case = BINARY[name]
    a, b = _operands(np.random.default_rng(1), shape_a, shape_b)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = case.op(ta, tb)
    np.testing.assert_allclose(out.data, case.reference(a, b), rtol=1e-15)
    assert out.grad_fn is not None and out.grad_fn.name == name.capitalize()  # the op's class

    cotangent = np.random.default_rng(2).normal(size=out.shape)
    out.backward(cotangent)
    assert ta.grad.shape == shape_a and tb.grad.shape == shape_b
    expected_a = _expected_grad(cotangent, case.d_a(a, b), shape_a)
    expected_b = _expected_grad(cotangent, case.d_b(a, b), shape_b)
    np.testing.assert_allclose(ta.grad, expected_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tb.grad, expected_b, rtol=1e-12, atol=1e-14)
    check_grads(case.op, a, b)


CONSTANTS = {
    "python scalar": 1.5,
    "numpy scalar": np.float64(-1.25),
    "ndarray": np.array([0.75, 1.5, -2.0]),
    "constant Tensor": np.array([[1.25], [-0.5]]),  # given as Tensor(...) without grad
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("constant_kind", list(CONSTANTS))
@pytest.mark.parametrize("tensor_side", ["left", "right"])
def test_binary_op_with_a_constant_on_either_side(
    name: str, constant_kind: str, tensor_side: str
) -> None:
    case = BINARY[name]
    x = np.random.default_rng(3).uniform(0.5, 2.0, size=(2, 3))
    c = CONSTANTS[constant_kind]
    constant = Tensor(c) if constant_kind == "constant Tensor" else c
    t = Tensor(x, requires_grad=True)
    if tensor_side == "left":
        out, expected, partial = case.op(t, constant), case.reference(x, c), case.d_a(x, c)
    else:  # ndarray (op) Tensor must dispatch to the Tensor, not broadcast it as an object
        out, expected, partial = case.op(constant, t), case.reference(c, x), case.d_b(c, x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)
    cotangent = np.random.default_rng(4).normal(size=out.shape)
    out.backward(cotangent)
    np.testing.assert_allclose(t.grad, _expected_grad(cotangent, partial, x.shape), rtol=1e-12)
    if isinstance(constant, Tensor):
        assert constant.grad is None  # a constant Tensor gets no gradient


# ------------------------------------------------------------------------- elementwise unary


def _any_real(rng: np.random.Generator, shape: tuple) -> Array:
    return rng.normal(size=shape)


def _positive(rng: np.random.Generator, shape: tuple) -> Array:
    return rng.uniform(0.3, 3.0, size=shape)


def _away_from_zero(rng: np.random.Generator, shape: tuple) -> Array:
    return rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


class UnaryCase(NamedTuple):
    op: Callable[[Tensor], Tensor]
    reference: Callable[[Array], Array]
    derivative: Callable[[Array], Any]  # closed form
    sample: Callable[[np.random.Generator, tuple], Array]  # inputs inside the op's domain


UNARY = {
    "neg": UnaryCase(lambda x: -x, np.negative, lambda x: -1.0, _any_real),
    "exp": UnaryCase(lambda x: x.exp(), np.exp, np.exp, _any_real),
    "log": UnaryCase(lambda x: x.log(), np.log, lambda x: 1 / x, _positive),
    "abs": UnaryCase(lambda x: x.abs(), np.abs, np.sign, _away_from_zero),
    "square": UnaryCase(lambda x: x**2, np.square, lambda x: 2 * x, _any_real),
    "cube": UnaryCase(lambda x: x**3, lambda x: x * x * x, lambda x: 3 * x * x, _any_real),
    "sqrt": UnaryCase(lambda x: x**0.5, np.sqrt, lambda x: 0.5 / np.sqrt(x), _positive),
    "reciprocal": UnaryCase(lambda x: x**-1, lambda x: 1 / x, lambda x: -1 / x**2, _away_from_zero),
    "pow -2.5": UnaryCase(lambda x: x**-2.5, lambda x: x**-2.5, lambda x: -2.5 / x**3.5, _positive),
    "pow 1": UnaryCase(lambda x: x**1, lambda x: x, lambda x: 1.0, _any_real),
    "pow 0": UnaryCase(lambda x: x**0, np.ones_like, lambda x: 0.0, _any_real),
    "numpy exponent": UnaryCase(lambda x: x ** np.int64(2), np.square, lambda x: 2 * x, _any_real),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_unary_op_forward_and_gradient(name: str, shape: tuple) -> None:
    case = UNARY[name]
    x = case.sample(np.random.default_rng(4), shape)
    t = Tensor(x, requires_grad=True)
    out = case.op(t)
    np.testing.assert_allclose(out.data, case.reference(x), rtol=1e-14)
    assert out.shape == shape
    cotangent = np.random.default_rng(5).normal(size=shape)
    out.backward(cotangent)
    expected = _expected_grad(cotangent, case.derivative(x), shape)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12)
    check_grads(case.op, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_number_to_the_power_of_a_tensor(dtype: type) -> None:
    x = Tensor(np.array([-1.0, 0.5, 2.0], dtype=dtype), requires_grad=True)
    y = 3.0**x
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, 3.0 ** x.data.astype(np.float64), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.log(3.0) * 3.0 ** x.data.astype(np.float64), rtol=1e-6)
    check_grads(lambda t: 2**t, np.array([0.3, -1.2]))


@pytest.mark.parametrize("base", [0, -2.0, "2", True])
def test_a_number_to_the_power_of_a_tensor_needs_a_positive_base(base: object) -> None:
    with pytest.raises(TypeError, match="Pow: base \\*\\* tensor needs a positive"):
        base ** Tensor([1.0, 2.0])  # type: ignore[operator]


def test_pow_with_a_tensor_exponent_is_a_type_error() -> None:
    x, e = Tensor([1.0, 2.0], requires_grad=True), Tensor(2.0)
    with pytest.raises(TypeError, match="Pow.*exponent"):
        x**e
    with pytest.raises(TypeError, match="Pow.*exponent"):
        x ** np.array([1.0, 2.0])  # an array exponent is not a scalar either
    assert x.grad is None and np.array_equal(x.data, [1.0, 2.0])


# ------------------------------------------------------------------------- reductions

AXES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2), ()]


def _reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_forward_and_gradient(reduction: str, axis: Any, keepdims: bool) -> None:
    x = np.random.default_rng(6).normal(size=(2, 3, 4))  # continuous: no ties for max
    t = Tensor(x, requires_grad=True)
    out = getattr(t, reduction)(axis=axis, keepdims=keepdims)
    reference = {"sum": np.sum, "mean": np.mean, "max": np.amax}[reduction]
    expected = reference(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    assert out.shape == expected.shape

    cotangent = np.random.default_rng(7).normal(size=out.shape)
    out.backward(cotangent)
    kept = cotangent if keepdims else np.expand_dims(cotangent, _reduced_axes(axis))
    spread = np.broadcast_to(kept, x.shape)  # the cotangent, copied along the reduced axes
    if reduction == "sum":
        closed_form = spread
    elif reduction == "mean":
        closed_form = spread / _reduced_count(x.shape, axis)
    else:
        winner = x == np.amax(x, axis=axis, keepdims=True)
        closed_form = spread * winner
    np.testing.assert_allclose(t.grad, closed_form, rtol=1e-12)
    check_grads(lambda v: getattr(v, reduction)(axis=axis, keepdims=keepdims), x)


def _reduced_axes(axis: Any) -> tuple[int, ...]:
    if axis is None:
        return (0, 1, 2)
    return tuple(a % 3 for a in ((axis,) if isinstance(axis, int) else axis))


def test_reductions_default_to_all_axes_and_return_a_0d_tensor() -> None:
    t = Tensor([[1.0, 2.0], [3.0, 6.0]], requires_grad=True)
    for method, value in [("sum", 12.0), ("mean", 3.0), ("max", 6.0)]:
        out = getattr(t, method)()
        assert out.shape == () and out.item() == value


# ------------------------------------------------------------------------- tie conventions


def _torch_grads(fn: Callable[..., Any], arrays: list[Array], cotangent: Array) -> list[Array]:
    """The gradients torch computes for fn at arrays, given the cotangent: the reference."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    fn(*tensors).backward(torch.tensor(cotangent))
    return [t.grad.numpy() for t in tensors]


def test_max_splits_the_gradient_equally_among_ties() -> None:
    t = Tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), (1, 2), (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_ties_match_torch_amax(axis: Any, keepdims: bool) -> None:
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, size=(3, 4, 2)).astype(np.float64)  # many ties
    t = Tensor(x, requires_grad=True)
    out = t.max(axis=axis, keepdims=keepdims)
    cotangent = rng.normal(size=out.shape)
    out.backward(cotangent)
    dims = tuple(range(x.ndim)) if axis is None else axis
    (expected,) = _torch_grads(lambda v: v.amax(dim=dims, keepdim=keepdims), [x], cotangent)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-14)


def test_maximum_gives_half_the_gradient_to_each_side_at_a_tie() -> None:
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([2.0, 2.0, 2.0], requires_grad=True)
    tg.maximum(a, b).backward(np.ones(3))
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])


@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_PAIRS[:4] + [((), (2, 3))])
def test_maximum_ties_match_torch_with_broadcasting(shape_a: tuple, shape_b: tuple) -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(0, 3, size=shape_a).astype(np.float64)
    b = rng.integers(0, 3, size=shape_b).astype(np.float64)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = tg.maximum(ta, tb)
    cotangent = rng.normal(size=out.shape)
    out.backward(cotangent)
    expected_a, expected_b = _torch_grads(torch.maximum, [a, b], cotangent)
    np.testing.assert_allclose(ta.grad, expected_a, rtol=1e-14)
    np.testing.assert_allclose(tb.grad, expected_b, rtol=1e-14)


def test_abs_has_zero_gradient_at_zero_like_torch() -> None:
    x = np.array([-2.0, -0.0, 0.0, 1.5])
    t = Tensor(x, requires_grad=True)
    t.abs().backward(np.ones(4))
    np.testing.assert_array_equal(t.grad, [-1.0, 0.0, 0.0, 1.0])
    (expected,) = _torch_grads(torch.abs, [x], np.ones(4))
    np.testing.assert_array_equal(t.grad, expected)


# ------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((3,), (3,)),  # 1-D @ 1-D: inner product, 0-d result
    ((3,), (3, 4)),  # 1-D @ 2-D
    ((2, 3), (3,)),  # 2-D @ 1-D
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),  # batched @ 2-D: the 2-D operand's gradient sums over the batch
    ((2, 3), (5, 3, 4)),  # 2-D @ batched
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch axes broadcast: (2, 1) with (5,)
    ((1, 3, 4), (2, 4, 2)),  # size-1 batch axis
    ((4,), (2, 4, 3)),  # 1-D @ batched
    ((2, 3, 4), (4,)),  # batched @ 1-D
]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_forward_and_gradient_match_numpy_and_torch(shape_a: tuple, shape_b: tuple) -> None:
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13)
    assert out.shape == np.matmul(a, b).shape
    cotangent = rng.normal(size=out.shape)
    out.backward(cotangent)
    expected_a, expected_b = _torch_grads(torch.matmul, [a, b], cotangent)
    np.testing.assert_allclose(ta.grad, expected_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tb.grad, expected_b, rtol=1e-12, atol=1e-14)
    check_grads(lambda u, v: u @ v, a, b)


# (shape of a, shape of b, closed-form gradients (grad_a, grad_b) given a, b and cotangent g)
MATMUL_CLOSED_FORMS = {
    "2-D @ 2-D": ((2, 3), (3, 4), lambda a, b, g: (g @ b.T, a.T @ g)),
    "1-D @ 1-D": ((3,), (3,), lambda a, b, g: (g * b, g * a)),
    "2-D @ 1-D": ((2, 3), (3,), lambda a, b, g: (np.outer(g, b), a.T @ g)),
    "1-D @ 2-D": ((3,), (3, 4), lambda a, b, g: (b @ g, np.outer(a, g))),
    "batched @ 2-D": ((5, 2, 3), (3, 4), lambda a, b, g: (g @ b.T, np.einsum("nij,nik->jk", a, g))),
}


@pytest.mark.parametrize("case", list(MATMUL_CLOSED_FORMS))
def test_matmul_gradient_closed_forms(case: str) -> None:
    shape_a, shape_b, closed_form = MATMUL_CLOSED_FORMS[case]
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    g = rng.normal(size=np.matmul(a, b).shape)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta @ tb).backward(g)
    expected_a, expected_b = closed_form(a, b, g)
    np.testing.assert_allclose(ta.grad, expected_a, rtol=1e-13)
    np.testing.assert_allclose(tb.grad, expected_b, rtol=1e-13)


def test_matmul_with_ndarray_on_either_side() -> None:
    rng = np.random.default_rng(12)
    X, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    tW = Tensor(W, requires_grad=True)
    left = X @ tW  # ndarray @ Tensor: numpy defers to Tensor.__rmatmul__
    assert isinstance(left, Tensor)
    np.testing.assert_allclose(left.data, X @ W, rtol=1e-14)
    left.backward(np.ones((4, 2)))
    np.testing.assert_allclose(tW.grad, X.T @ np.ones((4, 2)), rtol=1e-14)

    tX = Tensor(X, requires_grad=True)
    right = tX @ W
    assert isinstance(right, Tensor)
    right.backward(np.ones((4, 2)))
    np.testing.assert_allclose(tX.grad, np.ones((4, 2)) @ W.T, rtol=1e-14)


# ------------------------------------------------------------------------- shape ops


@pytest.mark.parametrize(
    "call, expected_shape",
    [
        (lambda t: t.reshape(4, 6), (4, 6)),
        (lambda t: t.reshape((6, 4)), (6, 4)),
        (lambda t: t.reshape([3, 8]), (3, 8)),
        (lambda t: t.reshape(-1), (24,)),
        (lambda t: t.reshape(2, -1, 3), (2, 4, 3)),
        (lambda t: t.reshape(1, 24, 1), (1, 24, 1)),
    ],
)
def test_reshape_forward_and_gradient(call: Callable, expected_shape: tuple) -> None:
    x = np.random.default_rng(13).normal(size=(2, 3, 4))
    t = Tensor(x, requires_grad=True)
    out = call(t)
    assert out.shape == expected_shape
    np.testing.assert_array_equal(out.data, x.reshape(expected_shape))
    cotangent = np.random.default_rng(14).normal(size=expected_shape)
    out.backward(cotangent)
    np.testing.assert_array_equal(t.grad, cotangent.reshape(x.shape))
    check_grads(call, x)


@pytest.mark.parametrize(
    "call, axes",
    [
        (lambda t: t.transpose(), None),
        (lambda t: t.T, None),
        (lambda t: t.transpose(1, 0, 2), (1, 0, 2)),
        (lambda t: t.transpose((2, 0, 1)), (2, 0, 1)),
        (lambda t: t.transpose([1, 2, 0]), (1, 2, 0)),
        (lambda t: t.transpose(-1, 0, -2), (-1, 0, -2)),
    ],
)
def test_transpose_forward_and_gradient(call: Callable[[Tensor], Tensor], axes: Any) -> None:
    x = np.random.default_rng(15).normal(size=(2, 3, 4))
    t = Tensor(x, requires_grad=True)
    out = call(t)
    expected = np.transpose(x, axes)
    np.testing.assert_array_equal(out.data, expected)
    cotangent = np.random.default_rng(16).normal(size=expected.shape)
    out.backward(cotangent)
    # The gradient of a permutation is the inverse permutation of the cotangent.
    inverse = None if axes is None else np.argsort([a % 3 for a in axes])
    np.testing.assert_array_equal(t.grad, np.transpose(cotangent, inverse))
    check_grads(call, x)


def test_transpose_of_a_matrix_and_a_vector() -> None:
    m = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert m.T.shape == (3, 1)
    v = Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(v.T.data, [1.0, 2.0])


def test_shape_op_outputs_do_not_alias_their_input() -> None:
    """An op's output is a new array: changing it in place never changes the input."""
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    for out in (t.reshape(6), t.T, t[0], t[:, 1:]):
        out.detach().add_(100.0)
    np.testing.assert_array_equal(t.data, np.arange(6.0).reshape(2, 3))


# ------------------------------------------------------------------------- indexing

N_ROWS, N_COLS = 5, 4
_y_repeated = np.array([1, 3, 1, 1, 0])
INDICES = {
    "int": 2,
    "negative int": -1,
    "int pair": (1, 2),
    "slice": slice(1, 4),
    "negative step": slice(None, None, -1),
    "step 2 from the end": (slice(None, None, -2), slice(1, None)),
    "None and Ellipsis": (None, Ellipsis, 0),
    "Ellipsis middle": (Ellipsis, slice(0, 2)),
    "boolean mask": np.random.default_rng(17).normal(size=(N_ROWS, N_COLS)) > 0,
    "row mask": np.array([True, False, True, True, False]),
    "integer array with repeats": np.array([0, 2, 0, 0, 4]),
    "list with repeats": [3, 3, -1],
    "list of bools": [True, False, False, True, True],
    "correct-class scores": (np.arange(N_ROWS), _y_repeated),
    "mixed int array and slice": (np.array([4, 4, 1]), slice(1, 3)),
    "broadcast index arrays": (np.array([[0], [0], [2]]), np.array([1, 1, 3])),
}


def _index_grad_reference(index: Any, cotangent: np.ndarray) -> np.ndarray:
    """d x[index] / d x applied to a cotangent, from the flat positions the index picks
    (a scatter-add written with bincount, independently of the engine's GetItem)."""
    positions = np.arange(N_ROWS * N_COLS).reshape(N_ROWS, N_COLS)[index]
    flat = np.bincount(np.ravel(positions), weights=np.ravel(cotangent), minlength=N_ROWS * N_COLS)
    return flat.reshape(N_ROWS, N_COLS)


@pytest.mark.parametrize("index", list(INDICES.values()), ids=list(INDICES))
def test_getitem_forward_and_scatter_add_gradient(index: Any) -> None:
    x = np.random.default_rng(18).normal(size=(N_ROWS, N_COLS))
    t = Tensor(x, requires_grad=True)
    out = t[index]
    np.testing.assert_array_equal(out.data, x[index])
    assert out.grad_fn.name == "GetItem"
    cotangent = np.random.default_rng(19).normal(size=out.shape)
    out.backward(cotangent)
    np.testing.assert_allclose(t.grad, _index_grad_reference(index, cotangent), rtol=1e-14)
    check_grads(lambda v: v[index], x)


def test_correct_class_scores_with_repeated_labels_accumulate() -> None:
    scores = np.arange(15.0).reshape(5, 3)
    y = np.array([2, 2, 0, 2, 2])
    t = Tensor(scores, requires_grad=True)
    picked = t[np.arange(5), y]
    np.testing.assert_array_equal(picked.data, [2.0, 5.0, 6.0, 11.0, 14.0])
    picked.sum().backward()
    expected = np.zeros((5, 3))
    expected[np.arange(5), y] = 1.0
    np.testing.assert_array_equal(t.grad, expected)

    # The same element picked several times receives the sum of its gradients.
    v = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    v[np.array([1, 1, 1, 0])].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(v.grad, [4.0, 6.0, 0.0])


def test_index_given_as_a_tensor() -> None:
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = t[Tensor(np.array([2, 2]))]
    np.testing.assert_array_equal(out.data, [3.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.0, 2.0])


# ------------------------------------------------------------------------- bad input


def _leaf_with_grad(shape: tuple) -> Tensor:
    """A leaf requiring grad that already holds a gradient, so a bad op could disturb both."""
    t = Tensor(np.arange(float(np.prod(shape))).reshape(shape), requires_grad=True)
    t.grad = np.full(shape, 7.0)
    return t


@contextlib.contextmanager
def unchanged(*tensors: Tensor) -> Iterator[None]:
    """Check, on leaving the block, that every tensor's data, grad and version are as before."""
    before = [(t.data.copy(), t.grad.copy(), t.version) for t in tensors]
    yield
    for t, (data, grad, version) in zip(tensors, before):
        np.testing.assert_array_equal(t.data, data)
        np.testing.assert_array_equal(t.grad, grad)
        assert t.version == version


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("left_kind", ["Tensor", "ndarray"])
def test_binary_op_with_mismatched_shapes_names_the_op_and_both_shapes(
    name: str, left_kind: str
) -> None:
    a, b = _leaf_with_grad((3, 4)), _leaf_with_grad((5,))
    left = a if left_kind == "Tensor" else np.ones((3, 4))
    with unchanged(a, b), pytest.raises(ValueError) as info:
        BINARY[name].op(left, b)
    message = str(info.value)
    assert message.startswith(f"{name.capitalize()}:"), message
    assert "(3, 4)" in message and "(5,)" in message, message


MISALIGNED_MATMUL_SHAPES = [
    ((2, 3), (4, 5)),
    ((3,), (4,)),
    ((2, 3), (2,)),
    ((5, 2, 3), (4, 2)),
    ((), (3,)),
    ((2, 2, 3), (3, 3, 4)),  # inner axes agree, batch axes do not broadcast
]


@pytest.mark.parametrize("shape_a, shape_b", MISALIGNED_MATMUL_SHAPES, ids=str)
def test_matmul_with_mismatched_shapes_names_the_op_and_both_shapes(
    shape_a: tuple, shape_b: tuple
) -> None:
    a, b = _leaf_with_grad(shape_a), _leaf_with_grad(shape_b)
    with unchanged(a, b), pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert message.startswith("MatMul:"), message
    assert str(shape_a) in message and str(shape_b) in message, message


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [2, -3, (0, 5)], ids=str)
def test_reduction_over_a_nonexistent_axis_names_the_op(method: str, axis: Any) -> None:
    t = _leaf_with_grad((2, 3))
    with unchanged(t), pytest.raises(ValueError, match=f"^{method.capitalize()}:.*axis") as info:
        getattr(t, method)(axis=axis)
    assert "(2, 3)" in str(info.value)


def test_max_of_an_empty_tensor_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="^Max:.*zero-size"):
        Tensor(np.zeros((0, 3)), requires_grad=True).max()


def test_max_over_non_empty_axes_of_an_empty_tensor_is_empty_as_in_numpy() -> None:
    t = Tensor(np.zeros((0, 3)), requires_grad=True)
    out = t.max(axis=1)
    assert out.shape == (0,)
    out.sum().backward()
    assert t.grad.shape == (0, 3)


@pytest.mark.parametrize("shape", [(5,), (4, 4), (-1, 5), (2, -1, -1)], ids=str)
def test_impossible_reshape_is_a_value_error(shape: tuple) -> None:
    t = _leaf_with_grad((2, 3))
    with unchanged(t), pytest.raises(ValueError, match="^Reshape:") as info:
        t.reshape(*shape)
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize("axes", [(0,), (0, 0), (0, 2)], ids=str)
def test_bad_transpose_axes_is_a_value_error(axes: tuple) -> None:
    t = _leaf_with_grad((2, 3))
    with unchanged(t), pytest.raises(ValueError, match="^Transpose:"):
        t.transpose(*axes)


OUT_OF_RANGE = [5, -6, (0, 3), (slice(None), 7), np.array([0, 5]), (np.arange(2), np.array([0, 9]))]


@pytest.mark.parametrize("index", OUT_OF_RANGE, ids=str)
def test_index_out_of_range_is_an_index_error_naming_getitem(index: Any) -> None:
    t = _leaf_with_grad((5, 3))
    with unchanged(t), pytest.raises(IndexError, match="^GetItem:") as info:
        t[index]
    assert "(5, 3)" in str(info.value)


def test_boolean_mask_of_the_wrong_shape_is_an_index_error() -> None:
    t = _leaf_with_grad((5, 3))
    with unchanged(t), pytest.raises(IndexError, match="^GetItem:"):
        t[np.array([True, False])]


# ------------------------------------------------------------------------- numbers and dtypes


@pytest.mark.parametrize(
    "expression",
    [
        lambda x: x * np.float64(2.0),
        lambda x: x / np.sqrt(np.float64(4.0)),
        lambda x: np.float64(2.0) - x,
        lambda x: x ** np.float64(2.0),
        lambda x: tg.maximum(x, np.float64(0.5)),
        lambda x: x.sum() * 2.0,  # a 0-d float32 with a Python float (numpy 1.x promoted it)
    ],
    ids=["mul", "div", "rsub", "pow", "maximum", "0-d"],
)
def test_numbers_combine_in_the_tensors_dtype_as_in_torch(expression: Any) -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    y = expression(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_arrays_still_combine_by_numpys_rules() -> None:
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x + np.ones(3)).dtype == np.float64


def test_pow_zero_has_a_zero_gradient_at_zero_as_in_torch() -> None:
    t = Tensor([0.0, 2.0], requires_grad=True)
    (t**0).sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.0])


@pytest.mark.parametrize("shape", [(4,), (2,), (1, 2, 3)])
def test_unbroadcast_refuses_a_shape_that_does_not_broadcast(shape: tuple) -> None:
    with pytest.raises(ValueError, match=r"unbroadcast: a gradient of shape \(2, 3\)"):
        tg.unbroadcast(np.ones((2, 3)), shape)
