"""gradgradcheck: the derivative of the backward (second derivatives) checked against finite
differences of the first derivative, with the op whose double backward is wrong named.

The first derivative of fn, for a fixed upstream gradient v (`grad_outputs`; 1 for a scalar
output, fixed random weights otherwise), is the function

    g(x) = ∂(vᵀ·fn(x))/∂x        (for the inputs x that require grad, flattened, concatenated)

computed with `tinygrad_edu.grad(..., create_graph=True)`, so its computation is recorded.
gradgradcheck is gradcheck run on g: backward through g's recorded graph (the double
backward) against centered differences of g, with everything gradcheck does (the tolerance
model, kinks told from steep points, fast mode, fn tested for being a function, float32 runs,
`workers=`). At a kink of fn (relu, abs, max at ties) g itself jumps: that is reported as a
kink (or discontinuity) of g, not a failure.

Culprits. g's graph is made of the ops the backward passes recorded, not of fn's ops, and a
backward that detached something leaves nothing behind to blame. So on failure each op of
fn's FORWARD graph is re-checked at second order in isolation: its Function applied to float64
copies of its own inputs, its own first derivative recorded, differentiated and compared with
finite differences of that first derivative. The ops that fail are named ("double backward of
Cube is wrong for input 0"), with what is known of why: a double backward that is zero where
it should not be (a value kept on ctx outside save_for_backward, or a saved input used through
.data, value_of or numpy: constants to the second derivative, which PyTorch cannot detect), a
backward that cannot be recorded at all, or an op inside the backward whose own backward is
wrong (found by gradcheck's first-order culprit search on that op's first derivative).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import grad
from ..errors import BadGradient
from ..modes import enable_grad, is_grad_enabled
from ..ops import concatenate
from ..tensor import Tensor
from ..validation import callable_arg
from .api import passed, run_gradcheck
from .culprits import op_check_settings
from .outcomes import BackwardProblem, Culprit, InputCheck
from .parallel import WorkerPool, recheck_ops, resolve_workers
from .report import GradcheckError, GradcheckReport, agreement, builtin_name, format_report
from .run import random_weights
from .settings import GradcheckOptions, GradcheckSettings, refuse_unknown, shows_options
from .subject import as_input_tuple, checked_positions, recorded_ops

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "gradgradcheck",
    "check_second_derivatives",
    "GradgradcheckReport",
    "GradgradcheckError",
    "DoubleBackwardCulprit",
    "FirstDerivative",
    "second_order_culprits",
]


@shows_options(GradcheckOptions)
def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Any = None,
    *,
    raise_exception: bool = True,
    **options: Unpack[GradcheckOptions],
) -> bool:
    """Check the derivative of fn's backward (second derivatives) against finite differences
    of fn's first derivative. True if they agree; otherwise raises `GradgradcheckError` (whose
    `.report` is a `GradgradcheckReport`), or returns False with raise_exception=False.

    fn            as for `gradcheck`: takes the entries of `inputs`, returns a Tensor
    inputs        a Tensor, or a tuple of Tensors and constants; the derivatives are taken
                  with respect to the Tensors that require grad
    grad_outputs  v, the upstream gradient of the first derivative g(x) = ∂(vᵀ·fn(x))/∂x: an
                  array or Tensor of fn's output shape (its values; it is not differentiated).
                  None: 1 for a one-element output (g is the gradient, its derivative the
                  Hessian), fixed random weights (seeded by `seed`) otherwise
    the rest      gradcheck's options (`settings.GradcheckOptions`), with their meaning and
                  defaults there (eps, atol, rtol, fast_mode, samples, directions, seed,
                  localize, progress, workers), and raise_exception; localize also runs the
                  second-order culprit search on failure

    Check the first derivative with `gradcheck` first: this checks that g's recorded graph
    differentiates g, whatever g is.

        >>> x = Tensor(np.random.randn(3), requires_grad=True, name="x")
        >>> gradgradcheck(lambda x: (x.exp() * x).sum(), x)
        True
    """
    __tracebackhide__ = True
    refuse_unknown("gradgradcheck", options, own=["raise_exception"])
    report = _checked(fn, inputs, grad_outputs, options)
    return passed(report, raise_exception, GradgradcheckError)


@shows_options(GradcheckOptions)
def check_second_derivatives(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Any = None,
    **options: Unpack[GradcheckOptions],
) -> GradgradcheckReport:
    """`gradgradcheck`, returning its `GradgradcheckReport` instead of raising (same
    arguments but raise_exception)."""
    __tracebackhide__ = True
    refuse_unknown("check_second_derivatives", options)
    return _checked(fn, inputs, grad_outputs, options)


def _checked(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Any], grad_outputs: Any,
             options: GradcheckOptions) -> GradgradcheckReport:
    __tracebackhide__ = True
    callable_arg("gradgradcheck", "fn", fn)
    given = as_input_tuple(inputs)
    checked = checked_positions(given, "gradgradcheck")
    settings = GradcheckSettings.of(**options)
    first = FirstDerivative(fn, checked, grad_outputs, seed=settings.seed)
    # One pool for the whole call: g's finite differences and per-op re-checks, and the
    # second-order culprit search.
    with resolve_workers(options.get("workers"), where="gradgradcheck") as pool:
        try:
            second = run_gradcheck(first, given, settings, pool)
        except Exception as error:
            if error is not first.failure:
                raise
            return _unrecordable(first, given, error, settings, pool)
        culprits = [] if second.ok else _search(first, settings, pool)
    # gradcheck's report on g, every field of it, but for what fn's culprits change
    found = {f.name: getattr(second, f.name) for f in fields(GradcheckReport)}
    found.update(culprits=culprits + second.culprits, output=first.forward,
                 verdict=_verdict(second, culprits))
    return GradgradcheckReport(**found, gradient=second.output,
                               checked_what=first.describe(given))


# ----------------------------------------------------------------------------- g(x)


class FirstDerivative:
    """g(*args) = ∂(vᵀ·fn(*args))/∂x for the args at `positions`, recorded
    (create_graph=True): one input's gradient in its shape, several flattened and
    concatenated. Called with grad recording on (gradcheck's recorded call), it returns the
    recorded gradient and keeps fn's output (`forward`, the graph culprits are searched in);
    called under no_grad (the finite differences), it returns the gradient's values only, its
    graph dropped, so no graph holds the arrays the differences move next.

    `failure` is the error the recorded call raised while differentiating (a backward that
    cannot be recorded), to tell it from an error of fn itself."""

    def __init__(self, fn: Callable[..., Tensor], positions: list[int], grad_outputs: Any,
                 seed: int = 0) -> None:
        self.fn, self.positions, self.seed = fn, positions, seed
        self.grad_outputs = grad_outputs
        self.v: np.ndarray | None = None
        self.forward: Tensor | None = None
        self.failure: BaseException | None = None
        self.__name__ = f"first derivative of {getattr(fn, '__name__', 'fn')}"

    def __call__(self, *args: Any) -> Tensor:
        __tracebackhide__ = True
        recording = is_grad_enabled()
        with enable_grad():
            out = self.fn(*args)
            if not isinstance(out, Tensor) or out.dtype.kind != "f":
                return out  # gradcheck says what is wrong with it
            v = self._weights(out)
            try:
                grads = grad(out, [args[i] for i in self.positions], grad_outputs=v,
                             create_graph=True, allow_unused=True, materialize_grads=True)
            except Exception as error:
                if recording and self.failure is None:
                    self.failure, self.forward = error, out
                raise
            found = [g for g in grads if isinstance(g, Tensor)]  # materialized: one each
            result = found[0] if len(found) == 1 else concatenate([g.reshape(-1) for g in found])
        if not recording:
            return Tensor(result.data)
        if self.forward is None:  # the first recorded call is gradcheck's (at its copies)
            self.forward = out
        return result

    def __getstate__(self) -> dict[str, Any]:
        """What workers (workers=) need: fn, positions and v; not the recorded graph."""
        return {**self.__dict__, "forward": None, "failure": None}

    def _weights(self, out: Tensor) -> np.ndarray:
        if self.v is None:
            if self.grad_outputs is None:
                v = np.ones(out.shape) if out.size == 1 else random_weights(
                    np.random.default_rng(self.seed), out.size).reshape(out.shape)
            else:
                given = self.grad_outputs
                v = np.array(given.data if isinstance(given, Tensor) else given,
                             dtype=np.float64)
                if v.shape != out.shape:
                    raise ValueError(
                        f"gradgradcheck: grad_outputs has shape {v.shape}, but fn's output "
                        f"has shape {out.shape}")
                if not np.all(np.isfinite(v)):
                    raise ValueError("gradgradcheck: grad_outputs holds NaN or inf")
            self.v = v
        return self.v.astype(out.dtype, copy=False)

    def describe(self, inputs: tuple[Any, ...]) -> str:
        """What g is, for the report."""
        names = [inputs[i].name or f"input{i}" for i in self.positions]
        if self.grad_outputs is not None:
            v = "v = grad_outputs"
        elif self.v is not None and self.v.size == 1:
            v = "v = 1: g is the gradient, its derivative the Hessian"
        else:
            v = f"v fixed random weights (seed {self.seed})"
        what = (f"g = ∂(vᵀ·fn)/∂{names[0]}, in its shape" if len(names) == 1 else
                f"g = ∂(vᵀ·fn)/∂({', '.join(names)}), flattened and concatenated")
        return (f"the first derivative {what} ({v}), differentiated by backward through its "
                "recorded graph, against finite differences of g; out[k] below is g[k]")


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True, eq=False)
class DoubleBackwardCulprit(Culprit):
    """An op of fn's forward graph whose double backward (the derivative of its backward)
    disagrees with finite differences of its backward, checked on copies of its inputs."""


@dataclass(frozen=True, eq=False)
class GradgradcheckReport(GradcheckReport):
    """gradcheck's report on the first derivative g. `output` is fn's output (its graph
    holds the `DoubleBackwardCulprit`s' nodes); `gradient` is g at the same point (the
    double-backward graph, which holds the nodes of the other culprits: ops of the backward
    passes whose own backward is wrong)."""

    gradient: Tensor | None = None
    checked_what: str = ""

    def __str__(self) -> str:
        return format_gradgrad(self)


class GradgradcheckError(GradcheckError):
    """Raised by `gradgradcheck` when second derivatives disagree; `.report` holds the facts
    (a `GradgradcheckReport`)."""

    report: GradgradcheckReport


def format_gradgrad(report: GradgradcheckReport) -> str:
    """gradcheck's text, headed as gradgradcheck's, with what g is."""
    lines = format_report(report).split("\n")
    lines[0] = "grad" + lines[0]
    if report.checked_what:
        lines.insert(1, f"  checked: {report.checked_what}")
    return "\n".join(lines)


def _verdict(second: GradcheckReport, culprits: list[Culprit]) -> str:
    if culprits:
        return "; ".join(c.message for c in culprits)
    if second.ok:
        return agreement(second.inputs, "the second derivatives with respect to {labels} "
                         "agree with finite differences of the first derivative ({detail})",
                         "sit on kinks of fn, where its first derivative jumps (not failures)")
    return f"the first derivative g: {second.verdict}"


def _unrecordable(first: FirstDerivative, inputs: tuple[Any, ...], error: BaseException,
                  settings: GradcheckSettings, pool: WorkerPool | None) -> GradgradcheckReport:
    """The report when fn's first derivative could not be recorded at all."""
    culprits = _search(first, settings, pool)
    message = (f"the first derivative cannot be recorded: with create_graph=True, backward "
               f"raised {builtin_name(error)}: {error}")
    verdict = "; ".join(c.message for c in culprits) if culprits else message
    return GradgradcheckReport(
        inputs=[], culprits=culprits, output=first.forward, verdict=verdict,
        backward_problems=[BackwardProblem(None, message)], backward_error=error,
        settings=settings, checked_what=first.describe(inputs))


# ----------------------------------------------------------------------------- culprits


def _search(first: FirstDerivative, settings: GradcheckSettings,
            pool: WorkerPool | None) -> list[Culprit]:
    """The second-order culprit search in fn's forward graph, when localize asks for it and
    that graph was recorded."""
    if settings.localize and first.forward is not None:
        return second_order_culprits(first.forward, settings, pool)
    return []


def second_order_culprits(output: Tensor, settings: GradcheckSettings,
                          pool: WorkerPool | None = None) -> list[Culprit]:
    """The ops of output's graph whose double backward is wrong: each op's Function applied
    to float64 copies of its own inputs, its first derivative recorded and checked like fn's
    (on the pool's workers when there is one: plain fields travel back, mapped to the nodes
    by position).
    """
    nodes = recorded_ops(output)
    results = recheck_ops(functools.partial(_second_order_check, settings), nodes, pool=pool)
    return [DoubleBackwardCulprit(node, node.name, position, rel_error, message)
            for node, found in zip(nodes, results, strict=True)
            for position, rel_error, message in found]


def _second_order_check(settings: GradcheckSettings, fn: Any, kwargs: dict[str, Any],
                        inputs: tuple[Any, ...]) -> list[tuple[int | None, float, str]]:
    """One op's first derivative checked on copies of its inputs: (input, rel. error,
    message) per culprit found."""
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    node_settings = op_check_settings(settings, inputs, localize=True)
    first = FirstDerivative(functools.partial(fn.apply, **kwargs), positions, None,
                            settings.seed)
    try:
        report = run_gradcheck(first, inputs, node_settings)
    except Exception as error:  # noqa: BLE001 - judged below, or the op cannot run alone
        return [_unrecordable_fields(fn.__name__, error)] if error is first.failure else []
    return _node_fields(fn.__name__, report)


def _unrecordable_fields(op: str, error: BaseException) -> tuple[int | None, float, str]:
    position = error.input_index if isinstance(error, BadGradient) else None
    text = str(error).removeprefix(f"backward of {op} (create_graph=True): ")
    return (position, float("inf"),
            f"backward of {op} cannot be differentiated: under create_graph=True it raised "
            f"{builtin_name(error)}: {text}")


def _node_fields(op: str, report: GradcheckReport) -> list[tuple[int | None, float, str]]:
    """What one op's second-order check found, as culprit fields naming the op."""
    if report.ok:
        return []
    inner = [c.message for c in report.culprits]
    suffix = f"; in its backward: {'; '.join(inner)}" if inner else ""
    failing = [c for c in report.inputs if not c.ok]
    fields: list[tuple[int | None, float, str]] = [
        (c.position, c.max_rel_error, _wrong_message(op, c) + (suffix if k == 0 else ""))
        for k, c in enumerate(failing)]
    problems = [p.message for p in report.fn_problems + report.backward_problems]
    if problems:
        fields.append((None, float("inf"),
                       f"double backward of {op}: {problems[0]}" + ("" if failing else suffix)))
    if not fields and inner:
        fields.append((None, float("inf"), f"double backward of {op} is wrong{suffix}"))
    return fields


def _wrong_message(op: str, check: InputCheck) -> str:
    position = check.position
    text = (f"double backward of {op} is wrong for input {position}: the derivative of its "
            f"backward with respect to input {position} disagrees with finite differences "
            "of that backward")
    worst = check.worst
    if worst and all(m.analytic == 0 for m in worst) and any(m.numerical != 0 for m in worst):
        text += ("; it is zero: the backward computes with a value that is not a saved "
                 "Tensor (kept on ctx outside save_for_backward, or detached with .data, "
                 "value_of or numpy), a constant to the second derivative")
    return text

