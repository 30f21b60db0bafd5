"""Functional forms of the layers and losses (``distgrad.nn.functional``, usually ``F``).

The modules in ``distgrad.nn`` call these; each is also usable on its own with explicit
parameters, as in PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ..ops import loss_ops, nn_fused
from ..ops._registry import apply, defop
from ..ops.conv import conv2d
from ..ops.loss_ops import cross_entropy, nll_loss
from ..ops.nn_fused import dropout
from ..ops.norm_ops import batch_norm, layer_norm
from ..ops.padding import pad
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu", "gelu",
           "tanh", "sigmoid", "softmax", "log_softmax", "dropout", "layer_norm", "batch_norm",
           "embedding", "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten"]


def linear(input, weight, bias=None):
    """Apply ``input @ weight.T + bias``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``, or ``(in_features,)`` for an output of
            shape ``input.shape[:-1]`` (then without ``bias``, as in PyTorch).
        bias: ``(out_features,)``, any shape that broadcasts against the output (such as
            ``(1,)`` or ``()``), or None.
    """
    if bias is None and np.ndim(_array(weight)) == 1:
        return ops.matmul(input, weight)
    if bias is not None and np.ndim(_array(weight)) == 2 and \
            np.shape(_array(bias)) != np.shape(_array(weight))[:1]:
        # PyTorch broadcasts the bias; the fused op takes only (out_features,).
        return nn_fused.linear(input, weight, None) + bias
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


# ------------------------------------------------------------------------ embedding


def _embedding_forward(w, *, indices, num_weights, padding_idx, counts):
    return np.take(w, indices, axis=0)


def _embedding_freq_grad(xp, g, out, w, *, indices, num_weights, padding_idx, counts):
    # Each row's gradient divided by how often its index occurs in the batch.
    scale = 1.0 / counts[indices]
    if padding_idx is not None:
        scale = np.where(indices == padding_idx, 0.0, scale)
    g = g * np.expand_dims(scale, -1).astype(_array(g).dtype)
    flat_g = xp.reshape(g, (indices.size, g.shape[-1]))
    return xp.index_add((num_weights, g.shape[-1]), indices.reshape(-1), flat_g)


_EMBEDDING_FREQ = defop("EmbeddingBackward0", _embedding_forward, (_embedding_freq_grad,),
                        save_inputs=False)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Look up rows of ``weight`` (``(num_embeddings, embedding_dim)``) at integer ``input``.

    Gradients of repeated indices accumulate; the row ``padding_idx`` receives none.

    Args:
        max_norm: if given, each row looked up whose ``norm_type``-norm exceeds it is first
            rescaled, in place in ``weight`` (outside autograd), to norm ``max_norm``.
        norm_type: the p of the p-norm for ``max_norm`` (default 2).
        scale_grad_by_freq: divide each row's gradient by the number of times its index
            occurs in ``input``.
        sparse: sparse gradients are not supported; only False.
    """
    if sparse:
        raise NotImplementedError("embedding(): sparse gradients are not supported by "
                                  "distgrad; use sparse=False (the gradient is then dense)")
    if max_norm is not None:
        _embedding_renorm_(weight, input, float(max_norm), float(norm_type))
    out = nn_fused.embedding(input, weight, padding_idx)
    if not scale_grad_by_freq or out.grad_fn is None:
        return out
    # The same lookup (checked above), recorded with a frequency-scaled gradient.
    indices = np.asarray(_array(input))
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    counts = np.bincount(indices.reshape(-1), minlength=num)
    return apply(_EMBEDDING_FREQ, weight, indices=indices, num_weights=num,
                 padding_idx=padding_idx, counts=counts)


def _embedding_renorm_(weight, input, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows of ``weight`` indexed by ``input`` whose norm exceeds
    ``max_norm`` to ``max_norm / (norm + 1e-7)`` times themselves, as PyTorch does."""
    w = weight._data
    rows = np.unique(np.asarray(_array(input)))
    rows = rows[(rows >= 0) & (rows < w.shape[0])]  # out-of-range indices fail in the lookup
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        w[rows[over]] *= scale[:, None]
        weight._bump_version()


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


def _weighted(losses, weight, reduction, name):
    """Reduce ``losses`` weighted elementwise by ``weight``: the mean is divided by the sum
    of the weights, as PyTorch's."""
    if np.shape(_array(weight)) != losses.shape:
        raise ValueError(f"{name}: weights and input must have the same size, got "
                         f"{list(np.shape(_array(weight)))} and {list(losses.shape)}")
    losses = losses * weight
    if reduction == "mean":
        return losses.sum() / ops.sum(weight)
    return _reduce(losses, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean squared error ``(input - target)^2``, reduced by ``reduction``; ``weight``
    weighs each element (a weighted mean divides by the weights' sum)."""
    if size_average is not None or reduce is not None:
        reduction = loss_ops.legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    _check_sizes(input, target, "mse_loss")
    diff = input - target
    if weight is not None:
        return _weighted(diff * diff, weight, reduction, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean absolute error ``|input - target|``, reduced by ``reduction``; ``weight`` as in
    :func:`mse_loss`."""
    if size_average is not None or reduce is not None:
        reduction = loss_ops.legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    _check_sizes(input, target, "l1_loss")
    if weight is not None:
        return _weighted(ops.abs(input - target), weight, reduction, "l1_loss")
    return _reduce(ops.abs(input - target), reduction)


_BCE_EPSILON = 1e-12  # PyTorch's floor on ``input * (1 - input)`` in BCE's input gradient


def _bce_forward(x, y, *, weight, reduction):
    with np.errstate(divide="ignore"):
        # Each log is clamped at -100, so that inputs of exactly 0 or 1 give finite losses.
        losses = ((y - 1) * np.maximum(np.log1p(-x), -100)
                  - y * np.maximum(np.log(x), -100))
    if weight is not None:
        losses = losses * weight
    if reduction == "none":
        return losses.astype(x.dtype, copy=False)
    total = losses.sum()
    return np.asarray(total / x.size if reduction == "mean" else total, dtype=x.dtype)


def _bce_scale(g, x, weight, reduction):
    scale = g / _array(x).size if reduction == "mean" else g
    return scale * weight if weight is not None else scale


def _bce_grad_input(xp, g, out, x, y, *, weight, reduction):
    # (x - y) / (x * (1 - x)), the denominator floored at 1e-12 as in PyTorch: at x = 0 or 1
    # the gradient is large but finite (the clamped logs would give a misleading one).
    denom = x * (1 - x)
    small = _array(denom) < _BCE_EPSILON
    if small.any():
        denom = xp.where(small, _BCE_EPSILON, denom)
    return (x - y) / denom * _bce_scale(g, x, weight, reduction)


@np.errstate(divide="ignore")
def _bce_grad_target(xp, g, out, x, y, *, weight, reduction):
    # -logit(x) = log((1 - x) / x): +-inf at x = 0 or 1, as in PyTorch.
    return -xp.log(x / (1 - x)) * _bce_scale(g, x, weight, reduction)


_BCE = defop("BinaryCrossEntropyBackward0", _bce_forward, (_bce_grad_input, _bce_grad_target))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target``.

    Each log is clamped at -100 and the input gradient is
    ``(input - target) / max(input * (1 - input), 1e-12)``, as in PyTorch. ``weight``
    (not differentiable) is broadcast against the loss of each element. Prefer
    :func:`binary_cross_entropy_with_logits`, which is stable.
    """
    if size_average is not None or reduce is not None:
        reduction = loss_ops.legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    x = input._data
    if np.shape(_array(target)) != x.shape:
        raise ValueError(f"Using a target size ({list(np.shape(_array(target)))}) that is "
                         f"different to the input size ({list(x.shape)}) is deprecated. Please "
                         f"ensure they have the same size.")
    if np.asarray(_array(target)).dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy: target must be floating point, got "
                           f"{np.asarray(_array(target)).dtype}; convert it with .float()")
    # Written so that nan fails the checks too, as in PyTorch.
    if not np.all((x >= 0) & (x <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    y = np.asarray(_array(target))
    if not np.all((y >= 0) & (y <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                           "and 1")
    if weight is not None:
        _check_not_differentiable(weight, "weight", "binary_cross_entropy")
        weight = np.asarray(_array(weight))
        try:
            fits = np.broadcast_shapes(weight.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"binary_cross_entropy: weight of shape {list(weight.shape)} "
                               f"does not broadcast to the input's shape {list(x.shape)}")
    return apply(_BCE, input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)`` against ``target`` in ``[0, 1]``, computed
    stably from the logits. ``weight`` is broadcast against the loss of each element;
    ``pos_weight`` (broadcast along the last dim) weighs positives. Neither is
    differentiable."""
    _check_not_differentiable(weight, "weight", "binary_cross_entropy_with_logits")
    _check_not_differentiable(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    if size_average is not None or reduce is not None:
        reduction = loss_ops.legacy_reduction(size_average, reduce)
    return loss_ops.binary_cross_entropy_with_logits(input, target, weight,
                                                     reduction=reduction, pos_weight=pos_weight)


def _check_not_differentiable(t, name, function):
    # PyTorch refuses these rather than silently leaving them without a gradient.
    if isinstance(t, Tensor) and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")


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
