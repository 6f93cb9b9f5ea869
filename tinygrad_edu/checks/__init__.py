"""Gradient checking: compare the gradients backward computes with finite differences.

The modules, in the order a call of `gradcheck(fn, inputs)` meets them:
    api          gradcheck, check_gradients: the public entry points
    settings     GradcheckSettings, the frozen, validated arguments of one check
    procedure    float64 copies of the inputs, fn recorded at them, the analytic side
    modes        how the numerical side covers the elements: FullMode, SampledMode
    fast         FastMode: random directional derivatives, then bisection
    differences  fn read out at perturbed inputs, quotients, kinks told apart by a halved step
    comparison   analytic against numerical, entry by entry; kinks
    numerical    numerical_gradient (the lecture's API) and evaluate_steps, the one loop of
                 evaluations at perturbed points
    culprits     on failure, every op re-checked on a copy of its own inputs
    report       GradcheckReport and its parts, and their text
    progress     the progress bar

What `gradcheck(fn, inputs)` does
---------------------------------
1. It calls fn on float64 copies of the inputs (yours are never touched) and records the graph.
2. Analytic side: backward passes with unit upstream gradients give the rows of the Jacobian
   (a single pass for a scalar loss). Further passes check that backward is repeatable and
   linear in the upstream gradient: -2 times the first upstream gradient must give exactly
   -2 times its gradients, zero must give zero, and a random mix of the unit upstream
   gradients the same mix of the rows. A backward that forgets to multiply by its grad
   argument passes every finite difference under a scalar loss (grad is 1 there), not this.
3. Numerical side: each input element in turn is moved by +eps and -eps in place, fn is
   evaluated under no_grad, and the element is put back bit-for-bit (also when fn raises).
   The centered quotient is one column of the Jacobian.
4. Each entry must satisfy |analytic - numerical| <= atol + rtol·|numerical|. An entry that
   fails, but whose one-sided slopes (f(x+h) - f(x))/h and (f(x) - f(x-h))/h differ and
   bracket the analytic value, sits on a kink (relu at 0, a tie of max, |x| at 0): no single
   derivative exists there, so it is reported as a kink, not as a wrong backward.
5. When something fails, every op of the recorded graph is checked the same way on a float64
   copy of its own inputs; the ops whose backward disagrees with their own finite differences
   are the culprits ("backward of MyMul is wrong for input 1"). A backward that raises (the
   engine refuses a gradient of the wrong shape, say) is a wrong backward too.

Outputs with many elements (over `JACOBIAN_LIMIT` Jacobian entries) are checked through the
vector-Jacobian product vᵀJ for a random v instead of the full Jacobian: one backward pass.
"""

from __future__ import annotations

from .api import check_gradients, gradcheck
from .handwritten import check_numpy_gradient
from .modes import JACOBIAN_LIMIT
from .numerical import numerical_gradient, numerical_gradient_array
from .report import (
    BackwardProblem,
    Culprit,
    GradcheckError,
    GradcheckReport,
    InputCheck,
    Mismatch,
)
from .settings import GradcheckSettings

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "gradcheck",
    "check_gradients",
    "check_numpy_gradient",
    "GradcheckError",
    "GradcheckReport",
    "GradcheckSettings",
    "InputCheck",
    "Mismatch",
    "Culprit",
    "BackwardProblem",
    "JACOBIAN_LIMIT",
]
