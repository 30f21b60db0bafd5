"""Collective communication between the processes of a data-parallel job.

The names and semantics follow ``torch.distributed``. Processes are started by an MPI
launcher (``mpiexec``, ``srun``, or ``distgrad-run``); :func:`init_process_group` then
joins them through mpi4py. Run without a launcher, the job is a world of one process and
MPI is never imported.

Collectives accept distgrad tensors (and plain NumPy arrays) and must be called by every
rank in the same order with tensors of the same shape and dtype. Arguments that are wrong
on one rank (a ``tensor_list`` of the wrong length, an unsupported dtype, ``AVG`` on an
integer tensor) raise before any communication. Mismatches *between* ranks cannot be seen
without communicating, so checking them is opt-in: with ``DISTGRAD_DEBUG=1`` in the
environment at :func:`init_process_group`, every tensor collective first exchanges each
rank's shapes, dtypes and arguments, and raises ``RuntimeError`` on every rank, listing
them, if they disagree. This costs one extra small message per call.

Example::

    >>> # mpiexec -n 2 python train.py
    >>> import distgrad
    >>> import distgrad.distributed as dist
    >>> dist.init_process_group()
    >>> t = distgrad.tensor([float(dist.get_rank() + 1)])
    >>> dist.all_reduce(t)  # t is tensor([3.]) on both ranks
"""

from __future__ import annotations

import importlib.util
import os
from functools import partial

import numpy as np

from ._comm import Communicator, ReduceOp, SingleProcessComm, Work, check_dtype
from .metrics import MetricSums, all_reduce_sums

__all__ = [
    "MetricSums",
    "ReduceOp",
    "all_reduce_sums",
    "Work",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "reduce_scatter",
]

_default_comm: Communicator | None = None
_debug = False

_NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)
# Set by MPI launchers in each process they start. The first names a world size.
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_LAUNCHER_RANK_VARS = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")


def is_available() -> bool:
    """Returns ``True``: distgrad's distributed package is always usable, as a world of one
    process when no MPI is present."""
    return True


def is_mpi_available() -> bool:
    """Returns whether mpi4py is installed, without importing it."""
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    """Returns whether the default process group has been initialized."""
    return _default_comm is not None


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout=None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Initializes the default process group, joining every process of the job.

    Under an MPI launcher (detected from the variables that ``mpiexec``/``mpirun``/``srun``
    set, such as ``PMI_SIZE`` or ``OMPI_COMM_WORLD_SIZE``), or when ``DISTGRAD_FORCE_MPI=1``,
    the group is every process of ``MPI.COMM_WORLD``; otherwise it is a world of one.
    This is a collective call under MPI: every process must make it.

    With more than one process, an uncaught exception on any rank (in the main thread or
    any other) prints that rank's traceback, each line prefixed ``[rank N]``, and aborts
    the whole job with a non-zero exit, instead of leaving the other ranks blocked in a
    collective. This is done by replacing ``sys.excepthook`` and ``threading.excepthook``.

    Args:
        backend (str, optional): ``"mpi"``. ``"gloo"`` is accepted as an alias, so CPU
            scripts written for PyTorch run unchanged; communication always uses MPI.
        init_method (str, optional): ignored; the MPI launcher does the rendezvous.
        timeout (optional): ignored; MPI collectives have no timeout.
        world_size (int, optional): if given, must equal the launcher's number of processes.
        rank (int, optional): if given, must equal the rank the launcher gave this process.

    Raises:
        RuntimeError: if called twice, or under a launcher whose world MPI does not see
            (mpi4py missing, or built against a different MPI than the launcher's).
    """
    global _default_comm, _debug
    if _default_comm is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() not in ("mpi", "gloo"):
        raise ValueError(f"unsupported backend {backend!r}: distgrad communicates over 'mpi'")
    comm = _make_comm()
    for name, given, actual in (("world_size", world_size, comm.size), ("rank", rank, comm.rank)):
        if given not in (-1, None) and given != actual:
            comm.free()
            raise ValueError(f"{name}={given} was given, but the MPI launcher made it {actual}")
    _debug = os.environ.get("DISTGRAD_DEBUG", "0") not in ("", "0")
    _default_comm = comm


def _launcher_world_size() -> int | None:
    """The world size an MPI launcher announced: ``None`` outside a launcher, ``-1`` if the
    launcher gives a rank but no size."""
    env = os.environ
    for var in _LAUNCHER_SIZE_VARS:
        if var in env:
            return int(env[var])
    return -1 if any(var in env for var in _LAUNCHER_RANK_VARS) else None


def _make_comm() -> Communicator:
    launched_size = _launcher_world_size()
    forced = os.environ.get("DISTGRAD_FORCE_MPI") == "1"
    if launched_size is None and not forced:
        return SingleProcessComm()
    try:
        from ._mpi_comm import MPIComm

        comm = MPIComm()
    except ImportError as exc:
        if launched_size == 1 and not forced:
            return SingleProcessComm()
        why = "DISTGRAD_FORCE_MPI=1 is set" if forced else "an MPI launcher started this process"
        raise RuntimeError(
            f"distgrad.distributed needs mpi4py because {why}, but importing it failed: "
            f"{exc}. Install it with `pip install mpi4py mpich`, or "
            "on a cluster build it against the site's MPI: "
            "`pip install --no-binary mpi4py mpi4py`."
        ) from exc
    if launched_size not in (None, -1) and comm.size != launched_size:
        size = comm.size
        comm.free()
        raise RuntimeError(
            f"the MPI launcher started {launched_size} processes, but MPI reports a world of "
            f"{size}: mpiexec and the MPI library mpi4py was built against are different "
            "MPIs. Use the mpiexec that matches mpi4py (distgrad-run finds it), or rebuild "
            "mpi4py against your MPI with `pip install --no-binary mpi4py mpi4py`."
        )
    return comm


def destroy_process_group(group=None) -> None:
    """Releases the default process group; :func:`init_process_group` may then be called
    again. A collective call under MPI."""
    global _default_comm
    _get_default_comm(group).free()
    _default_comm = None


def _get_default_comm(group=None) -> Communicator:
    """The default group's :class:`Communicator`, for other distgrad modules such as DDP."""
    if _default_comm is None:
        raise RuntimeError(_NOT_INITIALIZED)
    if group is not None:
        raise NotImplementedError("distgrad supports only the default process group (group=None)")
    return _default_comm


def get_rank(group=None) -> int:
    """Returns the rank of this process, from ``0`` to ``get_world_size() - 1``."""
    return _get_default_comm(group).rank


def get_world_size(group=None) -> int:
    """Returns the number of processes in the default process group."""
    return _get_default_comm(group).size


def barrier(group=None, async_op: bool = False, device_ids=None) -> Work | None:
    """Blocks until every process has entered this call (or, with ``async_op=True``,
    returns a :class:`Work` whose ``wait()`` does)."""
    comm = _get_default_comm(group)
    if async_op:
        return comm.ibarrier()
    comm.barrier()
    return None


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduces ``tensor`` across all processes, in place, so every process ends with the
    result.

    Args:
        tensor (Tensor): input and output of the collective; same shape and dtype on every
            rank. A non-contiguous tensor is reduced through a contiguous copy.
        op (ReduceOp, optional): ``SUM`` (default), ``AVG``, ``MAX`` or ``MIN``.
        group: must be ``None`` (the default group).
        async_op (bool, optional): if ``True``, return a :class:`Work` handle at once; the
            tensor must not be used until its ``wait()`` returns.

    Returns:
        A :class:`Work` handle if ``async_op`` is set, else ``None``.

    Example::

        >>> t = distgrad.tensor([1.0, 2.0]) * (dist.get_rank() + 1)
        >>> dist.all_reduce(t, op=dist.ReduceOp.AVG)
        >>> t  # tensor([1.5000, 3.0000]) on both ranks of a world of two
    """
    comm = _default_comm
    if comm is None or group is not None:
        _get_default_comm(group)
    data = getattr(tensor, "_data", tensor)
    if _debug:
        _check_across_ranks(comm, "all_reduce", [data], op=op)
    if not async_op and data.flags.c_contiguous:
        comm.allreduce(data, op)
        if data is not tensor:
            tensor._bump_version()
        return None
    buf = _contiguous(data)
    work = comm.iallreduce(buf, op) if async_op else comm.allreduce(buf, op)
    return _finish(work, [(tensor, data, buf)])


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Copies ``tensor`` from process ``src`` into ``tensor`` on every other process.

    Args:
        tensor (Tensor): the data to send on ``src``, overwritten everywhere else; same
            shape and dtype on every rank.
        src (int): the rank to broadcast from.
        group: must be ``None`` (the default group).
        async_op (bool, optional): if ``True``, return a :class:`Work` handle at once.

    Returns:
        A :class:`Work` handle if ``async_op`` is set, else ``None``.
    """
    comm = _get_default_comm(group)
    if not 0 <= src < comm.size:
        raise ValueError(f"src={src} is not a rank of a world of size {comm.size}")
    data = getattr(tensor, "_data", tensor)
    if _debug:
        _check_across_ranks(comm, "broadcast", [data], src=src)
    buf = _contiguous(data)
    work = comm.ibcast(buf, src) if async_op else comm.bcast(buf, src)
    return _finish(work, [(tensor, data, buf)] if comm.rank != src else [])


def all_gather(tensor_list: list, tensor, group=None, async_op: bool = False):
    """Gathers ``tensor`` from every process into ``tensor_list``, on every process.

    Args:
        tensor_list (list[Tensor]): ``world_size`` tensors of ``tensor``'s shape and dtype;
            ``tensor_list[i]`` receives rank ``i``'s tensor.
        tensor (Tensor): this process's contribution; same shape and dtype on every rank.
        group: must be ``None`` (the default group).
        async_op (bool, optional): if ``True``, return a :class:`Work` handle at once.

    Returns:
        A :class:`Work` handle if ``async_op`` is set, else ``None``.

    Example::

        >>> out = [distgrad.zeros(2) for _ in range(dist.get_world_size())]
        >>> dist.all_gather(out, distgrad.ones(2) * dist.get_rank())
        >>> out  # [tensor([0., 0.]), tensor([1., 1.])] on both ranks of a world of two
    """
    comm = _get_default_comm(group)
    data = getattr(tensor, "_data", tensor)
    if _debug:
        _check_across_ranks(comm, "all_gather", [data], list_length=len(tensor_list))
    outs = _check_list("all_gather", "tensor_list", tensor_list, data, comm.size)
    recv = np.empty((comm.size, *data.shape), data.dtype)
    send = _contiguous(data)
    work = comm.iallgather(send, recv) if async_op else comm.allgather(send, recv)
    pairs = enumerate(zip(tensor_list, outs, strict=True))
    return _finish(work, [(t, out, recv[i]) for i, (t, out) in pairs])


def reduce_scatter(
    output, input_list: list, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False
):
    """Reduces ``input_list`` element-wise across processes and leaves entry ``rank`` of
    the result in ``output`` on each process.

    Args:
        output (Tensor): receives this rank's block of the reduction.
        input_list (list[Tensor]): ``world_size`` tensors of ``output``'s shape and dtype;
            ``input_list[i]`` is this rank's contribution to rank ``i``'s output.
        op (ReduceOp, optional): ``SUM`` (default), ``AVG``, ``MAX`` or ``MIN``.
        group: must be ``None`` (the default group).
        async_op (bool, optional): if ``True``, return a :class:`Work` handle at once.

    Returns:
        A :class:`Work` handle if ``async_op`` is set, else ``None``.
    """
    comm = _get_default_comm(group)
    data = getattr(output, "_data", output)
    if _debug:
        _check_across_ranks(comm, "reduce_scatter", [data], op=op, list_length=len(input_list))
    ins = _check_list("reduce_scatter", "input_list", input_list, data, comm.size)
    send = np.empty((comm.size, *data.shape), data.dtype)
    for i, inp in enumerate(ins):
        send[i] = inp
    recv = _contiguous(data)
    if async_op:
        work = comm.ireduce_scatter(send, recv, op)
    else:
        work = comm.reduce_scatter(send, recv, op)
    return _finish(work, [(output, data, recv)])


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Gathers a picklable object from every process into ``object_list``.

    ``object_list`` must have ``world_size`` entries; entry ``i`` is replaced by rank ``i``'s
    ``obj``. Objects are pickled: use this for small metadata, never for tensor data.
    """
    comm = _get_default_comm(group)
    if len(object_list) != comm.size:
        raise ValueError(
            f"all_gather_object: object_list has {len(object_list)} entries, "
            f"expected world_size={comm.size}"
        )
    object_list[:] = comm.allgather_obj(obj)


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replaces the entries of ``object_list`` on every process by those on process ``src``.

    Every rank must pass a list of the same length. Objects are pickled: use this for small
    metadata, never for tensor data.
    """
    comm = _get_default_comm(group)
    if not 0 <= src < comm.size:
        raise ValueError(f"src={src} is not a rank of a world of size {comm.size}")
    received = comm.bcast_obj(list(object_list), src)
    if len(received) != len(object_list):
        raise ValueError(
            f"broadcast_object_list: rank {src} sent {len(received)} objects, but this "
            f"rank's object_list has {len(object_list)} entries"
        )
    object_list[:] = received


def _contiguous(data: np.ndarray) -> np.ndarray:
    # Not np.ascontiguousarray, which turns a 0-d array into a 1-d copy.
    return data if data.flags.c_contiguous else data.copy(order="C")


def _finish(work: Work | None, outputs: list):
    """Writes results from contiguous stand-ins back into their tensors and bumps the
    tensors' versions: now for a blocking call (``work`` is ``None``), else at ``wait()``."""
    if work is None:
        _write_back(outputs)
        return None
    return work._then(partial(_write_back, outputs))


def _write_back(outputs):
    for tensor, data, buf in outputs:
        if buf is not data:
            data[...] = buf
        if tensor is not data:
            tensor._bump_version()


def _check_list(name, arg, tensors, data, size) -> list:
    """Validates a per-rank list of tensors against ``data``; returns their arrays."""
    check_dtype(data.dtype)
    if len(tensors) != size:
        raise ValueError(f"{name}: {arg} has {len(tensors)} tensors, expected world_size={size}")
    arrays = [getattr(t, "_data", t) for t in tensors]
    for i, a in enumerate(arrays):
        if a.shape != data.shape or a.dtype != data.dtype:
            raise ValueError(
                f"{name}: {arg}[{i}] has shape {tuple(a.shape)} and dtype {a.dtype}, but the "
                f"tensor has shape {tuple(data.shape)} and dtype {data.dtype}; they must match"
            )
    return arrays


def _check_across_ranks(comm, name, arrays, **args):
    """The DISTGRAD_DEBUG check: raises on every rank if ranks disagree on the call."""
    args = {k: getattr(v, "name", v) for k, v in args.items()}  # ReduceOp.AVG -> "AVG"
    mine = (name, [(tuple(a.shape), str(a.dtype)) for a in arrays], sorted(args.items()))
    everyone = comm.allgather_obj(mine)
    if any(theirs != everyone[0] for theirs in everyone):
        lines = "\n".join(
            f"  rank {r}: {call} with tensors {shapes}" + "".join(f", {k}={v}" for k, v in kw)
            for r, (call, shapes, kw) in enumerate(everyone)
        )
        raise RuntimeError(
            f"{name}: ranks disagree on the collective's arguments (DISTGRAD_DEBUG check); "
            f"every rank must pass tensors of the same shape and dtype:\n{lines}"
        )
