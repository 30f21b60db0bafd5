"""Shape and indexing ops: ``reshape view transpose permute squeeze unsqueeze flatten expand
repeat __getitem__ gather index_select cat stack``, and dtype casts (``split chunk unbind``
are in ``pieces.py``)."""

from __future__ import annotations

import math

import numpy as np

from .._dtype import to_numpy_dtype
from .._tensor import Tensor
from ._broadcast import unbroadcast
from ._registry import apply, defop
from .reduce import normalize_dims


def _sizes(args) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, np.ndarray)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _dim(dim, ndim):
    return normalize_dims(dim, ndim)[0]


# ------------------------------------------------------------------ reshape and views


def _reshape_forward(x, shape, input_shape):
    return x.reshape(shape)


def _view_forward(x, shape, input_shape):
    out = x.view()
    try:
        out.shape = shape
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return out


def _view_jvp(tangents, out, x, shape, input_shape):
    return tangents[0].reshape(shape)  # a tangent need not be laid out like its primal


def _reshape_grad(xp, g, out, x, shape, input_shape):
    return xp.reshape(g, input_shape)


RESHAPE = defop("ViewBackward0", _reshape_forward, (_reshape_grad,), save_inputs=False,
                is_view=True, jvp="linear")
# When the layout allows no view, reshape copies and PyTorch names the node differently.
RESHAPE_COPY = defop("UnsafeViewBackward0", _reshape_forward, (_reshape_grad,),
                     save_inputs=False, is_view=True, jvp="linear")
VIEW = defop("ViewBackward0", _view_forward, (_reshape_grad,), save_inputs=False, is_view=True,
             jvp=_view_jvp)
SQUEEZE = defop("SqueezeBackward0", _reshape_forward, (_reshape_grad,), save_inputs=False,
                is_view=True, jvp="linear")
SQUEEZE_DIM = defop("SqueezeBackward1", _reshape_forward, (_reshape_grad,), save_inputs=False,
                    is_view=True, jvp="linear")
SQUEEZE_DIMS = defop("SqueezeBackward2", _reshape_forward, (_reshape_grad,), save_inputs=False,
                     is_view=True, jvp="linear")
UNSQUEEZE = defop("UnsqueezeBackward0", _reshape_forward, (_reshape_grad,), save_inputs=False,
                  is_view=True, jvp="linear")


def _checked_shape(input, shape) -> tuple:
    size = input._data.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size or any(s < 0 for s in shape):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return shape


def reshape(input, *shape):
    """Return a tensor with the same data and ``shape`` (a view when possible)."""
    shape = _checked_shape(input, _sizes(shape))
    spec = RESHAPE if input._data.flags.c_contiguous or _viewable(input._data, shape) \
        else RESHAPE_COPY
    return apply(spec, input, shape=shape, input_shape=input.shape)


def _viewable(array, shape) -> bool:
    try:
        array.view().shape = shape
    except AttributeError:
        return False
    return True


def view(input, *shape):
    """Return a view with ``shape``; raises if the memory layout does not allow one."""
    shape = _checked_shape(input, _sizes(shape))
    return apply(VIEW, input, shape=shape, input_shape=input.shape)


def squeeze(input, dim=None):
    """Remove dims of size 1 (only ``dim`` when given)."""
    dims = normalize_dims(dim, input.ndim) if dim is not None else range(input.ndim)
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    spec = SQUEEZE if dim is None else SQUEEZE_DIM if isinstance(dim, (int, np.integer)) \
        else SQUEEZE_DIMS
    return apply(spec, input, shape=shape, input_shape=input.shape)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim`` (negative counts from the end of the result)."""
    ndim = input.ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dim})")
    dim %= ndim
    shape = input.shape[:dim] + (1,) + input.shape[dim:]
    return apply(UNSQUEEZE, input, shape=shape, input_shape=input.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Flatten dims ``start_dim`` to ``end_dim`` into one."""
    start, end = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if input.ndim == 0:  # (a 0-d tensor's dims are 0 and -1, as PyTorch counts)
        return reshape(input, 1)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:start] + (-1,) + input.shape[end + 1:]
    return reshape(input, shape)


def _permute_forward(x, dims):
    return x.transpose(dims)


def _permute_grad(xp, g, out, x, dims):
    inverse = dims if len(dims) <= 2 else tuple(sorted(range(len(dims)), key=dims.__getitem__))
    return xp.transpose(g, inverse)


PERMUTE = defop("PermuteBackward0", _permute_forward, (_permute_grad,), save_inputs=False,
                is_view=True, jvp="linear")
TRANSPOSE = defop("TransposeBackward0", _permute_forward, (_permute_grad,), save_inputs=False,
                  is_view=True, jvp="linear")
T = defop("TBackward0", _permute_forward, (_permute_grad,), save_inputs=False, is_view=True,
          jvp="linear")


def t(input):
    """Transpose a tensor of at most 2 dims (a view; 0-d and 1-D tensors are unchanged)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D; use transpose(dim0, dim1) or mT")
    return apply(T, input, dims=tuple(range(input.ndim - 1, -1, -1)))


def permute(input, *dims):
    """Return a view with dims reordered as ``dims``."""
    dims = _sizes(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    return apply(PERMUTE, input, dims=normalize_dims_ordered(dims, input.ndim))


def _reverse_dims_grad(xp, g, out, x):
    return xp.transpose(g)


# ``.T`` is PyTorch's permute with all dims reversed; without the dims as a parameter it
# records through the unary fast path (the raw-op form of a layer, ``x @ w.T + b``).
REVERSE_DIMS = defop("PermuteBackward0", np.transpose, (_reverse_dims_grad,),
                     save_inputs=False, is_view=True, jvp="linear")


def reverse_dims(input):
    """``input.T``: all dims in reverse order (a plain transpose for a matrix)."""
    return REVERSE_DIMS.unary(input)


def normalize_dims_ordered(dims, ndim) -> tuple:
    normalized = tuple(_dim(d, ndim) for d in dims)
    if sorted(normalized) != list(range(ndim)):
        raise RuntimeError(f"permute: dims {list(dims)} are not a permutation of {ndim} dims")
    return normalized


def transpose(input, dim0, dim1):
    """Return a view with ``dim0`` and ``dim1`` swapped."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return apply(TRANSPOSE, input, dims=tuple(range(input.ndim)))
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    dims = list(range(input.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return apply(TRANSPOSE, input, dims=tuple(dims))


def _expand_forward(x, shape, input_shape):
    return np.broadcast_to(x, shape)


def _expand_grad(xp, g, out, x, shape, input_shape):
    return unbroadcast(xp, g, input_shape)


EXPAND = defop("ExpandBackward0", _expand_forward, (_expand_grad,), save_inputs=False,
               is_view=True, jvp="linear")


def expand(input, *sizes):
    """Return a view broadcast to ``sizes`` (-1 keeps a dim); no memory is copied."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s
                  for i, s in enumerate(sizes))
    try:
        np.broadcast_shapes(input.shape, shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor {list(shape)} must match the "
                           f"existing size {list(input.shape)} at non-singleton dimensions"
                           ) from None
    return apply(EXPAND, input, shape=shape, input_shape=input.shape)


def _repeat_forward(x, repeats, input_shape):
    return np.tile(x, repeats)


def _repeat_grad(xp, g, out, x, repeats, input_shape):
    shape = (1,) * (len(repeats) - len(input_shape)) + tuple(input_shape)
    split = []
    for r, n in zip(repeats, shape):
        split += [r, n]
    g = xp.sum(xp.reshape(g, tuple(split)), axis=tuple(range(0, 2 * len(shape), 2)))
    return xp.reshape(g, input_shape)


REPEAT = defop("RepeatBackward0", _repeat_forward, (_repeat_grad,), save_inputs=False,
                jvp="linear")


def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along each dim (like ``np.tile``)."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return apply(REPEAT, input, repeats=sizes, input_shape=input.shape)


# --------------------------------------------------------------------------- indexing


def _getitem_forward(x, index, input_shape):
    out = x[index]
    if type(out) is not np.ndarray:
        # A NumPy scalar (every dim indexed by an int): take a 0-d view instead, so that
        # ``x[0]`` shares memory with ``x`` as PyTorch's does.
        items = index if isinstance(index, tuple) else (index,)
        if not any(item is Ellipsis for item in items):
            out = x[items + (Ellipsis,)]
    return out


def _getitem_grad(xp, g, out, x, index, input_shape):
    return xp.index_add(input_shape, index, g)


def _index_add_forward(g, shape, index):
    from ._backends import raw
    return raw.index_add(shape, index, g)


def _index_add_grad(xp, g, out, grad_in, shape, index):
    return g[index]


GETITEM = defop("IndexBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
                is_view=True, jvp="linear")
# Basic indexing: PyTorch names the node after the last non-trivial index item.
SELECT = defop("SelectBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
               is_view=True, jvp="linear")
SLICE = defop("SliceBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
              is_view=True, jvp="linear")
UNSQUEEZE_INDEX = defop("UnsqueezeBackward0", _getitem_forward, (_getitem_grad,),
                        save_inputs=False, is_view=True, jvp="linear")
ALIAS = defop("AliasBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
              is_view=True, jvp="linear")
GATHER = defop("GatherBackward0", _getitem_forward, (_getitem_grad,), save_inputs=False,
                jvp="linear")
INDEX_SELECT = defop("IndexSelectBackward0", _getitem_forward, (_getitem_grad,),
                     save_inputs=False, jvp="linear")
INDEX_ADD = defop("IndexAddBackward0", _index_add_forward, (_index_add_grad,), save_inputs=False,
                   jvp="linear")


def _normalize_index(index):
    """Tensors and lists inside an index become arrays; bool tensors stay masks.

    As in PyTorch, a list holding sequences, tensors, slices, None or ``...`` is read as a
    tuple of indices (``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``).
    """
    if isinstance(index, list) and any(
            isinstance(item, (list, tuple, Tensor, np.ndarray, slice)) or item is None
            or item is Ellipsis for item in index):
        index = tuple(index)
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(item):
    if isinstance(item, Tensor):
        return item._data
    if isinstance(item, (list, tuple)):
        array = np.asarray(item)
        # An empty list is an empty integer index (NumPy would make it float).
        return array if array.size else array.astype(np.int64)
    return item


def getitem(input, index):
    """``input[index]`` with basic (slices, ints, None, ...) and advanced (arrays, masks)
    indexing. In the backward, repeated indices accumulate."""
    index = _normalize_index(index)
    try:
        return apply(_index_spec(index), input, index=index, input_shape=input.shape)
    except IndexError as err:
        raise IndexError(f"{err} (indexing a tensor of shape {list(input.shape)})") from None


def _index_spec(index):
    """The node for ``input[index]``: ``IndexBackward0`` for advanced indexing, else named
    after the last item that does something (``x[1:, 0]`` selects, ``x[0, 1:]`` slices)."""
    if isinstance(index, slice):
        return SLICE
    spec = ALIAS
    for item in index if isinstance(index, tuple) else (index,):
        if item is None:
            spec = UNSQUEEZE_INDEX
        elif isinstance(item, slice):
            if item != slice(None):
                spec = SLICE
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            spec = SELECT
        elif item is not Ellipsis:
            return GETITEM
    return spec


def index_add(shape, index, grad):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (the backward of indexing)."""
    return apply(INDEX_ADD, grad, shape=shape, index=index)


def _check_in_range(index, size, message):
    """Raise ``message(bad index)`` unless every index is in ``[0, size)``: NumPy would
    read a negative one from the end, where PyTorch refuses it."""
    if index.size:
        low, high = index.min(), index.max()
        if low < 0 or high >= size:
            raise RuntimeError(message(int(low if low < 0 else high)))


def gather(input, dim, index):
    """Gather values along ``dim`` at ``index`` (same number of dims as ``input``)."""
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.ndim != input.ndim:
        raise RuntimeError(f"gather(): index has {index.ndim} dims but input has {input.ndim}; "
                           "they must have the same number of dimensions")
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {index.dtype}")
    axis = _dim(dim, input.ndim)
    for d, (size, limit) in enumerate(zip(index.shape, input.shape)):
        if d != axis and size > limit:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {axis}")
    _check_in_range(index, input.shape[axis], lambda bad: f"index {bad} is out of bounds for "
                    f"dimension {axis} with size {input.shape[axis]}")
    grid = np.ogrid[tuple(slice(n) for n in index.shape)]
    full = tuple(index if i == axis else grid[i] for i in range(input.ndim))
    return apply(GATHER, input, index=full, input_shape=input.shape)


def index_select(input, dim, index):
    """Select entries along ``dim`` at the 1-D ``index``."""
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    axis = _dim(dim, input.ndim)
    _check_in_range(index, input.shape[axis], lambda bad: f"INDICES element is out of DATA "
                    f"bounds, id={bad} axis_dim={input.shape[axis]}")
    full = (slice(None),) * axis + (index,)
    return apply(INDEX_SELECT, input, index=full, input_shape=input.shape)


# --------------------------------------------------------------------- join and split


def _cat_forward(*xs, axis, sizes):
    return np.concatenate(xs, axis=axis)


def _cat_grad(xp, g, out, needs, *xs, axis, sizes):
    grads, start = [], 0
    for need, size in zip(needs, sizes):
        grads.append(g[(slice(None),) * axis + (slice(start, start + size),)] if need else None)
        start += size
    return grads


def _stack_forward(*xs, axis):
    return np.stack(xs, axis=axis)


def _stack_grad(xp, g, out, needs, *xs, axis):
    return [g[(slice(None),) * axis + (i,)] if need else None for i, need in enumerate(needs)]


CAT = defop("CatBackward0", _cat_forward, _cat_grad, save_inputs=False, jvp="linear")
STACK = defop("StackBackward0", _stack_forward, _stack_grad, save_inputs=False, jvp="linear")


def cat(tensors, dim=0):
    """Concatenate tensors along an existing ``dim``; shapes must agree elsewhere."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated; use stack(), or reshape it to 1-D first")
    axis = _dim(dim, tensors[0].ndim)
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{len(first)} and {t.ndim}")
        for d, (want, got) in enumerate(zip(first, t.shape)):
            if d != axis and want != got:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {want} but got size {got} for tensor "
                                   f"number {i} in the list.")
    return apply(CAT, *tensors, axis=axis, sizes=tuple(t.shape[axis] for t in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Stack equally shaped tensors along a new ``dim``."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    ndim = tensors[0].ndim + 1
    axis = _dim(dim, ndim)
    return apply(STACK, *tensors, axis=axis)


# ------------------------------------------------------------------------------ casts


def _cast_forward(x, dtype, input_dtype):
    return x.astype(dtype)


def _cast_grad(xp, g, out, x, dtype, input_dtype):
    return xp.cast(g, input_dtype)


CAST = defop("ToCopyBackward0", _cast_forward, (_cast_grad,), save_inputs=False, jvp="linear",
             casts=True)


def cast(input, dtype):
    """Return ``input`` converted to ``dtype`` (itself when it already has it)."""
    dtype = to_numpy_dtype(dtype)
    if input._data.dtype == dtype:
        return input
    return apply(CAST, input, dtype=dtype, input_dtype=input._data.dtype)
