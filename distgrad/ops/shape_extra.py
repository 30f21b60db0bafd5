"""Shape and view functions built on the core ones: ``narrow movedim moveaxis swapaxes
swapdims tensor_split hsplit vsplit dsplit broadcast_to broadcast_tensors atleast_1d
atleast_2d atleast_3d hstack vstack dstack column_stack row_stack rot90 take_along_dim take
block_diag cartesian_prod combinations``, and ``Tensor.unfold``'s sliding windows
(:func:`unfold_windows`).

Most are compositions of slicing, ``permute``, ``expand``, ``cat``/``stack`` and ``gather``,
so they record PyTorch's nodes and return views where PyTorch does. ``rot90``, ``take``,
``block_diag`` and the windows have rows of their own, each linear with its transpose as its
gradient, so all of them differentiate to any order.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._tensor import Tensor
from ._nn_common import call_op
from ._registry import apply, defop
from .reduce import normalize_dims
from .shape_more import meshgrid
from .shape_ops import (
    PERMUTE,
    _dim,
    _sizes,
    cat,
    expand,
    gather,
    getitem,
    reshape,
    stack,
    transpose,
    unsqueeze,
)

__all__ = [
    "narrow", "movedim", "moveaxis", "swapaxes", "swapdims", "tensor_split", "hsplit",
    "vsplit", "dsplit", "broadcast_to", "broadcast_tensors", "atleast_1d", "atleast_2d",
    "atleast_3d", "hstack", "vstack", "dstack", "column_stack", "row_stack", "rot90",
    "take_along_dim", "take", "block_diag", "cartesian_prod", "combinations", "unfold_windows",
]

# PyTorch's ScalarType names, for its error messages.
_SCALAR_TYPE_NAMES = {
    np.dtype(np.bool_): "Bool", np.dtype(np.uint8): "Byte", np.dtype(np.int8): "Char",
    np.dtype(np.int16): "Short", np.dtype(np.int32): "Int", np.dtype(np.int64): "Long",
    np.dtype(np.float16): "Half", np.dtype(np.float32): "Float", np.dtype(np.float64): "Double",
    np.dtype(np.complex64): "ComplexFloat", np.dtype(np.complex128): "ComplexDouble",
}


def _scalar_type(array) -> str:
    return _SCALAR_TYPE_NAMES.get(array.dtype, str(array.dtype))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _int_arg(value, fn, name):
    if not _is_int(value):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value)


def _tensor_list(fn, tensors) -> list:
    """The tensors of a ``TensorList`` argument, refusing anything else as PyTorch does."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def _varargs_tensors(fn, tensors) -> list:
    """``f(a, b)`` or ``f([a, b])``: the tensors of a variadic function."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return _tensor_list(fn, tuple(tensors))


# ------------------------------------------------------------------- narrow, movedim


def narrow(input, dim, start, length):
    """Return a view of ``input`` narrowed to ``length`` elements of ``dim`` from ``start``
    (negative ``start`` counts from the end). The view shares memory with ``input``.

    Args:
        input: the tensor to narrow.
        dim: the dimension along which to narrow.
        start: the first index (an int, or a 0-dim integer tensor).
        length: the number of elements to keep.
    """
    if isinstance(start, Tensor):
        if start.ndim != 0 or start._data.dtype.kind not in "iu":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start._data)
    start = _int_arg(start, "narrow", "start")
    length = _int_arg(length, "narrow", "length")
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return getitem(input, (slice(None),) * axis + (slice(start, start + length),))


def _dim_list(dims) -> list:
    return [int(dims)] if _is_int(dims) else [int(d) for d in dims]


def movedim(input, source, destination):
    """Move the dimension(s) of ``input`` at ``source`` to ``destination``; the others keep
    their order. Returns a view of ``input``.

    Args:
        input: the input tensor.
        source (int or tuple of ints): original positions of the dims to move (unique).
        destination (int or tuple of ints): their positions in the result (unique).
    """
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    ndim = input.ndim
    norm_src = [_dim(d, ndim) for d in src]
    norm_dst = [_dim(d, ndim) for d in dst]
    if len(set(norm_src)) != len(norm_src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(norm_dst)) != len(norm_dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if ndim == 0:
        return getitem(input, ())  # PyTorch's alias of a scalar
    order = [d for d in range(ndim) if d not in norm_src]
    for d, s in sorted(zip(norm_dst, norm_src)):
        order.insert(d, s)
    return apply(PERMUTE, input, dims=tuple(order))


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    """Alias of :func:`transpose`: a view of ``input`` with ``axis0`` and ``axis1`` swapped."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    """Alias of :func:`transpose`: a view of ``input`` with ``dim0`` and ``dim1`` swapped."""
    return swapaxes(input, dim0, dim1)


# ------------------------------------------------------------------------- splitting


def _split_along(input, axis, bounds) -> tuple:
    """The views ``input[..., start:end]`` along ``axis`` for each ``(start, end)``: each one
    a slice of its own (``SliceBackward0``), as PyTorch's tensor_split records them."""
    lead = (slice(None),) * axis
    return tuple(getitem(input, lead + (slice(start, end),)) for start, end in bounds)


def _split_arg(value, fn):
    """An int of sections, or a list of indices, from an int, a sequence or a tensor."""
    if isinstance(value, Tensor):
        data = value._data
        if data.dtype != np.int64:
            raise RuntimeError(f"{fn} expected tensor_indices_or_sections to have dtype of "
                               f"long, but got {_scalar_type(data)}")
        if data.ndim > 1:
            raise RuntimeError(f"{fn} expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {data.ndim} dims")
        return int(data) if data.ndim == 0 else [int(i) for i in data]
    if _is_int(value):
        return int(value)
    if isinstance(value, (list, tuple)) and all(_is_int(i) for i in value):
        return [int(i) for i in value]
    raise TypeError(f"{fn}(): indices_or_sections must be an int, a sequence of ints or an "
                    f"integer tensor, not {type(value).__name__}")


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Split ``input`` along ``dim`` into views, as ``numpy.array_split``.

    With an int ``n`` of sections, the first ``size % n`` pieces have ``size // n + 1``
    elements and the rest ``size // n`` (so some may be empty). With a list of indices, the
    pieces are ``input[:i0], input[i0:i1], ..., input[ik:]`` along ``dim`` (Python slicing
    rules: indices may be negative, past the end, or out of order, giving empty pieces).
    A 0-dim integer tensor counts as sections, a 1-dim one as indices.

    Args:
        input: the tensor to split (at least 1-dimensional).
        indices_or_sections (int, list or tuple of ints, or tensor): how to split.
        dim (int): the dimension to split along. Default: 0.
    """
    given = [a for a in (indices_or_sections, sections, indices, tensor_indices_or_sections)
             if a is not None]
    if len(given) != 1:
        raise TypeError("tensor_split() takes one of indices_or_sections, sections, indices "
                        "or tensor_indices_or_sections")
    how = _split_arg(given[0], "tensor_split")
    if input.ndim == 0:
        raise RuntimeError(f"tensor_split expected at least a 1-dimensional tensor, but got a "
                           f"tensor with {input.ndim} dims")
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    if isinstance(how, int):
        if how <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {how}")
        small, extra = divmod(size, how)
        bounds, start = [], 0
        for i in range(how):
            end = start + small + (1 if i < extra else 0)
            bounds.append((start, end))
            start = end
    else:
        starts = [0, *how]
        bounds = list(zip(starts, [*how, None]))
    return _split_along(input, axis, bounds)


def _split_at(input, how, axis, fn, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{fn} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    how = _split_arg(how, fn)
    if isinstance(how, int):
        size = input.shape[axis]
        if how == 0 or size % how:
            raise RuntimeError(f"torch.{fn} attempted to split along dimension {axis}, but the "
                               f"size of the dimension {size} is not divisible by the "
                               f"split_size {how}!")
    return tensor_split(input, how, axis)


def _one_split_arg(fn, indices_or_sections, sections, indices):
    given = [a for a in (indices_or_sections, sections, indices) if a is not None]
    if len(given) != 1:
        raise TypeError(f"{fn}() takes one of indices_or_sections, sections or indices")
    return given[0]


def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split ``input`` horizontally: along dim 1, or dim 0 of a 1-D tensor. An int splits
    into that many equal views (the size must divide evenly); a list of indices splits as
    :func:`tensor_split` does."""
    how = _one_split_arg("hsplit", indices_or_sections, sections, indices)
    return _split_at(input, how, 0 if input.ndim == 1 else 1, "hsplit", 1)


def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split a tensor of at least 2 dims vertically (along dim 0) into views; see
    :func:`hsplit`."""
    how = _one_split_arg("vsplit", indices_or_sections, sections, indices)
    return _split_at(input, how, 0, "vsplit", 2)


def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """Split a tensor of at least 3 dims depthwise (along dim 2) into views; see
    :func:`hsplit`."""
    how = _one_split_arg("dsplit", indices_or_sections, sections, indices)
    return _split_at(input, how, 2, "dsplit", 3)


# ---------------------------------------------------------------------- broadcasting


def _broadcast_pair(a, b) -> tuple:
    """The broadcast of shapes ``a`` and ``b``, with PyTorch's error."""
    ndim = max(len(a), len(b))
    out = []
    for i in range(ndim):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if offset < len(a) else 1
        size_b = b[len(b) - 1 - offset] if offset < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor "
                               f"b ({size_b}) at non-singleton dimension {i}")
        out.append(size_b if size_a == 1 else size_a)
    return tuple(out)


def broadcast_to(input, size):
    """Broadcast ``input`` to shape ``size`` (-1 keeps an existing dim's size). The result
    is a view of ``input``, as :meth:`Tensor.expand`: no memory is copied."""
    sizes = _sizes((size,))
    ndim = len(sizes)
    if ndim >= input.ndim:
        shape = []
        for i, target in enumerate(sizes):
            dim = i - (ndim - input.ndim)
            current = input.shape[dim] if dim >= 0 else 1
            if target == -1:
                if dim < 0:
                    raise RuntimeError(f"The expanded size of the tensor ({target}) isn't "
                                       f"allowed in a leading, non-existing dimension {i}")
                target = current
            if target != current and current != 1:
                raise RuntimeError(f"The expanded size of the tensor ({target}) must match the "
                                   f"existing size ({current}) at non-singleton dimension {i}."
                                   f"  Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(input.shape)}")
            if target < 0:
                raise RuntimeError(f"broadcast_to: negative size {target} in {list(sizes)}")
            shape.append(target)
        sizes = tuple(shape)
    return expand(input, sizes)


def broadcast_tensors(*tensors):
    """Broadcast the given tensors against each other: a tuple of views of them, all of the
    broadcast shape. A tensor that already has that shape is returned as it is."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    shape = ()
    for t in tensors:
        shape = _broadcast_pair(shape, t.shape)
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


# -------------------------------------------------------------------------- atleast


def _atleast(fn, one, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return one(tensors[0])
    return tuple(one(t) for t in _varargs_tensors(fn, tensors))


def _1d(t):
    return reshape(t, (1,)) if t.ndim == 0 else t


def _2d(t):
    if t.ndim == 0:
        return reshape(t, (1, 1))
    return unsqueeze(t, 0) if t.ndim == 1 else t


def _3d(t):
    if t.ndim == 0:
        return reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if t.ndim == 2 else t


def atleast_1d(*tensors):
    """Return each 0-dim input as a 1-element 1-D view; tensors with dims are returned as
    they are. One tensor gives a tensor; several (or a sequence) give a tuple."""
    return _atleast("atleast_1d", _1d, tensors)


def atleast_2d(*tensors):
    """Return each input viewed with at least 2 dims: a 0-dim tensor as ``(1, 1)``, a 1-D
    one of size ``n`` as ``(1, n)``. One tensor gives a tensor; several give a tuple."""
    return _atleast("atleast_2d", _2d, tensors)


def atleast_3d(*tensors):
    """Return each input viewed with at least 3 dims: a 0-dim tensor as ``(1, 1, 1)``, a
    1-D one of size ``n`` as ``(1, n, 1)``, a 2-D ``(m, n)`` one as ``(m, n, 1)``. One tensor
    gives a tensor; several give a tuple."""
    return _atleast("atleast_3d", _3d, tensors)


# ---------------------------------------------------------------------------- stacks


def _cat(fn, tensors, dim):
    """:func:`cat` with PyTorch's checks and messages for the stacking functions."""
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    first = tensors[0]
    axis = _dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} "
                               f"and {t.ndim}")
        for d in range(t.ndim):
            if d != axis and t.shape[d] != first.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {first.shape[d]} but got size {t.shape[d]} "
                                   f"for tensor number {i} in the list.")
    return cat(tensors, axis)


def hstack(tensors):
    """Stack tensors horizontally: concatenate along dim 0 for 1-D tensors (0-dim ones count
    as 1-D), else along dim 1."""
    tensors = [_1d(t) for t in _tensor_list("hstack", tensors)]
    return _cat("hstack", tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Stack tensors vertically (row-wise): each is made at least 2-D, as :func:`atleast_2d`,
    then all are concatenated along dim 0."""
    tensors = [_2d(t) for t in _tensor_list("vstack", tensors)]
    return _cat("vstack", tensors, 0)


row_stack = vstack


def dstack(tensors):
    """Stack tensors depthwise: each is made at least 3-D, as :func:`atleast_3d`, then all
    are concatenated along dim 2."""
    tensors = [_3d(t) for t in _tensor_list("dstack", tensors)]
    return _cat("dstack", tensors, 2)


def column_stack(tensors):
    """Stack tensors as columns: 0-dim and 1-D tensors of ``n`` elements become ``(n, 1)``
    columns, then all are concatenated along dim 1."""
    tensors = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t
               for t in _tensor_list("column_stack", tensors)]
    return _cat("column_stack", tensors, 1)


# ----------------------------------------------------------------------------- rot90


def _rot90_forward(x, k, axes):
    return np.ascontiguousarray(np.rot90(x, k, axes))


def _rot90_grad(xp, g, out, x, k, axes):
    return call_op(xp, ROT90, g, k=-k, axes=axes)


ROT90 = defop("Rot90Backward0", _rot90_forward, (_rot90_grad,), save_inputs=False,
              jvp="linear", saved_params=("k",))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate ``input`` by 90 degrees ``k`` times in the plane of ``dims``, from the first
    dim towards the second (a copy). Negative ``k`` rotates the other way.

    Args:
        input: a tensor with at least 2 dims.
        k (int): the number of quarter turns. Default: 1.
        dims (a pair of ints): the plane to rotate in. Default: ``(0, 1)``.
    """
    k = _int_arg(k, "rot90", "k")
    if _is_int(dims) or not isinstance(dims, (list, tuple)):
        raise TypeError(f"rot90(): argument 'dims' (position 3) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    dims = [int(d) for d in dims]
    ndim = input.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    axes = (_dim(dims[0], ndim), _dim(dims[1], ndim))
    if axes[0] == axes[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    return apply(ROT90, input, k=k, axes=axes)


# ------------------------------------------------------------------------------ take


def _take_forward(x, index, input_shape):
    return x.reshape(-1)[index]


def _take_grad(xp, g, out, x, index, input_shape):
    size = int(np.prod(input_shape))
    return xp.reshape(xp.index_add((size,), index, g), input_shape)


TAKE = defop("TakeBackward0", _take_forward, (_take_grad,), save_inputs=False, jvp="linear")


def _index_array(index, fn, argument):
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument '{argument}' (position 2) must be Tensor, not "
                        f"{type(index).__name__}")
    return index._data


def take(input, index):
    """The elements of ``input``, read as a 1-D tensor, at ``index`` (a long tensor; negative
    indices count from the end). The result has the shape of ``index``."""
    index = _index_array(index, "take", "index")
    if index.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_scalar_type(index)}")
    size = input.numel()
    bad = (index < -size) | (index >= size)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(index[bad].flat[0])} on a "
                         f"tensor of {size} elements.")
    return apply(TAKE, input, index=index, input_shape=input.shape)


def _check_in_range(index, size, axis):
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(f"index {int(index[bad].flat[0])} is out of bounds for dimension "
                           f"{axis} with size {size}")


def take_along_dim(input, indices, dim=None):
    """Select values of ``input`` at ``indices`` along ``dim`` (as returned by ``argmax``,
    ``argsort``, ``topk``...). ``input`` and ``indices`` broadcast against each other in the
    other dims. With ``dim=None`` both are read as 1-D.

    Args:
        input: the input tensor.
        indices (LongTensor): the indices, with as many dims as ``input`` when ``dim`` is
            given.
        dim (int, optional): the dimension to select along.
    """
    index = _index_array(indices, "take_along_dim", "indices")
    if dim is None:
        if index.dtype.kind not in "iu":
            raise RuntimeError("gather(): Expected dtype int32/int64 for index")
        flat = reshape(input, (-1,))
        index = index.reshape(-1).astype(np.int64, copy=False)
        _check_in_range(index, flat.shape[0], 0)
        return gather(flat, 0, index)
    if input.ndim != index.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {index.ndim} dimensions for indices")
    if index.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_scalar_type(index)}")
    axis = _dim(dim, input.ndim)
    sizes = list(input.shape)
    sizes[axis] = index.shape[axis]
    index = np.broadcast_to(index, _broadcast_pair(tuple(sizes), index.shape))
    sizes = list(index.shape)
    sizes[axis] = input.shape[axis]
    shape = _broadcast_pair(tuple(sizes), input.shape)
    if input.shape != shape:
        input = expand(input, shape)
    _check_in_range(index, shape[axis], axis)
    return gather(input, axis, index)


# ------------------------------------------------------------------------ block_diag


def _block_diag_forward(*xs, blocks, shapes, dtypes):
    dtype = np.result_type(*xs)
    out = np.zeros((sum(h for h, _ in blocks), sum(w for _, w in blocks)), dtype)
    row = col = 0
    for x, (h, w) in zip(xs, blocks):
        out[row:row + h, col:col + w] = x.reshape(h, w)
        row, col = row + h, col + w
    return out


def _block_diag_grad(xp, g, out, needs, *xs, blocks, shapes, dtypes):
    grads = []
    row = col = 0
    for need, (h, w), shape, dtype in zip(needs, blocks, shapes, dtypes):
        if need:
            grads.append(xp.cast(xp.reshape(g[row:row + h, col:col + w], shape), dtype))
        else:
            grads.append(None)
        row, col = row + h, col + w
    return grads


BLOCK_DIAG = defop("BlockDiagBackward0", _block_diag_forward, _block_diag_grad,
                   save_inputs=False, jvp="linear")


def block_diag(*tensors):
    """The block diagonal matrix with the given tensors as its blocks, zeros elsewhere. A
    0-dim tensor is a ``1 x 1`` block and a 1-D tensor of ``n`` elements a ``1 x n`` one;
    the result has the promoted dtype of the inputs."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    if not tensors:
        from .._factories import zeros
        return zeros((1, 0))
    blocks = tuple((1, 1) if t.ndim == 0 else (1, t.shape[0]) if t.ndim == 1 else t.shape
                   for t in tensors)
    return apply(BLOCK_DIAG, *tensors, blocks=blocks, shapes=tuple(t.shape for t in tensors),
                 dtypes=tuple(t._data.dtype for t in tensors))


# -------------------------------------------------------- cartesian_prod, combinations


def _check_1d(t):
    if t.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors, as ``itertools.product``: a ``(N, len(tensors))``
    tensor whose rows are the combinations (a single tensor is returned as it is)."""
    tensors = _tensor_list("cartesian_prod", tensors)
    for t in tensors:
        _check_1d(t)
    if len(tensors) == 1:
        return tensors[0]
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if len({t._data.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as
    ``itertools.combinations`` (or ``combinations_with_replacement`` when
    ``with_replacement``): a ``(N, r)`` tensor whose rows are the combinations, in
    lexicographic order of positions. ``r=0`` gives an empty 1-D tensor."""
    _check_1d(input)
    r = _int_arg(r, "combinations", "r")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._wrap(np.empty(0, input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return stack([getitem(input, index[:, j]) for j in range(r)], 1)


# -------------------------------------------------------------------- unfold windows


def _windows_forward(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)[:size]
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dimension,
                                                       writeable=x.flags.writeable)
    return windows[(slice(None),) * dimension + (slice(None, None, step),)]


def _windows_add_forward(g, input_shape, dimension, size, step):
    """The transpose of taking windows: each window's gradient added back where it came
    from (overlapping windows accumulate)."""
    if not input_shape:  # a 0-dim input has one window of size 1, or one of size 0
        return np.asarray(g.sum(dtype=g.dtype))
    out = np.zeros(input_shape, g.dtype)
    count = g.shape[dimension]
    lead = (slice(None),) * dimension
    # Loop over the shorter of the window length and the number of windows: the positions
    # of one offset within every window never overlap, nor do those of one window.
    if size <= count:
        for j in range(size):
            part = g[..., j]
            out[lead + (slice(j, j + step * (count - 1) + 1, step),)] += part
    else:
        for i in range(count):
            part = np.moveaxis(g[lead + (i,)], -1, dimension)
            out[lead + (slice(i * step, i * step + size),)] += part
    return out


def _windows_grad(xp, g, out, x, dimension, size, step, input_shape):
    return call_op(xp, WINDOWS_ADD, g, input_shape=input_shape, dimension=dimension, size=size,
                   step=step)


def _windows_add_grad(xp, g, out, grad_in, input_shape, dimension, size, step):
    return call_op(xp, WINDOWS, g, dimension=dimension, size=size, step=step,
                   input_shape=input_shape)


def _windows_view_forward(x, dimension, size, step, input_shape):
    return _windows_forward(x, dimension, size, step)


WINDOWS = defop("UnfoldBackward0", _windows_view_forward, (_windows_grad,), save_inputs=False,
                is_view=True, jvp="linear", saved_params=("dimension", "size", "step"))
WINDOWS_ADD = defop("UnfoldBackwardBackward0", _windows_add_forward, (_windows_add_grad,),
                    save_inputs=False, jvp="linear")


def unfold_windows(input, dimension, size, step):
    """``Tensor.unfold``: a view of all slices of length ``size`` along ``dimension``, taken
    every ``step`` elements, in a new last dim of length ``size``. ``dimension`` becomes the
    number of windows, ``(input.size(dimension) - size) // step + 1``.

    Args:
        input: the input tensor.
        dimension (int): the dimension to take windows along.
        size (int): the length of each window.
        step (int): the distance between the starts of consecutive windows.
    """
    size = _int_arg(size, "unfold", "size")
    step = _int_arg(step, "unfold", "step")
    axis = normalize_dims(int(dimension), input.ndim)[0]
    longest = input.shape[axis] if input.ndim else 1
    if size > longest:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {longest} but size "
                           f"is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply(WINDOWS, input, dimension=axis, size=size, step=step,
                 input_shape=input.shape)
