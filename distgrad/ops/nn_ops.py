"""Ops for neural networks: ``softmax`` and ``log_softmax``, computed stably."""

from __future__ import annotations

import numpy as np

from ._registry import apply, defop
from .reduce import normalize_dims


def _softmax_forward(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    e = np.exp(shifted)
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _softmax_grad(xp, g, out, x, dim):
    return out * (g - xp.sum(g * out, axis=dim, keepdims=True))


def _log_softmax_forward(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def _log_softmax_grad(xp, g, out, x, dim):
    return g - xp.exp(out) * xp.sum(g, axis=dim, keepdims=True)


def _softmax_jvp(tangents, out, x, dim):
    t = tangents[0]
    return out * (t - np.sum(t * out, axis=dim, keepdims=True))


def _log_softmax_jvp(tangents, out, x, dim):
    t = tangents[0]
    return t - np.sum(t * np.exp(out), axis=dim, keepdims=True)


SOFTMAX = defop("SoftmaxBackward0", _softmax_forward, (_softmax_grad,), save_inputs=False,
                save_output=True, jvp=_softmax_jvp)
LOG_SOFTMAX = defop("LogSoftmaxBackward0", _log_softmax_forward, (_log_softmax_grad,),
                    save_inputs=False, save_output=True, jvp=_log_softmax_jvp)


def softmax(input, dim):
    """``exp(x) / exp(x).sum(dim)``, shifted by the max for stability."""
    return apply(SOFTMAX, input, dim=normalize_dims(dim, input.ndim)[0])


def log_softmax(input, dim):
    """``x - logsumexp(x, dim)``, computed stably; prefer it to ``softmax(x).log()``."""
    return apply(LOG_SOFTMAX, input, dim=normalize_dims(dim, input.ndim)[0])
