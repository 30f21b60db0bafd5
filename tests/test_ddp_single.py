"""DistributedDataParallel in a world of one process (no mpiexec): it must train exactly like
the bare model, and checkpoints must move freely between the two. Multi-rank behaviour is
in tests/mpi/test_ddp_mpi.py."""

import numpy as np
import pytest

import distgrad
import distgrad.distributed as dist
import distgrad.nn as nn
import distgrad.optim as optim
from distgrad.nn.parallel import DistributedDataParallel as DDP

LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                 "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK",
                 "DISTGRAD_FORCE_MPI")


@pytest.fixture
def world(monkeypatch):
    for var in LAUNCHER_VARS:
        monkeypatch.delenv(var, raising=False)
    dist.init_process_group()
    yield dist
    dist.destroy_process_group()


def mlp(seed=0):
    distgrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def batches(steps=4, n=5):
    rng = np.random.default_rng(0)
    return [(distgrad.tensor(rng.standard_normal((n, 6))),
             distgrad.tensor(rng.standard_normal((n, 3)))) for _ in range(steps)]


def train(model, data, set_to_none=True):
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in data:
        optimizer.zero_grad(set_to_none=set_to_none)
        nn.MSELoss()(model(x), y).backward()
        optimizer.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("options, set_to_none", [
    ({}, True),
    ({}, False),
    ({"gradient_as_bucket_view": True, "bucket_cap_mb": 1e-4}, False),
    ({"gradient_as_bucket_view": True}, True),
    ({"find_unused_parameters": True}, True),
])
def test_trains_exactly_like_the_bare_model(world, options, set_to_none):
    data = batches()
    expected = train(mlp(), data)
    got = train(DDP(mlp(), **options), data, set_to_none=set_to_none)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_no_sync_accumulates(world):
    (x1, y1), (x2, y2) = batches(steps=2)
    ddp = DDP(mlp())
    with ddp.no_sync():
        nn.MSELoss()(ddp(x1), y1).backward()
    nn.MSELoss()(ddp(x2), y2).backward()
    bare = mlp()
    (nn.MSELoss()(bare(x1), y1) + nn.MSELoss()(bare(x2), y2)).backward()
    for p, q in zip(ddp.parameters(), bare.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_grads_after_later_steps(world, set_to_none):
    ddp = DDP(mlp())
    optimizer = optim.SGD(ddp.parameters(), lr=0.1)
    buffers = set()
    for i, (x, y) in enumerate(batches(steps=4)):
        optimizer.zero_grad(set_to_none=set_to_none)
        nn.MSELoss()(ddp(x), y).backward()
        optimizer.step()
        buffers.add(id(ddp.reducer.buckets[0].buffer))
        if i == 1:
            held = ddp.module[0].weight.grad
            expected = held.numpy().copy()
    if set_to_none:  # a .grad the user keeps is never overwritten by DDP
        np.testing.assert_array_equal(held.numpy(), expected)
    else:  # .grad stays the same tensor, updated in place, as in PyTorch
        assert held is ddp.module[0].weight.grad
    assert len(buffers) <= 2  # buffers are reused, not allocated every step


def test_module_and_parameters(world):
    model = mlp()
    ddp = DDP(model)
    assert ddp.module is model
    assert [id(p) for p in ddp.parameters()] == [id(p) for p in model.parameters()]
    assert [n for n, _ in ddp.named_parameters()][0] == "module.0.weight"
    assert "world_size=1" in repr(ddp)


def test_state_dict_has_no_module_prefix(world):
    ddp = DDP(mlp(seed=1))
    state = ddp.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    bare = mlp(seed=2)
    bare.load_state_dict(state)
    for p, q in zip(bare.parameters(), ddp.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_accepts_both_key_styles(world):
    source = mlp(seed=3).state_dict()
    for state in (source, {f"module.{k}": v for k, v in source.items()}):
        ddp = DDP(mlp(seed=4))
        ddp.load_state_dict(state)
        for (name, p) in ddp.module.named_parameters():
            np.testing.assert_array_equal(p.detach().numpy(), source[name].numpy())
    with pytest.raises(RuntimeError, match="Unexpected key"):
        DDP(mlp()).load_state_dict({**source, "module.extra": source["0.bias"]})


def test_unused_parameter_is_named(world):
    model = nn.Sequential(nn.Linear(6, 3), nn.Linear(3, 3)).double()
    ddp = DDP(model)
    x = distgrad.randn(2, 6, dtype=distgrad.float64)
    ddp(x)  # arms the reducer; the loss below leaves model[1] without a gradient
    with pytest.raises(RuntimeError, match=r"rank 0: 1\.weight, 1\.bias.*find_unused_parameters"):
        model[0](x).sum().backward()
    ddp = DDP(model, find_unused_parameters=True)
    ddp.zero_grad()
    ddp(x)
    model[0](x).sum().backward()
    assert model[1].weight.grad is None and model[0].weight.grad is not None


def test_without_process_group_raises(monkeypatch):
    monkeypatch.setattr(dist, "_default_comm", None)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DDP(mlp())


def test_rejects_a_bad_argument(world):
    with pytest.raises(TypeError, match="nn.Module"):
        DDP(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb"):
        DDP(mlp(), bucket_cap_mb=0)
