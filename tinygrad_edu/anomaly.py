"""What `detect_anomaly` adds to every op: the user's line that created it, and a check that
neither its forward output nor a gradient its backward returns holds NaN or inf.

The engine calls these only while the mode is on (`modes.anomaly`); they read the node's
`name` and `creation_site()`, so this module imports only the node's module.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from .context import Context, is_tensor

__all__ = ["record_forward", "check_gradient"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stack() -> list[traceback.FrameSummary]:
    """The current stack without its innermost frames inside tinygrad_edu, however many there
    are (Tensor.log -> apply, or a user's MyOp.apply directly), so it ends at the caller's line."""
    stack = traceback.extract_stack()
    while stack and os.path.abspath(stack[-1].filename).startswith(_PACKAGE_DIR):
        stack.pop()
    return stack


def _non_finite(array: np.ndarray) -> str | None:
    """"NaN" or "inf" when a float array holds one (NaN first), else None."""
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        return "NaN" if np.isnan(array).any() else "inf"
    return None


def record_forward(ctx: Context, out: np.ndarray) -> None:
    """Keep the creation stack on the node; refuse a forward output holding NaN or inf."""
    ctx.trace = _user_stack()
    bad = _non_finite(out)
    if bad:
        raise FloatingPointError(
            f"detect_anomaly: forward of {ctx.name} produced {bad} "
            f"(output shape {out.shape}). The op was created at:\n{ctx.creation_site()}"
        )


def check_gradient(node: Context, gradient: Any, input_position: Callable[[], int]) -> None:
    """Refuse a gradient (array or Tensor) a backward returned holding NaN or inf, naming the
    op, the input (its position is worked out only then) and where the op was created."""
    array = gradient.data if is_tensor(gradient) else gradient
    bad = _non_finite(array)
    if bad:
        raise FloatingPointError(
            f"detect_anomaly: backward of {node.name} produced {bad} in the gradient of input "
            f"{input_position()} (shape {array.shape}). The op was created at:\n{node.creation_site()}"
        )
