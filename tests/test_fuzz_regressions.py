"""Regressions found by randomized differential testing against PyTorch 2.13.

Each expected value below was recorded from PyTorch 2.13 (CPU) and is written out as a
literal; the tests do not import torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import distgrad as T
import distgrad.nn.functional as F
from distgrad.ops import _special


def _t(data, grad=False, dtype=T.float64):
    return T.tensor(data, dtype=dtype, requires_grad=grad)


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual.tolist(), dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=1e-12, atol=0)


# ------------------------------------------------------------------------ sorting


def test_cumprod_backward_through_an_empty_scan_dim():
    # The scan dim has size 0: the gradient is an empty array, not a reshape error.
    x = _t(np.zeros((2, 0, 3)), grad=True)
    T.cumprod(x, 1).sum().backward()
    assert tuple(x.grad.shape) == (2, 0, 3)
    y = _t(np.zeros((3, 0)), grad=True)
    T.cumprod(y, -1).sum().backward()
    assert tuple(y.grad.shape) == (3, 0)


# --------------------------------------------------------------------- shape ops


def test_roll_pairs_each_shift_with_its_own_dim():
    # dims given out of order: shifts must not be re-paired with sorted dims.
    x = _t(np.arange(8.0).reshape(2, 4), grad=True)
    out = T.roll(x, (1, -1), (1, 0))
    _close(out, [[7.0, 4.0, 5.0, 6.0], [3.0, 0.0, 1.0, 2.0]])
    out.backward(_t(np.arange(8.0).reshape(2, 4) * 10.0 ** np.arange(4.0)))
    _close(x.grad, [[50.0, 600.0, 7000.0, 4.0], [10.0, 200.0, 3000.0, 0.0]])
    y = _t(np.arange(24.0).reshape(2, 3, 4))
    _close(T.roll(y, (2, 1, -1), (-1, 0, -2)),
           [[[18.0, 19.0, 16.0, 17.0], [22.0, 23.0, 20.0, 21.0], [14.0, 15.0, 12.0, 13.0]],
            [[6.0, 7.0, 4.0, 5.0], [10.0, 11.0, 8.0, 9.0], [2.0, 3.0, 0.0, 1.0]]])


def test_diagonal_with_dim1_after_dim2():
    # The offset counts along dim2 from dim1, so swapping the dims flips its sense.
    x = _t(np.arange(12.0).reshape(3, 4), grad=True)
    out = T.diagonal(x, 1, 1, 0)
    _close(out, [4.0, 9.0])
    out.backward(_t([10.0, 20.0]))
    _close(x.grad, [[0.0, 0.0, 0.0, 0.0], [10.0, 0.0, 0.0, 0.0], [0.0, 20.0, 0.0, 0.0]])
    y = _t(np.arange(24.0).reshape(2, 3, 4))
    _close(T.diagonal(y, -1, -1, 1), [[1.0, 6.0, 11.0], [13.0, 18.0, 23.0]])
    assert tuple(T.diagonal(_t(np.zeros((2, 1, 4))), -3, -1, 1).shape) == (2, 1)


def test_diag_embed_with_dim1_after_dim2():
    v = _t([[1.0, 2.0], [3.0, 4.0]], grad=True)
    out = T.diag_embed(v, 1, -1, -2)
    _close(out, [[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]],
                 [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0]]])
    out.backward(_t(np.arange(18.0).reshape(2, 3, 3)))
    _close(v.grad, [[3.0, 7.0], [12.0, 16.0]])


# ------------------------------------------------------------------------- einsum


def test_einsum_broadcasts_a_dim_of_an_operand_with_a_repeated_letter():
    # 'd' is 1 in the first operand (which repeats 'b') and 3 in the second.
    a = _t([[[1.0, 2.0], [3.0, 4.0]]], grad=True)
    b = _t([[[1.0, -1.0]], [[2.0, 0.5]], [[0.0, 3.0]]], grad=True)
    out = T.einsum("dbb,dcb->bdc", a, b)
    _close(out, [[[1.0], [2.0], [0.0]], [[-4.0], [2.0], [12.0]]])
    out.backward(_t(np.arange(6.0).reshape(2, 3, 1) + 1))
    _close(a.grad, [[[5.0, 0.0], [0.0, 16.5]]])
    _close(b.grad, [[[1.0, 16.0]], [[2.0, 20.0]], [[3.0, 24.0]]])


def test_einsum_repeated_letter_of_size_one_broadcasts():
    a = _t(np.arange(3.0).reshape(1, 3, 1))
    b = _t(np.ones((3, 3, 3)))
    # b a b -> a b: operand 0's diagonal over 'b' has size 1 and broadcasts to 3.
    _close(T.einsum("bab,baa->b", a, b), [3.0, 3.0, 3.0])
    with pytest.raises(RuntimeError):
        T.einsum("ii->i", _t(np.ones((1, 3))))


# ------------------------------------------------------------------------ scatter


def test_bincount_of_nothing_with_weights_is_int64():
    out = T.bincount(T.tensor([], dtype=T.int64), _t([], dtype=T.float32), minlength=3)
    assert out.dtype == T.int64
    assert out.tolist() == [0, 0, 0]


def test_searchsorted_batched_with_empty_dims():
    out = T.searchsorted(_t(np.zeros((0, 3))), _t(np.zeros((0, 2))))
    assert tuple(out.shape) == (0, 2) and out.dtype == T.int64
    out = T.searchsorted(_t(np.zeros((2, 0))), _t(np.ones((2, 3))))
    assert out.tolist() == [[0, 0, 0], [0, 0, 0]]


# -------------------------------------------------------------------- elementwise


def test_atan2_gradient_at_the_origin_is_zero():
    y = _t([0.0, -0.0, 1.0, 0.0], grad=True)
    x = _t([0.0, 0.0, 0.0, -2.0], grad=True)
    T.atan2(y, x).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0, -0.5]
    assert x.grad.tolist() == [0.0, 0.0, -1.0, 0.0]


@pytest.mark.parametrize("scipy", [True, False])
def test_digamma_and_lgamma_special_points(monkeypatch, scipy):
    if not scipy:
        monkeypatch.setattr(_special, "_scipy_special", None)
    elif _special._scipy() is None:
        pytest.skip("SciPy is not installed")
    assert T.digamma(_t([-0.0, 0.0])).tolist() == [math.inf, -math.inf]
    _close(T.lgamma(_t([-math.inf, 5e-324, -1e-310, 0.0])),
           [math.inf, 744.4400719213812, 713.8013788281542, math.inf])
    # lgamma's gradient at -0.0 is digamma(-0.0) = inf
    x = _t([-0.0], grad=True)
    T.lgamma(x).sum().backward()
    assert x.grad.tolist() == [math.inf]


# ------------------------------------------------------------------------ pooling


def test_adaptive_avg_pool2d_keeps_nan_in_its_windows():
    x = _t([[[[1.0, 2.0, 3.0, 4.0], [5.0, math.nan, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]]],
           grad=True)
    out = F.adaptive_avg_pool2d(x, (2, 3))
    np.testing.assert_array_equal(np.asarray(out.tolist()),
                                  [[[[math.nan, math.nan, 5.5], [math.nan, math.nan, 9.5]]]])
    out.backward(T.ones_like(out))
    _close(x.grad, [[[[0.25, 0.5, 0.5, 0.25], [0.5, 1.0, 1.0, 0.5],
                      [0.25, 0.5, 0.5, 0.25]]]])


def test_adaptive_avg_pool2d_gradient_keeps_inf_in_its_windows():
    x = _t([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]], grad=True)
    out = F.adaptive_avg_pool2d(x, (2, 2))
    _close(out, [[[[1.5, 2.5], [4.5, 5.5]]]])
    out.backward(_t([[[[math.inf, 1.0], [2.0, 3.0]]]]))
    _close(x.grad, [[[[math.inf, math.inf, 0.5], [1.0, 2.5, 1.5]]]])
