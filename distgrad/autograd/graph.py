"""Graph nodes: the recorded backward of each op result, and ``AccumulateGrad`` for leaves.

A node owns what its backward needs (saved values, parameters, input shapes) and a tuple
``next_functions`` of ``(node, input_nr)`` edges towards the inputs, as PyTorch's does.
The engine (``engine.py``) calls :meth:`Node.apply` with the gradients of the node's
outputs and receives one gradient per edge.
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "gradient_edge"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class RemovableHandle:
    """Handle returned by ``register_hook`` and friends; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """Base of every backward node (``grad_fn``).

    Subclasses implement :meth:`apply`. ``next_functions`` is a tuple of ``(node, input_nr)``
    pairs, ``(None, 0)`` for inputs that need no gradient.
    """

    # A node made by a single-output op has one output; custom Functions may have more.
    num_outputs = 1
    # The edges, stored flat for the engine: the input nodes (None for an input that needs
    # no gradient) and, only if some input is not output 0 of its node, the output numbers.
    _next: tuple = ()
    _next_nr = None
    _pre_hooks = None        # fn(grad_outputs) -> new grad_outputs or None
    _post_hooks = None       # fn(grad_inputs, grad_outputs) -> new grad_inputs or None
    _tensor_hooks = None     # {output_nr: [fn(grad) -> grad or None]}: hooks of non-leaf tensors
    _retained = None         # {output_nr: weakref to a tensor whose .grad is retained}
    _has_hooks = False       # any of the four above: the engine checks this one flag
    _anomaly_trace = None    # forward stack recorded under detect_anomaly
    _released = False
    _frees = True            # whether release() has saved values to free
    _fast = None             # (vjps, frees, params, meta) of a table op without hooks, which
                             # the engine runs inline; None: through apply()

    def name(self) -> str:
        """Return the node's name, e.g. ``'MulBackward0'``."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """The ``(node, output_nr)`` edges to the inputs' nodes, ``(None, 0)`` where none."""
        nrs = self._next_nr or (0,) * len(self._next)
        return tuple((child, nr if child is not None else 0)
                     for child, nr in zip(self._next, nrs))

    @next_functions.setter
    def next_functions(self, edges) -> None:
        self._next = tuple(child for child, _ in edges)
        nrs = tuple(nr for _, nr in edges)
        self._next_nr = nrs if any(nrs) else None

    @property
    def metadata(self) -> dict:
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self._metadata = {}
        return meta

    def apply(self, grad_outputs: list, create_graph: bool) -> tuple:
        raise NotImplementedError

    def release(self) -> None:
        """Free saved values once this node's backward has run (no ``retain_graph``)."""
        self._released = True

    def _check_not_released(self) -> None:
        if self._released:
            raise RuntimeError(_FREED_MESSAGE)

    def register_hook(self, fn) -> RemovableHandle:
        """Register ``fn(grad_inputs, grad_outputs)``, called after this node's backward."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(fn)
        self._mark_hooked()
        return RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn) -> RemovableHandle:
        """Register ``fn(grad_outputs)``, called before this node's backward."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        self._mark_hooked()
        return RemovableHandle(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr: int, fn) -> RemovableHandle:
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        hooks = self._tensor_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        self._mark_hooked()
        return RemovableHandle(hooks, fn)

    def _mark_hooked(self) -> None:
        """The node has hooks or retained grads: the engine's fast path must not run it."""
        self._has_hooks = True
        self._fast = None

    def _record_anomaly_trace(self) -> None:
        """Keep the forward's stack, up to the user's call into distgrad."""
        frames = traceback.extract_stack()
        while frames and frames[-1].filename.startswith(_PACKAGE_DIR):
            frames.pop()
        self._anomaly_trace = "".join(traceback.format_list(frames))

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


def gradient_edge(x) -> tuple:
    """The ``(node, output_nr)`` that a gradient for ``x`` flows into; ``(None, 0)`` if none."""
    if getattr(x, "_requires_grad", False):
        if x._base is not None and x._vc[0] != x._view_version:
            _refresh_view(x)
        return (x.grad_fn, x._output_nr) if x.grad_fn is not None else (x._get_accumulator(), 0)
    return (None, 0)


def _refresh_view(view) -> None:
    """Re-derive a view's history (and forward-mode tangent) from its base's current ones,
    after the base (or another view of it) changed in place, as PyTorch regenerates a view's
    grad_fn."""
    from ..ops._registry import apply
    from .grad_mode import set_grad_enabled

    view._view_version = view._vc[0]
    has_history = view.grad_fn is not None
    if not has_history and view._tangent is None:
        return  # made under no_grad, or detached: it has nothing to follow
    fresh = view._base
    with set_grad_enabled(has_history):
        for spec, params in view._view_chain:
            fresh = apply(spec, fresh, **params)
    if has_history:
        view.grad_fn, view._requires_grad, view._output_nr = fresh.grad_fn, fresh._requires_grad, 0
    view._tangent = fresh._tangent


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    _frees = False  # nothing saved

    def __init__(self, variable):
        self.variable = variable

    def apply(self, grad_outputs, create_graph):
        raise RuntimeError("AccumulateGrad is run by the engine, not applied")

    def run_leaf_hooks(self, grad, create_graph: bool):
        """Pass ``grad`` through the leaf's ``register_hook`` hooks (each may replace it)."""
        for hook in self.variable._hooks or ():
            replaced = hook(_wrap_grad(grad))
            if replaced is not None:
                grad = replaced if create_graph else _unwrap_grad(replaced)
        return grad

    def accumulate(self, grad, create_graph: bool, owned: set) -> None:
        """Run the leaf's hooks, add ``grad`` into ``.grad``, then the post-accumulate hooks.

        ``owned`` holds the ids of arrays already stored as some ``.grad`` in this backward,
        so that no two ``.grad`` ever alias one array.
        """
        leaf = self.variable
        grad = self.run_leaf_hooks(grad, create_graph)
        store_grad(leaf, grad, create_graph, owned)
        for hook in leaf._post_accumulate_hooks or ():
            _run_post_accumulate_hook(hook, leaf)

    def accumulate_array(self, grad: np.ndarray, owned: set) -> None:
        """:meth:`accumulate` for the engine's plain backward (``grad`` an array, no
        create_graph): a leaf's first gradient that nothing else can reach is stored as is."""
        leaf = self.variable
        if leaf._hooks:
            grad = self.run_leaf_hooks(grad, False)
        if (leaf._grad is None and grad.__class__ is np.ndarray
                and (grad.base is None or _is_exclusive_view(grad))
                and grad.dtype == leaf._data.dtype and id(grad) not in owned
                and grad.flags.writeable):
            owned.add(id(grad))
            leaf._grad = (_TENSOR or _tensor_class())._wrap(grad)
        else:
            store_grad(leaf, grad, False, owned)
        if leaf._post_accumulate_hooks:
            for hook in tuple(leaf._post_accumulate_hooks):
                _run_post_accumulate_hook(hook, leaf)


def _run_post_accumulate_hook(hook, leaf) -> None:
    if hook(leaf) is not None:
        raise RuntimeError("Tensor post accumulate grad hooks should return None: they see the "
                           "leaf, and may change leaf.grad in place (end the hook with a bare "
                           "statement, not `return leaf.grad.mul_(...)` or a lambda).")


def store_grad(tensor, grad, create_graph: bool, owned: set) -> None:
    """Accumulate ``grad`` (an array, or a Tensor under create_graph) into ``tensor.grad``."""
    Tensor = _tensor_class()
    if create_graph:
        grad_tensor = grad if isinstance(grad, Tensor) else Tensor._wrap(np.array(grad))
        tensor._grad = grad_tensor if tensor._grad is None else tensor._grad + grad_tensor
        return
    if isinstance(grad, Tensor):
        grad = grad._data
    dtype = tensor._data.dtype
    if tensor._grad is None:
        if (grad.dtype != dtype or id(grad) in owned or not grad.flags.writeable
                or (grad.base is not None and not _is_exclusive_view(grad))):
            # Copy unless ``grad`` is the only way to reach its memory: .grad must never
            # alias another tensor's gradient, a user's array or a saved value.
            grad = np.array(grad, dtype=dtype, order="K" if grad.ndim < 2 else "C")
        owned.add(id(grad))
        tensor._grad = Tensor._wrap(grad)
    else:
        existing = tensor._grad._data
        if existing.shape != grad.shape:
            raise RuntimeError(
                f"cannot accumulate a gradient of shape {grad.shape} into .grad of shape "
                f"{existing.shape}; set .grad to None or to a tensor of the parameter's shape")
        existing += grad
        tensor._grad._bump_version()


def _base_refs(view) -> int:
    base = view.base
    return sys.getrefcount(base)


# What _base_refs counts for a base that only its view holds, measured the same way (the
# interpreter's own references vary between Python versions).
_EXCLUSIVE_BASE_REFS = _base_refs(np.empty(2)[:1])


def _is_exclusive_view(grad) -> bool:
    """Whether ``grad`` is a C-contiguous view whose memory nothing else can reach (say the
    transpose of a fresh matmul result): it may become a ``.grad`` without a copy."""
    return _base_refs(grad) <= _EXCLUSIVE_BASE_REFS and grad.flags.c_contiguous


_TENSOR = None


def _tensor_class():
    global _TENSOR
    if _TENSOR is None:
        from .._tensor import Tensor
        _TENSOR = Tensor
    return _TENSOR


def _wrap_grad(grad):
    from .._tensor import Tensor

    # A VJP on 0-d arrays may give a NumPy scalar: a Tensor's data is always an array (a
    # scalar would be taken for a Python number, and lose float64 in the next op).
    return grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad))


def _unwrap_grad(grad):
    from .._tensor import Tensor

    return grad._data if isinstance(grad, Tensor) else np.asarray(grad)
