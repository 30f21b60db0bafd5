"""Every differentiable op against central finite differences, in float64.

One table of cases; each case is checked with ``gradcheck`` (first derivatives) and, where
PyTorch supports double backward (everywhere here), with ``gradgradcheck``. Binary
broadcasting ops run over a grid of shape pairs (scalar, vector, matrix, (1, n), (n, 1)),
like HIPS/autograd's ``arg_pairs``. Inputs are seeded and kept away from kinks and
singularities: positive where log/sqrt/pow need it, distinct and away from 0 where
abs/relu/clamp/max would otherwise sit on a tie.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import distgrad as dg
from distgrad.autograd import gradcheck, gradgradcheck

# ----------------------------------------------------------------------- input makers
# Each maker takes a NumPy Generator and returns one argument. Float64 arrays become
# tensors that require grad; anything else (index arrays, masks, numbers) is passed as is.


def N(*shape):
    """Standard normal values."""
    return lambda rng: rng.standard_normal(shape)


def P(*shape):
    """Positive values in [0.5, 2): safe for log, sqrt, division and fractional powers."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def D(*shape):
    """Values whose magnitudes are distinct, at least 0.5 apart and at least 0.25 away from 0,
    with random signs: no ties and no kinks for max/min, abs, relu, clamp or the inf-norm."""

    def make(rng):
        n = int(np.prod(shape))
        magnitudes = 0.25 + 0.5 * rng.permutation(n)
        return (magnitudes * rng.choice([-1.0, 1.0], n)).reshape(shape)

    return make


def A(array):
    """A fixed float64 array."""
    return lambda rng: np.array(array, dtype=np.float64)


def C(value):
    """A constant argument (not differentiated): index, mask, number."""
    return lambda rng: value


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    args: tuple

    def make_inputs(self):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        inputs = []
        for make in self.args:
            value = make(rng)
            if isinstance(value, np.ndarray) and value.dtype == np.float64:
                value = dg.tensor(value, requires_grad=True)
            inputs.append(value)
        return tuple(inputs), rng


def case(name, fn, *args):
    return Case(name, fn, args)


# ------------------------------------------------------------- binary broadcasting grid

SHAPES = {"scalar": (), "vector": (3,), "matrix": (2, 3), "row": (1, 3), "column": (2, 1)}
SHAPE_PAIRS = list(itertools.product(SHAPES, repeat=2))

BINARY_OPS = {
    # name: (fn, maker of the first argument, maker of the second)
    "add": (lambda x, y: x + y, N, N),
    "sub": (lambda x, y: x - y, N, N),
    "mul": (lambda x, y: x * y, N, N),
    "div": (lambda x, y: x / y, N, P),
    "pow": (lambda x, y: x**y, P, N),
    "maximum": (dg.maximum, N, N),
    "minimum": (dg.minimum, N, N),
    "add_fn": (dg.add, N, N),
    "sub_fn": (dg.sub, N, N),
    "mul_fn": (dg.mul, N, N),
    "div_fn": (dg.div, N, P),
    "pow_fn": (dg.pow, P, N),
    "where": (lambda x, y: dg.where(x > y, x, y), N, N),
}

BINARY_CASES = [
    case(f"{op}[{a},{b}]", fn, make_x(*SHAPES[a]), make_y(*SHAPES[b]))
    for op, (fn, make_x, make_y) in BINARY_OPS.items()
    for a, b in SHAPE_PAIRS
]

# -------------------------------------------------------------- numbers and arrays mixed

MIXED_CASES = [
    case("add_number", lambda x: x + 2.5, N(2, 3)),
    case("radd_number", lambda x: 2.5 + x, N(2, 3)),
    case("sub_number", lambda x: x - 2.5, N(2, 3)),
    case("rsub_number", lambda x: 2.5 - x, N(2, 3)),
    case("mul_number", lambda x: x * -1.5, N(2, 3)),
    case("rmul_number", lambda x: -1.5 * x, N(2, 3)),
    case("div_number", lambda x: x / 3.0, N(2, 3)),
    case("rdiv_number", lambda x: 3.0 / x, P(2, 3)),
    case("pow_int", lambda x: x**3, N(2, 3)),
    case("pow_float", lambda x: x**2.5, P(2, 3)),
    case("pow_negative", lambda x: x**-1.5, P(2, 3)),
    case("pow_zero", lambda x: x**0, N(2, 3)),
    case("pow_fn_number", lambda x: dg.pow(x, 2.0), N(2, 3)),
    case("rpow_number", lambda x: 2.0**x, N(2, 3)),
    case("add_ndarray", lambda x: x + np.arange(3.0), N(2, 3)),
    case("radd_ndarray", lambda x: np.arange(3.0) + x, N(2, 3)),
    case("rmul_ndarray", lambda x: np.arange(3.0) * x, N(2, 3)),
    case("rsub_ndarray", lambda x: np.ones((2, 1)) - x, N(2, 3)),
    case("rdiv_ndarray", lambda x: np.arange(1.0, 4.0) / x, P(2, 3)),
    case("rmatmul_ndarray", lambda x: np.ones((2, 2)) @ x, N(2, 3)),
    case("mul_self", lambda x: x * x, N(2, 3)),
    case("div_self", lambda x: x / (x * x + 1), N(2, 3)),
]

# ------------------------------------------------------------------------- unary ops

UNARY_CASES = [
    case("neg", lambda x: -x, N(2, 3)),
    case("neg_fn", dg.neg, N(2, 3)),
    case("exp", dg.exp, N(2, 3)),
    case("log", dg.log, P(2, 3)),
    case("sqrt", dg.sqrt, P(2, 3)),
    case("abs", dg.abs, D(2, 3)),
    case("abs_builtin", lambda x: abs(x), D(2, 3)),
    case("sin", dg.sin, N(2, 3)),
    case("cos", dg.cos, N(2, 3)),
    case("tanh", dg.tanh, N(2, 3)),
    case("sigmoid", dg.sigmoid, N(2, 3)),
    case("sigmoid_large", dg.sigmoid, A([-30.0, -5.0, 5.0, 30.0])),
    case("relu", dg.relu, D(2, 3)),
    case("clamp_min", lambda x: dg.clamp(x, min=0.1), D(2, 3)),
    case("clamp_max", lambda x: dg.clamp(x, max=0.1), D(2, 3)),
    case("clamp_both", lambda x: x.clamp(-0.6, 0.6), D(3, 3)),
    # tensor bounds, broadcast, on values a D() input never comes near
    case("clamp_tensor_min", lambda x, lo: x.clamp(min=lo), D(2, 3), A([0.0, -0.5, 0.5])),
    case("clamp_tensor_max", lambda x, hi: dg.clamp(x, max=hi), D(3), A([0.5, -1.0, 0.0])),
    case("clamp_tensor_both", lambda x, lo, hi: dg.clamp(x, lo, hi), D(2, 3),
         A([[-0.5], [0.0]]), A(1.0)),
    case("clip", lambda x: x.clip(-0.6, 0.6), D(3, 3)),
    case("masked_fill", lambda x: x.masked_fill(np.array([[True, False, True]]), 2.0), N(2, 3)),
    case(
        "masked_fill_tensor_value",
        lambda x, v: dg.masked_fill(x, dg.tensor([[True], [False]]), v),
        N(2, 3),
        N(),
    ),
    case("where_number", lambda x: dg.where(dg.tensor([True, False, True]), x, 0.0), N(2, 3)),
    case("clone", dg.clone, N(2, 3)),
    case("clone_method", lambda x: x.clone() * 2, N(2, 3)),
    case("cast_noop", lambda x: x.to(dg.float64), N(2, 3)),
    case("double_noop", lambda x: x.double() * 1, N(2, 3)),
    case("square", dg.square, N(2, 3)),
    case("sign", lambda x: dg.sign(x) * x, D(2, 3)),
    case("sign_alone", dg.sign, D(2, 3)),
]

# ------------------------------------------------------------------------ reductions

REDUCTION_CASES = [
    case("sum", dg.sum, N(2, 3, 4)),
    case("sum_dim", lambda x: x.sum(1), N(2, 3, 4)),
    case("sum_negative_dim", lambda x: x.sum(-1), N(2, 3, 4)),
    case("sum_tuple", lambda x: x.sum((0, 2)), N(2, 3, 4)),
    case("sum_negative_tuple", lambda x: x.sum((-1, -3)), N(2, 3, 4)),
    case("sum_keepdim", lambda x: x.sum(dim=1, keepdim=True), N(2, 3, 4)),
    case("sum_tuple_keepdim", lambda x: dg.sum(x, (0, 2), keepdim=True), N(2, 3, 4)),
    case("sum_0d", dg.sum, N()),
    case("mean", dg.mean, N(2, 3, 4)),
    case("mean_dim", lambda x: x.mean(0), N(2, 3, 4)),
    case("mean_negative_dim", lambda x: x.mean(-2), N(2, 3, 4)),
    case("mean_tuple", lambda x: x.mean((0, 2)), N(2, 3, 4)),
    case("mean_keepdim", lambda x: x.mean(-1, keepdim=True), N(2, 3, 4)),
    case("max", dg.max, D(2, 3)),
    case("min", lambda x: x.min(), D(2, 3)),
    case("max_dim_values", lambda x: x.max(dim=1).values, D(3, 4)),
    case("max_dim_tuple", lambda x: dg.max(x, 0), D(3, 4)),
    case("max_dim_keepdim", lambda x: x.max(-1, keepdim=True)[0], D(3, 4)),
    case("min_dim_values", lambda x: x.min(dim=0).values, D(3, 4)),
    case("min_dim_keepdim", lambda x: dg.min(x, 1, keepdim=True).values, D(3, 4)),
    case("max_binary", lambda x, y: dg.max(x, y), N(2, 3), N(3)),
    case("amax", dg.amax, D(2, 3)),
    case("amax_dim", lambda x: x.amax(1), D(2, 3, 2)),
    case("amax_tuple_keepdim", lambda x: x.amax((0, 2), keepdim=True), D(2, 3, 2)),
    case("amin", lambda x: x.amin(), D(2, 3)),
    case("amin_dim", lambda x: dg.amin(x, -1), D(2, 3, 2)),
    case("prod", dg.prod, P(2, 3)),
    case("prod_dim", lambda x: x.prod(1), N(2, 3)),
    case("prod_keepdim", lambda x: x.prod(0, keepdim=True), N(2, 3)),
    case("prod_one_zero", dg.prod, A([[1.5, 0.0, -2.0], [0.7, 1.2, -0.5]])),
    case("prod_two_zeros", dg.prod, A([[1.5, 0.0, -2.0], [0.7, 0.0, -0.5]])),
    case("prod_dim_zero", lambda x: x.prod(1), A([[1.5, 0.0, -2.0], [0.7, 1.2, -0.5]])),
    case("norm", dg.norm, N(2, 3)),
    case("norm_method", lambda x: x.norm(), N(2, 3)),
    case("norm_2", lambda x: x.norm(2), N(2, 3)),
    case("norm_fro", lambda x: dg.norm(x, "fro"), N(2, 3)),
    case("norm_1", lambda x: x.norm(1), D(2, 3)),
    case("norm_inf", lambda x: x.norm(float("inf")), D(2, 3)),
    case("norm_3", lambda x: x.norm(3), D(2, 3)),
    case("norm_dim", lambda x: x.norm(dim=1), N(2, 3)),
    case("norm_dim_keepdim", lambda x: x.norm(2, dim=0, keepdim=True), N(2, 3)),
    case("norm_1_dim", lambda x: x.norm(1, dim=-1), D(2, 3)),
    case("logsumexp", lambda x: x.logsumexp(1), N(2, 3)),
    case("logsumexp_tuple_keepdim", lambda x: dg.logsumexp(x, (0, 1), keepdim=True), N(2, 3)),
    case("var", dg.var, N(2, 3)),
    case("var_dim", lambda x: x.var(1), N(2, 3)),
    case("var_biased", lambda x: x.var(0, unbiased=False), N(2, 3)),
    case("var_keepdim", lambda x: x.var(-1, keepdim=True), N(2, 3)),
    case("std", dg.std, N(2, 3)),
    case("std_dim", lambda x: x.std(0), N(3, 2)),
    case("std_biased", lambda x: x.std(1, unbiased=False), N(2, 3)),
]

# ------------------------------------------------------------------- linear algebra

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 4)),
    ((4, 3), (2, 3, 2)),
    ((2, 2, 3), (2, 3, 4)),
    ((2, 1, 2, 3), (3, 3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 4, 3), (3,)),
]

LINALG_CASES = [
    case(f"matmul{a}@{b}", lambda x, y: x @ y, N(*a), N(*b)) for a, b in MATMUL_SHAPES
] + [
    case("matmul_fn", dg.matmul, N(2, 3), N(3, 2)),
    case("matmul_method", lambda x, y: x.matmul(y), N(2, 2, 3), N(2, 3, 2)),
    case("mm", dg.mm, N(2, 3), N(3, 4)),
    case("mm_method", lambda x, y: x.mm(y), N(3, 3), N(3, 2)),
    case("mm_self", lambda x: x.mm(x), N(3, 3)),
    case("dot", dg.dot, N(4), N(4)),
    case("dot_method", lambda x, y: x.dot(y), N(4), N(4)),
    case("dot_self", lambda x: x.dot(x), N(4)),
    case("bmm", dg.bmm, N(2, 2, 3), N(2, 3, 4)),
    case("matmul_T", lambda x: x @ x.T, N(2, 3)),
    # A transposed (column-major) weight against batched inputs, as in Linear on 3-D input.
    case("matmul_batched_by_transposed", lambda x, w: x @ w.T, N(2, 2, 3), N(4, 3)),
    case("matmul_transposed_by_batched", lambda w, y: w.T @ y, N(3, 4), N(2, 3, 2)),
    case("matmul_transposed_2d", lambda w, v: w.T @ v.T, N(3, 4), N(2, 3)),
]

# ---------------------------------------------------------------- shape and indexing

INDEX_REPEATED = np.array([2, 0, 2, 2])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])

SHAPE_CASES = [
    case("reshape", lambda x: x.reshape(3, 2), N(2, 3)),
    case("reshape_tuple_infer", lambda x: x.reshape((-1,)), N(2, 3)),
    case("reshape_fn", lambda x: dg.reshape(x, (6, 1)), N(2, 3)),
    case("reshape_noncontiguous", lambda x: x.T.reshape(6), N(2, 3)),
    case("view", lambda x: x.view(6), N(2, 3)),
    case("view_infer", lambda x: x.view(-1, 2), N(2, 3)),
    case("transpose", lambda x: x.transpose(0, 1), N(2, 3)),
    case("transpose_negative", lambda x: dg.transpose(x, -1, 0), N(2, 3, 4)),
    case("T", lambda x: x.T, N(2, 3)),
    case("t", lambda x: x.t(), N(2, 3)),
    case("permute", lambda x: x.permute(2, 0, 1), N(2, 3, 4)),
    case("permute_tuple", lambda x: dg.permute(x, (1, 2, 0)), N(2, 3, 4)),
    case("squeeze", lambda x: x.squeeze(), N(2, 1, 3, 1)),
    case("squeeze_dim", lambda x: x.squeeze(1), N(2, 1, 3)),
    case("squeeze_negative_dim", lambda x: dg.squeeze(x, -1), N(2, 3, 1)),
    case("unsqueeze", lambda x: x.unsqueeze(0), N(2, 3)),
    case("unsqueeze_negative", lambda x: dg.unsqueeze(x, -1), N(2, 3)),
    case("flatten", lambda x: x.flatten(), N(2, 3, 2)),
    case("flatten_range", lambda x: dg.flatten(x, 1), N(2, 3, 2)),
    case("expand", lambda x: x.expand(2, 3), N(1, 3)),
    case("expand_new_dims", lambda x: x.expand(4, -1, 3), N(2, 1)),
    case("expand_as", lambda x, y: x.expand_as(y) * y, N(3), N(2, 3)),
    case("repeat", lambda x: x.repeat(2, 3), N(2, 3)),
    case("repeat_new_dims", lambda x: x.repeat(2, 1, 2), N(3)),
    case("getitem_int", lambda x: x[1], N(3, 4)),
    case("getitem_negative_int", lambda x: x[-1, 2], N(3, 4)),
    case("getitem_slice", lambda x: x[1:], N(3, 4)),
    case("getitem_slices_step", lambda x: x[::2, 1:3], N(3, 4)),
    case("getitem_negative_step", lambda x: x[::-1, ::-2], N(3, 4)),
    case("getitem_none", lambda x: x[None, :, None], N(3, 4)),
    case("getitem_ellipsis", lambda x: x[..., 1], N(2, 3, 4)),
    case("getitem_int_array_repeated", lambda x: x[INDEX_REPEATED], N(3, 4)),
    case("getitem_list_repeated", lambda x: x[:, [1, 1, 0, 3]], N(3, 4)),
    case("getitem_tensor_index", lambda x: x[dg.tensor([0, 0, 1])], N(3, 4)),
    case("getitem_two_arrays", lambda x: x[[0, 2, 0], [1, 1, 1]], N(3, 4)),
    case("getitem_bool_mask", lambda x: x[MASK], N(3, 4)),
    case("getitem_bool_tensor_rows", lambda x: x[dg.tensor([True, False, True])], N(3, 4)),
    case("getitem_mixed", lambda x: x[1:, INDEX_REPEATED[:2]], N(3, 4)),
    case("gather", lambda x: x.gather(1, dg.tensor([[0, 0], [3, 1], [2, 2]])), N(3, 4)),
    case("gather_dim0", lambda x: dg.gather(x, 0, dg.tensor([[0, 1, 2, 0]])), N(3, 4)),
    case("index_select", lambda x: x.index_select(0, dg.tensor([2, 0, 2])), N(3, 4)),
    case("index_select_dim1", lambda x: dg.index_select(x, 1, dg.tensor([3, 3])), N(3, 4)),
    case("cat", lambda x, y: dg.cat([x, y]), N(2, 3), N(1, 3)),
    case("cat_dim1", lambda x, y: dg.cat((x, y, x), dim=1), N(2, 3), N(2, 2)),
    case("cat_negative_dim", lambda x, y: dg.cat([x, y], -1), N(2, 3), N(2, 1)),
    case("stack", lambda x, y: dg.stack([x, y]), N(2, 3), N(2, 3)),
    case("stack_dim", lambda x, y: dg.stack([x, y, x], dim=2), N(2, 3), N(2, 3)),
    case("stack_negative_dim", lambda x, y: dg.stack((x, y), -1), N(3), N(3)),
    case("split", lambda x: x.split(2), N(5, 2)),
    case("split_sizes", lambda x: dg.split(x, [1, 3], dim=1), N(2, 4)),
    case("chunk", lambda x: x.chunk(2), N(5, 2)),
    case("chunk_dim", lambda x: dg.chunk(x, 3, dim=1), N(2, 6)),
    case("unbind", lambda x: x.unbind(), N(3, 2)),
    case("unbind_dim", lambda x: dg.unbind(x, 1), N(3, 2)),
    case("iterate", lambda x: tuple(x), N(3, 2)),
]

# --------------------------------------------------------------------------- nn ops

NN_CASES = [
    case("softmax", lambda x: x.softmax(1), N(2, 3)),
    case("softmax_dim0", lambda x: dg.softmax(x, 0), N(2, 3)),
    case("softmax_negative_dim", lambda x: dg.softmax(x, -1), N(2, 2, 3)),
    case("log_softmax", lambda x: x.log_softmax(1), N(2, 3)),
    case("log_softmax_dim0", lambda x: dg.log_softmax(x, 0), N(2, 3)),
    case("log_softmax_negative_dim", lambda x: dg.log_softmax(x, -1), N(2, 2, 3)),
]

# -------------------------------------------------------- in place on non-leaf tensors


def _inplace(method, *extra):
    def fn(x, *others):
        y = x * 1
        getattr(y, method)(*others, *extra)
        return y

    return fn


def _iadd(x, w):
    y = x * 1
    y += w
    return y


def _isub(x, w):
    y = x * 1
    y -= w
    return y


def _imul(x, w):
    y = x * 1
    y *= w
    return y


def _itruediv(x, w):
    y = x * 1
    y /= w
    return y


def _setitem(index):
    def fn(x, v):
        y = x * 1
        y[index] = v
        return y

    return fn


def _setitem_number(x):
    y = x * 1
    y[0, 1] = 5.0
    return y


def _chain_inplace(x, w):
    y = x.sin()  # sin saves its input, not y, so y may change in place
    y.mul_(w).add_(x)
    return y.sum(0)


# In place on a view rewrites the view's part of its base (PyTorch's CopySlices); a view
# taken before its base changed in place follows the base's new history.


def _view_mul_(x, w):
    y = x * 1
    y[1:].mul_(w)
    return y


def _view_column_zero_(x):
    y = x * 1
    y[:, 0].zero_()
    return y


def _view_of_transpose_add_(x, w):
    y = x * 1
    y.T[0].add_(w)
    return y


def _view_of_view_mul_(x, w):
    y = x * 1
    y.view(2, 3)[0, 1:].mul_(w)
    return y


def _slice_imul(x, w):
    y = x * 1
    y[1:] *= w
    return y


def _view_copy_into_constant(x):
    h = dg.zeros(3, 4, dtype=dg.float64)
    h[1:].copy_(x)
    return h


def _view_and_base_both_returned(x, w):
    y = x * 1
    v = y[:, 1:]
    v.mul_(w)
    return y, v


def _view_taken_before_base_mul_(x, w):
    y = x * 1
    v = y[:2]
    y.mul_(w)
    return v


def _view_taken_before_setitem(x, s):
    y = x * 1
    v = y[0]
    y[0, 1:] = s
    return v * 1


INPLACE_CASES = [
    case("inplace_add_", _inplace("add_"), N(2, 3), N(3)),
    case("inplace_add_alpha", _inplace("add_", 2.0), N(2, 3), N(2, 3)),
    case(
        "inplace_add_number",
        _inplace(
            "add_",
        ),
        N(2, 3),
        C(1.5),
    ),
    case("inplace_sub_", _inplace("sub_"), N(2, 3), N(2, 1)),
    case("inplace_mul_", _inplace("mul_"), N(2, 3), N(2, 3)),
    case("inplace_mul_number", _inplace("mul_"), N(2, 3), C(-2.0)),
    case("inplace_div_", _inplace("div_"), N(2, 3), P(3)),
    case("inplace_clamp_", lambda x: (x * 1).clamp_(-0.6, 0.6), D(3, 3)),
    case("inplace_relu_", lambda x: (x * 1).relu_(), D(3, 3)),
    case("inplace_copy_", _inplace("copy_"), N(2, 3), N(3)),
    case("inplace_fill_", lambda x: (x * 1).fill_(2.0) + x, N(2, 3)),
    case("inplace_zero_", lambda x: (x * 1).zero_() + x * x, N(2, 3)),
    case("inplace_iadd", _iadd, N(2, 3), N(2, 3)),
    case("inplace_isub", _isub, N(2, 3), N()),
    case("inplace_imul", _imul, N(2, 3), N(3)),
    case("inplace_itruediv", _itruediv, N(2, 3), P(2, 3)),
    case("inplace_setitem_int", _setitem(1), N(3, 4), N(4)),
    case("inplace_setitem_slice", _setitem((slice(None), slice(1, 3))), N(3, 4), N(3, 2)),
    case("inplace_setitem_broadcast", _setitem((slice(0, 2),)), N(3, 4), N(1, 4)),
    case("inplace_setitem_int_array", _setitem(np.array([0, 2])), N(3, 4), N(2, 4)),
    case("inplace_setitem_mask", _setitem(MASK), N(3, 4), N(8)),
    case("inplace_setitem_number", _setitem_number, N(2, 3)),
    case("inplace_chain", _chain_inplace, N(2, 3), N(2, 3)),
    case("inplace_view_mul_", _view_mul_, N(3, 3), N(3)),
    case("inplace_view_column_zero_", _view_column_zero_, N(3, 3)),
    case("inplace_view_of_transpose_add_", _view_of_transpose_add_, N(2, 3), N(2)),
    case("inplace_view_of_view_mul_", _view_of_view_mul_, N(6), N(2)),
    case("inplace_slice_imul", _slice_imul, N(3, 2), N(2, 2)),
    case("inplace_view_copy_into_constant", _view_copy_into_constant, N(2, 4)),
    case("inplace_view_and_base", _view_and_base_both_returned, N(2, 3), N(2)),
    case("inplace_stale_view_after_mul_", _view_taken_before_base_mul_, N(3, 2), N(3, 2)),
    case("inplace_stale_view_after_setitem", _view_taken_before_setitem, N(2, 3), N(2)),
]

CASES = (
    BINARY_CASES
    + MIXED_CASES
    + UNARY_CASES
    + REDUCTION_CASES
    + LINALG_CASES
    + SHAPE_CASES
    + NN_CASES
    + INPLACE_CASES
)


def _ids(cases):
    return [c.name for c in cases]


def test_case_names_are_unique():
    names = _ids(CASES)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("c", CASES, ids=_ids(CASES))
def test_gradcheck(c):
    inputs, _ = c.make_inputs()
    assert gradcheck(c.fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("c", CASES, ids=_ids(CASES))
def test_gradgradcheck(c):
    inputs, rng = c.make_inputs()
    outputs = c.fn(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    grad_outputs = tuple(
        dg.tensor(rng.standard_normal(o.shape), requires_grad=True)
        for o in outputs
        if o.requires_grad
    )
    assert gradgradcheck(c.fn, inputs, grad_outputs, eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------- the checker itself


def test_gradcheck_catches_a_wrong_gradient():
    class WrongExp(dg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    x = dg.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="input 0"):
        gradcheck(WrongExp.apply, (x,))
    assert gradcheck(WrongExp.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class SquareWithFrozenBackward(dg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x.detach()  # right value, but its own derivative is lost

    x = dg.tensor([0.5, -1.0, 2.0], dtype=dg.float64, requires_grad=True)
    assert gradcheck(SquareWithFrozenBackward.apply, (x,))
    with pytest.raises(RuntimeError, match="largest difference"):
        gradgradcheck(SquareWithFrozenBackward.apply, (x,))


def test_gradcheck_refuses_float32_inputs():
    x = dg.randn(3, requires_grad=True)
    with pytest.raises((ValueError, RuntimeError), match="float64"):
        gradcheck(dg.exp, (x,))
