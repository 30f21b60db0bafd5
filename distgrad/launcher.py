"""``distgrad-run``: start a distgrad script on N processes through ``mpiexec``.

Usage::

    distgrad-run -n 4 train.py --epochs 3
    distgrad-run -n 8 --hostfile hosts --ppn 4 train.py
    distgrad-run -n 2 --mpiexec-args="-prepend-rank" -m mypackage.train

It finds an ``mpiexec`` (the venv's own first, as the PyPI ``mpich`` package installs it
there), gives each rank a fair share of the node's cores for BLAS/OpenMP threads, and
replaces itself with ``mpiexec ... python script.py args``, so the job's exit status and
signals pass straight through.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_NO_MPIEXEC = (
    "no MPI launcher found: looked for mpiexec and mpirun beside {python} and on PATH. "
    "Install one into this environment with `pip install mpich` (or `pip install "
    "distgrad[mpich]`), or on a cluster load the site's MPI module (e.g. `module load "
    "openmpi`) and build mpi4py against it."
)


def find_mpiexec() -> str:
    """Returns the path of the MPI launcher to use.

    Looks beside ``sys.executable`` first, where ``pip install mpich`` puts ``mpiexec``, so
    the launcher matches the MPI that mpi4py loads; then on ``PATH``; ``mpiexec`` before
    ``mpirun`` in both places.

    Raises:
        FileNotFoundError: if there is none, saying how to get one.
    """
    bindir = Path(sys.executable).parent
    for name in ("mpiexec", "mpirun"):
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(_NO_MPIEXEC.format(python=bindir))


def is_open_mpi(mpiexec: str) -> bool:
    """Returns whether ``mpiexec`` is Open MPI's (else it is taken to be MPICH's Hydra,
    whose options Intel MPI and MVAPICH share)."""
    try:
        result = subprocess.run(
            [mpiexec, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "open mpi" in (result.stdout + result.stderr).lower()


def available_cores() -> int:
    """The number of cores this process may run on (its affinity mask where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_rank(cores_per_node: int, ranks_per_node: int) -> int:
    """Splits a node's cores evenly between its ranks, at least one thread each."""
    return max(1, cores_per_node // max(1, ranks_per_node))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distgrad-run",
        description="Run a distgrad script on N processes with mpiexec. Each rank gets "
        "OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = cores per node // ranks "
        "per node (at least 1), unless OMP_NUM_THREADS is already set.",
        epilog="Examples:\n"
        "  distgrad-run -n 4 train.py --epochs 3\n"
        "  distgrad-run -n 8 --hostfile hosts --ppn 4 train.py\n"
        '  distgrad-run -n 2 --mpiexec-args="-prepend-rank" -m mypackage.train',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-n",
        "--np",
        dest="nprocs",
        type=int,
        required=True,
        metavar="N",
        help="number of processes (ranks) to start",
    )
    parser.add_argument(
        "--hostfile", metavar="FILE", help="file naming the hosts to run on, in your MPI's format"
    )
    parser.add_argument(
        "--ppn", type=int, metavar="K", help="ranks per node (default: N, i.e. a single node)"
    )
    parser.add_argument(
        "--mpiexec-args",
        default="",
        metavar="ARGS",
        help="extra arguments for mpiexec, as one shell-quoted string; "
        'write it with "=", as in --mpiexec-args="-bind-to core"',
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the mpiexec command instead of running it"
    )
    parser.add_argument(
        "-m",
        dest="module",
        nargs=argparse.REMAINDER,
        metavar="MODULE ...",
        help="run a library module as a script, like python -m",
    )
    parser.add_argument("script", nargs="?", help="the Python script every rank runs")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return parser


def build_command(
    args: argparse.Namespace, mpiexec: str, open_mpi: bool, thread_env: dict[str, str]
) -> list[str]:
    """The mpiexec command line for parsed ``args``."""
    cmd = [mpiexec, "-n", str(args.nprocs)]
    if args.hostfile:
        cmd += ["--hostfile" if open_mpi else "-f", args.hostfile]
    if args.ppn:
        cmd += ["--map-by", f"ppr:{args.ppn}:node"] if open_mpi else ["-ppn", str(args.ppn)]
    if open_mpi:  # Hydra passes the whole environment on by default; Open MPI needs -x
        for var in thread_env:
            cmd += ["-x", var]
    cmd += shlex.split(args.mpiexec_args)
    target = ["-m", *args.module] if args.module else [args.script, *args.args]
    # rank_main line-buffers the rank's output, then runs mpi4py's runner, which turns an
    # uncaught exception or a non-zero sys.exit() on any rank into MPI_Abort, so the other
    # ranks are stopped instead of waiting in a collective forever.
    return [*cmd, sys.executable, "-m", "distgrad.rank_main", *target]


def thread_settings(
    nprocs: int, ppn: int | None, hostfile: str | None, environ=os.environ
) -> tuple[dict[str, str], str | None]:
    """The thread-count variables to set and the line that announces them, or nothing if
    the user set OMP_NUM_THREADS."""
    if "OMP_NUM_THREADS" in environ:
        return {}, None
    ranks = ppn or nprocs
    threads = threads_per_rank(available_cores(), ranks)
    where = "per node" if hostfile or ppn else "on this node"
    note = (
        f"distgrad-run: {ranks} rank{'s' * (ranks != 1)} {where}, {threads} BLAS "
        f"thread{'s' * (threads != 1)} each (set OMP_NUM_THREADS to override)"
    )
    return dict.fromkeys(THREAD_VARS, str(threads)), note


def _drop_interpreter(args: argparse.Namespace) -> None:
    """Accept ``distgrad-run -n 2 python train.py``, the form ``mpiexec`` users type: the
    launcher supplies this environment's Python itself, so a leading interpreter is dropped
    (``python -m pkg`` becomes ``-m pkg``)."""
    if not args.script or not re.fullmatch(r"python[0-9.]*", Path(args.script).name):
        return
    rest = list(args.args)
    if rest[:1] == ["-m"] and len(rest) > 1 and not args.module:
        args.script, args.module, args.args = None, rest[1:], []
    elif rest:
        args.script, args.args = rest[0], rest[1:]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``distgrad-run`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _drop_interpreter(args)
    if bool(args.module) == bool(args.script):
        parser.error("give either a script or -m MODULE to run")
    if args.nprocs < 1 or (args.ppn is not None and args.ppn < 1):
        parser.error("-n and --ppn must be at least 1")
    try:
        mpiexec = find_mpiexec()
    except FileNotFoundError as exc:
        print(f"distgrad-run: {exc}", file=sys.stderr)
        return 127
    thread_env, note = thread_settings(args.nprocs, args.ppn, args.hostfile)
    cmd = build_command(args, mpiexec, is_open_mpi(mpiexec), thread_env)
    if args.dry_run:
        print(" ".join([*(f"{k}={v}" for k, v in thread_env.items()), shlex.join(cmd)]))
        return 0
    if note:
        print(note, file=sys.stderr, flush=True)
    os.environ.update(thread_env)
    sys.stdout.flush()
    os.execv(mpiexec, cmd)  # does not return; mpiexec's exit status becomes ours


if __name__ == "__main__":
    sys.exit(main())
