"""Gradient checking: compare the gradients backward computes with finite differences.

Why finite differences work, and how well
-----------------------------------------
A derivative is the limit of a difference quotient, so it can be estimated from values of f
alone. Taylor's theorem tells how good the estimate is for a step h:

    f(x + h) = f(x) + h f'(x) + h²/2 f''(x) + h³/6 f'''(x) + ...

    forward   (f(x+h) - f(x)) / h        = f'(x) + h/2 f''(x)  + ...   error O(h)
    centered  (f(x+h) - f(x-h)) / (2h)   = f'(x) + h²/6 f'''(x) + ...  error O(h²)

(the even powers cancel in the centered quotient). For f(θ) = θ³ at θ = 1 and h = 0.01 the
forward quotient is 3.0301 and the centered one 3.0001; the derivative is 3. A smaller h is
not always better: f is computed with a relative rounding error of about ε (2.2e-16 in float64,
1.2e-7 in float32) and the quotient divides it by h, adding ~ε·|f|/h. The total error is
smallest near h ≈ 1e-5 for the centered quotient in float64; in float32 no step gives much more
than three correct digits. So gradcheck always differentiates float64 copies of the inputs.

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

fast_mode: directional derivatives, then bisection
--------------------------------------------------
For a large input, 2·n evaluations of fn are too many. fast_mode projects the output on a
random v (φ = vᵀ·output, so g = vᵀJ is one backward pass), splits the input's elements into
`directions` blocks (2 by default), and for each block B compares gᵀu with the centered difference of φ
along a random direction u supported on B (two evaluations). The entries of u are random signs
times magnitudes in [0.5, 1]: an error e in a single element moves gᵀu by at least e/2,
whatever the size of the block. So the tolerance is the per-element one,
atol + rtol·median|g| (not rtol·|gᵀu|, which grows like sqrt(n) and is why PyTorch's fast mode
misses a 1% error in one element of a 30,000-element gradient), plus an estimate of the
difference's own rounding error, 32·ε·|φ|/h. A block that disagrees is halved and each half
re-checked, down to a few elements that are checked one by one; that element-wise check
decides, so every failure fast mode reports is confirmed element by element. Kinks are met
only there: fast mode reports a kink only where it made a direction disagree. The
zero-upstream pass is skipped (the -2 pass already catches a backward that ignores its grad
argument). When nothing disagrees, the cost is 2·directions evaluations of fn, one recorded
forward pass and two backward passes, whatever n.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .function import Context, enable_grad, no_grad
from .tensor import Tensor, topological_order

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "gradcheck",
    "check_gradients",
    "GradcheckError",
    "GradcheckReport",
    "InputCheck",
    "Mismatch",
    "Culprit",
    "BackwardProblem",
    "JACOBIAN_LIMIT",
]

METHODS = ("central", "forward")
JACOBIAN_LIMIT = 1_000_000  # Jacobian entries; above this, vᵀJ for a random v is checked
_MAX_JACOBIAN_ROWS = 2048  # one backward pass per output element: cap their number
_MAX_LISTED = 10  # worst entries (and kinks) kept per input in a report
_LEAF_SIZE = 8  # fast mode: a block this small is checked element by element
_LOCALIZE_LIMIT = 10  # fast mode: stop narrowing down once this many elements are confirmed
_FULL_NODE_CHECK_LIMIT = 4096  # culprit search: larger op inputs are checked in fast mode
_ROUNDING_SAFETY = 32.0  # fast mode: multiple of the rounding-error estimate tolerated
_REPEAT_RTOL = 1e-9  # backward passes that must agree up to rounding
_PROGRESS_MIN_EVALUATIONS = 2000
_EPS64 = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)


# ----------------------------------------------------------------------------- report types


@dataclass
class Mismatch:
    """One compared derivative: d output[output_index] / d input[index].

    `output_index` is None when the output is a single number or was projected on a random
    vector v (then the derivative is that of vᵀ·output). `slopes` are the one-sided quotients
    (f(x+h) - f(x))/h and (f(x) - f(x-h))/h; they differ at a kink.
    """

    input_index: int
    index: tuple[int, ...]
    output_index: tuple[int, ...] | None
    analytic: float
    numerical: float
    rel_error: float
    slopes: tuple[float, float]


@dataclass
class InputCheck:
    """The outcome for one input that requires grad (0-based `position` in `inputs`)."""

    position: int
    name: str | None
    shape: tuple[int, ...]
    dtype: str  # the input's own dtype; the check itself ran in float64
    method: str  # "Jacobian", "vector-Jacobian product", "sampled ...", "fast"
    checked: int  # derivatives compared (fast mode: elements covered by directions)
    failures: int  # of those, how many disagree (not counting kinks)
    worst: list[Mismatch]  # the worst failures, at most _MAX_LISTED, worst first
    num_kinks: int
    kinks: list[Mismatch]  # at most _MAX_LISTED
    max_rel_error: float  # over the compared derivatives that are not on kinks
    unit: str = "elements"  # what `checked` counts: "elements" or "Jacobian entries"
    directional_checks: int = 0  # fast mode: directional derivatives compared
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.failures == 0

    @property
    def label(self) -> str:
        return _input_label(self.position, self.name)


@dataclass
class BackwardProblem:
    """A failure of backward that no finite difference is needed to see: it raised, or it is
    not repeatable, or not linear in the upstream gradient."""

    input_index: int | None
    message: str
    rel_error: float = float("inf")


@dataclass
class Culprit:
    """An op of `report.output`'s graph whose backward disagrees with its own finite
    differences, checked on a float64 copy of the inputs it saw."""

    node: Context
    op: str
    input_index: int | None
    rel_error: float
    message: str


@dataclass
class GradcheckReport:
    """Everything one gradcheck found; `str(report)` is the failure message."""

    inputs: list[InputCheck]
    culprits: list[Culprit]
    output: Tensor | None  # fn at the unperturbed inputs; the culprits' nodes are in its graph
    verdict: str
    backward_problems: list[BackwardProblem] = field(default_factory=list)
    backward_error: BaseException | None = None
    evaluations: int = 0  # calls of fn made for finite differences
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings about the check itself

    @property
    def ok(self) -> bool:
        """Every input agrees with finite differences and backward behaved (linear, repeatable,
        no error)."""
        return not self.backward_problems and all(c.ok for c in self.inputs)

    @property
    def kinks(self) -> list[Mismatch]:
        """Derivatives found on non-differentiable points, over all inputs (at most
        _MAX_LISTED per input; `InputCheck.num_kinks` counts them all)."""
        return [k for check in self.inputs for k in check.kinks]

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.inputs), default=0.0)

    def __str__(self) -> str:
        return _format_report(self)


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when gradients disagree; `.report` holds the facts.

    A subclass of AssertionError, so pytest reports it as a failed check, with the message.
    """

    def __init__(self, report: GradcheckReport, context: str = "") -> None:
        super().__init__(f"{context}\n{report}" if context else str(report))
        self.report = report


# ----------------------------------------------------------------------------- finite differences


def numerical_gradient(
    f: Callable[[Any], Any],
    x: np.ndarray | Tensor,
    eps: float = 1e-5,
    method: str = "central",
    *,
    grad_output: np.ndarray | None = None,
) -> np.ndarray:
    """The gradient of f at x by finite differences, one element of x at a time.

    f            called as f(x); returns a number (a float, a one-element array or Tensor).
                 With `grad_output`, f may return an array or Tensor of any shape, and the
                 result is the gradient of sum(f(x) * grad_output): the vector-Jacobian
                 product a backward pass computes for that upstream gradient.
    x            a floating-point ndarray, or a Tensor (its `.data` is perturbed and f is
                 called with the Tensor). It is changed in place, one element at a time, and
                 each element is put back bit-for-bit, also when f raises.
    eps          the step h.
    method       "central": (f(x+h) - f(x-h)) / 2h, error O(h²), two calls per element;
                 "forward": (f(x+h) - f(x)) / h, error O(h), one call per element (+1).
                 By Taylor, f(x±h) = f ± h f' + h²/2 f'' ± h³/6 f''' + ..., so the forward
                 quotient is f' + h/2 f'' + ... while in the centered one the h² terms cancel,
                 leaving f' + h²/6 f''' + .... For f(θ) = θ³ at θ = 1, h = 0.01:
                 forward 3.0301 (error 3h + h²), centered 3.0001 (error h²).

    The step actually taken is (x + h) - x as rounded in x's dtype, which removes the error
    of h not being representable next to x. f runs under no_grad. Returns a float64 array of
    x's shape.
    """
    _check_method(method)
    _check_positive("numerical_gradient", "eps", eps)
    array = x.data if isinstance(x, Tensor) else x
    _check_perturbable(array)
    if grad_output is not None:
        grad_output = np.asarray(
            grad_output.data if isinstance(grad_output, Tensor) else grad_output)

    def evaluate() -> float:
        return _as_number(f(x), grad_output)

    signs = (1.0,) if method == "forward" else (1.0, -1.0)
    with no_grad(), _Progress(array.size * len(signs), label="numerical_gradient") as progress:
        base = evaluate() if method == "forward" else 0.0
        values, steps = _sweep(evaluate, array, np.arange(array.size), eps, signs, progress)
    if method == "forward":
        gradient = (values[0] - base) / steps[0]
    else:
        gradient = (values[0] - values[1]) / (steps[0] - steps[1])
    return gradient.reshape(array.shape)


def numerical_gradient_array(
    f: Callable[[Any], Any],
    x: np.ndarray | Tensor,
    grad_output: np.ndarray,
    eps: float = 1e-5,
    method: str = "central",
) -> np.ndarray:
    """cs231n's eval_numerical_gradient_array: the gradient of sum(f(x) * grad_output), for
    an f returning an array or Tensor. Same as `numerical_gradient(..., grad_output=...)`."""
    return numerical_gradient(f, x, eps, method, grad_output=grad_output)


def _sweep(
    evaluate: Callable[[], Any],
    x: np.ndarray,
    indices: np.ndarray,
    eps: float,
    signs: Sequence[float],
    progress: _Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Call `evaluate` with x.flat[j] moved by sign·eps, for each j in indices and each sign.

    Returns values (len(signs), len(indices), *value shape) and the steps actually taken
    (len(signs), len(indices)). Every element is restored bit-for-bit before the next one
    moves, and in any case before this returns or raises.
    """
    flat = x.flat
    steps = np.empty((len(signs), len(indices)))
    values: np.ndarray | None = None
    for row, j in enumerate(indices):
        original = flat[j]
        try:
            for s, sign in enumerate(signs):
                flat[j] = original + sign * eps
                steps[s, row] = flat[j] - original
                value = evaluate()
                if values is None:
                    values = np.empty((len(signs), len(indices)) + np.shape(value))
                values[s, row] = value
        finally:
            flat[j] = original
        if progress is not None:
            progress.advance(len(signs))
    if values is None:
        values = np.empty((len(signs), 0))
    return values, steps


def _as_number(result: Any, grad_output: np.ndarray | None) -> float:
    data = np.asarray(result.data if isinstance(result, Tensor) else result)
    if data.dtype.kind not in "fiub":
        raise TypeError(
            f"numerical_gradient: f must return a number, an array or a Tensor, "
            f"got {type(result).__name__}"
        )
    if grad_output is None:
        if data.size != 1:
            raise ValueError(
                f"numerical_gradient: f returned an array of shape {data.shape}; return a single "
                "number, or pass grad_output= (an array of that shape) to get the gradient of "
                "sum(f(x) * grad_output)"
            )
        return float(data.reshape(-1)[0])
    if data.shape != grad_output.shape:
        raise ValueError(
            f"numerical_gradient: f returned shape {data.shape} but grad_output has shape "
            f"{grad_output.shape}"
        )
    return float(np.sum(data * grad_output))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(
            f"numerical_gradient: method must be one of {', '.join(map(repr, METHODS))}, "
            f"got {method!r}"
        )


def _check_positive(where: str, name: str, value: float) -> None:
    if not (isinstance(value, (int, float, np.floating)) and np.isfinite(value) and value > 0):
        raise ValueError(f"{where}: {name} must be a positive finite number, got {value!r}")


def _check_perturbable(array: Any) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"numerical_gradient: x must be a numpy array or a Tensor (it is perturbed in "
            f"place), got {type(array).__name__}"
        )
    if array.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must hold floating-point numbers, got dtype {array.dtype}: "
            "a step of eps cannot be represented in it"
        )
    if not array.flags.writeable:
        raise ValueError("numerical_gradient: x is read-only; it must be perturbed in place")


# ----------------------------------------------------------------------------- progress bar


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal and the work is
    long (or when forced with enabled=True). Redrawn at most ten times a second. Use it in a
    `with` block: leaving the block ends the line."""

    def __init__(self, total: int, enabled: bool | None = None, label: str = "gradcheck") -> None:
        if enabled is None:
            enabled = total >= _PROGRESS_MIN_EVALUATIONS and sys.stderr.isatty()
        self.on = enabled and total > 0
        self.total, self.done, self.label = total, 0, label
        self.drawn_at = 0.0

    def advance(self, count: int) -> None:
        if not self.on:
            return
        self.done += count
        now = time.monotonic()
        if now - self.drawn_at >= 0.1 or self.done >= self.total:
            self.drawn_at = now
            filled = 30 * self.done // self.total
            sys.stderr.write(
                f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                f"{self.done}/{self.total} evaluations ({100 * self.done // self.total}%)"
            )
            sys.stderr.flush()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.on and self.drawn_at:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.on = False


# ----------------------------------------------------------------------------- gradcheck


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    samples: int | None = None,
    directions: int = 2,
    seed: int = 0,
    localize: bool = True,
    progress: bool | None = None,
) -> bool:
    """Check fn's backward against centered finite differences, for every input that requires
    grad. True if they agree; otherwise raises `GradcheckError` (whose `.report` is a
    `GradcheckReport`), or returns False with raise_exception=False.

    fn          takes the entries of `inputs` as positional arguments and returns a Tensor of
                any shape. It is called on float64 copies of the Tensors (float32 ones too:
                float32 finite differences are too coarse to judge a gradient), so the
                originals, their `.grad` and `.version` are never changed, also when fn raises.
                fn must use its arguments, not the original tensors from its enclosing scope
                (that raises ValueError). Tensors fn closes over (parameters) get their `.grad`
                back as it was.
    inputs      a Tensor, or a tuple of Tensors and constants (passed as they are).
    eps         the finite-difference step.
    atol, rtol  a derivative passes when |analytic - numerical| <= atol + rtol·|numerical|.
    fast_mode   random directional derivatives instead of one evaluation pair per element:
                O(directions) evaluations per input (see the module docstring).
    samples     check only this many randomly chosen elements of each input (cs231n's
                grad_check_sparse); 2·samples evaluations per input.
    directions  fast mode: into how many blocks of consecutive elements each input is split,
                each checked along its own random direction.
    seed        seeds the random choices (samples, directions, projections).
    localize    on failure, re-check every op of the graph to name the culprit.
    progress    None: a progress bar on stderr for long checks when it is a terminal;
                True: always; False: never.

    A kink (a derivative on a non-differentiable point such as relu at 0) is reported in
    `report.kinks`, never a failure. fn returning something other than a Tensor: TypeError.

        >>> x = Tensor(np.random.randn(3, 4), requires_grad=True, name="x")
        >>> gradcheck(lambda x: (x.exp() * x).sum(), x)
        True
    """
    report = check_gradients(
        fn, inputs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, samples=samples,
        directions=directions, seed=seed, localize=localize, progress=progress,
    )
    if report.ok:
        return True
    if raise_exception:
        raise GradcheckError(report) from report.backward_error
    return False


def check_gradients(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    samples: int | None = None,
    directions: int = 2,
    seed: int = 0,
    localize: bool = True,
    progress: bool | None = None,
) -> GradcheckReport:
    """`gradcheck`, returning its `GradcheckReport` instead of raising (same arguments)."""
    _check_positive("gradcheck", "eps", eps)
    if not (atol >= 0 and rtol >= 0):
        raise ValueError(f"gradcheck: atol and rtol must be >= 0, got atol={atol}, rtol={rtol}")
    if samples is not None:
        if fast_mode:
            raise ValueError("gradcheck: choose fast_mode=True or samples=k, not both")
        if not isinstance(samples, (int, np.integer)) or samples < 1:
            raise ValueError(f"gradcheck: samples must be a positive integer, got {samples!r}")
    if not isinstance(directions, (int, np.integer)) or directions < 1:
        raise ValueError(f"gradcheck: directions must be a positive integer, got {directions!r}")
    settings = dict(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, samples=samples,
                    directions=directions, seed=seed, progress=progress)
    check = _Check(fn, _as_input_tuple(inputs), settings)
    with _grads_kept(check.outside_leaves):
        report = check.run()
        if not report.ok and localize and report.output.requires_grad:
            report.culprits = _localize(report.output, settings)
    for copy in check.args:  # what the check's passes left there would mislead a drawing
        if isinstance(copy, Tensor):
            copy.grad = None
    report.verdict = _verdict(report, localize)
    return report


class _Check:
    """One gradcheck run: float64 copies of the inputs, the output recorded at them, and the
    analytic and numerical phases."""

    def __init__(self, fn: Callable[..., Tensor], inputs: tuple[Any, ...],
                 settings: dict[str, Any]) -> None:
        self.fn, self.originals, self.settings = fn, inputs, settings
        self.eps, self.atol, self.rtol = settings["eps"], settings["atol"], settings["rtol"]
        self.rng = np.random.default_rng(settings["seed"])
        self.args = [_float64_copy(x) if isinstance(x, Tensor) else x for x in inputs]
        self.checked = [i for i, x in enumerate(inputs)
                        if isinstance(x, Tensor) and x.requires_grad]
        if not self.checked:
            raise ValueError(
                "gradcheck: no input requires grad, so there is nothing to check; create the "
                "tensors to differentiate with requires_grad=True"
            )
        with enable_grad():
            self.output = self._call()
        graph = topological_order(self.output)
        self._reject_originals(graph)
        ours = {id(x) for x in self.args}
        # Parameters fn closes over: backward passes accumulate into their .grad, which
        # `check_gradients` puts back afterwards.
        self.outside_leaves = [t for t in graph
                               if t.is_leaf and t.requires_grad and id(t) not in ours]
        self.evaluations = 0
        self.readout: np.ndarray | None = None  # None: every output element; else v, (m,)
        self.analytic_scale = 1.0  # the upstream gradient of a scalar output (see _choose_readout)

    # -- calling fn

    def _call(self) -> Tensor:
        out = self.fn(*self.args)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"gradcheck: fn must return a Tensor, but it returned {type(out).__name__} "
                f"({_short_repr(out)})"
            )
        if out.dtype.kind != "f":
            raise TypeError(
                f"gradcheck: fn returned a Tensor of dtype {out.dtype}; gradients need a "
                "floating-point output"
            )
        return out

    def evaluate(self) -> np.ndarray:
        """fn at the current (perturbed) inputs, flattened and projected by the readout.

        The hot loop of the numerical phase: the checks here are the cheapest that still
        catch fn returning something else than at the unperturbed inputs."""
        self.evaluations += 1
        out = self.fn(*self.args)
        if not isinstance(out, Tensor) or out.data.shape != self.output.data.shape:
            self._reject_perturbed_output(out)
        values = out.data.reshape(-1)
        return values if self.readout is None else np.array([_dot(self.readout, values)])

    def _reject_perturbed_output(self, out: Any) -> None:
        if not isinstance(out, Tensor):
            raise TypeError(
                f"gradcheck: fn returned {type(out).__name__} ({_short_repr(out)}) at a "
                "perturbed input, but a Tensor at the unperturbed one"
            )
        raise ValueError(
            f"gradcheck: fn returned shape {out.shape} at a perturbed input but "
            f"{self.output.shape} at the unperturbed one"
        )

    def _reject_originals(self, graph: list[Tensor]) -> None:
        used = {id(t) for t in graph}
        for i in self.checked:
            if id(self.originals[i]) in used:
                raise ValueError(
                    f"gradcheck: fn used {self._label(i)} from its "
                    "enclosing scope instead of the argument it was passed. gradcheck calls fn "
                    "with float64 copies of the inputs, so that yours stay untouched: compute "
                    "with fn's arguments."
                )

    # -- the run

    def run(self) -> GradcheckReport:
        settings = self.settings
        out_size = self.output.size
        report = GradcheckReport(inputs=[], culprits=[], output=self.output,
                                 verdict="", settings=settings)
        if self.output.dtype != np.float64:
            report.notes.append(
                f"fn returned {self.output.dtype} for float64 inputs: it computes in lower "
                "precision inside, and finite differences in that precision are too coarse to "
                "judge a gradient (expect false alarms)")
        cotangents, method = self._choose_readout(out_size)
        self.base = self._base_values()
        try:
            # Per checked input: (readout rows, input elements), the Jacobian or vᵀJ.
            analytic = [np.empty((len(cotangents), self.args[i].size)) for i in self.checked]
            for row, cotangent in enumerate(cotangents):
                for jacobian, grad in zip(analytic, self.vjp(cotangent)):
                    jacobian[row] = grad / self.analytic_scale
            report.backward_problems = self._backward_problems(cotangents, analytic)
        except Exception as error:  # a backward that raises is a wrong backward
            report.backward_error = error
            report.backward_problems = [
                BackwardProblem(None, f"backward raised {type(error).__name__}: {error}")
            ]
            return report
        with _Progress(self._planned_evaluations(), settings["progress"]) as progress:
            for position, jacobian in zip(self.checked, analytic):
                if settings["fast_mode"]:
                    report.inputs.append(self._fast(position, jacobian[0]))
                else:
                    report.inputs.append(
                        self._elementwise_input(position, jacobian, method, progress))
        report.evaluations = self.evaluations
        return report

    def _choose_readout(self, out_size: int) -> tuple[list[np.ndarray], str]:
        """The upstream gradients of the analytic phase: unit vectors (the full Jacobian) or
        one random v (the vector-Jacobian product vᵀJ)."""
        entries = out_size * sum(self.args[i].size for i in self.checked)
        fast = self.settings["fast_mode"]
        full = not fast and (out_size == 1 or (
            0 < out_size <= _MAX_JACOBIAN_ROWS and entries <= JACOBIAN_LIMIT
        ))  # an empty output has an empty v: vᵀJ = 0, to be matched by finite differences
        if full:
            return list(np.eye(out_size)), "Jacobian"
        if out_size == 1:
            # Fast mode runs backward with upstream gradient -0.75, not 1 (and divides the
            # result by it, exactly: a power of two times 3), so a backward that ignores its
            # upstream gradient disagrees with finite differences without extra passes.
            self.analytic_scale = -0.75
            return [np.array([-0.75])], "Jacobian"
        self.readout = _random_weights(self.rng, out_size)
        return [self.readout], "vector-Jacobian product"

    def _planned_evaluations(self) -> int:
        if self.settings["fast_mode"]:
            return 0  # adaptive; fast anyway
        samples = self.settings["samples"]
        sizes = [self.args[i].size for i in self.checked]
        return 2 * sum(min(n, samples) if samples else n for n in sizes)

    # -- analytic phase

    def vjp(self, cotangent: np.ndarray) -> list[np.ndarray]:
        """cotangentᵀ·J for each checked input, flattened (zeros where no gradient arrives)."""
        for i in self.checked:
            self.args[i].grad = None
        if self.output.requires_grad:
            self.output.backward(cotangent.reshape(self.output.shape), retain_graph=True)
        return [np.zeros(self.args[i].size) if self.args[i].grad is None
                else self.args[i].grad.reshape(-1) for i in self.checked]

    def _backward_problems(self, cotangents: list[np.ndarray],
                           analytic: list[np.ndarray]) -> list[BackwardProblem]:
        """Backward must be repeatable and linear in its upstream gradient.

        A second pass with the first upstream gradient times -2 must give -2 times its
        gradients (exactly, up to rounding: scaling by -2 is exact in floating point). That
        tests repeatability and homogeneity in one pass, and catches a backward that ignores
        its upstream gradient or adds a constant. A zero upstream gradient must give zero
        gradients. Fast mode skips these passes (each costs about three evaluations of fn);
        its upstream gradient is never 1, so a backward that ignores it still disagrees with
        the finite differences.
        """
        if self.settings["fast_mode"]:
            return []  # each pass costs about three evaluations of fn: fast mode skips them
        first, first_grads = cotangents[0], [jacobian[0] for jacobian in analytic]
        problems = self._compare_passes(
            first_grads, self.vjp(-2.0 * first), -2.0,
            "a second backward pass, with the upstream gradient times -2, did not give -2 times "
            "the gradient of {input}: backward is not linear in the upstream gradient, or not "
            "repeatable (does a backward ignore its grad argument, or change its saved arrays "
            "or ctx in place?)")
        problems += self._compare_passes(
            [np.zeros_like(g) for g in first_grads], self.vjp(np.zeros_like(first)), 1.0,
            "backward is not linear in the upstream gradient: a zero upstream gradient gave "
            "a nonzero gradient for {input} (does a backward ignore its grad argument?)")
        if len(cotangents) > 1:  # additivity: J's rows must combine like the upstream gradients
            weights = _random_weights(self.rng, len(cotangents))
            combined = [weights @ jacobian for jacobian in analytic]
            magnitudes = [np.abs(weights) @ np.abs(jacobian) for jacobian in analytic]
            problems += self._compare_passes(
                combined, self.vjp(weights @ np.stack(cotangents)), 1.0,
                "backward is not linear in the upstream gradient: for {input}, the gradient "
                "for a sum of upstream gradients is not the sum of their gradients", magnitudes)
        return problems

    def _compare_passes(self, reference: list[np.ndarray], other: list[np.ndarray],
                        factor: float, message: str,
                        magnitudes: list[np.ndarray] | None = None) -> list[BackwardProblem]:
        """Gradients `other` must equal factor·`reference` up to rounding, relative to
        `magnitudes` (default: |factor·reference|)."""
        problems = []
        for k, (position, ref, got) in enumerate(zip(self.checked, reference, other)):
            expected = factor * ref
            if np.array_equal(got, expected):  # the usual case, and the cheapest test
                continue
            deviation = np.abs(got - expected)
            magnitude = np.abs(expected) if magnitudes is None else magnitudes[k]
            if not np.all(deviation <= _REPEAT_RTOL * magnitude + _TINY):
                scale = np.maximum(np.abs(got) + np.abs(expected), _TINY)
                rel = float(np.max(deviation / scale))
                problems.append(BackwardProblem(
                    position, message.format(input=self._label(position)), rel))
        return problems

    # -- numerical phase

    def _elementwise_input(self, position: int, analytic: np.ndarray, method: str,
                           progress: _Progress) -> InputCheck:
        x = self.args[position]
        indices = np.arange(x.size)
        samples = self.settings["samples"]
        if samples and samples < x.size:
            indices = np.sort(self.rng.choice(x.size, size=samples, replace=False))
            method = f"sampled {samples} of {x.size} elements, {method}"
        if indices.size == 0:
            return self._summarize(position, method, 0, [])
        comparison = self._elementwise(position, indices, analytic[:, indices].T, progress)
        return self._summarize(position, method, comparison.entries, [comparison])

    def _elementwise(self, position: int, indices: np.ndarray, analytic: np.ndarray,
                     progress: _Progress | None = None) -> _Comparison:
        """Compare analytic[k, r] = d readout_r / d x[indices[k]] with centered differences."""
        numerical, slope_plus, slope_minus = self._differences(position, indices, self.eps,
                                                               progress)
        comparison = _Comparison.of(indices, analytic, numerical, slope_plus, slope_minus,
                                    self.atol, self.rtol)
        self._confirm_kinks(position, comparison)
        return comparison

    def _differences(self, position: int, indices: np.ndarray, step: float,
                     progress: _Progress | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centered and one-sided (+h, -h) quotients, each (len(indices), readout size)."""
        with no_grad():
            values, steps = _sweep(self.evaluate, self.args[position].data, indices, step,
                                   (1.0, -1.0), progress)
        plus, minus = values[0].reshape(len(indices), -1), values[1].reshape(len(indices), -1)
        step_plus, step_minus = steps[0][:, None], steps[1][:, None]
        centered = (plus - minus) / (step_plus - step_minus)
        return centered, (plus - self.base) / step_plus, (self.base - minus) / -step_minus

    def _confirm_kinks(self, position: int, comparison: _Comparison) -> None:
        """A derivative that agrees but whose one-sided slopes differ sits on a kink (relu at
        exactly 0) or on a sharp bend of a smooth function. Halving the step tells them apart:
        a kink's slopes keep their jump, a smooth bend's jump halves with the step."""
        unsure = np.flatnonzero(comparison.kink & ~comparison.wrong)
        if unsure.size == 0:
            return
        elements = np.unique(comparison.element[unsure])
        _, plus, minus = self._differences(position, elements, self.eps / 2)
        rows = np.searchsorted(elements, comparison.element[unsure])
        cols = comparison.output[unsure]
        jump_at_half = np.abs(plus[rows, cols] - minus[rows, cols])
        jump = np.abs(comparison.slope_plus[unsure] - comparison.slope_minus[unsure])
        comparison.kink[unsure[jump_at_half <= 0.75 * jump]] = False

    def _base_values(self) -> np.ndarray:
        """The readout at the unperturbed inputs; also sets `base_magnitude`, the size of the
        terms it sums (what its rounding error is relative to)."""
        values = np.asarray(self.output.data, dtype=np.float64).reshape(-1)
        if self.readout is None:
            self.base_magnitude = float(np.sum(np.abs(values)))
            return values
        self.base_magnitude = _dot(np.abs(self.readout), np.abs(values))
        return np.array([_dot(self.readout, values)])

    def _fast(self, position: int, gradient: np.ndarray) -> InputCheck:
        """Directional checks on `directions` blocks of consecutive elements; a block that
        disagrees is halved until its elements can be checked one by one (see the module
        docstring). Blocks are ranges (start, stop) of the flattened input."""
        n = gradient.size
        weights = _random_weights(self.rng, n)  # u of block (start, stop) is weights[start:stop]
        typical = _median(np.abs(gradient[:: max(1, n // 4096)]))
        per_element = 0.5 * (self.atol + self.rtol * typical)  # halved: |u| >= 0.5

        directional_checks = 0

        def disagrees(start: int, stop: int) -> bool:
            nonlocal directional_checks
            directional_checks += 1
            return self._direction_disagrees(position, start, stop, gradient, weights, per_element)

        bounds = np.linspace(0, n, min(self.settings["directions"], n) + 1).astype(int)
        suspects = [(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])
                    if disagrees(start, stop)]
        comparisons: list[_Comparison] = []
        failures = 0
        while suspects and failures < _LOCALIZE_LIMIT:
            start, stop = suspects.pop()
            if stop - start <= _LEAF_SIZE:
                block = np.arange(start, stop)
                comparisons.append(self._elementwise(position, block, gradient[block, None]))
                failures += int(comparisons[-1].failed.sum())
                continue
            middle = (start + stop) // 2
            suspects += [half for half in ((start, middle), (middle, stop)) if disagrees(*half)]
        note = ""
        if suspects:
            note = (f"fast mode stopped after localizing {failures} disagreeing elements; "
                    "there may be more")
        method = "fast" if self.readout is None else "fast; derivatives of vᵀ·output, v random"
        check = self._summarize(position, method, n, comparisons, note)
        check.directional_checks = directional_checks
        return check

    def _direction_disagrees(self, position: int, start: int, stop: int, gradient: np.ndarray,
                             weights: np.ndarray, per_element: float) -> bool:
        """Compare gᵀu with the centered difference of φ along u = weights on the elements
        start..stop-1 (and 0 elsewhere). `per_element` is the tolerance for one element."""
        block = self.args[position].data.reshape(-1)[start:stop]  # a view: our own C-order copy
        step, g = self.eps * weights[start:stop], gradient[start:stop]
        original = block.copy()
        try:
            with no_grad():
                np.add(original, step, out=block)
                phi_plus = float(self.evaluate()[0])
                displacement = block.copy()
                np.subtract(original, step, out=block)
                phi_minus = float(self.evaluate()[0])
                displacement -= block  # x+ - x- as actually represented: about 2·step
        finally:
            block[...] = original
        discrepancy = abs(_dot(g, displacement) - (phi_plus - phi_minus))
        # An error e in one element moves gᵀu by |e·u| >= e/2: the per-element tolerance
        # applies as is. Add the rounding error of φ's values and of the dot product.
        magnitude = max(abs(phi_plus), abs(phi_minus), self.base_magnitude)
        magnitude += 3 * self.eps * float(np.abs(g).sum())  # > sum |g·displacement|
        return not discrepancy <= 2 * self.eps * per_element + _ROUNDING_SAFETY * _EPS64 * magnitude

    # -- summary

    def _summarize(self, position: int, method: str, checked: int,
                   comparisons: list[_Comparison], note: str = "") -> InputCheck:
        x = self.originals[position]
        merged = _Comparison.concatenate(comparisons)
        out_shape = self.output.shape if self.readout is None and self.output.size > 1 else None

        def listed(mask: np.ndarray) -> list[Mismatch]:
            chosen = np.flatnonzero(mask)
            chosen = chosen[np.argsort(-merged.rel[chosen], kind="stable")][:_MAX_LISTED]
            return [merged.mismatch(position, k, x.shape, out_shape) for k in chosen]

        smooth = ~merged.kink
        return InputCheck(
            position=position, name=x.name, shape=x.shape, dtype=str(x.dtype), method=method,
            checked=checked, failures=int(merged.failed.sum()), worst=listed(merged.failed),
            num_kinks=int(merged.kink.sum()), kinks=listed(merged.kink),
            max_rel_error=float(np.max(merged.rel[smooth], initial=0.0)),
            unit="elements" if out_shape is None else "Jacobian entries", note=note,
        )

    def _label(self, position: int) -> str:
        return _input_label(position, self.originals[position].name)


@dataclass
class _Comparison:
    """Analytic vs numerical derivatives, flattened: entry e compares d readout[output[e]] /
    d x.flat[element[e]]."""

    element: np.ndarray
    output: np.ndarray
    analytic: np.ndarray
    numerical: np.ndarray
    slope_plus: np.ndarray
    slope_minus: np.ndarray
    wrong: np.ndarray  # outside the tolerance
    failed: np.ndarray  # wrong and not on a kink
    kink: np.ndarray
    rel: np.ndarray

    @property
    def entries(self) -> int:
        return self.element.size

    @classmethod
    def of(cls, indices: np.ndarray, analytic: np.ndarray, numerical: np.ndarray,
           slope_plus: np.ndarray, slope_minus: np.ndarray, atol: float, rtol: float
           ) -> _Comparison:
        rows, cols = analytic.shape
        a, n = analytic.reshape(-1), numerical.reshape(-1)
        sp, sm = slope_plus.reshape(-1), slope_minus.reshape(-1)
        wrong = ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # NaN counts as wrong
        jump = np.abs(sp - sm) > atol + rtol * np.maximum(np.abs(sp), np.abs(sm))
        slack = atol + rtol * np.abs(a)
        between = (a >= np.minimum(sp, sm) - slack) & (a <= np.maximum(sp, sm) + slack)
        kink = jump & between  # never a failure; `_confirm_kinks` may drop agreeing ones
        rel = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), _TINY)
        return cls(np.repeat(indices, cols), np.tile(np.arange(cols), rows), a, n, sp, sm,
                   wrong, wrong & ~kink, kink, np.nan_to_num(rel, nan=np.inf))

    @classmethod
    def concatenate(cls, parts: list[_Comparison]) -> _Comparison:
        if not parts:
            empty = np.empty(0)
            flag = empty.astype(bool)
            return cls(empty.astype(int), empty.astype(int), empty, empty, empty, empty,
                       flag, flag, flag, empty)
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in cls.__dataclass_fields__))

    def mismatch(self, position: int, e: int, shape: tuple[int, ...],
                 out_shape: tuple[int, ...] | None) -> Mismatch:
        return Mismatch(
            input_index=position,
            index=_unravel(self.element[e], shape),
            output_index=None if out_shape is None else _unravel(self.output[e], out_shape),
            analytic=float(self.analytic[e]), numerical=float(self.numerical[e]),
            rel_error=float(self.rel[e]),
            slopes=(float(self.slope_plus[e]), float(self.slope_minus[e])),
        )


# ----------------------------------------------------------------------------- culprits


def _localize(output: Tensor, settings: dict[str, Any]) -> list[Culprit]:
    """Check each op of output's graph on a float64 copy of its own inputs; name the ops whose
    backward disagrees with their own finite differences. Nothing here knows any op by name."""
    options = {k: settings[k] for k in ("eps", "atol", "rtol", "directions", "seed", "progress")}
    culprits: list[Culprit] = []
    for tensor in topological_order(output, only_requiring_grad=True):
        node = tensor.grad_fn
        if node is None:
            continue
        size = sum(x.size for x, needs in zip(node.inputs, node.needs_input_grad) if needs)
        fast = settings["fast_mode"] or size > _FULL_NODE_CHECK_LIMIT
        report = check_gradients(functools.partial(node.fn.apply, **node.kwargs), node.inputs, localize=False, fast_mode=fast,
                                 **options)
        culprits += _culprits_of(node, report)
    return culprits


def _culprits_of(node: Context, report: GradcheckReport) -> list[Culprit]:
    op = node.name
    if report.backward_error is not None:
        error = report.backward_error
        position = getattr(error, "input_index", None)  # set by the engine's gradient check
        if position is None:
            message = f"backward of {op} raised {type(error).__name__}: {error}"
        else:
            message = (f"backward of {op} is wrong for input {position} "
                       f"(it raised {type(error).__name__})")
        return [Culprit(node, op, position, float("inf"), message)]
    culprits = [
        Culprit(node, op, c.position, c.max_rel_error,
                f"backward of {op} is wrong for input {c.position}")
        for c in report.inputs if not c.ok
    ]
    culprits += [
        Culprit(node, op, p.input_index, p.rel_error,
                f"backward of {op} is wrong for input {p.input_index}: {p.message}")
        for p in report.backward_problems
    ]
    return culprits


# ----------------------------------------------------------------------------- helpers


def _as_input_tuple(inputs: Any) -> tuple[Any, ...]:
    if isinstance(inputs, Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    raise TypeError(
        f"gradcheck: inputs must be a Tensor or a tuple of Tensors (and constants), "
        f"got {type(inputs).__name__}"
    )


def _float64_copy(x: Tensor) -> Tensor:
    """A leaf copy of x, in C order (fast mode perturbs ranges of its flattened view):
    float64 if x is floating-point, with x's requires_grad and name."""
    dtype = np.float64 if x.dtype.kind == "f" else x.dtype
    return Tensor(np.ascontiguousarray(x.data), requires_grad=x.requires_grad, name=x.name,
                  dtype=dtype)


@contextlib.contextmanager
def _grads_kept(tensors: list[Tensor]) -> Iterator[None]:
    """Put back the .grad of these tensors (values and array objects) on exit."""
    saved = [(t, t.grad, None if t.grad is None else t.grad.copy()) for t in tensors]
    try:
        yield
    finally:
        for t, array, values in saved:
            if array is not None:
                array[...] = values
            t.grad = array


def _random_weights(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random signs times magnitudes in [0.5, 1]: no entry is near zero (so none is diluted)
    and no two errors cancel but by chance. Drawn as one random byte each (sign bit and 128
    magnitudes): for large inputs, drawing float64s costs about as much as a forward pass."""
    bits = rng.integers(0, 256, size=size, dtype=np.uint8)
    weights = (bits & 127).astype(np.float64)
    weights *= 0.5 / 127
    weights += 0.5
    return np.copysign(weights, 127.5 - bits, out=weights)  # negative where the top bit is set


def _median(values: np.ndarray) -> float:
    """The (upper) median; np.median would import numpy.ma on first use (~0.1 s)."""
    if values.size == 0:
        return 0.0
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a·b of two 1-D arrays without BLAS: for long vectors BLAS wakes its thread pool, which
    can cost milliseconds on a busy machine, more than an evaluation of fn."""
    return float(np.einsum("i,i->", a, b))


def _unravel(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape)) if shape else ()


def _input_label(position: int, name: str | None) -> str:
    return f"input {position}" + (f" {name!r}" if name else "")


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------- messages


def _verdict(report: GradcheckReport, localized: bool) -> str:
    failing = [c for c in report.inputs if not c.ok]
    if report.ok:
        labels = " and ".join(c.label for c in report.inputs)
        directional = sum(c.directional_checks for c in report.inputs)
        detail = (f"{directional} random directional derivatives" if directional
                  else f"max rel. error {report.max_rel_error:.1e}")
        verdict = f"the gradients of {labels} agree with finite differences ({detail})"
        kinks = sum(c.num_kinks for c in report.inputs)
        if kinks:
            verdict += f"; {kinks} derivative(s) sit on kinks (non-differentiable points)"
        return verdict
    if report.culprits:
        return "; ".join(c.message for c in report.culprits)
    if report.backward_problems:
        return report.backward_problems[0].message
    what = ", ".join(f"{c.label} ({c.failures} of {c.checked} {c.unit})" for c in failing)
    if report.output is not None and not report.output.requires_grad:
        return (f"the gradient of {what} disagrees with finite differences: fn's output has no "
                "recorded graph (computed under no_grad, or from .data/.detach()), so backward "
                "gives zero gradients")
    if localized:
        return (f"the gradient of {what} disagrees with finite differences, yet every op's "
                "backward agrees with its own: part of fn's result is computed outside the "
                "recorded graph (.data, .numpy(), numpy functions, or no_grad inside fn)")
    return f"the gradient of {what} disagrees with finite differences"


def _format_report(report: GradcheckReport) -> str:
    s = report.settings
    head = "gradcheck passed" if report.ok else "gradcheck failed"
    lines = [f"{head} (eps={s.get('eps')}, atol={s.get('atol')}, rtol={s.get('rtol')}; "
             "checked in float64)"]
    lines += [f"  note: {note}" for note in report.notes]
    for problem in report.backward_problems:
        lines.append(f"  {problem.message}")
    for check in report.inputs:
        lines += _format_input(check)
    if report.culprits:
        lines.append("  culprits (each op re-checked on a copy of its own inputs):")
        lines += [f"    {c.message}" + (f" (rel. error {c.rel_error:.1e})"
                                        if np.isfinite(c.rel_error) else "")
                  for c in report.culprits]
    lines.append(f"verdict: {report.verdict}")
    return "\n".join(lines)


def _format_input(check: InputCheck) -> list[str]:
    where = f"{check.label} (shape {check.shape}, {check.dtype}; {check.method})"
    if check.ok and check.directional_checks:
        lines = [f"  {where}: ok, {check.directional_checks} directional derivatives agree"]
    elif check.ok:
        lines = [f"  {where}: ok, max rel. error {check.max_rel_error:.1e}"]
    else:
        lines = [f"  {where}: {check.failures} of {check.checked} {check.unit} disagree "
                 "(|analytic - numerical| > atol + rtol·|numerical|); worst:"]
        lines += _format_table(check, check.worst)
    if check.num_kinks:
        lines.append(f"  {check.label}: {check.num_kinks} derivative(s) on kinks, where the "
                     "one-sided slopes differ and bracket the analytic value (not failures):")
        lines += _format_table(check, check.kinks)
    if check.note:
        lines.append(f"  {check.label}: {check.note}")
    return lines


def _format_table(check: InputCheck, rows: list[Mismatch]) -> list[str]:
    name = check.name or f"input{check.position}"
    cells = []
    for m in rows:
        where = f"{name}[{', '.join(map(str, m.index))}]" if m.index else name
        if m.output_index is not None:
            where += f" -> out[{', '.join(map(str, m.output_index))}]"
        cells.append((where, m))
    width = max([len("element")] + [len(w) for w, _ in cells])
    lines = [f"    {'element':<{width}}  {'analytic':>13}  {'numerical':>13}  {'rel. error':>10}"
             "  one-sided slopes (+h, -h)"]
    for where, m in cells:
        lines.append(f"    {where:<{width}}  {m.analytic:>13.6e}  {m.numerical:>13.6e}  "
                     f"{m.rel_error:>10.1e}  ({m.slopes[0]:.4g}, {m.slopes[1]:.4g})")
    return lines
