"""Tensor factories (``tensor zeros ones randn ...``) and the random number generator."""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._device import check_device
from ._tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "randn", "rand",
           "randint", "randperm", "normal", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand_like", "randn_like", "arange", "linspace", "eye", "manual_seed", "Generator",
           "default_generator", "initial_seed"]


class Generator:
    """A random number generator (NumPy's PCG64 underneath) with PyTorch's seeding API."""

    def __init__(self, device: str = "cpu"):
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.np = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed this generator; returns ``self``."""
        self._seed = int(seed)
        self.np = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.np.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.np.bit_generator.state = state


_default = Generator().manual_seed(0)


def default_generator() -> np.random.Generator:
    """The NumPy generator behind distgrad's default :class:`Generator`."""
    return _default.np


def manual_seed(seed: int) -> Generator:
    """Seed distgrad's default generator (``randn``, ``rand``, initialisations, dropout...)."""
    return _default.manual_seed(seed)


def initial_seed() -> int:
    return _default.initial_seed()


def _rng(generator) -> np.random.Generator:
    return generator.np if generator is not None else _default.np


def _size(size, size_kw=None) -> tuple:
    """The shape from varargs ``f(2, 3)``, a sequence ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if size_kw is not None:
        if size:
            raise TypeError("pass the size either positionally or as size=, not both")
        size = (size_kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _finish(array, dtype, requires_grad) -> Tensor:
    t = Tensor._wrap(array.astype(_float_or(dtype), copy=False))
    if requires_grad:
        t.requires_grad = True
    return t


def _float_or(dtype) -> np.dtype:
    return _dtype.to_numpy_dtype(dtype) if dtype is not None else _dtype.get_default_dtype().numpy


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Create a tensor by copying ``data`` (a list, number, array or tensor).

    Python floats become ``float32`` (the default dtype), ints ``int64``, bools ``bool``; a
    NumPy array keeps its dtype.
    """
    if device is not None:
        check_device(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with an ndarray of the right dtype."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    same_dtype = dtype is None or _dtype.to_numpy_dtype(dtype) == getattr(data, "dtype", None)
    if isinstance(data, np.ndarray) and same_dtype:
        return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap ``array`` without copying: the tensor and the array share memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def zeros(*args, size=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of zeros; the size as varargs, a tuple or ``size=``."""
    if device is not None:
        check_device(device)
    return _finish(np.zeros(_size(args, size), dtype=_float_or(dtype)), dtype, requires_grad)


def ones(*args, size=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ones."""
    if device is not None:
        check_device(device)
    return _finish(np.ones(_size(args, size), dtype=_float_or(dtype)), dtype, requires_grad)


def empty(*args, size=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """An uninitialised tensor (distgrad fills it with zeros)."""
    if device is not None:
        check_device(device)
    return zeros(*args, size=size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor filled with ``fill_value``; integer and bool values keep their kind."""
    if device is not None:
        check_device(device)
    if dtype is None and isinstance(fill_value, bool):
        dtype = _dtype.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = _dtype.int64
    array = np.full(_size((size,)), fill_value, dtype=_float_or(dtype))
    return _finish(array, dtype, requires_grad)


def randn(*args, size=None, dtype=None, requires_grad=False, generator=None,
          device=None) -> Tensor:
    """Samples from the standard normal distribution."""
    if device is not None:
        check_device(device)
    return _finish(_rng(generator).standard_normal(_size(args, size)), dtype, requires_grad)


def rand(*args, size=None, dtype=None, requires_grad=False, generator=None,
         device=None) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    if device is not None:
        check_device(device)
    return _finish(_rng(generator).random(_size(args, size)), dtype, requires_grad)


def normal(mean, std, size, *, generator=None, dtype=None) -> Tensor:
    """Samples from N(mean, std²) of the given ``size``."""
    return _finish(_rng(generator).normal(mean, std, _size((size,))), dtype, False)


def randint(low, high=None, size=None, *, dtype=None, generator=None, device=None) -> Tensor:
    """Random integers in [low, high); ``randint(high, size)`` starts at 0."""
    if device is not None:
        check_device(device)
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() needs high and size: randint(low, high, size)")
    array = _rng(generator).integers(low, high, size=_size((size,)), dtype=np.int64)
    return Tensor._wrap(array.astype(_dtype.to_numpy_dtype(dtype) if dtype else np.int64))


def randperm(n: int, *, generator=None, dtype=None, device=None, memory_format=None) -> Tensor:
    """A random permutation of ``0..n-1``."""
    if device is not None:
        check_device(device)
    return Tensor._wrap(_rng(generator).permutation(n).astype(np.int64))


def _like(t: Tensor, dtype, device=None):
    if device is not None:
        check_device(device)
    return t.shape, (dtype if dtype is not None else t.dtype)


def zeros_like(input, dtype=None, requires_grad=False, device=None, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype, device)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype, device)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None, memory_format=None) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None,
              memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype, device)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand_like(input, dtype=None, requires_grad=False, device=None, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype, device)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False, device=None, memory_format=None) -> Tensor:
    shape, dtype = _like(input, dtype, device)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if device is not None:
        check_device(device)
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    if dtype is None:
        dtype = _dtype.int64 if integral else _dtype.get_default_dtype()
    array = np.arange(start, end, step, dtype=np.float64 if not integral else np.int64)
    return _finish(array, dtype, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if device is not None:
        check_device(device)
    return _finish(np.linspace(start, end, steps), dtype, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    if device is not None:
        check_device(device)
    return _finish(np.eye(n, m), dtype, requires_grad)
