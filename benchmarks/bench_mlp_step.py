"""One training step of a two-layer network: tinygrad_edu against PyTorch CPU eager, side by side.

The step, written once per library with its own building blocks: the batch (a numpy array,
fresh each step as a data loader gives it) wrapped without a copy (`tinygrad_edu.as_tensor`,
`torch.from_numpy`), scores = Linear(100 -> 10)(relu(Linear(64 -> 100)(x))), mean softmax
cross-entropy, zero_grad, backward, optimizer step. Batch 64, float32, the digits example's
sizes. Two optimizers: SGD with momentum (fixed learning rate, where the lecture's and
PyTorch's momentum agree) and Adam. Both sides run in one process, in alternating rounds
(benchmarks/_timing.py); torch single-threaded (its fastest for matrices this small; pass
--torch-threads to change it), numpy's BLAS as installed.

    .venv/bin/python benchmarks/bench_mlp_step.py [--rounds 21] [--calls 200] [--batch 64]

Target (issue 13): ours / torch <= 1.0 (not slower) with SGD-momentum at batch 64.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: idle threads must not spin

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tinygrad_edu as tg  # noqa: E402
from _timing import fmt_us, machine_note, paired_runs, summary  # noqa: E402
from tinygrad_edu.losses import softmax_cross_entropy  # noqa: E402
from tinygrad_edu.nn import Linear, ReLU, Sequential  # noqa: E402
from tinygrad_edu.optim import SGD, Adam  # noqa: E402

SIZES = (64, 100, 10)
LR, MOMENTUM = 0.05, 0.9
TARGET = 1.0
BATCHES = 8  # the steps cycle through this many distinct batches

Step = Callable[[], Any]


def make_data(batch: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((batch, SIZES[0])).astype(np.float32) for _ in range(BATCHES)]
    ys = [rng.integers(0, SIZES[2], size=batch) for _ in range(BATCHES)]
    return xs, ys


def ours(xs: list[np.ndarray], ys: list[np.ndarray], optimizer: str) -> tuple[Step, Sequential]:
    model = Sequential(Linear(SIZES[0], SIZES[1], seed=0, dtype=np.float32), ReLU(),
                       Linear(SIZES[1], SIZES[2], seed=1, dtype=np.float32))
    params = model.parameters()
    opt = SGD(params, lr=LR, momentum=MOMENTUM) if optimizer == "sgd" else Adam(params, lr=1e-3)
    batches = [(x, y.astype(np.intp)) for x, y in zip(xs, ys)]
    position = [0]

    def step() -> Any:
        x, y = batches[position[0] % BATCHES]
        position[0] += 1
        loss = softmax_cross_entropy(model(tg.as_tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step, model


def theirs(xs: list[np.ndarray], ys: list[np.ndarray], optimizer: str,
           state: dict[str, np.ndarray]) -> tuple[Step, torch.nn.Module]:
    model = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
                                torch.nn.Linear(SIZES[1], SIZES[2]))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    params = list(model.parameters())
    opt: torch.optim.Optimizer = (torch.optim.SGD(params, lr=LR, momentum=MOMENTUM)
                                  if optimizer == "sgd" else torch.optim.Adam(params, lr=1e-3))
    batches = [(x, torch.from_numpy(y.astype(np.int64))) for x, y in zip(xs, ys)]
    position = [0]

    def step() -> Any:
        x, y = batches[position[0] % BATCHES]
        position[0] += 1
        loss = F.cross_entropy(model(torch.from_numpy(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step, model


def check_same_training(batch: int, optimizer: str) -> None:
    """Twenty steps of each from the same weights on the same batches end at the same
    weights (float32 rounding apart), or the timing would compare different work."""
    xs, ys = make_data(batch, seed=1)
    our_step, our_model = ours(xs, ys, optimizer)
    their_step, their_model = theirs(xs, ys, optimizer, our_model.state_dict())
    for _ in range(20):
        a, b = our_step(), their_step()
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-4, atol=1e-5)
    for name, t in their_model.state_dict().items():
        np.testing.assert_allclose(our_model.state_dict()[name], t.numpy(), rtol=1e-3, atol=1e-5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)

    print(f"MLP training step: {SIZES[0]} -> {SIZES[1]} ReLU -> {SIZES[2]}, batch {args.batch}, "
          "float32, mean cross-entropy, zero_grad + backward + optimizer step")
    print(f"machine: {machine_note()}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)")
    missed = False
    for optimizer, label in (("sgd", f"SGD(lr={LR}, momentum={MOMENTUM})"), ("adam", "Adam(lr=1e-3)")):
        check_same_training(args.batch, optimizer)
        xs, ys = make_data(args.batch)
        our_step, our_model = ours(xs, ys, optimizer)
        their_step, _ = theirs(xs, ys, optimizer, our_model.state_dict())
        samples = paired_runs({"tinygrad_edu": our_step, "torch": their_step},
                              rounds=args.rounds, calls=args.calls)
        mine, mine_best = summary(samples["tinygrad_edu"])
        ref, ref_best = summary(samples["torch"])
        print(f"\n{label}: median (best) of {args.rounds} alternating rounds x {args.calls} steps")
        for name, median, best in (("tinygrad_edu", mine, mine_best), ("torch", ref, ref_best)):
            print(f"  {name:<13} {fmt_us(median):>11} ({fmt_us(best)}) per step")
        verdict = ""
        if optimizer == "sgd":
            met = mine / ref <= TARGET
            missed |= not met
            verdict = f"  target <= {TARGET}: {'met' if met else 'MISSED'}"
        print(f"  ratio ours/torch = {mine / ref:.2f} (best rounds: {mine_best / ref_best:.2f})"
              f"{verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
