"""Data-parallel training throughput: ``DistributedDataParallel`` against a hand-written
NumPy + MPI loop that does the same maths with one blocking all-reduce after backward.

The model is the MLP 784-512-512-10 (``nn.Linear`` + ``nn.ReLU``, ``nn.CrossEntropyLoss``,
``optim.SGD(lr=0.01, momentum=0.9)``) in float32, on a global batch of 256 split evenly
among the ranks, with one BLAS thread per rank. Run it as::

    distgrad-run -n 2 benchmarks/ddp_throughput.py     # one job: both loops, interleaved
    distgrad-run -n 1 benchmarks/ddp_throughput.py
    python benchmarks/ddp_throughput.py --driver       # runs -n 1 and -n 2, prints scaling

A third loop, the same distgrad step with no DDP and no communication (each rank trains
alone on its shard), is the ceiling: it shows how well the computation itself scales when
the ranks share the machine's cores, caches and memory bandwidth.

The loops run in the same job, in alternating timed blocks of steps, and each block's
time is the slowest rank's; the median block is reported. For each loop it prints
samples/s and the exposed communication share: for DDP, the time backward spends waiting
for all-reduces after its last gradient (``communication_stats["wait_s"]``) over the step
time; for the hand-written loop, its ``Allreduce`` time over the step time. The driver
prints scaling efficiency = throughput(2 ranks) / (2 * throughput(1 rank)); the target
for DDP is >= 0.85. ``--bucket-cap-mb`` and ``--gradient-as-bucket-view`` try DDP's options.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread per rank, set before NumPy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import distgrad  # noqa: E402
import distgrad.distributed as dist  # noqa: E402
import distgrad.nn as nn  # noqa: E402
import distgrad.optim as optim  # noqa: E402
from distgrad.nn.parallel import DistributedDataParallel  # noqa: E402

SIZES = (784, 512, 512, 10)
GLOBAL_BATCH, LR, MOMENTUM = 256, 0.01, 0.9
DDP, HAND, LOCAL = "distgrad DDP", "NumPy + blocking Allreduce", "distgrad, no communication"


class DistgradLoop:
    """The distgrad training step: MLP, cross-entropy, SGD with momentum; DDP-wrapped unless
    ``ddp_options`` is None (then each rank trains alone: the ceiling of data parallelism)."""

    def __init__(self, x, y, ddp_options=None):
        distgrad.manual_seed(0)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(SIZES) - 2 else [])
        self.model = nn.Sequential(*layers)
        self.ddp = ddp_options is not None
        if self.ddp:
            self.model = DistributedDataParallel(self.model, **ddp_options)
        self.set_to_none = not (ddp_options or {}).get("gradient_as_bucket_view", False)
        self.optimizer = optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.loss_fn = nn.CrossEntropyLoss()
        self.x, self.y = distgrad.from_numpy(x), distgrad.from_numpy(y)
        self.comm_s = 0.0

    def step(self):
        self.optimizer.zero_grad(set_to_none=self.set_to_none)
        self.loss_fn(self.model(self.x), self.y).backward()
        self.optimizer.step()
        if self.ddp:
            self.comm_s += self.model.communication_stats["wait_s"]


class HandLoop:
    """The same maths written out in NumPy: parameters, gradients and momentum live in flat
    float32 arrays, and the gradient is averaged by one blocking ``Allreduce`` after
    backward."""

    def __init__(self, x, y, comm, initial):
        from mpi4py import MPI

        self.comm, self.in_place, self.sum = comm, MPI.IN_PLACE, MPI.SUM
        self.x, self.y = x, y
        shapes = [shape for n_in, n_out in zip(SIZES[:-1], SIZES[1:])
                  for shape in ((n_out, n_in), (n_out,))]
        total = sum(int(np.prod(s)) for s in shapes)
        self.flat_params = np.empty(total, np.float32)
        self.flat_grads = np.zeros(total, np.float32)
        self.momentum = None
        self.params, self.grads, offset = [], [], 0
        for shape, value in zip(shapes, initial):
            size = int(np.prod(shape))
            self.params.append(self.flat_params[offset:offset + size].reshape(shape))
            self.grads.append(self.flat_grads[offset:offset + size].reshape(shape))
            self.params[-1][...] = value
            offset += size
        self.onehot = np.zeros((len(y), SIZES[-1]), np.float32)
        self.onehot[np.arange(len(y)), y] = 1.0
        self.comm_s = 0.0

    def step(self):
        (w1, b1, w2, b2, w3, b3), (g_w1, g_b1, g_w2, g_b2, g_w3, g_b3) = self.params, self.grads
        x = self.x
        z1 = x @ w1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ w2.T + b2
        a2 = np.maximum(z2, 0)
        logits = a2 @ w3.T + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        d3 = (probs - self.onehot) / len(x)          # d(mean cross-entropy) / d(logits)
        np.matmul(d3.T, a2, out=g_w3)
        d3.sum(axis=0, out=g_b3)
        d2 = (d3 @ w3) * (z2 > 0)
        np.matmul(d2.T, a1, out=g_w2)
        d2.sum(axis=0, out=g_b2)
        d1 = (d2 @ w2) * (z1 > 0)
        np.matmul(d1.T, x, out=g_w1)
        d1.sum(axis=0, out=g_b1)
        start = time.perf_counter()
        self.comm.Allreduce(self.in_place, self.flat_grads, self.sum)
        self.comm_s += time.perf_counter() - start
        self.flat_grads *= np.float32(1.0 / self.comm.size)
        if self.momentum is None:
            self.momentum = self.flat_grads.copy()
        else:
            self.momentum *= np.float32(MOMENTUM)
            self.momentum += self.flat_grads
        self.flat_params -= np.float32(LR) * self.momentum


def block_time(loop, steps, comm) -> tuple[float, float]:
    """(seconds per step, exposed communication seconds per step) over ``steps`` steps, as
    seen by the slowest rank."""
    from mpi4py import MPI

    comm.Barrier()
    loop.comm_s = 0.0
    start = time.perf_counter()
    for _ in range(steps):
        loop.step()
    elapsed = time.perf_counter() - start
    worst = comm.allreduce((elapsed, loop.comm_s), op=MPI.MAX)
    return worst[0] / steps, worst[1] / steps


def measure(args) -> dict:
    from mpi4py import MPI

    dist.init_process_group()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if GLOBAL_BATCH % size:
        raise SystemExit(f"the global batch of {GLOBAL_BATCH} does not split among {size} ranks")
    per_rank = GLOBAL_BATCH // size
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((per_rank, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], per_rank)
    ddp = DistgradLoop(x, y, {"bucket_cap_mb": args.bucket_cap_mb,
                              "gradient_as_bucket_view": args.gradient_as_bucket_view})
    hand = HandLoop(x, y, comm, [p.detach().numpy() for p in ddp.model.parameters()])
    loops = {DDP: ddp, HAND: hand, LOCAL: DistgradLoop(x, y)}
    for loop in loops.values():  # warm-up
        block_time(loop, 3, comm)
    times = {name: [] for name in loops}
    for i in range(args.rounds):
        order = list(loops) if i % 2 == 0 else list(reversed(loops))
        for name in order:
            times[name].append(block_time(loops[name], args.steps, comm))
    result = {"ranks": size, "per_rank_batch": per_rank}
    for name, blocks in times.items():
        step = statistics.median(t for t, _ in blocks)
        exposed = statistics.median(c / t for t, c in blocks)
        result[name] = {"samples_per_s": GLOBAL_BATCH / step, "step_ms": 1e3 * step,
                        "exposed_comm_share": exposed,
                        "exposed_comm_ms": 1e3 * statistics.median(c for _, c in blocks),
                        "best_samples_per_s": GLOBAL_BATCH / min(t for t, _ in blocks)}
    if rank == 0:
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            report(result)
    return result


def report(result):
    print(f"MLP {'-'.join(map(str, SIZES))}, float32, global batch {GLOBAL_BATCH} "
          f"({result['per_rank_batch']} per rank), {result['ranks']} rank(s), 1 BLAS thread each")
    for name in (DDP, HAND, LOCAL):
        r = result[name]
        line = f"  {name:28s} {r['samples_per_s']:9.0f} samples/s  {r['step_ms']:7.2f} ms/step"
        if name != LOCAL:
            line += f"  exposed communication {100 * r['exposed_comm_share']:5.1f}% of the step"
        print(line)
    if result["ranks"] > 1:
        waited, blocking = result[DDP]["exposed_comm_ms"], result[HAND]["exposed_comm_ms"]
        print(f"  overlap: DDP waits {waited:.2f} ms after backward for its all-reduces; the "
              f"blocking Allreduce of the same gradients takes {blocking:.2f} ms "
              f"({100 * (1 - waited / blocking):.0f}% of it hidden)")


def drive(args):
    """Runs the benchmark on 1 and 2 ranks and prints the scaling efficiency."""
    results = {}
    for n in (1, 2):
        cmd = [sys.executable, "-m", "distgrad.launcher", "-n", str(n), __file__, "--json",
               "--rounds", str(args.rounds), "--steps", str(args.steps),
               "--bucket-cap-mb", str(args.bucket_cap_mb)]
        cmd += ["--gradient-as-bucket-view"] if args.gradient_as_bucket_view else []
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
        results[n] = json.loads(done.stdout.strip().splitlines()[-1])
        report(results[n])
    print("scaling efficiency = throughput(2) / (2 * throughput(1)), from the median block "
          "(and from the best block):")
    for name in (DDP, HAND, LOCAL):
        one, two = results[1][name], results[2][name]
        efficiency = two["samples_per_s"] / (2 * one["samples_per_s"])
        best = two["best_samples_per_s"] / (2 * one["best_samples_per_s"])
        print(f"  {name:28s} {efficiency:.3f}  ({best:.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driver", action="store_true",
                        help="launch -n 1 and -n 2 jobs and print the scaling efficiency")
    parser.add_argument("--rounds", type=int, default=9, help="timed blocks per loop")
    parser.add_argument("--steps", type=int, default=10, help="training steps per block")
    parser.add_argument("--json", action="store_true", help="print rank 0's result as JSON")
    parser.add_argument("--bucket-cap-mb", type=float, default=25,
                        help="DDP's bucket_cap_mb (default: 25, as PyTorch's)")
    parser.add_argument("--gradient-as-bucket-view", action="store_true",
                        help="DDP with gradient_as_bucket_view=True")
    args = parser.parse_args()
    if args.driver:
        drive(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
