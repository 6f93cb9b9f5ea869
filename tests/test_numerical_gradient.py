"""numerical_gradient: the lecture's numbers, the error orders, and in-place restoration."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.checks import numerical_gradient, numerical_gradient_array, progress


def cube(theta: np.ndarray) -> float:
    return float(theta[0] ** 3)


# ----------------------------------------------------------------------------- the lecture


def test_theta_cubed_forward_difference_is_3_0301() -> None:
    theta = np.array([1.0])
    grad = numerical_gradient(cube, theta, eps=0.01, method="forward")
    assert grad.shape == (1,)
    assert grad[0] == pytest.approx(3.0301, abs=1e-12)


def test_theta_cubed_centered_difference_is_3_0001() -> None:
    theta = np.array([1.0])
    assert numerical_gradient(cube, theta, eps=0.01)[0] == pytest.approx(3.0001, abs=1e-12)
    assert numerical_gradient(cube, theta, eps=0.01, method="central")[0] == pytest.approx(
        3.0001, abs=1e-12
    )


@pytest.mark.parametrize("eps", [0.1, 0.03, 0.01, 0.003, 0.001])
def test_error_is_order_eps_forward_and_eps_squared_centered(eps: float) -> None:
    # For θ³ at 1 Taylor's series ends early: forward error = 3h + h², centered error = h².
    theta = np.array([1.0])
    forward = numerical_gradient(cube, theta, eps=eps, method="forward")[0]
    central = numerical_gradient(cube, theta, eps=eps, method="central")[0]
    assert forward - 3.0 == pytest.approx(3 * eps + eps**2, rel=1e-6)
    assert central - 3.0 == pytest.approx(eps**2, rel=1e-5)


def test_zero_dimensional_array() -> None:
    theta = np.array(1.0)
    grad = numerical_gradient(lambda t: float(t) ** 3, theta, eps=0.01)
    assert grad.shape == ()
    assert float(grad) == pytest.approx(3.0001, abs=1e-12)


def test_gradient_of_a_matrix_function_matches_its_closed_form() -> None:
    rng = np.random.default_rng(0)
    x, A = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda v: float(np.sum(np.sin(v) * A)), x)
    np.testing.assert_allclose(grad, np.cos(x) * A, rtol=1e-8, atol=1e-10)


def test_non_contiguous_array_is_perturbed_and_restored() -> None:
    base = np.arange(12.0).reshape(3, 4) / 7
    view = base.T  # Fortran-ordered view
    before = base.copy()
    grad = numerical_gradient(lambda v: float(np.sum(v**2 * np.arange(3))), view)
    np.testing.assert_allclose(grad, 2 * view * np.arange(3), rtol=1e-8)
    assert base.tobytes() == before.tobytes()


# ----------------------------------------------------------------------------- restoration


def test_x_is_restored_bit_for_bit() -> None:
    x = np.array([0.1, -0.0, 1e-310, 3.0, np.pi])  # -0.0 and a subnormal survive exactly
    before = x.tobytes()
    numerical_gradient(lambda v: float(np.sum(v * v)), x)
    assert x.tobytes() == before


def test_x_is_restored_when_f_raises_midway() -> None:
    x = np.linspace(-1.0, 1.0, 7)
    before = x.tobytes()
    calls = []

    def f(v: np.ndarray) -> float:
        calls.append(v.copy())
        if len(calls) == 6:  # during the +h step of element 2
            raise RuntimeError("boom")
        return float(np.sum(v**3))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert x.tobytes() == before
    assert not np.array_equal(calls[-1], x)  # f really saw a perturbed x


def test_each_call_sees_exactly_one_element_moved() -> None:
    x = np.array([1.0, 2.0, 3.0])
    seen: list[np.ndarray] = []
    numerical_gradient(lambda v: seen.append(v - [1.0, 2.0, 3.0]) or 0.0, x, eps=0.5)
    moved = np.array(seen)
    np.testing.assert_array_equal(
        moved, [[0.5, 0, 0], [-0.5, 0, 0], [0, 0.5, 0], [0, -0.5, 0], [0, 0, 0.5], [0, 0, -0.5]]
    )


# ----------------------------------------------------------------------------- arrays, Tensors


def test_grad_output_gives_the_vector_jacobian_product() -> None:
    rng = np.random.default_rng(1)
    x, upstream = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    grad = numerical_gradient_array(lambda v: v**2, x, upstream)
    np.testing.assert_allclose(grad, 2 * x * upstream, rtol=1e-8, atol=1e-10)
    same = numerical_gradient(lambda v: v**2, x, grad_output=upstream)
    np.testing.assert_array_equal(grad, same)


def test_tensor_valued_function_of_a_tensor() -> None:
    rng = np.random.default_rng(2)
    W = rng.normal(size=(4, 3))
    x = Tensor(rng.normal(size=(2, 4)), name="x")
    upstream = rng.normal(size=(2, 3))
    before = x.data.tobytes()
    grad = numerical_gradient_array(lambda t: (t @ W).exp(), x, upstream)
    expected = (np.exp(x.data @ W) * upstream) @ W.T
    np.testing.assert_allclose(grad, expected, rtol=1e-7, atol=1e-9)
    assert x.data.tobytes() == before
    assert x.version == 0  # perturbed through .data, not in-place ops: no version bump


def test_float32_array_uses_the_step_actually_taken() -> None:
    x = np.array([1.0, 3.0], dtype=np.float32)
    eps = 1e-3
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x, eps=eps)
    assert grad.dtype == np.float64
    # x ± eps is rounded to float32. Dividing by the steps actually taken leaves only their
    # asymmetry (~1 ulp) as error; dividing by 2·eps would be off by the rounding of eps itself.
    np.testing.assert_allclose(grad, [2.0, 6.0], rtol=1e-6)
    plus, minus = np.float32(x[1] + np.float32(eps)), np.float32(x[1] - np.float32(eps))
    naive = (float(plus) ** 2 - float(minus) ** 2) / (2 * eps)
    assert abs(naive - 6.0) > 1e-5


# ----------------------------------------------------------------------------- bad input


def test_bad_method_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"'central', 'forward'.*'backward'"):
        numerical_gradient(cube, np.array([1.0]), method="backward")


@pytest.mark.parametrize("eps", [0.0, -1e-3, float("nan"), float("inf")])
def test_bad_eps(eps: float) -> None:
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        numerical_gradient(cube, np.array([1.0]), eps=eps)


def test_integer_array_is_refused() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(cube, np.array([1, 2]))


def test_list_is_refused() -> None:
    with pytest.raises(TypeError, match="numpy array or a Tensor"):
        numerical_gradient(cube, [1.0])  # type: ignore[arg-type]


def test_read_only_array_is_refused_untouched() -> None:
    x = np.array([1.0, 2.0])
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(cube, x)


def test_non_scalar_f_without_grad_output() -> None:
    with pytest.raises(ValueError, match=r"shape \(2,\).*grad_output"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))


def test_grad_output_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(2,\) but grad_output has shape \(3,\)"):
        numerical_gradient_array(lambda v: v * 2, np.array([1.0, 2.0]), np.ones(3))


def test_f_returning_none() -> None:
    with pytest.raises(TypeError, match="f must return a number.*NoneType"):
        numerical_gradient(lambda v: None, np.array([1.0]))


# ----------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def terminal_with_bar(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """stderr a terminal, outside CI, with bars drawn at once (not after MIN_SECONDS)."""
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(progress, "MIN_SECONDS", 0.0)
    return terminal


def test_long_run_draws_a_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = terminal_with_bar(monkeypatch)
    numerical_gradient(lambda v: float(v.sum()), np.zeros(1500))
    text = terminal.getvalue()
    assert "3000/3000 evaluations (100%)" in text
    assert text.endswith("\n")


def test_no_progress_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    numerical_gradient(lambda v: float(v.sum()), np.zeros(1500))
    assert pipe.getvalue() == ""


def test_no_progress_bar_for_a_short_run(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    numerical_gradient(lambda v: float(v.sum()), np.zeros(10))
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("eps", [True, "1e-5", None])
def test_eps_of_the_wrong_type_is_a_type_error(eps: object) -> None:
    # True would otherwise run with a step of 1.0.
    with pytest.raises(TypeError, match="numerical_gradient: eps must be a positive finite number"):
        numerical_gradient(cube, np.array([1.0]), eps=eps)  # type: ignore[arg-type]


def test_f_not_callable() -> None:
    with pytest.raises(TypeError, match="numerical_gradient: f must be callable"):
        numerical_gradient(3.0, np.array([1.0]))  # type: ignore[arg-type]


def test_no_progress_bar_in_ci_or_for_a_check_shorter_than_min_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = terminal_with_bar(monkeypatch)
    monkeypatch.setenv("CI", "true")
    numerical_gradient(lambda v: float(v.sum()), np.zeros(1500))
    monkeypatch.delenv("CI")
    monkeypatch.setattr(progress, "MIN_SECONDS", 60.0)
    numerical_gradient(lambda v: float(v.sum()), np.zeros(1500))
    assert terminal.getvalue() == ""


def test_an_f_that_raises_names_the_element_being_evaluated_serially_too() -> None:
    import tinygrad_edu as tg

    def f(v: np.ndarray) -> float:
        if v[2] != 1.0:
            raise ValueError("boom")
        return float(v.sum())

    with pytest.raises(ValueError, match="boom") as error:
        numerical_gradient(f, np.ones(4))
    assert error.value.__notes__ == ["while evaluating fn with x[2] moved by +1e-05"]
    x = tg.Tensor(np.ones(4), requires_grad=True, name="x")

    def g(t: tg.Tensor) -> tg.Tensor:
        if t.data[1] != 1.0:
            raise ValueError("bang")
        return t.sum()

    with pytest.raises(ValueError, match="bang") as error:
        tg.gradcheck(g, x)
    assert any("x[1]" in note for note in error.value.__notes__)
