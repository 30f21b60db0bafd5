"""Binary cross-entropy: of probabilities (``binary_cross_entropy``) and, stably, of logits
(``binary_cross_entropy_with_logits``), each one op with PyTorch's gradients."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ._nn_common import array_of, shape_str
from ._registry import apply, defop
from .loss_ops import _check_reduction, _reduce, legacy_reduction

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]

# ------------------------------------------------------------------ of probabilities


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
    scale = g / array_of(x).size if reduction == "mean" else g
    return scale * weight if weight is not None else scale


def _bce_grad_input(xp, g, out, x, y, *, weight, reduction):
    # (x - y) / (x * (1 - x)), the denominator floored at 1e-12 as in PyTorch: at x = 0 or 1
    # the gradient is large but finite (the clamped logs would give a misleading one).
    denom = x * (1 - x)
    small = array_of(denom) < _BCE_EPSILON
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
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    x = input._data
    if np.shape(array_of(target)) != x.shape:
        raise ValueError(f"Using a target size ({list(np.shape(array_of(target)))}) that is "
                         f"different to the input size ({list(x.shape)}) is deprecated. Please "
                         f"ensure they have the same size.")
    if np.asarray(array_of(target)).dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy: target must be floating point, got "
                           f"{np.asarray(array_of(target)).dtype}; convert it with .float()")
    # Written so that nan fails the checks too, as in PyTorch.
    if not np.all((x >= 0) & (x <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    y = np.asarray(array_of(target))
    if not np.all((y >= 0) & (y <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                           "and 1")
    if weight is not None:
        _check_not_differentiable(weight, "weight", "binary_cross_entropy")
        weight = np.asarray(array_of(weight))
        try:
            fits = np.broadcast_shapes(weight.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"binary_cross_entropy: weight of shape {list(weight.shape)} "
                               f"does not broadcast to the input's shape {list(x.shape)}")
    return apply(_BCE, input, target, weight=weight, reduction=reduction)


# ------------------------------------------------------------------------ of logits


def _softplus_neg(xp, x):
    """``log(1 + exp(-x))`` without overflow: ``max(-x, 0) + log(1 + exp(-|x|))``."""
    x_arr = array_of(x)
    abs_x = xp.sign(x) * x
    return xp.where(x_arr < 0, -x, 0.0) + xp.log(1.0 + xp.exp(-abs_x))


def _logits_forward(x, y, *, weight, pos_weight, reduction):
    softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * y
    losses = (1.0 - y) * x + log_weight * softplus_neg
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, losses.size, x.dtype)


def _logits_scale(xp, g, x, weight, reduction):
    scale = g / array_of(x).size if reduction == "mean" else g
    return scale * weight if weight is not None else scale


def _logits_grad_x(xp, g, out, x, y, *, weight, pos_weight, reduction):
    # d/dx = (1 - y) - log_weight * sigmoid(-x), with sigmoid(-x) = exp(-softplus(x)).
    sig_neg = xp.exp(-_softplus_neg(xp, -x))
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * y
    return ((1.0 - y) - log_weight * sig_neg) * _logits_scale(xp, g, x, weight, reduction)


def _logits_grad_y(xp, g, out, x, y, *, weight, pos_weight, reduction):
    grad = -x if pos_weight is None else (pos_weight - 1.0) * _softplus_neg(xp, x) - x
    return grad * _logits_scale(xp, g, x, weight, reduction)


BCE_WITH_LOGITS = defop("BinaryCrossEntropyWithLogitsBackward0", _logits_forward,
                        (_logits_grad_x, _logits_grad_y))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)`` against ``target`` in ``[0, 1]``, computed
    stably from the logits. ``weight`` is broadcast against the loss of each element;
    ``pos_weight`` (broadcast along the last dim) weighs positives. Neither is
    differentiable."""
    _check_not_differentiable(weight, "weight", "binary_cross_entropy_with_logits")
    _check_not_differentiable(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if np.shape(array_of(target)) != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size "
                         f"({shape_str(np.shape(array_of(target)))}) must be the same as input "
                         f"size ({shape_str(input.shape)})")
    if np.asarray(array_of(target)).dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy_with_logits: target must be floating point, "
                           f"got {np.asarray(array_of(target)).dtype}; convert with .float()")
    weight = None if weight is None else np.asarray(array_of(weight))
    pos_weight = None if pos_weight is None else np.asarray(array_of(pos_weight))
    return apply(BCE_WITH_LOGITS, input, target, weight=weight, pos_weight=pos_weight,
                 reduction=reduction)


def _check_not_differentiable(t, name, function):
    # PyTorch refuses these rather than silently leaving them without a gradient.
    if isinstance(t, Tensor) and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")
