"""In-place ops: ``zero_ fill_ add_ sub_ mul_ div_ copy_ clamp_ normal_ uniform_``, ``t[i] = v``
and the unary ones (``exp_ pow_ neg_``...).

Every in-place change bumps the tensor's version counter, so a node that saved the old
value notices at backward time. Outside ``no_grad``, changing a leaf that requires grad is
an error (its ``.grad`` would describe a value that no longer exists). A non-leaf changed in
place while recording gets a new ``grad_fn`` that continues its history, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.forward_ad import state as _forward_ad
from ..autograd.forward_ad import tangent_of
from . import elementwise as ew
from ._broadcast import unbroadcast
from ._registry import apply, defop


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _check_leaf(t: Tensor) -> None:
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in `with distgrad.no_grad():` (as optimizers do) or use an "
            "out-of-place op.")
    base = t._base
    if base is not None and base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap the update in `with distgrad.no_grad():` or use an out-of-place op.")


def _records(t: Tensor, other) -> bool:
    """Whether the change must go through an op: to record it, or to push a tangent."""
    if _forward_ad.depth and (tangent_of(t) is not None or (
            isinstance(other, Tensor) and tangent_of(other) is not None)):
        return True
    return grad_mode._state.enabled and (
        t._requires_grad or (isinstance(other, Tensor) and other._requires_grad))


def _numpy_inplace(t: Tensor, ufunc, other) -> Tensor:
    if ufunc is np.subtract and (t._data.dtype is ew._BOOL or other.__class__ is bool
                                 or getattr(_array(other), "dtype", None) is ew._BOOL):
        ew._check_not_bool_sub(t._data, _array(other))  # NumPy would compute ``f -= b``
    try:
        data = t._data
        ufunc(data, other._data if isinstance(other, Tensor) else other, out=data,
              casting="same_kind")
    except TypeError:  # NumPy's UFuncTypeError: the result can't be cast to the target dtype
        raise RuntimeError(
            f"result type of {ufunc.__name__} with a {np.result_type(_array(other))} operand can't "
            f"be cast to the desired output type {t.dtype!r} of the in-place target") from None
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(t.shape, np.shape(_array(other))))} in an in-place "
            f"op; an in-place op can't grow its target") from None
    t._bump_version()
    return t


def _rebase(t: Tensor, op, *args, **kwargs) -> Tensor:
    """Apply ``op`` out of place to ``t``'s history, then write the result into ``t``."""
    _check_leaf(t)
    if t._base is not None:
        return _rebase_view(t, op, *args, **kwargs)
    result = op(_snapshot(t), *args, **kwargs)
    _check_same_shape(t, result)
    np.copyto(t._data, result._data, casting="same_kind")
    t._bump_version()
    t.grad_fn = result.grad_fn
    t._requires_grad = result._requires_grad
    t._tangent = result._tangent
    return t


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t`` carrying its history: what nodes of the in-place op may save."""
    old = Tensor._wrap(t._data.copy(), grad_fn=t.grad_fn)
    old._requires_grad = t._requires_grad
    old._output_nr = t._output_nr
    old._tangent = t._tangent
    return old


def _check_same_shape(t: Tensor, result: Tensor) -> None:
    if result.shape != t.shape:
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)} in an in-place op")


def _rebase_view(view: Tensor, op, *args, **kwargs) -> Tensor:
    """In place on a view, as PyTorch's ``CopySlices``: the base's history becomes "the old
    base with the view's elements replaced by ``op(view)``", and the view's history is ``op``
    applied to the old base's view."""
    base = view._base
    old_base = _snapshot(base)
    old_view = old_base
    positions = np.arange(base._data.size).reshape(base.shape)
    for spec, params in view._view_chain:  # replay the view ops, on the history and on indices
        old_view = apply(spec, old_view, **params)
        positions = spec.forward(positions, **params)
    if np.unique(positions).size != positions.size:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    result = op(old_view, *args, **kwargs)
    _check_same_shape(view, result)
    elements = np.unravel_index(positions, base.shape)  # the view's elements, in the base
    new_base = _index_put(old_base, result, elements, COPY_SLICES)
    np.copyto(view._data, result._data, casting="same_kind")
    view._bump_version()
    base.grad_fn, base._output_nr = new_base.grad_fn, 0
    view.grad_fn, view._output_nr = result.grad_fn, 0
    base._requires_grad = view._requires_grad = result._requires_grad
    base._tangent, view._tangent = new_base._tangent, result._tangent
    view._view_version = view._vc[0]
    return view


def _binary_inplace(t, other, ufunc, op, alpha=1):
    if alpha != 1:
        other = ew.mul(other, alpha) if isinstance(other, Tensor) else _array(other) * alpha
    if grad_mode._state.enabled or _forward_ad.depth:  # under no_grad (an optimizer) no checks
        if _records(t, other):
            return _rebase(t, op, other)
        if grad_mode._state.enabled:
            _check_leaf(t)
    return _numpy_inplace(t, ufunc, other)


def add_(t, other, alpha=1):
    """``t += alpha * other`` in place."""
    return _binary_inplace(t, other, np.add, ew.add, alpha)


def sub_(t, other, alpha=1):
    """``t -= alpha * other`` in place."""
    return _binary_inplace(t, other, np.subtract, ew.sub, alpha)


def mul_(t, other):
    return _binary_inplace(t, other, np.multiply, ew.mul)


def div_(t, other):
    return _binary_inplace(t, other, np.true_divide, ew.div)


def _untracked(t):
    if grad_mode._state.enabled:
        _check_leaf(t)


# ------------------------------------------------------------- zero_, fill_, copy_
# Recorded as ops of their own (``ZeroBackward0``...), as in PyTorch: the old value gets a
# zero gradient, and a tensor ``value``/``src`` its gradient summed back to its shape.


def _zero_forward(x):
    return np.zeros_like(x)


def _fill_forward(x, value):
    return np.full_like(x, value)


def _copy_forward(x, src):
    """``src`` broadcast to ``x``'s shape, in ``x``'s dtype (floats cast to integers truncate)."""
    out = np.empty_like(x)
    np.copyto(out, src, casting="unsafe")
    return out


def _zero_grad(xp, g, out, x, *rest, **params):
    return xp.zeros(g.shape, dtype=g.dtype)


def _pass_grad(xp, g, out, x, src):
    return g


def _zero_jvp(tangents, out, *arrays, **params):
    return np.zeros_like(out)


ZERO = defop("ZeroBackward0", _zero_forward, (_zero_grad,), save_inputs=False, jvp="linear",
             casts=True)
FILL = defop("FillBackward2", _fill_forward, (_zero_grad,), save_inputs=False, jvp=_zero_jvp,
             casts=True)
FILL_TENSOR = defop("FillBackward3", _copy_forward, (_zero_grad, _pass_grad), save_inputs=False,
                    broadcast=True, jvp="linear", casts=True)
COPY = defop("CopyBackwards", _copy_forward, (_zero_grad, _pass_grad), save_inputs=False,
             broadcast=True, jvp="linear", casts=True)


def _zero(old):
    return apply(ZERO, old)


def _fill(old, value):
    if isinstance(value, Tensor):
        return apply(FILL_TENSOR, old, value)
    return apply(FILL, old, value=value)


def _copy(old, src):
    return apply(COPY, old, src)


def _check_broadcasts(t, src, name):
    shape = np.shape(_array(src))
    try:
        if np.broadcast_shapes(shape, t.shape) == t.shape:
            return
    except ValueError:
        pass
    raise RuntimeError(f"{name}: the source of shape {list(shape)} can't be broadcast to the "
                       f"destination's shape {list(t.shape)}")


def zero_(t):
    """Fill with zeros in place."""
    if _records(t, None):
        return _rebase(t, _zero)
    return fill_(t, 0)


def fill_(t, value):
    """Fill with ``value`` in place."""
    if _records(t, value):
        _check_broadcasts(t, value, "fill_")
        return _rebase(t, _fill, value)
    _untracked(t)
    t._data[...] = _array(value)
    t._bump_version()
    return t


def copy_(t, src):
    """Copy ``src`` (broadcast to ``t``'s shape) into ``t`` in place, casting to ``t``'s dtype
    as ``astype`` does (floats copied into integers are truncated toward zero)."""
    # An integer or bool target can't carry a gradient, so nothing is recorded for it.
    if t._data.dtype.kind in "fc" and _records(t, src):
        _check_broadcasts(t, src, "copy_")
        return _rebase(t, _copy, src)
    _untracked(t)
    try:
        np.copyto(t._data, _array(src), casting="unsafe")
    except ValueError:
        _check_broadcasts(t, src, "copy_")
        raise
    t._bump_version()
    return t


def clamp_(t, min=None, max=None):
    """Clamp in place."""
    if _records(t, None):
        return _rebase(t, ew.clamp, min, max)
    _untracked(t)
    np.clip(t._data, _array(min), _array(max), out=t._data)
    t._bump_version()
    return t


def normal_(t, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std²) drawn from distgrad's generator."""
    from .._factories import default_generator

    _untracked(t)
    t._data[...] = default_generator().normal(mean, std, size=t.shape)
    t._bump_version()
    return t


def uniform_(t, a=0.0, b=1.0):
    """Fill with samples from U(a, b) drawn from distgrad's generator."""
    from .._factories import default_generator

    _untracked(t)
    t._data[...] = default_generator().uniform(a, b, size=t.shape)
    t._bump_version()
    return t


# ------------------------------------------------------------------ t[index] = value


def _index_put_forward(x, v, index, value_shape):
    out = x.copy()
    out[index] = v
    return out


def _index_put_grad_x(xp, g, out, x, v, index, value_shape):
    kept = np.ones(g.shape, dtype=bool)
    kept[index] = False
    return g * kept


def _index_put_grad_v(xp, g, out, x, v, index, value_shape):
    return unbroadcast(xp, g[index], value_shape)


INDEX_PUT = defop("IndexPutBackward0", _index_put_forward, (_index_put_grad_x, _index_put_grad_v),
                  save_inputs=False, jvp="linear")
# The same write through basic indexing (or in place on a view): PyTorch changes a view of the
# tensor in place, and the tensor's node is CopySlices.
COPY_SLICES = defop("CopySlices", _index_put_forward, (_index_put_grad_x, _index_put_grad_v),
                    save_inputs=False, jvp="linear")


def _index_put(old, value, index, spec=INDEX_PUT):
    return apply(spec, old, value, index=index, value_shape=np.shape(_array(value)))


def _setitem_kind(index):
    """How PyTorch writes ``t[index] = value``: through a view if the index has basic parts
    (ints, partial slices, None, a bool), with ``index_put_`` if it is all advanced (arrays,
    masks), and with ``fill_``/``copy_`` if it selects everything (``:``, ``...``)."""
    kind = "whole"
    for item in index if isinstance(index, tuple) else (index,):
        if item is Ellipsis or (isinstance(item, slice) and item == slice(None)):
            continue
        if (item is None or isinstance(item, (int, np.integer, bool, slice))
                or (isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu")):
            return "view"
        kind = "advanced"
    return kind


def _setitem(old, value, index):
    kind = _setitem_kind(index)
    if kind == "whole":
        if np.ndim(_array(value)) == 0:  # PyTorch fills with a number wrapped in a tensor
            return _fill(old, value if isinstance(value, Tensor) else Tensor._wrap(
                np.asarray(value)))
        return _copy(old, value)
    return _index_put(old, value, index, COPY_SLICES if kind == "view" else INDEX_PUT)


def setitem_(t, index, value):
    """``t[index] = value``."""
    from .shape_ops import _normalize_index

    index = _normalize_index(index)
    if _records(t, value):
        return _rebase(t, _setitem, value, index)
    _untracked(t)
    t._data[index] = _array(value)
    t._bump_version()
    return t


# -------------------------------------------------------------- unary ops in place


def unary_(t, op, *args, **kwargs):
    """``t = op(t, *args)`` in place: recorded as ``op`` (``x.exp_()`` has ``ExpBackward0``)."""
    if _records(t, None):
        return _rebase(t, op, *args, **kwargs)
    _untracked(t)
    result = op(Tensor._wrap(t._data), *args, **kwargs)._data
    try:
        np.copyto(t._data, result, casting="same_kind")
    except TypeError:
        raise RuntimeError(f"result type {Tensor._wrap(result).dtype!r} can't be cast to the "
                           f"desired output type {t.dtype!r} of the in-place target; use the "
                           "out-of-place op instead") from None
    t._bump_version()
    return t
