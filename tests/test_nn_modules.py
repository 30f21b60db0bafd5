"""``nn.Module`` machinery: registration, traversal, state dicts, modes, dtypes, repr, hooks,
containers and the gradient utilities."""

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = nn.Parameter(distgrad.ones(3))
        self.register_buffer("steps", distgrad.tensor(0))
        self.register_buffer("cache", distgrad.zeros(3), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.block(x).relu())


# ---------------------------------------------------------------- registration


def test_attribute_assignment_registers_parameters_buffers_and_modules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head"]
    assert net.block.fc.weight is net.get_parameter("block.fc.weight")
    assert net.get_submodule("block.fc") is net.block.fc
    assert "fc" in dir(net.block) and "steps" in dir(net.block)


def test_parameters_follow_registration_order_and_shared_ones_appear_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    params = list(model.parameters())
    assert len(params) == 2
    assert params[0] is shared.weight and params[1] is shared.bias
    tied = nn.Module()
    tied.a = nn.Parameter(distgrad.ones(2))
    tied.b = tied.a
    assert len(list(tied.parameters())) == 1
    assert len(list(tied.named_parameters(remove_duplicate=False))) == 2


def test_register_parameter_none_and_reassignment_keeps_order():
    m = nn.Linear(3, 2, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    m.weight = nn.Parameter(distgrad.zeros(2, 3))
    m.bias = nn.Parameter(distgrad.zeros(2))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


def test_bad_assignments_raise():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        m.weight = distgrad.zeros(2, 3)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("weight", distgrad.zeros(1))
    with pytest.raises(KeyError, match="empty or contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("p", distgrad.ones(1))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(distgrad.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\)"):
        Early()


def test_delattr_and_buffer_assignment():
    block = Block()
    block.steps = distgrad.tensor(5)
    assert block.state_dict()["steps"].item() == 5
    del block.scale
    assert "scale" not in dict(block.named_parameters())
    with pytest.raises(AttributeError):
        block.scale  # noqa: B018


# -------------------------------------------------------------------- state dicts


def test_state_dict_keys_detached_and_sharing_memory():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                        "head.weight", "head.bias"]  # the non-persistent cache is left out
    assert not sd["head.weight"].requires_grad and sd["head.weight"].grad_fn is None
    with distgrad.no_grad():
        net.head.weight.fill_(3.0)
    assert np.all(sd["head.weight"].numpy() == 3.0)
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight
    assert list(net.block.state_dict(prefix="b."))[0] == "b.scale"


def test_load_state_dict_copies_in_place():
    src, dst = Net(), Net()
    weight = dst.head.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.head.weight is weight
    for (name, a), b in zip(src.state_dict().items(), dst.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_strict_load_lists_problems_and_modifies_nothing():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    before = _snapshot(model)
    bad = {k: distgrad.randn(*v.shape) for k, v in model.state_dict().items()}
    del bad["2.bias"]
    bad["extra"] = distgrad.zeros(1)
    bad["0.weight"] = distgrad.zeros(3, 4)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert 'Missing key(s) in state_dict: "2.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message
    assert ("size mismatch for 0.weight: copying a param with shape [3, 4] from checkpoint, "
            "the shape in current model is [4, 4]") in message
    after = _snapshot(model)
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])


def test_non_strict_load_reports_keys_but_still_refuses_shape_mismatch():
    model = nn.Linear(3, 2)
    partial = {"weight": distgrad.ones(2, 3), "other": distgrad.ones(1)}
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(model.weight.detach().numpy() == 1.0)
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        model.load_state_dict({"weight": distgrad.ones(3, 3)}, strict=False)
    np.testing.assert_array_equal(before["weight"], model.weight.detach().numpy())


def test_load_state_dict_casts_dtype_and_accepts_arrays():
    model = nn.Linear(2, 2)
    model.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)})
    assert model.weight.dtype == distgrad.float32
    np.testing.assert_array_equal(model.weight.detach().numpy(), np.eye(2))


# ------------------------------------------------------------ modes, dtypes, grads


def test_train_eval_propagate_and_return_self():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert net.training and net[1].training
    assert net.eval() is net
    assert not net.training and not net[1].training
    assert net.train() is net and net[1].training
    with pytest.raises(ValueError):
        net.train("yes")


def test_to_dtype_converts_floats_in_place_and_keeps_identity():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = net[0].weight
    net(distgrad.randn(4, 2)).sum().backward()
    assert net.double() is net
    assert net[0].weight is weight and weight.dtype == distgrad.float64
    assert weight.grad.dtype == distgrad.float64
    assert net[1].running_mean.dtype == distgrad.float64
    assert net[1].num_batches_tracked.dtype == distgrad.int64
    net.to(distgrad.float32)
    assert weight.dtype == distgrad.float32
    net.to(dtype=distgrad.float64)
    assert weight.dtype == distgrad.float64
    assert net.to("cpu") is net and net.float() is net and weight.dtype == distgrad.float32
    with pytest.raises(TypeError):
        net.to(distgrad.int64)


def test_zero_grad_set_to_none_or_zeros():
    net = Net()
    net(distgrad.randn(2, 4)).sum().backward()
    grad = net.head.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.head.weight.grad is grad and np.all(grad.numpy() == 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_and_requires_grad_():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "Linear", "Net"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_call_runs_forward_and_missing_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ------------------------------------------------------------------------- repr


def test_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(),
                          nn.Sequential(nn.Dropout(0.1), nn.Linear(512, 10, bias=False)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=512, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "    (1): Linear(in_features=512, out_features=10, bias=False)\n"
        "  )\n"
        ")")
    assert repr(nn.Conv2d(1, 16, 3, padding=1)) == (
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
    assert repr(nn.BatchNorm1d(8)) == (
        "BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)")
    assert repr(nn.LayerNorm(5)) == (
        "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)")
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


# ------------------------------------------------------------------------ hooks


def test_forward_pre_hook_and_forward_hook_can_replace_values():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(distgrad.randn(3, 2))
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    pre.remove()
    post.remove()
    x = distgrad.randn(3, 2)
    np.testing.assert_allclose(lin(x).detach().numpy(), (x @ lin.weight.T + lin.bias)
                               .detach().numpy(), rtol=1e-6)
    assert calls == [(3, 2)]


def test_pre_hook_single_value_is_wrapped():
    lin = nn.Linear(2, 2)
    lin.register_forward_pre_hook(lambda m, args: distgrad.zeros(1, 2))
    assert lin(distgrad.randn(5, 2)).shape == (1, 2)


# ------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_len_iteration_append():
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[1] is list(seq)[1]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    assert seq(distgrad.randn(5, 4)).shape == (5, 2)
    seq.append(nn.Tanh())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()][-1] == "3"
    seq[0] = nn.Linear(4, 3)
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[3]
    assert len(seq) == 3
    with pytest.raises(IndexError):
        seq[7]  # noqa: B018


def test_sequential_from_ordered_dict():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in seq.named_children()] == ["fc", "act"] and seq.fc is seq[0]


def test_module_list_and_dict_register_their_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(layers.parameters())) == 6 and len(layers) == 3
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 5
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    heads = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Linear(2, 3)})
    assert "a" in heads and list(heads.keys()) == ["a", "b"]
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                        "b.bias"]


# ------------------------------------------------------------- gradient utilities


def _with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(distgrad.zeros(len(g)))
        p.grad = distgrad.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_scales_with_pytorch_formula():
    params = _with_grads([3.0, 0.0], [0.0, 4.0])
    total = clip_grad_norm_(params, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * coef, 0], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [0, 4 * coef], rtol=1e-6)
    untouched = _with_grads([0.3, 0.4])
    assert clip_grad_norm_(untouched, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_allclose(untouched[0].grad.numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_grad_norm_other_norms_and_nonfinite():
    params = _with_grads([3.0, -7.0], [1.0, 1.0])
    assert clip_grad_norm_(params, 100.0, norm_type=float("inf")).item() == 7.0
    assert clip_grad_norm_(params, 100.0, norm_type=1).item() == pytest.approx(12.0)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(_with_grads([float("nan")]), 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([nn.Parameter(distgrad.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value_and_vector_round_trip():
    params = _with_grads([3.0, -7.0, 0.5])
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [1.0, -1.0, 0.5])
    net = nn.Linear(3, 2)
    vec = parameters_to_vector(net.parameters())
    assert vec.shape == (8,)
    vector_to_parameters(distgrad.arange(8.0), net.parameters())
    np.testing.assert_array_equal(net.weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(net.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(RuntimeError, match="8"):
        vector_to_parameters(distgrad.zeros(5), net.parameters())


def test_trunc_normal_orthogonal_eye_dirac_inits():
    import distgrad.nn.init as init
    distgrad.manual_seed(0)
    t = init.trunc_normal_(distgrad.empty(20000), mean=1.0, std=2.0, a=0.0, b=1.5)
    values = t.numpy()
    assert values.min() >= 0.0 and values.max() <= 1.5
    # N(1, 4) truncated to [0, 1.5] is nearly flat on it: mean near 0.76, std near 0.43
    assert 0.7 < values.mean() < 0.8 and values.std() > 0.4
    q = init.orthogonal_(distgrad.empty(3, 2, 4), gain=2.0).numpy().reshape(3, 8)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)   # orthogonal rows
    tall = init.orthogonal_(distgrad.empty(6, 3)).numpy()
    np.testing.assert_allclose(tall.T @ tall, np.eye(3), atol=1e-5)  # orthogonal columns
    assert init.eye_(distgrad.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    w = init.dirac_(distgrad.empty(4, 2, 3, 3), groups=2)
    assert np.argwhere(w.numpy()).tolist() == [[0, 0, 1, 1], [1, 1, 1, 1], [2, 0, 1, 1],
                                                [3, 1, 1, 1]]
    x = distgrad.randn(1, 3, 5, 5)
    same = F.conv2d(x, init.dirac_(distgrad.empty(3, 3, 3, 3)), padding=1)
    np.testing.assert_allclose(same.numpy(), x.numpy(), atol=1e-6)  # passes its input through
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(distgrad.empty(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(distgrad.empty(2, 2))
