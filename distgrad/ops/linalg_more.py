"""Linear algebra beyond products: ``torch.linalg``'s solvers, factorizations and norms.

Single-output ops are rows of the op table, their VJPs written against ``xp`` (or calling
the table's own ops through :func:`call_op`) so that double backward works. The
factorizations with several differentiable outputs (``qr``, ``eigh``, ``svd``) are one node
each, a custom :class:`Function` named as PyTorch's, whose backward composes distgrad ops.

Gradients of ``eigh`` and ``svd`` follow PyTorch's formulas and share their limits: they
divide by ``λ_j - λ_i`` (``σ_j² - σ_i²``), so they are infinite or NaN where eigenvalues
(singular values) repeat, unless the loss depends only on the eigenvalues (singular values)
or on an invariant subspace. ``det`` and ``slogdet`` differentiate through the inverse, so
their gradients at a singular matrix raise, where PyTorch falls back to an SVD.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .._tensor import Tensor
from ..autograd import forward_ad
from ..autograd.function import Function
from . import elementwise as ew
from . import reduce, shape_more, shape_ops
from ._broadcast import unbroadcast
from ._nn_common import array_of, call_op
from ._registry import apply, defop
from .linalg import matmul

__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "solve",
           "solve_triangular", "det", "slogdet", "logdet", "cholesky",
           "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_power",
           "cross", "multi_dot", "vecdot", "diagonal", "matrix_rank", "cond", "inverse",
           "pinverse", "legacy_svd", "legacy_cross"]


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular, or not positive-definite."""


SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
QRResult = namedtuple("linalg_qr", ["Q", "R"])
EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
LegacySVDResult = namedtuple("svd", ["U", "S", "V"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])


# ----------------------------------------------------------------------------- helpers


def _mT(xp, a):
    return xp.swapaxes(a, -1, -2)


def _tri_mask(like, n, upper, strict=False):
    """A 0/1 matrix selecting the (strictly) upper or lower triangle, in ``like``'s dtype."""
    ones = np.ones((n, n), dtype=array_of(like).dtype)
    k = int(strict)
    return np.triu(ones, k) if upper else np.tril(ones, -k)


def _check_float(name, x):
    if array_of(x).dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point tensor as input. Got "
                           f"{x.dtype}; convert first, e.g. A.double()")


def _check_square(name, x, what="A"):
    _check_float(name, x)
    shape = np.shape(array_of(x))
    if len(shape) < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if shape[-1] != shape[-2]:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are "
                           f"{shape[-2]} by {shape[-1]} matrices")


def _check_matrix(name, x):
    _check_float(name, x)
    if np.ndim(array_of(x)) < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def _no_forward_mode(name, *tensors):
    """Factorizations run as a custom Function, which has no forward-mode rule: refuse dual
    inputs instead of silently dropping their tangents."""
    if forward_ad.state.depth and any(isinstance(t, Tensor) and forward_ad.tangent_of(t)
                                      is not None for t in tensors):
        raise forward_ad.ForwardADNotImplemented(f"{name} has no forward-mode AD rule")


def _lapack(name, fn, *args, singular="The diagonal element is zero: the input is singular"):
    try:
        return fn(*args)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{name}: {singular}.") from None


# ----------------------------------------------------------------- inverse and solvers


def _singular_where(a) -> tuple:
    """``(batch prefix, k)`` of the first singular matrix of ``a``: its position in the
    batch (as PyTorch's messages give it, empty for a single matrix) and its first zero
    pivot, counted from 1."""
    from .linalg_extra import _lu_info

    info = np.asarray(_lu_info(a))
    first = int(np.flatnonzero(info.reshape(-1))[0]) if info.ndim else None
    prefix = "" if first is None else f"(Batch element {first}): "
    return prefix, int(info.reshape(-1)[first or 0])


def _inv_forward(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        prefix, k = _singular_where(a)
        raise LinAlgError(f"linalg.inv: {prefix}The diagonal element {k} is zero, the inversion "
                          f"could not be completed because the input matrix is singular.") from None


def _inv_grad(xp, g, out, a):
    t = _mT(xp, out)
    return -xp.matmul(t, xp.matmul(g, t))


def _inv_jvp(tangents, out, a):
    return -(out @ tangents[0] @ out)


INV = defop("LinalgInvExBackward0", _inv_forward, (_inv_grad,), save_inputs=False,
            save_output=True, jvp=_inv_jvp, saved=())


def inv(A):
    """The inverse of each square matrix of ``A`` (``(..., n, n)``)."""
    _check_square("linalg.inv", A)
    return apply(INV, A)


def inverse(input):
    """``torch.inverse``: :func:`inv`."""
    return inv(input)


def _zeros_info(A):
    return Tensor._wrap(np.zeros(np.shape(array_of(A))[:-2], dtype=np.int32))


def _solve_forward(a, b, vector, left=True):
    try:
        if vector:
            return np.linalg.solve(a, b[..., None])[..., 0]
        if not left:  # X A = B  <=>  A^T X^T = B^T
            return np.linalg.solve(np.swapaxes(a, -1, -2),
                                   np.swapaxes(b, -1, -2)).swapaxes(-1, -2)
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        prefix, _ = _singular_where(a)
        raise LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input "
                          f"matrix is singular.") from None


def _solve_grads(xp, g, out, needs, a, b, vector, left=True):
    gb = call_op(xp, SOLVE, _mT(xp, a), g, vector=vector, left=left)  # A^-T g (g A^-T)
    grad_a = grad_b = None
    if needs[0]:
        if vector:
            grad_a = -(xp.expand_dims(gb, -1) * xp.expand_dims(out, -2))
        elif not left:
            grad_a = -xp.matmul(_mT(xp, out), gb)
        else:
            grad_a = -xp.matmul(gb, _mT(xp, out))
        grad_a = unbroadcast(xp, grad_a, a.shape)
    if needs[1]:
        grad_b = unbroadcast(xp, gb, b.shape)
    return grad_a, grad_b


def _solve_jvp(tangents, out, a, b, vector, left=True):
    ta, tb = tangents
    rhs = np.zeros_like(out) if tb is None else tb
    if ta is not None:
        rhs = rhs - (np.matmul(ta, out[..., None])[..., 0] if vector else
                     np.matmul(ta, out) if left else np.matmul(out, ta))
    return _solve_forward(a, rhs, vector, left)


SOLVE = defop("LinalgSolveExBackward0", _solve_forward, _solve_grads, save_output=True,
              jvp=_solve_jvp, saved=("A", "B"))


def solve(A, B, *, left=True):
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``).

    ``B`` is a batch of vectors when it is 1-D or has exactly ``A``'s batch shape plus
    ``n``; otherwise a batch of matrices. Batch dimensions broadcast.
    """
    _check_square("linalg.solve", A)
    a, b = np.shape(array_of(A)), np.shape(array_of(B))
    vector = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               "equivalent to B / A.squeeze(-1)")
        if len(b) < 2 or b[-1] != a[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"XA = B ({a[-2]}x{a[-1]} and {'x'.join(map(str, b[-2:]))})")
        return apply(SOLVE, A, B, vector=False, left=False)
    rows = b[-1] if vector else (b[-2] if len(b) >= 2 else None)
    if rows != a[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a[-2]}x{a[-1]} and {'x'.join(map(str, b[-2:]))})")
    return apply(SOLVE, A, B, vector=vector)


def _triangle(a, upper, unitriangular):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        n = a.shape[-1]
        t = t - t * np.eye(n, dtype=a.dtype) + np.eye(n, dtype=a.dtype)
    return t


def _solve_tri_forward(a, b, upper, left, unitriangular):
    t = _triangle(a, upper, unitriangular)
    solve_ = np.linalg.solve
    if left:
        return _lapack("linalg.solve_triangular", solve_, t, b)
    return _lapack("linalg.solve_triangular", solve_, np.swapaxes(t, -1, -2),
                   np.swapaxes(b, -1, -2)).swapaxes(-1, -2)


def _solve_tri_grads(xp, g, out, needs, a, b, upper, left, unitriangular):
    # left: X = T^-1 B, so gB = T^-T g; right: X = B T^-1, so gB = g T^-T.
    gb = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, a), g, upper=not upper, left=left,
                 unitriangular=unitriangular)
    grad_a = grad_b = None
    if needs[0]:
        grad_a = -xp.matmul(gb, _mT(xp, out)) if left else -xp.matmul(_mT(xp, out), gb)
        grad_a = unbroadcast(xp, grad_a * _tri_mask(g, a.shape[-1], upper, unitriangular),
                             a.shape)
    if needs[1]:
        grad_b = unbroadcast(xp, gb, b.shape)
    return grad_a, grad_b


def _solve_tri_jvp(tangents, out, a, b, upper, left, unitriangular):
    ta, tb = tangents
    rhs = np.zeros_like(out) if tb is None else tb
    if ta is not None:
        ta = ta * _tri_mask(ta, a.shape[-1], upper, unitriangular)
        rhs = rhs - (ta @ out if left else out @ ta)
    return _solve_tri_forward(a, rhs, upper, left, unitriangular)


SOLVE_TRIANGULAR = defop("LinalgSolveTriangularBackward0", _solve_tri_forward,
                         _solve_tri_grads, save_output=True, jvp=_solve_tri_jvp,
                         saved=("self", "B"))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """Solve ``A X = B`` (``X A = B`` when ``left=False``) for triangular ``A``; only its
    ``upper`` or lower triangle is read, and a unit diagonal assumed if ``unitriangular``."""
    _check_square("linalg.solve_triangular", A)
    return apply(SOLVE_TRIANGULAR, A, B, upper=bool(upper), left=bool(left),
                 unitriangular=bool(unitriangular))


# ----------------------------------------------------------------------- determinants


def _det_grad(xp, g, out, a):
    scale = xp.expand_dims(xp.expand_dims(g * out, -1), -1)
    return scale * _mT(xp, call_op(xp, INV, a))


def _det_jvp(tangents, out, a):
    return out * np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * tangents[0], axis=(-2, -1))


DET = defop("LinalgDetBackward0", np.linalg.det, (_det_grad,), save_output=True, jvp=_det_jvp,
            saved=("A",))


def det(A):
    """The determinant of each square matrix of ``A``."""
    _check_square("linalg.det", A)
    return apply(DET, A)


def _logabsdet_forward(a):
    return np.linalg.slogdet(a)[1]


def _logabsdet_grad(xp, g, out, a):
    return xp.expand_dims(xp.expand_dims(g, -1), -1) * _mT(xp, call_op(xp, INV, a))


def _logabsdet_jvp(tangents, out, a):
    return np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * tangents[0], axis=(-2, -1))


SLOGDET = defop("LinalgSlogdetBackward0", _logabsdet_forward, (_logabsdet_grad,),
                jvp=_logabsdet_jvp, saved=("A",))


def slogdet(A):
    """``(sign, logabsdet)`` of each determinant; only ``logabsdet`` is differentiable."""
    _check_square("linalg.slogdet", A)
    sign = Tensor._wrap(np.linalg.slogdet(array_of(A))[0])
    return SlogdetResult(sign, apply(SLOGDET, A))


def logdet(input):
    """``log(det(A))``: NaN where the determinant is negative, ``-inf`` where it is 0."""
    sign, logabsdet = slogdet(input)
    return ew.where(sign._data < 0, np.nan, logabsdet)


# -------------------------------------------------------------------------- cholesky


def _cholesky_forward(a, upper):
    try:
        low = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.cholesky: The factorization could not be completed because "
                          "the input is not positive-definite.") from None
    return np.swapaxes(low, -1, -2).copy() if upper else low


def _cholesky_grad(xp, g, out, a, upper):
    # A = L L^T: gA = L^-T Φ L^-1, Φ = sym(tril(L^T gL)) with half the diagonal (PyTorch's).
    low, g_low = (_mT(xp, out), _mT(xp, g)) if upper else (out, g)
    n = out.shape[-1]
    p = xp.matmul(_mT(xp, low), g_low) * _tri_mask(g, n, upper=False)
    phi = 0.5 * (p + _mT(xp, p * _tri_mask(g, n, upper=False, strict=True)))
    x = call_op(xp, SOLVE_TRIANGULAR, _mT(xp, low), phi, upper=True, left=True,
                unitriangular=False)
    return call_op(xp, SOLVE_TRIANGULAR, low, x, upper=False, left=False, unitriangular=False)


def _cholesky_jvp(tangents, out, a, upper):
    low = np.swapaxes(out, -1, -2) if upper else out
    ta = tangents[0]
    x = _solve_tri_forward(low, ta, False, True, False)
    x = _solve_tri_forward(np.swapaxes(low, -1, -2), x, True, False, False)
    n = out.shape[-1]
    x = np.tril(x) - 0.5 * x * np.eye(n, dtype=x.dtype)
    d_low = low @ x
    return np.swapaxes(d_low, -1, -2) if upper else d_low


CHOLESKY = defop("LinalgCholeskyExBackward0", _cholesky_forward, (_cholesky_grad,),
                 save_inputs=False, save_output=True, jvp=_cholesky_jvp, saved=())


def cholesky(A, *, upper=False):
    """The Cholesky factor ``L`` (lower) of each symmetric positive-definite matrix, or
    ``U = L^T`` when ``upper``. Only the lower triangle of ``A`` is read."""
    _check_square("linalg.cholesky", A)
    return apply(CHOLESKY, A, upper=bool(upper))


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)`` of :func:`cholesky`; ``info`` is 0 (a failure raises)."""
    return CholeskyExResult(cholesky(A, upper=upper), _zeros_info(A))


# --------------------------------------------------------------- pseudo-inverse


def _pinv_forward(a, atol, rtol, hermitian):
    if hermitian:  # A = V diag(λ) V^T from the lower triangle, as PyTorch's eigh reads it
        w, v = np.linalg.eigh(a, "L")
        s = np.abs(w)
        smax = np.max(s, axis=-1, keepdims=True) if s.shape[-1] else s
        cutoff = np.maximum(atol, rtol * smax)
        w_inv = np.where(s > cutoff, 1.0 / np.where(s > cutoff, w, 1.0), 0.0).astype(a.dtype)
        return (v * w_inv[..., None, :]) @ np.swapaxes(v, -1, -2)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    smax = s[..., :1] if s.shape[-1] else s
    cutoff = np.maximum(atol, rtol * smax)
    s_inv = np.where(s > cutoff, 1.0 / np.where(s > cutoff, s, 1.0), 0.0).astype(a.dtype)
    return np.swapaxes(vh, -1, -2) @ (s_inv[..., :, None] * np.swapaxes(u, -1, -2))


def _pinv_grad(xp, g, out, a, atol, rtol, hermitian):
    # PyTorch's formula, arranged so the intermediate products are the smallest.
    m, n = a.shape[-2], a.shape[-1]
    mm = xp.matmul
    p_t, g_t = _mT(xp, out), _mT(xp, g)
    if m <= n:
        k = mm(g_t, out)
        k_p_t = mm(k, p_t)
        return (-_mT(xp, mm(out, k)) + k_p_t - mm(mm(a, out), k_p_t)
                + mm(mm(p_t, out), g_t - mm(k, a)))
    k = mm(out, g_t)
    p_t_k = mm(p_t, k)
    return (-_mT(xp, mm(k, out)) + mm(mm(g_t - mm(a, k), out), p_t) + p_t_k
            - mm(mm(p_t_k, out), a))


PINV = defop("LinalgPinvBackward0", _pinv_forward, (_pinv_grad,), save_output=True,
             saved=("self",))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, dropping singular values below
    ``max(atol, rtol * σ_max)``; ``rtol`` defaults to ``eps * max(m, n)`` when ``atol`` is
    not given (or 0), else to 0."""
    _check_matrix("linalg.pinv", A)
    shape = np.shape(array_of(A))
    if rtol is None:
        rtol = (np.finfo(array_of(A).dtype).eps * builtins.max(shape[-2:])
                if not atol else 0.0)
    return apply(PINV, A, atol=float(atol or 0.0), rtol=float(rtol), hermitian=hermitian)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: :func:`pinv` with relative tolerance ``rcond``."""
    return pinv(input, rtol=rcond)


# ------------------------------------------------------------------ factorizations


def _skew(x):
    return x - x.mT


def _like(g, ref):
    """``g`` in ``ref``'s dtype (None stays None)."""
    if g is None or g._data.dtype == ref._data.dtype:
        return g
    return g.to(ref.dtype)


def _named(cls, name):
    cls._backward_cls.__name__ = cls._backward_cls.__qualname__ = name


class _Eigh(Function):
    """``A = V diag(λ) V^T``: both outputs from one node."""

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = _lapack("linalg.eigh", np.linalg.eigh, a._data, uplo,
                       singular="The algorithm failed to converge")
        w, v = Tensor._wrap(w), Tensor._wrap(v)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, g_w, g_v):
        w, v = ctx.saved_tensors
        g_w, g_v = _like(g_w, w), _like(g_v, v)
        if g_v is None:
            if g_w is None:
                return None, None
            return matmul(v * g_w.unsqueeze(-2), v.mT), None
        n = w.shape[-1]
        # (V^T gV) projected on the skew-symmetric matrices, over λ_j - λ_i (inf or NaN
        # where eigenvalues repeat, as in PyTorch); the diagonal is gλ.
        inner = 0.5 * _skew(matmul(v.mT, g_v))
        gaps = w.unsqueeze(-2) - w.unsqueeze(-1) + np.eye(n, dtype=w._data.dtype)
        inner = inner / gaps
        if g_w is not None:
            inner = inner + shape_more.diag_embed(g_w)
        return matmul(v, matmul(inner, v.mT)), None


_named(_Eigh, "LinalgEighBackward0")


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices; only the
    ``UPLO`` triangle of ``A`` is read. Each eigenvector's sign is LAPACK's choice."""
    _check_square("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _no_forward_mode("linalg.eigh", A)
    return EighResult(*_Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of symmetric matrices."""
    _no_forward_mode("linalg.eigvalsh", A)
    if not (isinstance(A, Tensor) and A._requires_grad):
        _check_square("linalg.eigvalsh", A)
        return Tensor._wrap(np.linalg.eigvalsh(array_of(A), UPLO))
    return eigh(A, UPLO)[0]


class _SVD(Function):
    """``A = U diag(S) Vh``: the three outputs from one node."""

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = _lapack("linalg.svd", np.linalg.svd, a._data, full_matrices,
                           singular="The algorithm failed to converge")
        u, s, vh = Tensor._wrap(u), Tensor._wrap(s), Tensor._wrap(vh)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh = ctx.saved_tensors
        g_u, g_s, g_vh = _like(g_u, u), _like(g_s, s), _like(g_vh, vh)
        k = s.shape[-1]
        if u.shape[-1] != k:        # full_matrices: only the first k vectors count
            u = u[..., :k]
            g_u = g_u[..., :k] if g_u is not None else None
        if vh.shape[-2] != k:
            vh = vh[..., :k, :]
            g_vh = g_vh[..., :k, :] if g_vh is not None else None
        return _svd_backward(g_u, g_s, g_vh, u, s, vh), None


_named(_SVD, "LinalgSvdBackward0")


def _svd_backward(g_u, g_s, g_vh, u, s, vh):
    """PyTorch's ``svd_backward`` for real matrices (distinct singular values; full rank
    where the matrix is not square)."""
    m, n = u.shape[-2], vh.shape[-1]
    if g_u is None and g_vh is None:
        if g_s is None:
            return None
        return matmul(u, g_s.unsqueeze(-1) * vh) if m >= n else matmul(u * g_s.unsqueeze(-2), vh)
    k = s.shape[-1]
    s2 = s * s
    gaps = s2.unsqueeze(-2) - s2.unsqueeze(-1) + np.eye(k, dtype=s._data.dtype)
    uhgu = _skew(matmul(u.mT, g_u)) if g_u is not None else None
    vhgv = _skew(matmul(vh, g_vh.mT)) if g_vh is not None else None
    if uhgu is not None and vhgv is not None:
        ga = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / gaps
    elif uhgu is not None:
        ga = (uhgu / gaps) * s.unsqueeze(-2)
    else:
        ga = s.unsqueeze(-1) * (vhgv / gaps)
    if g_s is not None:
        ga = ga + shape_more.diag_embed(g_s)
    if m > n and g_u is not None:
        ga = matmul(u, ga)
        gu_sinv = g_u / s.unsqueeze(-2)
        ga = ga + gu_sinv - matmul(u, matmul(u.mT, gu_sinv))
        return matmul(ga, vh)
    if m < n and g_vh is not None:
        ga = matmul(ga, vh)
        sinv_gvh = g_vh / s.unsqueeze(-1)
        ga = ga + sinv_gvh - matmul(matmul(sinv_gvh, vh.mT), vh)
        return matmul(u, ga)
    return matmul(u, matmul(ga, vh))


def svd(A, full_matrices=True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending. With
    ``full_matrices`` (the default) ``U`` and ``Vh`` are square; gradients ignore their
    extra vectors, as PyTorch's do."""
    _check_matrix("linalg.svd", A)
    _no_forward_mode("linalg.svd", A)
    return SVDResult(*_SVD.apply(A, bool(full_matrices)))


def svdvals(A):
    """The singular values, descending."""
    _no_forward_mode("linalg.svdvals", A)
    if not (isinstance(A, Tensor) and A._requires_grad):
        _check_matrix("linalg.svdvals", A)
        return Tensor._wrap(np.linalg.svd(array_of(A), compute_uv=False))
    return svd(A, full_matrices=False)[1]


def legacy_svd(input, some=True, compute_uv=True):
    """``torch.svd``: ``(U, S, V)`` (``V``, not ``Vh``); reduced unless ``some=False``."""
    u, s, vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return LegacySVDResult(ew.mul(u.detach(), 0.0), s, ew.mul(vh.detach().mT, 0.0))
    return LegacySVDResult(u, s, vh.mT)


class _QR(Function):
    """``A = Q R``, Q with orthonormal columns, R upper triangular: one node."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a._data, mode=mode)
        q, r = Tensor._wrap(q), Tensor._wrap(r)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, g_q, g_r):
        q, r = ctx.saved_tensors
        g_q, g_r = _like(g_q, q), _like(g_r, r)
        m, n = q.shape[-2], r.shape[-1]
        if g_q is None and g_r is None:
            return None, None
        if m >= n:
            return _qr_backward_tall(g_q, g_r, q, r), None
        # A = Q [X Y] with X square: Y = Q^T A2 feeds back into Q's gradient.
        x, a2 = r[..., :, :m], matmul(q, r[..., :, m:])
        g_x = g_r[..., :, :m] if g_r is not None else None
        g_y = g_r[..., :, m:] if g_r is not None else None
        if g_y is not None:
            extra = matmul(a2, g_y.mT)
            g_q = extra if g_q is None else g_q + extra
        g_a1 = _qr_backward_tall(g_q, g_x, q, x)
        g_a2 = matmul(q, g_y) if g_y is not None else ew.mul(a2.detach(), 0.0)
        return shape_ops.cat([g_a1, g_a2], -1), None


_named(_QR, "LinalgQrBackward0")


def _qr_backward_tall(g_q, g_r, q, r):
    """m >= n: gA = (Q copyltu(K) + gQ) R^-T with K = gR R^T - Q^T gQ and copyltu taking the
    upper triangle and mirroring it below the diagonal."""
    if g_r is not None:
        k = matmul(g_r, r.mT)
        if g_q is not None:
            k = k - matmul(q.mT, g_q)
    else:
        k = -matmul(q.mT, g_q)
    upper = shape_more.triu(k)
    ga = matmul(q, upper + shape_more.triu(upper, 1).mT)
    if g_q is not None:
        ga = ga + g_q
    return solve_triangular(r.mT, ga, upper=False, left=False)


def qr(A, mode="reduced"):
    """``(Q, R)`` with ``A = Q R``. ``mode``: ``'reduced'`` (``Q`` is ``m x k``),
    ``'complete'`` (``Q`` square) or ``'r'`` (``Q`` empty)."""
    _check_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    _no_forward_mode("linalg.qr", A)
    m, n = np.shape(array_of(A))[-2:]
    if mode == "r":
        empty = Tensor._wrap(np.empty((0,), dtype=array_of(A).dtype))
        return QRResult(empty, _QR.apply(A, "reduced")[1])
    if mode == "complete" and m > n and isinstance(A, Tensor) and A._requires_grad:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    return QRResult(*_QR.apply(A, mode))


# ------------------------------------------------------------------------------- norms


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` seen as a vector over ``dim`` (all elements when None)."""
    _check_float("linalg.vector_norm", x)
    if dtype is not None:
        x = x.to(dtype)
    shape = np.shape(array_of(x))
    if not isinstance(ord, str) and (ord < 0 or ord == np.inf):
        if dim is None:
            if 0 in shape:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an "
                                   f"empty tensor because the operation does not have an "
                                   f"identity")
        else:
            for d in ((dim,) if isinstance(dim, (int, np.integer)) else dim):
                if shape and shape[d] == 0:
                    raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on "
                                       f"the dimension {d}because this dimension is empty and "
                                       f"the operation does not have an identity")
    return reduce.norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord``-norm of the matrices over ``dim``: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``,
    ``1``, ``-1``, ``2``, ``-2``."""
    _check_float("linalg.matrix_norm", A)
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got {A.ndim}")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    reduce.normalize_dims(dim, A.ndim)  # range and distinctness checks
    d0, d1 = dim[0] % A.ndim, dim[1] % A.ndim
    if ord in (1, 2, np.inf) and 0 in (A.shape[d0], A.shape[d1]):
        # max over no entries: 0, with no gradient to give
        return ew.mul(reduce.sum(A, (d0, d1), keepdim=keepdim), 0.0)
    if ord == "fro":
        return reduce.norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(shape_ops.permute(A, rest + [d0, d1]))
        out = (reduce.sum(s, -1) if ord == "nuc" else
               reduce.amax(s, -1) if ord == 2 else reduce.amin(s, -1))
        if keepdim:  # the two dims back in their places
            order = rest + [d0, d1]
            out = shape_ops.unsqueeze(shape_ops.unsqueeze(out, -1), -1)
            out = shape_ops.permute(out, [order.index(i) for i in range(A.ndim)])
        return out
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = reduce.sum(ew.abs(A), inner, keepdim=keepdim)
        if not keepdim and outer > inner:
            outer -= 1
        return (reduce.amax if ord > 0 else reduce.amin)(sums, outer, keepdim=keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (1-D input, or an int ``dim``) or matrix norm (2-D input, or a pair of
    dims); with ``ord=None`` and ``dim=None``, the 2-norm of all elements."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                       f"1D or 2D. Got {A.ndim}D.")


def cond(A, p=None):
    """The condition number in the ``p``-norm (2 when None): ``σ_max / σ_min``."""
    _check_matrix("linalg.cond", A)
    shape = np.shape(array_of(A))
    if 0 in shape[-2:]:  # PyTorch's convention: the condition number of an empty matrix is 0
        return ew.mul(reduce.sum(A, (-2, -1)), 0.0)
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., :1], s[..., -1:]
        return shape_ops.squeeze(big / small if p != -2 else small / big, -1)
    _check_square("linalg.cond", A)
    a = array_of(A)
    try:
        np.linalg.inv(a)
        singular = None
    except np.linalg.LinAlgError:
        flat = a.reshape((-1,) + a.shape[-2:])
        singular = np.array([_is_singular(m) for m in flat]).reshape(a.shape[:-2])
    if singular is None:
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    # As PyTorch: the inverse of a singular matrix counts as infinite.
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    safe = ew.where(singular[..., None, None], eye, A)
    inv_norm = ew.where(singular, np.inf, matrix_norm(inv(safe), p))
    return matrix_norm(A, p) * inv_norm


def _is_singular(m):
    try:
        np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return True
    return False


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above ``max(atol, rtol * σ_max)`` (an int64 tensor)."""
    a = array_of(A)
    if hermitian:  # |eigenvalues| of the lower triangle, as PyTorch's eigvalsh reads it
        s = -np.sort(-np.abs(np.linalg.eigvalsh(a, "L")), axis=-1)
    else:
        s = np.linalg.svd(a, compute_uv=False)
    atol_given = atol is not None and (isinstance(atol, Tensor) or atol != 0)
    atol = 0.0 if atol is None else np.asarray(array_of(atol), dtype=s.dtype)
    if rtol is None:
        rtol = np.finfo(s.dtype).eps * builtins.max(np.shape(a)[-2:]) if not atol_given \
            else 0.0
    rtol = np.asarray(array_of(rtol), dtype=s.dtype)
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    cutoff = np.maximum(np.expand_dims(atol, -1), np.expand_dims(rtol, -1) * smax)
    return Tensor._wrap(np.sum(s > cutoff, axis=-1).astype(np.int64))


# ------------------------------------------------------------------------- products


def _cross_forward(a, b, dim):
    return np.cross(a, b, axis=dim)


def _cross_grad_a(xp, g, out, a, b, dim):
    return call_op(xp, CROSS, b, g, dim=dim)


def _cross_grad_b(xp, g, out, a, b, dim):
    return call_op(xp, CROSS, g, a, dim=dim)


def _cross_jvp(tangents, out, a, b, dim):
    ta, tb = tangents
    result = 0
    if ta is not None:
        result = np.cross(ta, b, axis=dim)
    if tb is not None:
        result = result + np.cross(a, tb, axis=dim)
    return result


CROSS = defop("LinalgCrossBackward0", _cross_forward, (_cross_grad_a, _cross_grad_b),
              broadcast=True, jvp=_cross_jvp, needs=((1,), (0,)), saved=("self", "other"))


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim``; batch dimensions broadcast."""
    a, b = np.shape(array_of(input)), np.shape(array_of(other))
    if len(a) != len(b):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a[dim] != 3 or b[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a[dim]} and {b[dim]}")
    return apply(CROSS, input, other, dim=int(dim) % len(a))


def legacy_cross(input, other, dim=None):
    """``torch.cross``: along ``dim``, or (deprecated in PyTorch) the first dim of size 3."""
    if dim is None:
        shape = np.broadcast_shapes(np.shape(array_of(input)), np.shape(array_of(other)))
        dim = next((i for i, size in enumerate(shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return cross(input, other, dim=dim)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (by repeated squaring); ``n = 0`` gives the
    identity, a negative ``n`` powers of the inverse."""
    _check_square("linalg.matrix_power", A)
    n = int(n)
    if n == 0:
        eye = np.eye(A.shape[-1], dtype=array_of(A).dtype)
        return ew.where(np.ones(A.shape, dtype=bool), eye, A)  # the identity, zero gradient
    base = inv(A) if n < 0 else A
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return ew.clone(result) if result is A else result


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be 1-D, as may the last), in the
    order that needs the fewest multiplications."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vec:
        tensors[0] = shape_ops.unsqueeze(tensors[0], 0)
    if last_vec:
        tensors[-1] = shape_ops.unsqueeze(tensors[-1], -1)
    for i, t in enumerate(tensors):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    dims = [tensors[0].shape[0]] + [t.shape[1] for t in tensors]
    out = _chain(tensors, _chain_order(dims), 0, len(tensors) - 1)
    if first_vec:
        out = shape_ops.squeeze(out, 0)
    if last_vec:
        out = shape_ops.squeeze(out, -1)
    return out


def _chain_order(dims):
    """The classic dynamic programme: ``split[i][j]`` is where to split the chain i..j."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(tensors, split, i, j):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return matmul(_chain(tensors, split, i, k), _chain(tensors, split, k + 1, j))


def vecdot(x, y, *, dim=-1):
    """The dot product of vectors along ``dim``; batch dimensions broadcast."""
    return reduce.sum(ew.mul(x, y), dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices over ``dim1, dim2``, as a last dim."""
    return shape_more.diagonal(A, offset, dim1, dim2)
