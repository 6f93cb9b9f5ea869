"""Helpers for checking your own ops in your own pytest suite.

    from tinygrad_edu.testing import Domain, check_function

    def test_my_mul_backward():
        check_function(MyMul, shapes=[(3, 4), (4,)])

    def test_my_log_backward():                 # log is defined for x > 0 only
        check_function(MyLog, shapes=[(3, 4)], domains=(0, None))

`check_function` draws random inputs over the op's whole domain (by default values spread over
[-5, 5], both signs, away from 0 where |x| and relu bend, no two equal so none tie in a max;
per input, a `Domain`, a (low, high) pair or a sampler), and gradchecks the op on them: with
all inputs requiring grad, with each input alone requiring grad, and with broadcast variants
of the shapes. A failure raises `GradcheckError`, an AssertionError, whose message says which
case failed.

The modules:
    domains     Domain and random_inputs: where inputs are drawn from
    check       check_function and broadcast_shape_variants
    strategies  hypothesis strategies (shapes, broadcast-compatible shapes, axes, arrays,
                Tensors) to property-test your ops; needs hypothesis (pip install
                "tinygrad_edu[testing]"), imported only when you import this module
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .check import broadcast_shape_variants, check_function
from .domains import Domain, DomainLike, Sampler, random_inputs

__all__ = [
    "check_function",
    "random_inputs",
    "broadcast_shape_variants",
    "Domain",
    "DomainLike",
    "Sampler",
]


def __getattr__(name: str) -> ModuleType:
    # `tinygrad_edu.testing.strategies` without importing hypothesis for everyone else.
    if name == "strategies":
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
