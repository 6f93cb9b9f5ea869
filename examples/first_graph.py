"""A first graph: build a small computation, run backward, print the gradients.

    python examples/first_graph.py

f(a, b, c) = sum(exp(a * b + c) * a), with a, b of shape (2, 3) and c of shape (3,)
(broadcast over the rows). The gradients printed are checked against the closed forms
    df/da = exp(ab + c) * (a b + 1),   df/db = exp(ab + c) * a^2,   df/dc = sum_rows exp(ab + c) * a
"""

from __future__ import annotations

import numpy as np

from tinygrad_edu import Tensor


def main() -> None:
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="a")
    b = Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="b")
    c = Tensor(rng.standard_normal(3), requires_grad=True, name="c")

    f = ((a * b + c).exp() * a).sum()
    f.backward()
    print("f =", f)

    e = np.exp(a.data * b.data + c.data)
    closed_forms = {
        "a": e * (a.data * b.data + 1),
        "b": e * a.data**2,
        "c": (e * a.data).sum(axis=0),
    }
    for tensor in (a, b, c):
        expected = closed_forms[tensor.name]
        assert tensor.grad is not None and np.allclose(tensor.grad, expected)
        print(f"d f / d {tensor.name} =\n{tensor.grad}")
    print("all three gradients match their closed forms")


if __name__ == "__main__":
    main()
