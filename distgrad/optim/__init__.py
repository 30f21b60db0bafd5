"""Optimization algorithms (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``,
``Adadelta``, ``Adamax``, ``NAdam``, ``RAdam``) and learning rate schedulers.

``import distgrad.optim as optim`` mirrors ``torch.optim``: each optimizer is a class that
keeps the bookkeeping (param groups, per-parameter state, state dicts), and a functional
form (``sgd``, ``adam``, ``rmsprop``...) that updates NumPy arrays in place does the math.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "lr_scheduler"]
