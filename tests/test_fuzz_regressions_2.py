"""Regressions found by randomized differential testing of linalg, the functional autograd API
and the losses against PyTorch 2.13.

Each expected value below was recorded from PyTorch 2.13 (CPU) and is written out as a
literal; the tests do not import torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import distgrad as T
from distgrad.autograd import functional as AF


def _t(data, grad=False, dtype=T.float64):
    return T.tensor(data, dtype=dtype, requires_grad=grad)


def _close(actual, expected, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(np.asarray(actual.tolist(), dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# ------------------------------------------------------------ float32 factorizations

_A32 = [[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0]]


@pytest.mark.parametrize("ord_, expected", [
    (2, [[0.17320075631141663, -0.03594394400715828], [-0.1634109616279602, 0.033912293612957],
         [0.949741542339325, -0.19709762930870056]]),
    (-2, [[0.19986632466316223, 0.9630828499794006], [0.013240020722150803, 0.06379882991313934],
          [-0.03417078033089638, -0.16465651988983154]]),
])
def test_matrix_norm_spectral_float32_backward(ord_, expected):
    # amax/amin hand the SVD node a float64 gradient; its backward used to fail in matmul.
    a = _t(_A32, grad=True, dtype=T.float32)
    T.linalg.matrix_norm(a, ord_).backward()
    assert a.grad.dtype == T.float32
    _close(a.grad, expected, rtol=1e-5, atol=1e-6)


def test_svdvals_amax_float32_backward():
    a = _t(_A32, grad=True, dtype=T.float32)
    T.linalg.svdvals(a).amax().backward()
    _close(a.grad, [[0.17320075631141663, -0.03594394400715828],
                    [-0.1634109616279602, 0.033912293612957],
                    [0.949741542339325, -0.19709762930870056]], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------- hermitian=True


def test_pinv_hermitian_reads_lower_triangle():
    b = _t([[2.0, 1.0, 0.5], [-1.0, 3.0, 0.0], [4.0, 2.0, 1.0]])
    _close(T.linalg.pinv(b, hermitian=True),
           [[0.014925373134328582, -0.13432835820895522, 0.2089552238805969],
            [-0.13432835820895525, 0.208955223880597, 0.11940298507462693],
            [0.2089552238805969, 0.11940298507462693, -0.0746268656716418]], rtol=1e-10)


def test_matrix_rank_hermitian_reads_lower_triangle():
    c = _t([[0.0, 1.0], [0.0, 0.0]])
    assert T.linalg.matrix_rank(c, hermitian=True).item() == 0
    assert T.linalg.matrix_rank(c).item() == 1
    assert T.linalg.matrix_rank(_t([[3.0, 7.0], [-1.0, 2.0]]), hermitian=True).item() == 2


def test_matrix_rank_tensor_atol_per_batch():
    d = _t([[[2.0, 0.0], [0.0, 0.1]], [[2.0, 0.0], [0.0, 0.1]]])
    assert T.linalg.matrix_rank(d, atol=_t([0.05, 0.5])).tolist() == [2, 1]


# ------------------------------------------------------------------- empty / singular


def test_cond_of_empty_matrices_is_zero_with_batch_shape():
    out = T.linalg.cond(T.zeros(0, 0))
    assert out.shape == () and out.item() == 0.0
    for p in (None, "fro", 1, np.inf):
        out = T.linalg.cond(T.zeros(2, 0, 0), p)
        assert out.shape == (2,) and out.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("p", ["fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_of_singular_matrix_is_inf(p):
    assert T.linalg.cond(T.ones(2, 2, dtype=T.float64), p).item() == math.inf
    batch = _t([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]]])
    out = T.linalg.cond(batch, p)
    assert out[0].item() == math.inf and math.isfinite(out[1].item())


@pytest.mark.parametrize("ord_", [1, 2, np.inf])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 3), (2, 3, 0)])
def test_matrix_norm_positive_orders_of_empty_are_zero(ord_, shape):
    out = T.linalg.matrix_norm(T.zeros(*shape), ord_)
    assert out.shape == shape[:-2] and np.all(np.asarray(out.tolist()) == 0.0)


@pytest.mark.parametrize("ord_", [-1, -0.5, np.inf])
def test_vector_norm_without_identity_on_empty_raises(ord_):
    with pytest.raises(RuntimeError, match="cannot compute"):
        T.linalg.vector_norm(T.zeros(0, 3), ord_)
    with pytest.raises(RuntimeError, match="cannot compute"):
        T.linalg.vector_norm(T.zeros(0, 3), ord_, 0)
    assert T.linalg.vector_norm(T.zeros(0, 3), ord_, 1).shape == (0,)


# --------------------------------------------------------- autograd.functional strict


def _linear(x):
    return x * 3.0


@pytest.mark.parametrize("call", [
    lambda x: AF.jacobian(_linear, x, create_graph=True, strict=True),
    lambda x: AF.vjp(_linear, x, T.ones(3, dtype=T.float64), create_graph=True, strict=True),
    lambda x: AF.jvp(_linear, x, T.ones(3, dtype=T.float64), create_graph=True, strict=True),
])
def test_strict_create_graph_refuses_linear_functions(call):
    x = _t([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is "
                                           "independent of input 0"):
        call(x)


def test_strict_create_graph_vhp_refuses_constant_hessian():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="hessian of the user-provided function is "
                                           "independent of input 0"):
        AF.vhp(lambda x: (x * x).sum(), x, T.ones(2, dtype=T.float64), create_graph=True,
               strict=True)


def test_strict_without_create_graph_still_works_for_linear_functions():
    x = _t([1.0, 2.0, 3.0])
    _close(AF.jacobian(_linear, x, strict=True), np.eye(3) * 3.0)


def test_strict_with_vectorize_or_forward_mode_raises():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="`vectorized=True` are not supported together"):
        AF.jacobian(lambda x: x.sin(), x, strict=True, vectorize=True)
    with pytest.raises(RuntimeError, match='`strategy="forward-mode"` are not supported'):
        AF.jacobian(lambda x: x.sin(), x, strict=True, vectorize=True, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="`vectorized=True` are not supported together"):
        AF.hessian(lambda x: x.sin().sum(), x, strict=True, vectorize=True)


def test_extreme_value_gradients_keep_the_input_dtype_and_norm_takes_nuc():
    import numpy as np

    import distgrad as dg
    x = dg.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    for reduce in (lambda t: t.max(), lambda t: t.amax(1), lambda t: t.amin(dim=0),
                   lambda t: dg.norm(t, float("inf"))):
        y = reduce(x)
        (grad,) = y.grad_fn.apply([np.ones(y.shape, np.float32)], False)
        assert grad.dtype == np.float32  # a float64 count used to promote the gradient
    a = dg.tensor([[3.0, 0.0], [4.0, 5.0]], dtype=dg.float64)
    np.testing.assert_allclose(dg.norm(a, "nuc").item(),
                               np.linalg.svd(a.numpy(), compute_uv=False).sum())
