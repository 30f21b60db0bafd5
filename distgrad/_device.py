"""Devices and runtime settings: ``distgrad.device``, thread counts, determinism flags.

distgrad computes with NumPy on the CPU. These pieces let the usual PyTorch boilerplate
run unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    x = torch.zeros(3, device=device)

Every device name PyTorch knows is accepted by :class:`device`, but only ``cpu`` holds
tensors: asking for another device raises a ``RuntimeError`` saying so.
"""

from __future__ import annotations

import builtins
import ctypes
import os

__all__ = ["device", "set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "get_default_device",
           "set_default_device"]

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device:  # noqa: N801  (PyTorch's name)
    """A device name: ``type`` (``'cpu'``, ``'cuda'``, ...) and an optional ``index``.

    Accepts ``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 1)`` and another
    ``device``. Compares, hashes and pickles by value; ``str`` gives ``'cuda:1'`` and
    ``repr`` gives ``device(type='cuda', index=1)``, as in PyTorch.

    Example::

        >>> torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device(type='cpu')
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type._type, type._index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available: "
                               "distgrad runs on the CPU only; use device('cpu')")
        elif not isinstance(type, str):
            raise TypeError(f"device() expects a device string such as 'cpu' or 'cuda:0', or "
                            f"a device, but got {builtins.type(type).__name__}")
        else:
            type, index = _parse(type, index)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device index must be an int, got {index!r}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self._type = type
        self._index = index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __enter__(self) -> device:
        check_device(self)
        return self

    def __exit__(self, *exc) -> None:
        return None


def _parse(name: str, index):
    type_, sep, rest = name.partition(":")
    if type_ not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                           f"device string: {name}")
    if sep:
        if not rest.isdigit() or (len(rest) > 1 and rest[0] == "0"):
            raise RuntimeError(f"Invalid device string: {name!r}")
        if index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {name}")
        index = int(rest)
    return type_, index


CPU = device("cpu")


def check_device(dev) -> device:
    """Return ``device('cpu')`` if ``dev`` (a device, a string such as ``'cpu:0'``, or None)
    names the CPU; raise a ``RuntimeError`` naming the device otherwise."""
    if dev is None or dev is CPU or (dev.__class__ is str and dev == "cpu"):
        return CPU
    if not isinstance(dev, device):
        dev = device(dev)
    if dev._type != "cpu":
        raise RuntimeError(f"distgrad runs on the CPU only (NumPy arrays); it cannot use "
                           f"device '{dev}'. Use device('cpu'), or "
                           f"torch.device('cuda' if torch.cuda.is_available() else 'cpu')")
    return CPU


def _is_device(arg) -> bool:
    return isinstance(arg, (device, str)) or (isinstance(arg, int) and not isinstance(arg, bool))


def parse_to(args, kwargs, tensor_type):
    """Read the arguments of ``Tensor.to``/``Module.to``: ``to(dtype)``, ``to(device,
    dtype)``, ``to(tensor)`` and the keywords ``device``, ``dtype``, ``non_blocking``,
    ``copy``, ``memory_format``. Checks the device; returns ``(dtype or None, copy)``."""
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    args = list(args)
    if args and isinstance(args[0], tensor_type):
        dtype = args.pop(0).dtype
    elif args and _is_device(args[0]):
        dev = args.pop(0)
        if args and not isinstance(args[0], bool):
            dtype = args.pop(0)
    elif args and args[0] is not None and not isinstance(args[0], bool):
        dtype = args.pop(0)
    elif args and args[0] is None:
        args.pop(0)
    # What is left are the positional non_blocking and copy flags.
    if len(args) > 2:
        raise TypeError(f"to() received too many positional arguments: {len(args)} extra")
    if len(args) == 2:
        copy = bool(args[1])
    check_device(dev)
    return dtype, copy


def tensor_to(self, *args, **kwargs):
    """``Tensor.to``: convert to ``dtype`` (a copy only when needed or ``copy=True``); any
    device other than the CPU raises."""
    if not kwargs and len(args) == 1 and (args[0] is CPU or args[0].__class__ is str
                                          and args[0] == "cpu"):
        return self  # x.to(device) in a training loop
    from .ops.shape_ops import cast

    dtype, copy = parse_to(args, kwargs, type(self))
    out = self if dtype is None else cast(self, dtype)
    if copy and out is self:
        from .ops import clone
        out = clone(self)
    return out


def no_accelerator(what: str):
    """Raise the error of a CUDA-only call: distgrad has no accelerator."""
    raise RuntimeError(f"{what}: distgrad runs on the CPU only (NumPy arrays) and has no CUDA "
                       f"device; keep the tensor on the CPU, e.g. "
                       f"device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')")


def get_default_device() -> device:
    """The device factories use: always ``device('cpu')``."""
    return CPU


def set_default_device(dev) -> None:
    """Accepts only the CPU (or None), which is already the default."""
    check_device(dev)


# ------------------------------------------------------------------------- threads

_threads = {"intra": None, "interop": None}
_blas = []  # the (set, get) ctypes functions of the loaded OpenBLAS, found once
_blas_searched = False

# OpenBLAS exports these under plain names, or prefixed and suffixed in NumPy's wheels.
_BLAS_NAMES = (("openblas_set_num_threads", "openblas_get_num_threads"),
               ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
               ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
               ("openblas_set_num_threads64_", "openblas_get_num_threads64_"))


def _find_blas() -> list:
    """The OpenBLAS libraries already loaded in this process (read from /proc/self/maps, so
    only on Linux); nothing is loaded that was not loaded already."""
    global _blas_searched
    if _blas_searched:
        return _blas
    _blas_searched = True
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return _blas
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _BLAS_NAMES:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                _blas.append((setter, getter))
                break
    return _blas


def set_num_threads(num: int) -> None:
    """Set the number of threads used for intra-op parallelism.

    distgrad's own kernels are single-threaded NumPy; the number is passed on to the
    OpenBLAS that NumPy loaded (found through ``/proc/self/maps`` on Linux) and returned by
    :func:`get_num_threads`. Elsewhere, or with another BLAS, the value is only recorded.
    """
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {num!r}")
    _threads["intra"] = num
    for setter, _ in _find_blas():
        setter(num)


def get_num_threads() -> int:
    """The number of intra-op threads: the last :func:`set_num_threads` value, else the
    loaded OpenBLAS's thread count, else ``os.cpu_count()``."""
    if _threads["intra"] is not None:
        return _threads["intra"]
    for _, getter in _find_blas():
        return int(getter())
    return os.cpu_count() or 1


def set_num_interop_threads(num: int) -> None:
    """Record the number of inter-op threads (distgrad runs ops one at a time)."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {num!r}")
    _threads["interop"] = num


def get_num_interop_threads() -> int:
    return _threads["interop"] or os.cpu_count() or 1


# --------------------------------------------------------------------- determinism

_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flag; distgrad's NumPy kernels are deterministic either way."""
    _deterministic["mode"] = bool(mode)
    _deterministic["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]
