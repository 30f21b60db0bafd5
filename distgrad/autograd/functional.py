"""Higher-level derivatives of a whole function: ``jacobian``, ``hessian``, ``vjp``, ``jvp``,
``vhp`` and ``hvp``, with ``torch.autograd.functional``'s signatures and return structures.

``inputs`` is a tensor or a tuple of tensors, and so is what ``func`` returns; results keep
that shape (a tuple where PyTorch gives one). Everything is built on reverse mode
(``autograd.grad``): a Jacobian takes one backward pass per output element. ``jvp`` and
``hvp`` use the double-vjp construction, as PyTorch does; ``jacobian(strategy=
"forward-mode", vectorize=True)`` instead takes one forward-mode pass
(:func:`distgrad.func.jvp`) per input element. ``vectorize`` only selects that strategy's
availability: the passes run one after another either way.

Unless ``create_graph=True``, results are detached. With ``strict=True``, an output that does
not depend on an input raises instead of giving zeros.
"""

from __future__ import annotations

import numpy as np

from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _grad(*args, **kwargs):
    from . import grad  # (distgrad.autograd imports this module)
    return grad(*args, **kwargs)


def _tensor_cls():
    from .._tensor import Tensor  # (distgrad._tensor imports distgrad.autograd)
    return Tensor


def _ops():
    from .. import ops
    return ops


def _zeros_like(t):
    return _tensor_cls()._wrap(np.zeros(t.shape, dtype=t._data.dtype))


def _as_tuple(x, arg_name, fn_name):
    """``(tuple_of_tensors, was_tuple)``, checking every element is a tensor."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, _tensor_cls()):
            what = f"The {arg_name} given to {fn_name}" + (f" at position {i}" if is_tuple
                                                           else "")
            raise TypeError(f"{what} must be either a Tensor or a tuple of Tensors but the "
                            f"value{' at index ' + str(i) if is_tuple else ''} has type "
                            f"{type(t)}.")
    return items, is_tuple


def _prepare(inputs, create_graph):
    """Fresh tensors that require grad; under ``create_graph`` ones still linked to the
    caller's graph (so the results can be differentiated with respect to the originals)."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(_ops().view(t, t.shape))  # a new node, still on the caller's graph
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _finish(tensors, create_graph):
    if isinstance(tensors, tuple):
        return tuple(_finish(t, create_graph) for t in tensors)
    if tensors is None or create_graph:
        return tensors
    return tensors.detach()


def _unwrap(items, was_tuple):
    return items if was_tuple else items[0]


def _grads(outputs, inputs, grad_outputs, create_graph, strict, message=None,
           graph_message=None):
    """``autograd.grad`` that tolerates outputs without a graph; unused inputs give zeros,
    or raise under ``strict``. Under ``strict`` and ``create_graph`` a gradient that does not
    itself depend on the inputs raises too, as in PyTorch (``graph_message(i)``, when given)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        got = _grad([o for o, _ in pairs], inputs, grad_outputs=[g for _, g in pairs],
                    retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        got = (None,) * len(inputs)
    result = []
    for i, (g, x) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(message(i) if message else
                                   f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = _zeros_like(x)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(graph_message(i) if graph_message else _independent_message(i))
        result.append(g)
    return tuple(result)


def _independent_message(i, what="jacobian"):
    return (f"The {what} of the user-provided function is independent of input {i}. This is "
            f"not allowed in strict mode when create_graph=True.")


def _check_v(v, refs, name, fn_name):
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {name} is a single "
                               f"Tensor with a single element.")
        return (_tensor_cls()._wrap(np.ones(refs[0].shape, dtype=refs[0]._data.dtype)),)
    v, _ = _as_tuple(v, "v", fn_name)
    if len(v) != len(refs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got "
                           f"{len(v)}.")
    for i, (a, b) in enumerate(zip(v, refs)):
        if a.shape != b.shape:
            entry = f"Entry {i} in v" if len(v) > 1 else "v"
            raise RuntimeError(f"{entry} has invalid size: should be {list(b.shape)} but got "
                               f"{list(a.shape)}.")
    return v


def _call(func, inputs, fn_name):
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product at ``inputs``."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare(inputs, create_graph)
    outputs, out_tuple = _call(func, inputs, "vjp")
    v = _check_v(v, outputs, "user-provided function returns", "vjp")
    with enable_grad():
        grads = _grads(outputs, inputs, v, create_graph, strict)
    return (_finish(_unwrap(outputs, out_tuple), create_graph),
            _finish(_unwrap(grads, in_tuple), create_graph))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-vjp trick."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
    v = _check_v(v, inputs, "input to the user-provided function", "jvp")
    inputs = _prepare(inputs, create_graph)
    outputs, out_tuple = _call(func, inputs, "jvp")
    with enable_grad():
        # g(u) = Jᵀu is linear in u; the gradient of <g(u), v> with respect to u is J v.
        dummies = tuple(_zeros_like(o).requires_grad_(True) for o in outputs)
        transposed = _grads(outputs, inputs, dummies, True, strict)
        used = [(g, t) for g, t in zip(transposed, v) if g.requires_grad]
        if used:
            got = _grad([g for g, _ in used], dummies, grad_outputs=[t for _, t in used],
                        create_graph=create_graph, allow_unused=True)
        else:
            got = (None,) * len(outputs)
        result = []
        for i, (g, o) in enumerate(zip(got, outputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"The output of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in "
                                       f"strict mode.")
                g = _zeros_like(o)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(_independent_message(i))
            result.append(g)
    return (_finish(_unwrap(outputs, out_tuple), create_graph),
            _finish(_unwrap(tuple(result), out_tuple), create_graph))


def _jacobian_rows(output, inputs, create_graph, strict, index):
    """One block row: d output / d input_j for every j, each of shape out + in."""
    rows = [[] for _ in inputs]
    flat = int(np.prod(output.shape))
    for k in range(flat):
        seed = np.zeros(flat, dtype=output._data.dtype)
        seed[k] = 1.0
        seed = _tensor_cls()._wrap(seed.reshape(output.shape))
        grads = _grads((output,), inputs, (seed,), create_graph, strict, lambda j: (
            f"Output {index} of the user-provided function is independent of input {j}. "
            f"This is not allowed in strict mode."), lambda j: _independent_message(index))
        for j, g in enumerate(grads):
            rows[j].append(g)
    blocks = []
    for j, x in enumerate(inputs):
        if flat:
            block = _ops().reshape(_ops().stack(rows[j], 0), tuple(output.shape) + tuple(x.shape))
        else:
            block = _tensor_cls()._wrap(np.zeros(tuple(output.shape) + tuple(x.shape),
                                          dtype=x._data.dtype))
        blocks.append(block)
    return tuple(blocks)


def _jacobian_forward(func, inputs, outputs):
    """Forward mode: one ``func.jvp`` per input element gives one Jacobian column."""
    from .. import func as _func

    blocks = [[None] * len(inputs) for _ in outputs]
    for j, x in enumerate(inputs):
        size = int(np.prod(x.shape))
        columns = [[] for _ in outputs]
        for k in range(size):
            seed = np.zeros(size, dtype=x._data.dtype)
            seed[k] = 1.0
            basis = _tensor_cls()._wrap(seed.reshape(x.shape))
            tangents = tuple(basis if i == j else _zeros_like(t) for i, t in enumerate(inputs))
            _, out_t = _func.jvp(lambda *a: tuple(_as_tuple(func(*a), "outputs", "jacobian")
                                                  [0]), inputs, tangents)
            for i, t in enumerate(out_t):
                columns[i].append(t)
        for i, o in enumerate(outputs):
            shape = tuple(o.shape) + tuple(x.shape)
            if size:
                stacked = _ops().stack(columns[i], -1)
                blocks[i][j] = _ops().reshape(stacked, shape)
            else:
                blocks[i][j] = _tensor_cls()._wrap(np.zeros(shape, dtype=o._data.dtype))
    return tuple(tuple(row) for row in blocks)


_STRICT_FORWARD = ("torch.autograd.functional.jacobian: `strict=True` and "
                   '`strategy="forward-mode"` are not supported together (yet). Please either '
                   'set `strict=False` or `strategy="reverse-mode"`.')
_STRICT_VECTORIZE = ("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` "
                     "are not supported together. Please either set `strict=False` or "
                     "`vectorize=False`.")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for one output and one input a tensor of shape
    ``output.shape + input.shape``; a tuple (of tuples) where either is a tuple,
    ``result[i][j]`` being d output i / d input j."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has more outputs than inputs, '
                         '"forward-mode" tends to be more performant. Otherwise, prefer to '
                         'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      'and `strategy="forward-mode"` are not supported together'
                                      " (yet). Please either set `create_graph=False` or "
                                      '`strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(_STRICT_FORWARD)
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or "
                                      "forward-over-reverse Hessian is only implemented for "
                                      "`vectorize=True`.")
    inputs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepare(inputs, create_graph)
    outputs, out_tuple = _call(func, inputs, "jacobian")
    if vectorize and strict:
        raise RuntimeError(_STRICT_VECTORIZE)
    if strategy == "forward-mode":
        plain = tuple(x.detach() for x in inputs)
        blocks = _jacobian_forward(func, plain, outputs)
    else:
        with enable_grad():
            blocks = tuple(_jacobian_rows(o, inputs, create_graph, strict, i)
                           for i, o in enumerate(outputs))
    blocks = _finish(blocks, create_graph)
    if out_tuple and in_tuple:
        return blocks
    if out_tuple:
        return tuple(row[0] for row in blocks)
    return blocks[0] if in_tuple else blocks[0][0]


def _scalar_output(func, fn_name):
    def wrapped(*args):
        out = func(*args)
        items, is_tuple = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if is_tuple and len(items) != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single "
                               f"Tensor")
        if items[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} "
                               f"should contain a single element")
        return items[0].reshape(())
    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of scalar-valued ``func``: for one input a tensor of shape
    ``input.shape * 2``; for a tuple of inputs a tuple of tuples, ``result[i][j]`` being
    d² f / d input_i d input_j."""
    if outer_jacobian_strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")
    if strict and vectorize:  # PyTorch's outer jacobian refuses the pair
        raise RuntimeError(_STRICT_FORWARD if outer_jacobian_strategy == "forward-mode"
                           else _STRICT_VECTORIZE)
    inputs, in_tuple = _as_tuple(inputs, "inputs", "hessian")
    scalar = _scalar_output(func, "hessian")

    def gradient(*args):
        return jacobian(scalar, args, create_graph=True, strict=strict)

    # The outer Jacobian runs in reverse mode whatever the strategy asked (forward mode over
    # the inner backward pass would need forward rules for every backward op).
    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return result if in_tuple else result[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ H)`` for scalar-valued ``func``."""
    inputs, in_tuple = _as_tuple(inputs, "inputs", "vhp")
    v = _check_v(v, inputs, "input to the user-provided function", "vhp")
    inputs = _prepare(inputs, create_graph)
    scalar = _scalar_output(func, "vhp")
    with enable_grad():
        output = scalar(*inputs)
        grads = _grads((output,), inputs, (None,), True, False)
        used = [(g, t) for g, t in zip(grads, v) if g.requires_grad]
        if used:
            second = _grad([g for g, _ in used], inputs, grad_outputs=[t for _, t in used],
                           create_graph=create_graph, allow_unused=True)
        else:
            second = (None,) * len(inputs)
        result = []
        for i, (g, x) in enumerate(zip(second, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"The jacobian of the user-provided function with respect to input "
                        f"{i} is independent of the input. This is not allowed in strict "
                        f"mode. You should ensure that your function is twice differentiable "
                        f"and that the jacobian depends on the inputs.")
                g = _zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(_independent_message(i, "hessian"))
            result.append(g)
    return (_finish(output, create_graph),
            _finish(_unwrap(tuple(result), in_tuple), create_graph))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for scalar-valued ``func``; ``H`` is symmetric, so this is
    :func:`vhp`."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
