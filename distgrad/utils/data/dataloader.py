"""``DataLoader``: iterate over a dataset in batches; ``default_collate`` and
``default_convert``, which turn samples into batched tensors."""

from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ... import ops
from ..._tensor import Tensor
from .dataset import TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _IndexSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


def default_collate(batch):
    r"""Take in a batch of data and put the elements within the batch into a tensor with an
    additional outer dimension, the batch size. The type mapping is PyTorch's:

    * :class:`Tensor` -> :class:`Tensor` (stacked)
    * NumPy arrays -> :class:`Tensor` (stacked, keeping the dtype)
    * NumPy scalars -> :class:`Tensor` of the same dtype
    * `float` -> a ``float64`` :class:`Tensor`; `int` -> ``int64``; `bool` -> ``bool``
    * `str` -> `str` (unchanged: a list of the batch's strings)
    * `Mapping[K, V_i]` -> `Mapping[K, default_collate([V_1, V_2, ...])]`
    * `NamedTuple[V1_i, V2_i, ...]` -> `NamedTuple[default_collate([V1_1, V1_2, ...]), ...]`
    * `Sequence[V1_i, V2_i, ...]` -> `Sequence[default_collate([V1_1, V1_2, ...]), ...]`;
      a tuple becomes a :class:`list`, as in PyTorch (and a field of strings inside it is
      the tuple of the batch's strings).

    Args:
        batch: a single batch to be collated

    Example:
        >>> default_collate([(0, 1.5), (1, 2.5)])
        [tensor([0, 1]), tensor([1.5000, 2.5000], dtype=distgrad.float64)]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {tuple(t.shape) for t in batch}
        if len(shapes) > 1:
            raise RuntimeError("default_collate: stack expects each tensor to be equal size, "
                               f"but got shapes {sorted(shapes)} in one batch")
        return ops.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.hasobject or elem.dtype.kind in "SUa":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found arrays of dtype {elem.dtype}")
        return default_collate([Tensor._wrap(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):  # also bool, which stays bool
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuild_mapping(elem, collated)
    # Below, each field is collated from the tuple that zip() gives, as in PyTorch: a field
    # of strings stays that tuple.
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [default_collate(samples) for samples in zip(*batch, strict=True)]
        if isinstance(elem, (tuple, list)):
            return collated
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(data):
    r"""Convert each NumPy array element into a :class:`Tensor`, recursing into mappings
    and sequences (a tuple becomes a :class:`list`, as in PyTorch). Used instead of
    :func:`default_collate` when automatic batching is off (``batch_size=None``).
    """
    if isinstance(data, np.ndarray) and not data.dtype.hasobject and data.dtype.kind not in "SUa":
        return Tensor._wrap(data)
    if isinstance(data, np.generic):
        return Tensor._wrap(np.array(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):  # a tuple becomes a list, as in PyTorch
        return [default_convert(d) for d in data]
    return data


def _rebuild_mapping(like, values: dict):
    """A mapping of ``like``'s type holding ``values``: a copy of ``like`` updated with them
    when it is mutable (so ``defaultdict`` and ``OrderedDict`` keep their type and settings),
    else the type built from them, else a plain dict."""
    if isinstance(like, collections.abc.MutableMapping):
        clone = copy.copy(like)
        clone.update(values)
        return clone
    try:
        return type(like)(values)
    except TypeError:
        return values


class DataLoader:
    r"""Data loader: combines a dataset and a sampler, and provides an iterable over the
    given dataset.

    Loading always happens in the calling process: ``num_workers``, ``pin_memory`` and
    ``persistent_workers`` are accepted for compatibility with PyTorch scripts and ignored.

    Args:
        dataset (Dataset): dataset from which to load the data.
        batch_size (int, optional): how many samples per batch to load (default: ``1``).
            ``None`` disables automatic batching: samples are returned one by one.
        shuffle (bool, optional): set to ``True`` to have the data reshuffled at every
            epoch (default: ``False``).
        sampler (Sampler or Iterable, optional): defines the strategy to draw samples from
            the dataset. If specified, :attr:`shuffle` must not be specified.
        batch_sampler (Sampler or Iterable, optional): like :attr:`sampler`, but returns a
            batch of indices at a time. Mutually exclusive with :attr:`batch_size`,
            :attr:`shuffle`, :attr:`sampler`, and :attr:`drop_last`.
        num_workers (int, optional): accepted and ignored (default: ``0``).
        collate_fn (Callable, optional): merges a list of samples to form a mini-batch
            (default: :func:`default_collate`).
        drop_last (bool, optional): set to ``True`` to drop the last incomplete batch, if
            the dataset size is not divisible by the batch size (default: ``False``).
        generator (Generator, optional): the :class:`distgrad.Generator` that
            :class:`RandomSampler` uses to shuffle (default: distgrad's default generator,
            seeded by :func:`distgrad.manual_seed`).

    A :class:`TensorDataset` loaded with the default ``collate_fn`` is batched by indexing
    each of its tensors once per batch, which is much faster than collating samples; the
    batches are the same.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        >>> for xb, yb in loader:
        ...     loss = loss_fn(model(xb), yb)
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self._auto_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        if self._auto_collate and _fast_dataset(self.dataset):
            return self._tensor_batches()
        return (self.collate_fn([self.dataset[i] for i in batch]) for batch in self.batch_sampler)

    def _tensor_batches(self):
        arrays = [t._data for t in self.dataset.tensors]
        for index in self._index_batches():
            yield [Tensor._wrap(a[index]) for a in arrays]

    def _index_batches(self):
        """Batches of indices as int64 arrays, in the order the batch sampler yields them."""
        bs = self.batch_sampler
        if not (type(bs) is BatchSampler and isinstance(bs.sampler, _IndexSampler)
                and type(bs.sampler).__iter__ is _IndexSampler.__iter__):
            for batch in bs:
                yield np.asarray(batch, dtype=np.int64)
            return
        indices = bs.sampler._indices()
        size = bs.batch_size
        stop = len(indices) - len(indices) % size if bs.drop_last else len(indices)
        for start in range(0, stop, size):
            yield indices[start:start + size]


def _fast_dataset(dataset) -> bool:
    """Whether batches of ``dataset`` can be taken by indexing its arrays: a TensorDataset
    whose ``__getitem__`` is TensorDataset's and whose tensors are outside autograd."""
    return (isinstance(dataset, TensorDataset)
            and type(dataset).__getitem__ is TensorDataset.__getitem__
            and not any(t.requires_grad for t in dataset.tensors))
