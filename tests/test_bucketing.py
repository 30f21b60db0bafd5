"""assign_buckets: DDP's pure bucket assignment."""

import random

import numpy as np
import pytest

from distgrad.nn.parallel._bucketing import assign_buckets

MiB = 1 << 20


def test_docstring_example():
    assert assign_buckets([400] * 4, bucket_cap_bytes=1000, first_bucket_cap_bytes=500) == [
        [3],
        [2, 1],
        [0],
    ]


def test_walks_in_reverse_with_small_first_bucket():
    sizes = [MiB // 2] * 8  # 4 MiB of gradients
    buckets = assign_buckets(sizes, bucket_cap_bytes=2 * MiB, first_bucket_cap_bytes=MiB)
    assert buckets == [[7, 6], [5, 4, 3, 2], [1, 0]]


def test_everything_fits_one_bucket():
    assert assign_buckets([10, 20, 30], bucket_cap_bytes=25 * MiB) == [[2, 1, 0]]


def test_parameter_larger_than_cap_gets_its_own_bucket():
    sizes = [100, 5000, 100, 100]
    buckets = assign_buckets(sizes, bucket_cap_bytes=1000, first_bucket_cap_bytes=1000)
    assert buckets == [[3, 2], [1], [0]]


def test_bucket_closes_when_exactly_full():
    assert assign_buckets([5, 5, 5, 5], bucket_cap_bytes=10, first_bucket_cap_bytes=10) == [
        [3, 2],
        [1, 0],
    ]


def test_first_cap_never_exceeds_bucket_cap():
    assert assign_buckets([6, 6, 6], bucket_cap_bytes=10, first_bucket_cap_bytes=MiB) == [
        [2],
        [1],
        [0],
    ]


def test_one_dtype_per_bucket_in_launch_order():
    f32, f64 = np.dtype("float32"), np.dtype("float64")
    dtypes = [f32, f64, f32, f64, f32]
    buckets = assign_buckets([4] * 5, bucket_cap_bytes=100, dtypes=dtypes)
    assert sorted(map(sorted, buckets)) == [[0, 2, 4], [1, 3]]
    for bucket in buckets:
        assert len({dtypes[i] for i in bucket}) == 1
    # A bucket is complete when its lowest index's gradient arrives, and index 1's arrives
    # before index 0's, so the float64 bucket launches first.
    assert buckets == [[3, 1], [4, 2, 0]]


def test_each_dtype_starts_with_the_small_cap():
    dtypes = ["a", "b", "a", "b"]
    buckets = assign_buckets([6] * 4, bucket_cap_bytes=12, first_bucket_cap_bytes=6, dtypes=dtypes)
    assert buckets == [[3], [2], [1], [0]]


def test_empty_model():
    assert assign_buckets([], bucket_cap_bytes=MiB) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sizes_in_bytes": [1], "bucket_cap_bytes": 0}, "positive"),
        ({"sizes_in_bytes": [1], "bucket_cap_bytes": 8, "first_bucket_cap_bytes": -1}, "positive"),
        ({"sizes_in_bytes": [1, -2], "bucket_cap_bytes": 8}, r"sizes_in_bytes\[1\] is negative"),
        ({"sizes_in_bytes": [1, 2], "bucket_cap_bytes": 8, "dtypes": ["f"]}, "1 dtypes for 2"),
    ],
)
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assign_buckets(**kwargs)


@pytest.mark.parametrize("seed", range(20))
def test_invariants_on_random_models(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    sizes = [rng.choice([4, 64, 4096, 300_000, 3 * MiB]) for _ in range(n)]
    dtypes = [rng.choice(["f32", "f64"]) for _ in range(n)]
    cap, first = 2 * MiB, MiB // 2
    buckets = assign_buckets(sizes, cap, first, dtypes)

    assert sorted(i for b in buckets for i in b) == list(range(n))  # each index exactly once
    lowest = [b[-1] for b in buckets]
    assert lowest == sorted(lowest, reverse=True)  # launch order: expected completion order
    for b in buckets:
        assert b == sorted(b, reverse=True)
        assert len({dtypes[i] for i in b}) == 1
        total = sum(sizes[i] for i in b)
        assert total <= cap or len(b) == 1  # only a lone oversized parameter exceeds the cap
    for dtype in set(dtypes):
        highest = max(i for i in range(n) if dtypes[i] == dtype)
        first_bucket = next(b for b in buckets if highest in b)
        assert sum(sizes[i] for i in first_bucket) <= first or len(first_bucket) == 1
