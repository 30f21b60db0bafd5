"""``LRScheduler``: the bookkeeping shared by every learning rate scheduler.

The schedulers themselves are in :mod:`distgrad.optim.lr_scheduler`, which re-exports this
class.
"""

from __future__ import annotations

import warnings

from .optimizer import Optimizer

__all__ = ["LRScheduler"]

_EPOCH_DEPRECATION = ("The epoch parameter in `scheduler.step()` is deprecated; call "
                      "`scheduler.step()` without it.")


class LRScheduler:
    r"""Base class for all learning rate schedulers.

    Subclasses implement :meth:`get_lr`, which computes the next learning rates, usually
    from the current ``group["lr"]`` s (so that schedulers can be chained), and may
    implement ``_get_closed_form_lr``, used when an explicit epoch is passed to
    :meth:`step`.

    Args:
        optimizer (Optimizer): The optimizer this scheduler will adjust the learning rates of.
        last_epoch (int): Index of the last epoch seen by the scheduler. Use ``-1`` (default)
            to initialize the scheduler. Only use a non-default value when restoring this
            scheduler from a saved checkpoint.

    .. warning::
        Initializing a scheduler overwrites its optimizer's ``param_group["lr"]`` s. When
        restoring a checkpoint, initialize the scheduler **before** calling your optimizer's
        :meth:`~distgrad.optim.Optimizer.load_state_dict` to avoid overwriting the loaded
        learning rates.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming scheduler with last_epoch >= 0; load the "
                                   "optimizer's state dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the first step, which sets the initial learning
        rates (``get_lr`` sees ``_is_initial`` set). ``SequentialLR`` calls it again."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict:
        """Return the state of the scheduler as a :class:`dict`.

        It contains an entry for every variable in ``self.__dict__`` which is not the
        optimizer.
        """
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the scheduler's state.

        Args:
            state_dict (dict): scheduler state. Should be an object returned from a call to
                :meth:`state_dict`.
        """
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """Return the last learning rates computed by this scheduler, one per param group."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        """Compute the learning rates of the optimizer's param groups at ``last_epoch``.

        If you are trying to inspect the most recent learning rate, use
        :meth:`get_last_lr` instead.
        """
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Step the scheduler: advance ``last_epoch`` and set the new learning rates.

        Call this after the optimizer's :meth:`~distgrad.optim.Optimizer.step`.

        Args:
            epoch (int, optional): deprecated. If given, sets ``last_epoch`` to ``epoch``
                and uses the closed form of the schedule where one is available.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """Advance ``last_epoch`` (or set it to ``epoch``, then prefer the closed form) and
        write the new learning rates into the param groups."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def _format_param(name: str, optimizer: Optimizer, param) -> list:
    """``param`` as a list with one value per param group: a list or tuple is checked for
    its length, and a single value is repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(param)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        return list(param)
    return [param] * len(optimizer.param_groups)


def _set_momentum(group: dict, momentum: float, use_beta1: bool) -> None:
    """Set a group's momentum: ``betas[0]`` for Adam-like optimizers, else ``momentum``."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum
