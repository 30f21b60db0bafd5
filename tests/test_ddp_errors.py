"""DistributedDataParallel failures across ranks end the whole job promptly, with a message
that names the problem, instead of hanging: small scripts run under ``mpiexec -n 2``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distgrad.launcher import find_mpiexec

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import numpy as np, distgrad, distgrad.nn as nn, distgrad.distributed as dist
from distgrad.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group()
rank = dist.get_rank()
"""

DIFFERENT_MODEL = PRELUDE + """
DDP(nn.Sequential(nn.Linear(4, 5 if rank == 1 else 4), nn.Linear(5 if rank == 1 else 4, 1)))
dist.barrier()
"""

EMPTY_BATCH = PRELUDE + """
ddp = DDP(nn.Linear(4, 1))
x = distgrad.randn(0 if rank == 1 else 3, 4)
ddp(x).mean().backward()
"""

FAILS_IN_BACKWARD = PRELUDE + """
model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
ddp = DDP(model, bucket_cap_mb=1e-5)
def fail(grad):
    raise ValueError("rank 1 fails in backward")
if rank == 1:
    model[0].weight.register_hook(fail)
ddp(distgrad.randn(3, 4)).sum().backward()
"""


def run_job(tmp_path, script, timeout=60):
    path = tmp_path / "job.py"
    path.write_text(script)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [find_mpiexec(), "-n", "2", sys.executable, str(path)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the job hung for {timeout} s\n{out[-2000:]}\n{err[-3000:]}")
    return proc.returncode, err, time.monotonic() - start


@pytest.mark.parametrize("script, expected", [
    (DIFFERENT_MODEL, "RuntimeError: DistributedDataParallel: the model differs across ranks: "
                      "parameter '0.weight' has shape [4, 4] (float32) on rank 0 but shape "
                      "[5, 4] (float32) on rank 1"),
    (EMPTY_BATCH, "[rank 1] RuntimeError: DistributedDataParallel: rank 1 got an empty batch"),
    (FAILS_IN_BACKWARD, "[rank 1] ValueError: rank 1 fails in backward"),
], ids=["different-model", "empty-batch", "fails-in-backward"])
def test_a_failing_rank_ends_the_job(tmp_path, script, expected):
    returncode, err, elapsed = run_job(tmp_path, script)
    assert returncode != 0, err
    assert expected in err, err
    if script is not DIFFERENT_MODEL:
        # With every rank failing at once, the first abort may cut the others' output short.
        assert "aborting all ranks" in err, err
    assert elapsed < 30, f"the job took {elapsed:.1f} s to end"
