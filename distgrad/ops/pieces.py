"""``split``, ``chunk`` and ``unbind``: the pieces of a tensor along a dim, as views of it,
recorded as one multi-output node (PyTorch's ``SplitBackward0``, ``SplitWithSizesBackward0``
and ``UnbindBackward0``).

The node puts the pieces' gradients back together in one pass, with zeros for pieces that got
none. A node per piece, as slicing records, would hand the input an input-sized gradient per
piece: a loop over ``x.unbind(0)`` would cost time and memory quadratic in its length.

Each piece is a view of the input exactly as ``x[i]`` (or ``x[a:b]``) would be: it shares the
input's version counter, and in-place changes to it or to the input rebase their histories
as for any view.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.engine import flags as _engine_flags
from ..autograd.forward_ad import state as _forward_ad
from ..autograd.graph import Node, gradient_edge
from .shape_ops import SELECT, SLICE, _dim, cat, getitem, stack

__all__ = ["split", "chunk", "unbind"]


class _PiecesBackward(Node):
    """Output ``i`` is piece ``i``; the input's gradient is the pieces' gradients put back
    together along ``dim``."""

    _frees = False  # nothing saved but shapes and positions
    _stacked = False  # unbind's pieces lost the dim: their gradients are stacked, not joined

    def __init__(self, input_shape, dtype, axis, indices, piece_shapes):
        self.num_outputs = len(indices)
        self._input_shape, self._dtype, self._axis = input_shape, dtype, axis
        self._indices, self._piece_shapes = indices, piece_shapes

    @property
    def _saved_dim(self) -> int:
        return self._axis

    @property
    def _saved_self_sym_sizes(self) -> tuple:
        return self._input_shape

    def apply(self, grad_outputs, create_graph):
        if create_graph:  # differentiable: join Tensors with the table's ops
            parts = [g if g is not None else Tensor._wrap(np.zeros(shape, self._dtype))
                     for g, shape in zip(grad_outputs, self._piece_shapes)]
            return [stack(parts, self._axis) if self._stacked else cat(parts, self._axis)]
        grad = np.empty(self._input_shape, self._dtype)
        for g, index in zip(grad_outputs, self._indices):
            grad[index] = 0 if g is None else g
        return [grad]


class UnbindBackward0(_PiecesBackward):
    _stacked = True


class SplitBackward0(_PiecesBackward):
    _split_size = None

    @property
    def _saved_split_size(self) -> int:
        return self._split_size


class SplitWithSizesBackward0(_PiecesBackward):
    @property
    def _saved_split_sizes(self) -> tuple:
        return tuple(shape[self._axis] for shape in self._piece_shapes)


def _pieces(input, axis, indices, node_cls, view_spec):
    """The views ``input[index]`` for each of ``indices``, recorded as one ``node_cls``."""
    data = input._data
    if (not (input._requires_grad and grad_mode.is_grad_enabled()) or _forward_ad.depth
            or data.dtype.kind != "f"):
        # Nothing to record (or forward-mode tangents to carry): plain views.
        return tuple(getitem(input, index) for index in indices)
    edge, nr = gradient_edge(input)  # (re-derives the input's history if it is a stale view)
    pieces = tuple(Tensor._wrap(data[index]) for index in indices)
    node = node_cls(data.shape, data.dtype, axis, indices, [p._data.shape for p in pieces])
    node._next = (edge,)
    if nr:
        node._next_nr = (nr,)
    if _engine_flags.anomaly:
        node._record_anomaly_trace()
    vc, chain = input._version_counter(), input._view_chain
    base = input if input._base is None else input._base
    for output_nr, (piece, index) in enumerate(zip(pieces, indices)):
        # A view of the input, as apply() makes one for ``input[index]``.
        piece._vc, piece._base, piece._view_version = vc, base, vc[0]
        piece._view_chain = chain + ((view_spec, {"index": index, "input_shape": data.shape}),)
        piece.grad_fn, piece._requires_grad, piece._output_nr = node, True, output_nr
    return pieces


def split(input, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given section
    sizes along ``dim``; each chunk is a view of ``input``."""
    axis = _dim(dim, input.ndim)
    length = input.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={step}")
        if step == 0 and length:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {length}")
        sizes = [min(step, length - s) for s in range(0, length, step)] if step else [0]
        node_cls = SplitBackward0
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={sizes}")
        node_cls = SplitWithSizesBackward0
    lead = (slice(None),) * axis
    indices, start = [], 0
    for size in sizes:
        indices.append(lead + (slice(start, start + size),))
        start += size
    pieces = _pieces(input, axis, indices, node_cls, SLICE)
    if node_cls is SplitBackward0 and pieces and pieces[0].grad_fn is not None:
        pieces[0].grad_fn._split_size = int(split_size_or_sections)
    return pieces


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` nearly equal views along ``dim`` (fewer if the size does not
    allow that many)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input.shape[_dim(dim, input.ndim)]
    return split(input, max(1, -(-length // chunks)), dim)


def unbind(input, dim=0):
    """Remove ``dim`` and return the slices along it, each a view of ``input``."""
    axis = _dim(dim, input.ndim)
    lead = (slice(None),) * axis
    indices = [lead + (i,) for i in range(input.shape[axis])]
    return _pieces(input, axis, indices, UnbindBackward0, SELECT)
