"""Every layer: shapes, PyTorch's default initialisation, values against naive NumPy and
gradients against finite differences (float64 through ``module.double()``)."""

import math

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.ops.conv import _batch_inner


def rand64(*shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return distgrad.tensor(data, requires_grad=requires_grad)


def check_module_grads(module, *inputs):
    """gradcheck of ``module`` with respect to its inputs and all of its parameters."""
    module.double()
    params = tuple(module.parameters())
    n = len(inputs)
    assert gradcheck(lambda *args: module(*args[:n]), inputs + params)


# ------------------------------------------------------------------------- Linear


def test_linear_shapes_node_names_and_values():
    lin = nn.Linear(5, 3)
    x = distgrad.randn(4, 5)
    y = lin(x)
    assert y.shape == (4, 3) and y.grad_fn.name() == "AddmmBackward0"
    expected = x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert lin(distgrad.randn(2, 7, 5)).shape == (2, 7, 3)
    assert lin(distgrad.randn(5)).shape == (3,)
    assert nn.Linear(5, 3, bias=False)(x).grad_fn.name() == "MmBackward0"


def test_linear_default_init_bounds_and_distribution():
    distgrad.manual_seed(0)
    lin = nn.Linear(300, 200)
    bound = 1 / math.sqrt(300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert abs(w.mean()) < 0.01 * bound * 10


def test_init_is_reproducible_with_manual_seed():
    distgrad.manual_seed(123)
    a = nn.Linear(4, 4).weight.detach().numpy().copy()
    distgrad.manual_seed(123)
    b = nn.Linear(4, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_linear_gradcheck_and_double_backward():
    lin = nn.Linear(4, 3)
    check_module_grads(lin, rand64(2, 4))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b), (rand64(2, 4), rand64(3, 4, seed=1),
                                                             rand64(3, seed=2)))


def test_linear_records_what_its_backward_needs():
    """nn.Linear records through its own unrolled recorder: check each thing it records."""
    lin = nn.Linear(3, 2)
    # A parameter changed in place after the forward is caught in backward, by version.
    y = lin(distgrad.randn(4, 3, requires_grad=True))
    with distgrad.no_grad():
        lin.weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # ... but not when the parameter was already at a later version when saved, and only
    # something else changed in place afterwards.
    y = lin(distgrad.randn(4, 3, requires_grad=True))
    distgrad.zeros(2).add_(1)
    y.sum().backward()
    assert lin.bias.grad.tolist() == [4.0, 4.0]
    # An input that is output 1 of a multi-output node sends its gradient to that output.

    class Halves(distgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t[:, :3].clone(), t[:, 3:].clone()

        @staticmethod
        def backward(ctx, g0, g1):
            return distgrad.cat([g0, g1], dim=1)

    x = distgrad.randn(4, 6, requires_grad=True)
    _, second = Halves.apply(x)
    assert lin(second).grad_fn.next_functions[0][1] == 1
    lin(second).sum().backward()
    expected = np.concatenate([np.zeros((4, 3)),
                               np.tile(lin.weight.detach().numpy().sum(0), (4, 1))], axis=1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    # A view whose base changed in place since it was taken is re-derived.
    leaf = distgrad.randn(4, 3, requires_grad=True)
    base = leaf.clone()
    view = base[:2]
    base.mul_(3)
    lin(view).sum().backward()
    col_sums = lin.weight.detach().numpy().sum(0)
    np.testing.assert_allclose(leaf.grad.numpy()[:2], np.tile(3 * col_sums, (2, 1)), rtol=1e-6)
    assert not leaf.grad.numpy()[2:].any()
    # Only the inputs that require grad get an edge; no bias, two edges.
    plain = nn.Linear(3, 2, bias=False)
    out = plain(distgrad.randn(4, 3))
    assert [fn is None for fn, _ in out.grad_fn.next_functions] == [True, False]
    with distgrad.no_grad():
        assert lin(distgrad.randn(4, 3)).grad_fn is None


def test_functional_linear_takes_arrays():
    w = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out = F.linear(distgrad.ones(4, 3), w, np.ones(2, dtype=np.float32))
    assert out.tolist() == [[4.0, 13.0]] * 4


def test_linear_wrong_feature_size_is_a_clear_error():
    lin = nn.Linear(784, 512)
    with pytest.raises(RuntimeError) as info:
        lin(distgrad.randn(32, 100))
    assert str(info.value) == ("Linear: expected input with 784 features in its last "
                               "dimension, got 100 (input shape [32, 100])")
    with pytest.raises(RuntimeError, match="expected input with 784 features"):
        F.linear(distgrad.randn(32, 100), lin.weight, lin.bias)


def test_init_functions():
    t = distgrad.zeros(50, 40)
    nn.init.xavier_uniform_(t)
    assert np.abs(t.numpy()).max() <= math.sqrt(6 / 90)
    nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert t.numpy().std() == pytest.approx(math.sqrt(2 / 40), rel=0.1)
    nn.init.constant_(t, 0.5)
    assert np.all(t.numpy() == 0.5)
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert nn.init._calculate_fan_in_and_fan_out(distgrad.zeros(16, 8, 3, 3)) == (72, 144)
    with pytest.raises(ValueError):
        nn.init.xavier_uniform_(distgrad.zeros(3))


# ------------------------------------------------------------------------- Conv2d


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for i in range(n):
        for oc in range(o):
            g = oc // per_group
            for r in range(oh):
                for c in range(ow):
                    patch = xp[i, g * cg:(g + 1) * cg, r * sh:r * sh + dh * (kh - 1) + 1:dh,
                               c * sw:c * sw + dw * (kw - 1) + 1:dw]
                    out[i, oc, r, c] = (patch * w[oc]).sum() + (b[oc] if b is not None else 0)
    return out


CONV_CASES = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(dilation=2, padding=2),
    dict(groups=2),
    dict(groups=4, stride=2, padding=1, dilation=(1, 2)),
]


# Columns order output pixels batch-major for small batches, batch-innermost for batches of
# 8 or more (see conv._batch_inner): the cases run in both layouts.
BATCHES = [2, 13]


def test_both_column_layouts_are_exercised():
    assert not _batch_inner(2, (8, 4, 3, 2)) and _batch_inner(13, (8, 4, 3, 2))
    assert not _batch_inner(1, (2, 2, 2, 2)) and _batch_inner(9, (2, 2, 2, 2))
    assert not _batch_inner(64, (16, 1, 3, 3))  # a first layer: one input channel


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("kwargs", CONV_CASES, ids=str)
def test_conv2d_matches_naive_loops(kwargs, batch):
    groups = kwargs.get("groups", 1)
    conv = nn.Conv2d(4, 8, (3, 2), **kwargs).double()
    x = rand64(batch, 4, 7, 6)
    expected = naive_conv2d(x.detach().numpy(), conv.weight.detach().numpy(),
                            conv.bias.detach().numpy(), conv.stride,
                            conv.padding, conv.dilation, groups)
    np.testing.assert_allclose(conv(x).detach().numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("batch", [1, 9])
@pytest.mark.parametrize("kwargs", CONV_CASES[::2], ids=str)
def test_conv2d_gradcheck(kwargs, batch):
    conv = nn.Conv2d(2 * kwargs.get("groups", 1), 2 * kwargs.get("groups", 1), 2, **kwargs)
    check_module_grads(conv, rand64(batch, conv.in_channels, 5, 5))


@pytest.mark.parametrize("batch", [1, 9])
def test_conv2d_double_backward(batch):
    x, w, b = rand64(batch, 2, 3, 3), rand64(3, 2, 2, 2, seed=1), rand64(3, seed=2)
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), (x, w, b))


def test_conv2d_init_shapes_and_errors():
    distgrad.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1)
    bound = 1 / math.sqrt(8 * 9)
    assert conv.weight.shape == (16, 8, 3, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    assert conv(distgrad.randn(2, 8, 5, 5)).shape == (2, 16, 5, 5)
    assert conv(distgrad.randn(8, 5, 5)).shape == (16, 5, 5)
    assert nn.Conv2d(8, 16, 3, padding="same")(distgrad.randn(1, 8, 6, 6)).shape == (1, 16, 6, 6)
    with pytest.raises(RuntimeError) as info:
        conv(distgrad.randn(8, 1, 28, 28))
    assert "expected input of shape [N, 8, H, W]" in str(info.value)
    assert "[8, 1, 28, 28]" in str(info.value)
    with pytest.raises(RuntimeError, match="smaller than the dilated kernel"):
        nn.Conv2d(1, 1, 5)(distgrad.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv2d_output_is_contiguous_so_view_works():
    out = nn.Conv2d(1, 4, 3)(distgrad.randn(2, 1, 5, 5))
    assert out.is_contiguous() and out.view(2, -1).shape == (2, 36)


# ---------------------------------------------------------------------- MaxPool2d


def naive_max_pool(x, k, stride, padding):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
                constant_values=-np.inf)
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.zeros((n, c, oh, ow))
    where = np.zeros((n, c, oh, ow, 2), dtype=int)
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for col in range(ow):
                    window = xp[i, ch, r * stride:r * stride + k, col * stride:col * stride + k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    out[i, ch, r, col] = window[a, b]
                    where[i, ch, r, col] = (r * stride + a - padding, col * stride + b - padding)
    return out, where


@pytest.mark.parametrize("k,stride,padding", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0)])
def test_max_pool2d_matches_naive_forward_and_backward(k, stride, padding):
    x = rand64(2, 3, 6, 5)
    seed = np.random.default_rng(1).standard_normal
    out = nn.MaxPool2d(k, stride, padding)(x)
    expected, where = naive_max_pool(x.detach().numpy(), k, stride, padding)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    upstream = seed(out.shape)
    out.backward(distgrad.tensor(upstream))
    grad = np.zeros(x.shape)
    for idx in np.ndindex(out.shape):
        r, c = where[idx]
        grad[idx[0], idx[1], r, c] += upstream[idx]
    np.testing.assert_allclose(x.grad.numpy(), grad)


def test_max_pool2d_ties_go_to_the_first_and_indices_are_flat():
    x = distgrad.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    out, indices = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    assert indices.tolist() == [[[[0]]]]
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_max_pool2d_propagates_nan_like_pytorch():
    # PyTorch's answer: the window's value is nan, its index the last nan's.
    nan = float("nan")
    for window, index in (([[1.0, nan], [nan, 5.0]], 2), ([[1.0, nan], [0.0, 5.0]], 1)):
        x = distgrad.tensor([[window, [[0.0, 1.0], [2.0, 3.0]]]])
        out, indices = F.max_pool2d(x, 2, return_indices=True)
        assert np.isnan(out.numpy()[0, 0, 0, 0]) and out.numpy()[0, 1, 0, 0] == 3.0
        assert indices.tolist() == [[[[index]], [[3]]]]


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 8), 2), ((1, 2, 7, 9), 2), ((2, 2, 9, 7), 3)])
def test_max_pool2d_side_by_side_windows_match_naive(shape, k):
    x = distgrad.tensor(np.random.default_rng(2).integers(0, 4, shape).astype(np.float64),
                        requires_grad=True)  # many ties: the first must win
    out, indices = F.max_pool2d(x, k, return_indices=True)
    expected, where = naive_max_pool(x.detach().numpy(), k, k, 0)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    np.testing.assert_array_equal(indices.numpy(), where[..., 0] * shape[3] + where[..., 1])
    out.sum().backward()
    grad = np.zeros(x.shape)
    for idx in np.ndindex(out.shape):
        grad[idx[0], idx[1], where[idx][0], where[idx][1]] += 1
    np.testing.assert_array_equal(x.grad.numpy(), grad)


def test_max_pool2d_side_by_side_oblong_windows_after_relu():
    # ReLU zeros make whole windows tie; a (2, 3) kernel checks rows and columns apart.
    x = distgrad.tensor(np.random.default_rng(3).standard_normal((3, 2, 6, 7)),
                        dtype=distgrad.float32, requires_grad=True)
    out, indices = F.max_pool2d(x.relu(), (2, 3), return_indices=True)
    g = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    out.backward(distgrad.tensor(g))
    data, grad = x.detach().numpy().clip(min=0), np.zeros(x.shape, np.float32)
    for i, ch, r, col in np.ndindex(out.shape):
        window = data[i, ch, 2 * r:2 * r + 2, 3 * col:3 * col + 3]
        a, b = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
        assert out.detach().numpy()[i, ch, r, col] == window[a, b]
        assert indices.numpy()[i, ch, r, col] == (2 * r + a) * 7 + 3 * col + b
        grad[i, ch, 2 * r + a, 3 * col + b] = g[i, ch, r, col] * (x.detach().numpy()[
            i, ch, 2 * r + a, 3 * col + b] > 0)
    assert out.dtype == distgrad.float32
    np.testing.assert_array_equal(x.grad.numpy(), grad)


def test_max_pool2d_gradcheck_and_avg_pool():
    x = rand64(1, 2, 5, 5)
    assert gradcheck(lambda x: F.max_pool2d(x, 3, stride=1, padding=1), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2), (x,))
    avg = nn.AvgPool2d(2)(x)
    np.testing.assert_allclose(avg.detach().numpy()[0, 0, 0, 0],
                               x.detach().numpy()[0, 0, :2, :2].mean())
    assert gradcheck(lambda x: F.avg_pool2d(x, 2, padding=1), (x,))


# -------------------------------------------------------------- Flatten, activations


def test_flatten_identity_and_activations():
    x = distgrad.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity(54, unused="x")(x) is x
    a = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(a, 0))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(a), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-a)), rtol=1e-6)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), softmax, rtol=1e-5)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).numpy(), np.log(softmax), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_values_and_gradients(approximate):
    x = rand64(3, 4)
    a = x.detach().numpy()
    if approximate == "none":
        expected = 0.5 * a * (1 + np.vectorize(math.erf)(a / math.sqrt(2)))
    else:
        expected = 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))
    gelu = nn.GELU(approximate)
    np.testing.assert_allclose(gelu(x).detach().numpy(), expected, rtol=1e-12)
    assert gradcheck(gelu, (x,)) and gradgradcheck(gelu, (x,))


# ------------------------------------------------------------------------ Dropout


def test_dropout_train_scales_survivors_and_eval_is_identity():
    distgrad.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = distgrad.ones(200, 500, requires_grad=True)
    y = drop(x)
    values = y.detach().numpy()
    assert abs((values == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(values[values != 0], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).detach().numpy() == 0)


def test_dropout_validates_p():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(distgrad.ones(2), p=-0.1)


# ---------------------------------------------------------------------- Embedding


def test_embedding_lookup_init_and_accumulating_gradient():
    distgrad.manual_seed(0)
    emb = nn.Embedding(1000, 64)
    w = emb.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and w.std() == pytest.approx(1.0, rel=0.02)
    small = nn.Embedding(5, 3)
    idx = distgrad.tensor([[1, 1, 2], [4, 1, 0]])
    out = small(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.detach().numpy()[0, 2], small.weight.detach().numpy()[2])
    out.sum().backward()
    np.testing.assert_array_equal(small.weight.grad.numpy()[:, 0], [1, 3, 1, 0, 1])
    check_module_grads(nn.Embedding(4, 2), distgrad.tensor([0, 3, 3]))


def test_embedding_padding_idx_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=0)
    assert np.all(emb.weight.detach().numpy()[0] == 0)
    emb(distgrad.tensor([0, 0, 3])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [0, 0, 0, 1])


def test_embedding_bad_indices():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match="index 12 is out of range .* 10 rows"):
        emb(distgrad.tensor([1, 12]))
    with pytest.raises(IndexError, match="-1"):
        emb(distgrad.tensor([-1]))
    with pytest.raises(RuntimeError, match="integer"):
        emb(distgrad.tensor([1.0]))


# --------------------------------------------------------------- LayerNorm, BatchNorm


def test_layer_norm_matches_hand_computation_and_gradcheck():
    ln = nn.LayerNorm(5)
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    x = distgrad.randn(3, 4, 5)
    a = x.numpy()
    expected = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    check_module_grads(nn.LayerNorm((2, 3)), rand64(4, 2, 3))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        ln(distgrad.randn(3, 4))


def test_batch_norm_running_stats_follow_pytorch():
    bn = nn.BatchNorm1d(3)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((8, 3)).astype(np.float32) * 2 + 1 for _ in range(2)]
    mean, var = np.zeros(3), np.ones(3)
    for batch in batches:
        out = bn(distgrad.tensor(batch)).detach().numpy()
        normalised = (batch - batch.mean(0)) / np.sqrt(batch.var(0) + 1e-5)  # biased
        np.testing.assert_allclose(out, normalised, rtol=1e-4, atol=1e-5)
        mean = 0.9 * mean + 0.1 * batch.mean(0)
        var = 0.9 * var + 0.1 * batch.var(0, ddof=1)  # unbiased
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 2
    bn.eval()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(bn(distgrad.tensor(x)).detach().numpy(),
                               (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    assert bn.num_batches_tracked.item() == 2


def test_batch_norm_3d_input_cumulative_momentum_and_errors():
    bn = nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((4, 2, 5)) for _ in range(3)]
    for batch in batches:
        bn(distgrad.tensor(batch, dtype=distgrad.float32))
    stacked = np.stack([b.mean(axis=(0, 2)) for b in batches])
    np.testing.assert_allclose(bn.running_mean.numpy(), stacked.mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(distgrad.randn(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="expected input with 2 channels"):
        bn(distgrad.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(distgrad.randn(1, 2))


def test_batch_norm_gradcheck_in_training_mode():
    check_module_grads(nn.BatchNorm1d(3), rand64(5, 3))
    check_module_grads(nn.BatchNorm1d(2), rand64(3, 2, 4))
    bn = nn.BatchNorm1d(2).double()
    x = rand64(4, 2)
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         (x, bn.weight, bn.bias))


# ---------------------------------------------------------------------------- pad


def test_constant_pad_values_and_gradients():
    x = rand64(2, 3, 4)
    out = F.pad(x, (1, 2, 0, 1), value=-1.0)
    assert out.shape == (2, 4, 7)
    expected = np.pad(x.detach().numpy(), ((0, 0), (0, 1), (1, 2)), constant_values=-1.0)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    assert out.grad_fn.name() == "ConstantPadNdBackward0"
    assert gradcheck(lambda x: F.pad(x, (1, 2, 0, 1)), (x,))
    assert gradgradcheck(lambda x: F.pad(x, (2, 0)), (x,))
    with pytest.raises(NotImplementedError, match="mode"):
        F.pad(x, (1, 1), mode="zeros")
    with pytest.raises(ValueError, match="even"):
        F.pad(x, (1,))


def test_gradient_penalty_through_a_small_network():
    """Double backward through Linear, Tanh and the fused cross-entropy."""
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    target = distgrad.tensor([0, 1])

    @distgrad.enable_grad()  # gradcheck evaluates the function under no_grad
    def penalty(x):
        loss = F.cross_entropy(net(x), target)
        (grad,) = distgrad.autograd.grad(loss, x, create_graph=True)
        return (grad * grad).sum()

    assert gradcheck(penalty, (rand64(2, 3),))


def test_functional_dropout_in_place_as_pytorch():
    distgrad.manual_seed(0)
    x = distgrad.ones(1000)
    y = F.dropout(x, 0.5, True, True)            # PyTorch's positional order: inplace fourth
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    a = distgrad.ones(50, requires_grad=True)
    b = a * 1
    out = F.dropout(b, 0.5, True, inplace=True)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), out.detach().numpy())  # grad = the mask
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.dropout(distgrad.ones(3, requires_grad=True), 0.5, True, True)
    assert F.dropout(x, 0.5, False, True) is x
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
