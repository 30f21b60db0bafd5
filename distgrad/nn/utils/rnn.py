"""Utilities for batches of variable-length sequences: ``pad_sequence``.

``PackedSequence`` and ``pack_padded_sequence`` are not provided: distgrad's recurrent
layers take padded batches.
"""

from __future__ import annotations

from ... import ops
from ..._tensor import Tensor
from ...ops.padding import pad

__all__ = ["pad_sequence"]


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
