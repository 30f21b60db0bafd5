"""``DistributedDataParallel``: data-parallel training over MPI with overlapped all-reduce."""

from __future__ import annotations

import contextlib

import numpy as np

from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd import grad_mode
from ..module import Module
from ._bucketing import DEFAULT_FIRST_BUCKET_BYTES, assign_buckets
from ._reducer import Reducer

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data-parallel training of ``module``: one replica per MPI rank, gradients averaged.

    Each rank runs forward and backward on its own shard of the data. As backward makes each
    parameter's gradient final, a hook copies it into a flat bucket; a full bucket starts a
    non-blocking all-reduce at once, while the rest of backward still runs. When backward
    returns, every rank holds the same gradient in ``.grad`` — the gradient of the global
    batch — and the same optimizer step keeps the replicas identical.

    At construction, every rank checks that all ranks have the same parameter and buffer
    names, shapes and dtypes (a difference raises on every rank, naming the parameter, the
    rank and both shapes), and parameters and buffers are broadcast from rank 0.

    Args:
        module: the model to replicate.
        bucket_cap_mb: bucket size in MiB. Buckets are filled in reverse registration order
            (roughly the order gradients become ready); the first one is capped at 1 MiB so
            communication starts early.
        broadcast_buffers: broadcast buffers (e.g. BatchNorm running statistics) from rank 0
            at the start of every forward run with gradients enabled. Forwards under
            ``no_grad()`` make no collective, so evaluation may run a different number of
            batches on each rank.
        gradient_as_bucket_view: keep each ``.grad`` a view into its bucket, the same
            memory every step, so gradients take no memory beyond the buckets; the next
            synchronising backward overwrites it. ``optimizer.zero_grad(set_to_none=False)``
            keeps the views and accumulates in place. Without it, a ``.grad`` that the
            backward created is a view of a bucket buffer that no later step writes to
            while the ``.grad`` is alive, and a ``.grad`` that existed before the backward
            (``zero_grad(set_to_none=False)``) is updated in place.
        find_unused_parameters: allow parameters that get no gradient in a backward: they are
            reduced as zeros, and a parameter unused on every rank keeps ``.grad = None``.
            When False, such a parameter is reported by name instead of hanging the job.
        weight_by_batch_size: weight each rank's gradient by its local batch size (see
            below). With equal shards this is the plain average, as in PyTorch.

    Averaging: rank ``r``, with ``n_r`` samples in its batch (the first dimension of the
    first tensor passed to forward), contributes ``n_r / sum(n)`` of its gradient. For a
    loss that is a mean over the batch (``reduction="mean"``, the default), that is exactly
    the gradient of the global batch, also when the last batch of an epoch splits unevenly;
    for equal batches it is the mean over ranks. Pass ``weight_by_batch_size=False`` for
    PyTorch's plain mean over ranks, e.g. for a loss summed over the batch (multiply it
    by the world size to get the sum over the global batch). Under ``no_sync()``, the
    gradient accumulated over several backwards is weighted by the batch size of the
    synchronising forward: with micro-batches of equal size, the result is the gradient of
    the sum over micro-batches ``k`` of the mean loss over global micro-batch ``k``.

    Overlap: during backward, the engine calls MPI's progress between nodes, so a bucket's
    all-reduce advances while later layers' gradients are computed. After a synchronising
    backward, :attr:`communication_stats` reports ``wait_s``, the communication left
    exposed (the time backward waited for all-reduces after its last gradient), and
    ``backward_s``, from the first gradient to the end of that wait.

    ``state_dict()`` and ``load_state_dict()`` use the wrapped module's keys, without the
    ``module.`` prefix PyTorch adds, so a checkpoint loads into a plain model unchanged
    (keys with the prefix are accepted too). ``parameters()`` and ``named_parameters()``
    are the module's, under ``module.``.

    Example::

        >>> dist.init_process_group()
        >>> model = DistributedDataParallel(Net())
        >>> loss = loss_fn(model(x_shard), y_shard)
        >>> loss.backward()          # gradients averaged across ranks on return
        >>> optimizer.step()
    """

    def __init__(self, module: Module, *, bucket_cap_mb: float = 25, broadcast_buffers: bool = True,
                 gradient_as_bucket_view: bool = False, find_unused_parameters: bool = False,
                 weight_by_batch_size: bool = True, device_ids=None, output_device=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel wraps an nn.Module, got {type(module).__name__}")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel needs the process group: call "
                               "distgrad.distributed.init_process_group() first")
        if bucket_cap_mb <= 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.weight_by_batch_size = weight_by_batch_size
        self.require_backward_grad_sync = True
        comm = dist._get_default_comm()
        self._comm = comm

        named = _unique_named_parameters(module)
        buffers = list(module.named_buffers())
        self._verify_same_model_on_every_rank(named, buffers)
        self._broadcast_from_rank0([p for _, p in named] + [b for _, b in buffers])

        trainable = [(n, p) for n, p in named if p.requires_grad]
        params = [p for _, p in trainable]
        cap = int(bucket_cap_mb * 2**20)
        bucket_indices = assign_buckets(
            [p.numel() * p.element_size() for p in params], cap,
            min(DEFAULT_FIRST_BUCKET_BYTES, cap), dtypes=[p._data.dtype for p in params])
        self.reducer = Reducer(params, [n for n, _ in trainable], bucket_indices, comm,
                               gradient_as_bucket_view=gradient_as_bucket_view,
                               find_unused_parameters=find_unused_parameters)

    # ------------------------------------------------------------------ construction
    def _verify_same_model_on_every_rank(self, named, buffers) -> None:
        # One gather of every rank's description; each rank compares the same lists and so
        # raises the same error, before any collective whose sizes could disagree.
        # A frozen parameter has no bucket slot, so requires_grad must agree too.
        mine = [(kind, n, tuple(t.shape),
                 str(t._data.dtype) + ("" if t.requires_grad or kind == "buffer"
                                       else ", requires_grad=False"))
                for kind, pairs in (("parameter", named), ("buffer", buffers)) for n, t in pairs]
        everyone = self._comm.allgather_obj(mine)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if theirs == reference:
                continue
            for ours, other in zip(reference, theirs):
                if ours != other:
                    kind, n0, s0, d0 = ours
                    _, n1, s1, d1 = other
                    what = f"'{n0}'" if n0 == n1 else f"'{n0}' on rank 0 and '{n1}'"
                    raise RuntimeError(
                        f"DistributedDataParallel: the model differs across ranks: {kind} "
                        f"{what} has shape {list(s0)} ({d0}) on rank 0 but shape {list(s1)} "
                        f"({d1}) on rank {rank}. Every rank must build the same model.")
            longer, which = (reference, 0) if len(reference) > len(theirs) else (theirs, rank)
            kind, n, s, d = longer[min(len(reference), len(theirs))]
            raise RuntimeError(
                f"DistributedDataParallel: the model differs across ranks: rank 0 has "
                f"{len(reference)} parameters and buffers, rank {rank} has {len(theirs)}; "
                f"{kind} '{n}' (shape {list(s)}, {d}) exists only on rank {which}. Every "
                "rank must build the same model.")

    def _broadcast_from_rank0(self, tensors) -> None:
        """Overwrite ``tensors`` with rank 0's values: one broadcast per dtype, of the
        tensors packed into one flat array."""
        if self._comm.size == 1 or not tensors:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for group in by_dtype.values():
            flat = np.concatenate([t._data.reshape(-1) for t in group])
            self._comm.bcast(flat, 0)
            offset = 0
            for t in group:
                size = t._data.size
                t._data[...] = flat[offset:offset + size].reshape(t._data.shape)
                offset += size
                t._bump_version()

    # ----------------------------------------------------------------------- training
    def forward(self, *inputs, **kwargs):
        # Only training forwards communicate: evaluation under no_grad() over shards of
        # different lengths (ShardSampler) runs different numbers of forwards per rank.
        if grad_mode.is_grad_enabled():
            if self.broadcast_buffers and self._comm.size > 1:
                self._broadcast_from_rank0([b for _, b in self.module.named_buffers()])
            if self.require_backward_grad_sync:
                self.reducer.prepare_for_backward(self._sample_weight(inputs))
            else:
                self.reducer.disarm()
        return self.module(*inputs, **kwargs)

    def _sample_weight(self, inputs) -> float | None:
        """This rank's batch size, or ``None`` where every rank weighs the same."""
        if not self.weight_by_batch_size or self._comm.size == 1:
            return None
        first = next((x for x in inputs if isinstance(x, (Tensor, np.ndarray))), None)
        if first is None or np.ndim(first) == 0:
            raise RuntimeError(
                "DistributedDataParallel(weight_by_batch_size=True) reads the local batch size "
                "from the first tensor argument of forward, but none was given; pass "
                "weight_by_batch_size=False to average ranks equally")
        if first.shape[0] == 0:
            raise RuntimeError(
                f"DistributedDataParallel: rank {self._comm.rank} got an empty batch. Every "
                "rank needs at least one sample per step: the dataset (or its last batch) is "
                "smaller than the world size; use DistributedSampler, which pads the dataset "
                "to a multiple of the world size, or drop_last=True in the DataLoader")
        return float(first.shape[0])

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally, without all-reduce, inside this context.

        The first backward after leaving it synchronises the accumulated gradients.

        Example::

            >>> with ddp.no_sync():
            ...     ddp(x1).sum().backward()   # local accumulation only
            >>> ddp(x2).sum().backward()       # all-reduces the accumulated gradients
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    @property
    def communication_stats(self) -> dict:
        """Timings of the last synchronising backward, in seconds: ``wait_s``, the time
        blocked waiting for all-reduces after the last gradient (the exposed part of the
        communication), and ``backward_s``, from the first gradient to the end of that
        wait."""
        return dict(self.reducer.stats)

    # ---------------------------------------------------------------- checkpointing
    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True):
        """Load a state dict of the wrapped module, with or without PyTorch's ``module.``
        key prefix (it is removed when every key has it and the module's own keys do not)."""
        prefix = "module."
        own_keys = self.module.state_dict().keys()
        if (state_dict and all(k.startswith(prefix) for k in state_dict)
                and not all(k.startswith(prefix) for k in own_keys)):
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
        return self.module.load_state_dict(state_dict, strict=strict)

    def extra_repr(self) -> str:
        return f"world_size={self._comm.size}, buckets={len(self.reducer.buckets)}"


def _unique_named_parameters(module) -> list:
    seen, named = set(), []
    for name, p in module.named_parameters():
        if id(p) not in seen:
            seen.add(id(p))
            named.append((name, p))
    return named
