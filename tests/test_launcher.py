"""distgrad-run: argument parsing, the mpiexec command, thread counts, finding mpiexec."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from distgrad import launcher

ROOT = Path(__file__).resolve().parents[1]
THREAD_ENV = {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}


def parse(*argv):
    return launcher.build_parser().parse_args(list(argv))


def write_executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# -- parsing and the command line ------------------------------------------------------------


def test_script_arguments_go_to_the_script():
    args = parse("-n", "4", "train.py", "--lr", "0.1", "-n", "9")
    assert (args.nprocs, args.script, args.args, args.module) == (
        4,
        "train.py",
        ["--lr", "0.1", "-n", "9"],
        None,
    )


def test_module_takes_the_rest():
    args = parse("--np", "2", "-m", "pkg.train", "--epochs", "3")
    assert args.module == ["pkg.train", "--epochs", "3"] and args.script is None


def test_hydra_command(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/venv/bin/python")
    args = parse(
        "-n",
        "8",
        "--hostfile",
        "hosts",
        "--ppn",
        "4",
        "--mpiexec-args=-bind-to core",
        "train.py",
        "a",
    )
    cmd = launcher.build_command(args, "/venv/bin/mpiexec", open_mpi=False, thread_env=THREAD_ENV)
    assert cmd == [
        "/venv/bin/mpiexec",
        "-n",
        "8",
        "-f",
        "hosts",
        "-ppn",
        "4",
        "-bind-to",
        "core",
        "/venv/bin/python",
        "-m",
        "distgrad.rank_main",
        "train.py",
        "a",
    ]


def test_open_mpi_command_forwards_thread_variables(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/venv/bin/python")
    args = parse("-n", "8", "--hostfile", "hosts", "--ppn", "4", "-m", "pkg.train")
    cmd = launcher.build_command(args, "mpirun", open_mpi=True, thread_env=THREAD_ENV)
    assert cmd == [
        "mpirun",
        "-n",
        "8",
        "--hostfile",
        "hosts",
        "--map-by",
        "ppr:4:node",
        "-x",
        "OMP_NUM_THREADS",
        "-x",
        "OPENBLAS_NUM_THREADS",
        "-x",
        "MKL_NUM_THREADS",
        "/venv/bin/python",
        "-m",
        "distgrad.rank_main",
        "-m",
        "pkg.train",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-n", "2"], "either a script or -m MODULE"),
        (["-n", "0", "t.py"], "at least 1"),
        (["-n", "2", "--ppn", "0", "t.py"], "at least 1"),
        (["t.py"], "required: -n/--np"),
    ],
)
def test_bad_arguments_exit_with_usage(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        launcher.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_dry_run_prints_the_command(capsys, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(launcher, "available_cores", lambda: 8)
    assert launcher.main(["-n", "2", "--dry-run", "train.py", "--x"]) == 0
    out = capsys.readouterr().out.split()
    assert out[:3] == ["OMP_NUM_THREADS=4", "OPENBLAS_NUM_THREADS=4", "MKL_NUM_THREADS=4"]
    assert out[4:] == ["-n", "2", sys.executable, "-m", "distgrad.rank_main", "train.py", "--x"]


# -- thread counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cores, ranks, threads", [(2, 2, 1), (2, 3, 1), (16, 4, 4), (8, 3, 2), (1, 1, 1), (64, 1, 64)]
)
def test_threads_per_rank(cores, ranks, threads):
    assert launcher.threads_per_rank(cores, ranks) == threads


def test_thread_settings_split_the_node(monkeypatch):
    monkeypatch.setattr(launcher, "available_cores", lambda: 16)
    env, note = launcher.thread_settings(8, 4, "hosts", environ={})
    assert env == {var: "4" for var in launcher.THREAD_VARS}
    assert note == (
        "distgrad-run: 4 ranks per node, 4 BLAS threads each (set OMP_NUM_THREADS to override)"
    )
    env, note = launcher.thread_settings(2, None, None, environ={})
    assert env["OMP_NUM_THREADS"] == "8" and "2 ranks on this node" in note


def test_user_thread_setting_wins():
    assert launcher.thread_settings(2, None, None, environ={"OMP_NUM_THREADS": "7"}) == ({}, None)


# -- finding mpiexec -------------------------------------------------------------------------


def test_mpiexec_beside_python_comes_first(tmp_path, monkeypatch):
    beside = write_executable(tmp_path / "venv" / "bin" / "mpiexec")
    write_executable(tmp_path / "path" / "mpiexec")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert launcher.find_mpiexec() == str(beside)


def test_mpirun_on_path_is_the_fallback(tmp_path, monkeypatch):
    found = write_executable(tmp_path / "path" / "mpirun")
    write_executable(tmp_path / "path" / "not-mpi")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert launcher.find_mpiexec() == str(found)


def test_missing_mpiexec_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="pip install mpich"):
        launcher.find_mpiexec()
    assert launcher.main(["-n", "2", "train.py"]) == 127
    assert "load the site's MPI module" in capsys.readouterr().err


def test_open_mpi_is_recognised(tmp_path):
    fake = write_executable(tmp_path / "mpirun", "#!/bin/sh\necho 'mpirun (Open MPI) 5.0.3'\n")
    assert launcher.is_open_mpi(str(fake))
    assert not launcher.is_open_mpi(launcher.find_mpiexec())  # this venv's MPICH


# -- a real launch ---------------------------------------------------------------------------


def launch(tmp_path, body, *script_args, **env_overrides):
    script = tmp_path / "job.py"
    script.write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "distgrad.launcher", "-n", "2", str(script), *script_args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_launch_sets_threads_and_forwards_exit_status(tmp_path):
    result = launch(
        tmp_path,
        "import os, sys\n"
        "print('threads', os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])\n"
        "sys.exit(int(sys.argv[1]))\n",
        "3",
    )
    assert result.returncode == 3, result.stderr
    threads = str(launcher.threads_per_rank(launcher.available_cores(), 2))
    assert result.stdout.split("\n").count(f"threads {threads} {threads}") == 2
    assert result.stderr.count("distgrad-run: 2 ranks on this node") == 1


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED=1", "buffered"])
def test_ranks_lines_never_mix(tmp_path, unbuffered):
    # Unbuffered, Python writes print()'s pieces one by one and mpiexec forwards each as it
    # comes, so without line buffering two ranks' lines mixed (CI saw "threadsthreads 1 1").
    result = launch(
        tmp_path,
        "import os, sys\n"
        "rank = os.environ['PMI_RANK']\n"
        "for i in range(500):\n"
        "    print('rank', rank, 'line', i, 'x' * 20)\n"
        "    print('rank', rank, 'err', i, file=sys.stderr)\n",
        PYTHONUNBUFFERED=unbuffered,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert sorted(out) == sorted(f"rank {r} line {i} {'x' * 20}" for r in "01" for i in range(500))
    err = [line for line in result.stderr.splitlines() if not line.startswith("distgrad-run:")]
    assert sorted(err) == sorted(f"rank {r} err {i}" for r in "01" for i in range(500))


@pytest.mark.parametrize(
    "argv, target",
    [
        (["-n", "2", "python", "train.py", "--x"], ["train.py", "--x"]),
        (["-n", "2", "/usr/bin/python3.11", "train.py"], ["train.py"]),
        (["-n", "2", "python3", "-m", "pkg.train", "a"], ["-m", "pkg.train", "a"]),
        (["-n", "2", "pythonic.py"], ["pythonic.py"]),  # a script, not an interpreter
    ],
)
def test_a_leading_interpreter_is_dropped(capsys, monkeypatch, argv, target):
    # mpiexec users type `-n 2 python train.py`; the launcher supplies the Python itself.
    monkeypatch.setattr(launcher, "available_cores", lambda: 2)
    assert launcher.main([*argv[:2], "--dry-run", *argv[2:]]) == 0
    out = capsys.readouterr().out.split()
    assert out[-len(target):] == target
    assert out[-len(target) - 3:-len(target)] == [sys.executable, "-m", "distgrad.rank_main"]
