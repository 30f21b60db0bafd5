"""Pooling: ``max_pool2d`` (gathers each window's first maximum) and ``avg_pool2d`` (a sum
by a constant-kernel convolution, divided by each window's element count).

Output sizes follow PyTorch, ``ceil_mode`` included: a ceil-mode window may overhang the
bottom/right edge (it must start inside the input or its left/top padding), and the overhang
is padding that never wins a maximum and never counts in an average.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from . import _backends
from ._nn_common import array_of, call_op, pair, shape_str
from ._registry import apply, defop
from .conv import _conv_forward, _conv_input_grad_forward, _window

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def _pool_out_size(size, k, stride, pad, dilation, ceil_mode):
    span = size + 2 * pad - dilation * (k - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window would start in the bottom/right padding
    return out


def _overhang(size, k, stride, pad, dilation, n_out):
    """How far the last window reaches past the padded input (ceil mode), else 0."""
    return max(0, (n_out - 1) * stride + dilation * (k - 1) + 1 - (size + 2 * pad))


def _pool_geometry(name, x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated ``(kernel, stride, padding, dilation, out_hw)`` for an ``(N, C, H, W)`` input."""
    kh, kw = pair(kernel_size, "kernel_size")
    stride = pair(stride if stride is not None and stride != [] else (kh, kw), "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    if 2 * padding[0] > kh or 2 * padding[1] > kw:
        raise RuntimeError(f"{name}(): pad should be at most half of kernel size, got "
                           f"padding={list(padding)} for kernel_size={[kh, kw]}; use padding "
                           f"<= kernel_size // 2")
    out_hw = tuple(_pool_out_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d in
                   zip(x_shape[2:], (kh, kw), stride, padding, dilation, strict=True))
    if min(out_hw) < 1:
        raise RuntimeError(f"{name}(): input {shape_str(x_shape)} is smaller than the "
                           f"kernel {[kh, kw]}")
    return (kh, kw), stride, padding, dilation, out_hw


def _with_batch(pool, input, *args, **kwargs):
    """Run ``pool`` on a ``(C, H, W)`` input as a batch of one."""
    result = pool(input.unsqueeze(0), *args, **kwargs)
    if isinstance(result, tuple):
        return tuple(r.squeeze(0) for r in result)
    return result.squeeze(0)


# ----------------------------------------------------------------------------- max


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


def _argmax_positions(x, kernel, stride, padding, dilation, out_hw):
    """For each pooling window, the flat ``h * W + w`` position of its (first) maximum; where
    some windows read only padding, a mask of them (else None, see :func:`_no_input`); and
    the maxima themselves when they came out on the way (else None)."""
    (kh, kw), (ph, pw), (oh, ow) = kernel, padding, out_hw
    n, c, h, w = x.shape
    if (stride == kernel and not (ph or pw) and dilation == (1, 1)
            and oh * kh <= h and ow * kw <= w and not np.isnan(np.add.reduce(x, axis=None))):
        # The usual pooling, windows side by side (a NaN anywhere takes the general path).
        # Element k of every window goes to row k of one contiguous array, so that the
        # maximum and its first position are a few whole-array ops: an argmax over each
        # window's few elements, or ops on strided views of them, run NumPy's inner loop
        # once per handful of elements, 10-20x slower.
        n_k = kh * kw
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
    extra_h = _overhang(h, kh, stride[0], ph, dilation[0], oh)
    extra_w = _overhang(w, kw, stride[1], pw, dilation[1], ow)
    padded = ph or pw or extra_h or extra_w
    if padded:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph + extra_h), (pw, pw + extra_w)),
                   constant_values=-np.inf)
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
    rows = np.arange(oh).reshape(-1, 1) * stride[0] + (best_k // kw) * dilation[0] - ph
    cols = np.arange(ow) * stride[1] + (best_k % kw) * dilation[1] - pw
    if not padded:
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
    over ``H * W`` as PyTorch does. ``ceil_mode`` rounds the output size up (see the module
    docstring).
    """
    x = array_of(input)
    if x.ndim == 3:
        return _with_batch(max_pool2d, input, kernel_size, stride, padding, dilation,
                           ceil_mode, return_indices)
    if x.ndim != 4:
        raise RuntimeError(f"max_pool2d(): expected a 3-D or 4-D input, got shape "
                           f"{shape_str(x.shape)}")
    kernel, stride, padding, dilation, out_hw = _pool_geometry(
        "max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, h, w = x.shape
    index, empty, values = _argmax_positions(x, kernel, stride, padding, dilation, out_hw)
    overlapping = any(s < (k - 1) * d + 1 for s, k, d in zip(stride, kernel, dilation,
                                                            strict=True))
    # Windows over padding alone read position 0 instead of their index, which may lie
    # outside the input; their gradient is masked (so several of them may share position 0).
    read = index if empty is None else np.where(empty, 0, index)
    positions = read + np.arange(n * c).reshape(n, c, 1, 1) * (h * w)  # into x.reshape(-1)
    out = apply(MAX_POOL2D, input, positions=positions,
                overlapping=overlapping or empty is not None, empty=empty, values=values)
    if return_indices:
        return out, Tensor._wrap(index.astype(np.int64, copy=False))
    return out


# ------------------------------------------------------------------------- average


def _avg_pool_forward(x, *, kernel, stride, pads, divisor, input_shape):
    """Window sums, a convolution of each plane with a kernel of ones, over divisors."""
    n, c, h, w = x.shape
    planes = x.reshape(n * c, 1, h, w)
    if any(pads):
        planes = np.pad(planes, ((0, 0), (0, 0), pads[:2], pads[2:]))
    sums = _conv_forward(planes, np.ones((1, 1) + kernel, dtype=x.dtype), stride=stride,
                         padding=(0, 0), dilation=(1, 1), groups=1)
    return (sums / divisor).reshape((n, c) + sums.shape[2:])


def _avg_pool_adjoint(g, *, kernel, stride, pads, divisor, input_shape):
    """The transpose of :func:`_avg_pool_forward` (both are linear): the gradient."""
    n, c, h, w = input_shape
    top, bottom, left, right = pads
    scaled = (g / divisor).reshape((n * c, 1) + g.shape[2:])
    grad = _conv_input_grad_forward(
        scaled, np.ones((1, 1) + kernel, dtype=g.dtype),
        input_shape=(n * c, 1, h + top + bottom, w + left + right), stride=stride,
        padding=(0, 0), dilation=(1, 1), groups=1)
    return grad[:, :, top:top + h, left:left + w].reshape(input_shape)


def _avg_pool_grad(xp, g, out, x, **params):
    return call_op(xp, AVG_POOL2D_ADJOINT, g, **params)


def _avg_pool_adjoint_grad(xp, h, out, g, **params):
    return call_op(xp, AVG_POOL2D, h, **params)


AVG_POOL2D = defop("AvgPool2DBackward0", _avg_pool_forward, (_avg_pool_grad,),
                   save_inputs=False, jvp="linear")
AVG_POOL2D_ADJOINT = defop("AvgPool2DBackwardBackward0", _avg_pool_adjoint,
                           (_avg_pool_adjoint_grad,), save_inputs=False, jvp="linear")


def _window_counts(size, k, stride, pad, n_out, count_include_pad):
    """Along one axis, how many positions each window averages: the input's, plus the
    padding's when ``count_include_pad`` (never a ceil-mode overhang)."""
    start = np.arange(n_out) * stride - pad
    end = np.minimum(start + k, size + pad)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over ``(N, C, H, W)`` (or ``(C, H, W)``) input.

    Padding is zeros, counted in each window's divisor when ``count_include_pad``;
    ``divisor_override`` replaces every divisor. ``ceil_mode`` rounds the output size up
    (see the module docstring).
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim == 3:
        return _with_batch(avg_pool2d, input, kernel_size, stride, padding, ceil_mode,
                           count_include_pad, divisor_override)
    if input.ndim != 4:
        raise RuntimeError(f"avg_pool2d(): expected a 3-D or 4-D input, got shape "
                           f"{shape_str(input.shape)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d(): divisor must be not zero")
    kernel, stride, padding, _, (oh, ow) = _pool_geometry(
        "avg_pool2d", input.shape, kernel_size, stride, padding, 1, ceil_mode)
    _, _, h, w = input.shape
    (kh, kw), (ph, pw) = kernel, padding
    pads = (ph, ph + _overhang(h, kh, stride[0], ph, 1, oh),
            pw, pw + _overhang(w, kw, stride[1], pw, 1, ow))
    dtype = input._data.dtype
    if divisor_override is not None:
        divisor = np.asarray(divisor_override, dtype=dtype)
    else:
        divisor = np.outer(_window_counts(h, kh, stride[0], ph, oh, count_include_pad),
                           _window_counts(w, kw, stride[1], pw, ow, count_include_pad))
        divisor = divisor.astype(dtype if dtype.kind == "f" else np.float32)
    return apply(AVG_POOL2D, input, kernel=kernel, stride=stride, pads=pads, divisor=divisor,
                 input_shape=tuple(input.shape))


# ------------------------------------------------------------------------ adaptive


def _adaptive_windows(size, n_out, dtype):
    """``(n_out, size)`` zeros and ones: row i selects positions ``floor(i * size / n_out)``
    up to ``ceil((i + 1) * size / n_out)``, PyTorch's adaptive windows; and their sizes."""
    starts = np.arange(n_out) * size // n_out
    ends = -(-np.arange(1, n_out + 1) * size // n_out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return inside.astype(dtype), ends - starts


def _window_sums(a, windows, axis):
    """``windows @ a`` along ``axis`` for a 0/1 ``windows`` matrix, summing only the selected
    elements: a NaN or inf stays in the windows that hold it (in a product, 0 * inf is NaN)."""
    a = np.moveaxis(a, axis, -1)
    out = np.zeros(a.shape[:-1] + (windows.shape[0],), dtype=a.dtype)
    for i, row in enumerate(windows.astype(bool)):
        out[..., i] = a[..., row].sum(-1)
    return np.moveaxis(out, -1, axis)


def _adaptive_forward(x, *, rows, cols, divisor):
    # Separable: sum along H with one small matrix, along W with another; then average.
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.matmul(np.matmul(rows, x), cols.T) / divisor
    if not np.isfinite(out).all():  # a NaN or inf in x: the products spread it (see above)
        out = _window_sums(_window_sums(x, rows, -2), cols, -1) / divisor
    return out


def _adaptive_adjoint(g, *, rows, cols, divisor):
    g = g / divisor
    if not np.isfinite(g).all():
        return _window_sums(_window_sums(g, rows.T, -2), cols.T, -1)
    return np.matmul(np.matmul(rows.T, g), cols)


def _adaptive_grad(xp, g, out, x, **params):
    return call_op(xp, ADAPTIVE_AVG_POOL2D_ADJOINT, g, **params)


def _adaptive_adjoint_grad(xp, h, out, g, **params):
    return call_op(xp, ADAPTIVE_AVG_POOL2D, h, **params)


ADAPTIVE_AVG_POOL2D = defop("AdaptiveAvgPool2DBackward0", _adaptive_forward, (_adaptive_grad,),
                            save_inputs=False, jvp="linear")
ADAPTIVE_AVG_POOL2D_ADJOINT = defop("AdaptiveAvgPool2DBackwardBackward0", _adaptive_adjoint,
                                    (_adaptive_adjoint_grad,), save_inputs=False, jvp="linear")


def adaptive_avg_pool2d(input, output_size):
    """2-D average pooling to a fixed ``output_size`` (an int, or a pair whose None entries
    keep the input's size) over ``(N, C, H, W)`` or ``(C, H, W)`` input: output row i
    averages input rows ``floor(i * H / OH)`` to ``ceil((i + 1) * H / OH) - 1``, and
    likewise for columns."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): expected a 3-D or 4-D input, got shape "
                           f"{shape_str(input.shape)}")
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d(): output_size must be an int or a pair, got "
                         f"{output_size!r}")
    h, w = input.shape[-2:]
    oh, ow = (size if out is None else int(out) for out, size in zip(sizes, (h, w), strict=True))
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d(): output_size must be non-negative, got "
                           f"{output_size!r}")
    dtype = input._data.dtype if input._data.dtype.kind == "f" else np.float32
    rows, row_sizes = _adaptive_windows(h, oh, dtype)
    cols, col_sizes = _adaptive_windows(w, ow, dtype)
    return apply(ADAPTIVE_AVG_POOL2D, input, rows=rows, cols=cols,
                 divisor=np.outer(row_sizes, col_sizes).astype(dtype))
