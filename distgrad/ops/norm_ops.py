"""Normalisation kernels: ``layer_norm``, ``batch_norm`` and ``group_norm`` as one fused op
each, and the ``softmax`` / ``log_softmax`` entry points (their kernels are in ``nn_ops``).

All three compute ``(x - mean) / sqrt(var + eps) * weight + bias`` with the statistics taken over
``axes`` (biased variance). The VJP recomputes the statistics from ``x`` with ``xp`` instead
of saving them, so under ``create_graph=True`` they are differentiated as well.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from . import nn_ops
from ._nn_common import array_of, shape_str
from ._registry import apply, defop
from .reduce import normalize_dims

__all__ = ["layer_norm", "batch_norm", "group_norm", "softmax", "log_softmax"]


def _norm_forward(x, w=None, b=None, *, axes, eps, affine_shape):
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    out = centered
    out *= 1.0 / np.sqrt(var + eps)
    if w is not None:
        out *= w.reshape(affine_shape)
    if b is not None:
        out += b.reshape(affine_shape)
    return out


def _norm_grad(xp, g, out, needs, x, w=None, b=None, *, axes, eps, affine_shape):
    count = math.prod(x.shape[a] for a in axes)
    mean = xp.sum(x, axis=axes, keepdims=True) / count
    centered = x - mean
    rstd = 1.0 / xp.sqrt(xp.sum(centered * centered, axis=axes, keepdims=True) / count + eps)
    x_hat = centered * rstd
    param_axes = tuple(i for i, n in enumerate(affine_shape) if n == 1)
    grads = [None, None, None]
    if needs[0]:
        g_hat = g * xp.reshape(w, affine_shape) if w is not None else g
        mean_g = xp.sum(g_hat, axis=axes, keepdims=True) / count
        mean_gx = xp.sum(g_hat * x_hat, axis=axes, keepdims=True) / count
        grads[0] = rstd * (g_hat - mean_g - x_hat * mean_gx)
    if len(needs) > 1 and needs[1]:
        grads[1] = xp.reshape(xp.sum(g * x_hat, axis=param_axes), w.shape)
    if len(needs) > 2 and needs[2]:
        grads[2] = xp.reshape(xp.sum(g, axis=param_axes), b.shape)
    return grads[:len(needs)]


LAYER_NORM = defop("NativeLayerNormBackward0", _norm_forward, _norm_grad)
BATCH_NORM = defop("NativeBatchNormBackward0", _norm_forward, _norm_grad)


def _affine_inputs(weight, bias):
    if bias is not None:
        return (weight, bias)
    return (weight,) if weight is not None else ()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if input.shape[input.ndim - k:] != normalized_shape or input.ndim < k:
        raise RuntimeError(f"layer_norm(): expected input with shape [*, "
                           f"{', '.join(map(str, normalized_shape))}], but got input of size "
                           f"{shape_str(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(np.shape(array_of(t))) != normalized_shape:
            raise RuntimeError(f"layer_norm(): {name} must have shape "
                               f"{shape_str(normalized_shape)}, got "
                               f"{shape_str(np.shape(array_of(t)))}")
    if weight is None and bias is not None:
        weight = Tensor._wrap(np.ones(normalized_shape, dtype=array_of(bias).dtype))
    axes = tuple(range(input.ndim - k, input.ndim))
    affine_shape = (1,) * (input.ndim - k) + normalized_shape
    return apply(LAYER_NORM, input, *_affine_inputs(weight, bias), axes=axes, eps=eps,
                 affine_shape=affine_shape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    In ``training`` mode the batch statistics normalise the input (biased variance), and
    ``running_mean`` / ``running_var`` (tensors, or None) are updated in place with
    ``momentum`` (the unbiased variance goes into ``running_var``), as in PyTorch. Otherwise
    the running statistics are used.
    """
    if input.ndim not in (2, 3, 4):
        raise RuntimeError(f"batch_norm(): expected 2-D, 3-D or 4-D input (N, C, ...), got "
                           f"shape {shape_str(input.shape)}")
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(np.shape(array_of(t))) != (channels,):
            raise RuntimeError(f"batch_norm(): {name} must have shape [{channels}] for input "
                               f"{shape_str(input.shape)}, got {shape_str(np.shape(array_of(t)))}")
    axes = (0,) + tuple(range(2, input.ndim))
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    x = input._data
    if training:
        count = x.size // channels
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {shape_str(input.shape)}")
        if running_mean is not None:
            mean = x.mean(axis=axes)
            _blend(running_mean, mean, momentum)
        if running_var is not None:
            var = x.var(axis=axes) * (count / (count - 1))
            _blend(running_var, var, momentum)
        if weight is None and bias is not None:
            weight = Tensor._wrap(np.ones(channels, dtype=x.dtype))
        return apply(BATCH_NORM, input, *_affine_inputs(weight, bias), axes=axes, eps=eps,
                     affine_shape=affine_shape)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var are needed when not "
                           "training")
    scale = 1.0 / np.sqrt(array_of(running_var) + eps)
    shift = -array_of(running_mean) * scale
    out = input * scale.astype(x.dtype).reshape(affine_shape) + \
        shift.astype(x.dtype).reshape(affine_shape)
    if weight is not None:
        out = out * weight.reshape(affine_shape)
    if bias is not None:
        out = out + bias.reshape(affine_shape)
    return out


def _blend(running, batch_value, momentum):
    """``running = (1 - momentum) * running + momentum * batch_value``, in place."""
    data = array_of(running)
    data *= 1.0 - momentum
    data += momentum * batch_value.astype(data.dtype, copy=False)
    if isinstance(running, Tensor):
        running._bump_version()


# Group norm is the same kernel on the input viewed as ``(N, G, C / G, rest)``: statistics
# over the last two axes, and the per-channel weight viewed as ``(1, G, C / G, 1)``.
def _grouped(shape, groups) -> tuple:
    return (shape[0], groups, shape[1] // groups, math.prod(shape[2:]))


def _group_norm_forward(x, w=None, b=None, *, groups, eps):
    grouped = _grouped(x.shape, groups)
    out = _norm_forward(x.reshape(grouped), w, b, axes=(2, 3), eps=eps,
                        affine_shape=(1,) + grouped[1:3] + (1,))
    return out.reshape(x.shape)


def _group_norm_grad(xp, g, out, needs, x, w=None, b=None, *, groups, eps):
    grouped = _grouped(x.shape, groups)
    grads = _norm_grad(xp, xp.reshape(g, grouped), None, needs, xp.reshape(x, grouped), w, b,
                       axes=(2, 3), eps=eps, affine_shape=(1,) + grouped[1:3] + (1,))
    if grads[0] is not None:
        grads[0] = xp.reshape(grads[0], tuple(x.shape))
    return grads


GROUP_NORM = defop("NativeGroupNormBackward0", _group_norm_forward, _group_norm_grad)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of ``(N, C, *)`` input: the channels are split into
    ``num_groups`` groups, each sample's group is normalised by its own mean and (biased)
    variance, then each channel is scaled by ``weight`` and shifted by ``bias`` (``(C,)``,
    or None)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    shape = tuple(input.shape)
    channels = shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {shape_str(shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(np.shape(array_of(t))) != (channels,):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{shape_str(np.shape(array_of(t)))} and input of shape "
                               f"{shape_str(shape)}")
    batch = [shape[0] * channels // num_groups, num_groups, *shape[2:]]
    if batch[0] * math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {shape_str(batch)}")
    if weight is None and bias is not None:
        weight = Tensor._wrap(np.ones(channels, dtype=array_of(bias).dtype))
    return apply(GROUP_NORM, input, *_affine_inputs(weight, bias), groups=num_groups, eps=eps)


def _softmax_input(input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
        if input._data.dtype.kind != "f":
            raise RuntimeError(f"softmax/log_softmax: dtype must be floating point, got "
                               f"{input.dtype!r}; pass dtype=distgrad.float32 or float64")
    axis = normalize_dims(dim, input.ndim)[0]
    return input, (axis if input.ndim else ())  # a 0-d tensor has no axis to normalise over


def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, shifted by the max for stability. ``dtype`` converts
    the input first."""
    input, axis = _softmax_input(input, dim, dtype)
    return apply(nn_ops.SOFTMAX, input, dim=axis)


def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x, dim)``, computed stably; ``dtype`` converts the input first."""
    input, axis = _softmax_input(input, dim, dtype)
    return apply(nn_ops.LOG_SOFTMAX, input, dim=axis)
