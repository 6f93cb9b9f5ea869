"""Users' own ops (`Function`), work done only where needed, grad mode and anomaly mode."""

from __future__ import annotations

import inspect
import os
import threading
from typing import Any

import numpy as np
import pytest
from helpers_fd import check_grads

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, ops

# ------------------------------------------------------------------------- user ops


class Cube(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


class ScaleShift(Function):
    """scale * x + shift, with `scale` a plain number and `shift` a Tensor; `power` a kwarg."""

    seen: dict[str, Any] = {}

    @staticmethod
    def forward(
        ctx: Any, x: np.ndarray, scale: float, shift: np.ndarray, power: int = 1
    ) -> np.ndarray:
        ScaleShift.seen = {"types": (type(x), type(scale), type(shift)), "power": power}
        ctx.scale, ctx.power = scale, power  # a user's own state on ctx
        ctx.save_for_backward(x, shift)
        return scale * x**power + shift

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, None, Any]:
        x, shift = ctx.saved_tensors
        ScaleShift.seen["needs_input_grad"] = ctx.needs_input_grad
        need_x, _, need_shift = ctx.needs_input_grad
        grad_x = grad_shift = None
        if need_x:
            grad_x = ops.unbroadcast(grad * ctx.scale * ctx.power * x ** (ctx.power - 1), x.shape)
        if need_shift:
            grad_shift = ops.unbroadcast(grad, shift.shape)
        return grad_x, None, grad_shift


def test_user_function_in_pytorch_form() -> None:
    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = Cube.apply(x)
    np.testing.assert_array_equal(y.data, [1.0, -8.0, 0.125])
    assert y.grad_fn.name == "Cube" and y.grad_fn.fn is Cube
    assert y.grad_fn.inputs == (x,) and y.grad_fn.needs_input_grad == (True,)
    y.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [3.0, 12.0, 0.75])


def test_apply_mixes_tensors_numbers_and_kwargs() -> None:
    x, shift = Tensor([1.0, 2.0], requires_grad=True), Tensor([[0.5], [1.0]], requires_grad=True)
    y = ScaleShift.apply(x, 3.0, shift, power=2)
    assert ScaleShift.seen["types"] == (np.ndarray, float, np.ndarray)  # Tensors arrive as arrays
    assert ScaleShift.seen["power"] == 2
    np.testing.assert_array_equal(y.data, [[3.5, 12.5], [4.0, 13.0]])
    node = y.grad_fn
    assert node.inputs[1] == 3.0 and node.kwargs == {"power": 2}
    assert node.needs_input_grad == (True, False, True)
    assert node.parents() == [x, shift]
    y.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(x.grad, [12.0, 24.0])  # 2 rows * 3 * 2x
    np.testing.assert_array_equal(shift.grad, [[2.0], [2.0]])


def test_user_function_inside_a_larger_graph_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)

    def model(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        hidden = ScaleShift.apply(x @ w, 0.5, b, power=3)
        return Cube.apply(tg.maximum(hidden, 0.1)).mean(axis=0)

    check_grads(model, rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,)))


def test_needs_input_grad_tells_backward_which_gradients_to_compute() -> None:
    data, shift = Tensor([1.0, 2.0]), Tensor([0.0, 0.0], requires_grad=True)
    ScaleShift.apply(data, 2.0, shift).backward(np.ones(2))
    assert ScaleShift.seen["needs_input_grad"] == (False, False, True)
    assert data.grad is None
    np.testing.assert_array_equal(shift.grad, [1.0, 1.0])


def test_saved_tensors_is_what_forward_saved() -> None:
    x = Tensor([2.0], requires_grad=True)
    y = Cube.apply(x)
    (saved,) = y.grad_fn.saved_tensors
    np.testing.assert_array_equal(saved, [2.0])


def test_an_op_without_any_input_requiring_grad_records_nothing() -> None:
    y = Cube.apply(Tensor([1.0, 2.0]))
    assert y.grad_fn is None and not y.requires_grad


def test_forward_may_return_a_scalar_or_list() -> None:
    class Total(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> Any:
            return float(x.sum())

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return np.ones(2) * grad

    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Total.apply(x)
    assert isinstance(y.data, np.ndarray) and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_forward_returning_non_numbers_is_a_type_error_naming_the_function() -> None:
    class Words(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> Any:
            return "not an array"

    with pytest.raises(TypeError, match="Words.forward.*numeric"):
        Words.apply(Tensor([1.0], requires_grad=True))


class TwoInputs(Function):
    """a * b whose backward returns whatever the test puts in `returned`."""

    returned: Any = None

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return TwoInputs.returned


def _two_input_graph() -> tuple[Tensor, Tensor, Tensor]:
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 3)), requires_grad=True)
    return a, b, TwoInputs.apply(a, b).sum()


@pytest.mark.parametrize(
    "returned, message",
    [
        ((np.ones((2, 3)),), r"backward of TwoInputs returned 1 gradient\(s\) for 2 input\(s\)"),
        ((np.ones((2, 3)),) * 3, r"TwoInputs returned 3 gradient\(s\) for 2 input\(s\)"),
        ([np.ones((2, 3))] * 3, r"TwoInputs returned 3 gradient\(s\) for 2 input\(s\)"),
        (np.ones((2, 3)), r"backward of TwoInputs returned ndarray.*tuple of 2"),
    ],
    ids=["too few", "too many", "list of too many", "bare array"],
)
def test_backward_returning_the_wrong_count_is_a_type_error(returned: Any, message: str) -> None:
    TwoInputs.returned = returned
    a, b, loss = _two_input_graph()
    with pytest.raises(TypeError, match=message):
        loss.backward()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize(
    "returned, index, shape",
    [
        ((np.ones((2, 3)), np.ones(3)), 1, (3,)),
        ((np.ones((3, 2)), np.ones((2, 3))), 0, (3, 2)),
        ((np.ones((2, 3)), 1.0), 1, ()),
    ],
)
def test_backward_returning_a_wrong_shape_is_a_value_error(
    returned: tuple, index: int, shape: tuple
) -> None:
    TwoInputs.returned = returned
    a, b, loss = _two_input_graph()
    with pytest.raises(ValueError) as info:
        loss.backward()
    message = str(info.value)
    assert "backward of TwoInputs" in message and f"input {index}" in message
    assert str(shape) in message and "(2, 3)" in message
    assert b.grad is None


def test_backward_may_return_none_for_an_input() -> None:
    TwoInputs.returned = (np.full((2, 3), 2.0), None)
    a, b, loss = _two_input_graph()
    loss.backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 2.0))
    assert b.grad is None


def test_an_intermediate_that_receives_only_none_passes_no_gradient_on() -> None:
    TwoInputs.returned = (None, np.full(2, 5.0))
    x, other = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 1.0], requires_grad=True)
    TwoInputs.apply(x * 2.0, other).backward(np.ones(2))
    assert x.grad is None  # its only path returned None
    np.testing.assert_array_equal(other.grad, [5.0, 5.0])


def test_backward_returning_a_list_or_tensors_is_accepted() -> None:
    TwoInputs.returned = [Tensor(np.full((2, 3), 3.0)), np.full((2, 3), 4.0)]
    a, b, loss = _two_input_graph()
    loss.backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 3.0))
    np.testing.assert_array_equal(b.grad, np.full((2, 3), 4.0))


@pytest.mark.parametrize("error_type", [ValueError, IndexError, TypeError])
def test_an_error_in_forward_keeps_its_type_and_is_prefixed_with_the_op_name(
    error_type: type,
) -> None:
    class Picky(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            raise error_type("x must be sorted")

    x = Tensor([2.0, 1.0], requires_grad=True)
    with pytest.raises(error_type, match=r"^Picky: x must be sorted.*\(2,\)"):
        Picky.apply(x)
    np.testing.assert_array_equal(x.data, [2.0, 1.0])


# ------------------------------------------------------------------------- work only where needed


def test_matmul_computes_no_gradient_for_data_that_does_not_require_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    returned: list[tuple[Any, Any]] = []
    original = ops.MatMul.backward

    def spy(ctx: Any, grad: np.ndarray) -> Any:
        result = original(ctx, grad)
        returned.append(result)
        return result

    monkeypatch.setattr(ops.MatMul, "backward", staticmethod(spy))
    rng = np.random.default_rng(1)
    X, W = Tensor(rng.normal(size=(5, 3))), Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    out = X @ W
    assert out.grad_fn.needs_input_grad == (False, True)
    out.backward(np.ones((5, 2)))
    ((grad_X, grad_W),) = returned
    assert grad_X is None  # not computed and thrown away: never computed
    np.testing.assert_allclose(grad_W, X.data.T @ np.ones((5, 2)))
    assert X.grad is None


def test_the_engine_walks_no_branch_that_requires_no_grad() -> None:
    calls: list[tuple[bool, ...]] = []

    class Spy(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x.copy()

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            calls.append(ctx.needs_input_grad)
            return grad

    w = Tensor([1.0, 2.0], requires_grad=True)
    data = Spy.apply(Tensor([3.0, 4.0]))  # a branch of constants: no node at all
    assert data.grad_fn is None
    loss = (Spy.apply(w) * data).sum()
    loss.backward()
    assert calls == [(True,)]
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


# ------------------------------------------------------------------------- grad mode


def test_no_grad_records_no_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2.0).sum()
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y.data, 6.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_a_decorator() -> None:
    @tg.no_grad()
    def predict(x: Tensor) -> Tensor:
        assert not tg.is_grad_enabled()
        return x * 2.0

    y = predict(Tensor([1.0], requires_grad=True))
    assert y.grad_fn is None and tg.is_grad_enabled()


def test_enable_grad_inside_no_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 3.0
        z = x * 3.0
    assert y.grad_fn is not None and z.grad_fn is None
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError("boom")
    assert tg.is_grad_enabled()


def test_grad_mode_is_thread_local() -> None:
    """While another thread sits inside no_grad, this thread's graph is still recorded, and a
    thread started inside no_grad records its own graph."""
    inside, main_done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        with tg.no_grad():
            inside.set()
            main_done.wait(timeout=10)
            seen["worker_enabled"] = tg.is_grad_enabled()
            seen["worker_fn"] = (Tensor([1.0], requires_grad=True) * 2.0).grad_fn

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=10)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0  # built while the worker is inside no_grad
    main_done.set()
    thread.join(timeout=10)
    assert seen["worker_enabled"] is False and seen["worker_fn"] is None
    assert y.grad_fn is not None
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])

    with tg.no_grad():
        thread = threading.Thread(
            target=lambda: seen.update(fresh=(Tensor([1.0], requires_grad=True) * 2.0).grad_fn)
        )
        thread.start()
        thread.join(timeout=10)
    assert seen["fresh"] is not None


# ------------------------------------------------------------------------- anomaly mode


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_anomaly_names_the_op_and_the_line_that_made_a_nan() -> None:
    x = Tensor([1.0, -1.0], requires_grad=True)
    with tg.detect_anomaly():
        assert tg.is_anomaly_enabled()
        line = inspect.currentframe().f_lineno + 2
        with pytest.raises(FloatingPointError) as info:
            x.log()
    message = str(info.value)
    assert "Log" in message and "NaN" in message
    assert f'{os.path.basename(__file__)}", line {line}' in message, message
    assert "x.log()" in message
    assert not tg.is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_anomaly_reports_inf_in_forward() -> None:
    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match="Exp.*inf"):
        Tensor([1000.0], requires_grad=True).exp()


class NanGrad(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return grad * np.nan


def test_anomaly_names_the_op_whose_backward_made_a_nan_and_where_it_was_applied() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = (NanGrad.apply(x) * 3.0).sum()
        with pytest.raises(FloatingPointError, match=r"backward of NanGrad.*NaN.*input 0") as info:
            y.backward()
    # The creation site is the user's line that called NanGrad.apply, not a frame of pytest.
    assert f'{os.path.basename(__file__)}", line {line}' in str(info.value), str(info.value)


def test_anomaly_in_a_user_function_forward_names_the_line_that_applied_it() -> None:
    class MakesNan(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * np.nan

    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match="MakesNan.*NaN") as info:
        line = inspect.currentframe().f_lineno + 1
        MakesNan.apply(Tensor([1.0], requires_grad=True))
    assert f'{os.path.basename(__file__)}", line {line}' in str(info.value), str(info.value)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_without_anomaly_mode_nans_pass_silently() -> None:
    x = Tensor([1.0, -1.0], requires_grad=True)
    y = x.log()
    assert np.isnan(y.data[1])
    z = Tensor([1.0], requires_grad=True)
    NanGrad.apply(z).backward(np.ones(1))
    assert np.isnan(z.grad[0])


def test_detect_anomaly_as_a_decorator() -> None:
    @tg.detect_anomaly()
    def check() -> bool:
        return tg.is_anomaly_enabled()

    assert check() and not tg.is_anomaly_enabled()
