"""The built-in ops: each a `Function` with its forward and backward side by side.

They use exactly the mechanism a user's own op uses, so everything that checks or draws a
built-in op (gradcheck, culprit localization, draw_graph, anomaly mode) works on a user's op.

    broadcast    unbroadcast (the one helper that sums a gradient back to an input's shape),
                 broadcast_to, axis and number rules
    arithmetic   Add Sub Mul Div Neg Pow Exp Log Abs Maximum MatMul Cast
    elementwise  Sqrt Sin Cos Clip Minimum; exp sqrt sin cos (on arrays or Tensors)
    activations  Relu Tanh Sigmoid Softmax LogSoftmax
    reductions   Sum Mean Max
    statistics   Min Prod Var Std Cumsum; argmax argmin (int results, no gradient)
    shape        Reshape Transpose GetItem ScatterAdd
    joining      Concatenate Stack; expand_dims squeeze flatten (Reshape)
    einsum       Einsum
    selection    comparisons, Where
    arguments    axes checked, PyTorch's keyword names (dim=, keepdim=) refused with numpy's

Conventions
-----------
* Broadcasting follows numpy; a binary op's backward sums the gradient back with `unbroadcast`.
* Backward returns None for an input whose `ctx.needs_input_grad` is False: no gradient is
  computed for data (the X in X @ W) or for constants.
* Every backward works on arrays and on Tensors alike, so it can be differentiated again
  (`tinygrad_edu.grad(..., create_graph=True)`).
* Ties and kinks, where the derivative is not defined, follow PyTorch: `max` and `min` split
  the gradient equally among tied extremes (as torch.amax / torch.amin); `maximum(a, b)` and
  `minimum(a, b)` at a == b give each input half; `abs'(0) = 0`; `relu'(0) = 0`; `clip` passes
  the gradient at its bounds (as torch.clamp); `std`'s gradient is 0 where std is 0; `prod`
  handles zeros exactly (no division).
* Functions that take arrays or Tensors (`where`, `broadcast_to`, `exp`, `sin`, `cos`, `sqrt`,
  `cumsum`, `expand_dims`, `concatenate`, `stack`, `einsum`, ...) return a recorded Tensor when
  an argument is a Tensor and an array otherwise: backward passes use them on both.
"""

from .activations import LogSoftmax, Relu, Sigmoid, Softmax, Tanh, log_softmax, softmax
from .arguments import checked_axis, refuse_keywords
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
    unbroadcast,
    value_of,
    zeros_like,
)
from .einsum import Einsum, einsum
from .elementwise import Clip, Cos, Minimum, Sin, Sqrt, clip, cos, exp, minimum, sin, sqrt
from .joining import (
    Concatenate,
    Stack,
    concatenate,
    expand_dims,
    flatten,
    reshape,
    squeeze,
    stack,
)
from .reductions import Max, Mean, Sum
from .selection import Where, compare, where
from .shape import GetItem, Reshape, ScatterAdd, Transpose, plain_index, scatter_add
from .statistics import (
    Cumsum,
    Min,
    Prod,
    Std,
    Var,
    argmax,
    argmin,
    cumsum,
    reduce,
    variance,
)

__all__ = [
    "unbroadcast",
    "broadcast_to",
    "expand_reduced",
    "zeros_like",
    "value_of",
    "normalize_axis",
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
    # the op vocabulary for models
    "Sqrt",
    "Sin",
    "Cos",
    "Clip",
    "Minimum",
    "Relu",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "Min",
    "Prod",
    "Var",
    "Std",
    "Cumsum",
    "Concatenate",
    "Stack",
    "Einsum",
    "exp",
    "sqrt",
    "sin",
    "cos",
    "clip",
    "minimum",
    "argmax",
    "argmin",
    "cumsum",
    "concatenate",
    "stack",
    "expand_dims",
    "squeeze",
    "flatten",
    "reshape",
    "softmax",
    "log_softmax",
    "einsum",
    "reduce",
    "variance",
    "refuse_keywords",
    "checked_axis",
]
