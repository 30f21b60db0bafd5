"""Adamax: the class and the functional ``adamax`` it calls."""

from __future__ import annotations

import numpy as np

from .adam import _check_adam_like, _lerp_
from .optimizer import Optimizer, _column, _scalar_state, _zeros_state

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    r"""Implements the Adamax algorithm, the variant of Adam based on the infinity norm
    (`Adam: A Method for Stochastic Optimization`__, section 7).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``) at step
    :math:`t`::

        g_t = g_t + weight_decay * p                      (if weight_decay != 0)
        m_t = lerp(m_{t-1}, g_t, 1 - beta1)
        u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        p   = p - lr / (1 - beta1**t) * m_t / u_t

    __ https://arxiv.org/abs/1412.6980

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): coefficients used for computing running
            averages of gradient and its infinity norm (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        differentiable, capturable: accepted for compatibility; only the defaults (False)
            are supported.

    The state of each parameter holds ``step`` (a 0-d tensor), ``exp_avg`` and ``exp_inf``.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_adam_like(group)

    def _init_group(self, group: dict):
        params, grads, states = self._params_with_grads(group, lambda p: {
            "step": _scalar_state(0.0), "exp_avg": _zeros_state(p), "exp_inf": _zeros_state(p)})
        return (params, grads, _column(states, "exp_avg"), _column(states, "exp_inf"),
                _column(states, "step"))

    def _update(self, group: dict, params: list, buffers: list) -> None:
        beta1, beta2 = group["betas"]
        adamax(params, *buffers, eps=float(group["eps"]),
               beta1=float(beta1), beta2=float(beta2), lr=float(group["lr"]),
               weight_decay=float(group["weight_decay"]), maximize=group["maximize"])


def adamax(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
           exp_infs: list[np.ndarray], state_steps: list[np.ndarray], *, eps: float,
           beta1: float, beta2: float, lr: float, weight_decay: float, maximize: bool) -> None:
    r"""Functional API that performs the Adamax computation on NumPy arrays, in place.

    ``params``, the moment buffers and the 0-d ``state_steps`` are updated in place;
    ``grads`` are left unchanged. The operations are PyTorch's, in PyTorch's order, so that
    results agree to rounding.

    See :class:`Adamax` for details.
    """
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else np.negative(grads[i])
        exp_avg, exp_inf, step_t = exp_avgs[i], exp_infs[i], state_steps[i]
        np.add(step_t, 1, out=step_t)

        if weight_decay != 0:
            grad = np.add(grad, np.multiply(param, weight_decay))

        scratch = _lerp_(exp_avg, grad, 1 - beta1)
        np.multiply(exp_inf, beta2, out=exp_inf)
        norm = np.abs(grad, out=scratch)
        np.add(norm, eps, out=norm)
        np.maximum(exp_inf, norm, out=exp_inf)

        clr = lr / (1 - beta1 ** float(step_t))
        update = np.multiply(exp_avg, -clr, out=scratch)
        np.divide(update, exp_inf, out=update)
        np.add(param, update, out=param)

