"""The op table: each differentiable op is a forward on arrays plus one VJP per input.

``defop`` registers an op and makes its node class (``MulBackward0``...). ``apply`` runs the
forward on raw arrays and, only when grad mode is on and some input requires grad, records
one node holding just what the VJPs need.

A VJP has the signature ``vjp(xp, grad, out, *inputs, **params) -> grad_input``:
``xp`` is an array namespace (``_backends.raw``: NumPy, or ``_backends.taped``: distgrad ops
that record, under ``create_graph=True``), ``out`` the op's result and ``inputs`` the op's
inputs (``None`` where the op does not save them). Written once against ``xp``, the same
VJP serves plain backward on raw arrays and differentiable backward on tensors.

Each row also carries its forward-mode rule (``jvp=``): inside ``forward_ad.dual_level``,
``apply`` pushes the inputs' tangents through it alongside the value.
"""

from __future__ import annotations

import numpy as np

from .._tensor import _INPLACE_EPOCH, Tensor
from ..autograd import grad_mode
from ..autograd.engine import flags as _engine_flags
from ..autograd.forward_ad import ForwardADNotImplemented, tangent_of
from ..autograd.forward_ad import state as _forward_ad
from ..autograd.graph import Node, _refresh_view
from . import _backends
from ._broadcast import unbroadcast
from ._saved import default_saved_names, saved_attributes

__all__ = ["OpSpec", "defop", "apply", "apply1", "apply2", "OpNode"]

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_NO_PARAMS: dict = {}
_PY_NUMBERS = frozenset((int, float, bool))
_NONES = ((), (None,), (None, None), (None, None, None))
_ndarray = np.ndarray
_new_tensor = _new_object = object.__new__
_raw = _backends.raw
_grad_state = grad_mode._state


def _no_translation(*arrays):
    """The default ``on_type_error``: NumPy's TypeError stands."""


class OpSpec:
    """One row of the op table."""

    __slots__ = ("name", "forward", "vjps", "save_inputs", "save_output", "broadcast",
                 "is_view", "jvp", "needs", "casts", "saved", "saved_params", "scalar_args",
                 "on_type_error", "node_cls", "fast", "unary", "binary", "ternary")

    def __init__(self, name, forward, vjps, save_inputs, save_output, broadcast, is_view, jvp,
                 needs=None, casts=False):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.save_inputs = save_inputs
        self.save_output = save_output
        self.broadcast = broadcast
        self.is_view = is_view
        self.jvp = jvp
        self.needs = needs
        self.casts = casts
        self.saved = ()
        self.saved_params = ()
        self.scalar_args = False
        self.on_type_error = _no_translation


def defop(node_name: str, forward, vjps, *, save_inputs: bool = True, save_output: bool = False,
          broadcast: bool = False, is_view: bool = False, jvp=None, needs=None,
          casts: bool = False, saved=None, saved_params=(), scalar_args: bool = False,
          on_type_error=None) -> OpSpec:
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
        jvp: the forward-mode rule. ``"elementwise"``: the Jacobian is diagonal, so the
            VJPs applied to the tangents give the JVP; ``"linear"``: the op is linear in its
            tensor inputs, so it maps tangents by its own forward; or a callable
            ``jvp(tangents, out, *inputs, **params) -> tangent`` (``None`` tangents for
            inputs without one).
        needs: per input, the indices of the saved inputs whose *values* its VJP reads
            (``None``: all of them). A saved input that only the gradients of inputs not
            requiring grad would read may then change in place without an error, as in
            PyTorch: ``a * 3.0`` followed by ``a.add_(1)`` still backpropagates.
        casts: the result has the dtype the caller asked for (``x.double()``), so a float64
            result is kept even from float32 inputs; other ops give the default float dtype
            where NumPy would promote a Python float to float64.
        saved: PyTorch's names for the saved inputs, in order (None: not exposed), read as
            ``grad_fn._saved_<name>``; by default ``self`` (unary ops) or ``self, other``
            (binary elementwise ops). A saved output is always ``_saved_result``.
        saved_params: the parameters exposed as ``_saved_<name>`` (``clamp``'s ``min``).
        scalar_args: saved Python numbers are PyTorch Scalar arguments (``pow``'s exponent),
            read back as numbers; otherwise they are wrapped as 0-d tensors, as PyTorch does.
        on_type_error: ``fn(*arrays)``, called when the forward raises NumPy's TypeError (no
            loop for these dtypes, e.g. ``bool - bool``); it may raise PyTorch's error instead.
    """
    spec = OpSpec(node_name, forward, vjps, save_inputs, save_output, broadcast, is_view, jvp,
                  needs, casts)
    arity = len(vjps) if vjps.__class__ is tuple else 0
    spec.saved = (tuple(saved) if saved is not None
                  else default_saved_names(arity, save_inputs, broadcast))
    spec.saved_params = tuple(saved_params)
    spec.scalar_args = scalar_args
    if on_type_error is not None:
        spec.on_type_error = on_type_error
    doc = f"Backward node of {node_name.removesuffix('Backward0').removesuffix('Backward1')}."
    frees = save_inputs or save_output
    spec.node_cls = type(node_name, (OpNode,), {"spec": spec, "__doc__": doc, "_frees": frees,
                                                **saved_attributes(spec)})
    # What the engine's inline path reads from a node (Node._fast); variadic VJPs run
    # through OpNode.apply instead.
    spec.fast = (vjps, frees, _NO_PARAMS, None) if vjps.__class__ is tuple else None
    # Fast entry points for ops called without parameters (the elementwise ones, ``.T``).
    spec.unary = _make_unary(spec) if arity == 1 and not (is_view and save_output) else None
    if is_view:
        arity = 0
    spec.binary = _make_binary(spec) if arity == 2 else None
    spec.ternary = _make_ternary(spec) if arity == 3 and not broadcast else None
    return spec


class OpNode(Node):
    """Backward node of a table op; its class (``MulBackward0``...) is made by :func:`defop`,
    with read-only ``_saved_<name>`` properties for what it saved (see ``_saved``)."""

    spec: OpSpec
    _params = {}       # noqa: RUF012  (shared, never mutated: ops without parameters)
    _inputs = None     # saved inputs (Tensors or constants), or None
    _arrays = None     # the same, as raw arrays (what a plain backward's VJPs receive);
                       # (None,) * n when nothing is saved, None once released
    _epoch = -1        # _INPLACE_EPOCH when recorded
    _versions = None   # versions of the saved tensors when saved; None means all were 0
    _out = None        # saved output array
    _out_vc = None     # the output's version counter (a one-element list)
    _meta = None       # per input, (shape, dtype) to reduce its gradient to; None: no reduction

    def release(self):
        self._released = True
        self._inputs = self._arrays = self._out = None

    def _saved_values(self, create_graph):
        """The saved ``(inputs, output)`` as the VJPs take them: raw arrays, or tensors that
        record under ``create_graph``. Raises if they were freed or changed in place."""
        inputs = self._inputs
        if inputs is not None:
            for x in inputs:
                if isinstance(x, Tensor) and x._vc is not None and x._vc[0]:
                    self._check_versions()
                    break
        elif self._released and self._frees:
            self._check_not_released()
        if create_graph:
            out = self._output_tensor() if self.spec.save_output else None
        else:
            out = self._out
            if self._out_vc is not None and self._out_vc[0]:
                self._raise_modified("the output", self._out_vc[0], 0)
            if inputs is not None:
                inputs = self._arrays
        if inputs is None:
            n = len(self._next)
            inputs = _NONES[n] if n < len(_NONES) else (None,) * n
        return inputs, out

    def apply(self, grad_outputs, create_graph):
        inputs, out = self._saved_values(create_graph)
        xp = _backends.taped if create_graph else _raw
        grad = grad_outputs[0]
        params = self._params
        vjps = self.spec.vjps
        meta = self._meta
        if meta is None and not params and vjps.__class__ is tuple:
            # The common case, without argument packing: one or two inputs, no parameters,
            # no broadcasting to undo.
            children = self._next
            if len(children) == 1:
                return [vjps[0](xp, grad, out, inputs[0])]
            if len(children) == 2:
                x, y = inputs
                return [vjps[0](xp, grad, out, x, y) if children[0] is not None else None,
                        vjps[1](xp, grad, out, x, y) if children[1] is not None else None]
        if callable(vjps):
            needs = [child is not None for child in self._next]
            return list(vjps(xp, grad, out, needs, *inputs, **params))
        grads = []
        for i, child in enumerate(self._next):
            grads.append(None if child is None else
                         self._input_grad(xp, i, vjps[i](xp, grad, out, *inputs, **params)))
        return grads

    def _input_grad(self, xp, i, g):
        """Reduce input ``i``'s gradient over the axes it was broadcast along, in its dtype."""
        meta = self._meta
        if meta is not None and meta[i] is not None:
            shape, dtype = meta[i]
            g = unbroadcast(xp, g, shape)
            if g.dtype != dtype:
                g = xp.cast(g, dtype)
        return g

    def _check_versions(self):
        """Raise if a saved tensor whose value a VJP reads was modified in place since it
        was saved."""
        versions = self._versions
        needs = self.spec.needs
        read = None
        if needs is not None:
            read = {j for i, child in enumerate(self._next) if child is not None
                    for j in needs[i]}
        for i, x in enumerate(self._inputs):
            if read is not None and i not in read:
                continue
            if isinstance(x, Tensor) and x._vc is not None:
                expected = versions[i] if versions is not None else 0
                if x._vc[0] != expected:
                    self._raise_modified(f"[{x._describe()}], an input,", x._vc[0], expected)
        if self._out_vc is not None and self._out_vc[0]:
            self._raise_modified("the output", self._out_vc[0], 0)

    def _raise_modified(self, what, version, expected):
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {what} of {self.name()} is at version {version}; expected "
            f"version {expected} instead. Hint: use an out-of-place op, or .clone() the tensor "
            f"before modifying it in place.")

    def _output_tensor(self):
        """The saved output as a tensor whose grad_fn is this node (for create_graph)."""
        if self._out is None:
            self._check_not_released()
        t = Tensor._wrap(self._out, grad_fn=self)
        t._vc = self._out_vc
        return t


def apply(spec: OpSpec, *inputs, **params):
    """Run ``spec``'s forward on ``inputs`` (Tensors, arrays or numbers) and record a node."""
    arrays = []
    requires_grad = False
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x._data)
            if x._requires_grad:
                requires_grad = True
        else:
            arrays.append(x)
    out = spec.forward(*arrays, **params)
    if out.__class__ is not _ndarray:
        out = np.asarray(out)
    dtype = out.dtype
    if dtype is _F64 and not spec.casts:
        out = _keep_default_float(out, arrays)
        dtype = out.dtype
    result = _new_tensor(Tensor)
    result._data = out
    if spec.is_view and isinstance(inputs[0], Tensor) and np.may_share_memory(out, arrays[0]):
        base = inputs[0]
        result._vc = base._version_counter()
        result._base = base if base._base is None else base._base
        result._view_chain = base._view_chain + ((spec, params),)
        result._view_version = result._vc[0]
    if requires_grad and _grad_state.enabled and (dtype is _F32 or dtype.kind == "f"):
        _record(spec, result, inputs, arrays, params)
    if _forward_ad.depth:
        _push_tangent(spec, result, inputs, arrays, params)
    return result


def apply2(spec: OpSpec, x, y):
    """:func:`apply` for a binary op without parameters (``spec.binary``)."""
    return spec.binary(x, y)


def apply1(spec: OpSpec, x):
    """:func:`apply` for a unary op without parameters (``spec.unary``)."""
    return spec.unary(x)


def _make_binary(spec: OpSpec):
    """Make ``spec.binary(x, y)``: :func:`apply` for a binary op without parameters.

    This is the hottest path of a training step's forward (``Tensor.__mul__`` *is* the
    closure, one call), so the recording is :func:`_record`'s unrolled for two inputs and
    the spec's fields are closure constants. Change it, :func:`_make_unary` and
    :func:`_record` together."""
    forward, node_cls, fast = spec.forward, spec.node_cls, spec.fast
    save_inputs, save_output, broadcast = spec.save_inputs, spec.save_output, spec.broadcast
    on_type_error = spec.on_type_error

    def binary(x, y):
        if isinstance(x, Tensor):
            xa, rx = x._data, x._requires_grad
        else:
            xa, rx = x, False
        if isinstance(y, Tensor):
            ya, ry = y._data, y._requires_grad
        else:
            ya, ry = y, False
        try:
            out = forward(xa, ya)
        except TypeError:  # NumPy has no loop for these dtypes (``bool - bool``)
            on_type_error(xa, ya)
            raise
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        dtype = out.dtype
        if dtype is _F64:
            out = _keep_default_float(out, (xa, ya))
            dtype = out.dtype
        result = _new_tensor(Tensor)
        result._data = out
        result._base = None
        result._output_nr = 0
        if (rx or ry) and _grad_state.enabled and (dtype is _F32 or dtype.kind == "f"):
            node = _new_object(node_cls)
            if rx:
                if x._base is not None and x._vc[0] != x._view_version:
                    _refresh_view(x)  # its base changed in place since the view was made
                fn_x = x.grad_fn
                if fn_x is None:
                    fn_x, nr_x = x._accumulator or x._get_accumulator(), 0
                else:
                    nr_x = x._output_nr
            else:
                fn_x, nr_x = None, 0
            if ry:
                if y._base is not None and y._vc[0] != y._view_version:
                    _refresh_view(y)
                fn_y = y.grad_fn
                if fn_y is None:
                    fn_y, nr_y = y._accumulator or y._get_accumulator(), 0
                else:
                    nr_y = y._output_nr
            else:
                fn_y, nr_y = None, 0
            node._next = (fn_x, fn_y)
            if nr_x or nr_y:  # an output of a multi-output node
                node._next_nr = (nr_x, nr_y)
            node._epoch = _INPLACE_EPOCH[0]
            if save_inputs:
                node._inputs = (x, y)
                node._arrays = (xa, ya)
                # (An input is a Tensor exactly when its array is not the input itself.)
                vc_x = x._vc if xa is not x else None
                vc_y = y._vc if ya is not y else None
                if (vc_x is not None and vc_x[0]) or (vc_y is not None and vc_y[0]):
                    node._versions = [vc_x[0] if vc_x else 0, vc_y[0] if vc_y else 0]
            else:
                node._arrays = _NONES[2]
            if save_output:
                node._out = out
                node._out_vc = result._vc = [0]
            else:
                node._out = None
            node._fast = fast
            # Only a broadcast (or a dtype promotion) needs the gradient reduced afterwards.
            # A Python number never broadcasts a tensor up, nor promotes a float one.
            if broadcast and xa.__class__ not in _PY_NUMBERS and ya.__class__ not in _PY_NUMBERS \
                    and (xa.__class__ is not _ndarray or ya.__class__ is not _ndarray
                         or xa.shape != ya.shape or (rx and xa.dtype is not dtype)
                         or (ry and ya.dtype is not dtype)):
                # _reduction_meta((x, y), out), unrolled: an input requiring grad is a Tensor.
                shape = out.shape
                meta_x = meta_y = None
                if rx and (xa.shape != shape or xa.dtype is not dtype):
                    meta_x = (xa.shape, xa.dtype)
                if ry and (ya.shape != shape or ya.dtype is not dtype):
                    meta_y = (ya.shape, ya.dtype)
                if meta_x is not None or meta_y is not None:
                    node._meta = meta = (meta_x, meta_y)
                    node._fast = (fast[0], fast[1], fast[2], meta)
            if _engine_flags.anomaly:
                node._record_anomaly_trace()
            result.grad_fn = node
            result._requires_grad = True
        if _forward_ad.depth:
            _push_tangent(spec, result, (x, y), (xa, ya), _NO_PARAMS)
        return result

    binary.__name__ = binary.__qualname__ = spec.name.removesuffix("Backward0").lower()
    return binary


def _make_ternary(spec: OpSpec):
    """Make ``spec.ternary(x, y, z)``: :func:`apply` for an op of three Tensors without
    parameters or broadcasting, such as ``linear(input, weight, bias)``; ``z`` may be None,
    which records two inputs as ``apply(spec, x, y)`` would. :func:`_record` without its
    per-input type checks, as in :func:`_make_binary`: a layer's forward is one call of it."""
    forward, node_cls, fast = spec.forward, spec.node_cls, spec.fast
    save_inputs, save_output, casts = spec.save_inputs, spec.save_output, spec.casts

    def ternary(x, y, z):
        xa, ya = x._data, y._data
        if z is None:
            inputs, arrays = (x, y), (xa, ya)
        else:
            inputs, arrays = (x, y, z), (xa, ya, z._data)
        out = forward(*arrays)
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        dtype = out.dtype
        if dtype is _F64 and not casts:
            out = _keep_default_float(out, arrays)
            dtype = out.dtype
        result = _new_tensor(Tensor)
        result._data = out
        result._base = None
        result._output_nr = 0
        if ((x._requires_grad or y._requires_grad or (z is not None and z._requires_grad))
                and _grad_state.enabled and (dtype is _F32 or dtype.kind == "f")):
            node = _new_object(node_cls)
            edges, nrs = [], None
            for i, t in enumerate(inputs):
                if not t._requires_grad:
                    edges.append(None)
                    continue
                if t._base is not None and t._vc[0] != t._view_version:
                    _refresh_view(t)  # its base changed in place since the view was made
                fn = t.grad_fn
                if fn is None:
                    edges.append(t._accumulator or t._get_accumulator())
                else:
                    edges.append(fn)
                    if t._output_nr:  # an output of a multi-output node
                        nrs = nrs or [0] * len(inputs)
                        nrs[i] = t._output_nr
            node._next = tuple(edges)
            if nrs is not None:
                node._next_nr = tuple(nrs)
            node._epoch = _INPLACE_EPOCH[0]
            if save_inputs:
                node._inputs = inputs
                node._arrays = arrays
                vx, vy, vz = x._vc, y._vc, (None if z is None else z._vc)
                if (vx and vx[0]) or (vy and vy[0]) or (vz and vz[0]):
                    versions = [vx[0] if vx else 0, vy[0] if vy else 0, vz[0] if vz else 0]
                    node._versions = versions[:len(inputs)]
            else:
                node._arrays = _NONES[len(inputs)]
            if save_output:
                node._out = out
                node._out_vc = result._vc = [0]
            else:
                node._out = None
            node._fast = fast
            if _engine_flags.anomaly:
                node._record_anomaly_trace()
            result.grad_fn = node
            result._requires_grad = True
        if _forward_ad.depth:
            _push_tangent(spec, result, inputs, arrays, _NO_PARAMS)
        return result

    ternary.__name__ = ternary.__qualname__ = spec.name.removesuffix("Backward0").lower()
    return ternary


def _make_unary(spec: OpSpec):
    """Make ``spec.unary(x)``: :func:`apply` for a unary op without parameters, on a Tensor;
    :func:`_record` unrolled for one input, as in :func:`_make_binary`. Change the three
    together."""
    forward, node_cls, fast = spec.forward, spec.node_cls, spec.fast
    save_inputs, save_output, is_view = spec.save_inputs, spec.save_output, spec.is_view
    on_type_error = spec.on_type_error
    view_step = ((spec, _NO_PARAMS),)

    def unary(x):
        xa = x._data
        try:
            out = forward(xa)
        except TypeError:  # NumPy has no loop for this dtype (``-b`` on a bool tensor)
            on_type_error(xa)
            raise
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        dtype = out.dtype
        if dtype is _F64 and xa.dtype is not _F64:
            out = _keep_default_float(out, (xa,))
            dtype = out.dtype
        result = _new_tensor(Tensor)
        result._data = out
        result._output_nr = 0
        if is_view and np.may_share_memory(out, xa):  # as in apply()
            result._vc = x._version_counter()
            result._base = x if x._base is None else x._base
            result._view_chain = x._view_chain + view_step
            result._view_version = result._vc[0]
        else:
            result._base = None
        if x._requires_grad and _grad_state.enabled and (dtype is _F32 or dtype.kind == "f"):
            node = _new_object(node_cls)
            if x._base is not None and x._vc[0] != x._view_version:
                _refresh_view(x)  # its base changed in place since the view was made
            fn = x.grad_fn
            if fn is None:
                fn = x._accumulator or x._get_accumulator()
            elif x._output_nr:
                node._next_nr = (x._output_nr,)
            node._next = (fn,)
            node._epoch = _INPLACE_EPOCH[0]
            if save_inputs:
                node._inputs = (x,)
                node._arrays = (xa,)
                vc = x._vc
                if vc is not None and vc[0]:
                    node._versions = [vc[0]]
            else:
                node._arrays = _NONES[1]
            if save_output:
                node._out = out
                node._out_vc = result._vc = [0]
            else:
                node._out = None
            node._fast = fast
            if _engine_flags.anomaly:
                node._record_anomaly_trace()
            result.grad_fn = node
            result._requires_grad = True
        if _forward_ad.depth:
            _push_tangent(spec, result, (x,), (xa,), _NO_PARAMS)
        return result

    unary.__name__ = unary.__qualname__ = spec.name.removesuffix("Backward0").lower()
    return unary


def _record(spec, result, inputs, arrays, params, reduce=True):
    node = _new_object(spec.node_cls)
    save_inputs = spec.save_inputs
    children = []
    output_nrs = None
    versions = None
    i = 0
    for x in inputs:
        if not isinstance(x, Tensor):
            children.append(None)
            i += 1
            continue
        if save_inputs:
            vc = x._vc
            if vc is not None and vc[0]:
                if versions is None:
                    versions = [0] * len(inputs)
                versions[i] = vc[0]
        if x._requires_grad:
            if x._base is not None and x._vc[0] != x._view_version:
                _refresh_view(x)  # its base changed in place since the view was made
            fn = x.grad_fn
            if fn is not None:
                children.append(fn)
                if x._output_nr:
                    if output_nrs is None:
                        output_nrs = [0] * len(inputs)
                    output_nrs[i] = x._output_nr
            else:
                acc = x._accumulator
                children.append(acc if acc is not None else x._get_accumulator())
        else:
            children.append(None)
        i += 1
    node._next = tuple(children)
    if output_nrs is not None:
        node._next_nr = tuple(output_nrs)
    node._epoch = _INPLACE_EPOCH[0]
    if params:
        node._params = params
    if save_inputs:
        node._inputs = inputs
        node._arrays = arrays
        node._versions = versions
    else:
        node._arrays = _NONES[i] if i < 4 else (None,) * i
    if spec.save_output:
        node._out = result._data
        node._out_vc = result._vc = [0] if result._vc is None else result._vc
    node._fast = spec.fast if spec.fast is None or not params else (
        spec.vjps, spec.fast[1], params, None)
    if spec.broadcast and reduce:
        _set_meta(node, _reduction_meta(inputs, result._data))
    if _engine_flags.anomaly:
        node._record_anomaly_trace()
    result.grad_fn = node
    result._requires_grad = True


def _push_tangent(spec, result, inputs, arrays, params):
    """Forward mode: give ``result`` the tangent J·t of its inputs' tangents."""
    for x in inputs:
        if isinstance(x, Tensor) and x._base is not None and x._vc[0] != x._view_version:
            _refresh_view(x)  # its base changed in place since the view was made
    tangents = [tangent_of(x) if isinstance(x, Tensor) else None for x in inputs]
    if all(t is None for t in tangents):
        return
    out = result._data
    rule = spec.jvp
    if rule is None:
        raise ForwardADNotImplemented(
            f"forward-mode AD has no rule for {spec.name.removesuffix('Backward0')}; use "
            "reverse mode (backward, autograd.grad, func.vjp) for this computation")
    if rule == "linear":
        # Linear in its array inputs: constants among them contribute no tangent.
        mapped = [t if t is not None else np.zeros_like(a) for t, a in zip(tangents, arrays)]
        tangent = np.asarray(spec.forward(*mapped, **params))
    elif rule == "elementwise":
        tangent = None
        for vjp, t in zip(spec.vjps, tangents):
            if t is not None and vjp is not None:
                term = vjp(_raw, t, out, *arrays, **params)
                tangent = term if tangent is None else tangent + term
        tangent = np.broadcast_to(tangent, out.shape)
    else:
        tangent = np.asarray(rule(tangents, out, *arrays, **params))
    if tangent.shape != out.shape:
        tangent = np.broadcast_to(tangent, out.shape)
    if out.dtype.kind == "f":
        result._tangent = (_forward_ad.token, np.array(tangent, dtype=out.dtype))


def _set_meta(node, meta) -> None:
    """Give ``node`` its gradient reductions (see :func:`_reduction_meta`)."""
    node._meta = meta
    if meta is not None and node._fast is not None:
        vjps, frees, params, _ = node._fast
        node._fast = (vjps, frees, params, meta)


def _reduction_meta(inputs, out):
    """Per input, the (shape, dtype) its gradient must be reduced and cast to; None if none."""
    meta = None
    shape, dtype = out.shape, out.dtype
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._requires_grad:
            data = x._data
            if data.shape != shape or data.dtype != dtype:
                if meta is None:
                    meta = [None] * len(inputs)
                meta[i] = (data.shape, data.dtype)
    return meta


def _keep_default_float(out, arrays):
    """The dtype PyTorch gives where NumPy promotes to float64: Python floats mixed with
    integer tensors give the default float (float32); and a 0-d float64 tensor does not
    widen a float tensor that has dimensions (within a category, dimensioned tensors decide
    the result dtype)."""
    from_0d = False
    for array in arrays:
        if isinstance(array, np.ndarray) and array.dtype is _F64:
            if array.ndim:
                return out
            from_0d = True
    if from_0d:
        for array in arrays:
            if isinstance(array, np.ndarray) and array.ndim and array.dtype.kind == "f":
                return out.astype(array.dtype)
        return out
    from .._dtype import get_default_dtype

    return out.astype(get_default_dtype().numpy)
