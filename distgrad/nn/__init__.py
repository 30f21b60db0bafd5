"""Neural network building blocks: ``Module``, layers, losses, and the ``functional``,
``init`` and ``utils`` submodules, with PyTorch's names and defaults."""

from . import functional, init, parallel, utils
from .container import ModuleDict, ModuleList, Sequential
from .layers import (
                     GELU,
                     AdaptiveAvgPool2d,
                     AvgPool2d,
                     CircularPad1d,
                     CircularPad2d,
                     ConstantPad1d,
                     ConstantPad2d,
                     Conv2d,
                     Dropout,
                     Embedding,
                     Flatten,
                     Identity,
                     Linear,
                     LogSoftmax,
                     MaxPool2d,
                     ReflectionPad1d,
                     ReflectionPad2d,
                     ReLU,
                     ReplicationPad1d,
                     ReplicationPad2d,
                     Sigmoid,
                     Softmax,
                     Tanh,
                     ZeroPad2d,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter

__all__ = [
    "functional", "init", "parallel", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "ModuleDict", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "ZeroPad2d",
    "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "CircularPad1d", "CircularPad2d", "Flatten", "Identity", "ReLU", "Tanh",
    "Sigmoid", "GELU", "Softmax", "LogSoftmax", "Dropout", "Embedding", "LayerNorm", "BatchNorm1d",
    "BatchNorm2d", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss",
    "BCELoss",
]
