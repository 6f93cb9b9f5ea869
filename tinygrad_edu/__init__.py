"""tinygrad_edu: reverse-mode automatic differentiation on numpy, with backward passes you can verify."""

from .function import (
    Context,
    Function,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from .ops import maximum, unbroadcast
from .tensor import Tensor, topological_order

__all__ = [
    "Tensor",
    "Function",
    "Context",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "maximum",
    "unbroadcast",
    "topological_order",
]

__version__ = "0.1.0"
