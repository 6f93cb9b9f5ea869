"""The text on a drawing: names and values made safe to draw, and short forms of values.

Users choose tensor names, Function class names, keyword names and values, and constants; a
label is XML in the end (Graphviz's HTML-like labels, then SVG), and XML cannot carry control
characters, lone surrogates or U+FFFE/U+FFFF, while Graphviz refuses an empty bold line. So
every such text goes through `shown` (one line, drawn as given where possible) and every row
of a label through `escape_unsafe` before the look module marks it up.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

MAX_ARG_CHARS = 40  # a kwarg, a constant or the repr of a non-string name is cut here with "…"

# What a label cannot carry: C0 and C1 control characters (the line breaks among them: a name
# is one line), lone surrogates (not encodable as UTF-8), and the two XML non-characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_unsafe(text: str) -> str:
    """`text` with each character a label cannot carry written as its Python escape
    ("\\x1b", "\\n", "\\ud800"); everything else, Unicode included, unchanged."""
    return _UNSAFE.sub(_escape, text)


def shown(value: object) -> str:
    """One line of text for a name or value a user chose: a string as it is (unsafe characters
    escaped), anything else as its repr; a text with nothing visible is quoted (`''`)."""
    text = value if isinstance(value, str) else cut(_repr(value))
    text = escape_unsafe(text)
    return text if text.strip() else repr(text)


def cut(text: str, limit: int = MAX_ARG_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # a user's __repr__ that fails must not stop the drawing
        return f"<{type(value).__name__}>"


def number(x: float) -> str:
    return f"{x:.4g}"


def array_values(data: np.ndarray) -> str:
    """The values of a small array, as numpy prints them (rows on lines of their own)."""
    return np.array2string(
        data, precision=4, separator=", ", suppress_small=True, max_line_width=48
    )


def compact(value: Any, depth: int = 0) -> str:
    """A short text for a kwarg or constant: `2`, `0.5`, `(0, 1)`, `[0, 2, 1]`, `1:3`, `'mean'`;
    other objects by their type's name. At most MAX_ARG_CHARS long, whatever the value (a
    list of a million items, a list holding itself, an int of a thousand digits)."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        text = repr(value)
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
    elif isinstance(value, (int, np.integer)):
        value = int(value)
        sign = "-" if value < 0 else ""
        text = str(value) if value.bit_length() <= 64 else f"≈{sign}2**{value.bit_length() - 1}"
    elif isinstance(value, (str, bytes)):
        text = repr(value[: MAX_ARG_CHARS + 1])
    elif isinstance(value, np.ndarray):
        text = _compact_array(value)
    elif isinstance(value, (tuple, list)):
        inner = _compact_items(value, depth + 1)
        if isinstance(value, list):
            text = f"[{inner}]"
        else:
            text = f"({inner},)" if len(value) == 1 else f"({inner})"
    elif isinstance(value, slice):
        parts = (value.start, value.stop, value.step)
        text = ":".join("" if v is None else compact(v, depth + 1) for v in parts)
        text = text[:-1] if value.step is None else text
    elif value is Ellipsis:
        text = "..."
    else:
        text = type(value).__name__
    return escape_unsafe(cut(text))


def _compact_items(values: tuple[Any, ...] | list[Any], depth: int) -> str:
    """The items of a tuple or list, as many as fit in MAX_ARG_CHARS."""
    if depth > 3:
        return "…" if values else ""
    parts: list[str] = []
    length = 0
    for item in values:
        if length > MAX_ARG_CHARS:
            parts.append("…")
            break
        parts.append(compact(item, depth))
        length += len(parts[-1]) + 2
    return ", ".join(parts)


def _compact_array(value: np.ndarray) -> str:
    if value.size <= 6 and value.dtype.kind != "O":  # an object's repr could be anything
        text = np.array2string(value, precision=4, separator=", ", max_line_width=10_000)
        return text.replace("\n", "")  # one line: the rows of a 2-D array side by side
    return f"{value.dtype} array {value.shape}"
