"""Utilities for batches of variable-length sequences: ``pad_sequence`` and
``unpad_sequence``, and packed sequences (``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence``), which the recurrent layers
of :mod:`distgrad.nn` accept in place of a padded batch.

A packed sequence stores the steps of a batch sorted by decreasing length, time-major, with
the padding left out: ``data`` holds step 0 of every sequence, then step 1 of those at least
two steps long, and so on; ``batch_sizes[t]`` counts the sequences still running at step
``t``. Packing and padding are one op-table row each (PyTorch's nodes
``PackPaddedSequenceBackward0`` and ``CopySlices``): packing gathers the padded tensor's
rows at an advanced index and padding scatters them back, so each one's VJP is the other.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import _device, _dtype, ops
from ..._tensor import Tensor
from ...ops import _backends
from ...ops._registry import apply, defop
from ...ops.padding import pad

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


# ------------------------------------------------------------------------ PackedSequence


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A batch of variable-length sequences without its padding, as the recurrent layers take it.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand. The
    sequences are sorted longest first and stored time-major: ``data`` holds step 0 of
    every sequence, then step 1 of those with at least two steps, and so on, so that
    ``batch_sizes[t]`` (int64) counts the sequences still running at step ``t``. Packing
    ``[a, b, c]`` and ``[x]`` gives ``data = [a, x, b, c]`` and ``batch_sizes = [2, 1, 1]``.

    Attributes:
        data (Tensor): the packed steps, ``(sum of lengths, *)``.
        batch_sizes (Tensor): the number of sequences at each step.
        sorted_indices (Tensor, optional): for each position in the sorted batch, the
            sequence's index in the original batch (None when the input was already
            sorted).
        unsorted_indices (Tensor, optional): the inverse permutation, which puts results
            back in the original order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # PackedSequence((data, batch_sizes), sorted_indices=...)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        r"""Perform dtype and/or device conversion on ``self.data``, with the signature of
        :meth:`Tensor.to`.

        If ``self.data`` already has the requested dtype and device, ``self`` is returned;
        otherwise a copy with the converted ``data`` (``batch_sizes`` and the indices stay
        as they are).
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        """Raises: distgrad has no CUDA device."""
        _device.no_accelerator("PackedSequence.cuda()")

    def cpu(self, *args, **kwargs) -> PackedSequence:
        """``self``: the data is always on the CPU."""
        return self.to(*args, **kwargs) if args or kwargs else self

    def pin_memory(self) -> PackedSequence:
        """Raises: pinned memory needs an accelerator, which distgrad does not have."""
        _device.no_accelerator("PackedSequence.pin_memory()")

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=_dtype.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=_dtype.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether ``self.data`` is on a GPU: always False."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether ``self.data`` is in pinned memory: always False."""
        return False


def invert_permutation(permutation):
    """Return the inverse of ``permutation`` (None for None).

    This converts between the sorted and unsorted indices of a :class:`PackedSequence`.

    Args:
        permutation (Tensor, optional): a 1-D tensor of indices to invert.
    """
    if permutation is None:
        return None
    perm = permutation._data if isinstance(permutation, Tensor) else np.asarray(permutation)
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size, dtype=perm.dtype)
    return Tensor._wrap(out)


def _int64(array) -> Tensor:
    return Tensor._wrap(np.ascontiguousarray(array, dtype=np.int64))


# --------------------------------------------------------------------- pack / pad rows
# Both take an advanced index ``(time, batch)`` (swapped with ``batch_first``) of the packed
# rows' places in the padded tensor; the places are distinct, so a plain assignment scatters.


def _pack_forward(x, index, input_shape):
    return x[index]


def _pack_grad(xp, g, out, x, index, input_shape):
    if xp is not _backends.raw:
        return apply(PAD_PACKED, g, index=index, shape=input_shape, padding_value=0.0)
    grad = np.zeros(input_shape, dtype=g.dtype)
    grad[index] = g
    return grad


def _pad_forward(data, index, shape, padding_value):
    out = np.full(shape, padding_value, dtype=data.dtype)
    out[index] = data
    return out


def _pad_grad(xp, g, out, data, index, shape, padding_value):
    return g[index]


def _pad_jvp(tangents, out, data, index, shape, padding_value):
    return _pad_forward(tangents[0], index, shape, 0.0)  # the padding is a constant


PACK_PADDED = defop("PackPaddedSequenceBackward0", _pack_forward, (_pack_grad,),
                    save_inputs=False, jvp="linear")
# PyTorch pads by copying each step into slices of a filled tensor: its node is CopySlices.
PAD_PACKED = defop("CopySlices", _pad_forward, (_pad_grad,), save_inputs=False, jvp=_pad_jvp)


def _packed_index(batch_sizes: np.ndarray, batch_first: bool, order=None):
    """The ``(time, batch)`` index of the packed rows in a padded tensor (``(batch, time)``
    with ``batch_first``); ``order`` maps sorted batch positions to the padded tensor's."""
    time = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    batch = np.concatenate([np.arange(n) for n in batch_sizes]) if batch_sizes.size else time
    if order is not None:
        batch = order[batch]
    return (batch, time) if batch_first else (time, batch)


# PyTorch's names of the scalar types, as its error messages print them.
_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
               "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
               "bool": "Bool"}


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            kind = lengths._data.dtype.name
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D cpu {_TYPE_NAMES.get(kind, kind)} tensor")
        return lengths._data.astype(np.int64)
    return np.asarray([int(v) for v in lengths], dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of sequences of different lengths into a :class:`PackedSequence`.

    ``input`` is ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``, where ``T`` is the
    longest length. With ``enforce_sorted=True`` the sequences must come longest first;
    with ``False`` they are sorted here (stably) and the permutation is kept in the result,
    so that :func:`pad_packed_sequence` and the recurrent layers restore the original
    order. The padded steps are dropped; gradients flow from ``data`` back to ``input``
    (zero at the padding).

    Args:
        input (Tensor): the padded batch.
        lengths (Tensor or list of int): each sequence's length.
        batch_first (bool, optional): whether ``input`` is batch-major. Default: ``False``.
        enforce_sorted (bool, optional): require lengths in decreasing order. Default:
            ``True``.

    Example::

        >>> seq = torch.tensor([[1., 2., 0.], [3., 0., 0.], [4., 5., 6.]])
        >>> packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True,
        ...                               enforce_sorted=False)
        >>> packed.data, packed.batch_sizes
        (tensor([4., 1., 3., 5., 2., 6.]), tensor([3, 2, 1]))
    """
    lengths = _lengths_array(lengths)
    if input.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], but got 1)")
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch = input.shape[batch_dim]
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={batch})")
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _int64(order)
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lengths[:-1] < lengths[1:]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    steps = input.shape[time_dim]
    if lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a sequence length in `lengths` is "
                           f"{lengths[0]}, but the input holds only {steps} steps along its "
                           f"time dim ({time_dim}); every length must be at most that")
    batch_sizes = np.count_nonzero(lengths[None, :] > np.arange(lengths[0])[:, None], axis=1)
    index = _packed_index(batch_sizes, batch_first,
                          None if sorted_indices is None else sorted_indices._data)
    data = apply(PACK_PADDED, input, index=index, input_shape=input.shape)
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo :func:`pack_padded_sequence`: the padded batch and each sequence's length.

    The batch is ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``, with ``T`` the
    longest length (or ``total_length``, which must be at least that), the missing steps
    set to ``padding_value``, and the sequences in the order they had before packing.
    The lengths are an int64 tensor in the same order.

    Args:
        sequence (PackedSequence): the packed batch.
        batch_first (bool, optional): return a batch-major tensor. Default: ``False``.
        padding_value (float, optional): the value of the padded steps. Default: ``0.0``.
        total_length (int, optional): pad to this many steps (a ValueError if it is
            shorter than the longest sequence).

    Example::

        >>> seq = torch.tensor([[1., 2., 0.], [3., 0., 0.], [4., 5., 6.]])
        >>> packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True,
        ...                               enforce_sorted=False)
        >>> pad_packed_sequence(packed, batch_first=True)
        (tensor([[1., 2., 0.],
                [3., 0., 0.],
                [4., 5., 6.]]), tensor([2, 1, 3]))
    """
    batch_sizes = np.asarray(sequence.batch_sizes._data if isinstance(sequence.batch_sizes,
                                                                       Tensor)
                             else sequence.batch_sizes, dtype=np.int64)
    max_seq_length = batch_sizes.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    batch = int(batch_sizes[0])
    trailing = tuple(data.shape[1:])
    shape = ((batch, max_seq_length) if batch_first else (max_seq_length, batch)) + trailing
    index = _packed_index(batch_sizes, batch_first)
    padded = apply(PAD_PACKED, data, index=index, shape=shape, padding_value=padding_value)
    lengths = np.count_nonzero(batch_sizes[:, None] > np.arange(batch)[None, :], axis=0)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = ops.index_select(padded, 0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted._data if isinstance(unsorted, Tensor) else unsorted]
    return padded, _int64(lengths)


# ------------------------------------------------------------------------- pad / unpad


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into one ``(max L, B, *)`` tensor (``(B, max L,
    *)`` with ``batch_first``), filling the missing steps with ``padding_value``.

    Args:
        sequences: a list of tensors whose dims after the first agree (or one tensor, whose
            first dim then counts the sequences).
        batch_first: put the batch dim first.
        padding_value: the value of the padded steps.
        padding_side: ``'right'`` pads after each sequence, ``'left'`` before it.

    The result has the first sequence's dtype and is differentiable with respect to every
    sequence.

    Example::

        >>> a, b = torch.tensor([1., 2., 3.]), torch.tensor([4., 5.])
        >>> pad_sequence([a, b], batch_first=True)
        tensor([[1., 2., 3.],
                [4., 5., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(ops.unbind(sequences, 0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        raise RuntimeError("pad_sequence received an empty list of sequences")
    first = sequences[0]
    if first.ndim == 0:
        raise RuntimeError("pad_sequence expects sequences of at least one dim (steps, *), "
                           "got a 0-d tensor")
    trailing = tuple(first.shape[1:])
    for i, seq in enumerate(sequences):
        if seq.ndim == 0 or tuple(seq.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: every sequence must have shape (steps, "
                               f"{', '.join(map(str, trailing)) or '...'}) like the first, but "
                               f"sequence {i} has shape {list(seq.shape)}")
    longest = max(seq.shape[0] for seq in sequences)
    dtype = first._data.dtype
    padded = []
    for seq in sequences:
        seq = ops.cast(seq, dtype)
        extra = longest - seq.shape[0]
        if extra:
            # F.pad lists the last dim first, so the steps dim comes last.
            widths = (0, 0) * len(trailing) + ((extra, 0) if padding_side == "left" else
                                                (0, extra))
            seq = pad(seq, widths, value=padding_value)
        padded.append(seq)
    return ops.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of its sequences, sequence ``i`` being the
    first ``lengths[i]`` steps of batch entry ``i``: the inverse of :func:`pad_sequence`.

    ``padded_sequences`` is ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``; it is
    not modified (PyTorch's transposes it in place). ``lengths`` is a tensor or a list.

    Example::

        >>> a, b = torch.ones(3, 2), torch.ones(1, 2)
        >>> [s.shape for s in unpad_sequence(pad_sequence([a, b]), torch.tensor([3, 1]))]
        [(3, 2), (1, 2)]
    """
    lengths = _lengths_array(lengths)
    batch = padded_sequences.shape[0 if batch_first else 1]
    if lengths.size != batch:
        raise ValueError(f"unpad_sequence: got {lengths.size} lengths for a batch of {batch} "
                         f"sequences; give one length per sequence")
    if batch_first:
        return [padded_sequences[i, :length] for i, length in enumerate(lengths.tolist())]
    return [padded_sequences[:length, i] for i, length in enumerate(lengths.tolist())]


# ------------------------------------------------------------------------ pack / unpack


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes ``(L_i, *)`` into a :class:`PackedSequence`:
    :func:`pad_sequence` then :func:`pack_padded_sequence`.

    With ``enforce_sorted=True`` the list must be longest first; with ``False`` any order
    is accepted and kept track of.

    Example::

        >>> a, b, c = torch.tensor([1., 2., 3.]), torch.tensor([4., 5.]), torch.tensor([6.])
        >>> pack_sequence([a, b, c]).data
        tensor([1., 4., 6., 2., 5., 3.])
    """
    sequences = list(sequences)
    lengths = [v.shape[0] if v.ndim else 0 for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The sequences of a :class:`PackedSequence` as a list of tensors ``(L_i, *)``, in the
    order they had before packing.

    Example::

        >>> a, b, c = torch.tensor([1., 2., 3.]), torch.tensor([4., 5.]), torch.tensor([6.])
        >>> unpack_sequence(pack_sequence([a, b, c]))
        [tensor([1., 2., 3.]), tensor([4., 5.]), tensor([6.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
