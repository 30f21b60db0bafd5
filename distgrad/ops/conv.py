"""Convolution and pooling: ``conv2d`` (im2col + one matmul), ``max_pool2d``, ``avg_pool2d``,
and constant ``pad``.

conv2d's two gradients are ops of their own, and the three form a closed family: the input
gradient is a transposed convolution, the weight gradient a correlation of the input with
the output gradient, and each one's VJPs are again members of the family. So
``create_graph=True`` works through convolutions to any order.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import Tensor
from . import _backends
from ._nn_common import array_of, call_op, pair, shape_str
from ._registry import apply, defop

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad"]

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


# ---------------------------------------------------------------------------- pooling


def _maxpool_forward(x, *, positions, overlapping, empty, values):
    # positions: for each window, the flat index into x of its maximum (see max_pool2d)
    if values is None:
        values = x.reshape(-1)[positions]
    if empty is not None:
        values[..., empty] = -np.inf
    return values


def _maxpool_grad(xp, g, out, x, *, positions, overlapping, empty, values):
    if empty is not None:  # a window over padding alone passes no gradient
        g = xp.where(empty, 0.0, g)
    if xp is _backends.raw:
        if not overlapping:  # every input position is the maximum of at most one window
            grad = np.zeros(x.size, dtype=g.dtype)
            grad[positions.reshape(-1)] = g.reshape(-1)
        else:
            grad = np.bincount(positions.reshape(-1), weights=g.reshape(-1),
                               minlength=x.size).astype(g.dtype, copy=False)
        return grad.reshape(x.shape)
    size = math.prod(x.shape)  # (x is a tensor here, whose .size is a method)
    return xp.reshape(xp.index_add((size,), positions.reshape(-1), xp.reshape(g, (-1,))),
                      x.shape)


MAX_POOL2D = defop("MaxPool2DWithIndicesBackward0", _maxpool_forward, (_maxpool_grad,))


def _argmax_positions(x, kernel, stride, padding, dilation):
    """For each pooling window, the flat ``h * W + w`` position of its (first) maximum; where
    some windows read only padding, a mask of them (else None, see :func:`_no_input`); and
    the maxima themselves when they came out on the way (else None)."""
    (kh, kw), (ph, pw) = kernel, padding
    n, c, h, w = x.shape
    out_hw = (_out_size(h, kh, stride[0], ph, dilation[0]),
              _out_size(w, kw, stride[1], pw, dilation[1]))
    if (stride == kernel and not (ph or pw) and dilation == (1, 1)
            and not np.isnan(np.add.reduce(x, axis=None))):
        # The usual pooling, windows side by side (a NaN anywhere takes the general path).
        # Element k of every window goes to row k of one contiguous array, so that the
        # maximum and its first position are a few whole-array ops: an argmax over each
        # window's few elements, or ops on strided views of them, run NumPy's inner loop
        # once per handful of elements, 10-20x slower.
        (oh, ow), n_k = out_hw, kh * kw
        rows = np.ascontiguousarray(
            x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw).transpose(3, 5, 0, 1, 2, 4)
        ).reshape(n_k, n, c, oh, ow)
        best = np.maximum.reduce(rows, axis=0)  # ties keep the earlier row, as PyTorch
        # The first row equal to the maximum: count the rows before it.
        first = np.zeros(best.shape, dtype=np.uint8 if n_k < 256 else np.intp)
        found = rows[0] == best
        for k in range(1, n_k):
            first += ~found
            found |= rows[k] == best
        offset_in_window = np.array([i * w + j for i in range(kh) for j in range(kw)])
        corner = np.arange(oh).reshape(-1, 1) * (kh * w) + np.arange(ow) * kw
        return np.take(offset_in_window, first) + corner, None, best
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    best, best_k = None, np.zeros((n, c) + out_hw, dtype=np.int64)
    # A running maximum over the kernel positions (strictly greater: the first wins ties; a
    # NaN always wins, so that it propagates, the last one as in PyTorch).
    for i in range(kh):
        for j in range(kw):
            candidate = x[(slice(None), slice(None)) + _window(i, j, out_hw, stride, dilation)]
            if best is None:
                best = candidate.copy()
                continue
            better = candidate > best
            better |= np.isnan(candidate)
            np.copyto(best, candidate, where=better)
            best_k[better] = i * kw + j
    rows = np.arange(out_hw[0]).reshape(-1, 1) * stride[0] + (best_k // kw) * dilation[0] - ph
    cols = np.arange(out_hw[1]) * stride[1] + (best_k % kw) * dilation[1] - pw
    if not (ph or pw):
        return rows * w + cols, None, None
    return _no_input(rows, cols, (h, w), kernel, stride, padding, dilation) + (None,)


def _first_taps(size, k, stride, pad, dilation, n_out):
    """Along one axis, per window: its first tap at or after 0 (where PyTorch's search
    starts) and whether no tap of it reads the input."""
    start = np.arange(n_out) * stride - pad
    first = start + (np.maximum(-start, 0) + dilation - 1) // dilation * dilation
    return first, (first >= size) | (first > start + (k - 1) * dilation)


def _no_input(rows, cols, input_hw, kernel, stride, padding, dilation):
    """Fix the winners that are padding: a window whose input is all ``-inf``, or that reads
    only padding (possible with dilation), reports PyTorch's index, its first tap inside
    the top-left corner. The second kind is masked: its value is ``-inf`` and its gradient
    goes nowhere."""
    h, w = input_hw
    index = rows * w + cols
    outside = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
    if not outside.any():
        return index, None
    first_r, empty_r = _first_taps(h, kernel[0], stride[0], padding[0], dilation[0],
                                   rows.shape[-2])
    first_c, empty_c = _first_taps(w, kernel[1], stride[1], padding[1], dilation[1],
                                   cols.shape[-1])
    index = np.where(outside, first_r.reshape(-1, 1) * w + first_c, index)
    empty = empty_r.reshape(-1, 1) | empty_c
    return index, empty if empty.any() else None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over ``(N, C, H, W)`` (or ``(C, H, W)``) input.

    Padding counts as ``-inf``. The gradient goes to the position of each window's maximum
    (the first one at ties); ``return_indices`` also returns those positions, flattened
    over ``H * W`` as PyTorch does.
    """
    if ceil_mode:
        raise NotImplementedError("max_pool2d(): ceil_mode=True is not supported")
    x = array_of(input)
    if x.ndim == 3:
        result = max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation,
                            return_indices=return_indices)
        if return_indices:
            return result[0].squeeze(0), result[1].squeeze(0)
        return result.squeeze(0)
    if x.ndim != 4:
        raise RuntimeError(f"max_pool2d(): expected a 3-D or 4-D input, got shape "
                           f"{shape_str(x.shape)}")
    kh, kw = pair(kernel_size, "kernel_size")
    stride = pair(stride if stride is not None else (kh, kw), "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    if 2 * padding[0] > kh or 2 * padding[1] > kw:
        raise RuntimeError(f"max_pool2d(): pad should be at most half of kernel size, got "
                           f"padding={list(padding)} for kernel_size={[kh, kw]}; use padding "
                           f"<= kernel_size // 2")
    n, c, h, w = x.shape
    if _out_size(h, kh, stride[0], padding[0], dilation[0]) < 1 or \
            _out_size(w, kw, stride[1], padding[1], dilation[1]) < 1:
        raise RuntimeError(f"max_pool2d(): input {shape_str(x.shape)} is smaller than the "
                           f"kernel {[kh, kw]}")
    index, empty, values = _argmax_positions(x, (kh, kw), stride, padding, dilation)
    overlapping = stride[0] < (kh - 1) * dilation[0] + 1 or stride[1] < (kw - 1) * dilation[1] + 1
    # Windows over padding alone read position 0 instead of their index, which may lie
    # outside the input; their gradient is masked (so several of them may share position 0).
    read = index if empty is None else np.where(empty, 0, index)
    positions = read + np.arange(n * c).reshape(n, c, 1, 1) * (h * w)  # into x.reshape(-1)
    out = apply(MAX_POOL2D, input, positions=positions,
                overlapping=overlapping or empty is not None, empty=empty, values=values)
    if return_indices:
        return out, Tensor._wrap(index.astype(np.int64, copy=False))
    return out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """2-D average pooling; padding zeros count in the average (``count_include_pad``)."""
    if ceil_mode or not count_include_pad:
        raise NotImplementedError("avg_pool2d(): only ceil_mode=False, count_include_pad=True")
    kh, kw = pair(kernel_size, "kernel_size")
    stride = stride if stride is not None else (kh, kw)
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding).squeeze(0)
    n, c, h, w = input.shape
    # Average pooling is a depthwise convolution with a constant kernel.
    kernel = np.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=array_of(input).dtype)
    out = conv2d(input.reshape(n * c, 1, h, w), Tensor._wrap(kernel), None, stride, padding)
    return out.reshape(n, c, out.shape[2], out.shape[3])


# -------------------------------------------------------------------------------- pad


def _pad_forward(x, *, widths, value):
    return np.pad(x, widths, constant_values=value)


def _pad_grad(xp, g, out, x, *, widths, value):
    inside = (slice(before, size - after) for (before, after), size in
              zip(widths, g.shape, strict=True))
    return g[tuple(inside)]


PAD = defop("ConstantPadNdBackward0", _pad_forward, (_pad_grad,), save_inputs=False)


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dim, as PyTorch's ``F.pad``. Only ``mode='constant'`` is supported."""
    if mode != "constant":
        raise NotImplementedError(f"pad(): mode {mode!r} is not supported; use 'constant'")
    pad = tuple(int(p) for p in pad)
    ndim = np.ndim(array_of(input))
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"pad(): padding length must be even and at most 2 * ndim ({2 * ndim}), "
                         f"got {len(pad)}")
    if any(p < 0 for p in pad):
        raise NotImplementedError("pad(): negative (cropping) padding is not supported")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return apply(PAD, input, widths=tuple(widths), value=value)
