"""Reductions: ``sum mean max min amax amin prod norm logsumexp var std``, plus arg/logic ones.

``dim`` may be an int, a tuple or None (all dims), negative dims count from the end, and
``keepdim`` keeps reduced dims as size 1, as in PyTorch.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .._tensor import Tensor
from . import _backends
from . import elementwise as ew
from ._registry import apply, defop

ReturnTypes = namedtuple("return_types", ["values", "indices"])


def normalize_dims(dim, ndim: int) -> tuple:
    """Turn ``dim`` (int, sequence or None) into a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    rank = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-rank}, {rank - 1}], but got {d})")
        out.append(d % rank if ndim else 0)
    if len(set(out)) != len(out):
        repeated = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return tuple(sorted(out))


def reduction_axes(dim, ndim: int, empty_is_all: bool = True) -> tuple:
    """:func:`normalize_dims` for a reduction: a 0-d tensor accepts dim 0 or -1 and has no
    axis to reduce, so it reduces over ``()``. An empty ``dim`` list reduces every dim, as
    in PyTorch's sum, mean, amax... (but not its ``any``/``all``: ``empty_is_all=False``)."""
    if empty_is_all and dim is not None and not isinstance(dim, (int, np.integer)) \
            and len(dim) == 0:
        dim = None
    axes = normalize_dims(dim, ndim)
    return axes if ndim else ()


def _check_keepdim(name, dim, keepdim):
    if dim is None and keepdim:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"keepdim without dim; pass the dims to keep, e.g. "
                        f"t.{name}(dim=tuple(range(t.ndim)), keepdim=True)")


def _jvp_of_reduction(vjp):
    """The forward-mode rule of a reduction, made from its VJP.

    Each input element feeds exactly one output, so the VJP of ones is ``d out / d x`` per
    element, and the JVP sums ``tangent * that`` over the reduced axes.
    """
    def jvp(tangents, out, x, **params):
        slope = vjp(_backends.raw, np.ones_like(out), out, x, **params)
        return np.sum(tangents[0] * slope, axis=params.get("axes"),
                      keepdims=params.get("keepdim", False))
    return jvp


def _expand_back(xp, g, shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input's ``shape``."""
    if not keepdim and axes:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = xp.reshape(g, kept)
    return g


# ------------------------------------------------------------------------ sum, mean


def _sum_forward(x, axes, keepdim, shape):
    return x.sum(axis=axes, keepdims=keepdim)


def _sum_grad(xp, g, out, x, axes, keepdim, shape):
    return xp.broadcast_to(_expand_back(xp, g, shape, axes, keepdim), shape)


def _mean_forward(x, axes, keepdim, shape):
    return x.mean(axis=axes, keepdims=keepdim)


def _mean_grad(xp, g, out, x, axes, keepdim, shape):
    count = math.prod([shape[a] for a in axes])
    return xp.broadcast_to(_expand_back(xp, g, shape, axes, keepdim) / count, shape)


SUM_ALL = defop("SumBackward0", _sum_forward, (_sum_grad,), save_inputs=False, jvp="linear")
SUM_DIM = defop("SumBackward1", _sum_forward, (_sum_grad,), save_inputs=False, jvp="linear")
MEAN_ALL = defop("MeanBackward0", _mean_forward, (_mean_grad,), save_inputs=False, jvp="linear")
MEAN_DIM = defop("MeanBackward1", _mean_forward, (_mean_grad,), save_inputs=False, jvp="linear")


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims when None). Booleans and integers sum to int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bi" and input._data.dtype != np.int64:
        input = input.to(np.int64)
    _check_keepdim("sum", dim, keepdim)
    axes = reduction_axes(dim, input.ndim)
    spec = SUM_ALL if dim is None else SUM_DIM
    return apply(spec, input, axes=axes, keepdim=keepdim, shape=input.shape)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims when None). Requires a floating point input."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{input.dtype!r}; convert first, e.g. t.float().mean()")
    _check_keepdim("mean", dim, keepdim)
    axes = reduction_axes(dim, input.ndim)
    spec = MEAN_ALL if dim is None else MEAN_DIM
    return apply(spec, input, axes=axes, keepdim=keepdim, shape=input.shape)


# ---------------------------------------------------------------------- max and min


def _extreme_all_grad(xp, g, out, x):
    # The gradient is split evenly among tied extremes, as in PyTorch; a NaN is the
    # extreme, so the gradient is split among the NaNs (x == out is false for them).
    mask = (x != x) if out != out else x == out
    return g * mask / xp.cast(xp.sum(mask * 1.0), g.dtype)  # (a float64 count would promote)


def _take_forward(x, dim, keepdim, indices):
    if x.ndim == 0:
        return x.copy()
    values = np.take_along_axis(x, np.expand_dims(indices, dim), dim)
    return values if keepdim else values.squeeze(dim)


def _take_grad(xp, g, out, x, dim, keepdim, indices):
    # The whole gradient goes to the selected index.
    if x.ndim == 0:
        return g
    size = x.shape[dim]
    positions = np.arange(size).reshape([size if i == dim else 1 for i in range(x.ndim)])
    one_hot = positions == np.expand_dims(indices, dim)
    g = g if keepdim else xp.expand_dims(g, dim)
    return g * one_hot


MAX_ALL = defop("MaxBackward1", np.max, (_extreme_all_grad,), save_output=True,
                 jvp=_jvp_of_reduction(_extreme_all_grad))
MIN_ALL = defop("MinBackward1", np.min, (_extreme_all_grad,), save_output=True,
                 jvp=_jvp_of_reduction(_extreme_all_grad))
MAX_DIM = defop("MaxBackward0", _take_forward, (_take_grad,), jvp="linear")
MIN_DIM = defop("MinBackward0", _take_forward, (_take_grad,), jvp="linear")


def _extreme(input, dim, keepdim, all_spec, dim_spec, arg_fn, name):
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return apply(all_spec, input)
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return (ew.maximum if name == "max" else ew.minimum)(input, dim)
    axis = normalize_dims(dim, input.ndim)[0]
    indices = arg_fn(input._data, axis=axis) if input.ndim else np.zeros((), np.int64)
    values = apply(dim_spec, input, dim=axis, keepdim=keepdim, indices=indices)
    if keepdim and input.ndim:
        indices = np.expand_dims(indices, axis)
    return ReturnTypes(values, Tensor._wrap(indices.astype(np.int64, copy=False)))


def max(input, dim=None, keepdim=False):
    """Return the maximum; with ``dim``, a ``(values, indices)`` pair.

    The full reduction splits the gradient evenly among ties; with ``dim`` the gradient goes
    to the returned index.
    """
    return _extreme(input, dim, keepdim, MAX_ALL, MAX_DIM, np.argmax, "max")


def min(input, dim=None, keepdim=False):
    """Return the minimum; with ``dim``, a ``(values, indices)`` pair."""
    return _extreme(input, dim, keepdim, MIN_ALL, MIN_DIM, np.argmin, "min")


def _amax_forward(x, axes, keepdim):
    return np.max(x, axis=axes, keepdims=keepdim)


def _amin_forward(x, axes, keepdim):
    return np.min(x, axis=axes, keepdims=keepdim)


def _amaxmin_grad(xp, g, out, x, axes, keepdim):
    shape = x.shape
    g = _expand_back(xp, g, shape, axes, keepdim)
    out = _expand_back(xp, out, shape, axes, keepdim)
    mask = x == out
    return g * mask / xp.cast(xp.sum(mask * 1.0, axis=axes, keepdims=True), g.dtype)


AMAX = defop("AmaxBackward0", _amax_forward, (_amaxmin_grad,), save_output=True,
             jvp=_jvp_of_reduction(_amaxmin_grad))
AMIN = defop("AminBackward0", _amin_forward, (_amaxmin_grad,), save_output=True,
             jvp=_jvp_of_reduction(_amaxmin_grad))


def amax(input, dim=None, keepdim=False):
    """Maximum over ``dim`` (all dims when None); ties share the gradient evenly."""
    return apply(AMAX, input, axes=reduction_axes(dim, input.ndim), keepdim=keepdim)


def amin(input, dim=None, keepdim=False):
    """Minimum over ``dim`` (all dims when None); ties share the gradient evenly."""
    return apply(AMIN, input, axes=reduction_axes(dim, input.ndim), keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    """Index of the maximum (of the flattened tensor when ``dim`` is None)."""
    return _arg(np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg(np.argmin, input, dim, keepdim)


def _arg(np_fn, input, dim, keepdim):
    if dim is None:
        return Tensor._wrap(np.asarray(np_fn(input._data), dtype=np.int64))
    if input.ndim == 0:
        normalize_dims(dim, 0)
        return Tensor._wrap(np.zeros((), np.int64))
    (axis,) = normalize_dims(dim, input.ndim)
    return Tensor._wrap(np.asarray(np_fn(input._data, axis=axis, keepdims=keepdim),
                                   dtype=np.int64))


def all(input, dim=None, keepdim=False):
    axes = reduction_axes(dim, input.ndim, empty_is_all=False)
    return Tensor._wrap(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    axes = reduction_axes(dim, input.ndim, empty_is_all=False)
    return Tensor._wrap(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


# ------------------------------------------------------------- prod, norm, logsumexp


def _prod_forward(x, axes, keepdim):
    return np.prod(x, axis=axes, keepdims=keepdim)


def _prod_grad(xp, g, out, x, axes, keepdim):
    g = _expand_back(xp, g, x.shape, axes, keepdim)
    if isinstance(x, np.ndarray):
        return g * _product_of_others(x, axes)
    if np.any(x._data == 0):
        return g * _product_of_others_taped(x, axes)
    return g * _expand_back(xp, out, x.shape, axes, keepdim) / x


def _product_of_others_taped(x, axes):
    """:func:`_product_of_others` on a tensor, recorded so that it can be differentiated.

    Each group of n elements becomes an n x n matrix whose row i is the group with element i
    replaced by 1; the product of each row is then the product of the others. O(n²) memory,
    paid only for ``create_graph`` through a product that contains zeros.
    """
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(*kept, *axes)
    n = int(np.prod([x.shape[a] for a in axes]))
    flat = moved.reshape(*moved.shape[:len(kept)], n)
    others = ew.where(np.eye(n, dtype=bool), 1.0, flat.unsqueeze(-2))
    result = prod(others, dim=-1).reshape(*moved.shape)
    return result.permute(*np.argsort(kept + list(axes)).tolist())


def _product_of_others(x, axes):
    """For each element, the product of the other elements in its reduction group (zeros safe)."""
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    ones = np.ones_like(flat[..., :1])
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], -1), -1), -1)
    return np.moveaxis((before * after).reshape(moved.shape), tuple(range(-len(axes), 0)), axes)


PROD = defop("ProdBackward0", _prod_forward, (_prod_grad,), save_output=True,
             jvp=_jvp_of_reduction(_prod_grad))
PROD_DIM = defop("ProdBackward1", _prod_forward, (_prod_grad,), save_output=True,
                 jvp=_jvp_of_reduction(_prod_grad))


def prod(input, dim=None, keepdim=False):
    """Product over ``dim`` (all dims when None); exact gradients even with zeros."""
    spec = PROD if dim is None else PROD_DIM
    return apply(spec, input, axes=reduction_axes(dim, input.ndim), keepdim=keepdim)


def _norm2_forward(x, axes, keepdim):
    return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdim))


def _norm2_grad(xp, g, out, x, axes, keepdim):
    g = _expand_back(xp, g, x.shape, axes, keepdim)
    out = _expand_back(xp, out, x.shape, axes, keepdim)
    # The subgradient at 0 is 0, as in PyTorch.
    return g * x / xp.where(out == 0, 1.0, out) * (out != 0)


NORM2 = defop("LinalgVectorNormBackward0", _norm2_forward, (_norm2_grad,), save_output=True,
               jvp=_jvp_of_reduction(_norm2_grad))


def _norm_p_forward(x, axes, keepdim, p):
    a = np.abs(x)
    if p == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    if p == np.inf:
        return np.max(a, axis=axes, keepdims=keepdim)
    if p == -np.inf:
        return np.min(a, axis=axes, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    with np.errstate(divide="ignore"):  # 0 ** negative p is inf, and the norm then 0
        return np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


def _norm_p_grad(xp, g, out, x, axes, keepdim, p):
    g = _expand_back(xp, g, x.shape, axes, keepdim)
    out = _expand_back(xp, out, x.shape, axes, keepdim)
    sign = xp.sign(x)
    if p == 1:
        return g * sign
    if p == 0:
        return g * sign * 0.0
    magnitude = x * sign
    if p in (np.inf, -np.inf):
        # Split evenly among the elements of largest (smallest) magnitude, as in PyTorch.
        mask = magnitude == out
        return g * sign * mask / xp.cast(xp.sum(mask * 1.0, axis=axes, keepdims=True), g.dtype)
    # d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1); 0 where x or the norm is 0
    # (|x|^(p-1) is infinite at x == 0 for p < 1; sign(x) then zeroes it).
    safe = xp.where(magnitude == 0, 1.0, magnitude)
    scale = safe ** (p - 1) / xp.where(out == 0, 1.0, out) ** (p - 1)
    return g * sign * scale * (out != 0)


NORM_P = defop("LinalgVectorNormBackward0", _norm_p_forward, (_norm_p_grad,), save_output=True,
                jvp=_jvp_of_reduction(_norm_p_grad))


def norm(input, p="fro", dim=None, keepdim=False):
    """Vector p-norm over ``dim`` (all elements when None); ``'fro'`` is the 2-norm.

    ``p`` may be any number: ``0`` counts the non-zero elements (zero gradient), ``inf`` and
    ``-inf`` give the largest and smallest magnitude, negative ``p`` the harmonic-like norms.
    """
    if p == "nuc":  # the nuclear norm of matrices (the last two dims, or the pair in dim)
        from .linalg_more import matrix_norm
        return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)
    axes = reduction_axes(dim, input.ndim)
    if p in ("fro", 2, 2.0):
        return apply(NORM2, input, axes=axes, keepdim=keepdim)
    if p == "inf":
        p = np.inf
    elif p == "-inf":
        p = -np.inf
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"norm: unsupported p={p!r}; use a number, 'fro', 'nuc', inf or -inf")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point tensor as input. "
                           f"Got {input.dtype!r}; convert first, e.g. t.float().norm()")
    return apply(NORM_P, input, axes=axes, keepdim=keepdim, p=float(p))


def _logsumexp_forward(x, axes, keepdim):
    peak = np.max(x, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return out if keepdim else np.squeeze(out, axis=axes)


def _logsumexp_grad(xp, g, out, x, axes, keepdim):
    g = _expand_back(xp, g, x.shape, axes, keepdim)
    out = _expand_back(xp, out, x.shape, axes, keepdim)
    return g * xp.exp(x - out)


LOGSUMEXP = defop("LogsumexpBackward0", _logsumexp_forward, (_logsumexp_grad,),
                  save_output=True, jvp=_jvp_of_reduction(_logsumexp_grad))


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))``, computed stably."""
    return apply(LOGSUMEXP, input, axes=reduction_axes(dim, input.ndim), keepdim=keepdim)


def var(input, dim=None, keepdim=False, *, unbiased=True, correction=None):
    """Variance over ``dim`` with Bessel's correction unless ``unbiased=False``."""
    axes = reduction_axes(dim, input.ndim)
    if correction is None:
        correction = 1 if unbiased else 0
    count = int(np.prod([input.shape[a] for a in axes])) if axes else 1
    centered = input - mean(input, axes, keepdim=True)
    return sum(centered * centered, axes, keepdim=keepdim) / builtins.max(count - correction, 0)


def std(input, dim=None, keepdim=False, *, unbiased=True, correction=None):
    """Standard deviation over ``dim``."""
    return ew.sqrt(var(input, dim, keepdim, unbiased=unbiased, correction=correction))
