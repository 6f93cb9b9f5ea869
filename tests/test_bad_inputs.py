"""A catalogue of misuse: every bad input raises a clear error and changes nothing.

Each row of a table is one misuse: an id, an action, the exception type it must raise and
phrases its message must contain (always the op or function's name, and the shape or value
at fault; matched case-insensitively). The action receives `watch`: it builds its tensors,
does any legitimate set-up (a first backward, an in-place change), calls `watch(*tensors)`
and then misbehaves. After the error, every watched tensor must be exactly as it was at
`watch` time: data bit-for-bit (same array object, same dtype, same bytes), grad, version,
requires_grad and graph node.

`ENGINE_CASES` cover the core (tensor.py, function.py, ops.py). `LIBRARY_CASES` cover the
modules built on it (losses, checks, optim).
"""

from __future__ import annotations

import importlib
import operator
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor

Watch = Callable[..., None]
Action = Callable[[Watch], Any]


# --------------------------------------------------------------------------- the checker

Bits = tuple[np.dtype, tuple[int, ...], bytes]


def bits(array: np.ndarray) -> Bits:
    """An array's dtype, shape and bytes: equal exactly when the arrays are bit-for-bit equal
    (NaN payloads and -0.0 included)."""
    return array.dtype, array.shape, array.tobytes()


@dataclass(frozen=True)
class Snapshot:
    """Everything about a tensor that a failed operation must not change."""

    tensor: Tensor
    data: np.ndarray  # the array object itself, to detect a replaced .data
    data_bits: Bits
    grad_bits: Bits | None
    grad_copy: np.ndarray | None  # for the failure message
    version: int
    requires_grad: bool
    node: Any

    @classmethod
    def of(cls, t: Tensor) -> Snapshot:
        return cls(
            tensor=t,
            data=t.data,
            data_bits=bits(t.data),
            grad_bits=None if t.grad is None else bits(t.grad),
            grad_copy=None if t.grad is None else t.grad.copy(),
            version=t.version,
            requires_grad=t.requires_grad,
            node=t.grad_fn,
        )

    def changes(self) -> list[str]:
        """What differs now from the snapshot (empty when nothing changed)."""
        t, found = self.tensor, []
        if t.data is not self.data:
            found.append(".data was replaced by another array")
        if bits(t.data) != self.data_bits:
            found.append(".data changed")
        if (None if t.grad is None else bits(t.grad)) != self.grad_bits:
            found.append(f".grad changed (was {self.grad_copy!r}, now {t.grad!r})")
        if t.version != self.version:
            found.append(f".version changed from {self.version} to {t.version}")
        if t.requires_grad != self.requires_grad:
            found.append(".requires_grad changed")
        if t.grad_fn is not self.node:
            found.append(".grad_fn changed")
        return found


@dataclass(frozen=True)
class BadCase:
    action: Action
    error: type[BaseException] | tuple[type[BaseException], ...]
    phrases: tuple[str, ...]
    makes_no_tensor: bool = False  # a failing constructor leaves nothing to watch


def case(
    id: str,
    action: Action,
    error: type[BaseException] | tuple[type[BaseException], ...],
    *phrases: str,
    makes_no_tensor: bool = False,
    marks: Any = (),
) -> Any:
    assert len(phrases) >= 2, f"{id}: name the op and a shape or value"
    return pytest.param(BadCase(action, error, phrases, makes_no_tensor), id=id, marks=marks)


def run_case(bad: BadCase) -> None:
    """Run the action; check the error's type and message and that nothing changed."""
    snapshots: list[Snapshot] = []

    def watch(*tensors: Tensor) -> None:
        for t in tensors:
            assert isinstance(t, Tensor), f"watch() takes Tensors, got {type(t).__name__}"
            snapshots.append(Snapshot.of(t))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's warnings on NaN set-ups
        with pytest.raises(bad.error) as caught:
            bad.action(watch)
    assert snapshots or bad.makes_no_tensor, "the row watches no tensor: add watch(...)"
    message = str(caught.value).lower()
    missing = [p for p in bad.phrases if p.lower() not in message]
    assert not missing, f"message lacks {missing}: {caught.value}"
    changed = {f"#{i} {s.tensor.name or ''}": s.changes() for i, s in enumerate(snapshots)}
    changed = {who: what for who, what in changed.items() if what}
    assert not changed, f"the failed operation changed tensors: {changed}"


# --------------------------------------------------------------------------- building blocks


def leaf(shape: tuple[int, ...], name: str, seed: int = 0) -> Tensor:
    """A float64 leaf that requires grad, with distinct values."""
    values = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(values, requires_grad=True, name=name)


def binary(fn: Callable[[Any, Any], Any], shape_a: tuple[int, ...], shape_b: tuple[int, ...],
           reflected: bool = False) -> Action:
    """fn(a, b) with a a Tensor and b a Tensor, or (reflected) b a plain ndarray on the left."""

    def action(watch: Watch) -> None:
        a = leaf(shape_a, "a")
        if reflected:
            watch(a)
            fn(np.ones(shape_b), a)
        else:
            b = leaf(shape_b, "b", seed=1)
            watch(a, b)
            fn(a, b)

    return action


def unary(shape: tuple[int, ...], fn: Callable[[Tensor], Any]) -> Action:
    def action(watch: Watch) -> None:
        x = leaf(shape, "x")
        watch(x)
        fn(x)

    return action


def construct(*args: Any, **kwargs: Any) -> Action:
    return lambda watch: Tensor(*args, **kwargs)


class Doubler(Function):
    """A correct user op: x -> 2x."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return 2 * grad


class TwoGradients(Doubler):
    """Backward returns two gradients for its one input."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return grad, grad


class SummedGradient(Doubler):
    """Backward returns a gradient of the wrong shape: summed over axis 0."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return grad.sum(axis=0)


class ObjectGradient(Doubler):
    """Backward returns an object array of the right shape."""

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> Any:
        return np.full(grad.shape, "?", dtype=object)


def forward_returning(value: Any) -> type[Function]:
    class Returns(Doubler):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> Any:
            return value

    Returns.__name__ = f"Returns{type(value).__name__.capitalize()}"
    return Returns


def user_op(op: type[Function], shape: tuple[int, ...] = (2, 3)) -> Action:
    """Apply a user op to a leaf and run backward through it."""

    def action(watch: Watch) -> None:
        x = leaf(shape, "x")
        watch(x)
        op.apply(x).sum().backward()

    return action


def failing_branch_after_good_one(watch: Watch) -> None:
    """Backward reaches x through a healthy branch before the broken op raises: x.grad must
    still be untouched (no partial accumulation) and the graph still usable."""
    x = leaf((2, 3), "x")
    watch(x)
    (SummedGradient.apply(x).sum() + (x * 3.0).sum()).backward()


def backward_of_a_no_grad_result(watch: Watch) -> None:
    x = leaf((3,), "x")
    watch(x)
    with tg.no_grad():
        y = (x * 2.0).sum()
    y.backward()


def backward_twice(watch: Watch) -> None:
    x = leaf((2, 3), "x")
    y = (x * x).sum()
    y.backward()
    watch(x, y)
    y.backward()


def backward_after_in_place(watch: Watch) -> None:
    x, w = leaf((3,), "x"), Tensor(np.arange(3.0), name="w")
    y = (x * w).sum()
    w.mul_(2.0)  # changes an array the Mul saved for backward
    watch(x, w, y)
    y.backward()


def backward_after_in_place_on_detached(watch: Watch) -> None:
    x = leaf((3,), "x")
    y = (x * x).sum()
    alias = x.detach()  # shares x's array
    alias.mul_(10.0)
    watch(x, alias, y)
    y.backward()


def in_place_on_non_leaf(watch: Watch) -> None:
    """h.mul_(3) in grad mode is not recorded: a later backward would give dh/dx = 2, not 6.
    It must be refused (or recorded), never silently ignored."""
    x = leaf((3,), "x")
    h = x * 2.0
    watch(x, h)
    h.mul_(3.0)


def backward_with_grad(grad: Any) -> Action:
    def action(watch: Watch) -> None:
        x = leaf((2, 3), "x")
        y = x * 2.0
        watch(x, y)
        y.backward(grad)

    return action


def nan_in_forward_under_anomaly(watch: Watch) -> None:
    x = Tensor(np.array([1.0, -1.0, 2.0]), requires_grad=True, name="x")
    watch(x)
    with tg.detect_anomaly():
        x.log()


def inf_in_backward_under_anomaly(watch: Watch) -> None:
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True, name="x")
    watch(x)
    with tg.detect_anomaly():
        (x**0.5).sum().backward()  # forward sqrt(0) = 0 is fine; its slope 0.5 / sqrt(0) is not


# --------------------------------------------------------------------------- engine table

ARITHMETIC = [
    ("Add", operator.add),
    ("Sub", operator.sub),
    ("Mul", operator.mul),
    ("Div", operator.truediv),
    ("Maximum", tg.maximum),
]
ENGINE_CASES = [
    # binary ops: shapes that do not broadcast, Tensor op Tensor and ndarray op Tensor
    *(
        case(f"{name}-{a}-{b}", binary(fn, a, b), ValueError, name, str(a), str(b))
        for name, fn in ARITHMETIC
        for a, b in [((2, 3), (4,)), ((2, 3), (3, 2)), ((4, 1, 3), (2, 2))]
    ),
    *(
        case(f"{name}-reflected", binary(fn, (2, 3), (4,), reflected=True), ValueError,
             name, "(2, 3)", "(4,)")
        for name, fn in ARITHMETIC
    ),
    case("MatMul-2d", binary(operator.matmul, (2, 3), (4, 2)), ValueError,
         "MatMul", "(2, 3)", "(4, 2)"),
    case("MatMul-1d", binary(operator.matmul, (3,), (4,)), ValueError, "MatMul", "(3,)", "(4,)"),
    case("MatMul-matrix-vector", binary(operator.matmul, (2, 3), (2,)), ValueError,
         "MatMul", "(2, 3)", "(2,)"),
    case("MatMul-batched-inner", binary(operator.matmul, (2, 3, 4), (2, 5, 6)), ValueError,
         "MatMul", "(2, 3, 4)", "(2, 5, 6)"),
    case("MatMul-batched-batch", binary(operator.matmul, (2, 3, 4), (3, 4, 6)), ValueError,
         "MatMul", "(2, 3, 4)", "(3, 4, 6)"),
    case("MatMul-0d", binary(operator.matmul, (), (2, 3)), ValueError, "MatMul", "()", "(2, 3)"),
    case("MatMul-reflected", binary(operator.matmul, (2, 3), (4, 5), reflected=True), ValueError,
         "MatMul", "(4, 5)", "(2, 3)"),
    # reductions over axes that do not exist
    case("Sum-axis-2", unary((2, 3), lambda x: x.sum(axis=2)), ValueError,
         "Sum", "axis 2", "(2, 3)"),
    case("Sum-axis-tuple", unary((2, 3), lambda x: x.sum(axis=(0, 5))), ValueError,
         "Sum", "axis 5", "(2, 3)"),
    case("Mean-axis--3", unary((2, 3), lambda x: x.mean(axis=-3)), ValueError,
         "Mean", "axis -3", "(2, 3)"),
    case("Max-axis-5", unary((2, 3), lambda x: x.max(axis=5, keepdims=True)), ValueError,
         "Max", "axis 5", "(2, 3)"),
    case("Sum-axis-float", unary((2, 3), lambda x: x.sum(axis=1.5)), TypeError, "Sum", "float"),
    case("Sum-repeated-axis", unary((2, 3), lambda x: x.sum(axis=(0, 0))), ValueError,
         "Sum", "(0, 0)"),
    case("Max-empty", unary((0, 3), lambda x: x.max()), ValueError, "Max", "(0, 3)"),
    # shape ops
    case("Reshape-size", unary((2, 3), lambda x: x.reshape(4, 2)), ValueError,
         "Reshape", "size 6", "(4,2)"),
    case("Reshape-two-unknowns", unary((2, 3), lambda x: x.reshape(-1, -1)), ValueError,
         "Reshape", "(-1, -1)"),
    case("Reshape-str", unary((2, 3), lambda x: x.reshape("six")), TypeError, "Reshape", "str"),
    case("Transpose-axis-out-of-range", unary((2, 3), lambda x: x.transpose(0, 2)), ValueError,
         "Transpose", "axis 2", "(2, 3)"),
    case("Transpose-repeated", unary((2, 3), lambda x: x.transpose(0, 0)), ValueError,
         "Transpose", "(0, 0)"),
    case("Transpose-too-many", unary((2, 3), lambda x: x.transpose(0, 1, 2)), ValueError,
         "Transpose", "(0, 1, 2)"),
    # indexing out of range
    case("GetItem-int", unary((2, 3), lambda x: x[5]), IndexError, "GetItem", "index 5", "size 2"),
    case("GetItem-negative", unary((2, 3), lambda x: x[-3]), IndexError, "GetItem", "index -3"),
    case("GetItem-second-axis", unary((2, 3), lambda x: x[0, 9]), IndexError,
         "GetItem", "index 9", "axis 1"),
    case("GetItem-int-array", unary((2, 3), lambda x: x[np.array([0, 7, 1])]), IndexError,
         "GetItem", "index 7", "(2, 3)"),
    case("GetItem-int-tensor", unary((2, 3), lambda x: x[Tensor([1, -4])]), IndexError,
         "GetItem", "index -4", "(2, 3)"),
    case("GetItem-float-array", unary((2, 3), lambda x: x[np.array([0.5])]), IndexError,
         "GetItem", "integer", "(2, 3)"),
    case("GetItem-mask-length", unary((2, 3), lambda x: x[np.array([True, False, True])]),
         IndexError, "GetItem", "boolean index did not match", "(2, 3)"),
    # data that is not numbers
    case("Tensor-str", construct("abc"), TypeError, "Tensor", "<U3", makes_no_tensor=True),
    case("Tensor-None", construct(None), TypeError, "Tensor", "NoneType", makes_no_tensor=True),
    case("Tensor-dict", construct({"a": 1.0}), TypeError, "Tensor", "dict", makes_no_tensor=True),
    case("Tensor-mixed-list", construct([1.0, "2"]), TypeError, "Tensor", "<U32",
         makes_no_tensor=True),
    case("Tensor-ragged", construct([[1.0, 2.0], [3.0]]), TypeError, "Tensor", "inhomogeneous",
         makes_no_tensor=True),
    case("Tensor-complex", construct([1j, 2.0]), TypeError, "Tensor", "complex128",
         makes_no_tensor=True),
    case("Tensor-bad-dtype", construct([1.0], dtype="float65"), TypeError, "Tensor", "float65",
         makes_no_tensor=True),
    # object arrays
    case("Tensor-object-array", construct(np.array([1, "x"], dtype=object)), TypeError,
         "Tensor", "object", makes_no_tensor=True),
    case("Tensor-numeric-object-array", construct(np.array([1.0, 2.0], dtype=object)), TypeError,
         "Tensor", "object", makes_no_tensor=True),
    case("Tensor-dtype-object", construct([1.0, 2.0], dtype=object), TypeError, "Tensor", "object",
         makes_no_tensor=True),
    case("Add-object-array-constant",
         unary((3,), lambda x: x + np.array([1, 2, 3], dtype=object)), TypeError, "Add", "object"),
    case("forward-returns-object-array",
         user_op(forward_returning(np.array([1, "a"], dtype=object))), TypeError,
         "ReturnsNdarray", "object"),
    case("Add-str", unary((3,), lambda x: x + "abc"), TypeError, "Add", "<U3"),
    case("Mul-None", unary((3,), lambda x: x * None), TypeError, "Mul", "None"),
    # integer and bool data asked to require grad
    case("Tensor-int-requires-grad", construct([1, 2], requires_grad=True), TypeError,
         "Tensor", "int64", makes_no_tensor=True),
    case("Tensor-bool-requires-grad", construct([True], requires_grad=True), TypeError,
         "Tensor", "bool", makes_no_tensor=True),
    case("Tensor-uint8-requires-grad", construct(np.arange(3, dtype=np.uint8), requires_grad=True),
         TypeError, "Tensor", "uint8", makes_no_tensor=True),
    # pow with a non-scalar exponent
    case("Pow-Tensor-exponent", unary((2, 3), lambda x: x ** Tensor(2.0)), TypeError,
         "Pow", "Tensor"),
    case("Pow-array-exponent", unary((2, 3), lambda x: x ** np.ones(3)), TypeError, "Pow", "(3,)"),
    # backward misuse
    case("backward-non-scalar", backward_with_grad(None), RuntimeError, "backward", "(2, 3)"),
    case("backward-grad-shape", backward_with_grad(np.ones(3)), ValueError,
         "backward", "(3,)", "(2, 3)"),
    case("backward-grad-broadcastable", backward_with_grad(np.ones((1, 3))), ValueError,
         "backward", "(1, 3)", "(2, 3)"),
    case("backward-grad-str", backward_with_grad("abc"), TypeError, "backward", "str"),
    case("backward-without-grad",
         lambda watch: (watch(t := Tensor(1.0, name="c")), t.backward()),
         RuntimeError, "backward", "'c'"),
    case("backward-under-no-grad", backward_of_a_no_grad_result, RuntimeError,
         "backward", "does not require grad"),
    case("backward-twice", backward_twice, RuntimeError, "Mul", "freed", "retain_graph=True"),
    # a user Function that breaks the contract
    case("backward-count", user_op(TwoGradients), TypeError,
         "backward of TwoGradients", "2 gradient(s) for 1 input(s)"),
    case("backward-shape", user_op(SummedGradient), ValueError,
         "backward of SummedGradient", "(3,)", "(2, 3)"),
    case("backward-object-gradient", user_op(ObjectGradient), TypeError,
         "backward of ObjectGradient", "object"),
    case("backward-fails-after-healthy-branch", failing_branch_after_good_one, ValueError,
         "backward of SummedGradient", "(3,)"),
    case("forward-returns-str", user_op(forward_returning("hello")), TypeError,
         "ReturnsStr.forward", "str"),
    case("forward-returns-None", user_op(forward_returning(None)), TypeError,
         "ReturnsNonetype.forward", "NoneType"),
    case("forward-returns-dict", user_op(forward_returning({"a": 1})), TypeError,
         "ReturnsDict.forward", "dict"),
    # in-place changes
    *(
        case(f"{op}-shape", unary((2, 3), lambda x, op=op: getattr(x, op)(np.ones(4))), ValueError,
             op, "(4,)", "(2, 3)")
        for op in ("add_", "sub_", "mul_", "copy_")
    ),
    case("add_-grows-the-tensor", unary((2, 3), lambda x: x.add_(np.ones((3, 2, 3)))), ValueError,
         "add_", "(3, 2, 3)", "(2, 3)"),
    case("add_-float-into-int",
         lambda watch: (watch(t := Tensor([1, 2], name="counts")), t.add_(0.5)), TypeError,
         "add_", "float64", "int64"),
    case("in-place-then-backward", backward_after_in_place, RuntimeError,
         "backward of Mul", "'w'", "(3,)"),
    case("in-place-on-detached-then-backward", backward_after_in_place_on_detached, RuntimeError,
         "backward of Mul", "(3,)"),
    case("in-place-on-non-leaf-in-grad-mode", in_place_on_non_leaf, RuntimeError, "mul_", "(3,)"),
    # anomaly mode
    case("anomaly-forward-NaN", nan_in_forward_under_anomaly, FloatingPointError,
         "forward of Log", "NaN", "(3,)"),
    case("anomaly-backward-inf", inf_in_backward_under_anomaly, FloatingPointError,
         "backward of Pow", "inf", "(2,)"),
]


@pytest.mark.parametrize("bad", ENGINE_CASES)
def test_engine_rejects_bad_input(bad: BadCase) -> None:
    run_case(bad)


# --------------------------------------------------------------------------- library table


def module(name: str) -> ModuleType:
    """tinygrad_edu.<name>, or skip the row while that module does not exist yet."""
    try:
        return importlib.import_module(f"tinygrad_edu.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"tinygrad_edu.{name}":
            raise
        pytest.skip(f"tinygrad_edu.{name} is not written yet")


def loss_with(loss: str, labels: Any, scores_shape: tuple[int, ...] = (4, 3)) -> Action:
    def action(watch: Watch) -> None:
        losses = module("losses")
        scores = leaf(scores_shape, "scores")
        watch(scores, *([labels] if isinstance(labels, Tensor) else []))
        getattr(losses, loss)(scores, labels).backward()

    return action


def gradcheck_on(fn: Callable[[Tensor], Any]) -> Action:
    def action(watch: Watch) -> None:
        checks = module("checks")
        x = leaf((3,), "x")
        watch(x)
        checks.gradcheck(fn, [x])

    return action


def sgd_with(params: Callable[[], list[Any]], lr: float = 0.1) -> Action:
    def action(watch: Watch) -> None:
        optim = module("optim")
        given = params()
        watch(*[p for p in given if isinstance(p, Tensor)])
        optim.SGD(given, lr=lr)

    return action


def sgd_step_with_nan_gradient(watch: Watch) -> None:
    optim = module("optim")
    w, b = leaf((2, 3), "W"), leaf((3,), "b", seed=1)
    (w.sum() + b.sum()).backward()
    w.grad[0, 1] = np.nan
    sgd = optim.SGD([w, b], lr=0.1, momentum=0.9)
    watch(w, b)
    sgd.step()


LIBRARY_CASES = [
    *(
        case(f"{loss}-{what}", loss_with(loss, labels, shape), ValueError, loss, *values)
        for loss in ("svm_loss", "softmax_cross_entropy")
        for what, labels, shape, values in [
            ("label-too-large", np.array([0, 1, 7, 2]), (4, 3), ("7",)),
            ("label-negative", np.array([0, -1, 2, 1]), (4, 3), ("-1",)),
            ("label-float", np.array([0.0, 1.5, 2.0, 1.0]), (4, 3), ("float64",)),
            ("label-count", np.array([0, 1, 2]), (4, 3), ("3 label", "(4, 3)")),
            ("scores-1d", np.array([0, 1, 2]), (3,), ("(3,)",)),
            ("scores-3d", np.array([0, 1]), (2, 3, 4), ("(2, 3, 4)",)),
        ]
    ),
    case("gradcheck-returns-ndarray", gradcheck_on(lambda x: (x * x).data), TypeError,
         "gradcheck", "ndarray"),
    case("gradcheck-returns-float", gradcheck_on(lambda x: float((x * x).sum().item())), TypeError,
         "gradcheck", "float"),
    case("SGD-ndarray", sgd_with(lambda: [leaf((3,), "W"), np.ones(3)]), TypeError,
         "SGD", "ndarray"),
    case("SGD-no-requires-grad", sgd_with(lambda: [leaf((3,), "W"), Tensor(np.ones(3), name="c")]),
         TypeError, "SGD", "requires_grad"),
    case("SGD-nan-lr", sgd_with(lambda: [leaf((3,), "W")], lr=float("nan")), ValueError,
         "SGD", "nan"),
    case("SGD-step-nan-gradient", sgd_step_with_nan_gradient, (ValueError, FloatingPointError),
         "SGD", "nan", "'W'"),
]


@pytest.mark.parametrize("bad", LIBRARY_CASES)
def test_library_rejects_bad_input(bad: BadCase) -> None:
    run_case(bad)


# --------------------------------------------------------------------------- the checker itself


def test_checker_catches_a_changed_tensor() -> None:
    """The catalogue is only as good as its checker: a row that changes a watched tensor
    before raising must fail it."""

    def sloppy(watch: Watch) -> None:
        x = leaf((3,), "x")
        watch(x)
        x.add_(1.0)
        x.sum(axis=4)

    with pytest.raises(AssertionError, match="changed tensors.*version"):
        run_case(BadCase(sloppy, ValueError, ("Sum", "axis 4")))


def test_checker_catches_a_vague_message() -> None:
    with pytest.raises(AssertionError, match="message lacks"):
        run_case(BadCase(unary((2, 3), lambda x: x.sum(axis=2)), ValueError, ("Sum", "(9, 9)")))
