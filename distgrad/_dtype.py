"""dtypes: thin named wrappers over NumPy dtypes, printed the way PyTorch prints them."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool_",
           "get_default_dtype", "set_default_dtype", "to_numpy_dtype", "from_numpy_dtype"]


class dtype:
    """A tensor element type. ``distgrad.float32 == np.float32`` compares true."""

    __slots__ = ("name", "numpy", "is_floating_point", "itemsize")

    def __init__(self, name: str, np_dtype):
        self.name = name
        self.numpy = np.dtype(np_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"distgrad.{self.name}"

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.numpy == other.numpy
        try:
            return self.numpy == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.numpy)

    def __reduce__(self):
        return (from_numpy_dtype, (self.numpy.str,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)

_BY_NUMPY = {d.numpy: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64,
                                  bool_)}
_default_float = float32


def from_numpy_dtype(np_dtype) -> dtype:
    np_dtype = np.dtype(np_dtype)
    found = _BY_NUMPY.get(np_dtype)
    if found is None:
        raise TypeError(f"distgrad has no dtype for NumPy dtype {np_dtype}; supported: "
                        f"{sorted(d.name for d in _BY_NUMPY.values())}")
    return found


def to_numpy_dtype(d) -> np.dtype:
    """Accept a distgrad dtype, a NumPy dtype, a Python type or a name."""
    if isinstance(d, dtype):
        return d.numpy
    if d is float:
        return _default_float.numpy
    if d is int:
        return int64.numpy
    if d is bool:
        return bool_.numpy
    return from_numpy_dtype(d).numpy


def get_default_dtype() -> dtype:
    """Return the default floating point dtype (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the dtype that Python floats and the factories produce (``float32`` or ``float64``)."""
    global _default_float
    d = from_numpy_dtype(to_numpy_dtype(d))
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype only supports floating point dtypes, got {d}")
    _default_float = d
