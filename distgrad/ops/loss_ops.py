"""Fused loss kernels: ``cross_entropy`` (log-softmax + NLL + reduction in one op),
``nll_loss`` and ``binary_cross_entropy_with_logits``.

Class-index losses share one idea: the loss is linear in the log-probabilities, so its
gradient with respect to them is a constant ``coef`` array that depends only on the
targets, the class weights, ``ignore_index``, label smoothing and the reduction. Then
``d loss / d logp = g * coef`` and, through the log-softmax,
``d loss / d logits = g * (coef - softmax * coef.sum(1))``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor
from . import _backends
from ._nn_common import array_of, call_op, shape_str
from ._registry import apply, defop

__all__ = ["cross_entropy", "nll_loss", "legacy_reduction"]

_REDUCTIONS = ("mean", "sum", "none")

# -------------------------------------------------------------------- shared maths


def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _softmax(xp, x):
    """Softmax over dim 1, differentiable when ``x`` is a tensor (the shift is a constant)."""
    peak = array_of(x).max(axis=1, keepdims=True)
    e = xp.exp(x - peak)
    return e / xp.sum(e, axis=1, keepdims=True)


def _index_weights(target, weight, ignore_index):
    """Per-sample weights ``weight[target]``, zero where ``target == ignore_index``."""
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    w = weight[safe] if weight is not None else np.ones(target.shape)
    return safe, valid, w * valid


@np.errstate(divide="ignore", invalid="ignore")
def _index_coef(n_classes, dtype, target, weight, ignore_index, reduction, smoothing):
    """``d loss / d logp`` per unit of the incoming gradient, as an ``(N, C)`` array."""
    safe, valid, w_t = _index_weights(target, weight, ignore_index)
    # As PyTorch: the mean over no target at all has a zero gradient (w_t is all zeros), but
    # valid targets whose weights sum to zero get a nan one.
    scale = 1.0 / w_t.sum() if reduction == "mean" and valid.any() else 1.0
    coef = np.zeros((target.shape[0], n_classes), dtype=np.float64)
    coef[np.arange(target.shape[0]), safe] = -(1.0 - smoothing) * w_t * scale
    if smoothing:
        class_w = weight if weight is not None else np.ones(n_classes)
        coef -= (smoothing / n_classes) * np.outer(valid * scale, class_w)
    return coef.astype(dtype, copy=False)


def _index_loss(logp, target, weight, ignore_index, reduction, smoothing):
    safe, valid, w_t = _index_weights(target, weight, ignore_index)
    losses = -(1.0 - smoothing) * w_t * logp[np.arange(target.shape[0]), safe]
    if smoothing:
        class_w = weight if weight is not None else 1.0
        losses -= (smoothing / logp.shape[1]) * valid * (logp * class_w).sum(axis=1)
    return _reduce(losses, reduction, w_t.sum(), logp.dtype)


def _reduce(losses, reduction, denominator, dtype):
    if reduction == "none":
        return losses.astype(dtype, copy=False)
    total = losses.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as PyTorch
            total = total / denominator
    return np.asarray(total, dtype=dtype)


def _per_unit(xp, g, reduction):
    """The incoming gradient shaped to broadcast against ``(N, C)``."""
    return xp.expand_dims(g, 1) if reduction == "none" else g


# ------------------------------------------------------------- cross-entropy, indices


class _Softmax:
    """Where the plain cross-entropy's forward leaves ``exp(x - max)`` and its row sums, so
    that its backward gets the softmax with one division, as a hand-written step does. The
    backward drops them after use (a second one, under ``retain_graph``, recomputes)."""

    __slots__ = ("exp", "sums")

    def __init__(self):
        self.exp = self.sums = None


def _ce_forward(x, *, target, weight, ignore_index, reduction, smoothing, plain):
    if plain is not None:  # no weight, no smoothing, every target valid: the common case
        # (ufunc reductions called directly: ndarray.max/.sum/.mean go through Python)
        shifted = x - np.maximum.reduce(x, axis=1, keepdims=True)
        plain.exp = np.exp(shifted)
        plain.sums = np.add.reduce(plain.exp, axis=1, keepdims=True)
        losses = np.log(plain.sums[:, 0])
        losses -= shifted[np.arange(len(target)), target]
        if reduction == "none":
            return losses
        total = np.add.reduce(losses)
        return np.asarray(total / len(losses) if reduction == "mean" else total)
    return _index_loss(_log_softmax(x), target, weight, ignore_index, reduction, smoothing)


def _ce_grad(xp, g, out, x, *, target, weight, ignore_index, reduction, smoothing, plain):
    if plain is not None and xp is _backends.raw:
        # softmax - one_hot, scaled, in place in one buffer.
        if plain.exp is not None:
            p = plain.exp / plain.sums
            plain.exp = plain.sums = None
        else:
            p = np.exp(x - np.maximum.reduce(x, axis=1, keepdims=True))
            p /= np.add.reduce(p, axis=1, keepdims=True)
        p[np.arange(len(target)), target] -= 1
        p *= g / len(target) if reduction == "mean" else _per_unit(xp, g, reduction)
        return p
    coef = _index_coef(x.shape[1], array_of(x).dtype, target, weight, ignore_index, reduction,
                       smoothing)
    p = _softmax(xp, x)
    return (coef - p * coef.sum(axis=1, keepdims=True)) * _per_unit(xp, g, reduction)


CROSS_ENTROPY = defop("CrossEntropyLossBackward0", _ce_forward, (_ce_grad,))


# -------------------------------------------------------- cross-entropy, probabilities


def _prob_coef(q, weight, reduction, smoothing):
    """``d loss / d logp`` for probability targets (the mean divides by N, as PyTorch)."""
    q = q * (1.0 - smoothing) + smoothing / q.shape[1]
    if weight is not None:
        q = q * weight
    return -q / q.shape[0] if reduction == "mean" else -q


def _ce_prob_forward(x, q, *, weight, reduction, smoothing):
    losses = (_prob_coef(q, weight, "sum", smoothing) * _log_softmax(x)).sum(axis=1)
    return _reduce(losses, reduction, x.shape[0], x.dtype)


def _ce_prob_grad_x(xp, g, out, x, q, *, weight, reduction, smoothing):
    coef = _prob_coef(q, weight, reduction, smoothing)  # differentiable in q under create_graph
    p = _softmax(xp, x)
    return (coef - p * xp.sum(coef, axis=1, keepdims=True)) * _per_unit(xp, g, reduction)


def _ce_prob_grad_q(xp, g, out, x, q, *, weight, reduction, smoothing):
    logp = x - xp.log(xp.sum(xp.exp(x - array_of(x).max(axis=1, keepdims=True)), axis=1,
                             keepdims=True)) - array_of(x).max(axis=1, keepdims=True)
    scale = -(1.0 - smoothing) / (x.shape[0] if reduction == "mean" else 1.0)
    if weight is not None:
        scale = scale * weight
    return logp * scale * _per_unit(xp, g, reduction)


CROSS_ENTROPY_PROBS = defop("CrossEntropyLossBackward1", _ce_prob_forward,
                            (_ce_prob_grad_x, _ce_prob_grad_q))

# -------------------------------------------------------------------------- nll_loss


def _nll_forward(logp, *, target, weight, ignore_index, reduction, n_classes):
    return _index_loss(logp, target, weight, ignore_index, reduction, 0.0)


def _nll_coef(g, target, weight, ignore_index, reduction, n_classes):
    return _index_coef(n_classes, array_of(g).dtype, target, weight, ignore_index, reduction,
                       0.0)


def _nll_backward_forward(g, logp, *, target, weight, ignore_index, reduction, n_classes):
    coef = _nll_coef(g, target, weight, ignore_index, reduction, n_classes)
    return coef * _per_unit(_backends.raw, g, reduction)


def _nll_backward_grad_g(xp, h, out, g, logp, *, target, weight, ignore_index, reduction,
                         n_classes):
    coef = _nll_coef(h, target, weight, ignore_index, reduction, n_classes)
    per_row = xp.sum(h * coef, axis=1)
    return per_row if reduction == "none" else xp.sum(per_row)


def _nll_backward_grad_logp(xp, h, out, g, logp, **params):
    return xp.zeros(tuple(logp.shape), dtype=logp.dtype)  # the loss is linear in logp


# The gradient is constant in logp, but recorded as a function of it (as PyTorch does), so
# that under create_graph it requires grad and higher derivatives (zero) reach logp.
NLL_LOSS_BACKWARD = defop("NllLossBackwardBackward0", _nll_backward_forward,
                          (_nll_backward_grad_g, _nll_backward_grad_logp), needs=((), ()))


def _nll_grad(xp, g, out, logp, **params):
    return call_op(xp, NLL_LOSS_BACKWARD, g, logp, **params)


# logp is saved only to be the input of NLL_LOSS_BACKWARD; no VJP reads its values.
NLL_LOSS = defop("NllLossBackward0", _nll_forward, (_nll_grad,), needs=((),))


# ------------------------------------------------------------------ public functions


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'mean', 'sum' "
                         "or 'none'")


def _class_weight(weight, n_classes, name):
    if weight is None:
        return None
    w = np.asarray(array_of(weight))
    if w.shape != (n_classes,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{shape_str(w.shape)}")
    return w


def _rows(t, n_classes):
    """``(N, C, d1, ...)`` -> ``(N * d1 * ..., C)``: one row per prediction."""
    if t.ndim <= 2:
        return t
    return t.permute(0, *range(2, t.ndim), 1).reshape(-1, n_classes)


def _check_index_target(target, input_shape, name, ignore_index) -> bool:
    """Raise on a bad dtype, shape or class index; return whether every target is a valid
    class (none is ``ignore_index``)."""
    expected = (input_shape[0],) + tuple(input_shape[2:]) if len(input_shape) > 1 else ()
    if expected and target.ndim and target.shape[0] != expected[0]:
        raise ValueError(f"Expected input batch_size ({expected[0]}) to match target "
                         f"batch_size ({target.shape[0]}): {name} expected target of "
                         f"shape {shape_str(expected)} for input of shape "
                         f"{shape_str(input_shape)}")
    if target.dtype != np.int64 and target.dtype != np.uint8:
        raise RuntimeError(f"{name}: expected target dtype to be int64 (class indices) or, for "
                           f"cross_entropy, floating point probabilities of the input's shape "
                           f"{shape_str(input_shape)}; got {target.dtype} of shape "
                           f"{shape_str(target.shape)}. Convert class indices with .long()")
    if target.shape != expected:
        raise RuntimeError(f"{name}: expected target of shape {shape_str(expected)} for input of "
                           f"shape {shape_str(input_shape)}, got {shape_str(target.shape)}")
    n_classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    if target.size == 0:
        return False
    # Viewed as unsigned, a negative index is huge: one reduction checks both bounds.
    unsigned = target.view(np.uint64) if target.dtype == np.int64 else target
    if np.maximum.reduce(unsigned, axis=None) < n_classes:
        # ignore_index is a real class only when the caller chose one: check it only then.
        return not 0 <= ignore_index < n_classes or not (target == ignore_index).any()
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bad.any():
        value = int(target[bad].flat[0])
        raise IndexError(f"{name}: target {value} is out of bounds: expected class indices in "
                         f"[0, {n_classes - 1}] for {n_classes} classes (or "
                         f"ignore_index={ignore_index})")
    return False


def legacy_reduction(size_average, reduce, stacklevel=3) -> str:
    """The ``reduction`` that PyTorch's deprecated ``size_average`` / ``reduce`` flags mean
    (each None counts as True), with PyTorch's deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=stacklevel)
    return reduction


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` ``(N, C)`` or ``(N, C, d1, ...)`` and ``target``.

    ``target`` holds class indices (int64, ``(N,)`` or ``(N, d1, ...)``), or class
    probabilities (floating point, the shape of ``input``). Log-softmax, the negative
    log-likelihood and the reduction run as one op. With ``reduction='mean'`` and class
    indices, the mean is weighted by ``weight[target]`` over the targets that are not
    ``ignore_index``, as in PyTorch. ``size_average`` and ``reduce`` are PyTorch's deprecated
    way to choose ``reduction``.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.ndim == 1:  # a single sample without batch dim
        batched = target.reshape(1) if target.ndim == 0 or (
            target.ndim == 1 and target._data.dtype.kind != "f") else target.unsqueeze(0)
        out = cross_entropy(input.unsqueeze(0), batched, weight, None, ignore_index, None,
                            reduction, label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    n_classes = input.shape[1]
    weight = _class_weight(weight, n_classes, "cross_entropy")
    smoothing = float(label_smoothing)
    if target._data.dtype.kind == "f" and target.shape == input.shape:
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        out = apply(CROSS_ENTROPY_PROBS, _rows(input, n_classes), _rows(target, n_classes),
                    weight=weight, reduction=reduction, smoothing=smoothing)
    else:
        all_valid = _check_index_target(target._data, input.shape, "cross_entropy",
                                        ignore_index)
        out = apply(CROSS_ENTROPY, _rows(input, n_classes), target=target._data.reshape(-1),
                    weight=weight, ignore_index=ignore_index, reduction=reduction,
                    smoothing=smoothing,
                    plain=_Softmax() if all_valid and weight is None and not smoothing else None)
    if reduction == "none" and input.ndim > 2:
        out = out.reshape((input.shape[0],) + input.shape[2:])
    return out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` ``(N, C)`` or ``(N, C, d1, ...)``
    at int64 class indices ``target``; the mean is weighted as in :func:`cross_entropy`."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.ndim == 1:
        out = nll_loss(input.unsqueeze(0), target.reshape(1), weight, None, ignore_index, None,
                       reduction)
        return out.squeeze(0) if reduction == "none" else out
    weight = _class_weight(weight, input.shape[1], "nll_loss")
    _check_index_target(target._data, input.shape, "nll_loss", ignore_index)
    out = apply(NLL_LOSS, _rows(input, input.shape[1]), target=target._data.reshape(-1),
                weight=weight, ignore_index=ignore_index, reduction=reduction,
                n_classes=input.shape[1])
    if reduction == "none" and input.ndim > 2:
        out = out.reshape((input.shape[0],) + input.shape[2:])
    return out
