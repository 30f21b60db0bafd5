"""More shape ops: ``flip fliplr flipud roll repeat_interleave tile tril triu diag diagonal
diag_embed trace outer kron meshgrid``."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._nn_common import call_op
from ._registry import apply, defop
from .reduce import normalize_dims
from .shape_ops import (
    RESHAPE,
    RESHAPE_COPY,
    _getitem_forward,
    _getitem_grad,
    _index_add_forward,
    _index_add_grad,
    _sizes,
    expand,
    index_select,
    repeat,
    reshape,
)


def _dims(dims, ndim) -> tuple:
    if isinstance(dims, (int, np.integer)):
        dims = (int(dims),)
    axes = normalize_dims(tuple(dims), ndim) if ndim else tuple(dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("dims has duplicates; each dim may appear only once")
    return axes


def _axes_in_order(dims, ndim) -> tuple:
    """Each of ``dims`` as a non-negative axis, in the order given (``normalize_dims`` sorts,
    which would pair roll's shifts, or diagonal's offset, with the wrong dims)."""
    return tuple(normalize_dims(int(d), ndim)[0] for d in dims)


# ------------------------------------------------------------------------ flip, roll


def _flip_forward(x, axes):
    return np.flip(x, axes).copy()


def _flip_grad(xp, g, out, x, axes):
    return call_op(xp, FLIP, g, axes=axes)


def _roll_forward(x, shifts, axes):
    return np.roll(x, shifts, axes)


def _roll_grad(xp, g, out, x, shifts, axes):
    back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return call_op(xp, ROLL, g, shifts=back, axes=axes)


FLIP = defop("FlipBackward0", _flip_forward, (_flip_grad,), save_inputs=False, jvp="linear")
ROLL = defop("RollBackward0", _roll_forward, (_roll_grad,), save_inputs=False, jvp="linear")


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    return apply(FLIP, input, axes=_dims(dims, input.ndim))


def fliplr(input):
    """Flip the columns (dim 1); needs at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip the rows (dim 0); needs at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` by ``shifts`` (of the flattened tensor when ``dims`` is
    None), wrapping around."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            shifts = _sizes((shifts,))
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                                   "dims:0")
            shifts = shifts[0]
        return apply(ROLL, input, shifts=int(shifts), axes=None)
    single = isinstance(shifts, (int, np.integer))
    shifts = (int(shifts),) if single else _sizes((shifts,))
    axes = _axes_in_order(dims if not isinstance(dims, (int, np.integer)) else (dims,),
                          input.ndim)
    if len(shifts) != len(axes):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(axes)}")
    return apply(ROLL, input, shifts=shifts, axes=axes)


# ------------------------------------------------------------- repeat_interleave, tile


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (of the flattened tensor when
    ``dim`` is None). ``repeat_interleave(counts)`` alone repeats each index ``counts[i]``
    times."""
    if repeats is None:
        counts = input._data
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 1-d integer tensor")
        return Tensor._wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    axis = normalize_dims(dim, input.ndim)[0]
    if isinstance(repeats, Tensor):
        repeats = repeats._data
    repeats = np.asarray(repeats)
    if repeats.ndim == 0 or repeats.size == 1 and input.shape[axis] != 1:
        n = int(repeats.reshape(()))
        if n < 0:
            raise RuntimeError("repeats can not be negative")
        moved = input.unsqueeze(axis + 1)
        sizes = list(moved.shape)
        sizes[axis + 1] = n
        shape = list(input.shape)
        shape[axis] *= n
        expanded = expand(moved, sizes)  # then a copy, recorded as PyTorch's view
        return apply(RESHAPE, expanded, shape=tuple(shape), input_shape=expanded.shape)
    if repeats.shape != (input.shape[axis],):
        raise RuntimeError("repeats must have the same size as input along dim")
    if (repeats < 0).any():
        raise RuntimeError("repeats can not be negative")
    index = np.repeat(np.arange(input.shape[axis]), repeats)
    return index_select(input, axis, index)


def tile(input, dims):
    """Repeat ``input`` ``dims[i]`` times along each dim (leading 1s fill in either side)."""
    dims = _sizes((dims,))
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


# ------------------------------------------------------------------- triangles, diagonals


def _tril_forward(x, k):
    return np.tril(x, k)


def _triu_forward(x, k):
    return np.triu(x, k)


def _tril_grad(xp, g, out, x, k):
    return call_op(xp, TRIL, g, k=k)


def _triu_grad(xp, g, out, x, k):
    return call_op(xp, TRIU, g, k=k)


TRIL = defop("TrilBackward0", _tril_forward, (_tril_grad,), save_inputs=False, jvp="linear")
TRIU = defop("TriuBackward0", _triu_forward, (_triu_grad,), save_inputs=False, jvp="linear")


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (on and below ``diagonal``); zeros elsewhere."""
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply(TRIL, input, k=int(diagonal))


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (on and above ``diagonal``); zeros elsewhere."""
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply(TRIU, input, k=int(diagonal))


def _diagonal_forward(x, offset, axis1, axis2, input_shape):
    out = np.diagonal(x, offset, axis1, axis2)
    if x.flags.writeable:
        # NumPy's diagonal is a read-only view; PyTorch's is writable: in place through it
        # changes the input.
        out.flags.writeable = True
    return out


def _diagonal_grad(xp, g, out, x, offset, axis1, axis2, input_shape):
    return xp.index_add(input_shape, _diagonal_index(input_shape, offset, axis1, axis2), g)


DIAGONAL = defop("DiagonalBackward0", _diagonal_forward, (_diagonal_grad,), save_inputs=False,
                 is_view=True, jvp="linear")
DIAG_MATRIX = defop("DiagonalBackward0_copy", _getitem_forward, (_getitem_grad,),
                    save_inputs=False, jvp="linear")
DIAG_EMBED = defop("DiagEmbedBackward0", _index_add_forward, (_index_add_grad,),
                   save_inputs=False, jvp="linear")


def _diagonal_index(shape, offset, axis1, axis2):
    """The advanced index that takes the diagonal of ``shape`` over ``axis1, axis2`` into a
    last dim, keeping the other dims in order (NumPy's and PyTorch's layout)."""
    rows, cols = shape[axis1], shape[axis2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    others = [i for i in range(len(shape)) if i not in (axis1, axis2)]
    ndim = len(others) + 1
    index = [None] * len(shape)
    for position, axis in enumerate(others):
        index[axis] = np.arange(shape[axis]).reshape(
            [-1 if i == position else 1 for i in range(ndim)])
    diag = np.arange(length).reshape([1] * (ndim - 1) + [-1])
    index[axis1] = diag + max(0, -offset)
    index[axis2] = diag + max(0, offset)
    return tuple(index)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal over ``dim1, dim2`` as a last dim: a view of ``input``."""
    axis1, axis2 = _axes_in_order((dim1, dim2), input.ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DIAGONAL, input, offset=int(offset), axis1=axis1, axis2=axis2,
                 input_shape=input.shape)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (over ``dim1, dim2`` of the result) whose ``offset`` diagonals hold the last
    dim of ``input``; zeros elsewhere."""
    ndim = input.ndim + 1
    axis1, axis2 = _axes_in_order((dim1, dim2), ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = input.shape[-1] + abs(int(offset))
    batch = iter(input.shape[:-1])
    shape = tuple(size if i in (axis1, axis2) else next(batch) for i in range(ndim))
    index = _diagonal_index(shape, int(offset), axis1, axis2)
    return apply(DIAG_EMBED, input, shape=shape, index=index)


def diag(input, diagonal=0):
    """A 1-D input becomes a square matrix with it on the ``diagonal``-th diagonal; a 2-D
    input gives that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    index = _diagonal_index(input.shape, int(diagonal), 0, 1)
    return apply(DIAG_MATRIX, input, index=index, input_shape=input.shape)


def _trace_forward(x):
    return np.asarray(np.trace(x))


def _trace_grad(xp, g, out, x):
    eye = np.eye(x.shape[0], x.shape[1], dtype=bool)
    return xp.where(eye, xp.broadcast_to(g, x.shape), 0.0)


TRACE = defop("TraceBackward0", _trace_forward, (_trace_grad,), jvp="linear")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return apply(TRACE, input)


# ----------------------------------------------------------------- outer, kron, meshgrid


def outer(input, vec2):
    """The outer product of two 1-D tensors (``MulBackward0``, as in PyTorch)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return input.reshape(-1, 1) * vec2


ger = outer


def kron(input, other):
    """The Kronecker product: blocks ``input[i...] * other``."""
    ndim = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (ndim - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (ndim - other.ndim) + tuple(other.shape))
    a = a.reshape(tuple(s for n in a.shape for s in (n, 1)))
    b = b.reshape(tuple(s for n in b.shape for s in (1, n)))
    product = a * b
    shape = tuple(m * n for m, n in zip(a.shape[::2], b.shape[1::2]))
    return apply(RESHAPE_COPY, product, shape=shape, input_shape=product.shape)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 0-d or 1-d tensors; ``indexing='ij'`` (the default) or ``'xy'``
    (the first two dims swapped). Each grid is an expanded view of its input."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.numel() for t in order)
    grids = []
    for i, t in enumerate(order):
        view = t.reshape([-1 if j == i else 1 for j in range(len(order))])
        grids.append(expand(view, shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
