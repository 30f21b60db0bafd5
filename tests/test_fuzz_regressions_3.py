"""Regression tests from the third round of differential fuzzing against PyTorch 2.13
(transposed convolution, fold, embedding_bag, attention, recurrent layers, activations).
Expected values were recorded from PyTorch; the tests do not import it."""

import numpy as np

import distgrad
import distgrad.nn.functional as F


def test_conv_transpose2d_output_padding_beyond_stride_groups_bias():
    # output_padding (1, 1) >= stride 1 on the height (allowed by dilation 2), groups 2.
    x = (distgrad.arange(8.0, dtype=distgrad.float64).reshape(1, 2, 2, 2) - 3).requires_grad_()
    w = (distgrad.arange(8.0, dtype=distgrad.float64).reshape(2, 1, 2, 2) % 3 - 1)
    w.requires_grad_()
    b = distgrad.tensor([0.5, -1.0], dtype=distgrad.float64, requires_grad=True)
    y = F.conv_transpose2d(x, w, b, stride=(1, 2), padding=(0, 1), output_padding=(1, 1),
                           groups=2, dilation=(2, 2))
    assert tuple(y.shape) == (1, 2, 5, 4)
    np.testing.assert_allclose(y.detach().numpy(), [[
        [[0.5, 2.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [0.5, 1.5, 0.5, 2.5],
         [0.5, 1.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]],
        [[-1.0, 0.0, -1.0, 1.0], [-1.0, 2.0, -1.0, 3.0], [-1.0, -3.0, -1.0, -1.0],
         [-1.0, -5.0, -1.0, -1.0], [-1.0, -1.0, -1.0, -1.0]]]])
    g = distgrad.arange(40.0, dtype=distgrad.float64).reshape(1, 2, 5, 4) % 5 - 2
    (y * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[[-2.0, 4.0], [-1.0, 5.0]],
                                                 [[-1.0, -1.0], [-2.0, -1.0]]]])
    np.testing.assert_allclose(w.grad.numpy(), [[[[2.0, 3.0], [-4.0, -5.0]]],
                                                [[[-10.0, -5.0], [8.0, -5.0]]]])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0])


def test_embedding_bag_max_include_last_offset_padding_idx_empty_bag():
    w = distgrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    out = F.embedding_bag(distgrad.tensor([2, 0, 1, 2, 1]), w, distgrad.tensor([0, 2, 2, 5]),
                          mode="max", include_last_offset=True, padding_idx=1)
    np.testing.assert_allclose(out.detach().numpy(), [[5.0, 6.0], [0.0, 0.0], [5.0, 6.0]])
    (out * distgrad.tensor([[1.0, -1.0], [2.0, 3.0], [1.0, 1.0]])).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[0.0, 0.0], [0.0, 0.0], [2.0, 0.0]])


def test_embedding_bag_scale_grad_by_freq_divides_by_each_rows_count():
    # PyTorch 2.13's CPU kernel divides group i's rows by the count of the i-th *sorted*
    # index (giving row 2 a gradient of 0.5 here); distgrad follows the documented
    # semantics: each row's gradient divided by that row's own count.
    w = distgrad.arange(12.0).reshape(6, 2).requires_grad_()
    F.embedding_bag(distgrad.tensor([1, 1, 0, 2]), w, distgrad.tensor([0]), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy()[:3], [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
