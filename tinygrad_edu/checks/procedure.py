"""The check procedure on a prepared `subject.Subject`: the analytic side (backward passes,
and the passes that test backward's linearity) and the numerical side (the mode's finite
differences), ending in the findings a report is built from.

    examine(subject, settings) analytic side, then the mode checks each input -> Findings
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from .comparison import TINY, Tolerance
from .differences import FiniteDifferences, Readout
from .outcomes import BackwardProblem, Culprit, FunctionProblem, InputCheck
from .parallel import WorkerPool
from .precision import low_precision_problems
from .progress import Progress
from .purity import changed_inputs, repeat_problems
from .report import builtin_name, wrote_into_saved
from .run import CheckRun, Upstream, random_weights
from .settings import GradcheckSettings
from .subject import Subject

__all__ = ["Findings", "examine", "start_run"]

REPEAT_RTOL = 1e-9  # backward passes that must agree up to rounding


@dataclass(eq=False)
class Findings:
    """What `examine` found, before culprits are searched and the report is built."""

    inputs: list[InputCheck] = field(default_factory=list)
    backward_problems: list[BackwardProblem] = field(default_factory=list)
    backward_error: BaseException | None = None
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)
    fn_problems: list[FunctionProblem] = field(default_factory=list)
    extra_evaluations: int = 0
    dtype_culprits: list[Culprit] = field(default_factory=list)  # ops wrong in fn's dtype

    @property
    def ok(self) -> bool:
        return (not self.backward_problems and not self.fn_problems
                and all(c.ok for c in self.inputs))


def start_run(subject: Subject, settings: GradcheckSettings,
              pool: WorkerPool | None = None) -> CheckRun:
    """The run of the check on subject with these settings: the mode picks the upstream
    gradients, the numerical side is set up (its element-by-element evaluations on `pool`'s
    workers when there is one). Calls no user code."""
    rng = np.random.default_rng(settings.seed)
    output = subject.output
    entries = output.size * sum(subject.args[i].size for i in subject.checked)
    upstream = settings.mode.upstream(output.size, entries, rng)
    readout = Readout(subject.fn, output.data.shape, upstream.projection)
    base, terms = readout.at_output(output)
    tolerance = Tolerance(settings.atol, settings.rtol, _precision(subject))
    differences = FiniteDifferences(readout, subject.numeric_args, base, terms, settings.eps,
                                    tolerance, pool)
    return CheckRun(subject, rng, upstream, differences, settings.directions)


def _precision(subject: Subject) -> float:
    """ε of the least precise floating-point value fn computed (an op's output): what the
    rounding error of fn's evaluations is relative to."""
    dtypes = {t.dtype for t in subject.computed}
    dtypes.add(subject.output.dtype)
    return max(float(np.finfo(d).eps) for d in dtypes if d.kind == "f")


def examine(subject: Subject, settings: GradcheckSettings,
            pool: WorkerPool | None = None) -> Findings:
    """The analytic side, then the numerical side for each input that requires grad (its
    evaluations on pool's workers when there is one; every other call of fn runs here)."""
    __tracebackhide__ = True
    run = start_run(subject, settings, pool)
    findings = Findings()
    findings.fn_problems = changed_inputs(subject, subject.args, "while it was recorded")
    if not findings.fn_problems:
        findings.fn_problems, findings.extra_evaluations = repeat_problems(subject, run.differences)
    if findings.fn_problems:  # no difference can be trusted
        return findings
    if subject.output.dtype != np.float64:
        findings.notes.append(
            f"fn returned {subject.output.dtype} for float64 inputs: it computes in lower "
            "precision inside, and finite differences in that precision are too coarse to "
            "judge a gradient (expect false alarms)")
    analytic_side = _Analytic(subject, run.upstream)
    try:
        eager = not settings.mode.reads_inside_lazily
        analytic, sensitivity = analytic_side.jacobians(inside=eager)
        if eager:
            run.widen_rounding(sensitivity)
        else:
            run.inside = lambda: analytic_side.jacobians()[1]
        if settings.mode.checks_linearity:
            findings.backward_problems = analytic_side.problems(analytic, run.rng)
        problems, findings.dtype_culprits, notes, calls = low_precision_problems(
            subject, analytic_side.vjp, settings.seed)
        findings.fn_problems += problems
        findings.notes += notes
        findings.extra_evaluations += calls
    except Exception as error:  # a backward that raises is a wrong backward
        findings.backward_error = error
        findings.backward_problems = [BackwardProblem(None, _raised(error))]
        return findings
    sizes = [subject.args[i].size for i in subject.checked]
    with Progress(settings.mode.planned_evaluations(sizes), settings.progress) as progress:
        for position, jacobian in zip(subject.checked, analytic, strict=True):
            findings.inputs.append(settings.mode.check_input(
                run, position, jacobian, run.upstream.method, progress))
    findings.evaluations = run.differences.evaluations
    findings.fn_problems += changed_inputs(subject, subject.numeric_args,
                                           "while its differences were taken")
    return findings


def _weighted(t: Tensor) -> float:
    """Σ |t.grad|·|t.data|: how much t's rounding errors can move the readout, per ε."""
    if t.grad is None or t.dtype.kind != "f":
        return 0.0
    grad = np.asarray(t.grad, dtype=np.float64)  # .grad is an array (backward writes it)
    return float(np.sum(np.abs(grad) * np.abs(t.data)))


def _raised(error: BaseException) -> str:
    text = f"backward raised {builtin_name(error)}: {error}"
    if wrote_into_saved(error):
        text += (" (a backward wrote into an array the graph saved, read-only while the graph "
                 "lives: such a backward is not repeatable; compute out of place)")
    return text


class _Analytic:
    """Backward passes through the recorded output."""

    def __init__(self, subject: Subject, upstream: Upstream) -> None:
        self.subject, self.upstream = subject, upstream

    def vjp(self, cotangent: np.ndarray) -> list[np.ndarray]:
        """cotangentᵀ·J for each checked input, flattened (zeros where no gradient arrives)."""
        args, output = self.subject.args, self.subject.output
        for i in self.subject.checked:
            args[i].grad = None
        if output.requires_grad:
            output.backward(cotangent.reshape(output.shape), retain_graph=True)
        return [np.zeros(args[i].size) if args[i].grad is None else args[i].grad.reshape(-1)
                for i in self.subject.checked]

    def jacobians(self, inside: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
        """Per checked input: (upstream gradients, input elements), the Jacobian or vᵀJ; and
        per upstream gradient, Σ |gradient|·|value| over the values fn computed (the op
        outputs), divided by |scale| (zeros with inside=False: the op outputs' gradients are
        then not kept, which costs as much again as the pass)."""
        args, cotangents = self.subject.args, self.upstream.cotangents
        inner = self.subject.computed if inside else []
        for t in inner:
            t.retain_grad()
        analytic = [np.empty((len(cotangents), args[i].size)) for i in self.subject.checked]
        sensitivity = np.zeros(len(cotangents))
        try:
            for row, cotangent in enumerate(cotangents):
                for t in inner:
                    t.grad = None
                for jacobian, grad in zip(analytic, self.vjp(cotangent), strict=True):
                    jacobian[row] = grad / self.upstream.scale
                sensitivity[row] = sum(_weighted(t) for t in inner)
        finally:
            for t in inner:  # left there, they would show in a drawing of report.output
                t.grad = None
        return analytic, sensitivity / abs(self.upstream.scale)

    def problems(self, analytic: list[np.ndarray], rng: np.random.Generator
                 ) -> list[BackwardProblem]:
        """Backward must be repeatable and linear in its upstream gradient.

        A second pass with the first upstream gradient times -2 must give -2 times its
        gradients (exactly, up to rounding: scaling by -2 is exact in floating point). That
        tests repeatability and homogeneity in one pass, and catches a backward that ignores
        its upstream gradient or adds a constant. A zero upstream gradient must give zero
        gradients. With several upstream gradients, a random mix of them must give the same
        mix of the rows.
        """
        cotangents = self.upstream.cotangents
        first, first_grads = cotangents[0], [jacobian[0] for jacobian in analytic]
        problems = self._compare(
            first_grads, self.vjp(-2.0 * first), -2.0,
            "a second backward pass, with the upstream gradient times -2, did not give -2 times "
            "the gradient of {input}: backward is not linear in the upstream gradient, or not "
            "repeatable (does a backward ignore its grad argument, or change its saved arrays "
            "or ctx in place?)")
        problems += self._compare(
            [np.zeros_like(g) for g in first_grads], self.vjp(np.zeros_like(first)), 1.0,
            "backward is not linear in the upstream gradient: a zero upstream gradient gave "
            "a nonzero gradient for {input} (does a backward ignore its grad argument?)")
        if len(cotangents) > 1:  # additivity: J's rows must combine like the upstream gradients
            weights = random_weights(rng, len(cotangents))
            combined = [weights @ jacobian for jacobian in analytic]
            magnitudes = [np.abs(weights) @ np.abs(jacobian) for jacobian in analytic]
            problems += self._compare(
                combined, self.vjp(weights @ np.stack(cotangents)), 1.0,
                "backward is not linear in the upstream gradient: for {input}, the gradient "
                "for a sum of upstream gradients is not the sum of their gradients", magnitudes)
        return problems

    def _compare(self, reference: list[np.ndarray], other: list[np.ndarray], factor: float,
                 message: str, magnitudes: Sequence[np.ndarray] | None = None
                 ) -> list[BackwardProblem]:
        """Gradients `other` must equal factor·`reference` up to rounding, relative to
        `magnitudes` (default: |factor·reference|)."""
        problems = []
        for k, (position, ref, got) in enumerate(zip(self.subject.checked, reference, other, strict=True)):
            expected = factor * ref
            if np.array_equal(got, expected):  # the usual case, and the cheapest test
                continue
            deviation = np.abs(got - expected)
            magnitude = np.abs(expected) if magnitudes is None else magnitudes[k]
            if not np.all(deviation <= REPEAT_RTOL * magnitude + TINY):
                scale = np.maximum(np.abs(got) + np.abs(expected), TINY)
                rel = float(np.max(deviation / scale))
                problems.append(BackwardProblem(
                    position, message.format(input=self.subject.label(position)), rel))
        return problems
