"""distgrad.distributed in a world of one process: SingleProcessComm, the public API,
and how init_process_group picks a communicator. Multi-rank behaviour is in tests/mpi."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import distgrad
import distgrad.distributed as dist
from distgrad.distributed._comm import SingleProcessComm, Work

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER_VARS = (
    "PMI_RANK",
    "PMI_SIZE",
    "PMIX_RANK",
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_COMM_WORLD_RANK",
    "MV2_COMM_WORLD_SIZE",
    "MV2_COMM_WORLD_RANK",
    "DISTGRAD_FORCE_MPI",
    "DISTGRAD_DEBUG",
)


@pytest.fixture
def clean_env(monkeypatch):
    for var in LAUNCHER_VARS:
        monkeypatch.delenv(var, raising=False)
    yield monkeypatch
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.fixture
def world(clean_env):
    dist.init_process_group()
    return dist


def run_python(code, **env):
    """Runs ``code`` in a fresh interpreter with distgrad importable and ``env`` added."""
    full_env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARS}
    full_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), full_env.get("PYTHONPATH", "")])
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )


# -- process group lifecycle ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        dist.get_rank,
        dist.get_world_size,
        dist.barrier,
        dist.destroy_process_group,
        lambda: dist.all_reduce(distgrad.tensor([1.0])),
        lambda: dist.broadcast(distgrad.tensor([1.0]), 0),
        lambda: dist.all_gather_object([None], 1),
    ],
)
def test_calls_before_init_raise(clean_env, call):
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        call()


def test_world_of_one(world):
    assert dist.is_available() and dist.is_initialized()
    assert dist.get_rank() == 0 and dist.get_world_size() == 1
    assert isinstance(dist._get_default_comm(), SingleProcessComm)


def test_init_twice_raises(world):
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group()


def test_destroy_then_init_again(world):
    dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.init_process_group(backend="gloo")
    assert dist.get_world_size() == 1


def test_init_rejects_unknown_backend_and_wrong_world(clean_env):
    with pytest.raises(ValueError, match="nccl"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="world_size=2"):
        dist.init_process_group(world_size=2)
    assert not dist.is_initialized()
    dist.init_process_group(world_size=1, rank=0)


def test_group_other_than_default_is_refused(world):
    with pytest.raises(NotImplementedError, match="group=None"):
        dist.all_reduce(distgrad.tensor([1.0]), group=object())


def test_import_never_loads_mpi4py():
    result = run_python(
        "import sys, distgrad, distgrad.distributed as dist, distgrad.launcher\n"
        "from distgrad.nn.parallel import _bucketing\n"
        "dist.init_process_group()\n"
        "dist.all_reduce(distgrad.tensor([1.0]))\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n"
    )
    assert result.returncode == 0, result.stderr


# -- choosing the communicator ---------------------------------------------------------------


def block_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` fail


@pytest.mark.parametrize(
    "var, value", [("PMI_SIZE", "2"), ("PMIX_RANK", "0"), ("DISTGRAD_FORCE_MPI", "1")]
)
def test_launcher_without_mpi4py_says_how_to_install(clean_env, var, value):
    block_mpi4py(clean_env)
    clean_env.setenv(var, value)
    with pytest.raises(RuntimeError, match="pip install mpi4py mpich"):
        dist.init_process_group()
    assert not dist.is_initialized()


def test_launcher_world_of_one_without_mpi4py_is_single_process(clean_env):
    block_mpi4py(clean_env)
    clean_env.setenv("PMI_SIZE", "1")
    dist.init_process_group()
    assert isinstance(dist._get_default_comm(), SingleProcessComm)


def test_force_mpi_uses_mpi_comm():
    result = run_python(
        "import numpy as np, distgrad.distributed as dist\n"
        "dist.init_process_group()\n"
        "a = np.array([2.0, 4.0], np.float32)\n"
        "dist.all_reduce(a, dist.ReduceOp.AVG)\n"
        "print(type(dist._get_default_comm()).__name__, dist.get_world_size(), a.tolist())\n"
        "dist.destroy_process_group()\n",
        DISTGRAD_FORCE_MPI="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["MPIComm", "1", "[2.0,", "4.0]"]


def test_launcher_and_mpi_disagreeing_on_world_size_is_explained():
    # MPICH ignores Open MPI's variables, so MPI sees a world of one where 2 were announced.
    result = run_python(
        "import distgrad.distributed as dist\ndist.init_process_group()\n",
        OMPI_COMM_WORLD_SIZE="2",
    )
    assert result.returncode != 0
    assert "MPI reports a world of 1" in result.stderr


# -- collectives on a world of one -------------------------------------------------------------


@pytest.mark.parametrize("op", list(dist.ReduceOp))
def test_all_reduce_keeps_values_and_bumps_version(world, op):
    t = distgrad.tensor([1.5, -2.0, 3.0])
    version = t._version
    assert dist.all_reduce(t, op=op) is None
    np.testing.assert_array_equal(t._data, [1.5, -2.0, 3.0])
    assert t._version == version + 1


def test_all_reduce_accepts_ndarray_and_non_contiguous(world):
    a = np.arange(6.0).reshape(2, 3).T
    dist.all_reduce(a, op=dist.ReduceOp.AVG)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3).T)
    t = distgrad.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2])
    dist.all_reduce(t)
    np.testing.assert_array_equal(t._data, [[0, 2], [4, 6], [8, 10]])
    assert t._version == 1


def test_all_reduce_async_returns_work(world):
    t = distgrad.tensor([1.0, 2.0])
    work = dist.all_reduce(t, op=dist.ReduceOp.SUM, async_op=True)
    assert isinstance(work, Work)
    assert work.is_completed()
    assert work.wait() is True
    assert t._version == 1


@pytest.mark.parametrize(
    "dtype, op, error, match",
    [
        (np.int64, dist.ReduceOp.AVG, TypeError, "AVG is not supported for int64"),
        (np.bool_, dist.ReduceOp.AVG, TypeError, "AVG is not supported for bool"),
        (np.float16, dist.ReduceOp.SUM, TypeError, "float16"),
        (np.float32, "sum", ValueError, "must be a distgrad.distributed.ReduceOp"),
    ],
)
def test_all_reduce_rejects_bad_dtype_or_op(world, dtype, op, error, match):
    with pytest.raises(error, match=match):
        dist.all_reduce(np.zeros(3, dtype), op=op)


def test_broadcast(world):
    t = distgrad.tensor([[1.0, 2.0]])
    dist.broadcast(t, src=0)
    np.testing.assert_array_equal(t._data, [[1.0, 2.0]])
    dist.broadcast(t, 0, async_op=True).wait()
    with pytest.raises(ValueError, match="src=1"):
        dist.broadcast(t, src=1)


def test_all_gather(world):
    out = [distgrad.tensor([0.0, 0.0])]
    dist.all_gather(out, distgrad.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out[0]._data, [3.0, 4.0])
    assert out[0]._version == 1
    out = [distgrad.tensor([0.0, 0.0])]
    dist.all_gather(out, distgrad.tensor([5.0, 6.0]), async_op=True).wait()
    np.testing.assert_array_equal(out[0]._data, [5.0, 6.0])


def test_all_gather_rejects_wrong_list(world):
    x = distgrad.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="tensor_list has 2 tensors, expected world_size=1"):
        dist.all_gather([distgrad.tensor([0.0, 0.0])] * 2, x)
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([distgrad.tensor([0.0, 0.0, 0.0])], x)
    with pytest.raises(ValueError, match="dtype float64"):
        dist.all_gather([distgrad.tensor(np.zeros(2))], x)


def test_reduce_scatter(world):
    out = distgrad.tensor([0.0, 0.0])
    dist.reduce_scatter(out, [distgrad.tensor([7.0, 8.0])], op=dist.ReduceOp.MAX)
    np.testing.assert_array_equal(out._data, [7.0, 8.0])
    with pytest.raises(ValueError, match="input_list has 0 tensors"):
        dist.reduce_scatter(out, [])


def test_barrier(world):
    assert dist.barrier() is None
    assert dist.barrier(async_op=True).wait()


def test_object_collectives(world):
    objs = [None]
    dist.all_gather_object(objs, {"rank": 0, "shapes": [(2, 3)]})
    assert objs == [{"rank": 0, "shapes": [(2, 3)]}]
    with pytest.raises(ValueError, match="object_list has 2 entries"):
        dist.all_gather_object([None, None], 1)
    objs = ["a", 1]
    dist.broadcast_object_list(objs, src=0)
    assert objs == ["a", 1]
    with pytest.raises(TypeError, match="pickle"):
        dist.all_gather_object([None], threading.Lock())


# -- the communicator and Work ---------------------------------------------------------------


def test_single_process_comm_buffers():
    comm = SingleProcessComm()
    recv = np.zeros((1, 3), np.int32)
    comm.allgather(np.array([1, 2, 3], np.int32), recv)
    np.testing.assert_array_equal(recv, [[1, 2, 3]])
    recv = np.zeros(3)
    comm.reduce_scatter(np.array([4.0, 5.0, 6.0]), recv, dist.ReduceOp.MIN)
    np.testing.assert_array_equal(recv, [4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match="root rank 2"):
        comm.bcast(recv, 2)
    assert comm.allgather_obj([1]) == [[1]] and comm.bcast_obj("x", 0) == "x"
    comm.progress()
    assert comm.iallreduce(recv).wait()


def test_work_runs_callbacks_once_in_order():
    class Request:
        done = False

        def Test(self):
            return self.done

        def Wait(self):
            self.done = True

    calls = []
    request = Request()
    work = Work(request, (np.zeros(1),), lambda: calls.append("first"))
    work._then(lambda: calls.append("second"))
    assert not work.is_completed() and calls == []
    request.done = True
    assert work.is_completed() and calls == ["first", "second"]
    assert work.wait() and calls == ["first", "second"]
    assert work._buffers == () and work._request is None
