"""examples/ddp_digits.py end to end: under ``distgrad-run -n 2`` and as a plain script."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ddp_digits.py"


def run(cmd, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} ran past {timeout} s\n{out[-2000:]}\n{err[-2000:]}")
    assert proc.returncode == 0, f"{out[-2000:]}\n{err[-3000:]}"
    return out


@pytest.mark.parametrize("launch", [
    [sys.executable, "-m", "distgrad.launcher", "-n", "2"],
    [sys.executable],
], ids=["distgrad-run-n2", "world-of-one"])
def test_ddp_digits_reaches_95_percent(launch):
    out = run([*launch, str(EXAMPLE), "--epochs", "6", "--batch-size", "64"])
    ranks = "2 rank(s)" if len(launch) > 1 else "1 rank(s)"
    assert ranks in out
    assert len(re.findall(r"^epoch +\d+ ", out, re.MULTILINE)) == 6  # rank 0 prints alone
    accuracy = float(re.search(r"^final test accuracy: ([\d.]+)$", out, re.MULTILINE).group(1))
    assert accuracy >= 0.95, out
