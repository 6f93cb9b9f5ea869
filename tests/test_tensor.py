"""Tensor itself: construction, dtypes, array-like properties, repr, in-place changes."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# ------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "data, shape, dtype",
    [
        ([1.0, 2.0, 3.0], (3,), np.float64),
        ([[1.0, 2.0], [3.0, 4.0]], (2, 2), np.float64),
        (2.5, (), np.float64),
        (np.float32(2.5), (), np.float32),
        (np.arange(6, dtype=np.float32).reshape(2, 3), (2, 3), np.float32),
        (np.arange(6, dtype=np.float64), (6,), np.float64),
        ([1, 2, 3], (3,), np.int64),  # integer data is fine as long as it asks for no grad
        ([True, False], (2,), np.bool_),
        (np.zeros((0, 3)), (0, 3), np.float64),
    ],
)
def test_construction_keeps_shape_and_dtype(data: Any, shape: tuple, dtype: Any) -> None:
    t = Tensor(data)
    assert isinstance(t.data, np.ndarray)
    assert t.shape == shape and t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data))
    assert t.grad is None and t.grad_fn is None and t.is_leaf and not t.requires_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_data_may_require_grad_and_keeps_its_dtype(dtype: Any) -> None:
    t = Tensor(np.ones(3, dtype=dtype), requires_grad=True)
    assert t.requires_grad and t.dtype == dtype


def test_dtype_argument_converts() -> None:
    t = Tensor([1, 2], dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad


def test_construction_copies_a_source_array() -> None:
    source = np.array([1.0, 2.0, 3.0])
    t = Tensor(source)
    source[0] = 100.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])
    assert not np.shares_memory(t.data, source)


def test_construction_from_a_tensor_copies_its_data() -> None:
    original = Tensor([1.0, 2.0], requires_grad=True, name="w")
    copy = Tensor(original)
    original.add_(10.0)
    np.testing.assert_array_equal(copy.data, [1.0, 2.0])
    assert not copy.requires_grad and copy.grad_fn is None


def test_construction_from_a_float32_tensor_keeps_float32() -> None:
    assert Tensor(Tensor(np.ones(2, dtype=np.float32))).dtype == np.float32


@pytest.mark.parametrize(
    "data, dtype_text",
    [
        ([1, 2, 3], "int64"),
        (np.arange(3, dtype=np.int32), "int32"),
        ([True, False], "bool"),
        (7, "int64"),
    ],
)
def test_integer_or_bool_data_cannot_require_grad(data: Any, dtype_text: str) -> None:
    with pytest.raises(TypeError, match=f"only floating-point data can require grad.*{dtype_text}"):
        Tensor(data, requires_grad=True)


def test_the_requires_grad_error_names_the_tensor() -> None:
    with pytest.raises(TypeError, match="'labels'"):
        Tensor([0, 1], requires_grad=True, name="labels")


@pytest.mark.parametrize(
    "data",
    [
        "abc",
        ["a", "b"],
        np.array(["x", "y"]),
        np.array([1.0, None], dtype=object),
        None,
        {"a": 1.0},
        [1.0, [2.0, 3.0]],  # ragged
        [1.0, "two"],
        object(),
    ],
    ids=["str", "strs", "str array", "object array", "None", "dict", "ragged", "mixed", "object"],
)
def test_non_numeric_data_is_a_type_error(data: Any) -> None:
    with pytest.raises(TypeError, match="^Tensor:"):
        Tensor(data)


# ------------------------------------------------------------------------- array-like properties


def test_shape_ndim_size_dtype() -> None:
    t = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3, 4), 3, 24, np.float32)
    s = Tensor(1.0)
    assert (s.shape, s.ndim, s.size) == ((), 0, 1)


def test_numpy_returns_the_data() -> None:
    t = Tensor([1.0, 2.0])
    assert t.numpy() is t.data


@pytest.mark.parametrize(
    "data, value", [(2.5, 2.5), ([[4.0]], 4.0), (np.float32(1.5), 1.5), (3, 3)]
)
def test_item_of_a_one_element_tensor(data: Any, value: Any) -> None:
    item = Tensor(data).item()
    assert item == value and type(item) is type(value)


def test_item_of_a_multi_element_tensor_is_a_value_error_naming_the_shape() -> None:
    with pytest.raises(ValueError, match=r"item.*one-element.*\(2, 3\)"):
        Tensor(np.zeros((2, 3))).item()


def test_detach_shares_data_and_leaves_the_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.data is y.data
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    z = d * 2.0
    assert z.grad_fn is None and not z.requires_grad


def test_array_protocol() -> None:
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    as_array = np.asarray(t)
    np.testing.assert_array_equal(as_array, t.data)
    assert as_array.dtype == np.float64
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t, copy=True)
    copied[0, 0] = -1.0
    assert t.data[0, 0] == 1.0
    np.testing.assert_array_equal(np.stack([t, t])[1], t.data)  # numpy functions accept it


def test_len() -> None:
    assert len(Tensor(np.zeros((4, 2)))) == 4
    assert len(Tensor([1.0, 2.0, 3.0])) == 3
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


@pytest.mark.parametrize(
    "data, truth", [(0.0, False), (2.0, True), ([0.0], False), ([[3.0]], True)]
)
def test_truth_value_of_a_one_element_tensor_is_its_value_as_in_numpy(
    data: Any, truth: bool
) -> None:
    assert bool(Tensor(data)) is truth


def test_truth_value_of_a_multi_element_tensor_is_ambiguous() -> None:
    with pytest.raises((ValueError, TypeError), match="ambiguous|one-element"):
        bool(Tensor([1.0, 2.0]))


def test_repr_shows_values_op_name_and_grad() -> None:
    w = Tensor([1.5, -2.0], requires_grad=True, name="w")
    leaf_text = repr(w)
    for part in ("1.5", "-2.", "name='w'", "requires_grad=True"):
        assert part in leaf_text, leaf_text
    assert ", grad=" not in leaf_text

    y = w * 2.0
    assert "op=Mul" in repr(y) and "3." in repr(y)
    y.backward(np.array([1.0, 1.0]))
    assert "grad=[2., 2.]" in repr(w)
    assert "float32" in repr(Tensor(np.ones(2, dtype=np.float32)))


def test_repr_of_a_large_tensor_is_summarized() -> None:
    assert "..." in repr(Tensor(np.arange(1000.0)))


# ------------------------------------------------------------------------- dtypes through ops

# Every op, on float32 inputs (and Python scalars, which must not promote).
OPS_ON_FLOATS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "radd scalar": lambda a, b: 2.0 + a,
    "sub": lambda a, b: a - b,
    "rsub scalar": lambda a, b: 1.0 - a,
    "mul": lambda a, b: a * b,
    "mul scalar": lambda a, b: a * 0.5,
    "div": lambda a, b: a / b,
    "rdiv scalar": lambda a, b: 1.0 / a,
    "neg": lambda a, b: -a,
    "pow": lambda a, b: a**2,
    "pow fractional": lambda a, b: a**1.5,
    "matmul": lambda a, b: a @ b.T,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(),
    "abs": lambda a, b: a.abs(),
    "sum": lambda a, b: a.sum(axis=0),
    "mean": lambda a, b: a.mean(axis=1, keepdims=True),
    "max all": lambda a, b: a.max(),
    "max axis": lambda a, b: a.max(axis=1),
    "maximum": lambda a, b: tg.maximum(a, b),
    "maximum scalar": lambda a, b: tg.maximum(a, 1.0),
    "reshape": lambda a, b: a.reshape(-1),
    "transpose": lambda a, b: a.T,
    "getitem slice": lambda a, b: a[1:, ::-1],
    "getitem array": lambda a, b: a[np.array([0, 0, 1])],
}


def _float_inputs(dtype: Any) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    a = Tensor(rng.uniform(0.5, 2.0, size=(2, 3)).astype(dtype), requires_grad=True)
    b = Tensor(rng.uniform(0.5, 2.0, size=(2, 3)).astype(dtype), requires_grad=True)
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPS_ON_FLOATS))
def test_float_dtype_is_kept_by_forward_and_leaf_gradients(name: str, dtype: Any) -> None:
    a, b = _float_inputs(dtype)
    out = OPS_ON_FLOATS[name](a, b)
    assert out.dtype == dtype
    out.backward(np.ones(out.shape, dtype=dtype))
    for leaf in (a, b):
        assert leaf.grad is None or leaf.grad.dtype == dtype


@pytest.mark.parametrize("name", list(OPS_ON_FLOATS))
def test_every_backward_computes_in_float32_for_float32_inputs(name: str) -> None:
    """The gradient an op's backward passes on is float32 too, not a silently promoted
    float64 that the leaves cast back (twice the memory and time in a float32 model)."""
    a, b = _float_inputs(np.float32)
    out = OPS_ON_FLOATS[name](a, b)
    node = out.grad_fn
    grads = node.fn.backward(node, np.ones(out.shape, dtype=np.float32))
    grads = grads if isinstance(grads, tuple) else (grads,)
    dtypes = [g.dtype for g in grads if g is not None]
    assert dtypes and all(d == np.float32 for d in dtypes), f"{node.name} returned {dtypes}"


# ------------------------------------------------------------------------- in-place changes

IN_PLACE = {
    "add_": (lambda t, v: t.add_(v), np.add),
    "sub_": (lambda t, v: t.sub_(v), np.subtract),
    "mul_": (lambda t, v: t.mul_(v), np.multiply),
    "copy_": (lambda t, v: t.copy_(v), lambda old, v: np.broadcast_to(v, old.shape)),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
@pytest.mark.parametrize(
    "value",
    [2.0, np.array([1.0, 2.0, 3.0]), np.full((2, 3), -0.5), Tensor([[1.0], [2.0]])],
    ids=["scalar", "broadcast row", "same shape", "broadcast Tensor"],
)
def test_in_place_ops_change_data_return_self_and_bump_the_version(name: str, value: Any) -> None:
    change, reference = IN_PLACE[name]
    start = np.arange(6.0).reshape(2, 3)
    t = Tensor(start, requires_grad=True)
    data_before = t.data
    assert t.version == 0
    assert change(t, value) is t
    plain_value = value.data if isinstance(value, Tensor) else value
    np.testing.assert_array_equal(t.data, reference(start, plain_value))
    assert t.data is data_before  # really in place: views of the data see the change
    first = t.version
    assert first > 0
    change(t, value)
    assert t.version > first


def test_versions_are_per_tensor() -> None:
    a, b = Tensor([1.0]), Tensor([1.0])
    a.add_(1.0)
    assert a.version > 0 and b.version == 0


@pytest.mark.parametrize("name", list(IN_PLACE))
@pytest.mark.parametrize(
    "value",
    [np.ones(4), np.ones((3, 3)), np.ones((2, 2, 3))],
    ids=["wrong length", "wrong rows", "would grow"],
)
def test_in_place_with_an_incompatible_shape_is_a_value_error_and_changes_nothing(
    name: str, value: np.ndarray
) -> None:
    change, _ = IN_PLACE[name]
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="w")
    t.grad = np.ones((2, 3))
    with pytest.raises(ValueError, match=rf"^{name}:.*{value.shape}.*'w'.*\(2, 3\)"):
        change(t, value)
    np.testing.assert_array_equal(t.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))
    assert t.version == 0


def test_in_place_float_into_an_integer_tensor_is_a_type_error_and_changes_nothing() -> None:
    t = Tensor([1, 2, 3])
    with pytest.raises(TypeError, match="^add_:.*int64"):
        t.add_(0.5)
    np.testing.assert_array_equal(t.data, [1, 2, 3])
    assert t.version == 0


def test_in_place_ops_record_no_graph() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.sub_(Tensor([0.5, 0.5], requires_grad=True))
    assert w.is_leaf and w.grad_fn is None


def test_float_and_int_of_a_one_element_tensor() -> None:
    assert float(Tensor(2.5)) == 2.5 and int(Tensor([3.0])) == 3
    with pytest.raises(ValueError, match="one-element"):
        float(Tensor([1.0, 2.0]))


def test_operators_carry_their_own_names_and_docs() -> None:
    # They are made by small factories; help(Tensor.__radd__) must still say what it is.
    for name in ("__add__", "__radd__", "__lt__", "__iadd__", "exp", "relu", "__neg__"):
        method = getattr(Tensor, name)
        assert method.__name__ == name and method.__qualname__ == f"Tensor.{name}"
        assert method.__doc__
    assert "other + self" in (Tensor.__radd__.__doc__ or "")
