"""Forward-mode automatic differentiation with dual tensors.

Inside :class:`dual_level`, :func:`make_dual` attaches a *tangent* to a tensor. Every op
then computes, alongside its value, the tangent of its result: the Jacobian-vector product
``J t``, pushed forward one op at a time (forward accumulation). One forward pass gives the
derivative of every output along one input direction — the dual of reverse mode, which
gives the derivative of one output with respect to every input.

Each op's rule is a row of the op table (``jvp=`` in ``ops._registry.defop``). An op
without a rule raises :class:`ForwardADNotImplemented`.

Example::

    >>> with forward_ad.dual_level():
    ...     x = forward_ad.make_dual(primal, tangent)
    ...     y = (x * x).sin()
    ...     jvp = forward_ad.unpack_dual(y).tangent   # cos(x²) · 2x · tangent
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor",
           "ForwardADNotImplemented"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class ForwardADNotImplemented(NotImplementedError):
    """Raised when an op on a dual tensor has no forward-mode rule."""


class _Level:
    def __init__(self):
        self.depth = 0      # > 0 inside dual_level: every op checks this one flag
        self.token = None   # identifies the innermost open level; tangents carry the one
                            # they were made under and are invisible once it has closed


state = _Level()


def tangent_of(tensor):
    """The tangent array of ``tensor`` at the open level, or None."""
    tangent = tensor._tangent
    if tangent is None or tangent[0] is not state.token:
        return None
    return tangent[1]


class dual_level:
    """Context manager for forward-mode AD; tangents made inside are gone once it exits."""

    def __enter__(self):
        self._outer = state.token
        state.token = object()
        state.depth += 1
        return self

    def __exit__(self, *exc):
        state.depth -= 1
        state.token = self._outer
        return False


def make_dual(tensor, tangent):
    """Return a tensor with ``tensor``'s value (shared) and the given ``tangent``.

    Must be called inside :class:`dual_level`; the tangent must have the tensor's shape.
    """
    from .._tensor import Tensor

    if state.depth == 0:
        raise RuntimeError("make_dual must be called inside a `with forward_ad.dual_level():` "
                           "block")
    values = tangent._data if isinstance(tangent, Tensor) else np.asarray(tangent)
    if values.shape != tensor.shape:
        raise RuntimeError(f"make_dual: expected the tangent to have shape "
                           f"{list(tensor.shape)} (the primal's), got {list(values.shape)}")
    if tensor._data.dtype.kind != "f":
        raise RuntimeError(f"make_dual: the primal must be floating point, got {tensor.dtype!r}")
    dual = tensor.detach()
    dual._tangent = (state.token, values.astype(tensor._data.dtype, copy=False))
    return dual


def unpack_dual(tensor) -> UnpackedDualTensor:
    """Return ``(primal, tangent)``; the tangent is None for a tensor that has none."""
    from .._tensor import Tensor

    if tensor._base is not None and tensor._vc[0] != tensor._view_version:
        from .graph import _refresh_view
        _refresh_view(tensor)  # a view whose base changed in place since it was made
    tangent = tangent_of(tensor)
    return UnpackedDualTensor(tensor.detach(),
                              None if tangent is None else Tensor._wrap(tangent))
