"""More losses and distances, composed from differentiable ops.

``smooth_l1_loss huber_loss kl_div margin_ranking_loss soft_margin_loss
cosine_embedding_loss triplet_margin_loss poisson_nll_loss gaussian_nll_loss
multilabel_soft_margin_loss hinge_embedding_loss`` and ``normalize cosine_similarity
pairwise_distance``, with PyTorch's signatures, reductions and gradients. They are exported
by :mod:`distgrad.nn.functional`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops
from .._tensor import Tensor
from ..ops.activations import logsigmoid, softplus
from ..ops.loss_ops import legacy_reduction

__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss", "soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "multilabel_soft_margin_loss", "hinge_embedding_loss",
           "normalize", "cosine_similarity", "pairwise_distance"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(size_average, reduce, reduction, allowed=_REDUCTIONS) -> str:
    """The reduction to apply: the deprecated flags win (with a warning), then it is checked."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, stacklevel=4)
    if reduction not in allowed:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use "
                         f"{', '.join(repr(r) for r in allowed)}")
    return reduction


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _tensor(x, like=None):
    if isinstance(x, Tensor):
        return x
    dtype = like._data.dtype if like is not None and np.asarray(x).dtype.kind == "f" else None
    return Tensor._wrap(np.asarray(x, dtype=dtype))


def _warn_sizes(input, target, name):
    if tuple(np.shape(target._data)) != tuple(input.shape):
        warnings.warn(f"{name}: using a target size ({list(target.shape)}) that is different to "
                      f"the input size ({list(input.shape)}). This will likely lead to "
                      f"incorrect results due to broadcasting. Please ensure they have the same "
                      f"size.", stacklevel=3)


def _straight_through_clamp_min(x, low):
    """``max(x, low)`` in the forward pass, with the gradient of ``x`` itself (PyTorch clamps
    these under ``no_grad``, in place)."""
    gap = np.maximum(x._data, low) - x._data
    return x + Tensor._wrap(gap.astype(x._data.dtype, copy=False))


# ------------------------------------------------------------------ regression losses


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, for
    ``d = input - target``; ``beta=0`` is the L1 loss."""
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got "
                           f"{beta}")
    target = _tensor(target, input)
    _warn_sizes(input, target, "smooth_l1_loss")
    diff = input - target
    magnitude = ops.abs(diff)
    if beta == 0:
        return _reduce(magnitude, reduction)
    losses = ops.where(magnitude < beta, (0.5 / beta) * diff * diff, magnitude - 0.5 * beta)
    return _reduce(losses, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    ``weight`` (the input's shape) multiplies each element's loss before the reduction; the
    weighted ``'mean'`` divides by the number of elements, as PyTorch's does.
    """
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got "
                           f"{delta}")
    target = _tensor(target, input)
    _warn_sizes(input, target, "huber_loss")
    diff = input - target
    magnitude = ops.abs(diff)
    losses = ops.where(magnitude < delta, 0.5 * diff * diff, delta * (magnitude - 0.5 * delta))
    if weight is not None:
        weight = _tensor(weight, input)
        if weight.shape != input.shape:
            raise ValueError(f"huber_loss: weights and input must have the same size, got "
                             f"{list(weight.shape)} and {list(input.shape)}")
        losses = losses * weight
    return _reduce(losses, reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """Negative log-likelihood of ``target ~ Poisson(rate)``.

    With ``log_input`` the input is the log-rate: ``exp(input) - target * input``; otherwise
    the rate: ``input - target * log(input + eps)``. ``full`` adds Stirling's approximation
    of ``log(target!)`` for targets above 1.
    """
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    if log_input:
        losses = ops.exp(input) - target * input
    else:
        losses = input - target * ops.log(input + eps)
    if full:
        above = target > 1
        safe = ops.where(above, target, 1.0)
        stirling = safe * ops.log(safe) - safe + 0.5 * ops.log(2 * math.pi * safe)
        losses = losses + ops.where(above, stirling, 0.0)
    return _reduce(losses, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Negative log-likelihood of ``target ~ N(input, var)``:
    ``0.5 * (log(var) + (input - target)**2 / var)`` (plus ``0.5 * log(2 pi)`` if ``full``).

    ``var`` has the input's shape, one dim fewer (one variance per row), a size-1 dim where
    the input's is not, or is a number. It is clamped to at least ``eps`` for stability; the
    gradient passes through the clamp, as in PyTorch.
    """
    if not isinstance(var, Tensor):
        if float(var) < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor._wrap(np.full(input.shape, float(var), dtype=input._data.dtype))
    elif (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = ops.unsqueeze(var, -1)
        elif not (var.ndim == input.ndim and sum(
                v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1):
            raise ValueError(f"var is of incorrect size: {list(var.shape)} for input "
                             f"{list(input.shape)}; use the input's shape, the input's shape "
                             f"without its last dim, or size 1 in one dim")
    reduction = _reduction(None, None, reduction)
    target = _tensor(target, input)
    var = _straight_through_clamp_min(var, eps)
    diff = input - target
    losses = 0.5 * (ops.log(var) + diff * diff / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(losses, reduction)


# ------------------------------------------------------------- distribution losses


def _xlogx(x):
    """``x * log(x)``, 0 where ``x`` is 0 (gradient 0 there too)."""
    return x * ops.log(ops.where(x == 0, 1.0, x))


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` of log-probabilities
    ``input`` from ``target`` (probabilities, or log-probabilities if ``log_target``).

    ``reduction='batchmean'`` divides the sum by the batch size (the input's first dim), the
    mathematical KL divergence; ``'mean'`` divides by the number of elements and warns.
    """
    legacy = size_average is not None or reduce is not None
    reduction = _reduction(size_average, reduce, reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean" and not legacy:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", stacklevel=2)
    target = _tensor(target, input)
    if log_target:
        losses = ops.exp(target) * (target - input)
    else:
        losses = _xlogx(target) - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """One-versus-all logistic loss of logits ``(N, C)`` and 0/1 targets ``(N, C)``, averaged
    over the C classes (``weight`` rescales each class)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    losses = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * weight
    class_dim = input.ndim - 1
    losses = losses.sum(class_dim) / input.shape[class_dim]
    return _reduce(losses, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))``, targets in {1, -1}."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    return _reduce(softplus(-input * target), reduction)


# ------------------------------------------------------------------ margin losses


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 says input1 should rank
    higher, -1 that input2 should."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {list(input1.shape)}, input2: "
                           f"{list(input2.shape)}, target: {list(target.shape)}")
    losses = ops.clamp_min(-target * (input1 - input2) + margin, 0)
    return _reduce(losses, reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``input`` where ``target`` is 1 and ``max(0, margin - input)`` where it is -1
    (``input`` is usually a distance)."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input)
    margin_part = ops.where(target != 1, ops.clamp_min(margin - input, 0), 0.0)
    self_part = ops.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """``1 - cos(x1, x2)`` where ``target`` is 1 and ``max(0, cos(x1, x2) - margin)`` where it
    is -1; inputs ``(N, D)`` with targets ``(N,)``, or ``(D,)`` with a 0-d target."""
    reduction = _reduction(size_average, reduce, reduction)
    target = _tensor(target, input1)
    if target.ndim not in (0, 1):
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, "
                           f"multi-target not supported (got {target.ndim}D)")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"cosine_embedding_loss: {target.ndim}D target tensor expects "
                           f"{want}D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = dot / ops.sqrt(squares)
    losses = (ops.where(target == 1, 1 - cos, 0.0)
              + ops.where(target == -1, ops.clamp_min(cos - margin, 0), 0.0))
    return _reduce(losses, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    :func:`pairwise_distance`; ``swap`` uses ``d(positive, negative)`` when it is smaller."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(ops.clamp_min(margin + d_pos - d_neg, 0), reduction)


# ---------------------------------------------------------------------- distances


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim (inputs broadcast)."""
    x1, x2 = _tensor(x1), _tensor(x2)
    return ops.norm(x1 - x2 + eps, p, -1, keepdim)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """``sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps))`` along ``dim`` (inputs
    broadcast). Each input is divided by its norm first, as PyTorch does, which keeps the
    result in [-1, 1]; the clamps pass the gradient through."""
    x1, x2 = _tensor(x1), _tensor(x2)
    if x1.shape != x2.shape:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
        x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1 = _straight_through_clamp_min(ops.norm(x1, 2, dim, True), eps)
    n2 = _straight_through_clamp_min(ops.norm(x2, 2, dim, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    result = input / ops.clamp_min(ops.norm(input, p, dim, True), eps)
    if out is not None:
        out.copy_(result)
        return out
    return result
