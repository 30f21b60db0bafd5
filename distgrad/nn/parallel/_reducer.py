"""The gradient reducer behind ``DistributedDataParallel``.

Parameters are grouped into flat buckets (``_bucketing.assign_buckets``). During backward
each parameter's post-accumulate-grad hook copies its gradient into its bucket slice,
scaled by this rank's share of the global batch; a bucket whose gradients are all in starts
a non-blocking all-reduce at once, and buckets always start in the same order on every rank
(MPI requires collectives in the same order everywhere). The engine's end-of-backward
callback waits for every bucket and leaves the result in ``.grad``.

Weighting: each rank scales its gradient by ``weight / total``, where ``weight`` is its
sample count (1 when ranks count equally) and ``total`` the sum over ranks. The sum that
the all-reduce computes is then the sample-weighted mean of the ranks' gradients, the
gradient of the global batch even when ranks hold batches of different sizes. ``total`` is
not known before the all-reduce, so a rank scales by ``weight / expected``, ``expected``
being the last step's total, and every bucket carries the rank's ``weight`` in an extra
element: after the all-reduce that element holds the true total, and only when it differs
from ``expected`` (an uneven last batch) does one more pass rescale the bucket. The first
backward learns ``expected`` from a one-number all-reduce. The usual step thus needs no
collective besides the buckets' and no extra pass: the scaling rides along with the copy
into the bucket. A ``.grad`` that this backward created (``zero_grad()`` set it to None)
is then replaced by a view of the reduced bucket, with no second pass; a ``.grad`` that
existed before (``zero_grad(set_to_none=False)``, accumulation) receives the result in
place, so it stays the same tensor, as in PyTorch. Without ``gradient_as_bucket_view`` a
backward never fills a buffer that some ``.grad`` (or any array made from one) still uses:
each bucket keeps two buffers and takes one that nothing outside the bucket refers to, or a
new one, so a ``.grad`` the user holds is never overwritten by a later step, and the usual
loop runs without allocating.

Every bucket also carries, last, the number of parameters that got no gradient on a rank
that did not expect any to (``find_unused_parameters=False``).
Such a rank still launches every bucket, so no rank hangs, and the sum tells every rank to
raise, naming the parameters.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ..._tensor import Tensor
from ...autograd import engine

__all__ = ["Reducer", "Bucket"]

# The two elements after the gradients in every bucket (see the module docstring).
_WEIGHT, _MISSING = -2, -1
_EXTRA = 2


class Bucket:
    """A flat buffer holding the gradients of some parameters, reduced as one array."""

    __slots__ = ("index", "params", "offsets", "buffer", "slices", "spare", "baseline",
                 "missing", "work")

    def __init__(self, index: int, params: list, dtype):
        self.index = index
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params]).tolist()
        self.buffer = np.zeros(self.offsets[-1] + _EXTRA, dtype)
        self.slices = self._views(self.buffer)
        self.spare = None  # (buffer, slices) filled by the backward before, if any
        self.baseline = self._refcounts()  # what _refcounts() is when no one else holds them
        self.missing = len(params)
        self.work = None

    def _views(self, buffer) -> list:
        offsets = self.offsets
        return [buffer[offsets[i]:offsets[i + 1]].reshape(p.shape)
                for i, p in enumerate(self.params)]

    def _refcounts(self) -> tuple:
        # Every view of the buffer refers to it (NumPy views refer to the array that owns
        # the memory), and a .grad refers to its slice; more references than the bucket's
        # own mean that some .grad, or an array made from one, still uses this memory.
        return sys.getrefcount(self.buffer), [sys.getrefcount(view) for view in self.slices]

    def renew(self) -> None:
        """Make ``buffer`` one that no ``.grad`` uses: keep it, else take the spare, else
        allocate a new one; the one given up becomes the spare."""
        if self._refcounts() != self.baseline:
            (self.buffer, self.slices), self.spare = (
                self.spare or (None, None), (self.buffer, self.slices))
            if self.buffer is None or self._refcounts() != self.baseline:
                self.buffer = np.empty_like(self.spare[0])
                self.slices = self._views(self.buffer)
        self.buffer[_MISSING] = 0


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
        self.index_of = {id(p): i for i, p in enumerate(params)}
        self.ready = [False] * len(params)
        self.armed = False          # a synchronising backward is expected
        self.finalize_queued = False
        self.next_to_launch = 0
        self.sample_weight = None   # this rank's weight; None: every rank weighs the same
        self.expected_total = None  # the total weight the last step found, for the scale
        self.scale = 1.0            # what this rank's gradients are multiplied by
        self._grad_ids = []         # id(p.grad) at forward: which .grad existed before
        self.progress_handle = None
        self.stats = {"wait_s": 0.0, "backward_s": 0.0}
        self._backward_start = 0.0
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready)
                              for p in params]

    def prepare_for_backward(self, sample_weight: float | None) -> None:
        """Arm the hooks for the next backward (called by each synchronising forward).

        ``sample_weight`` is this rank's weight, usually its batch size; ``None`` weighs
        every rank the same. No communication happens here: a forward that is not
        followed by backward (evaluation with gradients enabled) costs no collective.
        """
        self.armed = True
        self.finalize_queued = False
        self.next_to_launch = 0
        self.ready = [False] * len(self.params)
        self.sample_weight = sample_weight
        self._grad_ids = [id(p.grad) for p in self.params]  # id(None) for those without
        for bucket in self.buckets:
            bucket.missing = len(bucket.params)
            bucket.work = None
            if self.gradient_as_bucket_view:
                bucket.buffer[_MISSING] = 0
            else:
                bucket.renew()  # the last backward's buffer may still be someone's .grad

    def disarm(self) -> None:
        """Make the hooks ignore the next backward (a forward under ``no_sync()``)."""
        self.armed = False

    def _start_backward(self) -> None:
        """At the first gradient: queue the final callback and settle the scale."""
        self.finalize_queued = True
        self._backward_start = time.perf_counter()
        engine.queue_callback(self._finalize)
        if self.sample_weight is None:
            self.scale = 1.0 / self.comm.size
            return
        if self.expected_total is None:
            # The first synchronising backward: every rank must start from the same
            # ``expected``, so this once it is the true total, from a one-number all-reduce.
            count = np.array([self.sample_weight], np.float64)
            self.comm.allreduce(count)
            self.expected_total = float(count[0])
            if self.expected_total <= 0:
                raise RuntimeError("DistributedDataParallel: the global sample count is "
                                   f"{self.expected_total}; every synchronising forward needs "
                                   "a batch")
        self.scale = self.sample_weight / self.expected_total

    def _on_grad_ready(self, param) -> None:
        if not self.armed:
            return
        if not self.finalize_queued:
            self._start_backward()
        index = self.index_of[id(param)]
        if self.ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[index]}' received its "
                "gradient twice in one backward. A second backward through the same forward "
                "is not supported while synchronising; use no_sync() for all but the last.")
        self.ready[index] = True
        bucket, position = self.location[id(param)]
        self._fill(bucket, position, param)
        bucket.missing -= 1
        if bucket.missing == 0:
            self._launch_ready_buckets()

    def _fill(self, bucket, position, param) -> None:
        """Copy ``param.grad`` (zeros if it has none) into its bucket slice, scaled."""
        view = bucket.slices[position]
        grad = param.grad
        if grad is None:
            view[...] = 0
        elif grad._data is view:  # gradient_as_bucket_view: accumulated in place
            if self.scale != 1.0:
                view *= self.scale
        elif self.scale == 1.0:
            np.copyto(view, grad._data)
        else:
            np.multiply(grad._data, self.scale, out=view)

    def _launch_ready_buckets(self) -> None:
        # Launch strictly in bucket order, so that every rank starts the same collectives in
        # the same sequence whatever order its gradients arrived in.
        buckets = self.buckets
        weight = 1.0 if self.sample_weight is None else self.sample_weight
        while self.next_to_launch < len(buckets) and buckets[self.next_to_launch].missing == 0:
            bucket = buckets[self.next_to_launch]
            bucket.buffer[_WEIGHT] = weight
            bucket.work = self.comm.iallreduce(bucket.buffer)
            self.next_to_launch += 1
            if self.progress_handle is None and self.comm.size > 1:
                self.progress_handle = engine.register_progress_hook(self.comm.progress)

    def _finalize(self) -> None:
        """End of backward: reduce what is left, wait for every bucket, write ``.grad``.

        Every rank launches every bucket and makes the same collectives whatever happened
        locally, so that an error (a parameter with no gradient) is raised on every rank
        instead of leaving some of them waiting.
        """
        self.armed = False
        missing = [i for i, ready in enumerate(self.ready) if not ready]
        has_grad = None
        if self.find_unused_parameters:
            has_grad = np.array([ready or p.grad is not None
                                 for ready, p in zip(self.ready, self.params)], dtype=np.int32)
        if missing:
            # Zeros, or the gradient accumulated under no_sync() if there is one.
            for i in missing:
                bucket, position = self.location[id(self.params[i])]
                self._fill(bucket, position, self.params[i])
                bucket.missing -= 1
            if not self.find_unused_parameters:
                self.buckets[-1].buffer[_MISSING] = len(missing)  # not launched yet
            self._launch_ready_buckets()
        if has_grad is not None:
            self.comm.allreduce(has_grad)
        wait_start = time.perf_counter()
        for bucket in self.buckets:
            bucket.work.wait()
        wait_end = time.perf_counter()
        if self.progress_handle is not None:
            self.progress_handle.remove()
            self.progress_handle = None
        self.stats["wait_s"] = wait_end - wait_start
        self.stats["backward_s"] = wait_end - self._backward_start
        if self.buckets[-1].buffer[_MISSING] > 0:
            self._raise_missing(missing)
        if self.sample_weight is not None:
            self._correct_weights()
        self._write_back()
        if has_grad is not None:
            for i in np.flatnonzero(has_grad == 0):
                self.params[i].grad = None  # no gradient on any rank: leave it as None

    def _correct_weights(self) -> None:
        """Rescale if the true global weight differs from the one the ranks assumed."""
        total = float(self.buckets[0].buffer[_WEIGHT])
        if total <= 0:
            raise RuntimeError("DistributedDataParallel: the global sample count is "
                               f"{total}; every synchronising forward needs a batch")
        if total != self.expected_total:
            correction = self.expected_total / total
            for bucket in self.buckets:
                grads = bucket.buffer[:-_EXTRA]
                np.multiply(grads, correction, out=grads)
            self.expected_total = total

    def _write_back(self) -> None:
        before = self._grad_ids
        index_of = self.index_of
        for bucket in self.buckets:
            for p, view in zip(bucket.params, bucket.slices):
                grad = p.grad
                if grad is not None and grad._data is view:
                    grad._bump_version()  # gradient_as_bucket_view: reduced in place
                elif (grad is None or self.gradient_as_bucket_view
                        or id(grad) != before[index_of[id(p)]]):
                    p.grad = Tensor._wrap(view)  # made by this backward: no copy needed
                else:
                    np.copyto(grad._data, view)  # the user's .grad keeps its identity
                    grad._bump_version()

    def _raise_missing(self, missing) -> None:
        reports = self.comm.allgather_obj([self.names[i] for i in missing])
        where = "; ".join(f"rank {rank}: {', '.join(names[:10])}"
                          + (f" and {len(names) - 10} more" if len(names) > 10 else "")
                          for rank, names in enumerate(reports) if names)
        raise RuntimeError(
            "DistributedDataParallel: some parameters received no gradient in this backward "
            f"({where}). With find_unused_parameters=False every parameter must get a "
            "gradient in every synchronising backward. If some parameters are legitimately "
            "unused in forward, pass find_unused_parameters=True; otherwise make sure the "
            "loss depends on all of them.")

    def remove_hooks(self) -> None:
        for handle in self._hook_handles:
            handle.remove()
