"""The built-in ops: each a `Function` with its forward and backward side by side.

They use exactly the mechanism a user's own op uses, so everything that checks or draws a
built-in op (gradcheck, culprit localization, draw_graph, anomaly mode) works on a user's op.

    broadcast    unbroadcast (the one helper that sums a gradient back to an input's shape),
                 broadcast_to, axis and number rules
    arithmetic   Add Sub Mul Div Neg Pow Exp Log Abs Maximum MatMul Cast
    reductions   Sum Mean Max
    shape        Reshape Transpose GetItem ScatterAdd
    selection    comparisons, Where

Conventions
-----------
* Broadcasting follows numpy; a binary op's backward sums the gradient back with `unbroadcast`.
* Backward returns None for an input whose `ctx.needs_input_grad` is False: no gradient is
  computed for data (the X in X @ W) or for constants.
* Every backward works on arrays and on Tensors alike, so it can be differentiated again
  (`tinygrad_edu.grad(..., create_graph=True)`).
* Ties, where the derivative is not defined, follow PyTorch: `max` splits the gradient equally
  among tied maxima (as torch.amax); `maximum(a, b)` at a == b gives each input half;
  `abs'(0) = 0`.
"""

from .arithmetic import (
    Abs,
    Add,
    Cast,
    Div,
    Exp,
    Log,
    MatMul,
    Maximum,
    Mul,
    Neg,
    Pow,
    Sub,
    maximum,
    pow,
    rpow,
)
from .broadcast import (
    BroadcastTo,
    broadcast_to,
    expand_reduced,
    normalize_axis,
    reduction_axis,
    unbroadcast,
    value_of,
    zeros_like,
)
from .reductions import Max, Mean, Sum
from .selection import Where, compare, where
from .shape import GetItem, Reshape, ScatterAdd, Transpose, plain_index, scatter_add

__all__ = [
    "unbroadcast",
    "broadcast_to",
    "expand_reduced",
    "zeros_like",
    "value_of",
    "normalize_axis",
    "reduction_axis",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "MatMul",
    "Exp",
    "Log",
    "Abs",
    "Cast",
    "Sum",
    "Mean",
    "Max",
    "Maximum",
    "Reshape",
    "Transpose",
    "GetItem",
    "ScatterAdd",
    "BroadcastTo",
    "Where",
    "maximum",
    "pow",
    "rpow",
    "where",
    "compare",
    "scatter_add",
    "plain_index",
]
