"""Models: a linear classifier, scores = X @ W + b."""

from __future__ import annotations

from typing import Any

import numpy as np

from .function import no_grad
from .ops import MatMul
from .tensor import Tensor

__all__ = ["LinearClassifier"]


class LinearClassifier:
    """A linear classifier: class scores = X @ W + b.

    LinearClassifier(in_features, num_classes, seed=None, dtype=np.float64, init_scale=1e-3)

    W  (in_features, num_classes) Tensor named "W", drawn as init_scale * N(0, 1) from
       np.random.default_rng(seed), so a seed gives the same model every time
    b  (num_classes,) Tensor named "b", zeros

    Calling the model on X of shape (N, in_features) (or (in_features,) for one example)
    returns the (N, num_classes) scores as a Tensor in the graph. X may be a Tensor (its dtype
    must be the model's: a float64 X would silently turn a float32 model's step into float64)
    or an array (converted to the model's dtype, and used as a constant without a copy).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        seed: int | None = None,
        dtype: Any = np.float64,
        init_scale: float = 1e-3,
    ) -> None:
        for name, value in (("in_features", in_features), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(
                    f"LinearClassifier: {name} must be an int, got {type(value).__name__}"
                )
            if value < 1:
                raise ValueError(f"LinearClassifier: {name} must be >= 1, got {value}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"LinearClassifier: dtype must be a floating-point type, got {dtype}")
        rng = np.random.default_rng(seed)
        weights = init_scale * rng.standard_normal((int(in_features), int(num_classes)))
        self.W = Tensor(weights, requires_grad=True, name="W", dtype=dtype)
        self.b = Tensor(np.zeros(int(num_classes), dtype=dtype), requires_grad=True, name="b")

    # Read off the parameters, so they can never disagree with them.
    @property
    def in_features(self) -> int:
        return self.W.shape[0]

    @property
    def num_classes(self) -> int:
        return self.W.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    def __call__(self, X: Any) -> Tensor:
        """Class scores: (N, in_features) -> (N, num_classes) Tensor."""
        if isinstance(X, Tensor):
            if X.dtype != self.dtype:
                raise TypeError(
                    f"LinearClassifier: input dtype {X.dtype} does not match the model's "
                    f"{self.dtype}; convert it, e.g. Tensor(X, dtype=np.{self.dtype})"
                )
            data = X.data
        else:
            try:
                X = data = np.asarray(X, dtype=self.dtype)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"LinearClassifier: input must be numbers, got {type(X).__name__}: {error}"
                ) from error
        if data.ndim not in (1, 2) or data.shape[-1] != self.in_features:
            raise ValueError(
                f"LinearClassifier: expected input of shape (N, {self.in_features}) "
                f"(in_features={self.in_features}), got shape {data.shape}"
            )
        return MatMul.apply(X, self.W) + self.b

    def parameters(self) -> list[Tensor]:
        """[W, b], the tensors an optimizer updates."""
        return [self.W, self.b]

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row of X: an (N,) integer array (no graph is built)."""
        with no_grad():
            return np.argmax(self(X).data, axis=-1)

    def __repr__(self) -> str:
        return (
            f"LinearClassifier(in_features={self.in_features}, "
            f"num_classes={self.num_classes}, dtype={self.dtype})"
        )
