"""DistributedDataParallel across ranks. Every rank runs every test; the bodies hold for any
world size (tests/test_mpi_suite.py runs them under ``mpiexec -n 2`` and ``-n 3``).

The reference for every training test is a plain model that each rank trains by itself on
the *global* batch, from the seed rank 0 used; DDP must reproduce it to rounding. Tests
check their results after their collectives wherever they can, so that a failure on one
rank does not leave the others waiting in a collective (if one does, the timeout in
test_mpi_suite.py ends the job).
"""

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.optim as optim
from distgrad.distributed import MetricSums
from distgrad.nn.parallel import DistributedDataParallel as DDP
from distgrad.utils.data import DistributedSampler, ShardSampler

pytestmark = pytest.mark.mpi

RTOL, ATOL = 1e-10, 1e-13


def mlp(seed, hidden=8):
    distgrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, 3)).double()


def global_batch(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)), rng.standard_normal((n, 3))


def shard_bounds(sizes, rank):
    start = sum(sizes[:rank])
    return start, start + sizes[rank]


def split_steps(x, y, steps):
    """``steps`` consecutive global batches of (x, y)."""
    n = len(x) // steps
    return [(x[i * n:(i + 1) * n], y[i * n:(i + 1) * n]) for i in range(steps)]


def shard(batches, sizes, rank):
    """This rank's rows of each global batch, ``sizes[r]`` rows for rank r, in rank order."""
    start, end = shard_bounds(sizes, rank)
    return [(bx[start:end], by[start:end]) for bx, by in batches]


def uneven_sizes(size):
    """Per-rank batch sizes that all differ: 4, 3 for two ranks; 5, 4, 1 for three."""
    return [size + 2 - r if r < 2 else max(1, size - r) for r in range(size)]


def gathered(world, array):
    """Every rank's copy of ``array``, indexed by rank."""
    out = [distgrad.zeros(*array.shape, dtype=distgrad.float64)
           for _ in range(world.get_world_size())]
    world.all_gather(out, distgrad.tensor(np.ascontiguousarray(array, dtype=np.float64)))
    return [t.numpy() for t in out]


def train(model, batches, steps, *, set_to_none=True):
    """``steps`` SGD-with-momentum steps over ``batches`` (a list of (x, y) arrays)."""
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.MSELoss()
    for step in range(steps):
        x, y = batches[step % len(batches)]
        optimizer.zero_grad(set_to_none=set_to_none)
        loss_fn(model(distgrad.tensor(x)), distgrad.tensor(y)).backward()
        optimizer.step()
    return model


def params_of(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_close_to(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)


def test_equal_shards_match_the_global_batch(world):
    rank, size = world.get_rank(), world.get_world_size()
    steps, per_rank = 4, 3
    global_steps = split_steps(*global_batch(steps * per_rank * size), steps)
    local_steps = shard(global_steps, [per_rank] * size, rank)
    ddp = DDP(mlp(seed=rank))  # different inits: construction must broadcast rank 0's
    train(ddp, local_steps, steps)
    reference = train(mlp(seed=0), global_steps, steps)
    every_rank = [gathered(world, p) for p in params_of(ddp)]

    assert_close_to(params_of(ddp.module), params_of(reference))
    for copies in every_rank:  # bitwise identical on every rank
        assert all(np.array_equal(copy, copies[0]) for copy in copies)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_uneven_shards_match_the_global_batch(world, set_to_none):
    rank, size = world.get_rank(), world.get_world_size()
    sizes = uneven_sizes(size)
    assert len(set(sizes)) == size
    steps = 3
    global_steps = split_steps(*global_batch(steps * sum(sizes), seed=2), steps)
    local_steps = shard(global_steps, sizes, rank)
    ddp = DDP(mlp(seed=0))
    train(ddp, local_steps, steps, set_to_none=set_to_none)
    reference = train(mlp(seed=0), global_steps, steps)
    every_rank = [gathered(world, p) for p in params_of(ddp)]

    # The mean loss of each rank's shard, weighted by its sample count: exactly the global
    # batch's mean loss, whose gradient the reference takes.
    assert_close_to(params_of(ddp.module), params_of(reference))
    for copies in every_rank:
        assert all(np.array_equal(copy, copies[0]) for copy in copies)


def test_equal_batches_then_an_uneven_final_batch(world):
    # The shape of a real epoch's end: the global total changes at the last step, so the
    # weights assumed from the step before must be corrected; and changes back after.
    rank, size = world.get_rank(), world.get_world_size()
    per_step_sizes = [[3] * size, [3] * size, uneven_sizes(size), [3] * size]
    global_steps, local_steps = [], []
    x, y = global_batch(sum(map(sum, per_step_sizes)), seed=5)
    start = 0
    for sizes in per_step_sizes:
        bx, by = x[start:start + sum(sizes)], y[start:start + sum(sizes)]
        start += sum(sizes)
        global_steps.append((bx, by))
        local_steps += shard([(bx, by)], sizes, rank)
    ddp = DDP(mlp(seed=0))
    train(ddp, local_steps, len(per_step_sizes))
    reference = train(mlp(seed=0), global_steps, len(per_step_sizes))

    assert_close_to(params_of(ddp.module), params_of(reference))


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)
        self.norm = nn.BatchNorm1d(4)

    def forward(self, x):
        return self.norm(self.fc(x))


def test_construction_broadcasts_parameters_and_buffers(world):
    rank = world.get_rank()
    distgrad.manual_seed(100 + rank)
    net = NormNet().double()
    with distgrad.no_grad():
        net.norm.running_mean.fill_(float(rank + 1))
        net.norm.running_var.fill_(float(rank + 2))
    ddp = DDP(net)
    tensors = [*net.parameters(), net.norm.running_mean, net.norm.running_var]
    after_init = [gathered(world, t.detach().numpy()) for t in tensors]

    # Every training forward broadcasts rank 0's buffers first: same data everywhere, so
    # the running statistics stay equal after the update.
    x, _ = global_batch(5, seed=3)
    with distgrad.no_grad():
        net.norm.running_mean.fill_(float(10 * rank))
    ddp(distgrad.tensor(x))
    after_forward = gathered(world, net.norm.running_mean.numpy())
    # Under no_grad() forward makes no collective, and buffers are left alone.
    with distgrad.no_grad():
        net.norm.running_mean.fill_(float(10 * rank))
        ddp.eval()
        ddp(distgrad.tensor(x))
        ddp.train()
    eval_means = gathered(world, net.norm.running_mean.numpy())

    for copies in after_init:
        assert all(np.array_equal(copy, copies[0]) for copy in copies)
    np.testing.assert_array_equal(after_init[-2][0], np.ones(4))  # rank 0's running_mean
    np.testing.assert_array_equal(after_init[-1][0], np.full(4, 2.0))
    expected_mean = 0.9 * 0.0 + 0.1 * (x @ after_init[0][0].T + after_init[1][0]).mean(axis=0)
    for copy in after_forward:
        np.testing.assert_allclose(copy, expected_mean, rtol=1e-12, atol=1e-15)
    assert [float(m[0]) for m in eval_means] == [10.0 * r for r in range(len(eval_means))]


def test_no_sync_accumulates_then_synchronises(world):
    rank, size = world.get_rank(), world.get_world_size()
    micro, m = 3, 2  # three micro-batches of two samples per rank
    chunks = split_steps(*global_batch(micro * m * size, seed=4), micro)  # global micro-batches
    local = shard(chunks, [m] * size, rank)
    loss_fn = nn.MSELoss()

    def summed_loss(model, batches):
        return sum(loss_fn(model(distgrad.tensor(bx)), distgrad.tensor(by)) for bx, by in batches)

    ddp = DDP(mlp(seed=0))
    with ddp.no_sync():
        for cx, cy in local[:-1]:
            loss_fn(ddp(distgrad.tensor(cx)), distgrad.tensor(cy)).backward()
    unsynced = [p.grad.numpy().copy() for p in ddp.parameters()]
    cx, cy = local[-1]
    loss_fn(ddp(distgrad.tensor(cx)), distgrad.tensor(cy)).backward()
    synced = [p.grad.numpy().copy() for p in ddp.parameters()]

    # Before the synchronising backward, .grad is this rank's own sum of micro-batch grads.
    alone = mlp(seed=0)
    summed_loss(alone, local[:-1]).backward()
    assert_close_to(unsynced, [p.grad.numpy() for p in alone.parameters()])
    # After it, .grad is the average over ranks of each rank's sum of micro-batch mean-loss
    # gradients: the gradient of sum_k (mean loss over global micro-batch k).
    reference = mlp(seed=0)
    summed_loss(reference, chunks).backward()
    assert_close_to(synced, [p.grad.numpy() for p in reference.parameters()])


def test_forward_makes_no_collective(world):
    rank, size = world.get_rank(), world.get_world_size()
    global_steps = split_steps(*global_batch(2 * size, seed=10), 1)
    local_steps = shard(global_steps, [2] * size, rank)
    ddp = DDP(mlp(seed=0))
    x = distgrad.tensor(local_steps[0][0])
    for _ in range(rank + 1):  # a different number of forwards on every rank
        ddp(x)
        with distgrad.no_grad():
            ddp(x)
    train(ddp, local_steps, 1)
    reference = train(mlp(seed=0), global_steps, 1)
    assert_close_to(params_of(ddp.module), params_of(reference))


class Branchy(nn.Module):
    """A trunk, a head every rank uses, a head some ranks use and one no rank uses."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(6, 8)
        self.head = nn.Linear(8, 3)
        self.extra = nn.Linear(8, 3)
        self.never = nn.Linear(8, 3)

    def forward(self, x, use_extra):
        h = self.trunk(x).tanh()
        out = self.head(h)
        return out + self.extra(h) if use_extra else out


def branchy(seed=0):
    distgrad.manual_seed(seed)
    return Branchy().double()


def test_find_unused_parameters(world):
    rank, size = world.get_rank(), world.get_world_size()
    per_rank = 3
    x, y = global_batch(per_rank * size, seed=5)
    uses_extra = [r % 2 == 1 for r in range(size)]  # rank 0 never uses it; rank 1 does
    loss_fn = nn.MSELoss()
    ddp = DDP(branchy(), find_unused_parameters=True)
    sl = slice(rank * per_rank, (rank + 1) * per_rank)
    for _ in range(2):  # twice: the reducer must re-arm cleanly
        ddp.zero_grad()
        loss_fn(ddp(distgrad.tensor(x[sl]), uses_extra[rank]), distgrad.tensor(y[sl])).backward()
    grads = {n: None if p.grad is None else p.grad.numpy().copy()
             for n, p in ddp.module.named_parameters()}

    reference = branchy()
    total = 0
    for r in range(size):
        rows = slice(r * per_rank, (r + 1) * per_rank)
        total = total + loss_fn(reference(distgrad.tensor(x[rows]), uses_extra[r]),
                                distgrad.tensor(y[rows]))
    (total / size).backward()
    for name, p in reference.named_parameters():
        if name.startswith("never."):
            assert grads[name] is None and p.grad is None
        else:
            np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_unused_parameter_raises_on_every_rank(world):
    rank = world.get_rank()
    x, y = global_batch(2, seed=6)
    loss_fn = nn.MSELoss()
    ddp = DDP(branchy())
    with pytest.raises(RuntimeError, match=r"never\.weight.*find_unused_parameters=True"):
        loss_fn(ddp(distgrad.tensor(x), True), distgrad.tensor(y)).backward()
    # Unused on rank 0 only: rank 0 still launches every bucket, and every rank raises.
    with pytest.raises(RuntimeError) as info:
        loss_fn(ddp(distgrad.tensor(x), rank != 0), distgrad.tensor(y)).backward()
    assert "rank 0: " in str(info.value) and "extra.weight" in str(info.value)
    assert "rank 1: " in str(info.value)  # never.* is missing on every rank
    # Frozen parameters are not reduced, so freezing the unused layer is a fix.
    model = branchy()
    model.never.requires_grad_(False)
    ddp = DDP(model)
    loss_fn(ddp(distgrad.tensor(x), True), distgrad.tensor(y)).backward()
    assert model.never.weight.grad is None and model.head.weight.grad is not None


class Mismatched(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(6, hidden)
        self.fc2 = nn.Linear(hidden, 3)


def test_mismatched_model_raises_on_every_rank(world):
    rank = world.get_rank()
    with pytest.raises(RuntimeError) as info:
        DDP(Mismatched(hidden=9 if rank == 1 else 8))
    message = str(info.value)
    assert "'fc1.weight'" in message and "rank 1" in message
    assert "[8, 6]" in message and "[9, 6]" in message
    # A parameter frozen on one rank only would give the ranks different buckets.
    model = Mismatched(hidden=8)
    model.fc2.bias.requires_grad_(rank != 1)
    with pytest.raises(RuntimeError, match=r"'fc2\.bias'.*requires_grad=False\) on rank 1"):
        DDP(model)


def test_gradient_as_bucket_view(world):
    rank, size = world.get_rank(), world.get_world_size()
    sizes = uneven_sizes(size)
    steps = 3
    global_steps = split_steps(*global_batch(steps * sum(sizes), seed=7), steps)
    local_steps = shard(global_steps, sizes, rank)
    results = {}
    for set_to_none in (False, True):
        ddp = DDP(mlp(seed=rank), gradient_as_bucket_view=True, bucket_cap_mb=1e-4)
        train(ddp, local_steps, steps, set_to_none=set_to_none)
        shares = [np.shares_memory(p.grad.numpy(), ddp.reducer.location[id(p)][0].buffer)
                  for p in ddp.parameters()]
        results[set_to_none] = (params_of(ddp.module), shares)
    reference = train(mlp(seed=0), global_steps, steps)

    for got, shares in results.values():
        assert_close_to(got, params_of(reference))
        assert all(shares)


class Recorder:
    """Stands in for the reducer's communicator and logs which bucket each launch is."""

    def __init__(self, comm, reducer):
        self.comm, self.reducer, self.launches = comm, reducer, []

    def iallreduce(self, buf, *args):
        index = next(b.index for b in self.reducer.buckets if b.buffer is buf)
        self.launches.append((index, self.reducer.armed))
        return self.comm.iallreduce(buf, *args)

    def __getattr__(self, name):
        return getattr(self.comm, name)


def test_buckets_launch_in_the_same_order_on_every_rank(world):
    rank, size = world.get_rank(), world.get_world_size()
    per_rank, steps = 4, 3
    global_steps = split_steps(*global_batch(steps * per_rank * size, seed=8), steps)
    local_steps = shard(global_steps, [per_rank] * size, rank)
    model = mlp(seed=0, hidden=32)  # 6*32 + 32 + 32*3 + 3 = 323 float64 values
    ddp = DDP(model, bucket_cap_mb=800 / 2**20)  # 100 values a bucket
    recorder = Recorder(ddp.reducer.comm, ddp.reducer)
    ddp.reducer.comm = recorder
    train(ddp, local_steps, steps)
    reference = train(mlp(seed=0, hidden=32), global_steps, steps)
    orders = world._get_default_comm().allgather_obj(recorder.launches)

    n_buckets = len(ddp.reducer.buckets)
    assert n_buckets >= 3
    assert all(order == orders[0] for order in orders)
    # Backward launches every bucket in index order as soon as its gradients are in: while
    # armed, before the final callback disarms the reducer.
    assert recorder.launches == [(i, True) for i in range(n_buckets)] * steps
    assert ddp.reducer.buckets[-1].work is not None and not ddp.reducer.armed
    # Reverse registration order: the last layer's parameters are in bucket 0.
    assert ddp.reducer.buckets[0].params[0] is model[2].bias
    assert_close_to(params_of(model), params_of(reference))


def test_metric_sums_give_the_exact_global_mean(world):
    rank, size = world.get_rank(), world.get_world_size()
    values = np.random.default_rng(9).standard_normal(20)
    sizes = [r + 1 for r in range(size)]
    start, end = shard_bounds(sizes, rank)
    totals = MetricSums()
    for i in range(start, end, 2):  # batches of two or one
        batch = values[i:min(end, i + 2)]
        totals.add(loss=batch.sum(), samples=len(batch))
    result = totals.all_reduce()
    # A rank with no batch at all still takes part, with names declared up front.
    empty = MetricSums("loss", "samples")
    if rank == 0:
        empty.add(loss=3.0, samples=1)
    declared = empty.all_reduce()
    # Different names (of the same number) are caught by the same collective, on every rank.
    with pytest.raises(RuntimeError, match="different metric names"):
        MetricSums("loss", "samples" if rank == 0 else "count").all_reduce()

    mean = values[:sum(sizes)].mean()
    assert result["samples"] == sum(sizes)
    assert abs(result["loss"] / result["samples"] - mean) <= 1e-14
    assert declared == {"loss": 3.0, "samples": 1.0}


@pytest.mark.parametrize("n", [1, 2, 7, 10])
def test_shard_sampler_covers_every_sample_once(world, n):
    comm = world._get_default_comm()
    mine = list(ShardSampler(range(n)))
    everyone = comm.allgather_obj(mine)
    strided = comm.allgather_obj(list(ShardSampler(range(n), contiguous=False)))
    assert sorted(i for shard in everyone for i in shard) == list(range(n))
    assert [i for shard in everyone for i in shard] == list(range(n))  # contiguous blocks
    assert sorted(i for shard in strided for i in shard) == list(range(n))


@pytest.mark.parametrize("n", [1, 7, 10])
def test_distributed_sampler_pattern(world, n):
    rank, size = world.get_rank(), world.get_world_size()
    comm = world._get_default_comm()
    plain = list(DistributedSampler(range(n), shuffle=False))
    shuffled = DistributedSampler(range(n), shuffle=True, seed=3)
    shuffled.set_epoch(2)
    everyone = comm.allgather_obj(list(shuffled))

    total = -(-n // size) * size
    padded = (list(range(n)) * (total // n + 1))[:total]
    assert plain == padded[rank:total:size]
    assert len({len(s) for s in everyone}) == 1
    assert set(i for s in everyone for i in s) == set(range(n))


def test_metric_names_listed_under_debug(debug_world):
    rank = debug_world.get_rank()
    with pytest.raises(RuntimeError) as info:
        MetricSums("loss", "samples" if rank == 0 else "count").all_reduce()
    assert "rank 0: ['loss', 'samples']; rank 1: ['count', 'loss']" in str(info.value)
