"""Sorting and scans: ``sort argsort msort topk kthvalue`` and ``cumsum cumprod cummax cummin
logcumsumexp``.

The selections (sort, topk, kthvalue, cummax...) are gathers at computed indices: the
forward takes ``x[index]``, the backward adds the gradient back at ``index``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._dtype import to_numpy_dtype
from .._tensor import Tensor
from ._nn_common import call_op
from ._registry import apply, defop
from .reduce import normalize_dims
from .shape_ops import _getitem_forward, _getitem_grad, cast

# PyTorch's ``torch.return_types``: named (values, indices) pairs.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])
for _t in (sort_result, topk_result, kthvalue_result, cummax_result, cummin_result):
    _t.__module__ = "distgrad.return_types"

SORT = defop("SortBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
             jvp="linear")
TOPK = defop("TopkBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
             jvp="linear")
KTHVALUE = defop("KthvalueBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
                 jvp="linear")
CUMMAX = defop("CummaxBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
               jvp="linear")
CUMMIN = defop("CumminBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
               jvp="linear")


def _axis(dim, ndim):
    return normalize_dims(dim, max(ndim, 1))[0]


def _full_index(indices, axis):
    """The advanced index selecting ``indices`` along ``axis`` (and everything else in place)."""
    grid = np.ogrid[tuple(slice(n) for n in indices.shape)]
    return tuple(indices if i == axis else grid[i] for i in range(indices.ndim))


def _argsort(x, axis, descending):
    """Stable argsort; descending keeps equal elements in their original order and puts NaN
    first, as PyTorch does."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flipped = np.flip(x, axis)
    return (n - 1) - np.flip(np.argsort(flipped, axis=axis, kind="stable"), axis)


def _select(spec, input, indices, axis):
    """``input`` gathered at ``indices`` along ``axis``, recorded as ``spec``."""
    if input.ndim == 0:
        return apply(spec, input, index=(), input_shape=())
    return apply(spec, input, index=_full_index(indices, axis), input_shape=input.shape)


def _wrap_indices(indices):
    return Tensor._wrap(np.asarray(indices, dtype=np.int64))


def sort(input, dim=-1, descending=False, stable=False):
    """Sort along ``dim``; returns ``(values, indices)``. The sort is always stable."""
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return sort_result(_select(SORT, input, None, 0), _wrap_indices(0))
    indices = _argsort(input._data, axis, descending)
    return sort_result(_select(SORT, input, indices, axis), _wrap_indices(indices))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim``."""
    if input.ndim == 0:
        _axis(dim, 0)
        return _wrap_indices(0)
    return _wrap_indices(_argsort(input._data, _axis(dim, input.ndim), descending))


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim``, as
    ``(values, indices)``, in sorted order."""
    axis = _axis(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return topk_result(_select(TOPK, input, None, 0), _wrap_indices(0))
    indices = np.take(_argsort(input._data, axis, largest), np.arange(k), axis=axis)
    return topk_result(_select(TOPK, input, indices, axis), _wrap_indices(indices))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (1-based), as ``(values, indices)``."""
    axis = _axis(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if input.ndim == 0:
        return kthvalue_result(_select(KTHVALUE, input, None, 0), _wrap_indices(0))
    indices = np.take(_argsort(input._data, axis, False), [k - 1], axis=axis)
    index = _full_index(indices, axis)
    if not keepdim:
        indices = indices.squeeze(axis)
        index = tuple(i.squeeze(axis) for i in index)
    values = apply(KTHVALUE, input, index=index, input_shape=input.shape)
    return kthvalue_result(values, _wrap_indices(indices))


# ------------------------------------------------------------------------- scans


def _scan_dtype(x, dtype):
    if dtype is not None:
        return x.astype(to_numpy_dtype(dtype))
    return x.astype(np.int64) if x.dtype.kind in "biu" else x


def _cumsum_forward(x, axis):
    return np.cumsum(x, axis=axis)


def _reverse_cumsum_forward(x, axis):
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumsum_grad(xp, g, out, x, axis):
    return call_op(xp, REVERSE_CUMSUM, g, axis=axis)


def _reverse_cumsum_grad(xp, g, out, x, axis):
    return call_op(xp, CUMSUM, g, axis=axis)


CUMSUM = defop("CumsumBackward0", _cumsum_forward, (_cumsum_grad,), save_inputs=False,
               jvp="linear")
REVERSE_CUMSUM = defop("CumsumBackward0", _reverse_cumsum_forward, (_reverse_cumsum_grad,),
                       save_inputs=False, jvp="linear")


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; integer and bool inputs give int64."""
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        input = input.reshape(1)
        out = apply(CUMSUM, _cast_for_scan(input, dtype), axis=0)
        return out.reshape(())
    return apply(CUMSUM, _cast_for_scan(input, dtype), axis=axis)


def _cast_for_scan(input, dtype):
    return cast(input, _scan_dtype(input._data[:0], dtype).dtype)


def _cumprod_forward(x, axis):
    return np.cumprod(x, axis=axis)


def _cumprod_grad(xp, g, out, x, axis):
    if isinstance(x, Tensor):
        return _cumprod_grad_taped(g, x, axis)
    # grad_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j, computed exactly with zeros: before
    # a row's first zero it is revcumsum(g * out) / x; at the first zero, the product of the
    # elements before it times revcumsum over the products after it; after it, 0.
    if x.size == 0:
        return np.zeros(x.shape, dtype=np.result_type(g, x))
    moved_x = np.moveaxis(x, axis, -1)
    moved_g = np.moveaxis(g, axis, -1)
    moved_out = np.moveaxis(out, axis, -1)
    n = moved_x.shape[-1]
    flat_x = moved_x.reshape(-1, n)
    flat_g = moved_g.reshape(-1, n)
    flat_out = moved_out.reshape(-1, n)
    result = np.zeros(flat_x.shape, dtype=np.result_type(g, x))
    zero = flat_x == 0
    plain = ~zero.any(axis=1)
    if plain.any():
        rows = np.flip(np.cumsum(np.flip(flat_g[plain] * flat_out[plain], -1), -1), -1)
        result[plain] = rows / flat_x[plain]
    for r in np.flatnonzero(~plain):
        z = int(np.argmax(zero[r]))
        xr, gr = flat_x[r], flat_g[r]
        if z:
            result[r, :z] = np.flip(np.cumsum(np.flip(gr[:z] * flat_out[r, :z])))[:] / xr[:z]
            # the terms i >= z of positions k < z vanish (out_i = 0 there)
        before = np.prod(xr[:z])
        after = np.cumprod(np.concatenate([[1.0], xr[z + 1:]]))
        result[r, z] = before * np.sum(gr[z:] * after)
    return np.moveaxis(result.reshape(moved_x.shape), -1, axis)


def _cumprod_grad_taped(g, x, axis):
    """The same gradient as recorded tensor ops (for ``create_graph``): row k of an n x n
    matrix holds the input with element k replaced by 1; its cumulative product at i >= k is
    the product of the others, which weights g_i. O(n²) memory."""
    from . import elementwise as ew

    moved = x.transpose(axis, -1)
    gm = g.transpose(axis, -1)
    n = moved.shape[-1]
    eye = np.eye(n, dtype=bool)
    others = ew.where(eye, 1.0, moved.unsqueeze(-2))          # [..., k, j]
    prods = cumprod(others, -1)                               # [..., k, i]
    upper = np.triu(np.ones((n, n)))                          # i >= k
    grad = (prods * upper * gm.unsqueeze(-2)).sum(-1)         # [..., k]
    return grad.transpose(axis, -1)


CUMPROD = defop("CumprodBackward0", _cumprod_forward, (_cumprod_grad,), save_output=True)


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``; the gradient is exact where inputs are zero."""
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return cumprod(input.reshape(1), 0, dtype=dtype).reshape(())
    return apply(CUMPROD, _cast_for_scan(input, dtype), axis=axis)


def _cum_extreme(input, dim, spec, accumulate, result_type):
    axis = _axis(dim, input.ndim)
    x = input._data
    if input.ndim == 0:
        return result_type(_select(spec, input, None, 0), _wrap_indices(0))
    values = accumulate(x, axis=axis)
    size = x.shape[axis]
    positions = np.arange(size).reshape([size if i == axis else 1 for i in range(x.ndim)])
    # An element sets the running extreme (ties included: the last index wins) or is NaN.
    sets = (x == values) | (np.isnan(x) if x.dtype.kind == "f" else False)
    indices = np.maximum.accumulate(np.where(sets, positions, 0), axis=axis)
    return result_type(_select(spec, input, indices, axis), _wrap_indices(indices))


def cummax(input, dim):
    """Running maximum along ``dim`` and the index where each was attained."""
    return _cum_extreme(input, dim, CUMMAX, np.maximum.accumulate, cummax_result)


def cummin(input, dim):
    """Running minimum along ``dim`` and the index where each was attained."""
    return _cum_extreme(input, dim, CUMMIN, np.minimum.accumulate, cummin_result)


def _logcumsumexp_forward(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


def _logcumsumexp_grads(reverse_spec):
    """The VJP of a (reverse) log-cumsum-exp: grad_k = sum_{i >= k} g_i exp(x_k - out_i)
    (i <= k for the reverse scan), summed in log space, split by the sign of g, so that
    nothing overflows. Each direction's VJP is the other direction's scan."""
    def vjp(xp, g, out, x, axis):
        if isinstance(x, Tensor):
            return _logcumsumexp_grad_taped(g, out, x, axis, reverse_spec == "forward")
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = xp.log(xp.where(g > 0, g, 0.0)) - out
            neg = xp.log(xp.where(g < 0, -g, 0.0)) - out
        rev_pos = call_op(xp, _LCSE[reverse_spec], pos, axis=axis)
        rev_neg = call_op(xp, _LCSE[reverse_spec], neg, axis=axis)
        return xp.exp(rev_pos + x) - xp.exp(rev_neg + x)
    return vjp


def _logcumsumexp_grad_taped(g, out, x, axis, reverse):
    """The same gradient as recorded tensor ops (for ``create_graph``), as an n x n matrix
    of exp(x_k - out_i) over the pairs i >= k (i <= k for the reverse scan)."""
    from . import elementwise as ew

    xm, gm, om = (t.transpose(axis, -1) for t in (x, g, out))
    n = xm.shape[-1]
    pairs = np.tril(np.ones((n, n), dtype=bool)) if reverse else np.triu(
        np.ones((n, n), dtype=bool))                                  # [k, i]
    weights = ew.exp(ew.where(pairs, xm.unsqueeze(-1) - om.unsqueeze(-2), -np.inf))
    return (weights * gm.unsqueeze(-2)).sum(-1).transpose(axis, -1)


def _reverse_logcumsumexp_forward(x, axis):
    return np.flip(np.logaddexp.accumulate(np.flip(x, axis), axis=axis), axis)


_LCSE = {}
LOGCUMSUMEXP = defop("LogcumsumexpBackward0", _logcumsumexp_forward,
                     (_logcumsumexp_grads("reverse"),), save_output=True)
REVERSE_LOGCUMSUMEXP = defop("LogcumsumexpBackward0", _reverse_logcumsumexp_forward,
                             (_logcumsumexp_grads("forward"),), save_output=True)
_LCSE.update(forward=LOGCUMSUMEXP, reverse=REVERSE_LOGCUMSUMEXP)


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow."""
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return input.clone()
    with np.errstate(divide="ignore", invalid="ignore"):
        return apply(LOGCUMSUMEXP, input, axis=axis)
