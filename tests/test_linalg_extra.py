"""``distgrad.ops.linalg_extra`` (LU family, lstsq, matrix_exp, tensor solvers, vander,
householder_product, inv_ex/solve_ex): values and gradients against literals recorded from
PyTorch 2.13, gradcheck/gradgradcheck in float64, batching, node names and PyTorch's errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import distgrad as dg
import distgrad.linalg as L
from distgrad.autograd import forward_ad, gradcheck, gradgradcheck
from distgrad.ops import linalg_extra as X

A = np.array([[2.0, -1.0, 0.5], [0.3, 3.0, -1.2], [1.0, 0.4, 2.5]])
B = np.array([[1.0, 2.0], [-0.5, 0.0], [0.25, -1.0]])
B4 = np.array([[1.0, 2.0], [-0.5, 0.0], [0.25, -1.0], [0.3, 0.7]])
R = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.7, -0.2, 1.1], [0.4, 1.5, -0.6]])
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.9, 0.1]])
S = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # singular


def t(a, requires_grad=False, dtype=np.float64):
    return dg.tensor(np.array(a, dtype=dtype), requires_grad=requires_grad)


def close(x, expected, atol=1e-8):
    actual = x.detach().numpy() if isinstance(x, dg.Tensor) else x
    np.testing.assert_allclose(actual, np.array(expected), atol=atol, rtol=1e-8)


# ------------------------------------------------------------------ LU (PyTorch values)


def test_lu_factor_matches_torch():
    lu, piv = L.lu_factor(t(W))
    close(lu, [[1.5, 0.2, -0.3], [0.3333333333, -1.0666666667, 2.1],
               [-0.4666666667, -0.93125, 1.915625]])
    assert piv.dtype == dg.int32 and piv.tolist() == [2, 2, 3]
    lu, piv = L.lu_factor(t(R))  # tall
    close(lu, [[1.0, 2.0, 0.5], [-1.0, 2.3, 2.5], [0.7, -0.6956521739, 2.4891304348],
               [0.4, 0.3043478261, -0.6270742358]])
    assert piv.tolist() == [1, 2, 3]
    lu, piv, info = L.lu_factor_ex(t(np.stack([W, A])))
    assert lu.shape == (2, 3, 3) and piv.shape == (2, 3) and info.tolist() == [0, 0]


def test_lu_matches_torch_and_reconstructs():
    p, low, up = L.lu(t(R.T))  # wide, with row swaps
    close(p, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    close(low, [[1.0, 0.0, 0.0], [0.25, 1.0, 0.0], [0.5, -0.5974025974, 1.0]])
    close(up, [[2.0, 0.3, -0.2, 1.5], [0.0, 1.925, 1.15, -0.975],
               [0.0, 0.0, 1.487012987, -0.9324675325]])
    batch = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    p, low, up = L.lu(t(batch))
    assert (p.shape, low.shape, up.shape) == ((2, 3, 5, 5), (2, 3, 5, 4), (2, 3, 4, 4))
    close(p @ low @ up, batch)


def test_lu_unpack():
    lu, piv = L.lu_factor(t(R.T))
    p, low, up = X.lu_unpack(lu, piv)
    close(p @ low @ up, R.T)
    p2, low2, up2 = X.lu_unpack(lu, piv, unpack_data=False)
    assert low2.shape == up2.shape == (0,) and p2.shape == (3, 3)
    p3, low3, _ = X.lu_unpack(lu, piv, unpack_pivots=False)
    assert p3.shape == (0,) and low3.shape == (3, 3)
    # pivots broadcast over LU's batch, as PyTorch's
    lu2, piv2 = L.lu_factor(t(np.stack([W, W])))
    assert X.lu_unpack(lu2, piv2[:1]).P.shape == (2, 3, 3)


@pytest.mark.parametrize("left, adjoint, expected", [
    (True, False, [[-0.2234910277, 0.2218597064], [0.0399673736, -0.9885807504],
                   [0.5758564437, 0.4502446982]]),
    (True, True, [[0.2063621533, -0.2969004894], [0.4037520392, 1.1582381729],
                  [-0.4159869494, -0.5872756933]]),
    (False, False, [[0.2063621533, 0.4037520392, -0.4159869494],
                    [-0.2969004894, 1.1582381729, -0.5872756933]]),
    (False, True, [[-0.2234910277, 0.0399673736, 0.5758564437],
                   [0.2218597064, -0.9885807504, 0.4502446982]]),
])
def test_lu_solve_matches_torch(left, adjoint, expected):
    lu, piv = L.lu_factor(t(W))
    close(L.lu_solve(lu, piv, t(B if left else B.T), left=left, adjoint=adjoint), expected)


def test_lu_solve_broadcasts():
    lu, piv = L.lu_factor(t(W))
    rhs = np.random.default_rng(1).standard_normal((4, 3, 2))
    close(L.lu_solve(lu, piv, t(rhs)), np.linalg.solve(W, rhs))
    lu2, piv2 = L.lu_factor(t(np.stack([W, A])))
    close(L.lu_solve(lu2, piv2, t(B)), np.linalg.solve(np.stack([W, A]), B))


def test_singular_inputs_match_torch():
    lu, piv, info = L.lu_factor_ex(t(S))
    close(lu, [[2.0, 4.0, 6.0], [0.5, -2.0, -2.0], [0.5, 0.0, 0.0]])
    assert piv.tolist() == [2, 3, 3] and info.item() == 3
    assert L.lu_factor_ex(t(np.zeros((3, 3)))).info.item() == 1
    # no error: inf/NaN, as PyTorch (LAPACK's trsm divides by the zero pivot)
    x = L.lu_solve(lu, piv, t(np.ones((3, 1))))
    assert np.isnan(x[0, 0].item()) and x[1, 0].item() == -np.inf and x[2, 0].item() == np.inf
    inverse, info = L.inv_ex(t(S))
    assert info.item() == 3 and info.dtype == dg.int32
    np.testing.assert_array_equal(np.isnan(inverse.numpy()),
                                  [[True] * 3, [False, False, True], [False, False, True]])
    assert inverse[1, 0].item() == -np.inf and inverse[2, 0].item() == np.inf
    result, info = L.solve_ex(t(np.stack([np.eye(3), S])), t(np.ones(3)))
    assert info.tolist() == [0, 3]
    close(result[0], np.ones(3))
    assert not np.isfinite(result[1].numpy()).any()
    p, low, up = L.lu(t(S))  # factors without complaint
    close(p @ low @ up, S)


def test_inv_ex_solve_ex_regular():
    inverse, info = L.inv_ex(t(A, True))
    close(inverse, np.linalg.inv(A))
    assert info.item() == 0 and type(inverse.grad_fn).__name__ == "LinalgInvExBackward0"
    result, info = L.solve_ex(t(A), t(B), left=True)
    close(result, np.linalg.solve(A, B))
    assert info.item() == 0


# ------------------------------------------------------------------------ matrix_exp


def test_matrix_exp_matches_torch():
    close(L.matrix_exp(t(A)), [[10.26643995, -11.2823250864, 12.1031487572],
                               [-3.6311732207, 16.7484324203, -17.7852381872],
                               [10.1745560211, 0.0818537735, 13.8766925402]])
    close(L.matrix_exp(t(1e-3 * A)), [[1.0020021017, -0.0010024029, 0.0005017278],
                                      [0.0003001494, 1.0030041136, -0.0012032293],
                                      [0.0010023126, 0.0004006002, 1.0025031378]])
    big = L.matrix_exp(t([[30.0, 1.0], [-2.0, 20.0]]))  # scaling and squaring
    np.testing.assert_allclose(big.numpy(), [[8898401339567.975, 908325777241.5045],
                                             [-1816651554483.009, -184856432847.07614]],
                               rtol=1e-12)
    # a batch mixing norms: each matrix is scaled on its own
    batch = L.matrix_exp(t(np.stack([W, 1e-3 * A, 4 * W])))
    close(batch[0], [[0.4363219773, 0.0274791239, 1.8702849767],
                     [1.4729590934, 0.7515639584, 1.3507106343],
                     [0.1024891478, 0.9951273615, 0.7334984305]])
    close(batch[2], L.matrix_exp(t(W)).numpy() @ L.matrix_exp(t(3 * W)).numpy(), atol=1e-9)


def test_matrix_exp_special_cases():
    close(L.matrix_exp(t([[0.0, 1e3], [0.0, 0.0]])), [[1.0, 1e3], [0.0, 1.0]])
    assert L.matrix_exp(t(np.zeros((0, 0)))).shape == (0, 0)
    assert np.isnan(L.matrix_exp(t([[np.inf, 1.0], [0.0, 0.0]])).numpy()).all()
    f32 = L.matrix_exp(dg.tensor(W.astype(np.float32)))
    assert f32.dtype == dg.float32
    close(f32, L.matrix_exp(t(W)).numpy(), atol=1e-6)


# ----------------------------------------------------------------------------- lstsq


LSTSQ_SOLUTION = [[0.5426147828, -0.2219179179], [0.16843462, 0.9131870918],
                  [0.0069566532, -0.201647798]]
LSTSQ_RESIDUALS = [0.0523460144, 0.9415412234]
R_SINGULAR_VALUES = [2.7146887388, 2.4665308196, 1.1818167232]


@pytest.mark.parametrize("driver, residuals, rank, singular_values", [
    (None, [], 3, []),
    ("gelsy", [], 3, []),
    ("gelsd", LSTSQ_RESIDUALS, 3, R_SINGULAR_VALUES),
    ("gelss", LSTSQ_RESIDUALS, 3, R_SINGULAR_VALUES),
    ("gels", LSTSQ_RESIDUALS, None, []),
])
def test_lstsq_fields_match_torch(driver, residuals, rank, singular_values):
    out = L.lstsq(t(R), t(B4), driver=driver)
    assert type(out).__name__ == "linalg_lstsq"
    close(out.solution, LSTSQ_SOLUTION)
    close(out.residuals, residuals)
    if rank is None:
        assert out.rank.shape == (0,) and out.rank.dtype == dg.int64
    else:
        assert out.rank.item() == rank and out.rank.dtype == dg.int64
    close(out.singular_values, singular_values)


def test_lstsq_wide_and_rank_deficient_match_torch():
    out = L.lstsq(t(R.T), t(B), driver="gelsd")
    close(out.solution, [[0.1432660055, 0.3556193037], [-0.4411229827, -1.1014062683],
                         [0.7832695258, 0.8555648962], [-0.3316941407, -0.1398024984]])
    assert out.residuals.shape == (0,)
    deficient = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1]])
    rhs = np.array([[1.0, 0], [2, 1], [0, 1], [1, 1]])
    for driver in ("gelsy", "gelsd"):
        out = L.lstsq(t(deficient), t(rhs), driver=driver)
        close(out.solution, [[-0.3333333333, 0.3333333333], [0.4743589744, -0.1666666667],
                             [0.141025641, 0.1666666667]])
        assert out.rank.item() == 2 and out.residuals.shape == (0,)
    out = L.lstsq(t(R), t(B4), rcond=0.5, driver="gelsd")
    close(out.solution, [[0.1786662265, 0.3201184402], [0.3356220611, 0.6641912649],
                         [-0.0909971747, -0.05576307]])
    assert out.rank.item() == 2


def test_lstsq_gelsy_pivots_columns():
    # LAPACK's gelsy pivots, so a zero first column does not hide the rank. (PyTorch 2.13 on
    # CPU passes an uninitialised pivot array that disables pivoting: rank 0, solution 0.)
    out = L.lstsq(t([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]]), t([[1.0], [2.0], [3.0]]))
    assert out.rank.item() == 1
    close(out.solution, [[0.0], [1.0]])


def test_lstsq_batches_and_vectors():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5))
    out = L.lstsq(t(a), t(b), driver="gelsd")  # b: a batch of vectors
    assert out.solution.shape == (2, 3) and out.residuals.shape == (2, 1)
    assert out.rank.tolist() == [3, 3] and out.singular_values.shape == (2, 3)
    expected = [np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(2)]
    close(out.solution, expected)
    out = L.lstsq(t(a[:1]), t(rng.standard_normal((3, 5, 2))))  # batch dims broadcast
    assert out.solution.shape == (3, 3, 2)
    empty = L.lstsq(t(np.ones((4, 0))), t(np.ones((4, 2))), driver="gelsd")
    assert empty.solution.shape == (0, 2) and empty.rank.item() == 0
    close(empty.residuals, [4.0, 4.0])
    zero = L.lstsq(t(np.zeros((4, 3))), t(np.ones((4, 2))))
    assert zero.rank.item() == 0
    close(zero.solution, np.zeros((3, 2)))


def test_lstsq_gradients_match_torch():
    a, b = t(R, True), t(B4, True)
    out = L.lstsq(a, b, driver="gelsd")
    loss = ((out.solution * t([[1.0, -1], [0.5, 2], [-1, 0.3]])).sum()
            + (out.residuals * t([2.0, -1])).sum())
    loss.backward()
    close(a.grad, [[-0.9857850142, 0.8740908945, -0.2475446153],
                   [0.6795360817, -0.879880903, 0.2287854418],
                   [0.5089270208, -0.1379693662, 0.0629027095],
                   [1.3613487016, -2.2816019233, 0.5592342729]])
    close(b.grad, [[0.7068999972, -0.7367340501], [-0.6827345598, 1.0240203083],
                   [-0.2662477742, -0.1109497925], [-0.5081527876, 2.0960480328]])
    assert out.singular_values.grad_fn is None and out.rank.grad_fn is None


# --------------------------------------------------------------- gradients (PyTorch)


def test_lu_gradient_matches_torch():
    a = t(W, True)
    _, low, up = L.lu(a)
    ((low * t(A)).sum() + (up * t(B.sum(1, keepdims=True))).sum()).backward()
    close(a.grad, [[0.2568815104, -2.2242675781, -1.1984375],
                   [3.2706922743, 2.877360026, 3.0494791667],
                   [0.7635416667, -1.8515625, -0.75]])


def test_lu_solve_and_matrix_exp_gradients_match_torch():
    lu, piv = L.lu_factor(t(W))
    lu = lu.detach().requires_grad_()
    b = t(B, True)
    (L.lu_solve(lu, piv, b, adjoint=True) * t(B)).sum().backward()
    close(lu.grad, [[-0.1468189233, 1.2914627515, -0.9842305601],
                    [0.1031810767, 0.2234145595, -0.454475938],
                    [-0.2079934747, 1.6598694943, 0.5039665326]])
    close(b.grad, [[-0.2234910277, 0.2218597064], [0.0399673736, -0.9885807504],
                   [0.5758564437, 0.4502446982]])
    a = t(A, True)
    (L.matrix_exp(a) * t(W)).sum().backward()
    close(a.grad, [[12.8076193375, -22.4075268622, 23.1540470334],
                   [7.7071085119, 17.8736330279, -7.3857549828],
                   [-16.3851538213, 0.5867338204, 7.5182367549]])


_rng = np.random.default_rng(7)


def _well(*batch, n=3):
    return _rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)


def _pivots(a):
    return L.lu_factor(a.detach()).pivots


CASES = {
    "lu_square": (lambda a: L.lu(a)[1:], [_rng.standard_normal((2, 3, 3))]),
    "lu_tall": (lambda a: L.lu(a)[1:], [_rng.standard_normal((4, 3))]),
    "lu_wide": (lambda a: L.lu(a)[1:], [_rng.standard_normal((3, 4))]),
    "lu_wide_L_only": (lambda a: L.lu(a).L, [_rng.standard_normal((3, 4))]),
    "lu_tall_U_only": (lambda a: L.lu(a).U, [_rng.standard_normal((4, 3))]),
    "lu_factor_square": (lambda a: L.lu_factor(a).LU, [_rng.standard_normal((3, 3))]),
    "lu_factor_tall": (lambda a: L.lu_factor(a).LU, [_rng.standard_normal((4, 3))]),
    "lu_factor_wide": (lambda a: L.lu_factor_ex(a).LU, [_rng.standard_normal((3, 4))]),
    "lu_unpack_tall": (lambda a: X.lu_unpack(a, _pivots(a))[1:], [_rng.standard_normal((4, 3))]),
    "lu_unpack_wide": (lambda a: X.lu_unpack(a, _pivots(a))[1:], [_rng.standard_normal((3, 4))]),
    "lu_solve": (lambda a, b: L.lu_solve(a, _pivots(a), b),
                 [_well(2), _rng.standard_normal((3, 2))]),
    "lu_solve_adjoint": (lambda a, b: L.lu_solve(a, _pivots(a), b, adjoint=True),
                         [_well(), _rng.standard_normal((2, 3, 2))]),
    "lu_solve_right": (lambda a, b: L.lu_solve(a, _pivots(a), b, left=False),
                       [_well(), _rng.standard_normal((2, 3))]),
    "lu_solve_right_adjoint": (
        lambda a, b: L.lu_solve(a, _pivots(a), b, left=False, adjoint=True),
        [_well(), _rng.standard_normal((2, 3))]),
    "matrix_exp": (L.matrix_exp, [_rng.standard_normal((2, 3, 3))]),
    "matrix_exp_scaled": (L.matrix_exp, [4 * _rng.standard_normal((3, 3))]),
    "lstsq_gelsy": (lambda a, b: L.lstsq(a, b).solution,
                    [_rng.standard_normal((5, 3)), _rng.standard_normal((5, 2))]),
    "lstsq_gelsd_residuals": (lambda a, b: L.lstsq(a, b, driver="gelsd")[:2],
                              [_rng.standard_normal((5, 3)), _rng.standard_normal((5, 2))]),
    "lstsq_gels_wide": (lambda a, b: L.lstsq(a, b, driver="gels").solution,
                        [_rng.standard_normal((3, 4)), _rng.standard_normal((3, 2))]),
    "lstsq_vector_broadcast": (lambda a, b: L.lstsq(a, b, driver="gelss")[:2],
                               [_rng.standard_normal((2, 5, 3)), _rng.standard_normal((2, 5))]),
    "inv_ex": (lambda a: L.inv_ex(a).inverse, [_well(2)]),
    "solve_ex": (lambda a, b: L.solve_ex(a, b).result, [_well(2), _rng.standard_normal((2, 3))]),
    "tensorsolve": (L.tensorsolve, [_well(n=6).reshape(2, 3, 6), _rng.standard_normal((2, 3))]),
    "tensorinv": (lambda a: L.tensorinv(a, ind=1), [_well(n=6).reshape(6, 2, 3)]),
    "vander": (lambda x: L.vander(x, N=4), [_rng.standard_normal((2, 3))]),
    "torch_vander": (dg.vander, [_rng.standard_normal(3)]),
    "householder_product": (L.householder_product,
                            [_rng.standard_normal((4, 3)), _rng.uniform(0.5, 1.5, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, arrays = CASES[name]
    inputs = tuple(t(a, True) for a in arrays)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_singular_solve_fallback_keeps_graph():
    # the inf/NaN path of the *_ex functions still records PyTorch's node
    a = t(np.stack([np.eye(3), S]), True)
    assert type(L.inv_ex(a).inverse.grad_fn).__name__ == "LinalgInvExBackward0"
    result = L.solve_ex(a, t(np.ones(3))).result
    assert type(result.grad_fn).__name__ == "LinalgSolveExBackward0"


def test_forward_mode():
    a, b = t(_well(), True), t(_rng.standard_normal((3, 2)), True)
    ta, tb = t(_rng.standard_normal((3, 3))), t(_rng.standard_normal((3, 2)))
    lu, piv = L.lu_factor(a.detach())
    for fn, primals, tangents in [
            (L.matrix_exp, (a,), (ta,)),
            (lambda x, y: L.lu_solve(x, piv, y), (lu, b), (ta, tb)),
            (lambda x, y: L.lu_solve(x, piv, y.mT, left=False, adjoint=True), (lu, b), (ta, tb))]:
        plain = tuple(p.detach() for p in primals)
        _, forward = dg.func.jvp(fn, plain, tangents)
        _, reverse = dg.func._jvp_by_double_vjp(fn, plain, tangents, False)
        close(forward, reverse.detach().numpy())
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(a.detach(), ta)
        with pytest.raises(forward_ad.ForwardADNotImplemented):
            L.lu(dual)


# ------------------------------------------------------- tensor solvers, vander, orgqr


M6 = np.sin(np.arange(36.0)).reshape(6, 6) + 3 * np.eye(6)


def test_tensor_solvers_match_torch():
    rhs = np.array([[1.0, 2, 3], [4, 5, 6]])
    close(L.tensorsolve(t(M6.reshape(2, 3, 6)), t(rhs)),
          [0.6267143412, 0.848007311, 1.054854789, 1.2573325661, 1.4658645206, 1.690392259])
    close(L.tensorsolve(t(M6.reshape(6, 2, 3)), t(rhs), dims=(0,)),
          [1.7865838821, 0.6261869457, -0.4969931219, -0.243844617, 1.4593540219,
           3.3531549504])
    inverse = L.tensorinv(t(M6.reshape(6, 2, 3)), ind=1)
    assert inverse.shape == (2, 3, 6)
    close(inverse[0, 0], [0.3489944399, -0.0592092519, -0.0796428973, -0.0268532302,
                          0.0506251729, 0.0815590255])
    close(np.tensordot(M6.reshape(6, 2, 3), inverse.numpy(), 2), np.eye(6))
    assert L.tensorinv(t(np.eye(12).reshape(4, 3, 2, 6))).shape == (2, 6, 4, 3)


def test_vander_matches_torch():
    close(L.vander(t([1.0, 2, 3, 5])), [[1, 1, 1, 1], [1, 2, 4, 8], [1, 3, 9, 27],
                                         [1, 5, 25, 125]])
    close(L.vander(t([[1.5, -2.0], [0.0, 3.0]]), N=3),
          [[[1.0, 1.5, 2.25], [1.0, -2.0, 4.0]], [[1.0, 0.0, 0.0], [1.0, 3.0, 9.0]]])
    ints = L.vander(dg.tensor([1, 2, 3], dtype=dg.int32))
    assert ints.dtype == dg.int64 and ints.tolist() == [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    assert L.vander(dg.tensor([1.0, 2.0])).dtype == dg.float32
    close(dg.vander(t([1.0, 2, 3])), [[1, 1, 1], [4, 2, 1], [9, 3, 1]])
    close(dg.vander(t([1.0, 2, 3]), N=4, increasing=True),
          [[1, 1, 1, 1], [1, 2, 4, 8], [1, 3, 9, 27]])
    assert dg.vander(t([1.0, 2]), N=0).shape == (2, 0)
    assert dg.vander(dg.tensor([True, False])).tolist() == [[1, 1], [0, 1]]


GEQRF_A = [[-2.3108440017, 0.1947340451, -1.466996473], [0.0695919407, -3.2205711685,
                                                          0.7962332482],
           [0.2319731356, 0.1074201799, -2.3246363076], [0.1159865678, 0.1013010738,
                                                         0.1061323944]]
GEQRF_TAU = [1.8654846448, 1.957328281, 1.9777227624]


def test_householder_product_matches_torch():
    q = L.householder_product(t(GEQRF_A), t(GEQRF_TAU))
    close(q, [[-0.8654846448, 0.2581718058, 0.4195184828],
              [-0.1298226967, -0.9393616041, 0.2763866738],
              [-0.4327423224, -0.1503676328, -0.8538523818],
              [-0.2163711612, -0.168334995, -0.136201172]], atol=1e-7)
    q2 = L.householder_product(t(GEQRF_A), t(GEQRF_TAU[:2]))
    close(q2[:, 2], [-0.3910638831, -0.2374714507, 0.8866978877, -0.0666573725], atol=1e-7)
    batch = L.householder_product(t(np.stack([GEQRF_A] * 2)), t([GEQRF_TAU] * 2))
    close(batch[1], q.numpy())
    close(L.householder_product(t(GEQRF_A), t(np.zeros(0))), np.eye(4, 3))


# ----------------------------------------------------------------- names and aliases


def test_grad_fn_names_and_saved():
    a = t(W, True)
    lu, piv = L.lu_factor(a)
    p, low, up = L.lu(a)
    res = L.lstsq(t(R, True), t(B4))
    unpacked = X.lu_unpack(lu, piv)
    solved = L.lu_solve(lu, piv, t(B), adjoint=True)
    names = {"LinalgLuFactorExBackward0": lu, "LinalgLuBackward0": low,
             "LuUnpackBackward0": unpacked.U, "LinalgLuSolveBackward0": solved,
             "LinalgMatrixExpBackward0": L.matrix_exp(a),
             "LinalgLstsqBackward0": res.solution}
    for name, out in names.items():
        assert type(out.grad_fn).__name__ == name
    assert low.grad_fn is up.grad_fn and not p.requires_grad and not piv.requires_grad
    assert res.residuals.grad_fn is res.solution.grad_fn
    assert unpacked.P.grad_fn is None
    assert solved.grad_fn._saved_adjoint is True and solved.grad_fn._saved_left is True
    assert solved.grad_fn._saved_pivots.dtype == dg.int32


def test_float32_and_torch_level_aliases():
    a32 = dg.tensor(W.astype(np.float32), requires_grad=True)
    lu, piv, info = L.lu_factor_ex(a32)
    assert (lu.dtype, piv.dtype, info.dtype) == (dg.float32, dg.int32, dg.int32)
    out = L.lstsq(a32, a32, driver="gelsd")
    assert [x.dtype for x in out] == [dg.float32, dg.float32, dg.int64, dg.float32]
    L.lu(a32).U.sum().backward()
    assert a32.grad.dtype == dg.float32
    assert L.lu_solve(lu, piv, a32).dtype == dg.float32
    lu2, piv2 = X.legacy_lu(t(S))  # torch.lu: no error for a singular matrix
    assert piv2.tolist() == [2, 3, 3]
    assert X.legacy_lu(t(S), get_infos=True).info.item() == 3
    lu3, piv3 = L.lu_factor(t(W))
    close(X.legacy_lu_solve(t(B), lu3, piv3), np.linalg.solve(W, B))


# ------------------------------------------------------------------------------ errors


_LU, _PIV = L.lu_factor(t(2 * np.eye(3) + 0.1))
_LU_ERR = "is zero and using it on lu_solve would result in a division by zero"

ERRORS = [
    (lambda: L.lu_factor(t([1.0, 2])), RuntimeError,
     r"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: \[2\] instead"),
    (lambda: L.lu_factor(dg.tensor([[1, 2], [3, 4]])), NotImplementedError,
     "\"lu_cpu\" not implemented for 'Long'"),
    (lambda: L.lu(t(A), pivot=False), RuntimeError,
     "linalg.lu_factor: LU without pivoting is not implemented on the CPU"),
    (lambda: L.lu_factor(t(S)), RuntimeError, r"torch.linalg.lu_factor: U\[3,3\] " + _LU_ERR),
    (lambda: L.lu_factor_ex(t(np.stack([np.eye(3), S])), check_errors=True), RuntimeError,
     r"torch.linalg.lu_factor_ex: \(Batch element 1\): U\[3,3\] " + _LU_ERR),
    (lambda: X.lu_unpack(_LU, _PIV.long()), RuntimeError,
     "LU_pivots is expected to be a contiguous tensor of torch.int32 dtype"),
    (lambda: X.lu_unpack(_LU, _PIV + 5), RuntimeError,
     "pivots passed to lu_unpack must be between 1 and LU.size"),
    (lambda: L.lu_solve(_LU, _PIV, t([1.0, 2, 3])), RuntimeError,
     "linalg.lu_solve: The input tensor B must have at least 2 dimensions."),
    (lambda: L.lu_solve(_LU, _PIV, t(np.ones((4, 2)))), RuntimeError,
     r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x2\)"),
    (lambda: L.lu_solve(_LU, _PIV, t(np.ones((3, 2))), left=False), RuntimeError,
     r"Incompatible shapes of A and B for the equation XA = B \(3x3 and 3x2\)"),
    (lambda: L.lu_solve(_LU, _PIV.long(), t(B)), RuntimeError,
     "pivots should be a Tensor of scalar type torch.int32"),
    (lambda: L.lu_solve(_LU, _PIV, t(B, dtype=np.float32)), RuntimeError,
     "Expected LU and B to have the same dtype, but found LU of type Double and B of type "
     "Float instead"),
    (lambda: L.lu_solve(_LU, _PIV[:2], t(B)), RuntimeError,
     "Number of pivots per batch should be same as the dimension of the matrix"),
    (lambda: L.lu_solve(_LU, _PIV + 10, t(B)), RuntimeError,
     "Pivots given to lu_solve must all be smaller or equal to LU.size"),
    (lambda: L.lu_solve(_LU.expand(2, 3, 3), _PIV.expand(2, 3), t(np.ones((3, 3, 2)))),
     RuntimeError, r"The size of tensor a \(3\) must match the size of tensor b \(2\)"),
    (lambda: L.matrix_exp(t(R)), RuntimeError,
     "linalg.matrix_exp: A must be batches of square matrices, but they are 4 by 3 matrices"),
    (lambda: L.matrix_exp(dg.tensor([[1, 2], [3, 4]])), RuntimeError,
     "linalg.matrix_exp: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: L.inv_ex(t(S), check_errors=True), L.LinAlgError,
     "linalg.inv_ex: The diagonal element 3 is zero, the inversion could not be completed"),
    (lambda: L.inv_ex(t(np.stack([np.eye(3), S])), check_errors=True), L.LinAlgError,
     r"linalg.inv_ex: \(Batch element 1\): The diagonal element 3 is zero"),
    (lambda: L.solve_ex(t(S), t(np.ones(3)), check_errors=True), L.LinAlgError,
     "torch.linalg.solve_ex: The solver failed because the input matrix is singular."),
    (lambda: L.lstsq(t([1.0, 2]), t([1.0, 2])), RuntimeError,
     "torch.linalg.lstsq: input must have at least 2 dimensions."),
    (lambda: L.lstsq(t(R), t(np.ones((2, 4, 2)))), RuntimeError,
     r"input.dim\(\) must be greater or equal to other.dim\(\)"),
    (lambda: L.lstsq(t(R), t(np.ones(5))), RuntimeError,
     r"input.size\(-2\) should match other.size\(-1\)"),
    (lambda: L.lstsq(t(R), t(np.ones((5, 2)))), RuntimeError,
     r"input.size\(-2\) should match other.size\(-2\)"),
    (lambda: L.lstsq(t(R), t(B4), driver="foo"), RuntimeError,
     r"parameter `driver` should be one of \(gels, gelsy, gelsd, gelss\)"),
    (lambda: L.lstsq(t(R), t(B4, dtype=np.float32)), RuntimeError,
     "input's dtype Double and other's dtype Float"),
    (lambda: L.tensorsolve(t(np.ones((2, 3, 5))), t(np.ones((2, 3)))), RuntimeError,
     r"prod\(self.shape\[other.ndim:\]\) == prod\(self.shape\[:other.ndim\]\), but got 5 != 6"),
    (lambda: L.tensorinv(t(np.ones((4, 6, 8, 3))), ind=0), RuntimeError,
     "Expected a strictly positive integer for 'ind', but got 0"),
    (lambda: L.tensorinv(t(np.ones((4, 6, 8, 4)))), RuntimeError, "but got 32 != 24"),
    (lambda: L.tensorinv(t(S), ind=1), L.LinAlgError,
     "inv: The diagonal element 3 is zero"),
    (lambda: L.vander(t([1.0, 2]), N=1), RuntimeError, "N must be greater than 1."),
    (lambda: L.vander(dg.tensor([True, False])), RuntimeError,
     "linalg.vander supports floating point, complex, and integer tensors, but got Bool"),
    (lambda: dg.vander(t([[1.0, 2]])), RuntimeError, "x must be a one-dimensional"),
    (lambda: L.householder_product(t(R.T), t([1.0])), RuntimeError,
     r"input.shape\[-2\] must be greater than or equal to input.shape\[-1\]"),
    (lambda: L.householder_product(t(R), t(np.ones(4))), RuntimeError,
     r"input.shape\[-1\] must be greater than or equal to tau.shape\[-1\]"),
    (lambda: L.householder_product(t(R), t(np.ones(2), dtype=np.float32)), RuntimeError,
     "tau dtype Float does not match input dtype Double"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    fn, kind, message = ERRORS[index]
    with pytest.raises(kind, match=message):
        fn()
