"""``interpolate`` in the nearest modes (``'nearest'``, ``'nearest-exact'``).

Nearest-neighbour resizing is a gather along each spatial axis; its gradient is the
transpose, a sum of the output positions that copy each input position. The two are a pair
of linear ops whose VJPs are each other, so double backward works.
"""

from __future__ import annotations

import math

import numpy as np

from ._nn_common import call_op
from ._registry import apply, defop

__all__ = ["interpolate"]


def _nearest_forward(x, *, index, runs, input_shape):
    for axis, positions in enumerate(index, start=2):
        x = np.take(x, positions, axis=axis)
    return x


def _nearest_adjoint(g, *, index, runs, input_shape):
    for axis, (targets, starts) in enumerate(runs, start=2):
        sums = np.add.reduceat(g, starts, axis=axis)  # the index never decreases: one run each
        if len(targets) == input_shape[axis]:
            g = sums
        else:  # downsampling: some input positions are copied nowhere
            shape = list(sums.shape)
            shape[axis] = input_shape[axis]
            g = np.zeros(shape, dtype=sums.dtype)
            g[(slice(None),) * axis + (targets,)] = sums
    return g


def _nearest_ops(name: str):
    """The forward op ``name`` and its adjoint, each one's VJP the other."""

    def nearest_grad(xp, g, out, x, **params):
        return call_op(xp, adjoint, g, **params)

    def nearest_adjoint_grad(xp, h, out, g, **params):
        return call_op(xp, forward, h, **params)

    forward = defop(name, _nearest_forward, (nearest_grad,), save_inputs=False, jvp="linear")
    adjoint = defop(name.replace("Backward0", "BackwardBackward0"), _nearest_adjoint,
                    (nearest_adjoint_grad,), save_inputs=False, jvp="linear")
    return forward


_NEAREST = {(mode, dims): _nearest_ops(f"UpsampleNearest{kind}{dims}DBackward0")
            for mode, kind in (("nearest", ""), ("nearest-exact", "Exact")) for dims in (1, 2, 3)}
_INTERPOLATE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
                      "nearest-exact")


def _nearest_index(in_size: int, out_size: int, scale, exact: bool):
    """The input position each output position copies, in float32 as PyTorch computes it:
    ``floor(i * step)`` (``floor((i + 0.5) * step)`` for nearest-exact), with ``step`` the
    inverse of the given scale factor, or ``in_size / out_size``."""
    if scale is not None and scale > 0:
        step = np.float32(1.0 / scale)
    else:
        step = np.float32(in_size) / np.float32(out_size)
    position = np.arange(out_size, dtype=np.float32)
    if exact:
        position += np.float32(0.5)
    return np.minimum(np.floor(position * step).astype(np.int64), in_size - 1)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resize the spatial dims of ``(N, C, *spatial)`` input (1 to 3 of them) to ``size``, or
    by ``scale_factor`` (output size ``floor(input size * scale_factor)``).

    Only ``mode='nearest'`` (PyTorch's: the source index is ``floor(i / scale)``) and
    ``'nearest-exact'`` (``floor((i + 0.5) / scale)``) are supported. With a scale factor
    and no ``recompute_scale_factor``, the given scale (not the sizes' ratio) places the
    samples, as in PyTorch.
    """
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5) or mode not in _INTERPOLATE_MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    in_sizes = tuple(input.shape[2:])
    dims = len(in_sizes)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out_sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(out_sizes) != dims:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(in_sizes)} and output size of {size}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                f"in (o1, o2, ...,oK) format.")
        out_sizes = tuple(int(n) for n in out_sizes)
        scales = (None,) * dims
    elif scale_factor is not None:
        scales = (tuple(float(f) for f in scale_factor)
                  if isinstance(scale_factor, (tuple, list)) else (float(scale_factor),) * dims)
        if len(scales) != dims:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(in_sizes)} and scale_factor of "
                f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                f"format and scale_factor in (s1, s2, ...,sK) format.")
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, scales, strict=True))
        if recompute_scale_factor:
            scales = (None,) * dims
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate(): mode={mode!r} is not supported by distgrad; "
                                  f"use 'nearest' or 'nearest-exact'")
    if antialias:
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if min(out_sizes) <= 0:
        names = ("D", "H", "W")[3 - dims:]
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input "
            f"({', '.join(f'{a}: {n}' for a, n in zip(names, in_sizes, strict=True))}) and "
            f"output ({', '.join(f'{a}: {n}' for a, n in zip(names, out_sizes, strict=True))})")
    exact = mode == "nearest-exact"
    index = tuple(_nearest_index(n, m, f, exact)
                  for n, m, f in zip(in_sizes, out_sizes, scales, strict=True))
    runs = tuple(np.unique(positions, return_index=True) for positions in index)
    return apply(_NEAREST[mode, dims], input, index=index, runs=runs,
                 input_shape=tuple(input.shape))
