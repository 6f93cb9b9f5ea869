"""tinygrad_edu.nn: Module (parameters found recursively, state dicts), Linear against
torch.nn.Linear, Sequential, the activations, and state dicts exchanged with PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from tinygrad_edu import Tensor
from tinygrad_edu.checks import gradcheck
from tinygrad_edu.nn import Linear, LinearClassifier, LinearFunction, Module, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_edu.optim import SGD

HAS_ACTIVATIONS = all(hasattr(Tensor, name) for name in ("relu", "tanh", "sigmoid"))
needs_activations = pytest.mark.skipif(
    not HAS_ACTIVATIONS, reason="Tensor.relu/tanh/sigmoid are not there yet"
)


class Nested(Module):
    """Parameters in attributes, lists, tuples, dicts, sub-modules, a tied one, a constant."""

    def __init__(self) -> None:
        self.first = Linear(3, 4, seed=0)
        self.blocks = [Linear(4, 4, seed=1), (Linear(4, 2, seed=2),)]
        self.heads = {"a": Linear(2, 1, seed=3)}
        self.tied = self.first.weight  # the same tensor again: listed once
        self.scale = Tensor([2.0])  # a constant: in the state, not a parameter
        self.config = {"depth": 3, "name": "nested"}  # not tensors: ignored
        self._cache = Tensor([1.0], requires_grad=True)  # underscore: not searched

    def forward(self, x: Any) -> Tensor:
        h = self.first(x)
        h = self.blocks[1][0](self.blocks[0](h))
        return self.heads["a"](h) * self.scale


def test_parameters_are_found_recursively_once_each_in_order() -> None:
    model = Nested()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias",
        "blocks.1.0.weight", "blocks.1.0.bias", "heads.a.weight", "heads.a.bias",
    ]
    params = model.parameters()
    assert len({id(p) for p in params}) == len(params) == 8
    assert params[0] is model.first.weight and params[0] is model.tied
    assert [name for name, _ in model.named_tensors()] == [*names, "scale"]
    assert list(model.state_dict()) == [*names, "scale"]


def test_a_cycle_between_modules_ends() -> None:
    a, b = Linear(2, 2, seed=0), Linear(2, 2, seed=1)
    a.partner, b.partner = b, a
    assert len(a.parameters()) == 4


def test_a_non_leaf_attribute_is_refused_with_a_hint() -> None:
    class Broken(Module):
        def __init__(self) -> None:
            self.w = Tensor(np.ones(3), requires_grad=True) * 0.01

    with pytest.raises(TypeError, match=r"attribute 'w' is a tensor made by Mul, not a leaf"):
        Broken().parameters()


def test_forward_must_be_defined_and_call_reaches_it() -> None:
    with pytest.raises(NotImplementedError, match="Module: define forward"):
        Module()(1)

    class Double(Module):
        def forward(self, x: Any, *, times: int = 2) -> Any:
            return x * times

    assert Double()(3, times=4) == 12


def test_zero_grad_clears_every_parameter() -> None:
    model = Nested()
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- Linear


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3)])
def test_linear_matches_torch_values_and_gradients(bias: bool, x_shape: tuple) -> None:
    layer = Linear(3, 4, bias=bias, seed=0)
    reference = torch.nn.Linear(3, 4, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.data))
        if bias:
            reference.bias.copy_(torch.from_numpy(layer.bias.data))
    rng = np.random.default_rng(1)
    x_raw = rng.normal(size=x_shape)
    upstream = rng.normal(size=(*x_shape[:-1], 4))
    x = Tensor(x_raw, requires_grad=True)
    out = layer(x)
    out.backward(upstream)
    x_t = torch.tensor(x_raw, requires_grad=True)
    out_t = reference(x_t)
    out_t.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), rtol=1e-13, atol=1e-15)
    if bias:
        np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-13)
    else:
        assert layer.bias is None and len(layer.parameters()) == 1


@pytest.mark.parametrize("x_shape", [(4, 3), (3,), (2, 2, 3)])
def test_the_fused_op_passes_gradcheck(x_shape: tuple) -> None:
    layer = Linear(3, 2, seed=0)
    x = Tensor(np.random.default_rng(2).normal(size=x_shape), requires_grad=True)
    assert gradcheck(LinearFunction.apply, [x, layer.weight, layer.bias])
    assert gradcheck(LinearFunction.apply, [x, layer.weight])


def test_linear_init_is_torchs_fan_in_uniform_and_seeded() -> None:
    layer = Linear(400, 300, seed=0)
    bound = 1 / np.sqrt(400)
    for t, shape in ((layer.weight, (300, 400)), (layer.bias, (300,))):
        assert t.shape == shape and t.requires_grad and t.is_leaf
        assert np.abs(t.data).max() <= bound
        assert np.abs(t.data).max() > 0.99 * bound  # spread over the whole interval
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.01 * bound
    np.testing.assert_array_equal(Linear(400, 300, seed=0).weight.data, layer.weight.data)
    assert not np.array_equal(Linear(400, 300, seed=1).weight.data, layer.weight.data)
    assert (layer.weight.name, layer.bias.name) == ("weight", "bias")


def test_linear_float32_and_a_shared_generator() -> None:
    rng = np.random.default_rng(0)
    a, b = Linear(2, 2, seed=rng, dtype=np.float32), Linear(2, 2, seed=rng, dtype=np.float32)
    assert not np.array_equal(a.weight.data, b.weight.data)
    out = a(np.ones((1, 2)))
    assert out.dtype == np.float32 and a.bias.dtype == np.float32
    with pytest.raises(TypeError, match="input dtype float64 does not match the model's float32"):
        a(Tensor(np.ones((1, 2))))


@pytest.mark.parametrize(
    "args, kwargs, error, phrase",
    [
        ((0, 2), {}, ValueError, "Linear: in_features must be an int >= 1, got 0"),
        ((2, 2.0), {}, TypeError, "Linear: out_features must be an int >= 1, got float 2.0"),
        ((2, 2), {"bias": 1}, TypeError, "Linear: bias must be True or False, got 1"),
        ((2, 2), {"dtype": np.int32}, TypeError, "Linear: dtype must be a floating-point type"),
        ((2, 2), {"seed": "x"}, TypeError, "Linear: seed must be an int >= 0, got str 'x'"),
    ],
)
def test_linear_refuses_bad_arguments(args: tuple, kwargs: dict, error: type, phrase: str) -> None:
    with pytest.raises(error) as raised:
        Linear(*args, **kwargs)
    assert str(raised.value).startswith(phrase)


@pytest.mark.parametrize("shape", [(4, 2), (), (2,)])
def test_linear_refuses_a_wrong_input_shape(shape: tuple) -> None:
    with pytest.raises(ValueError) as raised:
        Linear(3, 2, seed=0)(np.ones(shape))
    assert str(raised.value) == (
        f"Linear: expected input of shape (..., 3) (in_features=3), got shape {shape}"
    )


def test_reprs() -> None:
    model = Sequential(Linear(64, 100), ReLU(), Linear(100, 10, bias=False, dtype=np.float32))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=64, out_features=100, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=100, out_features=10, bias=False, dtype=float32)\n"
        ")"
    )


# ----------------------------------------------------------------------------- Sequential


def test_sequential_names_layers_by_position_and_chains_them() -> None:
    first, second = Linear(3, 4, seed=0), Linear(4, 2, seed=1)
    model = Sequential(first, second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(model(x).data, second(first(x)).data)
    assert len(model) == 2 and model[1] is second and list(model) == [first, second]
    assert isinstance(model[:1], Sequential) and model[:1][0] is first


def test_sequential_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match=r"^Sequential: layer 1 must be a Module, got function"):
        Sequential(Linear(2, 2), lambda x: x)


def test_activations_refuse_arrays() -> None:
    with pytest.raises(TypeError, match="^ReLU: input must be a Tensor, got ndarray"):
        ReLU()(np.ones(2))


@needs_activations
@pytest.mark.parametrize(
    "ours, theirs", [(ReLU, torch.nn.ReLU), (Tanh, torch.nn.Tanh), (Sigmoid, torch.nn.Sigmoid)]
)
def test_activations_match_torch(ours: type, theirs: type) -> None:
    raw = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    x = Tensor(raw, requires_grad=True)
    out = ours()(x)
    out.backward(np.ones_like(raw))
    x_t = torch.tensor(raw, requires_grad=True)
    theirs()(x_t).sum().backward()
    np.testing.assert_allclose(out.data, theirs()(torch.tensor(raw)).numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-15)


# ----------------------------------------------------------------------------- state dicts


def torch_mlp() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()


def test_a_torch_state_dict_loads_one_to_one_and_gives_identical_outputs() -> None:
    reference = torch_mlp()
    state = {name: value.numpy() for name, value in reference.state_dict().items()}
    # Identity stands in for Tanh where it is not there yet: the layers are what is compared.
    middle = Tanh() if HAS_ACTIVATIONS else _Identity()
    model = Sequential(Linear(5, 8, seed=1), middle, Linear(8, 3, seed=2))
    assert list(model.state_dict()) == list(state)
    model.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(4, 5))
    if HAS_ACTIVATIONS:
        expected = reference(torch.from_numpy(x)).detach().numpy()
    else:
        expected = torch.nn.Sequential(reference[0], reference[2])(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-14, atol=1e-15)
    # and back: our state dict loads into PyTorch
    back = torch_mlp()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    for (name, ours), theirs in zip(model.state_dict().items(), back.state_dict().values()):
        np.testing.assert_array_equal(ours, theirs.numpy(), err_msg=name)


class _Identity(Module):
    def forward(self, x: Any) -> Any:
        return x


def test_float32_torch_state_loads_into_a_float64_model() -> None:
    layer = torch.nn.Linear(3, 2)  # float32
    ours = Linear(3, 2, seed=0)
    ours.load_state_dict({k: v.detach().numpy() for k, v in layer.state_dict().items()})
    assert ours.weight.dtype == np.float64
    np.testing.assert_array_equal(ours.weight.data, layer.weight.detach().numpy().astype(np.float64))


def test_state_dict_is_a_copy_and_load_state_dict_writes_in_place() -> None:
    model = Sequential(Linear(2, 2, seed=0))
    weight = model[0].weight
    state = model.state_dict()
    state["0.weight"][:] = 7.0
    assert not np.any(weight.data == 7.0)
    data, version = weight.data, weight.version
    model.load_state_dict(state)
    assert weight.data is data and weight.version > version
    np.testing.assert_array_equal(weight.data, np.full((2, 2), 7.0))
    state["0.weight"][:] = 8.0  # loading copied
    assert weight.data[0, 0] == 7.0


def test_tensors_and_lists_are_accepted_as_values() -> None:
    layer = Linear(2, 1, seed=0)
    layer.load_state_dict({"weight": Tensor([[1.0, 2.0]], requires_grad=True), "bias": [0.5]})
    assert layer(np.array([[1.0, 1.0]])).item() == 3.5


@pytest.mark.parametrize(
    "change, error, phrase",
    [
        (lambda s: s.pop("1.bias"), ValueError, "missing ['1.bias'], unexpected []"),
        (lambda s: s.update(extra=np.ones(1)), ValueError, "missing [], unexpected ['extra']"),
        (lambda s: s.update({"1.bias": np.ones(4)}), ValueError,
         "'1.bias' has shape (4,), but the model's has (3,)"),
        (lambda s: s.update({"1.bias": np.array([1.0, np.nan, 0.0])}), ValueError, "'1.bias' contains NaN"),
        (lambda s: s.update({"1.bias": np.array([1j, 0, 0])}), TypeError,
         "'1.bias' must be an array of real numbers"),
        (lambda s: s.update({"1.bias": np.array(["a", "b", "c"])}), TypeError, "got strings"),
        (lambda s: s.update({"1.bias": [[1.0], [1.0, 2.0]]}), ValueError, "rectangular"),
    ],
)
def test_load_state_dict_checks_everything_before_changing_anything(
    change: Any, error: type, phrase: str
) -> None:
    model = Sequential(Linear(2, 4, seed=0), Linear(4, 3, seed=1))
    before = model.state_dict()
    versions = [p.version for p in model.parameters()]
    state = {name: value + 1.0 for name, value in before.items()}  # every entry differs
    change(state)
    with pytest.raises(error) as raised:
        model.load_state_dict(state)
    assert str(raised.value).startswith("Sequential.load_state_dict: ") and phrase in str(raised.value)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert [p.version for p in model.parameters()] == versions


def test_an_integer_constant_refuses_float_values() -> None:
    class WithSteps(Module):
        def __init__(self) -> None:
            self.count = Tensor([3])

    with pytest.raises(TypeError, match="'count' has dtype float64; the model's int64 cannot hold it"):
        WithSteps().load_state_dict({"count": np.array([1.5])})


def test_linear_classifier_trains_through_model_parameters() -> None:
    model = LinearClassifier(2, 2, seed=0)
    optimizer = SGD(model.parameters(), lr=0.5)
    X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
    from tinygrad_edu.losses import softmax_cross_entropy

    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = softmax_cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
