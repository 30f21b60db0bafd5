"""``repr(tensor)`` in PyTorch's format: ``tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)``.

One notation for all elements of a tensor, chosen from the nonzero finite values: integers
when they are all whole (``1.``), else 4 decimals (``1.5000``), or scientific notation
(``1.5000e-05``) when they span more than three orders of magnitude, exceed 1e8 or (not
whole) go below 1e-4. Elements are right-aligned to a common width, rows wrap at 80 columns,
and a tensor of more than 1000 elements shows only 3 items at each end of every dimension.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype

__all__ = ["tensor_repr"]

PRECISION = 4
THRESHOLD = 1000   # more elements than this are summarized
EDGE_ITEMS = 3     # items shown at each end of a summarized dimension
LINE_WIDTH = 80


def tensor_repr(t) -> str:
    """The repr of tensor ``t``."""
    data = t._data
    prefix = "tensor("
    indent = len(prefix)
    default_float = _dtype.get_default_dtype().numpy
    suffixes = []
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if data.dtype != default_float:  # nothing shows that the elements are integers
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if data.dtype not in (default_float, np.int64, np.bool_):
            suffixes.append(f"dtype={t.dtype!r}")
        summarize = data.size > THRESHOLD
        notation = _Notation(_edges(data) if summarize else data)
        body = _nested(data, indent, summarize, notation)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


class _Notation:
    """How every element of one tensor is written: the notation and a common width."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.mode = "whole"
        if not self.floating:  # integers and bools: as Python writes them
            self.width = max(len(str(v)) for v in values.reshape(-1).tolist())
            return
        values = values.reshape(-1).astype(np.float64)
        shown = values[np.isfinite(values) & (values != 0)]
        if shown.size == 0:  # zeros, infinities and NaN only
            self.width = 1
            return
        magnitudes = np.abs(shown)
        smallest, largest = magnitudes.min(), magnitudes.max()
        whole = bool(np.all(shown == np.ceil(shown)))
        if largest / smallest > 1000.0 or largest > 1.0e8 or (not whole and smallest < 1.0e-4):
            self.mode = "scientific"
        elif not whole:
            self.mode = "fixed"
        # Infinities and NaN do not count: they may stick out (``tensor([nan, 1.])``).
        self.width = max(len(self.text(v)) for v in shown.tolist())

    def text(self, value) -> str:
        if not self.floating:
            return str(value)
        if self.mode == "scientific":
            return f"{value:.{PRECISION}e}"
        if self.mode == "fixed":
            return f"{value:.{PRECISION}f}"
        text = f"{value:.0f}"
        # The point marks a floating point tensor: "1.", but "inf" and "nan" as they are.
        return text if math.isinf(value) or math.isnan(value) else text + "."

    def format(self, value) -> str:
        return self.text(value).rjust(self.width)


def _edges(data: np.ndarray) -> np.ndarray:
    """The elements a summarized repr shows: the first and last few along every dimension."""
    def shown(n):
        if n > 2 * EDGE_ITEMS:
            return np.r_[:EDGE_ITEMS, n - EDGE_ITEMS:n]
        return np.arange(n)

    return data[np.ix_(*(shown(n) for n in data.shape))] if data.ndim else data


def _nested(data: np.ndarray, indent: int, summarize: bool, notation: _Notation) -> str:
    """``data`` as nested brackets, rows of a dimension separated by as many newlines as
    dimensions follow it."""
    if data.ndim == 0:
        return notation.format(data.item())
    if data.ndim == 1:
        return _row(data, indent, summarize, notation)
    n = data.shape[0]
    if summarize and n > 2 * EDGE_ITEMS:
        rows = [*range(EDGE_ITEMS), None, *range(n - EDGE_ITEMS, n)]
    else:
        rows = range(n)
    parts = ["..." if i is None else _nested(data[i], indent + 1, summarize, notation)
             for i in rows]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _row(data: np.ndarray, indent: int, summarize: bool, notation: _Notation) -> str:
    """A 1-D ``data``, as many elements to a line as fit in ``LINE_WIDTH``."""
    per_line = max(1, (LINE_WIDTH - indent) // (notation.width + 2))
    if summarize and data.shape[0] > 2 * EDGE_ITEMS:
        items = ([notation.format(v) for v in data[:EDGE_ITEMS].tolist()] + [" ..."]
                 + [notation.format(v) for v in data[-EDGE_ITEMS:].tolist()])
    else:
        items = [notation.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append ``dtype=...``/``grad_fn=...``, each on a new line if it would pass the width."""
    parts = [text]
    used = len(text) - text.rfind("\n") - 1 + 2  # the last line, and the ", " after it
    for suffix in suffixes:
        if used + len(suffix) + 2 > LINE_WIDTH:
            parts.append(",\n" + " " * indent + suffix)
            used = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            used += len(suffix) + 2
    return "".join(parts) + ")"
