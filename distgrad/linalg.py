"""``torch.linalg``: norms, inverses and solvers, determinants and the factorizations.

The ops live in :mod:`distgrad.ops.linalg_more`, :mod:`distgrad.ops.linalg_extra` (the LU
family, least squares, the matrix exponential, the tensor solvers) and ``matmul`` in
:mod:`distgrad.ops.linalg`; this module is the namespace PyTorch code reaches as
``torch.linalg``.
"""

from .ops.linalg import matmul
from .ops.linalg_extra import (
    householder_product,
    inv_ex,
    lstsq,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matrix_exp,
    solve_ex,
    tensorinv,
    tensorsolve,
    vander,
)
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
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
           "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
           "vector_norm"]
