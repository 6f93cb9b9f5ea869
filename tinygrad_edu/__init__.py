"""tinygrad_edu: reverse-mode automatic differentiation on numpy, with backward passes you can verify.

The modules, one concern each:
    tensor        Tensor and the reverse-mode graph walk
    function      Function (the one mechanism every op uses), grad and anomaly modes
    ops           the built-in primitive ops, each a Function with forward and backward together
    checks        numerical gradients and gradcheck, with culprit localization
    losses        multiclass SVM and softmax cross-entropy losses
    regularizers  L1, L2 and elastic-net penalties
    nn            LinearClassifier
    optim         SGD with learning-rate decay and momentum; random search
    viz           draw_graph / render_graph with graphviz
    testing       helpers for your own pytest suite (check_function)
"""

from . import errors, losses, nn, optim, regularizers, testing, versions
from .autograd import grad
from .checks import (
    Culprit,
    GradcheckError,
    GradcheckReport,
    check_gradients,
    gradcheck,
    numerical_gradient,
    numerical_gradient_array,
)
from .function import (
    Context,
    Function,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from .losses import softmax_cross_entropy, svm_loss
from .nn import LinearClassifier
from .ops import maximum, unbroadcast, where
from .optim import SGD, RandomSearchResult, random_search
from .regularizers import elastic_net, l1, l2
from .tensor import Tensor, as_tensor, topological_order
from .viz import draw_graph, render_graph

__all__ = [
    # engine
    "Tensor",
    "as_tensor",
    "Function",
    "Context",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "maximum",
    "where",
    "unbroadcast",
    "topological_order",
    "grad",
    # gradient checking
    "numerical_gradient",
    "numerical_gradient_array",
    "gradcheck",
    "check_gradients",
    "GradcheckError",
    "GradcheckReport",
    "Culprit",
    # models and training
    "svm_loss",
    "softmax_cross_entropy",
    "l1",
    "l2",
    "elastic_net",
    "LinearClassifier",
    "SGD",
    "random_search",
    "RandomSearchResult",
    # drawing
    "draw_graph",
    "render_graph",
    # submodules
    "errors",
    "versions",
    "losses",
    "nn",
    "optim",
    "regularizers",
    "testing",
]

__version__ = "0.1.0"
