"""The communicator interface behind ``distgrad.distributed``.

A :class:`Communicator` moves C-contiguous NumPy arrays between the processes of a job
(the buffer collectives, in place where MPI allows) and, under separate ``*_obj`` names,
small picklable Python objects. Gradient paths use only the buffer collectives.

Two implementations exist: :class:`SingleProcessComm` below, a world of one that never
imports mpi4py, and ``MPIComm`` in ``_mpi_comm.py``.
"""

from __future__ import annotations

import abc
import enum
import pickle
from collections.abc import Callable

import numpy as np

__all__ = ["Communicator", "ReduceOp", "SingleProcessComm", "Work"]


class ReduceOp(enum.IntEnum):
    """An enum-like class for the reduction operations of :func:`all_reduce` and
    :func:`reduce_scatter`: ``SUM``, ``AVG``, ``MAX`` and ``MIN``.

    ``AVG`` sums across ranks and divides by the world size once, after the sum; it needs a
    floating-point tensor. On ``bool`` tensors ``SUM`` and ``MAX`` are a logical or and
    ``MIN`` a logical and.
    """

    SUM = 0
    AVG = 1
    MAX = 2
    MIN = 3


# Every dtype a collective can move, and the reductions defined on each kind of dtype.
SUPPORTED_DTYPES = tuple(
    np.dtype(name)
    for name in """bool int8 int16 int32 int64 uint8 uint16 uint32 uint64
                   float32 float64 complex64 complex128""".split()
)
_ALL = frozenset(ReduceOp)
REDUCE_OPS = {
    "f": _ALL,
    "c": frozenset({ReduceOp.SUM, ReduceOp.AVG}),
    "i": _ALL - {ReduceOp.AVG},
    "u": _ALL - {ReduceOp.AVG},
    "b": _ALL - {ReduceOp.AVG},
}


def dtype_error(dtype: np.dtype) -> TypeError | None:
    """Returns the error for a dtype no collective can move, or ``None`` if it is supported."""
    if dtype in SUPPORTED_DTYPES:
        return None
    names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
    return TypeError(f"distributed collectives do not support dtype {dtype}; use one of {names}")


def reduce_error(dtype: np.dtype, op) -> Exception | None:
    """Returns the error for reducing ``dtype`` with ``op``, or ``None`` if that is defined."""
    if (error := dtype_error(dtype)) is not None:
        return error
    try:
        op = ReduceOp(op)
    except ValueError:
        return ValueError(f"op must be a distgrad.distributed.ReduceOp, got {op!r}")
    if op not in REDUCE_OPS[dtype.kind]:
        hint = "; use ReduceOp.SUM and divide" if op is ReduceOp.AVG else ""
        return TypeError(f"ReduceOp.{op.name} is not supported for {dtype} tensors{hint}")
    return None


def check_dtype(dtype: np.dtype) -> None:
    if (error := dtype_error(dtype)) is not None:
        raise error


def check_reduce(dtype: np.dtype, op) -> None:
    if (error := reduce_error(dtype, op)) is not None:
        raise error


class Work:
    """A handle on an asynchronous collective, as returned by calls with ``async_op=True``.

    It keeps the MPI request together with every buffer the operation reads or writes, so no
    buffer is freed while MPI may still use it. The buffers must not be read or written
    until :meth:`wait` returns or :meth:`is_completed` returns ``True``; at that point the
    post-processing (dividing for ``AVG``, copying results into their tensors) has run.
    """

    __slots__ = ("_request", "_buffers", "_callbacks", "_completed")

    def __init__(self, request=None, buffers: tuple = (), callback: Callable | None = None):
        self._request = request
        self._buffers = buffers
        self._callbacks = [] if callback is None else [callback]
        self._completed = False

    def wait(self) -> bool:
        """Blocks until the operation is complete and its results are in place.

        Returns ``True``, like PyTorch's ``Work.wait``.
        """
        if not self._completed:
            if self._request is not None:
                self._request.Wait()
            self._finish()
        return True

    def is_completed(self) -> bool:
        """Returns whether the operation is complete, without blocking."""
        if not self._completed and (self._request is None or self._request.Test()):
            self._finish()
        return self._completed

    def _then(self, callback: Callable[[], None]) -> Work:
        """Adds a callback to run once the operation completes, after earlier ones."""
        self._callbacks.append(callback)
        return self

    def _finish(self) -> None:
        callbacks = self._callbacks
        self._completed = True
        self._request, self._buffers, self._callbacks = None, (), []
        for callback in callbacks:
            callback()


class Communicator(abc.ABC):
    """The collectives distgrad needs, over the processes of one job.

    Attributes ``rank`` and ``size`` give this process's rank and the number of processes.
    Buffer collectives take C-contiguous NumPy arrays of a dtype in ``SUPPORTED_DTYPES``,
    work in place where the name says so, and must be called by every rank in the same
    order with matching shapes and dtypes. The ``i``-prefixed forms return a :class:`Work`.
    The ``*_obj`` forms pickle small Python objects; never use them for tensors.
    """

    rank: int
    size: int

    @abc.abstractmethod
    def allreduce(self, buf: np.ndarray, op: ReduceOp = ReduceOp.SUM) -> None:
        """Reduces ``buf`` across ranks, in place."""

    @abc.abstractmethod
    def iallreduce(self, buf: np.ndarray, op: ReduceOp = ReduceOp.SUM) -> Work:
        """Starts :meth:`allreduce`; ``buf`` holds the result after ``wait()``."""

    @abc.abstractmethod
    def bcast(self, buf: np.ndarray, root: int) -> None:
        """Copies ``buf`` from rank ``root`` into ``buf`` on every other rank."""

    @abc.abstractmethod
    def ibcast(self, buf: np.ndarray, root: int) -> Work:
        """Starts :meth:`bcast`."""

    @abc.abstractmethod
    def allgather(self, send: np.ndarray, recv: np.ndarray) -> None:
        """Gathers ``send`` from every rank into ``recv``, which holds ``size * send.size``
        elements laid out rank after rank."""

    @abc.abstractmethod
    def iallgather(self, send: np.ndarray, recv: np.ndarray) -> Work:
        """Starts :meth:`allgather`."""

    @abc.abstractmethod
    def reduce_scatter(
        self, send: np.ndarray, recv: np.ndarray, op: ReduceOp = ReduceOp.SUM
    ) -> None:
        """Reduces ``send`` (``size * recv.size`` elements) across ranks and leaves block
        ``rank`` of the result in ``recv``."""

    @abc.abstractmethod
    def ireduce_scatter(
        self, send: np.ndarray, recv: np.ndarray, op: ReduceOp = ReduceOp.SUM
    ) -> Work:
        """Starts :meth:`reduce_scatter`."""

    @abc.abstractmethod
    def barrier(self) -> None:
        """Blocks until every rank has called it."""

    @abc.abstractmethod
    def ibarrier(self) -> Work:
        """Starts :meth:`barrier`."""

    @abc.abstractmethod
    def allgather_obj(self, obj) -> list:
        """Returns the list of every rank's ``obj``, indexed by rank (pickled)."""

    @abc.abstractmethod
    def bcast_obj(self, obj, root: int):
        """Returns rank ``root``'s ``obj`` on every rank (pickled)."""

    @abc.abstractmethod
    def progress(self) -> None:
        """Lets outstanding nonblocking operations advance; cheap enough to call often."""

    @abc.abstractmethod
    def free(self) -> None:
        """Releases the communicator; every rank must call it."""


class SingleProcessComm(Communicator):
    """A world of one process. Collectives leave their data as it is (one rank's sum,
    average, maximum or minimum is its own value) but check their arguments as
    ``MPIComm`` does, so code that is wrong for many ranks fails on one too."""

    def __init__(self):
        self.rank = 0
        self.size = 1

    def allreduce(self, buf, op=ReduceOp.SUM):
        check_reduce(buf.dtype, op)

    def iallreduce(self, buf, op=ReduceOp.SUM):
        self.allreduce(buf, op)
        return Work(buffers=(buf,))

    def bcast(self, buf, root):
        check_dtype(buf.dtype)
        self._check_root(root)

    def ibcast(self, buf, root):
        self.bcast(buf, root)
        return Work(buffers=(buf,))

    def allgather(self, send, recv):
        check_dtype(send.dtype)
        recv.reshape(-1)[:] = send.reshape(-1)

    def iallgather(self, send, recv):
        self.allgather(send, recv)
        return Work(buffers=(send, recv))

    def reduce_scatter(self, send, recv, op=ReduceOp.SUM):
        check_reduce(send.dtype, op)
        recv.reshape(-1)[:] = send.reshape(-1)

    def ireduce_scatter(self, send, recv, op=ReduceOp.SUM):
        self.reduce_scatter(send, recv, op)
        return Work(buffers=(send, recv))

    def barrier(self):
        pass

    def ibarrier(self):
        return Work()

    # Objects make the same pickle round trip as under MPI, so an unpicklable one fails here.
    def allgather_obj(self, obj):
        return [pickle.loads(pickle.dumps(obj))]

    def bcast_obj(self, obj, root):
        self._check_root(root)
        return pickle.loads(pickle.dumps(obj))

    def progress(self):
        pass

    def free(self):
        pass

    def _check_root(self, root):
        if root != 0:
            raise ValueError(f"root rank {root} is out of range for a world of size 1")
