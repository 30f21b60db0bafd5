"""Losses against closed-form NumPy, for every reduction; gradients against finite
differences; bad targets give clear errors."""

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def rand64(*shape, seed=0, requires_grad=True):
    return distgrad.tensor(np.random.default_rng(seed).standard_normal(shape),
                           requires_grad=requires_grad)


def reduce(losses, reduction, denominator=None):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (len(losses) if denominator is None else denominator)


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def ref_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """PyTorch's definition, one sample at a time."""
    n, c = x.shape
    logp = log_softmax(x)
    w = weight if weight is not None else np.ones(c)
    losses, denominator = np.zeros(n), 0.0
    for i in range(n):
        if t[i] == ignore_index:
            continue
        nll = -w[t[i]] * logp[i, t[i]]
        smooth = -(w * logp[i]).sum() / c
        losses[i] = (1 - smoothing) * nll + smoothing * smooth
        denominator += w[t[i]]
    return reduce(losses, reduction, denominator)


# ------------------------------------------------------------------ regression losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1_against_numpy(reduction):
    x, y = rand64(4, 3), rand64(4, 3, seed=1)
    diff = x.detach().numpy() - y.detach().numpy()
    mse = nn.MSELoss(reduction=reduction)(x, y)
    l1 = nn.L1Loss(reduction=reduction)(x, y)
    np.testing.assert_allclose(mse.detach().numpy(), reduce(diff**2, reduction) if
                               reduction != "mean" else (diff**2).mean())
    np.testing.assert_allclose(l1.detach().numpy(), reduce(np.abs(diff), reduction) if
                               reduction != "mean" else np.abs(diff).mean())
    assert gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (x, y))
    assert gradcheck(lambda x, y: F.l1_loss(x, y, reduction=reduction), (x, y))


def test_mse_warns_on_broadcasting_targets():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(distgrad.zeros(3, 1), distgrad.zeros(3))


# ---------------------------------------------------------------- cross-entropy


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=True),
    dict(weight=True, reduction="sum"),
    dict(ignore=True),
    dict(ignore=True, weight=True),
    dict(smoothing=0.2),
    dict(smoothing=0.1, weight=True, ignore=True),
    dict(smoothing=0.3, reduction="none", ignore=True),
]


@pytest.mark.parametrize("case", CE_CASES, ids=str)
def test_cross_entropy_with_class_indices_against_closed_form(case):
    rng = np.random.default_rng(3)
    x = rand64(6, 5)
    t = rng.integers(0, 5, size=6)
    if case.get("ignore"):
        t[[1, 4]] = -100
    weight = rng.random(5) + 0.5 if case.get("weight") else None
    reduction = case.get("reduction", "mean")
    smoothing = case.get("smoothing", 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=None if weight is None else distgrad.tensor(weight),
                                  reduction=reduction, label_smoothing=smoothing)
    target = distgrad.tensor(t)
    out = loss_fn(x, target)
    expected = ref_cross_entropy(x.detach().numpy(), t, weight, -100, reduction, smoothing)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10)
    loss_fn.double()
    assert gradcheck(lambda x: loss_fn(x, target), (x,))
    assert gradgradcheck(lambda x: loss_fn(x, target), (x,))


def test_cross_entropy_custom_ignore_index_and_all_ignored():
    x = rand64(3, 4)
    t = distgrad.tensor([2, 7, 1])
    out = F.cross_entropy(x, t, ignore_index=7)
    expected = ref_cross_entropy(x.detach().numpy(), t.numpy(), ignore_index=7)
    np.testing.assert_allclose(out.item(), expected)
    out.backward()
    assert np.all(x.grad.numpy()[1] == 0)
    all_ignored = F.cross_entropy(x, distgrad.tensor([-100, -100, -100]))
    assert np.isnan(all_ignored.item())
    assert F.cross_entropy(x, distgrad.tensor([-100] * 3), reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities(reduction):
    rng = np.random.default_rng(4)
    x = rand64(4, 3)
    q = rng.random((4, 3))
    q /= q.sum(axis=1, keepdims=True)
    weight = rng.random(3) + 0.5
    out = F.cross_entropy(x, distgrad.tensor(q), weight=distgrad.tensor(weight),
                          reduction=reduction, label_smoothing=0.1)
    smoothed = q * 0.9 + 0.1 / 3
    losses = -(weight * smoothed * log_softmax(x.detach().numpy())).sum(axis=1)
    np.testing.assert_allclose(out.detach().numpy(), reduce(losses, reduction), rtol=1e-10)
    target = distgrad.tensor(q, requires_grad=True)
    assert gradcheck(lambda x, q: F.cross_entropy(x, q, reduction=reduction), (x, target))


def test_cross_entropy_spatial_targets_match_flattened_rows():
    x = rand64(2, 4, 3)
    t = distgrad.tensor([[0, 3, 1], [2, 2, 0]])
    out = F.cross_entropy(x, t, reduction="none")
    assert out.shape == (2, 3)
    rows = x.detach().numpy().transpose(0, 2, 1).reshape(-1, 4)
    expected = ref_cross_entropy(rows, t.numpy().reshape(-1), reduction="none")
    np.testing.assert_allclose(out.detach().numpy().reshape(-1), expected, rtol=1e-10)
    assert gradcheck(lambda x: F.cross_entropy(x, t), (x,))


def test_cross_entropy_float32_and_single_sample():
    x = distgrad.randn(8, 10)
    loss = F.cross_entropy(x, distgrad.randint(0, 10, (8,)))
    assert loss.dtype == distgrad.float32 and loss.shape == ()
    one = F.cross_entropy(distgrad.randn(10), distgrad.tensor(3))
    assert one.shape == ()


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    x = distgrad.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], requires_grad=True)
    F.cross_entropy(x, distgrad.tensor([2, 0])).backward()
    p = np.exp(x.detach().numpy())
    p /= p.sum(axis=1, keepdims=True)
    p[[0, 1], [2, 0]] -= 1
    np.testing.assert_allclose(x.grad.numpy(), p / 2, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_backward_twice_with_retain_graph(reduction):
    # The first backward reuses the forward's softmax and drops it; the second recomputes.
    x = distgrad.randn(6, 5, dtype=distgrad.float64, requires_grad=True)
    loss = F.cross_entropy(x, distgrad.tensor([0, 4, 2, 2, 1, 3]), reduction=reduction)
    loss.sum().backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)
    x.grad = None
    loss2 = F.cross_entropy(x * 1.0, distgrad.tensor([0, 4, 2, 2, 1, 3]), reduction=reduction)
    loss2.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), first, rtol=1e-12)


# ---------------------------------------------------------------------- bad targets


def test_bad_targets_give_clear_errors_and_no_graph():
    x = distgrad.randn(4, 10, requires_grad=True)
    loss_fn = nn.CrossEntropyLoss()
    with pytest.raises(RuntimeError, match="int64"):
        loss_fn(x, distgrad.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be int64"):
        loss_fn(x, distgrad.tensor([1, 2, 3, 4], dtype=distgrad.int32))
    with pytest.raises(IndexError, match=r"target 10 is out of bounds.*for 10 classes"):
        loss_fn(x, distgrad.tensor([1, 10, 3, 4]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        loss_fn(x, distgrad.tensor([1, -1, 3, 4]))
    with pytest.raises(ValueError, match=r"batch_size \(3\).*expected target of shape \[4\]"):
        loss_fn(x, distgrad.tensor([1, 2, 3]))
    with pytest.raises(IndexError, match="target 5 is out of bounds"):
        F.nll_loss(x.log_softmax(1)[:, :5], distgrad.tensor([0, 1, 5, 2]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        nn.CrossEntropyLoss(weight=distgrad.ones(3))(x, distgrad.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    assert x.grad is None


# --------------------------------------------------------------------------- NLLLoss


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_weighted_mean(reduction):
    rng = np.random.default_rng(5)
    logp = rand64(5, 4)
    t = np.array([0, 3, -100, 1, 3])
    weight = rng.random(4) + 0.5
    out = nn.NLLLoss(weight=distgrad.tensor(weight), reduction=reduction)(logp,
                                                                          distgrad.tensor(t))
    valid = t != -100
    w_t = np.where(valid, weight[np.where(valid, t, 0)], 0)
    losses = -w_t * logp.detach().numpy()[np.arange(5), np.where(valid, t, 0)]
    np.testing.assert_allclose(out.detach().numpy(), reduce(losses, reduction, w_t.sum()))
    assert gradcheck(lambda p: F.nll_loss(p, distgrad.tensor(t), distgrad.tensor(weight),
                                          reduction=reduction), (logp,))


def test_log_softmax_then_nll_equals_cross_entropy():
    x, t = rand64(6, 3), distgrad.tensor([0, 1, 2, 2, 1, 0])
    a = F.nll_loss(F.log_softmax(x, dim=1), t)
    b = F.cross_entropy(x, t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


# ----------------------------------------------------------------------- binary losses


def ref_bce_logits(x, y, weight=None, pos_weight=None):
    log_sig = -np.logaddexp(0, -x)
    log_not_sig = -np.logaddexp(0, x)
    pw = 1.0 if pos_weight is None else pos_weight
    losses = -(pw * y * log_sig + (1 - y) * log_not_sig)
    return losses * (1.0 if weight is None else weight)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_against_numpy(reduction):
    rng = np.random.default_rng(6)
    x = rand64(4, 3)
    y = distgrad.tensor(rng.random((4, 3)), requires_grad=True)
    pos_weight, weight = rng.random(3) * 3, rng.random((4, 1))
    loss_fn = nn.BCEWithLogitsLoss(weight=distgrad.tensor(weight), reduction=reduction,
                                   pos_weight=distgrad.tensor(pos_weight))
    out = loss_fn(x, y)
    losses = ref_bce_logits(x.detach().numpy(), y.detach().numpy(), weight, pos_weight)
    expected = losses.mean() if reduction == "mean" else reduce(losses, reduction)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10)
    assert gradcheck(lambda x, y: loss_fn(x, y), (x, y))
    assert gradgradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), (x, y))


def test_bce_with_logits_is_stable_for_large_logits():
    x = distgrad.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    y = distgrad.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    np.testing.assert_allclose(loss.item(), 2000.0 + np.log(2.0), rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5], atol=1e-6)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, distgrad.zeros(2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_loss_against_numpy(reduction):
    rng = np.random.default_rng(7)
    p = distgrad.tensor(rng.uniform(0.1, 0.9, (3, 4)), requires_grad=True)
    y = distgrad.tensor(rng.random((3, 4)))
    out = nn.BCELoss(reduction=reduction)(p, y)
    a, b = p.detach().numpy(), y.numpy()
    losses = -(b * np.log(a) + (1 - b) * np.log(1 - a))
    expected = losses.mean() if reduction == "mean" else reduce(losses, reduction)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10)
    assert gradcheck(lambda p: F.binary_cross_entropy(p, y, reduction=reduction), (p,))


def test_bce_loss_clamps_logs_and_validates_range():
    p = distgrad.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, distgrad.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0], rtol=1e-5)
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(distgrad.tensor([1.5]), distgrad.tensor([1.0]))


def test_one_hot():
    out = F.one_hot(distgrad.tensor([0, 2, 1]), 4)
    assert out.dtype == distgrad.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(distgrad.tensor([3])).shape == (1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(distgrad.tensor([5]), 3)


def test_functional_losses_take_pytorchs_positional_order_and_weights():
    x, y = distgrad.tensor([1.0, 2.0, 3.0]), distgrad.tensor([0.0, 0.0, 1.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(x, y, False).item() == 9.0           # size_average=False
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.mse_loss(x, y, None, False).tolist() == [1.0, 4.0, 4.0]  # reduce=False
    logits, target = distgrad.randn(3, 4), distgrad.tensor([0, 1, 2])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = F.cross_entropy(logits, target, None, False)
    np.testing.assert_allclose(summed.item(), 3 * F.cross_entropy(logits, target).item(),
                               rtol=1e-6)
    # torch 2.13's weighted mse/l1: a weighted mean divides by the weights' sum
    w = distgrad.tensor([1.0, 2.0, 0.5])
    np.testing.assert_allclose(F.mse_loss(x, y, weight=w).item(), 3.142857, rtol=1e-5)
    assert F.mse_loss(x, y, weight=w, reduction="sum").item() == 11.0
    assert F.mse_loss(x, y, weight=w, reduction="none").tolist() == [1.0, 8.0, 2.0]
    np.testing.assert_allclose(F.l1_loss(x, y, weight=w).item(), 1.714286, rtol=1e-5)
    with pytest.raises(ValueError, match="same size"):
        F.mse_loss(x, y, weight=distgrad.tensor(2.0))


def test_cross_entropy_single_sample_and_probability_target_rules():
    x = distgrad.randn(5)
    np.testing.assert_allclose(F.cross_entropy(x, distgrad.tensor([2])).item(),
                               F.cross_entropy(x, distgrad.tensor(2)).item())
    probs = F.softmax(distgrad.randn(3, 4), 1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(distgrad.randn(3, 4), probs, ignore_index=1)
