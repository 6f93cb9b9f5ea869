"""The progress bar of long checks, drawn by tqdm (`tqdm.auto`: a text bar on a terminal, a
widget in a notebook).

With `enabled=None` (the default) the bar is on when stderr is a terminal or the code runs in a
notebook, not in CI (the CI environment variable set), for work of at least MIN_EVALUATIONS
evaluations, and it appears only once the work has taken MIN_SECONDS: a check that ends sooner
draws nothing.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["Progress", "MIN_SECONDS", "MIN_EVALUATIONS"]

MIN_SECONDS = 2.0  # a check shorter than this draws no bar
MIN_EVALUATIONS = 100  # nor does a check of fewer evaluations


class Progress:
    """Counts evaluations of fn; a bar shows them when enabled. Use it in a `with` block:
    leaving the block closes the bar. `advance(count)` may be called from one thread at a
    time (the parallel evaluator calls it as results arrive)."""

    def __init__(self, total: int, enabled: bool | None = None, label: str = "gradcheck") -> None:
        if enabled is None:
            enabled = total >= MIN_EVALUATIONS and _interactive()
        self.bar: Any = _bar(total, label) if enabled and total > 0 else None

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _bar(total: int, label: str) -> Any:
    from tqdm.auto import tqdm  # imported only when a bar is drawn (~50 ms)

    return tqdm(
        total=total, desc=label, file=sys.stderr, delay=MIN_SECONDS, mininterval=0.1,
        ascii=".#", leave=True, dynamic_ncols=False,
        bar_format="{desc} [{bar:30}] {n_fmt}/{total_fmt} evaluations ({percentage:.0f}%)",
    )


def _interactive() -> bool:
    """A terminal or a notebook, and not CI."""
    if os.environ.get("CI"):
        return False
    try:
        if sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    kernel = get_ipython() if callable(get_ipython) else None
    return type(kernel).__name__ == "ZMQInteractiveShell"
