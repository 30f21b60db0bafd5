"""Normalisation layers: ``LayerNorm``, ``GroupNorm``, ``BatchNorm1d``, ``BatchNorm2d``,
``InstanceNorm1d`` and ``InstanceNorm2d``."""

from __future__ import annotations

import warnings

import numpy as np

from .._dtype import get_default_dtype, to_numpy_dtype
from .._tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "InstanceNorm1d",
           "InstanceNorm2d"]


def _np_dtype(dtype):
    return to_numpy_dtype(dtype) if dtype is not None else get_default_dtype().numpy


def _affine_parameters(module, shape, affine: bool, bias: bool, dtype) -> None:
    """Give ``module`` a ``weight`` of ones and a ``bias`` of zeros of ``shape`` (None where
    ``affine`` or ``bias`` is off), as every normalisation layer has."""
    np_dtype = _np_dtype(dtype)
    if affine:
        module.weight = Parameter(Tensor._wrap(np.ones(shape, np_dtype)))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(Tensor._wrap(np.zeros(shape, np_dtype)))
    else:
        module.register_parameter("bias", None)


def _reset_affine(module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalise over the last dims given by ``normalized_shape``:
    ``(x - mean) / sqrt(var + eps) * weight + bias`` (biased variance).

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the variance for stability.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias (when ``elementwise_affine``).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels (dim 1) into ``num_groups`` groups and normalise each sample's
    group by its own mean and (biased) variance; then scale and shift each channel by
    ``weight`` (ones) and ``bias`` (zeros) when ``affine`` (keyword-only ``bias=False``
    leaves the bias out). The same in training and evaluation mode.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, num_channels, affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _BatchNorm(Module):
    """Shared by the BatchNorm layers; subclasses say which input ranks they accept."""

    _input_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, num_features, affine, bias, dtype)
        np_dtype = _np_dtype(dtype)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, np_dtype)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, np_dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _optional_state_keys(self) -> tuple:
        return ("num_batches_tracked",) if self.track_running_stats else ()

    def forward(self, input):
        if input.ndim not in self._input_dims:
            expected = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"{self._get_name()}: expected {expected} input (got {input.ndim}D "
                             f"input of shape {list(input.shape)})")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self._get_name()}: expected input with {self.num_features} "
                               f"channels in dim 1, got {input.shape[1]} (input shape "
                               f"{list(input.shape)})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics in training, or whenever no running statistics are kept.
        use_batch_stats = self.training or self.running_mean is None
        update = self.training and self.track_running_stats
        return F.batch_norm(input, self.running_mean if update or not use_batch_stats else None,
                            self.running_var if update or not use_batch_stats else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    In training mode the batch mean and (biased) variance normalise the input, and the
    buffers ``running_mean`` / ``running_var`` are updated with ``momentum`` (using the
    unbiased variance); in evaluation mode the running statistics are used.
    ``num_batches_tracked`` counts the training batches seen. With ``affine``, a ``weight``
    (ones) and a ``bias`` (zeros; keyword-only ``bias=False`` leaves it out) are learnt.
    """

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over ``(N, C, H, W)`` input, per channel ``C``."""

    _input_dims = (4,)


class _InstanceNorm(_BatchNorm):
    """Shared by the InstanceNorm layers: :class:`_BatchNorm`'s parameters and buffers with
    other defaults (no affine, no running statistics), normalising each sample's channels
    over their spatial positions. A missing batch dim is allowed."""

    _input_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        if input.ndim not in self._input_dims:
            expected = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"expected {expected} input (got {input.ndim}D input)")
        feature_dim = input.ndim - self._input_dims[0]
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=2)
        if input.ndim == self._input_dims[0]:  # no batch dim
            return self._normalise(input.unsqueeze(0)).squeeze(0)
        return self._normalise(input)

    def _normalise(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` (or ``(C, L)``) input: each channel of each
    sample is normalised over ``L``. With ``track_running_stats``, running statistics are
    kept in training and used in evaluation mode, as in :class:`BatchNorm1d`."""

    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` (or ``(C, H, W)``) input; see
    :class:`InstanceNorm1d`."""

    _input_dims = (3, 4)
