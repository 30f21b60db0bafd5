"""``Optimizer``: the bookkeeping shared by every optimizer (param groups, state, state dicts)."""

from __future__ import annotations

from collections import defaultdict
from itertools import chain

import numpy as np

from .. import _dtype, autograd
from .._tensor import Tensor, _bump_versions

__all__ = ["Optimizer"]

_SET_ERROR = ("optimizer parameters need to be organized in ordered collections, but the "
              "ordering of tensors in sets will change between runs. Please use a list instead.")


class Optimizer:
    r"""Base class for all optimizers.

    .. warning::
        Parameters need to be specified as collections that have a deterministic
        ordering that is consistent between runs, so sets are refused.

    Args:
        params (iterable): an iterable of :class:`Tensor` s or :class:`dict` s. Specifies
            what Tensors should be optimized.
        defaults (dict): a dict containing default values of optimization options (used
            when a parameter group doesn't specify them).

    Subclasses implement :meth:`step` and may define ``_check_group(group)`` to validate
    the hyperparameters of each group (it raises ``ValueError`` naming the bad value).
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        _check_implementation_flags(defaults)
        self._check_group(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _check_group(self, group: dict) -> None:
        """Raise ``ValueError`` if a hyperparameter of ``group`` is out of range."""

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")  # a blank line between groups, as PyTorch prints
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])

    def add_param_group(self, param_group: dict) -> None:
        r"""Add a param group to the :class:`Optimizer` s ``param_groups``.

        This can be useful when fine tuning a pre-trained network as frozen layers can be
        made trainable and added to the :class:`Optimizer` as training progresses.

        Args:
            param_group (dict): Specifies what Tensors should be optimized along with
                group specific optimization options.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in ids for group in self.param_groups for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        _check_implementation_flags(group)
        self._check_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        r"""Reset the gradients of all optimized :class:`Tensor` s.

        Args:
            set_to_none (bool): instead of setting to zero, set the grads to None (the
                default). This uses less memory, and an optimizer then skips parameters
                whose ``.grad`` is None, rather than stepping them with a zero gradient
                (which differs when there is momentum or weight decay).
        """
        for group in self.param_groups:
            if set_to_none:
                for p in group["params"]:
                    p._grad = None  # (the .grad setter checks a tensor; None needs none)
                continue
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad = False
                grad._data.fill(0)
                grad._bump_version()

    def step(self, closure=None):
        r"""Perform a single optimization step to update the parameters.

        Args:
            closure (Callable, optional): A closure that reevaluates the model and returns
                the loss. Optional for most optimizers.
        """
        # A subclass gathers a group's params and state arrays (_init_group) and applies its
        # functional update to them (_update); or it overrides step() altogether.
        loss = self._run_closure(closure)
        for group in self.param_groups:
            params, *buffers = self._init_group(group)
            if params:
                self._update(group, [p._data for p in params], buffers)
                _bump_versions(params)
        return loss

    def _init_group(self, group: dict) -> tuple:
        """``(params, grads, *state arrays)`` for the params of ``group`` that have a grad."""
        raise NotImplementedError

    def _update(self, group: dict, params: list, buffers: list) -> None:
        """Update the ``params`` arrays in place from ``buffers`` (grads, then state)."""
        raise NotImplementedError

    def _params_with_grads(self, group: dict, initial_state) -> tuple:
        """The params of ``group`` that have a gradient, their gradient arrays and their state
        dicts; a param's state starts, on its first step, as ``initial_state(param)``."""
        params, grads, states = [], [], []
        for p in group["params"]:
            if p._grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(initial_state(p))
            params.append(p)
            grads.append(p._grad._data)
            states.append(state)
        return params, grads, states

    def _run_closure(self, closure):
        if closure is None:
            return None
        with autograd.enable_grad():
            return closure()

    def state_dict(self) -> dict:
        r"""Return the state of the optimizer as a :class:`dict`.

        It contains two entries:

        * ``state``: a dict holding the current optimization state, keyed by the integer
          index of each parameter (its position across all groups, in order). Its values
          are dicts of tensors and numbers, such as ``momentum_buffer`` or ``exp_avg``.
          Parameters that have no state yet are left out.
        * ``param_groups``: a list of dicts, one per group, holding its hyperparameters and
          a ``params`` list with the indices of its parameters.

        The tensors are the optimizer's own (not copies): save the dict, for example with
        :func:`distgrad.save`, rather than keeping it while training continues.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        r"""Load the optimizer state.

        The state is copied, and each floating point state tensor is cast to its
        parameter's dtype, except the 0-d ``step`` (and NAdam's ``mu_product``), which keep
        theirs so that a resumed run steps exactly as an uninterrupted one. The
        hyperparameters of each group are taken from ``state_dict``. Nothing is changed if
        ``state_dict`` does not match this optimizer.

        Args:
            state_dict (dict): optimizer state. Should be an object returned from a call to
                :meth:`state_dict`.

        Raises:
            ValueError: if the number of groups, the size of a group, a parameter index or
                the shape of a state tensor does not match.
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"loaded state dict has no {key!r} entry")
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}, but this optimizer has {len(groups)})")
        for i, (group, saved) in enumerate(zip(groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(saved['params'])} parameters in "
                    f"the state dict and {len(group['params'])} in this optimizer")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups), strict=True))

        state: defaultdict = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {index!r}, which "
                                 "no parameter group lists")
            param = id_map[index]
            state[param] = {key: _cast_state(param, index, key, value)
                            for key, value in saved_state.items()}

        new_groups = []
        for group, saved in zip(groups, saved_groups, strict=True):
            new_group = {k: v for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new_group.setdefault(name, default)
            new_group["params"] = group["params"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups


_UNSUPPORTED_FLAGS = {
    "fused": "fused kernels are a PyTorch device feature; leave fused=None",
    "capturable": "it is for CUDA graph capture; leave capturable=False",
    "differentiable": "steps never record autograd graphs; leave differentiable=False",
}


def _check_implementation_flags(group: dict) -> None:
    """Refuse the PyTorch options that ask for an implementation distgrad does not have.

    ``foreach`` only picks a faster implementation of the same update, so any value is
    accepted (and ignored)."""
    for flag, why in _UNSUPPORTED_FLAGS.items():
        if group.get(flag):
            raise RuntimeError(f"{flag}={group[flag]!r} is not supported by distgrad: {why}")


# Per-parameter state entries that are 0-d counters or products, not arrays shaped like
# their parameter: they keep their own dtype when loaded, so a resumed run steps identically.
_SCALAR_STATE_KEYS = frozenset({"step", "mu_product"})


def _scalar_state(value: float) -> Tensor:
    """A 0-d state tensor (``step``, NAdam's ``mu_product``) in PyTorch's scalar dtype:
    float64 when that is the default dtype, float32 otherwise."""
    dtype = np.float64 if _dtype.get_default_dtype() == np.float64 else np.float32
    return Tensor._wrap(np.array(value, dtype=dtype))


def _zeros_state(param: Tensor) -> Tensor:
    """A state buffer shaped like ``param``, zeroed."""
    return Tensor._wrap(np.zeros_like(param._data))


def _column(states: list, key: str) -> list:
    """The arrays under ``key`` in each of ``states``."""
    return [state[key]._data for state in states]


def _cast_state(param: Tensor, index, key, value):
    """A copy of one saved state value, as the optimizer will use it for ``param``."""
    if not isinstance(value, Tensor):
        return value
    array = value._data
    if key not in _SCALAR_STATE_KEYS:
        if array.shape != param.shape:
            raise ValueError(f"loaded state dict has {key!r} of shape {list(array.shape)} for "
                             f"parameter {index}, whose shape is {list(param.shape)}")
        if array.dtype.kind == "f":
            return Tensor._wrap(array.astype(param._data.dtype, copy=True))
    return Tensor._wrap(np.array(array, copy=True))
