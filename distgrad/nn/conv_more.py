"""More spatial layers: ``ConvTranspose1d ConvTranspose2d``, ``Unfold Fold``, ``PixelShuffle
PixelUnshuffle ChannelShuffle`` and ``EmbeddingBag``, with PyTorch's constructors, default
initialisations and reprs."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.embedding_bag import embedding_bag
from ..ops.fold import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold
from . import init
from .conv import _ConvNd
from .layers import _lookup_table
from .module import Module

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold", "PixelShuffle",
           "PixelUnshuffle", "ChannelShuffle", "EmbeddingBag"]


class _ConvTransposeNd(_ConvNd):
    """Shared by the transposed convolution layers: ``_ConvNd``'s arguments, parameters (in
    the transposed layout), initialisation and repr, plus ``output_size``; ``dims`` is the
    number of spatial dims."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, transposed=True,
                         output_padding=output_padding)

    def _output_padding(self, input, output_size) -> tuple:
        """The output padding that gives ``output_size`` (which may include the batch and
        channel dims), or ``self.output_padding`` when it is None."""
        if output_size is None:
            return self.output_padding
        output_size = [int(s) for s in output_size]
        lead = 2 if input.ndim == self.dims + 2 else 1
        if len(output_size) == lead + self.dims:
            output_size = output_size[lead:]
        if len(output_size) != self.dims:
            raise ValueError(f"ConvTranspose{self.dims}D: for {input.ndim}D input, output_size "
                             f"must have {self.dims} or {lead + self.dims} elements (got "
                             f"{len(output_size)})")
        spatial = input.shape[lead:]
        smallest = [(size - 1) * s - 2 * p + d * (k - 1) + 1 for size, s, p, d, k
                    in zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size,
                           strict=True)]
        largest = [low + s - 1 for low, s in zip(smallest, self.stride, strict=True)]
        if any(not low <= size <= high
               for size, low, high in zip(output_size, smallest, largest, strict=True)):
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range "
                             f"from {smallest} to {largest} (for an input of "
                             f"{list(spatial)})")
        return tuple(size - low for size, low in zip(output_size, smallest, strict=True))

    def _check_input(self, input) -> None:
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise RuntimeError(f"Expected {self.dims + 1}D (unbatched) or {self.dims + 2}D "
                               f"(batched) input to conv_transpose{self.dims}d, but got input "
                               f"of size: {list(input.shape)}")


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over ``(N, C_in, H, W)`` (or ``(C_in, H, W)``) input: the
    gradient of a :class:`Conv2d` with respect to its input (see
    :func:`distgrad.nn.functional.conv_transpose2d`).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding, dilation: an int or a pair.
        output_padding: extra rows and columns at the bottom and right of the output,
            smaller than ``stride`` or ``dilation``; it picks one of the output sizes that
            a stride larger than 1 leaves open.
        groups: split the channels into this many independent convolutions.
        bias: whether to learn a bias per output channel.
        padding_mode: only ``'zeros'``.

    The weight is ``(in_channels, out_channels / groups, kH, kW)``; it and the bias are
    initialised from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with ``fan_in = out_channels /
    groups * kH * kW``. ``forward(input, output_size=None)``: an ``output_size`` (spatial,
    or with the batch and channel dims) overrides ``output_padding``.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)
        >>> up(torch.randn(1, 16, 12, 12), output_size=[24, 24]).shape
        (1, 8, 24, 24)
    """

    def forward(self, input, output_size=None):
        self._check_input(input)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over ``(N, C_in, L)`` (or ``(C_in, L)``) input.

    Args as :class:`ConvTranspose2d`, with ints (or 1-tuples); the weight is
    ``(in_channels, out_channels / groups, K)``.
    """

    dims = 1

    def forward(self, input, output_size=None):
        self._check_input(input)
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class Unfold(Module):
    """Extract sliding blocks as columns ``(N, C * kH * kW, L)``; see
    :func:`distgrad.nn.functional.unfold`."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum columns of sliding blocks back into ``(N, C) + output_size`` images; see
    :func:`distgrad.nn.functional.fold`."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class PixelShuffle(Module):
    """``(*, C * r**2, H, W) -> (*, C, H * r, W * r)``, ``r`` the ``upscale_factor``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r) -> (*, C * r**2, H, W)``, ``r`` the ``downscale_factor``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``(N, C, *)`` input from ``groups`` groups."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without the per-index rows in between;
    see :func:`distgrad.nn.functional.embedding_bag`.

    The weight ``(num_embeddings, embedding_dim)`` is initialised from N(0, 1), its row
    ``padding_idx`` (if given) zeroed. ``forward(input, offsets=None,
    per_sample_weights=None)``: ``(B, L)`` input, or 1-D input cut into bags at ``offsets``.
    ``sparse=True`` is not supported.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.include_last_offset = include_last_offset
        _lookup_table(self, "EmbeddingBag", num_embeddings, embedding_dim, padding_idx,
                      max_norm, norm_type, scale_grad_by_freq, sparse, _weight, dtype)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None):
        """Create an EmbeddingBag whose weight is (a copy of) the 2-D ``embeddings``."""
        rows, cols = embeddings.shape
        weight = Tensor._wrap(np.array(embeddings._data if isinstance(embeddings, Tensor)
                                       else embeddings))
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  _weight=weight, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
