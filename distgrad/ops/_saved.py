"""Read access to what a node saved, under PyTorch's names: ``(x * y).grad_fn._saved_self``.

:func:`saved_attributes` makes one property per name for the node class that ``defop``
creates, so reading them costs nothing until someone does; recording and backward never
touch them. As in PyTorch, an input is reported only if a gradient that is needed reads it
(``(x * c).grad_fn._saved_self`` is None when ``c`` needs no gradient), and reading a
saved tensor after backward freed it, or after it was modified in place, raises.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor

__all__ = ["default_saved_names", "saved_attributes"]


def default_saved_names(arity: int, save_inputs: bool, broadcast: bool) -> tuple:
    """PyTorch's names for the saved inputs of a table op: ``self`` for a unary op, ``self``
    and ``other`` for a binary elementwise one; none for other ops unless they say."""
    if not save_inputs:
        return ()
    if arity == 1:
        return ("self",)
    if arity == 2 and broadcast:
        return ("self", "other")
    return ()


def saved_attributes(spec) -> dict:
    """The ``_saved_<name>`` properties of ``spec``'s node class."""
    attributes = {}
    for i, name in enumerate(spec.saved):
        if name is not None:
            attributes[f"_saved_{name}"] = _input_property(i, spec.scalar_args)
    for name in spec.saved_params:
        attributes[f"_saved_{name}"] = _param_property(name)
    if spec.save_output:
        attributes["_saved_result"] = property(_saved_result, doc="The saved output.")
    return attributes


def _input_property(i: int, scalar_args: bool) -> property:
    def saved_input(node):
        if not _is_read(node, i):
            return None
        inputs = node._inputs
        if inputs is None:
            node._check_not_released()
            return None
        x = inputs[i]
        if isinstance(x, Tensor):
            expected = node._versions[i] if node._versions is not None else 0
            if x._vc is not None and x._vc[0] != expected:
                node._raise_modified(f"[{x._describe()}], an input,", x._vc[0], expected)
            return x
        if x is None or (scalar_args and not isinstance(x, np.ndarray)):
            return x  # a Scalar argument (pow's exponent) stays a Python number
        return Tensor._wrap(np.asarray(x))  # a number operand, as PyTorch wraps it

    return property(saved_input, doc=f"The saved input {i} (None if no gradient reads it).")


def _is_read(node, i: int) -> bool:
    """Whether some gradient that is needed reads input ``i`` (what PyTorch saves)."""
    needs = node.spec.needs
    if needs is None:
        return True
    return any(child is not None and i in needs[j] for j, child in enumerate(node._next))


def _param_property(name: str) -> property:
    def saved_param(node):
        return node._params.get(name)

    return property(saved_param, doc=f"The op's ``{name}`` argument.")


def _saved_result(node):
    if node._out is None:
        node._check_not_released()
    if node._out_vc is not None and node._out_vc[0]:
        node._raise_modified("the output", node._out_vc[0], 0)
    return node._output_tensor()
