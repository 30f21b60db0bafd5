"""Schedulers that drive others, ``SequentialLR`` and ``ChainedScheduler``, and the one
driven by a metric, ``ReduceLROnPlateau`` (re-exported by :mod:`distgrad.optim.lr_scheduler`).

None of them runs the base class constructor: they take no initial step of their own.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right

from ._lr_base import _EPOCH_DEPRECATION, LRScheduler
from .optimizer import Optimizer

__all__ = ["SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]


class SequentialLR(LRScheduler):
    """Hand the optimizer from one scheduler to the next at each milestone.

    Before the first milestone the first scheduler is stepped, and so on. At a milestone the
    next scheduler restarts from epoch 0, using its closed form where it has one.

    Args:
        optimizer (Optimizer): Wrapped optimizer.
        schedulers (list): List of chained schedulers.
        milestones (list): List of integers that reflects milestone points, one fewer than
            the schedulers.
        last_epoch (int): The index of last epoch. Default: -1.

    Example:
        >>> # lr = 0.1 for 2 epochs (warm-up at a tenth), then 0.9**k decay from 1.0
        >>> scheduler1 = ConstantLR(optimizer, factor=0.1, total_iters=2)
        >>> scheduler2 = ExponentialLR(optimizer, gamma=0.9)
        >>> scheduler = SequentialLR(optimizer, schedulers=[scheduler1, scheduler2],
        >>>                          milestones=[2])
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1):
        _check_schedulers(self, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to "
                f"{len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer

        # Undo the initial steps the schedulers took when they were made, and start over
        # with the first one.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_steps(self)
        idx = bisect_right(milestones, 0)
        schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def _undo_initial_steps(self, scheduler) -> None:
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self._undo_initial_steps(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:
        """Step the scheduler in charge of the next epoch."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """Return the state of the scheduler as a :class:`dict`, with the wrapped
        schedulers' state dicts under ``_schedulers``."""
        return _state_with_schedulers(self)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the scheduler's state, and the wrapped schedulers'.

        Args:
            state_dict (dict): scheduler state. Should be an object returned from a call to
                :meth:`state_dict`.
        """
        _load_with_schedulers(self, state_dict)


class ChainedScheduler(LRScheduler):
    """Chain a list of learning rate schedulers: each :meth:`step` steps all of them, in
    order, so that their (chainable) changes to the learning rate compound.

    Args:
        schedulers (sequence): sequence of chained schedulers.
        optimizer (Optimizer, optional): Wrapped optimizer. Default: the first scheduler's.

    Example:
        >>> # lr = 0.09 at epoch 0 (warm-up 0.1 * 0.9), then ExponentialLR's decay
        >>> scheduler1 = ConstantLR(optimizer, factor=0.1, total_iters=2)
        >>> scheduler2 = ExponentialLR(optimizer, gamma=0.9)
        >>> scheduler = ChainedScheduler([scheduler1, scheduler2], optimizer=optimizer)
    """

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be "
                             "chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(self, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()

    def state_dict(self) -> dict:
        """Return the state of the scheduler as a :class:`dict`, with the wrapped
        schedulers' state dicts under ``_schedulers``."""
        return _state_with_schedulers(self)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the scheduler's state, and the wrapped schedulers'.

        Args:
            state_dict (dict): scheduler state. Should be an object returned from a call to
                :meth:`state_dict`.
        """
        _load_with_schedulers(self, state_dict)


def _check_schedulers(wrapper, optimizer: Optimizer, schedulers) -> None:
    name = type(wrapper).__name__
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{name} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{i} in the given schedulers sequence.")
        if scheduler.optimizer is not optimizer:
            raise ValueError(
                f"{name} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(scheduler).__name__} at index {i} has "
                f"{scheduler.optimizer}, which is different from {type(optimizer).__name__}.")


def _state_with_schedulers(wrapper) -> dict:
    state = {k: v for k, v in wrapper.__dict__.items() if k not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [s.state_dict() for s in wrapper._schedulers]
    return state


def _load_with_schedulers(wrapper, state_dict: dict) -> None:
    state = dict(state_dict)
    inner = state.pop("_schedulers")
    wrapper.__dict__.update(state)
    for scheduler, saved in zip(wrapper._schedulers, inner, strict=True):
        scheduler.load_state_dict(saved)


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate when a metric has stopped improving.

    Models often benefit from reducing the learning rate by a factor of 2-10 once learning
    stagnates. This scheduler reads a metric quantity, and if no improvement is seen for a
    ``patience`` number of epochs, the learning rate is reduced.

    Args:
        optimizer (Optimizer): Wrapped optimizer.
        mode (str): One of ``min``, ``max``. In ``min`` mode, lr will be reduced when the
            quantity monitored has stopped decreasing; in ``max`` mode it will be reduced
            when the quantity monitored has stopped increasing. Default: 'min'.
        factor (float): Factor by which the learning rate will be reduced,
            ``new_lr = lr * factor``. Default: 0.1.
        patience (int): The number of allowed epochs with no improvement after which the
            learning rate will be reduced. Default: 10.
        threshold (float): Threshold for measuring the new optimum, to only focus on
            significant changes. Default: 1e-4.
        threshold_mode (str): One of ``rel``, ``abs``. In ``rel`` mode, the best value is
            scaled by ``1 - threshold`` (``min`` mode) or ``1 + threshold`` (``max`` mode);
            in ``abs`` mode, ``threshold`` is subtracted from or added to it.
            Default: 'rel'.
        cooldown (int): Number of epochs to wait before resuming normal operation after lr
            has been reduced. Default: 0.
        min_lr (float or list): A scalar or a list of scalars. A lower bound on the learning
            rate of all param groups or each group respectively. Default: 0.
        eps (float): Minimal decay applied to lr. If the difference between new and old lr
            is smaller than eps, the update is ignored. Default: 1e-8.

    Example:
        >>> scheduler = ReduceLROnPlateau(optimizer, "min")
        >>> for epoch in range(10):
        >>>     train(...)
        >>>     val_loss = validate(...)
        >>>     # Note that step should be called after validate()
        >>>     scheduler.step(val_loss)
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got "
                                 f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch: int | None = None) -> None:
        """Record this epoch's metric, and reduce the learning rates if it has not improved
        for more than ``patience`` epochs (outside a cooldown).

        Args:
            metrics (float): the metric, e.g. the validation loss (converted with
                ``float()``).
            epoch (int, optional): deprecated; sets ``last_epoch``.
        """
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self.last_epoch = epoch

        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1

        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # ignore any bad epochs in cooldown

        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the scheduler's state.

        Args:
            state_dict (dict): scheduler state. Should be an object returned from a call to
                :meth:`state_dict`.
        """
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
