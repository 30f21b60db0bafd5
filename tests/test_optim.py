"""Optimizers and LR schedulers against NumPy references of PyTorch's update formulas."""

import math

import numpy as np
import pytest

import distgrad
import distgrad.optim as optim
from distgrad.optim import lr_scheduler
from distgrad.serialization import load, save

STEPS = 10


# ------------------------------------------------------------ NumPy references
def ref_sgd(p, g, state, *, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        buf = state.get("buf")
        buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
        state["buf"] = buf
        g = g + momentum * buf if nesterov else buf
    return p - lr * g


def ref_adam(p, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
             amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    if not state:
        state.update(t=0, m=np.zeros_like(p), v=np.zeros_like(p), vmax=np.zeros_like(p))
    g = -g if maximize else g
    state["t"] += 1
    t = state["t"]
    if weight_decay and decoupled:
        p = p * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
    v = state["v"]
    if amsgrad:
        v = state["vmax"] = np.maximum(state["vmax"], v)
    denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
    return p - lr / (1 - beta1**t) * state["m"] / denom


def grad_at(p, t, i):
    """A gradient that depends on the parameter, so that errors would compound."""
    noise = np.random.default_rng(1000 * t + i).standard_normal(p.shape).astype(p.dtype)
    return (p * p.dtype.type(0.5) + noise).astype(p.dtype)


def make_params(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [distgrad.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in [(4, 3), (3,)]]


def run_both(make_opt, ref_step, dtype=np.float64, steps=STEPS):
    params = make_params(dtype)
    opt = make_opt(params)
    expected = [p.detach().numpy().copy() for p in params]
    states = [{} for _ in params]
    for t in range(steps):
        for i, p in enumerate(params):
            p.grad = distgrad.from_numpy(grad_at(p.detach().numpy(), t, i))
            expected[i] = ref_step(expected[i], grad_at(expected[i], t, i), states[i])
        opt.step()
    return [p.detach().numpy() for p in params], expected


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True),
    dict(lr=0.05, weight_decay=0.1, maximize=True),
    dict(lr=0.02, momentum=0.5, dampening=0.5, weight_decay=0.2, maximize=True),
]

ADAM_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.05),
    # beta1 < 0.5 takes lerp's other branch (weight 1 - beta1 >= 0.5).
    dict(lr=0.02, betas=(0.3, 0.9), amsgrad=True),
]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_sgd_matches_reference(config):
    got, expected = run_both(lambda ps: optim.SGD(ps, **config),
                             lambda p, g, s: ref_sgd(p, g, s, **config))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=str)
def test_adam_matches_reference(config):
    got, expected = run_both(lambda ps: optim.Adam(ps, **config),
                             lambda p, g, s: ref_adam(p, g, s, **config))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("config", ADAM_CONFIGS + [dict(lr=0.01, weight_decay=0.3)], ids=str)
def test_adamw_matches_reference(config):
    config = dict(config, weight_decay=config.get("weight_decay", 1e-2))
    got, expected = run_both(lambda ps: optim.AdamW(ps, **config),
                             lambda p, g, s: ref_adam(p, g, s, decoupled=True, **config))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_adamw_decay_is_decoupled():
    assert optim.AdamW(make_params()).defaults["weight_decay"] == 1e-2
    coupled, decoupled = make_params(), make_params()
    train(optim.Adam(coupled, weight_decay=1e-2), coupled, 3)
    train(optim.AdamW(decoupled), decoupled, 3)
    assert not np.allclose(coupled[0].detach().numpy(), decoupled[0].detach().numpy(),
                           rtol=1e-9, atol=0)


@pytest.mark.parametrize("make_opt,ref", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
     lambda p, g, s: ref_sgd(p, g, s, lr=0.1, momentum=0.9, nesterov=True)),
    (lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
     lambda p, g, s: ref_adam(p, g, s, lr=0.01, amsgrad=True)),
], ids=["sgd", "adam"])
def test_float32_stays_float32_and_close(make_opt, ref):
    got, expected = run_both(make_opt, ref, dtype=np.float32)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_param_groups_use_their_own_hyperparameters():
    a, b = make_params()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    a0, b0 = a.detach().numpy().copy(), b.detach().numpy().copy()
    a.grad = distgrad.ones(4, 3, dtype=distgrad.float64)
    b.grad = distgrad.ones(3, dtype=distgrad.float64)
    opt.step()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), a0 - 0.2)
    np.testing.assert_allclose(b.detach().numpy(), b0 - 0.5 * (1 + 1.9))
    assert "momentum_buffer" in opt.state[b] and a not in opt.state


def test_add_param_group_fills_defaults():
    a, b = make_params()
    opt = optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": [b], "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    assert opt.param_groups[1]["params"][0] is b


def test_params_without_grad_are_skipped():
    a, b = make_params()
    b0 = b.detach().numpy().copy()
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9), optim.Adam([a, b])):
        a.grad = distgrad.ones(4, 3, dtype=distgrad.float64)
        opt.step()
        np.testing.assert_array_equal(b.detach().numpy(), b0)
        assert b not in opt.state and a in opt.state


def test_step_bumps_versions_and_leaves_grads_alone():
    a, b = make_params()
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
                optim.Adam([a, b], weight_decay=0.1, maximize=True)):
        grads = [distgrad.ones(4, 3, dtype=distgrad.float64), None]
        a.grad, b.grad = grads
        versions = (a._version, b._version)
        opt.step()
        opt.step()
        assert a._version == versions[0] + 2 and b._version == versions[1]
        np.testing.assert_array_equal(a.grad.numpy(), np.ones((4, 3)))


def test_step_returns_closure_loss_with_grad_enabled():
    (a, _) = make_params()
    opt = optim.SGD([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with distgrad.no_grad():
        loss = opt.step(closure)
    assert loss.grad_fn is not None
    assert optim.SGD([a]).step() is None


def test_zero_grad_set_to_none_and_in_place():
    a, b = make_params()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = distgrad.ones(4, 3, dtype=distgrad.float64)
    grad = a.grad
    version = grad._version
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not grad.numpy().any() and grad._version == version + 1
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_zero_grad_in_place_detaches_a_graph_grad():
    (a, _) = make_params()
    a.grad = a * 2
    opt = optim.SGD([a])
    opt.zero_grad(set_to_none=False)
    assert a.grad.grad_fn is None and not a.grad.requires_grad and not a.grad.numpy().any()


def train(opt, params, steps, start=0):
    for t in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = distgrad.from_numpy(grad_at(p.detach().numpy(), t, i))
        opt.step()


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
}


def test_state_dict_layout():
    a, b = make_params()
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    train(opt, [a, b], 2)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert all(isinstance(v, distgrad.Tensor) for v in sd["state"][1].values())
    assert float(sd["state"][0]["step"]) == 2.0


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_through_save_gives_identical_next_step(name, tmp_path):
    params = make_params()
    opt = OPTIMIZERS[name](params)
    train(opt, params, 3)
    save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, tmp_path / "c")

    checkpoint = load(tmp_path / "c")
    restored = [distgrad.tensor(p.numpy(), requires_grad=True) for p in checkpoint["params"]]
    opt2 = OPTIMIZERS[name](restored)
    opt2.load_state_dict(checkpoint["optim"])
    train(opt, params, 3, start=3)
    train(opt2, restored, 3, start=3)
    for p, q in zip(params, restored, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_copies_and_takes_hyperparameters():
    params = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    train(opt, params, 1)
    sd = opt.state_dict()
    other = optim.SGD(make_params(), lr=0.7, momentum=0.9)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1
    saved_buf = sd["state"][0]["momentum_buffer"]
    loaded_buf = other.state[other.param_groups[0]["params"][0]]["momentum_buffer"]
    assert loaded_buf is not saved_buf
    np.testing.assert_array_equal(loaded_buf.numpy(), saved_buf.numpy())


def test_load_state_dict_casts_state_to_param_dtype():
    params = make_params()
    opt = optim.Adam(params)
    train(opt, params, 1)
    opt32 = optim.Adam(make_params(np.float32))
    opt32.load_state_dict(opt.state_dict())
    state = opt32.state[opt32.param_groups[0]["params"][0]]
    assert state["exp_avg"].dtype == distgrad.float32
    assert state["step"].dtype == opt.state[params[0]]["step"].dtype


def snapshot(opt):
    return (repr(opt.param_groups),
            {id(p): {k: v.numpy().copy() for k, v in s.items()} for p, s in opt.state.items()})


def assert_same_snapshot(a, b):
    assert a[0] == b[0] and a[1].keys() == b[1].keys()
    for key in a[1]:
        for name in a[1][key]:
            np.testing.assert_array_equal(a[1][key][name], b[1][key][name])


@pytest.mark.parametrize("mutate,match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0], params=[])),
     "different number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
    (lambda sd: sd["state"].__setitem__(7, {}), "parameter 7"),
    (lambda sd: sd["state"][1].__setitem__("momentum_buffer", distgrad.zeros(5)),
     "shape"),
    (lambda sd: sd.pop("state"), "'state'"),
])
def test_load_state_dict_mismatch_raises_and_changes_nothing(mutate, match):
    params = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    train(opt, params, 2)
    sd = opt.state_dict()
    target_params = make_params()
    target = optim.SGD(target_params, lr=0.3, momentum=0.5)
    train(target, target_params, 1)
    before = snapshot(target)
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(sd)
    assert_same_snapshot(before, snapshot(target))


@pytest.mark.parametrize("make,message", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.SGD(ps, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda ps: optim.SGD(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.SGD(ps, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda ps: optim.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True),
     "zero dampening"),
    (lambda ps: optim.Adam(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda ps: optim.AdamW(ps, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda ps: optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": -2}]),
     "Invalid learning rate: -2"),
    (lambda ps: optim.SGD([]), "optimizer got an empty parameter list"),
    (lambda ps: optim.SGD([ps[0] * 2]), "can't optimize a non-leaf Tensor"),
    (lambda ps: optim.SGD([ps[0], ps[1], ps[0]]), "duplicate parameters"),
    (lambda ps: optim.SGD([{"params": ps}, {"params": [ps[1]]}]), "more than one"),
])
def test_constructor_validation(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make(make_params())


@pytest.mark.parametrize("params", [
    lambda ps: ps[0], lambda ps: set(ps), lambda ps: [ps[0], np.zeros(3)]])
def test_bad_params_argument_types(params):
    with pytest.raises(TypeError):
        optim.SGD(params(make_params()))


def test_add_param_group_rejects_duplicates_and_bad_values():
    a, b = make_params()
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="Invalid momentum value"):
        opt.add_param_group({"params": [b], "momentum": -1})
    assert len(opt.param_groups) == 1


def test_optimizer_accepts_parameters_and_generators():
    from distgrad.nn.parameter import Parameter

    w = Parameter(np.ones((2, 2), dtype=np.float32))
    opt = optim.SGD((p for p in [w]), lr=0.5)
    w.grad = distgrad.ones(2, 2)
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), np.full((2, 2), 0.5, dtype=np.float32))
    assert "lr: 0.5" in repr(opt)


# ---------------------------------------------------------------- schedulers
def scheduled(make_sched, steps=12, lrs=(0.1, 0.5)):
    params = make_params()
    opt = optim.SGD([{"params": [params[0]], "lr": lrs[0]},
                     {"params": [params[1]], "lr": lrs[1]}])
    sched = make_sched(opt)
    history = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        history.append(sched.get_last_lr())
        assert history[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(history), opt, sched


def test_step_lr():
    history, opt, _ = scheduled(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5))
    epochs = np.arange(13)[:, None]
    np.testing.assert_allclose(history, np.array([0.1, 0.5]) * 0.5 ** (epochs // 3))
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5]


def test_multi_step_lr_counts_repeated_milestones():
    history, _, _ = scheduled(lambda o: lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3))
    epochs = np.arange(13)[:, None]
    decays = (epochs >= 2).astype(int) + 2 * (epochs >= 5) + (epochs >= 9)
    np.testing.assert_allclose(history, np.array([0.1, 0.5]) * 0.3**decays)


def test_exponential_lr():
    history, _, _ = scheduled(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))
    np.testing.assert_allclose(history, np.array([0.1, 0.5]) * 0.9 ** np.arange(13)[:, None])


def test_lambda_lr_per_group():
    history, _, _ = scheduled(lambda o: lr_scheduler.LambdaLR(
        o, [lambda e: 1 / (e + 1), lambda e: 0.95**e]))
    e = np.arange(13)
    np.testing.assert_allclose(history[:, 0], 0.1 / (e + 1))
    np.testing.assert_allclose(history[:, 1], 0.5 * 0.95**e)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        scheduled(lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]))


def test_cosine_annealing_follows_closed_form_past_t_max():
    history, _, _ = scheduled(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5,
                                                                       eta_min=0.01), steps=23)
    e = np.arange(24)[:, None]
    closed = 0.01 + (np.array([0.1, 0.5]) - 0.01) * (1 + np.cos(np.pi * e / 5)) / 2
    np.testing.assert_allclose(history, closed, rtol=1e-12)


def test_cosine_annealing_matches_pytorch_values():
    # torch.optim.lr_scheduler.CosineAnnealingLR(SGD(lr=0.1), T_max=4, eta_min=0.01),
    # get_last_lr()[0] after 0..12 steps, printed by PyTorch 2.13.
    torch_values = [0.1, 0.08681980515339464, 0.05500000000000001, 0.023180194846605363, 0.01,
                    0.023180194846605363, 0.05500000000000002, 0.08681980515339469,
                    0.10000000000000006, 0.0868198051533947, 0.05500000000000005,
                    0.023180194846605412, 0.01]
    history, _, _ = scheduled(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
                              lrs=(0.1, 0.1))
    np.testing.assert_allclose(history[:, 0], torch_values, rtol=1e-15)


def test_scheduler_rejects_non_optimizer_and_missing_initial_lr():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    opt = optim.SGD(make_params(), lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=1, last_epoch=3)


def test_step_with_epoch_uses_closed_form():
    _, opt, sched = scheduled(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.1), steps=1)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    np.testing.assert_allclose(sched.get_last_lr(), [0.1 * 0.01, 0.5 * 0.01])


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    lambda o: lr_scheduler.MultiStepLR(o, [2, 4, 4]),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6),
    lambda o: lr_scheduler.LambdaLR(o, lambda e: 0.9**e),
], ids=["step", "multistep", "cosine", "lambda"])
def test_scheduler_state_dict_round_trip_through_save(make, tmp_path):
    history, opt, sched = scheduled(make, steps=10)
    _, opt_a, sched_a = scheduled(make, steps=4)
    save({"optim": opt_a.state_dict(), "sched": sched_a.state_dict()}, tmp_path / "s")

    checkpoint = load(tmp_path / "s")
    _, opt_b, sched_b = scheduled(make, steps=0)
    sched_b.load_state_dict(checkpoint["sched"])
    opt_b.load_state_dict(checkpoint["optim"])
    resumed = []
    for _ in range(6):
        opt_b.step()
        sched_b.step()
        resumed.append(sched_b.get_last_lr())
    np.testing.assert_allclose(resumed, history[5:], rtol=1e-15)
