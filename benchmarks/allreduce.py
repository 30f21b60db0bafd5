"""All-reduce latency and bandwidth: ``distgrad.distributed.all_reduce`` on a tensor against
raw mpi4py ``comm.Allreduce(MPI.IN_PLACE, buf)`` on an ndarray, interleaved in one job.

Run with::

    mpiexec -n 2 python benchmarks/allreduce.py [--max-mib 64]

For each size (1 KiB to 64 MiB by powers of 4, float32, SUM) it times batches of the two
calls in alternating order after a warm-up, takes each batch's time on the slowest rank,
and prints the median per-call time and the algorithmic bandwidth (bytes / time) on rank 0.
Targets: 1 KiB ratio <= 1.5; 4 MiB bandwidth >= 0.95 of mpi4py's.
"""

import argparse
import statistics
import time

import numpy as np
from mpi4py import MPI

import distgrad
import distgrad.distributed as dist

KiB, MiB = 1 << 10, 1 << 20


def batch_time(call, reps: int, comm) -> float:
    """Seconds per call over ``reps`` calls, as seen by the slowest rank."""
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(reps):
        call()
    elapsed = time.perf_counter() - start
    return comm.allreduce(elapsed, op=MPI.MAX) / reps


def measure(nbytes: int, comm) -> tuple[float, float]:
    """Median seconds per call for (mpi4py, distgrad) on ``nbytes`` of float32."""
    n = nbytes // 4
    raw = np.zeros(n, np.float32)  # zeros stay zeros under repeated in-place sums
    tensor = distgrad.zeros(n, dtype=distgrad.float32)
    in_place, op = MPI.IN_PLACE, MPI.SUM

    def mpi4py_call():
        comm.Allreduce(in_place, raw, op)

    def distgrad_call():
        dist.all_reduce(tensor)

    reps = min(1000, max(1, (16 * MiB) // nbytes))
    for call in (mpi4py_call, distgrad_call):  # warm-up
        batch_time(call, reps, comm)
    mpi4py_times, distgrad_times = [], []
    for i in range(31 if nbytes <= MiB else 11):
        order = [(mpi4py_call, mpi4py_times), (distgrad_call, distgrad_times)]
        for call, times in order if i % 2 else reversed(order):  # neither always goes first
            times.append(batch_time(call, reps, comm))
    assert not tensor._data.any() and not raw.any()
    return statistics.median(mpi4py_times), statistics.median(distgrad_times)


def human(nbytes: int) -> str:
    return f"{nbytes // MiB} MiB" if nbytes >= MiB else f"{nbytes // KiB} KiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-mib", type=int, default=64, help="largest size, in MiB")
    args = parser.parse_args()

    dist.init_process_group()
    comm = MPI.COMM_WORLD
    rows = []
    nbytes = KiB
    while nbytes <= args.max_mib * MiB:
        rows.append((nbytes, *measure(nbytes, comm)))
        nbytes *= 4
    if comm.rank == 0:
        print(f"all_reduce SUM float32, {comm.size} ranks, median per call")
        print(
            f"{'size':>8} {'mpi4py us':>11} {'distgrad us':>12} {'ratio':>6} "
            f"{'mpi4py GB/s':>12} {'distgrad GB/s':>14}"
        )
        for size, t_mpi, t_dg in rows:
            print(
                f"{human(size):>8} {t_mpi * 1e6:11.2f} {t_dg * 1e6:12.2f} {t_dg / t_mpi:6.2f} "
                f"{size / t_mpi / 1e9:12.3f} {size / t_dg / 1e9:14.3f}"
            )
        by_size = {size: (t_mpi, t_dg) for size, t_mpi, t_dg in rows}
        if KiB in by_size:
            t_mpi, t_dg = by_size[KiB]
            print(f"1 KiB latency ratio {t_dg / t_mpi:.2f} (target <= 1.5)")
        if 4 * MiB in by_size:
            t_mpi, t_dg = by_size[4 * MiB]
            print(f"4 MiB bandwidth, distgrad / mpi4py {t_mpi / t_dg:.2f} (target >= 0.95)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
