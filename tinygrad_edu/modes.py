"""Thread-local modes: grad mode (`no_grad`, `enable_grad`) and anomaly mode (`detect_anomaly`).

A leaf module: it imports nothing from the package, so every layer can read the modes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled"]


class _Modes(threading.local):
    # Class attributes are the per-thread defaults: a new thread starts with grad mode on.
    grad_enabled: bool = True
    anomaly: bool = False

    def __init__(self) -> None:
        # What each active switch will restore, innermost last. Per thread and per call (not
        # per switch object), so one decorator shared by threads or by a recursive function
        # restores the right mode on every exit.
        self.saved: list[bool] = []


modes = _Modes()

_F = TypeVar("_F", bound=Callable[..., Any])


class _ModeSwitch:
    """Sets one flag of this thread's modes for the duration of a `with` block or a call."""

    _flag = ""
    _value = False

    def __enter__(self) -> None:
        state = modes
        state.saved.append(getattr(state, self._flag))
        setattr(state, self._flag, self._value)

    def __exit__(self, *exc: object) -> None:
        state = modes
        setattr(state, self._flag, state.saved.pop())

    def __call__(self, function: _F) -> _F:
        """Use as a decorator: the whole call runs in this mode."""

        switch = type(self)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_ModeSwitch):
    """Context manager (and decorator): ops run but record no graph, in this thread only."""

    _flag, _value = "grad_enabled", False


class enable_grad(_ModeSwitch):
    """Context manager (and decorator): turns graph recording back on inside `no_grad`."""

    _flag, _value = "grad_enabled", True


class detect_anomaly(_ModeSwitch):
    """Context manager (and decorator): check every forward output and every gradient for NaN
    and inf, and name the op (and where in your code it was created) that produced one.

    It records a traceback per op, so it is slow: turn it on to hunt a NaN, not to train.
    """

    _flag, _value = "anomaly", True


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph."""
    return modes.grad_enabled


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return modes.anomaly
