"""Activation ops: ``leaky_relu elu selu celu silu mish softplus hardtanh relu6 hardsigmoid
hardswish logsigmoid threshold prelu glu``, each a row of the op table with PyTorch's node
name (``EluBackward0``...).

The forwards are the numerically stable forms PyTorch computes (``expm1`` for the ELU
family, ``softplus`` returning ``x`` past its threshold, ``logsigmoid`` as
``min(x, 0) - log1p(exp(-|x|))``) and never overflow into a warning. The VJPs are written
against ``xp``, so double backward works; a mask that only selects a piecewise branch is
taken on the values, as its own derivative is zero. At a kink each gradient is PyTorch's:
the side its kernel picks (``leaky_relu`` takes the negative slope at 0, ``hardtanh`` passes
nothing at its bounds). At a NaN input, PyTorch's scalar and vectorised CPU loops disagree for
some ops (``elu``, ``hardtanh``, ``hardswish``); these follow the vectorised loop, which is
what all but the shortest tensors run.
"""

from __future__ import annotations

import numpy as np

from . import _backends
from ._nn_common import array_of, call_op
from ._registry import apply, apply1, defop
from .elementwise import SIGMOID
from .shape_ops import cat

__all__ = ["leaky_relu", "elu", "selu", "celu", "silu", "mish", "softplus", "hardtanh", "relu6",
           "hardsigmoid", "hardswish", "logsigmoid", "threshold", "prelu", "glu"]

# SELU's constants, from Klambauer et al. (2017), as PyTorch spells them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(xp, x):
    return call_op(xp, SIGMOID, x)


# --------------------------------------------------------------------- piecewise linear


def _leaky_relu_forward(x, *, negative_slope):
    return np.where(x > 0, x, x * negative_slope)


def _leaky_relu_grad(xp, g, out, x, *, negative_slope):
    # The negative slope at 0 and the gradient itself at NaN, as in PyTorch.
    return xp.where(array_of(x) > 0, g, g * negative_slope)


def _hardtanh_forward(x, *, min_val, max_val):
    return np.minimum(np.maximum(x, min_val), max_val)


def _hardtanh_grad(xp, g, out, x, *, min_val, max_val):
    # Nothing at the bounds, nor at a NaN input.
    x = array_of(x)
    return g * ((x > min_val) & (x < max_val))


def _threshold_forward(x, *, threshold, value):
    return np.where(x <= threshold, value, x).astype(x.dtype, copy=False)


def _threshold_grad(xp, g, out, x, *, threshold, value):
    return g * ~(array_of(x) <= threshold)


def _hardsigmoid_forward(x):
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


def _hardsigmoid_grad(xp, g, out, x):
    x = array_of(x)
    return g * ((x > -3) & (x < 3)) / 6


def _hardswish_forward(x):
    return x * np.minimum(np.maximum(x + 3, 0), 6) / 6


def _hardswish_grad(xp, g, out, x):
    # 0 up to -3 (included), 1 from 3 (included), x / 3 + 1/2 between (and at NaN).
    a = array_of(x)
    return g * xp.where(a <= -3, 0.0, xp.where(a >= 3, 1.0, x / 3 + 0.5))


LEAKY_RELU = defop("LeakyReluBackward0", _leaky_relu_forward, (_leaky_relu_grad,),
                   jvp="elementwise", saved_params=("negative_slope",))
HARDTANH = defop("HardtanhBackward0", _hardtanh_forward, (_hardtanh_grad,), jvp="elementwise",
                 saved_params=("min_val", "max_val"))
THRESHOLD = defop("ThresholdBackward0", _threshold_forward, (_threshold_grad,),
                  jvp="elementwise", saved_params=("threshold",))
HARDSIGMOID = defop("HardsigmoidBackward0", _hardsigmoid_forward, (_hardsigmoid_grad,),
                    jvp="elementwise")
HARDSWISH = defop("HardswishBackward0", _hardswish_forward, (_hardswish_grad,),
                  jvp="elementwise")


def leaky_relu(input, negative_slope=0.01):
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    return apply(LEAKY_RELU, input, negative_slope=negative_slope)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """Clamp into ``[min_val, max_val]``; the gradient is zero at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return apply(HARDTANH, input, min_val=min_val, max_val=max_val)


def relu6(input):
    """``min(max(x, 0), 6)``: :func:`hardtanh` on ``[0, 6]``, recorded as PyTorch does."""
    return apply(HARDTANH, input, min_val=0.0, max_val=6.0)


def threshold(input, threshold, value):
    """``x`` where ``x > threshold``, else ``value``."""
    return apply(THRESHOLD, input, threshold=threshold, value=value)


def hardsigmoid(input):
    """``min(max(x + 3, 0), 6) / 6``."""
    return apply1(HARDSIGMOID, input)


def hardswish(input):
    """``x * hardsigmoid(x)``."""
    return apply1(HARDSWISH, input)


# ------------------------------------------------------------------------ ELU family


def _elu_forward(x, *, alpha, scale, input_scale):
    # expm1 of the clamped input: exact near 0, and no overflow on the unused branch.
    negative = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, negative).astype(x.dtype, copy=False)


def _elu_grad(xp, g, out, x, *, alpha, scale, input_scale):
    positive = array_of(x) > 0
    negative_part = xp.where(positive, 0.0, x)  # exp() of it cannot overflow
    slope = xp.exp(negative_part * input_scale) * (alpha * scale * input_scale)
    return g * xp.where(positive, scale, slope)


def _celu_forward(x, *, alpha):
    return _elu_forward(x, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def _celu_grad(xp, g, out, x, *, alpha):
    return _elu_grad(xp, g, out, x, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


ELU = defop("EluBackward0", _elu_forward, (_elu_grad,), jvp="elementwise",
            saved_params=("alpha", "scale", "input_scale"))
CELU = defop("CeluBackward0", _celu_forward, (_celu_grad,), jvp="elementwise",
             saved_params=("alpha",))


def elu(input, alpha=1.0):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (computed with ``expm1``)."""
    return apply(ELU, input, alpha=alpha, scale=1.0, input_scale=1.0)


def selu(input):
    """``scale * elu(x, alpha)`` with SELU's fixed constants (``EluBackward0``, as PyTorch)."""
    return apply(ELU, input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return apply(CELU, input, alpha=alpha)


# ------------------------------------------------------------------ smooth activations


def _softplus_forward(x, *, beta, threshold):
    z = x * beta
    with np.errstate(over="ignore"):  # the overflowing entries are past the threshold
        smooth = np.log1p(np.exp(z)) / beta
    return np.where(z > threshold, x, smooth).astype(x.dtype, copy=False)


def _softplus_grad(xp, g, out, x, *, beta, threshold):
    z = x * beta
    return g * xp.where(array_of(z) > threshold, 1.0, _sigmoid(xp, z))


def _silu_forward(x):
    with np.errstate(over="ignore"):  # exp(-x) = inf gives x / inf = -0, as in PyTorch
        return x / (1 + np.exp(-x))


def _silu_grad(xp, g, out, x):
    s = _sigmoid(xp, x)
    return g * s * (1 + x * (1 - s))


def _mish_forward(x):
    with np.errstate(over="ignore"):  # log1p(inf) = inf and tanh(inf) = 1: exact
        return x * np.tanh(np.log1p(np.exp(x)))


def _mish_grad(xp, g, out, x):
    t = xp.tanh(call_op(xp, SOFTPLUS, x, beta=1.0, threshold=20.0))
    return g * (t + x * _sigmoid(xp, x) * (1 - t * t))


def _logsigmoid_forward(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _logsigmoid_grad(xp, g, out, x):
    return g * _sigmoid(xp, -x)


SOFTPLUS = defop("SoftplusBackward0", _softplus_forward, (_softplus_grad,), jvp="elementwise",
                 saved_params=("beta", "threshold"))
SILU = defop("SiluBackward0", _silu_forward, (_silu_grad,), jvp="elementwise")
MISH = defop("MishBackward0", _mish_forward, (_mish_grad,), jvp="elementwise")
LOGSIGMOID = defop("LogSigmoidBackward0", _logsigmoid_forward, (_logsigmoid_grad,),
                   jvp="elementwise")


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    return apply(SOFTPLUS, input, beta=beta, threshold=threshold)


def silu(input):
    """``x * sigmoid(x)`` (also called swish)."""
    return apply1(SILU, input)


def mish(input):
    """``x * tanh(softplus(x))``."""
    return apply1(MISH, input)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed as ``min(x, 0) - log1p(exp(-|x|))``."""
    return apply1(LOGSIGMOID, input)


# ------------------------------------------------------------------------------ prelu


def _prelu_forward(x, w):
    return np.where(x > 0, x, w * x)


def _prelu_grad_input(xp, g, out, x, w):
    return xp.where(array_of(x) > 0, g, g * w)


def _prelu_grad_weight(xp, g, out, x, w):
    return xp.where(array_of(x) > 0, 0.0, g * x)


PRELU = defop("PreluKernelBackward0", _prelu_forward, (_prelu_grad_input, _prelu_grad_weight),
              broadcast=True, jvp="elementwise", saved=("self", "weight"))


_TYPE_NAMES = {np.dtype(np.float16): "Half", np.dtype(np.float32): "Float",
               np.dtype(np.float64): "Double"}


def prelu(input, weight):
    """``x`` where ``x > 0``, else ``weight * x``, with one weight per channel (dim 1) or one
    for all. ``weight`` is a 1-D (or 0-d) tensor of 1 or ``input.shape[1]`` elements; its
    gradient is summed over the positions it applies to."""
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_TYPE_NAMES[input.dtype]} "
                           f"and {_TYPE_NAMES[weight.dtype]}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    count = weight.numel()
    if count != 1 and count != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {count} and channel size = {channels}.")
    shape = (count,) + (1,) * (input.ndim - 2) if input.ndim >= 2 else (1,) * input.ndim
    return apply(PRELU, input, weight.reshape(shape))


# -------------------------------------------------------------------------------- glu


def _halves(x, axis):
    half = x.shape[axis] // 2
    lead = (slice(None),) * axis
    return x[lead + (slice(0, half),)], x[lead + (slice(half, None),)]


def _glu_forward(x, *, dim):
    a, b = _halves(x, dim)
    return a * _sigmoid(_backends.raw, b)


def _glu_grad(xp, g, out, x, *, dim):
    a, b = _halves(x, dim)
    s = _sigmoid(xp, b)
    grad_a = g * s
    parts = (grad_a, grad_a * a * (1 - s))
    if xp is _backends.raw:
        return np.concatenate(parts, axis=dim)
    return cat(parts, dim)


def _glu_jvp(tangents, out, x, *, dim):
    a, b = _halves(x, dim)
    ta, tb = _halves(tangents[0], dim)
    s = _sigmoid(_backends.raw, b)
    return ta * s + a * s * (1 - s) * tb


GLU = defop("GluBackward0", _glu_forward, (_glu_grad,), jvp=_glu_jvp, saved_params=("dim",))


def glu(input, dim=-1):
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim`` and return
    ``a * sigmoid(b)``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = dim + input.ndim if -input.ndim <= dim < 0 else dim
    if not 0 <= axis < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    return apply(GLU, input, dim=axis)
