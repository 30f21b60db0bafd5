"""The two array namespaces VJPs are written against.

``raw`` runs on NumPy arrays: plain ``backward()``, no recording cost. ``taped`` runs the same
calls as distgrad ops on tensors, so that ``create_graph=True`` records the backward pass and
higher derivatives work. Both expose the same names with NumPy's signatures; arithmetic
operators (``+ - * / **``, ``@``, comparisons, indexing) work on either kind directly.
"""

from __future__ import annotations

import types
from math import prod

import numpy as np

__all__ = ["raw", "taped"]


def _raw_sum(a, axis=None, keepdims=False):
    return _add_reduce(a, axis=axis, keepdims=keepdims)  # ndarray.sum, minus a Python layer


_add_reduce = np.add.reduce


def _raw_index_add(shape, index, grad):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (repeated indices accumulate)."""
    out = np.zeros(shape, dtype=grad.dtype)
    if _is_basic_index(index):
        out[index] = grad
    else:
        np.add.at(out, index, grad)
    return out


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer))
               for item in items)


# NumPy's module-level reshape/transpose/swapaxes/broadcast_to go through Python wrappers
# costing microseconds; the array methods below do the same work for a fraction of that, which
# adds up over the many small nodes of a backward pass.
def _raw_reshape(a, shape):
    return a.reshape(shape)


def _raw_transpose(a, axes=None):
    return a.transpose(axes)


def _raw_swapaxes(a, axis1, axis2):
    return a.swapaxes(axis1, axis2)


def _raw_broadcast_to(a, shape):
    """``np.broadcast_to``, except that a small result (up to 4096 elements) is a fresh array:
    cheaper to make than NumPy's read-only view, and as cheap to use."""
    if isinstance(a, (np.ndarray, np.generic)) and a.shape != shape and prod(shape) <= 4096:
        out = np.empty(shape, a.dtype)
        out[...] = a
        return out
    return np.broadcast_to(a, shape)


raw = types.SimpleNamespace(
    sum=_raw_sum,
    reshape=_raw_reshape,
    broadcast_to=_raw_broadcast_to,
    transpose=_raw_transpose,
    swapaxes=_raw_swapaxes,
    expand_dims=np.expand_dims,
    matmul=np.matmul,
    exp=np.exp,
    log=np.log,
    sqrt=np.sqrt,
    sign=np.sign,
    tanh=np.tanh,
    cos=np.cos,
    sin=np.sin,
    where=np.where,
    cast=lambda a, dtype: a.astype(dtype, copy=False),
    index_add=_raw_index_add,
    zeros=np.zeros,
)


def _ops():
    from .. import ops
    return ops


def _taped_sum(a, axis=None, keepdims=False):
    return _ops().sum(a, dim=axis, keepdim=keepdims)


def _taped_index_add(shape, index, grad):
    return _ops().shape_ops.index_add(shape, index, grad)


def _taped_where(cond, a, b):
    return _ops().where(cond, a, b)


def _taped_zeros(shape, dtype=None):
    from .._factories import zeros
    return zeros(shape, dtype=dtype)


taped = types.SimpleNamespace(
    sum=_taped_sum,
    reshape=lambda a, shape: _ops().reshape(a, shape),
    broadcast_to=lambda a, shape: _ops().expand(a, shape),
    transpose=lambda a, axes=None: _ops().permute(
        a, axes if axes is not None else tuple(reversed(range(a.ndim)))),
    swapaxes=lambda a, i, j: _ops().transpose(a, i, j),
    expand_dims=lambda a, axis: _ops().unsqueeze(a, axis),
    matmul=lambda a, b: _ops().matmul(a, b),
    exp=lambda a: _ops().exp(a),
    log=lambda a: _ops().log(a),
    sqrt=lambda a: _ops().sqrt(a),
    sign=lambda a: _ops().sign(a),
    tanh=lambda a: _ops().tanh(a),
    cos=lambda a: _ops().cos(a),
    sin=lambda a: _ops().sin(a),
    where=_taped_where,
    cast=lambda a, dtype: a.to(dtype),
    index_add=_taped_index_add,
    zeros=_taped_zeros,
)
