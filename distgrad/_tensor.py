"""``Tensor``: a NumPy array plus the autograd bookkeeping (grad, grad_fn, version counter)."""

from __future__ import annotations

import weakref

import numpy as np

from . import _device, _dtype, _tensor_methods
from ._tensor_str import tensor_repr

__all__ = ["Tensor"]

# Counts every in-place change to any tensor. A node records the count when it is made; if
# it is unchanged when the node's backward runs, none of its saved values can have changed,
# and the per-tensor version checks are skipped (backward's fast path).
_INPLACE_EPOCH = [0]


class Tensor(_tensor_methods.TensorMethods):
    """A multi-dimensional array that can record the operations applied to it.

    Tensors are created with :func:`distgrad.tensor` and the factories (``zeros``,
    ``randn``...). A tensor with ``requires_grad=True`` is a leaf whose ``.grad`` receives
    gradients from :meth:`backward`; results of operations on it carry a ``grad_fn``.
    """

    # NumPy must hand mixed expressions (``ndarray + tensor``) to Tensor's reflected operators.
    __array_ufunc__ = None

    # Defaults shared by all instances; set per instance only when used.
    _grad = None                    # .grad; the engine writes it directly, unchecked
    grad_fn = None
    _requires_grad = False
    _vc = None                      # version counter: a one-element list shared with views
    _base = None                    # the tensor this one is a view of
    _view_chain = ()                # (op spec, params) of the view ops from _base to here
    _view_version = 0               # the version at which this view's grad_fn was derived
    _hooks = None                   # leaf gradient hooks
    _post_accumulate_hooks = None
    _accumulator = None             # the leaf's AccumulateGrad node, made on first use
    _output_nr = 0
    _retains_grad = False
    _tangent = None                 # forward-mode AD: (level token, tangent array)

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data._data
        np_dtype = _dtype.to_numpy_dtype(dtype) if dtype is not None else None
        array = np.array(data, dtype=np_dtype)
        if np_dtype is None and array.dtype == np.float64 and not _is_float64_source(data):
            array = array.astype(_dtype.get_default_dtype().numpy)
        self._data = array
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, grad_fn=None) -> Tensor:
        """Wrap an ndarray without copying (internal fast path)."""
        t = object.__new__(cls)
        t._data = array
        if grad_fn is not None:
            t.grad_fn = grad_fn
            t._requires_grad = True
        return t

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got "
                f"{_dtype_name(self._data.dtype)}; convert first, e.g. t.float()")
        self._requires_grad = value
        if value:
            self._own_fields()

    def _own_fields(self) -> None:
        """Copy the class-level defaults of the fields that recording an op reads into the
        instance: Python 3.11 reads an attribute that only the class has through its slow
        generic path, and a leaf that requires grad is read by every op that uses it. (Op
        results get the same fields when they are made.)"""
        self.grad_fn, self._base, self._vc, self._output_nr = (
            self.grad_fn, self._base, self._vc, self._output_nr)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient accumulated by :meth:`backward` (None until one arrives)."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    f"tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype {value.dtype!r} to a tensor "
                    f"with dtype {self.dtype!r}; convert it first, e.g. grad.to(t.dtype)")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (not by a recorded op)."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's storage, outside autograd (its changes are not tracked)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    def _version_counter(self) -> list:
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    @property
    def _version(self) -> int:
        return self._vc[0] if self._vc is not None else 0

    def _bump_version(self) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1
        _INPLACE_EPOCH[0] += 1

    def _get_accumulator(self):
        acc = self._accumulator
        if acc is None:
            acc = self._accumulator = AccumulateGrad(self)
        return acc

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Compute the gradient of this tensor with respect to the graph's leaves.

        Gradients are accumulated into the leaves' ``.grad`` (zero them between steps).

        Args:
            gradient: the gradient of some scalar with respect to this tensor; required
                unless this tensor has a single element.
            retain_graph: keep saved values so that backward can run again through this
                graph. Defaults to ``create_graph``.
            create_graph: record the backward pass so higher-order derivatives can be taken.
            inputs: only accumulate into these tensors' ``.grad``.
        """
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """Return a tensor sharing storage (and version counter) with no graph history."""
        t = Tensor._wrap(self._data)
        t._vc = self._version_counter()
        return t

    def detach_(self) -> Tensor:
        """Detach this tensor from its graph in place, making it a leaf."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        retained = self.grad_fn._retained
        if retained is None:
            retained = self.grad_fn._retained = {}
        retained[self._output_nr] = weakref.ref(self)
        self.grad_fn._mark_hooked()
        self._retains_grad = True

    def register_hook(self, hook):
        """Register ``hook(grad)`` called with this tensor's gradient during backward.

        The hook may return a new gradient to use in place of ``grad``.
        Returns a handle whose ``remove()`` unregisters it.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._output_nr, hook)
        from .autograd.graph import RemovableHandle

        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)`` on a leaf, called after its ``.grad`` has been accumulated.

        It fires once per backward pass, as soon as this leaf's gradient is final.
        """
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import RemovableHandle

        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    # ------------------------------------------------------------------- array facts
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self) -> _device.device:
        return _device.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    def get_device(self) -> int:
        """-1: the tensor is on the CPU."""
        return -1

    def size(self, dim: int | None = None):
        """Return the shape, or the size of dimension ``dim``."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def item(self):
        """Return the value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar; "
                "use .tolist() or index a single element first")
        return self._data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """Return the underlying array (shared memory)."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __float__(self):
        return float(self._python_scalar())

    def __int__(self):
        return int(self._python_scalar())

    def _python_scalar(self):
        if self._data.size != 1:  # a ValueError here (item() raises RuntimeError), as PyTorch
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"(this one has {self._data.size}); use .tolist() or index it")
        return self.item()

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()")
        return bool(self._data.reshape(()).item())

    # Identity hashing (tensors key optimizer state), in C: __eq__ is elementwise, so the
    # default would otherwise be dropped.
    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) works for tensors outside autograd; a tensor that requires grad must be
        # detached first, so a graph is never dropped silently.
        if self._requires_grad:
            raise RuntimeError("Can't convert a Tensor that requires grad to a NumPy array. "
                               "Use tensor.detach().numpy() instead.")
        return self._data if dtype is None else self._data.astype(dtype)

    def __repr__(self):
        return tensor_repr(self)

    def _describe(self) -> str:
        return f"Tensor of shape {list(self.shape)}, dtype {self.dtype!r}"

    # -------------------------------------------------------------- conversions
    def to(self, *args, **kwargs) -> Tensor:
        """Return this tensor converted to a dtype: ``to(dtype)``, ``to(device, dtype)``,
        ``to(other)``, with ``dtype=``, ``device=``, ``non_blocking=``, ``copy=``. Only the
        CPU is a device here; any other raises a RuntimeError."""
        return _device.tensor_to(self, *args, **kwargs)

    def type(self, dtype=None):
        if dtype is None:
            return f"distgrad.{type(self).__name__}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        _device.no_accelerator("Tensor.cuda()")

    def clone(self) -> Tensor:
        """Return a copy that stays in the graph (its gradient flows back to this tensor)."""
        return _ops.clone(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else _ops.clone(self)

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    # --------------------------------------------------------------- operators
    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _inplace.setitem_(self, index, value)

    def __iadd__(self, other):
        return _inplace.add_(self, other)

    def __isub__(self, other):
        return _inplace.sub_(self, other)

    def __imul__(self, other):
        return _inplace.mul_(self, other)

    def __itruediv__(self, other):
        return _inplace.div_(self, other)

    # Comparisons give bool tensors with no graph.
    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    # ------------------------------------------------------------- in-place ops
    def zero_(self):
        return _inplace.zero_(self)

    def fill_(self, value):
        return _inplace.fill_(self, value)

    def add_(self, other, alpha=1):
        return _inplace.add_(self, other, alpha=alpha)

    def sub_(self, other, alpha=1):
        return _inplace.sub_(self, other, alpha=alpha)

    def mul_(self, other):
        return _inplace.mul_(self, other)

    def div_(self, other):
        return _inplace.div_(self, other)

    def copy_(self, src):
        return _inplace.copy_(self, src)

    def clamp_(self, min=None, max=None):
        return _inplace.clamp_(self, min, max)

    def relu_(self):
        return _inplace.clamp_(self, 0, None)

    def pow_(self, exponent):
        return _inplace.unary_(self, _ops.pow, exponent)

    def clamp_min_(self, min):
        return _inplace.unary_(self, _ops.clamp_min, min)

    def clamp_max_(self, max):
        return _inplace.unary_(self, _ops.clamp_max, max)

    def round_(self, *, decimals=0):
        return _inplace.unary_(self, _ops.round, decimals=decimals)

    def remainder_(self, other):
        return _inplace.unary_(self, _ops.remainder, other)

    def floor_divide_(self, other):
        return _inplace.unary_(self, _ops.floor_divide, other)

    # Tensor.__xor__ and friends: no gradient.
    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def normal_(self, mean=0.0, std=1.0):
        return _inplace.normal_(self, mean, std)

    def uniform_(self, a=0.0, b=1.0):
        return _inplace.uniform_(self, a, b)


def _bump_versions(tensors) -> None:
    """Bump the version counter of each of ``tensors`` (changed in place together, as by an
    optimizer step) and the global in-place epoch once."""
    for t in tensors:
        vc = t._vc
        if vc is None:
            vc = t._vc = [0]
        vc[0] += 1
    _INPLACE_EPOCH[0] += 1


def _is_float64_source(data) -> bool:
    """An ndarray (or NumPy scalar) of float64 keeps float64; Python floats become float32."""
    return isinstance(data, (np.ndarray, np.floating)) and data.dtype == np.float64


def _dtype_name(np_dtype) -> str:
    try:
        return repr(_dtype.from_numpy_dtype(np_dtype))
    except TypeError:
        return str(np_dtype)


# The op modules import Tensor, so they are bound here, once the class exists.
from . import ops as _ops  # noqa: E402
from .autograd import backward as _autograd_backward  # noqa: E402
from .autograd.graph import AccumulateGrad  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import inplace as _inplace  # noqa: E402

_tensor_methods._ops = _ops


# The elementwise operators and methods are the op table's closures themselves, one Python
# call per op (see ``ops._registry._make_binary``). The reflected ones take the tensor first,
# as PyTorch records them (``2 * x`` is ``x.mul(2)``); RSUB and RDIV swap back in their forward.
for _name, _spec in (("__add__", _ew.ADD), ("__sub__", _ew.SUB), ("__mul__", _ew.MUL),
                     ("__truediv__", _ew.DIV), ("__radd__", _ew.ADD), ("__rsub__", _ew.RSUB),
                     ("__rmul__", _ew.MUL), ("__rtruediv__", _ew.RDIV)):
    setattr(Tensor, _name, _spec.binary)


def _unary_inplace(op):
    def method(self):
        return _inplace.unary_(self, op)

    method.__name__ = method.__qualname__ = f"{op.__name__}_"
    return method


for _op in (_ew.exp, _ew.log, _ew.neg, _ew.abs, _ew.sqrt, _ew.sin, _ew.cos, _ew.tanh,
            _ew.sigmoid, _ew.sign, _ew.floor, _ew.ceil, _ew.trunc, _ew.frac):
    setattr(Tensor, f"{_op.__name__}_", _unary_inplace(_op))

for _name, _spec in (("__neg__", _ew.NEG), ("neg", _ew.NEG), ("__abs__", _ew.ABS),
                     ("abs", _ew.ABS), ("exp", _ew.EXP), ("log", _ew.LOG), ("sqrt", _ew.SQRT),
                     ("tanh", _ew.TANH), ("sigmoid", _ew.SIGMOID), ("relu", _ew.RELU)):
    setattr(Tensor, _name, _spec.unary)
