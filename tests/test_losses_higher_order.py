"""Second (and third) derivatives of the fused losses and of Linear's fused op, against PyTorch
at float64: Hessians, Hessian-vector products, the double-vjp through the upstream gradient,
and the refusals that keep a second derivative from being silently wrong."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tinygrad_edu import Tensor, grad
from tinygrad_edu.checks import gradgradcheck
from tinygrad_edu.losses import softmax_cross_entropy, svm_loss
from tinygrad_edu.nn import Linear, LinearFunction, Module, Sequential

REDUCTIONS = ["mean", "sum", "none"]
LOSSES = {"softmax_cross_entropy": softmax_cross_entropy, "svm_loss": svm_loss}


def scores_and_labels(n: int = 5, c: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)) * 2, rng.integers(0, c, size=n)


def torch_hinge(scores: torch.Tensor, y: torch.Tensor, margin: float, reduction: str) -> torch.Tensor:
    """The lecture's hinge, sum over j != y_i of relu(s_j - s_{y_i} + margin), in torch's
    primitives (torch's own multi_margin_loss has no double backward). relu'(0) = 0 is the
    lecture's subgradient at a tie."""
    correct = scores.gather(1, y[:, None])
    terms = torch.relu(scores - correct + margin)
    per_example = (terms * (1 - F.one_hot(y, scores.shape[1]).to(scores.dtype))).sum(dim=1)
    return {"none": per_example, "sum": per_example.sum(), "mean": per_example.mean()}[reduction]


def torch_loss(name: str, scores: torch.Tensor, y: torch.Tensor, reduction: str) -> torch.Tensor:
    if name == "softmax_cross_entropy":
        return F.cross_entropy(scores, y, reduction=reduction)
    return torch_hinge(scores, y, 1.0, reduction)


def weighted(out: torch.Tensor | Tensor, w: np.ndarray) -> Tensor | torch.Tensor:
    """A scalar from a loss of any reduction: out · w (w of out's shape)."""
    if isinstance(out, torch.Tensor):
        return (out * torch.tensor(w)).sum()
    return (out * w).sum()


# ----------------------------------------------------------------- the multi-margin oracle


@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torch_hinge_oracle_is_multi_margin_loss_times_num_classes(margin: float, reduction: str) -> None:
    """The oracle above is torch.nn.functional.multi_margin_loss without its 1/C: same values
    and gradients once multiplied by C (the scaling the tests rely on)."""
    raw, y = scores_and_labels(n=6, c=5, seed=1)
    a = torch.tensor(raw, requires_grad=True)
    b = torch.tensor(raw, requires_grad=True)
    ours = torch_hinge(a, torch.tensor(y), margin, reduction)
    per_example = F.multi_margin_loss(b, torch.tensor(y), margin=margin, reduction="none") * 5
    theirs = {"none": per_example, "sum": per_example.sum(), "mean": per_example.mean()}[reduction]
    torch.testing.assert_close(ours, theirs, rtol=1e-14, atol=1e-14)
    w = np.random.default_rng(2).normal(size=ours.shape)
    weighted(ours, w).backward()
    weighted(theirs, w).backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-14, atol=1e-14)
    value = svm_loss(Tensor(raw), y, margin=margin, reduction=reduction).data
    np.testing.assert_allclose(value, theirs.detach().numpy(), rtol=1e-13, atol=1e-13)


# ----------------------------------------------------------------- Hessians of the loss itself


def our_hessian(loss: Callable, raw: np.ndarray, y: np.ndarray, reduction: str, w: np.ndarray) -> np.ndarray:
    """The (N*C, N*C) Hessian of (loss · w) with respect to the scores, one row per basis
    vector, each row a Hessian-vector product through create_graph."""
    scores = Tensor(raw, requires_grad=True)
    (g,) = grad(weighted(loss(scores, y, reduction=reduction), w), scores, create_graph=True)
    rows = []
    for k in range(raw.size):
        e = np.zeros(raw.size)
        e[k] = 1.0
        (row,) = grad(g, scores, grad_outputs=e.reshape(raw.shape), retain_graph=True)
        rows.append(row.data.ravel())
    return np.array(rows)


def torch_hessian(name: str, raw: np.ndarray, y: np.ndarray, reduction: str, w: np.ndarray) -> np.ndarray:
    def f(s: torch.Tensor) -> torch.Tensor:
        return weighted(torch_loss(name, s, torch.tensor(y), reduction), w)

    h = torch.autograd.functional.hessian(f, torch.tensor(raw))
    return h.reshape(raw.size, raw.size).numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_hessian_wrt_scores_matches_torch(name: str, reduction: str) -> None:
    raw, y = scores_and_labels(seed=3)
    w = np.random.default_rng(4).normal(size=(len(y),)) if reduction == "none" else np.array(1.7)
    ours = our_hessian(LOSSES[name], raw, y, reduction, w)
    theirs = torch_hessian(name, raw, y, reduction, w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    if name == "softmax_cross_entropy":  # not trivially zero: the softmax's curvature
        assert np.abs(ours).max() > 0.01
        np.testing.assert_allclose(ours, ours.T, atol=1e-15)
    else:  # piecewise linear: zero curvature away from the kinks
        np.testing.assert_array_equal(ours, 0.0)


def test_softmax_hessian_closed_form_one_example() -> None:
    """For one example, d²L/ds² = diag(p) - p pᵀ, whatever the label."""
    raw = np.array([[3.2, 5.1, -1.7]])  # the notes' cat image
    p = np.exp(raw[0]) / np.exp(raw[0]).sum()
    for label in range(3):
        h = our_hessian(softmax_cross_entropy, raw, np.array([label]), "sum", np.array(1.0))
        np.testing.assert_allclose(h, np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_double_vjp_through_the_upstream_gradient_matches_torch(name: str, reduction: str) -> None:
    """The gradient as a function of the upstream gradient u (the trick behind jvp):
    d/du <grad(loss, s, u), v>, and its mixed derivative with respect to s."""
    raw, y = scores_and_labels(seed=5)
    rng = np.random.default_rng(6)
    out_shape = (len(y),) if reduction == "none" else ()
    u0, v = rng.normal(size=out_shape), rng.normal(size=raw.shape)

    scores, u = Tensor(raw, requires_grad=True), Tensor(u0, requires_grad=True)
    (g,) = grad(LOSSES[name](scores, y, reduction=reduction), scores, grad_outputs=u,
                create_graph=True)
    du, ds = grad((g * v).sum(), [u, scores], allow_unused=True, materialize_grads=True)

    s_t, u_t = torch.tensor(raw, requires_grad=True), torch.tensor(u0, requires_grad=True)
    (g_t,) = torch.autograd.grad(torch_loss(name, s_t, torch.tensor(y), reduction), s_t,
                                 grad_outputs=u_t, create_graph=True)
    du_t, ds_t = torch.autograd.grad((g_t * torch.tensor(v)).sum(), [u_t, s_t], allow_unused=True,
                                     materialize_grads=True)
    np.testing.assert_allclose(g.data, g_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(du.data, du_t.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ds.data, ds_t.numpy(), rtol=1e-12, atol=1e-14)


def test_softmax_third_derivative_matches_torch() -> None:
    raw, y = scores_and_labels(n=3, c=4, seed=7)
    v = np.random.default_rng(8).normal(size=raw.shape)
    scores = Tensor(raw, requires_grad=True)
    (g,) = grad(softmax_cross_entropy(scores, y), scores, create_graph=True)
    (hv,) = grad((g * v).sum(), scores, create_graph=True)
    (third,) = grad((hv * hv).sum(), scores)

    s_t = torch.tensor(raw, requires_grad=True)
    (g_t,) = torch.autograd.grad(F.cross_entropy(s_t, torch.tensor(y)), s_t, create_graph=True)
    (hv_t,) = torch.autograd.grad((g_t * torch.tensor(v)).sum(), s_t, create_graph=True)
    (third_t,) = torch.autograd.grad((hv_t * hv_t).sum(), s_t)
    np.testing.assert_allclose(hv.data, hv_t.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(third.data, third_t.numpy(), rtol=1e-11, atol=1e-15)


def test_softmax_hessian_stable_for_huge_scores() -> None:
    raw = np.array([[1000.0, -1000.0, 999.0], [-500.0, 500.0, 0.0]])
    y = np.array([0, 2])
    ours = our_hessian(softmax_cross_entropy, raw, y, "mean", np.array(1.0))
    theirs = torch_hessian("softmax_cross_entropy", raw, y, "mean", np.array(1.0))
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_float32_second_derivatives_stay_float32(name: str) -> None:
    raw, y = scores_and_labels(seed=9)
    scores = Tensor(raw.astype(np.float32), requires_grad=True)
    (g,) = grad(LOSSES[name](scores, y), scores, create_graph=True)
    (hv,) = grad((g * g).sum(), scores, allow_unused=True, materialize_grads=True)
    assert g.dtype == np.float32 and hv.dtype == np.float32
    expected = torch_hessian(name, raw, y, "mean", np.array(1.0)) @ (2 * g.data.ravel())
    np.testing.assert_allclose(hv.data.ravel(), expected, rtol=1e-4, atol=1e-6)


def test_first_order_gradient_is_unchanged_by_create_graph() -> None:
    raw, y = scores_and_labels(seed=10)
    for loss in LOSSES.values():
        plain = Tensor(raw, requires_grad=True)
        loss(plain, y).backward()
        recorded = Tensor(raw, requires_grad=True)
        (g,) = grad(loss(recorded, y), recorded, create_graph=True)
        np.testing.assert_array_equal(g.data, plain.grad)


def test_softmax_scores_changed_after_the_forward_is_refused_under_create_graph() -> None:
    """The probabilities are recomputed from the scores under create_graph; if the scores were
    written since the forward, the second derivative would be taken at another point. Refused,
    naming the op; the first-order path (which uses the saved probabilities) is unaffected."""
    raw, y = scores_and_labels(seed=11)
    scores = Tensor(raw, requires_grad=True)
    hidden = scores * 1.0  # a non-leaf nothing else saved, so nothing locks its array
    loss = softmax_cross_entropy(hidden, y)
    hidden.data[0, 0] += 3.0
    with pytest.raises(RuntimeError, match="SoftmaxCrossEntropy.*changed"):
        grad(loss, scores, create_graph=True)
    (g,) = grad(loss, scores)  # first order: the saved probabilities, from the forward's scores
    reference = Tensor(raw, requires_grad=True)
    softmax_cross_entropy(reference, y).backward()
    np.testing.assert_array_equal(g.data, reference.grad)


def test_softmax_nan_scores_are_not_mistaken_for_a_change_under_create_graph() -> None:
    scores = Tensor(np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]]), requires_grad=True)
    (g,) = grad(softmax_cross_entropy(scores, [0, 1], reduction="sum"), scores, create_graph=True)
    assert np.isnan(g.data[0]).all()
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(g.data[1], p - [0, 1, 0], rtol=1e-14)


# ----------------------------------------------------------------- through Linear's fused op


def torch_mlp(ours: Sequential) -> torch.nn.Sequential:
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Sigmoid(), torch.nn.Linear(5, 4))
    net = net.double()
    net.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return net


class SigmoidOfExp(Module):
    """sigmoid from the engine's ops (exp, +, /): smooth, so Hessians are non-trivial."""

    def forward(self, x: Tensor) -> Tensor:
        return 1.0 / (1.0 + (-x).exp())


@pytest.mark.parametrize("name", LOSSES)
def test_hvp_of_a_two_layer_network_wrt_all_parameters_matches_torch(name: str) -> None:
    rng = np.random.default_rng(12)
    X, y = rng.normal(size=(7, 6)), rng.integers(0, 4, size=7)
    model = Sequential(Linear(6, 5, seed=0), SigmoidOfExp(), Linear(5, 4, seed=1))
    params = model.parameters()
    vs = [rng.normal(size=p.shape) for p in params]
    loss = LOSSES[name](model(X), y)
    gs = grad(loss, params, create_graph=True)
    dot = sum(((g * v).sum() for g, v in zip(gs, vs)), start=Tensor(0.0))
    hvps = grad(dot, params)

    net = torch_mlp(model)
    t_params = list(net.parameters())
    t_loss = torch_loss(name, net(torch.tensor(X)), torch.tensor(y), "mean")
    t_gs = torch.autograd.grad(t_loss, t_params, create_graph=True)
    t_dot = sum((g * torch.tensor(v)).sum() for g, v in zip(t_gs, vs))
    t_hvps = torch.autograd.grad(t_dot, t_params)
    for g, t_g in zip(gs, t_gs):
        np.testing.assert_allclose(g.data, t_g.detach().numpy(), rtol=1e-12, atol=1e-14)
    for h, t_h in zip(hvps, t_hvps):
        assert h is not None
        np.testing.assert_allclose(h.data, t_h.numpy(), rtol=1e-10, atol=1e-13)
    # The curvature really reaches the parameters; but the hinge is piecewise linear in the
    # scores and the last bias enters them linearly, so its row of the Hessian is zero.
    reached = hvps if name == "softmax_cross_entropy" else hvps[:-1]
    assert all(np.abs(h.data).max() > 1e-4 for h in reached)
    if name == "svm_loss":
        np.testing.assert_array_equal(hvps[-1].data, 0.0)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_fused_op_is_twice_differentiable_wrt_input_and_weights(bias: bool) -> None:
    """(Linear(x) ** 2).sum(): second derivatives mix x, weight and bias. x of rank 3 (leading
    axes flattened by the backward)."""
    rng = np.random.default_rng(13)
    x0 = rng.normal(size=(2, 3, 4))
    layer = Linear(4, 3, bias=bias, seed=2)
    x = Tensor(x0, requires_grad=True)
    inputs = [x, layer.weight] + ([layer.bias] if bias else [])
    gs = grad((layer(x) ** 2).sum(), inputs, create_graph=True)
    vs = [rng.normal(size=t.shape) for t in inputs]
    hvps = grad(sum(((g * v).sum() for g, v in zip(gs, vs)), start=Tensor(0.0)), inputs)

    x_t = torch.tensor(x0, requires_grad=True)
    w_t = torch.tensor(layer.weight.data, requires_grad=True)
    b_t = torch.tensor(layer.bias.data, requires_grad=True) if bias else None
    t_inputs = [x_t, w_t] + ([b_t] if bias else [])
    t_gs = torch.autograd.grad((F.linear(x_t, w_t, b_t) ** 2).sum(), t_inputs, create_graph=True)
    t_hvps = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_gs, vs)), t_inputs)
    for h, t_h in zip(hvps, t_hvps):
        np.testing.assert_allclose(h.data, t_h.numpy(), rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------- gradgradcheck


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_gradgradcheck_passes_both_losses(name: str, reduction: str) -> None:
    raw, y = scores_and_labels(seed=14)  # random scores: no hinge term on its kink
    scores = Tensor(raw, requires_grad=True)
    assert gradgradcheck(lambda s: LOSSES[name](s, y, reduction=reduction), scores)


def test_gradgradcheck_passes_linear_under_a_loss() -> None:
    rng = np.random.default_rng(15)
    x, w, b = (Tensor(rng.normal(size=shape), requires_grad=True) for shape in [(6, 3), (4, 3), (4,)])
    y = rng.integers(0, 4, size=6)
    assert gradgradcheck(
        lambda x, w, b: softmax_cross_entropy(LinearFunction.apply(x, w, b).tanh(), y), [x, w, b]
    )
