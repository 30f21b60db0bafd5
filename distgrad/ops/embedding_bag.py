"""``embedding_bag``: sums, means or maxima of bags of embedding rows, without materialising
the looked-up rows as an output.

One op, ``EmbeddingBagBackward0``, over the weight and (mode ``'sum'``) the per-sample
weights. The bags are fixed at the call (which index goes to which bag, and for ``'max'``
which row wins each bag's every column), so the op is linear in the weight, and bilinear
in weight and per-sample weights; its VJPs are written on ``xp`` and so differentiate again.
"""

from __future__ import annotations

import numpy as np

from ._nn_common import array_of
from ._registry import apply, defop

__all__ = ["embedding_bag"]


def _bag_forward(w, psw=None, *, rows, bags, num_bags, mode, scale, grad_scale, max_rows):
    """``rows``: the weight rows taken, in bag order (padding left out); ``bags``: each
    one's bag; ``scale``: each one's factor (1 / bag size for ``'mean'``, else None);
    ``grad_scale``: the factor of its gradient (``scale``, divided by the index's count for
    ``scale_grad_by_freq``); ``max_rows``: see :func:`_max_rows`."""
    out = np.zeros((num_bags, w.shape[1]), dtype=w.dtype)
    if mode == "max":
        filled = max_rows[:, 0] >= 0
        out[filled] = np.take_along_axis(w, max_rows[filled], axis=0)
        return out
    taken = w[rows]
    if psw is not None:
        taken = taken * psw[:, None]
    if scale is not None:
        taken = taken * scale[:, None].astype(w.dtype)
    if len(rows):
        starts = np.flatnonzero(np.diff(bags, prepend=-1))  # bags are runs of equal ids
        out[bags[starts]] = np.add.reduceat(taken, starts, axis=0)
    return out


def _bag_grad_w(xp, g, out, w, psw=None, *, rows, bags, mode, grad_scale, max_rows, **params):
    shape = tuple(w.shape)
    if mode == "max":
        filled = np.flatnonzero(max_rows[:, 0] >= 0)
        return xp.index_add(shape, (max_rows[filled], np.arange(shape[1])[None, :]),
                            g[filled])
    spread = g[bags]
    if grad_scale is not None:
        spread = spread * grad_scale[:, None].astype(array_of(g).dtype)
    if psw is not None:
        spread = spread * xp.expand_dims(psw, 1)
    return xp.index_add(shape, rows, spread)


def _bag_grad_psw(xp, g, out, w, psw, *, rows, bags, **params):
    return xp.sum(g[bags] * w[rows], axis=1)


EMBEDDING_BAG = defop("EmbeddingBagBackward0", _bag_forward, (_bag_grad_w, _bag_grad_psw),
                      needs=((1,), (0,)))


def _bags(indices, offsets, include_last_offset):
    """Each index's bag, and the number of bags, from 1-D ``indices`` and ``offsets``."""
    offsets = np.asarray(array_of(offsets))
    if offsets.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor but got {offsets.ndim}D")
    if offsets.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag(): expected offsets of an integer dtype, got "
                           f"{offsets.dtype}")
    if len(offsets) and offsets[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(offsets[0])}")
    if len(offsets) and (offsets[-1] > len(indices) or np.any(np.diff(offsets) < 0)):
        raise RuntimeError(f"embedding_bag(): offsets must be non-decreasing and at most the "
                           f"number of indices ({len(indices)}), got {offsets.tolist()}")
    num_bags = len(offsets) - 1 if include_last_offset else len(offsets)
    if num_bags < 0:
        raise RuntimeError("embedding_bag(): include_last_offset needs at least one offset")
    bags = np.searchsorted(offsets[1:num_bags], np.arange(len(indices)), side="right")
    if include_last_offset and len(offsets):
        bags = np.where(np.arange(len(indices)) < offsets[-1], bags, -1)
    return bags, num_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None):
    """Reduce bags of rows of ``weight`` ``(num_embeddings, dim)`` to one vector each, as
    PyTorch's ``embedding_bag``; the result is ``(B, dim)``.

    Args:
        input: integer indices: ``(B, L)`` (each row a bag; ``offsets`` must be None) or 1-D,
            cut into bags at ``offsets``.
        offsets: 1-D starts of the bags in a 1-D ``input``; with ``include_last_offset``
            the last entry is the end of the last bag (so ``B = len(offsets) - 1``).
        mode: ``'sum'``, ``'mean'`` or ``'max'`` (per column). An empty bag gives zeros.
        per_sample_weights: weights of the indices (``input``'s shape), multiplied into
            their rows; mode ``'sum'`` only. They receive a gradient too.
        padding_idx: entries equal to it are left out of their bags (and of the means'
            counts); its row receives no gradient.
        max_norm, norm_type: renormalise the looked-up rows in place first, as
            :func:`embedding`.
        scale_grad_by_freq: divide each row's gradient by its index's count in ``input``
            (not in mode ``'max'``).
        sparse: only False (dense gradients).
    """
    if sparse:
        raise NotImplementedError("embedding_bag(): sparse gradients are not supported by "
                                  "distgrad; use sparse=False (the gradient is then dense)")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            f"GitHub.")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    indices = np.asarray(array_of(input))
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag(): expected indices of an integer dtype (int64), "
                           f"got {indices.dtype}; convert with .long()")
    num, dim = np.shape(array_of(weight))
    if per_sample_weights is not None and np.shape(array_of(per_sample_weights)) != indices.shape:
        raise ValueError(f"embedding_bag(): per_sample_weights must have the shape of input "
                         f"{list(indices.shape)}, got "
                         f"{list(np.shape(array_of(per_sample_weights)))}")
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is "
                             f"treated is a mini-batch of fixed length sequences. However, "
                             f"found offsets of type {type(offsets)}")
        num_bags = indices.shape[0]
        bags = np.repeat(np.arange(num_bags), indices.shape[1])
        indices = indices.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif indices.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        bags, num_bags = _bags(indices, offsets, include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{indices.ndim}")
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding_bag(): index {int(bad)} is out of range for an embedding "
                         f"with {num} rows (valid indices are 0..{num - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None:
        from ..nn.functional import _embedding_renorm_  # (nn imports ops: import late)

        _embedding_renorm_(weight, indices, float(max_norm), float(norm_type))
    kept = (bags >= 0) if padding_idx is None else (bags >= 0) & (indices != padding_idx)
    positions = np.flatnonzero(kept)
    rows, bags = indices[positions], bags[positions]
    scale = grad_scale = None
    if mode == "mean":
        scale = grad_scale = 1.0 / np.bincount(bags, minlength=num_bags)[bags]
    if scale_grad_by_freq:
        counts = np.bincount(indices, minlength=num)[rows]
        grad_scale = 1.0 / counts if scale is None else scale / counts
    max_rows = _max_rows(array_of(weight), rows, bags, num_bags) if mode == "max" else None
    params = dict(rows=rows, bags=bags, num_bags=num_bags, mode=mode, scale=scale,
                  grad_scale=grad_scale, max_rows=max_rows)
    if per_sample_weights is None:
        return apply(EMBEDDING_BAG, weight, **params)
    if len(positions) != len(indices):
        per_sample_weights = per_sample_weights[positions]
    return apply(EMBEDDING_BAG, weight, per_sample_weights, **params)


def _max_rows(w, rows, bags, num_bags):
    """``(B, dim)``: per bag and column, the weight row holding the maximum (the first such
    in the bag); -1 for an empty bag."""
    out = np.full((num_bags, w.shape[1]), -1, dtype=np.int64)
    if not len(rows):
        return out
    taken = w[rows]
    starts = np.flatnonzero(np.diff(bags, prepend=-1))
    best = np.maximum.reduceat(taken, starts, axis=0)                 # (filled bags, dim)
    runs = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(rows))))
    position = np.where(taken == best[runs], np.arange(len(rows))[:, None], len(rows))
    first = np.minimum.reduceat(position, starts, axis=0)
    out[bags[starts]] = rows[first]
    return out
