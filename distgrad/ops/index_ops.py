"""Indexed writes: ``scatter_reduce index_add index_copy index_fill masked_scatter index_put
put`` (each also in place, ``index_add_``...), and ``select_scatter slice_scatter
diagonal_scatter``.

Each op returns a copy of ``input`` with some elements replaced by, or combined with, values
from a source. The public functions check their arguments with PyTorch's errors and turn the
index into a NumPy index once; the forward and the VJPs then work on that index.

Where a non-accumulating write hits one position more than once (``index_copy``, and
``index_put``/``put`` without ``accumulate``), PyTorch leaves the result undefined. Here the
last write wins, and only that write gets a gradient (the others did not affect the result).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _backends
from ._broadcast import unbroadcast
from ._nn_common import array_of, call_op
from ._registry import apply, defop
from .reduce import normalize_dims
from .scatter import _in_place

__all__ = [
    "scatter_reduce", "scatter_reduce_", "index_add", "index_add_", "index_copy", "index_copy_",
    "index_fill", "index_fill_", "masked_scatter", "masked_scatter_", "index_put",
    "index_put_", "put", "put_", "select_scatter", "slice_scatter", "diagonal_scatter",
]

_raw = _backends.raw
_TYPE_NAMES = {np.dtype(t): name for t, name in (
    (np.float16, "Half"), (np.float32, "Float"), (np.float64, "Double"), (np.int8, "Char"),
    (np.uint8, "Byte"), (np.int16, "Short"), (np.int32, "Int"), (np.int64, "Long"),
    (np.bool_, "Bool"))}
_INT_INDEX = (np.dtype(np.int32), np.dtype(np.int64))
_LONG = np.dtype(np.int64)


def _type_name(dtype) -> str:
    """PyTorch's name for a scalar type (``Float``, ``Long``...)."""
    dtype = np.dtype(getattr(dtype, "numpy", dtype))
    return _TYPE_NAMES.get(dtype, str(dtype))


def _index_array(index) -> np.ndarray:
    if isinstance(index, Tensor):
        return index._data
    array = np.asarray(index)
    return array if array.size or array.dtype.kind != "f" else array.astype(np.int64)


def _require_tensor(x, fn: str, name: str, position: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")


def _dtype_of(x) -> np.dtype:
    return array_of(x).dtype


def _zeroed_at(g, index):
    """``g`` with the positions ``index`` overwrote set to zero: the gradient of the input."""
    kept = np.ones(g.shape, dtype=bool)
    kept[index] = False
    return g * kept


def _last_writes(positions: np.ndarray):
    """For a flat array of target positions, a mask of the last write to each one, or None
    when no position repeats."""
    flat = positions.reshape(-1)
    if np.unique(flat).size == flat.size:
        return None
    _, last = np.unique(flat[::-1], return_index=True)
    winners = np.zeros(flat.size, dtype=bool)
    winners[flat.size - 1 - last] = True
    return winners.reshape(positions.shape)


def _along(axis: int, index):
    """The index that takes ``index`` along ``axis`` and everything along the other dims."""
    return (slice(None),) * axis + (index,)


def _check_bounds(values: np.ndarray, size: int, axis: int, *, negative: bool, prefix="",
                  error=IndexError) -> None:
    low = -size if negative else 0
    bad = (values < low) | (values >= size)
    if bad.any():
        raise error(f"{prefix}index {int(values[bad].reshape(-1)[0])} is out of bounds for "
                    f"dimension {axis} with size {size}")


# --------------------------------------------------------------------- scatter_reduce

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _scatter_reduce_forward(x, src, index, src_slice, reduce, include_self, dim):
    values = src[src_slice]
    out = x.copy()
    if reduce in ("sum", "mean"):
        if not include_self:
            out[index] = 0
        np.add.at(out, index, values)
        if reduce == "mean":
            count = _counts(out.shape, index, include_self)
            # integers round down, as in PyTorch
            out = (out // count if out.dtype.kind in "iub" else out / count).astype(out.dtype)
    elif reduce == "prod":
        if not include_self:
            out[index] = 1
        np.multiply.at(out, index, values)
    else:
        if not include_self:
            out[index] = _identity_of(reduce, out.dtype)
        with np.errstate(invalid="ignore"):  # NaN propagates, as in PyTorch
            (np.maximum if reduce == "amax" else np.minimum).at(out, index, values)
    return out


def _identity_of(reduce, dtype):
    """Where amax/amin start without the input: the lowest (highest) value of ``dtype``."""
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _counts(shape, index, include_self) -> np.ndarray:
    """How many values each position of the result averages (at least 1)."""
    count = np.full(shape, 1 if include_self else 0, dtype=np.int64)
    np.add.at(count, index, 1)
    count[count == 0] = 1
    return count


def _overwritten(shape, index) -> np.ndarray:
    hit = np.zeros(shape, dtype=bool)
    hit[index] = True
    return hit


def _extremum_weights(out, x, src, index, src_slice, include_self, dtype):
    """amax/amin: the gradient share of each input and source element. Every element equal
    to the result gets an equal share (the input only where it takes part: always with
    ``include_self``, else only where nothing was scattered)."""
    self_is = x == out
    if not include_self:
        self_is &= ~_overwritten(out.shape, index)
    src_is = src[src_slice] == out[index]
    n = self_is.astype(dtype)
    np.add.at(n, index, src_is.astype(dtype))
    n[n == 0] = 1
    return self_is / n, src_is / n[index]


def _scatter_reduce_grad_self(xp, g, out, x, src, index, src_slice, reduce, include_self, dim):
    dtype = _dtype_of(g)
    if reduce == "sum":
        grad = g
    elif reduce == "mean":
        grad = g / _counts(g.shape, index, include_self).astype(dtype)
    elif reduce == "prod":
        # d out / d x is the product of the others: the result recomputed with zeros of x
        # replaced by 1, divided by x (so a zero in x gets the product of the sources).
        masked = xp.where(array_of(x) == 0, 1.0, x)
        others = call_op(xp, SCATTER_REDUCE, masked, src, index=index, src_slice=src_slice,
                         reduce=reduce, include_self=include_self, dim=dim)
        grad = g * others / masked
    else:
        weight, _ = _extremum_weights(array_of(out), array_of(x), array_of(src), index,
                                      src_slice, include_self, dtype)
        return g * weight
    return grad if include_self else _zeroed_at(grad, index)


def _scatter_reduce_grad_src(xp, g, out, x, src, index, src_slice, reduce, include_self, dim):
    dtype = _dtype_of(g)
    if reduce == "sum":
        taken = g[index]
    elif reduce == "mean":
        taken = g[index] / _counts(g.shape, index, include_self)[index].astype(dtype)
    elif reduce == "prod":
        taken = _prod_grad_src(xp, g, out, x, src, index, src_slice, include_self, dim)
    else:
        _, weight = _extremum_weights(array_of(out), array_of(x), array_of(src), index,
                                      src_slice, include_self, dtype)
        taken = g[index] * weight
    shape = tuple(src.shape)
    if tuple(taken.shape) == shape:
        return taken
    return xp.index_add(shape, src_slice, taken)  # src larger than index: zeros elsewhere


def _prod_grad_src(xp, g, out, x, src, index, src_slice, include_self, dim):
    """PyTorch's gradient of a scattered product for ``src``: the result divided by the
    element; for the only zero scattered to its position, the product recomputed with that
    zero replaced by 1; 0 for zeros sharing their position with another zero."""
    values = src[src_slice]
    zero = array_of(values) == 0
    zeros_there = np.zeros(array_of(out).shape, dtype=np.int64)
    np.add.at(zeros_there, index, zero)
    zeros_there = zeros_there[index]
    single = zero & (zeros_there == 1)
    taken = (g * out)[index] / xp.where(zero, 1.0, values)
    if single.any():
        single_full = np.zeros(tuple(src.shape), dtype=bool)
        single_full[src_slice] = single
        others = call_op(xp, SCATTER_REDUCE, x, xp.where(single_full, 1.0, src), index=index,
                         src_slice=src_slice, reduce="prod", include_self=include_self,
                         dim=dim)
        taken = xp.where(single, (g * others)[index], taken)
    if xp is not _raw and (zeros_there > 1).any():
        taken = apply(_DOUBLE_BACKWARD_ERROR, taken)
    return taken


def _scatter_reduce_jvp(tangents, out, x, src, index, src_slice, reduce, include_self, dim):
    # Each result element depends on the input at its position and on the sources scattered
    # there, with the partial derivatives the VJPs give for a gradient of ones.
    params = dict(index=index, src_slice=src_slice, reduce=reduce, include_self=include_self,
                  dim=dim)
    ones = np.ones_like(out)
    tangent = np.zeros_like(out)
    tx, tsrc = tangents
    if tx is not None:
        tangent += _scatter_reduce_grad_self(_raw, ones, out, x, src, **params) * tx
    if tsrc is not None:
        partial = _scatter_reduce_grad_src(_raw, ones, out, x, src, **params)
        np.add.at(tangent, index, (partial * tsrc)[src_slice])
    return tangent


SCATTER_REDUCE = defop("ScatterReduceBackward0", _scatter_reduce_forward,
                       (_scatter_reduce_grad_self, _scatter_reduce_grad_src), save_output=True,
                       jvp=_scatter_reduce_jvp, saved=("self", "src"),
                       saved_params=("dim", "reduce", "include_self"))


def _scalar_forward(x, src, **params):
    return _scatter_reduce_forward(x.reshape(1), src, **params).reshape(())


def _scalar_grad_self(xp, g, out, x, src, **params):
    one = (1,)
    return xp.reshape(_scatter_reduce_grad_self(xp, xp.reshape(g, one), xp.reshape(out, one),
                                                xp.reshape(x, one), src, **params), ())


def _scalar_grad_src(xp, g, out, x, src, **params):
    one = (1,)
    return _scatter_reduce_grad_src(xp, xp.reshape(g, one), xp.reshape(out, one),
                                    xp.reshape(x, one), src, **params)


def _scalar_jvp(tangents, out, x, src, **params):
    tx, tsrc = tangents
    tangent = _scatter_reduce_jvp((None if tx is None else tx.reshape(1), tsrc), out.reshape(1),
                                  x.reshape(1), src, **params)
    return tangent.reshape(())


# The same for a 0-d input, which NumPy can't index with arrays: run on it as 1-D.
SCATTER_REDUCE_SCALAR = defop("ScatterReduceBackward0", _scalar_forward,
                              (_scalar_grad_self, _scalar_grad_src), save_output=True,
                              jvp=_scalar_jvp, saved=("self", "src"),
                              saved_params=("dim", "reduce", "include_self"))


def _double_backward_error(xp, g, out, x):
    raise RuntimeError("scatter_reduce(): Double backward is unsupported for src when >1 zeros "
                       "in src are scattered to the same position in self")


# PyTorch's ``DelayedError`` node: the gradient of src above is right, but differentiating it
# again is not supported when two zeros share a position.
_DOUBLE_BACKWARD_ERROR = defop("Error", lambda x: x.copy(), (_double_backward_error,),
                               save_inputs=False, jvp="linear")


def _scatter_reduce_index(input, dim, index, src):
    """Check ``scatter_reduce``'s arguments; the advanced index into ``input`` and the slice
    of ``src`` it takes values from."""
    index = _index_array(index)
    if index.dtype not in _INT_INDEX:
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if input.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    axis = normalize_dims(dim, input.ndim)[0]
    ndim = max(input.ndim, 1)
    if max(index.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if max(src.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    index = index.reshape(index.shape or (index.size,))
    self_shape = input.shape or (1,)
    src_shape = src.shape or (1,)
    for d, n in enumerate(index.shape):
        if (d != axis and n > self_shape[d]) or n > src_shape[d]:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self "
                f"{list(input.shape)} apart from dimension {axis} and to be no larger size "
                f"than src {list(src.shape)}")
    _check_bounds(index, self_shape[axis], axis, negative=False, error=RuntimeError)
    grid = np.ogrid[tuple(slice(n) for n in index.shape)]
    full = tuple(index if d == axis else grid[d] for d in range(index.ndim))
    return full, tuple(slice(n) for n in index.shape)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce all values from ``src`` into ``input`` at the positions ``index`` gives along
    ``dim`` (``out[index[i][j]][j] = reduce(out[index[i][j]][j], src[i][j])`` for ``dim=0``),
    with ``reduce`` one of ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``.

    With ``include_self=False`` the positions written to are reduced over the scattered
    values only. The gradient of ``amax``/``amin`` is shared evenly among all elements equal
    to the result; ``mean`` on integers rounds down.
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    _require_tensor(src, "scatter_reduce", "src", 4)
    full, src_slice = _scatter_reduce_index(input, dim, index, src)
    axis = normalize_dims(dim, input.ndim)[0]
    if src.ndim == 0:  # a 0-d tensor acts as a 1-D one of one element
        from .shape_ops import reshape

        src = reshape(src, (1,))
    spec = SCATTER_REDUCE if input.ndim else SCATTER_REDUCE_SCALAR
    return apply(spec, input, src, index=full, src_slice=src_slice, reduce=reduce,
                 include_self=include_self, dim=axis)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    """:func:`scatter_reduce` in place."""
    return _in_place(input, scatter_reduce, src, dim, index, src, reduce,
                     include_self=include_self)


# ------------------------------------------------------------------------- index_add


def _index_add_forward(x, source, index, alpha, dim):
    out = x.copy()
    values = source if alpha == 1 else (source * alpha).astype(out.dtype, copy=False)
    np.add.at(out, index, values)
    return out


def _index_add_grad_self(xp, g, out, x, source, index, alpha, dim):
    return g


def _index_add_grad_source(xp, g, out, x, source, index, alpha, dim):
    taken = g[index]
    return taken if alpha == 1 else taken * alpha


INDEX_ADD = defop("IndexAddBackward0", _index_add_forward,
                  (_index_add_grad_self, _index_add_grad_source), save_inputs=False,
                  jvp="linear", saved_params=("dim", "alpha"))


def _vector_index(input, dim, index):
    """``dim`` as an axis (0 for a 0-d input), and ``index`` as an array."""
    axis = normalize_dims(dim, input.ndim)[0]
    return axis, _index_array(index)


def _selection(input, axis, index):
    """The NumPy index of the slices ``index`` names along ``axis`` (all of a 0-d input)."""
    return () if input.ndim == 0 else _along(axis, index.reshape(-1))


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added to the slices along ``dim`` that
    the 1-D ``index`` names (``out[:, index[i]] += alpha * source[:, i]`` for ``dim=1``);
    repeated indices accumulate."""
    _require_tensor(source, "index_add", "source", 4)
    axis, idx = _vector_index(input, dim, index)
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with type: {_type_name(idx.dtype)} and size: "
                         f"{list(idx.shape)}")
    if idx.dtype not in _INT_INDEX:
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{_type_name(idx.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_add_(): self ({_type_name(input.dtype)}) and source "
                           f"({_type_name(source.dtype)}) must have the same scalar type")
    if axis != 0 and axis >= source.ndim:
        raise RuntimeError(f"index_add_(): Indexing dim {axis} is out of bounds of the source "
                           f"tensor with dim {source.ndim}")
    count = source.shape[axis] if source.ndim else 1
    if idx.size != count:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({count}), for dim: {axis}")
    self_rest, source_rest = list(input.shape), list(source.shape)
    if input.ndim and source.ndim:
        del self_rest[axis], source_rest[axis]
    if self_rest != source_rest:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    _check_bounds(idx, input.shape[axis] if input.ndim else 1, axis, negative=False,
                  error=RuntimeError)
    return apply(INDEX_ADD, input, source, index=_selection(input, axis, idx), alpha=alpha,
                 dim=axis)


def index_add_(input, dim, index, source, *, alpha=1):
    """:func:`index_add` in place."""
    return _in_place(input, index_add, source, dim, index, source, alpha=alpha)


# ------------------------------------------------------------------------ index_copy


def _index_copy_forward(x, source, index, winners, dim, source_shape):
    out = x.copy()
    if winners is None:
        out[index] = source
    else:
        out[index[:-1] + (index[-1][winners],)] = source[_along(len(index) - 1, winners)]
    return out


def _index_copy_grad_self(xp, g, out, x, source, index, winners, dim, source_shape):
    return _zeroed_at(g, index)


def _index_copy_grad_source(xp, g, out, x, source, index, winners, dim, source_shape):
    taken = g[index]
    if winners is not None:
        shape = [1] * taken.ndim
        shape[len(index) - 1] = winners.size
        taken = taken * winners.reshape(shape)
    return taken if taken.shape == source_shape else xp.reshape(taken, source_shape)


INDEX_COPY = defop("IndexCopyBackward0", _index_copy_forward,
                   (_index_copy_grad_self, _index_copy_grad_source), save_inputs=False,
                   jvp="linear", saved_params=("dim",))


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices along ``dim`` that the 1-D ``index`` names
    replaced by those of ``source`` (``out[:, index[i]] = source[:, i]`` for ``dim=1``).
    Where an index repeats, the last of its slices is kept."""
    _require_tensor(source, "index_copy", "source", 4)
    axis, idx = _vector_index(input, dim, index)
    if idx.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    if source.ndim == 0 and idx.size != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element "
                         f"(got {idx.size})")
    if source.ndim != input.ndim and source.ndim and input.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({input.ndim})")
    if idx.dtype != _LONG:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{_type_name(idx.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_type_name(input.dtype)} and (source) "
                           f"{_type_name(source.dtype)}")
    self_rest = [n for d, n in enumerate(input.shape) if d != axis]
    source_rest = [n for d, n in enumerate(source.shape) if d != axis]
    if self_rest != source_rest:
        raise RuntimeError(
            f"index_copy_(): Source/destination tensor must have same slice shapes. "
            f"Destination slice shape: {' '.join(map(str, self_rest))} at dimension {axis} and "
            f"source slice shape: {' '.join(map(str, source_rest))} at dimension 0.")
    if source.ndim and idx.size != source.shape[axis]:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({source.shape[axis]})")
    _check_bounds(idx, input.shape[axis] if input.ndim else 1, axis, negative=False,
                  prefix="index_copy_(): ")
    flat = idx.reshape(-1)
    if input.ndim == 0 or source.ndim == 0:
        from .shape_ops import reshape

        source = reshape(source, (1,) * input.ndim)  # a scalar source fills one slice
        if input.ndim == 0:
            return apply(INDEX_COPY, input, source, index=(), winners=None, dim=axis,
                         source_shape=source.shape)
    return apply(INDEX_COPY, input, source, index=_along(axis, flat),
                 winners=_last_writes(flat), dim=axis, source_shape=source.shape)


def index_copy_(input, dim, index, source):
    """:func:`index_copy` in place."""
    return _in_place(input, index_copy, source, dim, index, source)


# ------------------------------------------------------------------------ index_fill


def _index_fill_forward(x, index, value, dim):
    out = x.copy()
    out[index] = value
    return out


def _index_fill_grad_self(xp, g, out, x, index, value, dim):
    return _zeroed_at(g, index)


def _index_fill_jvp(tangents, out, x, index, value, dim):
    return _zeroed_at(tangents[0], index)


def _index_fill_tensor_forward(x, value, index, dim, value_dtype):
    return _index_fill_forward(x, index, value, dim)


def _index_fill_tensor_grad_self(xp, g, out, x, value, index, dim, value_dtype):
    return _zeroed_at(g, index)


def _index_fill_tensor_grad_value(xp, g, out, x, value, index, dim, value_dtype):
    # Each filled position once, however often the index names it.
    filled = np.zeros(g.shape, dtype=bool)
    filled[index] = True
    grad = unbroadcast(xp, g * filled, ())
    return grad if _dtype_of(grad) == value_dtype else xp.cast(grad, value_dtype)


INDEX_FILL = defop("IndexFillBackward0", _index_fill_forward, (_index_fill_grad_self,),
                   save_inputs=False, jvp=_index_fill_jvp, saved_params=("dim",))
INDEX_FILL_TENSOR = defop("IndexFillBackward1", _index_fill_tensor_forward,
                          (_index_fill_tensor_grad_self, _index_fill_tensor_grad_value),
                          save_inputs=False, jvp="linear", saved_params=("dim",))


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices along ``dim`` that the 1-D ``index`` names filled
    with ``value`` (a number or a 0-d tensor, which then gets a gradient)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    axis, idx = _vector_index(input, dim, index)
    if idx.dtype != _LONG:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if idx.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    _check_bounds(idx, input.shape[axis] if input.ndim else 1, axis, negative=True)
    index = _selection(input, axis, idx)
    if isinstance(value, Tensor):
        return apply(INDEX_FILL_TENSOR, input, value, index=index, dim=axis,
                     value_dtype=value._data.dtype)
    return apply(INDEX_FILL, input, index=index, value=value, dim=axis)


def index_fill_(input, dim, index, value):
    """:func:`index_fill` in place."""
    return _in_place(input, index_fill, value, dim, index, value)


# -------------------------------------------------------------------- masked_scatter


def _masked_scatter_forward(x, source, mask, count, input_shape, source_shape):
    out = np.array(np.broadcast_to(x, mask.shape))
    out[mask] = source.reshape(-1)[:count]
    return out


def _masked_scatter_grad_self(xp, g, out, x, source, mask, count, input_shape, source_shape):
    return unbroadcast(xp, g * ~mask, input_shape)


def _masked_scatter_grad_source(xp, g, out, x, source, mask, count, input_shape,
                                source_shape):
    taken = g[mask]
    size = int(np.prod(source_shape))
    if count != size:
        taken = xp.index_add((size,), slice(0, count), taken)  # zeros for the unused rest
    return xp.reshape(taken, source_shape)


MASKED_SCATTER = defop("MaskedScatterBackward0", _masked_scatter_forward,
                       (_masked_scatter_grad_self, _masked_scatter_grad_source),
                       save_inputs=False, jvp="linear")


def _broadcast_error(a, b) -> RuntimeError:
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
            return RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor "
                                f"b ({b[-i]}) at non-singleton dimension "
                                f"{max(len(a), len(b)) - i}")
    return RuntimeError(f"shapes {list(a)} and {list(b)} can't be broadcast together")


def _check_mask(mask):
    mask = _index_array(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_type_name(mask.dtype)}")
    return mask


def masked_scatter(input, mask, source):
    """A copy of ``input`` (broadcast with ``mask``) with the elements where ``mask`` is true
    replaced by consecutive elements of ``source`` (read in row-major order)."""
    _require_tensor(source, "masked_scatter", "source", 3)
    mask = _check_mask(mask)
    if input.dtype != source.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_type_name(input.dtype)} and {_type_name(source.dtype)}")
    try:
        shape = np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        raise _broadcast_error(mask.shape, input.shape) from None
    mask = np.broadcast_to(mask, shape)
    count = int(np.count_nonzero(mask))
    if count > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MASKED_SCATTER, input, source, mask=mask, count=count,
                 input_shape=input.shape, source_shape=source.shape)


def masked_scatter_(input, mask, source):
    """:func:`masked_scatter` in place; ``mask`` must broadcast to ``input``'s shape."""
    array = _check_mask(mask)
    shape, target = array.shape, input.shape
    if len(shape) > len(target):
        raise RuntimeError(f"expand(CPUBoolType{{{list(shape)}}}, size={list(target)}): the "
                           f"number of sizes provided ({len(target)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({len(shape)})")
    for i in range(1, len(shape) + 1):
        if shape[-i] not in (1, target[-i]):
            raise RuntimeError(f"The expanded size of the tensor ({target[-i]}) must match the "
                               f"existing size ({shape[-i]}) at non-singleton dimension "
                               f"{len(target) - i}.  Target sizes: {list(target)}.  Tensor "
                               f"sizes: {list(shape)}")
    return _in_place(input, masked_scatter, source, mask, source)


# ------------------------------------------------------------------------- index_put


def _index_put_forward(x, values, index, winners, accumulate, values_shape):
    out = x.copy()
    if accumulate:
        np.add.at(out, index, values)
    elif winners is None:
        out[index] = values
    else:
        shape = np.broadcast_shapes(winners.shape + x.shape[len(index):], values.shape)
        out[tuple(i[winners] for i in index)] = np.broadcast_to(values, shape)[winners]
    return out


def _index_put_grad_self(xp, g, out, x, values, index, winners, accumulate, values_shape):
    return g if accumulate else _zeroed_at(g, index)


def _index_put_grad_values(xp, g, out, x, values, index, winners, accumulate, values_shape):
    taken = g[index]
    if winners is not None:
        taken = taken * winners.reshape(winners.shape + (1,) * (taken.ndim - winners.ndim))
    return unbroadcast(xp, taken, values_shape)


INDEX_PUT = defop("IndexPutBackward0", _index_put_forward,
                  (_index_put_grad_self, _index_put_grad_values), save_inputs=False,
                  jvp="linear", saved_params=("accumulate",))


def _index_put_index(input, indices, values):
    """Check ``index_put``'s indices and values; the indices as broadcast integer arrays
    (masks become the positions they select), one per leading dim they index."""
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 3) must be Tensor, not "
                        f"{type(values).__name__}")
    if not indices:
        raise RuntimeError("index_put(): expected at least one index tensor; to write every "
                           "element use fill_ or copy_")
    arrays = []
    for i, item in enumerate(indices):
        if not isinstance(item, (Tensor, np.ndarray)):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(item).__name__}")
        array = _index_array(item)
        if array.dtype == np.uint8:
            array = array.astype(bool)
        elif array.dtype != np.bool_ and array.dtype not in _INT_INDEX:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        arrays.append(array)
    if len(arrays) > input.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got "
                         f"{len(arrays)})")
    positions, dim = [], 0
    for array in arrays:
        is_mask = array.dtype == np.bool_
        if is_mask and array.ndim == 0:
            raise IndexError("index_put(): a 0-dim boolean index is not supported; use a mask "
                             "shaped like the dims it indexes")
        used = array.ndim if is_mask else 1
        if dim + used > input.ndim:
            raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got "
                             f"{dim + used})")
        if is_mask:
            for j, n in enumerate(array.shape):
                if n != input.shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(array.shape)} at index {j} does not "
                        f"match the shape of the indexed tensor {list(input.shape)} at index "
                        f"{dim + j}")
            positions.extend(np.nonzero(array))
        else:
            _check_bounds(array, input.shape[dim], dim, negative=True)
            positions.append(array % max(input.shape[dim], 1))
        dim += used
    try:
        shape = np.broadcast_shapes(*(p.shape for p in positions))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(p.shape)) for p in positions)
                         ) from None
    index = tuple(np.broadcast_to(p, shape) for p in positions)
    result_shape = shape + input.shape[len(index):]
    try:
        broadcasts = np.broadcast_shapes(values.shape, result_shape) == result_shape
    except ValueError:
        broadcasts = False
    if not broadcasts:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot "
                           f"be broadcast to indexing result of shape {list(result_shape)}")
    if input.dtype != values.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_type_name(input.dtype)} for the destination and "
                           f"{_type_name(values.dtype)} for the source.")
    return index


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (``indices``: a
    tuple of integer or boolean tensors, one per leading dim they index; ``values``
    broadcast to the indexed shape). With ``accumulate`` the values are added instead, and
    repeated positions add up; without it the last write to a position wins."""
    index = _index_put_index(input, indices, values)
    winners = None
    if not accumulate and input.ndim:
        winners = _last_writes(np.ravel_multi_index(index, input.shape[:len(index)]))
    return apply(INDEX_PUT, input, values, index=index, winners=winners,
                 accumulate=bool(accumulate), values_shape=values.shape)


def index_put_(input, indices, values, accumulate=False):
    """:func:`index_put` in place (``input[indices] = values``, or ``+=`` with
    ``accumulate``)."""
    return _in_place(input, index_put, values, indices, values, accumulate)


# ------------------------------------------------------------------------------- put


def _put_forward(x, source, positions, winners, accumulate, source_shape):
    out = x.copy()
    flat = out.reshape(-1)  # a view: ``out`` is a fresh contiguous copy
    values = source.reshape(-1)
    if accumulate:
        np.add.at(flat, positions, values)
    elif winners is None:
        flat[positions] = values
    else:
        flat[positions[winners]] = values[winners]
    return out


def _put_grad_self(xp, g, out, x, source, positions, winners, accumulate, source_shape):
    if accumulate:
        return g
    kept = np.ones(g.shape, dtype=bool)
    kept.reshape(-1)[positions] = False
    return g * kept


def _put_grad_source(xp, g, out, x, source, positions, winners, accumulate, source_shape):
    taken = xp.reshape(g, (-1,))[positions]
    if winners is not None:
        taken = taken * winners
    return xp.reshape(taken, source_shape)


PUT = defop("PutBackward0", _put_forward, (_put_grad_self, _put_grad_source),
            save_inputs=False, jvp="linear", saved_params=("accumulate",))


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with the elements of ``source`` written at the positions
    ``index`` names in ``input`` read as 1-D (row-major; negative indices count from the
    end). With ``accumulate`` they are added, repeated positions adding up; without it the
    last write to a position wins."""
    _require_tensor(source, "put", "source", 3)
    idx = _index_array(index)
    if idx.dtype != _LONG:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{_type_name(idx.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_type_name(input.dtype)} and source.dtype = "
                           f"{_type_name(source.dtype)}")
    size = input._data.size
    if source._data.size != idx.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {idx.size}")
    flat = idx.reshape(-1)
    bad = (flat < -size) | (flat >= size)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(flat[bad][0])} on a tensor "
                         f"of {size} elements.")
    positions = flat % max(size, 1)
    winners = None if accumulate else _last_writes(positions)
    return apply(PUT, input, source, positions=positions, winners=winners,
                 accumulate=bool(accumulate), source_shape=source.shape)


def put_(input, index, source, accumulate=False):
    """:func:`put` in place."""
    return _in_place(input, put, source, index, source, accumulate)


# -------------------------------------------- select_scatter, slice_scatter, diagonal_scatter


def _embed_forward(x, src, index, src_dtype):
    out = x.copy()
    out[index] = src
    return out


def _embed_grad_self(xp, g, out, x, src, index, src_dtype):
    return _zeroed_at(g, index)


def _embed_grad_src(xp, g, out, x, src, index, src_dtype):
    taken = g[index]
    return taken if _dtype_of(taken) == src_dtype else xp.cast(taken, src_dtype)


SELECT_SCATTER = defop("SelectScatterBackward0", _embed_forward,
                       (_embed_grad_self, _embed_grad_src), save_inputs=False, jvp="linear")
SLICE_SCATTER = defop("SliceScatterBackward0", _embed_forward,
                      (_embed_grad_self, _embed_grad_src), save_inputs=False, jvp="linear")
DIAGONAL_SCATTER = defop("DiagonalScatterBackward0", _embed_forward,
                         (_embed_grad_self, _embed_grad_src), save_inputs=False, jvp="linear")


def _embed(spec, name, input, src, index):
    _require_tensor(src, name, "src", 2)
    expected = np.empty(input.shape, dtype=bool)[index].shape
    if tuple(src.shape) != expected:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expected)}")
    return apply(spec, input, src, index=index, src_dtype=src._data.dtype)


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src`` (cast to
    ``input``'s dtype)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = normalize_dims(dim, input.ndim)[0]
    size, index = input.shape[axis], int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    return _embed(SELECT_SCATTER, "select_scatter", input, src, _along(axis, index % size))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by
    ``src`` (cast to ``input``'s dtype)."""
    if input.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    axis = normalize_dims(dim, input.ndim)[0]
    step = 1 if step is None else int(step)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _embed(SLICE_SCATTER, "slice_scatter", input, src, _along(axis, slice(start, end, step)))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with its diagonal ``input.diagonal(offset, dim1, dim2)`` replaced
    by ``src`` (cast to ``input``'s dtype)."""
    from .shape_more import _axes_in_order, _diagonal_index

    axis1, axis2 = _axes_in_order((dim1, dim2), input.ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    index = _diagonal_index(input.shape, int(offset), axis1, axis2)
    return _embed(DIAGONAL_SCATTER, "diagonal_scatter", input, src, index)
