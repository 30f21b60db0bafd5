"""Reverse-mode automatic differentiation: ``backward``, ``grad``, custom ``Function``,
grad modes, ``gradcheck`` and anomaly detection."""

from __future__ import annotations

import numpy as np

from . import engine, forward_ad, functional, graph
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import queue_callback, register_progress_hook
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "functional", "Variable", "Function", "FunctionCtx", "no_grad",
           "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "gradcheck", "gradgradcheck",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "queue_callback",
           "register_progress_hook", "engine", "graph", "forward_ad"]


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root(tensor, i: int):
    if not tensor._requires_grad:
        raise RuntimeError(
            f"element {i} of tensors does not require grad and does not have a grad_fn. "
            "Did you forget requires_grad=True on an input, or compute it under no_grad()?")
    return graph.gradient_edge(tensor)  # (also re-derives a view whose base changed in place)


def _root_grad(tensor, gradient, i: int, create_graph: bool):
    from .._tensor import Tensor

    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; output {i} has shape "
                f"{list(tensor.shape)}. Pass gradient= (a tensor of that shape), or reduce the "
                "output to a scalar first (e.g. .sum()).")
        ones = np.ones(tensor.shape, dtype=tensor._data.dtype)
        return Tensor._wrap(ones) if create_graph else ones
    if create_graph and isinstance(gradient, Tensor):
        values = gradient
    else:
        values = np.array(gradient._data if isinstance(gradient, Tensor) else gradient,
                          dtype=tensor._data.dtype)
    if tuple(values.shape) != tensor.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {list(values.shape)} and "
            f"output[{i}] has a shape of {list(tensor.shape)}. The gradient must have exactly "
            "the output's shape (it is never broadcast).")
    return Tensor._wrap(values) if create_graph and not isinstance(values, Tensor) else values


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors``.

    Args:
        tensors: tensor(s) whose gradient is computed.
        grad_tensors: the gradient(s) with respect to ``tensors``; may be omitted for
            one-element tensors.
        retain_graph: keep saved values for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass for higher-order derivatives.
        inputs: if given, only these tensors accumulate gradients.
    """
    if grad_tensors is None and inputs is None and not create_graph:
        values = getattr(tensors, "_data", None)
        if values is not None and values.size == 1:  # loss.backward(): kept lean
            engine.run_backward([_root(tensors, 0)], [np.ones(values.shape, values.dtype)],
                                retain_graph=bool(retain_graph), create_graph=False)
            return
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_root(t, i) for i, t in enumerate(tensors)]
    root_grads = [_root_grad(t, g, i, create_graph) for i, (t, g) in enumerate(zip(tensors, grads))]
    if inputs is None:
        engine.run_backward(roots, root_grads, retain_graph=retain_graph,
                            create_graph=create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    leaves, non_leaves = [], []
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("backward: one of the tensors in inputs does not require grad")
        (leaves if t.grad_fn is None else non_leaves).append(t)
    capture = {graph.gradient_edge(t): k for k, t in enumerate(non_leaves)}
    captured = engine.run_backward(
        roots, root_grads, retain_graph=retain_graph, create_graph=create_graph,
        capture=capture, only_leaves={t._get_accumulator() for t in leaves})
    owned: set = set()
    for t, g in zip(non_leaves, captured):
        if g is not None:
            graph.store_grad(t, g, create_graph, owned)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False, materialize_grads: bool = False):
    """Return the gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the gradient(s) with respect to ``outputs`` (optional for scalars).
        retain_graph: keep saved values (defaults to ``create_graph``).
        create_graph: record the backward pass, so the result can be differentiated again.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        a tuple with one gradient tensor (or None) per input.
    """
    from .._tensor import Tensor

    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    roots = [_root(t, i) for i, t in enumerate(outputs)]
    root_grads = [_root_grad(t, g, i, create_graph) for i, (t, g) in enumerate(zip(outputs, grads))]
    capture: dict = {}
    slots = []
    for t in inputs:
        key = graph.gradient_edge(t)
        slots.append(capture.setdefault(key, len(capture)))
    captured = engine.run_backward(roots, root_grads, retain_graph=retain_graph,
                                   create_graph=create_graph, capture=capture, accumulate=False)
    result = []
    for i, (t, slot) in enumerate(zip(inputs, slots)):
        g = captured[slot]
        if g is None:
            if materialize_grads:
                g = np.zeros(t.shape, dtype=t._data.dtype)
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior.")
            else:
                result.append(None)
                continue
        if isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._wrap(np.array(g, dtype=t._data.dtype)))
    return tuple(result)


def Variable(data, requires_grad: bool = False, volatile: bool = False):
    """The legacy ``Variable`` API: returns a tensor (PyTorch 0.4 merged the two)."""
    from .._tensor import Tensor

    t = data.detach() if isinstance(data, Tensor) else Tensor(data)
    if requires_grad:
        t.requires_grad = True
    return t
