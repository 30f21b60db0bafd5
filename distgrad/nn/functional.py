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
from ..autograd.grad_mode import is_grad_enabled
from ..ops import activations, loss_ops, nn_fused
from ..ops import inplace as _inplace
from ..ops._nn_common import call_op
from ..ops._registry import apply, defop
from ..ops.activations import glu, logsigmoid, prelu
from ..ops.conv import conv2d
from ..ops.loss_ops import cross_entropy, nll_loss
from ..ops.nn_fused import dropout
from ..ops.norm_ops import batch_norm, group_norm, layer_norm
from ..ops.padding import pad
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu", "gelu",
           "tanh", "sigmoid", "softmax", "log_softmax", "dropout", "layer_norm", "batch_norm",
           "embedding", "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten",
           "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "silu",
           "mish", "softplus", "hardtanh", "hardtanh_", "relu6", "hardsigmoid", "hardswish",
           "softsign", "tanhshrink", "logsigmoid", "prelu", "glu", "softmin", "threshold",
           "threshold_", "group_norm", "instance_norm", "conv1d", "max_pool1d", "avg_pool1d",
           "interpolate", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "bilinear"]


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


# -------------------------------------------------------------------------- interpolate
# Nearest-neighbour resizing is a gather along each spatial axis; its gradient is the
# transpose, a sum of the output positions that copy each input position. The two are a
# pair of linear ops whose VJPs are each other, so double backward works.


def _nearest_forward(x, *, index, runs, input_shape):
    for axis, positions in enumerate(index, start=2):
        x = np.take(x, positions, axis=axis)
    return x


def _nearest_adjoint(g, *, index, runs, input_shape):
    for axis, (targets, starts) in enumerate(runs, start=2):
        sums = np.add.reduceat(g, starts, axis=axis)  # the index never decreases: one run each
        if len(targets) == input_shape[axis]:
            g = sums
        else:  # downsampling: some input positions are copied nowhere
            shape = list(sums.shape)
            shape[axis] = input_shape[axis]
            g = np.zeros(shape, dtype=sums.dtype)
            g[(slice(None),) * axis + (targets,)] = sums
    return g


def _nearest_ops(name: str):
    """The forward op ``name`` and its adjoint, each one's VJP the other."""

    def nearest_grad(xp, g, out, x, **params):
        return call_op(xp, adjoint, g, **params)

    def nearest_adjoint_grad(xp, h, out, g, **params):
        return call_op(xp, forward, h, **params)

    forward = defop(name, _nearest_forward, (nearest_grad,), save_inputs=False, jvp="linear")
    adjoint = defop(name.replace("Backward0", "BackwardBackward0"), _nearest_adjoint,
                    (nearest_adjoint_grad,), save_inputs=False, jvp="linear")
    return forward


_NEAREST = {(mode, dims): _nearest_ops(f"UpsampleNearest{kind}{dims}DBackward0")
            for mode, kind in (("nearest", ""), ("nearest-exact", "Exact")) for dims in (1, 2, 3)}
_INTERPOLATE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
                      "nearest-exact")


def _nearest_index(in_size: int, out_size: int, scale, exact: bool):
    """The input position each output position copies, in float32 as PyTorch computes it:
    ``floor(i * step)`` (``floor((i + 0.5) * step)`` for nearest-exact), with ``step`` the
    inverse of the given scale factor, or ``in_size / out_size``."""
    if scale is not None and scale > 0:
        step = np.float32(1.0 / scale)
    else:
        step = np.float32(in_size) / np.float32(out_size)
    position = np.arange(out_size, dtype=np.float32)
    if exact:
        position += np.float32(0.5)
    return np.minimum(np.floor(position * step).astype(np.int64), in_size - 1)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resize the spatial dims of ``(N, C, *spatial)`` input (1 to 3 of them) to ``size``, or
    by ``scale_factor`` (output size ``floor(input size * scale_factor)``).

    Only ``mode='nearest'`` (PyTorch's: the source index is ``floor(i / scale)``) and
    ``'nearest-exact'`` (``floor((i + 0.5) / scale)``) are supported. With a scale factor
    and no ``recompute_scale_factor``, the given scale (not the sizes' ratio) places the
    samples, as in PyTorch.
    """
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5) or mode not in _INTERPOLATE_MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    in_sizes = tuple(input.shape[2:])
    dims = len(in_sizes)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out_sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(out_sizes) != dims:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(in_sizes)} and output size of {size}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                f"in (o1, o2, ...,oK) format.")
        out_sizes = tuple(int(n) for n in out_sizes)
        scales = (None,) * dims
    elif scale_factor is not None:
        scales = (tuple(float(f) for f in scale_factor)
                  if isinstance(scale_factor, (tuple, list)) else (float(scale_factor),) * dims)
        if len(scales) != dims:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(in_sizes)} and scale_factor of "
                f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                f"format and scale_factor in (s1, s2, ...,sK) format.")
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, scales, strict=True))
        if recompute_scale_factor:
            scales = (None,) * dims
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate(): mode={mode!r} is not supported by distgrad; "
                                  f"use 'nearest' or 'nearest-exact'")
    if antialias:
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if min(out_sizes) <= 0:
        names = ("D", "H", "W")[3 - dims:]
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input "
            f"({', '.join(f'{a}: {n}' for a, n in zip(names, in_sizes, strict=True))}) and "
            f"output ({', '.join(f'{a}: {n}' for a, n in zip(names, out_sizes, strict=True))})")
    exact = mode == "nearest-exact"
    index = tuple(_nearest_index(n, m, f, exact)
                  for n, m, f in zip(in_sizes, out_sizes, scales, strict=True))
    runs = tuple(np.unique(positions, return_index=True) for positions in index)
    return apply(_NEAREST[mode, dims], input, index=index, runs=runs,
                 input_shape=tuple(input.shape))


# ---------------------------------------------------------------- channel-wise dropout

_ALPHA = 1.7580993408473766  # SELU's -scale * alpha: where alpha dropout sends dropped units


def _noise(input, p, shape):
    """Ones kept with probability ``1 - p``, in the input's (float) dtype, of ``shape``."""
    from .._factories import default_generator

    dtype = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    return (default_generator().random(shape, dtype=np.float32) >= p).astype(dtype)


def _feature_shape(input, batched: bool) -> tuple:
    """One draw per channel: ``(N, C, 1, ...)``, or ``(C, 1, ...)`` without a batch dim."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    lead = 2 if batched else 1
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def _dropout_nd(input, p, training, inplace, shape=None, alpha=False):
    """``input`` times a mask of ``shape`` (default: elementwise), scaled to keep the mean;
    alpha dropout instead keeps SELU's mean and variance. In place with ``inplace``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        zero = np.zeros((), dtype=input._data.dtype)
        return input.mul_(zero) if inplace else input * zero
    noise = _noise(input, p, tuple(input.shape) if shape is None else shape)
    if not alpha:
        noise *= noise.dtype.type(1.0 / (1.0 - p))
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = ((noise - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(noise.dtype, copy=False)
    noise *= noise.dtype.type(a)
    return input.mul_(noise).add_(shift) if inplace else input * noise + shift


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input with probability ``p`` and
    scale the others by ``1 / (1 - p)``; ``input`` itself when not ``training``.
    ``inplace=True`` multiplies ``input`` in place."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs).")
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, input.ndim == 3))


def _warn_feature_dims(name: str, ndim: int, spatial: int) -> None:
    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in "
        f"an error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {name} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p`` and scale the
    others by ``1 / (1 - p)``. As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (with a
    warning): use :func:`dropout1d` for that."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        _warn_feature_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, True))


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input with
    probability ``p`` and scale the others by ``1 / (1 - p)``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (4, 5):
        _warn_feature_dims("dropout3d", input.ndim, 3)
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, input.ndim == 5))


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and
    an affine map restores the input's mean and variance. Note ``training=False`` by
    default, as in PyTorch."""
    return _dropout_nd(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """:func:`alpha_dropout` of whole channels (dim 1)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, True), alpha=True)


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
