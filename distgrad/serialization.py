"""``save`` and ``load``: checkpoints in a safe format that never unpickles.

A checkpoint is a zip archive holding ``manifest.json``, which describes the saved object's
nested structure, and one ``.npy`` entry per array or tensor (read back with
``allow_pickle=False``). The manifest records the exact container types (dict, OrderedDict,
list, tuple), key types (str or int) and dtypes, so that ``load(save(obj))`` equals ``obj``.

Format version 2 adds, to a tensor's entry, whether it requires grad and whether it is an
``nn.Parameter``; a checkpoint is written as version 1 (readable by older distgrad) unless a
tensor needs these flags.
"""

from __future__ import annotations

import collections
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

from ._tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_FORMAT = "distgrad-checkpoint"
_VERSION = 2
_MANIFEST = "manifest.json"


class CheckpointError(RuntimeError):
    """Raised by :func:`load` for a file that is not a distgrad checkpoint, or is truncated
    or corrupt."""


def save(obj, f) -> None:
    r"""Save an object to a checkpoint file.

    ``obj`` may nest dicts (with ``str`` or ``int`` keys), ``OrderedDict`` s, lists and
    tuples of tensors, NumPy arrays and scalars, and Python ``int``, ``float``, ``bool``,
    ``str`` and ``None``: what module and optimizer state dicts hold. Tensors are saved by
    value, with their ``requires_grad`` flag and whether they are an ``nn.Parameter`` (as
    ``torch.save`` keeps them; a non-leaf comes back as a leaf). A tensor or array that
    appears several times is stored once, and loads back as one object.

    Writing to a path is atomic: the checkpoint is written to a temporary file in the same
    directory, flushed to disk, and renamed over ``f``, so a crash or an error leaves any
    previous file at ``f`` intact. A file object is written in place.

    Args:
        obj: the object to save.
        f: a path (``str`` or ``os.PathLike``) or a binary file object open for writing.

    Raises:
        TypeError: if ``obj`` contains an object of another type; the message names where,
            e.g. ``obj['state'][0]['momentum_buffer']``. Nothing is written then.

    Example:
        >>> distgrad.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.dg")
    """
    arrays: list[np.ndarray] = []
    memo: dict = {}
    root = _encode(obj, "obj", arrays, memo, set())
    # Version 1 readers reject the grad flags, so only checkpoints that use them say 2.
    version = _VERSION if memo.get(_FLAGGED) else 1
    manifest = {"format": _FORMAT, "version": version, "root": root}
    if not isinstance(f, (str, os.PathLike)):
        _write(f, manifest, arrays)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            _write(out, manifest, arrays)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_directory(directory)


def load(f, map_location=None, *, weights_only=None):
    r"""Load an object saved with :func:`save`.

    Nothing is unpickled: arrays are read with ``allow_pickle=False`` and the structure
    comes from a JSON manifest. Tensors come back with their saved dtype, values and
    ``requires_grad`` flag, as ``nn.Parameter`` s if they were saved as parameters.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a binary file object open for reading.
        map_location, weights_only: accepted for compatibility with ``torch.load`` and
            ignored: tensors always load on the CPU, and loading never runs code.

    Raises:
        CheckpointError: if ``f`` is not a distgrad checkpoint (for example a pickle or a
            ``torch.save`` file), was written by a newer format version, or is truncated or
            corrupt. The message names the file and the problem.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    try:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as file:
                return _read(file, name)
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _read(f, name)
    except CheckpointError:
        raise
    # What zipfile and NumPy raise on damaged archives: NotImplementedError for a garbled
    # "version needed" or compression method, RuntimeError for an "encrypted" entry,
    # zlib.error for bad compressed data, struct.error for a short header...
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, KeyError, OSError,
            RuntimeError, zlib.error, struct.error, OverflowError) as e:
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise CheckpointError(f"{name}: truncated or corrupt distgrad checkpoint "
                              f"({type(e).__name__}: {e})") from e


# ----------------------------------------------------------------------- encoding
def _encode(obj, path: str, arrays: list, memo: dict, active: set):
    """The JSON description of ``obj``; arrays are appended to ``arrays``."""
    kind = type(obj)
    if obj is None or kind in (bool, int, str):
        return obj
    if kind is float:
        # JSON has no inf/nan; repr() round-trips every float exactly.
        return {"float": repr(obj)}
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        return _encode_array(obj, path, arrays, memo)
    if kind in (dict, collections.OrderedDict, list, tuple):
        if id(obj) in active:
            raise ValueError(f"cannot save {path}: it contains itself")
        active.add(id(obj))
        if kind in (list, tuple):
            items = [_encode(v, f"{path}[{i}]", arrays, memo, active) for i, v in enumerate(obj)]
            encoded = {kind.__name__: items}
        else:
            items = []
            for key, value in obj.items():
                if type(key) not in (str, int):
                    raise TypeError(f"cannot save {path}: its key {key!r} is a "
                                    f"{type(key).__name__}; keys must be str or int")
                items.append([key, _encode(value, f"{path}[{key!r}]", arrays, memo, active)])
            encoded = {"dict" if kind is dict else "odict": items}
        active.discard(id(obj))
        return encoded
    raise TypeError(f"cannot save {path}: objects of type {kind.__module__}.{kind.__qualname__} "
                    "are not supported (tensors, arrays, numbers, bools, strings, None, and "
                    "dicts, lists and tuples of them are)")


def _encode_array(obj, path: str, arrays: list, memo: dict) -> dict:
    if isinstance(obj, Tensor):
        tag, array = "tensor", obj._data
    elif isinstance(obj, np.generic):
        tag, array = "scalar", np.asarray(obj)
    else:
        tag, array = "ndarray", obj
    if array.dtype.hasobject:
        raise TypeError(f"cannot save {path}: arrays of dtype object are not supported")
    key = (tag, id(obj))
    if key not in memo:
        memo[key] = (len(arrays), obj)  # keeps obj alive, so its id stays unique
        arrays.append(array)
    node = {tag: memo[key][0], "dtype": array.dtype.str}
    if tag == "tensor":
        from .nn.parameter import Parameter

        if obj.requires_grad:
            node["requires_grad"] = True
        if isinstance(obj, Parameter):
            node["parameter"] = True
        if len(node) > 2:
            memo[_FLAGGED] = True
    return node


_FLAGGED = "flags"  # the memo entry (not an id pair) that says a tensor needed grad flags


def _write(out, manifest: dict, arrays: list) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest, allow_nan=False))
        for i, array in enumerate(arrays):
            with zf.open(f"arrays/{i}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _file_mode(path: str) -> int:
    """The mode a new file at ``path`` would get (mkstemp makes temporary files 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; not possible on every platform (e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------- decoding
def _read(file, name: str):
    head = file.read(4)
    file.seek(0)
    if not head.startswith(b"PK"):
        hint = (" (the file is empty)" if not head else
                " (it looks like a pickle file, which distgrad never loads)"
                if head[:1] == b"\x80" else "")
        raise CheckpointError(f"{name}: not a distgrad checkpoint{hint}")
    with zipfile.ZipFile(file) as zf:
        names = set(zf.namelist())
        if _MANIFEST not in names:
            hint = (" (it looks like a torch.save file, whose pickled contents distgrad never "
                    "loads)" if any(n.endswith("data.pkl") for n in names) else "")
            raise CheckpointError(f"{name}: not a distgrad checkpoint: no {_MANIFEST}{hint}")
        try:
            manifest = json.loads(zf.read(_MANIFEST))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{name}: corrupt manifest ({e})") from e
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise CheckpointError(f"{name}: not a distgrad checkpoint (unknown manifest)")
        version = manifest.get("version")
        if not isinstance(version, int) or version > _VERSION:
            raise CheckpointError(f"{name}: checkpoint format version {version!r} is newer than "
                                  f"this distgrad reads (up to {_VERSION}); upgrade distgrad")
        return _Decoder(zf, name).decode(manifest["root"])


_TENSOR_KEYS = {"tensor", "dtype", "requires_grad", "parameter"}


class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.zf, self.name, self.loaded = zf, name, {}

    def decode(self, node):
        if node is None or type(node) in (bool, int, str):
            return node
        if type(node) is dict and node.keys() <= _TENSOR_KEYS and "tensor" in node:
            return self._array("tensor", node["tensor"], node.get("dtype"),
                               node.get("requires_grad") is True, node.get("parameter") is True)
        if type(node) is dict and len(node) in (1, 2):
            tag = next(iter(node))
            value = node[tag]
            if tag == "float" and type(value) is str:
                return float(value)
            if tag in ("list", "tuple") and type(value) is list:
                items = [self.decode(v) for v in value]
                return items if tag == "list" else tuple(items)
            if tag in ("dict", "odict") and type(value) is list:
                pairs = ((self._key(pair[0]), self.decode(pair[1])) for pair in value)
                return dict(pairs) if tag == "dict" else collections.OrderedDict(pairs)
            if tag in ("tensor", "ndarray", "scalar") and type(value) is int:
                return self._array(tag, value, node.get("dtype"))
        raise CheckpointError(f"{self.name}: corrupt manifest: unexpected entry {node!r:.80}")

    def _key(self, key):
        if type(key) not in (str, int):
            raise CheckpointError(f"{self.name}: corrupt manifest: bad key {key!r:.80}")
        return key

    def _array(self, tag: str, index, dtype, requires_grad: bool = False,
               parameter: bool = False):
        if type(index) is not int:
            raise CheckpointError(f"{self.name}: corrupt manifest: bad array index {index!r:.80}")
        if (tag, index) in self.loaded:
            return self.loaded[tag, index]
        entry = f"arrays/{index}.npy"
        try:
            with self.zf.open(entry) as data:
                array = np.lib.format.read_array(data, allow_pickle=False)
        except KeyError:
            raise CheckpointError(f"{self.name}: corrupt checkpoint: {entry} is missing") from None
        if array.dtype.str != dtype:
            raise CheckpointError(f"{self.name}: corrupt checkpoint: {entry} has dtype "
                                  f"{array.dtype.str}, the manifest says {dtype}")
        if tag == "tensor" and parameter:
            from .nn.parameter import Parameter

            result = Parameter(Tensor._wrap(array), requires_grad=requires_grad)
        elif tag == "tensor":
            result = Tensor._wrap(array)
            if requires_grad:
                result.requires_grad_(True)
        elif tag == "scalar":
            result = array[()]
        else:
            result = array
        self.loaded[tag, index] = result
        return result
