"""Transposed convolutions, unfold/fold, pixel and channel shuffle, and embedding_bag.

Expected values are PyTorch 2.13's answers, recorded as literals: for deterministic inputs
``det(shape, phase)``, each case records the output's shape, the loss ``(out * det).sum()``
and the inner products of the gradients with further ``det`` patterns.
"""

import math

import numpy as np
import pytest

import distgrad
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.nn import conv_more as nn
from distgrad.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from distgrad.ops.embedding_bag import embedding_bag
from distgrad.ops.fold import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold


def det(shape, phase):
    return np.sin(np.arange(math.prod(shape)) * 0.37 + phase).reshape(shape)


def leaf(shape, phase):
    return distgrad.tensor(det(shape, phase), requires_grad=True)


def proj(t, phase):
    return float((t.numpy() * det(tuple(t.shape), phase)).sum())


def loss_of(y):
    return (y * distgrad.tensor(det(tuple(y.shape), 0.5))).sum()


# (n, c_in, c_out, groups, kernel, stride, padding, output_padding, dilation, hw, bias):
#     [out shape, loss, <grad x, det 1.1>, <grad w, det 1.3>, <grad b, det 1.7>]
CONV_T2D = {
    (1, 2, 3, 1, (3, 3), 1, 0, 0, 1, (4, 4), True):
        [(1, 3, 6, 6), 4.779648577256454, -0.5508564633845152,
         1.4201581842114437, 4.0524973080152105],
    (13, 4, 6, 2, (3, 2), (2, 1), (1, 0), (1, 0), (1, 2), (3, 5), True):
        [(13, 6, 6, 7), -12.044849647431722, -6.670393345252501,
         3.3964275680782885, 2.054977339408782],
    (2, 3, 3, 3, (2, 2), 2, 1, 1, 1, (3, 3), False):
        [(2, 3, 5, 5), 2.505600476637924, 0.15593550063464434,
         1.39525923414612, None],
    (1, 2, 2, 1, (3, 3), 1, 1, 1, 2, (4, 3), True):
        [(1, 2, 7, 6), -0.21478471035798596, 12.28346812721493,
         11.159511985709564, 0.48267652272761197],
    (13, 2, 4, 2, (2, 3), (3, 2), (2, 1), (2, 0), (2, 1), (3, 4), False):
        [(13, 4, 7, 7), -47.889703951510796, 4.258302996907943,
         -14.934278902645694, None],
    (1, 3, 2, 1, (1, 1), 3, 0, 2, 1, (2, 2), True):
        [(1, 2, 6, 6), 4.708978230405925, -3.1585222108785773,
         6.636941035591943, 3.0079386793973377],
}
CONV_T1D = {
    (1, 2, 4, 2, 3, 2, 1, 1, 1, 5, True):
        [(1, 4, 10), 6.180610498618087, 3.8338578412160698,
         1.7759836832704803, 3.053561273015795],
    (13, 3, 2, 1, 2, 1, 0, 1, 3, 4, False):
        [(13, 2, 8), 1.6871306107458732, -2.097628712939525,
         3.2313896820937575, None],
}


@pytest.mark.parametrize("case", list(CONV_T2D), ids=str)
def test_conv_transpose2d_matches_pytorch(case):
    n, cin, cout, groups, k, stride, padding, out_pad, dilation, hw, bias = case
    shape, loss, gx, gw, gb = CONV_T2D[case]
    x, w, b = leaf((n, cin) + hw, 0.1), leaf((cin, cout // groups) + k, 0.2), leaf((cout,), 0.3)
    y = conv_transpose2d(x, w, b if bias else None, stride, padding, out_pad, groups, dilation)
    assert y.shape == shape and y.grad_fn.name() == "ConvolutionBackward0"
    total = loss_of(y)
    total.backward()
    assert total.item() == pytest.approx(loss, rel=1e-12, abs=1e-12)
    assert proj(x.grad, 1.1) == pytest.approx(gx, rel=1e-12, abs=1e-12)
    assert proj(w.grad, 1.3) == pytest.approx(gw, rel=1e-12, abs=1e-12)
    if bias:
        assert proj(b.grad, 1.7) == pytest.approx(gb, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", list(CONV_T1D), ids=str)
def test_conv_transpose1d_matches_pytorch(case):
    n, cin, cout, groups, k, stride, padding, out_pad, dilation, length, bias = case
    shape, loss, gx, gw, gb = CONV_T1D[case]
    x, w, b = leaf((n, cin, length), 0.1), leaf((cin, cout // groups, k), 0.2), leaf((cout,), 0.3)
    y = conv_transpose1d(x, w, b if bias else None, stride, padding, out_pad, groups, dilation)
    assert y.shape == shape
    total = loss_of(y)
    total.backward()
    assert total.item() == pytest.approx(loss, rel=1e-12, abs=1e-12)
    assert proj(x.grad, 1.1) == pytest.approx(gx, rel=1e-12, abs=1e-12)
    assert proj(w.grad, 1.3) == pytest.approx(gw, rel=1e-12, abs=1e-12)
    if bias:
        assert proj(b.grad, 1.7) == pytest.approx(gb, rel=1e-12, abs=1e-12)


GRADCHECK_T2D = [  # (n, c_in, c_out, groups, kernel, stride, padding, output_padding, dilation)
    (1, 2, 2, 1, (2, 2), 1, 0, 0, 1),
    (2, 2, 4, 2, (3, 2), (2, 1), (1, 0), (1, 0), 1),
    (1, 1, 2, 1, (2, 2), 1, 1, 1, 2),   # an output padding of the stride (dilation 2)
    (2, 3, 3, 3, (1, 2), 3, 0, (2, 1), 1),
]


@pytest.mark.parametrize("case", GRADCHECK_T2D, ids=str)
def test_conv_transpose2d_gradcheck_and_gradgradcheck(case):
    n, cin, cout, groups, k, stride, padding, out_pad, dilation = case
    x, w, b = leaf((n, cin, 3, 3), 0.1), leaf((cin, cout // groups) + k, 0.2), leaf((cout,), 0.3)

    def f(x, w, b):
        return conv_transpose2d(x, w, b, stride, padding, out_pad, groups, dilation)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv_transpose1d_and_unbatched_gradcheck():
    x, w, b = leaf((2, 2, 4), 0.1), leaf((2, 3, 2), 0.2), leaf((3,), 0.3)
    assert gradgradcheck(lambda x, w, b: conv_transpose1d(x, w, b, 2, 1, 1), (x, w, b))
    x3, w4 = leaf((2, 3, 3), 0.4), leaf((2, 2, 2, 2), 0.5)
    y = conv_transpose2d(x3, w4, stride=2)
    assert y.shape == (2, 6, 6)
    batched = conv_transpose2d(x3.detach().unsqueeze(0), w4.detach(), stride=2)
    assert np.array_equal(y.detach().numpy(), batched.numpy()[0])


def test_conv_transpose2d_is_conv2d_input_gradient():
    x = distgrad.randn(2, 3, 7, 6, dtype=distgrad.float64, requires_grad=True)
    w = distgrad.randn(4, 3, 3, 2, dtype=distgrad.float64)
    y = distgrad.nn.functional.conv2d(x, w, stride=2, padding=1, dilation=(1, 2))
    g = distgrad.randn(*y.shape, dtype=distgrad.float64)
    y.backward(g)
    out_pad = tuple(s - ((o - 1) * 2 - 2 + d * (k - 1) + 1)
                    for s, o, d, k in zip((7, 6), y.shape[2:], (1, 2), (3, 2)))
    t = conv_transpose2d(g, w, stride=2, padding=1, output_padding=out_pad, dilation=(1, 2))
    assert np.allclose(t.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_errors():
    x, w = distgrad.randn(1, 2, 3, 3), distgrad.randn(2, 1, 3, 3)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride"):
        conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="expected input of shape"):
        conv_transpose2d(distgrad.randn(1, 3, 3, 3), w)
    with pytest.raises(RuntimeError, match="Expected 3D"):
        conv_transpose2d(distgrad.randn(2, 3), w)
    with pytest.raises(RuntimeError, match="bias must have shape"):
        conv_transpose2d(x, w, distgrad.randn(2))
    with pytest.raises(RuntimeError, match="too small"):
        conv_transpose2d(x, w, padding=3)


def test_conv_transpose2d_module():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                           bias=False, dilation=2)
    assert repr(m) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                       "dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)")
    assert m.weight.shape == (4, 3, 3, 3) and m.bias is None
    assert repr(nn.ConvTranspose2d(4, 6, (3, 2))) == \
        "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(1, 1))"
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    bound = 1 / math.sqrt(6 * 9)  # fan_in = out_channels / groups * kH * kW
    assert np.abs(up.weight.detach().numpy()).max() <= bound
    assert np.abs(up.bias.detach().numpy()).max() <= bound
    x = distgrad.randn(2, 4, 5, 5)
    assert up(x).shape == (2, 6, 9, 9)
    assert up(x, output_size=[10, 10]).shape == (2, 6, 10, 10)
    assert up(x, output_size=(2, 6, 9, 10)).shape == (2, 6, 9, 10)
    assert up(x[0], output_size=[6, 10, 9]).shape == (6, 10, 9)
    assert up(x).grad_fn.name() == "ConvolutionBackward0"
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        up(x, output_size=[20, 10])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        up(x, output_size=[1, 2, 3])
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.ConvTranspose2d(3, 6, 3, groups=2)


def test_conv_transpose1d_module():
    m = nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1)
    assert repr(m) == ("ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), "
                       "output_padding=(1,))")
    assert m.weight.shape == (4, 6, 3)
    assert m(distgrad.randn(2, 4, 5)).shape == (2, 6, 12)
    assert m(distgrad.randn(4, 5), output_size=[11]).shape == (6, 11)


# (n, c, hw, kernel, dilation, padding, stride): [unfold shape, unfold loss,
#     <grad x, det 1.1>, fold loss, <grad cols, det 1.3>]
UNFOLD = {
    (1, 2, (5, 5), 2, 1, 0, 1):
        [(1, 8, 16), 6.2479903700026425, -0.44404073522438725,
         8.406179719464157, 10.857784655831887],
    (13, 3, (6, 7), (2, 3), (2, 1), (1, 0), (2, 3)):
        [(13, 18, 6), 1.0610525692606405, 1.2013985308631367,
         1.4844920115730074, 1.5003644113558143],
    (2, 1, (4, 4), 3, 1, 1, 2):
        [(2, 9, 4), -3.157636649435899, -0.2231260704297383,
         -3.618819302883161, -4.170506183017775],
}


@pytest.mark.parametrize("case", list(UNFOLD), ids=str)
def test_unfold_and_fold_match_pytorch(case):
    n, c, hw, k, d, p, s = case
    shape, loss, gx, fold_loss, gcols = UNFOLD[case]
    x = leaf((n, c) + hw, 0.1)
    y = unfold(x, k, d, p, s)
    assert y.shape == shape and y.grad_fn.name() == "Im2ColBackward0"
    total = loss_of(y)
    total.backward()
    assert total.item() == pytest.approx(loss, rel=1e-12)
    assert proj(x.grad, 1.1) == pytest.approx(gx, rel=1e-12)
    cols = leaf(shape, 0.9)
    z = fold(cols, hw, k, d, p, s)
    assert z.shape == (n, c) + hw and z.grad_fn.name() == "Col2ImBackward0"
    total = (z * distgrad.tensor(det(z.shape, 0.4))).sum()
    total.backward()
    assert total.item() == pytest.approx(fold_loss, rel=1e-12)
    assert proj(cols.grad, 1.3) == pytest.approx(gcols, rel=1e-12)


def test_unfold_fold_gradgradcheck_and_modules():
    x = leaf((2, 2, 4, 5), 0.1)
    assert gradgradcheck(lambda x: unfold(x, (2, 3), 1, (1, 0), (2, 1)) ** 2, (x,))
    cols = leaf((2, 4, 6), 0.2)
    assert gradgradcheck(lambda c: fold(c, (3, 4), 2) ** 2, (cols,))
    assert unfold(distgrad.randn(3, 5, 6), 2, padding=1).shape == (12, 42)
    assert fold(distgrad.randn(8, 12), (4, 5), 2).shape == (2, 4, 5)
    u, f = nn.Unfold(2, padding=1), nn.Fold((4, 5), 2)
    assert repr(u) == "Unfold(kernel_size=2, dilation=1, padding=1, stride=1)"
    assert repr(f) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"
    assert u(distgrad.randn(1, 2, 3, 4)).shape == (1, 8, 20)
    assert f(distgrad.randn(1, 8, 12)).shape == (1, 2, 4, 5)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        fold(distgrad.randn(2, 7, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"):
        fold(distgrad.randn(2, 8, 8), (4, 4), 2)


SHUFFLED = [0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15]
UNSHUFFLED = [0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15]
CHANNEL_SHUFFLED = [0, 1, 4, 5, 8, 9, 2, 3, 6, 7, 10, 11]


def test_pixel_and_channel_shuffle_match_pytorch():
    y = pixel_shuffle(distgrad.arange(16.0).reshape(1, 4, 2, 2), 2)
    assert y.shape == (1, 1, 4, 4) and y.flatten().tolist() == SHUFFLED
    y = pixel_unshuffle(distgrad.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert y.shape == (1, 4, 2, 2) and y.flatten().tolist() == UNSHUFFLED
    y = channel_shuffle(distgrad.arange(12.0).reshape(1, 6, 2, 1), 3)
    assert y.flatten().tolist() == CHANNEL_SHUFFLED
    x = distgrad.randn(5, 2, 8, 3, 3)
    assert pixel_shuffle(x, 2).shape == (5, 2, 2, 6, 6)
    assert np.array_equal(pixel_unshuffle(pixel_shuffle(x, 2), 2).numpy(), x.numpy())
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    assert repr(nn.ChannelShuffle(2)) == "ChannelShuffle(groups=2)"
    assert nn.PixelUnshuffle(3)(distgrad.randn(2, 1, 6, 3)).shape == (2, 9, 2, 1)
    assert nn.ChannelShuffle(2)(distgrad.randn(2, 4, 3)).shape == (2, 4, 3)
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        pixel_shuffle(distgrad.randn(2, 7, 3, 3), 2)
    with pytest.raises(RuntimeError, match="height to be divisible by downscale_factor"):
        pixel_unshuffle(distgrad.randn(2, 7, 3, 3), 2)


@pytest.mark.parametrize("fn, shape, name", [
    (lambda x: pixel_shuffle(x, 2), (2, 8, 2, 3), "PixelShuffleBackward0"),
    (lambda x: pixel_unshuffle(x, 2), (2, 1, 4, 2), "PixelUnshuffleBackward0"),
    (lambda x: channel_shuffle(x, 3), (2, 6, 2), "ChannelShuffleBackward0"),
])
def test_shuffles_gradients(fn, shape, name):
    x = leaf(shape, 0.3)
    assert fn(x).grad_fn.name() == name
    assert gradgradcheck(lambda x: fn(x) ** 2, (x,))


# (mode, input, offsets, include_last_offset, padding_idx, per_sample_weights?) on the
# weight det((10, 3), 0.2): [output (rounded to 1e-12), <grad w, det 1.1>, <grad psw, det 1.3>]
EMBEDDING_BAG = [
    (('sum', [1, 2, 4, 5, 4, 3, 2, 9], [0, 4], False, None, False),
     ([[0.121106013695, 0.21993489997, 0.288996629296],
       [-1.408211890922, -2.206040328211, -2.705291556079]],
      -6.37650894028457, None)),
    (('mean', [1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3, 6], False, None, False),
     ([[0.209795030398, 0.127465638395, 0.027884370204],
       [0.0, 0.0, 0.0],
       [-0.628125004342, -0.602089309557, -0.494563651252],
       [-0.016057977697, -0.281117207378, -0.50812854182]],
      1.2397818414608224, None)),
    (('max', [1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3, 6], False, None, False),
     ([[0.966184951613, 0.994043202198, 0.887362368633],
       [0.0, 0.0, 0.0],
       [-0.378714873829, -0.162462015215, 0.205343518685],
       [0.660581201279, 0.344393467258, -0.018406306933]],
      1.6873059538600015, None)),
    (('sum', [1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 5, 8], True, 4, True),
     ([[1.090453056271, 0.845364263259, 0.485859382998],
       [-0.503362394439, -0.160890488325, 0.203357190613],
       [0.000782719736, -0.285907481704, -0.533901446749]],
      1.0801082103795523, 2.10837746521231)),
    (('mean', [[1, 2, 0], [4, 4, 0], [0, 0, 0]], None, False, 0, False),
     ([[0.813383076446, 0.669218334728, 0.43447803085],
       [-0.997381061698, -0.956039754271, -0.785302951089],
       [0.0, 0.0, 0.0]],
      -1.1444641232684807, None)),
    (('max', [[1, 2, 7], [4, 3, 0]], None, False, 7, False),
     ([[0.966184951613, 0.994043202198, 0.887362368633],
       [0.198669330795, 0.539632048734, 0.807558100405]],
      3.4610557609598764, None)),
    (('sum', [[1, 2, 7], [4, 3, 0]], None, False, None, True),
     ([[2.057393265482, 1.70611902216, 1.123929572956],
       [-1.19169735895, -1.203144837443, -1.051752306396]],
      -1.8658001165876799, 1.9070613534325709)),
]


@pytest.mark.parametrize("case, expected", EMBEDDING_BAG, ids=lambda c: str(c)[:60])
def test_embedding_bag_matches_pytorch(case, expected):
    mode, indices, offsets, last, padding_idx, weighted = case
    values, gw, gpsw = expected
    w = leaf((10, 3), 0.2)
    index = distgrad.tensor(indices)
    psw = leaf(index.shape, 0.6)
    y = embedding_bag(index, w, None if offsets is None else distgrad.tensor(offsets),
                      mode=mode, include_last_offset=last, padding_idx=padding_idx,
                      per_sample_weights=psw if weighted else None)
    assert y.grad_fn.name() == "EmbeddingBagBackward0"
    assert np.allclose(y.detach().numpy(), values, rtol=0, atol=1e-11)
    loss_of(y).backward()
    assert proj(w.grad, 1.1) == pytest.approx(gw, rel=1e-12)
    if weighted:
        assert proj(psw.grad, 1.3) == pytest.approx(gpsw, rel=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    w = leaf((6, 2), 0.2)
    index, offsets = distgrad.tensor([1, 2, 4, 5, 4, 0, 2]), distgrad.tensor([0, 3, 3])
    assert gradgradcheck(lambda w: embedding_bag(index, w, offsets, mode=mode,
                                                 padding_idx=0) ** 2, (w,))
    if mode == "sum":
        psw = leaf((7,), 0.4)
        assert gradgradcheck(lambda w, p: embedding_bag(index, w, offsets, mode="sum",
                                                        per_sample_weights=p), (w, psw))


def test_embedding_bag_scale_grad_by_freq():
    # Each row's gradient divided by its index's count, as documented (PyTorch 2.13's CPU
    # kernel divides some rows by another index's count: pytorch/pytorch#190063).
    w = distgrad.ones(4, 1, requires_grad=True)
    embedding_bag(distgrad.tensor([1, 1, 3]), w, distgrad.tensor([0]), mode="sum",
                  scale_grad_by_freq=True).sum().backward()
    assert w.grad.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]
    w = distgrad.ones(4, 1, requires_grad=True)
    embedding_bag(distgrad.tensor([[1, 0, 0], [0, 2, 2]]), w, mode="mean",
                  scale_grad_by_freq=True).sum().backward()
    assert np.allclose(w.grad.flatten().numpy(), [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_embedding_bag_module_and_errors():
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2, max_norm=1.0)
    assert repr(bag) == "EmbeddingBag(10, 3, max_norm=1.0, mode='sum', padding_idx=2)"
    assert repr(nn.EmbeddingBag(3, 2, norm_type=1.0, scale_grad_by_freq=True,
                                padding_idx=-1)) == \
        "EmbeddingBag(3, 2, norm_type=1.0, scale_grad_by_freq=True, mode='mean', padding_idx=2)"
    assert bag.weight[2].tolist() == [0.0, 0.0, 0.0]
    out = bag(distgrad.tensor([1, 2, 4, 5, 4]), distgrad.tensor([0, 2]))
    assert out.shape == (2, 3)
    assert np.linalg.norm(bag.weight.detach().numpy()[[1, 4, 5]], axis=1).max() <= 1.0 + 1e-6
    pre = nn.EmbeddingBag.from_pretrained(distgrad.ones(3, 2), mode="max")
    assert repr(pre) == "EmbeddingBag(3, 2, mode='max')" and not pre.weight.requires_grad
    assert pre(distgrad.tensor([[0, 1]])).tolist() == [[1.0, 1.0]]
    w = distgrad.randn(10, 3)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        embedding_bag(distgrad.tensor([1, 2]), w, distgrad.tensor([0]),
                      per_sample_weights=distgrad.ones(2))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        embedding_bag(distgrad.tensor([1, 2, 4]), w, distgrad.tensor([1, 2]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        embedding_bag(distgrad.tensor([1, 2, 4]), w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        embedding_bag(distgrad.tensor([[1, 2]]), w, distgrad.tensor([0]))
    with pytest.raises(IndexError, match="out of range"):
        embedding_bag(distgrad.tensor([[1, 12]]), w)
