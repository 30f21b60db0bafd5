"""Regression tests from a differential run of the training stack (nn, optim, utils.data,
save/load) against PyTorch 2.13: each expected value below was recorded from PyTorch."""

import collections
import math
import warnings

import numpy as np
import pytest

import distgrad
import distgrad.nn.functional as F
from distgrad import nn
from distgrad.autograd import grad
from distgrad.utils.data import DataLoader, TensorDataset, default_collate, default_convert

NAN = float("nan")


# ----------------------------------------------------------- binary cross-entropy


def test_bce_gradients_at_and_near_zero_and_one():
    x = distgrad.tensor([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5, 0.25, 1e-8], requires_grad=True)
    t = distgrad.tensor([0.3, 0.3, 0.0, 1.0, 0.5, 0.5, 0.9, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, t, reduction="none")
    loss.sum().backward()
    assert loss.grad_fn.name() == "BinaryCrossEntropyBackward0"
    np.testing.assert_allclose(
        loss.detach().numpy(),
        [30.000001907348633, 70.0, 0.0, 0.0, 34.53877639770508, 0.6931471824645996,
         1.2764331102371216, 9.99999993922529e-09], rtol=1e-6)
    # (x - t) / max(x * (1 - x), 1e-12), not the clamped logs' derivative.
    np.testing.assert_allclose(
        x.grad.numpy(),
        [-300000018432.0, 699999977472.0, 0.0, 0.0, -499999997952.0, 0.0, -3.4666664600372314,
         1.0], rtol=1e-6)
    np.testing.assert_allclose(
        t.grad.numpy(),
        [math.inf, -math.inf, math.inf, -math.inf, 69.07755279541016, 0.0, 1.0986123085021973,
         18.42068099975586], rtol=1e-6)


@pytest.mark.parametrize("reduction, value, dx", [
    ("mean", 1.0680240392684937, [[-0.2083333283662796, -0.1190476194024086, 0.0],
                                  [3.3333327770233154, 0.0, 0.0]]),
    ("sum", 6.408144474029541, [[-1.25, -0.7142857313156128, 0.0],
                                [19.999996185302734, 0.0, 0.0]]),
])
def test_bce_with_weight(reduction, value, dx):
    x = distgrad.tensor([[0.2, 0.7, 0.0], [0.9, 0.5, 1.0]], requires_grad=True)
    t = distgrad.tensor([[0.3, 1.0, 0.0], [0.0, 0.5, 1.0]])
    loss = nn.BCELoss(distgrad.tensor([2.0, 0.5, 1.0]), reduction=reduction)(x, t)
    loss.backward()
    np.testing.assert_allclose(loss.item(), value, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-5)


def test_bce_double_backward():
    x = distgrad.tensor([0.2, 0.7], requires_grad=True)
    t = distgrad.tensor([0.3, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, t, distgrad.tensor([2.0, 0.5]))
    gx, gt = grad(loss, (x, t), create_graph=True)
    np.testing.assert_allclose(loss.item(), 0.7282006144523621, rtol=1e-6)
    np.testing.assert_allclose(gx.detach().numpy(), [-0.625, -0.3571428656578064], rtol=1e-6)
    np.testing.assert_allclose(gt.detach().numpy(), [1.3862943649291992, -0.2118244618177414],
                               rtol=1e-6)
    hx, ht = grad(gx.sum() + 3 * gt.sum(), (x, t))
    np.testing.assert_allclose(hx.numpy(), [-10.156249046325684, -3.0612242221832275],
                               rtol=1e-5)
    np.testing.assert_allclose(ht.numpy(), [-6.249999523162842, -1.1904761791229248], rtol=1e-5)


def test_bce_weights_that_require_grad_are_refused():
    x, t = distgrad.rand(3), distgrad.rand(3)
    w = distgrad.rand(3, requires_grad=True)
    for call, name in [(lambda: F.binary_cross_entropy(x, t, w), "weight"),
                       (lambda: F.binary_cross_entropy_with_logits(x, t, w), "weight"),
                       (lambda: F.binary_cross_entropy_with_logits(x, t, pos_weight=w),
                        "pos_weight")]:
        with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument "
                                               f"'{name}'"):
            call()
    with distgrad.no_grad():
        F.binary_cross_entropy(x, t, w)
    with pytest.raises(RuntimeError):  # a weight that does not broadcast to the input
        F.binary_cross_entropy(distgrad.rand(2, 3), distgrad.rand(2, 3), distgrad.rand(2))


# ------------------------------------------------------------------ clip_grad_norm_

_GRADS = [[3.0, -4.0], [0.5, 0.0, 2.0], [0.0]]


def _params(grads):
    params = []
    for g in grads:
        p = nn.Parameter(distgrad.zeros(len(g)))
        p.grad = distgrad.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type, total, scaled", [
    (2.0, 5.408327102661133, [[0.5547000765800476, -0.7396001219749451],
                              [0.09245001524686813, 0.0, 0.36980006098747253], [0.0]]),
    (1.0, 9.5, [[0.31578943133354187, -0.42105257511138916],
                [0.052631571888923645, 0.0, 0.21052628755569458], [0.0]]),
    # p = 0 counts the tensors whose gradient is non-zero.
    (0, 2.0, [[1.4999992847442627, -1.9999990463256836],
              [0.24999988079071045, 0.0, 0.9999995231628418], [0.0]]),
    (math.inf, 4.0, [[0.7499998211860657, -0.9999997615814209],
                     [0.12499997019767761, 0.0, 0.49999988079071045], [0.0]]),
    # -inf is the smallest absolute value, not the largest.
    (-math.inf, 0.0, _GRADS),
    (3.0, 4.628011226654053, [[0.6482264995574951, -0.8643019795417786],
                              [0.10803774744272232, 0.0, 0.4321509897708893], [0.0]]),
])
def test_clip_grad_norm_norm_types(norm_type, total, scaled):
    params = _params(_GRADS)
    result = nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    assert result.dtype == distgrad.float32
    np.testing.assert_allclose(result.item(), total, rtol=1e-6)
    for p, expected in zip(params, scaled, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_propagates_nan(norm_type):
    params = _params([[1.0, NAN], [2.0]])
    assert math.isnan(nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type).item())
    assert all(np.isnan(p.grad.numpy()).all() for p in params)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(_params([[1.0, NAN], [2.0]]), 1.0, norm_type=norm_type,
                                 error_if_nonfinite=True)


def test_get_total_norm_and_clip_grads_with_norm():
    params = _params(_GRADS[:2])
    total = nn.utils.get_total_norm([p.grad for p in params])
    np.testing.assert_allclose(total.item(), 5.408327102661133, rtol=1e-6)
    nn.utils.clip_grads_with_norm_(params, 1.0, total)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.5547000765800476, -0.7396001219749451],
                               rtol=1e-5)
    assert nn.utils.get_total_norm(distgrad.tensor([3.0, 4.0])).item() == 5.0


# --------------------------------------------------------------------------- modules


def test_named_members_without_deduplication_include_shared_submodules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = nn.BatchNorm1d(2)
            self.shared = self.a
            self.bn_again = self.b

    net = Net()
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)] == [
        "a.weight", "a.bias", "b.weight", "b.bias", "shared.weight", "shared.bias",
        "bn_again.weight", "bn_again.bias"]
    assert [n for n, _ in net.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                      "b.bias"]
    assert [n for n, _ in net.named_buffers(remove_duplicate=False)] == [
        "b.running_mean", "b.running_var", "b.num_batches_tracked", "bn_again.running_mean",
        "bn_again.running_var", "bn_again.num_batches_tracked"]


def test_load_state_dict_without_num_batches_tracked():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model.train()(distgrad.randn(4, 2))
    state = {k: v for k, v in model.state_dict().items() if "num_batches_tracked" not in k}
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert model[1].num_batches_tracked.item() == 1
    nn.BatchNorm1d(3, track_running_stats=False).load_state_dict({"weight": distgrad.ones(3),
                                                                   "bias": distgrad.zeros(3)})
    with pytest.raises(RuntimeError, match='Missing key.*"1.running_mean"'):
        del state["1.running_mean"]
        model.load_state_dict(state)


def test_batch_norm_bias_argument_and_reprs():
    bn = nn.BatchNorm2d(3, bias=False)
    assert bn.bias is None and list(bn.state_dict()) == [
        "weight", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(bn) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=False, "
                        "track_running_stats=True)")
    assert repr(nn.BatchNorm1d(4, affine=False)) == (
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=False, bias=False, "
        "track_running_stats=True)")
    assert repr(nn.LayerNorm((2, 3), elementwise_affine=False)) == (
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)")
    x = distgrad.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2))
    bn.weight.data.fill_(2.0)
    out = bn(x)
    np.testing.assert_allclose(out.detach().numpy().mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.detach().numpy().std(axis=(0, 2, 3)), 2.0, rtol=1e-4)


def test_conv2d_string_padding_repr():
    assert repr(nn.Conv2d(2, 4, 3, padding="same")) == (
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same)")


def test_sequential_list_operations():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    seq = nn.Sequential(a, c).insert(1, b)
    assert list(seq) == [a, b, c] and list(seq._modules) == ["0", "1", "2"]
    assert seq.pop(0) is a and list(seq) == [b, c] and list(seq._modules) == ["0", "1"]
    joined = nn.Sequential(a) + nn.Sequential(b, c)
    assert list(joined) == [a, b, c]
    seq = nn.Sequential(a)
    seq += nn.Sequential(b)
    assert list(seq) == [a, b]
    assert list(nn.Sequential(a, b) * 2) == [a, b, a, b] == list(2 * nn.Sequential(a, b))
    with pytest.raises(ValueError, match="Sequential class"):
        nn.Sequential(a) + [b]
    with pytest.raises(ValueError, match="Non-positive"):
        nn.Sequential(a) * 0
    with pytest.raises(IndexError):
        nn.Sequential(a).insert(3, b)


def test_module_list_and_dict_operations():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    ml = nn.ModuleList([a, b, c])
    assert ml.pop(-2) is b and list(ml) == [a, c] and list(ml._modules) == ["0", "1"]
    assert list(nn.ModuleList([a]) + nn.ModuleList([b, c])) == [a, b, c]
    md = nn.ModuleDict({"z": a, "y": b})
    md.clear()
    assert len(md) == 0


def test_module_list_repr_groups_repeated_modules():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)]
                       + [nn.ReLU()] + [nn.Sequential(nn.Tanh()) for _ in range(2)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): ReLU()\n"
        "  (4-5): 2 x Sequential(\n"
        "    (0): Tanh()\n"
        "  )\n"
        ")")
    assert repr(nn.ModuleList()) == "ModuleList()"


@pytest.mark.parametrize("size_average, reduce, reduction", [
    (None, None, "mean"), (False, None, "sum"), (True, None, "mean"), (None, False, "none"),
    (False, False, "none"), (True, False, "none"), (None, True, "mean"),
])
def test_loss_legacy_reduction_arguments(size_average, reduce, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cls in (nn.MSELoss, nn.L1Loss, nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss,
                    nn.BCEWithLogitsLoss):
            assert cls(size_average=size_average, reduce=reduce).reduction == reduction


def test_loss_constructors_take_pytorchs_positional_order():
    w = distgrad.tensor([1.0, 2.0, 3.0])
    loss = nn.NLLLoss(w, None, 2)
    assert loss.ignore_index == 2 and loss.reduction == "mean"
    loss = nn.CrossEntropyLoss(w, None, 1, None, "sum", 0.1)
    assert (loss.ignore_index, loss.reduction, loss.label_smoothing) == (1, "sum", 0.1)
    loss = nn.BCEWithLogitsLoss(None, None, None, "none", w)
    assert loss.reduction == "none" and loss.pos_weight is not None
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(False).reduction == "sum"


# ------------------------------------------------------------------------- embedding

_W = [[3.0, 4.0, 0.0], [0.1, 0.2, 0.2], [1.0, -1.0, 1.0], [0.0, 0.0, 6.0]]


def test_embedding_max_norm_renormalises_looked_up_rows_in_place():
    emb = nn.Embedding(4, 3, max_norm=1.5, _weight=distgrad.tensor(_W))
    emb(distgrad.tensor([[0, 2, 2], [3, 0, 1]]))
    np.testing.assert_allclose(emb.weight.detach().numpy(), [
        [0.8999999761581421, 1.1999999284744263, 0.0],
        [0.10000000149011612, 0.20000000298023224, 0.20000000298023224],
        [0.8660253882408142, -0.8660253882408142, 0.8660253882408142], [0.0, 0.0, 1.5]],
        rtol=1e-6)
    emb = nn.Embedding(4, 3, max_norm=2.0, norm_type=1.0, _weight=distgrad.tensor(_W))
    emb(distgrad.tensor([1, 2]))
    np.testing.assert_allclose(emb.weight.detach().numpy(), [
        [3.0, 4.0, 0.0], [0.10000000149011612, 0.20000000298023224, 0.20000000298023224],
        [0.6666666269302368, -0.6666666269302368, 0.6666666269302368], [0.0, 0.0, 6.0]],
        rtol=1e-6)


def test_embedding_scale_grad_by_freq():
    emb = nn.Embedding(4, 3, scale_grad_by_freq=True, padding_idx=3, _weight=distgrad.tensor(_W))
    out = emb(distgrad.tensor([[0, 2, 2], [3, 0, 1]]))
    out.backward(distgrad.arange(18.0).reshape(2, 3, 3))
    np.testing.assert_allclose(emb.weight.grad.numpy(), [
        [6.0, 7.0, 8.0], [15.0, 16.0, 17.0], [4.5, 5.5, 6.5], [0.0, 0.0, 0.0]])
    assert repr(nn.Embedding(4, 3, padding_idx=1, max_norm=1.0, norm_type=1.0,
                             scale_grad_by_freq=True)) == (
        "Embedding(4, 3, padding_idx=1, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)")
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(4, 3, sparse=True)


# ------------------------------------------------------------------------------ data


def test_collate_keeps_the_zipped_tuple_of_strings():
    batch = [(np.float32(0), 0, "x0"), (np.float32(1), 1, "x1")]
    x, i, names = default_collate(batch)
    assert x.tolist() == [0.0, 1.0] and i.tolist() == [0, 1] and names == ("x0", "x1")
    out = default_collate([{"e": (0.0, "z")}, {"e": (1.0, "z")}])
    assert isinstance(out["e"], list) and out["e"][1] == ("z", "z")
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_default_convert_turns_tuples_into_lists():
    ds = TensorDataset(distgrad.arange(6.0).reshape(3, 2), distgrad.arange(3))
    samples = list(DataLoader(ds, batch_size=None))
    assert all(type(s) is list for s in samples)
    assert samples[1][0].tolist() == [2.0, 3.0] and samples[1][1].item() == 1
    out = default_convert({"a": (np.ones(2), "s")})
    assert type(out["a"]) is list and out["a"][1] == "s"


def test_collate_keeps_mapping_types():
    batch = [collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)]
    out = default_collate(batch)
    assert type(out) is collections.defaultdict and out.default_factory is list
    assert out["a"].tolist() == [1, 2]


def test_bce_refuses_nan_inputs_and_targets_outside_zero_one():
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(distgrad.tensor([NAN, 0.5]), distgrad.ones(2))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(distgrad.full((3,), 0.3), distgrad.full((3,), 2.0))


# -------------------------------------------------------------------- F.linear, optim


def test_linear_broadcasts_a_bias_of_another_shape():
    x = distgrad.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
    w = distgrad.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]], requires_grad=True)
    b = distgrad.tensor([0.25], requires_grad=True)
    out = F.linear(x, w, b)
    out.backward(distgrad.tensor([[1.0, 2.0], [3.0, -1.0]]))
    assert out.tolist() == [[-1.75, 5.75], [-1.25, 1.25]]
    assert b.grad.tolist() == [5.0] and w.grad.tolist() == [[2.5, -1.0, 9.0], [1.5, 5.0, 4.0]]
    b0 = distgrad.tensor(0.5, requires_grad=True)
    out = F.linear(x, w, b0)
    out.sum().backward()
    assert out.tolist() == [[-1.5, 6.0], [-1.0, 1.5]] and b0.grad.item() == 4.0


def test_optimizer_repr_separates_groups_with_a_blank_line():
    p, q = nn.Parameter(distgrad.ones(1)), nn.Parameter(distgrad.ones(1))
    text = repr(distgrad.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1))
    assert text == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
        "    foreach: None\n    fused: None\n    lr: 0.1\n    maximize: False\n"
        "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n\nParameter Group 1\n"
        "    dampening: 0\n    differentiable: False\n    foreach: None\n    fused: None\n"
        "    lr: 0.5\n    maximize: False\n    momentum: 0\n    nesterov: False\n"
        "    weight_decay: 0\n)")


# ------------------------------------------------------------------------ save, load


def test_save_load_keeps_parameters_and_requires_grad(tmp_path):
    w = nn.Parameter(distgrad.ones(2))
    x = distgrad.ones(2, requires_grad=True)
    distgrad.save({"w": w, "x": x, "y": x * 2, "sd": nn.Linear(1, 1).state_dict()},
                  tmp_path / "c")
    loaded = distgrad.load(tmp_path / "c")
    assert isinstance(loaded["w"], nn.Parameter) and loaded["w"].requires_grad
    assert type(loaded["x"]) is distgrad.Tensor and loaded["x"].requires_grad
    assert loaded["y"].requires_grad and loaded["y"].is_leaf
    assert not any(t.requires_grad for t in loaded["sd"].values())
