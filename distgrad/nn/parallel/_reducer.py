"""The gradient reducer behind ``DistributedDataParallel``.

Parameters are grouped into flat buckets (``_bucketing.assign_buckets``). During backward
each parameter's post-accumulate-grad hook copies its gradient into its bucket slice, scaled
by this rank's sample count; a bucket whose gradients are all in starts a non-blocking
all-reduce at once, and buckets always start in the same order on every rank (MPI requires
collectives in the same order everywhere). The engine's end-of-backward callback waits for
every bucket, divides by the global sample count and leaves the result in ``.grad``.

Every bucket carries one extra element after the gradients: the sample count. Summed across
ranks it is the global batch size, so the gradient that comes out is the sample-weighted
mean of the ranks' gradients, the gradient of the global batch, even when ranks hold batches
of different sizes, at no extra collective.
"""

from __future__ import annotations

import time

import numpy as np

from ..._tensor import Tensor
from ...autograd import engine

__all__ = ["Reducer", "Bucket"]


class Bucket:
    """A flat buffer holding the gradients of some parameters, reduced as one array."""

    __slots__ = ("index", "params", "slices", "buffer", "missing", "work")

    def __init__(self, index: int, params: list, dtype):
        self.index = index
        self.params = params
        sizes = [p.numel() for p in params]
        self.buffer = np.zeros(sum(sizes) + 1, dtype=dtype)  # + the sample count
        offsets = np.cumsum([0] + sizes)
        self.slices = [self.buffer[start:end].reshape(p.shape)
                       for start, end, p in zip(offsets[:-1], offsets[1:], params)]
        self.missing = len(params)
        self.work = None


class Reducer:
    """Launches and completes the all-reduces of one ``DistributedDataParallel`` model."""

    def __init__(self, params: list, names: list, bucket_indices: list, comm, *,
                 gradient_as_bucket_view: bool, find_unused_parameters: bool):
        self.comm = comm
        self.params = params
        self.names = names
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.find_unused_parameters = find_unused_parameters
        self.buckets = [Bucket(i, [params[j] for j in indices], params[indices[0]]._data.dtype)
                        for i, indices in enumerate(bucket_indices)]
        self.location = {}  # id(param) -> (bucket, position in bucket)
        for bucket in self.buckets:
            for position, p in enumerate(bucket.params):
                self.location[id(p)] = (bucket, position)
        self.ready = [False] * len(params)
        self.index_of = {id(p): i for i, p in enumerate(params)}
        self.armed = False          # a synchronising backward is expected
        self.finalize_queued = False
        self.next_to_launch = 0
        self.sample_weight = 1.0
        self.progress_handle = None
        self.stats = {"wait_s": 0.0, "backward_s": 0.0}
        self._backward_start = 0.0
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready)
                              for p in params]
        if gradient_as_bucket_view:
            for bucket in self.buckets:
                for p, view in zip(bucket.params, bucket.slices):
                    p.grad = Tensor._wrap(view)

    def prepare_for_backward(self, sample_weight: float) -> None:
        """Arm the hooks for the next backward (called by each synchronising forward)."""
        self.armed = True
        self.finalize_queued = False
        self.next_to_launch = 0
        self.sample_weight = float(sample_weight)
        self.ready = [False] * len(self.params)
        for bucket in self.buckets:
            bucket.missing = len(bucket.params)
            bucket.work = None

    def _on_grad_ready(self, param) -> None:
        if not self.armed:
            return
        if not self.finalize_queued:
            self.finalize_queued = True
            self._backward_start = time.perf_counter()
            engine.queue_callback(self._finalize)
        index = self.index_of[id(param)]
        if self.ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[index]}' received its gradient "
                "twice in one backward. Reusing a parameter is fine within one forward, but a "
                "second backward through the same forward is not supported while synchronising; "
                "use no_sync() for all but the last backward.")
        self.ready[index] = True
        bucket, position = self.location[id(param)]
        self._fill(bucket, position, param)
        bucket.missing -= 1
        if bucket.missing == 0:
            self._launch_ready_buckets()

    def _fill(self, bucket, position, param) -> None:
        view = bucket.slices[position]
        grad = param.grad
        if grad is None:
            view[...] = 0
        elif self.sample_weight == 1.0:
            if grad._data is not view:
                np.copyto(view, grad._data)
        else:
            np.multiply(grad._data, self.sample_weight, out=view)
        if self.gradient_as_bucket_view and (grad is None or grad._data is not view):
            param.grad = Tensor._wrap(view)

    def _launch_ready_buckets(self) -> None:
        # Launch strictly in bucket order, so that every rank starts the same collectives in
        # the same sequence whatever order its gradients arrived in.
        buckets = self.buckets
        while self.next_to_launch < len(buckets) and buckets[self.next_to_launch].missing == 0:
            bucket = buckets[self.next_to_launch]
            bucket.buffer[-1] = self.sample_weight
            bucket.work = self.comm.iallreduce(bucket.buffer)
            self.next_to_launch += 1
            if self.progress_handle is None and self.comm.size > 1:
                self.progress_handle = engine.register_progress_hook(self.comm.progress)

    def _finalize(self) -> None:
        """End of backward: reduce what is left, wait for every bucket, write ``.grad``."""
        self.armed = False
        unused = [i for i, r in enumerate(self.ready) if not r]
        if unused and not self.find_unused_parameters:
            names = ", ".join(self.names[i] for i in unused[:10])
            raise RuntimeError(
                f"DistributedDataParallel: {len(unused)} parameter(s) received no gradient in "
                f"this backward on rank {self.comm.rank}: {names}. Every rank must reduce every "
                "bucket, so this would hang. If some parameters are legitimately unused in "
                "forward, pass find_unused_parameters=True; otherwise make sure the loss "
                "depends on all of them.")
        for i in unused:
            param = self.params[i]
            bucket, position = self.location[id(param)]
            bucket.slices[position][...] = 0
            bucket.missing -= 1
        if unused:
            self._launch_ready_buckets()
        globally_unused = self._globally_unused() if self.find_unused_parameters else ()
        wait_start = time.perf_counter()
        for bucket in self.buckets:
            bucket.work.wait()
        wait_end = time.perf_counter()
        if self.progress_handle is not None:
            self.progress_handle.remove()
            self.progress_handle = None
        for bucket in self.buckets:
            self._write_back(bucket)
        for i in globally_unused:
            self.params[i].grad = None
        self.stats["wait_s"] = wait_end - wait_start
        self.stats["backward_s"] = wait_end - self._backward_start

    def _globally_unused(self) -> list:
        """Indices of parameters that got no gradient on any rank (their .grad stays None)."""
        used = np.array(self.ready, dtype=np.int32)
        self.comm.allreduce(used)
        return [i for i, count in enumerate(used) if count == 0]

    def _write_back(self, bucket) -> None:
        total = float(bucket.buffer[-1])
        if total <= 0:
            raise RuntimeError("DistributedDataParallel: the global sample count is "
                               f"{total}; every synchronising forward needs a batch")
        scale = 1.0 / total
        if self.gradient_as_bucket_view:
            grads = bucket.buffer[:-1]
            if scale != 1.0:
                np.multiply(grads, scale, out=grads)
            for p, view in zip(bucket.params, bucket.slices):
                if p.grad is None or p.grad._data is not view:
                    p.grad = Tensor._wrap(view)
            return
        for p, view in zip(bucket.params, bucket.slices):
            if p.grad is None or p.grad.shape != view.shape:
                p.grad = Tensor._wrap(np.empty_like(view))
            np.multiply(view, scale, out=p.grad._data)  # the division fused with the copy
            p.grad._bump_version()

    def remove_hooks(self) -> None:
        for handle in self._hook_handles:
            handle.remove()
