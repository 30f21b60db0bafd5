"""Spatial layers: ``Conv1d Conv2d``, max/average/adaptive pooling, the padding layers
and ``Upsample``, with PyTorch's constructors, default initialisations and reprs."""

from __future__ import annotations

import math

from . import functional as F
from . import init
from .layers import _empty_parameter, _pair, _single
from .module import Module

__all__ = ["Conv2d", "Conv1d", "MaxPool1d", "MaxPool2d", "AvgPool2d", "AvgPool1d",
           "AdaptiveAvgPool2d", "ConstantPad1d", "ConstantPad2d", "ZeroPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d", "Upsample", "UpsamplingNearest2d"]


def _check_padding_string(padding: str, stride: tuple) -> None:
    if padding not in ("valid", "same"):
        raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                         "{'valid', 'same'}")
    if padding == "same" and any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions; use "
                         "stride=1 or explicit padding")


class _ConvNd(Module):
    """Shared by the convolution layers: arguments, parameters, initialisation, padding modes
    and repr; ``dims`` is the number of spatial dims."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, *, transposed: bool = False, output_padding=0):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                             f"'circular', but got padding_mode={padding_mode!r}")
        if transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if transposed and isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        as_tuple = _single if self.dims == 1 else _pair
        if isinstance(padding, str):
            _check_padding_string(padding, as_tuple(stride))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size)
        self.stride = as_tuple(stride)
        self.padding = padding if isinstance(padding, str) else as_tuple(padding)
        self.dilation = as_tuple(dilation)
        self.output_padding = as_tuple(output_padding)
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = transposed
        # A transposed convolution's weight is the transpose of a convolution's:
        # (in, out / groups, *kernel). The init reads fan_in from it either way.
        channels = (in_channels, out_channels // groups) if transposed else (
            out_channels, in_channels // groups)
        self.weight = _empty_parameter(channels + self.kernel_size, dtype)
        if bias:
            self.bias = _empty_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _convolve(self, conv, input):
        """``conv`` (``F.conv1d``/``F.conv2d``) of ``input``, padded first in a
        ``padding_mode`` other than zeros."""
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
        return conv(F.pad(input, self._mode_padding(), mode=self.padding_mode), self.weight,
                    self.bias, self.stride, 0, self.dilation, self.groups)

    def _mode_padding(self) -> tuple:
        """``padding`` as ``F.pad`` widths (last dim first); ``'same'`` puts an odd total's
        extra element at the end (bottom/right)."""
        if self.padding == "valid":
            return (0, 0) * self.dims
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            widths = [(t // 2, t - t // 2) for t in totals]
        else:
            widths = [(p, p) for p in self.padding]
        return tuple(w for pair in reversed(widths) for w in pair)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` (or ``(C_in, H, W)``) input.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding, dilation: an int or a pair; ``padding`` may also be
            ``'valid'`` or ``'same'``.
        groups: split the channels into this many independent convolutions.
        bias: whether to learn a bias per output channel.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    The weight ``(out_channels, in_channels / groups, kH, kW)`` and the bias are initialised
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with ``fan_in = in_channels / groups * kH * kW``.
    """

    def forward(self, input):
        shape = input.shape
        if len(shape) not in (3, 4) or shape[-3] != self.in_channels:
            raise RuntimeError(f"Conv2d: expected input of shape [N, {self.in_channels}, H, W] "
                               f"or [{self.in_channels}, H, W] ({self.in_channels} channels), "
                               f"got input of shape {list(shape)}")
        return self._convolve(F.conv2d, input)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` (or ``(C_in, L)``) input.

    Args as :class:`Conv2d`, with an int (or 1-tuple) ``kernel_size``, ``stride``,
    ``padding`` (or ``'valid'`` / ``'same'``) and ``dilation``. The weight
    ``(out_channels, in_channels / groups, K)`` and the bias are initialised from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with ``fan_in = in_channels / groups * K``.
    """

    dims = 1

    def forward(self, input):
        shape = input.shape
        if len(shape) not in (2, 3) or shape[-2] != self.in_channels:
            raise RuntimeError(f"Conv1d: expected input of shape [N, {self.in_channels}, L] or "
                               f"[{self.in_channels}, L] ({self.in_channels} channels), got "
                               f"input of shape {list(shape)}")
        return self._convolve(F.conv1d, input)


class _MaxPoolNd(Module):
    """Shared by the max pooling layers; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over ``(N, C, L)`` (or ``(C, L)``) input; padding counts as -inf."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling; ``stride`` defaults to ``kernel_size``, padding counts as -inf."""

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool2d(Module):
    """2-D average pooling; zero padding counts in the average if ``count_include_pad``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """1-D average pooling over ``(N, C, L)`` (or ``(C, L)``) input; ``stride`` defaults to
    ``kernel_size``; zero padding counts in the average if ``count_include_pad``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, or a pair with None for "keep")."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _PadNd(Module):
    """Pad the last ``dims`` dims by ``padding`` (an int for every side, or
    ``(left, right, top, bottom)``, last dim first) in ``mode``."""

    dims = 2
    mode = "constant"

    def __init__(self, padding, value=None):
        super().__init__()
        self.padding = ((int(padding),) * 2 * self.dims if isinstance(padding, int)
                        else tuple(padding))
        if len(self.padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a "
                             f"{2 * self.dims}-tuple, got {padding!r}")
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, self.mode, self.value)

    def extra_repr(self) -> str:
        return str(self.padding)


class ConstantPad1d(_PadNd):
    """Pad the last dim with the constant ``value``."""

    dims = 1

    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dims with the constant ``value``."""

    dims = 2


class ZeroPad2d(_PadNd):
    """Pad the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection about the edge elements."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dims with their reflection about the edge elements."""

    dims = 2


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge elements."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dims by repeating their edge elements."""

    dims = 2


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around."""

    dims, mode = 1, "circular"


class CircularPad2d(CircularPad1d):
    """Pad the last two dims by wrapping around."""

    dims = 2


class Upsample(Module):
    """Resize the spatial dims of ``(N, C, *spatial)`` input to ``size`` or by
    ``scale_factor``; see :func:`distgrad.nn.functional.interpolate` (modes ``'nearest'``
    and ``'nearest-exact'``)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """:class:`Upsample` of ``(N, C, H, W)`` input in mode ``'nearest'``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")
