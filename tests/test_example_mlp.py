"""examples/train_mlp.py: it runs from the command line in seconds, gradchecks the network,
reaches its accuracy target with both optimizers, reloads its saved state dict, and writes its
figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tinygrad_edu import Tensor

from test_examples_training import EXAMPLES, assert_png, load_example

SUMMARY = r"^((?:MLP|linear) [\w +-]+?) +(\d\.\d{4}) +(\d\.\d{4}) +(\d+\.\d{4}) +\d+\.\d\ds"


def test_train_mlp_meets_its_targets_and_saves_its_figures(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "train_mlp.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert ("gradcheck passed: cross-entropy + L2 of the network w.r.t. 0.weight (100, 64), "
            "0.bias (100,), 2.weight (10, 100), 2.bias (10,)") in out
    assert "(1): ReLU()" in out
    for name in ("MLP + SGD-momentum", "MLP + Adam", "linear softmax + SGD", "linear SVM + SGD"):
        assert re.search(rf"{re.escape(name)} epoch +30/30 +loss \d\.\d{{4}} +test acc", out), name
    rows = {name: (float(train), float(test), float(loss))
            for name, train, test, loss in re.findall(SUMMARY, out, re.M)}
    assert set(rows) == {"MLP + SGD-momentum", "MLP + Adam", "linear softmax + SGD",
                         "linear SVM + SGD"}, out
    for name in ("MLP + SGD-momentum", "MLP + Adam"):
        assert rows[name][1] >= 0.97, out
        assert rows[name][0] > rows["linear softmax + SGD"][0]  # it fits the training set better
    # The linear classifiers are trained with train_digits.py's settings and loop: its targets.
    assert rows["linear softmax + SGD"][1] >= 0.955 and rows["linear SVM + SGD"][1] >= 0.92
    assert "loaded into a fresh network: same test predictions" in out
    assert re.search(r"done in \d+\.\d s", out)

    state = np.load(tmp_path / "mlp_state.npz", allow_pickle=False)
    assert {k: state[k].shape for k in ("0.weight", "0.bias", "2.weight", "2.bias")} == {
        "0.weight": (100, 64), "0.bias": (100,), "2.weight": (10, 100), "2.bias": (10,)}
    for name in ("mlp_curves.png", "mlp_graph.png"):
        assert_png(tmp_path / name)
    svg = (tmp_path / "mlp_graph.svg").read_text()
    for drawn in ("<svg", "LinearFunction", "SoftmaxCrossEntropy", "0.weight", "2.bias"):
        assert drawn in svg, drawn
    assert re.search(r"relu", svg, re.I)


def test_parameters_replaced_swaps_and_always_restores() -> None:
    example = load_example("train_mlp")
    model = example.network(0)
    originals = model.parameters()
    copies = [Tensor(p.data * 2, requires_grad=True) for p in originals]
    with example.parameters_replaced(model, copies) as replaced:
        assert all(a is b for a, b in zip(replaced.parameters(), copies))
    assert all(a is b for a, b in zip(model.parameters(), originals))
    with pytest.raises(ZeroDivisionError), example.parameters_replaced(model, copies):
        raise ZeroDivisionError("inside the block")
    assert all(a is b for a, b in zip(model.parameters(), originals))
