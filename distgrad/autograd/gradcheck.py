"""``gradcheck`` / ``gradgradcheck``: compare autograd with central finite differences."""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_outputs(func, inputs):
    from .._tensor import Tensor

    return tuple(o for o in _as_tuple(func(*inputs))
                 if isinstance(o, Tensor) and o._data.dtype.kind == "f")


def _numerical_jacobian(func, inputs, target, output_index, output_numel, eps):
    """d output / d target, one central difference per element of ``target``.

    Grad mode stays as the caller set it, as in PyTorch: ``func`` may itself differentiate
    (a gradient penalty calls ``autograd.grad``)."""
    values = target._data
    flat_view = values.reshape(-1) if values.flags.c_contiguous else None
    if flat_view is None:
        raise ValueError("gradcheck needs contiguous inputs")
    columns = []
    for k in range(values.size):
        original = flat_view[k]
        flat_view[k] = original + eps
        plus = _differentiable_outputs(func, inputs)[output_index]._data.astype(np.float64)
        flat_view[k] = original - eps
        minus = _differentiable_outputs(func, inputs)[output_index]._data.astype(np.float64)
        flat_view[k] = original
        columns.append(((plus - minus) / (2 * eps)).reshape(-1))
    return np.stack(columns, axis=1) if columns else np.zeros((output_numel, 0))


def _analytical_jacobians(output, targets):
    """d output / d each target, one backward per output element."""
    from . import grad as autograd_grad

    rows = [[] for _ in targets]
    for j in range(output.numel()):
        seed = np.zeros(output.numel(), dtype=output._data.dtype)
        seed[j] = 1
        grads = autograd_grad(output, targets, grad_outputs=seed.reshape(output.shape),
                              retain_graph=True, allow_unused=True)
        for i, (g, t) in enumerate(zip(grads, targets)):
            rows[i].append(np.zeros(t.numel()) if g is None else g._data.reshape(-1))
    return [np.stack(r, axis=0) if r else np.zeros((0, t.numel())) for r, t in zip(rows, targets)]


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored) -> bool:
    """Check gradients computed by autograd against central finite differences.

    Every input that requires grad should be ``float64``: finite differences in float32 are
    too coarse to tell a wrong gradient from rounding.

    Args:
        func: a function of ``inputs`` returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors (and other arguments passed through).
        eps, atol, rtol: the perturbation and the tolerances (``|a - n| <= atol + rtol |n|``).
        raise_exception: raise a :class:`GradcheckError` naming the input, the output and the
            largest difference, instead of returning False.

    Returns:
        True if every Jacobian matches.
    """
    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    targets = [t for t in inputs if isinstance(t, Tensor) and t._requires_grad]
    if not targets:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for i, t in enumerate(targets):
        if t._data.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {t.dtype!r}; use float64 inputs "
                             "(finite differences in lower precision are not reliable)")
    outputs = _differentiable_outputs(func, inputs)
    for out_index, output in enumerate(outputs):
        if not output._requires_grad:
            continue
        analytical = _analytical_jacobians(output, targets)
        for in_index, target in enumerate(targets):
            numerical = _numerical_jacobian(func, inputs, target, out_index, output.numel(),
                                            eps)
            a = analytical[in_index]
            if a.shape != numerical.shape or not np.allclose(a, numerical, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                worst = np.max(np.abs(a - numerical)) if a.shape == numerical.shape else None
                raise GradcheckError(
                    f"Jacobian mismatch for output {out_index} with respect to input "
                    f"{in_index} (shape {list(target.shape)}): largest difference {worst}\n"
                    f"numerical:\n{numerical}\nanalytical:\n{a}")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product of ``func``.

    ``grad_outputs`` (random when omitted) are differentiated through as well.
    """
    from .._factories import default_generator
    from .._tensor import Tensor
    from . import grad as autograd_grad
    from .grad_mode import enable_grad

    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(
            Tensor._wrap(default_generator().standard_normal(o.shape)).requires_grad_()
            for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        with enable_grad():  # the first derivative needs its graph whatever the caller's mode
            outs = _differentiable_outputs(func, args[:n])
            wanted = [a for a in args[:n] if isinstance(a, Tensor) and a._requires_grad]
            grads = autograd_grad(outs, wanted, grad_outputs=args[n:], create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None and g._requires_grad)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
