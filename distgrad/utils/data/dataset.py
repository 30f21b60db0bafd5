"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``."""

from __future__ import annotations

import math

import numpy as np

from ..._factories import default_generator
from ..._tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]


class Dataset:
    r"""An abstract class representing a map-style :class:`Dataset`: a mapping from
    indices to data samples.

    All subclasses should overwrite :meth:`__getitem__`, supporting fetching a data sample
    for a given index, and :meth:`__len__`, which many :class:`~distgrad.utils.data.Sampler`
    implementations and the default options of :class:`~distgrad.utils.data.DataLoader`
    expect to return the size of the dataset.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError("Subclasses of Dataset should implement __len__.")


class TensorDataset(Dataset):
    r"""Dataset wrapping tensors.

    Each sample will be retrieved by indexing tensors along the first dimension, so
    ``dataset[i]`` is the tuple ``(t[i] for t in tensors)``.

    Args:
        *tensors (Tensor): tensors that have the same size of the first dimension. NumPy
            arrays are accepted too, and wrapped without copying.

    A :class:`~distgrad.utils.data.DataLoader` with the default ``collate_fn`` batches a
    ``TensorDataset`` by indexing each tensor once per batch, rather than once per sample.

    Example:
        >>> dataset = TensorDataset(distgrad.randn(100, 3), distgrad.randint(0, 2, (100,)))
        >>> x, y = dataset[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(Tensor._wrap(t) if isinstance(t, np.ndarray) else t for t in tensors)
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, "
                                "not a Tensor")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a "
                                 "first dimension to index samples along")
        sizes = [t.shape[0] for t in tensors]
        if any(size != sizes[0] for size in sizes):
            described = ", ".join(f"tensor {i}: {size}" for i, size in enumerate(sizes))
            raise ValueError("Size mismatch between tensors: every tensor must have the same "
                             f"size of the first dimension, got {described}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    r"""Subset of a dataset at specified indices.

    Args:
        dataset (Dataset): The whole Dataset.
        indices (sequence): Indices in the whole set selected for subset.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    r"""Randomly split a dataset into non-overlapping new datasets of given lengths.

    If a list of fractions that sum up to 1 is given, the lengths will be computed
    automatically as ``floor(frac * len(dataset))`` for each fraction provided. After
    computing the lengths, if there are any remainders, 1 count will be distributed in a
    round-robin fashion to the lengths until there are no remainders left.

    Args:
        dataset (Dataset): Dataset to be split.
        lengths (sequence): lengths or fractions of splits to be produced.
        generator (Generator): Generator used for the random permutation (default:
            distgrad's default generator, seeded by :func:`distgrad.manual_seed`).

    Example:
        >>> generator = distgrad.Generator().manual_seed(42)
        >>> train, val = random_split(range(10), [0.7, 0.3], generator=generator)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and sum(lengths) != n:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!"
                         f" ({sum(lengths)} vs {n})")
    rng = generator.np if generator is not None else default_generator()
    indices = rng.permutation(n).tolist()
    splits, start = [], 0
    for length in lengths:
        splits.append(Subset(dataset, indices[start:start + length]))
        start += length
    return splits
