"""Helpers shared by the neural-network op families (``nn_fused``, ``conv``, ``loss_ops``,
``norm_ops``)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _backends
from ._registry import apply

__all__ = ["call_op", "array_of", "pair", "shape_str"]


def call_op(xp, spec, *args, **params):
    """Run op ``spec`` from inside a VJP.

    On raw arrays (plain backward) it is just the forward; on tensors (``create_graph=True``)
    it goes through :func:`apply`, so the backward is itself recorded. This is how an op whose
    backward is another op (conv's input gradient is a transposed convolution) stays
    differentiable to any order.
    """
    if xp is _backends.raw:
        return spec.forward(*args, **params)
    return apply(spec, *args, **params)


def array_of(x):
    """The ndarray behind a tensor (or ``x`` itself for arrays, numbers and None)."""
    return x._data if isinstance(x, Tensor) else x


def pair(value, name: str) -> tuple:
    """``3 -> (3, 3)``; a 2-sequence of ints is kept. Negative values are refused."""
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    else:
        value = tuple(int(v) for v in value)
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    if any(v < 0 for v in value):
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value


def shape_str(shape) -> str:
    return str(list(shape))
