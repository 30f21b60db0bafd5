"""Optimization algorithms (``SGD``, ``Adam``, ``AdamW``) and learning rate schedulers.

``import distgrad.optim as optim`` mirrors ``torch.optim``: each optimizer is a class that
keeps the bookkeeping (param groups, per-parameter state, state dicts), and a functional
form (``sgd``, ``adam``) that updates NumPy arrays in place does the math.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
