"""``pad``: constant padding (negative widths crop), and reflect, replicate and circular
padding, which copy input positions and so send their gradient back to those positions.

Both kinds are linear maps, written as a forward plus its transpose; each is the other's
gradient, so they differentiate to any order.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._nn_common import array_of, call_op, shape_str
from ._registry import apply, defop

__all__ = ["pad"]

# ------------------------------------------------------------------------- constant


def _constant_pad_forward(x, *, widths, value):
    """Pad by ``widths`` (``(before, after)`` per dim); a negative width crops."""
    crop = tuple(slice(max(0, -before), size - max(0, -after))
                 for (before, after), size in zip(widths, x.shape, strict=True))
    grow = tuple((max(0, before), max(0, after)) for before, after in widths)
    return np.pad(x[crop], grow, constant_values=value)


def _constant_pad_grad(xp, g, out, x, *, widths, value):
    # The transpose of padding is cropping those widths (and padding what was cropped).
    negated = tuple((-before, -after) for before, after in widths)
    return call_op(xp, CONSTANT_PAD, g, widths=negated, value=0)


CONSTANT_PAD = defop("ConstantPadNdBackward0", _constant_pad_forward, (_constant_pad_grad,),
                     save_inputs=False, jvp="linear")

# ---------------------------------------------------------- reflect, replicate, circular


def _sources(size, before, after, mode):
    """For one padded axis, the input position that each output position copies. Reflect
    and replicate count in the input's coordinates (a negative width moves the window);
    circular crops first and wraps around what is left, as PyTorch does."""
    if mode == "circular":
        kept = np.arange(max(0, -before), size - max(0, -after))
        i = np.arange(-max(0, before), len(kept) + max(0, after))
        return kept[i % len(kept)] if len(kept) else kept
    i = np.arange(-before, size + after)
    if mode == "reflect":    # mirrored about the edge elements, which are not repeated
        return np.where(i < 0, -i, np.where(i >= size, 2 * (size - 1) - i, i))
    return np.clip(i, 0, size - 1)  # replicate: the edge elements, repeated


def _copy_pad_forward(x, *, sources, input_shape):
    # sources: ((axis, before, positions), ...), one per padded axis
    for axis, _, positions in sources:
        x = np.take(x, positions, axis=axis)
    return x


def _copy_pad_adjoint(g, *, sources, input_shape):
    """The transpose of :func:`_copy_pad_forward`: each output position's gradient is added
    to the input position it copies. The positions that copy themselves (the interior) move
    as one slice; the rest, one strided add each (pads are narrow: ``np.add.at`` is 40x
    slower)."""
    for axis, before, positions in reversed(sources):
        size = input_shape[axis]
        moved = np.moveaxis(g, axis, -1)
        lo = min(max(0, before), len(positions))
        hi = max(lo, min(len(positions), before + size))
        grad = np.zeros(moved.shape[:-1] + (size,), dtype=g.dtype)
        grad[..., lo - before:hi - before] = moved[..., lo:hi]
        for j in (*range(lo), *range(hi, len(positions))):
            grad[..., positions[j]] += moved[..., j]
        g = np.moveaxis(grad, -1, axis)
    return g


def _make_copy_pad(node_name: str):
    """The op pair (padding, its transpose) recording ``node_name``; returns the padding."""

    def grad(xp, g, out, x, **params):
        return call_op(xp, adjoint, g, **params)

    def adjoint_grad(xp, h, out, g, **params):
        return call_op(xp, padding, h, **params)

    padding = defop(node_name, _copy_pad_forward, (grad,), save_inputs=False, jvp="linear")
    adjoint = defop(node_name.replace("Backward0", "BackwardBackward0"), _copy_pad_adjoint,
                    (adjoint_grad,), save_inputs=False, jvp="linear")
    return padding


_COPY_PADS = {(mode, dims): _make_copy_pad(f"{name}Pad{dims}DBackward0")
              for mode, name in (("reflect", "Reflection"), ("replicate", "Replication"),
                                 ("circular", "Circular"))
              for dims in (1, 2, 3)}


def _check_copy_pad(mode, widths, shape):
    dims, ndim = len(widths), len(shape)
    if dims not in (1, 2, 3) or ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {2 * dims} is not supported for {ndim}D input tensor. Supported "
            f"combinations for non-constant padding: 2D or 3D input with padding size 2 (pads "
            f"the last dimension), 3D or 4D input with 4, 4D or 5D input with 6")
    for i, (before, after) in enumerate(widths):
        axis = ndim - dims + i
        size = shape[axis]
        if size + before + after < 0:
            raise RuntimeError(f"pad(): padding ({before}, {after}) would crop dimension "
                               f"{axis} of input {shape_str(shape)} to a negative size")
        if mode == "reflect" and max(before, after) >= size:
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {axis} of input {shape_str(shape)}")
        if mode == "circular" and max(before, after) > size:
            raise RuntimeError(f"Padding value causes wrapping around more than once: padding "
                               f"({before}, {after}) at dimension {axis} of input "
                               f"{shape_str(shape)}")
        if mode == "replicate" and size == 0 and (before or after):
            raise RuntimeError(f"pad(): cannot replicate-pad the empty dimension {axis} of "
                               f"input {shape_str(shape)}")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dim, as PyTorch's ``F.pad``.

    ``mode='constant'`` fills with ``value`` (default 0). ``'reflect'`` mirrors the input
    about its edges, ``'replicate'`` repeats the edge elements and ``'circular'`` wraps
    around; these pad the last 1, 2 or 3 dims of a tensor with at most two more dims. In
    every mode a negative width crops.
    """
    pad = tuple(int(p) for p in pad)
    if not isinstance(input, Tensor):
        input = Tensor(input)
    shape = tuple(array_of(input).shape)
    ndim = len(shape)
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"pad(): padding length must be even and at most 2 * ndim ({2 * ndim}), "
                         f"got {len(pad)}")
    dims = len(pad) // 2
    widths = tuple((pad[2 * (dims - 1 - i)], pad[2 * (dims - 1 - i) + 1]) for i in range(dims))
    if mode == "constant":
        full = ((0, 0),) * (ndim - dims) + widths
        for (before, after), size in zip(full, shape, strict=True):
            if size + before + after < 0:
                raise RuntimeError(f"pad(): padding {pad} would crop input {shape_str(shape)} "
                                   f"to a negative size")
        return apply(CONSTANT_PAD, input, widths=full, value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): unknown padding mode {mode!r}; use 'constant', "
                                  "'reflect', 'replicate' or 'circular'")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_copy_pad(mode, widths, shape)
    sources = tuple((ndim - dims + i, before, _sources(shape[ndim - dims + i], before, after, mode))
                    for i, (before, after) in enumerate(widths) if before or after)
    return apply(_COPY_PADS[mode, dims], input, sources=sources, input_shape=shape)
