"""Functional forms of the layers and losses (``distgrad.nn.functional``, usually ``F``).

The modules in ``distgrad.nn`` call these; each is also usable on its own with explicit
parameters, as in PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from .._tensor import Tensor
from ..ops import nn_fused
from ..ops.conv import avg_pool2d, conv2d, max_pool2d, pad
from ..ops.loss_ops import binary_cross_entropy_with_logits, cross_entropy, nll_loss
from ..ops.nn_fused import dropout, embedding
from ..ops.norm_ops import batch_norm, layer_norm

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "relu", "gelu", "tanh", "sigmoid",
           "softmax", "log_softmax", "dropout", "layer_norm", "batch_norm", "embedding",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten"]


def linear(input, weight, bias=None):
    """Apply ``input @ weight.T + bias``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``, or ``(in_features,)`` for an output of
            shape ``input.shape[:-1]`` (then without ``bias``, as in PyTorch).
        bias: ``(out_features,)`` or None.
    """
    if bias is None and np.ndim(_array(weight)) == 1:
        return ops.matmul(input, weight)
    return nn_fused.linear(input, weight, bias)


def gelu(input, approximate: str = "none"):
    """Gaussian Error Linear Unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh form."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu(): approximate argument must be either 'none' or 'tanh', got "
                           f"{approximate!r}")
    return nn_fused.gelu(input, approximate)


def relu(input, inplace: bool = False):
    """``max(input, 0)``; ``inplace`` is accepted for compatibility and computes out of place."""
    return ops.relu(input)


def tanh(input):
    return ops.tanh(input)


def sigmoid(input):
    return ops.sigmoid(input)


def _softmax_dim(input, dim, name):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, computed stably."""
    if dtype is not None:
        input = input.to(dtype)
    return ops.softmax(input, _softmax_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """``x - logsumexp(x, dim)``, computed stably."""
    if dtype is not None:
        input = input.to(dtype)
    return ops.log_softmax(input, _softmax_dim(input, dim, "log_softmax"))


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return ops.flatten(input, start_dim, end_dim)


# ------------------------------------------------------------------ regression losses


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' "
                         "or 'none'")


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _check_sizes(input, target, name):
    if np.shape(_array(target)) != input.shape:
        warnings.warn(f"{name}: using a target size ({list(np.shape(_array(target)))}) that is "
                      f"different to the input size ({list(input.shape)}). This will likely "
                      f"lead to incorrect results due to broadcasting. Please ensure they have "
                      f"the same size.", stacklevel=3)


def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error ``(input - target)^2``, reduced by ``reduction``."""
    _check_reduction(reduction)
    _check_sizes(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error ``|input - target|``, reduced by ``reduction``."""
    _check_reduction(reduction)
    _check_sizes(input, target, "l1_loss")
    return _reduce(ops.abs(input - target), reduction)


_TINY = 1e-45  # log(_TINY) < -100, and it is still a (denormal) float32


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1]; each log is clamped at -100
    as in PyTorch. Prefer :func:`binary_cross_entropy_with_logits`, which is stable."""
    _check_reduction(reduction)
    x = _array(input)
    if np.shape(_array(target)) != x.shape:
        raise ValueError(f"Using a target size ({list(np.shape(_array(target)))}) that is "
                         f"different to the input size ({list(x.shape)}) is deprecated. Please "
                         f"ensure they have the same size.")
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    # Each log is clamped at -100 as in PyTorch; clamping its argument away from 0 first keeps
    # the value and the gradient finite where the input is exactly 0 or 1.
    log_p = ops.clamp(ops.log(ops.clamp(input, min=_TINY)), min=-100)
    log_not_p = ops.clamp(ops.log(ops.clamp(1 - input, min=_TINY)), min=-100)
    losses = -(target * log_p + (1 - target) * log_not_p)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


# ------------------------------------------------------------------------- one_hot


def one_hot(tensor, num_classes: int = -1):
    """Encode int64 class indices as one-hot int64 rows of length ``num_classes``
    (inferred as ``max + 1`` when -1)."""
    indices = _array(tensor)
    if np.asarray(indices).dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor (int64).")
    indices = np.asarray(indices)
    if indices.size and indices.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    elif indices.size and indices.max() >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes: got "
                           f"{int(indices.max())} for num_classes={num_classes}.")
    out = (indices[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor._wrap(out)


def _array(x):
    return x._data if isinstance(x, Tensor) else x
