"""Core behaviours checked against PyTorch 2.13 (expected values recorded from it): dtype
casts and promotion, which saved values an in-place change may invalidate, and the
gradients of clamp's tensor bounds."""

import numpy as np
import pytest

import distgrad
from distgrad.autograd import gradcheck

# ------------------------------------------------------------------------------ casts


@pytest.mark.parametrize("cast", [
    lambda t: t.double(),
    lambda t: t.to(distgrad.float64),
    lambda t: t.type(distgrad.float64),
    lambda t: t.to(dtype=distgrad.float64),
])
def test_casting_to_float64_gives_float64(cast):
    for source in (distgrad.tensor([1.5, 2.5]), distgrad.tensor([1, 2])):
        assert cast(source).dtype == distgrad.float64


def test_sum_with_dtype_accumulates_in_that_dtype():
    x = distgrad.tensor([1.5, 2.5])
    assert x.sum(dtype=distgrad.float64).dtype == distgrad.float64
    assert x.mean(dtype=distgrad.float64).dtype == distgrad.float64


def test_gradient_through_a_cast_has_the_source_dtype():
    x = distgrad.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    (y * y).sum().backward()
    assert y.dtype == distgrad.float64
    assert x.grad.dtype == distgrad.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def test_gradcheck_of_a_double_copy():
    x = distgrad.tensor([0.3, -1.2, 2.0]).double().requires_grad_()
    assert gradcheck(lambda t: (t.tanh() * t).sum(), (x,))


def test_python_floats_still_give_the_default_float():
    ints = distgrad.tensor([1, 2])
    assert (ints * 1.5).dtype == distgrad.float32
    assert (ints / 2).dtype == distgrad.float32
    assert ints.float().dtype == distgrad.float32


# -------------------------------------------------------------- 0-d tensors in promotion


def test_a_0d_float64_tensor_does_not_widen_a_float32_tensor():
    x = distgrad.tensor([1.0, 2.0])
    s = distgrad.tensor(3.0, dtype=distgrad.float64)
    for result in (x * s, s + x, x / s, s ** x, x - s):
        assert result.dtype == distgrad.float32
    assert (distgrad.tensor([1, 2]) * s).dtype == distgrad.float64  # a higher category
    assert (s * s).dtype == distgrad.float64
    np.testing.assert_allclose((x * s).numpy(), [3.0, 6.0])


def test_gradient_of_a_0d_float64_operand_keeps_its_dtype():
    x = distgrad.tensor([1.0, 2.0], requires_grad=True)
    s = distgrad.tensor(3.0, dtype=distgrad.float64, requires_grad=True)
    (x * s).sum().backward()
    assert x.grad.dtype == distgrad.float32 and s.grad.dtype == distgrad.float64
    assert s.grad.shape == ()
    assert float(s.grad) == 3.0


# ------------------------------------------- in-place changes to values no VJP reads


@pytest.mark.parametrize("use", [
    lambda a: a * 3.0,
    lambda a: a / 2.0,
    lambda a: a * distgrad.ones(2),
    lambda a: a @ distgrad.ones(2, 2),
    lambda a: distgrad.nn.functional.linear(a, distgrad.ones(3, 2)),
])
def test_changing_a_saved_input_whose_value_no_gradient_reads_is_allowed(use):
    x = distgrad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    z = use(a)
    expected = use(distgrad.ones(2, requires_grad=True))
    expected.sum().backward()
    a.add_(1)
    z.sum().backward()
    assert x.grad is not None and x.grad.shape == (2,)


def test_setitem_from_an_element_of_the_same_tensor():
    x = distgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[1] = y[0] * 5
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 0.0, 1.0])


@pytest.mark.parametrize("use", [
    lambda a, w: a * w,
    lambda a, w: w / a,
    lambda a, w: a @ w.unsqueeze(1),
])
def test_changing_a_saved_input_whose_value_a_gradient_reads_still_raises(use):
    x = distgrad.tensor([1.0, 2.0], requires_grad=True)
    w = distgrad.tensor([3.0, 4.0], requires_grad=True)
    a = x * 1
    z = use(a, w)
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ---------------------------------------------------------------- clamp tensor bounds


def test_clamp_bound_gradients_follow_pytorch_when_bounds_cross():
    x = distgrad.tensor([0., 0., 2., -2., 1., 5., 1.], requires_grad=True)
    lo = distgrad.tensor([1., -1., 1., 1., 1., 1., 1.], requires_grad=True)
    hi = distgrad.tensor([-1., 1., 1., 1., 1., 1., 2.], requires_grad=True)
    out = x.clamp(lo, hi)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), [-1, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0, 0, 1, 0, 1])
    np.testing.assert_array_equal(lo.grad.numpy(), [0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(hi.grad.numpy(), [1, 0, 1, 0, 0, 1, 0])


def test_clamp_with_one_tensor_bound():
    x = distgrad.tensor([0.0, 3.0], requires_grad=True)
    lo = distgrad.tensor([1.0, 1.0], requires_grad=True)
    x.clamp(min=lo).sum().backward()
    np.testing.assert_array_equal(lo.grad.numpy(), [1, 0])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1])


def test_conv_input_may_change_in_place_when_only_it_needs_a_gradient():
    x = distgrad.randn(2, 3, 5, 5, requires_grad=True)
    a = x * 1
    y = distgrad.nn.functional.conv2d(a, distgrad.randn(4, 3, 3, 3), padding=1)
    a.add_(1)
    y.sum().backward()
    assert x.grad.shape == (2, 3, 5, 5)
    w = distgrad.randn(4, 3, 3, 3, requires_grad=True)
    a = x * 1
    y = distgrad.nn.functional.conv2d(a, w, padding=1)
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
