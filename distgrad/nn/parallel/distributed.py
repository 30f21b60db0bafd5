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

    At construction, every rank checks that all ranks have the same parameter names, shapes
    and dtypes (a difference raises on every rank, naming the parameter and the ranks), and
    parameters and buffers are broadcast from rank 0.

    Args:
        module: the model to replicate.
        bucket_cap_mb: bucket size in MiB. Buckets are filled in reverse registration order
            (roughly the order gradients become ready); the first one is capped at 1 MiB so
            communication starts early.
        broadcast_buffers: broadcast buffers (e.g. BatchNorm running statistics) from rank 0
            at the start of every forward.
        gradient_as_bucket_view: make each ``.grad`` a view into its bucket, saving a copy
            per step (keep it with ``optimizer.zero_grad(set_to_none=False)``).
        find_unused_parameters: allow parameters that get no gradient in a backward: they are
            reduced as zeros, and a parameter unused on every rank keeps ``.grad = None``.
            When False, such a parameter is reported by name instead of hanging the job.
        weight_by_batch_size: weight each rank's gradient by its local batch size (the first
            dimension of the first tensor passed to forward), so that uneven shards give
            exactly the gradient of the global batch for a loss that averages over the batch.
            With equal shards this is the plain average, as in PyTorch.

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
            raise TypeError(f"DistributedDataParallel wraps an nn.Module, got {type(module).__name__}")
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
        self._verify_same_model_on_every_rank(named)
        self._broadcast_from_rank0([p for _, p in named] + [b for _, b in module.named_buffers()])

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
    def _verify_same_model_on_every_rank(self, named) -> None:
        mine = [(n, tuple(p.shape), str(p._data.dtype)) for n, p in named]
        everyone = self._comm.allgather_obj(mine)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if theirs == reference:
                continue
            for (n0, s0, d0), (n1, s1, d1) in zip(reference, theirs):
                if (n0, s0, d0) != (n1, s1, d1):
                    raise RuntimeError(
                        f"DistributedDataParallel: the model differs across ranks: parameter "
                        f"'{n0}' has shape {list(s0)} ({d0}) on rank 0 but rank {rank} has "
                        f"'{n1}' with shape {list(s1)} ({d1}). Every rank must build the same "
                        "model.")
            raise RuntimeError(
                f"DistributedDataParallel: the model differs across ranks: rank 0 has "
                f"{len(reference)} parameters, rank {rank} has {len(theirs)}. Every rank must "
                "build the same model.")

    def _broadcast_from_rank0(self, tensors) -> None:
        if self._comm.size == 1:
            return
        for t in tensors:
            data = t._data
            if data.flags.c_contiguous:
                self._comm.bcast(data, 0)
            else:
                contiguous = np.ascontiguousarray(data)
                self._comm.bcast(contiguous, 0)
                data[...] = contiguous
            t._bump_version()

    # ----------------------------------------------------------------------- training
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self._comm.size > 1:
            self._broadcast_from_rank0([b for _, b in self.module.named_buffers()])
        if grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare_for_backward(self._sample_weight(inputs))
        return self.module(*inputs, **kwargs)

    def _sample_weight(self, inputs) -> float:
        if not self.weight_by_batch_size or self._comm.size == 1:
            return 1.0
        first = next((x for x in inputs if isinstance(x, (Tensor, np.ndarray))), None)
        if first is None or np.ndim(first) == 0:
            raise RuntimeError(
                "DistributedDataParallel(weight_by_batch_size=True) reads the local batch size "
                "from the first tensor argument of forward, but none was given; pass "
                "weight_by_batch_size=False to average ranks equally")
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
        """Timings of the last synchronising backward: ``backward_s`` (first hook to end of
        the wait) and ``wait_s`` (time blocked waiting for all-reduces after backward)."""
        return dict(self.reducer.stats)

    # ---------------------------------------------------------------- checkpointing
    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True):
        stripped = {k[len("module."):] if k.startswith("module.") else k: v
                    for k, v in state_dict.items()}
        return self.module.load_state_dict(stripped, strict=strict)

    def extra_repr(self) -> str:
        return f"world_size={self._comm.size}, buckets={len(self.reducer.buckets)}"


def _unique_named_parameters(module) -> list:
    seen, named = set(), []
    for name, p in module.named_parameters():
        if id(p) not in seen:
            seen.add(id(p))
            named.append((name, p))
    return named
