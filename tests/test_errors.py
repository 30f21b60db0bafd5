"""The errors a user must get (API.md, "Errors a user must get"), each naming its fix.

RuntimeError unless API.md says otherwise; broadcasting failures may be ValueError. Every
test asserts on the message, not only on the type.
"""

from __future__ import annotations

import numpy as np
import pytest

import distgrad as dg
from distgrad import autograd

BROADCAST_ERRORS = (ValueError, RuntimeError)


def leaf(values, dtype=dg.float32):
    return dg.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------------ backward


class TestBackward:
    def test_on_a_tensor_that_does_not_require_grad(self):
        with pytest.raises(RuntimeError, match="does not require grad"):
            dg.ones(2).sum().backward()

    def test_on_a_result_computed_under_no_grad(self):
        x = leaf([1.0, 2.0])
        with dg.no_grad():
            y = (x * 2).sum()
        with pytest.raises(RuntimeError, match="does not require grad.*no_grad"):
            y.backward()

    def test_autograd_grad_of_an_output_without_grad(self):
        with pytest.raises(RuntimeError, match="does not require grad"):
            autograd.grad(dg.ones(2).sum(), leaf([1.0]))

    def test_autograd_grad_with_an_input_without_grad(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError, match="does not require grad"):
            autograd.grad((x * 2).sum(), dg.ones(1))

    @pytest.mark.parametrize("shape", [(2,), (2, 3), (1, 2)])
    def test_non_scalar_output_without_gradient(self, shape):
        y = dg.ones(*shape, requires_grad=True) * 2
        with pytest.raises(RuntimeError,
                           match="grad can be implicitly created only for scalar outputs"):
            y.backward()

    def test_one_element_non_scalar_output_is_fine(self):
        x = leaf([[3.0]])
        (x * 2).backward()
        assert x.grad.tolist() == [[2.0]]

    def test_second_backward_through_a_freed_graph(self):
        x = leaf([1.0, 2.0])
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
            y.backward()

    def test_freed_graph_reached_from_a_new_root(self):
        x = leaf([1.0, 2.0])
        h = x.exp()
        h.sum().backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            (h * 2).sum().backward()

    @pytest.mark.parametrize("bad_shape", [(3,), (1, 3), (3, 2), (6,), ()])
    def test_gradient_of_the_wrong_shape_is_never_broadcast(self, bad_shape):
        y = dg.ones(2, 3, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[2, 3\]"):
            y.backward(dg.ones(*bad_shape))

    def test_grad_outputs_of_the_wrong_shape(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[1\].*\[2\]"):
            autograd.grad(x * 2, x, grad_outputs=dg.ones(1))

    def test_unused_input_names_allow_unused(self):
        x, w = leaf([1.0]), leaf([2.0])
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            autograd.grad((x * 2).sum(), [x, w])


# ------------------------------------------------------------------------- in place

LEAF_INPLACE = {
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(1.0),
    "copy_": lambda t: t.copy_(dg.ones(2)),
    "clamp_": lambda t: t.clamp_(0.0, 1.0),
    "setitem": lambda t: t.__setitem__(0, 5.0),
    "iadd": lambda t: t.__iadd__(1.0),
    "isub": lambda t: t.__isub__(1.0),
    "imul": lambda t: t.__imul__(2.0),
    "itruediv": lambda t: t.__itruediv__(2.0),
}


class TestInPlace:
    @pytest.mark.parametrize("op", LEAF_INPLACE.values(), ids=LEAF_INPLACE.keys())
    def test_on_a_leaf_that_requires_grad(self, op):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
            op(x)
        assert x.tolist() == [1.0, 2.0]  # refused before anything changed

    @pytest.mark.parametrize("op", LEAF_INPLACE.values(), ids=LEAF_INPLACE.keys())
    def test_on_a_leaf_inside_no_grad_is_allowed(self, op):
        x = leaf([1.0, 2.0])
        with dg.no_grad():
            op(x)
        assert x.is_leaf and x.requires_grad

    def test_on_a_view_of_a_leaf(self):
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x[:1].mul_(2.0)

    def test_augmented_assignment_on_a_parameter_outside_no_grad(self):
        p = leaf([1.0, 2.0])
        (p * p).sum().backward()
        with pytest.raises(RuntimeError, match="no_grad"):
            p -= 0.1 * p.grad

    def test_a_saved_input_changed_in_place(self):
        x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        h = x * 1
        y = (h * w).sum()  # MulBackward0 saves h
        h.add_(1.0)
        with pytest.raises(RuntimeError,
                           match="modified by an inplace operation.*version 1.*expected version 0"):
            y.backward()

    def test_a_saved_input_changed_through_setitem(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = (h ** 2).sum()
        h[0] = 3.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()

    def test_a_saved_input_changed_through_a_view(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = (h.log()).sum()  # LogBackward0 saves h
        h[1:].mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()

    @pytest.mark.parametrize("op, node", [(dg.exp, "ExpBackward0"), (dg.tanh, "TanhBackward0"),
                                          (dg.sigmoid, "SigmoidBackward0"),
                                          (dg.sqrt, "SqrtBackward0")])
    def test_a_saved_output_changed_in_place(self, op, node):
        x = leaf([1.0, 2.0])
        y = op(x)  # these save their output
        y.mul_(2.0)
        with pytest.raises(RuntimeError, match=f"modified by an inplace operation.*{node}"):
            y.sum().backward()

    def test_the_message_names_the_fix(self):
        x = leaf([1.0, 2.0])
        y = x.exp()
        y.add_(1.0)
        with pytest.raises(RuntimeError, match=r"clone\(\)"):
            y.sum().backward()

    def test_unchanged_saved_values_pass(self):
        x = leaf([1.0, 2.0])
        h = x * 1
        y = (h * h).sum()
        z = h + 1
        z.mul_(2.0)  # z is not saved by anything
        y.backward()
        assert x.grad.tolist() == [2.0, 4.0]

    def test_in_place_on_an_expanded_view(self):
        y = leaf([1.0, 2.0, 3.0]) * 1
        with pytest.raises(RuntimeError, match=r"single memory location.*clone\(\)"):
            y.expand(2, 3).mul_(2.0)

    def test_an_in_place_op_cannot_grow_its_target(self):
        with pytest.raises(RuntimeError, match=r"\[2\].*\[2, 2\]"):
            dg.zeros(2).add_(dg.ones(2, 2))


# -------------------------------------------------------------- shapes and dtypes


class TestShapes:
    def test_matmul_2d_names_both_shapes(self):
        with pytest.raises(RuntimeError, match="2x3 and 4x5"):
            dg.ones(2, 3) @ dg.ones(4, 5)

    def test_mm_names_both_shapes(self):
        with pytest.raises(RuntimeError, match="2x3 and 4x5"):
            dg.mm(dg.ones(2, 3), dg.ones(4, 5))

    @pytest.mark.parametrize("a, b", [((2, 2, 3), (2, 4, 5)), ((3,), (4,)), ((2, 3), (4,)),
                                      ((4,), (3, 2)), ((2, 2, 3), (3, 3, 5))])
    def test_matmul_nd_names_both_shapes(self, a, b):
        with pytest.raises(RuntimeError) as info:
            dg.matmul(dg.ones(*a), dg.ones(*b))
        assert str(list(a)) in str(info.value) and str(list(b)) in str(info.value)

    def test_matmul_of_a_zero_d_tensor(self):
        with pytest.raises(RuntimeError, match="at least 1D"):
            dg.tensor(2.0) @ dg.ones(2)

    def test_dot_of_different_lengths(self):
        with pytest.raises(RuntimeError, match=r"\[3\].*\[4\]"):
            dg.dot(dg.ones(3), dg.ones(4))

    @pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                    lambda a, b: a / b, lambda a, b: a ** b, dg.maximum,
                                    lambda a, b: dg.where(a > 0, a, b)])
    def test_broadcasting_failure_names_both_shapes(self, op):
        a = dg.ones(2, 3, requires_grad=True)
        with pytest.raises(BROADCAST_ERRORS, match=r"(\(2, ?3\)|\[2, 3\]).*(\(4,\)|\[4\])"):
            op(a, dg.ones(4))

    def test_broadcasting_failure_with_an_ndarray(self):
        with pytest.raises(BROADCAST_ERRORS, match=r"(\(2, ?3\)|\[2, 3\]).*(\(4,\)|\[4\])"):
            dg.ones(2, 3) + np.ones(4)

    @pytest.mark.parametrize("shape", [(4, 2), (-1, 4), (7,), (-1, -1)])
    def test_reshape_to_an_invalid_shape(self, shape):
        with pytest.raises(RuntimeError, match="invalid for input of size 6|only one dimension"):
            dg.ones(2, 3).reshape(*shape)

    def test_view_of_an_incompatible_layout_names_reshape(self):
        with pytest.raises(RuntimeError, match=r"\.reshape"):
            dg.ones(2, 3).T.view(6)

    def test_expand_to_an_incompatible_size(self):
        with pytest.raises(RuntimeError, match=r"\[3, 3\].*\[2, 3\]"):
            dg.ones(2, 3).expand(3, 3)

    @pytest.mark.parametrize("op", [
        lambda t: t.sum(2), lambda t: t.mean(-3), lambda t: t.max(2), lambda t: t.softmax(2),
        lambda t: t.log_softmax(-3), lambda t: t.transpose(0, 2), lambda t: t.unsqueeze(4),
        lambda t: t.squeeze(3), lambda t: dg.cat([t, t], dim=2), lambda t: dg.stack([t], 4),
        lambda t: t.index_select(3, dg.tensor([0])), lambda t: t.prod(5),
        lambda t: t.norm(dim=2), lambda t: t.logsumexp(2), lambda t: t.flatten(0, 3),
    ])
    def test_dim_out_of_range(self, op):
        with pytest.raises(IndexError, match=r"Dimension out of range.*\[-\d, \d\].*got"):
            op(dg.ones(2, 3))

    def test_index_out_of_range_names_the_shape(self):
        with pytest.raises(IndexError, match=r"\[2, 3\]"):
            dg.ones(2, 3)[5]

    def test_cat_of_mismatched_shapes(self):
        with pytest.raises(RuntimeError) as info:  # PyTorch's message, word for word
            dg.cat([dg.ones(2, 3), dg.ones(2, 4)])
        assert str(info.value) == ("Sizes of tensors must match except in dimension 0. Expected "
                                   "size 3 but got size 4 for tensor number 1 in the list.")

    def test_cat_of_different_ranks(self):
        with pytest.raises(RuntimeError,
                           match="Tensors must have same number of dimensions: got 2 and 1"):
            dg.cat([dg.ones(2, 3), dg.ones(3)])

    def test_cat_of_nothing(self):
        with pytest.raises(ValueError, match="non-empty"):
            dg.cat([])

    def test_stack_of_mismatched_shapes(self):
        with pytest.raises(RuntimeError, match=r"equal size.*\[2, 3\].*\[2, 4\]"):
            dg.stack([dg.ones(2, 3), dg.ones(2, 4)])

    def test_permute_with_a_repeated_dim(self):
        with pytest.raises(RuntimeError, match="permutation"):
            dg.ones(2, 3).permute(0, 0)

    def test_split_sizes_that_do_not_add_up(self):
        with pytest.raises(RuntimeError, match="sum exactly to 3"):
            dg.ones(2, 3).split([1, 1], dim=1)

    def test_gather_index_rank(self):
        with pytest.raises(RuntimeError, match="same number of dimensions"):
            dg.ones(2, 3).gather(0, dg.tensor([0]))

    def test_t_of_a_3d_tensor(self):
        with pytest.raises(RuntimeError, match="<= 2 dimensions"):
            dg.ones(2, 2, 2).t()


class TestConversions:
    def test_item_of_many_elements(self):
        with pytest.raises(RuntimeError, match="6 elements cannot be converted to Scalar"):
            dg.ones(2, 3).item()

    def test_float_of_many_elements(self):
        with pytest.raises(ValueError, match="only one element tensors"):
            float(dg.ones(2))
        with pytest.raises(ValueError, match="only one element tensors"):
            int(dg.ones(2))
        with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
            dg.ones(2).item()

    def test_bool_of_many_elements(self):
        with pytest.raises(RuntimeError, match=r"ambiguous.*\.any\(\) or \.all\(\)"):
            bool(dg.ones(2))

    def test_numpy_of_a_tensor_that_requires_grad(self):
        with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)\.numpy\(\)"):
            leaf([1.0]).numpy()

    def test_asarray_of_a_tensor_that_requires_grad(self):
        with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
            np.asarray(leaf([1.0]) * 2)

    def test_len_of_a_zero_d_tensor(self):
        with pytest.raises(TypeError, match="0-d"):
            len(dg.tensor(1.0))


class TestDtypes:
    @pytest.mark.parametrize("values", [[1, 2], [True, False]])
    def test_non_float_tensors_cannot_require_grad(self, values):
        with pytest.raises(RuntimeError, match=r"floating point.*\.float\(\)"):
            dg.tensor(values, requires_grad=True)

    def test_requires_grad_false_on_a_non_leaf(self):
        y = leaf([1.0]) * 2
        with pytest.raises(RuntimeError, match=r"leaf variables.*detach\(\)"):
            y.requires_grad = False

    def test_mean_of_an_integer_tensor(self):
        with pytest.raises(RuntimeError, match=r"floating point.*\.float\(\)"):
            dg.tensor([1, 2]).mean()

    def test_clamp_without_bounds(self):
        with pytest.raises(RuntimeError, match="at least one of 'min' or 'max'"):
            dg.ones(2).clamp()

    @pytest.mark.parametrize("size", [(-1,), (2.5,)])
    def test_factories_refuse_bad_sizes(self, size):
        with pytest.raises((ValueError, TypeError), match="non-negative integers"):
            dg.ones(*size)


class TestHooksAndGrads:
    def test_retain_grad_without_requires_grad(self):
        with pytest.raises(RuntimeError, match="requires_grad=False"):
            dg.ones(2).retain_grad()

    def test_register_hook_without_requires_grad(self):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            dg.ones(2).register_hook(lambda g: g)

    def test_post_accumulate_hook_on_a_non_leaf(self):
        with pytest.raises(RuntimeError, match="non-leaf"):
            (leaf([1.0]) * 2).register_post_accumulate_grad_hook(lambda t: None)

    def test_backward_inputs_that_do_not_require_grad(self):
        x = leaf([1.0])
        with pytest.raises(RuntimeError, match="does not require grad"):
            (x * 2).sum().backward(inputs=[dg.ones(1)])

    def test_gradcheck_names_the_input_and_the_difference(self):
        class Wrong(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * x

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = dg.tensor([1.0, 2.0], dtype=dg.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="input 0.*largest difference"):
            autograd.gradcheck(Wrong.apply, (x,))
