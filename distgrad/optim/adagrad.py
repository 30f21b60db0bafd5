"""Adagrad: the class and the functional ``adagrad`` it calls."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _column, _scalar_state

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    r"""Implements the Adagrad algorithm (`Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization`__).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``) at step
    :math:`t`::

        g_t = g_t + weight_decay * p                      (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t * g_t                         (s_0 = initial_accumulator_value)
        p   = p - clr * g_t / (sqrt(s_t) + eps)

    __ http://jmlr.org/papers/v12/duchi11a.html

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-2).
        lr_decay (float, optional): learning rate decay (default: 0).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        initial_accumulator_value (float, optional): initial value of the sums of squares
            of gradients (default: 0). As in PyTorch, the optimizer-wide value is used for
            every parameter, even one in a group that sets its own.
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-10).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        differentiable, fused: accepted for compatibility; only the defaults (False, None)
            are supported.

    The state of each parameter holds ``step`` (a 0-d tensor) and ``sum``. Like
    PyTorch's, it is made when the optimizer is constructed, so a fresh optimizer's
    :meth:`state_dict` already lists every parameter at step 0.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch's Adagrad makes its state up front
            for p in group["params"]:
                self.state[p].update(self._init_state(p))

    def _check_group(self, group: dict) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["initial_accumulator_value"]:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{group['initial_accumulator_value']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def _init_state(self, p: Tensor) -> dict:
        return {"step": _scalar_state(0.0),
                "sum": Tensor._wrap(np.full_like(p._data,
                                                 self.defaults["initial_accumulator_value"]))}

    def _init_group(self, group: dict):
        params, grads, states = self._params_with_grads(group, self._init_state)
        return params, grads, _column(states, "sum"), _column(states, "step")

    def _update(self, group: dict, params: list, buffers: list) -> None:
        adagrad(params, *buffers, lr=float(group["lr"]),
                weight_decay=float(group["weight_decay"]), lr_decay=float(group["lr_decay"]),
                eps=float(group["eps"]), maximize=group["maximize"])


def adagrad(params: list[np.ndarray], grads: list[np.ndarray], state_sums: list[np.ndarray],
            state_steps: list[np.ndarray], *, lr: float, weight_decay: float, lr_decay: float,
            eps: float, maximize: bool) -> None:
    r"""Functional API that performs the Adagrad computation on NumPy arrays, in place.

    ``params``, ``state_sums`` and the 0-d ``state_steps`` are updated in place; ``grads``
    are left unchanged. The operations are PyTorch's, in PyTorch's order, so that results
    agree to rounding.

    See :class:`Adagrad` for details.
    """
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps,
                                              strict=True):
        np.add(step_t, 1, out=step_t)
        step = float(step_t)
        if maximize:
            grad = np.negative(grad)
        if weight_decay != 0:
            grad = np.add(grad, np.multiply(param, weight_decay))

        clr = lr / (1 + (step - 1) * lr_decay)

        scratch = np.multiply(grad, grad)
        np.add(state_sum, scratch, out=state_sum)
        std = np.sqrt(state_sum, out=scratch)
        np.add(std, eps, out=std)
        np.add(param, np.divide(np.multiply(grad, -clr), std, out=std), out=param)
