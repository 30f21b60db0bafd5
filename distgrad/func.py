"""Function transforms: ``vjp``, ``jvp`` and ``grad`` over functions of tensors.

``vjp`` and ``grad`` are reverse accumulation: one backward pass gives the gradient of one
output with respect to every input. ``jvp`` is forward accumulation
(``autograd.forward_ad``): one forward pass carries tangents alongside values and gives
``J t``, the derivative of every output along one input direction.

An op without a forward-mode rule (some fused ``nn`` kernels) makes ``jvp`` fall back to the
double-vjp construction: ``g(u) = Jᵀu`` is linear in ``u``, so differentiating ``⟨g(u), t⟩``
with respect to ``u`` gives ``J t`` with reverse mode alone.
"""

from __future__ import annotations

from . import autograd
from ._factories import zeros_like
from ._tensor import Tensor
from .autograd import forward_ad

__all__ = ["vjp", "jvp", "grad"]


def _prepare(primals):
    prepared = tuple(p if p._requires_grad else p.detach().requires_grad_() for p in primals)
    keep_graph = any(p._requires_grad for p in primals)
    return prepared, keep_graph


def _outputs_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def vjp(func, *primals, has_aux: bool = False):
    """Return ``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` gives one grad per primal.

    Example::

        >>> out, vjp_fn = distgrad.func.vjp(torch.sin, x)
        >>> (grad_x,) = vjp_fn(torch.ones_like(out))
    """
    inputs, keep_graph = _prepare(primals)
    with autograd.enable_grad():
        result = func(*inputs)
    output, aux = result if has_aux else (result, None)

    def vjp_fn(*cotangents):
        outs = _outputs_tuple(output)
        cots = cotangents[0] if len(cotangents) == 1 and isinstance(cotangents[0], tuple) \
            else cotangents
        grads = autograd.grad(outs, inputs, grad_outputs=cots, retain_graph=True,
                              create_graph=keep_graph, materialize_grads=True)
        return tuple(g if keep_graph else g.detach() for g in grads)

    shown = output if keep_graph else _detach_all(output)
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(func, primals, tangents, *, has_aux: bool = False):
    """Return ``(func(*primals), J @ tangents)``: the Jacobian-vector product, by forward mode.

    Args:
        func: a function of tensors returning a tensor or a tuple of tensors.
        primals: a tuple of input tensors.
        tangents: a tuple of tensors of the same shapes, the direction to differentiate in.

    Example::

        >>> out, tangent_out = distgrad.func.jvp(torch.sin, (x,), (torch.ones_like(x),))
        >>> # tangent_out == cos(x)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: expected as many tangents ({len(tangents)}) as primals "
                           f"({len(primals)})")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if p.shape != t.shape:
            raise RuntimeError(f"jvp: tangent {i} has shape {list(t.shape)} but primal {i} has "
                               f"shape {list(p.shape)}; they must match")
    if any(p._requires_grad for p in primals):
        # Nested under another transform: the result must stay differentiable, which the
        # reverse-mode construction gives.
        return _jvp_by_double_vjp(func, primals, tangents, has_aux)
    try:
        return _jvp_forward_mode(func, primals, tangents, has_aux)
    except forward_ad.ForwardADNotImplemented:
        return _jvp_by_double_vjp(func, primals, tangents, has_aux)


def _jvp_forward_mode(func, primals, tangents, has_aux):
    with forward_ad.dual_level():
        duals = tuple(forward_ad.make_dual(p, t) for p, t in zip(primals, tangents))
        result = func(*duals)
        output, aux = result if has_aux else (result, None)
        outs = _outputs_tuple(output)
        pairs = [forward_ad.unpack_dual(o) for o in outs]
        values = tuple(p.primal for p in pairs)
        directional = tuple(p.tangent if p.tangent is not None else zeros_like(o)
                            for p, o in zip(pairs, outs))
    if isinstance(output, tuple):
        return (values, directional, aux) if has_aux else (values, directional)
    return (values[0], directional[0], aux) if has_aux else (values[0], directional[0])


def _jvp_by_double_vjp(func, primals, tangents, has_aux):
    inputs, keep_graph = _prepare(primals)
    with autograd.enable_grad():
        result = func(*inputs)
        output, aux = result if has_aux else (result, None)
        outs = _outputs_tuple(output)
        dummies = tuple(zeros_like(o).requires_grad_() for o in outs)
        transposed = autograd.grad(outs, inputs, grad_outputs=dummies, create_graph=True,
                                   materialize_grads=True)
        used = [(g, t) for g, t in zip(transposed, tangents) if g._requires_grad]
        if used:
            directional = autograd.grad([g for g, _ in used], dummies,
                                        grad_outputs=[t for _, t in used],
                                        create_graph=keep_graph, materialize_grads=True)
        else:
            directional = tuple(zeros_like(o) for o in outs)
    if not keep_graph:
        output, directional = _detach_all(output), tuple(d.detach() for d in directional)
    tangent_out = directional if isinstance(output, tuple) else directional[0]
    return (output, tangent_out, aux) if has_aux else (output, tangent_out)


def grad(func, argnums=0, has_aux: bool = False):
    """Return a function computing the gradient of scalar-valued ``func`` w.r.t. ``argnums``.

    Transforms nest: ``grad(grad(f))(x)`` is the second derivative.

    Example::

        >>> d_sin = distgrad.func.grad(distgrad.sin)
        >>> d_sin(x)  # cos(x) for a 0-d x
    """
    def grad_fn(*args):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        chosen = [args[i] for i in nums]
        inputs, keep_graph = _prepare(chosen)
        call_args = list(args)
        for i, t in zip(nums, inputs):
            call_args[i] = t
        with autograd.enable_grad():
            result = func(*call_args)
            output, aux = result if has_aux else (result, None)
            if not isinstance(output, Tensor) or output.numel() != 1:
                raise RuntimeError("grad: func must return a one-element tensor; for other "
                                   "outputs use vjp")
            grads = autograd.grad(output, inputs, create_graph=keep_graph,
                                  materialize_grads=True)
        if not keep_graph:
            grads = tuple(g.detach() for g in grads)
        grads = grads[0] if isinstance(argnums, int) else grads
        return (grads, aux) if has_aux else grads
    return grad_fn


def _detach_all(output):
    if isinstance(output, tuple):
        return tuple(o.detach() for o in output)
    return output.detach()
