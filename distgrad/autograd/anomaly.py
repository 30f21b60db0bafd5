"""Anomaly detection: find the forward op whose backward produced NaN or inf."""

from __future__ import annotations

import functools

from .engine import flags as _flags

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    return _flags.anomaly


class detect_anomaly:
    """Context manager (and decorator) that checks every backward output for NaN/inf.

    While it is on, each recorded node keeps the stack of the forward call that created it;
    a backward node that returns NaN or inf raises a RuntimeError naming the node (e.g.
    ``'LogBackward0'``) and showing that forward stack. It slows everything down: use it for
    debugging only. The switch is process-wide, as in PyTorch.

    Example::

        >>> with distgrad.autograd.detect_anomaly():
        ...     loss = model(x).log().sum()
        ...     loss.backward()   # raises, naming LogBackward0 and the line of .log()
    """

    def __init__(self, check_nan: bool = True):
        self._mode = check_nan

    def __enter__(self):
        self._prev = _flags.anomaly
        _flags.anomaly = self._mode
        return self

    def __exit__(self, *exc):
        _flags.anomaly = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._mode):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off: as a plain call, or as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = _flags.anomaly
        self._mode = bool(mode)
        _flags.anomaly = self._mode

    def __enter__(self):
        return self
