"""What every rank that ``distgrad-run`` starts runs first.

``python -m distgrad.rank_main script.py args...`` (or ``-m module ...``) makes the rank's
stdout and stderr line-buffered, then hands over to mpi4py's runner
(``python -m mpi4py``), which turns an uncaught exception or a non-zero ``sys.exit()`` on
any rank into ``MPI_Abort`` so that the other ranks are not left waiting in a collective.

Line buffering matters because mpiexec forwards whatever each rank writes as it arrives.
Python writes ``print("loss", x)`` piece by piece when unbuffered (``PYTHONUNBUFFERED=1``,
``python -u``, common in batch scripts), so two ranks' lines could mix mid-line; and when
block-buffered (Python's default into a pipe) progress shows up only when the buffer
fills. Line by line, each line leaves in one write, whole and on time.
"""

import sys


def line_buffer_output() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` write each complete line in one call."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # absent if replaced by a user
        if reconfigure is not None:
            reconfigure(line_buffering=True, write_through=False)


def main() -> None:
    line_buffer_output()
    from mpi4py.run import main as run_with_abort_on_error

    run_with_abort_on_error()  # reads sys.argv[1:]: the script or -m module and its args


if __name__ == "__main__":
    main()
