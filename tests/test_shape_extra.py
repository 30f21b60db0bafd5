"""The shape and view functions of ``distgrad.ops.shape_extra`` against PyTorch 2.13: values,
``grad_fn`` names and view-ness (recorded from PyTorch as literals in ``EXPECTED``), first and
second derivatives, forward mode, in-place changes through the views, and PyTorch's errors.

Each case of ``CASES`` is a function of the library (``T``): run with ``T`` = this module's
``distgrad`` namespace it must give what PyTorch gave for the same function.
"""

import types

import numpy as np
import pytest

import distgrad
from distgrad.autograd import forward_ad, gradcheck, gradgradcheck
from distgrad.ops import shape_extra

# distgrad's namespace with shape_extra's functions in it (``unfold_windows`` stands for
# PyTorch's ``Tensor.unfold``).
DG = types.SimpleNamespace(**{name: getattr(distgrad, name) for name in dir(distgrad)
                              if not name.startswith("_")})
for _name in shape_extra.__all__:
    setattr(DG, _name, getattr(shape_extra, _name))


def x24(T):
    return T.arange(24.0).reshape(2, 3, 4).requires_grad_()


def m6(T):
    return T.arange(6.0).reshape(2, 3).requires_grad_()


def v7(T):
    return T.arange(7.0).requires_grad_()


def v3(T):
    return T.arange(3.0).requires_grad_()


def s2(T):
    return T.tensor(2.0, requires_grad=True)


def a2(T):
    return T.tensor([1.0, 2.0], requires_grad=True)


def b3(T):
    return T.tensor([3.0, 4.0, 5.0], requires_grad=True)


def c4(T):
    return T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)


CASES = {
    "narrow": lambda T: T.narrow(x24(T), 1, 1, 2),
    "narrow_negative": lambda T: T.narrow(x24(T), -1, -3, 2),
    "narrow_tensor_start": lambda T: T.narrow(x24(T), 2, T.tensor(1), 2),
    "narrow_dim0_full": lambda T: T.narrow(v7(T), 0, 0, 7),
    "movedim": lambda T: T.movedim(x24(T), 0, 2),
    "movedim_lists": lambda T: T.movedim(x24(T), (0, 1), (2, 0)),
    "movedim_identity": lambda T: T.movedim(x24(T), 0, 0),
    "moveaxis": lambda T: T.moveaxis(x24(T), -1, 0),
    "movedim_0d": lambda T: T.movedim(s2(T), 0, -1),
    "swapaxes": lambda T: T.swapaxes(x24(T), 0, 2),
    "swapdims": lambda T: T.swapdims(x24(T), 0, -1),
    "swapaxes_same": lambda T: T.swapaxes(m6(T), 1, 1),
    "swapaxes_0d": lambda T: T.swapaxes(s2(T), 0, -1),
    "tensor_split_sections": lambda T: T.tensor_split(v7(T), 3),
    "tensor_split_more_sections": lambda T: T.tensor_split(T.arange(4.0).requires_grad_(), 6),
    "tensor_split_indices": lambda T: T.tensor_split(v7(T), [1, 5]),
    "tensor_split_dim": lambda T: T.tensor_split(x24(T), (1, 3), dim=2),
    "tensor_split_odd_indices": lambda T: T.tensor_split(v7(T), [5, 2, -1, 10]),
    "tensor_split_tensor_sections": lambda T: T.tensor_split(v7(T), T.tensor(3)),
    "tensor_split_tensor_indices": lambda T: T.tensor_split(v7(T), T.tensor([1, 5]), 0),
    "tensor_split_no_indices": lambda T: T.tensor_split(v7(T), []),
    "tensor_split_keyword": lambda T: T.tensor_split(x24(T), sections=2, dim=-1),
    "hsplit_1d": lambda T: T.hsplit(v7(T), [2]),
    "hsplit_3d": lambda T: T.hsplit(x24(T), 3),
    "vsplit": lambda T: T.vsplit(x24(T), [1]),
    "dsplit": lambda T: T.dsplit(x24(T), 2),
    "dsplit_indices": lambda T: T.dsplit(x24(T), [1, 3]),
    "broadcast_to": lambda T: T.broadcast_to(v3(T), (2, 3)),
    "broadcast_to_keep": lambda T: T.broadcast_to(m6(T)[:, :1], (-1, 4)),
    "broadcast_to_same": lambda T: T.broadcast_to(v3(T), [3]),
    "broadcast_tensors": lambda T: T.broadcast_tensors(v3(T), s2(T), T.ones(2, 1)),
    "atleast_1d_0d": lambda T: T.atleast_1d(s2(T)),
    "atleast_2d_0d": lambda T: T.atleast_2d(s2(T)),
    "atleast_2d_1d": lambda T: T.atleast_2d(v3(T)),
    "atleast_3d_0d": lambda T: T.atleast_3d(s2(T)),
    "atleast_3d_1d": lambda T: T.atleast_3d(v3(T)),
    "atleast_3d_2d": lambda T: T.atleast_3d(m6(T)),
    "atleast_2d_several": lambda T: T.atleast_2d(s2(T), v3(T)),
    "atleast_3d_list": lambda T: T.atleast_3d([s2(T), m6(T)]),
    "hstack_1d": lambda T: T.hstack([a2(T), b3(T)]),
    "hstack_2d": lambda T: T.hstack((m6(T), m6(T)[:, :1])),
    "hstack_0d": lambda T: T.hstack([s2(T), s2(T)]),
    "vstack_1d": lambda T: T.vstack([v3(T), b3(T)]),
    "vstack_mixed": lambda T: T.vstack([m6(T), v3(T)]),
    "vstack_0d": lambda T: T.vstack([s2(T), s2(T)]),
    "row_stack": lambda T: T.row_stack([v3(T), v3(T)]),
    "dstack_1d": lambda T: T.dstack([v3(T), b3(T)]),
    "dstack_2d": lambda T: T.dstack([m6(T), m6(T)]),
    "dstack_0d": lambda T: T.dstack([s2(T), s2(T)]),
    "column_stack_1d": lambda T: T.column_stack([a2(T), a2(T)]),
    "column_stack_mixed": lambda T: T.column_stack([v3(T), m6(T).T]),
    "column_stack_0d": lambda T: T.column_stack([s2(T), s2(T)]),
    "column_stack_3d": lambda T: T.column_stack([m6(T).reshape(2, 3, 1)] * 2),
    "hstack_ints": lambda T: T.hstack([T.tensor([1, 2]), T.tensor([3])]),
    "hstack_promotes": lambda T: T.hstack([a2(T), T.tensor([1, 2])]),
    "rot90": lambda T: T.rot90(m6(T)),
    "rot90_k0": lambda T: T.rot90(m6(T), 0),
    "rot90_k2": lambda T: T.rot90(m6(T), 2),
    "rot90_k3": lambda T: T.rot90(m6(T), 3),
    "rot90_k_negative": lambda T: T.rot90(m6(T), -1),
    "rot90_k5": lambda T: T.rot90(m6(T), 5),
    "rot90_k_minus6": lambda T: T.rot90(m6(T), -6),
    "rot90_dims": lambda T: T.rot90(x24(T), 1, [2, 0]),
    "rot90_negative_dims": lambda T: T.rot90(x24(T), k=3, dims=(-1, 1)),
    "take": lambda T: T.take(m6(T), T.tensor([[0, 5], [3, -1]])),
    "take_0d_index": lambda T: T.take(m6(T), T.tensor(4)),
    "take_repeats": lambda T: T.take(m6(T).T, T.tensor([1, 1, 4])),
    "take_0d_input": lambda T: T.take(s2(T), T.tensor([0, 0])),
    "take_along_dim": lambda T: T.take_along_dim(m6(T), T.tensor([[0, 2, 1], [1, 1, 0]]), 1),
    "take_along_dim_0": lambda T: T.take_along_dim(m6(T), T.tensor([[1, 0, 1]]), 0),
    "take_along_dim_broadcast_indices": lambda T: T.take_along_dim(
        x24(T), T.tensor([[[1]], [[3]]]), 2),
    "take_along_dim_broadcast_input": lambda T: T.take_along_dim(
        v3(T).reshape(1, 3), T.tensor([[0, 1], [2, 2]]), 1),
    "take_along_dim_none": lambda T: T.take_along_dim(m6(T), T.tensor([5, 0, 3])),
    "take_along_dim_argmax": lambda T: T.take_along_dim(
        m6(T), T.tensor([[2], [0]]), dim=-1),
    "block_diag": lambda T: T.block_diag(m6(T), a2(T), s2(T)),
    "block_diag_one": lambda T: T.block_diag(m6(T)),
    "block_diag_empty_block": lambda T: T.block_diag(T.ones(0, 2).requires_grad_(), a2(T)),
    "block_diag_ints": lambda T: T.block_diag(T.tensor([[1, 2]]), T.tensor(3)),
    "block_diag_promotes": lambda T: T.block_diag(T.tensor([[1, 2]]), a2(T)),
    "block_diag_float64": lambda T: T.block_diag(a2(T).double(), a2(T)),
    "block_diag_none": lambda T: T.block_diag(),
    "cartesian_prod": lambda T: T.cartesian_prod(a2(T), b3(T)),
    "cartesian_prod_three": lambda T: T.cartesian_prod(a2(T), a2(T), T.tensor([8.0, 9.0])),
    "cartesian_prod_ints": lambda T: T.cartesian_prod(T.tensor([1, 2]), T.tensor([3])),
    "combinations": lambda T: T.combinations(c4(T)),
    "combinations_r3": lambda T: T.combinations(c4(T), 3),
    "combinations_replacement": lambda T: T.combinations(c4(T), 2, with_replacement=True),
    "combinations_replacement_r3": lambda T: T.combinations(a2(T), r=3, with_replacement=True),
    "combinations_r1": lambda T: T.combinations(c4(T), 1),
    "combinations_r0": lambda T: T.combinations(c4(T), 0),
    "combinations_r_too_big": lambda T: T.combinations(c4(T), 5),
    "combinations_all": lambda T: T.combinations(c4(T), 4),
    "combinations_ints": lambda T: T.combinations(T.tensor([1, 2, 3])),
    "unfold": lambda T: T.unfold_windows(v7(T), 0, 2, 1),
    "unfold_step": lambda T: T.unfold_windows(v7(T), 0, 3, 2),
    "unfold_dim1": lambda T: T.unfold_windows(T.arange(12.0).reshape(3, 4).requires_grad_(),
                                              1, 2, 2),
    "unfold_dim0": lambda T: T.unfold_windows(T.arange(12.0).reshape(3, 4).requires_grad_(),
                                              0, 2, 1),
    "unfold_negative_dim": lambda T: T.unfold_windows(
        T.arange(12.0).reshape(3, 4).requires_grad_(), -1, 3, 1),
    "unfold_whole": lambda T: T.unfold_windows(v7(T), 0, 7, 1),
    "unfold_step_past_end": lambda T: T.unfold_windows(v7(T), 0, 2, 4),
    "unfold_0d": lambda T: T.unfold_windows(s2(T), 0, 1, 1),
}

# Recorded from PyTorch 2.13, each case run with ``T = torch`` (``unfold_windows(x, d, s, st)``
# as ``x.unfold(d, s, st)``): per output, (shape, dtype, values, grad_fn name, is a view).
EXPECTED = {
    'atleast_1d_0d': ((1,), 'float32', [2.0], 'ViewBackward0', True),
    'atleast_2d_0d': ((1, 1), 'float32', [[2.0]], 'ViewBackward0', True),
    'atleast_2d_1d': ((1, 3), 'float32', [[0.0, 1.0, 2.0]], 'UnsqueezeBackward0', True),
    'atleast_2d_several':
        [((1, 1), 'float32', [[2.0]], 'ViewBackward0', True),
         ((1, 3), 'float32', [[0.0, 1.0, 2.0]], 'UnsqueezeBackward0', True)],
    'atleast_3d_0d': ((1, 1, 1), 'float32', [[[2.0]]], 'ViewBackward0', True),
    'atleast_3d_1d': ((1, 3, 1), 'float32', [[[0.0], [1.0], [2.0]]], 'UnsqueezeBackward0', True),
    'atleast_3d_2d':
        ((2, 3, 1), 'float32', [[[0.0], [1.0], [2.0]], [[3.0], [4.0], [5.0]]],
         'UnsqueezeBackward0', True),
    'atleast_3d_list':
        [((1, 1, 1), 'float32', [[[2.0]]], 'ViewBackward0', True),
         ((2, 3, 1), 'float32', [[[0.0], [1.0], [2.0]], [[3.0], [4.0], [5.0]]],
          'UnsqueezeBackward0', True)],
    'block_diag':
        ((4, 6), 'float32',
         [[0.0, 1.0, 2.0, 0.0, 0.0, 0.0], [3.0, 4.0, 5.0, 0.0, 0.0, 0.0],
          [0.0, 0.0, 0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 2.0]],
         'BlockDiagBackward0', False),
    'block_diag_empty_block':
        ((1, 4), 'float32', [[0.0, 0.0, 1.0, 2.0]], 'BlockDiagBackward0', False),
    'block_diag_float64':
        ((2, 4), 'float64', [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]], 'BlockDiagBackward0',
         False),
    'block_diag_ints': ((2, 3), 'int64', [[1, 2, 0], [0, 0, 3]], None, False),
    'block_diag_none': ((1, 0), 'float32', [[]], None, False),
    'block_diag_one':
        ((2, 3), 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], 'BlockDiagBackward0', False),
    'block_diag_promotes':
        ((2, 4), 'float32', [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]], 'BlockDiagBackward0',
         False),
    'broadcast_tensors':
        [((2, 3), 'float32', [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], 'ExpandBackward0', True),
         ((2, 3), 'float32', [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], 'ExpandBackward0', True),
         ((2, 3), 'float32', [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], None, True)],
    'broadcast_to':
        ((2, 3), 'float32', [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], 'ExpandBackward0', True),
    'broadcast_to_keep':
        ((2, 4), 'float32', [[0.0, 0.0, 0.0, 0.0], [3.0, 3.0, 3.0, 3.0]], 'ExpandBackward0',
         True),
    'broadcast_to_same': ((3,), 'float32', [0.0, 1.0, 2.0], 'ExpandBackward0', True),
    'cartesian_prod':
        ((6, 2), 'float32',
         [[1.0, 3.0], [1.0, 4.0], [1.0, 5.0], [2.0, 3.0], [2.0, 4.0], [2.0, 5.0]],
         'StackBackward0', False),
    'cartesian_prod_ints': ((2, 2), 'int64', [[1, 3], [2, 3]], None, False),
    'cartesian_prod_three':
        ((8, 3), 'float32',
         [[1.0, 1.0, 8.0], [1.0, 1.0, 9.0], [1.0, 2.0, 8.0], [1.0, 2.0, 9.0], [2.0, 1.0, 8.0],
          [2.0, 1.0, 9.0], [2.0, 2.0, 8.0], [2.0, 2.0, 9.0]],
         'StackBackward0', False),
    'column_stack_0d': ((1, 2), 'float32', [[2.0, 2.0]], 'CatBackward0', False),
    'column_stack_1d': ((2, 2), 'float32', [[1.0, 1.0], [2.0, 2.0]], 'CatBackward0', False),
    'column_stack_3d':
        ((2, 6, 1), 'float32',
         [[[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]],
          [[3.0], [4.0], [5.0], [3.0], [4.0], [5.0]]],
         'CatBackward0', False),
    'column_stack_mixed':
        ((3, 3), 'float32', [[0.0, 0.0, 3.0], [1.0, 1.0, 4.0], [2.0, 2.0, 5.0]], 'CatBackward0',
         False),
    'combinations':
        ((6, 2), 'float32',
         [[1.0, 2.0], [1.0, 3.0], [1.0, 4.0], [2.0, 3.0], [2.0, 4.0], [3.0, 4.0]],
         'StackBackward0', False),
    'combinations_all': ((1, 4), 'float32', [[1.0, 2.0, 3.0, 4.0]], 'StackBackward0', False),
    'combinations_ints': ((3, 2), 'int64', [[1, 2], [1, 3], [2, 3]], None, False),
    'combinations_r0': ((0,), 'float32', [], None, False),
    'combinations_r1': ((4, 1), 'float32', [[1.0], [2.0], [3.0], [4.0]], 'StackBackward0', False),
    'combinations_r3':
        ((4, 3), 'float32',
         [[1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1.0, 3.0, 4.0], [2.0, 3.0, 4.0]], 'StackBackward0',
         False),
    'combinations_r_too_big': ((0, 5), 'float32', [], 'StackBackward0', False),
    'combinations_replacement':
        ((10, 2), 'float32',
         [[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0], [2.0, 2.0], [2.0, 3.0], [2.0, 4.0],
          [3.0, 3.0], [3.0, 4.0], [4.0, 4.0]],
         'StackBackward0', False),
    'combinations_replacement_r3':
        ((4, 3), 'float32',
         [[1.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0], [2.0, 2.0, 2.0]], 'StackBackward0',
         False),
    'dsplit':
        [((2, 3, 2), 'float32',
          [[[0.0, 1.0], [4.0, 5.0], [8.0, 9.0]], [[12.0, 13.0], [16.0, 17.0], [20.0, 21.0]]],
          'SliceBackward0', True),
         ((2, 3, 2), 'float32',
          [[[2.0, 3.0], [6.0, 7.0], [10.0, 11.0]], [[14.0, 15.0], [18.0, 19.0], [22.0, 23.0]]],
          'SliceBackward0', True)],
    'dsplit_indices':
        [((2, 3, 1), 'float32', [[[0.0], [4.0], [8.0]], [[12.0], [16.0], [20.0]]],
          'SliceBackward0', True),
         ((2, 3, 2), 'float32',
          [[[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]], [[13.0, 14.0], [17.0, 18.0], [21.0, 22.0]]],
          'SliceBackward0', True),
         ((2, 3, 1), 'float32', [[[3.0], [7.0], [11.0]], [[15.0], [19.0], [23.0]]],
          'SliceBackward0', True)],
    'dstack_0d': ((1, 1, 2), 'float32', [[[2.0, 2.0]]], 'CatBackward0', False),
    'dstack_1d':
        ((1, 3, 2), 'float32', [[[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]], 'CatBackward0', False),
    'dstack_2d':
        ((2, 3, 2), 'float32',
         [[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]]],
         'CatBackward0', False),
    'hsplit_1d':
        [((2,), 'float32', [0.0, 1.0], 'SliceBackward0', True),
         ((5,), 'float32', [2.0, 3.0, 4.0, 5.0, 6.0], 'SliceBackward0', True)],
    'hsplit_3d':
        [((2, 1, 4), 'float32', [[[0.0, 1.0, 2.0, 3.0]], [[12.0, 13.0, 14.0, 15.0]]],
          'SliceBackward0', True),
         ((2, 1, 4), 'float32', [[[4.0, 5.0, 6.0, 7.0]], [[16.0, 17.0, 18.0, 19.0]]],
          'SliceBackward0', True),
         ((2, 1, 4), 'float32', [[[8.0, 9.0, 10.0, 11.0]], [[20.0, 21.0, 22.0, 23.0]]],
          'SliceBackward0', True)],
    'hstack_0d': ((2,), 'float32', [2.0, 2.0], 'CatBackward0', False),
    'hstack_1d': ((5,), 'float32', [1.0, 2.0, 3.0, 4.0, 5.0], 'CatBackward0', False),
    'hstack_2d':
        ((2, 4), 'float32', [[0.0, 1.0, 2.0, 0.0], [3.0, 4.0, 5.0, 3.0]], 'CatBackward0', False),
    'hstack_ints': ((3,), 'int64', [1, 2, 3], None, False),
    'hstack_promotes': ((4,), 'float32', [1.0, 2.0, 1.0, 2.0], 'CatBackward0', False),
    'moveaxis':
        ((4, 2, 3), 'float32',
         [[[0.0, 4.0, 8.0], [12.0, 16.0, 20.0]], [[1.0, 5.0, 9.0], [13.0, 17.0, 21.0]],
          [[2.0, 6.0, 10.0], [14.0, 18.0, 22.0]], [[3.0, 7.0, 11.0], [15.0, 19.0, 23.0]]],
         'PermuteBackward0', True),
    'movedim':
        ((3, 4, 2), 'float32',
         [[[0.0, 12.0], [1.0, 13.0], [2.0, 14.0], [3.0, 15.0]],
          [[4.0, 16.0], [5.0, 17.0], [6.0, 18.0], [7.0, 19.0]],
          [[8.0, 20.0], [9.0, 21.0], [10.0, 22.0], [11.0, 23.0]]],
         'PermuteBackward0', True),
    'movedim_0d': ((), 'float32', 2.0, 'AliasBackward0', True),
    'movedim_identity':
        ((2, 3, 4), 'float32',
         [[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]],
          [[12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]],
         'PermuteBackward0', True),
    'movedim_lists':
        ((3, 4, 2), 'float32',
         [[[0.0, 12.0], [1.0, 13.0], [2.0, 14.0], [3.0, 15.0]],
          [[4.0, 16.0], [5.0, 17.0], [6.0, 18.0], [7.0, 19.0]],
          [[8.0, 20.0], [9.0, 21.0], [10.0, 22.0], [11.0, 23.0]]],
         'PermuteBackward0', True),
    'narrow':
        ((2, 2, 4), 'float32',
         [[[4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]],
          [[16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]],
         'SliceBackward0', True),
    'narrow_dim0_full':
        ((7,), 'float32', [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 'SliceBackward0', True),
    'narrow_negative':
        ((2, 3, 2), 'float32',
         [[[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]], [[13.0, 14.0], [17.0, 18.0], [21.0, 22.0]]],
         'SliceBackward0', True),
    'narrow_tensor_start':
        ((2, 3, 2), 'float32',
         [[[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]], [[13.0, 14.0], [17.0, 18.0], [21.0, 22.0]]],
         'SliceBackward0', True),
    'rot90': ((3, 2), 'float32', [[2.0, 5.0], [1.0, 4.0], [0.0, 3.0]], 'Rot90Backward0', False),
    'rot90_dims':
        ((4, 3, 2), 'float32',
         [[[12.0, 0.0], [16.0, 4.0], [20.0, 8.0]], [[13.0, 1.0], [17.0, 5.0], [21.0, 9.0]],
          [[14.0, 2.0], [18.0, 6.0], [22.0, 10.0]], [[15.0, 3.0], [19.0, 7.0], [23.0, 11.0]]],
         'Rot90Backward0', False),
    'rot90_k0': ((2, 3), 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], 'Rot90Backward0', False),
    'rot90_k2': ((2, 3), 'float32', [[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]], 'Rot90Backward0', False),
    'rot90_k3': ((3, 2), 'float32', [[3.0, 0.0], [4.0, 1.0], [5.0, 2.0]], 'Rot90Backward0', False),
    'rot90_k5': ((3, 2), 'float32', [[2.0, 5.0], [1.0, 4.0], [0.0, 3.0]], 'Rot90Backward0', False),
    'rot90_k_minus6':
        ((2, 3), 'float32', [[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]], 'Rot90Backward0', False),
    'rot90_k_negative':
        ((3, 2), 'float32', [[3.0, 0.0], [4.0, 1.0], [5.0, 2.0]], 'Rot90Backward0', False),
    'rot90_negative_dims':
        ((2, 4, 3), 'float32',
         [[[3.0, 7.0, 11.0], [2.0, 6.0, 10.0], [1.0, 5.0, 9.0], [0.0, 4.0, 8.0]],
          [[15.0, 19.0, 23.0], [14.0, 18.0, 22.0], [13.0, 17.0, 21.0], [12.0, 16.0, 20.0]]],
         'Rot90Backward0', False),
    'row_stack': ((2, 3), 'float32', [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], 'CatBackward0', False),
    'swapaxes':
        ((4, 3, 2), 'float32',
         [[[0.0, 12.0], [4.0, 16.0], [8.0, 20.0]], [[1.0, 13.0], [5.0, 17.0], [9.0, 21.0]],
          [[2.0, 14.0], [6.0, 18.0], [10.0, 22.0]], [[3.0, 15.0], [7.0, 19.0], [11.0, 23.0]]],
         'TransposeBackward0', True),
    'swapaxes_0d': ((), 'float32', 2.0, 'TransposeBackward0', True),
    'swapaxes_same':
        ((2, 3), 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], 'TransposeBackward0', True),
    'swapdims':
        ((4, 3, 2), 'float32',
         [[[0.0, 12.0], [4.0, 16.0], [8.0, 20.0]], [[1.0, 13.0], [5.0, 17.0], [9.0, 21.0]],
          [[2.0, 14.0], [6.0, 18.0], [10.0, 22.0]], [[3.0, 15.0], [7.0, 19.0], [11.0, 23.0]]],
         'TransposeBackward0', True),
    'take': ((2, 2), 'float32', [[0.0, 5.0], [3.0, 5.0]], 'TakeBackward0', False),
    'take_0d_index': ((), 'float32', 4.0, 'TakeBackward0', False),
    'take_0d_input': ((2,), 'float32', [2.0, 2.0], 'TakeBackward0', False),
    'take_along_dim':
        ((2, 3), 'float32', [[0.0, 2.0, 1.0], [4.0, 4.0, 3.0]], 'GatherBackward0', False),
    'take_along_dim_0': ((1, 3), 'float32', [[3.0, 1.0, 5.0]], 'GatherBackward0', False),
    'take_along_dim_argmax': ((2, 1), 'float32', [[2.0], [3.0]], 'GatherBackward0', False),
    'take_along_dim_broadcast_indices':
        ((2, 3, 1), 'float32', [[[1.0], [5.0], [9.0]], [[15.0], [19.0], [23.0]]],
         'GatherBackward0', False),
    'take_along_dim_broadcast_input':
        ((2, 2), 'float32', [[0.0, 1.0], [2.0, 2.0]], 'GatherBackward0', False),
    'take_along_dim_none': ((3,), 'float32', [5.0, 0.0, 3.0], 'GatherBackward0', False),
    'take_repeats': ((3,), 'float32', [3.0, 3.0, 2.0], 'TakeBackward0', False),
    'tensor_split_dim':
        [((2, 3, 1), 'float32', [[[0.0], [4.0], [8.0]], [[12.0], [16.0], [20.0]]],
          'SliceBackward0', True),
         ((2, 3, 2), 'float32',
          [[[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]], [[13.0, 14.0], [17.0, 18.0], [21.0, 22.0]]],
          'SliceBackward0', True),
         ((2, 3, 1), 'float32', [[[3.0], [7.0], [11.0]], [[15.0], [19.0], [23.0]]],
          'SliceBackward0', True)],
    'tensor_split_indices':
        [((1,), 'float32', [0.0], 'SliceBackward0', True),
         ((4,), 'float32', [1.0, 2.0, 3.0, 4.0], 'SliceBackward0', True),
         ((2,), 'float32', [5.0, 6.0], 'SliceBackward0', True)],
    'tensor_split_keyword':
        [((2, 3, 2), 'float32',
          [[[0.0, 1.0], [4.0, 5.0], [8.0, 9.0]], [[12.0, 13.0], [16.0, 17.0], [20.0, 21.0]]],
          'SliceBackward0', True),
         ((2, 3, 2), 'float32',
          [[[2.0, 3.0], [6.0, 7.0], [10.0, 11.0]], [[14.0, 15.0], [18.0, 19.0], [22.0, 23.0]]],
          'SliceBackward0', True)],
    'tensor_split_more_sections':
        [((1,), 'float32', [0.0], 'SliceBackward0', True),
         ((1,), 'float32', [1.0], 'SliceBackward0', True),
         ((1,), 'float32', [2.0], 'SliceBackward0', True),
         ((1,), 'float32', [3.0], 'SliceBackward0', True),
         ((0,), 'float32', [], 'SliceBackward0', True),
         ((0,), 'float32', [], 'SliceBackward0', True)],
    'tensor_split_no_indices':
        [((7,), 'float32', [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 'SliceBackward0', True)],
    'tensor_split_odd_indices':
        [((5,), 'float32', [0.0, 1.0, 2.0, 3.0, 4.0], 'SliceBackward0', True),
         ((0,), 'float32', [], 'SliceBackward0', True),
         ((4,), 'float32', [2.0, 3.0, 4.0, 5.0], 'SliceBackward0', True),
         ((1,), 'float32', [6.0], 'SliceBackward0', True),
         ((0,), 'float32', [], 'SliceBackward0', True)],
    'tensor_split_sections':
        [((3,), 'float32', [0.0, 1.0, 2.0], 'SliceBackward0', True),
         ((2,), 'float32', [3.0, 4.0], 'SliceBackward0', True),
         ((2,), 'float32', [5.0, 6.0], 'SliceBackward0', True)],
    'tensor_split_tensor_indices':
        [((1,), 'float32', [0.0], 'SliceBackward0', True),
         ((4,), 'float32', [1.0, 2.0, 3.0, 4.0], 'SliceBackward0', True),
         ((2,), 'float32', [5.0, 6.0], 'SliceBackward0', True)],
    'tensor_split_tensor_sections':
        [((3,), 'float32', [0.0, 1.0, 2.0], 'SliceBackward0', True),
         ((2,), 'float32', [3.0, 4.0], 'SliceBackward0', True),
         ((2,), 'float32', [5.0, 6.0], 'SliceBackward0', True)],
    'unfold':
        ((6, 2), 'float32',
         [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0], [5.0, 6.0]],
         'UnfoldBackward0', True),
    'unfold_0d': ((1,), 'float32', [2.0], 'UnfoldBackward0', True),
    'unfold_dim0':
        ((2, 4, 2), 'float32',
         [[[0.0, 4.0], [1.0, 5.0], [2.0, 6.0], [3.0, 7.0]],
          [[4.0, 8.0], [5.0, 9.0], [6.0, 10.0], [7.0, 11.0]]],
         'UnfoldBackward0', True),
    'unfold_dim1':
        ((3, 2, 2), 'float32',
         [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]], [[8.0, 9.0], [10.0, 11.0]]],
         'UnfoldBackward0', True),
    'unfold_negative_dim':
        ((3, 2, 3), 'float32',
         [[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0], [5.0, 6.0, 7.0]],
          [[8.0, 9.0, 10.0], [9.0, 10.0, 11.0]]],
         'UnfoldBackward0', True),
    'unfold_step':
        ((3, 3), 'float32', [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0], [4.0, 5.0, 6.0]],
         'UnfoldBackward0', True),
    'unfold_step_past_end': ((2, 2), 'float32', [[0.0, 1.0], [4.0, 5.0]], 'UnfoldBackward0', True),
    'unfold_whole':
        ((1, 7), 'float32', [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], 'UnfoldBackward0', True),
    'vsplit':
        [((1, 3, 4), 'float32',
          [[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]],
          'SliceBackward0', True),
         ((1, 3, 4), 'float32',
          [[[12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0]]],
          'SliceBackward0', True)],
    'vstack_0d': ((2, 1), 'float32', [[2.0], [2.0]], 'CatBackward0', False),
    'vstack_1d': ((2, 3), 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], 'CatBackward0', False),
    'vstack_mixed':
        ((3, 3), 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [0.0, 1.0, 2.0]], 'CatBackward0',
         False),
}


def _describe(out):
    if isinstance(out, (tuple, list)):
        return [_describe(t) for t in out]
    name = type(out.grad_fn).__name__ if out.grad_fn is not None else None
    return (tuple(out.shape), str(out.dtype).split(".")[-1], out.tolist(), name,
            out._base is not None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_pytorch(case):
    got = _describe(CASES[case](DG))
    want = EXPECTED[case]
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        pairs = list(zip(got, want))
    else:
        pairs = [(got, want)]
    for g, w in pairs:
        shape, dtype, values, name, is_view = w
        assert g[:4] == (shape, dtype, values, name)
        if 0 not in shape:  # (an empty result shares no memory: it is never a view here)
            assert g[4] == is_view


# ------------------------------------------------------------------ identity and views


def test_unchanged_inputs_are_returned_as_they_are():
    v, m = v3(DG), m6(DG)
    assert shape_extra.broadcast_tensors(v, m)[1] is m
    assert all(a is b for a, b in zip(shape_extra.broadcast_tensors(v, v), (v, v)))
    assert shape_extra.atleast_1d(v) is v and shape_extra.atleast_2d(m) is m
    assert shape_extra.atleast_3d(x := x24(DG)) is x
    assert shape_extra.cartesian_prod(v) is v
    assert shape_extra.atleast_1d() == () and shape_extra.broadcast_tensors() == ()
    r0 = shape_extra.combinations(c4(DG), 0)
    assert not r0.requires_grad and r0.grad_fn is None


@pytest.mark.parametrize("make", [
    lambda y: shape_extra.narrow(y, 1, 1, 2),
    lambda y: shape_extra.movedim(y, 0, -1),
    lambda y: shape_extra.swapaxes(y, 0, 2),
    lambda y: shape_extra.tensor_split(y, [1], dim=2)[1],
    lambda y: shape_extra.dsplit(y, 2)[0],
    lambda y: shape_extra.broadcast_to(y[:, :1], (2, 3, 4)),
    lambda y: shape_extra.broadcast_tensors(y, DG.ones(3, 1, 1, 1))[0],
    lambda y: shape_extra.unfold_windows(y, 2, 2, 1),
])
def test_views_share_memory_and_version_with_their_base(make):
    y = x24(DG) * 1.0
    view = make(y)
    assert view._base is y and np.shares_memory(view._data, y._data)
    with distgrad.no_grad():
        y.add_(100.0)
    assert view._version == y._version == 1
    assert float(view.min()) >= 100.0


def test_in_place_through_a_narrowed_view_reaches_the_base():
    x = DG.arange(6.0).requires_grad_()
    y = x * 1.0
    shape_extra.narrow(y, 0, 1, 3).mul_(2.0)
    assert y.tolist() == [0.0, 2.0, 4.0, 6.0, 4.0, 5.0] and y.grad_fn.name() == "CopySlices"
    y.pow(2).sum().backward()
    assert x.grad.tolist() == [0.0, 8.0, 16.0, 24.0, 8.0, 10.0]  # PyTorch's


def test_windows_follow_their_base_and_write_through_when_apart():
    x = DG.arange(7.0).requires_grad_()
    y = x * 1.0
    windows = shape_extra.unfold_windows(y, 0, 3, 2)
    y.mul_(2.0)  # the windows see it, and their history is re-derived from y's
    assert windows.tolist() == [[0.0, 2.0, 4.0], [4.0, 6.0, 8.0], [8.0, 10.0, 12.0]]
    (windows * DG.arange(9.0).reshape(3, 3)).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 10.0, 8.0, 22.0, 14.0, 16.0]  # PyTorch's
    x.grad = None
    y = x * 1.0
    shape_extra.unfold_windows(y, 0, 2, 2).mul_(3.0)  # windows side by side
    assert y.tolist() == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 6.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 1.0]


def test_in_place_on_overlapping_windows_is_refused():
    # PyTorch writes each shared element once per window that holds it; distgrad refuses
    # rather than guess which write wins.
    y = DG.arange(7.0).requires_grad_() * 1.0
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        shape_extra.unfold_windows(y, 0, 3, 2).mul_(2.0)


def test_windows_gradient_adds_overlaps_and_saves_pytorchs_attributes():
    v = v7(DG)
    w = shape_extra.unfold_windows(v, 0, 3, 2)
    node = w.grad_fn
    assert (node._saved_dimension, node._saved_size, node._saved_step) == (0, 3, 2)
    w.sum().backward()
    assert v.grad.tolist() == [1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0]  # PyTorch's
    m = DG.arange(12.0).reshape(3, 4).requires_grad_()
    (shape_extra.unfold_windows(m, 1, 3, 1) * DG.arange(1.0, 7.0).reshape(1, 2, 3)).sum() \
        .backward()
    assert m.grad.tolist() == [[1.0, 6.0, 8.0, 6.0]] * 3  # PyTorch's
    assert shape_extra.rot90(m, -3).grad_fn._saved_k == -3


def test_backward_values_match_pytorch():
    m = m6(DG)
    (shape_extra.rot90(m, 1, [0, 1]) * DG.arange(6.0).reshape(3, 2)).sum().backward()
    assert m.grad.tolist() == [[4.0, 2.0, 0.0], [5.0, 3.0, 1.0]]
    m.grad = None
    shape_extra.take(m, DG.tensor([[0, 5], [5, -1]])).sum().backward()
    assert m.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]]
    m.grad = None
    shape_extra.take_along_dim(m, DG.tensor([[2], [2]]), 1).sum().backward()
    assert m.grad.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    a = a2(DG)
    (shape_extra.combinations(a, 2, with_replacement=True) * DG.tensor([1.0, 10.0])).sum() \
        .backward()
    assert a.grad.tolist() == [12.0, 21.0]


# ------------------------------------------------------------------- derivatives


def rand(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return distgrad.tensor(data, requires_grad=True)


F = shape_extra
GRAD_CASES = {
    "narrow": (lambda x: F.narrow(x, 1, 1, 2), (3, 4)),
    "movedim": (lambda x: F.movedim(x, (0, 2), (1, 0)), (2, 3, 4)),
    "moveaxis": (lambda x: F.moveaxis(x, -1, 0), (2, 3, 4)),
    "swapaxes": (lambda x: F.swapaxes(x, 0, 2), (2, 3, 4)),
    "swapdims": (lambda x: F.swapdims(x, 1, -1), (2, 3, 4)),
    "tensor_split": (lambda x: F.tensor_split(x, 3, dim=1), (2, 7)),
    "tensor_split_indices": (lambda x: F.tensor_split(x, [1, -1]), (5, 2)),
    "hsplit": (lambda x: F.hsplit(x, [1]), (2, 3)),
    "vsplit": (lambda x: F.vsplit(x, 2), (4, 3)),
    "dsplit": (lambda x: F.dsplit(x, 2), (2, 2, 4)),
    "broadcast_to": (lambda x: F.broadcast_to(x, (2, 3, 4)), (3, 1)),
    "broadcast_tensors": (lambda x, y: F.broadcast_tensors(x, y), (3, 1), (4,)),
    "atleast_1d": (lambda x: F.atleast_1d(x) * 1.0, ()),
    "atleast_2d": (lambda x: F.atleast_2d(x), (3,)),
    "atleast_3d": (lambda x, y: F.atleast_3d(x, y), (3,), (2, 3)),
    "hstack": (lambda x, y: F.hstack([x, y]), (2, 3), (2, 1)),
    "vstack": (lambda x, y: F.vstack([x, y]), (3,), (2, 3)),
    "row_stack": (lambda x, y: F.row_stack([x, y]), (3,), (3,)),
    "dstack": (lambda x, y: F.dstack([x, y]), (2, 3), (2, 3, 2)),
    "column_stack": (lambda x, y: F.column_stack([x, y]), (3,), (3, 2)),
    "rot90": (lambda x: F.rot90(x, 1, (0, 2)), (2, 3, 4)),
    "rot90_back": (lambda x: F.rot90(x, -1), (2, 3)),
    "take": (lambda x: F.take(x, distgrad.tensor([[0, 5, 5], [-1, 2, 0]])), (2, 3)),
    "take_along_dim": (lambda x: F.take_along_dim(x, distgrad.tensor([[[2], [0], [2]]]), -1),
                       (2, 3, 4)),
    "take_along_dim_none": (lambda x: F.take_along_dim(x, distgrad.tensor([3, 3, 0])), (2, 2)),
    "block_diag": (lambda x, y, z: F.block_diag(x, y, z), (2, 3), (2,), ()),
    "cartesian_prod": (lambda x, y: F.cartesian_prod(x, y), (2,), (3,)),
    "combinations": (lambda x: F.combinations(x, 3), (4,)),
    "combinations_replacement": (lambda x: F.combinations(x, with_replacement=True), (3,)),
    "unfold_windows": (lambda x: F.unfold_windows(x, 1, 3, 2), (2, 7)),
    "unfold_windows_long": (lambda x: F.unfold_windows(x, 0, 5, 1), (6, 2)),
    "unfold_windows_0d": (lambda x: F.unfold_windows(x, 0, 1, 1), ()),
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradcheck_and_gradgradcheck(case):
    fn, *shapes = GRAD_CASES[case]
    inputs = tuple(rand(*shape, seed=i) for i, shape in enumerate(shapes))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_block_diag_gradients_keep_each_input_dtype():
    a = distgrad.tensor([[1.0, 2.0]], requires_grad=True)
    b = distgrad.tensor([3.0], dtype=distgrad.float64, requires_grad=True)
    out = F.block_diag(a, b)
    assert out.dtype == distgrad.float64
    ga, gb = distgrad.autograd.grad(out.sum(), (a, b), create_graph=True)
    assert (ga.dtype, gb.dtype) == (distgrad.float32, distgrad.float64)
    assert ga.tolist() == [[1.0, 1.0]] and gb.tolist() == [1.0]


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.rot90(x, 3), (2, 3)),
    (lambda x: F.take(x, distgrad.tensor([4, 0, 4])), (2, 3)),
    (lambda x: F.block_diag(x, x[0]), (2, 3)),
    (lambda x: F.unfold_windows(x, 1, 2, 1), (2, 3)),
    (lambda x: F.narrow(F.movedim(x, 0, 1), 0, 1, 2), (2, 3)),
])
def test_forward_mode_matches_reverse_mode(fn, shape):
    x = rand(*shape)
    tangent = rand(*shape, seed=1).detach()
    with forward_ad.dual_level():
        jvp = forward_ad.unpack_dual(fn(forward_ad.make_dual(x.detach(), tangent))).tangent
    out = fn(x)
    # <J t, u> == <t, J^T u> for a random u
    u = rand(*out.shape, seed=2).detach()
    (vjp,) = distgrad.autograd.grad(out, x, u)
    np.testing.assert_allclose(float((jvp * u).sum()), float((tangent * vjp).sum()),
                               rtol=1e-12)


# ------------------------------------------------------------------------------ errors

# (case, exception type, PyTorch's message), each checked against PyTorch 2.13.
ERROR_CASES = {
    "narrow_past_end": (lambda T: T.narrow(x24(T), 1, 2, 2), RuntimeError,
                        "start (2) + length (2) exceeds dimension size (3)."),
    "narrow_negative_start_past_end": (lambda T: T.narrow(v7(T), 0, -1, 2), RuntimeError,
                                       "start (6) + length (2) exceeds dimension size (7)."),
    "narrow_negative_length": (lambda T: T.narrow(x24(T), 1, 0, -1), RuntimeError,
                               "narrow(): length must be non-negative."),
    "narrow_start_out_of_range": (lambda T: T.narrow(x24(T), 1, 4, 0), IndexError,
                                  "start out of range (expected to be in range of [-3, 3], but "
                                  "got 4)"),
    "narrow_negative_start_out_of_range": (
        lambda T: T.narrow(x24(T), 1, -4, 0), IndexError,
        "start out of range (expected to be in range of [-3, 3], but got -4)"),
    "narrow_0d": (lambda T: T.narrow(s2(T), 0, 0, 1), RuntimeError,
                  "narrow() cannot be applied to a 0-dim tensor."),
    "narrow_dim": (lambda T: T.narrow(x24(T), 3, 0, 1), IndexError,
                   "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    "narrow_float_start_tensor": (lambda T: T.narrow(v7(T), 0, T.tensor(1.0), 2), RuntimeError,
                                  "start must be an 0-dim integral Tensor."),
    "narrow_1d_start_tensor": (lambda T: T.narrow(v7(T), 0, T.tensor([1]), 2), RuntimeError,
                               "start must be an 0-dim integral Tensor."),
    "movedim_repeated_source": (lambda T: T.movedim(x24(T), (0, -3), (1, 2)), RuntimeError,
                                "movedim: repeated dim in `source` ([0, -3])"),
    "movedim_repeated_destination": (lambda T: T.movedim(x24(T), (0, 1), (2, 2)),
                                     RuntimeError,
                                     "movedim: repeated dim in `destination` ([2, 2])"),
    "movedim_lengths": (lambda T: T.movedim(x24(T), (0, 1), (2,)), RuntimeError,
                        "movedim: Invalid source or destination dims: source ([0, 1] dims) "
                        "should contain the same number of dims as destination ([2] dims)"),
    "movedim_dim": (lambda T: T.movedim(x24(T), 3, 0), IndexError,
                    "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    "swapaxes_dim": (lambda T: T.swapaxes(m6(T), 0, 2), IndexError,
                     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    "tensor_split_zero": (lambda T: T.tensor_split(v7(T), 0), RuntimeError,
                          "number of sections must be larger than 0, got 0"),
    "tensor_split_negative": (lambda T: T.tensor_split(v7(T), -1), RuntimeError,
                              "number of sections must be larger than 0, got -1"),
    "tensor_split_0d": (lambda T: T.tensor_split(s2(T), 1), RuntimeError,
                        "tensor_split expected at least a 1-dimensional tensor, but got a tensor "
                        "with 0 dims"),
    "tensor_split_float_tensor": (lambda T: T.tensor_split(v7(T), T.tensor([1.0])),
                                  RuntimeError,
                                  "tensor_split expected tensor_indices_or_sections to have "
                                  "dtype of long, but got Float"),
    "tensor_split_2d_tensor": (lambda T: T.tensor_split(v7(T), T.tensor([[1]])), RuntimeError,
                               "tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               "with 2 dims"),
    "tensor_split_dim": (lambda T: T.tensor_split(v7(T), 2, dim=1), IndexError,
                         "Dimension out of range (expected to be in range of [-1, 0], but got "
                         "1)"),
    "hsplit_0d": (lambda T: T.hsplit(s2(T), 1), RuntimeError,
                  "torch.hsplit requires a tensor with at least 1 dimension, but got a tensor "
                  "with 0 dimensions!"),
    "hsplit_indivisible": (lambda T: T.hsplit(v7(T), 2), RuntimeError,
                           "torch.hsplit attempted to split along dimension 0, but the size of "
                           "the dimension 7 is not divisible by the split_size 2!"),
    "hsplit_indivisible_2d": (lambda T: T.hsplit(x24(T), 2), RuntimeError,
                              "torch.hsplit attempted to split along dimension 1, but the size "
                              "of the dimension 3 is not divisible by the split_size 2!"),
    "hsplit_zero": (lambda T: T.hsplit(v7(T), 0), RuntimeError,
                    "torch.hsplit attempted to split along dimension 0, but the size of the "
                    "dimension 7 is not divisible by the split_size 0!"),
    "vsplit_1d": (lambda T: T.vsplit(v7(T), 1), RuntimeError,
                  "torch.vsplit requires a tensor with at least 2 dimension, but got a tensor "
                  "with 1 dimensions!"),
    "vsplit_indivisible": (lambda T: T.vsplit(x24(T), 3), RuntimeError,
                           "torch.vsplit attempted to split along dimension 0, but the size of "
                           "the dimension 2 is not divisible by the split_size 3!"),
    "dsplit_2d": (lambda T: T.dsplit(m6(T), 1), RuntimeError,
                  "torch.dsplit requires a tensor with at least 3 dimension, but got a tensor "
                  "with 2 dimensions!"),
    "dsplit_indivisible": (lambda T: T.dsplit(x24(T), 3), RuntimeError,
                           "torch.dsplit attempted to split along dimension 2, but the size of "
                           "the dimension 4 is not divisible by the split_size 3!"),
    "broadcast_to_mismatch": (lambda T: T.broadcast_to(v3(T), (2, 4)), RuntimeError,
                              "The expanded size of the tensor (4) must match the existing size "
                              "(3) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor "
                              "sizes: [3]"),
    "broadcast_to_leading_minus_one": (lambda T: T.broadcast_to(v3(T), (-1, 3)), RuntimeError,
                                       "The expanded size of the tensor (-1) isn't allowed in a "
                                       "leading, non-existing dimension 0"),
    "broadcast_tensors_mismatch": (
        lambda T: T.broadcast_tensors(T.ones(2, 3), T.ones(4, 1, 1), T.ones(5, 1)),
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (5) at non-singleton "
        "dimension 1"),
    "broadcast_tensors_list": (lambda T: T.broadcast_tensors([v3(T)]), TypeError,
                               "expected Tensor as element 0 in argument 0, but got list"),
    "hstack_empty": (lambda T: T.hstack([]), RuntimeError,
                     "hstack expects a non-empty TensorList"),
    "vstack_empty": (lambda T: T.vstack(()), RuntimeError,
                     "vstack expects a non-empty TensorList"),
    "dstack_empty": (lambda T: T.dstack([]), RuntimeError,
                     "dstack expects a non-empty TensorList"),
    "column_stack_empty": (lambda T: T.column_stack([]), RuntimeError,
                           "column_stack expects a non-empty TensorList"),
    "hstack_dims": (lambda T: T.hstack([m6(T), v3(T)]), RuntimeError,
                    "Tensors must have same number of dimensions: got 2 and 1"),
    "vstack_sizes": (lambda T: T.vstack([m6(T), a2(T)]), RuntimeError,
                     "Sizes of tensors must match except in dimension 0. Expected size 3 but got "
                     "size 2 for tensor number 1 in the list."),
    "dstack_sizes": (lambda T: T.dstack([T.ones(2, 3), T.ones(2)]), RuntimeError,
                     "Sizes of tensors must match except in dimension 2. Expected size 2 but got "
                     "size 1 for tensor number 1 in the list."),
    "column_stack_sizes": (lambda T: T.column_stack([T.ones(2, 3), T.ones(3)]), RuntimeError,
                           "Sizes of tensors must match except in dimension 1. Expected size 2 "
                           "but got size 3 for tensor number 1 in the list."),
    "hstack_tensor": (lambda T: T.hstack(m6(T)), TypeError,
                      "hstack(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                      "Tensor"),
    "hstack_number": (lambda T: T.hstack([v3(T), 1.0]), TypeError,
                      "expected Tensor as element 1 in argument 0, but got float"),
    "rot90_one_dim": (lambda T: T.rot90(m6(T), 1, [0]), RuntimeError,
                      "expected total rotation dims == 2, but got dims = 1"),
    "rot90_three_dims": (lambda T: T.rot90(x24(T), 1, [0, 1, 2]), RuntimeError,
                         "expected total rotation dims == 2, but got dims = 3"),
    "rot90_1d": (lambda T: T.rot90(T.ones(3), 1, [0, 0]), RuntimeError,
                 "expected total dims >= 2, but got total dims = 1"),
    "rot90_same_dims": (lambda T: T.rot90(m6(T), 1, [0, 0]), RuntimeError,
                        "expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"),
    "rot90_same_wrapped_dims": (lambda T: T.rot90(x24(T), 1, [0, -3]), RuntimeError,
                                "expected rotation dims to be different, but got dim0 = 0 and "
                                "dim1 = -3"),
    "rot90_dim": (lambda T: T.rot90(m6(T), 1, [0, 2]), IndexError,
                  "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    "rot90_dims_int": (lambda T: T.rot90(m6(T), 1, 0), TypeError,
                       "rot90(): argument 'dims' (position 3) must be tuple of ints, not int"),
    "take_out_of_range": (lambda T: T.take(m6(T), T.tensor([1, 6])), IndexError,
                          "out of range: tried to access index 6 on a tensor of 6 elements."),
    "take_negative_out_of_range": (lambda T: T.take(m6(T), T.tensor([-7])), IndexError,
                                   "out of range: tried to access index -7 on a tensor of 6 "
                                   "elements."),
    "take_float_index": (lambda T: T.take(m6(T), T.tensor([1.0])), RuntimeError,
                         "take(): Expected a long tensor for index, but got Float"),
    "take_int32_index": (lambda T: T.take(m6(T), T.tensor([1], dtype=T.int32)), RuntimeError,
                         "take(): Expected a long tensor for index, but got Int"),
    "take_list_index": (lambda T: T.take(m6(T), [1]), TypeError,
                        "take(): argument 'index' (position 2) must be Tensor, not list"),
    "take_along_dim_dims": (lambda T: T.take_along_dim(m6(T), T.tensor([0, 1]), 1),
                            RuntimeError,
                            "torch.take_along_dim(): input and indices should have the same "
                            "number of dimensions, but got 2 dimensions for input, and 1 "
                            "dimensions for indices"),
    "take_along_dim_float": (lambda T: T.take_along_dim(m6(T), T.tensor([[0.0]]), 1),
                             RuntimeError,
                             "torch.take_along_dim(): dtype of indices should be Long but got "
                             "Float"),
    "take_along_dim_shapes": (lambda T: T.take_along_dim(m6(T), T.tensor([[0], [0], [0]]), 1),
                              RuntimeError,
                              "The size of tensor a (2) must match the size of tensor b (3) at "
                              "non-singleton dimension 0"),
    "take_along_dim_dim": (lambda T: T.take_along_dim(m6(T), T.tensor([[0]]), 2), IndexError,
                           "Dimension out of range (expected to be in range of [-2, 1], but got "
                           "2)"),
    "take_along_dim_none_out_of_range": (lambda T: T.take_along_dim(m6(T), T.tensor([7])),
                                         RuntimeError,
                                         "index 7 is out of bounds for dimension 0 with size 6"),
    "take_along_dim_none_float": (lambda T: T.take_along_dim(m6(T), T.tensor([1.0])),
                                  RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    "block_diag_3d": (lambda T: T.block_diag(m6(T), T.ones(1, 1, 1)), RuntimeError,
                      "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 1 "
                      "has 3 dimensions"),
    "block_diag_list": (lambda T: T.block_diag([m6(T)]), TypeError,
                        "expected Tensor as element 0 in argument 0, but got list"),
    "cartesian_prod_2d": (lambda T: T.cartesian_prod(a2(T), m6(T)), RuntimeError,
                          "Expect a 1D vector, but got shape [2, 3]"),
    "cartesian_prod_0d": (lambda T: T.cartesian_prod(a2(T), s2(T)), RuntimeError,
                          "Expect a 1D vector, but got shape []"),
    "cartesian_prod_none": (lambda T: T.cartesian_prod(), RuntimeError,
                            "meshgrid expects a non-empty TensorList"),
    "cartesian_prod_dtypes": (lambda T: T.cartesian_prod(T.tensor([1, 2]), a2(T)), RuntimeError,
                              "meshgrid expects all tensors to have the same dtype"),
    "combinations_negative": (lambda T: T.combinations(c4(T), -1), RuntimeError,
                              "Expect a non-negative number, but got -1"),
    "combinations_2d": (lambda T: T.combinations(m6(T), -1), RuntimeError,
                        "Expect a 1D vector, but got shape [2, 3]"),
    "combinations_0d": (lambda T: T.combinations(s2(T)), RuntimeError,
                        "Expect a 1D vector, but got shape []"),
    "unfold_too_big": (lambda T: T.unfold_windows(v7(T), 0, 8, 1), RuntimeError,
                       "maximum size for tensor at dimension 0 is 7 but size is 8"),
    "unfold_0d_too_big": (lambda T: T.unfold_windows(s2(T), 0, 2, 1), RuntimeError,
                          "maximum size for tensor at dimension 0 is 1 but size is 2"),
    "unfold_step_zero": (lambda T: T.unfold_windows(v7(T), 0, 2, 0), RuntimeError,
                         "step is 0 but must be > 0"),
    "unfold_step_negative": (lambda T: T.unfold_windows(v7(T), 0, 2, -1), RuntimeError,
                             "step is -1 but must be > 0"),
    "unfold_size_negative": (lambda T: T.unfold_windows(v7(T), 0, -1, 1), RuntimeError,
                             "size is -1 but must be >= 0"),
    "unfold_dim": (lambda T: T.unfold_windows(s2(T), 1, 1, 1), IndexError,
                   "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_are_pytorchs(case):
    fn, error, message = ERROR_CASES[case]
    with pytest.raises(error) as info:
        fn(DG)
    assert str(info.value) == message


@pytest.mark.parametrize("fn, error, match", [
    # PyTorch prefixes ``expand(torch.FloatTensor{[2, 3]}, size=[3]): ``.
    (lambda: F.broadcast_to(m6(DG), (3,)), RuntimeError,
     r"the number of sizes provided \(1\) must be greater or equal to the number of dimensions "
     r"in the tensor \(2\)$"),
    # PyTorch's argument parser words these differently; the type is the same.
    (lambda: F.narrow(v7(DG), 0, 1.5, 2), TypeError, "narrow.*'start' must be int, not float"),
    (lambda: F.tensor_split(v7(DG), 2.5), TypeError, "must be an int, a sequence of ints"),
    (lambda: F.vsplit(m6(DG), [1.5]), TypeError, "must be an int, a sequence of ints"),
    (lambda: F.rot90(m6(DG), 1.5), TypeError, "rot90.*'k' must be int, not float"),
    (lambda: F.atleast_1d(1.0), TypeError, "expected Tensor as element 0"),
    (lambda: F.tensor_split(v7(DG), 2, sections=2), TypeError, "takes one of"),
])
def test_argument_errors(fn, error, match):
    with pytest.raises(error, match=match):
        fn()


def test_take_along_dim_refuses_out_of_range_indices():
    # PyTorch 2.13 checks no bounds here when ``dim`` is given (it returns wrong values); its
    # gather's message is given instead.
    for index, bad in (([[5]], 5), ([[-1]], -1), ([[3, 0, 0], [0, 0, 0]], 3)):
        with pytest.raises(RuntimeError) as info:
            F.take_along_dim(m6(DG), distgrad.tensor(index), 1)
        assert str(info.value) == f"index {bad} is out of bounds for dimension 1 with size 3"
