"""No silent wrong gradient: whatever a graph saved cannot change underneath it, nothing is
silently detached, complex numbers and integer parameters are refused, threads get right
answers, PyTorch habits (`W -= lr * W.grad` under no_grad, `as_tensor`, copies) work or fail
loudly, and a failing call changes nothing. Each test here failed on the engine before these
protections."""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, versions

# ------------------------------------------------------------------ saved data cannot change


def test_changing_a_tensor_index_after_the_forward_makes_backward_refuse() -> None:
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = Tensor([10.0, 20.0], requires_grad=True)
    i = Tensor([0, 1])
    y = (x[i] * w).sum()
    i.copy_([2, 3])
    with pytest.raises(RuntimeError, match="GetItem.*changed in place"):
        y.backward()
    assert x.grad is None and w.grad is None


def test_a_numpy_index_held_by_a_graph_is_read_only_until_backward() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 0, 2])
    y = x[index].sum()
    with pytest.raises(ValueError, match="read-only"):
        index[0] = 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])
    index[0] = 1  # released by backward


def test_a_list_index_changed_after_the_forward_does_not_change_the_gradient() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = [0, 0, 2]
    y = x[index].sum()
    index[0] = 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_a_numpy_operand_held_by_a_graph_cannot_be_overwritten() -> None:
    w = Tensor(np.ones(3), requires_grad=True)
    X = np.array([1.0, 2.0, 3.0])
    y = (w * X).sum()
    with pytest.raises(ValueError, match="read-only"):
        X[:] = 0  # a reused batch buffer
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0, 3.0])
    X[:] = 0  # backward freed the graph: the buffer is the user's again
    assert X.flags.writeable


def test_dropping_a_graph_without_backward_releases_its_locks() -> None:
    w = Tensor(np.ones(3), requires_grad=True)
    X = np.array([1.0, 2.0, 3.0])
    y = (w * X).sum()
    assert versions.is_locked(X) and versions.is_locked(w.data)
    del y
    assert not versions.is_locked(X) and not versions.is_locked(w.data)
    X[0] = 5.0


def test_two_graphs_share_a_lock_and_release_it_when_both_are_gone() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    first, second = (w * w).sum(), (w * 3.0).sum()
    first.backward()
    assert versions.is_locked(w.data)  # the second graph still holds it
    second.backward()
    assert not versions.is_locked(w.data)


def test_an_array_the_user_made_read_only_stays_read_only() -> None:
    X = np.ones(3)
    X.setflags(write=False)
    w = Tensor(np.ones(3), requires_grad=True)
    (w * X).sum().backward()
    assert not X.flags.writeable


def test_writing_tensor_data_directly_is_refused_while_a_graph_holds_it() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[...] = 0.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


class SaveTransposed(Function):
    """A user's op that saves a view of its input."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x.T)
        return np.array((x**2).sum())

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        (xt,) = ctx.saved_tensors
        return grad * 2 * xt.T


def test_a_saved_view_protects_its_base() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = SaveTransposed.apply(x)
    with pytest.raises(ValueError, match="read-only"):
        x.data[0, 0] = 100.0
    with tg.no_grad():
        x.add_(1.0)  # the library's own write lifts the lock, and backward then refuses
    with pytest.raises(RuntimeError, match="SaveTransposed.*changed in place"):
        y.backward()


def test_library_writes_into_saved_arrays_keep_backward_refusing() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with tg.no_grad():
        x.mul_(2.0)
    assert versions.is_locked(x.data)  # the lock is back after the write
    with pytest.raises(RuntimeError, match="Mul.*changed in place"):
        y.backward()


# ------------------------------------------------------------------ no silent detach


def test_a_tensor_of_tensors_that_require_grad_is_refused_pointing_to_stack() -> None:
    a = Tensor(1.0, requires_grad=True)
    b = Tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match="stack"):
        Tensor([a, b])
    Tensor([Tensor(1.0), Tensor(2.0)])  # constants are fine


def test_an_op_given_a_list_holding_tensors_is_refused() -> None:
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Maximum.*stack"):
        tg.maximum([a, b], 0.0)


@pytest.mark.parametrize("numpy_function", [np.asarray, np.sort, np.median, np.linalg.norm])
def test_numpy_functions_on_a_tensor_that_requires_grad_are_refused(numpy_function: Any) -> None:
    t = Tensor([1.0, 2.0], requires_grad=True, name="t")
    with pytest.raises(TypeError, match=r"detach\(\)\.numpy\(\)"):
        numpy_function(t)
    with pytest.raises(TypeError):  # numpy's ufuncs refuse Tensors outright
        np.exp(t)
    np.testing.assert_array_equal(np.cumsum(t.detach()), [1.0, 3.0])


@pytest.mark.parametrize("numpy_function", [np.cumsum, np.var, np.std, np.prod])
def test_numpy_functions_that_call_a_tensor_method_never_detach(numpy_function: Any) -> None:
    """np.cumsum(t) calls t.cumsum(...) when Tensor has one: a recorded op, or a clear error."""
    t = Tensor([1.0, 2.0], requires_grad=True)
    try:
        result = numpy_function(t)
    except TypeError as error:
        assert "requires grad" in str(error) or "keyword" in str(error)
    else:
        assert isinstance(result, Tensor) and result.requires_grad


def test_numpy_method_is_refused_on_a_tensor_that_requires_grad() -> None:
    t = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="requires grad"):
        t.numpy()
    assert t.detach().numpy() is t.data


def test_requires_grad_set_on_integer_data_is_refused() -> None:
    t = Tensor([1, 2])
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    assert t.requires_grad is False
    f = Tensor([1.0, 2.0])
    f.requires_grad = True
    (f * f).sum().backward()
    np.testing.assert_array_equal(f.grad, [2.0, 4.0])


def test_requires_grad_of_an_op_result_cannot_be_switched_off() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


# ------------------------------------------------------------------ complex numbers


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x * 1j,
        lambda x: x @ np.ones((2, 2), dtype=complex),
        lambda x: x**1j,
        lambda x: x + np.complex128(1j),
    ],
    ids=["mul", "matmul", "pow", "numpy-scalar"],
)
def test_complex_values_are_refused_at_every_op(make: Any) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="complex"):
        make(x)


def test_a_function_returning_complex_is_refused() -> None:
    class Complexify(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * 1j

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return grad

    with pytest.raises(TypeError, match="Complexify.*complex"):
        Complexify.apply(Tensor([1.0], requires_grad=True))


def test_a_backward_returning_complex_gradients_is_refused() -> None:
    class ComplexGrad(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * 2

        @staticmethod
        def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
            return grad * (2 + 0j)

    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="ComplexGrad.*complex"):
        ComplexGrad.apply(x).sum().backward()
    assert x.grad is None


# ------------------------------------------------------------------ threads

TIMEOUT = 20.0


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()


def test_an_optimizer_step_racing_a_backward_never_gives_a_wrong_gradient() -> None:
    rng = np.random.default_rng(0)
    W = Tensor(rng.uniform(1.0, 2.0, 200_000), requires_grad=True)
    stop = threading.Event()
    wrong: list[float] = []
    errors: list[BaseException] = []

    def train() -> None:
        try:
            for _ in range(60):
                y = W * W
                expected = 2 * np.sqrt(y.data)  # 2 W, with W as the forward saw it
                W.grad = None
                try:
                    y.backward(np.ones_like(y.data))
                except RuntimeError as error:
                    assert "changed in place" in str(error)
                    continue
                gap = float(np.max(np.abs(W.grad - expected)))
                if gap > 1e-9:
                    wrong.append(gap)
        except BaseException as error:  # handed to the main thread
            errors.append(error)
        finally:
            stop.set()

    def step() -> None:
        values = [rng.uniform(1.0, 2.0, W.shape) for _ in range(4)]
        i = 0
        while not stop.is_set():
            with tg.no_grad():
                W.copy_(values[i % 4])
            i += 1

    _run([threading.Thread(target=train), threading.Thread(target=step)])
    assert not errors, errors
    assert not wrong, f"{len(wrong)} silently wrong gradients"


def test_concurrent_backward_passes_into_one_leaf_lose_nothing() -> None:
    W = Tensor(np.zeros(300_000), requires_grad=True)
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait(TIMEOUT)
        for _ in range(40):
            (W * 1.0).sum().backward()

    _run([threading.Thread(target=worker) for _ in range(8)])
    np.testing.assert_array_equal(W.grad, np.full(W.shape, 320.0))


def test_a_no_grad_decorator_shared_by_a_recursive_function_restores_grad_mode() -> None:
    @tg.no_grad()
    def countdown(n: int) -> bool:
        return countdown(n - 1) if n else tg.is_grad_enabled()

    assert countdown(3) is False
    assert tg.is_grad_enabled()


def test_one_no_grad_instance_shared_by_two_threads_restores_each_threads_mode() -> None:
    switch = tg.no_grad()
    entered, leave_first = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with switch:
            entered.set()
            leave_first.wait(TIMEOUT)
        seen["first"] = tg.is_grad_enabled()

    def second() -> None:
        entered.wait(TIMEOUT)
        with tg.no_grad():
            with switch:  # enters while the first thread is inside the same instance
                leave_first.set()
        seen["second"] = tg.is_grad_enabled()

    _run([threading.Thread(target=first), threading.Thread(target=second)])
    assert seen == {"first": True, "second": True}


# ------------------------------------------------------------------ PyTorch habits


def test_a_hand_written_step_under_no_grad_updates_in_place() -> None:
    W = Tensor([1.0, 2.0], requires_grad=True, name="W")
    (W * W).sum().backward()
    same, version = W, W.version
    with tg.no_grad():
        W -= 0.1 * W.grad  # type: ignore[operator]
        W += 1.0
        W *= 2.0
        W /= 4.0
    assert W is same and W.version > version and W.requires_grad
    np.testing.assert_allclose(W.data, ((np.array([1.0, 2.0]) * 0.8) + 1.0) / 2.0)


def test_an_in_place_operator_on_a_parameter_in_grad_mode_is_refused() -> None:
    W = Tensor([1.0, 2.0], requires_grad=True, name="W")
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        W -= 1.0
    np.testing.assert_array_equal(W.data, [1.0, 2.0])


def test_an_in_place_operator_elsewhere_in_grad_mode_builds_a_new_tensor() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss: Any = 0
    for _ in range(3):
        loss += (x * x).sum()
    h = x * 1.0
    before = h
    h *= 3.0
    assert h is not before
    (loss + h.sum()).backward()
    np.testing.assert_array_equal(x.grad, 6 * x.data + 3.0)


def test_as_tensor_shares_memory_and_tensor_copies() -> None:
    batch = np.arange(6, dtype=np.float32).reshape(2, 3)
    shared, copied = tg.as_tensor(batch), Tensor(batch)
    assert np.shares_memory(shared.data, batch) and not np.shares_memory(copied.data, batch)
    assert not np.shares_memory(tg.as_tensor(batch, dtype=np.float64).data, batch)
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    loss = (shared @ w).sum()
    with pytest.raises(ValueError, match="read-only"):
        batch[:] = 0  # the graph holds the shared batch
    loss.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 5.0, 7.0])


def test_as_tensor_refuses_complex_and_text() -> None:
    with pytest.raises(TypeError, match="as_tensor.*complex"):
        tg.as_tensor(np.ones(2, dtype=complex))
    with pytest.raises(TypeError, match="as_tensor"):
        tg.as_tensor(["a"])


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
def test_numpy_integer_axes_work_forward_and_backward(method: str) -> None:
    data = np.arange(6.0).reshape(2, 3)
    x = Tensor(data, requires_grad=True)
    getattr(x, method)(axis=np.int64(1)).sum().backward()
    y = Tensor(data, requires_grad=True)
    getattr(y, method)(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, y.grad)
    z = Tensor(data, requires_grad=True)
    getattr(z, method)(axis=(np.int32(0), np.int64(1))).backward()
    assert z.grad is not None and z.grad.shape == (2, 3)


def test_deep_copy_of_a_leaf_is_independent_and_of_a_result_is_refused() -> None:
    W = Tensor([1.0, 2.0], requires_grad=True, name="W")
    (W * W).sum().backward()
    twin = copy.deepcopy(W)
    assert twin.requires_grad and twin.name == "W" and twin.grad is not None
    twin.data[0] = 10.0
    assert W.data[0] == 1.0
    (twin * 1.0).sum().backward()
    np.testing.assert_array_equal(W.grad, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="only leaves"):
        copy.deepcopy(W * 2)
    with pytest.raises(RuntimeError, match="only leaves"):
        copy.copy(W * 2)


def test_huge_python_ints_give_a_clear_error_naming_the_op() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal((x + 2**70).data, [2.0**70, 2.0**70])
    with pytest.raises(OverflowError, match="Mul.*too large"):
        x * 10**400
    with pytest.raises(OverflowError, match="Add"):
        Tensor([1, 2]) + 2**70


def test_backward_does_not_parse_strings_as_numbers() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(TypeError, match="grad must be real numbers"):
        y.backward(grad=["1", "2"])
    assert x.grad is None


def test_backward_create_graph_points_to_grad() -> None:
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="tinygrad_edu.grad"):
        (x * x).sum().backward(create_graph=True)


# ------------------------------------------------------------------ all or nothing


def test_a_failing_second_backward_leaves_grad_as_it_was() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    before = x.grad.copy()  # type: ignore[union-attr]
    y = (x * x).sum()
    with tg.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError):
        y.backward()
    np.testing.assert_array_equal(x.grad, before)


def test_a_hand_set_grad_of_the_wrong_shape_is_refused_before_any_accumulation() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    a.grad = np.zeros(2)
    b.grad = np.zeros(3)  # wrong shape
    with pytest.raises(ValueError, match=r"\.grad"):
        (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad, np.zeros(3))


def test_numerical_gradient_on_an_array_a_live_graph_holds_says_how_to_release_it() -> None:
    W = Tensor(np.ones(3), requires_grad=True)
    loss = (W * W).sum()
    with pytest.raises(tg.errors.LockedArrayError, match="live graph.*backward"):
        tg.numerical_gradient(lambda w: float((w * w).sum()), W.data)
    loss.backward()
    np.testing.assert_allclose(tg.numerical_gradient(lambda w: float((w * w).sum()), W.data),
                               [2.0, 2.0, 2.0], rtol=1e-8)


def test_a_bad_gradient_error_survives_pickling_with_its_fields() -> None:
    import pickle

    from tinygrad_edu.errors import GradientShapeError

    error = pickle.loads(pickle.dumps(GradientShapeError("backward of F ...", "F", 1)))
    assert isinstance(error, ValueError) and (error.op_name, error.input_index) == ("F", 1)
    assert str(error) == "backward of F ..."
