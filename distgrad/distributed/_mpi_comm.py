"""``MPIComm``: the communicator over MPI, through mpi4py's buffer (uppercase) calls.

mpi4py is imported when an ``MPIComm`` is constructed, never when this module is. Arrays
go to MPI with an explicit datatype from a table built once, never pickled; the lookups
and bound methods are cached on the instance because a 1 KiB all-reduce costs a few
microseconds and every attribute lookup on the way shows up in it.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from functools import partial

import numpy as np

from ._comm import (
    REDUCE_OPS,
    SUPPORTED_DTYPES,
    Communicator,
    ReduceOp,
    Work,
    dtype_error,
    reduce_error,
)

_MPI_DATATYPES = {
    "bool": "C_BOOL",
    "int8": "INT8_T",
    "int16": "INT16_T",
    "int32": "INT32_T",
    "int64": "INT64_T",
    "uint8": "UINT8_T",
    "uint16": "UINT16_T",
    "uint32": "UINT32_T",
    "uint64": "UINT64_T",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "complex64": "C_FLOAT_COMPLEX",
    "complex128": "C_DOUBLE_COMPLEX",
}
# AVG is an MPI SUM followed by one division after the wait.
_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.MAX: "MAX", ReduceOp.MIN: "MIN"}
# MPI defines only the logical reductions on C_BOOL.
_MPI_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.MIN: "LAND"}
_AVG = ReduceOp.AVG


def _type_table(MPI) -> dict:
    """Maps each supported dtype to (MPI datatype, {ReduceOp: MPI op it may use})."""
    table = {}
    for dtype in SUPPORTED_DTYPES:
        names = _MPI_BOOL_OPS if dtype.kind == "b" else _MPI_OPS
        ops = {op: getattr(MPI, names[op]) for op in REDUCE_OPS[dtype.kind]}
        table[dtype] = (getattr(MPI, _MPI_DATATYPES[dtype.name]), ops)
    return table


class MPIComm(Communicator):
    """A :class:`Communicator` over a private duplicate of ``MPI.COMM_WORLD``.

    The duplicate keeps distgrad's messages apart from any the program sends itself. With
    more than one process, constructing it installs the abort-on-exception hooks
    described in :func:`install_abort_hooks`.
    """

    def __init__(self):
        from mpi4py import MPI

        self._comm = MPI.COMM_WORLD.Dup()
        self.rank = self._comm.Get_rank()
        self.size = self._comm.Get_size()
        self._types = _type_table(MPI)
        self._in_place = MPI.IN_PLACE
        self._testall = MPI.Request.Testall
        self._pending = []  # requests that progress() pokes until all have completed
        comm = self._comm
        self._Allreduce, self._Iallreduce = comm.Allreduce, comm.Iallreduce
        self._Bcast, self._Ibcast = comm.Bcast, comm.Ibcast
        self._Allgather, self._Iallgather = comm.Allgather, comm.Iallgather
        self._Reduce_scatter_block = comm.Reduce_scatter_block
        self._Ireduce_scatter_block = comm.Ireduce_scatter_block
        if self.size > 1:
            install_abort_hooks(self.rank, MPI.COMM_WORLD)

    def _datatype(self, dtype):
        try:
            return self._types[dtype][0]
        except KeyError:
            pass
        raise dtype_error(dtype)

    def _reduction(self, dtype, op):
        """Returns (MPI datatype, MPI op) for reducing ``dtype`` arrays with ``op``."""
        try:
            datatype, ops = self._types[dtype]
            return datatype, ops[op]
        except KeyError:
            pass
        raise reduce_error(dtype, op)

    def _started(self, request, buffers, callback=None) -> Work:
        self.progress()  # also drops requests already completed, so the list stays short
        self._pending.append(request)
        return Work(request, buffers, callback)

    def _averager(self, op, buf):
        return partial(np.divide, buf, self.size, out=buf) if op == _AVG else None

    def allreduce(self, buf, op=ReduceOp.SUM):
        datatype, mpi_op = self._reduction(buf.dtype, op)
        self._Allreduce(self._in_place, [buf, datatype], mpi_op)
        if op == _AVG:
            buf /= self.size

    def iallreduce(self, buf, op=ReduceOp.SUM):
        datatype, mpi_op = self._reduction(buf.dtype, op)
        request = self._Iallreduce(self._in_place, [buf, datatype], mpi_op)
        return self._started(request, (buf,), self._averager(op, buf))

    def bcast(self, buf, root):
        self._Bcast([buf, self._datatype(buf.dtype)], root)

    def ibcast(self, buf, root):
        request = self._Ibcast([buf, self._datatype(buf.dtype)], root)
        return self._started(request, (buf,))

    def allgather(self, send, recv):
        datatype = self._datatype(send.dtype)
        self._Allgather([send, datatype], [recv, datatype])

    def iallgather(self, send, recv):
        datatype = self._datatype(send.dtype)
        request = self._Iallgather([send, datatype], [recv, datatype])
        return self._started(request, (send, recv))

    def reduce_scatter(self, send, recv, op=ReduceOp.SUM):
        datatype, mpi_op = self._reduction(send.dtype, op)
        self._Reduce_scatter_block([send, datatype], [recv, datatype], mpi_op)
        if op == _AVG:
            recv /= self.size

    def ireduce_scatter(self, send, recv, op=ReduceOp.SUM):
        datatype, mpi_op = self._reduction(send.dtype, op)
        request = self._Ireduce_scatter_block([send, datatype], [recv, datatype], mpi_op)
        return self._started(request, (send, recv), self._averager(op, recv))

    def barrier(self):
        self._comm.Barrier()

    def ibarrier(self):
        return self._started(self._comm.Ibarrier(), ())

    def allgather_obj(self, obj):
        return self._comm.allgather(obj)

    def bcast_obj(self, obj, root):
        return self._comm.bcast(obj, root)

    def progress(self):
        # Without an asynchronous progress thread MPI advances a nonblocking operation only
        # inside MPI calls; testing the outstanding requests is such a call. Completed
        # requests become MPI.REQUEST_NULL, which a later Work.wait() returns from at once.
        if self._pending and self._testall(self._pending):
            self._pending.clear()

    def free(self):
        for request in self._pending:
            request.Wait()
        self._pending.clear()
        self._comm.Free()


_hooks_installed = False


def install_abort_hooks(rank: int, world) -> None:
    """Makes an uncaught exception on this rank end the whole MPI job at once.

    Without this, a rank that dies leaves the others blocked in their next collective until
    someone kills the job. ``sys.excepthook`` and ``threading.excepthook`` are replaced by
    hooks that print the traceback with every line prefixed by ``[rank N]``, run the hook
    they replaced if it was not Python's default, and call ``world.Abort(1)``. Installing
    twice is a no-op.
    """
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous_excepthook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(exc_type, exc, tb):
        try:
            _report(rank, exc_type, exc, tb, "")
            if previous_excepthook is not sys.__excepthook__:
                previous_excepthook(exc_type, exc, tb)
        finally:
            world.Abort(1)

    def thread_excepthook(args):
        if args.exc_type is SystemExit:  # a thread's sys.exit() ends only that thread
            return previous_thread_hook(args)
        try:
            name = args.thread.name if args.thread is not None else "a thread"
            _report(rank, args.exc_type, args.exc_value, args.exc_traceback, f" in {name}")
            if previous_thread_hook is not threading.__excepthook__:
                previous_thread_hook(args)
        finally:
            world.Abort(1)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


def _report(rank, exc_type, exc, tb, where):
    prefix = f"[rank {rank}] "
    lines = traceback.format_exception(exc_type, exc, tb)
    text = "".join(lines).splitlines(keepends=True)
    # One write, then a moment before MPI_Abort: mpiexec forwards each rank's stderr through
    # a pipe, and an abort that comes at once can cut off what it has not read yet.
    sys.stderr.write(
        "".join(prefix + line for line in text)
        + f"{prefix}distgrad: uncaught {exc_type.__name__}{where}; aborting all ranks of the job\n"
    )
    sys.stderr.flush()
    time.sleep(0.05)
