"""Scatter and selection: ``scatter scatter_add`` (and in place), ``masked_select``, and the
ops without a gradient: ``nonzero argwhere unique bincount isin searchsorted``."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import inplace
from ._broadcast import unbroadcast
from ._registry import apply, defop
from .reduce import normalize_dims


def _array(x):
    return x._data if isinstance(x, Tensor) else x


# ------------------------------------------------------------------------ scatter


def _scatter_forward(x, src, index, src_slice, src_shape):
    out = x.copy()
    out[index] = src[src_slice] if np.ndim(src) else src
    return out


def _scatter_add_forward(x, src, index, src_slice, src_shape):
    out = x.copy()
    np.add.at(out, index, src[src_slice])
    return out


def _scatter_grad_input(xp, g, out, x, src, index, src_slice, src_shape):
    kept = np.ones(g.shape, dtype=bool)
    kept[index] = False
    return g * kept


def _scatter_add_grad_input(xp, g, out, x, src, index, src_slice, src_shape):
    return g


def _scatter_grad_src(xp, g, out, x, src, index, src_slice, src_shape):
    taken = g[index]
    if taken.shape == src_shape:
        return taken
    return xp.index_add(src_shape, src_slice, taken)  # src larger than index: zeros elsewhere


SCATTER = defop("ScatterBackward0", _scatter_forward, (_scatter_grad_input, _scatter_grad_src),
                save_inputs=False, jvp="linear")
SCATTER_VALUE = defop("ScatterBackward1", _scatter_forward, (_scatter_grad_input, None),
                      save_inputs=False, jvp="linear")
SCATTER_ADD = defop("ScatterAddBackward0", _scatter_add_forward,
                    (_scatter_add_grad_input, _scatter_grad_src), save_inputs=False,
                    jvp="linear")


def _scatter_index(input, dim, index, src):
    """The advanced index into ``input`` that ``index`` (along ``dim``) describes, and the
    slice of ``src`` it takes values from."""
    index = np.asarray(_array(index))
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"scatter(): Expected dtype int64 for index, got {index.dtype}")
    if input.ndim == 0 and index.ndim <= 1:
        return (), ()
    axis = normalize_dims(dim, input.ndim)[0]
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    for d, n in enumerate(index.shape):
        if d != axis and n > input.shape[d]:
            raise RuntimeError(f"Expected index {list(index.shape)} to be smaller than self "
                               f"{list(input.shape)} apart from dimension {axis}")
    if index.size and (index.min() < -input.shape[axis] or index.max() >= input.shape[axis]):
        raise RuntimeError(f"index {int(index.max())} is out of bounds for dimension {axis} "
                           f"with size {input.shape[axis]}")
    if isinstance(src, Tensor):
        if src.ndim != input.ndim or any(n > m for n, m in zip(index.shape, src.shape)):
            raise RuntimeError(f"Expected index {list(index.shape)} to be smaller than src "
                               f"{list(src.shape)}")
    grid = np.ogrid[tuple(slice(n) for n in index.shape)]
    full = tuple(index if d == axis else grid[d] for d in range(index.ndim))
    return full, tuple(slice(n) for n in index.shape)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along
    ``dim``: ``out[i][index[i][j]] = src[i][j]`` for ``dim=1``."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add or "
                                  "scatter_reduce's equivalent with index_add")
    if src is None:
        src = value
    full, src_slice = _scatter_index(input, dim, index, src)
    if isinstance(src, Tensor):
        return apply(SCATTER, input, src, index=full, src_slice=src_slice,
                 src_shape=np.shape(_array(src)))
    return apply(SCATTER_VALUE, input, src, index=full, src_slice=src_slice,
                 src_shape=np.shape(_array(src)))


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices
    accumulate)."""
    full, src_slice = _scatter_index(input, dim, index, src)
    return apply(SCATTER_ADD, input, src, index=full, src_slice=src_slice,
                 src_shape=np.shape(_array(src)))


def _in_place(t, op, src, *args, **kwargs):
    if inplace._records(t, src):
        return inplace._rebase(t, op, *args, **kwargs)
    return inplace.unary_(t, op, *args, **kwargs)


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    """:func:`scatter` in place."""
    src = value if src is None else src
    return _in_place(input, scatter, src, dim, index, src, reduce=reduce)


def scatter_add_(input, dim, index, src):
    """:func:`scatter_add` in place."""
    return _in_place(input, scatter_add, src, dim, index, src)


# -------------------------------------------------------------------- masked_select


def _masked_select_forward(x, mask, input_shape):
    return np.broadcast_to(x, mask.shape)[mask]


def _masked_select_grad(xp, g, out, x, mask, input_shape):
    full = xp.index_add(mask.shape, mask, g)
    return unbroadcast(xp, full, input_shape)


MASKED_SELECT = defop("MaskedSelectBackward0", _masked_select_forward,
                      (_masked_select_grad,), save_inputs=False, jvp="linear")


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast with it) is true, as a 1-D tensor."""
    mask = np.asarray(_array(mask))
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    shape = np.broadcast_shapes(input.shape, mask.shape)
    return apply(MASKED_SELECT, input, mask=np.broadcast_to(mask, shape),
                 input_shape=input.shape)


# --------------------------------------------------------------- no-gradient selections


def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements: an ``(n, ndim)`` int64 tensor, or with ``as_tuple``
    one 1-D tensor per dim."""
    x = _array(input)
    if as_tuple:
        if x.ndim == 0:
            return (Tensor._wrap(np.zeros(int(x != 0), dtype=np.int64)),)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(x))
    return Tensor._wrap(np.argwhere(x).astype(np.int64))


def argwhere(input):
    """``nonzero(input)``: an ``(n, ndim)`` int64 tensor of indices."""
    return Tensor._wrap(np.argwhere(_array(input)).astype(np.int64))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (sorted), and optionally the inverse indices (each element's
    position in the result) and the counts."""
    x = _array(input)
    result = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
    values, inverse, counts = result
    if dim is None:
        inverse = inverse.reshape(x.shape)
    else:
        inverse = inverse.reshape(-1)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """The number of occurrences of each value in a 1-D non-negative integer tensor (the sum
    of ``weights`` there, when given)."""
    x = _array(input)
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if x.size and x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _array(weights)
    if x.size == 0:  # PyTorch: no input gives int64 zeros, whatever the weights' dtype
        return Tensor._wrap(np.zeros(minlength, dtype=np.int64))
    out = np.bincount(x, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (bool, shaped like
    ``elements``)."""
    x = np.asarray(_array(elements))
    return Tensor._wrap(np.asarray(np.isin(x, np.asarray(_array(test_elements)),
                                           assume_unique=assume_unique, invert=invert)))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where ``input``'s values would be inserted in the last dim of ``sorted_sequence`` to
    keep it sorted (``right``/``side='right'``: after equal values)."""
    seq = _array(sorted_sequence)
    values = np.asarray(_array(input))
    side = side or ("right" if right else "left")
    order = None if sorter is None else np.asarray(_array(sorter))
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim == 1:
        return Tensor._wrap(np.asarray(np.searchsorted(seq, values, side=side, sorter=order),
                                       dtype=dtype))
    if seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           "tensor must match")
    n_rows = int(np.prod(seq.shape[:-1]))  # (reshape(-1, 0) fails on empty inputs)
    rows_seq = seq.reshape(n_rows, seq.shape[-1])
    rows_val = values.reshape(n_rows, values.shape[-1])
    rows_ord = None if order is None else order.reshape(n_rows, order.shape[-1])
    out = np.zeros(rows_val.shape, dtype=dtype)
    for r, (s, v) in enumerate(zip(rows_seq, rows_val)):
        out[r] = np.searchsorted(s, v, side=side,
                                 sorter=None if rows_ord is None else rows_ord[r])
    return Tensor._wrap(out.reshape(values.shape))
