"""``torch.linalg``: norms, inverses and solvers, determinants and the factorizations.

The ops live in :mod:`distgrad.ops.linalg_more` (and ``matmul`` in :mod:`distgrad.ops.linalg`);
this module is the namespace PyTorch code reaches as ``torch.linalg``.
"""

from .ops.linalg import matmul
from .ops.linalg_more import (
    LinAlgError,
    cholesky,
    cholesky_ex,
    cond,
    cross,
    det,
    diagonal,
    eigh,
    eigvalsh,
    inv,
    inv_ex,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "inv", "inv_ex", "matmul", "matrix_norm", "matrix_power", "matrix_rank",
           "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
           "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm"]
