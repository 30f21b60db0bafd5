"""``unbroadcast``: the one place where broadcasting's gradient reduction happens."""

from __future__ import annotations

__all__ = ["unbroadcast"]


def unbroadcast(xp, grad, shape: tuple):
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast.

    Leading axes that the input lacked are summed away, and axes where the input had size 1
    are summed with ``keepdims``. ``grad`` is returned unchanged when shapes already agree.
    """
    grad_shape = grad.shape
    if grad_shape == shape:
        return grad
    extra = len(grad_shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad_shape[extra + i] != 1)
    if axes:
        grad = xp.sum(grad, axis=axes)
    return xp.reshape(grad, shape)
