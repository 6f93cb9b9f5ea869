"""workers= through the public API: gradcheck / check_gradients, numerical_gradient and
gradgradcheck on a pool the call creates (an int), a ProcessPoolExecutor the test owns and a real
Dask cluster (client.get_executor()), each report compared with the serial one: same verdict,
same culprits, the numbers bit for bit."""

from __future__ import annotations

import sys
from typing import Any

import cloudpickle
import numpy as np
import pytest

# The same real components as test_parallel: a Dask LocalCluster (processes, 2 workers of one
# thread) and a spawn ProcessPoolExecutor, each owned by the test module.
from test_parallel import children, dask_client, map_pool, new_children, process_executor  # noqa: F401
from tinygrad_edu import Tensor
from tinygrad_edu.checks import check_gradients, gradcheck, numerical_gradient
from tinygrad_edu.checks.gradgrad import check_second_derivatives
from tinygrad_edu.checks.report import GradcheckReport
from tinygrad_edu.function import Function

pytestmark = pytest.mark.timeout(120)
# The workers get this module's functions and classes by value (no import of pytest there).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(params=["int", "executor", "dask", "map"])
def workers(request: pytest.FixtureRequest) -> Any:
    if request.param == "int":
        return 2
    if request.param == "executor":
        return request.getfixturevalue("process_executor")
    if request.param == "dask":
        return request.getfixturevalue("dask_client").get_executor()
    return request.getfixturevalue("map_pool").map


class HalfSquare(Function):
    """x²/2 with a wrong backward (grad·2x instead of grad·x): the planted bug."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x / 2

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def two_layers(x: Tensor, W: Tensor) -> Tensor:
    return ((x @ W).exp() * 0.1).sum()


def two_layers_with_bug(x: Tensor, W: Tensor) -> Tensor:
    return HalfSquare.apply(x @ W).sum()


def parameters() -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    return (Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="x"),
            Tensor(rng.standard_normal((3, 5)) * 0.5, requires_grad=True, name="W"))


def summary(report: GradcheckReport) -> Any:
    """Everything a report says, in comparable form (numbers as they are: bit for bit)."""
    inputs = [(c.position, c.name, c.method, c.checked, c.failures, c.max_rel_error,
               [(m.index, m.analytic, m.numerical) for m in c.worst], c.num_kinks)
              for c in report.inputs]
    culprits = [(c.op, c.input_index, c.rel_error, c.message) for c in report.culprits]
    return (report.ok, report.verdict, inputs, culprits, report.evaluations, str(report))


@pytest.mark.parametrize("fn", [two_layers, two_layers_with_bug])
def test_check_gradients_on_workers_is_the_serial_report(fn: Any, workers: Any) -> None:
    serial = check_gradients(fn, parameters(), progress=False)
    spread = check_gradients(fn, parameters(), progress=False, workers=workers)
    assert summary(spread) == summary(serial)
    if fn is two_layers_with_bug:
        assert not serial.ok
        assert [(c.op, c.input_index) for c in spread.culprits] == [("HalfSquare", 0)]
    else:
        assert serial.ok


def test_gradcheck_on_workers_passes_and_raises_like_serial() -> None:
    assert gradcheck(two_layers, parameters(), workers=2)
    assert not gradcheck(two_layers_with_bug, parameters(), workers=2, raise_exception=False)


class Net:
    """The lecture's shape: parameters as attributes, a loss that reads them."""

    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self.W = Tensor(rng.standard_normal((5, 3)), requires_grad=True, name="W")
        self.X = rng.standard_normal((8, 5))
        self.y = rng.integers(0, 3, 8)

    def loss(self) -> float:
        scores = self.X @ self.W.data
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        return float(-np.log(p[np.arange(8), self.y]).mean())


def test_numerical_gradient_closure_pattern_on_workers(workers: Any) -> None:
    net = Net()
    serial = numerical_gradient(lambda _: net.loss(), net.W.data)
    spread = numerical_gradient(lambda _: net.loss(), net.W.data, workers=workers)
    assert np.any(serial != 0)
    np.testing.assert_array_equal(spread, serial)


class CubeKeepingSquareOnCtx(Function):
    """x³ whose backward uses 3x² kept on ctx as an array: its double backward misses it."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.square = x * x
        return x * x * x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * 3 * ctx.square


def test_gradgradcheck_on_workers_names_the_serial_culprit() -> None:
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")

    def fn(x: Tensor) -> Tensor:
        return CubeKeepingSquareOnCtx.apply(x * 1.0).sum()

    serial = check_second_derivatives(fn, x, progress=False)
    spread = check_second_derivatives(fn, x, progress=False, workers=2)
    assert not serial.ok
    assert [(c.op, c.input_index, c.message) for c in spread.culprits] == \
        [(c.op, c.input_index, c.message) for c in serial.culprits]
    assert "CubeKeepingSquareOnCtx" in [c.op for c in spread.culprits]
    assert spread.verdict == serial.verdict


@pytest.mark.parametrize(("value", "error", "text"), [
    (0, ValueError, r"gradcheck: workers must be a positive int .* got 0"),
    (-2, ValueError, r"gradcheck: workers must be .* got -2"),
    (True, TypeError, r"gradcheck: workers must be .* got bool True"),
    (2.0, TypeError, r"gradcheck: workers must be .* got float 2.0"),
    ("4", TypeError, r"gradcheck: workers must be .* got str '4'"),
])
def test_bad_workers_are_refused_before_fn_runs(value: Any, error: type, text: str) -> None:
    calls = []

    def fn(x: Tensor) -> Tensor:
        calls.append(1)
        return (x * x).sum()

    with pytest.raises(error, match=text):
        check_gradients(fn, parameters()[0], workers=value)
    assert calls == []
    with pytest.raises(error, match=text.replace("gradcheck", "numerical_gradient")):
        numerical_gradient(lambda _: 0.0, np.zeros(3), workers=value)
    with pytest.raises(error, match=text.replace("gradcheck", "gradgradcheck")):
        check_second_derivatives(fn, parameters()[0], workers=value)


def raises_at_one_point(x: Tensor) -> Tensor:
    if 0.3 < x.data[1, 2] < 0.31:  # only where x[1, 2] is moved by +eps
        raise ZeroDivisionError("fn failed at a perturbed point")
    return (x * x).sum()


def test_fn_raising_in_a_worker_gives_the_serial_error_and_leaves_no_process() -> None:
    before = children()
    x = Tensor(np.full((2, 3), 0.3), requires_grad=True, name="x")
    with pytest.raises(ZeroDivisionError, match="fn failed at a perturbed point"):
        check_gradients(raises_at_one_point, x)
    with pytest.raises(ZeroDivisionError, match="fn failed at a perturbed point") as raised:
        check_gradients(raises_at_one_point, x, workers=2)
    assert any("x[1, 2] moved by +1e-06" in note
               for note in getattr(raised.value, "__notes__", []))
    np.testing.assert_array_equal(x.data, np.full((2, 3), 0.3))  # the caller's x untouched
    assert new_children(before) == []
