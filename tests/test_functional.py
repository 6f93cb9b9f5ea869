"""tinygrad_edu.functional against torch.autograd.functional at float64: the same values and the
same return conventions (a Tensor where a Tensor was given, tuples where tuples were, nested
tuples for Jacobians and Hessians), create_graph results that differentiate again like
PyTorch's, strict mode, v's defaults, and clear errors for what is not supported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tinygrad_edu as tg
import torch
import torch.autograd.functional as TF
from tinygrad_edu import Tensor
from tinygrad_edu import functional as F

RNG = np.random.default_rng(1234)

# --------------------------------------------------------------------------- helpers


def both(*arrays: np.ndarray, requires_grad: bool = False) -> tuple[tuple[Tensor, ...],
                                                                     tuple[torch.Tensor, ...]]:
    ours = tuple(Tensor(a.copy(), requires_grad=requires_grad) for a in arrays)
    theirs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)
                   for a in arrays)
    return ours, theirs


def same(ours: Any, theirs: Any, path: str = "result") -> None:
    """Same nesting (Tensor vs tuple), shapes, dtype float64 and values (to 1e-12)."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple), f"{path}: expected a tuple, got {type(ours).__name__}"
        assert len(ours) == len(theirs), f"{path}: {len(ours)} entries, torch {len(theirs)}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{path}[{k}]")
        return
    assert isinstance(ours, Tensor), f"{path}: expected a Tensor, got {type(ours).__name__}"
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape, f"{path}: shape {ours.shape} != {expected.shape}"
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.data, expected, rtol=1e-12, atol=1e-12, err_msg=path)


def flat(result: Any) -> list[Tensor]:
    if isinstance(result, tuple):
        return [t for item in result for t in flat(item)]
    return [result]


# Functions written once for both libraries (operators and methods they share).
def cube_sum(x: Any) -> Any:
    return (x**3).sum()


def scalar_of_two(x: Any, y: Any) -> Any:
    return ((x @ y).exp().sum() * (y * y).sum()).log()


def two_outputs(x: Any) -> Any:
    return x.exp() * x, (x * x).sum()


def product(x: Any, y: Any) -> Any:
    return x * y


def matrix_and_sum(x: Any, y: Any) -> Any:
    return x @ y, (x**2).sum() * y


X23 = RNG.uniform(-1, 1, (2, 3))
Y3 = RNG.uniform(0.5, 1.5, 3)
V3 = RNG.standard_normal(3)
V23 = RNG.standard_normal((2, 3))
V2 = RNG.standard_normal(2)

# --------------------------------------------------------------------------- values and shapes

NO_V = object()  # jacobian and hessian take no v

# (function, its name, inputs, v): single Tensors and tuples on both sides, v left out where
# it has one element (None), the same functions across the six products.
CASES = [
    ("vjp", cube_sum, (X23,), None),
    ("vjp", scalar_of_two, (X23, Y3), None),
    ("vjp", two_outputs, (Y3,), (V3, np.array(0.7))),
    ("vjp", product, (Y3, V3), V3),
    ("vjp", matrix_and_sum, (X23, Y3), (V2, V3)),
    ("jvp", cube_sum, (X23,), V23),
    ("jvp", scalar_of_two, (X23, Y3), (V23, V3)),
    ("jvp", two_outputs, (Y3,), V3),
    ("jvp", product, (Y3, V3), (V3, Y3)),
    ("jvp", matrix_and_sum, (X23, Y3), (V23, V3)),
    ("jvp", cube_sum, (np.array([0.8]),), None),
    ("jacobian", cube_sum, (X23,), NO_V),
    ("jacobian", scalar_of_two, (X23, Y3), NO_V),
    ("jacobian", two_outputs, (Y3,), NO_V),
    ("jacobian", product, (Y3, V3), NO_V),
    ("jacobian", matrix_and_sum, (X23, Y3), NO_V),
    ("jacobian", lambda x: x.exp(), (X23,), NO_V),
    ("hessian", cube_sum, (X23,), NO_V),
    ("hessian", scalar_of_two, (X23, Y3), NO_V),
    ("hessian", lambda x: (x * x).sum() * 3.0, (Y3,), NO_V),
    ("hessian", lambda x, y: (x**2).sum() + y.exp().sum(), (Y3, X23), NO_V),
    *[(which, fn, arrays, v) for which in ("hvp", "vhp") for fn, arrays, v in [
        (cube_sum, (X23,), V23),
        (scalar_of_two, (X23, Y3), (V23, V3)),
        (cube_sum, (np.array([0.8]),), None),
    ]],
]


def case_id(case: tuple[Any, ...]) -> str:
    which, fn, arrays, v = case
    v_text = "-default-v" if v is None else ""
    shapes = ",".join("x".join(map(str, a.shape)) or "0d" for a in arrays)
    return f"{which}-{getattr(fn, '__name__', 'fn').replace('<lambda>', 'lambda')}-{shapes}{v_text}"


def as_vector(v: Any, make: Callable[[np.ndarray], Any]) -> Any:
    if v is None:
        return None
    return tuple(make(a) for a in v) if isinstance(v, tuple) else make(v)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(case: tuple[Any, ...], create_graph: bool) -> None:
    """The same call to tinygrad_edu.functional and torch.autograd.functional gives the same
    nesting, shapes and values."""
    which, fn, arrays, v = case
    inputs, t_inputs = both(*arrays)
    ours_args: list[Any] = [inputs if len(arrays) > 1 else inputs[0]]
    torch_args: list[Any] = [t_inputs if len(arrays) > 1 else t_inputs[0]]
    if v is not NO_V:
        ours_args.append(as_vector(v, Tensor))
        torch_args.append(as_vector(v, torch.tensor))
    same(getattr(F, which)(fn, *ours_args, create_graph=create_graph),
         getattr(TF, which)(fn, *torch_args, create_graph=create_graph))


def test_hvp_equals_the_hessian_times_v() -> None:
    x = Tensor(X23)
    H = F.hessian(scalar_of_two_single, x).data.reshape(6, 6)
    _, hv = F.hvp(scalar_of_two_single, x, Tensor(V23))
    np.testing.assert_allclose(hv.data.reshape(-1), H @ V23.reshape(-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)


def scalar_of_two_single(x: Any) -> Any:
    return scalar_of_two(x, Tensor(Y3) if isinstance(x, Tensor) else torch.tensor(Y3))


def test_the_lecture_cube_has_derivatives_3_6_6_at_one() -> None:
    theta = Tensor([1.0])
    assert F.jacobian(lambda t: t**3, theta).data.tolist() == [[3.0]]
    assert F.hessian(lambda t: (t**3).sum(), theta).data.tolist() == [[6.0]]
    third = F.jacobian(lambda t: F.hessian(lambda s: (s**3).sum(), t, create_graph=True)
                       .reshape(1), theta)
    assert third.data.tolist() == [[6.0]]


# --------------------------------------------------------------------------- create_graph


def test_without_create_graph_everything_returned_is_detached() -> None:
    x = Tensor(X23.copy(), requires_grad=True)
    out, g = F.vjp(cube_sum, x)
    assert not out.requires_grad and not g.requires_grad
    assert not F.jacobian(lambda t: t.exp(), x).requires_grad
    assert not F.hessian(cube_sum, x).requires_grad
    out, hv = F.hvp(cube_sum, x, Tensor(V23))
    assert not out.requires_grad and not hv.requires_grad
    assert x.grad is None


@pytest.mark.parametrize("which", ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"])
def test_create_graph_results_differentiate_again_like_torch(which: str) -> None:
    """Each result, differentiated with respect to the given inputs (which require grad),
    gives PyTorch's derivative: the results stay connected to the caller's tensors."""
    (x, y), (tx, ty) = both(X23, Y3, requires_grad=True)
    vs, tvs = both(V23, V3, V2)

    def run(lib: Any, xs: tuple[Any, ...], v: tuple[Any, ...]) -> Any:
        fn = scalar_of_two if which not in ("jvp", "vjp") else matrix_and_sum
        if which == "vjp":
            return lib.vjp(fn, xs, (v[2], v[1]), create_graph=True)[1]
        if which in ("jvp", "hvp", "vhp"):
            return getattr(lib, which)(fn, xs, v[:2], create_graph=True)[1]
        return getattr(lib, which)(fn, xs, create_graph=True)

    ours = flat(run(F, (x, y), vs))
    theirs = flat(run(TF, (tx, ty), tvs))
    weights = [RNG.standard_normal(t.shape) for t in theirs]
    assert all(t.requires_grad for t in ours)
    total = sum((t * w).sum() for t, w in zip(ours, weights))
    t_total = sum((t * torch.tensor(w)).sum() for t, w in zip(theirs, weights))
    same(tg.grad(total, (x, y), allow_unused=True, materialize_grads=True),
         torch.autograd.grad(t_total, (tx, ty), allow_unused=True, materialize_grads=True))
    assert x.grad is None and y.grad is None


def test_create_graph_with_v_requiring_grad_differentiates_through_v() -> None:
    (x,), (tx,) = both(X23)
    (v,), (tv,) = both(V23, requires_grad=True)
    _, g = F.jvp(lambda t: (t.exp() * t).sum(), x, v, create_graph=True)
    _, tg_ = TF.jvp(lambda t: (t.exp() * t).sum(), tx, tv, create_graph=True)
    same(tg.grad(g, v), torch.autograd.grad(tg_, tv))
    _, hv = F.hvp(cube_sum, x, v, create_graph=True)
    _, thv = TF.hvp(cube_sum, tx, tv, create_graph=True)
    w = RNG.standard_normal(X23.shape)
    same(tg.grad((hv * Tensor(w)).sum(), v),
         torch.autograd.grad((thv * torch.tensor(w)).sum(), tv))


def test_func_sees_fresh_tensors_so_a_captured_tensor_is_a_constant() -> None:
    x = Tensor(Y3.copy(), requires_grad=True)
    J = F.jacobian(lambda t: t * x, x)  # d/dt (t * x) = diag(x): the captured x is constant
    np.testing.assert_array_equal(J.data, np.diag(Y3))


def test_a_captured_input_stays_constant_in_second_derivatives() -> None:
    """func's argument holds a copy of the input's values: an engine that tells saved arrays
    apart by identity cannot mistake the captured tensor for the argument (x * t, not t * x)."""
    x, tx = Tensor(Y3.copy()), torch.tensor(Y3)
    same(F.hessian(lambda t: (x * t * t).sum(), x), TF.hessian(lambda t: (tx * t * t).sum(), tx))
    same(F.hessian(lambda t: (x * t).sum(), x), TF.hessian(lambda t: (tx * t).sum(), tx))
    y = Tensor(Y3.copy(), requires_grad=True)
    ty = torch.tensor(Y3, requires_grad=True)
    same(F.hessian(lambda t: (y * t).exp().sum(), y, create_graph=True),
         TF.hessian(lambda t: (ty * t).exp().sum(), ty, create_graph=True))


def test_a_float32_input_gives_float32_results() -> None:
    x = Tensor(X23.astype(np.float32))
    assert F.jacobian(lambda t: t.exp(), x).dtype == np.float32
    assert F.hessian(cube_sum, x).dtype == np.float32
    _, hv = F.hvp(cube_sum, x, Tensor(V23))
    assert hv.dtype == np.float32


def test_an_empty_output_has_an_empty_jacobian() -> None:
    J = F.jacobian(lambda t: t[2:] * 2.0, Tensor([1.0, 2.0]))
    assert J.shape == (0, 2)


# --------------------------------------------------------------------------- independence, strict


def test_an_input_the_output_ignores_gets_zeros_like_torch() -> None:
    (x, y), (tx, ty) = both(Y3, V3)
    same(F.jacobian(lambda a, b: a.exp(), (x, y)), TF.jacobian(lambda a, b: a.exp(), (tx, ty)))
    same(F.vjp(lambda a, b: (a * a).sum(), (x, y)), TF.vjp(lambda a, b: (a * a).sum(), (tx, ty)))
    same(F.hessian(lambda a, b: (a * 2.0).sum(), (x, y)),
         TF.hessian(lambda a, b: (a * 2.0).sum(), (tx, ty)))
    same(F.hvp(lambda a, b: (a**3).sum(), (x, y), (Tensor(V3), Tensor(Y3))),
         TF.hvp(lambda a, b: (a**3).sum(), (tx, ty), (torch.tensor(V3), torch.tensor(Y3))))
    same(F.jvp(lambda a: (a * 0.0 + 1.0, a.exp()), x, Tensor(V3)),
         TF.jvp(lambda a: (a * 0.0 + 1.0, a.exp()), tx, torch.tensor(V3)))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, y: lib.jacobian(lambda a, b: a.exp(), (x, y), strict=True),
        lambda lib, x, y: lib.vjp(lambda a, b: (a * a).sum(), (x, y), strict=True),
        lambda lib, x, y: lib.jvp(lambda a, b: a.exp(), (x, y), (x, y), strict=True),
        lambda lib, x, y: lib.hessian(lambda a, b: (a**3).sum(), (x, y), strict=True),
        lambda lib, x, y: lib.hessian(lambda a: (a * 2.0).sum(), x, strict=True),
        lambda lib, x, y: lib.hvp(lambda a, b: (a**3).sum(), (x, y), (x, y), strict=True),
        lambda lib, x, y: lib.vhp(lambda a: (a * 2.0).sum(), x, x, strict=True),
        lambda lib, x, y: lib.jacobian(lambda a: a * 2.0, x, strict=True, create_graph=True),
        lambda lib, x, y: lib.vjp(lambda a: y * 2.0, x, x, strict=True),
    ],
    ids=["jacobian-unused", "vjp-unused", "jvp-unused", "hessian-unused", "hessian-linear",
         "hvp-unused", "vhp-linear", "jacobian-constant", "constant-output"],
)
def test_strict_refuses_what_torch_refuses(call: Callable[..., Any]) -> None:
    (x, y), (tx, ty) = both(Y3, V3)
    with pytest.raises(RuntimeError):
        call(TF, tx, ty)
    with pytest.raises(ValueError, match="strict=True"):
        call(F, x, y)


def test_strict_accepts_a_function_of_every_input() -> None:
    (x, y), (tx, ty) = both(X23, Y3)
    same(F.hessian(scalar_of_two, (x, y), strict=True, create_graph=True),
         TF.hessian(scalar_of_two, (tx, ty), strict=True, create_graph=True))
    same(F.jvp(product, (Tensor(Y3), Tensor(V3)), (Tensor(V3), Tensor(Y3)), strict=True),
         TF.jvp(product, (torch.tensor(Y3), torch.tensor(V3)),
                (torch.tensor(V3), torch.tensor(Y3)), strict=True))


# --------------------------------------------------------------------------- v and arguments


def test_v_may_be_left_out_only_for_one_element() -> None:
    _, g = F.vjp(lambda t: (t * t).sum(), Tensor(Y3))
    np.testing.assert_allclose(g.data, 2 * Y3)
    _, d = F.jvp(lambda t: t * 3.0, Tensor([2.0]))
    np.testing.assert_array_equal(d.data, [3.0])
    with pytest.raises(ValueError, match=r"vjp: v can be left out only when there is one output "
                                         r"with one element; the outputs have shape\(s\) \(3,\)"):
        F.vjp(lambda t: t * t, Tensor(Y3))
    with pytest.raises(ValueError, match="jvp: v can be left out only when there is one input"):
        F.jvp(lambda t: t * t, Tensor(Y3))
    with pytest.raises(ValueError, match="hvp: v can be left out"):
        F.hvp(cube_sum, Tensor(X23))


def test_v_of_the_wrong_shape_or_count_is_refused_with_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"vjp: v has shape \(2,\), but output 0 has shape \(3,\)"):
        F.vjp(lambda t: t * t, Tensor(Y3), Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"jvp: v\[1\] has shape \(2, 3\), but input 1 has shape \(3,\)"):
        F.jvp(product, (Tensor(Y3), Tensor(V3)), (Tensor(V3), Tensor(X23)))
    with pytest.raises(ValueError, match=r"hvp: v has 1 entries for 2 input\(s\)"):
        F.hvp(scalar_of_two, (Tensor(X23), Tensor(Y3)), (Tensor(V23),))
    with pytest.raises(TypeError, match="vjp: v must be an array of real numbers"):
        F.vjp(lambda t: t * t, Tensor(Y3), np.array(["a", "b", "c"]))


def test_v_may_be_a_numpy_array() -> None:
    _, ours = F.jvp(product, (Tensor(Y3), Tensor(V3)), (V3, Y3))
    np.testing.assert_allclose(ours.data, V3 * V3 + Y3 * Y3)  # y·dx + x·dy at x=Y3, y=V3


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.jacobian(cube_sum, Tensor(X23), vectorize=True), NotImplementedError,
         "jacobian: vectorize=True is not supported"),
        (lambda: F.hessian(cube_sum, Tensor(X23), vectorize=True), NotImplementedError,
         "hessian: vectorize=True is not supported"),
        (lambda: F.jacobian(cube_sum, Tensor(X23), strategy="forward-mode"), NotImplementedError,
         "jacobian: strategy='forward-mode' is not supported"),
        (lambda: F.hessian(cube_sum, Tensor(X23), outer_jacobian_strategy="forward-mode"),
         NotImplementedError, "hessian: outer_jacobian_strategy='forward-mode' is not supported"),
        (lambda: F.jacobian(cube_sum, Tensor(X23), strategy="sideways"), ValueError,
         "jacobian: strategy must be one of 'reverse-mode', got 'sideways'"),
        (lambda: F.jacobian(cube_sum, Tensor(X23), create_graph="yes"), TypeError,
         "jacobian: create_graph must be True or False, got str 'yes'"),
        (lambda: F.vjp(cube_sum, X23), TypeError,
         "vjp: inputs must be a Tensor or a tuple of Tensors, got ndarray"),
        (lambda: F.vjp(cube_sum, (Tensor(X23), 2.0)), TypeError,
         "vjp: inputs must be a Tensor or a tuple of Tensors, but item 1 is a float"),
        (lambda: F.vjp(lambda t: t.data.sum(), Tensor(X23)), TypeError,
         "vjp: the output of func must be a Tensor or a tuple of Tensors, got float64"),
        (lambda: F.jacobian(lambda t: t * 2, Tensor([1, 2])), TypeError,
         "jacobian: input 0 has dtype int64; only floating-point tensors"),
        (lambda: F.jacobian(lambda: Tensor(1.0), ()), ValueError, "jacobian: inputs is empty"),
        (lambda: F.jacobian("f", Tensor(X23)), TypeError, "jacobian: func must be callable"),
        (lambda: F.hessian(lambda t: t * t, Tensor(Y3)), ValueError,
         r"hessian: func must return a Tensor of one element, got shape \(3,\)"),
        (lambda: F.hvp(lambda t: (t.sum(), t.sum()), Tensor(Y3), Tensor(V3)), ValueError,
         "hvp: func must return a single Tensor"),
    ],
)
def test_bad_arguments_get_clear_errors(call: Callable[[], Any], error: type[Exception],
                                        message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_a_list_of_inputs_counts_as_a_tuple() -> None:
    J = F.jacobian(product, [Tensor(Y3), Tensor(V3)])
    assert isinstance(J, tuple) and len(J) == 2
    np.testing.assert_array_equal(J[0].data, np.diag(V3))


def test_functional_works_under_no_grad_and_leaves_grad_mode_alone() -> None:
    with tg.no_grad():
        H = F.hessian(cube_sum, Tensor(X23))
        assert not tg.is_grad_enabled()
    np.testing.assert_allclose(H.data.reshape(6, 6), np.diag(6 * X23.reshape(-1)))
