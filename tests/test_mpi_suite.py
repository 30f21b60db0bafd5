"""Multi-rank tests, launched from a plain pytest run.

``tests/mpi`` is run under ``mpiexec -n 2`` and ``-n 3`` (every rank must pass), and small
scripts check that an exception on one rank ends the whole job promptly.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distgrad.launcher import find_mpiexec

ROOT = Path(__file__).resolve().parents[1]


def run_mpi(
    nprocs: int, args: list[str], timeout: float, **env_vars: str
) -> subprocess.CompletedProcess:
    """Runs ``mpiexec -n nprocs python args`` from the repository root; on a timeout, kills
    the whole job and fails the test with its output."""
    env = dict(os.environ, OMP_NUM_THREADS="1", **env_vars)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [find_mpiexec(), "-n", str(nprocs), sys.executable, *args]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} hung for {timeout} s\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.parametrize("nprocs", [2, 3])
def test_collectives_pass_on_every_rank(nprocs, tmp_path):
    result = run_mpi(
        nprocs,
        ["-m", "pytest", "--with-mpi", "-q", "-p", "no:cacheprovider", "tests/mpi"],
        timeout=300,
        DISTGRAD_MPI_REPORT_DIR=str(tmp_path),  # each rank leaves its counts there
    )
    report = f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert result.returncode == 0, report
    outcomes = [json.loads(path.read_text()) for path in sorted(tmp_path.glob("rank*.json"))]
    assert len(outcomes) == nprocs, report
    for outcome in outcomes:  # every rank ran every test and each passed: nothing skipped
        assert outcome == {**outcomes[0], "exitstatus": 0, "failed": 0, "skipped": 0,
                           "error": 0}, report
    assert outcomes[0]["passed"] > 0, report


RAISES_IN_MAIN = """
import distgrad, distgrad.distributed as dist
dist.init_process_group()
if dist.get_rank() == 1:
    raise ValueError("rank 1 fails on purpose")
dist.barrier()
dist.all_reduce(distgrad.ones(3))
"""

RAISES_IN_THREAD = """
import threading, time
import distgrad.distributed as dist
dist.init_process_group()
if dist.get_rank() == 1:
    def work():
        raise ValueError("rank 1 fails on purpose")
    threading.Thread(target=work, name="loader").start()
    time.sleep(60)
dist.barrier()
"""


@pytest.mark.parametrize("script", [RAISES_IN_MAIN, RAISES_IN_THREAD], ids=["main", "thread"])
def test_exception_on_one_rank_ends_the_job(tmp_path, script):
    path = tmp_path / "fails.py"
    path.write_text(script)
    start = time.monotonic()
    result = run_mpi(2, [str(path)], timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end"
    assert "[rank 1] Traceback (most recent call last):" in result.stderr
    assert "[rank 1] ValueError: rank 1 fails on purpose" in result.stderr
    assert "aborting all ranks" in result.stderr
    assert "[rank 0]" not in result.stderr


EXITS_EARLY = """
import sys
import distgrad, distgrad.distributed as dist
dist.init_process_group()
if dist.get_rank() == 1:
    sys.exit(3)
dist.all_reduce(distgrad.ones(3))
"""


def test_sys_exit_on_one_rank_under_distgrad_run_ends_the_job(tmp_path):
    # Plain ``mpiexec python script.py`` would leave rank 0 in the all-reduce forever;
    # distgrad-run starts ranks through mpi4py's runner, which aborts the job instead.
    path = tmp_path / "exits.py"
    path.write_text(EXITS_EARLY)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "distgrad.launcher", "-n", "2", str(path)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    start = time.monotonic()
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("a rank's sys.exit(3) left the job hanging")
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end"
