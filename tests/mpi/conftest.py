"""Fixtures for the test bodies that every rank of an ``mpiexec`` job runs."""

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
