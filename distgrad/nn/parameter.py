"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its parameters."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it as a ``Module`` attribute registers it.

    Args:
        data: the initial value (a tensor or array); float32 by default.
        requires_grad: whether it receives gradients (default True).
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            array = data._data
        else:
            array = Tensor(data)._data
        self._data = array
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
