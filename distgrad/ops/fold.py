"""Rearranging ops: ``unfold``/``fold`` (im2col/col2im in PyTorch's ``(N, C * kH * kW, L)``
layout), ``pixel_shuffle``/``pixel_unshuffle`` and ``channel_shuffle``.

Each is linear and comes with its transpose: unfold and fold are each other's gradient, and
so are pixel_shuffle and pixel_unshuffle; channel_shuffle's is channel_shuffle by the other
factor. So all differentiate to any order. Unfold and fold reuse conv.py's im2col/col2im.
"""

from __future__ import annotations

import numpy as np

from ._nn_common import call_op, pair
from ._registry import apply, defop
from .conv import _col2im, _im2col, _out_size

__all__ = ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]

# ----------------------------------------------------------------------- unfold / fold


def _blocks(size, kernel, stride, padding, dilation) -> tuple:
    return tuple(_out_size(*args) for args in zip(size, kernel, stride, padding, dilation,
                                                   strict=True))


def _unfold_forward(x, *, output_size, kernel, stride, padding, dilation):
    n, c = x.shape[:2]
    out_hw = _blocks(x.shape[2:], kernel, stride, padding, dilation)
    cols = _im2col(x, *kernel, out_hw, stride, padding, dilation, False)  # (C, kH, kW, N, L)
    return np.ascontiguousarray(cols.reshape(c * kernel[0] * kernel[1], n, -1)
                                .transpose(1, 0, 2))


def _fold_forward(cols, *, output_size, kernel, stride, padding, dilation):
    n, rows, _ = cols.shape
    c = rows // (kernel[0] * kernel[1])
    out_hw = _blocks(output_size, kernel, stride, padding, dilation)
    cols = cols.reshape((n, c) + kernel + out_hw).transpose(1, 2, 3, 0, 4, 5)
    image = _col2im(cols, (n, c) + tuple(output_size), stride, padding, dilation, False)
    return np.ascontiguousarray(image)


# Both take the image's spatial size as ``output_size`` (unfold's input, fold's output), so
# that each one's gradient is the other with the same parameters.


def _unfold_grad(xp, g, out, x, **geom):
    return call_op(xp, FOLD, g, **geom)


def _fold_grad(xp, g, out, cols, **geom):
    return call_op(xp, UNFOLD, g, **geom)


UNFOLD = defop("Im2ColBackward0", _unfold_forward, (_unfold_grad,), save_inputs=False,
               jvp="linear")
FOLD = defop("Col2ImBackward0", _fold_forward, (_fold_grad,), save_inputs=False, jvp="linear")


def _geometry(kernel_size, dilation, padding, stride) -> dict:
    geom = {"kernel": pair(kernel_size, "kernel_size"), "stride": pair(stride, "stride"),
            "padding": pair(padding, "padding"), "dilation": pair(dilation, "dilation")}
    if 0 in geom["kernel"] or 0 in geom["stride"] or 0 in geom["dilation"]:
        raise RuntimeError("kernel_size, stride and dilation must be positive")
    return geom


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks of ``input`` ``(N, C, H, W)`` (or ``(C, H, W)``) as columns:
    the result is ``(N, C * kH * kW, L)``, with ``L`` blocks in row-major order, as
    PyTorch's ``unfold`` (im2col)."""
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    if input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    geom = _geometry(kernel_size, dilation, padding, stride)
    blocks = _blocks(input.shape[2:], geom["kernel"], geom["stride"], geom["padding"],
                     geom["dilation"])
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {list(input.shape[2:])}, "
                           f"kernel_size={geom['kernel']}, dilation={geom['dilation']}, "
                           f"padding={geom['padding']}, calculated shape of the array of "
                           f"sliding blocks as {list(blocks)}, but its components must be at "
                           f"least one.")
    return apply(UNFOLD, input, output_size=tuple(input.shape[2:]), **geom)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns ``(N, C * kH * kW, L)`` (or ``(C * kH * kW, L)``) of sliding blocks back
    into an image ``(N, C) + output_size``, as PyTorch's ``fold`` (col2im); overlapping
    blocks add up. The transpose of :func:`unfold`."""
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    if input.ndim != 3:
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    geom = _geometry(kernel_size, dilation, padding, stride)
    output_size = pair(output_size, "output_size")
    kh, kw = geom["kernel"]
    if input.shape[1] % (kh * kw):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={input.shape[1]} "
                           f"and kernel_size={geom['kernel']}.")
    blocks = _blocks(output_size, geom["kernel"], geom["stride"], geom["padding"],
                     geom["dilation"])
    if min(blocks) < 1 or input.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={geom['kernel']}, "
                           f"dilation={geom['dilation']}, padding={geom['padding']}, "
                           f"stride={geom['stride']}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size(2)={input.shape[2]}.")
    return apply(FOLD, input, output_size=output_size, **geom)


# ------------------------------------------------------------ pixel and channel shuffle


def _pixel_shuffle_forward(x, *, factor):
    lead, (c, h, w), r = x.shape[:-3], x.shape[-3:], factor
    k = len(lead)
    y = x.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.transpose(tuple(range(k)) + tuple(k + i for i in (0, 3, 1, 4, 2)))
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def _pixel_unshuffle_forward(x, *, factor):
    lead, (c, h, w), r = x.shape[:-3], x.shape[-3:], factor
    k = len(lead)
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    y = y.transpose(tuple(range(k)) + tuple(k + i for i in (0, 2, 4, 1, 3)))
    return y.reshape(lead + (c * r * r, h // r, w // r))


def _pixel_shuffle_grad(xp, g, out, x, *, factor):
    return call_op(xp, PIXEL_UNSHUFFLE, g, factor=factor)


def _pixel_unshuffle_grad(xp, g, out, x, *, factor):
    return call_op(xp, PIXEL_SHUFFLE, g, factor=factor)


PIXEL_SHUFFLE = defop("PixelShuffleBackward0", _pixel_shuffle_forward, (_pixel_shuffle_grad,),
                      save_inputs=False, jvp="linear")
PIXEL_UNSHUFFLE = defop("PixelUnshuffleBackward0", _pixel_unshuffle_forward,
                        (_pixel_unshuffle_grad,), save_inputs=False, jvp="linear")


def _check_factor(input, factor, name, what):
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if int(factor) <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    return int(factor)


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C * r**2, H, W)`` into ``(*, C, H * r, W * r)``, ``r`` the
    ``upscale_factor``: each group of ``r**2`` channels becomes an ``r x r`` patch."""
    r = _check_factor(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but "
                           f"input.size(-3)={input.shape[-3]} is not divisible by {r * r}")
    return apply(PIXEL_SHUFFLE, input, factor=r)


def pixel_unshuffle(input, downscale_factor):
    """Rearrange ``(*, C, H * r, W * r)`` into ``(*, C * r**2, H, W)``, ``r`` the
    ``downscale_factor``: the inverse of :func:`pixel_shuffle`."""
    r = _check_factor(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    for dim, name in ((-2, "height"), (-1, "width")):
        if input.shape[dim] % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={input.shape[dim]} "
                               f"is not divisible by {r}")
    return apply(PIXEL_UNSHUFFLE, input, factor=r)


def _channel_shuffle_forward(x, *, groups):
    n, c = x.shape[:2]
    rest = x.shape[2:]
    return x.reshape((n, groups, c // groups) + rest).swapaxes(1, 2).reshape(x.shape)


def _channel_shuffle_grad(xp, g, out, x, *, groups):
    return call_op(xp, CHANNEL_SHUFFLE, g, groups=g.shape[1] // groups)


CHANNEL_SHUFFLE = defop("ChannelShuffleBackward0", _channel_shuffle_forward,
                        (_channel_shuffle_grad,), save_inputs=False, jvp="linear")


def channel_shuffle(input, groups):
    """Interleave the channels of ``(N, C, *)`` input from ``groups`` groups: the channels
    viewed as ``(groups, C / groups)`` are transposed, as in ShuffleNet."""
    groups = int(groups)
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got "
                           f"{input.shape[1]} channels and {groups} groups.")
    return apply(CHANNEL_SHUFFLE, input, groups=groups)
