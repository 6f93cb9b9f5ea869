"""Mutation-kill table: how many planted bugs each gradient checker catches, how many correct
but numerically hard functions it flags anyway, and whether it names the op at fault.

The cases (`_verification_cases.py`) are users' custom ops written once in numpy
(`_verification_ops.py`): bugs inside MLP-sized graphs, bugs at some points only, broadcasting
bugs, tiny errors and steep points, writes into saved arrays or upstream gradients, state kept
between calls, functions that are not functions (noise, dropout, changed inputs), bugs that
show only in float32, backwards that ignore their upstream gradient; and correct controls
(kinks and ties, steep smooth points, float32 inside, extreme scales, MLPs, built-in ops).

Checkers, each on the same cases:
    ours, full        tinygrad_edu.check_gradients(fn, inputs) with its defaults
    ours, fast_mode   ... fast_mode=True
    ours, sampled     ... samples=8
    torch full        torch.autograd.gradcheck on a torch.autograd.Function that calls the
                      same numpy forward and backward (float64; the bug in the same place)
    torch fast_mode   ... fast_mode=True
A bug counts as caught when the check fails or raises; a control as a false alarm when it
does. "right op named": among the caught bugs that live in one op, those whose report names
exactly that op (`report.culprits[*].op`), and no other.

    python benchmarks/bench_verification.py [--verbose] [--only ours-full,torch-full] [-k name]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_edu as tg  # noqa: E402
from _verification_cases import BUGS, CASES, CONTROLS, FN, Case  # noqa: E402
from _verification_ops import NumpyOp  # noqa: E402

SAMPLES = 8


# ----------------------------------------------------------------------------- backends


class _Backend:
    """The built-in ops a case's graph uses, and its custom ops as `self.op.<Name>`."""

    def __init__(self, ops: list[NumpyOp]) -> None:
        self.rng = np.random.default_rng(0)  # for cases whose fn itself is random
        self.op = SimpleNamespace(**{spec.name: self.custom(spec) for spec in ops})

    def custom(self, spec: NumpyOp) -> Callable[..., Any]:
        raise NotImplementedError

    def const(self, value: Any) -> Any:
        raise NotImplementedError

    def cross_entropy(self, scores: Any, labels: np.ndarray) -> Any:
        """Mean softmax cross-entropy from built-in ops (scores are small: no max shift)."""
        lse = self.log(self.sum(self.exp(scores), axis=1))
        return self.mean(lse - self.pick(scores, labels))

    def noise(self, scale: float) -> Any:
        return self.const(np.array(scale * self.rng.standard_normal()))

    def dropout_mask(self, shape: tuple[int, ...]) -> Any:
        return self.const((self.rng.random(tuple(shape)) < 0.5) * 2.0)

    def exp(self, x: Any) -> Any:
        return x.exp()

    def log(self, x: Any) -> Any:
        return x.log()

    def abs(self, x: Any) -> Any:
        return x.abs()

    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any:
        return x.reshape(shape)

    def sum(self, x: Any, axis: int | None = None) -> Any:
        raise NotImplementedError

    def mean(self, x: Any, axis: int | None = None) -> Any:
        raise NotImplementedError

    def pick(self, x: Any, labels: np.ndarray) -> Any:
        raise NotImplementedError


class Ours(_Backend):
    def custom(self, spec: NumpyOp) -> Callable[..., Any]:
        function = type(spec.name, (tg.Function,), {
            "forward": staticmethod(spec.forward), "backward": staticmethod(spec.backward)})
        return function.apply

    def const(self, value: Any) -> Any:
        return tg.Tensor(np.asarray(value))

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return x.sum(axis=axis)

    def mean(self, x: Any, axis: int | None = None) -> Any:
        return x.mean(axis=axis)

    def max(self, x: Any, axis: int | None = None) -> Any:
        return x.max(axis=axis)

    def relu(self, x: Any) -> Any:
        return tg.maximum(x, 0.0)

    def maximum(self, a: Any, b: Any) -> Any:
        return tg.maximum(a, b)

    def pick(self, x: Any, labels: np.ndarray) -> Any:
        return x[np.arange(len(labels)), labels]

    def shift_(self, x: Any, value: float) -> None:
        with tg.no_grad():
            x.add_(value)


class Torch(_Backend):
    def __init__(self, ops: list[NumpyOp]) -> None:
        import torch

        self.torch = torch
        super().__init__(ops)

    def custom(self, spec: NumpyOp) -> Callable[..., Any]:
        torch = self.torch

        class Shim:
            """What a tinygrad_edu Function's ctx offers, over numpy arrays."""

            def __init__(self, needs: tuple[bool, ...]) -> None:
                self.needs_input_grad, self.saved_tensors = needs, ()

            def save_for_backward(self, *arrays: Any) -> None:
                self.saved_tensors = arrays

        def forward(ctx: Any, kwargs: dict[str, Any], *xs: Any) -> Any:
            ctx.shim = Shim(tuple(ctx.needs_input_grad[1:]))
            arrays = [x.detach().numpy() if isinstance(x, torch.Tensor) else x for x in xs]
            out = spec.forward(ctx.shim, *arrays, **kwargs)
            return torch.from_numpy(np.array(out, dtype=np.float64))

        def backward(ctx: Any, grad: Any) -> Any:
            grads = spec.backward(ctx.shim, grad.detach().numpy())
            if not isinstance(grads, (tuple, list)):
                grads = (grads,)
            return (None, *[None if g is None else torch.from_numpy(np.array(g, dtype=np.float64))
                            for g in grads])

        function = type(spec.name, (torch.autograd.Function,), {
            "forward": staticmethod(forward), "backward": staticmethod(backward)})
        return lambda *xs, **kwargs: function.apply(kwargs, *xs)

    def const(self, value: Any) -> Any:
        return self.torch.as_tensor(np.asarray(value))

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return x.sum() if axis is None else x.sum(dim=axis)

    def mean(self, x: Any, axis: int | None = None) -> Any:
        return x.mean() if axis is None else x.mean(dim=axis)

    def max(self, x: Any, axis: int | None = None) -> Any:
        return self.torch.amax(x) if axis is None else self.torch.amax(x, dim=axis)

    def relu(self, x: Any) -> Any:
        return self.torch.relu(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(a, b)

    def pick(self, x: Any, labels: np.ndarray) -> Any:
        return x[self.torch.arange(len(labels)), self.torch.as_tensor(labels)]

    def shift_(self, x: Any, value: float) -> None:
        with self.torch.no_grad():
            x.add_(value)


# ----------------------------------------------------------------------------- checkers


@dataclass
class Outcome:
    flagged: bool  # the check failed or raised
    named: tuple[str, ...]  # the ops the report blames (ours only)
    verdict: str


def run_ours(case: Case, options: dict[str, Any]) -> Outcome:
    backend = Ours(case.fresh_ops())
    inputs = [tg.Tensor(a, requires_grad=True, name=f"x{i}")
              for i, a in enumerate(case.fresh_inputs())]
    try:
        report = tg.check_gradients(lambda *xs: case.graph(backend, *xs), inputs, **options)
    except Exception as error:  # a refusal is a failed check
        return Outcome(True, (), f"raised {type(error).__name__}: {error}")
    named = tuple(dict.fromkeys(str(getattr(c, "op", "?")) for c in report.culprits))
    return Outcome(not report.ok, named, str(getattr(report, "verdict", "")))


def run_torch(case: Case, fast_mode: bool) -> Outcome:
    import torch

    torch.manual_seed(0)
    backend = Torch(case.fresh_ops())
    inputs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
              for a in case.fresh_inputs()]
    try:
        ok = torch.autograd.gradcheck(lambda *xs: case.graph(backend, *xs), inputs,
                                      fast_mode=fast_mode, raise_exception=False)
    except Exception as error:
        return Outcome(True, (), f"raised {type(error).__name__}: {str(error)[:200]}")
    return Outcome(not ok, (), "gradcheck returned False" if not ok else "passed")


CHECKERS: dict[str, tuple[str, Callable[[Case], Outcome], bool]] = {
    # key: (label, run, names ops)
    "ours-full": ("ours, full", lambda c: run_ours(c, {}), True),
    "ours-fast": ("ours, fast_mode", lambda c: run_ours(c, {"fast_mode": True}), True),
    "ours-sampled": (f"ours, sampled ({SAMPLES} per input)",
                     lambda c: run_ours(c, {"samples": SAMPLES}), True),
    "torch-full": ("torch full", lambda c: run_torch(c, False), False),
    "torch-fast": ("torch fast_mode", lambda c: run_torch(c, True), False),
}


# ----------------------------------------------------------------------------- the table


@dataclass
class Tally:
    label: str
    names_ops: bool
    caught: list[Case]
    missed: list[tuple[Case, Outcome]]
    alarms: list[tuple[Case, Outcome]]
    named: int
    nameable: int
    misnamed: list[tuple[Case, Outcome]]
    seconds: float


def evaluate(key: str, cases: list[Case]) -> Tally:
    label, run, names_ops = CHECKERS[key]
    tally = Tally(label, names_ops, [], [], [], 0, 0, [], 0.0)
    start = time.perf_counter()
    for case in cases:
        outcome = run(case)
        if case.is_bug and not outcome.flagged:
            tally.missed.append((case, outcome))
        elif case.is_bug:
            tally.caught.append(case)
            if case.culprit != FN:
                tally.nameable += 1
                if outcome.named == (case.culprit,):
                    tally.named += 1
                else:
                    tally.misnamed.append((case, outcome))
        elif outcome.flagged:
            tally.alarms.append((case, outcome))
    tally.seconds = time.perf_counter() - start
    return tally


def table(tallies: list[Tally], bugs: int, controls: int) -> str:
    rows = ["| checker | bugs caught | false alarms on controls | right op named | time |",
            "|---|---|---|---|---|"]
    for t in tallies:
        named = f"{t.named} of {t.nameable}" if t.names_ops else "– (input index only)"
        rows.append(f"| {t.label} | {len(t.caught)} of {bugs} | {len(t.alarms)} of {controls} "
                    f"| {named} | {t.seconds:.1f} s |")
    return "\n".join(rows)


def by_kind(tallies: list[Tally], cases: list[Case]) -> str:
    kinds = list(dict.fromkeys(f"{'bug' if c.is_bug else 'control'}: {c.kind}" for c in cases))
    header = "| kind | cases | " + " | ".join(t.label for t in tallies) + " |"
    rows = [header, "|---" * (len(tallies) + 2) + "|"]
    for kind in kinds:
        members = [c for c in cases if f"{'bug' if c.is_bug else 'control'}: {c.kind}" == kind]
        cells = []
        for t in tallies:
            bad = {id(c) for c, _ in t.missed + t.alarms}
            cells.append(str(sum(id(c) not in bad for c in members)))
        rows.append(f"| {kind} | {len(members)} | " + " | ".join(cells) + " |")
    return "right verdicts per kind (bug caught, control passed):\n" + "\n".join(rows)


def listing(tallies: list[Tally]) -> str:
    lines = []
    for t in tallies:
        lines.append(f"\n== {t.label}")
        misnamed = t.misnamed if t.names_ops else []
        for title, entries in (("missed", t.missed), ("false alarm", t.alarms),
                               ("op not named", misnamed)):
            for case, outcome in entries:
                verdict = outcome.verdict.splitlines()[0][:160] if outcome.verdict else ""
                extra = f" named {list(outcome.named)}" if title == "op not named" else ""
                lines.append(f"  {title:<12} {case.kind}/{case.name}{extra}: {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list misses and false alarms")
    parser.add_argument("--only", default=",".join(CHECKERS),
                        help=f"comma-separated checkers among {', '.join(CHECKERS)}")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    args = parser.parse_args()
    cases = [c for c in CASES if args.k in c.name]
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in CHECKERS]
    if unknown:
        parser.error(f"unknown checker(s) {unknown}; choose among {list(CHECKERS)}")
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    tallies = [evaluate(key, cases) for key in keys]
    bugs = sum(c.is_bug for c in cases)
    print(f"{bugs} planted bugs, {len(cases) - bugs} correct controls "
          f"(of {len(BUGS)} and {len(CONTROLS)})")
    print(table(tallies, bugs, len(cases) - bugs))
    if args.verbose:
        print()
        print(by_kind(tallies, cases))
        print(listing(tallies))


if __name__ == "__main__":
    main()
