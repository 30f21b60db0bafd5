"""Parity of nn, losses, pooling, optimizers and checkpoints with PyTorch.

The expected values were computed once with PyTorch 2.13 and are hard-coded here: PyTorch is
not a dependency of the tests.
"""

import io
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad import optim
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.serialization import CheckpointError


def f64(data, requires_grad=False):
    return distgrad.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


def grad_of(x):
    return x.grad.numpy()


# ----------------------------------------------------------- ignore_index is a real class

CE_X = [[1.0, 2.0, 3.0], [0.5, 0.0, 2.0]]
CE_LOSS = 2.4076059644443806
CE_GRAD_ROW0 = [-0.9099694268296196, 0.24472847105479764, 0.6652409557748218]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_ignore_index_that_is_a_class(reduction):
    x = f64(CE_X, requires_grad=True)
    loss = F.cross_entropy(x, distgrad.tensor([0, 2]), ignore_index=2, reduction=reduction)
    loss.backward()
    assert loss.item() == pytest.approx(CE_LOSS, rel=1e-12)
    np.testing.assert_allclose(grad_of(x), [CE_GRAD_ROW0, [0.0, 0.0, 0.0]], rtol=1e-12)


def test_cross_entropy_ignore_index_that_is_a_class_unreduced_and_module():
    target = distgrad.tensor([0, 2])
    none = F.cross_entropy(f64(CE_X), target, ignore_index=2, reduction="none")
    np.testing.assert_allclose(none.numpy(), [CE_LOSS, 0.0], rtol=1e-12)
    loss = nn.CrossEntropyLoss(ignore_index=2)(f64(CE_X), target)
    assert loss.item() == pytest.approx(CE_LOSS, rel=1e-12)
    nll = F.nll_loss(f64(CE_X), target, ignore_index=2, reduction="none")
    np.testing.assert_array_equal(nll.numpy(), [-1.0, 0.0])


def test_cross_entropy_ignore_index_that_is_a_class_spatial_and_gradcheck():
    x = f64(np.random.default_rng(3).standard_normal((2, 3, 2, 2)), requires_grad=True)
    target = distgrad.tensor([[[0, 1], [2, 1]], [[1, 1], [0, 2]]])
    loss = F.cross_entropy(x, target, ignore_index=1)
    loss.backward()
    assert loss.item() == pytest.approx(1.2035220361456038, rel=1e-12)
    assert np.abs(grad_of(x)).sum() == pytest.approx(1.1637029045214375, rel=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, target, ignore_index=1), (x,))


# ------------------------------------------------------------ every target ignored


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss])
def test_mean_over_no_target_is_nan_with_a_zero_gradient(loss_fn):
    x = f64([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from NumPy either
        loss = loss_fn(x, distgrad.tensor([-100, -100]))
        loss.backward()
    assert math.isnan(loss.item())
    np.testing.assert_array_equal(grad_of(x), np.zeros((2, 3)))


def test_mean_over_no_target_with_label_smoothing_has_a_zero_gradient():
    x = f64([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]], requires_grad=True)
    loss = F.cross_entropy(x, distgrad.tensor([-100, -100]), label_smoothing=0.1)
    loss.backward()
    assert math.isnan(loss.item())
    np.testing.assert_array_equal(grad_of(x), np.zeros((2, 3)))


def test_valid_targets_of_zero_total_weight_keep_nan_gradients():
    # PyTorch: 0 / 0 in the loss and in the gradient of the weighted mean.
    weight = f64([0.0, 1.0, 1.0])
    x = f64([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]], requires_grad=True)
    F.cross_entropy(x, distgrad.tensor([0, 0]), weight=weight).backward()
    assert np.isnan(grad_of(x)).all()
    x = f64([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]], requires_grad=True)
    F.nll_loss(x, distgrad.tensor([0, 0]), weight=weight).backward()
    assert np.isnan(grad_of(x)[:, 0]).all()
    np.testing.assert_array_equal(grad_of(x)[:, 1:], np.zeros((2, 2)))


# ------------------------------------------------------- conv2d 'same' with even kernels

CONV_SAME_CH0 = [
    [1.1115888387732933, 3.5113245054603475, 3.6258269406326136, -2.092858796683176],
    [-0.5109845191991972, 1.4243373099179593, 1.7332490166657837, 1.892741513327846],
    [-4.404797778412854, -5.089401290470233, -3.501687825970596, -3.046674586545413],
    [0.48218333808883695, -6.752293257066979, -1.6229763672739599, 0.5263997206134456],
    [-2.2166408697643636, -1.6042439727386693, 0.5329006632961124, 0.40687786051203956]]
CONV_SAME_2X2_CH1 = [
    [-0.2576691174594852, 1.025116812885247, -0.0782852140583441, -0.8363878093287818],
    [1.306649372860675, 4.931799003905149, 1.2586471510793775, -0.04662194637102418],
    [-1.4127478259390904, 0.7782125172424049, 0.23604976827694713, 0.49361564809242453],
    [-0.8649194892603222, -2.9919115058714576, -5.259976109112348, 0.2930106305137633],
    [-0.6356908279190657, -0.09480699601732062, 0.7743226958842244, 0.9394321393578008]]


def conv_inputs():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 4)),
            rng.standard_normal(3))


def test_conv2d_same_padding_with_even_kernels_matches_pytorch():
    x, w, b = conv_inputs()
    out = F.conv2d(f64(x), f64(w), f64(b), padding="same", dilation=(1, 2))
    assert out.shape == (1, 3, 5, 4)
    np.testing.assert_allclose(out.numpy()[0, 0], CONV_SAME_CH0, rtol=1e-12, atol=1e-12)
    out = F.conv2d(f64(x), f64(w[:, :, :, :2]), padding="same")
    np.testing.assert_allclose(out.numpy()[0, 1], CONV_SAME_2X2_CH1, rtol=1e-12, atol=1e-12)
    assert nn.Conv2d(1, 1, 4, padding="same")(distgrad.ones(1, 1, 6, 6)).shape == (1, 1, 6, 6)


def test_conv2d_same_padding_with_even_kernels_gradients():
    x, w, b = conv_inputs()
    args = (f64(x, True), f64(w[:, :, :, :3], True), f64(b, True))

    def conv(x, w, b):  # dilated kernel 2 x 3: one more row of padding at the bottom
        return F.conv2d(x, w, b, padding="same")

    assert gradcheck(conv, args)
    assert gradgradcheck(conv, args)


def test_conv2d_same_padding_errors():
    with pytest.raises(RuntimeError, match="not supported for strided convolutions"):
        F.conv2d(distgrad.ones(1, 1, 4, 4), distgrad.ones(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="invalid padding string 'foo'"):
        F.conv2d(distgrad.ones(1, 1, 4, 4), distgrad.ones(1, 1, 3, 3), padding="foo")
    # The module refuses both when built, with a ValueError, as PyTorch's does.
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        nn.Conv2d(1, 1, 3, padding="foo")


# --------------------------------------------------------- max_pool2d over padding alone


def pool(x, **kwargs):
    x = f64(x, requires_grad=True)
    values, indices = F.max_pool2d(x, return_indices=True, **kwargs)
    values.sum().backward()
    return values.detach().numpy(), indices.numpy(), grad_of(x)


def test_max_pool2d_window_over_padding_alone():
    values, indices, grad = pool(np.arange(4.0).reshape(1, 1, 1, 4), kernel_size=2, stride=1,
                                 padding=(1, 0), dilation=(2, 1))
    np.testing.assert_array_equal(values, np.full((1, 1, 1, 3), -np.inf))
    np.testing.assert_array_equal(indices, [[[[4, 5, 6]]]])
    np.testing.assert_array_equal(grad, np.zeros((1, 1, 1, 4)))
    # PyTorch's index of such a window may name a real position; it gets no gradient.
    values, indices, grad = pool(np.arange(2.0).reshape(1, 1, 2, 1), kernel_size=2, stride=1,
                                 padding=(0, 1), dilation=(1, 2))
    np.testing.assert_array_equal(values, [[[[-np.inf]]]])
    np.testing.assert_array_equal(indices, [[[[1]]]])
    np.testing.assert_array_equal(grad, np.zeros((1, 1, 2, 1)))


def test_max_pool2d_windows_of_minus_inf_report_their_first_input_position():
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    values, indices, grad = pool(x, kernel_size=3, stride=1, padding=1)
    np.testing.assert_array_equal(values[0, 0], [[-np.inf] * 3, [-np.inf, 1, 1],
                                                 [-np.inf, 1, 1]])
    np.testing.assert_array_equal(indices[0, 0], [[0, 0, 1], [0, 8, 8], [3, 8, 8]])
    np.testing.assert_array_equal(grad[0, 0], [[3, 1, 0], [1, 0, 0], [0, 0, 4]])


def test_max_pool2d_with_padding_and_dilation_matches_pytorch():
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 5))
    _, indices, grad = pool(x, kernel_size=2, stride=1, padding=1, dilation=3)
    np.testing.assert_array_equal(indices[0, 1], [[12, 13, 14, 12], [2, 0, 1, 2]])
    np.testing.assert_array_equal(grad[1, 0], [[1, 0, 2, 0, 1], [0, 0, 0, 0, 0],
                                               [0, 0, 2, 1, 1]])


def test_max_pool2d_gradients_with_empty_windows():
    x = f64(np.random.default_rng(2).standard_normal((1, 2, 2, 3)), requires_grad=True)

    def max_pool(x):  # windows of the last output row read padding alone
        return F.max_pool2d(x, kernel_size=2, stride=1, padding=1, dilation=(3, 1))

    assert np.isneginf(max_pool(x).detach().numpy()).any()
    assert gradcheck(lambda x: max_pool(x).clamp(min=-10.0), (x,))
    (grad,) = distgrad.autograd.grad(max_pool(x).clamp(min=-10.0).sum(), x, create_graph=True)
    np.testing.assert_array_equal(grad.detach().numpy(), grad_of_sum(max_pool, x))


def grad_of_sum(fn, x):
    x = x.detach().requires_grad_()
    fn(x).clamp(min=-10.0).sum().backward()
    return grad_of(x)


# ------------------------------------------------------------------ error types


def test_batch_size_mismatch_is_a_value_error_as_in_pytorch():
    message = r"Expected input batch_size \(6\) to match target batch_size \(5\)"
    target = distgrad.tensor(np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(distgrad.ones(6, 4), target)
    with pytest.raises(ValueError, match=message):
        F.nll_loss(distgrad.ones(6, 4), target)
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(distgrad.ones(6, 4), distgrad.ones(5, 4))
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(distgrad.ones(6, 4, 2), distgrad.tensor(np.zeros((5, 2), np.int64)))


def test_errors_raised_when_called_as_in_pytorch():
    loss_fn = nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"label_smoothing must be between 0.0 and 1.0"):
        loss_fn(distgrad.ones(2, 3), distgrad.tensor([0, 1]))
    gelu = nn.GELU(approximate="foo")
    with pytest.raises(RuntimeError, match="approximate argument must be either"):
        gelu(distgrad.ones(2))
    with pytest.raises(RuntimeError, match="approximate argument must be either"):
        F.gelu(distgrad.ones(2), approximate="foo")
    max_pool = nn.MaxPool2d(2, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half of kernel size"):
        max_pool(distgrad.ones(1, 1, 4, 4))


# --------------------------------------------------------------------- Sequential


def test_deleting_from_sequential_renumbers_the_rest():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    del seq[0]
    assert list(seq.state_dict()) == ["1.weight", "1.bias"]
    assert [name for name, _ in seq.named_children()] == ["0", "1"]
    named = nn.Sequential(OrderedDict(a=nn.Linear(2, 3), b=nn.ReLU(), c=nn.Linear(3, 4)))
    del named[0]
    assert [name for name, _ in named.named_children()] == ["0", "1"]
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh())
    del seq[0:3:2]
    assert list(seq.state_dict()) == []
    assert [type(m).__name__ for m in seq] == ["ReLU", "Tanh"]


# ----------------------------------------------------------------- serialization


def test_load_of_a_zip_with_a_garbled_version_field_is_a_checkpoint_error():
    buffer = io.BytesIO()
    distgrad.save(nn.Linear(30, 20).state_dict(), buffer)
    raw = bytearray(buffer.getvalue())
    entry = raw.rfind(b"PK\x01\x02")  # the last central-directory entry
    raw[entry + 6] ^= 0xFF            # its "version needed to extract"
    with pytest.raises(CheckpointError, match="corrupt distgrad checkpoint"):
        distgrad.load(io.BytesIO(bytes(raw)))


# ------------------------------------------------------------ nll_loss double backward


def test_nll_loss_gradient_is_differentiable_under_create_graph():
    x = f64(np.log(np.full((2, 3), 1 / 3)), requires_grad=True)
    scale = f64(2.0, requires_grad=True)
    (grad,) = distgrad.autograd.grad(F.nll_loss(x, distgrad.tensor([0, 1])), x,
                                     grad_outputs=scale, create_graph=True)
    assert grad.requires_grad and grad.grad_fn.name() == "NllLossBackwardBackward0"
    np.testing.assert_array_equal(grad.detach().numpy(), [[-1, 0, 0], [0, -1, 0]])
    (grad ** 3).sum().backward()
    np.testing.assert_array_equal(grad_of(x), np.zeros((2, 3)))
    assert scale.grad.item() == -3.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradgradcheck(reduction):
    x = f64(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    target = distgrad.tensor([0, 2, 1, 2])
    weight = f64([0.5, 2.0, 1.5])

    def loss(x):
        return F.nll_loss(x.log_softmax(1), target, weight=weight, ignore_index=1,
                          reduction=reduction)

    assert gradcheck(loss, (x,))
    assert gradgradcheck(loss, (x,))


# --------------------------------------------------- F.linear, optimizer group keys


def test_linear_with_a_one_dimensional_weight():
    assert F.linear(distgrad.ones(4, 5), distgrad.ones(5)).shape == (4,)
    assert F.linear(distgrad.ones(5), distgrad.ones(5)).item() == 5.0
    x = f64(np.random.default_rng(5).standard_normal((2, 3, 5)), requires_grad=True)
    w = f64(np.random.default_rng(6).standard_normal(5), requires_grad=True)
    assert F.linear(x, w).shape == (2, 3)
    assert gradcheck(F.linear, (x, w))
    with pytest.raises(RuntimeError):
        F.linear(distgrad.ones(4, 5), distgrad.ones(5), distgrad.ones(1))


def group_options(optimizer):
    return {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}


def test_optimizer_param_groups_have_pytorchs_keys():
    p = distgrad.ones(1, requires_grad=True)
    assert group_options(optim.SGD([p], lr=0.1)) == {
        "lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False,
        "maximize": False, "foreach": None, "differentiable": False, "fused": None}
    adam = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
            "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
            "differentiable": False, "fused": None, "decoupled_weight_decay": False}
    assert list(group_options(optim.Adam([p], lr=0.1)).items()) == list(adam.items())
    adamw = dict(adam, weight_decay=0.01, decoupled_weight_decay=True)
    assert list(group_options(optim.AdamW([p], lr=0.1)).items()) == list(adamw.items())
    saved = optim.Adam([p], lr=0.1).state_dict()["param_groups"][0]
    assert list(saved) == [*adam, "params"]


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.AdamW])
def test_optimizer_implementation_flags(make):
    p = distgrad.ones(1, requires_grad=True)
    for foreach in (True, False, None):
        assert make([p], lr=0.1, foreach=foreach).param_groups[0]["foreach"] is foreach
    flags = ["fused", "differentiable"] + (["capturable"] if make is not optim.SGD else [])
    for flag in flags:
        with pytest.raises(RuntimeError, match=f"{flag}=True is not supported"):
            make([p], lr=0.1, **{flag: True})
