"""RMSprop: the class and the functional ``rmsprop`` it calls."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .adam import _lerp_
from .optimizer import Optimizer, _scalar_state

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    r"""Implements the RMSprop algorithm (Hinton's lecture notes; the centered version from
    `Generating Sequences With Recurrent Neural Networks`__).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``)::

        g_t = g_t + weight_decay * p                      (if weight_decay != 0)
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t * g_t
        a_t = lerp(a_{t-1}, g_t, 1 - alpha)               (if centered)
        d_t = sqrt(v_t - a_t * a_t) + eps  (if centered),  sqrt(v_t) + eps  (otherwise)
        b_t = momentum * b_{t-1} + g_t / d_t;  p = p - lr * b_t      (if momentum > 0)
        p   = p - lr * g_t / d_t                                      (otherwise)

    The square root is taken before ``eps`` is added, as in PyTorch (TensorFlow adds it
    inside the root).

    __ https://arxiv.org/abs/1308.0850

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-2).
        alpha (float, optional): smoothing constant (default: 0.99).
        eps (float, optional): term added to the denominator to improve numerical
            stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        momentum (float, optional): momentum factor (default: 0).
        centered (bool, optional): if True, compute the centered RMSprop: the gradient is
            normalized by an estimate of its variance (default: False).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        capturable, differentiable: accepted for compatibility; only the defaults (False)
            are supported.

    The state of each parameter holds ``step`` (a 0-d tensor), ``square_avg`` and, with
    momentum, ``momentum_buffer``; with ``centered``, ``grad_avg``.

    Example:
        >>> optimizer = distgrad.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> loss_fn(model(input), target).backward()
        >>> optimizer.step()
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _init_group(self, group: dict):
        params, grads, square_avgs, grad_avgs, momentum_buffers, steps = [], [], [], [], [], []
        momentum, centered = group["momentum"] > 0, group["centered"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["square_avg"] = Tensor._wrap(np.zeros_like(p._data))
            # Made when first needed (PyTorch makes them with the rest of the state, and
            # fails if momentum or centered is switched on later).
            if momentum and "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._wrap(np.zeros_like(p._data))
            if centered and "grad_avg" not in state:
                state["grad_avg"] = Tensor._wrap(np.zeros_like(p._data))
            params.append(p)
            grads.append(p.grad._data)
            square_avgs.append(state["square_avg"]._data)
            if momentum:
                momentum_buffers.append(state["momentum_buffer"]._data)
            if centered:
                grad_avgs.append(state["grad_avg"]._data)
            steps.append(state["step"]._data)
        return params, grads, square_avgs, grad_avgs, momentum_buffers, steps

    def _update(self, group: dict, params: list, buffers: list) -> None:
        rmsprop(params, *buffers, lr=float(group["lr"]),
                alpha=float(group["alpha"]), eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]),
                momentum=float(group["momentum"]), centered=group["centered"],
                maximize=group["maximize"])


def rmsprop(params: list[np.ndarray], grads: list[np.ndarray], square_avgs: list[np.ndarray],
            grad_avgs: list[np.ndarray], momentum_buffer_list: list[np.ndarray],
            state_steps: list[np.ndarray], *, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    r"""Functional API that performs the RMSprop computation on NumPy arrays, in place.

    ``params``, the buffers and the 0-d ``state_steps`` are updated in place; ``grads`` are
    left unchanged. ``grad_avgs`` is used only if ``centered`` and ``momentum_buffer_list``
    only if ``momentum > 0``. The operations are PyTorch's, in PyTorch's order, so that
    results agree to rounding.

    See :class:`RMSprop` for details.
    """
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else np.negative(grads[i])
        square_avg, step_t = square_avgs[i], state_steps[i]
        np.add(step_t, 1, out=step_t)

        if weight_decay != 0:
            grad = np.add(grad, np.multiply(param, weight_decay))

        np.multiply(square_avg, alpha, out=square_avg)
        scratch = np.multiply(grad, 1 - alpha)
        np.multiply(scratch, grad, out=scratch)
        np.add(square_avg, scratch, out=square_avg)

        if centered:
            grad_avg = grad_avgs[i]
            _lerp_(grad_avg, grad, 1 - alpha)
            np.multiply(grad_avg, grad_avg, out=scratch)
            avg = np.subtract(square_avg, scratch, out=scratch)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg, out=scratch)
        np.add(avg, eps, out=avg)

        if momentum > 0:
            buf = momentum_buffer_list[i]
            np.multiply(buf, momentum, out=buf)
            np.add(buf, np.divide(grad, avg, out=avg), out=buf)
            np.add(param, np.multiply(buf, -lr, out=avg), out=param)
        else:
            update = np.divide(np.multiply(grad, -lr), avg, out=avg)
            np.add(param, update, out=param)
