"""Stochastic gradient descent: the ``SGD`` class and the functional ``sgd`` it calls."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _bump_versions
from .optimizer import Optimizer

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum).

    For each parameter, with gradient :math:`g_t` (negated if ``maximize``)::

        g_t = g_t + weight_decay * p                  (if weight_decay != 0)
        b_t = g_t  (first step),  momentum * b_{t-1} + (1 - dampening) * g_t  (later steps)
        g_t = g_t + momentum * b_t  (if nesterov),  b_t  (otherwise)      (if momentum != 0)
        p   = p - lr * g_t

    Nesterov momentum is based on the formula from `On the importance of initialization
    and momentum in deep learning`__. Like PyTorch's (and unlike Sutskever et al.'s),
    the learning rate multiplies the velocity rather than the gradient.

    __ http://www.cs.toronto.edu/%7Ehinton/absps/momentum.pdf

    Args:
        params (iterable): iterable of parameters to optimize or dicts defining parameter
            groups.
        lr (float, optional): learning rate (default: 1e-3).
        momentum (float, optional): momentum factor (default: 0).
        dampening (float, optional): dampening for momentum (default: 0).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        nesterov (bool, optional): enables Nesterov momentum. Only applicable when momentum
            is non-zero and dampening is zero (default: False).
        maximize (bool, optional): maximize the objective with respect to the params,
            instead of minimizing (default: False).
        foreach (bool, optional): accepted for compatibility and ignored: there is one
            implementation (default: None).
        differentiable, fused: accepted for compatibility; only the defaults (False, None)
            are supported.

    Example:
        >>> optimizer = distgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> loss_fn(model(input), target).backward()
        >>> optimizer.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (Callable, optional): A closure that reevaluates the model and returns
                the loss.
        """
        loss = self._run_closure(closure)
        state = self.state
        for group in self.param_groups:
            momentum = float(group["momentum"])
            stepped, params, grads, bufs = [], [], [], []
            new_buffers = False
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                stepped.append(p)
                params.append(p._data)
                grads.append(grad._data)
                if momentum != 0:
                    buf = state[p].get("momentum_buffer")
                    new_buffers = new_buffers or buf is None
                    bufs.append(None if buf is None else buf._data)
            if not stepped:
                continue
            sgd(params, grads, bufs, lr=float(group["lr"]), momentum=momentum,
                dampening=float(group["dampening"]), weight_decay=float(group["weight_decay"]),
                nesterov=group["nesterov"], maximize=group["maximize"])
            if new_buffers:  # sgd() made them on these params' first step
                for p, buf in zip(stepped, bufs):
                    if "momentum_buffer" not in state[p]:
                        state[p]["momentum_buffer"] = Tensor._wrap(buf)
            _bump_versions(stepped)
        return loss


def sgd(params: list[np.ndarray], grads: list[np.ndarray],
        momentum_buffer_list: list[np.ndarray | None], *, lr: float, momentum: float,
        dampening: float, weight_decay: float, nesterov: bool, maximize: bool) -> None:
    r"""Functional API that performs the SGD computation on NumPy arrays, in place.

    ``params`` are updated in place and ``grads`` are left unchanged. When ``momentum`` is
    non-zero, ``momentum_buffer_list`` holds one buffer per parameter; ``None`` entries
    (a parameter's first step) are replaced by new buffers. The operations are PyTorch's,
    in PyTorch's order, so that results agree to rounding.

    See :class:`SGD` for details.
    """
    neg_lr = -lr
    for i, param in enumerate(params):
        grad = grads[i]
        if weight_decay != 0:
            decayed = param * weight_decay
            if maximize:
                grad = np.subtract(decayed, grad, out=decayed)
            else:
                grad = np.add(grad, decayed, out=decayed)
        elif maximize:
            grad = -grad

        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = momentum_buffer_list[i] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += grad if dampening == 0 else grad * (1 - dampening)
            grad = grad + buf * momentum if nesterov else buf

        param += grad * neg_lr  # p - lr * g, rounded as PyTorch's p.add_(g, alpha=-lr)
