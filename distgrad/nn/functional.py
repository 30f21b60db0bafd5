"""Functional forms of the layers and losses (``distgrad.nn.functional``, usually ``F``).

The modules in ``distgrad.nn`` call these; each is also usable on its own with explicit
parameters, as in PyTorch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops
from .._tensor import Tensor
from ..ops import activations, loss_ops, nn_fused
from ..ops import inplace as _inplace
from ..ops._registry import apply, defop
from ..ops.activations import glu, logsigmoid, prelu
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops.bce import binary_cross_entropy, binary_cross_entropy_with_logits
from ..ops.conv import conv2d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.dropout import alpha_dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from ..ops.embedding_bag import embedding_bag
from ..ops.fold import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold
from ..ops.loss_ops import cross_entropy, nll_loss
from ..ops.nn_fused import dropout
from ..ops.norm_ops import batch_norm, group_norm, layer_norm
from ..ops.padding import pad
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.upsample import interpolate
from .losses_more import (
    cosine_embedding_loss,
    cosine_similarity,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    normalize,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu", "gelu",
           "tanh", "sigmoid", "softmax", "log_softmax", "dropout", "layer_norm", "batch_norm",
           "embedding", "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten", "leaky_relu",
           "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "silu", "mish",
           "softplus", "hardtanh", "hardtanh_", "relu6", "hardsigmoid", "hardswish", "softsign",
           "tanhshrink", "logsigmoid", "prelu", "glu", "softmin", "threshold", "threshold_",
           "group_norm", "instance_norm", "conv1d", "max_pool1d", "avg_pool1d", "interpolate",
           "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "bilinear", "smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
           "soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "multilabel_soft_margin_loss", "hinge_embedding_loss", "normalize",
           "cosine_similarity", "pairwise_distance", "scaled_dot_product_attention",
           "multi_head_attention_forward", "conv_transpose1d", "conv_transpose2d", "unfold",
           "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "embedding_bag"]


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


# ------------------------------------------------------------------------ activations
# ``inplace=True`` is honoured wherever it is accepted: the result is written into ``input``
# through the in-place machinery (version counter, leaf check, views), as ``x.exp_()`` is,
# and recorded as the out-of-place op's node (PyTorch records some in-place forms as
# ``...Backward1``, saving the result instead).


def _maybe_inplace(op, input, inplace, **params):
    if inplace:
        return _inplace.unary_(input, op, **params)
    return op(input, **params)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (the slope is the gradient at 0).
    ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.leaky_relu, input, inplace, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope: float = 0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``. ``inplace=True`` writes the
    result into ``input``."""
    return _maybe_inplace(activations.elu, input, inplace, alpha=alpha)


def elu_(input, alpha: float = 1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace: bool = False):
    """``scale * elu(x, alpha)`` with ``alpha = 1.6732632423543772``,
    ``scale = 1.0507009873554805``. ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.selu, input, inplace)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. ``inplace=True`` writes the
    result into ``input``."""
    return _maybe_inplace(activations.celu, input, inplace, alpha=alpha)


def celu_(input, alpha: float = 1.0):
    return celu(input, alpha, inplace=True)


def silu(input, inplace: bool = False):
    """``x * sigmoid(x)``. ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.silu, input, inplace)


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))``. ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.mish, input, inplace)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``; linear (``x``) where ``beta * x > threshold``."""
    return activations.softplus(input, beta, threshold)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp into ``[min_val, max_val]``; no gradient at or beyond the bounds.
    ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.hardtanh, input, inplace, min_val=min_val,
                          max_val=max_val)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)``. ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.relu6, input, inplace)


def hardsigmoid(input, inplace: bool = False):
    """``min(max(x + 3, 0), 6) / 6``. ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(activations.hardsigmoid, input, inplace)


def hardswish(input, inplace: bool = False):
    """``x * min(max(x + 3, 0), 6) / 6``. ``inplace=True`` writes the result into
    ``input``."""
    return _maybe_inplace(activations.hardswish, input, inplace)


def softsign(input):
    """``x / (1 + |x|)``, composed as PyTorch does (``DivBackward0``)."""
    return input / (ops.abs(input) + 1)


def tanhshrink(input):
    """``x - tanh(x)``, composed as PyTorch does (``SubBackward0``)."""
    return input - ops.tanh(input)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-input, dim)``; ``dtype`` converts the negated input first."""
    negated = -input
    if dtype is not None:
        negated = negated.to(dtype)
    return ops.softmax(negated, _softmax_dim(input, dim, "softmin"))


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where ``x > threshold``, else ``value``. ``inplace=True`` writes the result
    into ``input``."""
    return _maybe_inplace(activations.threshold, input, inplace, threshold=threshold,
                          value=value)


def threshold_(input, threshold: float, value: float):
    return _maybe_inplace(activations.threshold, input, True, threshold=threshold, value=value)


# ------------------------------------------------------------- 1-D convolution, pooling
# The 2-D kernels, called on the input viewed as ``(N, C, 1, L)``: a unit height that every
# window spans exactly.


def _single(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple, got {tuple(value)}")
        value = value[0]
    return int(value)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of ``input`` ``(N, C, L)`` (or ``(C, L)``) with ``weight``
    ``(O, C / groups, K)``, as :func:`conv2d` with a unit height. ``padding`` is an int,
    ``'valid'`` or ``'same'``. The result's ``grad_fn`` is the ``SqueezeBackward1`` of the
    unit height over a ``ConvolutionBackward0`` (PyTorch records the convolution alone)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got "
                           f"input of size: {list(input.shape)}")
    w_shape = tuple(np.shape(_array(weight)))
    if len(w_shape) != 3:
        raise RuntimeError(f"conv1d(): weight must be 3-D (out_channels, in_channels / groups, "
                           f"kW), got shape {list(w_shape)}")
    batched = tuple(input.shape) if input.ndim == 3 else (1,) + tuple(input.shape)
    if batched[1] != w_shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w_shape)}, expected "
                           f"input{list(batched)} to have {w_shape[1] * groups} channels, but "
                           f"got {batched[1]} channels instead")
    stride = _single(stride, "stride")
    if isinstance(padding, str):
        if padding == "same" and stride != 1:
            raise RuntimeError("padding='same' is not supported for strided convolutions")
    else:
        padding = (0, _single(padding, "padding"))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, stride), padding,
                 (1, _single(dilation, "dilation")), groups)
    return out.squeeze(-2)


def _pool1d_stride(stride, kernel: int) -> int:
    return kernel if stride is None or stride == [] or stride == () else _single(stride, "stride")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over ``(N, C, L)`` (or ``(C, L)``) input; ``stride`` defaults to
    ``kernel_size``, padding counts as -inf, and the indices count along ``L``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(input.shape)}")
    kernel = _single(kernel_size, "kernel_size")
    out = max_pool2d(input.unsqueeze(-2), (1, kernel), (1, _pool1d_stride(stride, kernel)),
                     (0, _single(padding, "padding")), (1, _single(dilation, "dilation")),
                     ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over ``(N, C, L)`` (or ``(C, L)``) input; ``stride`` defaults to
    ``kernel_size``; zero padding counts in the divisor when ``count_include_pad``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for avg_pool1d)")
    kernel = _single(kernel_size, "kernel_size")
    out = avg_pool2d(input.unsqueeze(-2), (1, kernel), (1, _pool1d_stride(stride, kernel)),
                     (0, _single(padding, "padding")), ceil_mode, count_include_pad)
    return out.squeeze(-2)


# ------------------------------------------------------------- instance norm, bilinear


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of each sample over its spatial positions: :func:`batch_norm`
    of the input viewed as ``(1, N * C, *)``, as PyTorch computes it (1 or 2 spatial dims).
    Running statistics, if given, are updated with the mean over the batch."""
    shape = tuple(input.shape)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"instance_norm(): expected (N, C, L) or (N, C, H, W) input, got "
                           f"shape {list(shape)}")
    if use_input_stats and math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")
    n, c = shape[:2]
    stats = [None if t is None else Tensor._wrap(np.tile(_array(t), n))
             for t in (running_mean, running_var)]
    out = batch_norm(input.reshape((1, n * c) + shape[2:]), stats[0], stats[1],
                     None if weight is None else weight.repeat(n),
                     None if bias is None else bias.repeat(n), use_input_stats, momentum, eps)
    for running, tiled in zip((running_mean, running_var), stats, strict=True):
        if running is not None and use_input_stats:
            _array(running)[...] = tiled._data.reshape(n, c).mean(axis=0)
            if isinstance(running, Tensor):
                running._bump_version()
    return out.reshape(shape)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 @ weight[k] @ x2 + bias_k`` for inputs ``(*, in1)`` and ``(*, in2)`` and
    ``weight`` ``(out, in1, in2)``: one matmul, then a product summed over ``in2``."""
    out_features, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    mixed = ops.matmul(input1, weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    y = (mixed.reshape(lead + (out_features, in2)) * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


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
