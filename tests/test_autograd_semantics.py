"""The autograd rules of API.md, one group of tests per rule, with PyTorch's answers.

Every expected value here was checked against PyTorch 2.x (node names, gradients at kinks,
hook order, dtype promotion), so a difference is a distgrad bug, not a matter of taste.
"""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import distgrad as dg
from distgrad import autograd


def leaf(values, dtype=dg.float64):
    return dg.tensor(values, dtype=dtype, requires_grad=True)


def arr(t):
    return np.asarray(t.detach().numpy())


# ------------------------------------------------------------ requires_grad, is_leaf


class TestRequiresGrad:
    def test_user_tensors_are_leaves(self):
        x = leaf([1.0, 2.0])
        c = dg.tensor([1.0, 2.0])
        assert x.is_leaf and x.grad_fn is None and x.requires_grad
        assert c.is_leaf and not c.requires_grad

    def test_result_requires_grad_if_any_input_does(self):
        x, c = leaf([1.0, 2.0]), dg.tensor([3.0, 4.0], dtype=dg.float64)
        for y in (x * c, c * x, x + 1, 2 - x, c @ x, dg.cat([c, x]), dg.where(c > 3, x, c)):
            assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
        z = c * c
        assert not z.requires_grad and z.is_leaf and z.grad_fn is None

    def test_results_of_no_grad_are_leaves(self):
        x = leaf([1.0, 2.0])
        with dg.no_grad():
            y = x * 2
        assert not y.requires_grad and y.is_leaf and y.grad_fn is None

    def test_comparisons_and_integer_results_record_nothing(self):
        x = leaf([1.0, -2.0])
        for y in (x > 0, x == x, x.argmax(), x.max(0).indices):
            assert not y.requires_grad and y.grad_fn is None

    def test_requires_grad_(self):
        x = dg.tensor([1.0, 2.0])
        assert x.requires_grad_() is x and x.requires_grad
        x.requires_grad_(False)
        assert not x.requires_grad

    def test_requires_grad_false_on_non_leaf_is_refused(self):
        y = leaf([1.0]) * 2
        with pytest.raises(RuntimeError, match="detach"):
            y.requires_grad = False


# ------------------------------------------------------------------- grad_fn names

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
W = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.7]])
V = np.array([1.0, -2.0, 0.5])

NODE_NAMES = [
    # (expression, PyTorch 2.x's node name)
    (lambda x, w, v: x + x, "AddBackward0"),
    (lambda x, w, v: x + 1, "AddBackward0"),
    (lambda x, w, v: x - v, "SubBackward0"),
    (lambda x, w, v: 1 - x, "RsubBackward1"),
    (lambda x, w, v: x * v, "MulBackward0"),
    (lambda x, w, v: x * 2, "MulBackward0"),
    (lambda x, w, v: x / v, "DivBackward0"),
    (lambda x, w, v: x ** 2, "PowBackward0"),
    (lambda x, w, v: dg.pow(x, 3), "PowBackward0"),
    (lambda x, w, v: x.abs() ** v, "PowBackward1"),
    (lambda x, w, v: 2 ** x, "PowBackward2"),
    (lambda x, w, v: -x, "NegBackward0"),
    (lambda x, w, v: x.sum(), "SumBackward0"),
    (lambda x, w, v: x.sum(0), "SumBackward1"),
    (lambda x, w, v: dg.sum(x, (0, 1), keepdim=True), "SumBackward1"),
    (lambda x, w, v: x.mean(), "MeanBackward0"),
    (lambda x, w, v: x.mean(-1), "MeanBackward1"),
    (lambda x, w, v: x.mm(w), "MmBackward0"),
    (lambda x, w, v: x @ w, "MmBackward0"),
    (lambda x, w, v: dg.matmul(x, w), "MmBackward0"),
    (lambda x, w, v: x @ v, "MvBackward0"),
    (lambda x, w, v: v.dot(v), "DotBackward0"),
    (lambda x, w, v: v @ v, "DotBackward0"),
    (lambda x, w, v: dg.bmm(x[None], w[None]), "BmmBackward0"),
    (lambda x, w, v: x.exp(), "ExpBackward0"),
    (lambda x, w, v: x.abs().log(), "LogBackward0"),
    (lambda x, w, v: x.abs().sqrt(), "SqrtBackward0"),
    (lambda x, w, v: x.abs(), "AbsBackward0"),
    (lambda x, w, v: x.tanh(), "TanhBackward0"),
    (lambda x, w, v: dg.sigmoid(x), "SigmoidBackward0"),
    (lambda x, w, v: x.relu(), "ReluBackward0"),
    (lambda x, w, v: x.sin(), "SinBackward0"),
    (lambda x, w, v: x.cos(), "CosBackward0"),
    (lambda x, w, v: x.sign(), "SignBackward0"),
    (lambda x, w, v: x.clamp(0, 1), "ClampBackward1"),
    (lambda x, w, v: x.clamp(min=0), "ClampBackward1"),
    (lambda x, w, v: x.clamp(min=v), "ClampBackward0"),
    (lambda x, w, v: x.max(), "MaxBackward1"),
    (lambda x, w, v: x.max(0).values, "MaxBackward0"),
    (lambda x, w, v: x.min(), "MinBackward1"),
    (lambda x, w, v: x.min(dim=1)[0], "MinBackward0"),
    (lambda x, w, v: dg.maximum(x, v), "MaximumBackward0"),
    (lambda x, w, v: dg.minimum(x, v), "MinimumBackward0"),
    (lambda x, w, v: x.amax(0), "AmaxBackward0"),
    (lambda x, w, v: x.prod(), "ProdBackward0"),
    (lambda x, w, v: x.prod(1), "ProdBackward1"),
    (lambda x, w, v: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x, w, v: x.norm(dim=1), "LinalgVectorNormBackward0"),
    (lambda x, w, v: x.norm(1), "LinalgVectorNormBackward0"),
    (lambda x, w, v: x.norm(float("inf")), "LinalgVectorNormBackward0"),
    (lambda x, w, v: x.logsumexp(1), "LogsumexpBackward0"),
    (lambda x, w, v: x.reshape(6), "ViewBackward0"),
    (lambda x, w, v: x.view(3, 2), "ViewBackward0"),
    (lambda x, w, v: x.flatten(), "ViewBackward0"),
    (lambda x, w, v: x.transpose(0, 1), "TransposeBackward0"),
    (lambda x, w, v: x.permute(1, 0), "PermuteBackward0"),
    (lambda x, w, v: x.T, "PermuteBackward0"),
    (lambda x, w, v: x[None].squeeze(), "SqueezeBackward0"),
    (lambda x, w, v: x[None].squeeze(0), "SqueezeBackward1"),
    (lambda x, w, v: x.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda x, w, v: x[:1].expand(4, 3), "ExpandBackward0"),
    (lambda x, w, v: x.repeat(2, 1), "RepeatBackward0"),
    (lambda x, w, v: x[1:], "SliceBackward0"),
    (lambda x, w, v: x[0, 1:], "SliceBackward0"),
    (lambda x, w, v: x[0], "SelectBackward0"),
    (lambda x, w, v: x[1:, 0], "SelectBackward0"),
    (lambda x, w, v: x[[0, 0, 1]], "IndexBackward0"),
    (lambda x, w, v: x[x > 0], "IndexBackward0"),
    (lambda x, w, v: x.gather(1, dg.tensor([[0], [2]])), "GatherBackward0"),
    (lambda x, w, v: x.index_select(0, dg.tensor([1, 0])), "IndexSelectBackward0"),
    (lambda x, w, v: dg.cat([x, x]), "CatBackward0"),
    (lambda x, w, v: dg.stack([x, x]), "StackBackward0"),
    (lambda x, w, v: dg.where(x > 0, x, v), "WhereBackward0"),
    (lambda x, w, v: x.softmax(1), "SoftmaxBackward0"),
    (lambda x, w, v: dg.log_softmax(x, dim=0), "LogSoftmaxBackward0"),
    (lambda x, w, v: x.clone(), "CloneBackward0"),
    (lambda x, w, v: x.float(), "ToCopyBackward0"),
]


@pytest.mark.parametrize("expr, name", NODE_NAMES, ids=[n for _, n in NODE_NAMES])
def test_node_names(expr, name):
    x, w, v = leaf(X), leaf(W), leaf(V)
    y = expr(x, w, v)
    assert type(y.grad_fn).__name__ == name
    assert y.grad_fn.name() == name


def test_custom_function_node_name():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Twice.apply(leaf([1.0]))
    assert type(y.grad_fn).__name__ == "TwiceBackward"
    assert y.grad_fn.name() == "TwiceBackward"


class TestNextFunctions:
    def test_leaves_are_accumulate_grad_nodes(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        y = x * w
        (a, a_nr), (b, b_nr) = y.grad_fn.next_functions
        assert type(a).__name__ == type(b).__name__ == "AccumulateGrad"
        assert a.variable is x and b.variable is w
        assert a_nr == b_nr == 0

    def test_constant_input_is_none(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        assert len(y.grad_fn.next_functions) == 2
        assert y.grad_fn.next_functions[1] == (None, 0)
        z = dg.tensor([1.0, 2.0], dtype=dg.float64) + x
        assert z.grad_fn.next_functions[0] == (None, 0)

    def test_chain_points_at_the_parent_node(self):
        x = leaf([1.0, 2.0])
        h = x * 2
        y = h.exp()
        ((parent, nr),) = y.grad_fn.next_functions
        assert parent is h.grad_fn and nr == 0
        assert parent.next_functions[0][0].variable is x

    def test_same_leaf_same_accumulator(self):
        x = leaf([1.0, 2.0])
        y = x * x
        assert y.grad_fn.next_functions[0][0] is y.grad_fn.next_functions[1][0]

    def test_multi_output_edges_carry_the_output_number(self):
        class Two(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        a, b = Two.apply(leaf([1.0]))
        y = b + a
        assert y.grad_fn.next_functions == ((b.grad_fn, 1), (a.grad_fn, 0))


# ------------------------------------------------------------------ accumulation


class TestAccumulation:
    def test_two_backwards_accumulate_until_zeroed(self):
        x = leaf([1.0, 2.0])
        (x * x).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [2.0, 4.0])
        (x * x).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [4.0, 8.0])
        x.grad.zero_()
        (x * 3).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])
        x.grad = None
        (x * 5).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [5.0, 5.0])

    def test_grad_has_the_leaf_shape_and_dtype(self):
        x = dg.randn(2, 3, requires_grad=True)
        (x.double() * dg.ones(3, dtype=dg.float64)).sum().backward()
        assert x.grad.shape == (2, 3) and x.grad.dtype == dg.float32
        assert not x.grad.requires_grad

    def test_first_grads_do_not_alias_each_other(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        (x + w).sum().backward()
        assert not np.shares_memory(x.grad.numpy(), w.grad.numpy())
        x.grad.add_(10.0)
        np.testing.assert_allclose(arr(w.grad), [1.0, 1.0])

    def test_grads_of_broadcast_and_views_are_writable_and_own_memory(self):
        x, w = leaf([[1.0, 2.0]]), leaf(3.0)
        y = (x.expand(3, 2) + w).reshape(6)
        y.sum().backward()
        x.grad.add_(1.0)
        w.grad.add_(1.0)
        np.testing.assert_allclose(arr(x.grad), [[4.0, 4.0]])
        np.testing.assert_allclose(arr(w.grad), 7.0)

    def test_backward_on_a_leaf_does_not_alias_the_gradient(self):
        x = leaf([1.0, 2.0])
        v = dg.tensor([0.5, 0.25], dtype=dg.float64)
        x.backward(v)
        v.mul_(100.0)
        np.testing.assert_allclose(arr(x.grad), [0.5, 0.25])
        assert not np.shares_memory(x.grad.numpy(), v.numpy())

    def test_gradient_argument_is_not_aliased_through_a_view(self):
        x = leaf([[1.0, 2.0], [3.0, 4.0]])
        v = np.ones(4)
        x.reshape(4).backward(v)
        v[:] = 7.0
        np.testing.assert_allclose(arr(x.grad), np.ones((2, 2)))

    def test_grad_through_a_transpose_is_row_major_and_exact(self):
        # W.T's backward hands W a view of a fresh array: stored without a copy, row-major.
        x, w = dg.randn(4, 3), dg.randn(5, 3, requires_grad=True)
        (x @ w.T).sum().backward()
        assert w.grad.numpy().flags.c_contiguous
        np.testing.assert_allclose(arr(w.grad), np.ones((5, 4)) @ arr(x), rtol=1e-6)

    def test_views_of_one_gradient_are_copied_for_each_leaf(self):
        a, b = leaf([1.0, 2.0]), leaf([3.0])
        dg.cat([a, b]).backward(dg.tensor([4.0, 5.0, 6.0]))
        assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
        a.grad.add_(1.0)
        np.testing.assert_allclose(arr(b.grad), [6.0])
        np.testing.assert_allclose(arr(a.grad), [5.0, 6.0])

    def test_retained_grad_and_leaf_grad_are_distinct(self):
        x = leaf([1.0, 2.0])
        y = x * 1
        y.retain_grad()
        y.sum().backward()
        assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())

    def test_several_paths_into_one_tensor_sum(self):
        x = leaf([0.5, -1.0])
        h = x * 3
        out = (h + h.tanh() + h * h).sum()  # a residual connection and a square
        out.backward()
        hv = 3 * np.array([0.5, -1.0])
        expected = 3 * (1 + (1 - np.tanh(hv) ** 2) + 2 * hv)
        np.testing.assert_allclose(arr(x.grad), expected)

    def test_leaf_used_twice_in_one_op(self):
        x = leaf([2.0, 3.0])
        (x * x).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [4.0, 6.0])


# ------------------------------------------------------------------- retain_graph


class TestRetainGraph:
    def test_retain_graph_allows_a_second_backward(self):
        x = leaf([1.0, 2.0])
        y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(arr(x.grad), 2 * np.exp([1.0, 2.0]))

    def test_third_backward_after_freeing_names_retain_graph(self):
        x = leaf([1.0, 2.0])
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.backward()

    def test_autograd_grad_frees_too(self):
        x = leaf([1.0, 2.0])
        y = x.tanh().sum()
        autograd.grad(y, x)
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            autograd.grad(y, x)

    def test_create_graph_retains_by_default(self):
        x = leaf([1.0, 2.0])
        y = (x ** 3).sum()
        autograd.grad(y, x, create_graph=True)
        (g,) = autograd.grad(y, x)
        np.testing.assert_allclose(arr(g), [3.0, 12.0])


# ------------------------------------------------------------------ deep graphs


def test_deep_chain_backward_has_no_recursion_limit():
    n = 100_000
    x = leaf([1.0])
    start = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0
    y.sum().backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(arr(x.grad), [1.0])
    del y
    gc.collect()
    assert elapsed < 30, f"a {n}-op chain took {elapsed:.1f}s"


def test_deep_chain_with_retain_and_autograd_grad():
    x = leaf([2.0])
    y = x
    for _ in range(20_000):
        y = y + x
    (g,) = autograd.grad(y.sum(), x)
    np.testing.assert_allclose(arr(g), [20_001.0])


def test_backward_order_is_deterministic():
    def run():
        order = []
        x = leaf([0.1, 0.2])
        a, b = x * 2, x.exp()
        c, d = a.tanh(), b * a
        out = (c + d + a.sin()).sum()
        for name, t in [("a", a), ("b", b), ("c", c), ("d", d)]:
            t.register_hook(lambda g, name=name: order.append(name))
        out.backward()
        return order

    first = run()
    assert sorted(first) == ["a", "b", "c", "d"]
    for _ in range(5):
        assert run() == first


def test_a_node_runs_after_all_its_consumers():
    seen = []
    x = leaf([0.3])
    h = x * 2
    h.register_hook(lambda g: seen.append(("h", float(g.sum()))))
    y = h.exp()
    y.register_hook(lambda g: seen.append(("y", float(g.sum()))))
    z = (y + h * 3).sum()
    z.backward()
    assert [name for name, _ in seen] == ["y", "h"]
    assert seen[1][1] == pytest.approx(np.exp(0.6) + 3)


# ----------------------------------------------------------- detach, detach_, .data


class TestDetach:
    def test_detach_shares_storage_outside_the_graph(self):
        x = leaf([1.0, 2.0])
        d = x.detach()
        assert d.is_leaf and not d.requires_grad and d.grad_fn is None
        d[0] = 5.0
        assert x.tolist() == [5.0, 2.0]

    def test_detach_shares_the_version_counter(self):
        x = leaf([1.0, 2.0])
        y = (x * x).sum()  # saves x
        x.detach().mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()

    def test_detach_stops_the_gradient(self):
        x = leaf([1.0, 2.0])
        y = (x * x.detach()).sum()
        y.backward()
        np.testing.assert_allclose(arr(x.grad), [1.0, 2.0])

    def test_detach_in_place(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        assert y.detach_() is y
        assert y.is_leaf and not y.requires_grad and y.grad_fn is None

    def test_data_changes_are_not_tracked(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        y = (x * w).sum()  # saves x and w
        x.data.mul_(10.0)
        y.backward()  # no version error: .data is outside autograd
        np.testing.assert_allclose(arr(w.grad), [10.0, 20.0])
        assert x.tolist() == [10.0, 20.0]

    def test_data_is_a_tensor_without_grad(self):
        x = leaf([1.0, 2.0])
        d = x.data
        assert isinstance(d, dg.Tensor) and not d.requires_grad and d.is_leaf

    def test_assigning_data(self):
        x = leaf([1.0, 2.0])
        x.data = dg.tensor([7.0, 8.0], dtype=dg.float64)
        assert x.tolist() == [7.0, 8.0] and x.requires_grad and x.is_leaf
        (x * x).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [14.0, 16.0])


# ------------------------------------------------------------ in place and views


class TestInPlaceOnViews:
    """In place through a view updates its base's history (PyTorch's CopySlices), and a view
    made before its base changed in place follows the base's new history."""

    def test_augmented_assignment_on_a_slice(self):
        x = leaf([1.0, 2.0, 3.0])
        h = x * 1
        h[1:] *= 2
        h.sum().backward()
        assert arr(x.grad).tolist() == [1.0, 2.0, 2.0]

    def test_zeroing_a_column(self):
        x = leaf([[1.0, 2.0], [3.0, 4.0]])
        h = x * 1
        h[:, 0].zero_()
        assert h.tolist() == [[0.0, 2.0], [0.0, 4.0]]
        h.sum().backward()
        assert arr(x.grad).tolist() == [[0.0, 1.0], [0.0, 1.0]]

    def test_copy_into_a_view_of_a_constant(self):
        x = leaf([1.0, 2.0])
        h = dg.zeros(3, dtype=dg.float64)
        h[1:].copy_(x)
        assert h.requires_grad and not h.is_leaf
        (h * dg.tensor([1.0, 2.0, 3.0], dtype=dg.float64)).sum().backward()
        assert arr(x.grad).tolist() == [2.0, 3.0]

    def test_view_taken_before_setitem_on_its_base(self):
        x = leaf([1.0, 2.0, 3.0])
        h = x * 1
        v = h[0:2]
        h[0] = 5.0
        assert v.tolist() == [5.0, 2.0]
        v.sum().backward()
        assert arr(x.grad).tolist() == [0.0, 1.0, 0.0]

    def test_view_taken_before_mul_on_its_base(self):
        x = leaf([1.0, 2.0, 3.0])
        h = x * 1
        v = h.view(3)
        h.mul_(2)
        (v * 1).sum().backward()
        assert arr(x.grad).tolist() == [2.0, 2.0, 2.0]

    def test_integer_index_is_a_view_too(self):
        x = leaf([1.0, 2.0, 3.0])
        h = x * 1
        v = h[0]
        h[0] = 5.0
        assert v.item() == 5.0
        v.backward()
        assert arr(x.grad).tolist() == [0.0, 0.0, 0.0]

    def test_transpose_is_a_view_that_follows_its_base(self):
        # ``.T`` records through the unary fast path: it must still be a view.
        x = leaf([[1.0, 2.0], [3.0, 4.0]])
        h = x * 1
        t = h.T
        assert t._base is h and t._version == h._version
        h.mul_(3)  # in place on the base: t sees the values and the new history
        assert t.tolist() == [[3.0, 9.0], [6.0, 12.0]]
        (t * dg.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=dg.float64)).sum().backward()
        assert arr(x.grad).tolist() == [[3.0, 0.0], [0.0, 0.0]]
        # In place through the transpose changes its base.
        y = leaf([[1.0, 2.0], [3.0, 4.0]]) * 1
        y.T[0, 1] = 7.0
        assert y.tolist() == [[1.0, 2.0], [7.0, 4.0]]
        # A 3-D .T reverses every dim, and its node is PyTorch's.
        z = leaf(np.arange(24.0).reshape(2, 3, 4))
        assert z.T.shape == (4, 3, 2) and z.T.grad_fn.name() == "PermuteBackward0"
        assert autograd.gradcheck(lambda a: (a.T * a.T).sum(), (z,))

    def test_diagonal_is_a_writable_view(self):
        x = leaf(np.arange(12.0).reshape(3, 4))
        h = x * 1
        d = h.diagonal(1)
        assert d._base is h and np.shares_memory(d._data, h._data)
        d.mul_(10)  # PyTorch 2.13 gives the same values and gradients
        assert h.tolist() == [[0.0, 10.0, 2.0, 3.0], [4.0, 5.0, 60.0, 7.0], [8.0, 9.0, 10.0, 110.0]]
        h.sum().backward()
        assert arr(x.grad).tolist() == [[1.0, 10.0, 1.0, 1.0], [1.0, 1.0, 10.0, 1.0],
                                        [1.0, 1.0, 1.0, 10.0]]
        y = dg.arange(24.0).reshape(2, 3, 4)
        assert y.diagonal(-1, 2, 0).tolist() == [[1.0, 14.0], [5.0, 18.0], [9.0, 22.0]]
        z = leaf(np.random.default_rng(0).standard_normal((2, 3, 4)))
        assert autograd.gradcheck(lambda a: a.diagonal(1, 2, 0).sin().sum(), (z,))
        assert autograd.gradgradcheck(lambda a: (a.diagonal(-1, 1, 2) ** 2).sum(), (z,))

    def test_saved_value_changed_through_a_view_is_detected(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = h.log().sum()
        h[1:].mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


# ---------------------------------------------------------------------- grad modes


class TestGradModes:
    def test_no_grad_context(self):
        x = leaf([1.0])
        with dg.no_grad():
            assert not dg.is_grad_enabled()
            y = x * 2
        assert dg.is_grad_enabled()
        assert not y.requires_grad

    def test_enable_grad_inside_no_grad(self):
        x = leaf([1.0])
        with dg.no_grad():
            with dg.enable_grad():
                y = x * 2
            z = x * 2
        assert y.requires_grad and not z.requires_grad

    def test_decorators(self):
        x = leaf([1.0])

        @dg.no_grad()
        def off(t):
            """Doc."""
            return t * 2

        @dg.no_grad
        def off_bare(t):
            return t * 2

        @dg.enable_grad()
        def on(t):
            return t * 2

        assert not off(x).requires_grad and not off_bare(x).requires_grad
        assert off.__name__ == "off" and off.__doc__ == "Doc."
        with dg.no_grad():
            assert on(x).requires_grad
        assert dg.is_grad_enabled()

    def test_decorator_restores_on_exception(self):
        @dg.no_grad()
        def boom():
            raise ValueError("boom")

        with pytest.raises(ValueError):
            boom()
        assert dg.is_grad_enabled()

    def test_set_grad_enabled_plain_call(self):
        x = leaf([1.0])
        try:
            dg.set_grad_enabled(False)
            assert not dg.is_grad_enabled()
            assert not (x * 2).requires_grad
        finally:
            dg.set_grad_enabled(True)
        assert dg.is_grad_enabled() and (x * 2).requires_grad

    def test_set_grad_enabled_context_and_decorator(self):
        x = leaf([1.0])
        with dg.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert dg.is_grad_enabled()
        with dg.no_grad(), dg.set_grad_enabled(True):
            assert (x * 2).requires_grad

        @dg.set_grad_enabled(False)
        def off(t):
            return t * 2

        assert dg.is_grad_enabled()  # decorating switches nothing
        assert not off(x).requires_grad
        assert dg.is_grad_enabled()

    def test_autograd_namespace_has_the_same_switches(self):
        assert autograd.no_grad is dg.no_grad
        assert autograd.enable_grad is dg.enable_grad
        assert autograd.set_grad_enabled is dg.set_grad_enabled

    def test_grad_mode_is_thread_local(self):
        x = leaf([1.0])
        seen = {}

        def worker():
            seen["enabled"] = dg.is_grad_enabled()
            seen["records"] = (x * 2).requires_grad

        with dg.no_grad():
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            assert not (x * 2).requires_grad
        assert seen == {"enabled": True, "records": True}

    def test_no_grad_in_a_thread_leaves_the_main_thread_alone(self):
        entered, release = threading.Event(), threading.Event()

        def worker():
            with dg.no_grad():
                entered.set()
                release.wait(5)

        thread = threading.Thread(target=worker)
        thread.start()
        entered.wait(5)
        try:
            assert dg.is_grad_enabled()
            assert (leaf([1.0]) * 2).requires_grad
        finally:
            release.set()
            thread.join()

    def test_inference_mode(self):
        x = leaf([1.0])
        with dg.inference_mode():
            y = x * 2
        assert not y.requires_grad and dg.is_grad_enabled()

        @dg.inference_mode()
        def f(t):
            return t * 2

        @dg.inference_mode
        def g(t):
            return t * 2

        assert not f(x).requires_grad and not g(x).requires_grad
        with dg.no_grad(), dg.inference_mode(False):
            assert (x * 2).requires_grad


# ------------------------------------------------------------------------- hooks


class TestTensorHooks:
    def test_leaf_hook_replaces_the_gradient(self):
        x = leaf([1.0, 2.0])
        x.register_hook(lambda g: g * 3)
        (x * 2).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [6.0, 6.0])

    def test_non_leaf_hook_replaces_the_gradient_flowing_on(self):
        x = leaf([1.0, 2.0])
        y = x * 3
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        np.testing.assert_allclose(arr(x.grad), [6.0, 6.0])

    def test_hook_returning_none_only_observes(self):
        x = leaf([1.0, 2.0])
        seen = []
        y = x * 3
        y.register_hook(lambda g: seen.append(arr(g).copy()))
        y.sum().backward()
        np.testing.assert_allclose(seen[0], [1.0, 1.0])
        np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])

    def test_hooks_chain_in_registration_order(self):
        x = leaf([1.0])
        x.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: g * 10)
        (x * 1).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [20.0])

    def test_handle_remove(self):
        x = leaf([1.0, 2.0])
        calls = []
        handle = x.register_hook(lambda g: calls.append(1))
        y = x * 2
        h2 = y.register_hook(lambda g: g * 0)
        handle.remove()
        h2.remove()
        y.sum().backward()
        assert calls == []
        np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])

    def test_non_leaf_hook_fires_once_with_the_summed_gradient(self):
        x = leaf([1.0, 2.0])
        calls = []
        y = x * 2
        y.register_hook(lambda g: calls.append(arr(g).tolist()))
        (y * y + y).sum().backward()
        assert calls == [[5.0, 9.0]]
        np.testing.assert_allclose(arr(x.grad), [10.0, 18.0])

    def test_leaf_hook_sees_the_summed_gradient(self):
        x = leaf([1.0, 2.0])
        x.register_hook(lambda g: g * 0 + 1)
        (x * 3 + x * 4).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [1.0, 1.0])

    def test_autograd_grad_applies_leaf_hooks(self):
        x = leaf([1.0])
        x.register_hook(lambda g: g * 10)
        (g,) = autograd.grad((x * 2).sum(), x)
        np.testing.assert_allclose(arr(g), [20.0])
        assert x.grad is None

    def test_hook_on_tensor_without_grad_is_refused(self):
        with pytest.raises(RuntimeError, match="requires? grad"):
            dg.tensor([1.0]).register_hook(lambda g: g)


class TestRetainGrad:
    def test_non_leaf_grad_only_when_retained(self):
        x = leaf([1.0, 2.0])
        y = x * 2
        z = x * 3
        y.retain_grad()
        (y * z).sum().backward()
        assert y.retains_grad and not z.retains_grad
        np.testing.assert_allclose(arr(y.grad), [3.0, 6.0])
        assert z.grad is None

    def test_retained_grad_accumulates(self):
        x = leaf([1.0])
        y = x * 2
        y.retain_grad()
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        np.testing.assert_allclose(arr(y.grad), [2.0])

    def test_retained_grad_sees_hook_changes(self):
        # PyTorch runs the retain_grad hook after the tensor's other hooks, whatever the order.
        for retain_first in (True, False):
            x = leaf([1.0, 1.0])
            y = x * 2
            if retain_first:
                y.retain_grad()
            y.register_hook(lambda g: g * 10)
            if not retain_first:
                y.retain_grad()
            y.sum().backward()
            np.testing.assert_allclose(arr(y.grad), [10.0, 10.0])
            np.testing.assert_allclose(arr(x.grad), [20.0, 20.0])

    def test_retain_grad_on_leaf_is_a_no_op(self):
        x = leaf([1.0])
        x.retain_grad()
        (x * 2).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [2.0])


@pytest.fixture
def node_counter():
    """Count the nodes the engine runs, through a progress hook."""
    count = [0]

    def tick():
        count[0] += 1

    handle = autograd.register_progress_hook(tick)
    yield count
    handle.remove()


class TestPostAccumulateGradHooks:
    def _graph(self):
        a, b = leaf([0.5, -0.5]), leaf([0.2, 0.1])
        h = b
        for _ in range(6):
            h = h.tanh()
        loss = (h * a).sum() + (a * a).sum()  # a's gradient is final long before b's
        return a, b, loss

    def test_fires_once_per_backward_when_the_leaf_is_final(self, node_counter):
        a, b, loss = self._graph()
        events = []

        def hook(name):
            def fn(t):
                events.append((name, node_counter[0], arr(t.grad).copy(), b.grad is None))
            return fn

        a.register_post_accumulate_grad_hook(hook("a"))
        b.register_post_accumulate_grad_hook(hook("b"))
        loss.backward()
        total = node_counter[0]
        assert [e[0] for e in events] == ["a", "b"]
        (_, a_at, a_grad, b_pending), (_, b_at, b_grad, _) = events
        # Like PyTorch, whose AccumulateGrad nodes run as soon as they are ready: a's hook fires
        # once the 5 nodes above a (add, 2 sums, 2 muls) have run, before the tanh chain.
        assert b_pending and a_at == 5
        assert b_at == total - 1  # b's accumulation is the last node
        np.testing.assert_allclose(a_grad, arr(a.grad))
        np.testing.assert_allclose(b_grad, arr(b.grad))

    def test_fires_again_on_the_next_backward_with_the_accumulated_grad(self):
        x = leaf([1.0])
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(arr(t.grad).item()))
        for _ in range(2):
            (x * 3).sum().backward()
        assert seen == [3.0, 6.0]

    def test_handle_remove(self):
        x = leaf([1.0])
        seen = []
        handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(1))
        handle.remove()
        (x * 3).sum().backward()
        assert seen == []

    def test_only_on_leaves(self):
        y = leaf([1.0]) * 2
        with pytest.raises(RuntimeError, match="leaf"):
            y.register_post_accumulate_grad_hook(lambda t: None)

    def test_hook_may_modify_grad_in_place(self):
        def halve(t):
            t.grad.mul_(0.5)

        x = leaf([1.0, 2.0])
        x.register_post_accumulate_grad_hook(halve)
        (x * 4).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])

    def test_hook_returning_a_value_is_an_error(self):
        x = leaf([1.0, 2.0])
        x.register_post_accumulate_grad_hook(lambda t: t.grad.mul_(0.5))
        with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
            (x * 4).sum().backward()


class TestQueueCallback:
    def test_runs_once_at_the_end_after_all_post_accumulate_hooks(self, node_counter):
        a, b = leaf([0.5]), leaf([0.2])
        h = b
        for _ in range(4):
            h = h.exp()
        loss = (h * a).sum()
        events = []

        def post(name):
            def fn(t):
                events.append(name)
                if name == "a":
                    autograd.queue_callback(lambda: events.append(("callback", node_counter[0])))
            return fn

        a.register_post_accumulate_grad_hook(post("a"))
        b.register_post_accumulate_grad_hook(post("b"))
        loss.backward()
        assert events[:2] == ["a", "b"]
        assert events[2] == ("callback", node_counter[0])
        assert len(events) == 3
        # The next backward starts with no callback queued: only the one a's hook queues.
        events.clear()
        (a * 2).sum().backward()
        assert events == ["a", ("callback", node_counter[0])]

    def test_callbacks_run_in_queue_order(self):
        x = leaf([1.0])
        order = []

        def hook(g):
            autograd.queue_callback(lambda: order.append(1))
            autograd.queue_callback(lambda: order.append(2))

        x.register_hook(hook)
        (x * 2).sum().backward()
        assert order == [1, 2]

    def test_raises_outside_backward(self):
        with pytest.raises(RuntimeError, match="backward"):
            autograd.queue_callback(lambda: None)


# ------------------------------------------------------------ higher derivatives


class TestCreateGraph:
    def test_cube_second_derivative(self):
        x = leaf([1.0, -2.0, 0.5])
        (g,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
        np.testing.assert_allclose(arr(g), 3 * arr(x) ** 2)
        (gg,) = autograd.grad(g.sum(), x)
        np.testing.assert_allclose(arr(gg), 6 * arr(x))

    def test_backward_create_graph_then_backward_again(self):
        x = leaf([1.0, -2.0])
        (x ** 3).sum().backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        g = x.grad
        x.grad = None
        g.sum().backward()
        np.testing.assert_allclose(arr(x.grad), [6.0, -12.0])

    def test_tanh_second_derivative(self):
        values = np.array([-1.0, 0.3, 2.0])
        x = leaf(values)
        (g,) = autograd.grad(x.tanh().sum(), x, create_graph=True)
        (gg,) = autograd.grad(g.sum(), x)
        t = np.tanh(values)
        np.testing.assert_allclose(arr(gg), -2 * t * (1 - t ** 2))

    def test_hessian_vector_product(self):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((3, 3))
        values, v = rng.standard_normal(3), rng.standard_normal(3)
        x = leaf(values)
        A = dg.tensor(a)
        f = 0.5 * (x @ (A @ x)) + x.sin().sum()
        (g,) = autograd.grad(f, x, create_graph=True)
        (hv,) = autograd.grad(g, x, grad_outputs=dg.tensor(v))
        hessian = 0.5 * (a + a.T) + np.diag(-np.sin(values))
        np.testing.assert_allclose(arr(hv), hessian @ v)

    def test_without_create_graph_nothing_is_recorded(self):
        x = leaf([1.0, 2.0])
        (x ** 3).sum().backward()
        assert x.grad.grad_fn is None and not x.grad.requires_grad
        (g,) = autograd.grad((x ** 3).sum(), x)
        assert g.grad_fn is None and not g.requires_grad

    def test_third_derivative(self):
        x = leaf([0.7])
        (g,) = autograd.grad(x.exp().sin().sum(), x, create_graph=True)
        (gg,) = autograd.grad(g.sum(), x, create_graph=True)
        (ggg,) = autograd.grad(gg.sum(), x)
        e = np.exp(0.7)
        expected = (e * np.cos(e) - 3 * e ** 2 * np.sin(e) - e ** 3 * np.cos(e))
        np.testing.assert_allclose(arr(ggg), [expected])


# ------------------------------------------------------------------ autograd.grad


class TestAutogradGrad:
    def test_returns_a_tuple_and_leaves_grad_untouched(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        w.grad = dg.tensor([1.0, 1.0], dtype=dg.float64)
        gx, gw = autograd.grad((x * w).sum(), [x, w])
        np.testing.assert_allclose(arr(gx), [3.0, 4.0])
        np.testing.assert_allclose(arr(gw), [1.0, 2.0])
        assert x.grad is None
        np.testing.assert_allclose(arr(w.grad), [1.0, 1.0])

    def test_single_input_gives_a_one_tuple(self):
        x = leaf([1.0])
        result = autograd.grad((x * 2).sum(), x)
        assert isinstance(result, tuple) and len(result) == 1

    def test_multiple_outputs_with_grad_outputs(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        y1, y2 = x * w, x + w
        g1 = dg.tensor([1.0, 10.0], dtype=dg.float64)
        g2 = dg.tensor([100.0, 1000.0], dtype=dg.float64)
        gx, gw = autograd.grad([y1, y2], [x, w], grad_outputs=[g1, g2])
        np.testing.assert_allclose(arr(gx), [3.0 + 100.0, 40.0 + 1000.0])
        np.testing.assert_allclose(arr(gw), [1.0 + 100.0, 20.0 + 1000.0])

    def test_non_scalar_output_needs_grad_outputs(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="scalar outputs"):
            autograd.grad(x * 2, x)
        (g,) = autograd.grad(x * 2, x, grad_outputs=dg.ones(2, dtype=dg.float64))
        np.testing.assert_allclose(arr(g), [2.0, 2.0])

    def test_unused_input(self):
        x, unused = leaf([1.0]), leaf([2.0])
        y = (x * 2).sum()
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            autograd.grad(y, [x, unused], retain_graph=True)
        gx, gu = autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
        assert gu is None
        np.testing.assert_allclose(arr(gx), [2.0])
        gx, gu = autograd.grad(y, [x, unused], materialize_grads=True)
        np.testing.assert_allclose(arr(gu), [0.0])

    def test_with_respect_to_an_intermediate(self):
        x = leaf([1.0, 2.0])
        h = x * 3
        y = (h * h).sum()
        (gh,) = autograd.grad(y, h)
        np.testing.assert_allclose(arr(gh), [6.0, 12.0])
        assert x.grad is None

    def test_autograd_backward_function(self):
        x = leaf([1.0, 2.0])
        y1, y2 = x * 2, (x * x).sum()
        autograd.backward([y1, y2], [dg.tensor([1.0, 1.0], dtype=dg.float64), None])
        np.testing.assert_allclose(arr(x.grad), [2.0 + 2.0, 2.0 + 4.0])

    def test_does_not_run_hooks_of_other_leaves_accumulation(self):
        x, w = leaf([1.0]), leaf([2.0])
        seen = []
        w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
        autograd.grad((x * w).sum(), x)
        assert seen == [] and w.grad is None


class TestBackwardInputs:
    def test_only_the_inputs_accumulate(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        (x * w).sum().backward(inputs=[x])
        np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])
        assert w.grad is None

    def test_single_tensor_and_non_leaf_inputs(self):
        x = leaf([1.0, 2.0])
        h = x * 2
        (h * h).sum().backward(inputs=h)
        np.testing.assert_allclose(arr(h.grad), [4.0, 8.0])
        assert x.grad is None

    def test_empty_inputs_are_refused(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError, match="cannot be empty"):
            (x * 2).sum().backward(inputs=[])


# ---------------------------------------------------------------- custom Function


class Exp(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Cube(autograd.Function):
    """Its backward uses distgrad ops on the saved input, so it can be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class TestCustomFunction:
    def test_save_for_backward_and_gradient(self):
        x = leaf([0.5, -1.0])
        y = Exp.apply(x)
        assert y.requires_grad and type(y.grad_fn).__name__ == "ExpBackward"
        y.sum().backward()
        np.testing.assert_allclose(arr(x.grad), np.exp([0.5, -1.0]))

    def test_forward_records_nothing_inside(self):
        inner = {}

        class Probe(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                z = x * 2
                inner["grad_fn"] = z.grad_fn
                inner["enabled"] = dg.is_grad_enabled()
                return z

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        y = Probe.apply(leaf([1.0]))
        assert inner == {"grad_fn": None, "enabled": False}
        assert y.grad_fn is not None

    def test_needs_input_grad_and_non_tensor_arguments(self):
        seen = {}

        class Scale(autograd.Function):
            @staticmethod
            def forward(ctx, x, c, factor):
                ctx.factor = factor
                seen["needs"] = ctx.needs_input_grad
                return x * c * factor

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.factor, None, None

        x = leaf([1.0, 2.0])
        c = dg.tensor([3.0, 3.0], dtype=dg.float64)
        Scale.apply(x, c, 2.0).sum().backward()
        assert seen["needs"] == (True, False, False)
        np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])

    def test_mark_non_differentiable_and_multiple_outputs(self):
        class SortDesc(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                order = np.argsort(-x.detach().numpy())
                ctx.order = order
                idx = dg.tensor(order.astype(np.float64))
                ctx.mark_non_differentiable(idx)
                return x[dg.tensor(order)], idx

            @staticmethod
            def backward(ctx, grad_values, grad_idx):
                out = np.zeros(grad_values.shape)
                out[ctx.order] = grad_values.numpy()
                return dg.tensor(out)

        x = leaf([1.0, 3.0, 2.0])
        values, idx = SortDesc.apply(x)
        assert values.requires_grad and not idx.requires_grad
        (values * dg.tensor([1.0, 10.0, 100.0], dtype=dg.float64)).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [100.0, 1.0, 10.0])

    def test_both_outputs_contribute(self):
        class SplitTwo(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        x = leaf([1.0])
        a, b = SplitTwo.apply(x)
        assert a.grad_fn is b.grad_fn
        (a + b * b).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [2.0 + 3 * 2 * 3.0])

    def test_unused_output_gets_zero_gradient(self):
        seen = {}

        class SplitTwo(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                seen["gb"] = arr(gb).copy()
                return ga * 2 + gb * 3

        x = leaf([1.0, 2.0])
        a, _ = SplitTwo.apply(x)
        a.sum().backward()
        np.testing.assert_allclose(seen["gb"], [0.0, 0.0])
        np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])

    def test_wrong_number_of_gradients(self):
        class TooMany(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return grad, grad

        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            TooMany.apply(leaf([1.0])).sum().backward()

    def test_wrong_gradient_shape(self):
        class BadShape(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return dg.ones(3, dtype=dg.float64)

        with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
            BadShape.apply(leaf([1.0, 2.0])).sum().backward()

    def test_double_backward_through_function(self):
        x = leaf([1.0, -2.0])
        (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        np.testing.assert_allclose(arr(g), [3.0, 12.0])
        (gg,) = autograd.grad(g.sum(), x)
        np.testing.assert_allclose(arr(gg), [6.0, -12.0])

    def test_gradcheck_of_function(self):
        x = leaf([0.3, -0.8, 1.1])
        assert autograd.gradcheck(Exp.apply, (x,))
        assert autograd.gradgradcheck(Cube.apply, (x,))

    def test_under_no_grad_nothing_is_recorded(self):
        with dg.no_grad():
            y = Exp.apply(leaf([1.0]))
        assert y.grad_fn is None and not y.requires_grad

    def test_saved_tensor_modified_in_place_is_detected(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = Cube.apply(h)
        h.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()

    def test_saved_tensors_freed_after_backward(self):
        x = leaf([1.0])
        y = Exp.apply(x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.backward()


def test_variable_legacy_api():
    v = autograd.Variable(dg.tensor([1.0, 2.0]), requires_grad=True)
    assert isinstance(v, dg.Tensor) and v.requires_grad and v.is_leaf
    (v * v).sum().backward()
    np.testing.assert_allclose(arr(v.grad), [2.0, 4.0])
    w = autograd.Variable(np.array([3.0]))
    assert isinstance(w, dg.Tensor) and not w.requires_grad
    assert isinstance(v.data, dg.Tensor)


# -------------------------------------------------------------- anomaly detection


@pytest.mark.filterwarnings("ignore:(invalid value|divide by zero):RuntimeWarning")
class TestDetectAnomaly:
    def test_names_the_op_that_made_nan_and_its_forward_line(self):
        x = dg.tensor([0.0, 1.0], requires_grad=True)
        with autograd.detect_anomaly():
            y = (x.sqrt() * 0).sum()  # d sqrt at 0 is inf; times 0 gives nan
            with pytest.raises(RuntimeError, match="SqrtBackward0.*nan") as info:
                y.backward()
        message = str(info.value)
        assert "test_names_the_op_that_made_nan_and_its_forward_line" in message
        assert "x.sqrt()" in message

    def test_inf_is_reported_too(self):
        x = dg.tensor([0.0, 1.0], requires_grad=True)
        with autograd.detect_anomaly():
            y = x.sqrt().sum()
            with pytest.raises(RuntimeError, match="SqrtBackward0.*inf"):
                y.backward()

    def test_log_of_zero_times_zero(self):
        x = dg.tensor([0.0, 2.0], requires_grad=True)
        with autograd.detect_anomaly():
            y = (x.log() * 0).sum()
            with pytest.raises(RuntimeError, match="LogBackward0"):
                y.backward()

    def test_off_by_default_and_restored(self):
        assert not autograd.is_anomaly_enabled()
        with autograd.detect_anomaly():
            assert autograd.is_anomaly_enabled()
        assert not autograd.is_anomaly_enabled()
        x = dg.tensor([0.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()  # no check outside the mode
        assert np.isnan(x.grad.numpy()).all()

    def test_set_detect_anomaly_plain_call_and_decorator(self):
        try:
            autograd.set_detect_anomaly(True)
            assert autograd.is_anomaly_enabled()
        finally:
            autograd.set_detect_anomaly(False)
        assert not autograd.is_anomaly_enabled()

        @autograd.detect_anomaly()
        def run():
            x = dg.tensor([0.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()

        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            run()
        assert not autograd.is_anomaly_enabled()

    def test_finite_gradients_pass(self):
        x = dg.tensor([1.0, 2.0], requires_grad=True)
        with autograd.detect_anomaly():
            x.sqrt().sum().backward()
        np.testing.assert_allclose(arr(x.grad), 0.5 / np.sqrt([1.0, 2.0]), rtol=1e-6)


# -------------------------------------------------------------------------- dtypes


class TestDtypes:
    def test_float32_is_the_default(self):
        assert dg.float is dg.float32 and dg.double is dg.float64 and dg.long is dg.int64
        assert dg.get_default_dtype() == dg.float32
        for t in (dg.tensor([1.5]), dg.tensor(1.5), dg.randn(2), dg.zeros(2), dg.ones(1),
                  dg.rand(2), dg.full((2,), 1.5), dg.arange(0.0, 1.0, 0.5),
                  dg.linspace(0, 1, 3), dg.eye(2), dg.empty(2)):
            assert t.dtype == dg.float32

    def test_numpy_float64_stays_float64(self):
        assert dg.tensor(np.ones(2)).dtype == dg.float64
        assert dg.tensor(np.float64(2.0)).dtype == dg.float64
        assert dg.from_numpy(np.ones(2)).dtype == dg.float64
        assert dg.tensor(np.ones(2, dtype=np.float32)).dtype == dg.float32

    def test_integers_and_bools(self):
        assert dg.tensor([1, 2]).dtype == dg.int64
        assert dg.tensor([True, False]).dtype == dg.bool
        assert dg.arange(3).dtype == dg.int64
        assert dg.full((2,), 3).dtype == dg.int64

    def test_python_scalars_keep_the_tensor_dtype(self):
        x32, x64 = dg.ones(2), dg.ones(2, dtype=dg.float64)
        for y in (x32 * 2.5, 2.5 * x32, x32 + 1, x32 / 3, x32 ** 2, 2 ** x32, 1 - x32):
            assert y.dtype == dg.float32
        for y in (x64 * 2.5, x64 / 3, 1 - x64):
            assert y.dtype == dg.float64

    def test_integer_tensor_with_float_scalar_gives_float32(self):
        i = dg.tensor([1, 2])
        assert (i / 2).dtype == dg.float32
        assert (i * 2.5).dtype == dg.float32
        assert (i * 2).dtype == dg.int64
        np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0])

    def test_mixed_float_tensors_promote(self):
        assert (dg.ones(2) + dg.ones(2, dtype=dg.float64)).dtype == dg.float64

    def test_integer_tensors_cannot_require_grad(self):
        with pytest.raises(RuntimeError, match="floating point"):
            dg.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError, match="floating point"):
            dg.tensor([1, 2]).requires_grad_()

    def test_cast_gradient_flows_back_in_the_source_dtype(self):
        x = dg.tensor([1.0, 2.0], requires_grad=True)
        y = x.double() * dg.tensor([2.0, 3.0], dtype=dg.float64)
        assert y.dtype == dg.float64
        y.sum().backward()
        assert x.grad.dtype == dg.float32
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 3.0])

    def test_float32_leaf_with_float64_constant_gets_float32_grad(self):
        x = dg.tensor([1.0, 2.0], requires_grad=True)
        y = x * np.array([2.0, 3.0])
        assert y.dtype == dg.float64
        y.sum().backward()
        assert x.grad.dtype == dg.float32


# ----------------------------------------------------- NumPy arrays and numbers mixed


class TestNumpyOperands:
    def test_ndarray_on_either_side_gives_a_tensor(self):
        t = dg.tensor([1.0, 2.0])
        a = np.array([3.0, 4.0], dtype=np.float32)
        for y in (a + t, t + a, a - t, a * t, a / t, a ** t, t ** a):
            assert isinstance(y, dg.Tensor) and y.dtype == dg.float32
        np.testing.assert_allclose((a - t).numpy(), [2.0, 2.0])
        np.testing.assert_allclose((a / t).numpy(), [3.0, 2.0])

    def test_ndarray_matmul(self):
        t = dg.tensor([[1.0, 2.0], [3.0, 4.0]])
        y = np.eye(2, dtype=np.float32) @ t
        assert isinstance(y, dg.Tensor)
        np.testing.assert_allclose(y.numpy(), t.numpy())

    def test_ndarray_comparison_gives_a_bool_tensor(self):
        t = dg.tensor([1.0, 2.0])
        y = np.array([1.5, 1.5]) < t
        assert isinstance(y, dg.Tensor) and y.dtype == dg.bool
        assert y.tolist() == [False, True]

    def test_gradients_flow_through_reflected_ops(self):
        x = leaf([1.0, 2.0])
        a = np.array([3.0, 4.0])
        (a * x + a / x - a + 2 ** x).sum().backward()
        xv = np.array([1.0, 2.0])
        np.testing.assert_allclose(arr(x.grad), a - a / xv ** 2 + np.log(2) * 2 ** xv)

    def test_numpy_scalars(self):
        t = dg.tensor([1.0, 2.0])
        for y in (np.float64(2) * t, t * np.float64(2), np.float32(2) + t, np.int64(2) * t):
            assert isinstance(y, dg.Tensor)
        assert (np.float64(2) * t).dtype == dg.float32  # like a Python float, as in PyTorch
        x = leaf([1.0])
        y = np.float64(3.0) * x
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_allclose(arr(x.grad), [3.0])

    def test_python_numbers(self):
        x = leaf([2.0])
        (3 - x + 4 / x + 2 ** x + x ** 2).sum().backward()
        np.testing.assert_allclose(arr(x.grad), [-1 - 1.0 + 4 * np.log(2) + 4.0])


# ---------------------------------------------------------------- Python protocols


class TestPythonProtocols:
    def test_len_and_iteration(self):
        x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        assert len(x) == 3
        rows = list(x)
        assert len(rows) == 3 and rows[1].tolist() == [3.0, 4.0]
        a, b, c = x
        (a.sum() + 2 * c.sum()).backward()
        np.testing.assert_allclose(arr(x.grad), [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])

    def test_unpacking_into_arguments(self):
        params = dg.tensor([2.0, 3.0], requires_grad=True)

        def model(x, a, b):
            return a * x + b

        y = model(dg.tensor(4.0), *params)
        assert y.item() == pytest.approx(11.0)

    def test_zero_d_len_is_a_type_error(self):
        with pytest.raises(TypeError):
            len(dg.tensor(1.0))

    def test_number_conversions(self):
        assert float(dg.tensor([2.5])) == 2.5
        assert int(dg.tensor(3.9)) == 3
        assert bool(dg.tensor([1.0])) is True and bool(dg.tensor(0.0)) is False
        assert dg.tensor([[7.0]]).item() == 7.0
        assert isinstance(dg.tensor(7).item(), int)
        assert float(leaf([1.5])) == 1.5

    def test_bool_of_many_elements_is_ambiguous(self):
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(dg.tensor([1.0, 2.0]))

    def test_tolist_and_numpy(self):
        t = dg.tensor([[1.0, 2.0]])
        assert t.tolist() == [[1.0, 2.0]]
        assert isinstance(t.numpy(), np.ndarray)
        t.numpy()[0, 0] = 9.0  # shares memory
        assert t.tolist() == [[9.0, 2.0]]
        x = leaf([1.0])
        with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
            x.numpy()
        assert x.detach().numpy().tolist() == [1.0]

    def test_augmented_update_inside_no_grad(self):
        p = dg.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward()
        lr = 0.1
        with dg.no_grad():
            p -= lr * p.grad
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)
        with dg.no_grad():
            p *= 2
            p += 1
            p /= 2
        np.testing.assert_allclose(p.detach().numpy(), [1.3, 2.1], rtol=1e-6)

    def test_eq_all_any(self):
        a, b = dg.tensor([1, 2, 3]), dg.tensor([1, 2, 4])
        assert a.eq(a).all() and not a.eq(b).all() and a.eq(b).any()
        assert bool((a == a).all()) and isinstance(a.eq(b), dg.Tensor)
        assert a.eq(b).tolist() == [True, True, False]

    def test_shape_attributes(self):
        t = dg.zeros(2, 3)
        assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3
        assert t.dim() == t.ndim == 2 and t.numel() == 6
        assert t.T.shape == (3, 2)


class TestRepr:
    def test_like_pytorch(self):
        x = dg.tensor([1.0, 2.0], requires_grad=True)
        assert repr(x) == "tensor([1., 2.], requires_grad=True)"
        assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
        assert repr(dg.tensor(1.5, requires_grad=True) * 2) == \
            "tensor(3., grad_fn=<MulBackward0>)"
        assert repr(dg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
        assert repr(dg.tensor([1, 2])) == "tensor([1, 2])"

    def test_non_default_dtype_is_shown(self):
        r = repr(dg.tensor([1.0], dtype=dg.float64, requires_grad=True))
        assert "dtype=" in r and "float64" in r and "requires_grad=True" in r


# ----------------------------------------------------------------------- factories


class TestFactories:
    @pytest.mark.parametrize("factory", [dg.zeros, dg.ones, dg.empty, dg.randn, dg.rand])
    def test_varargs_tuple_list_and_size_keyword(self, factory):
        assert factory(2, 3).shape == (2, 3)
        assert factory((2, 3)).shape == (2, 3)
        assert factory([2, 3]).shape == (2, 3)
        assert factory(size=(2, 3)).shape == (2, 3)
        assert factory(size=()).shape == ()
        assert factory(()).shape == ()
        assert factory(4).shape == (4,)

    def test_randn_size_empty_tuple_is_zero_d(self):
        t = dg.randn(size=())
        assert t.shape == () and t.ndim == 0 and isinstance(t.item(), float)

    @pytest.mark.parametrize("factory", [dg.zeros, dg.ones, dg.empty, dg.randn, dg.rand])
    def test_dtype_and_requires_grad(self, factory):
        t = factory(2, dtype=dg.float64, requires_grad=True)
        assert t.dtype == dg.float64 and t.requires_grad and t.is_leaf

    def test_other_factories(self):
        assert dg.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
        f = dg.full((2,), 1.0, dtype=dg.float64, requires_grad=True)
        assert f.dtype == dg.float64 and f.requires_grad
        r = dg.randint(0, 10, (50,))
        assert r.dtype == dg.int64 and r.shape == (50,)
        assert 0 <= int(r.min()) and int(r.max()) < 10
        assert dg.randint(5, (3,)).shape == (3,)
        assert dg.arange(5).tolist() == [0, 1, 2, 3, 4]
        assert dg.arange(1, 7, 2).tolist() == [1, 3, 5]
        np.testing.assert_allclose(dg.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
        np.testing.assert_allclose(dg.eye(2).numpy(), np.eye(2))
        assert dg.eye(2, 3).shape == (2, 3)
        base = dg.ones(2, 3, dtype=dg.float64)
        for like in (dg.zeros_like, dg.ones_like, dg.randn_like, dg.rand_like):
            t = like(base)
            assert t.shape == (2, 3) and t.dtype == dg.float64
        assert dg.zeros_like(base, requires_grad=True).requires_grad
        assert dg.arange(3, dtype=dg.float32, requires_grad=True).requires_grad
        assert dg.linspace(0, 1, 3, requires_grad=True).requires_grad
        assert dg.eye(2, requires_grad=True).requires_grad

    def test_manual_seed_reproducibility(self):
        dg.manual_seed(1234)
        a = (dg.randn(3).tolist(), dg.rand(2).tolist(), dg.randint(0, 100, (4,)).tolist())
        dg.manual_seed(1234)
        b = (dg.randn(3).tolist(), dg.rand(2).tolist(), dg.randint(0, 100, (4,)).tolist())
        assert a == b
        dg.manual_seed(4321)
        assert dg.randn(3).tolist() != a[0]

    def test_from_numpy_shares_memory(self):
        a = np.zeros(3)
        t = dg.from_numpy(a)
        a[0] = 1.0
        assert t.tolist() == [1.0, 0.0, 0.0]


# ------------------------------------------------------------- gradients at kinks


def grad_of(fn, values):
    x = leaf(values)
    fn(x).sum().backward()
    return arr(x.grad).tolist()


class TestKinks:
    def test_relu_and_abs_give_zero_at_zero(self):
        assert grad_of(dg.relu, [0.0, 1.0, -1.0]) == [0.0, 1.0, 0.0]
        assert grad_of(dg.abs, [0.0, 1.0, -1.0]) == [0.0, 1.0, -1.0]

    def test_clamp_gives_tensor_bounds_their_gradient(self):
        # PyTorch's answer for the same call: x.grad [0, 1, 0], lo.grad [1, 0, 0], hi.grad 1.
        x, lo, hi = leaf([-2.0, 0.5, 3.0]), leaf([0.0, 0.0, 0.0]), leaf(1.0)
        dg.clamp(x, lo, hi).sum().backward()
        assert arr(x.grad).tolist() == [0.0, 1.0, 0.0]
        assert arr(lo.grad).tolist() == [1.0, 0.0, 0.0]
        assert arr(hi.grad).tolist() == 1.0

    def test_clamp_passes_at_its_bounds(self):
        assert grad_of(lambda x: x.clamp(0, 1), [0.0, 1.0, 0.5, -1.0, 2.0]) == \
            [1.0, 1.0, 1.0, 0.0, 0.0]
        assert grad_of(lambda x: x.clamp(min=0), [0.0, -1.0]) == [1.0, 0.0]
        assert grad_of(lambda x: x.clamp(max=0), [0.0, 1.0]) == [1.0, 0.0]

    def test_full_max_min_split_evenly_among_ties(self):
        assert grad_of(dg.max, [1.0, 3.0, 3.0, 2.0]) == [0.0, 0.5, 0.5, 0.0]
        assert grad_of(dg.min, [1.0, 1.0, 3.0, 1.0]) == pytest.approx([1 / 3, 1 / 3, 0, 1 / 3])
        assert grad_of(dg.amax, [1.0, 3.0, 3.0, 2.0]) == [0.0, 0.5, 0.5, 0.0]

    def test_max_dim_sends_the_gradient_to_the_returned_index(self):
        x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
        values, indices = x.max(1)
        values.sum().backward()
        expected = np.zeros((2, 3))
        expected[np.arange(2), indices.numpy()] = 1.0
        np.testing.assert_allclose(arr(x.grad), expected)
        assert indices.tolist() == [1, 0]  # the first of the ties, as PyTorch on CPU

    def test_min_dim_sends_the_gradient_to_the_returned_index(self):
        x = leaf([[1.0, 1.0, 3.0]])
        values, indices = dg.min(x, dim=1, keepdim=True)
        assert values.shape == (1, 1) and indices.shape == (1, 1)
        values.sum().backward()
        assert arr(x.grad).tolist() == [[1.0, 0.0, 0.0]]

    def test_maximum_minimum_split_ties(self):
        y = dg.tensor([1.0, 0.0, 0.0], dtype=dg.float64)
        assert grad_of(lambda x: dg.maximum(x, y), [1.0, 3.0, 0.0]) == [0.5, 1.0, 0.5]
        assert grad_of(lambda x: dg.minimum(x, y), [1.0, 3.0, -1.0]) == [0.5, 0.0, 1.0]

    def test_norm_at_zero_and_pow_at_zero(self):
        assert grad_of(dg.norm, [0.0, 0.0]) == [0.0, 0.0]
        assert grad_of(lambda x: x ** 0, [0.0, 1.0]) == [0.0, 0.0]
        assert grad_of(lambda x: x ** 2, [0.0, 1.0]) == [0.0, 2.0]

    def test_exponent_gradient_at_zero_base(self):
        e = leaf([2.0, 2.0])
        (dg.tensor([0.0, 2.0], dtype=dg.float64) ** e).sum().backward()
        np.testing.assert_allclose(arr(e.grad), [0.0, 4 * np.log(2)])

    def test_where_sends_nothing_to_the_unselected_branch(self):
        assert grad_of(lambda x: dg.where(x > 0, x, 0.0), [0.0, 1.0]) == [0.0, 1.0]


def test_gradcheck_of_a_function_that_differentiates_itself():
    # A gradient penalty: the checked function calls autograd.grad, so gradcheck must not
    # evaluate it under no_grad.
    def penalty(x):
        (g,) = dg.autograd.grad((x ** 3).sum(), x, create_graph=True)
        return (g * g).sum()

    x = dg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert dg.autograd.gradcheck(penalty, (x,))


def test_gradgradcheck_of_a_function_with_an_empty_output():
    # The empty output's grad_output is an input with no elements: its Jacobian has no
    # columns but as many rows as the other output has elements.
    x = dg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert dg.autograd.gradgradcheck(lambda a: (a.sin(), a[:0] * 2), (x,))


def test_a_custom_functions_gradient_from_a_0d_product_keeps_float64():
    # The VJP of a 0-d multiply gives a NumPy scalar; wrapped as is, the next op took it for
    # a Python number and made float32.
    seen = []

    class Total(dg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            seen.append(g.reshape(1).dtype)
            return g.expand(3)

    x = dg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = Total.apply(x) * 2
    y.register_hook(lambda g: seen.append(g.reshape(1).dtype))
    y.backward()
    assert seen == [dg.float64, dg.float64]
