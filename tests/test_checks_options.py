"""The keywords the check functions share, written once (checks.settings.GradcheckOptions):
what a caller sees of them (defaults, help(), a misspelt keyword), and the checks/ package's
import graph, which has no cycle (TYPE_CHECKING imports included)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tinygrad_edu import Tensor
from tinygrad_edu.checks import (
    GradcheckSettings,
    check_gradients,
    check_numpy_gradient,
    check_second_derivatives,
    gradcheck,
    gradgradcheck,
)
from tinygrad_edu.checks.modes import FullMode
from tinygrad_edu.checks.settings import DEFAULTS

GRADCHECK_KEYWORDS = ["eps", "atol", "rtol", "fast_mode", "samples", "directions", "seed",
                      "localize", "progress", "workers"]


def x_input() -> Tensor:
    return Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")


@pytest.mark.parametrize("function, own", [
    (gradcheck, ["raise_exception"]), (check_gradients, []),
    (gradgradcheck, ["raise_exception"]), (check_second_derivatives, []),
])
def test_help_shows_every_keyword_with_its_default(function: Callable[..., Any],
                                                   own: list[str]) -> None:
    parameters = inspect.signature(function).parameters
    keywords = [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert keywords == own + GRADCHECK_KEYWORDS
    assert parameters["eps"].default == 1e-6 and parameters["directions"].default == 2
    assert parameters["localize"].default is True and parameters["workers"].default is None
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def test_check_numpy_gradient_takes_its_part_of_the_options() -> None:
    parameters = inspect.signature(check_numpy_gradient).parameters
    assert [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY] == [
        "raise_exception", "eps", "atol", "rtol", "samples", "seed", "progress"]


def test_defaults_make_the_default_settings() -> None:
    settings = GradcheckSettings.of()
    assert settings == GradcheckSettings(eps=1e-6, atol=None, rtol=None, mode=settings.mode)
    assert isinstance(settings.mode, FullMode)
    assert list(DEFAULTS) == GRADCHECK_KEYWORDS


@pytest.mark.parametrize("call, name", [
    (lambda: gradcheck(lambda x: x.sum(), x_input(), epss=1e-5), "gradcheck"),
    (lambda: check_gradients(lambda x: x.sum(), x_input(), raise_exception=False),
     "check_gradients"),
    (lambda: gradgradcheck(lambda x: x.exp(), x_input(), epss=1e-5), "gradgradcheck"),
    (lambda: check_second_derivatives(lambda x: x.exp(), x_input(), epss=1e-5),
     "check_second_derivatives"),
    (lambda: check_numpy_gradient(lambda w: (np.sum(w), np.ones_like(w)), np.ones(2),
                                  fast_mode=True), "check_numpy_gradient"),
])
def test_an_unknown_keyword_is_refused_naming_the_function_and_what_it_takes(
        call: Callable[[], Any], name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name}: unexpected keyword argument \w+=.*; "
                                        r"it takes .*eps=, atol=, rtol="):
        call()


def test_options_pass_through_to_the_check() -> None:
    report = check_gradients(lambda x: (x * x).sum(), x_input(), eps=1e-5, fast_mode=True,
                             seed=3, localize=False)
    assert report.ok and report.settings is not None
    assert (report.settings.eps, report.settings.seed, report.settings.localize) == \
        (1e-5, 3, False)
    assert gradgradcheck(lambda x: (x * x * x).sum(), x_input(), samples=2, workers=None)


def test_the_checks_package_imports_without_a_cycle() -> None:
    package = Path(__file__).resolve().parents[1] / "tinygrad_edu" / "checks"
    modules = {path.stem for path in package.glob("*.py")} - {"__init__"}
    edges: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((package / f"{name}.py").read_text())
        edges[name] = set()
        for node in ast.walk(tree):  # every import, under TYPE_CHECKING or in a function too
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                edges[name] |= {t for t in targets if t in modules}
    finished: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"import cycle: {' -> '.join(path[path.index(name):] + [name])}"
        if name in finished:
            return
        for target in sorted(edges[name]):
            visit(target, path + [name])
        finished.add(name)

    for name in sorted(modules):
        visit(name, [])


def test_a_pytorch_keyword_gets_numpys_name_only_where_numpys_name_is_taken() -> None:
    # gradcheck takes no axis=: naming it as the fix for dim= would send the user astray.
    with pytest.raises(TypeError, match=r"^gradcheck: unexpected keyword argument dim=1; it takes ") as caught:
        gradcheck(lambda x: x.sum(), x_input(), dim=1)  # type: ignore[call-arg]
    assert "axis=" not in str(caught.value)
    with pytest.raises(TypeError, match=r"^sum: unexpected keyword argument dim=1; .*axis= \(PyTorch's dim=\)"):
        x_input().sum(dim=1)
