"""Fixtures for the test bodies that every rank of an ``mpiexec`` job runs."""

import json
import os

import pytest

import distgrad.distributed as dist


@pytest.fixture(scope="session")
def world():
    """The default process group over every rank of the job, for the whole session."""
    dist.init_process_group()
    yield dist
    dist.destroy_process_group()


@pytest.fixture
def debug_world(world, monkeypatch):
    """The default process group re-created with DISTGRAD_DEBUG=1, then without it again."""
    dist.destroy_process_group()
    monkeypatch.setenv("DISTGRAD_DEBUG", "1")
    dist.init_process_group()
    yield dist
    dist.destroy_process_group()
    monkeypatch.delenv("DISTGRAD_DEBUG")
    dist.init_process_group()


def pytest_sessionfinish(session, exitstatus):
    """Leaves this rank's outcome in ``$DISTGRAD_MPI_REPORT_DIR/rank<N>.json`` for the test
    that launched the job (``tests/test_mpi_suite.py``): several ranks' stdout can mix,
    files cannot."""
    report_dir = os.environ.get("DISTGRAD_MPI_REPORT_DIR")
    if not report_dir:
        return
    from mpi4py import MPI

    stats = session.config.pluginmanager.get_plugin("terminalreporter").stats
    counts = {kind: len(stats.get(kind, [])) for kind in ("passed", "failed", "skipped", "error")}
    rank = MPI.COMM_WORLD.Get_rank()
    with open(os.path.join(report_dir, f"rank{rank}.json"), "w") as file:
        json.dump({"exitstatus": int(exitstatus), **counts}, file)
