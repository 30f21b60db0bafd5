"""Adadelta: the class and the functional ``adadelta`` it calls."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _column, _scalar_state, _zeros_state

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    r"""Implements the Adadelta algorithm (`ADADELTA: An Adaptive Learning Rate Method`__).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``)::

        g_t = g_t + weight_decay * p                      (if weight_decay != 0)
        v_t = rho * v_{t-1} + (1 - rho) * g_t * g_t
        d_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * d_t * d_t
        p   = p - lr * d_t

    __ https://arxiv.org/abs/1212.5701

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): coefficient that scales delta before it is applied to the
            parameters (default: 1.0).
        rho (float, optional): coefficient used for computing a running average of squared
            gradients (default: 0.9). A higher value of ``rho`` results in a slower average,
            which can be helpful for preventing oscillations in the learning process.
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-6).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        capturable, differentiable: accepted for compatibility; only the defaults (False)
            are supported.

    The state of each parameter holds ``step`` (a 0-d tensor), ``square_avg`` and
    ``acc_delta``.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _init_group(self, group: dict):
        params, grads, states = self._params_with_grads(group, lambda p: {
            "step": _scalar_state(0.0), "square_avg": _zeros_state(p),
            "acc_delta": _zeros_state(p)})
        return (params, grads, _column(states, "square_avg"), _column(states, "acc_delta"),
                _column(states, "step"))

    def _update(self, group: dict, params: list, buffers: list) -> None:
        adadelta(params, *buffers, lr=float(group["lr"]),
                 rho=float(group["rho"]), eps=float(group["eps"]),
                 weight_decay=float(group["weight_decay"]), maximize=group["maximize"])


def adadelta(params: list[np.ndarray], grads: list[np.ndarray], square_avgs: list[np.ndarray],
             acc_deltas: list[np.ndarray], state_steps: list[np.ndarray], *, lr: float,
             rho: float, eps: float, weight_decay: float, maximize: bool) -> None:
    r"""Functional API that performs the Adadelta computation on NumPy arrays, in place.

    ``params``, the running averages and the 0-d ``state_steps`` are updated in place;
    ``grads`` are left unchanged. The operations are PyTorch's, in PyTorch's order, so that
    results agree to rounding.

    See :class:`Adadelta` for details.
    """
    for param, grad, square_avg, acc_delta, step_t in zip(params, grads, square_avgs,
                                                          acc_deltas, state_steps, strict=True):
        np.add(step_t, 1, out=step_t)
        if maximize:
            grad = np.negative(grad)
        if weight_decay != 0:
            grad = np.add(grad, np.multiply(param, weight_decay))

        np.multiply(square_avg, rho, out=square_avg)
        scratch = np.multiply(grad, 1 - rho)
        np.multiply(scratch, grad, out=scratch)
        np.add(square_avg, scratch, out=square_avg)
        std = np.add(square_avg, eps, out=scratch)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps)
        np.sqrt(delta, out=delta)
        np.divide(delta, std, out=delta)
        np.multiply(delta, grad, out=delta)

        np.multiply(acc_delta, rho, out=acc_delta)
        np.multiply(delta, 1 - rho, out=scratch)
        np.multiply(scratch, delta, out=scratch)
        np.add(acc_delta, scratch, out=acc_delta)
        np.add(param, np.multiply(delta, -lr, out=delta), out=param)
