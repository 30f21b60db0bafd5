"""Schedulers that follow a cycle: ``CyclicLR``, ``OneCycleLR`` and
``CosineAnnealingWarmRestarts`` (re-exported by :mod:`distgrad.optim.lr_scheduler`).

Their learning rates are computed from the epoch alone (there is no chainable form), and the
first two can cycle the momentum (or Adam's ``beta1``) inversely to the learning rate.
"""

from __future__ import annotations

import math
import types

from ._lr_base import LRScheduler, _format_param, _set_momentum
from .optimizer import Optimizer

__all__ = ["CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"]

_MOMENTUM_ERROR = "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"


def _uses_beta1(optimizer: Optimizer) -> bool:
    """Whether momentum cycling sets ``betas[0]`` (Adam-like) or ``momentum`` (SGD-like)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(_MOMENTUM_ERROR)
    return "betas" in optimizer.defaults


class CyclicLR(LRScheduler):
    r"""Set the learning rate of each parameter group according to the cyclical learning
    rate policy (CLR) of `Cyclical Learning Rates for Training Neural Networks`__.

    The learning rate cycles between ``base_lr`` and ``max_lr``: it rises linearly for
    ``step_size_up`` steps, then falls for ``step_size_down`` steps, and the amplitude is
    scaled per cycle or per iteration. Step the scheduler after every batch.

    The built-in policies are:

    * ``"triangular"``: a basic triangular cycle without amplitude scaling.
    * ``"triangular2"``: a basic triangular cycle that halves the amplitude each cycle.
    * ``"exp_range"``: a cycle that scales the amplitude by ``gamma**(cycle iterations)``
      at each iteration.

    __ https://arxiv.org/abs/1506.01186

    Args:
        optimizer (Optimizer): Wrapped optimizer.
        base_lr (float or list): Initial learning rate, the lower boundary of the cycle for
            each parameter group.
        max_lr (float or list): Upper learning rate boundaries of the cycle for each
            parameter group. It may not actually be reached, depending on the scaling.
        step_size_up (int): Number of training iterations in the increasing half of a
            cycle. Default: 2000.
        step_size_down (int): Number of training iterations in the decreasing half of a
            cycle. If None, it is set to ``step_size_up``. Default: None.
        mode (str): One of ``{"triangular", "triangular2", "exp_range"}``; ignored if
            ``scale_fn`` is given. Default: ``"triangular"``.
        gamma (float): Constant in the ``"exp_range"`` scaling function. Default: 1.0.
        scale_fn (function): Custom scaling policy, a one-argument function with
            ``0 <= scale_fn(x) <= 1`` for all ``x >= 0``. Default: None.
        scale_mode (str): ``"cycle"`` or ``"iterations"``: whether ``scale_fn`` is
            evaluated on the cycle number or on cycle iterations (training iterations since
            the start of the cycle). Default: ``"cycle"``.
        cycle_momentum (bool): If True, momentum is cycled inversely to learning rate
            between ``base_momentum`` and ``max_momentum``. Default: True.
        base_momentum (float or list): Lower momentum boundaries in the cycle for each
            parameter group. Default: 0.8.
        max_momentum (float or list): Upper momentum boundaries in the cycle for each
            parameter group. Default: 0.9.
        last_epoch (int): The index of the last batch, used when resuming a training job.
            Default: -1.

    Example:
        >>> optimizer = distgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> scheduler = CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=10)
        >>> for epoch in range(10):
        >>>     for batch in data_loader:
        >>>         train_batch(...)
        >>>         scheduler.step()
    """

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9,
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)

        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size

        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        if scale_fn is None:
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _uses_beta1(optimizer)
            self.base_momentums = _format_param("base_momentum", optimizer, base_momentum)
            self.max_momentums = _format_param("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for max_m, base_m, group in zip(self.max_momentums, self.base_momentums,
                                                optimizer.param_groups, strict=True):
                    _set_momentum(group, max_m, self.use_beta1)
                    group["max_momentum"] = max_m
                    group["base_momentum"] = base_m
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude scale at ``x`` (a cycle number or an iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """Compute the learning rates at ``last_epoch`` (and set the momenta, when cycling
        them)."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)

        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            pairs = zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups,
                        strict=True)
            for base_m, max_m, group in pairs:
                _set_momentum(group, max_m - (max_m - base_m) * scale_factor * scale,
                              self.use_beta1)
        return lrs

    def state_dict(self) -> dict:
        """Return the state of the scheduler as a :class:`dict`.

        A custom ``scale_fn`` is saved only if it is a callable object (its ``__dict__``),
        not if it is a function or a lambda.
        """
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                     else fn.__dict__.copy())
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Set the learning rate of each parameter group using a cosine annealing schedule
    with warm restarts (`SGDR: Stochastic Gradient Descent with Warm Restarts`__)::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    where ``T_cur`` counts the epochs since the last restart and ``T_i`` is the length of
    the current period: ``T_0`` at first, multiplied by ``T_mult`` at each restart.

    :meth:`step` may be given a fractional epoch (e.g. ``epoch + i / iters``) to update the
    learning rate after every batch.

    __ https://arxiv.org/abs/1608.03983

    Args:
        optimizer (Optimizer): Wrapped optimizer.
        T_0 (int): Number of iterations until the first restart.
        T_mult (int, optional): A factor by which ``T_i`` increases after a restart.
            Default: 1.
        eta_min (float, optional): Minimum learning rate. Default: 0.
        last_epoch (int, optional): The index of the last epoch. Default: -1.

    Example:
        >>> scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=2)
        >>> iters = len(dataloader)
        >>> for epoch in range(20):
        >>>     for i, sample in enumerate(dataloader):
        >>>         train_batch(...)
        >>>         scheduler.step(epoch + i / iters)
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Step the scheduler, to the next epoch or to ``epoch``.

        Args:
            epoch (float, optional): the epoch to go to, which may be fractional (as
                ``epoch + batch / batches``) and may go back. Unlike for other schedulers,
                it is not deprecated.

        Raises:
            ValueError: if ``epoch`` is negative.
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                # The number of restarts so far: T_0 (T_mult**n - 1) / (T_mult - 1) <= epoch.
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


class OneCycleLR(LRScheduler):
    r"""Set the learning rate of each parameter group according to the 1cycle learning rate
    policy (`Super-Convergence`__).

    The learning rate anneals from ``max_lr / div_factor`` up to ``max_lr`` over the first
    ``pct_start`` of the ``total_steps``, then down to
    ``max_lr / (div_factor * final_div_factor)``; momentum (or Adam's ``beta1``) is cycled
    inversely between ``max_momentum`` and ``base_momentum``. With ``three_phase``, the
    learning rate comes back down to its initial value symmetrically before annihilating.
    Step the scheduler after every batch, ``total_steps`` times in all.

    __ https://arxiv.org/abs/1708.07120

    Args:
        optimizer (Optimizer): Wrapped optimizer.
        max_lr (float or list): Upper learning rate boundaries in the cycle for each
            parameter group.
        total_steps (int): The total number of steps in the cycle. If not given, it is
            ``epochs * steps_per_epoch``. Default: None.
        epochs (int): The number of epochs to train for. Default: None.
        steps_per_epoch (int): The number of steps per epoch. Default: None.
        pct_start (float): The fraction of the cycle spent increasing the learning rate.
            Default: 0.3.
        anneal_strategy (str): ``"cos"`` for cosine annealing, ``"linear"`` for linear
            annealing. Default: ``"cos"``.
        cycle_momentum (bool): If True, momentum is cycled inversely to learning rate
            between ``base_momentum`` and ``max_momentum``. Default: True.
        base_momentum (float or list): Lower momentum boundaries in the cycle for each
            parameter group. Default: 0.85.
        max_momentum (float or list): Upper momentum boundaries in the cycle for each
            parameter group. Default: 0.95.
        div_factor (float): Determines the initial learning rate,
            ``max_lr / div_factor``. Default: 25.
        final_div_factor (float): Determines the minimum learning rate,
            ``initial_lr / final_div_factor``. Default: 1e4.
        three_phase (bool): If True, use a third phase that annihilates the learning rate
            (as in the paper), after a symmetric decrease to the initial value.
            Default: False.
        last_epoch (int): The index of the last batch, used when resuming a training job.
            Default: -1.

    Example:
        >>> scheduler = OneCycleLR(optimizer, max_lr=0.01, steps_per_epoch=len(data_loader),
        >>>                        epochs=10)
        >>> for epoch in range(10):
        >>>     for batch in data_loader:
        >>>         train_batch(...)
        >>>         optimizer.step()
        >>>         scheduler.step()
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError("Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy

        # Each phase anneals between two group entries, ending at step end_step.
        warmup_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                _phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                       "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                       "max_momentum"),
            ]

        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _uses_beta1(optimizer)
            max_momentums = _format_param("max_momentum", optimizer, max_momentum)
            base_momentums = _format_param("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for max_m, base_m, group in zip(max_momentums, base_momentums,
                                                optimizer.param_groups, strict=True):
                    _set_momentum(group, max_m, self.use_beta1)
                    group["max_momentum"] = max_m
                    group["base_momentum"] = base_m
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """Compute the learning rates at ``last_epoch`` (and set the momenta, when cycling
        them).

        Raises:
            ValueError: past ``total_steps``.
        """
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total "
                             f"steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    break
                start_step = end_step
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]],
                                        group[phase["end_momentum"]], pct)
                _set_momentum(group, momentum, self.use_beta1)
        return lrs


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str,
           end_momentum: str) -> dict:
    return dict(end_step=end_step, start_lr=start_lr, end_lr=end_lr,
                start_momentum=start_momentum, end_momentum=end_momentum)
