"""Thread-local grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled"]


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """Return True if gradient recording is currently enabled on this thread."""
    return _state.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    _mode = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            # ``@no_grad`` without parentheses: the class was called with the function.
            self = super().__new__(cls)
            self.__init__()
            return self(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev
        return wrapper


class no_grad(_GradModeContext):
    """Context manager that disables gradient recording.

    Operations inside produce tensors with ``requires_grad=False``, even when their
    inputs require grad. Useful for inference and for in-place parameter updates.
    This mode is thread local. Also functions as a decorator.

    Example::

        >>> x = distgrad.tensor([1.0], requires_grad=True)
        >>> with distgrad.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager that enables gradient recording inside a ``no_grad`` block.

    This mode is thread local. Also functions as a decorator.
    """

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off.

    Usable as a context manager, as a decorator, or as a plain call
    (``set_grad_enabled(False)`` switches recording off until switched back on).
    This mode is thread local.

    Args:
        mode (bool): whether to enable recording.
    """

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __enter__(self):
        pass  # already switched in __init__, like PyTorch

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        _state.enabled = self._prev  # the decorator form must not switch at definition time
        return super().__call__(fn)


class inference_mode(no_grad):
    """Alias of :class:`no_grad` (distgrad has no separate inference tensors).

    ``inference_mode(False)`` enables recording instead.
    """

    def __init__(self, mode: bool = True):
        self._mode = not mode
