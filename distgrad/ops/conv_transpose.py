"""Transposed convolution: ``conv_transpose2d`` and ``conv_transpose1d``.

A transposed convolution is conv2d's input gradient, so it adds no kernel of its own: its
forward is ``conv.py``'s col2im-based input-gradient forward, its input gradient is
``conv2d`` and its weight gradient conv2d's weight-gradient op, with the roles of input and
output swapped. Those VJPs are members of conv.py's closed family, so transposed
convolutions differentiate to any order.
"""

from __future__ import annotations

import numpy as np

from ._nn_common import array_of, call_op, pair, shape_str
from ._registry import apply, defop
from .conv import CONV2D, CONV_WEIGHT_GRAD, _conv_input_grad_forward
from .linalg import check_same_dtype
from .padding import pad

__all__ = ["conv_transpose2d", "conv_transpose1d"]


def _forward(x, w, b=None, *, output_shape, stride, padding, dilation, groups):
    out = _conv_input_grad_forward(x, w, input_shape=output_shape, stride=stride,
                                   padding=padding, dilation=dilation, groups=groups)
    out = np.ascontiguousarray(out)  # col2im's result is a transposed view
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def _grad_x(xp, h, out, x, w, b=None, *, output_shape, **geom):
    return call_op(xp, CONV2D, h, w, **geom)


def _grad_w(xp, h, out, x, w, b=None, *, output_shape, **geom):
    # Weight (C_in, C_out / G, ...) is conv2d's (O, C / G, ...) for the conv from h to x.
    return call_op(xp, CONV_WEIGHT_GRAD, h, x, weight_shape=tuple(w.shape), **geom)


def _grad_b(xp, h, out, x, w, b=None, **params):
    return xp.sum(h, axis=(0, 2, 3))


def _jvp(tangents, out, x, w, b=None, **params):
    tx, tw, tb = (tuple(tangents) + (None,))[:3]
    tangent = np.zeros_like(out)
    if tx is not None:
        tangent += _forward(tx, w, **params)
    if tw is not None:
        tangent += _forward(x, tw, **params)
    if tb is not None:
        tangent += tb.reshape(-1, 1, 1)
    return tangent


CONV_TRANSPOSE2D = defop("ConvolutionBackward0", _forward, (_grad_x, _grad_w, _grad_b),
                         needs=((1,), (0,), ()), jvp=_jvp)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution") of ``input`` ``(N, C_in, H, W)`` (or
    ``(C_in, H, W)``) with ``weight`` ``(C_in, C_out / groups, kH, kW)``, as PyTorch's
    ``conv_transpose2d``: the gradient of :func:`conv2d` with respect to its input.

    The output has ``H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) +
    output_padding + 1`` rows (likewise columns); ``output_padding`` adds rows and columns
    at the bottom and right and must be smaller than ``stride`` or ``dilation``.
    """
    x_shape, w_shape = np.shape(array_of(input)), np.shape(array_of(weight))
    if len(w_shape) != 4:
        raise RuntimeError(f"conv_transpose2d(): weight must be 4-D (in_channels, out_channels "
                           f"/ groups, kH, kW), got shape {shape_str(w_shape)}")
    if len(x_shape) not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, "
                           f"but got input of size: {shape_str(x_shape)}")
    if len(x_shape) == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    dilation, output_padding = pair(dilation, "dilation"), pair(output_padding, "output_padding")
    if 0 in stride or 0 in dilation:
        raise RuntimeError("conv_transpose2d(): stride and dilation must be positive")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation, strict=True)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding[0]} output_padding_width: "
            f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
            f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
    groups = int(groups)
    c_in, c_out_g, kh, kw = w_shape
    if groups < 1 or c_in % groups:
        raise ValueError(f"conv_transpose2d(): in_channels ({c_in}) must be divisible by "
                         f"groups ({groups})")
    check_same_dtype(array_of(input), array_of(weight), "conv_transpose2d()",
                     ("input", "weight"))
    if x_shape[1] != c_in:
        raise RuntimeError(f"conv_transpose2d(): expected input of shape [N, {c_in}, H, W] "
                           f"({c_in} channels for weight {shape_str(w_shape)}), got input of "
                           f"shape {shape_str(x_shape)}")
    if bias is not None and np.shape(array_of(bias)) != (c_out_g * groups,):
        raise RuntimeError(f"conv_transpose2d(): bias must have shape [{c_out_g * groups}], "
                           f"got {shape_str(np.shape(array_of(bias)))}")
    out_hw = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op
                   in zip(x_shape[2:], stride, padding, dilation, (kh, kw), output_padding,
                          strict=True))
    if min(out_hw) < 1:
        raise RuntimeError(f"conv_transpose2d(): the output size {list(out_hw)} computed for "
                           f"input {shape_str(x_shape)} is too small (padding {list(padding)})")
    # An output padding of a stride or more (allowed when the dilation is larger) reaches
    # rows that a stride-``s`` conv of the output would map to input rows beyond the last.
    # Those input rows are zeros: padding the input with them keeps conv2d, the input's
    # gradient, shaped as the (padded) input.
    extra = tuple(op // s for op, s in zip(output_padding, stride, strict=True))
    if extra != (0, 0):
        input = pad(input, (0, extra[1], 0, extra[0]))
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return apply(CONV_TRANSPOSE2D, *inputs, output_shape=(x_shape[0], c_out_g * groups) + out_hw,
                 stride=stride, padding=padding, dilation=dilation, groups=groups)


def _single(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple, got {tuple(value)}")
        value = value[0]
    return int(value)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of ``input`` ``(N, C_in, L)`` (or ``(C_in, L)``) with
    ``weight`` ``(C_in, C_out / groups, K)``: :func:`conv_transpose2d` with a unit height.
    The result's ``grad_fn`` is the ``SqueezeBackward1`` of that unit height (PyTorch
    records the convolution alone)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to "
                           f"conv_transpose1d, but got input of size: {list(input.shape)}")
    w_shape = np.shape(array_of(weight))
    if len(w_shape) != 3:
        raise RuntimeError(f"conv_transpose1d(): weight must be 3-D (in_channels, "
                           f"out_channels / groups, kW), got shape {shape_str(w_shape)}")
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias,
                           (1, _single(stride, "stride")), (0, _single(padding, "padding")),
                           (0, _single(output_padding, "output_padding")), groups,
                           (1, _single(dilation, "dilation")))
    return out.squeeze(-2)
