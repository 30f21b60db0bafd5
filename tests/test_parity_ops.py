"""Parity with PyTorch 2.13 for edge cases of the op table; expected values were taken from
PyTorch, and new ops are checked with gradcheck in float64."""

import math

import numpy as np
import pytest

import distgrad as dg
from distgrad.autograd import gradcheck

NAN = float("nan")


def leaf(values, dtype=dg.float64):
    return dg.tensor(values, dtype=dtype, requires_grad=True)


def grad_of(fn, x):
    y = fn(x)
    y.backward(dg.ones_like(y))
    return y, x.grad


def close(t, expected):
    np.testing.assert_allclose(np.asarray(t.detach()), expected, equal_nan=True)


# ------------------------------------------------------------------ NaN gradients


def test_max_with_nans_splits_gradient_among_nans():
    y, g = grad_of(lambda x: x.max(), leaf([1.0, NAN, 3.0, NAN]))
    assert math.isnan(y.item())
    close(g, [0.0, 0.5, 0.0, 0.5])


def test_min_with_a_nan_sends_gradient_to_it():
    _, g = grad_of(lambda x: x.min(), leaf([1.0, NAN, 3.0]))
    close(g, [0.0, 1.0, 0.0])


def test_fractional_norm_at_zero():
    y, g = grad_of(lambda x: x.norm(p=0.5), leaf([0.0, 1.0, 4.0]))
    close(y, 9.0)
    close(g, [0.0, 3.0, 1.5])
    _, g = grad_of(lambda x: x.norm(p=0.5), leaf([0.0, 0.0]))
    close(g, [0.0, 0.0])


def test_abs_gradient_at_nan_is_zero():
    _, g = grad_of(lambda x: x.abs(), leaf([NAN, 0.0, -2.0]))
    close(g, [0.0, 0.0, -1.0])


def test_relu_passes_gradient_at_nan():
    _, g = grad_of(lambda x: x.relu(), leaf([NAN, 0.0, -2.0, 1.0]))
    close(g, [1.0, 0.0, 0.0, 1.0])


# ------------------------------------------------------ reductions of 0-d tensors


@pytest.mark.parametrize("fn, value, grad, name", [
    (lambda x: x.sum(0), 2.0, 1.0, "SumBackward1"),
    (lambda x: x.mean(0), 2.0, 1.0, "MeanBackward1"),
    (lambda x: x.prod(0), 2.0, 1.0, "ProdBackward1"),
    (lambda x: x.max(0)[0], 2.0, 1.0, "MaxBackward0"),
    (lambda x: x.min(-1)[0], 2.0, 1.0, "MinBackward0"),
    (lambda x: x.sum(-1, keepdim=True), 2.0, 1.0, "SumBackward1"),
    (lambda x: x.amax(0), 2.0, 1.0, "AmaxBackward0"),
    (lambda x: x.logsumexp(0), 2.0, 1.0, "LogsumexpBackward0"),
    (lambda x: x.norm(dim=0), 2.0, 1.0, "LinalgVectorNormBackward0"),
    (lambda x: x.softmax(0), 1.0, 0.0, "SoftmaxBackward0"),
    (lambda x: x.log_softmax(-1), 0.0, 0.0, "LogSoftmaxBackward0"),
])
def test_reductions_accept_dim_zero_on_0d(fn, value, grad, name):
    x = leaf(2.0)
    y, g = grad_of(fn, x)
    assert y.shape == () and type(y.grad_fn).__name__ == name
    close(y, value)
    close(g, grad)


def test_max_with_dim_on_0d_returns_index_zero():
    values, indices = dg.tensor(2.0).max(0)
    assert values.shape == () and indices.item() == 0
    assert dg.tensor(2.0).argmax(0).item() == 0
    assert dg.tensor(2.0).all(0).item()


# ------------------------------------------------------------------------- indexing


def test_nested_list_index_is_a_tuple_of_indices():
    x = leaf(np.arange(12.0).reshape(4, 3))
    y, g = grad_of(lambda x: x[[[0, 1], [1, 2]]], x)
    assert y.shape == (2,)
    close(y, [1.0, 5.0])
    close(g, [[0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_list_holding_an_int_and_a_list_is_a_tuple():
    y = dg.arange(12.0).reshape(4, 3)[[0, [1, 2]]]
    close(y, [1.0, 2.0])


@pytest.mark.parametrize("index", [[], [[]]])
def test_empty_list_index_selects_nothing(index):
    x = leaf(np.arange(12.0).reshape(4, 3))
    y, g = grad_of(lambda x: x[index], x)
    assert y.shape == (0, 3)
    close(g, np.zeros((4, 3)))


# --------------------------------------------------------------------------- copy_


def test_copy_from_float_requiring_grad_into_int_truncates():
    y = dg.zeros(2, dtype=dg.int64)
    y.copy_(dg.tensor([1.7, -2.2], requires_grad=True))
    assert y.tolist() == [1, -2] and not y.requires_grad and y.grad_fn is None


def test_copy_from_float_into_int_truncates():
    y = dg.zeros(2, dtype=dg.int64)
    assert y.copy_(dg.tensor([1.7, -2.2])).tolist() == [1, -2]


# ------------------------------------------------------------------ .grad assignment


def test_assigning_grad_of_wrong_shape_raises():
    x = dg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="different size|same size"):
        x.grad = dg.zeros(2)
    with pytest.raises(RuntimeError, match="same size"):
        x.grad = dg.zeros(3, 3)


def test_assigning_grad_of_wrong_dtype_raises():
    x = dg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="dtype"):
        x.grad = dg.zeros(3, dtype=dg.float64)
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = 3


def test_assigning_matching_grad_or_none_works():
    x = dg.zeros(3, requires_grad=True)
    x.grad = dg.ones(3)
    close(x.grad, [1.0, 1.0, 1.0])
    x.grad = None
    assert x.grad is None
    x.sum().backward()
    close(x.grad, [1.0, 1.0, 1.0])


# ---------------------------------------------------------------------- error types


def test_cat_of_0d_tensors_raises():
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\)"):
        dg.cat([dg.ones(2), dg.tensor(2.0)])


def test_bool_subtraction_and_negation_functions_raise():
    b = dg.tensor([True, False])
    with pytest.raises(RuntimeError, match="two bool tensors.*logical_xor"):
        b.sub(b)
    with pytest.raises(RuntimeError, match="with a bool tensor.*logical_not"):
        dg.sub(b, 1)
    with pytest.raises(RuntimeError, match="Negation.*logical_not"):
        dg.neg(b)


def test_integer_to_negative_integer_power_raises():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        dg.tensor([2, 3]) ** -1


def test_where_needs_a_bool_condition():
    with pytest.raises(RuntimeError, match="boolean"):
        dg.where(dg.tensor([1.0, 0.0]), dg.ones(2), dg.zeros(2))


def test_sum_keepdim_without_dim_raises_type_error():
    with pytest.raises(TypeError):
        dg.ones(2).sum(keepdim=True)
    with pytest.raises(TypeError):
        dg.ones(2).mean(keepdim=True)


# -------------------------------------------------------------------- new ops


X = [-1.5, 2.7, 0.5, -0.5, 1.25]


@pytest.mark.parametrize("name, values, grad", [
    ("floor", [-2.0, 2.0, 0.0, -1.0, 1.0], 0.0),
    ("ceil", [-1.0, 3.0, 1.0, -0.0, 2.0], 0.0),
    ("round", [-2.0, 3.0, 0.0, -0.0, 1.0], 0.0),
    ("trunc", [-1.0, 2.0, 0.0, -0.0, 1.0], 0.0),
    ("frac", [-0.5, 0.7, 0.5, -0.5, 0.25], 1.0),
])
def test_rounding_ops(name, values, grad):
    x = leaf(X)
    y, g = grad_of(getattr(dg, name), x)
    assert type(y.grad_fn).__name__ == name.capitalize() + "Backward0"
    close(y, values)
    close(g, [grad] * 5)
    assert gradcheck(getattr(dg, name), (leaf([0.3, -1.2, 2.6]),))


def test_round_decimals():
    y, g = grad_of(lambda x: x.round(decimals=1), leaf(X))
    assert type(y.grad_fn).__name__ == "RoundBackward1"
    close(y, [-1.5, 2.7, 0.5, -0.5, 1.2])
    close(g, [0.0] * 5)
    close(dg.tensor([1234.5]).round(decimals=-2), [1200.0])


def test_rounding_keeps_integers():
    y = dg.tensor([1, 2]).floor()
    assert y.dtype == dg.int64 and y.tolist() == [1, 2]


def test_floor_divide_values_and_no_derivative():
    close(dg.tensor([7, -7]) // dg.tensor([2, 2]), [3, -4])
    y = leaf(X) // 2
    close(y, [-1.0, 1.0, 0.0, -1.0, 0.0])
    with pytest.raises(RuntimeError, match="derivative for floor_divide is not implemented"):
        y.sum().backward()


def test_remainder_values_and_gradients():
    x, y = leaf(X), leaf([2.0, -1.5, 0.3, 0.7, 2.0])
    r = x % y
    assert type(r.grad_fn).__name__ == "RemainderBackward1"
    close(r, [0.5, -0.3, 0.2, 0.2, 1.25])
    r.sum().backward()
    close(x.grad, [1.0] * 5)
    close(y.grad, [1.0, 2.0, -1.0, 1.0, 0.0])
    assert type((x % 2).grad_fn).__name__ == "RemainderBackward0"
    close(dg.tensor([7, -7]) % dg.tensor([2, -3]), [1, -1])
    assert gradcheck(dg.remainder, (leaf([1.3, -2.3, 0.7]), leaf([0.9, 1.1, -0.4])))


def test_xor_of_bools_and_ints():
    assert (dg.tensor([True, False]) ^ dg.tensor([True, True])).tolist() == [False, True]
    assert (dg.tensor([5, 3]) ^ 1).tolist() == [4, 2]
    with pytest.raises(NotImplementedError, match="bitwise_xor"):
        dg.ones(2) ^ dg.ones(2)


def test_clamp_min_and_clamp_max():
    x = leaf(X)
    y, g = grad_of(lambda x: x.clamp_min(0.0), x)
    assert type(y.grad_fn).__name__ == "ClampMinBackward0"
    close(g, [0.0, 1.0, 1.0, 0.0, 1.0])
    x = leaf(X)
    y, g = grad_of(lambda x: dg.clamp_max(x, 0.0), x)
    assert type(y.grad_fn).__name__ == "ClampMaxBackward0"
    close(g, [1.0, 0.0, 0.0, 1.0, 0.0])
    x, b = leaf(X), leaf([2.0, -1.5, 0.3, 0.7, 2.0])
    y = x.clamp_min(b)
    assert type(y.grad_fn).__name__ == "ClampMinBackward1"
    y.sum().backward()
    close(x.grad, [0.0, 1.0, 1.0, 0.0, 0.0])
    close(b.grad, [1.0, 0.0, 0.0, 1.0, 1.0])
    assert gradcheck(lambda x, b: dg.clamp_max(x, b), (leaf([0.3, -1.2]), leaf([0.1, 0.4])))


def test_where_method():
    x = leaf(X)
    close(x.where(x > 0, 3.0), [3.0, 2.7, 0.5, 3.0, 1.25])


def test_softmax_dtype_casts_first():
    x = dg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.softmax(0, dtype=dg.float64)
    assert y.dtype == dg.float64
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "ToCopyBackward0"
    assert dg.log_softmax(x, dim=0, dtype=dg.float64).dtype == dg.float64


def test_norm_p0_and_minus_inf():
    y, g = grad_of(lambda x: x.norm(p=0), leaf([0.0, 1.0, -4.0]))
    close(y, 2.0)
    close(g, [0.0, 0.0, 0.0])
    y, g = grad_of(lambda x: x.norm(p=-math.inf), leaf([2.0, -1.0, 1.0, 4.0]))
    close(y, 1.0)
    close(g, [0.0, -0.5, 0.5, 0.0])
    y, g = grad_of(lambda x: x.norm(p=-1), leaf([2.0, -1.0, 4.0]))
    close(y, 0.5714285714285714)
    close(g, [0.08163265306122448, -0.32653061224489793, 0.02040816326530612])


@pytest.mark.parametrize("method, name", [
    ("exp_", "ExpBackward0"), ("neg_", "NegBackward0"), ("abs_", "AbsBackward0"),
    ("sqrt_", "SqrtBackward0"), ("floor_", "FloorBackward0"), ("sigmoid_", "SigmoidBackward0"),
])
def test_unary_in_place_ops_record_their_node(method, name):
    base = leaf([1.0, 4.0])
    x = base * 1
    getattr(x, method)()
    assert type(x.grad_fn).__name__ == name
    expected = getattr(dg, method[:-1])(base.detach())
    close(x, np.asarray(expected))


def test_pow_in_place():
    base = leaf([1.0, -2.0])
    x = base * 1
    x.pow_(2)
    assert type(x.grad_fn).__name__ == "PowBackward0"
    x.sum().backward()
    close(base.grad, [2.0, -4.0])
    t = dg.tensor([1.0, 2.0])
    t.exp_()
    close(t, np.exp([1.0, 2.0]))


def test_concat_is_cat():
    assert dg.concat is dg.cat
    close(dg.concat([dg.ones(1), dg.zeros(1)]), [1.0, 0.0])


# ----------------------------------------------------------------------------- t()


def test_t_of_1d_is_a_new_view():
    x = leaf([1.0, 2.0, 3.0]) * 1
    y = x.t()
    assert y is not x and type(y.grad_fn).__name__ == "TBackward0"


def test_t_of_2d_is_named_t_backward():
    y = (leaf(np.ones((2, 3))) * 1).t()
    assert type(y.grad_fn).__name__ == "TBackward0" and y.shape == (3, 2)


@pytest.mark.parametrize("op", [lambda a, b: a // b, lambda a, b: a % b,
                                lambda a, b: dg.floor_divide(a, b)])
def test_integer_division_by_zero_raises(op):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(dg.tensor([1, 2]), dg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(dg.tensor([1, 2]), 0)
    assert op(dg.tensor([7, -7]), dg.tensor([2, 2])).tolist() == [op(7, 2), op(-7, 2)]
    with np.errstate(divide="ignore", invalid="ignore"):  # floats: inf or nan, no error
        assert op(dg.tensor([5.0]), 0.0).shape == (1,)


def test_softmax_to_an_integer_dtype_is_an_error():
    with pytest.raises(RuntimeError, match="floating point"):
        dg.ones(2).softmax(0, dtype=dg.int64)
