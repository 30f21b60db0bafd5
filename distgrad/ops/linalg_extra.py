"""More of ``torch.linalg``: the LU family, least squares, the matrix exponential, the tensor
solvers, Vandermonde matrices and products of Householder reflectors.

Everything runs on NumPy alone (no SciPy): the LU factorization with partial pivoting is
written here, batched, and returns LAPACK's 1-based ``int32`` pivots as PyTorch does. The
single-output ops (``lu_solve``, ``matrix_exp`` and the ``*_ex`` fallbacks) are rows of the op
table; the factorizations with several outputs (``lu_factor``, ``lu``, ``lu_unpack``,
``lstsq``) are one custom :class:`Function` each, named as PyTorch's node, whose backward
composes distgrad ops so that double backward works. Their gradients are PyTorch's formulas:
the LU ones solve with the triangular factors, so they need the ``k x k`` leading block of
``U`` to be nonsingular; ``lstsq``'s goes through ``pinv(A)`` and is meant for inputs of
constant (usually full) rank.

distgrad has no complex dtype; every function here takes and returns real tensors.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from . import linalg_more, shape_more, shape_ops
from ._backends import raw, taped
from ._broadcast import unbroadcast
from ._nn_common import array_of, call_op
from ._registry import apply, defop
from .linalg import matmul
from .linalg_more import (
    SOLVE_TRIANGULAR,
    InvExResult,
    LinAlgError,
    SolveExResult,
    _inv_grad,
    _inv_jvp,
    _like,
    _mT,
    _named,
    _no_forward_mode,
    _solve_grads,
    _solve_jvp,
    _tri_mask,
    solve_triangular,
)

__all__ = ["lu_factor", "lu_factor_ex", "lu", "lu_unpack", "lu_solve", "lstsq", "matrix_exp",
           "inv_ex", "solve_ex", "tensorsolve", "tensorinv", "vander", "householder_product",
           "legacy_lu", "legacy_lu_solve"]

LUFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])
LUUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])
LUWithInfoResult = namedtuple("_lu_with_info", ["LU", "pivots", "info"])
LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
                "bool": "Bool"}


# ----------------------------------------------------------------------------- checks


def _type_name(x):
    dtype = np.asarray(array_of(x)).dtype
    return _TORCH_NAMES.get(dtype.name, dtype.name)


def _is_float(x):
    return np.asarray(array_of(x)).dtype.kind == "f"


def _check_float(name, x):
    if not _is_float(x):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(x)}")


def _check_dims(name, x, what="A"):
    if np.ndim(array_of(x)) < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")


def _check_square(name, x, what="A"):
    _check_dims(name, x, what)
    _check_float(name, x)
    m, n = np.shape(array_of(x))[-2:]
    if m != n:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are "
                           f"{m} by {n} matrices")


def _check_pivot(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _batch_prefix(info, index):
    return f"(Batch element {index}): " if np.ndim(info) else ""


def _first_failure(info):
    """``(flat batch index, info value)`` of the first nonzero ``info``, or None."""
    flat = np.asarray(info).reshape(-1)
    bad = np.flatnonzero(flat)
    return None if bad.size == 0 else (int(bad[0]), int(flat[bad[0]]))


# -------------------------------------------------------------- NumPy LU kernels


def _lu_np(a):
    """LU with partial pivoting of each ``(m, n)`` matrix of ``a``, as LAPACK's ``getrf``:
    ``(LU, pivots, info)``, pivots 1-based ``int32`` row swaps, ``info`` the 1-based index of
    the first pivot that is exactly zero (0 if none). The elimination goes on past a zero
    pivot, so ``LU`` is complete either way."""
    shape = a.shape
    m, n = shape[-2:]
    k = min(m, n)
    lu = np.array(a.reshape((math.prod(shape[:-2]), m, n)), dtype=a.dtype)
    count = lu.shape[0]
    rows = np.arange(count)
    pivots = np.empty((count, k), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p + 1
        moved = rows[p != j]
        if moved.size:
            pj = p[moved]
            row = lu[moved, j, :].copy()
            lu[moved, j, :] = lu[moved, pj, :]
            lu[moved, pj, :] = row
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        # below a zero pivot the column is all zeros (it was the largest), so nothing to scale
        lu[:, j + 1:, j] /= np.where(zero, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(shape), pivots.reshape(shape[:-2] + (k,)), info.reshape(shape[:-2])


def _permutation(pivots, m):
    """The row order ``perm`` with ``P^T A = A[perm]``, from LAPACK's sequential swaps."""
    flat = pivots.reshape((math.prod(pivots.shape[:-1]), pivots.shape[-1])).astype(np.intp) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        row = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = row
    return perm.reshape(pivots.shape[:-1] + (m,))


def _permutation_matrix(pivots, m, dtype):
    """``P`` (``A = P L U``) from the pivots: column ``i`` of ``P`` is ``e_perm[i]``."""
    return np.swapaxes(np.eye(m, dtype=dtype)[_permutation(pivots, m)], -1, -2)


def _tri_solve_np(t, b, lower, unit):
    """``T^-1 B`` for the lower (upper) triangle of ``t`` (a unit diagonal if ``unit``). A
    zero on the diagonal gives inf/NaN, as LAPACK's ``trsm`` does, instead of raising."""
    n = t.shape[-1]
    tri = np.tril(t) if lower else np.triu(t)
    if unit:
        tri = tri - tri * np.eye(n, dtype=t.dtype) + np.eye(n, dtype=t.dtype)
    diagonal = np.diagonal(tri, axis1=-2, axis2=-1)
    if np.all(diagonal != 0) and np.all(np.isfinite(diagonal)):
        try:
            return np.linalg.solve(tri, b)
        except np.linalg.LinAlgError:
            pass
    shape = np.broadcast_shapes(tri.shape[:-2], b.shape[:-2]) + b.shape[-2:]
    x = np.zeros(shape, dtype=np.result_type(t, b))
    b = np.broadcast_to(b, shape)
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in order:
            done = slice(0, i) if lower else slice(i + 1, n)
            row = b[..., i, :] - (tri[..., i:i + 1, done] @ x[..., done, :])[..., 0, :]
            x[..., i, :] = row if unit else row / tri[..., i, i, None]
    return x


def _lu_solve_np(lu, pivots, b, left, adjoint):
    """The solution of ``A X = B`` (``A^T X = B`` when ``adjoint``; ``X A = B`` when not
    ``left``) from ``A``'s LU factorization; batch dimensions broadcast."""
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return np.swapaxes(_lu_solve_np(lu, pivots, np.swapaxes(b, -1, -2), True,
                                        not adjoint), -1, -2)
    n = lu.shape[-1]
    batch = np.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    perm = _permutation(np.broadcast_to(pivots, batch + pivots.shape[-1:]), n)[..., None]
    b = np.broadcast_to(b, batch + b.shape[-2:])
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        y = _tri_solve_np(lu, np.take_along_axis(b, perm, axis=-2), lower=True, unit=True)
        return _tri_solve_np(lu, y, lower=False, unit=False)
    lu_t = np.swapaxes(lu, -1, -2)  # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = _tri_solve_np(lu_t, b, lower=True, unit=False)
    y = _tri_solve_np(lu_t, y, lower=False, unit=True)
    x = np.empty_like(y)
    np.put_along_axis(x, np.broadcast_to(perm, y.shape[:-1] + (1,)), y, axis=-2)
    return x


def _lu_info(a):
    return _lu_np(a)[2]


# ------------------------------------------------------------- LU factorization


def _unpack(lu, pivots, m, k):
    """``(P, L, U)`` of an LU tensor, ``L`` and ``U`` through differentiable ops."""
    data = array_of(lu)
    p = Tensor._wrap(_permutation_matrix(array_of(pivots), m, data.dtype))
    eye = np.eye(m, k, dtype=data.dtype)
    low = shape_more.tril(lu[..., :, :k], -1) + eye
    up = shape_more.triu(lu[..., :k, :])
    return p, low, up


def _zeros(shape, dtype):
    return Tensor._wrap(np.zeros(shape, dtype=dtype))


def _lu_backward(g_l, g_u, p, low, up):
    """PyTorch's ``linalg_lu_backward``: the gradient of ``A = P L U`` from those of ``L``
    (``m x k``, unit lower triangular) and ``U`` (``k x n``, upper triangular)."""
    if g_l is None and g_u is None:
        return None
    tril, triu, mT = shape_more.tril, shape_more.triu, (lambda x: x.mT)
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    if m == n:
        ga = tril(matmul(mT(low), g_l), -1) if g_l is not None else None
        if g_u is not None:
            term = triu(matmul(g_u, mT(up)))
            ga = term if ga is None else ga + term
        ga = solve_triangular(mT(up), ga, upper=False, left=False)
        ga = solve_triangular(mT(low), ga, upper=True, unitriangular=True)
    elif m < n:  # wide: U = [U1 U2] with U1 square
        ga = matmul(mT(low), g_l) if g_l is not None else None
        if g_u is not None:
            term = matmul(triu(g_u), mT(up))
            ga = -term if ga is None else ga - term
        ga = solve_triangular(mT(up[..., :k]), tril(ga, -1), upper=False, left=False)
        if g_u is not None:
            ga = shape_ops.cat([ga + triu(g_u[..., :k]), g_u[..., k:]], -1)
        ga = solve_triangular(mT(low), ga, upper=True, unitriangular=True)
        if g_u is None:
            ga = shape_ops.cat([ga, _zeros(ga.shape[:-1] + (n - k,), array_of(ga).dtype)], -1)
    else:  # tall: L = [L1; L2] with L1 square
        ga = matmul(g_u, mT(up)) if g_u is not None else None
        if g_l is not None:
            term = matmul(mT(low), tril(g_l, -1))
            ga = -term if ga is None else ga - term
        ga = solve_triangular(mT(low[..., :k, :]), triu(ga), upper=True, unitriangular=True)
        if g_l is not None:
            ga = shape_ops.cat([ga + tril(g_l[..., :k, :], -1), g_l[..., k:, :]], -2)
        ga = solve_triangular(mT(up), ga, upper=False, left=False)
        if g_l is None:
            ga = shape_ops.cat([ga, _zeros(ga.shape[:-2] + (m - k, n), array_of(ga).dtype)],
                               -2)
    return matmul(p, ga)


class _LuFactor(Function):
    """``(LU, pivots, info)``: one node, differentiable in ``LU`` only."""

    @staticmethod
    def forward(ctx, a):
        lu_, pivots, info = _lu_np(a._data)
        lu_ = Tensor._wrap(lu_)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(lu_)
        ctx.pivots = pivots
        return lu_, Tensor._wrap(pivots), Tensor._wrap(info)

    @staticmethod
    def backward(ctx, g_lu, g_pivots, g_info):
        (lu_,) = ctx.saved_tensors
        g_lu = _like(g_lu, lu_)
        if g_lu is None:
            return None
        m, n = lu_.shape[-2:]
        k = min(m, n)
        p, low, up = _unpack(lu_, ctx.pivots, m, k)
        return _lu_backward(g_lu[..., :, :k], g_lu[..., :k, :], p, low, up)


_named(_LuFactor, "LinalgLuFactorExBackward0")


def _lu_factor_checked(name, A, pivot):
    shape = np.shape(array_of(A))
    if len(shape) < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(shape)} instead")
    if not _is_float(A):
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{_type_name(A)}\'')
    _check_pivot(pivot)
    _no_forward_mode(name, A)
    return _LuFactor.apply(A)


def _raise_zero_pivot(name, info):
    failure = _first_failure(array_of(info))
    if failure is not None:
        index, value = failure
        raise RuntimeError(f"{name}: {_batch_prefix(array_of(info), index)}U[{value},{value}] is "
                           f"zero and using it on lu_solve would result in a division by zero. "
                           f"If you still want to perform the factorization, consider calling "
                           f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``: the LU factorization with partial pivoting of each matrix of
    ``A`` (``(*, m, n)``) in LAPACK's compact form, ``L`` (unit diagonal, not stored) below
    the diagonal and ``U`` on and above it. ``pivots`` (``int32``, 1-based) lists the row
    swaps; ``info`` is the 1-based index of the first zero pivot, 0 where there is none (an
    error instead with ``check_errors=True``). Only ``LU`` is differentiable."""
    lu_, pivots, info = _lu_factor_checked("torch.lu_factor", A, pivot)
    if check_errors:
        _raise_zero_pivot("torch.linalg.lu_factor_ex", info)
    return LUFactorExResult(lu_, pivots, info)


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)`` of :func:`lu_factor_ex`; a singular matrix (an exactly zero pivot)
    raises, as ``LU`` could not be used with :func:`lu_solve`."""
    lu_, pivots, info = _lu_factor_checked("torch.lu_factor", A, pivot)
    _raise_zero_pivot("torch.linalg.lu_factor", info)
    return LUFactorResult(lu_, pivots)


class _Lu(Function):
    """``A = P L U``: the three factors from one node; ``P`` is not differentiable."""

    @staticmethod
    def forward(ctx, a):
        lu_, pivots, _ = _lu_np(a._data)
        m, n = lu_.shape[-2:]
        k = min(m, n)
        eye = np.eye(m, k, dtype=lu_.dtype)
        p = Tensor._wrap(_permutation_matrix(pivots, m, lu_.dtype))
        low = Tensor._wrap(np.tril(lu_[..., :, :k], -1) + eye)
        up = Tensor._wrap(np.triu(lu_[..., :k, :]))
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(p)
        ctx.save_for_backward(p, low, up)
        return p, low, up

    @staticmethod
    def backward(ctx, g_p, g_l, g_u):
        p, low, up = ctx.saved_tensors
        return _lu_backward(_like(g_l, low), _like(g_u, up), p, low, up)


_named(_Lu, "LinalgLuBackward0")


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U``: ``P`` a permutation matrix, ``L`` (``m x k``) unit
    lower triangular, ``U`` (``k x n``) upper triangular, ``k = min(m, n)``. A singular
    ``A`` is factored without error. ``L`` and ``U`` are differentiable."""
    shape = np.shape(array_of(A))
    if len(shape) < 2:
        raise RuntimeError(f"linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(shape)} instead")
    if not _is_float(A):
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{_type_name(A)}\'')
    _check_pivot(pivot)
    _no_forward_mode("linalg.lu", A)
    return LUResult(*_Lu.apply(A))


class _LuUnpack(Function):
    """``(P, L, U)`` from a compact LU: one node, differentiable in ``L`` and ``U``."""

    @staticmethod
    def forward(ctx, lu_data, pivots, unpack_data, unpack_pivots):
        data = lu_data._data
        m, n = data.shape[-2:]
        k = min(m, n)
        empty = np.empty((0,), dtype=data.dtype)
        if unpack_data:
            eye = np.eye(m, k, dtype=data.dtype)
            low, up = np.tril(data[..., :, :k], -1) + eye, np.triu(data[..., :k, :])
        else:
            low = up = empty
        if unpack_pivots:
            piv = np.broadcast_to(pivots._data, data.shape[:-2] + pivots._data.shape[-1:])
            p = _permutation_matrix(piv, m, data.dtype)
        else:
            p = empty
        p, low, up = Tensor._wrap(p), Tensor._wrap(low), Tensor._wrap(up)
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(p)
        ctx.shape = (m, n)
        return p, low, up

    @staticmethod
    def backward(ctx, g_p, g_l, g_u):
        m, n = ctx.shape
        k = min(m, n)
        grad = None
        if g_l is not None and g_l.numel():
            grad = shape_more.tril(g_l, -1)
            if n > k:
                grad = shape_ops.cat([grad, _zeros(grad.shape[:-1] + (n - k,),
                                                   array_of(grad).dtype)], -1)
        if g_u is not None and g_u.numel():
            up = shape_more.triu(g_u)
            if m > k:
                up = shape_ops.cat([up, _zeros(up.shape[:-2] + (m - k, n),
                                               array_of(up).dtype)], -2)
            grad = up if grad is None else grad + up
        return grad, None, None, None


_named(_LuUnpack, "LuUnpackBackward0")


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` from the compact ``(LU, pivots)`` of :func:`lu_factor`, with
    ``A = P L U``. ``L``/``U`` are empty when ``unpack_data=False``, ``P`` when
    ``unpack_pivots=False``."""
    shape = np.shape(array_of(LU_data))
    if len(shape) < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(shape)} instead")
    m, n = shape[-2:]
    piv = array_of(LU_pivots)
    if not isinstance(piv, np.ndarray) or piv.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    if unpack_pivots and (piv.ndim == 0 or (piv.size and (piv.min() < 1 or piv.max() > m))):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) "
                           "inclusive.Did you properly pass the result of lu_factor?")
    if unpack_pivots:
        if piv.shape[-1] != min(m, n):
            raise RuntimeError(f"torch.lu_unpack: expected pivots of shape (*, {min(m, n)}) "
                               f"for LU of shape {list(shape)}, but got {list(piv.shape)}; "
                               f"pass the pivots returned by lu_factor")
        try:
            np.broadcast_to(piv, shape[:-2] + piv.shape[-1:])
        except ValueError:
            raise RuntimeError(f"torch.lu_unpack: the batch shape of pivots "
                               f"{list(piv.shape[:-1])} does not match that of LU "
                               f"{list(shape[:-2])}") from None
    if not isinstance(LU_data, Tensor):
        LU_data = Tensor._wrap(np.asarray(LU_data))
    _no_forward_mode("torch.lu_unpack", LU_data)
    return LUUnpackResult(*_LuUnpack.apply(LU_data, Tensor._wrap(piv), bool(unpack_data),
                                           bool(unpack_pivots)))


# ---------------------------------------------------------------------- lu_solve


def _lu_solve_lu_grad(xp, g, out, lu_, pivots, left, adjoint):
    """PyTorch's ``linalg_lu_solve_LU``: the gradient reaching ``LU``, split into its ``L``
    (strictly lower) and ``U`` (upper) parts."""
    n = lu_.shape[-1]
    upper = _tri_mask(g, n, True)
    lower = _tri_mask(g, n, False, strict=True)
    low = lu_ * lower + np.eye(n, dtype=upper.dtype)
    up = lu_ * upper
    if left != adjoint:
        rhs = -xp.matmul(g, _mT(xp, out)) if left else -xp.matmul(_mT(xp, g), out)
        g_r = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, up), rhs, upper=False, left=True,
                      unitriangular=False)
        g_l = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, low), xp.matmul(g_r, _mT(xp, up)),
                      upper=True, left=True, unitriangular=True)
        return g_l * lower + g_r * upper
    p = _permutation_matrix(np.asarray(array_of(pivots)), n, upper.dtype)
    p_t = np.swapaxes(p, -1, -2)
    if xp is not raw:
        p, p_t = Tensor._wrap(p), Tensor._wrap(p_t)
    x, gx = (out, _mT(xp, g)) if left else (_mT(xp, out), g)
    g_r = -xp.matmul(xp.matmul(xp.matmul(p_t, x), gx), p)
    g_r = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, low), g_r, upper=True, left=False,
                  unitriangular=True)
    g_u = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, up), xp.matmul(_mT(xp, low), g_r), upper=False,
                  left=False, unitriangular=False)
    return g_r * lower + g_u * upper


def _lu_solve_grads(xp, g, out, needs, lu_, pivots, b, left, adjoint):
    grad_lu = grad_b = None
    if needs[0]:
        grad_lu = unbroadcast(xp, _lu_solve_lu_grad(xp, g, out, lu_, pivots, left, adjoint),
                              lu_.shape)
    if needs[2]:
        grad_b = unbroadcast(xp, call_op(xp, LU_SOLVE, lu_, pivots, g, left=left,
                                         adjoint=not adjoint), b.shape)
    return grad_lu, None, grad_b


def _lu_solve_jvp(tangents, out, lu_, pivots, b, left, adjoint):
    t_lu, _, t_b = tangents
    rhs = np.zeros_like(out) if t_b is None else np.broadcast_to(t_b, out.shape)
    if t_lu is not None:  # dA = P (dL U + L dU)
        n = lu_.shape[-1]
        eye = np.eye(n, dtype=lu_.dtype)
        p = _permutation_matrix(pivots, n, lu_.dtype)
        d_a = p @ (np.tril(t_lu, -1) @ np.triu(lu_) + (np.tril(lu_, -1) + eye) @ np.triu(t_lu))
        if adjoint:
            d_a = np.swapaxes(d_a, -1, -2)
        rhs = rhs - (d_a @ out if left else out @ d_a)
    return _lu_solve_np(lu_, pivots, rhs, left, adjoint)


LU_SOLVE = defop("LinalgLuSolveBackward0", _lu_solve_np, _lu_solve_grads, save_output=True,
                 jvp=_lu_solve_jvp, saved=("LU", "pivots", None),
                 saved_params=("left", "adjoint"))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """The solution ``X`` of ``A X = B`` given ``A``'s ``(LU, pivots)`` from
    :func:`lu_factor`: ``A^T X = B`` when ``adjoint``, ``X A = B`` (``X A^T = B``) when
    ``left=False``. Batch dimensions of ``LU`` and ``B`` broadcast. Differentiable in ``LU``
    and ``B``; a singular ``U`` gives inf/NaN, as in PyTorch."""
    name = "linalg.lu_solve"
    _check_dims(f"torch.{name}", LU)
    _check_float(f"torch.{name}", LU)
    a, b = np.shape(array_of(LU)), np.shape(array_of(B))
    if a[-1] != a[-2]:
        raise RuntimeError(f"torch.{name}: A must be batches of square matrices, but they are "
                           f"{a[-2]} by {a[-1]} matrices")
    _check_dims(name, B, "B")
    piv = array_of(pivots)
    if not isinstance(piv, np.ndarray) or piv.dtype != np.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    if np.asarray(array_of(B)).dtype != np.asarray(array_of(LU)).dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but found LU of "
                           f"type {_type_name(LU)} and B of type {_type_name(B)} instead")
    if piv.shape[:-1] != a[:-2]:
        raise RuntimeError(f"{name}: Expected LU.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(piv.shape)} instead")
    if piv.shape[-1] != a[-1]:
        raise RuntimeError(f"{name}: Number of pivots per batch should be same as the dimension "
                           f"of the matrix")
    if piv.size and (piv.min() < 1 or piv.max() > a[-1]):
        raise RuntimeError("Pivots given to lu_solve must all be smaller or equal to "
                           "LU.size(-2). Did you properly pass the result of lu_factor?")
    rows = b[-2] if left else b[-1]
    if rows != a[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({a[-2]}x{a[-1]} and "
                           f"{b[-2]}x{b[-1]})")
    _broadcast_batch(b[:-2], a[:-2])  # the operands in PyTorch's order
    return apply(LU_SOLVE, LU, pivots, B, left=bool(left), adjoint=bool(adjoint))


def _broadcast_batch(a, b):
    """The broadcast of two batch shapes, with PyTorch's error where they do not."""
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
            raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor "
                               f"b ({b[-i]}) at non-singleton dimension "
                               f"{max(len(a), len(b)) - i}")
    return np.broadcast_shapes(a, b)


# ------------------------------------------------------------------ matrix_exp


def _pade_coefficients(m):
    """The numerator coefficients of the ``[m/m]`` Padé approximant of ``exp``."""
    return [math.factorial(2 * m - j) * math.factorial(m)
            / (math.factorial(2 * m) * math.factorial(j) * math.factorial(m - j))
            for j in range(m + 1)]


# Higham (2005), "The scaling and squaring method for the matrix exponential revisited":
# the largest 1-norm for which the [m/m] approximant is accurate to double precision.
_PADE_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
               (7, 9.504178996162932e-1), (9, 2.097847961257068e0), (13, 5.371920351148152e0))
_PADE = {m: _pade_coefficients(m) for m, _ in _PADE_THETA}


def _pade(x, m):
    b = _PADE[m]
    eye = np.eye(x.shape[-1])
    x2 = x @ x
    if m == 13:
        x4 = x2 @ x2
        x6 = x4 @ x2
        u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2)
                 + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
        v = (x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2)
             + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye)
    else:
        powers = [np.broadcast_to(eye, x.shape), x2]
        while len(powers) < (m + 1) // 2:
            powers.append(powers[-1] @ x2)
        u = x @ sum(b[2 * j + 1] * p for j, p in enumerate(powers))
        v = sum(b[2 * j] * p for j, p in enumerate(powers))
    try:
        return np.linalg.solve(v - u, v + u)
    except np.linalg.LinAlgError:  # only for non-finite input
        return np.full(x.shape, np.nan)


def _matrix_exp_forward(a):
    """Scaling and squaring with a Padé approximant (Higham 2005), in float64, per matrix."""
    if a.size == 0:
        return a.copy()
    with np.errstate(all="ignore"):  # overflow gives inf, non-finite input NaN, as PyTorch
        return _matrix_exp_np(a)


def _matrix_exp_np(a):
    x = a.astype(np.float64)
    norm = np.abs(x).sum(axis=-2).max(axis=-1)
    finite = np.isfinite(norm)
    largest = norm[finite].max(initial=0.0)
    degree, theta = next(((m, t) for m, t in _PADE_THETA if largest <= t), _PADE_THETA[-1])
    squarings = np.zeros(norm.shape, dtype=np.int64)
    if degree == 13:
        big = finite & (norm > theta)
        squarings[big] = np.ceil(np.log2(norm[big] / theta)).astype(np.int64)
        x = x / np.exp2(squarings)[..., None, None]
    out = _pade(x, degree)
    for i in range(int(squarings.max(initial=0))):
        out = np.where((squarings > i)[..., None, None], out @ out, out)
    out[~finite] = np.nan
    return out.astype(a.dtype)


def _exp_block(xp, top_left, top_right, bottom_right, n):
    """``exp([[X, G], [0, Y]])``'s top-right block (the Fréchet derivative when X = Y)."""
    shape = tuple(top_right.shape[:-2]) + (2 * n, 2 * n)
    head, tail = slice(0, n), slice(n, 2 * n)
    block = (xp.index_add(shape, (Ellipsis, head, head), top_left)
             + xp.index_add(shape, (Ellipsis, head, tail), top_right)
             + xp.index_add(shape, (Ellipsis, tail, tail), bottom_right))
    return call_op(xp, MATRIX_EXP, block)[..., :n, n:]


def _matrix_exp_grad(xp, g, out, a):
    a_t = xp.cast(_mT(xp, a), g.dtype)
    return _exp_block(xp, a_t, g, a_t, a.shape[-1])


def _matrix_exp_jvp(tangents, out, a):
    return _exp_block(raw, a, tangents[0].astype(a.dtype), a, a.shape[-1])


MATRIX_EXP = defop("LinalgMatrixExpBackward0", _matrix_exp_forward, (_matrix_exp_grad,),
                   jvp=_matrix_exp_jvp, saved=("self",))


def matrix_exp(A):
    """The matrix exponential ``sum_k A^k / k!`` of each square matrix of ``A``."""
    _check_square("linalg.matrix_exp", A)
    return apply(MATRIX_EXP, A)


# ------------------------------------------------------------ inv_ex and solve_ex


def _inv_lu_forward(a):
    lu_, pivots, _ = _lu_np(a)
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return _lu_solve_np(lu_, pivots, eye, True, False)


def _solve_lu_forward(a, b, vector, left=True):
    lu_, pivots, _ = _lu_np(a)
    if vector:
        return _lu_solve_np(lu_, pivots, b[..., None], True, False)[..., 0]
    return _lu_solve_np(lu_, pivots, b, left, False)


# Where a matrix is singular, the ``*_ex`` functions return the LU solver's inf/NaN instead of
# raising; these rows compute that (NumPy's solver refuses) with the usual gradients.
_INV_LU = defop("LinalgInvExBackward0", _inv_lu_forward, (_inv_grad,), save_inputs=False,
                save_output=True, jvp=_inv_jvp, saved=())
_SOLVE_LU = defop("LinalgSolveExBackward0", _solve_lu_forward, _solve_grads, save_output=True,
                  jvp=_solve_jvp, saved=("A", "B"))


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``info`` is 0, or for a singular matrix the 1-based index of the
    first zero pivot of its LU factorization, where ``inverse`` holds inf/NaN. With
    ``check_errors=True`` a singular matrix raises :class:`LinAlgError` instead."""
    _check_square("linalg.inv", A)
    try:
        return InvExResult(linalg_more.inv(A), linalg_more._zeros_info(A))
    except LinAlgError:
        pass
    info = _lu_info(array_of(A))
    failure = _first_failure(info)
    if check_errors and failure is not None:
        index, value = failure
        raise LinAlgError(f"linalg.inv_ex: {_batch_prefix(info, index)}The diagonal element "
                          f"{value} is zero, the inversion could not be completed because the "
                          f"input matrix is singular.")
    return InvExResult(apply(_INV_LU, A), Tensor._wrap(info))


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)`` of :func:`~distgrad.linalg.solve`: ``info`` is 0, or for a singular
    matrix the 1-based index of the first zero pivot, where ``result`` holds inf/NaN. With
    ``check_errors=True`` a singular matrix raises :class:`LinAlgError` instead."""
    _check_square("linalg.solve", A)
    try:
        return SolveExResult(linalg_more.solve(A, B, left=left), linalg_more._zeros_info(A))
    except LinAlgError:
        pass
    a, b = np.shape(array_of(A)), np.shape(array_of(B))
    info = _lu_info(array_of(A))
    failure = _first_failure(info)
    if check_errors and failure is not None:
        raise LinAlgError(f"torch.linalg.solve_ex: {_batch_prefix(info, failure[0])}The solver "
                          f"failed because the input matrix is singular.")
    vector = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])
    return SolveExResult(apply(_SOLVE_LU, A, B, vector=vector, left=bool(left)),
                         Tensor._wrap(info))


# ------------------------------------------------------------------------ lstsq


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _pivoted_qr(w, n):
    """Householder QR with column pivoting (LAPACK's ``geqp3``) of the first ``n`` columns
    of each ``w`` (``(batch, m, n + k)``, float64, overwritten); the reflectors are applied
    to the last ``k`` columns too (``Q^T B``). Returns the column order."""
    count, m, _ = w.shape
    rows = np.arange(count)
    order = np.tile(np.arange(n), (count, 1))
    for j in range(min(m, n)):
        norms = np.sqrt(np.einsum("bij,bij->bj", w[:, j:, j:n], w[:, j:, j:n]))
        p = j + np.argmax(norms, axis=1)
        moved = rows[p != j]
        if moved.size:
            pj = p[moved]
            column = w[moved, :, j].copy()
            w[moved, :, j] = w[moved, :, pj]
            w[moved, :, pj] = column
            index = order[moved, j].copy()
            order[moved, j] = order[moved, pj]
            order[moved, pj] = index
        x = w[:, j:, j]
        alpha = x[:, 0]
        rest = np.sqrt(np.einsum("bi,bi->b", x[:, 1:], x[:, 1:]))
        reflect = rest != 0  # otherwise H = I, as LAPACK's dlarfg
        beta = -np.copysign(np.hypot(alpha, rest), alpha)
        safe_beta = np.where(reflect, beta, 1.0)
        tau = np.where(reflect, (beta - alpha) / safe_beta, 0.0)
        v = x / np.where(reflect, alpha - beta, 1.0)[:, None]
        v[:, 0] = 1.0
        sub = w[:, j:, j:]
        sub -= (tau[:, None] * v)[:, :, None] * np.einsum("bi,bij->bj", v, sub)[:, None, :]
        w[:, j + 1:, j] = 0.0
    return order


def _leading_condition_ok(r, sizes, rcond):
    """Whether each leading block ``R[:k, :k]`` (``k = sizes``) has ``σ_max rcond <= σ_min``.
    Blocks are padded to a common size with ``|R[0, 0]| I``, which lies between the block's
    extreme singular values and so changes neither."""
    top = int(sizes.max())
    block = r[:, :top, :top].copy()
    idx = np.arange(top)
    outside = (idx[None, :] >= sizes[:, None])
    block[outside[:, :, None] | outside[:, None, :]] = 0.0
    pad = np.abs(r[:, 0, 0])[:, None] * outside
    block[:, idx, idx] += pad
    s = np.linalg.svd(block, compute_uv=False)
    return s[:, 0] * rcond <= s[:, -1]


def _gelsy(a, b, rcond):
    """LAPACK's ``gelsy``: the rank is the size of the largest leading block of ``R`` from a
    pivoted QR whose condition number is at most ``1 / rcond`` (computed exactly here where
    LAPACK estimates it); the solution is the minimum-norm one of that truncated problem."""
    batch = a.shape[:-2]
    m, n = a.shape[-2:]
    k = b.shape[-1]
    w = np.concatenate([a, b], axis=-1).reshape((math.prod(batch), m, n + k)).astype(np.float64)
    count = w.shape[0]
    order = _pivoted_qr(w, n)
    mn = min(m, n)
    r = w[:, :mn, :n]
    rank = np.zeros(count, dtype=np.int64)
    if mn:
        nonzero = r[:, 0, 0] != 0
        low = np.where(nonzero, 1, 0)
        high = np.where(nonzero, mn, 0)
        while np.any(low < high):  # the condition number only grows with the block size
            mid = (low + high + 1) // 2
            ok = _leading_condition_ok(r, np.maximum(mid, 1), rcond) | (low >= high)
            low = np.where(ok, mid, low)
            high = np.where(ok, high, mid - 1)
        rank = low
    z = np.zeros((count, n, k))
    for size in np.unique(rank):
        if size == 0:
            continue
        members = np.flatnonzero(rank == size)
        # min-norm solution of [R11 R12] z = (Q^T B)[:size]
        u, s, vh = np.linalg.svd(r[members, :size, :], full_matrices=False)
        y = np.swapaxes(u, -1, -2) @ w[members, :size, n:]
        z[members] = np.swapaxes(vh, -1, -2) @ (y / s[..., None])
    x = np.empty_like(z)
    np.put_along_axis(x, np.broadcast_to(order[:, :, None], z.shape), z, axis=1)
    return x.reshape(batch + (n, k)), rank.reshape(batch)


def _gels(a, b):
    """LAPACK's ``gels`` (full rank assumed): QR when tall, LQ (QR of ``A^T``) when wide."""
    m, n = a.shape[-2:]
    if m >= n:
        q, r = np.linalg.qr(a)
        return _tri_solve_np(r, np.swapaxes(q, -1, -2) @ b, lower=False, unit=False)
    q, r = np.linalg.qr(np.swapaxes(a, -1, -2))
    return q @ _tri_solve_np(np.swapaxes(r, -1, -2), b, lower=True, unit=False)


def _lstsq_np(a, b, rcond, driver):
    """``(solution, residuals, rank, singular_values)`` as PyTorch fills them per driver;
    ``a`` and ``b`` (a matrix) already share their batch shape."""
    batch = a.shape[:-2]
    m, n = a.shape[-2:]
    k = b.shape[-1]
    dtype = a.dtype
    x64, b64 = a.astype(np.float64), b.astype(np.float64)
    empty = np.zeros((0,), dtype=dtype)
    rank, sv = np.zeros((0,), dtype=np.int64), empty
    if m == 0 or n == 0:
        x = np.zeros(batch + (n, k))
        if driver != "gels":
            rank = np.zeros(batch, dtype=np.int64)
        if driver in ("gelsd", "gelss"):
            sv = np.zeros(batch + (0,), dtype=dtype)
    elif driver in ("gelsd", "gelss"):
        u, s, vh = np.linalg.svd(x64, full_matrices=False)
        keep = s > (rcond if rcond >= 0 else np.finfo(dtype).eps) * s[..., :1]
        rank = keep.sum(axis=-1).astype(np.int64)
        s_inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        x = np.swapaxes(vh, -1, -2) @ (s_inv[..., None] * (np.swapaxes(u, -1, -2) @ b64))
        sv = s.astype(dtype)
    elif driver == "gelsy":
        x, rank = _gelsy(x64, b64, rcond)
    else:
        x = _gels(x64, b64)
    full_rank = driver == "gels" or (driver != "gelsy" and np.all(rank == n))
    if m > n and full_rank:
        r = x64 @ x - b64
        residuals = np.einsum("...ij,...ij->...j", r, r).astype(dtype)
    else:
        residuals = empty
    return x.astype(dtype), residuals, rank, sv


class _Lstsq(Function):
    """``(solution, residuals, rank, singular_values)``: one node, differentiable in the
    solution and the residuals."""

    @staticmethod
    def forward(ctx, a, b, rcond, driver, vector):
        a_, b_ = a._data, b._data
        if vector:
            b_ = b_[..., None]
        batch = _broadcast_batch(a_.shape[:-2], b_.shape[:-2])
        a_ = np.broadcast_to(a_, batch + a_.shape[-2:])
        b_ = np.broadcast_to(b_, batch + b_.shape[-2:])
        x, residuals, rank, sv = _lstsq_np(a_, b_, rcond, driver)
        if vector:  # the residuals keep their column dimension, as PyTorch's
            x = x[..., 0]
        x, residuals, sv = Tensor._wrap(x), Tensor._wrap(residuals), Tensor._wrap(sv)
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(sv)
        ctx.save_for_backward(a, b, x)
        ctx.vector = vector
        return x, residuals, Tensor._wrap(rank), sv

    @staticmethod
    def backward(ctx, g_x, g_res, g_rank, g_sv):
        a, b, x = ctx.saved_tensors
        g_x, g_res = _like(g_x, x), _like(g_res, x)
        if g_res is not None and not g_res.numel():
            g_res = None
        if g_x is None and g_res is None:
            return None, None, None, None, None
        if ctx.vector:
            b, x = b.unsqueeze(-1), x.unsqueeze(-1)
            g_x = g_x.unsqueeze(-1) if g_x is not None else None
        g_a = g_b = None
        if g_x is not None:
            # PyTorch's: the solution is pinv(A) B
            pinv_a = linalg_more.pinv(a)
            if ctx.needs_input_grad[0]:
                g_a = linalg_more._pinv_grad(taped, matmul(g_x, b.mT), pinv_a, a, 0.0, 0.0,
                                             False)
            if ctx.needs_input_grad[1]:
                g_b = matmul(pinv_a.mT, g_x)
        if g_res is not None:
            # residuals = |A X - B|^2 per column, stationary in X at the solution
            scaled = 2.0 * (matmul(a, x) - b) * g_res.unsqueeze(-2)
            if ctx.needs_input_grad[0]:
                term = matmul(scaled, x.mT)
                g_a = term if g_a is None else g_a + term
            if ctx.needs_input_grad[1]:
                g_b = -scaled if g_b is None else g_b - scaled
        if g_a is not None:
            g_a = unbroadcast(taped, g_a, a.shape)
        if g_b is not None:
            g_b = unbroadcast(taped, g_b, b.shape)
            if ctx.vector:
                g_b = g_b.squeeze(-1)
        return g_a, g_b, None, None, None


_named(_Lstsq, "LinalgLstsqBackward0")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution ``X`` minimising ``|A X - B|`` (the minimum-norm one when
    ``A`` is rank-deficient and the driver handles that), as PyTorch's named tuple
    ``(solution, residuals, rank, singular_values)``.

    ``driver`` is LAPACK's: ``'gelsy'`` (the default: QR with column pivoting; fills
    ``rank``), ``'gelsd'`` and ``'gelss'`` (SVD; fill ``rank`` and ``singular_values``) or
    ``'gels'`` (QR, for full-rank ``A`` only). ``residuals``, the squared residual norm of
    each column, is filled when ``m > n`` and every matrix has full rank, except by
    ``'gelsy'``; the other fields are empty where the driver does not compute them.
    ``rcond`` (default ``eps * max(m, n)``) sets the rank: singular values (``gelsd``,
    ``gelss``) or the condition of the pivoted ``R`` (``gelsy``) relative to the largest.
    ``B`` is ``(*, m, k)``, or a batch of vectors ``(*, m)`` when its shape is ``A``'s
    without the last dimension (or it is 1-D); batch dimensions broadcast. The solution and
    residuals are differentiable (through ``pinv(A)``, as PyTorch's backward), for inputs of
    constant rank.

    Unlike PyTorch 2.x on CPU, whose ``gelsy`` hands LAPACK an uninitialised pivot array that
    in practice fixes the column order, ``gelsy`` here pivots as LAPACK documents; the two
    agree on full-rank input and can differ on the rank (and solution) of rank-deficient input.
    """
    name = "torch.linalg.lstsq"
    a, b = np.shape(array_of(A)), np.shape(array_of(B))
    if len(a) < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if not _is_float(A) or not _is_float(B):
        if not _is_float(A) and not _is_float(B):
            raise RuntimeError("This function doesn't handle types other than float and double")
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_type_name(A)} and other's dtype {_type_name(B)}")
    if np.asarray(array_of(A)).dtype != np.asarray(array_of(B)).dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_type_name(A)} and other's dtype {_type_name(B)}")
    if not 0 <= len(a) - len(b) <= 1:
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                           f"(input.dim() - other.dim()) <= 1")
    vector = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])  # as linalg.solve's
    if a[-2] != (b[-1] if vector else b[-2]):
        raise RuntimeError(f"{name}: input.size(-2) should match other.size("
                           f"{-1 if vector else -2})")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of "
                           f"({', '.join(_DRIVERS)})")
    if rcond is None:
        rcond = float(np.finfo(np.asarray(array_of(A)).dtype).eps) * max(a[-2], a[-1])
    _broadcast_batch(a[:-2], b[:-1] if vector else b[:-2])
    _no_forward_mode("linalg.lstsq", A, B)
    if not isinstance(A, Tensor):
        A = Tensor._wrap(np.asarray(A))
    if not isinstance(B, Tensor):
        B = Tensor._wrap(np.asarray(B))
    return LstsqResult(*_Lstsq.apply(A, B, float(rcond), driver, vector))


# ------------------------------------------------------------ tensor solvers


def tensorsolve(A, B, dims=None):
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``: ``A``'s trailing dimensions (after
    ``B.ndim`` of them, and after moving ``dims`` to the end) are ``X``'s shape."""
    ndim = A.ndim
    if dims is not None:
        dims = [int(d) % ndim for d in dims]
        A = shape_ops.permute(A, [i for i in range(ndim) if i not in dims] + dims)
    result_shape = tuple(A.shape[B.ndim:])
    result_size, other_size = math.prod(result_shape), math.prod(B.shape)
    if result_size != other_size:
        raise RuntimeError(f"Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
                           f"but got {result_size} != {other_size}")
    square = shape_ops.reshape(A, (result_size, result_size))
    return shape_ops.reshape(linalg_more.solve(square, shape_ops.reshape(B, (-1,))),
                             result_shape)


def tensorinv(A, ind=2):
    """The inverse of ``A`` for :func:`tensordot` over ``ind`` dimensions: with
    ``prod(A.shape[:ind]) == prod(A.shape[ind:])``, a tensor of shape
    ``A.shape[ind:] + A.shape[:ind]``."""
    ind = int(ind)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    head, tail = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(tail) != math.prod(head):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(tail)} != "
                           f"{math.prod(head)}")
    inverse, info = inv_ex(shape_ops.reshape(A, (math.prod(tail), math.prod(tail))))
    if int(array_of(info)):
        raise LinAlgError(f"inv: The diagonal element {int(array_of(info))} is zero, the "
                          f"inversion could not be completed because the input matrix is "
                          f"singular.")
    return shape_ops.reshape(inverse, tail + head)


# ------------------------------------------------------------------- Vandermonde


def _powers(x, count):
    """``[1, x, x^2, ..., x^(count-1)]`` along a new last dimension (``count >= 1``)."""
    data = array_of(x)
    ones_dtype = np.result_type(data.dtype, np.int64) if data.dtype.kind in "biu" \
        else data.dtype
    ones = Tensor._wrap(np.ones(data.shape + (1,), dtype=ones_dtype))
    if count == 1:
        return ones
    repeated = shape_ops.expand(shape_ops.unsqueeze(x, -1), *data.shape, count - 1)
    return shape_ops.cat([ones, _cumprod(repeated)], -1)


def _cumprod(x):
    from .sorting import cumprod
    return cumprod(x, -1)


def vander(x, *, N=None):
    """The Vandermonde matrix of ``x`` (``(*, n)``): ``(*, n, N)`` with columns
    ``x^0, x^1, ..., x^(N-1)`` (increasing powers); ``N`` defaults to ``n``. Integer input
    gives ``int64``."""
    data = np.asarray(array_of(x))
    if data.dtype.kind not in "fiu":
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer "
                           f"tensors, but got {_type_name(x)}")
    if not isinstance(x, Tensor):
        x = Tensor._wrap(data)
    if x.ndim == 0:
        x = shape_ops.unsqueeze(x, -1)
    count = x.shape[-1] if N is None else int(N)
    if count <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x, count)


# -------------------------------------------------------- Householder reflectors


def householder_product(A, tau):
    """The first ``n`` columns of ``H_1 H_2 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` with
    ``v_i`` the ``i``-th column of ``A`` (``(*, m, n)``, ``m >= n``) below the diagonal and a
    1 on it (LAPACK's ``orgqr``, e.g. on the output of ``geqrf``). ``tau`` is ``(*, k)``,
    ``k <= n``. Differentiable in ``A`` and ``tau``, through the reflections one by one."""
    name = "torch.linalg.householder_product"
    a, t = np.shape(array_of(A)), np.shape(array_of(tau))
    if len(a) < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a[-2] < a[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if a[-1] < (t[-1] if t else 0):
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    if len(a) - len(t) != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {len(t)} and input.ndim is equal to {len(a)}")
    if t[:-1] != a[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(t[:-1])}")
    if not _is_float(A):
        raise NotImplementedError(f'"orgqr_cpu" not implemented for \'{_type_name(A)}\'')
    if np.asarray(array_of(tau)).dtype != np.asarray(array_of(A)).dtype:
        raise RuntimeError(f"{name}: tau dtype {_type_name(tau)} does not match input dtype "
                           f"{_type_name(A)}")
    if not isinstance(A, Tensor):
        A = Tensor._wrap(np.asarray(A))
    if not isinstance(tau, Tensor):
        tau = Tensor._wrap(np.asarray(tau))
    m, n = a[-2:]
    dtype = array_of(A).dtype
    q = Tensor._wrap(np.broadcast_to(np.eye(m, n, dtype=dtype), a).copy())
    below = _tri_mask(array_of(A), m, upper=False, strict=True)[:, :n]
    eye = np.eye(m, n, dtype=dtype)
    vectors = A * below + eye  # column i is v_i
    for i in range(t[-1] - 1, -1, -1):  # Q = H_i Q, innermost reflector first
        v = vectors[..., :, i:i + 1]
        q = q - (tau[..., i:i + 1].unsqueeze(-1) * v) * matmul(v.mT, q)
    return q


# --------------------------------------------------------------- torch.* aliases


def legacy_lu(A, pivot=True, get_infos=False):
    """``torch.lu`` (deprecated in PyTorch): ``(LU, pivots)`` of :func:`lu_factor_ex`, or
    ``(LU, pivots, infos)`` with ``get_infos=True``. A singular matrix does not raise."""
    lu_, pivots, info = _lu_factor_checked("torch.lu_factor", A, pivot)
    if get_infos:
        return LUWithInfoResult(lu_, pivots, info)
    return lu_, pivots


def legacy_lu_solve(b, LU_data, LU_pivots):
    """``torch.lu_solve`` (deprecated in PyTorch): :func:`lu_solve` with the right-hand side
    first."""
    return lu_solve(LU_data, LU_pivots, b)
