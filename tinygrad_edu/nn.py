"""Models: `Module` (the base: parameters, state dicts), the layers `Linear`, `ReLU`, `Tanh`,
`Sigmoid`, their container `Sequential`, and the lecture's `LinearClassifier`.

A model is a `Module` subclass with a `forward`; its parameters are found, not registered:

    class TwoLayer(Module):
        def __init__(self):
            self.hidden = Linear(64, 100, seed=0)
            self.out = Linear(100, 10, seed=1)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

    model = TwoLayer()
    [name for name, _ in model.named_parameters()]
    # ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']

Layouts and names follow PyTorch (`Linear.weight` is (out_features, in_features), a
Sequential's layers are named 0, 1, ...), so a state dict maps one-to-one onto the same
PyTorch model's: `model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict()
.items()})` gives identical outputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from . import validation
from .modes import no_grad
from .tensor import Context, Function, Tensor

__all__ = [
    "Module", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "LinearClassifier", "LinearFunction",
]


class Module:
    """Base class of models and layers. Subclasses define `forward(...)`; calling the module
    calls it. No `super().__init__()` is needed: nothing is registered.

    Where parameters are found: in the module's attributes, searched recursively through
    sub-modules, lists, tuples and dicts, in attribute order. Every leaf Tensor found is part
    of the state (`state_dict`); those that require grad are the parameters. Each tensor is
    listed once, under the first name it is found by (tied weights count once). Attributes
    whose names begin with "_" are not searched: keep caches and data there. A tensor made by
    an op (`self.w = Tensor(w0, requires_grad=True) * 0.01`) is refused with an error, as it
    could never be trained: make parameters leaves.

    Names are dotted paths: "hidden.weight", "layers.0.bias", "blocks.key.weight".
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: define forward(self, ...) to call it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of what the search for parameters enters; containers override this."""
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield name, value

    def named_tensors(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) of every leaf tensor found, parameters and constants alike."""
        found: list[tuple[str, Tensor]] = []
        _search(self, "", set(), found)
        return found

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) of each parameter: the tensors found that require grad."""
        return [(name, t) for name, t in self.named_tensors() if t.requires_grad]

    def parameters(self) -> list[Tensor]:
        """The parameters, each once, in a fixed order: give them to an optimizer."""
        return [t for _, t in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to None."""
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """{name: a copy of the tensor's array}, for every tensor found (see the class doc).
        Copies, so later training does not change a saved state."""
        return {name: t.data.copy() for name, t in self.named_tensors()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy `state`'s arrays into the tensors of the same names, in place (versions are
        bumped, so a graph built before refuses to backward).

        Checked before anything changes: the names must be exactly this module's (missing and
        unexpected ones are listed), each value a real-number array (or Tensor) of the
        tensor's shape, finite, and convertible to its dtype by numpy's same-kind rule (float64
        into float32 is; float into an integer tensor is not). Values are converted to the
        tensor's dtype, as PyTorch's `load_state_dict` does.
        """
        func = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{func}: state must be a dict of arrays, got {type(state).__name__}")
        tensors = dict(self.named_tensors())
        missing = [name for name in tensors if name not in state]
        unexpected = [str(name) for name in state if name not in tensors]
        if missing or unexpected:
            raise ValueError(
                f"{func}: the names do not match the model's; missing {missing}, "
                f"unexpected {unexpected} (the model has {list(tensors)})"
            )
        values = [
            (tensors[name], _checked_value(func, name, tensors[name], state[name]))
            for name in tensors
        ]
        with no_grad():
            for t, value in values:
                t.copy_(value)

    def extra_repr(self) -> str:
        """The settings shown between the parentheses of repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        children = [(name, value) for name, value in self._members() if isinstance(value, Module)]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _search(value: Any, path: str, seen: set[int], found: list[tuple[str, Tensor]]) -> None:
    """Depth-first search for tensors; `seen` holds the ids already visited (identity, not ==,
    so each tensor, module and container is entered once, and cycles end)."""
    if isinstance(value, Tensor):
        if id(value) in seen:
            return
        if not value.is_leaf:
            maker = getattr(value.grad_fn, "name", "an op")
            raise TypeError(
                f"Module: the attribute {path!r} is a tensor made by {maker}, not a "
                "leaf, so it cannot be a parameter (its gradient would never reach a tensor "
                "that an optimizer updates). Create parameters directly, e.g. "
                "Tensor(0.01 * w, requires_grad=True), or name the attribute with a leading _."
            )
        seen.add(id(value))
        found.append((path, value))
        return
    if id(value) in seen:
        return
    if isinstance(value, Module):
        members: Any = value._members()
    elif isinstance(value, (list, tuple)):
        members = ((str(i), item) for i, item in enumerate(value))
    elif isinstance(value, dict):
        members = ((str(key), item) for key, item in value.items())
    else:
        return
    seen.add(id(value))
    for name, member in members:
        _search(member, f"{path}.{name}" if path else name, seen, found)


def _checked_value(func: str, name: str, t: Tensor, value: Any) -> np.ndarray:
    """A state value for tensor `t`, checked and converted to t's dtype (a new array)."""
    what = f"{name!r}"
    array = value.data if isinstance(value, Tensor) else validation.real_array(func, what, value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{func}: {what} must be an array of real numbers, got {array.dtype}")
    if array.shape != t.shape:
        raise ValueError(f"{func}: {what} has shape {array.shape}, but the model's has {t.shape}")
    if not np.can_cast(array.dtype, t.dtype, "same_kind"):
        raise TypeError(f"{func}: {what} has dtype {array.dtype}; the model's {t.dtype} cannot hold it")
    validation.finite_array(func, what, array, consequence="nothing was changed")
    return np.array(array, dtype=t.dtype)


# ----------------------------------------------------------------------------- layers


def _size_of(parameter: str, axis: int) -> Any:
    """A property: a layer's size read off its parameter's shape (`parameter`.shape[axis]), so
    the two can never disagree."""
    return property(lambda module: getattr(module, parameter).shape[axis])


class Linear(Module):
    """y = x @ weight.T + bias, as torch.nn.Linear.

    Linear(in_features, out_features, bias=True, seed=None, dtype=np.float64)

    weight  (out_features, in_features) Tensor named "weight"
    bias    (out_features,) Tensor named "bias", or None with bias=False
    seed    None, an int >= 0, or a np.random.Generator (shared by several layers)

    Both are drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default
    (kaiming_uniform_ with a = sqrt(5) for the weight, the same bound for the bias).

    Input x: (..., in_features), a Tensor of the layer's dtype or an array (converted to it);
    output (..., out_features). The product and the bias are one fused op ("LinearFunction" in a drawn
    graph): one node instead of three, with the backward written as for any op:
    dx = g @ weight, dweight = gᵀ x (summed over the leading axes), dbias = g summed likewise.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        seed: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        in_features = validation.integer("Linear", "in_features", in_features, minimum=1)
        out_features = validation.integer("Linear", "out_features", out_features, minimum=1)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {validation.shown(bias)}")
        dtype = validation.float_dtype("Linear", "dtype", dtype)
        rng = _rng("Linear", seed)
        bound = 1 / math.sqrt(in_features)
        self.weight = Tensor(
            rng.uniform(-bound, bound, (out_features, in_features)),
            requires_grad=True, name="weight", dtype=dtype,
        )
        self.bias: Tensor | None = (
            Tensor(rng.uniform(-bound, bound, out_features), requires_grad=True, name="bias",
                   dtype=dtype)
            if bias else None
        )

    in_features: int = _size_of("weight", 1)
    out_features: int = _size_of("weight", 0)

    def forward(self, x: Any) -> Tensor:
        """(..., in_features) -> (..., out_features) Tensor."""
        x = _model_input(type(self).__name__, x, self.in_features, self.weight.dtype, "(..., {n})")
        if self.bias is None:
            return LinearFunction.apply(x, self.weight)
        return LinearFunction.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{dtype}"
        )


class LinearFunction(Function):
    """The fused op behind `Linear`: x @ weight.T (+ bias). Its backward uses only operations
    numpy arrays and Tensors share, so it can be differentiated again."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None
    ) -> np.ndarray:
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        out_features, in_features = weight.shape
        rows = grad.reshape(-1, out_features)  # leading axes flattened: one row per example
        dx = grad @ weight if needs[0] else None
        dweight = rows.T @ x.reshape(-1, in_features) if needs[1] else None
        if len(needs) == 2:
            return dx, dweight
        return dx, dweight, rows.sum(axis=0) if needs[2] else None


class Sequential(Module):
    """The modules applied in order: Sequential(Linear(64, 100), ReLU(), Linear(100, 10)).

    Its layers are named "0", "1", ... (their parameters "0.weight", "2.bias", as PyTorch's).
    len(), iteration and indexing give the layers (a slice gives a Sequential).
    """

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: layer {i} must be a Module, got {type(module).__name__}"
                )
        self._layers = list(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from ((str(i), module) for i, module in enumerate(self._layers))

    def forward(self, x: Any) -> Any:
        for module in self._layers:
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self._layers[index])
        return self._layers[index]


class _Activation(Module):
    """A layer with no parameters that calls one Tensor method on its input."""

    method = ""

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{type(self).__name__}: input must be a Tensor, got {type(x).__name__} "
                "(wrap arrays with tinygrad_edu.Tensor)"
            )
        result: Tensor = getattr(x, self.method)()
        return result


class ReLU(_Activation):
    """max(x, 0) elementwise, through `x.relu()` (its derivative at 0 is 0, as PyTorch's)."""

    method = "relu"


class Tanh(_Activation):
    """tanh(x) elementwise, through `x.tanh()`."""

    method = "tanh"


class Sigmoid(_Activation):
    """1 / (1 + exp(-x)) elementwise, through `x.sigmoid()`."""

    method = "sigmoid"


# ----------------------------------------------------------------------------- the lecture's model


class LinearClassifier(Module):
    """A linear classifier: class scores = X @ W + b.

    LinearClassifier(in_features, num_classes, seed=None, dtype=np.float64, init_scale=1e-3)

    W  (in_features, num_classes) Tensor named "W", drawn as init_scale * N(0, 1) from
       np.random.default_rng(seed), so a seed gives the same model every time
    b  (num_classes,) Tensor named "b", zeros

    The lecture's layout (W is (in, out), unlike Linear's (out, in)); a Module, so it has
    parameters() ([W, b]), state_dict() ({"W", "b"}) and the rest.

    Calling the model on X of shape (N, in_features) (or (in_features,) for one example)
    returns the (N, num_classes) scores as a Tensor in the graph. X may be a Tensor (its dtype
    must be the model's: a float64 X would silently turn a float32 model's step into float64)
    or an array (converted to the model's dtype, and used as a constant without a copy).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        seed: int | None = None,
        dtype: Any = np.float64,
        init_scale: float = 1e-3,
    ) -> None:
        func = "LinearClassifier"
        in_features = validation.integer(func, "in_features", in_features, minimum=1)
        num_classes = validation.integer(func, "num_classes", num_classes, minimum=1)
        dtype = validation.float_dtype(func, "dtype", dtype)
        init_scale = validation.positive_float(func, "init_scale", init_scale, allow_zero=True)
        weights = init_scale * _rng(func, seed).standard_normal((in_features, num_classes))
        self.W = Tensor(weights, requires_grad=True, name="W", dtype=dtype)
        self.b = Tensor(np.zeros(num_classes, dtype=dtype), requires_grad=True, name="b")

    in_features: int = _size_of("W", 0)
    num_classes: int = _size_of("W", 1)

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    def forward(self, X: Any) -> Tensor:
        """Class scores: (N, in_features) -> (N, num_classes) Tensor."""
        X = _model_input("LinearClassifier", X, self.in_features, self.dtype, "(N, {n})", ndims=(1, 2))
        return X @ self.W + self.b

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row of X: an (N,) integer array (no graph is built)."""
        with no_grad():
            return np.argmax(self(X).data, axis=-1)

    def __repr__(self) -> str:
        return (
            f"LinearClassifier(in_features={self.in_features}, "
            f"num_classes={self.num_classes}, dtype={self.dtype})"
        )


def _rng(func: str, seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        seed = validation.integer(func, "seed", seed, minimum=0)
    return np.random.default_rng(seed)


def _model_input(
    func: str, X: Any, in_features: int, dtype: np.dtype, expected: str,
    ndims: tuple[int, ...] | None = None,
) -> Any:
    """X checked for a model whose inputs have `in_features` columns: a Tensor of `dtype`
    as it is, anything else as an array of `dtype` (no copy when it already is one)."""
    if isinstance(X, Tensor):
        if X.dtype != dtype:
            raise TypeError(
                f"{func}: input dtype {X.dtype} does not match the model's "
                f"{dtype}; convert it, e.g. Tensor(X, dtype=np.{dtype})"
            )
        data = X.data
    else:
        try:
            X = data = np.asarray(X, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{func}: input must be numbers, got {type(X).__name__}: {error}"
            ) from error
    if (ndims is not None and data.ndim not in ndims) or data.ndim == 0 or data.shape[-1] != in_features:
        raise ValueError(
            f"{func}: expected input of shape {expected.format(n=in_features)} "
            f"(in_features={in_features}), got shape {data.shape}"
        )
    return X
