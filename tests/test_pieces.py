"""``split``, ``chunk`` and ``unbind``: views of the pieces, one multi-output node for all of
them (PyTorch's names and saved attributes), gradients put back together with zeros where a
piece got none, and PyTorch's errors."""

import numpy as np
import pytest

import distgrad
from distgrad.autograd import forward_ad, gradcheck, gradgradcheck


def leaf(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return distgrad.tensor(data, requires_grad=True)


@pytest.mark.parametrize("pieces, name", [
    (lambda x: x.unbind(1), "UnbindBackward0"),
    (lambda x: x.split(2), "SplitBackward0"),
    (lambda x: distgrad.split(x, [1, 3]), "SplitWithSizesBackward0"),
    (lambda x: x.chunk(2), "SplitBackward0"),
])
def test_one_node_for_all_pieces(pieces, name):
    x = leaf(4, 3)
    outs = pieces(x)
    node = outs[0].grad_fn
    assert node.name() == name and all(p.grad_fn is node for p in outs)
    assert [p._output_nr for p in outs] == list(range(len(outs)))
    assert node.next_functions == ((x.grad_fn or x._get_accumulator(), 0),)


def test_saved_attributes_are_pytorchs():
    x = leaf(4, 3)
    node = x.split(2)[0].grad_fn
    assert (node._saved_split_size, node._saved_dim, node._saved_self_sym_sizes) == (2, 0, (4, 3))
    assert distgrad.split(x, [1, 3])[0].grad_fn._saved_split_sizes == (1, 3)
    assert x.unbind(1)[0].grad_fn._saved_dim == 1


@pytest.mark.parametrize("use", [
    lambda x: sum((i + 1) * p.sum() for i, p in enumerate(x.unbind(0))),
    lambda x: x.unbind(2)[1].exp().sum(),                  # the other pieces get zeros
    lambda x: (x.split(2, dim=1)[0] ** 2).sum() + x.split(2, dim=1)[1].sum(),
    lambda x: distgrad.split(x, [3, 0, 1], dim=1)[2].sin().sum(),
    lambda x: x.chunk(3, dim=-1)[-1].tanh().sum(),
])
def test_gradients_and_double_backward(use):
    x = leaf(3, 4, 2)
    assert gradcheck(use, (x,))
    assert gradgradcheck(use, (x,))


def test_a_long_unbind_loop_is_one_node_deep():
    # A node per piece would give x a zero-filled gradient of its full size per piece.
    x = leaf(2000, 3)
    total = 0
    for i, row in enumerate(x.unbind(0)):
        total = total + row.sum() * i
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.repeat(np.arange(2000.0), 3).reshape(2000, 3))


def test_pieces_are_views_of_the_input():
    x = leaf(4, 3)
    h = x * 1
    first, second = h.split(2)
    assert np.shares_memory(first._data, h._data) and first._base is h
    assert first._version == h._version
    # The input changed in place after the split: a piece used now follows its new history.
    h.mul_(10)
    assert second.tolist() == (10 * x.detach().numpy()[2:]).tolist()
    second.sum().backward()
    assert x.grad.numpy().tolist() == [[0.0] * 3] * 2 + [[10.0] * 3] * 2
    # In place on a piece writes through to the input and rebases its history.
    x.grad = None
    h = x * 1
    rows = h.unbind(0)
    rows[1].mul_(3)
    assert h.detach().numpy()[1].tolist() == (3 * x.detach().numpy()[1]).tolist()
    h.sum().backward()
    assert x.grad.numpy()[:, 0].tolist() == [1.0, 3.0, 1.0, 1.0]


def test_hooks_and_retained_grads_on_pieces():
    x = leaf(3, 2)
    a, b, c = x.unbind(0)
    b.retain_grad()
    c.register_hook(lambda g: g * 5)
    (a.sum() + 2 * b.sum() + c.sum()).backward()
    assert b.grad.tolist() == [2.0, 2.0]
    assert x.grad.numpy().tolist() == [[1.0, 1.0], [2.0, 2.0], [5.0, 5.0]]


def test_nothing_recorded_without_grad_and_tangents_in_forward_mode():
    x = leaf(4, 3)
    with distgrad.no_grad():
        assert all(p.grad_fn is None for p in x.split(2))
    assert distgrad.arange(6).split(4)[1].tolist() == [4, 5]
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x.detach(), distgrad.ones(4, 3, dtype=distgrad.float64))
        pieces = dual.unbind(1)
        assert forward_ad.unpack_dual(pieces[2]).tangent.tolist() == [1.0] * 4


@pytest.mark.parametrize("call, message", [
    (lambda x: x.split(0), "split_size can only be 0 if dimension size is 0, but got "
                           "dimension size of 4"),
    (lambda x: x.split(-1), "split expects split_size be non-negative, but got split_size=-1"),
    (lambda x: distgrad.split(x, [1, 2]), "split_with_sizes expects split_sizes to sum exactly "
                                          "to 4 (input tensor's size at dimension 0), but got "
                                          "split_sizes=[1, 2]"),
    (lambda x: distgrad.split(x, [5, -1]), "split_with_sizes expects split_sizes have only "
                                           "non-negative entries, but got split_sizes=[5, -1]"),
    (lambda x: x.chunk(0), "chunk expects `chunks` to be greater than 0, got: 0"),
])
def test_errors_are_pytorchs(call, message):
    with pytest.raises(RuntimeError) as info:
        call(leaf(4, 3))
    assert str(info.value) == message


def test_empty_pieces():
    assert [p.shape for p in distgrad.zeros(0).split(0)] == [(0,)]
    assert leaf(0, 3).unbind(0) == ()
