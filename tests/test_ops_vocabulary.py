"""The op vocabulary for models (issue 13): relu, tanh, sigmoid, sqrt, sin, cos, softmax,
log_softmax, min, prod, var, std, clip, argmax, argmin, squeeze, flatten, cumsum, minimum,
concatenate, stack, expand_dims, einsum.

Each op against PyTorch at float64 on random shapes (broadcasting, negative axes, keepdims):
values, gradients, and second derivatives (`tinygrad_edu.grad(..., create_graph=True)` against
`torch.autograd.grad(..., create_graph=True)`), third order on a few; the conventions at kinks
and ties; errors naming the op for bad axes, shapes and PyTorch's keyword names.
(`check_function` runs on every op's Function in tests/test_testing.py.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops

Array = np.ndarray


# ----------------------------------------------------------------------------- the oracle


def _numpy(t: torch.Tensor | None, like: Array) -> Array:
    if t is None:
        return np.zeros(like.shape)
    return t.detach().numpy(force=True).astype(np.float64).reshape(like.shape)


def matches_torch(
    ours: Callable[..., Tensor],
    theirs: Callable[..., torch.Tensor],
    arrays: Sequence[Array],
    *,
    order: int = 2,
    seed: int = 0,
    rtol: float = 1e-9,
    atol: float = 1e-11,
) -> None:
    """Values and derivatives up to `order` of ours(*tensors) equal theirs(*torch tensors).

    Order 1 is the vector-Jacobian product with a random cotangent; each higher order is the
    gradient of the previous gradients' dot product with random weights (a Hessian-vector
    product for order 2), built with create_graph=True on both sides."""
    rng = np.random.default_rng(seed)
    xs = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    ts = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out, expected = ours(*xs), theirs(*ts)
    assert out.shape == tuple(expected.shape), (out.shape, expected.shape)
    np.testing.assert_allclose(out.data, _numpy(expected, out.data), rtol=rtol, atol=atol)
    cotangent = rng.standard_normal(out.shape)
    grads = tg.grad(out, xs, grad_outputs=cotangent, create_graph=True)
    references: Sequence[torch.Tensor | None] = torch.autograd.grad(
        expected, ts, torch.tensor(cotangent), create_graph=True, allow_unused=True)
    for level in range(1, order + 1):
        for i, (g, r) in enumerate(zip(grads, references)):
            assert g is not None
            np.testing.assert_allclose(
                g.data, _numpy(r, g.data), rtol=rtol, atol=atol,
                err_msg=f"derivative of order {level}, input {i}")
        if level == order:
            break
        weights = [rng.standard_normal(x.shape) for x in xs]
        ours_dot = sum(((g * w).sum() for g, w in zip(grads, weights)), Tensor(0.0))
        grads = tg.grad(ours_dot, xs, create_graph=True, allow_unused=True, materialize_grads=True)
        terms = [(r * torch.tensor(w)).sum() for r, w in zip(references, weights)
                 if r is not None and r.requires_grad]
        if terms:
            references = torch.autograd.grad(sum(terms), ts, create_graph=True, allow_unused=True)
        else:  # the first derivative is constant: every higher one is zero
            references = [None] * len(ts)


SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


def normal(shape: tuple[int, ...], seed: int = 0) -> Array:
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------- elementwise

UNARY: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": (lambda x: x.relu(), torch.relu),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt),
    "sin": (lambda x: x.sin(), torch.sin),
    "cos": (lambda x: x.cos(), torch.cos),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_match_torch_to_second_order(name: str, shape: tuple[int, ...]) -> None:
    x = normal(shape) * 2
    if name == "sqrt":
        x = np.abs(x) + 0.3
    ours, theirs = UNARY[name]
    matches_torch(ours, theirs, [x])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "sin", "sqrt"])
def test_third_derivatives_match_torch(name: str) -> None:
    x = np.abs(normal((3, 4), seed=1)) + 0.2
    matches_torch(*UNARY[name], [x], order=3)


def test_relu_has_derivative_zero_at_zero_as_pytorch() -> None:
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])
    matches_torch(lambda t: t.relu() * t, lambda t: torch.relu(t) * t, [np.array([-1.0, 0.0, 2.0])])


def test_sigmoid_is_exact_far_out_and_silent() -> None:
    raw = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Tensor(raw).sigmoid().data
    np.testing.assert_allclose(out, torch.sigmoid(torch.tensor(raw)).numpy(), rtol=1e-15, atol=0)
    assert out[1] == pytest.approx(4.248354255291589e-18, rel=1e-14) and out[0] == 0.0


@pytest.mark.parametrize("low, high", [(-0.5, 0.5), (None, 0.0), (-0.25, None), (1.0, -1.0)])
def test_clip_matches_torch_clamp_with_gradient_passing_at_the_bounds(low: Any, high: Any) -> None:
    x = np.array([[-2.0, -0.5, -0.25, 0.0], [0.25, 0.5, 1.0, 3.0]])  # bounds included exactly
    matches_torch(lambda t: t.clip(low, high) ** 2, lambda t: torch.clamp(t, low, high) ** 2, [x])
    matches_torch(lambda t: t.clip(min=low, max=high), lambda t: torch.clamp(t, low, high), [x])


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))]


@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_PAIRS, ids=str)
def test_minimum_matches_torch_with_broadcasting(shape_a: tuple, shape_b: tuple) -> None:
    a, b = normal(shape_a, 1), normal(shape_b, 2)
    matches_torch(lambda x, y: ops.minimum(x, y) * x, lambda x, y: torch.minimum(x, y) * x, [a, b])


def test_minimum_splits_ties_like_maximum_and_torch() -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    matches_torch(ops.minimum, torch.minimum, [a, b])
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ops.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(y.grad, [0.5, 1.0, 0.0])


def test_minimum_with_a_number_and_float32() -> None:
    x = Tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    out = ops.minimum(x, 0.5)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_array_equal(out.data, [-1.0, 0.5])


# ----------------------------------------------------------------------------- softmax


def torch_log_softmax(t: torch.Tensor, axis: Any) -> torch.Tensor:
    dims = tuple(range(t.ndim)) if axis is None else axis
    return t - torch.logsumexp(t, dim=dims, keepdim=True)


SOFTMAX_CASES = [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), (0, -1)), ((3, 4), None),
                 ((5,), 0)]


@pytest.mark.parametrize("shape, axis", SOFTMAX_CASES, ids=str)
def test_softmax_and_log_softmax_match_torch(shape: tuple, axis: Any) -> None:
    x = normal(shape, 3) * 3
    matches_torch(lambda t: t.log_softmax(axis=axis), lambda t: torch_log_softmax(t, axis), [x])
    matches_torch(lambda t: t.softmax(axis), lambda t: torch_log_softmax(t, axis).exp(), [x])


def test_softmax_default_axis_is_the_last_as_torch_dim_minus_one() -> None:
    x = normal((2, 3, 4), 4)
    matches_torch(lambda t: t.softmax(), lambda t: torch.softmax(t, -1), [x], order=3)
    matches_torch(lambda t: t.log_softmax(), lambda t: torch.log_softmax(t, -1), [x], order=3)


def test_log_softmax_is_stable_for_large_scores() -> None:
    raw = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 5e4 - 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Tensor(raw).log_softmax().data
        probabilities = Tensor(raw).softmax().data
    assert np.isfinite(out).all() and np.isfinite(probabilities).all()
    np.testing.assert_allclose(out, torch.log_softmax(torch.tensor(raw), -1).numpy(), rtol=1e-15)
    assert out[0, 2] == -2000.0  # log(softmax) would be log(0) = -inf there
    matches_torch(lambda t: t.log_softmax(), lambda t: torch.log_softmax(t, -1), [raw])


# ----------------------------------------------------------------------------- reductions

AXES = [(None, False), (None, True), (0, False), (-1, True), ((0, -1), False), ((0, -1), True)]


def _dims(t: torch.Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(t.ndim))
    return tuple(a % t.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def torch_prod(t: torch.Tensor, axis: Any, keepdims: bool) -> torch.Tensor:
    out = t
    for d in sorted(_dims(t, axis), reverse=True):  # torch.prod takes one dim at a time
        out = out.prod(dim=d, keepdim=True)
    return out if keepdims else out.reshape([n for i, n in enumerate(out.shape)
                                             if i not in _dims(t, axis)])


@pytest.mark.parametrize("axis, keepdims", AXES, ids=str)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)], ids=str)
def test_min_prod_var_std_match_torch(shape: tuple, axis: Any, keepdims: bool) -> None:
    x = normal(shape, 5)
    matches_torch(lambda t: t.min(axis=axis, keepdims=keepdims),
                  lambda t: torch.amin(t, dim=_dims(t, axis), keepdim=keepdims), [x])
    matches_torch(lambda t: t.prod(axis, keepdims),
                  lambda t: torch_prod(t, axis, keepdims), [x], order=3)
    for d in (0, 1):
        matches_torch(lambda t, d=d: t.var(axis=axis, keepdims=keepdims, ddof=d),
                      lambda t, d=d: torch.var(t, dim=_dims(t, axis), correction=d, keepdim=keepdims),
                      [x], order=3)
        matches_torch(lambda t, d=d: t.std(axis, keepdims, d),
                      lambda t, d=d: torch.std(t, dim=_dims(t, axis), correction=d, keepdim=keepdims),
                      [x])


def test_min_splits_ties_like_max() -> None:
    x = np.array([[1.0, 1.0, 3.0], [2.0, 0.5, 0.5]])
    matches_torch(lambda t: t.min(), torch.amin, [x])
    matches_torch(lambda t: t.min(axis=1), lambda t: torch.amin(t, dim=1), [x])
    t = Tensor(x, requires_grad=True)
    t.min(axis=1).sum().backward()
    np.testing.assert_array_equal(t.grad, [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])


PROD_WITH_ZEROS = [
    np.array([2.0, 0.0, 3.0, 4.0]),  # one zero: only it gets a gradient
    np.array([2.0, 0.0, 3.0, 0.0]),  # two zeros: every gradient is 0
    np.array([[0.0, 1.5, 2.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
    np.array([0.0]),
]


@pytest.mark.parametrize("x", PROD_WITH_ZEROS, ids=lambda x: str(x.tolist()))
def test_prod_with_zeros_matches_torch_to_third_order(x: Array) -> None:
    matches_torch(lambda t: t.prod(axis=-1), lambda t: t.prod(dim=-1), [x], order=3)
    matches_torch(lambda t: t.prod(), lambda t: t.prod(), [x], order=3)


def test_prod_gradient_with_zeros_is_the_product_of_the_others() -> None:
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], requires_grad=True)
    x.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])


def test_prod_gradient_is_exact_where_the_product_underflows() -> None:
    x = Tensor([1e-200, 1e-200, 5.0], requires_grad=True)  # the product is 0, no element is
    x.prod().backward()
    np.testing.assert_allclose(x.grad, [5e-200, 5e-200, 0.0], rtol=1e-15)


def test_std_has_gradient_zero_where_it_is_zero_as_torch() -> None:
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    matches_torch(lambda t: t.std(axis=1), lambda t: t.std(dim=1, correction=0), [x], order=1)
    t = Tensor(x, requires_grad=True)
    t.std(axis=1).sum().backward()
    assert t.grad is not None and (t.grad[0] == 0).all() and np.isfinite(t.grad).all()


@pytest.mark.parametrize("shape, axis", [((3, 4), None), ((3, 4), 0), ((3, 4), -1),
                                         ((2, 3, 4), 1), ((5,), 0), ((), None)], ids=str)
def test_cumsum_matches_torch(shape: tuple, axis: Any) -> None:
    x = normal(shape, 6)

    def theirs(t: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(t.reshape(-1), 0) if axis is None else torch.cumsum(t, axis)

    matches_torch(lambda t: t.cumsum(axis) ** 2, lambda t: theirs(t) ** 2, [x])
    np.testing.assert_array_equal(Tensor(x).cumsum(axis=axis).data, np.cumsum(x, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_argmax_and_argmin_are_int_tensors_without_grad(axis: Any) -> None:
    raw = np.array([[1.0, 5.0, 5.0], [7.0, -2.0, 0.0]])
    x = Tensor(raw, requires_grad=True)
    for name in ("argmax", "argmin"):
        result = getattr(x, name)(axis=axis)
        assert result.dtype.kind == "i" and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.data, getattr(np, name)(raw, axis=axis))
        reference = getattr(torch, name)(torch.tensor(raw), dim=axis)
        np.testing.assert_array_equal(result.data, reference.numpy())
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)


# ----------------------------------------------------------------------------- joining


@pytest.mark.parametrize("shapes, axis", [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 2)], -1),
                                          ([(2, 3, 4)], 1), ([(3,), (2,)], 0)], ids=str)
def test_concatenate_matches_torch_cat(shapes: list, axis: int) -> None:
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    matches_torch(lambda *ts: ops.concatenate(list(ts), axis=axis) ** 3,
                  lambda *ts: torch.cat(ts, dim=axis) ** 3, arrays)


@pytest.mark.parametrize("shape, axis", [((2, 3), 0), ((2, 3), -1), ((2, 3), 1), ((), 0)], ids=str)
def test_stack_matches_torch(shape: tuple, axis: int) -> None:
    arrays = [normal(shape, i) for i in range(3)]
    matches_torch(lambda *ts: ops.stack(ts, axis=axis) ** 3,
                  lambda *ts: torch.stack(ts, dim=axis) ** 3, arrays)


def test_joining_mixes_tensors_and_arrays_and_keeps_each_dtype() -> None:
    x = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    y = Tensor(np.ones((1, 2)), requires_grad=True)
    out = ops.concatenate([x, np.zeros((3, 2)), y])
    assert out.shape == (6, 2) and out.dtype == np.float64
    (out * np.arange(12.0).reshape(6, 2)).sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32 and y.grad is not None
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(y.grad, [[10.0, 11.0]])
    assert isinstance(ops.stack([np.ones(2), np.zeros(2)]), np.ndarray)  # arrays in: an array


@pytest.mark.parametrize("shape, axis", [((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 3)), ((), 0)],
                         ids=str)
def test_expand_dims_squeeze_flatten_match_torch(shape: tuple, axis: Any) -> None:
    x = normal(shape, 7)

    def unsqueeze(t: torch.Tensor) -> torch.Tensor:
        for a in sorted(a % (t.ndim + (len(axis) if isinstance(axis, tuple) else 1))
                        for a in (axis if isinstance(axis, tuple) else (axis,))):
            t = t.unsqueeze(a)
        return t

    matches_torch(lambda t: ops.expand_dims(t, axis) ** 3, lambda t: unsqueeze(t) ** 3, [x])
    np.testing.assert_array_equal(ops.expand_dims(Tensor(x), axis).data, np.expand_dims(x, axis))
    matches_torch(lambda t: ops.expand_dims(t, axis).squeeze() ** 3, lambda t: t**3, [x])
    matches_torch(lambda t: ops.expand_dims(t, axis).squeeze(axis) ** 3, lambda t: t**3, [x])
    matches_torch(lambda t: t.flatten() ** 3, lambda t: t.flatten() ** 3, [x])


# ----------------------------------------------------------------------------- einsum

EINSUM_CASES: list[tuple[str, list[tuple[int, ...]]]] = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output
    ("ba", [(3, 4)]),  # implicit: letters sorted, a transpose
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij,k->i", [(3, 4), (5,)]),  # j and k summed inside one operand each
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # "..." broadcast
    ("...i,i", [(2, 3, 4), (4,)]),
    ("ij,ij->ij", [(3, 4), (1, 4)]),  # a size-1 axis broadcast
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij, jk -> ki", [(3, 4), (4, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy_and_torch(subscripts: str, shapes: list) -> None:
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    ours = ops.einsum(subscripts, *[Tensor(a) for a in arrays])
    np.testing.assert_allclose(ours.data, np.einsum(subscripts, *arrays), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ops.einsum(subscripts, *arrays), ours.data, rtol=1e-12, atol=1e-13)

    def theirs(*ts: torch.Tensor) -> torch.Tensor:
        ts = torch.broadcast_tensors(*ts) if subscripts == "ij,ij->ij" else ts
        return torch.einsum(subscripts.replace(" ", ""), *ts) ** 2

    matches_torch(lambda *ts: ops.einsum(subscripts, *ts) ** 2, theirs, arrays)


def test_einsum_gradient_of_one_operand_only_and_large_operands() -> None:
    a, b = normal((40, 60), 1), normal((60, 70), 2)  # big enough for numpy's optimized path
    x = Tensor(a)
    w = Tensor(b, requires_grad=True)
    ops.einsum("ij,jk->ik", x, w).sum().backward()
    assert w.grad is not None
    np.testing.assert_allclose(w.grad, a.sum(axis=0)[:, None] * np.ones((1, 70)), rtol=1e-12)


# ----------------------------------------------------------------------------- float32


FLOAT32_OPS: list[Callable[[Tensor], Tensor]] = [
    lambda t: t.relu(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.abs().sqrt(),
    lambda t: t.sin(), lambda t: t.cos(), lambda t: t.softmax(), lambda t: t.log_softmax(0),
    lambda t: t.min(axis=0), lambda t: t.prod(axis=1), lambda t: t.var(ddof=1),
    lambda t: t.std(axis=1), lambda t: t.clip(-0.5, 0.5), lambda t: t.cumsum(axis=1),
    lambda t: ops.minimum(t, 0.0), lambda t: ops.concatenate([t, t]), lambda t: ops.stack([t, t]),
    lambda t: ops.einsum("ij,kj->ik", t, t), lambda t: ops.expand_dims(t, 1).squeeze(1),
]


@pytest.mark.parametrize("op", FLOAT32_OPS)
def test_float32_stays_float32(op: Callable[[Tensor], Tensor]) -> None:
    x = Tensor(normal((3, 4), 8).astype(np.float32), requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    (g,) = tg.grad(op(x).sum(), [x], create_graph=True)
    assert g is not None and g.dtype == np.float32


# ----------------------------------------------------------------------------- errors

REDUCTIONS_WITH_KEEPDIMS = ["sum", "mean", "max", "min", "prod", "var", "std", "argmax", "argmin"]
WITH_AXIS_ONLY = ["cumsum", "softmax", "log_softmax", "squeeze"]


@pytest.mark.parametrize("method", REDUCTIONS_WITH_KEEPDIMS + WITH_AXIS_ONLY)
def test_pytorch_dim_keyword_gets_an_error_naming_axis(method: str) -> None:
    x = Tensor(np.ones((2, 1)), requires_grad=True)
    with pytest.raises(TypeError, match=rf"^{method}: unexpected keyword argument dim=1; .*axis="):
        getattr(x, method)(dim=1)


@pytest.mark.parametrize("method", REDUCTIONS_WITH_KEEPDIMS)
def test_pytorch_keepdim_keyword_gets_an_error_naming_keepdims(method: str) -> None:
    with pytest.raises(TypeError, match=rf"^{method}: unexpected keyword argument keepdim=True; "
                                        r".*keepdims="):
        getattr(Tensor(np.ones((2, 3))), method)(axis=0, keepdim=True)


@pytest.mark.parametrize("keyword", ["correction", "unbiased"])
def test_pytorch_variance_keywords_get_an_error_naming_ddof(keyword: str) -> None:
    with pytest.raises(TypeError, match=r"^var: .*ddof="):
        Tensor(np.ones(3)).var(**{keyword: 1})


@pytest.mark.parametrize("function", [ops.concatenate, ops.stack])
def test_joining_functions_refuse_dim(function: Callable[..., Any]) -> None:
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=rf"^{function.__name__}: .*dim=1; .*axis="):
        function([x, x], dim=1)
    with pytest.raises(TypeError, match=r"^expand_dims: .*dim=0; .*axis="):
        ops.expand_dims(x, dim=0)


def test_reshape_and_flatten_refuse_keywords_clearly() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"^reshape: .*positionally"):
        x.reshape(shape=(3, 2))
    with pytest.raises(TypeError, match=r"^flatten: unexpected keyword argument start_dim=1"):
        x.flatten(start_dim=1)


BAD_AXES = [
    ("Min", lambda x: x.min(axis=2)),
    ("Prod", lambda x: x.prod(axis=(0, 5))),
    ("Var", lambda x: x.var(axis=-3)),
    ("Std", lambda x: x.std(axis=2)),
    ("Cumsum", lambda x: x.cumsum(axis=2)),
    ("Softmax", lambda x: x.softmax(axis=2)),
    ("LogSoftmax", lambda x: x.log_softmax(axis=-3)),
    ("argmax", lambda x: x.argmax(axis=2)),
    ("argmin", lambda x: x.argmin(axis=-3)),
    ("squeeze", lambda x: x.squeeze(axis=2)),
    ("expand_dims", lambda x: ops.expand_dims(x, 3)),
    ("concatenate", lambda x: ops.concatenate([x, x], axis=2)),
    ("stack", lambda x: ops.stack([x, x], axis=4)),
]


@pytest.mark.parametrize("name, call", BAD_AXES, ids=[b[0] for b in BAD_AXES])
def test_bad_axes_name_the_op_and_the_shape(name: str, call: Callable[[Tensor], Any]) -> None:
    x = Tensor(normal((2, 3)), requires_grad=True)
    before = x.data.copy()
    with pytest.raises(ValueError, match=rf"^{name}: .*axis") as caught:
        call(x)
    assert "(2, 3)" in str(caught.value)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


BAD_VALUES: list[tuple[str, type[Exception], str, Callable[[Tensor], Any]]] = [
    ("squeeze-size", ValueError, r"^squeeze: axis 1 has size 3 \(shape \(2, 3\)\)",
     lambda x: x.squeeze(1)),
    ("concatenate-shapes", ValueError,
     r"^concatenate: .*except along axis 0; input 0 has shape \(2, 3\), input 1 has shape \(2, 2\)",
     lambda x: ops.concatenate([x, x[:, :2]])),
    ("concatenate-0d", ValueError, r"^concatenate: 0-d", lambda x: ops.concatenate([x.sum()])),
    ("concatenate-empty", ValueError, r"^concatenate: needs at least one", lambda x: ops.concatenate([])),
    ("concatenate-a-tensor", TypeError, r"^concatenate: pass a list or tuple",
     lambda x: ops.concatenate(x)),  # type: ignore[arg-type]
    ("stack-shapes", ValueError, r"^stack: .*of one shape; input 0 has shape \(2, 3\), input 1 has "
     r"shape \(3, 2\)", lambda x: ops.stack([x, x.T])),
    ("minimum-shapes", ValueError, r"^Minimum: .*\(2, 3\).*\(2,\)",
     lambda x: ops.minimum(x, np.ones(2))),
    ("clip-no-bounds", ValueError, r"^clip: give min, max or both", lambda x: x.clip()),
    ("clip-tensor-bound", TypeError, r"^clip: min must be a number.*maximum",
     lambda x: x.clip(Tensor(0.0), 1.0)),
    ("clip-nan", ValueError, r"^clip: max must not be NaN", lambda x: x.clip(0.0, float("nan"))),
    ("var-ddof", ValueError, r"^Var: ddof=3 leaves no degrees of freedom: each result reduces 3",
     lambda x: x.var(axis=1, ddof=3)),
    ("std-ddof-type", TypeError, r"^Std: ddof must be an int", lambda x: x.std(ddof=0.5)),
    ("einsum-diagonal", ValueError, r"^einsum: index 'i' repeats inside operand 0 .*not supported",
     lambda x: ops.einsum("ii->i", x[:, :2])),
    ("einsum-count", ValueError, r"^einsum: the subscripts 'ij,jk->ik' name 2 operand\(s\), but 1",
     lambda x: ops.einsum("ij,jk->ik", x)),
    ("einsum-sizes", ValueError, r"^einsum: index 'j' has size 3 in operand 0 \(shape \(2, 3\)\) "
     r"but 2 in operand 1", lambda x: ops.einsum("ij,jk->ik", x, x)),
    ("einsum-rank", ValueError, r"^einsum: operand 0 has 2 axes but its subscripts 'ijk' name 3",
     lambda x: ops.einsum("ijk->i", x)),
    ("einsum-output", ValueError, r"^einsum: the output index 'z'", lambda x: ops.einsum("ij->z", x)),
    ("einsum-letters", ValueError, r"^einsum: .*'1'", lambda x: ops.einsum("i1->i", x)),
    ("einsum-not-a-string", TypeError, r"^einsum: the first argument must be the subscripts",
     lambda x: ops.einsum(x, x)),  # type: ignore[arg-type]
    ("argmax-empty", ValueError, r"^argmax: ", lambda x: x[:0].argmax()),
]


@pytest.mark.parametrize("label, error, pattern, call", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_input_gets_an_error_naming_the_op(
    label: str, error: type[Exception], pattern: str, call: Callable[[Tensor], Any]
) -> None:
    x = Tensor(normal((2, 3)), requires_grad=True)
    before = x.data.copy()
    with pytest.raises(error, match=pattern):
        call(x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


# ----------------------------------------------------------------------------- drawing


def test_every_new_op_is_drawn_with_its_name_and_settings() -> None:
    x = Tensor(np.abs(normal((3, 4), 9)) + 0.1, requires_grad=True, name="x")
    parts = [
        x.relu(), x.tanh(), x.sigmoid(), x.sqrt(), x.sin(), x.cos(), x.clip(0.2, 0.8),
        ops.minimum(x, 0.5), x.softmax(axis=0), x.log_softmax(),
    ]
    h = ops.stack(parts).sum(axis=0)
    h = ops.concatenate([h, x], axis=1)  # (3, 8)
    h = ops.einsum("ij,kj->ik", h, h)  # (3, 3)
    loss = (h.min(axis=0).prod() + h.var(ddof=1) + h.std() + h.cumsum(axis=1).sum()
            + ops.expand_dims(h, 0).squeeze(0).flatten().sum())
    source = tg.draw_graph(loss).source
    for name in ("Relu", "Tanh", "Sigmoid", "Sqrt", "Sin", "Cos", "Clip", "Minimum", "Softmax",
                 "LogSoftmax", "Stack", "Concatenate", "Einsum", "Min", "Prod", "Var", "Std",
                 "Cumsum", "Reshape"):
        assert f"<b>{name}</b>" in source, name
    assert "subscripts='ij,kj-&gt;ik'" in source  # settings are drawn under the op's name
    assert "ddof=1" in source and "min=0.2, max=0.8" in source and "axis=0" in source
