"""Smoke test of examples/numerical_differentiation.py: it runs, prints the lecture's numbers
and the error orders, and writes its plot where --out says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "numerical_differentiation.py"


def load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("numerical_differentiation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_prints_the_numbers_and_saves_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = load_example().main(["--out", str(tmp_path / "plots")])
    out = capsys.readouterr().out

    assert "= 3.0301" in out and "= 3.0001" in out
    assert results["forward_lecture"] == pytest.approx(3.0301, abs=1e-12)
    assert results["central_lecture"] == pytest.approx(3.0001, abs=1e-12)
    assert results["forward_slope"] == pytest.approx(1.0, abs=0.02)
    assert results["central_slope"] == pytest.approx(2.0, abs=0.02)
    assert "slope 1.00" in out and "slope 2.00" in out
    # Rounding takes over near sqrt(ε_machine) for the forward difference and near its cube
    # root for the centered one.
    assert 1e-9 < results["forward_rounding_step"] < 1e-7
    assert 1e-7 < results["central_rounding_step"] < 1e-4

    png = tmp_path / "plots" / "numerical_differentiation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    assert f"plot saved to {png}" in out
