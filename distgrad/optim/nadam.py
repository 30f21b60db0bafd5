"""NAdam: the class and the functional ``nadam`` it calls."""

from __future__ import annotations

import numpy as np

from .adam import _check_adam_like, _lerp_
from .optimizer import Optimizer, _column, _scalar_state, _zeros_state

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    r"""Implements the NAdam algorithm (`Incorporating Nesterov Momentum into Adam`__), with
    Dozat's momentum schedule.

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``) at step
    :math:`t`::

        p   = p * (1 - lr * weight_decay)          (if decoupled_weight_decay)
        g_t = g_t + weight_decay * p               (otherwise, if weight_decay != 0)
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))
        P_t = mu_1 * ... * mu_t                    (state "mu_product")
        m_t = lerp(m_{t-1}, g_t, 1 - beta1)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        d_t = sqrt(v_t / (1 - beta2**t)) + eps
        p   = p - lr * (1 - mu_t) / (1 - P_t) * g_t / d_t
                - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / d_t

    __ https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): coefficients used for computing running
            averages of gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        momentum_decay (float, optional): momentum decay :math:`\psi` (default: 4e-3).
        decoupled_weight_decay (bool, optional): whether to decay the weights directly, as
            AdamW does, making this NAdamW (default: False).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        capturable, differentiable: accepted for compatibility; only the defaults (False)
            are supported.

    The state of each parameter holds ``step`` and ``mu_product`` (0-d tensors),
    ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_adam_like(group)
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']}")

    def _init_group(self, group: dict):
        params, grads, states = self._params_with_grads(group, lambda p: {
            "step": _scalar_state(0.0), "mu_product": _scalar_state(1.0),
            "exp_avg": _zeros_state(p), "exp_avg_sq": _zeros_state(p)})
        return (params, grads, _column(states, "exp_avg"), _column(states, "exp_avg_sq"),
                _column(states, "mu_product"), _column(states, "step"))

    def _update(self, group: dict, params: list, buffers: list) -> None:
        beta1, beta2 = group["betas"]
        nadam(params, *buffers, beta1=float(beta1), beta2=float(beta2),
              lr=float(group["lr"]), weight_decay=float(group["weight_decay"]),
              momentum_decay=float(group["momentum_decay"]), eps=float(group["eps"]),
              decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"])


def nadam(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
          exp_avg_sqs: list[np.ndarray], mu_products: list[np.ndarray],
          state_steps: list[np.ndarray], *, beta1: float, beta2: float, lr: float,
          weight_decay: float, momentum_decay: float, eps: float,
          decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
    r"""Functional API that performs the NAdam computation on NumPy arrays, in place.

    ``params``, the moment buffers and the 0-d ``mu_products`` and ``state_steps`` are
    updated in place; ``grads`` are left unchanged. The operations are PyTorch's, in
    PyTorch's order, so that results agree to rounding.

    See :class:`NAdam` for details.
    """
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else np.negative(grads[i])
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        mu_product, step_t = mu_products[i], state_steps[i]
        np.add(step_t, 1, out=step_t)
        step = float(step_t)
        bias_correction2 = 1 - beta2**step

        if weight_decay != 0:
            if decoupled_weight_decay:
                np.multiply(param, 1 - lr * weight_decay, out=param)
            else:
                grad = np.add(grad, np.multiply(param, weight_decay))

        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # The product is kept in the state's (single precision by default) dtype.
        np.multiply(mu_product, mu, out=mu_product)
        product = float(mu_product)
        product_next = product * mu_next

        scratch = _lerp_(exp_avg, grad, 1 - beta1)
        np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
        np.multiply(grad, 1 - beta2, out=scratch)
        np.multiply(scratch, grad, out=scratch)
        np.add(exp_avg_sq, scratch, out=exp_avg_sq)
        denom = np.divide(exp_avg_sq, bias_correction2)
        np.sqrt(denom, out=denom)
        np.add(denom, eps, out=denom)

        np.multiply(grad, -lr * (1.0 - mu) / (1.0 - product), out=scratch)
        np.add(param, np.divide(scratch, denom, out=scratch), out=param)
        np.multiply(exp_avg, -lr * mu_next / (1.0 - product_next), out=scratch)
        np.add(param, np.divide(scratch, denom, out=scratch), out=param)
