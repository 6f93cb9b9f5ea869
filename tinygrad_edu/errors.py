"""The library's typed errors. Each subclasses the built-in error users already catch
(`ValueError`, `TypeError`, `RuntimeError`), so `except ValueError:` keeps working, while
programs (gradcheck, the drawer) read the details from fields instead of parsing messages."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BadGradient", "GradientShapeError", "GradientTypeError", "LockedArrayError", "op_error"]


class BadGradient(Exception):
    """A backward returned an unusable gradient for one of its inputs.

    op_name      the Function's class name
    input_index  the position of the input (among forward's positional arguments)
    """

    def __init__(self, message: str, op_name: str, input_index: int) -> None:
        super().__init__(message)
        self.op_name = op_name
        self.input_index = input_index

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt with all three arguments, so the error survives a trip from a worker process.
        return (type(self), (str(self), self.op_name, self.input_index))


class GradientShapeError(BadGradient, ValueError):
    """The gradient's shape differs from its input's shape."""


class GradientTypeError(BadGradient, TypeError):
    """The gradient is not numeric (strings, objects, complex numbers)."""


class LockedArrayError(ValueError):
    """An array saved by a live graph was about to be written in place (see README, Safety
    nets). A ValueError, as numpy's own "assignment destination is read-only"."""


def op_error(op_name: str, error: Exception, arrays: list[Any], settings: dict[str, Any]) -> Exception:
    """An error an op's forward raised, of the same kind, its message prefixed with the op's
    name and its inputs' shapes (numpy's own messages name neither)."""
    shapes = ", ".join(str(np.shape(a)) if isinstance(a, np.ndarray) else repr(a) for a in arrays)
    described = "".join(f"; {k}={v!r}" for k, v in settings.items())
    message = f"{op_name}: {error} (inputs: {shapes}{described})"
    if isinstance(error, ValueError):  # numpy's AxisError is both; ValueError is the documented one
        return ValueError(message)
    if isinstance(error, IndexError):
        return IndexError(message)
    if isinstance(error, OverflowError):
        return OverflowError(message + ": a number too large for the array's dtype")
    return TypeError(message)
