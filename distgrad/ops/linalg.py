"""Linear algebra: ``matmul mm dot bmm``, all on ``np.matmul`` (BLAS)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._broadcast import unbroadcast
from ._registry import apply, defop


def _matmul_jvp(tangents, out, x, y):
    """Forward mode: the product rule, ``dx @ y + x @ dy``."""
    tx, ty = tangents
    result = 0
    if tx is not None:
        result = np.matmul(tx, y)
    if ty is not None:
        result = result + np.matmul(x, ty)
    return result


def _matmul_grad_x(xp, g, out, x, y):
    if y.ndim == 1:                       # (..., n) @ (n,) -> (...)
        return xp.expand_dims(g, -1) * y if x.ndim > 1 else g * y
    if x.ndim == 1:                       # (n,) @ (..., n, m) -> (..., m)
        return unbroadcast(xp, xp.matmul(xp.expand_dims(g, -2), xp.swapaxes(y, -1, -2)),
                           x.shape)
    if g.ndim == 2 and _is_transposed(x):  # both 2-D (batched g would need unbroadcast)
        return (y @ g.T).T
    return unbroadcast(xp, xp.matmul(g, xp.swapaxes(y, -1, -2)), x.shape)


def _is_transposed(a) -> bool:
    """A 2-D array stored column-major (e.g. ``W.T``): its gradient is made in that layout
    too, so that the transpose back in ``W.T``'s backward yields a row-major gradient."""
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.flags.f_contiguous \
        and not a.flags.c_contiguous


def _matmul_grad_y(xp, g, out, x, y):
    if x.ndim == 1:                       # (n,) @ (..., n, m)
        if y.ndim == 1:
            return g * x
        return unbroadcast(xp, xp.expand_dims(x, -1) * xp.expand_dims(g, -2), y.shape)
    if y.ndim == 1:                       # (..., k, n) @ (n,) -> (..., k)
        return _mv_grad_y(xp, g, x, y)
    if g.ndim == 2 and _is_transposed(y):
        return (g.T @ x).T
    return unbroadcast(xp, xp.matmul(xp.swapaxes(x, -1, -2), g), y.shape)


def _mv_grad_y(xp, g, x, y):
    grad = xp.matmul(xp.swapaxes(x, -1, -2), xp.expand_dims(g, -1))   # (..., n, 1)
    grad = xp.reshape(grad, grad.shape[:-1])
    return unbroadcast(xp, grad, y.shape)


def _matmul_op(name, forward=np.matmul, saved=()):
    # Each gradient reads the other operand's values; its own operand only for its shape.
    return defop(name, forward, (_matmul_grad_x, _matmul_grad_y), jvp=_matmul_jvp,
                 needs=((1,), (0,)), saved=saved)


MATMUL = _matmul_op("MmBackward0", saved=("self", "mat2"))
DOT = _matmul_op("DotBackward0", np.dot, saved=("self", "tensor"))
MV = _matmul_op("MvBackward0", saved=("self", "vec"))
BMM = _matmul_op("BmmBackward0", saved=("self", "mat2"))
# PyTorch computes the other shapes of ``matmul`` by reshaping around mm/mv/bmm, so their
# grad_fn is named after its last step; here one node does the whole product.
MATMUL_ND = _matmul_op("UnsafeViewBackward0")            # the batched product, reshaped back
MATMUL_VEC_MAT = _matmul_op("SqueezeBackward4")          # (n,) @ (n, m): a 1 x n mm, squeezed
MATMUL_FOLDED_T = _matmul_op("CloneBackward0")           # 2-D @ batched, folded transposed
MATMUL_FOLDED_T_VIEW = _matmul_op("TransposeBackward0")  # the same, already contiguous


def check_same_dtype(x, y, name, what=("mat1", "mat2")):
    """Raise, as PyTorch does, where the two operands of a matrix product (or a layer's input
    and weight) differ in dtype: NumPy would silently promote, say, a float32 model to
    float64 on float64 data."""
    dx, dy = getattr(x, "dtype", None), getattr(y, "dtype", None)
    if dx is not None and dy is not None and dx != dy:
        raise RuntimeError(f"{name}: {what[0]} and {what[1]} must have the same dtype, but got "
                           f"{dx} and {dy}; convert one of them (e.g. data from NumPy, which "
                           f"is float64, with .float())")


def _check_matmul(x, y, name):
    check_same_dtype(x, y, name)
    xs, ys = np.shape(x), np.shape(y)
    if len(xs) == 0 or len(ys) == 0:
        raise RuntimeError(f"{name}: both arguments to matmul need to be at least 1D, but they "
                           f"are {len(xs)}D and {len(ys)}D")
    inner_x = xs[-1]
    inner_y = ys[0] if len(ys) == 1 else ys[-2]
    if inner_x != inner_y:
        if len(xs) == 2 and len(ys) == 2:
            raise RuntimeError(f"{name}: mat1 and mat2 shapes cannot be multiplied "
                               f"({xs[-2]}x{xs[-1]} and {ys[-2]}x{ys[-1]})")
        raise RuntimeError(f"{name}: size mismatch, got input shapes {list(xs)} and {list(ys)}: "
                           f"the last dim of the first ({inner_x}) must equal the "
                           f"{'only' if len(ys) == 1 else 'second-to-last'} dim of the second "
                           f"({inner_y})")
    try:
        np.broadcast_shapes(xs[:-2], ys[:-2])
    except ValueError:
        raise RuntimeError(f"{name}: the batch dimensions of input shapes {list(xs)} and "
                           f"{list(ys)} cannot be broadcast together") from None


def matmul(input, other):
    """Matrix product with NumPy's rules: 1-D operands are promoted, batch dims broadcast."""
    x, y = _array(input), _array(other)
    if (getattr(x, "ndim", 0) == 2 and getattr(y, "ndim", 0) == 2 and x.shape[1] == y.shape[0]
            and x.dtype is y.dtype):
        return MATMUL.binary(input, other)  # the common case, checked in one line
    _check_matmul(x, y, "matmul")
    return apply(_matmul_spec(input, np.shape(x), np.shape(y)), input, other)


def _matmul_spec(input, xs, ys):
    """The op for ``input @ other`` of shapes ``xs`` and ``ys``, named as PyTorch's grad_fn."""
    nd_x, nd_y = len(xs), len(ys)
    if nd_x == 2 and nd_y == 2:
        return MATMUL
    if nd_x == 1:
        return DOT if nd_y == 1 else MATMUL_VEC_MAT if nd_y == 2 else MATMUL_ND
    if nd_x == 2 and nd_y == 1:
        return MV
    # PyTorch folds a 2-D (or batch-of-one 3-D) first operand that requires grad against a
    # batched second one into a single mm on transposes, then makes the transposed result
    # contiguous: a copy, unless a dimension of size 1 makes it contiguous already.
    folds = (nd_x == 2 and nd_y >= 3) or (nd_x == nd_y == 3 and xs[0] == 1 != ys[0])
    if folds and isinstance(input, Tensor) and input._requires_grad:
        rows, cols = xs[-2], ys[-1]
        return MATMUL_FOLDED_T_VIEW if rows == 1 or cols == 1 else MATMUL_FOLDED_T
    return MATMUL_ND


def mm(input, mat2):
    """Product of two 2-D matrices."""
    if np.ndim(_array(input)) != 2 or np.ndim(_array(mat2)) != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {np.ndim(_array(input))}-D and "
                           f"{np.ndim(_array(mat2))}-D")
    _check_matmul(_array(input), _array(mat2), "mm")
    return apply(MATMUL, input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same length."""
    xs, ys = np.shape(_array(input)), np.shape(_array(other))
    if len(xs) != 1 or len(ys) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(xs)}D and {len(ys)}D tensors")
    check_same_dtype(_array(input), _array(other), "dot", ("self", "other"))
    if xs != ys:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src "
                           f"[{ys[0]}] to have the same number of elements, but got {xs[0]} "
                           f"and {ys[0]} elements respectively")
    return apply(DOT, input, other)


def bmm(input, mat2):
    """Batched product of ``(b, n, m)`` and ``(b, m, p)`` tensors."""
    if np.ndim(_array(input)) != 3 or np.ndim(_array(mat2)) != 3:
        raise RuntimeError("bmm: expected 3-D tensors")
    _check_matmul(_array(input), _array(mat2), "bmm")
    return apply(BMM, input, mat2)


def _array(x):
    return x._data if isinstance(x, Tensor) else x
