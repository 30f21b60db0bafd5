"""Datasets, samplers and DataLoader: batching, shuffling, collation, distributed splits."""

import collections

import numpy as np
import pytest

import distgrad
import distgrad.distributed as dist
from distgrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    ShardSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def make_dataset(n=10):
    x = distgrad.from_numpy(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    return TensorDataset(x, distgrad.arange(n))


def labels(loader):
    return [batch[1].tolist() for batch in loader]


class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_indexes_every_tensor():
    ds = make_dataset()
    x, y = ds[4]
    assert len(ds) == 10 and x.tolist() == [12.0, 13.0, 14.0] and int(y) == 4


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"tensor 0: 10, tensor 1: 8"):
        TensorDataset(distgrad.zeros(10, 2), distgrad.zeros(8))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(distgrad.tensor(1.0))


def test_subset_and_random_split():
    ds = ListDataset(list(range(100, 110)))
    assert [Subset(ds, [3, 1])[i] for i in range(2)] == [103, 101]
    gen = distgrad.Generator().manual_seed(3)
    parts = random_split(ds, [0.7, 0.3], generator=gen)
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(p[i] for p in parts for i in range(len(p))) == list(range(100, 110))
    again = random_split(ds, [7, 3], generator=distgrad.Generator().manual_seed(3))
    assert again[0].indices == parts[0].indices
    assert [len(p) for p in random_split(ds, [0.34, 0.33, 0.33])] == [4, 3, 3]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 4])


# ---------------------------------------------------------------- DataLoader
def test_batches_in_order_and_len():
    loader = DataLoader(make_dataset(), batch_size=4)
    assert labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(loader) == 3
    x, _ = next(iter(loader))
    assert x.shape == (4, 3) and x.dtype == distgrad.float32
    dropped = DataLoader(make_dataset(), batch_size=4, drop_last=True)
    assert labels(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(dropped) == 2


def test_shuffle_is_a_permutation_reproducible_with_a_generator():
    def epoch_orders(seed):
        loader = DataLoader(make_dataset(), batch_size=3, shuffle=True,
                            generator=distgrad.Generator().manual_seed(seed))
        return [sum(labels(loader), []) for _ in range(3)]

    first = epoch_orders(7)
    assert all(sorted(order) == list(range(10)) for order in first)
    assert first[0] != first[1]
    assert epoch_orders(7) == first
    assert epoch_orders(8) != first


def test_shuffle_without_generator_follows_manual_seed():
    def order():
        distgrad.manual_seed(11)
        return labels(DataLoader(make_dataset(), batch_size=10, shuffle=True))

    assert order() == order()


@pytest.mark.parametrize("kwargs", [dict(), dict(shuffle=True), dict(drop_last=True),
                                    dict(shuffle=True, drop_last=True)], ids=str)
def test_tensor_dataset_fast_path_matches_per_sample_collation(kwargs):
    ds = make_dataset(11)
    fast = DataLoader(ds, batch_size=4, generator=distgrad.Generator().manual_seed(5), **kwargs)
    slow = DataLoader(ds, batch_size=4, generator=distgrad.Generator().manual_seed(5),
                      collate_fn=default_collate, **kwargs)
    fast_batches, slow_batches = list(fast), list(slow)
    assert len(fast_batches) == len(slow_batches) == len(fast)
    for f, s in zip(fast_batches, slow_batches, strict=True):
        assert type(f) is type(s) is list
        for a, b in zip(f, s, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fast_path_indexes_arrays_without_per_sample_getitem(monkeypatch):
    def no_per_sample_access(self, index):
        raise AssertionError("per-sample __getitem__ called")

    monkeypatch.setattr(TensorDataset, "__getitem__", no_per_sample_access)
    batches = list(DataLoader(make_dataset(), batch_size=4, sampler=[9, 0, 4, 2, 7]))
    assert [b[1].tolist() for b in batches] == [[9, 0, 4, 2], [7]]


def test_batches_are_copies():
    ds = make_dataset()
    x, _ = next(iter(DataLoader(ds, batch_size=2)))
    x.numpy()[:] = -1
    assert ds.tensors[0].numpy().min() == 0


def test_custom_sampler_and_batch_sampler():
    ds = make_dataset()
    assert labels(DataLoader(ds, batch_size=2, sampler=[5, 3, 1])) == [[5, 3], [1]]
    assert labels(DataLoader(ds, batch_sampler=[[1, 2], [9]])) == [[1, 2], [9]]
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 6, False))
    assert labels(loader) == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]] and len(loader) == 2


def test_batch_size_none_returns_converted_samples():
    ds = ListDataset([np.arange(3), np.arange(3, 6)])
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 2 and isinstance(items[1], distgrad.Tensor)
    assert items[1].tolist() == [3, 4, 5]


@pytest.mark.parametrize("kwargs,match", [
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "disables auto-batching"),
    (dict(batch_size=0), "batch_size should be a positive integer"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
])
def test_loader_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(make_dataset(), **kwargs)


# ------------------------------------------------------------------ collate
def test_collate_numbers_match_pytorch_dtypes():
    assert default_collate([1, 2]).dtype == distgrad.int64
    floats = default_collate([1.5, 2.5])
    assert floats.dtype == distgrad.float64 and floats.tolist() == [1.5, 2.5]
    assert default_collate([True, False]).dtype == distgrad.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == distgrad.float32
    assert default_collate([np.arange(2, dtype=np.int32)] * 3).shape == (3, 2)
    assert default_collate([np.arange(2, dtype=np.int32)] * 3).dtype == distgrad.int32
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_tuples_become_lists_and_dicts_recurse():
    batch = [(distgrad.ones(2), {"y": 1, "name": "a"}), (distgrad.zeros(2), {"y": 2, "name": "b"})]
    x, d = out = default_collate(batch)
    assert isinstance(out, list) and x.shape == (2, 2) and x.tolist() == [[1, 1], [0, 0]]
    assert set(d) == {"y", "name"} and d["y"].tolist() == [1, 2] and d["name"] == ["a", "b"]
    Point = collections.namedtuple("Point", "x y")
    point = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(point, Point) and point.x.tolist() == [1, 3]
    assert point.y.dtype == distgrad.float64


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([distgrad.zeros(2), distgrad.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])


def test_dataloader_over_generic_dataset_collates_dicts():
    ds = ListDataset([{"x": np.full(2, i, dtype=np.float32), "i": i} for i in range(5)])
    batches = list(DataLoader(ds, batch_size=2))
    assert [b["i"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].dtype == distgrad.float32 and batches[0]["x"].shape == (2, 2)


# ------------------------------------------------------------------ samplers
def test_random_sampler_variants():
    ds = ListDataset(list(range(5)))
    gen = distgrad.Generator().manual_seed(0)
    drawn = list(RandomSampler(ds, num_samples=12, generator=gen))
    assert len(drawn) == 12 and sorted(drawn[:5]) == sorted(drawn[5:10]) == list(range(5))
    with_replacement = list(RandomSampler(ds, replacement=True, num_samples=50, generator=gen))
    assert len(with_replacement) == 50 and set(with_replacement) <= set(range(5))
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ListDataset([]))


def shards(n, world, **kwargs):
    return [list(DistributedSampler(range(n), world, r, **kwargs)) for r in range(world)]


@pytest.mark.parametrize("n,world,drop_last,expected", [
    (10, 3, False, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]),
    (10, 3, True, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]),
    (10, 2, False, [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]),
    (11, 2, False, [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 0]]),
    (11, 2, True, [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]),
    (2, 3, False, [[0], [1], [0]]),
    (2, 5, False, [[0], [1], [0], [1], [0]]),
    (6, 3, True, [[0, 3], [1, 4], [2, 5]]),
])
def test_distributed_sampler_exact_pattern_without_shuffle(n, world, drop_last, expected):
    assert shards(n, world, shuffle=False, drop_last=drop_last) == expected
    assert [len(DistributedSampler(range(n), world, r, drop_last=drop_last))
            for r in range(world)] == [len(s) for s in expected]


def interleave(parts):
    merged = [None] * sum(len(p) for p in parts)
    for r, part in enumerate(parts):
        merged[r::len(parts)] = part
    return merged


@pytest.mark.parametrize("n,world,drop_last", [(10, 2, False), (10, 3, False), (10, 3, True),
                                               (11, 2, True), (2, 3, False)])
def test_distributed_sampler_shuffle_is_one_permutation_split_like_pytorch(n, world, drop_last):
    for epoch in range(3):
        parts = []
        for r in range(world):
            sampler = DistributedSampler(range(n), world, r, seed=4, drop_last=drop_last)
            sampler.set_epoch(epoch)
            parts.append(list(sampler))
        assert len({len(p) for p in parts}) == 1
        merged = interleave(parts)
        if drop_last:
            assert len(set(merged)) == len(merged) == n - n % world
        else:
            # A permutation of every index, padded by repeating its own beginning.
            assert sorted(merged[:n]) == list(range(n))
            assert merged[n:] == (merged[:n] * world)[:len(merged) - n]


def test_set_epoch_reshuffles_identically_on_every_rank():
    def epoch_order(epoch, seed=0):
        samplers = [DistributedSampler(range(12), 3, r, seed=seed) for r in range(3)]
        for s in samplers:
            s.set_epoch(epoch)
        return interleave([list(s) for s in samplers])

    assert epoch_order(0) == epoch_order(0)
    assert epoch_order(0) != epoch_order(1)
    assert sorted(epoch_order(1)) == list(range(12))
    assert epoch_order(1, seed=1) != epoch_order(1)
    assert epoch_order(0) != list(range(12))


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2"):
        DistributedSampler(range(10), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(10), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="2 samples split among 3 replicas"):
        DistributedSampler(range(2), num_replicas=3, rank=0, drop_last=True)


def test_distributed_sampler_needs_a_process_group_for_defaults(monkeypatch):
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        DistributedSampler(range(10))
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        ShardSampler(range(10), num_replicas=2)


def test_samplers_take_world_from_the_process_group(monkeypatch):
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 4)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 2)
    sampler = DistributedSampler(range(10), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (4, 2, [2, 6, 0])
    assert list(ShardSampler(range(10))) == [6, 7]
    assert DistributedSampler(range(10), rank=1).num_replicas == 4


@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("n", [0, 1, 5, 10, 11, 17])
@pytest.mark.parametrize("world", [1, 2, 3, 4, 7])
def test_shard_sampler_gives_each_index_to_exactly_one_rank(n, world, contiguous):
    parts = [list(ShardSampler(range(n), world, r, contiguous=contiguous))
             for r in range(world)]
    assert sorted(sum(parts, [])) == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert [len(ShardSampler(range(n), world, r)) for r in range(world)] == list(map(len, parts))
    if contiguous:
        assert sum(parts, []) == list(range(n))
    else:
        assert parts == [list(range(r, n, world)) for r in range(world)]


def test_dataloader_with_distributed_samplers():
    ds = make_dataset(10)
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 3, 1, shuffle=False))
    assert labels(loader) == [[1, 4], [7, 0]] and len(loader) == 2
    evaluation = DataLoader(ds, batch_size=3, sampler=ShardSampler(ds, 3, 0))
    assert labels(evaluation) == [[0, 1, 2], [3]]
