"""The README's Python snippets run as written (each in a fresh namespace, in a scratch dir)."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # A file name of its own, with the snippet's lines in linecache, so that tools reading the
    # source of a function defined in a snippet (hypothesis, inspect) find the right lines.
    filename = f"<README.md snippet {SNIPPETS.index(code)}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    exec(compile(code, filename, "exec"), {"__name__": "readme"})
