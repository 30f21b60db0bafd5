"""Samplers: the orders in which a ``DataLoader`` visits a dataset's indices, including the
distributed ones that split a dataset among ranks."""

from __future__ import annotations

import math

import numpy as np

from ..._factories import Generator, default_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler",
           "DistributedSampler", "ShardSampler"]


class Sampler:
    r"""Base class for all Samplers.

    Every Sampler subclass has to provide an :meth:`__iter__` method, providing a way to
    iterate over indices or lists of indices (batches) of dataset elements, and may provide
    a :meth:`__len__` method that returns the length of the returned iterators.
    """

    def __iter__(self):
        raise NotImplementedError


class _IndexSampler(Sampler):
    """A sampler that computes one pass's indices as an int64 array, ``_indices()``, which
    ``DataLoader`` slices into batches instead of iterating index by index."""

    def _indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self):
        return iter(self._indices().tolist())


class SequentialSampler(_IndexSampler):
    r"""Samples elements sequentially, always in the same order.

    Args:
        data_source (Dataset): dataset to sample from
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_IndexSampler):
    r"""Samples elements randomly. If without replacement, then sample from a shuffled
    dataset. If with replacement, then user can specify :attr:`num_samples` to draw.

    Args:
        data_source (Dataset): dataset to sample from
        replacement (bool): samples are drawn on-demand with replacement if ``True``,
            default=``False``
        num_samples (int): number of samples to draw, default=`len(dataset)`.
        generator (Generator): Generator used in sampling; by default distgrad's default
            generator, so :func:`distgrad.manual_seed` makes the order reproducible.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self) -> np.ndarray:
        rng = self.generator.np if self.generator is not None else default_generator()
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        perms = [rng.permutation(n) for _ in range(-(-self.num_samples // n))]
        return np.concatenate(perms)[:self.num_samples].astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    r"""Wraps another sampler to yield a mini-batch of indices.

    Args:
        sampler (Sampler or Iterable): Base sampler. Can be any iterable object
        batch_size (int): Size of mini-batch.
        drop_last (bool): If ``True``, the sampler will drop the last batch if its size
            would be less than ``batch_size``

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


def _world(num_replicas, rank) -> tuple[int, int]:
    """``num_replicas`` and ``rank``, taken from the default process group where not given,
    and checked."""
    if num_replicas is None or rank is None:
        from ... import distributed as dist

        if not dist.is_initialized():
            raise RuntimeError("Default process group has not been initialized, please make "
                               "sure to call init_process_group, or pass num_replicas and "
                               "rank explicitly.")
        num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
        rank = dist.get_rank() if rank is None else rank
    if num_replicas <= 0:
        raise ValueError(f"num_replicas must be positive, got {num_replicas}")
    if rank >= num_replicas or rank < 0:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                         f"[0, {num_replicas - 1}]")
    return num_replicas, rank


class DistributedSampler(_IndexSampler):
    r"""Sampler that restricts data loading to a subset of the dataset, for training with
    :class:`~distgrad.nn.parallel.DistributedDataParallel`: each process passes a
    ``DistributedSampler`` to its :class:`~distgrad.utils.data.DataLoader` and loads a
    subset of the original dataset that is exclusive to it.

    The indices follow PyTorch's pattern exactly. All ranks draw the same permutation
    (seeded by ``seed + epoch``) or, without shuffling, ``0, 1, ..., N-1``. Without
    ``drop_last`` the list is padded by repeating its first indices until its length
    divides evenly, so a few samples are seen twice per epoch; a dataset smaller than the
    world is repeated as often as needed, so every rank still gets one sample. With
    ``drop_last`` the tail is dropped instead. Rank ``r`` then takes every
    ``num_replicas``-th index starting at ``r``. Every rank gets ``len(sampler)`` indices,
    so collectives stay matched. For evaluation, where each sample must count once, use
    :class:`ShardSampler`.

    .. note::
        Dataset is assumed to be of constant size and that any instance of it always
        returns the same elements in the same order.

    Args:
        dataset: Dataset used for sampling.
        num_replicas (int, optional): Number of processes participating in distributed
            training. By default, the world size of the default process group.
        rank (int, optional): Rank of the current process within :attr:`num_replicas`. By
            default, the rank in the default process group.
        shuffle (bool, optional): If ``True`` (default), sampler will shuffle the indices.
        seed (int, optional): random seed used to shuffle the sampler if :attr:`shuffle=True`.
            This number should be identical across all processes in the distributed group.
            Default: ``0``.
        drop_last (bool, optional): if ``True``, then the sampler will drop the tail of the
            data to make it evenly divisible across the number of replicas. If ``False``,
            the sampler will add extra indices to make the data evenly divisible across
            the replicas. Default: ``False``.

    Raises:
        RuntimeError: if ``num_replicas`` or ``rank`` is omitted outside a process group.
        ValueError: if ``rank`` is not in ``[0, num_replicas)``, or if ``drop_last`` would
            leave every rank without samples (a dataset smaller than ``num_replicas``).

    .. warning::
        In distributed mode, calling the :meth:`set_epoch` method at the beginning of each
        epoch **before** creating the :class:`DataLoader` iterator is necessary to make
        shuffling work properly across multiple epochs. Otherwise, the same ordering will
        be always used.

    Example::

        >>> sampler = DistributedSampler(dataset) if is_distributed else None
        >>> loader = DataLoader(dataset, shuffle=(sampler is None), sampler=sampler)
        >>> for epoch in range(start_epoch, n_epochs):
        ...     if is_distributed:
        ...         sampler.set_epoch(epoch)
        ...     train(loader)
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.dataset = dataset
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % self.num_replicas != 0:
            if n < self.num_replicas:
                raise ValueError(
                    f"DistributedSampler: a dataset of {n} samples split among "
                    f"{self.num_replicas} replicas with drop_last=True leaves every replica "
                    "with no samples; use drop_last=False (which repeats samples) or a "
                    "smaller world")
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator().manual_seed(self.seed + self.epoch).np.permutation(n)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                indices = np.concatenate([indices, np.resize(indices, padding)])
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas].astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        r"""Set the epoch for this sampler.

        When :attr:`shuffle=True`, this ensures all replicas use a different random ordering
        for each epoch. Otherwise, the next iteration of this sampler will yield the same
        ordering.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch


class ShardSampler(_IndexSampler):
    r"""Sampler that splits a dataset among processes for **evaluation**: every index goes
    to exactly one rank, with no padding and no duplicates, so metrics summed over ranks
    (for example with :func:`distgrad.distributed.all_reduce`) count each sample once.

    Shards differ in size by at most one sample (the first ``len(dataset) % num_replicas``
    ranks get one more), so ranks may run different numbers of batches: do not run
    collectives per batch over a ``ShardSampler``; reduce once at the end instead.

    Args:
        dataset: Dataset used for sampling.
        num_replicas (int, optional): Number of processes. By default, the world size of
            the default process group.
        rank (int, optional): Rank of the current process. By default, the rank in the
            default process group.
        contiguous (bool, optional): If ``True`` (default), rank ``r`` gets one contiguous
            block of indices, so gathering the shards in rank order restores the dataset's
            order. If ``False``, rank ``r`` gets ``r, r + num_replicas, ...``.

    Example::

        >>> sampler = ShardSampler(test_set)
        >>> loader = DataLoader(test_set, batch_size=256, sampler=sampler)
        >>> correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in loader)
        >>> total = distgrad.tensor([correct, len(sampler)])
        >>> distgrad.distributed.all_reduce(total)
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 contiguous: bool = True):
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.dataset = dataset
        self.contiguous = contiguous

    def _indices(self) -> np.ndarray:
        n, world, rank = len(self.dataset), self.num_replicas, self.rank
        if not self.contiguous:
            return np.arange(rank, n, world, dtype=np.int64)
        base, extra = divmod(n, world)
        start = rank * base + min(rank, extra)
        return np.arange(start, start + base + (rank < extra), dtype=np.int64)

    def __len__(self) -> int:
        base, extra = divmod(len(self.dataset), self.num_replicas)
        return base + (self.rank < extra)
