"""How DistributedDataParallel groups gradients into buckets for all-reduce.

One all-reduce per parameter pays MPI's per-message latency hundreds of times per step;
one all-reduce of every gradient at the end of backward overlaps no communication with
computation. Buckets of a few megabytes sit between: each is reduced as soon as all of
its gradients exist, while backward goes on computing the rest.

Backward produces gradients roughly in the reverse of the order parameters were
registered (the last layer's first), so buckets are filled walking the parameters in
reverse, as PyTorch's DDP does, and the first bucket to fill is the first to launch. That
first bucket is capped small (1 MiB by default), so that communication starts early
instead of waiting for a full-size bucket's worth of gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["assign_buckets"]

DEFAULT_FIRST_BUCKET_BYTES = 1 << 20


def assign_buckets(
    sizes_in_bytes: Sequence[int],
    bucket_cap_bytes: int,
    first_bucket_cap_bytes: int = DEFAULT_FIRST_BUCKET_BYTES,
    dtypes: Sequence | None = None,
) -> list[list[int]]:
    """Assigns parameter indices to gradient buckets.

    Walks the parameters in reverse registration order, adding each to the open bucket of
    its dtype. A bucket is closed when the next parameter would take it past its cap, or
    when it reaches its cap: ``first_bucket_cap_bytes`` for a dtype's first bucket (never
    more than ``bucket_cap_bytes``), ``bucket_cap_bytes`` after that. A parameter larger
    than the cap therefore gets a bucket of its own.

    Args:
        sizes_in_bytes: the gradient size of each parameter, in registration order.
        bucket_cap_bytes: the most bytes a bucket holds, unless one parameter is larger.
        first_bucket_cap_bytes: the cap of the first bucket of each dtype.
        dtypes: each parameter's dtype, if they may differ; every bucket holds one dtype,
            because a bucket is reduced as one flat array.

    Returns:
        Lists of parameter indices, in launch order: a bucket comes before another if it is
        expected to be complete first, that is, if its lowest index is higher. Within a
        bucket, indices run in the order gradients are expected (descending).

    Example::

        >>> assign_buckets([400, 400, 400, 400], bucket_cap_bytes=1000, first_bucket_cap_bytes=500)
        [[3], [2, 1], [0]]
    """
    if bucket_cap_bytes <= 0 or first_bucket_cap_bytes <= 0:
        raise ValueError(
            f"bucket caps must be positive, got bucket_cap_bytes={bucket_cap_bytes} and "
            f"first_bucket_cap_bytes={first_bucket_cap_bytes}"
        )
    if dtypes is None:
        dtypes = [None] * len(sizes_in_bytes)
    elif len(dtypes) != len(sizes_in_bytes):
        raise ValueError(f"got {len(dtypes)} dtypes for {len(sizes_in_bytes)} sizes")
    first_cap = min(first_bucket_cap_bytes, bucket_cap_bytes)

    closed: list[list[int]] = []
    open_buckets: dict = {}  # dtype -> [indices, bytes, cap]
    for i in reversed(range(len(sizes_in_bytes))):
        size = sizes_in_bytes[i]
        if size < 0:
            raise ValueError(f"sizes_in_bytes[{i}] is negative: {size}")
        bucket = open_buckets.setdefault(dtypes[i], [[], 0, first_cap])
        if bucket[0] and bucket[1] + size > bucket[2]:
            closed.append(bucket[0])
            bucket[:] = [[], 0, bucket_cap_bytes]
        bucket[0].append(i)
        bucket[1] += size
        if bucket[1] >= bucket[2]:
            closed.append(bucket[0])
            bucket[:] = [[], 0, bucket_cap_bytes]
    closed += [indices for indices, _, _ in open_buckets.values() if indices]
    return sorted(closed, key=lambda indices: -indices[-1])
