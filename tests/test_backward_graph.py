"""The backward walk: reused nodes, accumulation, retain_graph, errors, deep graphs, memory,
and in-place changes of tensors a graph saved."""

from __future__ import annotations

import gc
import re
import tracemalloc
from typing import Any, Callable

import numpy as np
import pytest
import torch
from helpers_fd import check_grads

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# ------------------------------------------------------------------------- reused nodes

# name -> (function of x, closed-form gradient of its sum)
REUSE: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray]]] = {
    # x -> a = 2x, b = x + 1 -> a * b: two paths from x meet again
    "diamond": (lambda x: (x * 2.0) * (x + 1.0), lambda x: 4 * x + 2),
    # y is used three times: twice by one op, once by another
    "y*y + y": (lambda x: (lambda y: y * y + y)(x * 3.0), lambda x: (2 * 3 * x + 1) * 3),
    "x + x": (lambda x: x + x, lambda x: np.full_like(x, 2.0)),
    "x * x": (lambda x: x * x, lambda x: 2 * x),
    "x in several branches": (
        lambda x: x * x * x + x.exp() + (x / 2.0 - x) + (x * 0.5).abs(),
        lambda x: 3 * x**2 + np.exp(x) - 0.5 + 0.5 * np.sign(x),
    ),
    "reused intermediate across levels": (
        lambda x: (lambda h: (h * h) * h + h.exp() * h)(x * 0.5 + 1.0),
        lambda x: (lambda h: (3 * h**2 + np.exp(h) * (1 + h)) * 0.5)(x * 0.5 + 1.0),
    ),
}


@pytest.mark.parametrize("name", list(REUSE))
def test_reused_nodes_sum_their_gradients(name: str) -> None:
    fn, closed_form = REUSE[name]
    x = np.random.default_rng(0).uniform(0.2, 1.5, size=(2, 3))
    t = Tensor(x, requires_grad=True)
    fn(t).sum().backward()
    np.testing.assert_allclose(t.grad, closed_form(x), rtol=1e-12)
    check_grads(fn, x)


def test_backward_neither_changes_nor_aliases_the_given_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0])
    (x + x).backward(g)
    (x + 0.0).backward(g)
    np.testing.assert_array_equal(g, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert not np.shares_memory(x.grad, g)


def test_backward_of_a_leaf_with_an_explicit_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([0.5, -1.0]))
    np.testing.assert_array_equal(x.grad, [0.5, -1.0])


def test_backward_of_a_one_element_non_scalar_implies_grad_one() -> None:
    x = Tensor([[2.0]], requires_grad=True)
    (x * 3.0).backward()
    np.testing.assert_array_equal(x.grad, [[3.0]])


# ------------------------------------------------------------------------- accumulation


def test_gradients_accumulate_across_backward_calls_like_pytorch() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()  # a second, separate graph
    np.testing.assert_array_equal(x.grad, [2.0 + 2.0, 2.0 + 4.0])
    x.zero_grad()
    assert x.grad is None
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_retain_graph_allows_a_second_backward() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    loss.backward()  # the last walk may free
    np.testing.assert_array_equal(x.grad, 3 * 2 * x.data)


def test_a_second_backward_without_retain_graph_raises_and_changes_no_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"Mul.*freed.*retain_graph=True"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_saved_arrays_are_freed_after_backward() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert len(node.saved_tensors) == 1  # kept
    y.sum().backward()
    assert node.freed
    with pytest.raises(RuntimeError, match=r"Exp.*retain_graph=True"):
        (saved,) = node.saved_tensors


def test_a_graph_whose_ops_saved_nothing_can_be_walked_twice_as_in_torch() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    loss = (a + b - 1.0).sum()
    loss.backward()
    loss.backward()
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = torch.tensor([3.0, 4.0], requires_grad=True)
    torch_loss = (ta + tb - 1.0).sum()
    torch_loss.backward()
    torch_loss.backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())


def test_retained_grads_of_intermediates_accumulate_like_torch() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(y.grad, 2 * y.data)
    loss.backward()

    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 2.0
    ty.retain_grad()
    torch_loss = (ty * ty).sum()
    torch_loss.backward(retain_graph=True)
    torch_loss.backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())


def test_intermediate_grads_are_not_kept_by_default() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = x * 2.0
    (y * 3.0).backward()
    assert y.grad is None and x.grad is not None


# ------------------------------------------------------------------------- backward errors


def test_backward_of_a_non_scalar_without_grad_names_the_shape() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\).*grad="):
        (x * 2.0).backward()
    assert x.grad is None


@pytest.mark.parametrize("grad_shape", [(3, 2), (6,), (), (1, 2, 3)], ids=str)
def test_backward_with_a_grad_of_the_wrong_shape_is_a_value_error(grad_shape: tuple) -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=re.escape(f"grad has shape {grad_shape}") + r".*\(2, 3\)"):
        (x * 2.0).backward(np.ones(grad_shape))
    assert x.grad is None


def test_backward_on_a_tensor_that_does_not_require_grad_says_so() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2.0).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


# ------------------------------------------------------------------------- deep graphs


def test_a_200000_op_chain_runs_backward_without_recursion() -> None:
    x = Tensor(1.5, requires_grad=True)
    y = x
    for i in range(200_000):
        y = y + x if i % 2 == 0 else y * 1.0  # x is also reused 100,000 times
    y.backward()
    assert x.grad == 100_001.0  # exact: every partial is 1
    assert len(tg.topological_order(y)) == 200_001
    del y  # freeing the chain must not recurse either


# ------------------------------------------------------------------------- memory


def test_a_training_loop_does_not_grow_memory() -> None:
    rng = np.random.default_rng(1)
    n, d, k = 32, 10, 3
    X = Tensor(rng.normal(size=(n, d)))
    labels = rng.integers(0, k, size=n)
    W = Tensor(rng.normal(size=(d, k)) * 0.01, requires_grad=True)
    b = Tensor(np.zeros(k), requires_grad=True)
    rows = np.arange(n)
    traced: dict[int, int] = {}
    losses = []
    tracemalloc.start()
    try:
        for step in range(1, 2001):
            scores = X @ W + b
            shifted = scores - scores.max(axis=1, keepdims=True)
            log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
            loss = -log_probs[rows, labels].mean() + 1e-3 * (W * W).sum()
            W.zero_grad()
            b.zero_grad()
            loss.backward()
            with tg.no_grad():
                W.sub_(0.5 * W.grad)
                b.sub_(0.5 * b.grad)
            if step in (1, 500, 2000):
                losses.append(loss.item())
                gc.collect()  # also empties CPython's free lists, which tracemalloc counts
                traced[step] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert losses[2] < losses[0]  # it did train
    growth = traced[2000] - traced[500]
    assert growth < 256 * 1024, f"traced memory grew by {growth} bytes between steps 500 and 2000"


# ------------------------------------------------------------------------- in-place changes


IN_PLACE_CHANGES = {
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "copy_": lambda t: t.copy_(np.zeros(t.shape)),
}


@pytest.mark.parametrize("change", list(IN_PLACE_CHANGES))
def test_changing_a_saved_input_in_place_makes_backward_raise_naming_the_op(change: str) -> None:
    w, x = Tensor([1.0, 2.0], requires_grad=True, name="w"), Tensor([3.0, 4.0])
    y = (w * x).sum()
    IN_PLACE_CHANGES[change](w)
    with pytest.raises(RuntimeError, match=r"backward of Mul.*'w'.*changed in place"):
        y.backward()
    assert w.grad is None


def test_changing_the_data_input_that_a_gradient_needs_also_raises() -> None:
    w, x = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = (w * x).sum()  # dy/dw = x
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="backward of Mul"):
        y.backward()


def test_an_op_that_saved_nothing_for_the_changed_tensor_still_works() -> None:
    w, x = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    y = ((w + x) * 2.0).sum()  # Add saves no array; Mul saved (w + x), which is not changed
    w.sub_(5.0)
    x.mul_(3.0)
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_changing_an_op_output_in_place_in_grad_mode_raises_naming_the_op() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(RuntimeError, match="add_: .*made by Mul.*not recorded"):
        y.add_(1.0)  # its graph says y = 3x: backward would silently ignore the change
    np.testing.assert_array_equal(y.data, [3.0, 6.0])


def test_changing_an_output_that_no_op_saved_under_no_grad_is_fine() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0  # Mul saved x and 3.0, not y
    with tg.no_grad():
        y.add_(1.0)
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_changing_a_saved_output_in_place_makes_backward_raise_naming_the_op() -> None:
    x = Tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # Exp saves its output
    y.detach().add_(1.0)  # the detached tensor shares y's array, and so its version
    with pytest.raises(RuntimeError, match="backward of Exp.*changed in place"):
        y.sum().backward()
    assert x.grad is None


def test_changes_after_backward_are_fine() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    w.sub_(0.1 * w.grad)
    w.zero_grad()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * np.array([0.8, 1.6]))


def test_a_change_through_a_detached_view_is_detected() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.detach().sub_(1.0)  # same array: torch also refuses this backward
    with pytest.raises(RuntimeError, match="backward of Mul"):
        y.backward()


def test_a_change_before_the_op_ran_is_fine() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.add_(1.0)
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 6.0])


# ------------------------------------------------------------------------- graph order


def test_topological_order_lists_each_tensor_once_inputs_first() -> None:
    x, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([5.0, 5.0])
    a = x * 2.0
    b = x + c
    out = (a * b).sum()
    order = tg.topological_order(out)
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids)) == 6  # x, c, a, b, a*b, out
    assert order[-1] is out
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        if t.grad_fn is not None:
            for parent in t.grad_fn.parents():
                assert position[id(parent)] < position[id(t)]
