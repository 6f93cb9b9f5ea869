"""`Function` and `Context`, importable from here as before they moved into `tensor.py` (an op
builds Tensors and Tensor's operators call the ops, so they live together: see ARCHITECTURE.md).
The modes stay importable from here too (`from tinygrad_edu.function import no_grad`)."""

from .modes import detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad
from .tensor import Context, Function

__all__ = [
    "Function",
    "Context",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
]
