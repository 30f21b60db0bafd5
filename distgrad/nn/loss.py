"""Loss modules: ``MSELoss L1Loss CrossEntropyLoss NLLLoss BCEWithLogitsLoss BCELoss``.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch; the
constructors take PyTorch's arguments in PyTorch's order, including the deprecated
``size_average`` and ``reduce``. Class weights and ``pos_weight`` are registered as buffers,
so they follow ``to(dtype)`` and appear in ``state_dict``.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..ops.loss_ops import legacy_reduction
from . import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "BCELoss"]


def _as_tensor(value):
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class _Loss(Module):
    """Base of the losses. ``size_average`` and ``reduce`` are PyTorch's deprecated way to
    choose the reduction; when either is given it overrides ``reduction``, with a warning."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce, stacklevel=4)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{reduction!r} is not a valid value for reduction; use 'mean', "
                             "'sum' or 'none'")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


class MSELoss(_Loss):
    """Mean squared error between ``input`` and ``target`` of the same shape."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between ``input`` and ``target`` of the same shape."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits ``(N, C)`` (or ``(N, C, d1, ...)``) and targets.

    Targets are int64 class indices ``(N,)`` (or ``(N, d1, ...)``), or class probabilities of
    the input's shape. Log-softmax, NLL and the reduction run as one fused op.

    Args:
        weight: a rescaling weight per class, shape ``(C,)``.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` (weighted by ``weight[target]`` over non-ignored targets),
            ``'sum'`` or ``'none'``.
        label_smoothing: mix the targets with the uniform distribution by this amount.

    Example::

        >>> loss_fn = nn.CrossEntropyLoss()
        >>> loss = loss_fn(model(x), y)   # y: int64 class indices
        >>> loss.backward()
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self._buffers["weight"],
                               ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (e.g. from ``LogSoftmax``) at int64
    class indices; ``weight``, ``ignore_index`` and ``reduction`` as in CrossEntropyLoss."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, computed stably (a sigmoid and BCE in one op).

    Args:
        weight: a rescaling weight broadcast against the loss of each element.
        pos_weight: a weight of positive examples per class (broadcast along the last dim).
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (prefer BCEWithLogitsLoss)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)
