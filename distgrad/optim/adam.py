"""Adam and AdamW: the classes and the functional ``adam`` they call."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW", "adam"]


class Adam(Optimizer):
    r"""Implements the Adam algorithm (`Adam: A Method for Stochastic Optimization`__).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``) at step
    :math:`t`::

        p   = p * (1 - lr * weight_decay)          (decoupled weight decay, as in AdamW)
        g_t = g_t + weight_decay * p               (otherwise, if weight_decay != 0)
        m_t = lerp(m_{t-1}, g_t, 1 - beta1)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        vmax_t = max(vmax_{t-1}, v_t)              (if amsgrad; used instead of v_t below)
        p   = p - lr / (1 - beta1**t) * m_t / (sqrt(v_t) / sqrt(1 - beta2**t) + eps)

    __ https://arxiv.org/abs/1412.6980

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients used for computing running
            averages of gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        amsgrad (bool, optional): whether to use the AMSGrad variant of this algorithm
            from the paper `On the Convergence of Adam and Beyond`__ (default: False).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        capturable, differentiable, fused: accepted for compatibility; only the defaults
            (False, False, None) are supported.
        decoupled_weight_decay (bool, optional): if True, this optimizer is equivalent to
            :class:`AdamW` (default: False).

    __ https://openreview.net/forum?id=ryQu7f-RZ

    The state of each parameter holds ``step`` (a 0-d tensor), ``exp_avg``, ``exp_avg_sq``
    and, with ``amsgrad``, ``max_exp_avg_sq``.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_adam_like(group)

    def _init_group(self, group: dict):
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                step_dtype = np.float64 if _dtype.get_default_dtype() == np.float64 else np.float32
                state["step"] = Tensor._wrap(np.zeros((), dtype=step_dtype))
                state["exp_avg"] = Tensor._wrap(np.zeros_like(p._data))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
            if group["amsgrad"] and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
            params.append(p._data)
            grads.append(p.grad._data)
            exp_avgs.append(state["exp_avg"]._data)
            exp_avg_sqs.append(state["exp_avg_sq"]._data)
            if group["amsgrad"]:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"]._data)
            steps.append(state["step"]._data)
        return params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps

    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (Callable, optional): A closure that reevaluates the model and returns
                the loss.
        """
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            adam(*self._init_group(group), amsgrad=group["amsgrad"], beta1=float(beta1),
                 beta2=float(beta2), lr=float(group["lr"]),
                 weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                 maximize=group["maximize"],
                 decoupled_weight_decay=group.get("decoupled_weight_decay", False))
            for p in group["params"]:
                if p.grad is not None:
                    p._bump_version()
        return loss


class AdamW(Adam):
    r"""Implements the AdamW algorithm (`Decoupled Weight Decay Regularization`__): Adam
    whose weight decay shrinks the parameters directly, ``p = p * (1 - lr * weight_decay)``,
    instead of adding ``weight_decay * p`` to the gradient.

    __ https://arxiv.org/abs/1711.05101

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients used for computing running
            averages of gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay coefficient (default: 1e-2).
        amsgrad (bool, optional): whether to use the AMSGrad variant (default: False).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        foreach, capturable, differentiable, fused: as in :class:`Adam`.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def adam(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
         exp_avg_sqs: list[np.ndarray], max_exp_avg_sqs: list[np.ndarray],
         state_steps: list[np.ndarray], *, amsgrad: bool, beta1: float, beta2: float,
         lr: float, weight_decay: float, eps: float, maximize: bool,
         decoupled_weight_decay: bool = False) -> None:
    r"""Functional API that performs the Adam computation on NumPy arrays, in place.

    ``params``, the moment buffers and the 0-d ``state_steps`` are updated in place;
    ``grads`` are left unchanged. The operations are PyTorch's, in PyTorch's order, so that
    results agree to rounding.

    See :class:`Adam` for details.
    """
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else np.negative(grads[i])
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        np.add(step_t, 1, out=step_t)

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

        step = float(step_t)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5

        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
            denom = np.sqrt(max_exp_avg_sqs[i])
        else:
            denom = np.sqrt(exp_avg_sq)
        np.divide(denom, bias_correction2_sqrt, out=denom)
        np.add(denom, eps, out=denom)

        np.multiply(exp_avg, -step_size, out=scratch)
        np.divide(scratch, denom, out=scratch)
        np.add(param, scratch, out=param)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start += weight * (end - start)`` in place, computed as PyTorch's ``lerp_`` does
    (from whichever end is nearer, for accuracy); returns a scratch array of ``start``'s
    shape for the caller to reuse."""
    weight = start.dtype.type(weight)
    diff = np.subtract(end, start)
    if abs(weight) < 0.5:
        np.multiply(diff, weight, out=diff)
        np.add(start, diff, out=start)
    else:
        np.multiply(diff, weight - 1, out=diff)
        np.add(end, diff, out=start)
    return diff


def _check_adam_like(group: dict) -> None:
    """The checks PyTorch's Adam family (Adam, AdamW, Adamax, NAdam, RAdam) makes of lr, eps,
    betas and weight decay, with PyTorch's messages."""
    if not 0.0 <= group["lr"]:
        raise ValueError(f"Invalid learning rate: {group['lr']}")
    if not 0.0 <= group["eps"]:
        raise ValueError(f"Invalid epsilon value: {group['eps']}")
    betas = group["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not 0.0 <= group["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
