"""Smoke tests of the training examples: they run, print what they promise, meet their
accuracy targets and write their figures."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))  # an example may import another from beside itself
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000


def test_train_digits_meets_its_targets_and_saves_its_figures(tmp_path: Path) -> None:
    # As the README runs it: a fresh interpreter, from the command line.
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "train_digits.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "gradcheck passed: softmax loss + L2 w.r.t. W (64, 10) and b (10,)" in out
    assert "gradcheck passed: SVM loss + L2" in out
    assert re.search(r"softmax epoch +30/30 +loss \d\.\d{4}", out)
    assert re.search(r"SVM epoch +30/30 +loss \d\.\d{4}", out)
    summary = r"^(softmax \+ SGD|SVM \+ SGD|random search) +(\d\.\d{4}) +(\d\.\d{4})"
    test_accuracy = {name: float(test) for name, _, test in re.findall(summary, out, re.M)}
    assert set(test_accuracy) == {"softmax + SGD", "SVM + SGD", "random search"}, out
    assert test_accuracy["softmax + SGD"] >= 0.955
    assert test_accuracy["SVM + SGD"] >= 0.92
    assert test_accuracy["random search"] < 0.5  # the notes' point: a very bad idea
    assert_png(tmp_path / "loss_curves.png")
    assert_png(tmp_path / "loss_graph.png")
    svg = (tmp_path / "loss_graph.svg").read_text()
    assert "<svg" in svg and "SoftmaxCrossEntropy" in svg and "MatMul" in svg


def test_gradient_descent_demo_follows_the_notes_and_saves_three_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = load_example("gradient_descent")
    # x -> (1 - 2 lr) x on f(x) = x², from the notes' start x = 3
    np.testing.assert_allclose(demo.descend(3, 5, 0.1), 3 * 0.8 ** np.arange(6), rtol=1e-14)
    saved = demo.main(["--out", str(tmp_path)])
    assert [p.name for p in saved] == ["gd_learning_rate.png", "gd_decay.png", "gd_momentum.png"]
    for path in saved:
        assert_png(path)
    printed = capsys.readouterr().out
    assert "learning rate  lr=0.1" in printed and "x: 3 ->  0.98304" in printed  # 3 * 0.8^5
    assert "decay          lr=0.99  decay=0.9" in printed
    assert "momentum       lr=0.9   momentum=0.9" in printed
