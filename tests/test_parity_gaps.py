"""Parity with PyTorch 2.13 where distgrad used to differ: bool arithmetic errors, grad_fn
names (batched matmul, ``3 / x``, ``zero_``/``fill_``/``copy_``, ``t[i] = v``), the
``grad_fn._saved_*`` attributes, and the tensor repr.

Every expected value below was recorded by running the same expression under torch 2.13.
"""

import math

import pytest

import distgrad as dg

NAN, INF = math.nan, math.inf

NEG_BOOL = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead.")
SUB_TWO_BOOLS = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use "
                 "the `^` or `logical_xor()` operator instead.")
SUB_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
FREED = "Trying to backward through the graph a second time"


def leaf(values, dtype=None):
    return dg.tensor(values, dtype=dtype or dg.float32, requires_grad=True)


def name(t):
    return type(t.grad_fn).__name__


def edges(t):
    """``next_functions`` as (node class name or None, output number) pairs."""
    return [(type(node).__name__ if node is not None else None, nr)
            for node, nr in t.grad_fn.next_functions]


def values(t):
    return [round(v, 4) for v in t.detach().reshape(-1).tolist()]


# ------------------------------------------------------------------ bool arithmetic


def _bool():
    return dg.tensor([True, False])


@pytest.mark.parametrize("op", [
    lambda b: -b,
    lambda b: b.neg(),
    lambda b: dg.neg(b),
    lambda b: b.neg_(),
], ids=["-b", "b.neg()", "neg(b)", "b.neg_()"])
def test_negating_a_bool_tensor_raises_torchs_error(op):
    with pytest.raises(RuntimeError) as info:
        op(_bool())
    assert str(info.value) == NEG_BOOL


@pytest.mark.parametrize("op, message", [
    (lambda b: b - b, SUB_TWO_BOOLS),
    (lambda b: b - True, SUB_TWO_BOOLS),
    (lambda b: True - b, SUB_TWO_BOOLS),
    (lambda b: b - dg.tensor(True), SUB_TWO_BOOLS),
    (lambda b: b.sub(b), SUB_TWO_BOOLS),
    (lambda b: dg.sub(b, b), SUB_TWO_BOOLS),
    (lambda b: b.sub_(b), SUB_TWO_BOOLS),
    (lambda b: dg.sub(b, 1), SUB_BOOL),
    (lambda b: dg.sub(dg.tensor(1), b), SUB_BOOL),
    (lambda b: dg.sub(dg.tensor([1.0, 2.0]), b, alpha=2), SUB_BOOL),
    (lambda b: dg.sub(dg.tensor([1.0, 2.0]), True), SUB_BOOL),
    # The operators with one bool operand, where NumPy would compute a number:
    (lambda b: b - 1, SUB_BOOL),
    (lambda b: 1 - b, SUB_BOOL),
    (lambda b: b - 1.5, SUB_BOOL),
    (lambda b: dg.tensor([1.0, 2.0]) - b, SUB_BOOL),
    (lambda b: True - dg.tensor([1.0, 2.0]), SUB_BOOL),
    (lambda b: dg.tensor([1.0, 2.0]) - True, SUB_BOOL),
    (lambda b: dg.tensor([1.0, 2.0]).sub_(b), SUB_BOOL),
], ids=["b-b", "b-True", "True-b", "b-b0d", "b.sub(b)", "sub(b,b)", "b.sub_(b)", "sub(b,1)",
        "sub(1,b)", "sub(f,b,alpha)", "sub(f,True)", "b-1", "1-b", "b-1.5", "f-b", "True-f",
        "f-True", "f.sub_(b)"])
def test_subtracting_bool_tensors_raises_torchs_error(op, message):
    with pytest.raises(RuntimeError) as info:
        op(_bool())
    assert str(info.value) == message


def test_other_bool_arithmetic_still_works():
    b = _bool()
    assert (b + b).tolist() == [True, False]
    assert (b * b).tolist() == [True, False]
    assert (b + 1).tolist() == [2, 1]
    assert (~b).tolist() == [False, True]
    assert (dg.tensor([1.0, 2.0]) - 1.5).tolist() == [-0.5, 0.5]
    assert (-dg.tensor([1, -2])).tolist() == [-1, 2]


def test_a_type_error_with_no_bool_operand_is_left_alone():
    with pytest.raises(TypeError):
        dg.tensor([1.0]) - "a"


# --------------------------------------------------------------------- grad_fn names

# (shape of x, shape of y) -> grad_fn name with both requiring grad, only x, only y.
MATMUL_NAMES = [
    ((4,), (4,), ("DotBackward0",) * 3),
    ((3, 4), (4,), ("MvBackward0",) * 3),
    ((3, 4), (4, 5), ("MmBackward0",) * 3),
    ((4,), (4, 5), ("SqueezeBackward4",) * 3),
    ((4,), (4, 1), ("SqueezeBackward4",) * 3),
    ((2, 3, 4), (2, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 3, 4), (4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 3, 4), (4,), ("UnsafeViewBackward0",) * 3),
    ((1, 1, 4), (4,), ("UnsafeViewBackward0",) * 3),
    ((4,), (2, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((4,), (2, 2, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 2, 3, 4), (2, 2, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 2, 3, 4), (4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 3, 4), (1, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 1, 3, 4), (5, 4, 2), ("UnsafeViewBackward0",) * 3),
    ((2, 3, 4), (2, 4, 1), ("UnsafeViewBackward0",) * 3),
    ((1, 3, 4), (4, 5), ("UnsafeViewBackward0",) * 3),
    ((2, 1, 4), (2, 4, 5), ("UnsafeViewBackward0",) * 3),
    ((3, 4), (2, 4, 5), ("CloneBackward0", "CloneBackward0", "UnsafeViewBackward0")),
    ((3, 4), (2, 2, 4, 5), ("CloneBackward0", "CloneBackward0", "UnsafeViewBackward0")),
    ((3, 4), (1, 4, 5), ("CloneBackward0", "CloneBackward0", "UnsafeViewBackward0")),
    ((1, 3, 4), (2, 4, 5), ("CloneBackward0", "CloneBackward0", "UnsafeViewBackward0")),
    ((1, 4), (2, 4, 5), ("TransposeBackward0", "TransposeBackward0", "UnsafeViewBackward0")),
    ((3, 4), (1, 4, 1), ("TransposeBackward0", "TransposeBackward0", "UnsafeViewBackward0")),
]


@pytest.mark.parametrize("x_shape, y_shape, names", MATMUL_NAMES,
                         ids=[f"{x}@{y}" for x, y, _ in MATMUL_NAMES])
def test_matmul_grad_fn_names(x_shape, y_shape, names):
    for (x_grad, y_grad), expected in zip([(True, True), (True, False), (False, True)], names):
        x = dg.ones(*x_shape, requires_grad=x_grad)
        y = dg.ones(*y_shape, requires_grad=y_grad)
        assert name(x @ y) == expected, (x_grad, y_grad)
        assert name(dg.matmul(x, y)) == expected


def test_mm_and_bmm_names():
    assert name(dg.mm(dg.ones(3, 4, requires_grad=True), dg.ones(4, 5))) == "MmBackward0"
    assert name(dg.bmm(dg.ones(2, 3, 4, requires_grad=True), dg.ones(2, 4, 5))) == "BmmBackward0"


def test_batched_matmul_gradient_is_unchanged_by_the_name():
    x = dg.arange(24.0).reshape(2, 3, 4).requires_grad_()
    w = dg.arange(20.0).reshape(4, 5).requires_grad_()
    (x @ w).sum().backward()
    assert values(w.grad) == [60.0] * 5 + [66.0] * 5 + [72.0] * 5 + [78.0] * 5
    assert values(x.grad[0, 0]) == [10.0, 35.0, 60.0, 85.0]


@pytest.mark.parametrize("expr, expected_name, expected_edges", [
    (lambda x: 3 / x, "MulBackward0", None),
    (lambda x: 3.0 / x, "MulBackward0", None),
    (lambda x: dg.div(3, x), "DivBackward0", [(None, 0), ("AccumulateGrad", 0)]),
    (lambda x: x / 3, "DivBackward0", [("AccumulateGrad", 0), (None, 0)]),
    (lambda x: 2 * x, "MulBackward0", [("AccumulateGrad", 0), (None, 0)]),
    (lambda x: 1 + x, "AddBackward0", [("AccumulateGrad", 0), (None, 0)]),
    (lambda x: 1 - x, "RsubBackward1", None),
    (lambda x: dg.sub(1, x), "SubBackward0", [(None, 0), ("AccumulateGrad", 0)]),
    (lambda x: dg.mul(2, x), "MulBackward0", [(None, 0), ("AccumulateGrad", 0)]),
], ids=["3/x", "3.0/x", "div(3,x)", "x/3", "2*x", "1+x", "1-x", "sub(1,x)", "mul(2,x)"])
def test_number_and_tensor_operator_nodes(expr, expected_name, expected_edges):
    y = expr(leaf([1.0, 2.0, 3.0]))
    assert name(y) == expected_name
    if expected_edges is not None:
        assert edges(y) == expected_edges
    elif expected_name == "RsubBackward1":  # torch has no edge for the number at all
        assert edges(y)[0] == ("AccumulateGrad", 0)
    else:  # torch's 3 / x is x.reciprocal() * 3: the tensor's edge first, the number's second
        assert edges(y)[1] == (None, 0)


def test_reflected_operator_values_and_gradients():
    x = leaf([1.0, 2.0, 3.0])
    y = 3 / x
    y.sum().backward()
    assert values(y) == [3.0, 1.5, 1.0]
    assert values(x.grad) == [-3.0, -0.75, -0.3333]
    x = leaf([1.0, 2.0, 3.0])
    y = 1 - x
    (y * y).sum().backward()
    assert values(y) == [0.0, -1.0, -2.0]
    assert values(x.grad) == [0.0, 2.0, 4.0]
    x = leaf([1.0, 2.0, 3.0])
    (2 * x * (1 + x)).sum().backward()
    assert values(x.grad) == [6.0, 10.0, 14.0]


def test_reflected_operators_pass_gradcheck():
    x = dg.tensor([1.0, 2.0, 3.0], dtype=dg.float64, requires_grad=True)
    for fn in (lambda x: 3 / x, lambda x: 1 - x, lambda x: 2 * x + 1):
        assert dg.autograd.gradcheck(fn, (x,))
        assert dg.autograd.gradgradcheck(lambda x, fn=fn: fn(x) * x, (x,))


def test_zero_fill_copy_names_and_gradients():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y.zero_()
    (y + x).sum().backward()
    assert (name(y), edges(y), values(y)) == ("ZeroBackward0", [("MulBackward0", 0)],
                                              [0.0, 0.0, 0.0])
    assert values(x.grad) == [1.0, 1.0, 1.0]

    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y.fill_(5.0)
    (y * x).sum().backward()
    assert (name(y), edges(y), values(y)) == ("FillBackward2", [("MulBackward0", 0)],
                                              [5.0, 5.0, 5.0])
    assert values(x.grad) == [5.0, 5.0, 5.0]

    x = leaf([1.0, 2.0, 3.0])
    v = dg.tensor(4.0, requires_grad=True)
    y = x * 2
    y.fill_(v)
    (y * x).sum().backward()
    assert (name(y), edges(y)) == ("FillBackward3", [("MulBackward0", 0), ("AccumulateGrad", 0)])
    assert values(y) == [4.0, 4.0, 4.0]
    assert values(x.grad) == [4.0, 4.0, 4.0]
    assert values(v.grad) == [6.0]

    y = x * 2
    y.fill_(dg.tensor(3.0))
    assert (name(y), edges(y)) == ("FillBackward3", [("MulBackward0", 0), (None, 0)])


def test_copy_casts_and_reduces_the_source_gradient():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    src = dg.tensor([1.0, 2.0, 3.0], dtype=dg.float64, requires_grad=True)
    y = x * 2
    y.copy_(src)
    (y * dg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert (name(y), edges(y)) == ("CopyBackwards", [("MulBackward0", 0), ("AccumulateGrad", 0)])
    assert y.dtype == dg.float32
    assert values(x.grad) == [0.0] * 6
    assert values(src.grad) == [5.0, 7.0, 9.0]
    assert src.grad.dtype == dg.float64

    x = leaf([1.0, 2.0, 3.0])
    y = dg.zeros(3)
    y.copy_(x)
    (y * y).sum().backward()
    assert (name(y), edges(y)) == ("CopyBackwards", [(None, 0), ("AccumulateGrad", 0)])
    assert values(x.grad) == [2.0, 4.0, 6.0]


def test_zero_and_fill_ignore_the_old_values():
    # Recorded as ops of their own, not as old * 0 + value: inf and NaN do not leak through.
    y = dg.tensor([INF, 1.0], requires_grad=True) * 1
    y.zero_()
    assert values(y) == [0.0, 0.0]
    y = dg.tensor([NAN, 1.0], requires_grad=True) * 1
    y.fill_(2.0)
    assert values(y) == [2.0, 2.0]


def test_copy_from_an_unbroadcastable_source_raises():
    for y in (dg.ones(2, 3, requires_grad=True) * 1, dg.zeros(2, 3)):
        with pytest.raises(RuntimeError):
            y.copy_(dg.ones(4))


def _setitem_name(index, value=0.0):
    y = dg.ones(4, 3, requires_grad=True) * 1
    y[index] = value
    return name(y)


@pytest.mark.parametrize("index, expected", [
    (1, "CopySlices"),
    (slice(1, 3), "CopySlices"),
    ((1, 2), "CopySlices"),
    ((Ellipsis, 0), "CopySlices"),
    ((None, 1), "CopySlices"),
    ((0, [1, 2]), "CopySlices"),
    (dg.tensor(1), "CopySlices"),
    (True, "CopySlices"),
    ((1, slice(None)), "CopySlices"),
    ((slice(None), 0), "CopySlices"),
    (-1, "CopySlices"),
    (([0, 1], slice(1, 2)), "CopySlices"),
    ((None, [0, 1]), "CopySlices"),
    ([0, 2], "IndexPutBackward0"),
    (dg.tensor([0, 2]), "IndexPutBackward0"),
    (dg.tensor([True, False, True, False]), "IndexPutBackward0"),
    ((slice(None), [0, 1]), "IndexPutBackward0"),
    ((Ellipsis, [0, 1]), "IndexPutBackward0"),
    (dg.ones(4, 3, dtype=dg.bool), "IndexPutBackward0"),
    (Ellipsis, "FillBackward3"),
    (slice(None), "FillBackward3"),
    ((slice(None), slice(None)), "FillBackward3"),
], ids=lambda v: repr(v) if not isinstance(v, dg.Tensor) else f"tensor{list(v.shape)}")
def test_setitem_grad_fn_names(index, expected):
    assert _setitem_name(index) == expected


def test_setitem_names_with_tensor_values():
    assert _setitem_name(1, dg.ones(3, requires_grad=True)) == "CopySlices"
    assert _setitem_name(slice(None), dg.ones(3, requires_grad=True)) == "CopyBackwards"
    assert _setitem_name(Ellipsis, dg.tensor(2.0)) == "FillBackward3"
    y = dg.zeros(4)
    y[1:3] = leaf([1.0, 2.0])
    assert (name(y), edges(y)) == ("CopySlices", [(None, 0), ("AccumulateGrad", 0)])


def test_setitem_values_and_gradients():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x * 1
    y[1:3] = 0.0
    (y * y).sum().backward()
    assert (name(y), edges(y)) == ("CopySlices", [("MulBackward0", 0), (None, 0)])
    assert values(y) == [1.0, 0.0, 0.0, 4.0]
    assert values(x.grad) == [2.0, 0.0, 0.0, 8.0]

    x, v = leaf([1.0, 2.0, 3.0, 4.0]), leaf([7.0, 8.0])
    y = x * 1
    y[1:3] = v
    (y * y).sum().backward()
    assert edges(y) == [("MulBackward0", 0), ("AccumulateGrad", 0)]
    assert values(y) == [1.0, 7.0, 8.0, 4.0]
    assert values(x.grad) == [2.0, 0.0, 0.0, 8.0]
    assert values(v.grad) == [14.0, 16.0]

    x, v = leaf([1.0, 2.0, 3.0, 4.0]), leaf([7.0, 8.0])
    y = x * 1
    y[dg.tensor([0, 2])] = v
    (y * y).sum().backward()
    assert (name(y), values(y)) == ("IndexPutBackward0", [7.0, 2.0, 8.0, 4.0])
    assert values(x.grad) == [0.0, 4.0, 0.0, 8.0]
    assert values(v.grad) == [14.0, 16.0]

    x, v = leaf([1.0, 2.0, 3.0, 4.0]), leaf([5.0])
    y = x * 1
    y[...] = v
    (y * y).sum().backward()
    assert (name(y), values(y)) == ("CopyBackwards", [5.0, 5.0, 5.0, 5.0])
    assert values(x.grad) == [0.0, 0.0, 0.0, 0.0]
    assert values(v.grad) == [40.0]


def test_in_place_on_a_view_gives_the_base_copy_slices():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    y[0].mul_(3)
    (y * y).sum().backward()
    assert (name(y), values(y)) == ("CopySlices", [3.0, 6.0, 3.0, 4.0])
    assert values(x.grad) == [18.0, 36.0, 6.0, 8.0]

    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    y[:, 1].zero_()
    (y * y).sum().backward()
    assert (name(y), values(y)) == ("CopySlices", [1.0, 0.0, 3.0, 0.0])
    assert edges(y)[0] == ("MulBackward0", 0)
    assert values(x.grad) == [2.0, 0.0, 6.0, 0.0]

    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    y.t()[0].copy_(leaf([9.0, 8.0]))
    (y * y).sum().backward()
    assert (name(y), values(y)) == ("CopySlices", [9.0, 2.0, 8.0, 4.0])
    assert values(x.grad) == [0.0, 4.0, 0.0, 8.0]


def test_recorded_in_place_ops_pass_gradcheck():
    x = dg.tensor([1.0, 2.0, 3.0], dtype=dg.float64, requires_grad=True)

    def zero(x):
        y = x * x
        y.zero_()
        return y + x

    def fill(x):
        y = x * x
        y.fill_(x.sum())
        return y * x

    def copy(x):
        y = (x * 1).reshape(3, 1) * dg.ones(3, 2, dtype=dg.float64)
        y.copy_(x.reshape(3, 1) ** 2)
        return y

    def setitem(x):
        y = x * 1
        y[1:] = x[:2] ** 2
        return y * x

    def view(x):
        y = (x * 1).reshape(3, 1).expand(3, 2).clone()
        y[:, 1].mul_(x)
        return y

    for fn in (zero, fill, copy, setitem, view):
        assert dg.autograd.gradcheck(fn, (x,)), fn.__name__
        assert dg.autograd.gradgradcheck(fn, (x,)), fn.__name__


# ------------------------------------------------------------------ grad_fn._saved_*


def _inputs():
    x = leaf([1.0, 2.0, 3.0])
    y = leaf([4.0, 5.0, 6.0])
    c = dg.tensor([0.5, 0.25, 2.0])
    return x, y, c


def test_saved_inputs_of_binary_ops_are_the_tensors_themselves():
    x, y, c = _inputs()
    fn = (x * y).grad_fn
    assert fn._saved_self is x and fn._saved_other is y
    fn = (x / y).grad_fn
    assert fn._saved_self is x and fn._saved_other is y
    fn = dg.maximum(x, y).grad_fn
    assert fn._saved_self is x and fn._saved_other is y
    fn = dg.minimum(x, c).grad_fn
    assert fn._saved_self is x and fn._saved_other is c


def test_only_inputs_a_needed_gradient_reads_are_saved():
    # As in torch: x * c saves c (x's gradient reads it) but not x (c needs no gradient).
    x, y, c = _inputs()
    fn = (x * c).grad_fn
    assert fn._saved_self is None and fn._saved_other is c
    fn = (c * x).grad_fn
    assert fn._saved_self is c and fn._saved_other is None
    fn = (x / c).grad_fn
    assert fn._saved_self is None and fn._saved_other is c
    fn = (c / x).grad_fn
    assert fn._saved_self is c and fn._saved_other is x
    fn = (x % c).grad_fn
    assert fn._saved_self is None and fn._saved_other is None
    fn = dg.remainder(c, x).grad_fn
    assert fn._saved_self is c and fn._saved_other is x


@pytest.mark.parametrize("expr, value, dtype", [
    (lambda x: x * 2, 2, dg.int64),
    (lambda x: 2 * x, 2, dg.int64),
    (lambda x: x * 2.5, 2.5, dg.float64),
    (lambda x: x / 2, 2, dg.int64),
    (lambda x: 3 / x, 3, dg.int64),
], ids=["x*2", "2*x", "x*2.5", "x/2", "3/x"])
def test_a_number_operand_is_saved_as_a_0d_tensor(expr, value, dtype):
    x, _, _ = _inputs()
    other = expr(x).grad_fn._saved_other
    assert isinstance(other, dg.Tensor) and other.shape == ()
    assert other.item() == value and other.dtype == dtype


def test_saved_names_of_pow():
    x, y, c = _inputs()
    fn = (x ** 2).grad_fn
    assert fn._saved_self is x and fn._saved_exponent == 2  # a number, as torch's Scalar
    assert (x ** 2.5).grad_fn._saved_exponent == 2.5
    z = x ** y
    fn = z.grad_fn
    assert fn._saved_self is x and fn._saved_exponent is y
    assert values(fn._saved_result) == [1.0, 32.0, 729.0]
    assert (x ** c).grad_fn._saved_exponent is c
    fn = (2 ** x).grad_fn
    assert fn._saved_self == 2 and fn._saved_exponent is x
    assert values(fn._saved_result) == [2.0, 4.0, 8.0]


@pytest.mark.parametrize("method, result", [
    ("exp", [2.7183, 7.3891, 20.0855]),
    ("sqrt", [1.0, 1.4142, 1.7321]),
    ("tanh", [0.7616, 0.964, 0.9951]),
    ("sigmoid", [0.7311, 0.8808, 0.9526]),
    ("relu", [1.0, 2.0, 3.0]),
])
def test_saved_result_of_unary_ops(method, result):
    x, _, _ = _inputs()
    z = getattr(x, method)()
    saved = z.grad_fn._saved_result
    assert values(saved) == result
    assert saved.requires_grad and not saved.is_leaf and saved.grad_fn is z.grad_fn
    assert not hasattr(z.grad_fn, "_saved_self")


@pytest.mark.parametrize("method", ["log", "abs", "sin", "cos"])
def test_saved_self_of_unary_ops(method):
    x, _, _ = _inputs()
    fn = getattr(x, method)().grad_fn
    assert fn._saved_self is x
    assert not hasattr(fn, "_saved_result")


def test_saved_names_of_reductions_and_softmax():
    x, _, _ = _inputs()
    fn = x.max().grad_fn
    assert fn._saved_self is x and values(fn._saved_result) == [3.0]
    fn = x.prod().grad_fn
    assert fn._saved_self is x and values(fn._saved_result) == [6.0]
    assert values(x.softmax(0).grad_fn._saved_result) == [0.09, 0.2447, 0.6652]


def test_saved_names_of_clamp_and_where():
    x, _, c = _inputs()
    fn = x.clamp(0, 1).grad_fn
    assert (fn._saved_self is x, fn._saved_min, fn._saved_max) == (True, 0, 1)
    fn = x.clamp(max=2).grad_fn
    assert (fn._saved_min, fn._saved_max) == (None, 2)
    assert x.clamp_min(1.5).grad_fn._saved_min == 1.5
    assert x.clamp_max(1.5).grad_fn._saved_max == 1.5
    fn = x.clamp(min=c).grad_fn
    assert fn._saved_self is x and fn._saved_min is c and fn._saved_max is None
    assert x.clamp_min(c).grad_fn._saved_min is c
    assert x.clamp_max(c).grad_fn._saved_max is c
    condition = dg.where(c > 1, x, c).grad_fn._saved_condition
    assert condition.tolist() == [False, False, True]


def test_saved_names_of_matrix_products():
    x, _, c = _inputs()
    a = dg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    k = dg.tensor([[1.0, 0.0], [2.0, 1.0]])
    fn = (a @ k).grad_fn
    assert fn._saved_self is None and fn._saved_mat2 is k
    fn = (k @ a).grad_fn
    assert fn._saved_self is k and fn._saved_mat2 is None
    fn = dg.mm(a, a).grad_fn
    assert fn._saved_self is a and fn._saved_mat2 is a
    fn = dg.dot(x, c).grad_fn
    assert fn._saved_self is None and fn._saved_tensor is c
    fn = (k @ a[0]).grad_fn
    assert fn._saved_self is k and fn._saved_vec is None
    fn = dg.bmm(a.unsqueeze(0), k.unsqueeze(0)).grad_fn
    assert fn._saved_self is None and fn._saved_mat2.tolist() == [[[1.0, 0.0], [2.0, 1.0]]]


def test_ops_without_saved_tensors_have_no_saved_attributes():
    x, y, _ = _inputs()
    for z in (-x, x + y):
        assert not hasattr(z.grad_fn, "_saved_self")
    with pytest.raises(AttributeError, match="_saved_foo"):
        _ = (x * x).grad_fn._saved_foo
    with pytest.raises(AttributeError):
        _ = (x * x).grad_fn._saved_result


def test_saved_tensors_are_freed_by_backward():
    x, _, c = _inputs()
    z = x * x
    z.sum().backward()
    for attribute in ("_saved_self", "_saved_other"):
        with pytest.raises(RuntimeError, match=FREED):
            getattr(z.grad_fn, attribute)
    z = x * c
    z.sum().backward()
    assert z.grad_fn._saved_self is None  # never saved, so never freed
    with pytest.raises(RuntimeError, match=FREED):
        _ = z.grad_fn._saved_other
    z = x.exp()
    z.sum().backward()
    with pytest.raises(RuntimeError, match=FREED):
        _ = z.grad_fn._saved_result
    z = x.clamp(min=0)
    z.sum().backward()
    assert z.grad_fn._saved_min == 0  # an argument, not a saved tensor
    with pytest.raises(RuntimeError, match=FREED):
        _ = z.grad_fn._saved_self
    z = x * x
    dg.autograd.grad(z.sum(), x)
    with pytest.raises(RuntimeError, match=FREED):
        _ = z.grad_fn._saved_self


def test_saved_tensors_survive_retain_graph():
    x, _, _ = _inputs()
    z = x * x
    z.sum().backward(retain_graph=True)
    assert z.grad_fn._saved_self is x
    f = x.exp()
    dg.autograd.grad(f.sum(), x, create_graph=True)
    assert values(f.grad_fn._saved_result) == [2.7183, 7.3891, 20.0855]


def test_reading_a_saved_tensor_modified_in_place_raises():
    x, _, _ = _inputs()
    w = x * 1
    z = w * w
    w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _ = z.grad_fn._saved_self
    f = (x * 1).exp()
    node = f.grad_fn
    f.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _ = node._saved_result


# ------------------------------------------------------------------------------ repr

REPRS = [
    (lambda: dg.tensor([1.5, 2.0]),
     "tensor([1.5000, 2.0000])"),
    (lambda: dg.tensor(1.5),
     "tensor(1.5000)"),
    (lambda: dg.tensor([1.0, 2.0]),
     "tensor([1., 2.])"),
    (lambda: dg.tensor(1.0),
     "tensor(1.)"),
    (lambda: dg.tensor(-0.0),
     "tensor(-0.)"),
    (lambda: dg.tensor([-1.5, 2.25, 3.0]),
     "tensor([-1.5000,  2.2500,  3.0000])"),
    (lambda: dg.tensor([-1.0, 2.0, 3.0]),
     "tensor([-1.,  2.,  3.])"),
    (lambda: dg.tensor([1.0, 2.0], requires_grad=True),
     "tensor([1., 2.], requires_grad=True)"),
    (lambda: dg.tensor([1.0, 2.0], requires_grad=True) * 2,
     "tensor([2., 4.], grad_fn=<MulBackward0>)"),
    (lambda: dg.tensor([1.5, 2.0], dtype=dg.float64),
     "tensor([1.5000, 2.0000], dtype=distgrad.float64)"),
    (lambda: dg.tensor([1.5, 2.0], dtype=dg.float64, requires_grad=True),
     "tensor([1.5000, 2.0000], dtype=distgrad.float64, requires_grad=True)"),
    (lambda: dg.tensor(1.5, dtype=dg.float64),
     "tensor(1.5000, dtype=distgrad.float64)"),
    (lambda: dg.tensor([1, 2, 3]),
     "tensor([1, 2, 3])"),
    (lambda: dg.tensor([-1, 20, 300]),
     "tensor([ -1,  20, 300])"),
    (lambda: dg.tensor(5),
     "tensor(5)"),
    (lambda: dg.tensor(-3),
     "tensor(-3)"),
    (lambda: dg.tensor([1, 2], dtype=dg.int32),
     "tensor([1, 2], dtype=distgrad.int32)"),
    (lambda: dg.tensor([123456789012, 1]),
     "tensor([123456789012,            1])"),
    (lambda: dg.tensor([True, False]),
     "tensor([ True, False])"),
    (lambda: dg.tensor(True),
     "tensor(True)"),
    (lambda: dg.tensor([[True, False], [False, True]]),
     "tensor([[ True, False],\n"
     "        [False,  True]])"),
    (lambda: dg.tensor([[1.5, 2.0], [3.0, 4.0]]),
     "tensor([[1.5000, 2.0000],\n"
     "        [3.0000, 4.0000]])"),
    (lambda: dg.tensor([[-1.5, 2.0], [3.0, -4.25]]),
     "tensor([[-1.5000,  2.0000],\n"
     "        [ 3.0000, -4.2500]])"),
    (lambda: dg.tensor([[1, 2], [3, 40]]),
     "tensor([[ 1,  2],\n"
     "        [ 3, 40]])"),
    (lambda: dg.arange(8.0).reshape(2, 2, 2),
     "tensor([[[0., 1.],\n"
     "         [2., 3.]],\n"
     "\n"
     "        [[4., 5.],\n"
     "         [6., 7.]]])"),
    (lambda: dg.ones(2, 2, requires_grad=True) + 1,
     "tensor([[2., 2.],\n"
     "        [2., 2.]], grad_fn=<AddBackward0>)"),
    (lambda: (dg.ones(2, requires_grad=True) * 2).sum(),
     "tensor(4., grad_fn=<SumBackward0>)"),
    (lambda: dg.tensor([1e-05, 1.0]),
     "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: dg.tensor([-1e-05, 1.0]),
     "tensor([-1.0000e-05,  1.0000e+00])"),
    (lambda: dg.tensor([100000000.0, 1.0]),
     "tensor([1.0000e+08, 1.0000e+00])"),
    (lambda: dg.tensor([1e-10, 10000000000.0]),
     "tensor([1.0000e-10, 1.0000e+10])"),
    (lambda: dg.tensor(1e-08),
     "tensor(1.0000e-08)"),
    (lambda: dg.tensor([1000000.0, 2.0]),
     "tensor([1.0000e+06, 2.0000e+00])"),
    (lambda: dg.tensor([0.0001, 1.0]),
     "tensor([1.0000e-04, 1.0000e+00])"),
    (lambda: dg.tensor([0.001, 1.0]),
     "tensor([0.0010, 1.0000])"),
    (lambda: dg.tensor([1.23456789, 2.0]),
     "tensor([1.2346, 2.0000])"),
    (lambda: dg.tensor([NAN, INF, -INF, 1.5]),
     "tensor([   nan,    inf,   -inf, 1.5000])"),
    (lambda: dg.tensor([NAN, 1.0]),
     "tensor([nan, 1.])"),
    (lambda: dg.tensor([INF, 2.0]),
     "tensor([inf, 2.])"),
    (lambda: dg.zeros(3),
     "tensor([0., 0., 0.])"),
    (lambda: dg.tensor([]),
     "tensor([])"),
    (lambda: dg.zeros(0, 3),
     "tensor([], size=(0, 3))"),
    (lambda: dg.tensor([], dtype=dg.int64),
     "tensor([], dtype=distgrad.int64)"),
    (lambda: dg.arange(30.0) / 7,
     "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n"
     "        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n"
     "        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n"
     "        3.8571, 4.0000, 4.1429])"),
    (lambda: dg.arange(40.0).reshape(2, 20) / 3,
     "tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,\n"
     "          2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,\n"
     "          5.3333,  5.6667,  6.0000,  6.3333],\n"
     "        [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,\n"
     "          9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667,\n"
     "         12.0000, 12.3333, 12.6667, 13.0000]])"),
    (lambda: dg.arange(2000.0),
     "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
     "        1.9990e+03])"),
    (lambda: dg.arange(2000),
     "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda: dg.arange(1001),
     "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
    (lambda: dg.arange(3000.0).reshape(1000, 3),
     "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00],\n"
     "        [3.0000e+00, 4.0000e+00, 5.0000e+00],\n"
     "        [6.0000e+00, 7.0000e+00, 8.0000e+00],\n"
     "        ...,\n"
     "        [2.9910e+03, 2.9920e+03, 2.9930e+03],\n"
     "        [2.9940e+03, 2.9950e+03, 2.9960e+03],\n"
     "        [2.9970e+03, 2.9980e+03, 2.9990e+03]])"),
    (lambda: dg.arange(1200).reshape(2, 30, 20),
     "tensor([[[   0,    1,    2,  ...,   17,   18,   19],\n"
     "         [  20,   21,   22,  ...,   37,   38,   39],\n"
     "         [  40,   41,   42,  ...,   57,   58,   59],\n"
     "         ...,\n"
     "         [ 540,  541,  542,  ...,  557,  558,  559],\n"
     "         [ 560,  561,  562,  ...,  577,  578,  579],\n"
     "         [ 580,  581,  582,  ...,  597,  598,  599]],\n"
     "\n"
     "        [[ 600,  601,  602,  ...,  617,  618,  619],\n"
     "         [ 620,  621,  622,  ...,  637,  638,  639],\n"
     "         [ 640,  641,  642,  ...,  657,  658,  659],\n"
     "         ...,\n"
     "         [1140, 1141, 1142,  ..., 1157, 1158, 1159],\n"
     "         [1160, 1161, 1162,  ..., 1177, 1178, 1179],\n"
     "         [1180, 1181, 1182,  ..., 1197, 1198, 1199]]])"),
    (lambda: dg.arange(2000.0, requires_grad=True) * 1,
     "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
     "        1.9990e+03], grad_fn=<MulBackward0>)"),
]


@pytest.mark.parametrize("make, expected", REPRS, ids=[f"repr{i}" for i in range(len(REPRS))])
def test_repr_matches_torch(make, expected):
    assert repr(make()) == expected


def test_repr_puts_a_suffix_that_does_not_fit_on_its_own_line():
    t = (dg.arange(7.0) / 3).requires_grad_()
    assert repr(t) == ("tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000],\n"
                       "       requires_grad=True)")


# ------------------------------------------------ dtype agreement in matrix products


def test_matrix_products_and_layers_refuse_mixed_dtypes_as_pytorch():
    a64, w32 = dg.randn(2, 3, dtype=dg.float64), dg.randn(4, 3)
    with pytest.raises(RuntimeError, match="same dtype, but got float64 and float32"):
        a64 @ w32.T
    with pytest.raises(RuntimeError, match="same dtype"):
        dg.mm(a64, w32.T)
    with pytest.raises(RuntimeError, match="same dtype"):
        dg.matmul(dg.ones(3, dtype=dg.int64), dg.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"Linear: mat1 and mat2 .* same dtype.*float\(\)"):
        dg.nn.Linear(3, 4)(a64)
    with pytest.raises(RuntimeError, match="same dtype"):
        dg.nn.Linear(3, 4)(dg.ones(2, 3, dtype=dg.int64))
    with pytest.raises(RuntimeError, match="same dtype"):
        dg.nn.functional.linear(a64, w32)
    with pytest.raises(RuntimeError, match="conv2d.*input and weight must have the same dtype"):
        dg.nn.functional.conv2d(dg.randn(1, 1, 4, 4, dtype=dg.float64),
                                      dg.randn(2, 1, 3, 3))
    # the same dtypes still work, integers included
    assert (dg.ones(2, 3, dtype=dg.int64) @ dg.ones(3, 1, dtype=dg.int64)
            ).tolist() == [[3], [3]]


def test_flatten_of_a_0d_tensor_checks_its_dims():
    assert dg.ones(()).flatten().shape == (1,)
    assert dg.ones(()).flatten(0, -1).shape == (1,)
    with pytest.raises(IndexError, match="Dimension out of range"):
        dg.ones(()).flatten(1, -1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        dg.nn.Flatten()(dg.ones(()))


@pytest.mark.parametrize("call, message", [
    (lambda x: dg.gather(x, 1, dg.tensor([[-1, 0], [0, 1]])),
     "index -1 is out of bounds for dimension 1 with size 3"),
    (lambda x: dg.gather(x, 1, dg.tensor([[3, 0], [0, 1]])),
     "index 3 is out of bounds for dimension 1 with size 3"),
    (lambda x: dg.gather(x, 1, dg.zeros(3, 1, dtype=dg.int64)),
     "Size does not match at dimension 0 expected index [3, 1] to be no larger than self "
     "[2, 3] apart from dimension 1"),
    (lambda x: dg.index_select(x, 1, dg.tensor([-1])),
     "INDICES element is out of DATA bounds, id=-1 axis_dim=3"),
    (lambda x: x.index_select(0, dg.tensor([0, 2])),
     "INDICES element is out of DATA bounds, id=2 axis_dim=2"),
])
def test_gather_and_index_select_refuse_indices_out_of_range(call, message):
    # NumPy would read a negative index from the end: a silent wrong answer.
    with pytest.raises(RuntimeError) as info:
        call(dg.arange(6.0).reshape(2, 3))
    assert str(info.value) == message


def test_an_empty_dim_list_reduces_everything_as_in_pytorch():
    x = dg.arange(6.0).reshape(2, 3)
    # (PyTorch 2.13's values; any/all with dim=[] reduce nothing there, and here.)
    assert [x.sum(dim=[]).item(), x.mean(dim=[]).item(), x.amax(dim=[]).item()] == [15.0, 2.5, 5.0]
    assert round(x.std(dim=[]).item(), 4) == 1.8708 and x.var(dim=[]).item() == 3.5
    assert dg.any(x > 0, dim=[]).shape == (2, 3)
    with pytest.raises(RuntimeError, match="^dim 1 appears multiple times in the list of dims$"):
        x.sum(dim=(1, -1))
