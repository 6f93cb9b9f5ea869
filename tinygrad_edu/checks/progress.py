"""The progress bar of long checks."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]

PROGRESS_MIN_EVALUATIONS = 2000


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal and the work is
    long (or when forced with enabled=True). Redrawn at most ten times a second. Use it in a
    `with` block: leaving the block ends the line."""

    def __init__(self, total: int, enabled: bool | None = None, label: str = "gradcheck") -> None:
        if enabled is None:
            enabled = total >= PROGRESS_MIN_EVALUATIONS and sys.stderr.isatty()
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

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.on and self.drawn_at:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.on = False
