"""Gradient checking: compare the gradients backward computes with finite differences.

The modules, in the order a call of `gradcheck(fn, inputs)` meets them:
    api          gradcheck, check_gradients: the public entry points
    settings     GradcheckOptions (the keywords every check function shares, written once:
                 names, types, DEFAULTS) and GradcheckSettings, their frozen, validated form
    subject      float64 copies of the inputs and fn recorded at them (prepare -> Subject)
    procedure    the analytic side, then the mode's numerical side (examine -> Findings)
    run          CheckRun, what a mode reads; Upstream, the analytic side's upstream gradients
    purity       is fn a function? a second call at the same point; inputs unchanged
    precision    fn and each op also run in the caller's float32/float16
    modes        how the numerical side covers the elements: FullMode, SampledMode
    fast         FastMode: random directional derivatives, then bisection
    differences  fn read out at perturbed inputs, and the quotients
    comparison   analytic against numerical, entry by entry; the tolerance model
    kinks        entries outside the first tolerance refined: smooth, kink or discontinuity
    evaluations  evaluate_steps, the one loop of evaluations at perturbed points
    parallel     that loop, and the per-op re-checks, spread over workers= (pools: workers)
    numerical    numerical_gradient (the lecture's API), through the same loop
    guards       every op replayed on guarded copies: side effects, randomness, state
    culprits     on failure, every op differenced on a copy of its own inputs
    gradgrad     gradgradcheck: second derivatives against differences of the first; the
                 op whose double backward is wrong named
    outcomes     what a check finds per input and per op: InputCheck, Mismatch, Culprit, ...
    report       GradcheckReport (made of those) and its text
    handwritten  check_numpy_gradient: a hand-written numpy gradient, loss, dW = f(W)
    progress     the progress bar (tqdm)

See `api.gradcheck` for what a check does, `comparison` for the tolerance model, `kinks` for
how a kink is told from a steep point, `fast` for fast mode.
"""

from __future__ import annotations

from .api import check_gradients, gradcheck
from .gradgrad import (
    DoubleBackwardCulprit,
    GradgradcheckError,
    GradgradcheckReport,
    check_second_derivatives,
    gradgradcheck,
)
from .handwritten import check_numpy_gradient
from .modes import JACOBIAN_LIMIT
from .numerical import numerical_gradient, numerical_gradient_array
from .outcomes import BackwardProblem, Culprit, InputCheck, Mismatch
from .report import GradcheckError, GradcheckReport
from .settings import GradcheckSettings

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "gradcheck",
    "check_gradients",
    "check_numpy_gradient",
    "gradgradcheck",
    "check_second_derivatives",
    "GradgradcheckError",
    "GradgradcheckReport",
    "DoubleBackwardCulprit",
    "GradcheckError",
    "GradcheckReport",
    "GradcheckSettings",
    "InputCheck",
    "Mismatch",
    "Culprit",
    "BackwardProblem",
    "JACOBIAN_LIMIT",
]
