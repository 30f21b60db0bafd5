"""Pooling with ceil_mode, count_include_pad and divisor_override, and F.pad's modes.

Expected values are PyTorch 2.13's answers, recorded as literals."""

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad.autograd import gradcheck, gradgradcheck


def grid(dtype=distgrad.float32):
    return distgrad.arange(1.0, 26.0, dtype=dtype).reshape(1, 1, 5, 5)


MAX_CEIL = {  # (kernel, stride, padding): (values, indices), ceil_mode=True on grid()
    (2, 2, 0): ([7, 9, 10, 17, 19, 20, 22, 24, 25], [6, 8, 9, 16, 18, 19, 21, 23, 24]),
    (3, 2, 1): ([7, 9, 10, 17, 19, 20, 22, 24, 25], [6, 8, 9, 16, 18, 19, 21, 23, 24]),
    (2, 2, 1): ([1, 3, 5, 11, 13, 15, 21, 23, 25], [0, 2, 4, 10, 12, 14, 20, 22, 24]),
    (3, 3, 0): ([13, 15, 23, 25], [12, 14, 22, 24]),
}


@pytest.mark.parametrize("geometry", list(MAX_CEIL), ids=str)
def test_max_pool2d_ceil_mode_matches_pytorch(geometry):
    values, indices = MAX_CEIL[geometry]
    out, index = F.max_pool2d(grid(), *geometry, ceil_mode=True, return_indices=True)
    side = int(len(values) ** 0.5)
    assert out.shape == (1, 1, side, side)
    assert out.flatten().tolist() == values and index.flatten().tolist() == indices
    module = nn.MaxPool2d(*geometry, ceil_mode=True)
    assert module(grid()).flatten().tolist() == values


@pytest.mark.parametrize("geometry", list(MAX_CEIL), ids=str)
def test_max_pool2d_ceil_mode_gradients(geometry):
    x = distgrad.randn(2, 3, 5, 5, dtype=distgrad.float64, requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, *geometry, ceil_mode=True), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, *geometry, ceil_mode=True), (x,))


AVG = {  # (kernel, stride, padding, ceil_mode, count_include_pad): values on grid()
    (2, 2, 0, True, True): [4, 6, 7.5, 14, 16, 17.5, 21.5, 23.5, 25],
    (2, 2, 0, True, False): [4, 6, 7.5, 14, 16, 17.5, 21.5, 23.5, 25],
    (2, 2, 0, False, True): [4, 6, 14, 16],
    (3, 2, 1, True, True): [1.7777777910232544, 3.6666667461395264, 3.1111111640930176,
                            7.666666507720947, 13.0, 9.666666984558105, 8.44444465637207,
                            13.666666984558105, 9.777777671813965],
    (3, 2, 1, False, False): [4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22],
    (2, 2, 1, True, True): [0.25, 1.25, 2.25, 4.25, 10, 12, 9.25, 20, 22],
    (2, 2, 1, False, False): [1, 2.5, 4.5, 8.5, 10, 12, 18.5, 20, 22],
    (3, 3, 0, True, True): [7, 9.5, 19.5, 22],
    (3, 3, 0, False, True): [7],
}


@pytest.mark.parametrize("case", list(AVG), ids=str)
def test_avg_pool2d_matches_pytorch(case):
    k, s, p, ceil_mode, count_include_pad = case
    out = F.avg_pool2d(grid(), k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    np.testing.assert_allclose(out.flatten().numpy(), AVG[case], rtol=1e-6)
    assert out.dtype == distgrad.float32 and out.grad_fn is None
    module = nn.AvgPool2d(k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    np.testing.assert_allclose(module(grid()).flatten().numpy(), AVG[case], rtol=1e-6)


def test_avg_pool2d_divisor_override_and_gradients():
    out = F.avg_pool2d(grid(), 2, divisor_override=3)
    np.testing.assert_allclose(out.flatten().numpy(),
                               [5.333333492279053, 8.0, 18.66666603088379, 21.33333396911621])
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(grid(), 2, divisor_override=0)
    x = distgrad.randn(2, 2, 5, 5, dtype=distgrad.float64, requires_grad=True)
    for k, s, p, ceil_mode, count_include_pad in AVG:

        def pool(x, k=k, s=s, p=p, ceil_mode=ceil_mode, count_include_pad=count_include_pad):
            return F.avg_pool2d(x, k, s, p, ceil_mode=ceil_mode,
                                count_include_pad=count_include_pad)
        assert gradcheck(pool, (x,)) and gradgradcheck(pool, (x,))
        assert pool(x).grad_fn.name() == "AvgPool2DBackward0"


def test_avg_pool2d_unbatched_input_and_errors():
    x = distgrad.randn(3, 6, 6)
    np.testing.assert_allclose(F.avg_pool2d(x, 2).numpy(),
                               F.avg_pool2d(x.unsqueeze(0), 2).squeeze(0).numpy())
    with pytest.raises(RuntimeError, match="at most half of kernel size"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="smaller than the kernel"):
        F.avg_pool2d(x, 7)


Y = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]
PADDED = {  # mode: (F.pad(Y, (2, 1)), F.pad(Y as (1, 1, 2, 3), (1, 2, 1, 0)))
    "reflect": ([[[3, 2, 1, 2, 3, 2], [6, 5, 4, 5, 6, 5]]],
                [[[[5, 4, 5, 6, 5, 4], [2, 1, 2, 3, 2, 1], [5, 4, 5, 6, 5, 4]]]]),
    "replicate": ([[[1, 1, 1, 2, 3, 3], [4, 4, 4, 5, 6, 6]]],
                  [[[[1, 1, 2, 3, 3, 3], [1, 1, 2, 3, 3, 3], [4, 4, 5, 6, 6, 6]]]]),
    "circular": ([[[2, 3, 1, 2, 3, 1], [5, 6, 4, 5, 6, 4]]],
                 [[[[6, 4, 5, 6, 4, 5], [3, 1, 2, 3, 1, 2], [6, 4, 5, 6, 4, 5]]]]),
}


@pytest.mark.parametrize("mode", list(PADDED))
def test_pad_modes_match_pytorch(mode):
    y = distgrad.tensor(Y)
    one_d, two_d = PADDED[mode]
    assert F.pad(y, (2, 1), mode=mode).tolist() == one_d
    assert F.pad(y.reshape(1, 1, 2, 3), (1, 2, 1, 0), mode=mode).tolist() == two_d


def test_pad_negative_widths_crop():
    y = distgrad.tensor(Y)
    assert F.pad(y, (-1, 1)).tolist() == [[[2.0, 3.0, 0.0], [5.0, 6.0, 0.0]]]
    assert F.pad(y, (-1, -1, 1, 0)).tolist() == [[[0.0], [2.0], [5.0]]]
    assert F.pad(y, (-1, 1), mode="replicate").tolist() == [[[2.0, 3.0, 3.0], [5.0, 6.0, 6.0]]]
    assert F.pad(y, (-1, 1), mode="reflect").tolist() == [[[2.0, 3.0, 2.0], [5.0, 6.0, 5.0]]]
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(y, (-2, -2))
    # circular crops first, then wraps around what is left
    assert F.pad(distgrad.arange(10.0).reshape(2, 5), (-1, 2), mode="circular").tolist() == [
        [1.0, 2.0, 3.0, 4.0, 1.0, 2.0], [6.0, 7.0, 8.0, 9.0, 6.0, 7.0]]
    x = distgrad.ones(1, 1, 4, requires_grad=True)  # a single row, moved out and replicated in
    F.pad(x, (0, 0, 2, -2), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[[1.0, 1.0, 1.0, 1.0]]]


@pytest.mark.parametrize("mode,names", [
    ("reflect", ["ReflectionPad1DBackward0", "ReflectionPad2DBackward0",
                 "ReflectionPad3DBackward0"]),
    ("replicate", ["ReplicationPad1DBackward0", "ReplicationPad2DBackward0",
                   "ReplicationPad3DBackward0"]),
    ("circular", ["CircularPad1DBackward0", "CircularPad2DBackward0", "CircularPad3DBackward0"]),
])
def test_pad_modes_gradients(mode, names):
    shapes = [(2, 3, 4), (2, 2, 3, 4), (1, 2, 3, 3, 4)]
    for shape, widths, name in zip(shapes, [(2, 1), (1, 0, 2, 2), (1, 1, 0, 2, 2, 1)], names,
                                   strict=True):
        x = distgrad.randn(*shape, dtype=distgrad.float64, requires_grad=True)

        def padded(x, widths=widths):
            return F.pad(x, widths, mode=mode)
        assert padded(x).grad_fn.name() == name
        assert gradcheck(padded, (x,)) and gradgradcheck(padded, (x,))
    assert gradcheck(lambda x: F.pad(x, (-1, 2), mode=mode), (x[0, 0],))


def test_pad_mode_errors_match_pytorch():
    y = distgrad.tensor(Y)
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(y, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(y, (4, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D"):
        F.pad(distgrad.ones(3), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(distgrad.ones(1, 1, 4, 4), (1, 1), mode="replicate")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(y, (1, 1), mode="reflect", value=1.0)
    assert F.pad(y, (1, 1), mode="reflect", value=0).tolist() == [
        [[2.0, 1.0, 2.0, 3.0, 2.0], [5.0, 4.0, 5.0, 6.0, 5.0]]]


CONV_MODES = {  # padding_mode: (padding=1, padding='same') outputs, weight [[1, 0, -1], [2, 1, 0]]
    "reflect": ([5, 2, 5, 10, 17, 14, 17, 22, 29, 26, 29, 34, 41, 38, 41, 46, 29, 26, 29, 34],
                [17, 14, 17, 22, 29, 26, 29, 34, 41, 38, 41, 46, 29, 26, 29, 34]),
    "replicate": ([2, 2, 5, 9, 14, 14, 17, 21, 26, 26, 29, 33, 38, 38, 41, 45, 38, 38, 41, 45],
                  [14, 14, 17, 21, 26, 26, 29, 33, 38, 38, 41, 45, 38, 38, 41, 45]),
    "circular": ([11, 2, 5, 12, 23, 14, 17, 24, 35, 26, 29, 36, 47, 38, 41, 48, 11, 2, 5, 12],
                 [23, 14, 17, 24, 35, 26, 29, 36, 47, 38, 41, 48, 11, 2, 5, 12]),
}


@pytest.mark.parametrize("mode", list(CONV_MODES))
def test_conv2d_padding_modes_match_pytorch(mode):
    x = distgrad.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    for padding, expected in zip([1, "same"], CONV_MODES[mode], strict=True):
        conv = nn.Conv2d(1, 1, (2, 3), padding=padding, padding_mode=mode, bias=False)
        with distgrad.no_grad():
            conv.weight.copy_(distgrad.tensor([[[[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]]]))
        assert conv(x).flatten().tolist() == expected
        assert f"padding_mode={mode}" in repr(conv)
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
    x = distgrad.randn(2, 2, 4, 5, dtype=distgrad.float64, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv2d(F.pad(x, (1, 1, 1, 1), mode=mode), w), (x, conv.weight))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="bogus")


def test_adaptive_avg_pool2d_matches_pytorch():
    x = distgrad.arange(1.0, 36.0).reshape(1, 1, 5, 7)
    out = F.adaptive_avg_pool2d(x, (2, 3))
    assert out.flatten().tolist() == [9.0, 11.0, 13.0, 23.0, 25.0, 27.0]
    assert F.adaptive_avg_pool2d(x, (3, None)).shape == (1, 1, 3, 7)
    assert F.adaptive_avg_pool2d(x, 1).flatten().tolist() == [18.0]
    assert F.adaptive_avg_pool2d(x[0], (7, 9)).shape == (1, 7, 9)  # larger than the input
    xg = distgrad.randn(2, 3, 5, 7, dtype=distgrad.float64, requires_grad=True)
    assert F.adaptive_avg_pool2d(xg, (2, 3)).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    for size in [(2, 3), 1, (4, 6)]:
        def pool(x, size=size):
            return F.adaptive_avg_pool2d(x, size)
        assert gradcheck(pool, (xg,)) and gradgradcheck(pool, (xg,))
    with pytest.raises(RuntimeError, match="3-D or 4-D"):
        F.adaptive_avg_pool2d(distgrad.ones(4, 4), 2)


def test_padding_and_adaptive_pooling_modules():
    x = distgrad.tensor(Y).reshape(1, 1, 2, 3)
    assert nn.ReflectionPad2d((1, 2, 1, 0))(x).tolist() == PADDED["reflect"][1]
    assert nn.ReplicationPad2d((1, 2, 1, 0))(x).tolist() == PADDED["replicate"][1]
    assert nn.CircularPad2d((1, 2, 1, 0))(x).tolist() == PADDED["circular"][1]
    assert nn.ReflectionPad1d((2, 1))(distgrad.tensor(Y)).tolist() == PADDED["reflect"][0]
    assert nn.ZeroPad2d(1)(x).shape == (1, 1, 4, 5) and nn.ZeroPad2d(1)(x).sum().item() == 21
    assert nn.ConstantPad1d(2, 3.5)(distgrad.tensor(Y)).tolist()[0][0] == [3.5, 3.5, 1, 2, 3,
                                                                         3.5, 3.5]
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"
    head = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert head(distgrad.randn(5, 1, 6, 7)).shape == (5, 4)
    with pytest.raises(ValueError, match="4-tuple"):
        nn.ZeroPad2d((1, 2))
