"""Collectives across ranks. Every rank runs every test; the bodies hold for any world size.

Run with ``mpiexec -n 3 python -m pytest --with-mpi tests/mpi`` (tests/test_mpi_suite.py
does so for 2 and 3 ranks). Each test checks its results only after its collectives, so a
failure on one rank cannot leave the others waiting.
"""

import numpy as np
import pytest

import distgrad
from distgrad.distributed import ReduceOp

pytestmark = pytest.mark.mpi

REDUCE = {
    ReduceOp.SUM: lambda a: a.sum(axis=0),
    ReduceOp.AVG: lambda a: a.mean(axis=0),
    ReduceOp.MAX: lambda a: a.max(axis=0),
    ReduceOp.MIN: lambda a: a.min(axis=0),
}


def contribution(rank, shape=(2, 3), dtype=np.float32):
    """What rank ``rank`` contributes: different on every rank, non-monotonic in rank."""
    base = np.arange(np.prod(shape)).reshape(shape)
    return ((base * (rank + 1)) % 7 - rank).astype(dtype)


def everyone(size, **kwargs):
    return np.stack([contribution(r, **kwargs) for r in range(size)])


def test_world_matches_mpi(world):
    from mpi4py import MPI

    from distgrad.distributed._mpi_comm import MPIComm

    assert world.get_world_size() == MPI.COMM_WORLD.Get_size()
    assert world.get_rank() == MPI.COMM_WORLD.Get_rank()
    assert isinstance(world._get_default_comm(), MPIComm)


INTEGER_OPS = (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN)
ALL_REDUCE_CASES = (
    [(op, dtype) for op in ReduceOp for dtype in (np.float32, np.float64)]
    + [(op, dtype) for op in INTEGER_OPS for dtype in (np.int32, np.int64)]
    + [(ReduceOp.MAX, np.uint8), (ReduceOp.MIN, np.uint8)]
    + [(ReduceOp.SUM, np.complex64), (ReduceOp.AVG, np.complex128)]
)


@pytest.mark.parametrize("op, dtype", ALL_REDUCE_CASES)
def test_all_reduce(world, op, dtype):
    rank, size = world.get_rank(), world.get_world_size()
    t = distgrad.tensor(contribution(rank, dtype=dtype))
    storage, version = t._data, t._version
    world.all_reduce(t, op=op)
    expected = REDUCE[op](everyone(size, dtype=dtype).astype(np.result_type(dtype, 1.0)))
    np.testing.assert_allclose(t._data, expected, rtol=1e-6)
    assert t._data is storage and t._data.dtype == dtype  # in place
    assert t._version == version + 1


@pytest.mark.parametrize(
    "op, combine", [(ReduceOp.SUM, np.any), (ReduceOp.MAX, np.any), (ReduceOp.MIN, np.all)]
)
def test_all_reduce_bool_is_logical(world, op, combine):
    rank, size = world.get_rank(), world.get_world_size()
    flags = np.array([rank == 0, True, False, rank % 2 == 1])
    world.all_reduce(flags, op=op)
    every = np.array([[r == 0, True, False, r % 2 == 1] for r in range(size)])
    np.testing.assert_array_equal(flags, combine(every, axis=0))


def test_bad_dtype_or_op_raises_on_every_rank(world):
    with pytest.raises(TypeError, match="AVG is not supported for int64"):
        world.all_reduce(distgrad.tensor([1, 2]), op=ReduceOp.AVG)
    with pytest.raises(TypeError, match="do not support dtype float16"):
        world.all_reduce(np.zeros(2, np.float16))
    with pytest.raises(TypeError, match="do not support dtype float16"):
        world.broadcast(np.zeros(2, np.float16), src=0)
    with pytest.raises(ValueError, match="must be a distgrad.distributed.ReduceOp"):
        world.all_reduce(np.zeros(2), op="max")
    world.barrier()  # and every rank is still in step


def test_all_reduce_non_contiguous_and_scalar(world):
    rank, size = world.get_rank(), world.get_world_size()
    base = np.full((3, 4), -1.0, np.float32)
    base[:, ::2] = rank + 1
    view = distgrad.from_numpy(base[:, ::2])
    scalar = distgrad.tensor(float(rank))
    world.all_reduce(view)
    world.all_reduce(scalar, op=ReduceOp.MAX)
    np.testing.assert_array_equal(base[:, ::2], np.full((3, 2), size * (size + 1) / 2))
    np.testing.assert_array_equal(base[:, 1::2], -1.0)  # untouched between the strides
    assert view._version == 1
    assert scalar._data.shape == () and float(scalar._data) == size - 1


def test_all_reduce_async(world):
    rank, size = world.get_rank(), world.get_world_size()
    tensors = [distgrad.tensor(contribution(rank, shape=(n,))) for n in (1, 1000, 70_000)]
    ops = [ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX]
    works = [world.all_reduce(t, op=op, async_op=True) for t, op in zip(tensors, ops, strict=True)]
    world._get_default_comm().progress()
    for work in reversed(works):
        assert work.wait() is True
        assert work.is_completed()
    for t, op in zip(tensors, ops, strict=True):
        expected = REDUCE[op](everyone(size, shape=t._data.shape, dtype=np.float64))
        np.testing.assert_allclose(t._data, expected, rtol=1e-6)
        assert t._version == 1


def test_is_completed_eventually_true(world):
    t = distgrad.tensor(np.ones(10, np.float32))
    work = world.all_reduce(t, op=ReduceOp.AVG, async_op=True)
    comm = world._get_default_comm()
    for _ in range(10_000_000):
        comm.progress()
        if work.is_completed():
            break
    assert work.is_completed()
    np.testing.assert_array_equal(t._data, 1.0)  # divided once the sum completed
    assert work.wait()


def test_broadcast_from_each_rank(world):
    rank, size = world.get_rank(), world.get_world_size()
    for src in range(size):
        t = distgrad.tensor(contribution(rank, shape=(5,), dtype=np.float64))
        strided = distgrad.from_numpy(np.array(contribution(rank, shape=(4, 2)))[:, 1])
        world.broadcast(t, src=src)
        world.broadcast(strided, src, async_op=True).wait()
        np.testing.assert_array_equal(t._data, contribution(src, shape=(5,)))
        np.testing.assert_array_equal(strided._data, contribution(src, shape=(4, 2))[:, 1])
        assert t._version == (0 if rank == src else 1)


@pytest.mark.parametrize("async_op", [False, True])
def test_all_gather(world, async_op):
    rank, size = world.get_rank(), world.get_world_size()
    out = [distgrad.zeros(2, 3) for _ in range(size)]
    work = world.all_gather(out, distgrad.tensor(contribution(rank)), async_op=async_op)
    if async_op:
        work.wait()
    for r in range(size):
        np.testing.assert_array_equal(out[r]._data, contribution(r))
        assert out[r]._version == 1


def test_all_gather_non_contiguous_input(world):
    rank, size = world.get_rank(), world.get_world_size()
    source = np.array(contribution(rank, shape=(3, 4)))
    out = [distgrad.zeros(4, 3) for _ in range(size)]
    world.all_gather(out, distgrad.from_numpy(source.T))
    for r in range(size):
        np.testing.assert_array_equal(out[r]._data, contribution(r, shape=(3, 4)).T)


@pytest.mark.parametrize("op", [ReduceOp.SUM, ReduceOp.AVG])
@pytest.mark.parametrize("async_op", [False, True])
def test_reduce_scatter(world, op, async_op):
    rank, size = world.get_rank(), world.get_world_size()
    inputs = [distgrad.tensor(np.full(4, 10.0 * i + rank)) for i in range(size)]
    out = distgrad.zeros(4, dtype=distgrad.float64)
    work = world.reduce_scatter(out, inputs, op=op, async_op=async_op)
    if async_op:
        work.wait()
    total = size * 10.0 * rank + size * (size - 1) / 2
    np.testing.assert_allclose(out._data, total / size if op is ReduceOp.AVG else total)
    assert out._version == 1


def test_object_collectives(world):
    rank, size = world.get_rank(), world.get_world_size()
    gathered = [None] * size
    world.all_gather_object(gathered, {"rank": rank, "shape": (rank, 2)})
    assert gathered == [{"rank": r, "shape": (r, 2)} for r in range(size)]
    objs = [rank, f"from {rank}"]
    world.broadcast_object_list(objs, src=size - 1)
    assert objs == [size - 1, f"from {size - 1}"]


def test_barrier(world):
    world.barrier()
    assert world.barrier(async_op=True).wait()


def test_wrong_length_tensor_list_raises_before_communicating(world):
    size = world.get_world_size()
    x = distgrad.zeros(2)
    with pytest.raises(ValueError, match=f"expected world_size={size}"):
        world.all_gather([distgrad.zeros(2)] * (size + 1), x)
    with pytest.raises(ValueError, match=f"input_list has {size - 1} tensors"):
        world.reduce_scatter(x, [distgrad.zeros(2)] * (size - 1))
    world.all_reduce(x)  # every rank is still in step


@pytest.mark.mpi(min_size=2)
def test_debug_check_names_ranks_and_shapes(debug_world):
    rank, size = debug_world.get_rank(), debug_world.get_world_size()
    with pytest.raises(RuntimeError, match="ranks disagree") as exc:
        debug_world.all_reduce(distgrad.zeros(rank + 1))
    for r in range(size):
        assert f"rank {r}: all_reduce with tensors [(({r + 1},), 'float32')]" in str(exc.value)

    dtype = distgrad.float32 if rank == 0 else distgrad.float64
    with pytest.raises(RuntimeError, match="'float64'"):
        debug_world.all_gather(
            [distgrad.zeros(2, dtype=dtype)] * size, distgrad.zeros(2, dtype=dtype)
        )
    with pytest.raises(RuntimeError, match=f"list_length={size + 1}"):
        debug_world.all_gather([distgrad.zeros(2)] * (size + (rank == 0)), distgrad.zeros(2))
    with pytest.raises(RuntimeError, match="src=0"):
        debug_world.broadcast(distgrad.zeros(2), src=min(rank, 1))
    with pytest.raises(RuntimeError, match="op=AVG"):
        debug_world.all_reduce(distgrad.zeros(2), op=ReduceOp.AVG if rank else ReduceOp.SUM)

    t = distgrad.tensor([float(rank)])  # agreeing calls still go through
    debug_world.all_reduce(t)
    assert float(t._data[0]) == size * (size - 1) / 2
