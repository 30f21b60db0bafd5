"""Exact metric aggregation across ranks.

Averages over a sharded dataset are exact only when the *sums* and the *counts* are
reduced, not the per-rank averages: a rank with 30 samples and one with 2 must not count
the same. Everything is packed into one float64 vector and reduced with a single
all-reduce. Call these inside ``no_grad()`` on values you have ``detach``-ed.

Example::

    >>> totals = MetricSums("loss", "correct", "samples")
    >>> with distgrad.no_grad():
    ...     for x, y in loader:                  # this rank's shard
    ...         logits = model(x)
    ...         totals.add(loss=float(loss_fn_sum(logits, y)),
    ...                    correct=int((logits.argmax(1) == y).sum()), samples=len(y))
    >>> result = totals.all_reduce()             # one collective, every rank gets it
    >>> accuracy = result["correct"] / result["samples"]
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["MetricSums", "all_reduce_sums"]


def all_reduce_sums(values: dict) -> dict:
    """Sum each named number across all ranks with one collective; returns a new dict.

    Every rank must pass the same names. Values are summed in float64, so integer counts
    stay exact up to 2**53. The same collective checks the names: two more elements carry
    a fingerprint ``h`` of them and ``h * h``, and the sums of both tell every rank whether
    all the fingerprints were equal. If not, every rank raises ``RuntimeError`` (listing
    each rank's names when ``DISTGRAD_DEBUG`` is set). Different *numbers* of names make
    the ranks' vectors differ in length, which MPI itself reports as an error.
    """
    from . import _debug, _get_default_comm

    names = sorted(values)
    comm = _get_default_comm()
    if comm.size > 1 and _debug:
        everyone = comm.allgather_obj(names)
        if any(other != names for other in everyone):
            listing = "; ".join(f"rank {r}: {n}" for r, n in enumerate(everyone))
            raise RuntimeError(f"all_reduce_sums: ranks passed different metric names ({listing})")
    fingerprint = float(zlib.crc32(",".join(names).encode()) % (1 << 20))
    vector = np.array([float(values[n]) for n in names] + [fingerprint, fingerprint ** 2],
                      dtype=np.float64)
    comm.allreduce(vector)
    total, total_of_squares = vector[-2], vector[-1]
    # All equal exactly when their variance is zero (these sums of h < 2**20 are exact).
    if comm.size * total_of_squares != total * total:
        raise RuntimeError(
            f"all_reduce_sums: ranks passed different metric names (rank {comm.rank} has "
            f"{names}); every rank must reduce the same names. Declare them up front, e.g. "
            "MetricSums('loss', 'samples'), so that a rank that saw no batch takes part too; "
            "set DISTGRAD_DEBUG=1 to list every rank's names.")
    return dict(zip(names, vector[:-2].tolist()))


class MetricSums:
    """Accumulates named sums on this rank; :meth:`all_reduce` totals them over all ranks.

    Args:
        *names: metric names to start at zero. Declare them when a rank may add nothing
            (an evaluation shard with no batch): every rank must reduce the same names.
    """

    def __init__(self, *names: str):
        self.sums: dict = dict.fromkeys(names, 0.0)

    def add(self, **values) -> None:
        """Add to each named running sum (e.g. ``loss=batch_loss_sum, samples=len(y)``)."""
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value)

    def all_reduce(self) -> dict:
        """The sums over every rank (one collective; every rank must call it)."""
        return all_reduce_sums(self.sums)

    def reset(self) -> None:
        """Set every sum back to zero, keeping the names (so the next reduction matches)."""
        self.sums = dict.fromkeys(self.sums, 0.0)
