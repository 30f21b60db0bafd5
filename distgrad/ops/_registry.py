"""The op table: each differentiable op is a forward on arrays plus one VJP per input.

``defop`` registers an op and makes its node class (``MulBackward0``...). ``apply`` runs the
forward on raw arrays and, only when grad mode is on and some input requires grad, records
one node holding just what the VJPs need.

A VJP has the signature ``vjp(xp, grad, out, *inputs, **params) -> grad_input``:
``xp`` is an array namespace (``_backends.raw``: NumPy, or ``_backends.taped``: distgrad ops
that record, under ``create_graph=True``), ``out`` the op's result and ``inputs`` the op's
inputs (``None`` where the op does not save them). Written once against ``xp``, the same
VJP serves plain backward on raw arrays and differentiable backward on tensors.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.engine import _state as _engine_state
from ..autograd.graph import Node, gradient_edge
from . import _backends
from ._broadcast import unbroadcast

__all__ = ["OpSpec", "defop", "apply", "OpNode"]

_F64 = np.dtype(np.float64)
_grad_state = grad_mode._state


class OpSpec:
    """One row of the op table."""

    __slots__ = ("name", "forward", "vjps", "save_inputs", "save_output", "broadcast",
                 "is_view", "node_cls")

    def __init__(self, name, forward, vjps, save_inputs, save_output, broadcast, is_view):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.save_inputs = save_inputs
        self.save_output = save_output
        self.broadcast = broadcast
        self.is_view = is_view


def defop(node_name: str, forward, vjps, *, save_inputs: bool = True, save_output: bool = False,
          broadcast: bool = False, is_view: bool = False) -> OpSpec:
    """Register an op.

    Args:
        node_name: the ``grad_fn`` class name PyTorch uses, e.g. ``"MulBackward0"``.
        forward: ``forward(*arrays, **params) -> array``.
        vjps: a tuple with one VJP per input (``None`` for inputs that are never
            differentiable), or a single callable ``vjp(xp, grad, out, needs, *inputs,
            **params) -> list`` for variadic ops, ``needs`` marking inputs that want a grad.
        save_inputs / save_output: what the node keeps for the VJPs.
        broadcast: inputs broadcast against each other; gradients are summed back to each
            input's shape by :func:`unbroadcast` and cast to its dtype.
        is_view: the result may share memory with input 0; when it does, it shares its
            version counter. Only floating point results are ever recorded.
    """
    spec = OpSpec(node_name, forward, vjps, save_inputs, save_output, broadcast, is_view)
    doc = f"Backward node of {node_name.removesuffix('Backward0').removesuffix('Backward1')}."
    spec.node_cls = type(node_name, (OpNode,), {"spec": spec, "__doc__": doc})
    return spec


class OpNode(Node):
    """Backward node of a table op; its class (``MulBackward0``...) is made by :func:`defop`."""

    spec: OpSpec
    _inputs = None     # saved inputs (Tensors or constants), or None
    _versions = None   # versions of saved tensors when saved
    _out = None        # saved output array
    _out_version = None
    _meta = None       # (shape, dtype) per input, for broadcasting ops

    def release(self):
        self._released = True
        self._inputs = None
        self._out = None

    def apply(self, grad_outputs, create_graph):
        spec = self.spec
        if self._released and (spec.save_inputs or spec.save_output):
            self._check_not_released()
        grad = grad_outputs[0]
        inputs = self._inputs
        if inputs is not None:
            self._check_versions()
        if create_graph:
            xp = _backends.taped
            out = self._output_tensor() if spec.save_output else None
        else:
            xp = _backends.raw
            out = self._out
            if inputs is not None:
                inputs = [x._data if isinstance(x, Tensor) else x for x in inputs]
        if inputs is None:
            inputs = (None,) * len(self.next_functions)
        params = self._params
        vjps = spec.vjps
        if callable(vjps):
            needs = [child is not None for child, _ in self.next_functions]
            return list(vjps(xp, grad, out, needs, *inputs, **params))
        grads = []
        for i, (child, _) in enumerate(self.next_functions):
            if child is None:
                grads.append(None)
                continue
            g = vjps[i](xp, grad, out, *inputs, **params)
            if spec.broadcast:
                shape, dtype = self._meta[i]
                g = unbroadcast(xp, g, shape)
                if g.dtype != dtype:
                    g = g.astype(dtype) if not create_graph else g.to(dtype)
            grads.append(g)
        return grads

    def _check_versions(self):
        for x, version in zip(self._inputs, self._versions):
            if version is not None and x._vc[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{x._describe()}] is at version {x._vc[0]}; "
                    f"expected version {version} instead. It is an input of {self.name()}. "
                    f"Hint: use an out-of-place op (or .clone() the tensor) before modifying it.")
        if self._out_version is not None and self._out_version[0][0] != self._out_version[1]:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {self.name()} is at version "
                f"{self._out_version[0][0]}; expected version {self._out_version[1]} instead. "
                f"Hint: use an out-of-place op (or .clone() the result) before modifying it.")

    def _output_tensor(self):
        """The saved output as a tensor whose grad_fn is this node (for create_graph)."""
        if self._out is None:
            self._check_not_released()
        return Tensor._wrap(self._out, grad_fn=self)


def apply(spec: OpSpec, *inputs, **params):
    """Run ``spec``'s forward on ``inputs`` (Tensors, arrays or numbers) and record a node."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    out = spec.forward(*arrays, **params)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out.dtype is _F64:
        out = _keep_default_float(out, inputs)
    requires_grad = False
    if _grad_state.enabled and out.dtype.kind == "f":
        for x in inputs:
            if isinstance(x, Tensor) and x._requires_grad:
                requires_grad = True
                break
    result = Tensor._wrap(out)
    if spec.is_view and np.may_share_memory(out, arrays[0]):
        base = inputs[0]
        result._vc = base._version_counter()
        result._base = base if base._base is None else base._base
    if requires_grad:
        _record(spec, result, inputs, params)
    return result


def _record(spec, result, inputs, params):
    node = spec.node_cls()
    node.next_functions = tuple(gradient_edge(x) for x in inputs)
    node._params = params
    if spec.save_inputs:
        node._inputs = inputs
        node._versions = tuple(x._version_counter()[0] if isinstance(x, Tensor) else None
                               for x in inputs)
    if spec.save_output:
        node._out = result._data
        node._out_version = (result._version_counter(), result._vc[0])
    if spec.broadcast:
        node._meta = tuple((x._data.shape, x._data.dtype) if isinstance(x, Tensor) else None
                           for x in inputs)
    if _engine_state.anomaly:
        node._record_anomaly_trace()
    result.grad_fn = node
    result._requires_grad = True


def _keep_default_float(out, inputs):
    """Python floats mixed with integer tensors give float32, as in PyTorch, not float64."""
    for x in inputs:
        array = x._data if isinstance(x, Tensor) else x
        if isinstance(array, np.ndarray) and array.dtype is _F64:
            return out
    from .._dtype import get_default_dtype

    return out.astype(get_default_dtype().numpy)
