"""examples/second_order.py, run as the README runs it (a fresh interpreter, from the command
line): the lecture's θ³ to third order against finite differences, Newton against gradient
descent with momentum on its logistic regression, and the plot where --out says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "second_order.py"


def test_second_order_example_prints_its_numbers_and_saves_the_plot(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "plots")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout

    # θ³ at θ = 1: autodiff 3, 6, 6; finite differences 3.0001 (the lecture's), 6, 6.
    assert "f'(1)   = 3.0000   (f(1.01) - f(0.99)) / 0.02             = 3.0001   exact 3" in out
    assert "f''(1)  = 6.0000   (f'(1.01) - f'(0.99)) / 0.02           = 6.0000   exact 6" in out
    assert "f'''(1) = 6.0000   (f'(1.01) - 2f'(1) + f'(0.99)) / 0.01² = 6.0000   exact 6" in out

    iterations = {
        name: int(re.search(rf"{re.escape(name)}.*?(\d+) iterations", out).group(1))  # type: ignore[union-attr]
        for name in ("Newton's method", "momentum 0.9", "no momentum")
    }
    # Newton converges quadratically: a handful of steps; momentum beats plain descent, and
    # both need far more steps than Newton.
    assert 3 <= iterations["Newton's method"] <= 10
    assert 10 * iterations["Newton's method"] < iterations["momentum 0.9"]
    assert iterations["momentum 0.9"] < iterations["no momentum"] < 5000
    difference = float(re.search(r"largest difference between the three (\S+)", out).group(1))  # type: ignore[union-attr]
    assert difference < 1e-6  # all three reach the same minimum

    png = tmp_path / "plots" / "second_order.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert f"plot saved to {png}" in out
