"""tinygrad_edu: reverse-mode automatic differentiation on numpy, with backward passes you can verify.

The modules, one concern each (ARCHITECTURE.md has the map):
    modes          thread-local grad and anomaly modes (no_grad, detect_anomaly)
    versions       what keeps saved arrays from changing: locks and in-place versions
    tensor         the engine's core: Tensor (data, gradient, operator sugar), Function (the one
                   mechanism every op uses) and its Context (the graph node)
    function       Function and Context, re-exported where they used to live
    walk           the reverse-mode walk behind backward() and grad()
    autograd       grad(outputs, inputs, create_graph=...): gradients returned, to any order
    functional     vjp, jvp, jacobian, hessian, hvp (torch.autograd.functional's API)
    ops/           the built-in ops, each a Function with forward and backward together
    errors         typed errors (a bad gradient names its op and input)
    validation     one helper for every public argument
    losses         multiclass SVM and softmax cross-entropy losses
    regularizers   L1, L2 and elastic-net penalties
    nn             Module, Linear, Sequential, activations, LinearClassifier
    optim          SGD (the lecture's decay and momentum; weight_decay), Adam; random search
    serialization  save / load of state dicts in .npz, never pickle
    checks/        numerical gradients and gradcheck, with culprit localization
    viz/           draw_graph / render_graph with graphviz
    testing/       helpers for your own pytest suite (check_function, strategies)
"""

from . import (
    errors,
    functional,
    losses,
    nn,
    optim,
    regularizers,
    serialization,
    testing,
    validation,
    versions,
)
from .autograd import grad
from .checks import (
    Culprit,
    GradcheckError,
    GradcheckReport,
    GradgradcheckError,
    GradgradcheckReport,
    check_gradients,
    check_numpy_gradient,
    check_second_derivatives,
    gradcheck,
    gradgradcheck,
    numerical_gradient,
    numerical_gradient_array,
)
from .checks.workers import WorkerError
from .losses import softmax_cross_entropy, svm_loss
from .modes import detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad
from .nn import Linear, LinearClassifier, Module, ReLU, Sequential, Sigmoid, Tanh
from .ops import concatenate, einsum, expand_dims, maximum, minimum, stack, unbroadcast, where
from .optim import SGD, Adam, Optimizer, RandomSearchResult, random_search
from .regularizers import elastic_net, l1, l2
from .serialization import load, save
from .tensor import Context, Function, Tensor, as_tensor, topological_order
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
    "minimum",
    "where",
    "concatenate",
    "stack",
    "expand_dims",
    "einsum",
    "unbroadcast",
    "topological_order",
    "grad",
    # gradient checking
    "numerical_gradient",
    "numerical_gradient_array",
    "gradcheck",
    "check_gradients",
    "check_numpy_gradient",
    "gradgradcheck",
    "check_second_derivatives",
    "GradgradcheckError",
    "GradgradcheckReport",
    "WorkerError",
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
    "Module",
    "Linear",
    "Sequential",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Optimizer",
    "SGD",
    "Adam",
    "save",
    "load",
    "random_search",
    "RandomSearchResult",
    # drawing
    "draw_graph",
    "render_graph",
    # submodules
    "errors",
    "functional",
    "versions",
    "losses",
    "nn",
    "optim",
    "regularizers",
    "serialization",
    "testing",
    "validation",
]

__version__ = "0.1.0"
