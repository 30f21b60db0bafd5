"""Channel-wise (``dropout1d/2d/3d``) and alpha dropout; plain elementwise ``dropout`` is a
fused op in ``nn_fused.py``.

Each multiplies the input by a mask of ones and zeros drawn per element or per channel,
scaled to keep the mean (alpha dropout: SELU's mean and variance), so the gradient is the
same multiplication; ``inplace=True`` multiplies the input in place.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


_ALPHA = 1.7580993408473766  # SELU's -scale * alpha: where alpha dropout sends dropped units


def _noise(input, p, shape):
    """Ones kept with probability ``1 - p``, in the input's (float) dtype, of ``shape``."""
    from .._factories import default_generator

    dtype = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    return (default_generator().random(shape, dtype=np.float32) >= p).astype(dtype)


def _feature_shape(input, batched: bool) -> tuple:
    """One draw per channel: ``(N, C, 1, ...)``, or ``(C, 1, ...)`` without a batch dim."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    lead = 2 if batched else 1
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def _dropout_nd(input, p, training, inplace, shape=None, alpha=False):
    """``input`` times a mask of ``shape`` (default: elementwise), scaled to keep the mean;
    alpha dropout instead keeps SELU's mean and variance. In place with ``inplace``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        zero = np.zeros((), dtype=input._data.dtype)
        return input.mul_(zero) if inplace else input * zero
    noise = _noise(input, p, tuple(input.shape) if shape is None else shape)
    if not alpha:
        noise *= noise.dtype.type(1.0 / (1.0 - p))
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = ((noise - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(noise.dtype, copy=False)
    noise *= noise.dtype.type(a)
    return input.mul_(noise).add_(shift) if inplace else input * noise + shift


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input with probability ``p`` and
    scale the others by ``1 / (1 - p)``; ``input`` itself when not ``training``.
    ``inplace=True`` multiplies ``input`` in place."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs).")
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, input.ndim == 3))


def _warn_feature_dims(name: str, ndim: int, spatial: int) -> None:
    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in "
        f"an error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {name} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p`` and scale the
    others by ``1 / (1 - p)``. As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (with a
    warning): use :func:`dropout1d` for that."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        _warn_feature_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, True))


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input with
    probability ``p`` and scale the others by ``1 / (1 - p)``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (4, 5):
        _warn_feature_dims("dropout3d", input.ndim, 3)
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, input.ndim == 5))


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and
    an affine map restores the input's mean and variance. Note ``training=False`` by
    default, as in PyTorch."""
    return _dropout_nd(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """:func:`alpha_dropout` of whole channels (dim 1)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _dropout_nd(input, p, training, inplace, _feature_shape(input, True), alpha=True)
