"""``lstm_cell`` and ``gru_cell``: one LSTM or GRU time step as a single op, for the time
loops of ``nn.LSTM`` and ``nn.GRU``.

Written out of separate ops, a step records some sixteen nodes (the recurrent matmul, four
gate slices, five activations, the products and sums), and at small sizes a step's cost is
those nodes' Python. As one op it records one node, whose backward computes the gates'
gradient once for all four inputs.

An LSTM's state travels as one array ``hc = [h, c]`` (``(N, 2H)``) so that a step takes and
gives one tensor. Under ``create_graph=True`` the backward runs the step again out of separate
ops and differentiates that, so second derivatives work as for any other op.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _backends
from ._registry import apply, defop

__all__ = ["lstm_cell", "gru_cell"]


def _sigmoid(x):
    out = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


class _StepCache:
    """What the forward leaves for the backward (the gates, ``tanh(c')``), and the gradient
    of the gate pre-activations, computed by the first of the four VJPs that needs it."""

    __slots__ = ("i", "f", "g", "o", "tc", "grad", "dz", "gc", "taped_grad", "taped",
                 "r", "z", "n", "hp_n")

    def __init__(self):
        self.grad = self.taped_grad = None


def _lstm_forward(x_proj, hc, w_hh, b_hh=None, *, cache):
    size = hc.shape[-1] // 2
    z = np.matmul(hc[..., :size], w_hh.T)
    z += x_proj
    if b_hh is not None:
        z += b_hh
    gates = _sigmoid(z)  # i, f and o; g is a tanh
    i, f, o = gates[..., :size], gates[..., size:2 * size], gates[..., 3 * size:]
    g = np.tanh(z[..., 2 * size:3 * size])
    out = np.empty_like(hc, dtype=z.dtype)
    c_next = out[..., size:]
    np.multiply(f, hc[..., size:], out=c_next)
    c_next += i * g
    tc = np.tanh(c_next)
    np.multiply(o, tc, out=out[..., :size])
    cache.i, cache.f, cache.g, cache.o, cache.tc = i, f, g, o, tc
    return out


def _gate_grads(grad, hc, cache):
    """``(dz, dc)``: the gradient of the gate pre-activations ``(N, 4H)`` and of the
    incoming cell state, from the step's output gradient ``[dh', dc']``."""
    if cache.grad is grad:
        return cache.dz, cache.gc
    size = hc.shape[-1] // 2
    i, f, g, o, tc = cache.i, cache.f, cache.g, cache.o, cache.tc
    gh, gc_next = grad[..., :size], grad[..., size:]
    gc = gh * o
    gc *= 1 - tc * tc
    gc += gc_next                      # the gradient reaching c' by both of its uses
    dz = np.empty(grad.shape[:-1] + (4 * size,), dtype=grad.dtype)
    np.multiply(gc, g * i * (1 - i), out=dz[..., :size])
    np.multiply(gc, hc[..., size:] * f * (1 - f), out=dz[..., size:2 * size])
    np.multiply(gc, i * (1 - g * g), out=dz[..., 2 * size:3 * size])
    np.multiply(gh, tc * o * (1 - o), out=dz[..., 3 * size:])
    cache.grad, cache.dz, cache.gc = grad, dz, gc
    return dz, gc


def _grad_x_proj(xp, grad, out, x_proj, hc, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_lstm_step_unfused, grad, x_proj, hc, w_hh, b_hh, cache)[0]
    return _gate_grads(grad, hc, cache)[0]


def _grad_hc(xp, grad, out, x_proj, hc, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_lstm_step_unfused, grad, x_proj, hc, w_hh, b_hh, cache)[1]
    dz, gc = _gate_grads(grad, hc, cache)
    size = hc.shape[-1] // 2
    result = np.empty_like(grad)
    np.matmul(dz, w_hh, out=result[..., :size])
    np.multiply(gc, cache.f, out=result[..., size:])
    return result


def _grad_w_hh(xp, grad, out, x_proj, hc, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_lstm_step_unfused, grad, x_proj, hc, w_hh, b_hh, cache)[2]
    dz = _gate_grads(grad, hc, cache)[0]
    return np.matmul(dz.T, hc[..., :hc.shape[-1] // 2])


def _grad_b_hh(xp, grad, out, x_proj, hc, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_lstm_step_unfused, grad, x_proj, hc, w_hh, b_hh, cache)[3]
    return np.add.reduce(_gate_grads(grad, hc, cache)[0], axis=0)


def _lstm_step_unfused(x_proj, hc, w_hh, b_hh):
    from . import cat, matmul

    size = hc.shape[-1] // 2
    h, c = hc[..., :size], hc[..., size:]
    z = x_proj + matmul(h, w_hh.T)
    if b_hh is not None:
        z = z + b_hh
    i, f = z[..., :size].sigmoid(), z[..., size:2 * size].sigmoid()
    g, o = z[..., 2 * size:3 * size].tanh(), z[..., 3 * size:].sigmoid()
    c_next = f * c + i * g
    return cat([o * c_next.tanh(), c_next], -1)


def _gru_step_unfused(x_proj, h, w_hh, b_hh):
    from . import matmul

    size = h.shape[-1]
    hp = matmul(h, w_hh.T)
    if b_hh is not None:
        hp = hp + b_hh
    r = (x_proj[..., :size] + hp[..., :size]).sigmoid()
    z = (x_proj[..., size:2 * size] + hp[..., size:2 * size]).sigmoid()
    n = (x_proj[..., 2 * size:] + r * hp[..., 2 * size:]).tanh()
    return n + z * (h - n)


def _taped_grads(step, grad, x_proj, state, w_hh, b_hh, cache):
    """The four gradients as differentiable tensors: the step rerun out of separate ops and
    differentiated with ``create_graph`` (once for the four VJPs)."""
    if cache.taped_grad is grad:
        return cache.taped
    from ..autograd import grad as autograd_grad

    inputs = [t for t in (x_proj, state, w_hh, b_hh) if t is not None]
    needed = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    grads = autograd_grad(step(x_proj, state, w_hh, b_hh), needed, grad, create_graph=True,
                          allow_unused=True)
    by_input = dict(zip(map(id, needed), grads))
    cache.taped_grad = grad
    cache.taped = [by_input.get(id(t)) for t in (x_proj, state, w_hh, b_hh)]
    return cache.taped


LSTM_CELL = defop("LstmCellBackward0", _lstm_forward,
                  (_grad_x_proj, _grad_hc, _grad_w_hh, _grad_b_hh))


def lstm_cell(x_proj, hc, w_hh, b_hh=None):
    """One LSTM step: ``x_proj`` is the input's projection ``x @ W_ih.T + b_ih`` ``(N, 4H)``,
    ``hc`` the state ``[h, c]`` ``(N, 2H)``; returns the next ``[h', c']``. Gates in
    PyTorch's order ``i, f, g, o``."""
    inputs = (x_proj, hc, w_hh) if b_hh is None else (x_proj, hc, w_hh, b_hh)
    return apply(LSTM_CELL, *inputs, cache=_StepCache())


# ------------------------------------------------------------------------------ GRU
# PyTorch's form: r, z = sigmoid(x_r + W_hr h + b_hr), sigmoid(x_z + W_hz h + b_hz);
# n = tanh(x_n + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h.


def _gru_forward(x_proj, h, w_hh, b_hh=None, *, cache):
    size = h.shape[-1]
    hp = np.matmul(h, w_hh.T)
    if b_hh is not None:
        hp += b_hh
    rz = x_proj[..., :2 * size] + hp[..., :2 * size]
    rz = _sigmoid(rz)
    r, z = rz[..., :size], rz[..., size:]
    hp_n = hp[..., 2 * size:]
    n = r * hp_n
    n += x_proj[..., 2 * size:]
    np.tanh(n, out=n)
    out = h - n
    out *= z
    out += n
    cache.r, cache.z, cache.n, cache.hp_n = r, z, n, hp_n
    return out


def _gru_gate_grads(grad, h, cache):
    """``(dx, dhp, dh)``: the gradient of the input projection ``(N, 3H)``, of the recurrent
    projection ``(N, 3H)`` and the part of ``h``'s that skips the gates (``z * grad``)."""
    if cache.grad is grad:
        return cache.dz
    size = h.shape[-1]
    r, z, n, hp_n = cache.r, cache.z, cache.n, cache.hp_n
    dn = grad * (1 - z)
    dn *= 1 - n * n                     # through the tanh
    dx = np.empty(grad.shape[:-1] + (3 * size,), dtype=grad.dtype)
    np.multiply(dn * hp_n, r * (1 - r), out=dx[..., :size])
    np.multiply(grad * (h - n), z * (1 - z), out=dx[..., size:2 * size])
    dx[..., 2 * size:] = dn
    dhp = dx.copy()
    dhp[..., 2 * size:] *= r
    cache.grad, cache.dz = grad, (dx, dhp, grad * z)
    return cache.dz


def _gru_grad_x_proj(xp, grad, out, x_proj, h, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_gru_step_unfused, grad, x_proj, h, w_hh, b_hh, cache)[0]
    return _gru_gate_grads(grad, h, cache)[0]


def _gru_grad_h(xp, grad, out, x_proj, h, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_gru_step_unfused, grad, x_proj, h, w_hh, b_hh, cache)[1]
    _, dhp, dh = _gru_gate_grads(grad, h, cache)
    return np.matmul(dhp, w_hh) + dh


def _gru_grad_w_hh(xp, grad, out, x_proj, h, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_gru_step_unfused, grad, x_proj, h, w_hh, b_hh, cache)[2]
    return np.matmul(_gru_gate_grads(grad, h, cache)[1].T, h)


def _gru_grad_b_hh(xp, grad, out, x_proj, h, w_hh, b_hh=None, *, cache):
    if xp is not _backends.raw:
        return _taped_grads(_gru_step_unfused, grad, x_proj, h, w_hh, b_hh, cache)[3]
    return np.add.reduce(_gru_gate_grads(grad, h, cache)[1], axis=0)


GRU_CELL = defop("GruCellBackward0", _gru_forward,
                 (_gru_grad_x_proj, _gru_grad_h, _gru_grad_w_hh, _gru_grad_b_hh))


def gru_cell(x_proj, h, w_hh, b_hh=None):
    """One GRU step: ``x_proj`` is the input's projection ``x @ W_ih.T + b_ih`` ``(N, 3H)``,
    ``h`` the state ``(N, H)``; returns the next ``h``. Gates in PyTorch's order
    ``r, z, n``."""
    inputs = (x_proj, h, w_hh) if b_hh is None else (x_proj, h, w_hh, b_hh)
    return apply(GRU_CELL, *inputs, cache=_StepCache())
