"""Property-based comparison with PyTorch: random programs of ops, same values, same gradients.

Hypothesis draws a small program: up to three leaves of mutually broadcastable shapes (ranks
0 to 3, size-1 axes, empty axes where numpy allows them) and a few steps, each an op applied
to earlier values (or to a fresh leaf of a compatible shape): unary exp, log(|x| + 1), abs,
neg, x**2, x**3, sum/mean/max over random axes with random keepdims, transpose, reshape,
indexing; binary +, -, *, /, maximum and matmul (1-D, 2-D and batched), with scalars on
either side. The same program runs in tinygrad_edu and in PyTorch (float64); the output and
every leaf's gradient (for a random cotangent) must agree to ~1e-10 relative.

Where the derivative is undefined both libraries follow the same convention, so kinks are
*not* avoided in the comparison with torch (hypothesis likes ties: zeros, equal leaves):
  max        the gradient is split equally among tied maxima: torch.amax, not torch.max(dim),
             which routes all of it to one index;
  maximum    half to each input where a == b (torch.maximum);
  abs        0 at 0 (torch.abs: sign(0) = 0).
Legitimate differences, kept out of the random draws:
  * axis=() means "reduce nothing" in numpy but "reduce everything" in torch: never drawn;
  * tinygrad_edu's max refuses any zero-size input, while numpy and torch reduce over
    non-empty axes of such an array: max is drawn only on non-empty values;
  * division is drawn as a / (|b| + 1) and log as log(|x| + 1), so no value is divided by ~0
    or leaves log's domain (both libraries would agree on inf/NaN, but nothing is learned).

Independently of torch, the same programs pass a centered-difference check (tests/helpers_fd)
at points away from kinks (every |x| under abs, |a - b| under maximum and the gap between the
two largest entries under max is > 1e-3), and the library's own gradcheck. float32 programs
stay float32.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch
from helpers_fd import numerical_grad
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor

ORACLE = settings(
    deadline=None,
    max_examples=80,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------- the programs


@dataclass(frozen=True)
class Step:
    """One op of a program. An int operand is the index of an earlier value of the program
    (see `Program.entries`); a float operand is a constant. `options` are the op's settings."""

    op: str
    operands: tuple[int | float, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Program:
    """Values in the order they are made: `None` entries are leaves (taking the next array of
    `leaves`), the others are steps over earlier values."""

    entries: list[Step | None]
    leaves: list[np.ndarray]
    cotangent: np.ndarray  # the upstream gradient of the last value


def _reduce_dims(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _torch_index(index: Any) -> Any:
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


# op name -> (tinygrad_edu version, torch version); both take values, then the step's options
OPS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "exp": (lambda x: x.exp(), torch.exp),
    "log1abs": (lambda x: (x.abs() + 1.0).log(), lambda x: torch.log(torch.abs(x) + 1.0)),
    "abs": (lambda x: x.abs(), torch.abs),
    "neg": (lambda x: -x, torch.neg),
    "square": (lambda x: x**2, lambda x: x**2),
    "cube": (lambda x: x**3, lambda x: x**3),
    "sum": (
        lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.sum(x, dim=_reduce_dims(x, axis), keepdim=keepdims),
    ),
    "mean": (
        lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.mean(x, dim=_reduce_dims(x, axis), keepdim=keepdims),
    ),
    "max": (
        lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: torch.amax(x, dim=_reduce_dims(x, axis), keepdim=keepdims),
    ),
    "transpose": (
        lambda x, axes: x.transpose(*(axes or ())),  # Tensor.transpose(None) is refused
        lambda x, axes: x.permute(axes if axes is not None else tuple(reversed(range(x.ndim)))),
    ),
    "reshape": (lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape)),
    "getitem": (lambda x, index: x[index], lambda x, index: x[_torch_index(index)]),
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (  # Tensor has no __abs__ (abs(t) fails): .abs() on Tensors
        lambda a, b: a / (b.abs() + 1.0 if isinstance(b, Tensor) else abs(b) + 1.0),
        lambda a, b: a / (abs(b) + 1.0),
    ),
    "maximum": (tg.maximum, torch.maximum),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b),
}
UNARY = ["exp", "log1abs", "abs", "neg", "square", "cube"]
REDUCTIONS = ["sum", "mean", "max"]
ELEMENTWISE = ["add", "sub", "mul", "div", "maximum"]
CONSTANT_OK = ["add", "sub", "mul", "div"]  # torch.maximum takes no Python float


def run(program: Program, library: str, leaves: list[Any]) -> list[Any]:
    """Every value of the program, computed by one library ("ours" or "torch")."""
    pick = 0 if library == "ours" else 1
    next_leaf = iter(leaves)
    values: list[Any] = []
    for step in program.entries:
        if step is None:
            values.append(next(next_leaf))
            continue
        args = [values[i] if isinstance(i, int) else i for i in step.operands]
        values.append(OPS[step.op][pick](*args, **step.options))
    return values


def numpy_shape(op: str, shapes: list[tuple[int, ...]], options: dict[str, Any]) -> tuple[int, ...]:
    """The shape a step produces, from numpy's rules (what the draws must respect)."""
    arrays = [np.zeros(s) for s in shapes]
    if op in ELEMENTWISE:
        return np.broadcast_shapes(*shapes)
    if op == "matmul":
        return np.matmul(*arrays).shape
    if op in REDUCTIONS:
        return arrays[0].sum(**options).shape
    if op == "transpose":
        return np.transpose(arrays[0], options["axes"]).shape
    if op == "reshape":
        return arrays[0].reshape(options["shape"]).shape
    if op == "getitem":
        return arrays[0][options["index"]].shape
    return shapes[0]


@st.composite
def axes_for(draw: st.DrawFn, ndim: int) -> Any:
    """None, one axis (maybe negative) or a tuple of distinct axes; never () (see docstring)."""
    if ndim == 0 or draw(st.booleans()):
        return None
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = [a - ndim if draw(st.booleans()) else a for a in chosen]
    return signed[0] if len(signed) == 1 and draw(st.booleans()) else tuple(signed)


@st.composite
def step_for(draw: st.DrawFn, shapes: list[tuple[int, ...]], min_side: int
             ) -> tuple[Step, list[tuple[int, ...]]]:
    """A step over the current values' shapes, and the shapes of any fresh leaves it needs."""
    i = draw(st.integers(0, len(shapes) - 1))
    x = shapes[i]
    kinds = ["unary", "reduce", "elementwise", "shape"] + (["matmul"] if len(x) >= 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "unary":
        return Step(draw(st.sampled_from(UNARY)), (i,)), []
    if kind == "reduce":
        ops = REDUCTIONS if np.prod(x) > 0 else ["sum", "mean"]  # see docstring: empty max
        options = {"axis": draw(axes_for(len(x))), "keepdims": draw(st.booleans())}
        return Step(draw(st.sampled_from(ops)), (i,), options), []
    if kind == "shape":
        return draw(shape_step(i, x))
    if kind == "matmul":
        return draw(matmul_step(i, x, len(shapes), min_side))
    op = draw(st.sampled_from(ELEMENTWISE))
    partners = [j for j, s in enumerate(shapes) if _broadcasts(s, x)]
    source = draw(st.sampled_from(["value", "fresh"] + (["constant"] if op in CONSTANT_OK else [])))
    if source == "constant":
        c = draw(st.sampled_from([-1.5, 0.5, 2.0]))
        return Step(op, (i, c) if draw(st.booleans()) else (c, i)), []
    if source == "value" and partners:
        j = draw(st.sampled_from(partners))
    else:
        fresh = draw(hnp.mutually_broadcastable_shapes(
            num_shapes=1, base_shape=x, min_dims=0, max_dims=3, min_side=min_side, max_side=3))
        j = len(shapes)
        return Step(op, (i, j) if draw(st.booleans()) else (j, i)), [fresh.input_shapes[0]]
    return Step(op, (i, j) if draw(st.booleans()) else (j, i)), []


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@st.composite
def shape_step(draw: st.DrawFn, i: int, x: tuple[int, ...]) -> tuple[Step, list]:
    choice = draw(st.sampled_from(["transpose", "reshape", "getitem"] if x else ["reshape"]))
    if choice == "transpose":
        axes = draw(st.none() | st.permutations(range(len(x))).map(tuple))
        return Step("transpose", (i,), {"axes": axes}), []
    if choice == "reshape":
        target = draw(st.sampled_from([(-1,), x + (1,), (1,) + x, tuple(reversed(x))]))
        return Step("reshape", (i,), {"shape": target}), []
    if x[0] == 0:
        index: Any = slice(None)
    else:  # an int, a slice, or an integer array with repeats and negative entries
        index = draw(st.one_of(
            st.integers(-x[0], x[0] - 1),
            st.builds(slice, st.integers(0, x[0]), st.none()),
            st.lists(st.integers(-x[0], x[0] - 1), min_size=1, max_size=4).map(np.array),
        ))
    return Step("getitem", (i,), {"index": index}), []


@st.composite
def matmul_step(draw: st.DrawFn, i: int, x: tuple[int, ...], n_values: int, min_side: int
                ) -> tuple[Step, list]:
    """x @ W or W @ x with a fresh W of a compatible shape (maybe 1-D, maybe batched)."""
    k = draw(st.integers(min_side, 3))
    batch = draw(st.sampled_from([(), (1,), x[:-2] if len(x) > 2 else (2,)]))
    if draw(st.booleans()):  # x @ W: W's second-to-last (or only) axis is x's last
        w = draw(st.sampled_from([(x[-1],), batch + (x[-1], k)]))
        return Step("matmul", (i, n_values)), [w]
    inner = x[-2] if len(x) >= 2 else x[0]  # W @ x: W's last axis is x's second-to-last
    w = draw(st.sampled_from([(inner,), batch + (k, inner)]))
    return Step("matmul", (n_values, i)), [w]


def values_for(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    # Hypothesis favours awkward values (0, repeated numbers): ties are welcome here.
    return hnp.arrays(np.float64, shape, elements=st.floats(-1.5, 1.5, allow_subnormal=False))


@st.composite
def programs(draw: st.DrawFn, min_side: int = 0, random_values: bool = False) -> Program:
    """A random program. With `random_values`, leaves are uniform noise from a drawn seed
    (no ties, for finite differences) instead of hypothesis's awkward values."""
    shapes = list(draw(hnp.mutually_broadcastable_shapes(
        num_shapes=draw(st.integers(1, 3)), min_dims=0, max_dims=3, min_side=min_side,
        max_side=3)).input_shapes)
    entries: list[Step | None] = [None] * len(shapes)
    for _ in range(draw(st.integers(1, 5))):
        step, fresh = draw(step_for(shapes, min_side))
        entries += [None] * len(fresh)  # fresh leaves, numbered as step_for expected
        shapes += fresh
        entries.append(step)
        operand_shapes = [shapes[j] for j in step.operands if isinstance(j, int)]
        shapes.append(numpy_shape(step.op, operand_shapes, step.options))
    leaf_shapes = [s for s, e in zip(shapes, entries) if e is None]
    if random_values:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        leaves = [rng.uniform(-1.5, 1.5, s) for s in leaf_shapes]
    else:
        leaves = [draw(values_for(s)) for s in leaf_shapes]
    cotangent = np.random.default_rng(len(entries)).uniform(0.5, 1.5, shapes[-1])
    return Program(entries, leaves, cotangent)


# --------------------------------------------------------------------------- running both


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """numpy's warnings for NaN from a mean over an empty axis are expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def ours(program: Program) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The last value and each leaf's gradient, by tinygrad_edu."""
    leaves = [Tensor(a.copy(), requires_grad=True) for a in program.leaves]
    with np.errstate(all="ignore"):
        out = run(program, "ours", leaves)[-1]
        out.backward(program.cotangent)
    return out.data, [leaf.grad for leaf in leaves]


def theirs(program: Program) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The last value and each leaf's gradient, by PyTorch."""
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in program.leaves]
    out = run(program, "torch", leaves)[-1]
    out.backward(torch.from_numpy(program.cotangent))
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in leaves]


def assert_close(actual: np.ndarray | None, expected: np.ndarray | None, what: str,
                 rtol: float = 1e-10) -> None:
    """Equal shapes, float64, and values within rtol (absolute: rtol times the largest entry,
    for sums whose order differs between the libraries)."""
    if expected is None:
        assert actual is None, f"{what}: got a gradient where torch has none"
        return
    assert actual is not None, f"{what}: no gradient where torch has one"
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == np.float64, f"{what}: dtype {actual.dtype}"
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * 1e-2 * scale,
                               equal_nan=True, err_msg=what)


@ORACLE
@given(programs())
def test_random_programs_match_torch(program: Program) -> None:
    with quiet():
        value, grads = ours(program)
        expected_value, expected_grads = theirs(program)
    assert_close(value, expected_value, "value")
    for i, (grad, expected) in enumerate(zip(grads, expected_grads)):
        assert_close(grad, expected, f"gradient of leaf {i}")


@ORACLE
@given(programs())
def test_random_programs_keep_float32(program: Program) -> None:
    """float32 leaves give float32 values and gradients (no silent promotion to float64 by a
    constant, a tie count or a division), close to the float64 results."""
    leaves = [Tensor(a.astype(np.float32), requires_grad=True) for a in program.leaves]
    with quiet(), np.errstate(all="ignore"):
        out = run(program, "ours", leaves)[-1]
        out.backward(program.cotangent)
        value64, grads64 = ours(program)
    assert out.dtype == np.float32
    assume(np.all(np.isfinite(value64)) and np.all(np.abs(value64) < 1e4))
    np.testing.assert_allclose(out.data, value64, rtol=1e-4, atol=1e-4)
    for i, (leaf, grad64) in enumerate(zip(leaves, grads64)):
        if grad64 is None:
            assert leaf.grad is None
            continue
        assert leaf.grad.dtype == np.float32, f"gradient of leaf {i} is {leaf.grad.dtype}"


def test_the_draws_reach_every_op_and_shape_kind() -> None:
    """The strategy itself: a bug in it must not silently stop drawing some op."""
    seen: set[str] = set()

    @settings(ORACLE, max_examples=300)
    @given(programs())
    def collect(program: Program) -> None:
        steps = [step for step in program.entries if step is not None]
        seen.update(step.op for step in steps)
        shapes = [a.shape for a in program.leaves]
        seen.update(f"rank {len(s)}" for s in shapes)
        seen.update("empty" for s in shapes if 0 in s)
        seen.update("size-1 axis" for s in shapes if 1 in s)
        leaf_ranks = {i: len(program.leaves[n].shape)
                      for n, i in enumerate(i for i, e in enumerate(program.entries) if e is None)}
        seen.update("batched matmul" for step in steps if step.op == "matmul"
                    and any(leaf_ranks.get(j, 0) == 3 for j in step.operands))
        seen.update("constant" for step in steps if any(type(j) is float for j in step.operands))

    collect()
    assert seen >= set(OPS) | {"rank 0", "rank 1", "rank 2", "rank 3", "empty", "size-1 axis",
                               "batched matmul", "constant"}


# --------------------------------------------------------------------------- finite differences


def kink_margin(program: Program) -> float:
    """How far the program's values are from every kink: the smallest |x| under abs (and
    division's |b|), |a - b| under maximum, and gap between the two largest entries under max."""
    with np.errstate(all="ignore"):
        values = [v.data for v in run(program, "ours", [Tensor(a) for a in program.leaves])]
    margins = [np.inf]
    for step in program.entries:
        if step is None:
            continue
        args = [values[i] if isinstance(i, int) else np.asarray(i) for i in step.operands]
        if step.op in ("abs", "log1abs"):
            margins.append(np.abs(args[0]).min(initial=np.inf))
        elif step.op == "div":
            margins.append(np.abs(args[1]).min(initial=np.inf))
        elif step.op == "maximum":
            margins.append(np.abs(args[0] - args[1]).min(initial=np.inf))
        elif step.op == "max":
            margins.append(_gap_to_runner_up(args[0], step.options["axis"]))
    return float(min(margins))


def _gap_to_runner_up(x: np.ndarray, axis: Any) -> float:
    axes = tuple(range(x.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % x.ndim for a in axes)
    kept = [a for a in range(x.ndim) if a not in axes]
    rows = np.transpose(x, kept + list(axes)).reshape(-1, int(np.prod([x.shape[a] for a in axes])))
    if rows.shape[1] < 2 or rows.size == 0:
        return np.inf
    top_two = np.sort(rows, axis=1)[:, -2:]
    return float((top_two[:, 1] - top_two[:, 0]).min())


def smooth_programs() -> st.SearchStrategy[Program]:
    """Programs with no empty leaves or output, at random points at least 1e-3 from every
    kink, with moderate values (so that eps = 1e-6 differences are accurate to ~1e-8)."""

    def fine(program: Program) -> bool:
        with np.errstate(all="ignore"):
            out = run(program, "ours", [Tensor(a) for a in program.leaves])[-1].data
        return out.size > 0 and bool(np.all(np.abs(out) < 1e6)) and kink_margin(program) > 1e-3

    return programs(min_side=1, random_values=True).filter(fine)


@ORACLE
@given(smooth_programs())
def test_random_programs_match_centered_differences(program: Program) -> None:
    _, grads = ours(program)
    arrays = [a.copy() for a in program.leaves]

    def loss() -> float:
        with tg.no_grad():
            out = run(program, "ours", [Tensor(a) for a in arrays])[-1]
        return float((out.data * program.cotangent).sum())

    for i, (array, grad) in enumerate(zip(arrays, grads)):
        numeric = numerical_grad(loss, array)
        if grad is None:  # the leaf does not reach the output
            np.testing.assert_array_equal(numeric, 0.0)
            continue
        scale = max(1.0, float(np.abs(grad).max()))
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * scale,
                                   err_msg=f"leaf {i}")


@settings(ORACLE, max_examples=30)
@given(smooth_programs())
def test_random_programs_pass_the_library_gradcheck(program: Program) -> None:
    checks = pytest.importorskip("tinygrad_edu.checks")
    inputs = [Tensor(a.copy(), requires_grad=True) for a in program.leaves]
    assert checks.gradcheck(lambda *leaves: run(program, "ours", list(leaves))[-1], inputs)


def test_gradcheck_accepts_an_empty_output() -> None:
    """Nothing to compare is a pass (as torch.autograd.gradcheck), not a culprit (a fixed
    bug: gradcheck indexed the first of zero cotangents, then blamed GetItem)."""
    checks = pytest.importorskip("tinygrad_edu.checks")
    x = Tensor([0.5, -0.7], requires_grad=True)
    assert checks.gradcheck(lambda t: t[2:] * 3.0, [x])


# --------------------------------------------------------------------------- ties, explicitly


def both(fn_ours: Callable[..., Tensor], fn_torch: Callable[..., torch.Tensor],
         *arrays: np.ndarray) -> list[np.ndarray]:
    """Gradients of sum(fn(*arrays)) by tinygrad_edu, checked equal to torch's; returned."""
    xs = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    fn_ours(*xs).sum().backward()
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    fn_torch(*ts).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.grad, t.grad.numpy())
    return [x.grad for x in xs]


def test_max_splits_the_gradient_among_ties_like_torch_amax() -> None:
    (g,) = both(lambda x: x.max(), torch.amax, [1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    (g,) = both(lambda x: x.max(), torch.amax, [[2.0, 2.0], [2.0, 2.0]])
    np.testing.assert_array_equal(g, np.full((2, 2), 0.25))


def test_max_along_axes_splits_ties_per_slice() -> None:
    x = [[1.0, 1.0, 0.0], [2.0, 5.0, 5.0]]
    (g,) = both(lambda t: t.max(axis=1), lambda t: torch.amax(t, dim=1), x)
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    (g,) = both(lambda t: t.max(axis=0, keepdims=True), lambda t: torch.amax(t, 0, True), x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    cube = np.zeros((2, 2, 3))
    cube[0, :, 0] = 1.0  # three-way tie? no: two entries of slice 0 tie at 1
    (g,) = both(lambda t: t.max(axis=(0, 2)), lambda t: torch.amax(t, dim=(0, 2)), cube)
    expected = np.zeros((2, 2, 3))
    expected[0, :, 0] = 1.0  # each (a, c) slice for b has one winner, the tie is across b
    np.testing.assert_array_equal(g, expected)
    flat = np.zeros((2, 2, 3))  # all six entries of every slice tie
    (g,) = both(lambda t: t.max(axis=(0, 2)), lambda t: torch.amax(t, dim=(0, 2)), flat)
    np.testing.assert_array_equal(g, np.full((2, 2, 3), 1 / 6))


def test_maximum_gives_half_to_each_input_at_ties_like_torch() -> None:
    ga, gb = both(tg.maximum, torch.maximum, [1.0, 2.0, 3.0], [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 0.5])
    # broadcast: b's single entry ties with two entries of a and beats one
    ga, gb = both(tg.maximum, torch.maximum, [[1.0, 2.0], [0.0, 2.0]], [2.0])
    np.testing.assert_array_equal(ga, [[0.0, 0.5], [0.0, 0.5]])
    np.testing.assert_array_equal(gb, [3.0])


def test_maximum_of_a_tensor_with_itself_has_slope_one() -> None:
    (g,) = both(lambda x: tg.maximum(x, x), lambda t: torch.maximum(t, t), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_abs_has_slope_zero_at_zero_like_torch() -> None:
    (g,) = both(lambda x: x.abs(), torch.abs, [-2.0, 0.0, -0.0, 3.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 0.0, 1.0])


def test_vector_dot_product_gradient() -> None:
    """1-D @ 1-D: a 0-d result whose gradient must be promoted on both sides (a fixed bug)."""
    ga, gb = both(lambda a, b: a @ b, lambda a, b: a @ b, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(ga, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(gb, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("axes", list(itertools.permutations(range(3))) + [None])
def test_every_transpose_of_a_3d_tensor_matches_torch(axes: tuple[int, ...] | None) -> None:
    """The random draws rarely reach the two 3-cycles, the permutations whose inverse is not
    themselves; check all of them here."""
    x = np.arange(24.0).reshape(2, 3, 4)
    weights = np.random.default_rng(0).standard_normal(24)
    (g,) = both(
        lambda t: t.transpose(*(axes or ())).reshape(-1) * Tensor(weights),
        lambda t: t.permute(axes or (2, 1, 0)).reshape(-1) * torch.from_numpy(weights),
        x,
    )
    order = np.transpose(np.arange(24).reshape(2, 3, 4), axes).reshape(-1)
    expected = np.zeros(24)
    expected[order] = weights
    np.testing.assert_array_equal(g, expected.reshape(2, 3, 4))
