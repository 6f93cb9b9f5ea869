"""`tinygrad_edu.functional`: Jacobians, Hessians and their products with vectors, for a whole
function at a point, with the names, signatures and return conventions of
`torch.autograd.functional`.

    vjp(func, inputs, v=None, create_graph=False, strict=False)      -> (func_output, vᵀ·J)
    jvp(func, inputs, v=None, create_graph=False, strict=False)      -> (func_output, J·v)
    jacobian(func, inputs, create_graph=False, strict=False)         -> J
    hessian(func, inputs, create_graph=False, strict=False)          -> H
    vhp(func, inputs, v=None, create_graph=False, strict=False)      -> (func_output, vᵀ·H)
    hvp(func, inputs, v=None, create_graph=False, strict=False)      -> (func_output, H·v)

Conventions (PyTorch's):
* `inputs` is a Tensor or a tuple of Tensors, and `func(*inputs)` returns a Tensor or a tuple
  of Tensors. A result mirrors them: a single Tensor where a single Tensor was given, a tuple
  where a tuple was. `jacobian(...)[i][j]` has shape `outputs[i].shape + inputs[j].shape`;
  `hessian(...)[i][j]` has shape `inputs[i].shape + inputs[j].shape`.
* `func` sees fresh Tensors holding the inputs' values (a tensor it captured from outside is a
  constant to it). With `create_graph=False` everything returned is detached; with True the
  results are recorded and stay connected to the given inputs that require grad, so they can be
  differentiated again.
* An input no output depends on gets zeros (`strict=False`) or an error (`strict=True`, which
  also refuses outputs that do not require grad and, with create_graph, results that do not
  depend on the inputs).
* `v` defaults to ones only where it has a single element (the output of vjp, the input of
  jvp/vhp/hvp); otherwise it must be given, of the matching shapes (a Tensor or an array).

`jvp` and `hvp` use the double-backward trick, as PyTorch's do: the vector-Jacobian product is
linear in its cotangent u, so differentiating ⟨J(x)ᵀu, v⟩ with respect to u gives J·v. There
is no vmap: `vectorize=True` and the forward-mode strategies are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import validation
from .autograd import ZeroDerivative, grad
from .modes import enable_grad
from .ops import Stack, zeros_like
from .tensor import Tensor, _make
from .validation import named

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

Func = Callable[..., Any]
Tensors = tuple[Tensor, ...]


# --------------------------------------------------------------------------- public API


def vjp(func: Func, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), vᵀ·J): the vector-Jacobian product at `inputs`.

    v  one per output of func, of its shape; optional when func returns one one-element
       Tensor. The product has the inputs' shapes (a tuple when inputs is a tuple).
    """
    name = "vjp"
    _flags(name, create_graph=create_graph, strict=strict)
    with enable_grad():
        inputs_tuple, xs = _prepared_inputs(name, func, inputs, create_graph)
        outputs_tuple, outs = _outputs(name, func, xs, strict)
        vs = _vectors(name, v, outs, outputs_tuple, "output", create_graph)
        grads = _grads(outs, xs, vs, create_graph)
        result = _filled(name, grads, xs, strict, create_graph, "input")
    return _shaped(_post(outs, create_graph), outputs_tuple), _shaped(result, inputs_tuple)


def jvp(func: Func, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), J·v): the Jacobian-vector product at `inputs`, by double backward.

    v  one per input, of its shape; optional when the one input has one element. The product
       has the outputs' shapes (a tuple when func returns a tuple).
    """
    name = "jvp"
    _flags(name, create_graph=create_graph, strict=strict)
    with enable_grad():
        inputs_tuple, xs = _prepared_inputs(name, func, inputs, create_graph)
        vs = _vectors(name, v, xs, inputs_tuple, "input", create_graph)
        outputs_tuple, outs = _outputs(name, func, xs, strict)
        # vᵀ·(Jᵀu) is linear in u: its gradient with respect to u is J·v whatever u is.
        us = tuple(_make(np.zeros(o.shape, dtype=o.dtype), True) for o in outs)
        grad_inputs = _grads(outs, xs, us, create_graph=True)
        if strict:
            _refuse_constant(name, grad_inputs, "the gradient with respect to input {i} does "
                             "not depend on the outputs' cotangent (an output is independent "
                             "of that input)")
        grads = _grads(grad_inputs, us, vs, create_graph)
        result = _filled(name, grads, outs, strict, create_graph, "output")
    return _shaped(_post(outs, create_graph), outputs_tuple), _shaped(result, outputs_tuple)


def jacobian(func: Func, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at `inputs`, one backward pass per output element.

    A single Tensor when func has one input and one output, of shape out.shape + in.shape;
    J[j] (per input) or J[i] (per output) when one side is a tuple; J[i][j] when both are.
    Each block has its input's dtype. `vectorize` and `strategy` exist for PyTorch's
    signature; only their defaults are supported.
    """
    name = "jacobian"
    _flags(name, create_graph=create_graph, strict=strict, vectorize=vectorize)
    _reverse_mode_only(name, "strategy", strategy)
    with enable_grad():
        inputs_tuple, xs = _prepared_inputs(name, func, inputs, create_graph)
        outputs_tuple, outs = _outputs(name, func, xs, strict)
        blocks = _jacobian_blocks(name, outs, xs, create_graph, strict)
    return _nested(blocks, outputs_tuple, inputs_tuple)


def hessian(func: Func, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar func (a one-element Tensor) at `inputs`: the Jacobian of its
    gradient. H of shape in.shape + in.shape for a single input; H[i][j] of shape
    inputs[i].shape + inputs[j].shape for a tuple."""
    name = "hessian"
    _flags(name, create_graph=create_graph, strict=strict, vectorize=vectorize)
    _reverse_mode_only(name, "outer_jacobian_strategy", outer_jacobian_strategy)
    with enable_grad():
        inputs_tuple, xs = _prepared_inputs(name, func, inputs, create_graph)
        _, first = _scalar_gradient(name, func, xs, strict)
        gradient = _filled(name, first, xs, strict, True, "input")
        blocks = _jacobian_blocks(name, gradient, xs, create_graph, strict)
    return _nested(blocks, inputs_tuple, inputs_tuple)


def vhp(func: Func, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), vᵀ·H) for a scalar func: v has the inputs' shapes (optional when the
    one input has one element), and so has the product."""
    name = "vhp"
    _flags(name, create_graph=create_graph, strict=strict)
    with enable_grad():
        inputs_tuple, xs, vs, out, first = _second_order_setup(name, func, inputs, v,
                                                               create_graph, strict)
        grads = _grads(first, xs, vs, create_graph)
        result = _filled(name, grads, xs, strict, create_graph, "input")
    return _post((out,), create_graph)[0], _shaped(result, inputs_tuple)


def hvp(func: Func, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(*inputs), H·v) for a scalar func, by double backward: v has the inputs' shapes
    (optional when the one input has one element), and so has the product. Equal to vhp's
    where func is twice continuously differentiable (H is then symmetric)."""
    name = "hvp"
    _flags(name, create_graph=create_graph, strict=strict)
    with enable_grad():
        inputs_tuple, xs, vs, out, first = _second_order_setup(name, func, inputs, v,
                                                               create_graph, strict)
        us = tuple(_make(np.zeros(x.shape, dtype=x.dtype), True) for x in xs)
        double_back = _grads(first, xs, us, create_graph=True)  # Hᵀu, linear in u
        grads = _grads(double_back, us, vs, create_graph)
        result = _filled(name, grads, xs, strict, create_graph, "input")
    return _post((out,), create_graph)[0], _shaped(result, inputs_tuple)


# --------------------------------------------------------------------------- arguments


def _flags(func: str, **flags: Any) -> None:
    for flag, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{func}: {flag} must be True or False, got "
                            f"{type(value).__name__} {validation.shown(value)}")
    if flags.get("vectorize"):
        raise NotImplementedError(
            f"{func}: vectorize=True is not supported (tinygrad_edu has no vmap); leave it "
            "False: the rows are computed one backward pass each"
        )


def _reverse_mode_only(func: str, argument: str, value: Any) -> None:
    if value == "forward-mode":
        raise NotImplementedError(
            f"{func}: {argument}='forward-mode' is not supported (tinygrad_edu has reverse "
            "mode only); use the default 'reverse-mode'"
        )
    validation.one_of(func, argument, value, ("reverse-mode",))


def _as_tuple(func: str, what: str, value: Any) -> tuple[bool, Tensors]:
    """(whether value was a tuple, its Tensors as a tuple). A list counts as a tuple."""
    if isinstance(value, Tensor):
        return False, (value,)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{func}: {what} must be a Tensor or a tuple of Tensors, got "
                        f"{type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, Tensor):
            raise TypeError(f"{func}: {what} must be a Tensor or a tuple of Tensors, but item "
                            f"{i} is a {type(item).__name__}")
    return True, tuple(value)


def _prepared_inputs(func: str, fn: Func, inputs: Any, create_graph: bool) -> tuple[bool, Tensors]:
    """The Tensors func will see: fresh ones holding copies of the inputs' values, so that
    what func captured from outside is told apart from its arguments (also by the engine,
    which knows a saved array by its identity). Under create_graph an input that requires
    grad is passed through a recorded copy, so results reach it."""
    validation.callable_arg(func, "func", fn)
    is_tuple, given = _as_tuple(func, "inputs", inputs)
    if not given:
        raise ValueError(f"{func}: inputs is empty; there is nothing to differentiate with "
                         "respect to")
    prepared = []
    for i, x in enumerate(given):
        if x.dtype.kind != "f":
            raise TypeError(f"{func}: input {i}{named(x.name)} has dtype {x.dtype}; only "
                            "floating-point tensors can be differentiated")
        if create_graph and x.requires_grad:
            copy = x.reshape(x.shape)
            copy.name = x.name
            prepared.append(copy)
        else:
            prepared.append(_make(x.data.copy(), True, x.name))
    return is_tuple, tuple(prepared)


def _outputs(func: str, fn: Func, xs: Tensors, strict: bool) -> tuple[bool, Tensors]:
    is_tuple, outs = _as_tuple(func, "the output of func", fn(*xs))
    if not outs:
        raise ValueError(f"{func}: func returned an empty tuple; it must return a Tensor or a "
                         "tuple of Tensors")
    if strict:
        for i, out in enumerate(outs):
            if not out.requires_grad:
                raise ValueError(
                    f"{func}: output {i} of func does not require grad, so it does not depend on "
                    "the inputs; with strict=True every output must be computed from them"
                )
    return is_tuple, outs


def _scalar_output(func: str, fn: Func, xs: Tensors, strict: bool) -> Tensor:
    is_tuple, outs = _outputs(func, fn, xs, strict)
    if is_tuple:
        raise ValueError(f"{func}: func must return a single Tensor (of one element), got a "
                         f"tuple of {len(outs)}")
    if outs[0].size != 1:
        raise ValueError(f"{func}: func must return a Tensor of one element, got shape "
                         f"{outs[0].shape}")
    return outs[0]


def _vectors(func: str, v: Any, refs: Tensors, refs_tuple: bool, what: str,
             create_graph: bool) -> tuple[Any, ...]:
    """v as one Tensor per reference (an output for vjp, an input otherwise), of its shape:
    detached unless create_graph and v requires grad. Ones when v is None and allowed."""
    if v is None:
        if len(refs) != 1 or refs[0].size != 1:
            shapes = ", ".join(str(r.shape) for r in refs)
            raise ValueError(
                f"{func}: v can be left out only when there is one {what} with one element; "
                f"the {what}s have shape(s) {shapes}. Pass v, one per {what}, of its shape"
            )
        return (_make(np.ones(refs[0].shape, dtype=refs[0].dtype)),)
    items = list(v) if isinstance(v, (tuple, list)) else [v]
    if len(items) != len(refs):
        raise ValueError(f"{func}: v has {len(items)} entries for {len(refs)} {what}(s); give "
                         f"one per {what}")
    vectors = []
    for i, (item, ref) in enumerate(zip(items, refs)):
        at = f"v[{i}]" if refs_tuple or len(items) > 1 else "v"
        if isinstance(item, Tensor):
            data = item.data
            keep = create_graph and item.requires_grad
        else:
            data = validation.real_array(func, at, item)
            keep = False
        if data.dtype.kind not in "fiub":
            raise TypeError(f"{func}: {at} must hold real numbers, got dtype {data.dtype}")
        if data.shape != ref.shape:
            raise ValueError(f"{func}: {at} has shape {data.shape}, but {what} {i} has shape "
                             f"{ref.shape}")
        vectors.append(item if keep else _make(np.array(data, dtype=ref.dtype)))  # ours: a copy
    return tuple(vectors)


# --------------------------------------------------------------------------- derivatives


def _grads(outs: Sequence[Tensor | None], xs: Tensors, seeds: Sequence[Any],
           create_graph: bool) -> tuple[Tensor | None, ...]:
    """grad of the outputs that require grad (with their seeds), None for an input none of
    them reaches. The graph is kept: other products may walk it again."""
    kept = [(o, s) for o, s in zip(outs, seeds) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(xs)
    return grad([o for o, _ in kept], xs, [s for _, s in kept], retain_graph=True,
                create_graph=create_graph, allow_unused=True)


def _is_constant(g: Tensor) -> bool:
    """Whether a recorded gradient came out independent of everything (the engine marks a
    constant gradient with ZeroDerivative so that it differentiates to zeros)."""
    node = g.grad_fn
    return not g.requires_grad or (node is not None and node.fn is ZeroDerivative)


def _refuse_constant(func: str, grads: Sequence[Tensor | None], reason: str) -> None:
    """strict=True: refuse a None or constant entry of an intermediate gradient."""
    for i, g in enumerate(grads):
        if g is None or _is_constant(g):
            raise ValueError(f"{func}: {reason.format(i=i)}; this is not allowed with strict=True")


def _filled(func: str, grads: Sequence[Tensor | None], refs: Tensors, strict: bool,
            create_graph: bool, what: str) -> Tensors:
    """Zeros of refs[i]'s shape where grads[i] is None, or with strict, an error (as also for
    a result that does not depend on the inputs under create_graph). `what` names refs[i] in
    messages: "input" or "output"."""
    other = "outputs" if what == "input" else "inputs"
    return tuple(
        _result(func, g, ref, strict, create_graph,
                "{what} {i} has no path in the graph to the {other} (the result for it would "
                "be zeros)",
                "the result for {what} {i} does not depend on the inputs, so it cannot be "
                "differentiated further", what=what, i=i, other=other)
        for i, (g, ref) in enumerate(zip(grads, refs))
    )


def _result(func: str, g: Tensor | None, ref: Tensor, strict: bool, create_graph: bool,
            missing: str, constant: str, **where: Any) -> Tensor:
    """g, or zeros of ref's shape where g is None. With strict, refused: a None g (`missing`
    says why) and, under create_graph, a g that does not depend on the inputs (`constant`);
    both are templates, filled with `where` only for the error."""
    if g is None:
        if strict:
            raise ValueError(f"{func}: {missing.format(**where)}; this is not allowed with "
                             "strict=True")
        return zeros_like(ref)
    if strict and create_graph and _is_constant(g):
        raise ValueError(f"{func}: {constant.format(**where)}; this is not allowed with "
                         "strict=True and create_graph=True")
    return g


def _second_order_setup(func: str, fn: Func, inputs: Any, v: Any, create_graph: bool,
                        strict: bool) -> tuple[bool, Tensors, tuple[Any, ...], Tensor,
                                               tuple[Tensor | None, ...]]:
    """What vhp and hvp share: inputs, v, the scalar output and its recorded gradient."""
    inputs_tuple, xs = _prepared_inputs(func, fn, inputs, create_graph)
    vs = _vectors(func, v, xs, inputs_tuple, "input", create_graph)
    out, first = _scalar_gradient(func, fn, xs, strict)
    return inputs_tuple, xs, vs, out, first


def _scalar_gradient(func: str, fn: Func, xs: Tensors,
                     strict: bool) -> tuple[Tensor, tuple[Tensor | None, ...]]:
    """A scalar fn's output at xs and its gradient, recorded so that it can be differentiated
    again (hessian, vhp, hvp); with strict, a gradient independent of the inputs is refused."""
    out = _scalar_output(func, fn, xs, strict)
    first = _grads((out,), xs, (None,), create_graph=True)
    if strict:
        _refuse_constant(func, first, "the gradient with respect to input {i} does not depend "
                         "on the inputs (func is linear in it)")
    return out, first


def _jacobian_blocks(func: str, outs: Sequence[Tensor], xs: Tensors, create_graph: bool,
                     strict: bool) -> list[list[Tensor]]:
    """blocks[i][j]: d outs[i] / d xs[j], of shape outs[i].shape + xs[j].shape, one backward
    pass per element of outs[i] (its one-hot cotangent)."""
    blocks = []
    for i, out in enumerate(outs):
        rows: list[list[Tensor]] = [[] for _ in xs]
        if out.requires_grad:
            for k in range(out.size):
                seed = np.zeros(out.size, dtype=out.dtype)
                seed[k] = 1
                grads = _grads((out,), xs, (seed.reshape(out.shape),), create_graph)
                for j, g in enumerate(grads):
                    rows[j].append(_result(
                        func, g, xs[j], strict, create_graph,
                        "output {i} of func does not depend on input {j}",
                        "the Jacobian of output {i} with respect to input {j} does not depend "
                        "on the inputs", i=i, j=j))
        blocks.append([_stacked(row, out.shape + x.shape, x.dtype, create_graph)
                       for row, x in zip(rows, xs)])
    return blocks


def _stacked(rows: list[Tensor], shape: tuple[int, ...], dtype: np.dtype,
             create_graph: bool) -> Tensor:
    """The rows (one per output element) as one Tensor of `shape`: recorded under
    create_graph, a plain array otherwise."""
    if not rows:  # an empty output, or one that does not require grad
        return _make(np.zeros(shape, dtype=dtype))
    if create_graph and any(r.requires_grad for r in rows):
        return Stack.apply(*rows, axis=0).reshape(shape)
    return _make(np.stack([r.data for r in rows]).reshape(shape))


# --------------------------------------------------------------------------- results


def _post(tensors: Sequence[Tensor], create_graph: bool) -> Tensors:
    """Results as returned: detached unless create_graph."""
    return tuple(tensors) if create_graph else tuple(t.detach() for t in tensors)


def _shaped(results: Sequence[Tensor], as_tuple: bool) -> Any:
    return tuple(results) if as_tuple else results[0]


def _nested(blocks: list[list[Tensor]], outer_tuple: bool, inner_tuple: bool) -> Any:
    rows = [tuple(row) if inner_tuple else row[0] for row in blocks]
    return tuple(rows) if outer_tuple else rows[0]
