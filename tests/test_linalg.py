"""``distgrad.linalg``: values and gradients against literals recorded from PyTorch 2.13,
gradcheck/gradgradcheck in float64 for every differentiable function, grad_fn names, batching
and errors.

Eigenvector and singular-vector signs are LAPACK's choice and may differ between builds, so
losses on them are sign-invariant (squares, or products ``u_i v_iᵀ``).
"""

from __future__ import annotations

import numpy as np
import pytest

import distgrad as dg
import distgrad.linalg as L
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.ops import linalg_more

A = np.array([[2.0, -1.0, 0.5], [0.3, 3.0, -1.2], [1.0, 0.4, 2.5]])
B = np.array([[1.0, 2.0], [-0.5, 0.0], [0.25, -1.0]])
R = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.7, -0.2, 1.1], [0.4, 1.5, -0.6]])
S = A @ A.T + np.eye(3)
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.9, 0.1]])


def t(a, requires_grad=False):
    return dg.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def close(x, expected, atol=1e-8):
    np.testing.assert_allclose(x.detach().numpy(), np.array(expected), atol=atol, rtol=1e-8)


# ------------------------------------------------------------------- values (PyTorch)


def test_values_match_torch():
    close(L.inv(t(A)), [[0.4845173042, 0.1639344262, -0.0182149362],
                        [-0.1183970856, 0.2732240437, 0.1548269581],
                        [-0.174863388, -0.1092896175, 0.3825136612]])
    close(L.det(t(A)), 16.47)
    sign, logabsdet = L.slogdet(t(-A))
    close(sign, -1.0)
    close(logabsdet, 2.8015405442)
    close(L.solve(t(A), t(B)), [[0.397996357, 0.9872495446], [-0.2163023679, -0.3916211293],
                                [-0.0245901639, -0.7322404372]])
    close(L.cholesky(t(S)), [[2.5, 0.0, 0.0], [-1.2, 3.1764760349, 0.0],
                             [1.14, -0.0415554843, 2.6662095082]])
    close(L.eigvalsh(t(S)), [3.8696508493, 8.210317867, 14.1100312837])
    close(L.svdvals(t(R)), [2.7146887388, 2.4665308196, 1.1818167232])
    close(L.qr(t(R)).R, [[-1.6278820596, -1.3268774524, 0.5958662633],
                         [0.0, -2.149278071, -0.5911945628], [0.0, 0.0, -2.2617321648]])
    close(L.pinv(t(R)), [[0.2306018452, -0.4209744054, 0.5810620987, -0.1457992994],
                         [0.2274638728, 0.1700258834, -0.2511352034, 0.2958916324],
                         [0.1055843868, 0.2594574575, 0.3065593013, -0.1517961003]])
    close(L.matrix_power(t(A), -2), [[0.2185327852, 0.1262105965, 0.0095885548],
                                     [-0.1167879337, 0.0383210407, 0.1036824695],
                                     [-0.1386723999, -0.1003314521, 0.1325808474]])
    other = np.broadcast_to(B.sum(1)[None, :], (3, 3))
    close(L.cross(t(A), t(other)), [[1.0, 3.0, 2.0], [-2.85, -3.375, -9.15],
                                    [0.95, 8.25, -1.7]])
    close(L.multi_dot([t(A), t(B), t(B.T)]), [[9.625, -1.3125, -2.84375],
                                              [2.1, 0.75, -2.175], [0.425, -0.7125, 0.85625]])
    close(L.cond(t(A)), 2.1374075266)


@pytest.mark.parametrize("ord_, expected", [("fro", 4.8155996511), ("nuc", 7.9999856067),
                                            (2, 3.6207777181), (-2, 1.6940043829),
                                            (1, 4.4), (float("inf"), 4.5)])
def test_matrix_norms(ord_, expected):
    close(L.matrix_norm(t(A), ord_), expected)
    close(L.norm(t(A), ord_), expected)


def test_vector_norms():
    close(L.vector_norm(t(A), 3), 3.7929926262)
    close(L.norm(t(A)), 4.8155996511)
    close(L.norm(t(A), dim=0), [2.2561028345, 3.1874754901, 2.8178005607])
    assert L.matrix_norm(t(np.stack([A, A])), "nuc", keepdim=True).shape == (2, 1, 1)
    assert L.matrix_norm(t(np.stack([A, A])), 1, dim=(0, 2)).shape == (3,)


def test_decompositions_reconstruct():
    q, r = L.qr(t(R))
    close(q @ r, R)
    close(q.mT @ q, np.eye(3))
    w, v = L.eigh(t(S))
    close(v @ dg.diag_embed(w) @ v.mT, S)
    u, s, vh = L.svd(t(R), full_matrices=False)
    close(u @ dg.diag_embed(s) @ vh, R)
    u, s, vh = L.svd(t(R))
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    assert L.qr(t(R), mode="complete").Q.shape == (4, 4)
    assert L.matrix_rank(t(R)).item() == 3


# ----------------------------------------------------------------- gradients (PyTorch)


def _grad(f, x):
    x = t(x, True)
    f(x).backward()
    return x.grad


def test_gradients_match_torch():
    close(_grad(L.det, A), [[7.98, -1.95, -2.88], [2.7, 4.5, -1.8], [-0.3, 2.55, 6.3]])
    close(_grad(lambda x: (L.inv(x) * t(W)).sum(), A),
          [[0.0364524338, 0.0511743491, -0.4175958275],
           [-0.2370330556, 0.0876407178, -0.0131983636],
           [-0.0436893043, -0.1058722433, 0.0522659182]])
    w0, w1 = t(W[0]), t(W[1])
    close(_grad(lambda x: (L.eigh(x)[1] ** 2 * t(W)).sum() + L.eigh(x)[0] @ w0, S),
          [[0.6808877224, -0.9211779013, -0.0973253577],
           [-0.9211779013, 0.7683672487, -1.1435563069],
           [-0.0973253577, -1.1435563069, 0.0507450289]])
    close(_grad(lambda x: (L.svd(x, full_matrices=False)[0] ** 2).sum(0) @ w0
                + L.svd(x)[1] @ w1, R),
          [[0.4608983336, 1.1525546438, 0.0511423535],
           [0.0578954956, -0.086183174, 0.2032472378],
           [-0.2013372922, 0.1712790899, 0.0143072121],
           [0.4445076392, 0.7189026309, 0.0003859723]])
    close(_grad(lambda x: (L.qr(x)[0] * t(R)).sum() + (L.qr(x)[1] * t(W)).sum(), R),
          [[-0.2599910138, 0.6516793612, -1.0870793853],
           [-0.9828934687, -0.3552445698, 1.3255547282],
           [-3.3732394821, 0.9303916799, -1.0369056248],
           [2.0610603818, -0.0757901182, -0.2932401709]])
    close(_grad(lambda x: (L.cholesky(x) * t(W)).sum(), S),
          [[0.2572972418, 0.2512904562, -0.0804338221],
           [0.2512904562, 0.033337954, 0.1419117582],
           [-0.0804338221, 0.1419117582, 0.0187532149]])


# ----------------------------------------------------------------------- gradcheck

_rng = np.random.default_rng(7)


def _well(*batch, n=3):
    return _rng.standard_normal(batch + (n, n)) + n * np.eye(n)


def _spd(x):
    n = x.shape[-1]
    return x @ x.mT + n * dg.eye(n, dtype=dg.float64)


def _svd_invariant(r):
    u, s, vh = r
    k = s.shape[-1]
    return ((u[..., :, :k] ** 2).sum(-2) + s * 2 + (vh[..., :k, :] ** 2).sum(-1)
            + (u[..., :, :1] * vh[..., :1, :]).sum((-2, -1)).unsqueeze(-1))


CASES = {
    "inv": (L.inv, [_well(2)]),
    "solve": (L.solve, [_well(2), _rng.standard_normal((3, 2))]),
    "solve_vector": (L.solve, [_well(2), _rng.standard_normal((2, 3))]),
    "solve_right": (lambda a, b: L.solve(a, b, left=False),
                    [_well(), _rng.standard_normal((2, 3))]),
    "solve_triangular": (lambda a, b: L.solve_triangular(a, b, upper=True),
                         [_well(), _rng.standard_normal((3, 2))]),
    "solve_triangular_right_unit": (
        lambda a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [_well(), _rng.standard_normal((2, 3))]),
    "det": (L.det, [_well(2)]),
    "slogdet": (lambda a: L.slogdet(a).logabsdet, [_well(2)]),
    "logdet": (lambda x: linalg_more.logdet(_spd(x)), [_well()]),
    "cholesky": (lambda x: L.cholesky(_spd(x)), [_well(2)]),
    "cholesky_upper": (lambda x: L.cholesky(_spd(x), upper=True), [_well()]),
    "eigh": (lambda x: tuple(r ** 2 for r in L.eigh(x + x.mT)), [_well(2)]),
    "eigvalsh": (lambda x: L.eigvalsh(x + x.mT), [_well()]),
    "svd_tall": (lambda x: _svd_invariant(L.svd(x, full_matrices=False)),
                 [_rng.standard_normal((2, 4, 3))]),
    "svd_wide_full": (lambda x: _svd_invariant(L.svd(x)), [_rng.standard_normal((3, 5))]),
    "svdvals": (L.svdvals, [_rng.standard_normal((4, 3))]),
    "qr_tall": (L.qr, [_rng.standard_normal((2, 4, 3))]),
    "qr_wide": (L.qr, [_rng.standard_normal((3, 5))]),
    "pinv": (L.pinv, [_rng.standard_normal((4, 3))]),
    "pinv_wide": (L.pinv, [_rng.standard_normal((2, 4))]),
    "matrix_norm_fro": (L.matrix_norm, [_rng.standard_normal((2, 3, 3))]),
    "matrix_norm_nuc": (lambda x: L.matrix_norm(x, "nuc"), [_rng.standard_normal((3, 4))]),
    "matrix_norm_2": (lambda x: L.matrix_norm(x, 2), [_rng.standard_normal((3, 4))]),
    "vector_norm_3": (lambda x: L.vector_norm(x, 3, dim=-1), [_rng.standard_normal((2, 4))]),
    "matrix_power": (lambda x: L.matrix_power(x, 3), [_well(2)]),
    "matrix_power_neg": (lambda x: L.matrix_power(x, -2), [_well()]),
    "cross": (L.cross, [_rng.standard_normal((4, 3)), _rng.standard_normal((1, 3))]),
    "multi_dot": (lambda a, b, c: L.multi_dot([a, b, c]),
                  [_rng.standard_normal(3), _rng.standard_normal((3, 4)),
                   _rng.standard_normal((4, 2))]),
    "cond": (L.cond, [_well()]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, arrays = CASES[name]
    inputs = tuple(t(a, True) for a in arrays)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_forward_mode_matches_reverse():
    a, b = t(_well(), True), t(_rng.standard_normal((3, 2)), True)
    ta, tb = t(_rng.standard_normal((3, 3))), t(_rng.standard_normal((3, 2)))
    for fn, primals, tangents in [(L.inv, (a,), (ta,)), (L.det, (a,), (ta,)),
                                  (lambda x: L.slogdet(x)[1], (a,), (ta,)),
                                  (L.solve, (a, b), (ta, tb)),
                                  (lambda x: L.cholesky(_spd(x)), (a,), (ta,)),
                                  (lambda x: L.eigvalsh(x + x.mT), (a,), (ta,)),
                                  (L.cross, (a, a.flip(0)), (ta, tb[:, :1].expand(3, 3)))]:
        plain = tuple(p.detach() for p in primals)
        _, forward = dg.func.jvp(fn, plain, tangents)
        _, reverse = dg.func._jvp_by_double_vjp(fn, plain, tangents, False)
        close(forward, reverse.detach().numpy())


# --------------------------------------------------------------- names, dtypes, errors


def test_grad_fn_names():
    a, r, s = t(A, True), t(R, True), t(S, True)
    names = {
        "LinalgInvExBackward0": L.inv(a), "LinalgDetBackward0": L.det(a),
        "LinalgSlogdetBackward0": L.slogdet(a)[1], "WhereBackward0": linalg_more.logdet(s),
        "LinalgSolveExBackward0": L.solve(a, t(B)),
        "LinalgCholeskyExBackward0": L.cholesky(s), "LinalgQrBackward0": L.qr(r)[0],
        "LinalgEighBackward0": L.eigh(s)[1], "LinalgSvdBackward0": L.svdvals(r),
        "LinalgPinvBackward0": L.pinv(r), "LinalgVectorNormBackward0": L.norm(a),
        "SumBackward1": L.matrix_norm(a, "nuc"), "AmaxBackward0": L.matrix_norm(a, 2),
        "LinalgCrossBackward0": L.cross(a, a), "MmBackward0": L.matrix_power(a, 3),
        "LinalgSolveTriangularBackward0": L.solve_triangular(a, t(B), upper=True),
    }
    for name, out in names.items():
        assert type(out.grad_fn).__name__ == name
    u, s_, vh = L.svd(r)
    assert u.grad_fn is s_.grad_fn is vh.grad_fn


def test_batched_and_float32():
    batch = _well(2, 4)
    assert L.inv(t(batch)).shape == (2, 4, 3, 3)
    close(L.det(t(batch)), np.linalg.det(batch))
    x32 = dg.tensor(A.astype(np.float32), requires_grad=True)
    for out in (L.inv(x32), L.eigh(x32 + x32.mT)[1], L.svd(x32)[0], L.qr(x32)[1],
                L.det(x32), L.matrix_norm(x32, "nuc")):
        assert out.dtype == dg.float32
    L.svd(x32)[1].sum().backward()
    assert x32.grad.dtype == dg.float32


def test_errors():
    with pytest.raises(RuntimeError, match="square"):
        L.inv(t(R))
    with pytest.raises(L.LinAlgError, match="singular"):
        L.inv(t(np.ones((3, 3))))
    with pytest.raises(L.LinAlgError, match="positive-definite"):
        L.cholesky(t(-S))
    with pytest.raises(RuntimeError, match="floating point"):
        L.det(dg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="length 3"):
        L.cross(t(B), t(B))
    with pytest.raises(RuntimeError, match="not differentiable"):
        L.qr(t(R, True), mode="complete")
    assert issubclass(L.LinAlgError, RuntimeError)


def test_torch_level_aliases():
    close(linalg_more.inverse(t(A)), np.linalg.inv(A))
    close(linalg_more.pinverse(t(R)), np.linalg.pinv(R))
    u, s, v = linalg_more.legacy_svd(t(R))
    close(u @ dg.diag_embed(s) @ v.mT, R)
    a, b = t(np.ones((3, 4))), t(np.arange(12.0).reshape(3, 4))
    close(linalg_more.legacy_cross(a, b), np.cross(a.numpy(), b.numpy(), axis=0))
    assert linalg_more.logdet(t(-np.eye(3))).isnan().item()


def test_singular_inputs_get_pytorchs_messages():
    # PyTorch 2.13's messages, word for word: the batch element and the first zero pivot.
    a = np.stack([np.eye(3), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])])
    with pytest.raises(L.LinAlgError) as info:
        L.inv(t(a))
    assert str(info.value) == ("linalg.inv: (Batch element 1): The diagonal element 3 is zero, "
                               "the inversion could not be completed because the input matrix "
                               "is singular.")
    with pytest.raises(L.LinAlgError) as info:
        dg.inverse(t(np.zeros((2, 2))))
    assert str(info.value) == ("linalg.inv: The diagonal element 1 is zero, the inversion could "
                               "not be completed because the input matrix is singular.")
    with pytest.raises(RuntimeError) as info:
        L.solve(t(a), t(np.ones((2, 3))))
    assert str(info.value) == ("torch.linalg.solve: (Batch element 1): The solver failed "
                               "because the input matrix is singular.")
