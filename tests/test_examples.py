"""Run each example as a script with a small budget and check its final metric."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, *args, timeout=120):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=timeout, env=env, cwd=EXAMPLES.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def last_accuracy(output):
    found = re.findall(r"^test accuracy: ([0-9.]+)$", output, flags=re.MULTILINE)
    assert found, output
    return float(found[-1])


@pytest.mark.parametrize("name", ["thermometer.py", "digits_mlp.py", "digits_cnn.py"])
def test_examples_have_help(name):
    assert "usage:" in run_example(name, "--help")


def test_thermometer_fits_the_least_squares_line():
    output = run_example("thermometer.py", "--epochs", "5000", "--print-every", "1000")
    assert "Epoch 1000, Loss" in output
    finals = re.findall(r"final: loss=([-0-9.]+) w=([-0-9.]+) b=([-0-9.]+)", output)
    assert len(finals) == 2, output  # the manual loop, then optim.SGD
    t_c = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
    t_u = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
    w_ls, b_ls = np.polyfit(0.1 * np.array(t_u), t_c, 1)
    for loss, w, b in finals:
        assert float(loss) < 2.93
        assert float(w) == pytest.approx(w_ls, rel=1e-3)
        assert float(b) == pytest.approx(b_ls, rel=1e-3)
    assert finals[0] == finals[1]  # the same arithmetic, written two ways


def test_digits_mlp_reaches_95_percent():
    pytest.importorskip("sklearn")
    output = run_example("digits_mlp.py", "--epochs", "12", "--no-progress")
    assert last_accuracy(output) >= 0.95


def test_digits_cnn_learns_with_a_small_budget():
    pytest.importorskip("sklearn")
    output = run_example("digits_cnn.py", "--epochs", "4", "--no-progress")
    assert "Conv2d(1, 16" in output
    assert last_accuracy(output) >= 0.9
