"""Custom differentiable operations: ``Function`` with static ``forward``/``backward``."""

from __future__ import annotations

import numpy as np

from . import grad_mode
from .engine import flags as _engine_flags
from .graph import Node, gradient_edge

__all__ = ["Function", "FunctionCtx", "BackwardFunction"]


class FunctionCtx:
    """The ``ctx`` handed to a custom Function's ``forward`` and ``backward``."""

    def save_for_backward(self, *tensors) -> None:
        """Save tensors for ``backward``; read them back from ``ctx.saved_tensors``.

        In-place changes to them before backward are detected, as for built-in ops.
        """
        self._saved = tuple(tensors)
        self._saved_versions = tuple(
            t._version_counter()[0] if t is not None else None for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        saved = getattr(self, "_saved", ())
        if saved is None:
            Node._check_not_released(self)
        for i, (t, version) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and t._vc[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: saved tensor {i} of {type(self).__name__} is at "
                    f"version {t._vc[0]}; expected version {version} instead.")
        return saved

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that ``forward`` modified in place (their versions are bumped)."""
        for t in tensors:
            t._bump_version()

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient (e.g. indices)."""
        self._non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """Whether None output gradients reach ``backward`` as zeros (the default)."""
        self.materialize_grads = value


class BackwardFunction(FunctionCtx, Node):
    """The node of a custom Function; ``ctx`` in forward and backward is this node."""

    _function = None
    materialize_grads = True
    _non_differentiable = frozenset()

    def release(self):
        self._released = True
        self._saved = None

    def apply(self, grad_outputs, create_graph):
        from .._tensor import Tensor

        if self._released and getattr(self, "_saved", ()) is None:
            self._check_not_released()
        grads = []
        for grad, meta in zip(grad_outputs, self._output_meta):
            if grad is None and self.materialize_grads:
                grad = np.zeros(meta[0], dtype=meta[1])
            grads.append(grad if grad is None or isinstance(grad, Tensor) else
                         Tensor._wrap(np.asarray(grad)))  # (a 0-d VJP may give a NumPy scalar)
        with grad_mode.set_grad_enabled(create_graph):
            result = self._function.backward(self, *grads)
        result = result if isinstance(result, tuple) else (result,)
        name = self.name()
        if len(result) != len(self.next_functions):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {len(self.next_functions)}, got {len(result)})")
        out = []
        for i, (g, (child, _), shape) in enumerate(zip(result, self.next_functions,
                                                        self._input_shapes)):
            if g is None or child is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                g = Tensor._wrap(np.asarray(g))
            if g.shape != shape:
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                                   f"got {list(g.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
            out.append(g if create_graph else g._data)
        return out


class Function:
    """Base class for custom differentiable operations.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    and call it through ``apply``. ``backward`` returns one gradient per ``forward``
    argument (None for non-tensor arguments). Its node is named ``<ClassName>Backward``.

    Example::

        >>> class Exp(distgrad.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (y,) = ctx.saved_tensors
        ...         return grad * y
        >>> y = Exp.apply(x)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(f"{cls.__name__}Backward", (BackwardFunction,),
                                 {"_function": cls})

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Function objects are not instantiated; call the static method "
                           f"{type(self).__name__}.apply(...) instead")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom "
                                  "Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        outputs = tuple(Tensor._wrap(o._data) if isinstance(o, Tensor) and
                        any(o is a for a in args) else o for o in outputs)
        if grad_mode.is_grad_enabled() and any(ctx.needs_input_grad):
            ctx.next_functions = tuple(gradient_edge(a) for a in args)
            ctx._input_shapes = tuple(a.shape if isinstance(a, Tensor) else None for a in args)
            ctx.num_outputs = len(outputs)
            ctx._output_meta = tuple((o.shape, o._data.dtype) if isinstance(o, Tensor) else
                                     ((), np.float64) for o in outputs)
            if _engine_flags.anomaly:
                ctx._record_anomaly_trace()
            for nr, o in enumerate(outputs):
                if (isinstance(o, Tensor) and o._data.dtype.kind == "f"
                        and id(o) not in ctx._non_differentiable):
                    o.grad_fn = ctx
                    o._requires_grad = True
                    o._output_nr = nr
        return outputs[0] if single else outputs

