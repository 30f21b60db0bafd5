"""Gradient utilities: ``clip_grad_norm_`` (and its two halves, ``get_total_norm`` and
``clip_grads_with_norm_``), ``clip_grad_value_``, and flattening parameters to one vector
and back; :mod:`.rnn` holds ``pad_sequence`` and packed sequences."""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from . import rnn

__all__ = ["rnn", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]


def _tensors(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list:
    return [p.grad for p in _tensors(parameters) if p.grad is not None]


def _vector_norm(array: np.ndarray, p: float) -> float:
    """The ``p``-norm of ``array`` seen as one vector, as ``linalg.vector_norm`` computes it:
    ``inf``/``-inf`` give the largest/smallest absolute value (nan if any is nan), ``0`` the
    number of non-zero elements."""
    if array.size == 0:
        if math.isinf(p):
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty "
                               "tensor because the operation does not have an identity")
        return 0.0
    if p == 2.0:
        flat = array.ravel()
        return math.sqrt(float(np.dot(flat, flat)))
    magnitude = np.abs(array)
    if p == math.inf:
        return float(np.max(magnitude))
    if p == -math.inf:
        return float(np.min(magnitude))
    if p == 0:
        return float(np.count_nonzero(magnitude))
    return float(np.sum(magnitude.astype(np.float64) ** p)) ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of the norms of ``tensors``: for p-norms with finite positive
    ``p`` (and for ``inf``), the norm of all their elements together, as if concatenated
    into one vector.

    Args:
        tensors: a tensor or an iterable of tensors (e.g. the ``.grad`` s of parameters).
        norm_type: the p of the p-norm; ``inf`` / ``-inf`` for the largest / smallest
            absolute value, ``0`` to count the non-zero norms.
        error_if_nonfinite: raise if the total norm is nan or inf.
        foreach: accepted for compatibility and ignored.

    Returns:
        The total norm, a 0-d tensor of the first tensor's dtype (float32 if there is none).
    """
    arrays = [t._data for t in _tensors(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    norms = np.array([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return Tensor._wrap(np.asarray(total, dtype=arrays[0].dtype))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, given their ``total_norm`` (as computed by
    :func:`get_total_norm`)."""
    total = float(total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    if coef < 1.0 or not math.isfinite(total):
        # A non-finite norm scales by 0 or nan, as in PyTorch, silently.
        with no_grad(), np.errstate(invalid="ignore"):
            for g in _grads(parameters):
                g.mul_(coef)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their total norm is at most
    ``max_norm``.

    The total norm is taken over all gradients together, as if concatenated into one vector
    (see :func:`get_total_norm`). Gradients are multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm; ``inf`` for the largest absolute value.
        error_if_nonfinite: raise if the total norm is nan or inf.
        foreach: accepted for compatibility and ignored.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).
    """
    parameters = _tensors(parameters)  # iterated twice: a generator must be listed first
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the parameters, flattened, into one 1-D tensor (differentiable)."""
    return ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters``, in place."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected a 1-D Tensor, but got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements but "
                           f"the parameters have {total}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(Tensor._wrap(vec._data[start:start + n].reshape(p.shape)))
            start += n
