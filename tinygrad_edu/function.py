"""`Function` and `Context`, importable from here as before they moved into `tensor.py` and
`context.py` (an op builds Tensors and Tensor's operators call the ops: see ARCHITECTURE.md).
The modes stay importable from here too (`from tinygrad_edu.function import no_grad`)."""

from . import modes as _modes
from .modes import detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad  # noqa: F401
from .tensor import Context, Function

__all__ = ["Function", "Context", *_modes.__all__]
