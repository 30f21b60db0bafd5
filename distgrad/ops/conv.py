"""Convolution: ``conv2d``, im2col + one matmul (pooling is in ``pooling.py``, ``pad`` in
``padding.py``).

conv2d's two gradients are ops of their own, and the three form a closed family: the input
gradient is a transposed convolution, the weight gradient a correlation of the input with
the output gradient, and each one's VJPs are again members of the family. So
``create_graph=True`` works through convolutions to any order.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._nn_common import array_of, call_op, pair, shape_str
from ._registry import apply, defop
from .linalg import check_same_dtype
from .padding import pad

__all__ = ["conv2d"]

# ---------------------------------------------------------------------- im2col / col2im


def _out_size(size, k, stride, pad, dilation):
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _window(i, j, out_hw, stride, dilation):
    """The slices of a padded image that kernel position ``(i, j)`` reads, for every output."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _batch_inner(n, w_shape) -> bool:
    """Whether columns order their output pixels ``(OH, OW, N)`` rather than ``(N, OH, OW)``.

    NumPy copies and adds fastest along long contiguous runs. Batch-major, the runs of
    im2col and col2im are as long as an image row; batch-innermost, as long as the batch,
    but the image, the output and its gradient move between layouts an element at a time.
    Measured, the second wins from a batch of 8 unless the columns (one row per input
    channel and kernel tap) are few: fewer than 8 (average pooling), or than the output
    channels (a first layer).
    """
    o, cg, kh, kw = w_shape
    return n >= 8 and cg * kh * kw >= max(o, 8)


def _pixels(n, out_hw, batch_inner) -> tuple:
    return out_hw + (n,) if batch_inner else (n,) + out_hw


def _im2col(x, kh, kw, out_hw, stride, padding, dilation, batch_inner):
    """``(N, C, H, W)`` -> columns ``(C, KH, KW) + pixels``: one row per (channel, kernel
    position), one column per output pixel (see :func:`_batch_inner` for their order).

    The columns are a strided view of the (padded) image, copied out in one call. A group
    of channels is a contiguous block of rows.
    """
    n, c, h, w = x.shape
    ph, pw = padding
    if batch_inner:  # the image as (C, H, W, N), padded
        image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
        image[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)
        s_c, s_h, s_w, s_n = image.strides
    else:
        image = x
        if ph or pw:
            image = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
            image[:, :, ph:ph + h, pw:pw + w] = x
        s_n, s_c, s_h, s_w = image.strides
    (sh, sw), (dh, dw) = stride, dilation
    pixel_strides = (s_h * sh, s_w * sw, s_n) if batch_inner else (s_n, s_h * sh, s_w * sw)
    view = as_strided(image, (c, kh, kw) + _pixels(n, out_hw, batch_inner),
                      (s_c, s_h * dh, s_w * dw) + pixel_strides, writeable=False)
    return np.ascontiguousarray(view)


def _col2im(cols, input_shape, stride, padding, dilation, batch_inner):
    """Sum columns ``(C, KH, KW) + pixels`` back into an ``(N, C, H, W)`` image."""
    c, kh, kw = cols.shape[:3]
    n, _, h, w = input_shape
    out_hw = cols.shape[3:5] if batch_inner else cols.shape[4:6]
    ph, pw = padding
    hp, wp = h + 2 * ph, w + 2 * pw
    image = np.zeros((c, hp, wp, n) if batch_inner else (c, n, hp, wp), dtype=cols.dtype)
    rows = (slice(None),) if batch_inner else (slice(None), slice(None))
    # One strided add per kernel position (kh * kw of them), never a loop over pixels.
    for i in range(kh):
        for j in range(kw):
            image[rows + _window(i, j, out_hw, stride, dilation)] += cols[:, i, j]
    if batch_inner:
        return image[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2)
    return image[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)


def _out_hw(g):
    return g.shape[2], g.shape[3]


def _grad_rows(g, groups, batch_inner):
    """``(N, O, OH, OW)`` -> ``(G, O / G, pixels)``, pixels ordered as the columns'."""
    o = g.shape[1]
    order = (1, 2, 3, 0) if batch_inner else (1, 0, 2, 3)
    return g.transpose(order).reshape(groups, o // groups, -1)


# ------------------------------------------------------------------ the conv family


def _conv_forward(x, w, b=None, *, stride, padding, dilation, groups):
    n, _, h, w_in = x.shape
    o, _, kh, kw = w.shape
    out_hw = (_out_size(h, kh, stride[0], padding[0], dilation[0]),
              _out_size(w_in, kw, stride[1], padding[1], dilation[1]))
    batch_inner = _batch_inner(n, w.shape)
    cols = _im2col(x, kh, kw, out_hw, stride, padding, dilation, batch_inner)
    m = n * out_hw[0] * out_hw[1]
    out = np.matmul(w.reshape(groups, o // groups, -1), cols.reshape(groups, -1, m))
    out = out.reshape((o,) + _pixels(n, out_hw, batch_inner))
    if b is not None:
        out += b.reshape(o, 1, 1, 1)
    # Contiguous NCHW like PyTorch's, so that ``.view()`` works on the result.
    return np.ascontiguousarray(out.transpose((3, 0, 1, 2) if batch_inner else (1, 0, 2, 3)))


def _conv_input_grad_forward(g, w, *, input_shape, stride, padding, dilation, groups):
    n, o = g.shape[:2]
    _, cg, kh, kw = w.shape
    batch_inner = _batch_inner(n, w.shape)
    w_t = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)
    cols = np.matmul(w_t, _grad_rows(g, groups, batch_inner))     # (G, Cg*KH*KW, M)
    cols = cols.reshape((cg * groups, kh, kw) + _pixels(n, _out_hw(g), batch_inner))
    return _col2im(cols, input_shape, stride, padding, dilation, batch_inner)


def _conv_weight_grad_forward(x, g, *, weight_shape, stride, padding, dilation, groups):
    kh, kw = weight_shape[2:]
    batch_inner = _batch_inner(g.shape[0], weight_shape)
    cols = _im2col(x, kh, kw, _out_hw(g), stride, padding, dilation, batch_inner)
    cols = cols.reshape(groups, -1, cols[0, 0, 0].size)          # (G, Cg*KH*KW, M)
    grad = np.matmul(_grad_rows(g, groups, batch_inner), cols.transpose(0, 2, 1))
    return grad.reshape(weight_shape)


def _conv_grad_x(xp, g, out, x, w, b=None, **geom):
    return call_op(xp, CONV_INPUT_GRAD, g, w, input_shape=tuple(x.shape), **geom)


def _conv_grad_w(xp, g, out, x, w, b=None, **geom):
    return call_op(xp, CONV_WEIGHT_GRAD, x, g, weight_shape=tuple(w.shape), **geom)


def _conv_grad_b(xp, g, out, x, w, b=None, **geom):
    return xp.sum(g, axis=(0, 2, 3))


def _input_grad_grad_g(xp, h, out, g, w, *, input_shape, **geom):
    return call_op(xp, CONV2D, h, w, **geom)


def _input_grad_grad_w(xp, h, out, g, w, *, input_shape, **geom):
    return call_op(xp, CONV_WEIGHT_GRAD, h, g, weight_shape=tuple(w.shape), **geom)


def _weight_grad_grad_x(xp, h, out, x, g, *, weight_shape, **geom):
    return call_op(xp, CONV_INPUT_GRAD, g, h, input_shape=tuple(x.shape), **geom)


def _weight_grad_grad_g(xp, h, out, x, g, *, weight_shape, **geom):
    return call_op(xp, CONV2D, x, h, **geom)


# In each of the three, an operand's gradient reads the other operand's values (and its own
# only for its shape): an in-place change to an operand that needs no gradient is harmless.
CONV2D = defop("ConvolutionBackward0", _conv_forward, (_conv_grad_x, _conv_grad_w, _conv_grad_b),
               needs=((1,), (0,), ()))
CONV_INPUT_GRAD = defop("ConvolutionBackwardInput0", _conv_input_grad_forward,
                        (_input_grad_grad_g, _input_grad_grad_w), needs=((1,), (0,)))
CONV_WEIGHT_GRAD = defop("ConvolutionBackwardWeight0", _conv_weight_grad_forward,
                         (_weight_grad_grad_x, _weight_grad_grad_g), needs=((1,), (0,)))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` ``(N, C, H, W)`` (or ``(C, H, W)``) with ``weight``
    ``(O, C / groups, KH, KW)``, as PyTorch's ``conv2d``.

    ``padding`` may be an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1 only; for an
    even dilated kernel the extra row and column of padding go at the bottom and right, as
    PyTorch does).
    """
    x_shape, w_shape = np.shape(array_of(input)), np.shape(array_of(weight))
    if len(w_shape) != 4:
        raise RuntimeError(f"conv2d(): weight must be 4-D (out_channels, in_channels / groups, "
                           f"kH, kW), got shape {shape_str(w_shape)}")
    if len(x_shape) == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if 0 in stride:
        raise ValueError("conv2d(): stride must be positive")
    padding, extra = _conv_padding(padding, w_shape, stride, dilation)
    groups = int(groups)
    o, cg, kh, kw = w_shape
    if groups < 1 or o % groups:
        raise ValueError(f"conv2d(): out_channels ({o}) must be divisible by groups ({groups})")
    check_same_dtype(array_of(input), array_of(weight), "conv2d()", ("input", "weight"))
    if len(x_shape) != 4 or x_shape[1] != cg * groups:
        got = x_shape[1] if len(x_shape) == 4 else f"a {len(x_shape)}-D input"
        raise RuntimeError(f"conv2d(): expected input of shape [N, {cg * groups}, H, W] "
                           f"({cg * groups} channels for weight {shape_str(w_shape)} and "
                           f"groups={groups}), got {got} (input shape {shape_str(x_shape)})")
    if extra != (0, 0):
        input = pad(input, (0, extra[1], 0, extra[0]))
        x_shape = input.shape
    oh = _out_size(x_shape[2], kh, stride[0], padding[0], dilation[0])
    ow = _out_size(x_shape[3], kw, stride[1], padding[1], dilation[1])
    if oh < 1 or ow < 1:
        raise RuntimeError(f"conv2d(): input {shape_str(x_shape)} (padded by {list(padding)}) is "
                           f"smaller than the dilated kernel "
                           f"{[(kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1]}")
    if bias is not None and np.shape(array_of(bias)) != (o,):
        raise RuntimeError(f"conv2d(): bias must have shape [{o}], got "
                           f"{shape_str(np.shape(array_of(bias)))}")
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return apply(CONV2D, *inputs, stride=stride, padding=padding, dilation=dilation,
                 groups=groups)


def _conv_padding(padding, w_shape, stride, dilation):
    """``(padding, extra)``: the padding on both sides of each spatial dim, and the one more
    row or column that ``'same'`` adds at the bottom or right for an even (dilated) kernel."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise RuntimeError(f"conv2d(): invalid padding string {padding!r}; use 'valid', "
                               "'same' or an int or pair of ints")
        if stride != (1, 1):
            raise RuntimeError("conv2d(): padding='same' is not supported for strided "
                               "convolutions; use stride=1 or explicit padding")
        totals = [d * (k - 1) for d, k in zip(dilation, w_shape[2:], strict=True)]
        return tuple(t // 2 for t in totals), tuple(t % 2 for t in totals)
    return pair(padding, "padding"), (0, 0)
