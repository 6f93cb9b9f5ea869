"""The cases of bench_verification.py: planted bugs in users' custom ops, and correct but
numerically hard controls.

A case's `graph(o, *inputs)` builds the function to check from built-in ops (operators and
`o.<name>` helpers) and the case's custom ops (`o.op.<Name>`); `o` is the backend (ours or
PyTorch), so the same graph runs on both. `culprit` names the op holding the bug, FN when the
fault lies in fn itself, None for a control.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _verification_ops import (
    NumpyOp,
    add,
    batched_matmul_op,
    cached_tanh,
    ce_ignoring_grad,
    cross_entropy_op,
    div,
    dropout,
    finite_difference_softplus,
    hinge_op,
    in_float32,
    in_place,
    layernorm_op,
    linear_op,
    logsumexp_op,
    max_op,
    maximum,
    mul,
    naive_sigmoid,
    naive_softmax_op,
    noisy_double,
    norm_op,
    op,
    reduce_to,
    residual_op,
    running_center,
    scale_shift,
    sigmoid,
    softmax_op,
    warmup_scale,
    window_sum_op,
)

FN = "fn"  # the culprit of a bug that lives in fn, not in one op

BUG_KINDS = ("graph", "point", "broadcast", "scale", "structural", "non-function", "float32",
             "upstream")
CONTROL_KINDS = ("kink", "steep", "float32", "scale", "mlp", "point", "broadcast", "built-in")


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    culprit: str | None  # the buggy op's name; FN; None for a correct control
    graph: Callable[..., Any]
    inputs: tuple[np.ndarray, ...]
    ops: tuple[NumpyOp | Callable[[], NumpyOp], ...] = ()

    @property
    def is_bug(self) -> bool:
        return self.culprit is not None

    def fresh_ops(self) -> list[NumpyOp]:
        """The ops with fresh state (stateful ops are given as factories)."""
        return [o if isinstance(o, NumpyOp) else o() for o in self.ops]

    def fresh_inputs(self) -> list[np.ndarray]:
        return [a.copy() for a in self.inputs]


# ----------------------------------------------------------------------------- inputs


def randn(*shape: int, seed: int, scale: float = 1.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal(shape)


def uniform(low: float, high: float, *shape: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape)


def f32(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(a.astype(np.float32) for a in arrays)


N, D, H, C = 6, 5, 8, 4
LABELS = np.array([0, 3, 1, 2, 3, 0])
MLP_INPUTS = (randn(N, D, seed=1), randn(D, H, seed=2, scale=0.6), randn(H, seed=3, scale=0.3),
              randn(H, C, seed=4, scale=0.6), randn(C, seed=5, scale=0.3))
WEIGHTS = randn(3, 4, seed=9)  # fixed weights that make a scalar of a (3, 4) output
# Points where log, 1/x and sqrt are so steep that the one-sided slopes (step 1e-6) differ by
# 1% or more: a 0.4% error lies between them.
STEEP = np.array([1e-4, 0.8e-4, 0.9e-4])
STEEP_NEG = np.array([1e-4, -0.9e-4, 1.2e-4])
STEEP_SQRT = np.array([4e-5, 5e-5, 3e-5])
WIDE = np.array([[-3.1, -1.7, -0.6, 0.4], [1.2, 1.9, 2.6, 3.4], [-2.3, 0.9, 1.6, 4.2]])


def with_zeros(x: np.ndarray, *flat: int) -> np.ndarray:
    x = x.copy()
    x.flat[list(flat)] = 0.0
    return x


# ----------------------------------------------------------------------------- graphs


def weighted(o: Any, y: Any) -> Any:
    """A scalar from a (3, 4) output with unequal weights (the upstream gradient is not 1)."""
    return o.sum(y * o.const(WEIGHTS[: y.shape[0], : y.shape[-1]]))


def mlp(act: Callable[[Any, Any], Any], loss: str = "builtin",
        scale: float = 1.0) -> Callable[..., Any]:
    """Two-layer perceptron: act(x W1 + b1) W2 + b2, then softmax cross-entropy (built-in ops,
    or the case's CrossEntropy op with loss="op")."""
    def graph(o: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        scores = act(o, x @ w1 + b1) @ w2 + b2
        if loss == "op":
            return o.op.CrossEntropy(scores)
        return o.cross_entropy(scores, LABELS) * scale
    return graph


def mlp_op(name: str) -> Callable[[Any, Any], Any]:
    return lambda o, h: getattr(o.op, name)(h)


def unary_sum(name: str) -> Callable[..., Any]:
    return lambda o, x: o.sum(getattr(o.op, name)(x))


def unary_weighted(name: str) -> Callable[..., Any]:
    return lambda o, x: weighted(o, getattr(o.op, name)(x))


def binary_weighted(name: str) -> Callable[..., Any]:
    return lambda o, a, b: weighted(o, getattr(o.op, name)(a, b))


def deep_chain(o: Any, x: Any, *ws: Any) -> Any:
    h = x
    for w in ws:
        h = o.op.Tanh(h @ w)
    return o.mean(o.op.Cube(h))


DEEP_INPUTS = (randn(4, 6, seed=11),) + tuple(randn(6, 6, seed=12 + k, scale=0.5)
                                              for k in range(4))


def scaled(factor: float, r: np.ndarray) -> np.ndarray:
    return factor * r


def one_element(r: np.ndarray, index: int, factor: float) -> np.ndarray:
    r = np.array(r, dtype=float, copy=True) if r.dtype != np.float32 else r.copy()
    r.flat[index] *= factor
    return r


def gelu_missing_3(x: np.ndarray, y: np.ndarray, g: np.ndarray, r: np.ndarray) -> np.ndarray:
    c = 0.7978845608028654
    t = np.tanh(c * (x + 0.044715 * x**3))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 0.044715 * x**2))


# ----------------------------------------------------------------------------- more graphs


def mlp_linear(o: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    return o.cross_entropy(o.relu(o.op.Linear(x, w1, b1)) @ w2 + b2, LABELS)


def mlp_residual(o: Any, x: Any, w: Any, w2: Any) -> Any:
    return o.cross_entropy(o.op.Residual(x, w) @ w2, LABELS)


def mlp_cached(o: Any, x: Any, w1: Any, w2: Any) -> Any:
    return o.cross_entropy(o.op.CachedTanh(o.op.CachedTanh(x @ w1) @ w2), LABELS)


def mlp_shared_grad(o: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    h = x @ w1 + b1
    skip = h * 0.5  # created first, so its backward runs after the buggy op's
    return o.cross_entropy((o.op.TanhWritesGrad(h) + skip) @ w2 + b2, LABELS)


def shared_grad(o: Any, x: Any, y: Any) -> Any:
    other = y * y  # created first: its backward receives the same gradient array, later
    return weighted(o, o.op.TanhWritesGrad(x) + other)


def nll_of_probabilities(o: Any, s: Any) -> Any:
    """-mean log p[label] with p = Softmax(s), through a Log op at p ~ 1e-4."""
    return -o.mean(o.pick(o.op.Log(o.op.Softmax(s)), LABELS[:4]))


def row_weighted(name: str) -> Callable[..., Any]:
    return lambda o, x: o.sum(getattr(o.op, name)(x) * o.const(np.array([1.0, -2.0, 0.5])))


def loss_op(o: Any, s: Any) -> Any:
    return o.op.CrossEntropy(s)


def fn_noise(o: Any, x: Any) -> Any:
    return o.sum(x * x) + o.noise(1e-6)


def fn_dropout(o: Any, x: Any) -> Any:
    return weighted(o, x * o.dropout_mask(x.shape))


def fn_shifts_input(o: Any, x: Any) -> Any:
    o.shift_(x, 1e-3)
    return weighted(o, x * x * x)


def big_weighted(o: Any, y: Any) -> Any:
    return o.sum(y * o.const(W234))


# ----------------------------------------------------------------------------- data


NEAR0 = np.array([[0.01, -0.03, 0.04, 0.8], [-0.6, 0.02, 1.3, -0.045], [0.3, -1.1, 0.035, 2.0]])
SMALL = WIDE.copy()
SMALL.flat[[1, 5, 8]] = [4e-4, -7e-4, -3e-4]
MIXED = np.array([[0.7, 1.3, -0.9, 1.8], [0.55, -1.6, 1.1, 0.8], [1.4, 0.6, 1.9, -0.75]])
W234 = randn(2, 3, 4, seed=24)
BIG32 = np.array([[-95.0, -20.0, 3.0, 92.0], [100.0, -0.5, 60.0, -101.0],
                  [89.0, 97.0, -3.0, 15.0]], dtype=np.float32)
HUGE32 = (randn(3, 4, seed=61) * 1e20).astype(np.float32)
ZEROS = with_zeros(randn(3, 4, seed=51), 1, 6, 11)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.1], [2.0, -1.0, 0.0, 1.9]])
NEAR_TIES = TIES + np.array([[0, 0, 2e-7, 0], [0, -3e-7, 1e-7, 0], [0, 0, 0, 0]])
NEAR_KINK = randn(3, 4, seed=52)
NEAR_KINK.flat[[0, 3, 7, 10]] = [3e-7, -4e-7, 8e-7, -1e-7]
CLIPPED = np.array([[-1.0, 1.0, 0.3, 1.7], [-2.0, 1.0, -0.4, -1.0], [0.9, -0.99, 1.2, 1.0]])
HUBER_X = CLIPPED * 1.0
A = randn(3, 4, seed=53)
A_TIED = randn(3, 4, seed=54)
A_TIED.flat[[0, 5, 9]] = A.flat[[0, 5, 9]]
NLL_SCORES = np.zeros((4, 5))
NLL_SCORES[np.arange(4), LABELS[:4]] = [-9.0, -8.5, -9.5, -8.0]  # p[label] ~ 1e-4
SVM_SCORES = np.array([[1.25, 0.25, -0.5, 0.0], [0.5, 0.75, 2.0, 0.5], [0.0, -1.0, 1.0, 0.0],
                       [2.0, 0.25, 1.0, 3.0], [0.5, 0.0, 0.5, 1.5], [0.75, -0.25, 0.0, 1.0]])
DEAD_INPUTS = (with_zeros(MLP_INPUTS[0], 5, 6, 7, 8, 9), MLP_INPUTS[1],
               with_zeros(MLP_INPUTS[2], 1, 4), MLP_INPUTS[3], MLP_INPUTS[4])
L1_INPUTS = (MLP_INPUTS[0], with_zeros(MLP_INPUTS[1], 0, 9, 17)) + MLP_INPUTS[2:]
RES_INPUTS = (randn(N, D, seed=71), randn(D, D, seed=72, scale=0.5), randn(D, C, seed=73))
CACHED_INPUTS = (randn(N, D, seed=74), randn(D, H, seed=75, scale=0.5),
                 randn(H, H, seed=76, scale=0.5))
PAIR = (randn(3, 4, seed=81), randn(4, seed=82))


def mlp_l1(o: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    return mlp(lambda o, h: o.relu(h))(o, x, w1, b1, w2, b2) + 0.1 * o.sum(o.abs(w1))


def r(factor: float) -> Callable[..., np.ndarray]:
    """A backward off by a constant factor."""
    return lambda x, y, g, right: factor * right


# ----------------------------------------------------------------------------- the bugs


BUGS: list[Case] = [
    # -- a custom op among many built-in ops: the checker must name it
    Case("mlp_tanh_5pct", "graph", "Tanh", mlp(mlp_op("Tanh")), MLP_INPUTS, (op("Tanh", r(1.05)),)),
    Case("mlp_tanh_one_element", "graph", "Tanh", mlp(mlp_op("Tanh")), MLP_INPUTS,
         (op("Tanh", lambda x, y, g, right: one_element(right, 7, 1.5)),)),
    Case("mlp_sigmoid_forgets_1_minus_y", "graph", "Sigmoid", mlp(mlp_op("Sigmoid")), MLP_INPUTS,
         (op("Sigmoid", lambda x, y, g, right: g * y),)),
    Case("mlp_softplus_sign", "graph", "Softplus", mlp(mlp_op("Softplus")), MLP_INPUTS,
         (op("Softplus", lambda x, y, g, right: g * sigmoid(-x)),)),
    Case("mlp_linear_bias_mean", "graph", "Linear", mlp_linear, MLP_INPUTS,
         (linear_op(wrong_b=lambda x, w, g, right: g.mean(axis=0)),)),
    Case("mlp_linear_drops_last_row", "graph", "Linear", mlp_linear, MLP_INPUTS,
         (linear_op(wrong_w=lambda x, w, g, right: x[:-1].T @ g[:-1]),)),
    Case("mlp_layernorm_no_mean_term", "graph", "LayerNorm", mlp(mlp_op("LayerNorm")), MLP_INPUTS,
         (layernorm_op(mean_term=False),)),
    Case("mlp_loss_sums_not_means", "graph", "CrossEntropy", mlp(lambda o, h: o.relu(h), "op"),
         MLP_INPUTS, (cross_entropy_op(LABELS, wrong=lambda s, y, g, right: N * right),)),
    Case("mlp_leaky_relu_slope", "graph", "LeakyRelu", mlp(mlp_op("LeakyRelu")), MLP_INPUTS,
         (op("LeakyRelu", lambda x, y, g, right: np.where(x > 0, right, 10 * right)),)),
    Case("mlp_residual_no_skip", "graph", "Residual", mlp_residual, RES_INPUTS,
         (residual_op(skip_in_backward=False),)),
    Case("deep_chain_cube", "graph", "Cube", deep_chain, DEEP_INPUTS,
         (op("Tanh"), op("Cube", lambda x, y, g, right: 3 * g * x))),
    Case("mlp_gelu_missing_3", "graph", "Gelu", mlp(mlp_op("Gelu")), MLP_INPUTS,
         (op("Gelu", gelu_missing_3),)),
    # -- wrong only at some points
    Case("softplus_above_1_5", "point", "Softplus", unary_weighted("Softplus"), (WIDE,),
         (op("Softplus", lambda x, y, g, right: np.where(x > 1.5, g, right)),)),
    Case("mlp_softplus_above_1_5", "point", "Softplus", mlp(mlp_op("Softplus")), MLP_INPUTS,
         (op("Softplus", lambda x, y, g, right: np.where(x > 1.5, g, right)),)),
    Case("tanh_near_zero_series", "point", "Tanh", unary_weighted("Tanh"), (NEAR0,),
         (op("Tanh", lambda x, y, g, right: np.where(abs(x) < 0.05, g * (1 + x * x), right)),)),
    Case("elu_negative_branch", "point", "Elu", unary_weighted("Elu"), (WIDE,),
         (op("Elu", lambda x, y, g, right: np.where(x > 0, right, g * y)),)),
    Case("huber_below_minus_1", "point", "Huber", unary_weighted("Huber"), (WIDE,),
         (op("Huber", lambda x, y, g, right: np.where(x < -1, g, right)),)),
    Case("gelu_saturation_shortcut", "point", "Gelu", unary_weighted("Gelu"), (WIDE,),
         (op("Gelu", lambda x, y, g, right: np.where(x > 1.5, g, right)),)),
    Case("abs_near_zero", "point", "Abs", unary_weighted("Abs"), (SMALL,),
         (op("Abs", lambda x, y, g, right: np.where(abs(x) < 1e-3, g, right)),)),
    Case("reciprocal_negative_sign", "point", "Reciprocal", unary_weighted("Reciprocal"),
         (MIXED,), (op("Reciprocal", lambda x, y, g, right: np.where(x < 0, -right, right)),)),
    Case("sigmoid_saturation_cut", "point", "Sigmoid", unary_weighted("Sigmoid"), (2 * WIDE,),
         (op("Sigmoid", lambda x, y, g, right: np.where(abs(x) > 6, 0 * g, right)),)),
    Case("relu_mask_offset", "point", "Relu", unary_weighted("Relu"), (WIDE,),
         (op("Relu", lambda x, y, g, right: g * (x > 0.5)),)),
    # -- broadcasting
    Case("scaleshift_beta_first_row", "broadcast", "ScaleShift",
         lambda o, x, g, b: weighted(o, o.op.ScaleShift(x, g, b)),
         (randn(3, 4, seed=21), randn(4, seed=22), randn(4, seed=23)), (scale_shift(True),)),
    Case("add_bias_mean", "broadcast", "MyAdd", binary_weighted("MyAdd"), PAIR,
         (add(wrong_b=lambda a, b, g, right: g.mean(axis=0)),)),
    Case("add_square_wrong_axis", "broadcast", "MyAdd", binary_weighted("MyAdd"),
         (randn(3, 3, seed=25), randn(3, seed=26)),
         (add(wrong_b=lambda a, b, g, right: g.sum(axis=1)),)),
    Case("add_unreduced", "broadcast", "MyAdd", binary_weighted("MyAdd"), PAIR,
         (add(wrong_b=lambda a, b, g, right: g),)),
    Case("mul_scalar_mean", "broadcast", "MyMul", binary_weighted("MyMul"),
         (randn(3, 4, seed=27), np.array(0.7)),
         (mul(wrong_b=lambda a, b, g, right: (g * a).mean()),)),
    Case("mul_outer_uniform_grad", "broadcast", "MyMul", binary_weighted("MyMul"),
         (randn(3, 1, seed=28), randn(1, 4, seed=29)),
         (mul(wrong_a=lambda a, b, g, right: g.sum(axis=1, keepdims=True) * b.mean()),)),
    Case("batched_matmul_first_batch", "broadcast", "BatchedMatMul",
         lambda o, a, b: o.sum(o.op.BatchedMatMul(a, b) * o.const(W234[:, :, :2])),
         (randn(2, 3, 4, seed=30), randn(4, 2, seed=31)), (batched_matmul_op(first_batch_only=True),)),
    Case("add_middle_axis_forgets_batch", "broadcast", "MyAdd",
         lambda o, a, b: big_weighted(o, o.op.MyAdd(a, b)), (randn(2, 3, 4, seed=32), randn(3, 1, seed=33)),
         (add(wrong_b=lambda a, b, g, right: g[0].sum(axis=1, keepdims=True)),)),
    # -- tiny errors, steep points, small scales
    Case("square_0.1pct", "scale", "Square", unary_weighted("Square"), (randn(3, 4, seed=34),),
         (op("Square", r(1.001)),)),
    Case("exp_0.1pct", "scale", "Exp", unary_weighted("Exp"), (randn(3, 4, seed=35),),
         (op("Exp", r(0.999)),)),
    Case("log_steep_0.4pct", "scale", "Log", unary_sum("Log"), (STEEP,), (op("Log", r(1.004)),)),
    Case("reciprocal_steep_0.4pct", "scale", "Reciprocal", unary_sum("Reciprocal"), (STEEP_NEG,),
         (op("Reciprocal", r(1.004)),)),
    Case("sqrt_steep_0.4pct", "scale", "Sqrt", unary_sum("Sqrt"), (STEEP_SQRT,), (op("Sqrt", r(1.004)),)),
    Case("nll_prob_1e-4_0.4pct", "scale", "Log", nll_of_probabilities, (NLL_SCORES,),
         (softmax_op(), op("Log", r(1.004)))),
    Case("tanh_additive_1e-4", "scale", "Tanh", unary_weighted("Tanh"), (randn(3, 4, seed=36),),
         (op("Tanh", lambda x, y, g, right: g * (1 - y * y + 1e-4)),)),
    Case("loss_1e-7_0.1pct", "scale", "CrossEntropy", loss_op, (randn(N, C, seed=37),),
         (cross_entropy_op(LABELS, scale=1e-7, wrong=r(1.001)),)),
    Case("loss_1e-7_sign", "scale", "CrossEntropy", loss_op, (randn(N, C, seed=37),),
         (cross_entropy_op(LABELS, scale=1e-7, wrong=r(-1.0)),)),
    Case("linear_one_weight_0.2pct", "scale", "Linear", mlp_linear, MLP_INPUTS,
         (linear_op(wrong_w=lambda x, w, g, right: one_element(right, 12, 1.002)),)),
    Case("mlp_tanh_0.2pct_loss_1e-6", "scale", "Tanh", mlp(mlp_op("Tanh"), scale=1e-6), MLP_INPUTS,
         (op("Tanh", r(1.002)),)),
    # -- writes where it must not, state between calls
    Case("backward_writes_saved_input", "structural", "SquareWritesX", unary_weighted("SquareWritesX"),
         (randn(3, 4, seed=41),), (lambda: in_place("SquareWritesX"),)),
    Case("backward_writes_saved_output", "structural", "ExpWritesY", unary_weighted("ExpWritesY"),
         (randn(3, 4, seed=42),), (lambda: in_place("ExpWritesY"),)),
    Case("backward_writes_shared_grad", "structural", "TanhWritesGrad", shared_grad,
         (randn(3, 4, seed=43), randn(3, 4, seed=44)), (lambda: in_place("TanhWritesGrad"),)),
    Case("mlp_backward_writes_shared_grad", "structural", "TanhWritesGrad", mlp_shared_grad,
         MLP_INPUTS, (lambda: in_place("TanhWritesGrad"),)),
    Case("backward_writes_output_grad", "structural", "TanhWritesGrad",
         lambda o, x: o.op.TanhWritesGrad(x), (randn(3, 4, seed=45),),
         (lambda: in_place("TanhWritesGrad"),)),
    Case("op_caches_last_output", "structural", "CachedTanh", mlp_cached, CACHED_INPUTS, (cached_tanh,)),
    Case("op_keeps_running_mean", "structural", "RunningCenter", unary_weighted("RunningCenter"),
         (randn(3, 4, seed=46),), (running_center,)),
    Case("op_warmup_counter", "structural", "WarmupSquare", unary_weighted("WarmupSquare"),
         (randn(3, 4, seed=47),), (warmup_scale,)),
    Case("forward_shifts_input", "structural", "TanhShiftsX", unary_weighted("TanhShiftsX"),
         (randn(3, 4, seed=48),), (lambda: in_place("TanhShiftsX"),)),
    Case("forward_clips_input", "structural", "SquareClipsX", unary_weighted("SquareClipsX"),
         (WIDE,), (lambda: in_place("SquareClipsX"),)),
    # -- fn is not a function
    Case("op_noise_1e-6", "non-function", "NoisyDouble", unary_weighted("NoisyDouble"),
         (randn(3, 4, seed=49),), (noisy_double(1e-6),)),
    Case("mlp_op_noise_1e-8", "non-function", "NoisyDouble", mlp(mlp_op("NoisyDouble")), MLP_INPUTS,
         (noisy_double(1e-8),)),
    Case("op_dropout", "non-function", "Dropout", unary_weighted("Dropout"), (randn(3, 4, seed=50),),
         (dropout,)),
    Case("fn_noise_1e-6", "non-function", FN, fn_noise, (randn(3, 4, seed=51),)),
    Case("fn_dropout", "non-function", FN, fn_dropout, (randn(3, 4, seed=52),)),
    Case("fn_changes_input", "non-function", FN, fn_shifts_input, (randn(3, 4, seed=53),)),
    # -- wrong only in float32 (inputs are float32)
    Case("sigmoid_overflow_float32", "float32", "NaiveSigmoid", unary_weighted("NaiveSigmoid"),
         (BIG32,), (naive_sigmoid(),)),
    Case("softmax_overflow_float32", "float32", "NaiveSoftmax", unary_weighted("NaiveSoftmax"),
         (BIG32,), (naive_softmax_op(),)),
    Case("logsumexp_backward_float32", "float32", "LogSumExp", row_weighted("LogSumExp"), (BIG32,),
         (logsumexp_op(naive_backward=True),)),
    Case("norm_backward_float32", "float32", "RowNorm", row_weighted("RowNorm"), (HUGE32,),
         (norm_op(naive_backward=True),)),
    Case("difference_backward_float32", "float32", "FdSoftplus", unary_weighted("FdSoftplus"),
         f32(randn(3, 4, seed=54)), (finite_difference_softplus(),)),
    # -- backward ignores its upstream gradient
    Case("tanh_ignores_grad_under_sum", "upstream", "Tanh", unary_sum("Tanh"), (randn(3, 4, seed=55),),
         (op("Tanh", lambda x, y, g, right: 1 - y * y),)),
    Case("mlp_tanh_ignores_grad", "upstream", "Tanh", mlp(mlp_op("Tanh")), MLP_INPUTS,
         (op("Tanh", lambda x, y, g, right: 1 - y * y),)),
    Case("sigmoid_ignores_grad_under_mean", "upstream", "Sigmoid",
         lambda o, x: o.mean(o.op.Sigmoid(x)), (randn(3, 4, seed=56),),
         (op("Sigmoid", lambda x, y, g, right: y * (1 - y)),)),
    Case("loss_op_ignores_grad", "upstream", "CrossEntropy", loss_op, (randn(N, C, seed=57),),
         (ce_ignoring_grad(LABELS),)),
    Case("mlp_loss_op_ignores_grad", "upstream", "CrossEntropy", mlp(mlp_op("Tanh"), "op"), MLP_INPUTS,
         (op("Tanh"), ce_ignoring_grad(LABELS))),
    Case("mul_ignores_grad_for_b", "upstream", "MyMul", lambda o, a, b: o.sum(o.op.MyMul(a, b)), PAIR,
         (mul(wrong_b=lambda a, b, g, right: reduce_to(np.broadcast_to(a, g.shape), b.shape)),)),
]


# ----------------------------------------------------------------------------- the controls


def ctl(name: str, kind: str, graph: Callable[..., Any], inputs: tuple[np.ndarray, ...],
        *ops: NumpyOp | Callable[[], NumpyOp]) -> Case:
    return Case(name, kind, None, graph, inputs, ops)


CONTROLS: list[Case] = [
    # -- kinks: exactly on them, and within a step of them
    ctl("relu_exact_zeros", "kink", unary_weighted("Relu"), (ZEROS,), op("Relu")),
    ctl("relu_builtin_exact_zeros", "kink", lambda o, x: weighted(o, o.relu(x)), (ZEROS,)),
    ctl("abs_exact_zeros", "kink", unary_weighted("Abs"), (ZEROS,), op("Abs")),
    ctl("abs_builtin_exact_zeros", "kink", lambda o, x: weighted(o, o.abs(x)), (ZEROS,)),
    ctl("leaky_relu_exact_zeros", "kink", unary_weighted("LeakyRelu"), (ZEROS,), op("LeakyRelu")),
    ctl("rowmax_ties", "kink", row_weighted("RowMax"), (TIES,), max_op()),
    ctl("max_builtin_ties", "kink",
        lambda o, x: o.sum(o.max(x, axis=1) * o.const(np.array([1.0, -2.0, 0.5]))), (TIES,)),
    ctl("maximum_ties", "kink", binary_weighted("MyMaximum"), (A, A_TIED), maximum()),
    ctl("maximum_builtin_ties", "kink", lambda o, a, b: weighted(o, o.maximum(a, b)), (A, A_TIED)),
    ctl("relu_near_zero", "kink", unary_weighted("Relu"), (NEAR_KINK,), op("Relu")),
    ctl("abs_builtin_near_zero", "kink", lambda o, x: weighted(o, o.abs(x)), (NEAR_KINK,)),
    ctl("rowmax_near_ties", "kink", row_weighted("RowMax"), (NEAR_TIES,), max_op()),
    ctl("clip_at_bounds", "kink", unary_weighted("Clip"), (CLIPPED,), op("Clip")),
    ctl("huber_at_joins", "kink", unary_weighted("Huber"), (HUBER_X,), op("Huber")),
    ctl("svm_zero_margins", "kink", lambda o, s: o.op.SvmLoss(s), (SVM_SCORES,), hinge_op(LABELS)),
    ctl("mlp_relu_dead_units", "kink", mlp(lambda o, h: o.relu(h)), DEAD_INPUTS),
    ctl("mlp_l1_zero_weights", "kink", mlp_l1, L1_INPUTS),
    # -- steep but smooth
    ctl("log_steep", "steep", unary_sum("Log"), (STEEP,), op("Log")),
    ctl("log_1e-5", "steep", unary_sum("Log"), (STEEP / 10,), op("Log")),
    ctl("reciprocal_steep", "steep", unary_sum("Reciprocal"), (STEEP_NEG,), op("Reciprocal")),
    ctl("sqrt_steep", "steep", unary_sum("Sqrt"), (STEEP_SQRT,), op("Sqrt")),
    ctl("nll_prob_1e-4", "steep", nll_of_probabilities, (NLL_SCORES,), softmax_op(), op("Log")),
    ctl("tan_near_pole", "steep", unary_sum("Tan"),
        (np.array([np.pi / 2 - 1e-3, np.pi / 2 - 2e-3, 1.0]),), op("Tan")),
    ctl("atanh_near_1", "steep", unary_sum("Atanh"), (np.array([1 - 1e-4, 2e-4 - 1, 0.3]),),
        op("Atanh")),
    ctl("exp_at_30", "steep", unary_sum("Exp"), (np.array([30.0, 25.0, -2.0]),), op("Exp")),
    ctl("log_builtin_steep", "steep", lambda o, x: o.sum(o.log(x)), (STEEP,)),
    ctl("div_builtin_steep", "steep", lambda o, a, b: o.sum(a / b), (np.ones(3), STEEP_NEG)),
    ctl("cube_of_reciprocal", "steep", lambda o, x: o.sum(o.op.Reciprocal(x) ** 3),
        (np.array([0.01, 0.02, -0.015]),), op("Reciprocal")),
    # -- float32 inputs; some ops compute in float32 inside, correctly at that precision
    ctl("tanh_float32_inside", "float32", unary_weighted("TanhF32"), f32(randn(3, 4, seed=62)),
        in_float32("Tanh")),
    ctl("sigmoid_float32_inside", "float32", unary_weighted("SigmoidF32"),
        f32(randn(3, 4, seed=63, scale=3)), in_float32("Sigmoid")),
    ctl("sigmoid_float32_large", "float32", unary_weighted("Sigmoid"), (BIG32,), op("Sigmoid")),
    ctl("softmax_float32_large", "float32", unary_weighted("Softmax"), (BIG32,), softmax_op()),
    ctl("logsumexp_float32_large", "float32", row_weighted("LogSumExp"), (BIG32,), logsumexp_op()),
    ctl("norm_float32_huge", "float32", row_weighted("RowNorm"), (HUGE32,), norm_op()),
    ctl("mlp_float32_tanh", "float32", mlp(mlp_op("Tanh")), f32(*MLP_INPUTS), op("Tanh")),
    # -- large and tiny scales; plain twins of the tiny-error bugs
    ctl("loss_1e-7", "scale", loss_op, (randn(N, C, seed=37),), cross_entropy_op(LABELS, scale=1e-7)),
    ctl("loss_1e8", "scale", loss_op, (randn(N, C, seed=37),), cross_entropy_op(LABELS, scale=1e8)),
    ctl("square_at_1e6", "scale", unary_weighted("Square"), (randn(3, 4, seed=64, scale=1e6),),
        op("Square")),
    ctl("cube_at_1e-6", "scale", unary_weighted("Cube"), (randn(3, 4, seed=65, scale=1e-6),),
        op("Cube")),
    ctl("exp_at_minus_30", "scale", unary_weighted("Exp"), (randn(3, 4, seed=66) - 30,), op("Exp")),
    ctl("logsigmoid_tails", "scale", unary_weighted("LogSigmoidLoss"), (CLIPPED * 30,),
        op("LogSigmoidLoss")),
    ctl("mlp_loss_1e-6", "scale", mlp(mlp_op("Tanh"), scale=1e-6), MLP_INPUTS, op("Tanh")),
    ctl("square_plain", "scale", unary_weighted("Square"), (randn(3, 4, seed=34),), op("Square")),
    ctl("exp_plain", "scale", unary_weighted("Exp"), (randn(3, 4, seed=35),), op("Exp")),
    ctl("tanh_plain", "scale", unary_weighted("Tanh"), (randn(3, 4, seed=36),), op("Tanh")),
    # -- correct custom ops in MLP-sized graphs
    ctl("mlp_tanh", "mlp", mlp(mlp_op("Tanh")), MLP_INPUTS, op("Tanh")),
    ctl("mlp_sigmoid", "mlp", mlp(mlp_op("Sigmoid")), MLP_INPUTS, op("Sigmoid")),
    ctl("mlp_softplus", "mlp", mlp(mlp_op("Softplus")), MLP_INPUTS, op("Softplus")),
    ctl("mlp_gelu", "mlp", mlp(mlp_op("Gelu")), MLP_INPUTS, op("Gelu")),
    ctl("mlp_leaky_relu", "mlp", mlp(mlp_op("LeakyRelu")), MLP_INPUTS, op("LeakyRelu")),
    ctl("mlp_linear", "mlp", mlp_linear, MLP_INPUTS, linear_op()),
    ctl("mlp_layernorm", "mlp", mlp(mlp_op("LayerNorm")), MLP_INPUTS, layernorm_op()),
    ctl("mlp_loss_op", "mlp", mlp(lambda o, h: o.relu(h), "op"), MLP_INPUTS,
        cross_entropy_op(LABELS)),
    ctl("mlp_residual", "mlp", mlp_residual, RES_INPUTS, residual_op()),
    ctl("deep_chain", "mlp", deep_chain, DEEP_INPUTS, op("Tanh"), op("Cube")),
    ctl("window_sum", "mlp", lambda o, x, w: weighted(o, o.op.WindowSum(x, w)),
        (randn(3, 6, seed=67), randn(3, seed=68)), window_sum_op()),
    # -- twins of the point-dependent bugs
    ctl("softplus_wide", "point", unary_weighted("Softplus"), (WIDE,), op("Softplus")),
    ctl("tanh_near_zero", "point", unary_weighted("Tanh"), (NEAR0,), op("Tanh")),
    ctl("elu_wide", "point", unary_weighted("Elu"), (WIDE,), op("Elu")),
    ctl("huber_wide", "point", unary_weighted("Huber"), (WIDE,), op("Huber")),
    ctl("gelu_wide", "point", unary_weighted("Gelu"), (WIDE,), op("Gelu")),
    ctl("abs_small", "point", unary_weighted("Abs"), (SMALL,), op("Abs")),
    ctl("reciprocal_mixed_signs", "point", unary_weighted("Reciprocal"), (MIXED,), op("Reciprocal")),
    ctl("sigmoid_wide", "point", unary_weighted("Sigmoid"), (2 * WIDE,), op("Sigmoid")),
    # -- twins of the broadcasting bugs
    ctl("scaleshift", "broadcast", lambda o, x, g, b: weighted(o, o.op.ScaleShift(x, g, b)),
        (randn(3, 4, seed=21), randn(4, seed=22), randn(4, seed=23)), scale_shift()),
    ctl("add_bias", "broadcast", binary_weighted("MyAdd"), PAIR, add()),
    ctl("add_square", "broadcast", binary_weighted("MyAdd"),
        (randn(3, 3, seed=25), randn(3, seed=26)), add()),
    ctl("mul_scalar", "broadcast", binary_weighted("MyMul"), (randn(3, 4, seed=27), np.array(0.7)),
        mul()),
    ctl("mul_outer", "broadcast", binary_weighted("MyMul"),
        (randn(3, 1, seed=28), randn(1, 4, seed=29)), mul()),
    ctl("div_broadcast", "broadcast", binary_weighted("MyDiv"),
        (randn(3, 4, seed=69), uniform(0.5, 2.0, 4, seed=70)), div()),
    ctl("batched_matmul", "broadcast",
        lambda o, a, b: o.sum(o.op.BatchedMatMul(a, b) * o.const(W234[:, :, :2])),
        (randn(2, 3, 4, seed=30), randn(4, 2, seed=31)), batched_matmul_op()),
    ctl("add_middle_axis", "broadcast", lambda o, a, b: big_weighted(o, o.op.MyAdd(a, b)),
        (randn(2, 3, 4, seed=32), randn(3, 1, seed=33)), add()),
    # -- built-in ops only
    ctl("builtin_matmul_exp_log", "built-in",
        lambda o, x, w: o.sum(o.log(o.sum(o.exp(x @ w), axis=1))),
        (randn(4, 3, seed=91), randn(3, 5, seed=92))),
    ctl("builtin_reductions", "built-in",
        lambda o, x: o.sum(o.mean(x, axis=0)) * o.sum(o.max(x, axis=1)), (randn(3, 4, seed=93),)),
    ctl("builtin_reshape_transpose", "built-in",
        lambda o, x: weighted(o, o.reshape(x, (4, 3)).T * x.sum()), (randn(2, 6, seed=94),)),
    ctl("builtin_indexing", "built-in",
        lambda o, x: o.sum(x[1:, ::2] ** 2) + o.sum(o.pick(x, LABELS)), (randn(N, C, seed=95),)),
    ctl("builtin_fractional_power", "built-in", lambda o, x: o.sum(x**1.5),
        (uniform(0.5, 2.0, 3, 4, seed=96),)),
    ctl("builtin_div_broadcast", "built-in", lambda o, a, b: weighted(o, a / b),
        (randn(3, 4, seed=97), uniform(0.5, 2.0, 4, seed=98))),
    ctl("builtin_mlp_relu", "built-in", mlp(lambda o, h: o.relu(h)), MLP_INPUTS),
    ctl("builtin_number_power", "built-in", lambda o, x: weighted(o, 2.0**x), (randn(3, 4, seed=99),)),
    ctl("builtin_sub_neg_abs", "built-in", lambda o, a, b: weighted(o, o.abs(-(a - b)) * a),
        (randn(3, 4, seed=100), randn(3, 4, seed=101))),
]

CASES = BUGS + CONTROLS
