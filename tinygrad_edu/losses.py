"""Classification losses on a batch of class scores: the multiclass SVM (hinge) and softmax
cross-entropy losses of a linear classifier.

Both take `scores` of shape (N, C) (one row of C class scores per example) and `y`, the N
integer class indices, and reduce the N per-example losses as PyTorch does:
``reduction="mean"`` (a scalar, the default), ``"sum"`` (a scalar) or ``"none"`` (shape (N,)).

Each loss is one `Function` with a fused numpy forward and backward rather than a chain of
primitive ops: a training step then costs one graph node instead of ten, and the backward is
the textbook closed form (checked against finite differences and PyTorch in the tests).

Both are differentiable to any order (`tinygrad_edu.grad(..., create_graph=True)`). The
backward runs in place on arrays on the first-order path; under create_graph the same formula
runs on Tensors, with what it needs beyond the saved arrays recomputed from the scores Tensor:
the softmax probabilities (the Hessian diag(p) - p pᵀ comes from them; kept as a constant
they would make it silently zero). The hinge's coefficients (which margin terms are positive)
are piecewise constant, so they stay arrays: its second derivative is zero away from the kinks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import validation
from .tensor import Context, Function, Tensor

__all__ = ["svm_loss", "softmax_cross_entropy", "MulticlassHinge", "SoftmaxCrossEntropy"]

REDUCTIONS = ("mean", "sum", "none")


def svm_loss(scores: Any, y: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Multiclass SVM (hinge) loss: L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin).

    scores     (N, C) Tensor (or float array) of class scores
    y          (N,) integer class indices in [0, C): ndarray, list or integer Tensor
    margin     the required gap between the correct class's score and every other score
    reduction  "mean" -> scalar (sum over j, mean over i), "sum" -> scalar, "none" -> (N,)

    At a tie (s_j - s_{y_i} + margin exactly 0) the term is not differentiable; its subgradient
    is taken as 0, as in the vectorized cs231n SVM (`margins > 0`) and torch.multi_margin_loss.

    Unlike torch.nn.functional.multi_margin_loss, the per-example loss is not divided by C.
    Raises ValueError for non-2-D or ragged scores, bad labels, an unknown reduction or a
    margin that is not finite; TypeError for a margin that is not a number.
    """
    margin = validation.finite_float("svm_loss", "margin", margin)
    scores, labels, reduction = _checked_inputs("svm_loss", scores, y, reduction)
    return MulticlassHinge.apply(scores, labels=labels, margin=margin, reduction=reduction)


def softmax_cross_entropy(scores: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy: L_i = -log(e^{s_{y_i}} / sum_j e^{s_j}).

    scores     (N, C) Tensor (or float array) of unnormalized log-probabilities
    y          (N,) integer class indices in [0, C): ndarray, list or integer Tensor
    reduction  "mean" -> scalar, "sum" -> scalar, "none" -> (N,)

    Equals torch.nn.functional.cross_entropy(scores, y, reduction=...). Stable for any finite
    scores: each row is shifted by its maximum before exponentiating, so scores of +-1000 give
    finite losses and gradients. Raises ValueError for non-2-D or ragged scores, bad labels or
    an unknown reduction.
    """
    scores, labels, reduction = _checked_inputs("softmax_cross_entropy", scores, y, reduction)
    return SoftmaxCrossEntropy.apply(scores, labels=labels, reduction=reduction)


class SoftmaxCrossEntropy(Function):
    """The fused op behind `softmax_cross_entropy`: d L_i / d s_ij = p_ij - [j == y_i]."""

    @staticmethod
    def forward(
        ctx: Context, scores: np.ndarray, labels: np.ndarray, reduction: str = "mean"
    ) -> np.ndarray:
        rows = np.arange(len(labels))
        shifted = scores - _row_maxima(scores, rows)
        correct = shifted[rows, labels]
        exp = np.exp(shifted, out=shifted)
        totals = exp @ _ones_column(exp)
        losses = np.log(totals[:, 0]) - correct
        ctx.save_for_backward(np.divide(exp, totals, out=exp))  # the softmax probabilities
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (probs,) = ctx.saved_tensors
        labels = ctx.kwargs["labels"]
        if isinstance(grad, Tensor):  # create_graph: p - onehot as a function of the scores
            recorded = _recomputed_probabilities(ctx, probs)
            return (recorded - _one_hot(labels, probs)) * _per_example(ctx, grad)
        dscores = probs.copy()  # probs stays intact for a retain_graph second backward
        dscores[np.arange(len(labels)), labels] -= 1
        dscores *= _per_example(ctx, grad)
        return dscores


class MulticlassHinge(Function):
    """The fused op behind `svm_loss`: d L_i / d s_ij = [margin term j > 0] for j != y_i, and
    d L_i / d s_{i,y_i} = -(number of positive margin terms in row i)."""

    @staticmethod
    def forward(
        ctx: Context,
        scores: np.ndarray,
        labels: np.ndarray,
        margin: float = 1.0,
        reduction: str = "mean",
    ) -> np.ndarray:
        rows = np.arange(len(labels))
        margins = scores - scores[rows, labels][:, np.newaxis]
        margins += margin
        margins[rows, labels] = 0  # the correct class is not compared with itself
        np.maximum(margins, 0, out=margins)
        ctx.save_for_backward(margins)
        return _reduce(margins.sum(axis=1), reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (margins,) = ctx.saved_tensors  # an array even under create_graph: an intermediate
        labels = ctx.kwargs["labels"]
        # Strictly positive: a term exactly at 0 (a tie) gets subgradient 0. These coefficients
        # are piecewise constant in the scores, so a constant array is their exact derivative.
        dscores = (margins > 0).astype(margins.dtype)
        dscores[np.arange(len(labels)), labels] -= dscores.sum(axis=1)  # that entry was 0
        if isinstance(grad, Tensor):  # create_graph: linear in the upstream gradient
            return _per_example(ctx, grad) * dscores
        dscores *= _per_example(ctx, grad)
        return dscores


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """(N,) per-example losses -> the requested reduction, as an array of losses' dtype."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return np.asarray(total / len(losses) if reduction == "mean" else total)


def _per_example(ctx: Context, grad: Any) -> Any:
    """The upstream gradient of each example's loss, shaped (N, 1) or scalar to scale rows
    (an array, or a Tensor under create_graph)."""
    reduction = ctx.kwargs.get("reduction", "mean")
    if reduction == "none":
        return grad.reshape(-1, 1)
    return grad / len(ctx.kwargs["labels"]) if reduction == "mean" else grad


# For few classes (a row of 10 scores), numpy's reductions along the last axis cost a loop per
# row: argmax and a gather find the row maxima 3-4x faster than max(axis=1), and a product with
# a column of ones (one BLAS call) sums the rows 2-9x faster than sum(axis=1).


def _row_maxima(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(N, 1) maxima of the rows of an (N, C) array."""
    return scores[rows, scores.argmax(axis=1)][:, np.newaxis]


def _ones_column(like: np.ndarray) -> np.ndarray:
    """(C, 1) ones of `like`'s dtype, for an (N, C) `like`: `x @ ones` sums x's rows."""
    return np.ones((like.shape[1], 1), dtype=like.dtype)


def _one_hot(labels: np.ndarray, like: np.ndarray) -> np.ndarray:
    """(N, C) array of `like`'s dtype: 1 at (i, labels[i]), 0 elsewhere."""
    one_hot = np.zeros_like(like)
    one_hot[np.arange(len(labels)), labels] = 1
    return one_hot


def _recomputed_probabilities(ctx: Context, saved: np.ndarray) -> Tensor:
    """The softmax of the scores Tensor, recorded, so second derivatives reach the scores.

    The shift by each row's maximum is a constant (softmax does not depend on it), as in the
    forward. The result must equal the probabilities the forward saved: if the scores were
    written since (through `.data`), the gradient belongs to the old scores and a second
    derivative at the new ones would be silently wrong, so that is refused."""
    scores = ctx.inputs[0]  # a Tensor: backward runs only for a recorded op
    exp = (scores - _row_maxima(scores.data, np.arange(len(saved)))).exp()
    probs: Tensor = exp / (exp @ _ones_column(saved))
    # The same numpy calls as the forward: equal to the last bit here, but a BLAS may sum in
    # another order for other alignments, so rounding (a few ulps per class) is forgiven.
    # (NaN scores give NaN probabilities both times: that is not a change.)
    tolerance = (saved.shape[1] + 4) * np.finfo(saved.dtype).eps
    if not np.allclose(probs.data, saved, rtol=0, atol=tolerance, equal_nan=True):
        raise RuntimeError(
            f"backward of {ctx.name} (create_graph=True): the scores (shape {scores.shape}) "
            "were changed in place after the loss was computed, so a second derivative would "
            "be taken at other scores than the gradient. Change data only after the "
            "backward pass, or recompute the loss after the change."
        )
    return probs


def _checked_inputs(
    name: str, scores: Any, y: Any, reduction: Any
) -> tuple[Any, np.ndarray, str]:
    """Validate (scores, y, reduction) for a loss; returns scores as given (an array if not a
    Tensor), the labels as an intp array and the reduction. Every error names the function and
    the values at fault (ValueError; TypeError for a reduction that is not a string)."""
    reduction = validation.one_of(name, "reduction", reduction, REDUCTIONS)
    data = scores.data if isinstance(scores, Tensor) else validation.as_array(name, "scores", scores)
    if data.ndim != 2:
        raise ValueError(
            f"{name}: scores must be 2-D (N examples, C classes), got shape {data.shape}"
        )
    if data.dtype.kind != "f":
        raise ValueError(f"{name}: scores must be floating point, got dtype {data.dtype}")
    n, num_classes = data.shape
    if n == 0:
        raise ValueError(f"{name}: scores has no examples (shape {data.shape})")
    labels = y.data if isinstance(y, Tensor) else validation.as_array(name, "labels", y)
    if labels.ndim != 1:
        raise ValueError(
            f"{name}: labels must be 1-D (one class index per example), got shape {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: labels must be integer class indices, got dtype {labels.dtype}"
        )
    if len(labels) != n:
        raise ValueError(
            f"{name}: got {len(labels)} labels for {n} examples (scores shape {data.shape})"
        )
    # A copy: the graph keeps the labels for backward, so a later change to y must not reach it.
    indices = labels.astype(np.intp)
    # One pass finds both kinds of bad label: as unsigned, a negative index is huge.
    if indices.view(np.uintp).max() >= num_classes:
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        i = bad[0]
        raise ValueError(
            f"{name}: labels must be class indices in [0, {num_classes}) for scores of shape "
            f"{data.shape}; label {labels[i]} at position {i} is out of range"
            + (f" ({bad.size} labels are)" if bad.size > 1 else "")
        )
    return scores if isinstance(scores, Tensor) else data, indices, reduction
