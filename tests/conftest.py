"""Shared test configuration.

``tests/mpi`` holds test bodies that every rank of an ``mpiexec`` job runs. A plain
``pytest tests`` leaves them out of collection (``test_mpi_suite.py`` launches them under
``mpiexec -n 2`` and ``-n 3`` instead); ``pytest --with-mpi tests/mpi`` under ``mpiexec``
collects them.
"""

from pathlib import Path

_MPI_DIR = Path(__file__).parent / "mpi"


def pytest_ignore_collect(collection_path, config):
    in_mpi_dir = collection_path == _MPI_DIR or _MPI_DIR in collection_path.parents
    if in_mpi_dir and not config.getoption("--with-mpi", default=False):
        return True
    return None  # let pytest decide as usual (--ignore, norecursedirs...)
