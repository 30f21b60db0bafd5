"""The backward engine: runs recorded nodes in reverse, by dependency counts.

1. Count, for every node reachable from the roots, how many edges point at it. Only the
   counts that matter are kept: a node with one consumer (most of them) is ready as soon as
   that consumer has run, so it gets no entry and its gradient skips the pending dict.
2. Start from the roots; a node runs once its count reaches zero, which is after every
   consumer has added its contribution to the node's pending gradient.
3. Gradients are popped from the pending dict as they are consumed, and each node's saved
   values are released after it runs unless ``retain_graph``.

Traversal is iterative (no recursion limit) and deterministic (a LIFO ready stack filled in
edge order). A leaf's ``AccumulateGrad`` runs as soon as its count reaches zero, so its
post-accumulate hooks fire the moment its gradient is final: data-parallel training starts
all-reduces from those hooks and waits for them in a :func:`queue_callback` callback.
"""

from __future__ import annotations

import gc
import threading

import numpy as np

from . import grad_mode
from .graph import AccumulateGrad, RemovableHandle, store_grad

__all__ = ["run_backward", "queue_callback", "register_progress_hook"]


class _EngineState(threading.local):
    callbacks = None      # the current backward's final callbacks; None outside backward


class _Flags:
    """Process-wide switches (anomaly detection is global, as in PyTorch)."""

    def __init__(self):
        self.anomaly = False  # an instance attribute: read on every recorded op


_state = _EngineState()
flags = _Flags()
_progress_hooks: list = []
_NO_GRADS = (None,)


def queue_callback(fn) -> None:
    """Queue ``fn()`` to run once when the current backward pass has finished.

    Only valid while a backward pass runs (from a hook). Callbacks run in the order queued,
    before ``backward()`` returns.
    """
    if _state.callbacks is None:
        raise RuntimeError("queue_callback can only be called while a backward pass is running "
                           "(for example from a tensor or post-accumulate-grad hook)")
    _state.callbacks.append(fn)


def register_progress_hook(fn) -> RemovableHandle:
    """Register ``fn()``, called after every node the engine runs, in any backward pass.

    Meant for driving communication progress (e.g. ``MPI.Request.Testall``) between nodes;
    it must be cheap when there is nothing to do.
    """
    _progress_hooks.append(fn)
    return RemovableHandle(_progress_hooks, fn)


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool,
                 capture=None, accumulate: bool = True, only_leaves=None):
    """Run backward from ``roots`` (a list of ``(node, output_nr)``) with ``root_grads``.

    Args:
        capture: a dict ``{(node, output_nr): slot}``; the gradient arriving there is
            returned in a list at ``slot`` (used by ``autograd.grad``). Only nodes that lead
            to a captured edge run.
        accumulate: whether ``AccumulateGrad`` nodes add into ``.grad``.
        only_leaves: if given, a set of nodes; only these accumulate (``backward(inputs=)``),
            and only nodes leading to them run.
    """
    targets = None
    if capture is not None:
        targets = {node for node, _ in capture}
    if only_leaves is not None:
        targets = set(only_leaves) | (targets or set())
    needed = _needed_nodes(roots, targets) if targets is not None else None
    dependencies = _count_dependencies(roots, needed)

    # pending[node] is the partial sum of a single-output node's gradient (a list of them
    # for a multi-output node) while some of its consumers have yet to run; once the last
    # one has, the node moves to the ready stack together with its summed gradient.
    pending: dict = {}
    for (node, nr), grad in zip(roots, root_grads):
        _add_pending(pending, node, nr, grad)
    ready = []
    for node, _ in reversed(roots):
        if dependencies.get(node, 0) == 0 and node in pending:
            ready.append((node, pending.pop(node)))

    captured = [None] * (len(capture) if capture is not None else 0)
    owned: set = set()
    callbacks: list = []
    saved_callbacks, _state.callbacks = _state.callbacks, callbacks
    saved_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    progress_hooks = _progress_hooks
    anomaly = flags.anomaly
    # Backward allocates many short-lived objects that reference counting frees at once;
    # the cyclic collector would run every few hundred of them for nothing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pop_ready, push_ready = ready.pop, ready.append
        # A plain backward (no capture, no pruning, no anomaly checks, raw arrays) runs table
        # ops (OpNode, ``_fast``) inline below: their VJPs on raw arrays, each gradient handed
        # straight to its input's node. Everything else goes through _run_general.
        fast = capture is None and needed is None and not anomaly and not create_graph
        free = not retain_graph
        raw, inplace_epoch = _OPS_REFS or _ops_refs()
        epoch = inplace_epoch[0]  # only a general node (a hook) can change a tensor in place
        while ready:
            node, grads = pop_ready()
            info = node._fast
            if fast and info is not None and grads is not None:
                arrays = node._arrays
                if arrays is None or node._epoch != epoch:
                    # Released, or some tensor changed in place since the node was recorded:
                    # the full checks, which raise if a saved value is gone or changed.
                    arrays, out = node._saved_values(False)
                else:
                    out = node._out
                vjps, frees, params, meta = info
                if free and frees:
                    node._released = True
                    node._inputs = node._arrays = node._out = None
                i = 0
                for child in node._next:
                    if child is not None:
                        if params:
                            g = vjps[i](raw, grads, out, *arrays, **params)
                        else:
                            g = vjps[i](raw, grads, out, *arrays)
                        if meta is not None:
                            g = node._input_grad(raw, i, g)
                        # _deliver, inlined for single-output inputs.
                        remaining = dependencies.get(child)
                        if remaining is None:  # this was its only consumer
                            push_ready((child, g))
                        elif child.num_outputs == 1:
                            if remaining == 1:
                                current = pending.pop(child, None)
                                push_ready((child, g if current is None else current + g))
                            else:
                                dependencies[child] = remaining - 1
                                current = pending.get(child)
                                pending[child] = g if current is None else current + g
                        else:
                            _deliver(pending, dependencies, push_ready, child,
                                     node._next_nr[i] if node._next_nr else 0, g)
                    i += 1
            elif fast and node.__class__ is AccumulateGrad and not node._has_hooks:
                if grads is not None:
                    node.accumulate_array(grads, owned)
                    epoch = inplace_epoch[0]  # a second accumulation adds in place
            else:
                outputs = _run_general(node, grads, create_graph, capture, captured,
                                       accumulate, only_leaves, needed, owned, anomaly)
                if not retain_graph and node._frees:
                    node.release()
                children = node._next
                if children:
                    if outputs is None:
                        outputs = _NO_GRADS * len(children)
                    nrs = node._next_nr
                    for i, child in enumerate(children):
                        if child is not None and (needed is None or needed.get(child)):
                            _deliver(pending, dependencies, push_ready, child,
                                     nrs[i] if nrs else 0, outputs[i])
                epoch = inplace_epoch[0]
            if progress_hooks:
                for hook in tuple(progress_hooks):
                    hook()
        while callbacks:
            callbacks.pop(0)()
    finally:
        if gc_was_enabled:
            gc.enable()
        _state.callbacks = saved_callbacks
        grad_mode._state.enabled = saved_mode
    return captured


def _run_general(node, grads, create_graph, capture, captured, accumulate, only_leaves,
                 needed, owned, anomaly):
    """Run any node the inline fast path does not: leaves, hooks, custom Functions,
    captures, pruning, anomaly checks and create_graph. Returns one gradient per edge, or
    None when the node produced none."""
    if grads is not None:
        if node.num_outputs == 1:
            grads = [grads]
        if node._has_hooks:
            grads = _run_tensor_hooks(node, grads, create_graph, owned)
        if capture is not None:
            if not accumulate and node.__class__ is AccumulateGrad:
                grads = [node.run_leaf_hooks(grads[0], create_graph)]  # autograd.grad
            for nr in range(len(grads)):
                slot = capture.get((node, nr))
                if slot is not None:
                    captured[slot] = grads[nr]
    if node.__class__ is AccumulateGrad:
        if (grads is not None and grads[0] is not None and accumulate
                and (only_leaves is None or node in only_leaves)):
            node.accumulate(grads[0], create_graph, owned)
        return None
    # With targets, a node whose inputs lead to no target need not run.
    if grads is None or (needed is not None and not _leads_further(node, needed)):
        return None
    if node._has_hooks or anomaly:
        return _run_node(node, grads, create_graph)
    return node.apply(grads, create_graph)


def _deliver(pending, dependencies, push_ready, child, nr, grad):
    """Add ``grad`` (None: nothing) to input ``nr`` of ``child``; once every consumer of
    ``child`` has delivered, push ``child`` and its summed gradient onto the ready stack."""
    if grad is not None:
        _add_pending(pending, child, nr, grad)
    remaining = dependencies.get(child, 1) - 1  # (no entry: one consumer, see run_backward)
    dependencies[child] = remaining
    if remaining == 0:
        push_ready((child, pending.pop(child, None)))


_OPS_REFS = None


def _ops_refs() -> tuple:
    """The raw-array backend and the global in-place counter, imported on first use (the
    ops package imports the engine)."""
    global _OPS_REFS
    from .._tensor import _INPLACE_EPOCH
    from ..ops import _backends

    _OPS_REFS = (_backends.raw, _INPLACE_EPOCH)
    return _OPS_REFS


def _leads_further(node, needed) -> bool:
    return any(child is not None and needed.get(child) for child in node._next)


def _run_node(node, grads, create_graph):
    if node._pre_hooks:
        for hook in node._pre_hooks:
            replaced = hook(tuple(grads))
            if replaced is not None:
                grads = list(replaced)
    if all(g is None for g in grads):
        return None
    outputs = node.apply(grads, create_graph)
    if flags.anomaly:
        _check_anomaly(node, outputs)
    if node._post_hooks:
        for hook in node._post_hooks:
            replaced = hook(tuple(outputs), tuple(grads))
            if replaced is not None:
                outputs = list(replaced)
    return outputs


def _run_tensor_hooks(node, grads, create_graph, owned):
    """Apply hooks registered on non-leaf tensors, then store retained grads."""
    if node._tensor_hooks:
        from .graph import _unwrap_grad, _wrap_grad
        for nr, hooks in node._tensor_hooks.items():
            for hook in tuple(hooks):
                if grads[nr] is None:
                    break
                replaced = hook(_wrap_grad(grads[nr]))
                if replaced is not None:
                    grads[nr] = replaced if create_graph else _unwrap_grad(replaced)
    if node._retained:
        for nr, ref in node._retained.items():
            tensor = ref()
            if tensor is not None and grads[nr] is not None:
                store_grad(tensor, grads[nr], create_graph, owned)
    return grads


def _add_pending(pending, node, nr, grad):
    if node.num_outputs == 1:
        current = pending.get(node)
        pending[node] = grad if current is None else current + grad
        return
    slots = pending.get(node)
    if slots is None:
        slots = pending[node] = [None] * node.num_outputs
    current = slots[nr]
    slots[nr] = grad if current is None else current + grad


def _count_dependencies(roots, needed) -> dict:
    """For every node below the roots, the number of edges that point at it; a node with
    exactly one, if not a root and not a multi-output node, is left out (it counts as 1).
    With ``needed``, only edges into needed nodes count."""
    # Roots start at 0, so that a root found below another root is counted, not walked twice.
    dependencies: dict = dict.fromkeys((node for node, _ in roots), 0)
    seen = set(dependencies)
    stack = list(dependencies)
    get, see, visit = dependencies.get, seen.add, stack.append
    while stack:
        for child in stack.pop()._next:
            if child is None:
                continue
            if child in seen:
                dependencies[child] = get(child, 1) + 1
            elif needed is None or needed.get(child):
                see(child)
                visit(child)
                if child.num_outputs != 1:  # their gradients gather in slots: always counted
                    dependencies[child] = 1
    return dependencies


def _needed_nodes(roots, targets) -> dict:
    """Map each reachable node to whether some target lies at or below it (post-order DFS)."""
    needed: dict = {}
    stack = [(node, False) for node, _ in roots]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            needed[node] = node in targets or any(
                child is not None and needed.get(child) for child in node._next)
            continue
        if node in needed:
            continue
        needed[node] = False
        stack.append((node, True))
        for child in node._next:
            if child is not None and child not in needed:
                stack.append((child, False))
    return needed


def _check_anomaly(node, outputs) -> None:
    for i, grad in enumerate(outputs):
        if grad is None:
            continue
        values = grad._data if hasattr(grad, "_data") else np.asarray(grad)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            kind = "nan" if np.isnan(values).any() else "inf"
            where = node._anomaly_trace or "(no forward trace: the op ran outside detect_anomaly)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
                f"The forward call that created it:\n{where}")
