"""RAdam: the class and the functional ``radam`` it calls."""

from __future__ import annotations

import numpy as np

from .adam import _check_adam_like, _lerp_
from .optimizer import Optimizer, _column, _scalar_state, _zeros_state

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    r"""Implements the RAdam algorithm (`On the Variance of the Adaptive Learning Rate and
    Beyond`__): Adam whose adaptive step is rectified, and switched off while the variance
    of the adaptive learning rate is intractable (the first few steps).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``) at step
    :math:`t`::

        p   = p * (1 - lr * weight_decay)          (if decoupled_weight_decay)
        g_t = g_t + weight_decay * p               (otherwise, if weight_decay != 0)
        m_t = lerp(m_{t-1}, g_t, 1 - beta1)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p   = p - lr * m_t / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v_t) + eps) * r_t
                                                                     (if rho_t > 5)
        p   = p - lr * m_t / (1 - beta1**t)                          (otherwise)

    __ https://arxiv.org/abs/1908.03265

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients used for computing running
            averages of gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        decoupled_weight_decay (bool, optional): whether to decay the weights directly, as
            AdamW does, making this RAdamW (default: False).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        capturable, differentiable: accepted for compatibility; only the defaults (False)
            are supported.

    The state of each parameter holds ``step`` (a 0-d tensor), ``exp_avg`` and
    ``exp_avg_sq``.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_adam_like(group)

    def _init_group(self, group: dict):
        params, grads, states = self._params_with_grads(group, lambda p: {
            "step": _scalar_state(0.0), "exp_avg": _zeros_state(p), "exp_avg_sq": _zeros_state(p)})
        return (params, grads, _column(states, "exp_avg"), _column(states, "exp_avg_sq"),
                _column(states, "step"))

    def _update(self, group: dict, params: list, buffers: list) -> None:
        beta1, beta2 = group["betas"]
        radam(params, *buffers, beta1=float(beta1), beta2=float(beta2),
              lr=float(group["lr"]), weight_decay=float(group["weight_decay"]),
              eps=float(group["eps"]), decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"])


def radam(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
          exp_avg_sqs: list[np.ndarray], state_steps: list[np.ndarray], *, beta1: float,
          beta2: float, lr: float, weight_decay: float, eps: float,
          decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
    r"""Functional API that performs the RAdam computation on NumPy arrays, in place.

    ``params``, the moment buffers and the 0-d ``state_steps`` are updated in place;
    ``grads`` are left unchanged. The operations are PyTorch's, in PyTorch's order, so that
    results agree to rounding.

    See :class:`RAdam` for details.
    """
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else np.negative(grads[i])
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        np.add(step_t, 1, out=step_t)
        step = float(step_t)

        if weight_decay != 0:
            if decoupled_weight_decay:
                np.multiply(param, 1 - lr * weight_decay, out=param)
            else:
                grad = np.add(grad, np.multiply(param, weight_decay))

        scratch = _lerp_(exp_avg, grad, 1 - beta1)
        np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
        np.multiply(grad, 1 - beta2, out=scratch)
        np.multiply(scratch, grad, out=scratch)
        np.add(exp_avg_sq, scratch, out=exp_avg_sq)

        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = np.divide(exp_avg, bias_correction1, out=scratch)
        np.multiply(update, lr, out=update)

        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = np.sqrt(exp_avg_sq)
            np.add(adaptive_lr, eps, out=adaptive_lr)
            # PyTorch's number / tensor is reciprocal(tensor) * number.
            np.reciprocal(adaptive_lr, out=adaptive_lr)
            np.multiply(adaptive_lr, bias_correction2**0.5, out=adaptive_lr)
            np.multiply(update, adaptive_lr, out=update)
            np.multiply(update, rect, out=update)
        np.subtract(param, update, out=param)
