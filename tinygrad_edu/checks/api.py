"""The public entry points of gradient checking: `gradcheck` and `check_gradients`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..tensor import Tensor
from ..validation import callable_arg
from .culprits import localize
from .evaluations import warm_allocator
from .guards import inspect_ops
from .parallel import WorkerPool, resolve_workers
from .procedure import examine
from .report import GradcheckError, GradcheckReport, verdict
from .settings import GradcheckOptions, GradcheckSettings, refuse_unknown, shows_options
from .subject import as_input_tuple, prepare

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["gradcheck", "check_gradients", "run_gradcheck", "passed"]


@shows_options(GradcheckOptions)
def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    *,
    raise_exception: bool = True,
    **options: Unpack[GradcheckOptions],
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
    raise_exception   what a failure does: raise GradcheckError (True), or return False.

    The options (`settings.GradcheckOptions`; their defaults in `settings.DEFAULTS`, shown by
    help(); any other keyword is a TypeError naming those taken):

    eps         the finite-difference step (1e-6).
    atol, rtol  None (the default): each derivative is judged against the estimated error of
                its own finite difference (see `tinygrad_edu.checks.comparison`); given
                (either), PyTorch's rule |analytic - numerical| <= atol + rtol·|numerical|,
                the other at PyTorch's default (atol=1e-5, rtol=1e-3).
    fast_mode   random directional derivatives instead of one evaluation pair per element:
                O(directions) evaluations per input (see `tinygrad_edu.checks.fast`).
    samples     check only this many randomly chosen elements of each input (cs231n's
                grad_check_sparse); 2·samples evaluations per input.
    directions  fast mode: into how many blocks of consecutive elements each input is split,
                each checked along its own random direction.
    seed        seeds the random choices (samples, directions, projections).
    localize    replay every op on guarded copies (side effects, randomness, state) and, on
                failure, difference every op on its own inputs to name the culprit.
    progress    None: a progress bar (tqdm) for checks over 2 s in a terminal or notebook,
                not in CI; True: always; False: never.
    workers     where the finite differences and the per-op culprit re-checks run: None
                (here), an int (a process pool of that many workers, -1: one per core,
                created and shut down by this call), a concurrent.futures.Executor (a
                ProcessPoolExecutor, a Dask client's get_executor(); it stays yours) or a
                map-like callable (Pool.map). The report is the serial one, bit for bit, for
                a deterministic fn (see `tinygrad_edu.checks.workers`). fn travels with
                cloudpickle; scripts using process pools need `if __name__ == "__main__":`.

    What a check does: (1) fn is called again at the same point and its inputs compared (a
    random or input-changing fn gets its own verdict); (2) backward passes give the Jacobian
    (or vᵀJ) and are tested for linearity and repeatability; (3) each element is moved by ±h,
    fn evaluated under no_grad, the element restored bit for bit; (4) each entry is judged by
    the tolerance model, entries outside it refined by halving the step (see `kinks`); (5) the
    ops are replayed on guarded copies, and on failure differenced one by one; (6) for float32
    inputs, fn and each op also run in float32 (see `precision`).

    A kink (a derivative on a non-differentiable point such as relu at 0) is reported in
    `report.kinks`, never a failure. fn returning something other than a Tensor: TypeError.

        >>> x = Tensor(np.random.randn(3, 4), requires_grad=True, name="x")
        >>> gradcheck(lambda x: (x.exp() * x).sum(), x)
        True
    """
    __tracebackhide__ = True
    refuse_unknown("gradcheck", options, own=["raise_exception"])
    return passed(_checked(fn, inputs, options), raise_exception)


@shows_options(GradcheckOptions)
def check_gradients(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    **options: Unpack[GradcheckOptions],
) -> GradcheckReport:
    """`gradcheck`, returning its `GradcheckReport` instead of raising (same arguments but
    raise_exception)."""
    __tracebackhide__ = True  # pytest shows the report first, not the library's frames
    refuse_unknown("check_gradients", options)
    return _checked(fn, inputs, options)


def passed(report: GradcheckReport, raise_exception: bool,
           error: type[GradcheckError] = GradcheckError) -> bool:
    """Whether the report passed; a failure raises `error(report)` (chained to the error
    backward raised, if any) when raise_exception is true."""
    __tracebackhide__ = True
    if report.ok:
        return True
    if raise_exception:
        raise error(report) from report.backward_error
    return False


def _checked(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Any],
             options: GradcheckOptions) -> GradcheckReport:
    __tracebackhide__ = True
    callable_arg("gradcheck", "fn", fn)
    settings = GradcheckSettings.of(**options)
    # one pool for the whole call
    with resolve_workers(options.get("workers"), where="gradcheck") as pool:
        return run_gradcheck(fn, inputs, settings, pool)


def run_gradcheck(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Any],
                  settings: GradcheckSettings, pool: WorkerPool | None = None
                  ) -> GradcheckReport:
    """The check with validated settings: findings, then culprits, then the report. With a
    pool, the finite differences and the per-op re-checks run on its workers."""
    __tracebackhide__ = True
    warm_allocator()
    subject = prepare(fn, as_input_tuple(inputs))
    with _grads_kept(subject.outside_leaves):
        findings = examine(subject, settings, pool)
        searched = settings.localize and subject.output.requires_grad
        leaves = {id(subject.args[i]): subject.pristine[i] for i in subject.checked}
        op_problems = inspect_ops(subject.output, settings.seed, leaves,
                                  thorough=not findings.ok) if searched else []
        op_problems += findings.dtype_culprits
        culprits = list(op_problems)
        if not findings.ok and searched:
            blamed = {id(c.node) for c in op_problems}
            culprits += [c for c in localize(subject.output, settings, pool)
                         if id(c.node) not in blamed]
    # What the check's passes left on its copies and on the values fn computed from them
    # (retained by the analytic side) would mislead a drawing of report.output.
    made = [a for a in subject.args if isinstance(a, Tensor)]
    made += subject.computed
    for copy in made:
        copy.grad = None
    return GradcheckReport(
        inputs=findings.inputs, culprits=culprits, output=subject.output,
        verdict=verdict(findings.inputs, culprits, findings.backward_problems, subject.output,
                        settings.localize, findings.fn_problems),
        backward_problems=findings.backward_problems, backward_error=findings.backward_error,
        evaluations=findings.evaluations, settings=settings, notes=findings.notes,
        fn_problems=findings.fn_problems, op_problems=op_problems,
        extra_evaluations=findings.extra_evaluations,
    )


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
